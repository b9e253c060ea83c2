// The sessions timeline: the journal's sessions, newest first and filtered, and one session as
// its dialogue with the messages it delivered.
import { endpoints } from '../api/endpoints.ts';
import { messageId } from '../mail-index.ts';
import type { ResourceContext } from './context.ts';
import { ApiError } from './serve.ts';

export function sessionsResource({ serve, sessions, index }: ResourceContext): void {
  serve(endpoints.sessions, ({ query }) => ({
    lost: sessions.lost,
    sessions: sessions.list({
      limit: query.limit,
      ...(query.protocol?.length ? { protocol: query.protocol } : {}),
      ...(query.client ? { client: query.client } : {}),
      ...(query.smtpId ? { smtpId: query.smtpId } : {}),
      ...(query.before !== undefined ? { before: query.before } : {}),
    }),
  }));

  /** The messages with one of these SMTP ids (the id in their Received header). */
  const findBySmtpId = (ids: string[]) => {
    const out: Array<{ id: string; user: string; subject: string }> = [];
    for (const u of index().users())
      for (const e of index().mailbox(u)!.entries) if (e.smtpId && ids.includes(e.smtpId)) out.push({ id: messageId(u, e.key), user: u, subject: e.subject });
    return out;
  };

  serve(endpoints.session, ({ params, query }) => {
    const one = sessions.get(params.id, query.reveal === true);
    if (!one) throw new ApiError(404, 'no such session (older sessions leave the timeline)');
    // The messages this session delivered, found by the id in their Received header.
    const messages = one.smtpIds.length === 0 ? [] : findBySmtpId(one.smtpIds);
    return { ...one, messages };
  });
}
