// Compose: a message sent as a user of the domain through its submission service (compose.ts).
import { endpoints } from '../api/endpoints.ts';
import { ComposeError, sendAsUser } from '../compose.ts';
import type { ResourceContext } from './context.ts';
import { ApiError } from './serve.ts';

export function composeResource({ s, serve }: ResourceContext): void {
  serve(endpoints.send, async ({ body }) => {
    try {
      return await sendAsUser(s, body);
    } catch (err) {
      if (err instanceof ComposeError) throw new ApiError(err.status, err.message);
      throw err;
    }
  });
}
