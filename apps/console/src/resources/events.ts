// The live stream (Server-Sent Events): every change of a mailbox and every session as it happens,
// one stream per browser tab. Bounded per reader: a slow one loses events (counted in the pings),
// it never makes the console buffer without bound.
import { getConnInfo } from '@hono/node-server/conninfo';
import { streamSSE } from 'hono/streaming';
import { endpoints } from '../api/endpoints.ts';
import { LIVE_EVENTS, type LiveEvents } from '../api/schemas.ts';
import { addressOf } from '../connections.ts';
import type { IndexChange } from '../mail-index.ts';
import type { SessionSummary } from '../sessions.ts';
import type { ResourceContext } from './context.ts';

/** An SSE comment every so often keeps proxies and idle timers from closing the stream. */
const SSE_PING_MS = 15_000;
/** Events queued for one reader before it loses some. */
const QUEUE_MAX = 1000;
/**
 * Retry-After of an event stream refused at its per-address cap (429). A stream's place frees
 * only when another of the address's streams ends, so this is a hint for scripts; a browser's
 * EventSource does not retry after a status other than 200 (HTML, "fail the connection").
 */
const EVENT_STREAM_RETRY_S = 10;

export function eventsResource({ s, serve, index, sessions, streams, checkReplies }: ResourceContext): void {
  serve(endpoints.events, (_req, c) => {
    // RFC 6585 §4: 429 says that this client holds too much, where a 503 would say the server
    // is unavailable to everyone.
    const address = addressOf(getConnInfo(c).remote.address);
    if (!streams.open(address)) {
      c.header('Retry-After', String(EVENT_STREAM_RETRY_S));
      return c.json({ error: `too many event streams from ${address} (at most ${streams.maxPerAddress}): close one first` }, 429);
    }
    return streamSSE(c, async (stream) => {
      const queue: Array<{ event: string; data: string }> = [];
      let wake: (() => void) | undefined;
      let lost = 0;
      const push = <K extends keyof LiveEvents>(event: K, data: LiveEvents[K]) => {
        if (checkReplies) LIVE_EVENTS[event].parse(data);
        if (queue.length >= QUEUE_MAX) {
          lost += 1;
          return;
        }
        queue.push({ event, data: JSON.stringify(data) });
        wake?.();
      };
      const onChange = (ch: IndexChange) => push(ch.type, ch);
      const onSession = (sum: SessionSummary) => push('session', sum);
      index().on('change', onChange);
      sessions.on('session', onSession);
      const ping = setInterval(() => push('ping', { lost }), SSE_PING_MS);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        streams.close(address);
      };
      stream.onAbort(() => {
        end();
        index().off('change', onChange);
        sessions.off('session', onSession);
        clearInterval(ping);
        wake?.();
      });
      try {
        await stream.writeSSE({ event: 'hello', data: JSON.stringify({ domain: s.domain } satisfies LiveEvents['hello']) });
        while (!stream.aborted) {
          if (queue.length === 0) await new Promise<void>((r) => (wake = r));
          wake = undefined;
          while (queue.length > 0 && !stream.aborted) {
            const e = queue.shift()!;
            await stream.writeSSE(e);
          }
        }
      } finally {
        end();
      }
    });
  });
}
