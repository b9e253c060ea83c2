// The API's own description and the domain in one call: what the front end's frame shows.
import { endpoints } from '../api/endpoints.ts';
import { openApiDocument } from '../api/openapi.ts';
import type { ResourceContext } from './context.ts';

export function infoResource({ s, serve, sessions }: ResourceContext): void {
  // The document is the same for the life of the server: written once, at the first call.
  let doc: ReturnType<typeof openApiDocument> | undefined;
  serve(endpoints.openapi, () => (doc ??= openApiDocument({ domain: s.domain, basicAuth: Boolean(s.console.password) })));
  serve(endpoints.info, () => ({
    domain: s.domain,
    id: s.id,
    profile: s.profile,
    users: s.users.map((u) => ({ name: u.name, email: u.email })),
    services: Object.fromEntries(Object.entries(s.listen.ports).map(([k, v]) => [k, `${s.listen.address}:${v}`])),
    journal: { protocols: [...s.console.events], lost: sessions.lost },
  }));
}
