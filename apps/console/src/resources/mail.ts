// Mailboxes and messages: the list of each user's Maildir (from the index), one message parsed,
// its source, its HTML part in a sandbox, an attachment, delete, and the read flag.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { maildirOf } from '@sstt/scenario';
import { copyMessages, flagsOf, flagsOfName, INBOX, listFolders, readKeywords, syncFolder, withFlags } from '@sstt/maildir';
import { endpoints } from '../api/endpoints.ts';
import { ourAuthResults } from '../auth-results.ts';
import { type MessageSummary, publicSummary } from '../mail-index.ts';
import { htmlCsp, htmlDocument, openAttachment, parseMessage } from '../message.ts';
import { search } from '../search.ts';
import type { ResourceContext } from './context.ts';
import { ApiError, disposition } from './serve.ts';

/** Messages larger than this are not parsed (only their raw source is offered). */
export const MAX_PARSE_BYTES = 64 * 1024 * 1024;

const NO_MESSAGE = 'no such message (deleted, or taken by POP3)';

export function mailResource({ s, serve, index }: ResourceContext): void {
  const box = (user: string) => {
    const b = index().mailbox(user);
    if (!b) throw new ApiError(404, `no such user: ${JSON.stringify(user.slice(0, 64))} (the users are ${index().users().join(', ')})`);
    return b;
  };
  const message = (id: string) => {
    const m = index().get(id);
    if (!m) throw new ApiError(404, NO_MESSAGE);
    return m;
  };
  /**
   * Runs `fn` on the message's file. A reader that sets a flag renames the file (new/ to cur/,
   * the info after ":" changes): when it is gone, the Maildir is scanned and the file's new name
   * tried once more before the message counts as gone.
   */
  const onFile = async <T>(m: MessageSummary, fn: (file: string) => Promise<T>): Promise<T> => {
    try {
      return await fn(index().pathOf(m));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      index().rescan(m.user);
      try {
        return await fn(index().pathOf(m));
      } catch (again) {
        if ((again as NodeJS.ErrnoException).code === 'ENOENT') throw new ApiError(404, NO_MESSAGE);
        throw again;
      }
    }
  };

  serve(endpoints.mailboxes, () => ({
    mailboxes: s.users.map((u) => {
      const b = box(u.name);
      return { user: u.name, email: u.email, total: b.entries.length, unread: b.unread, size: b.entries.reduce((n, e) => n + e.size, 0) };
    }),
  }));

  serve(endpoints.messages, ({ params, query }) => {
    const b = box(params.user);
    const { start, limit } = query;
    const t0 = performance.now();
    const found = search(b.entries, query.query);
    return {
      user: params.user,
      query: query.query,
      total: found.length,
      unread: b.unread,
      messagesTotal: b.entries.length,
      start,
      count: Math.max(0, Math.min(limit, found.length - start)),
      tookMs: Math.round((performance.now() - t0) * 10) / 10,
      messages: found.slice(start, start + limit).map(publicSummary),
    };
  });

  serve(endpoints.message, async ({ params }) => {
    const m = message(params.id);
    if (m.size > MAX_PARSE_BYTES) return { ...m, authResults: null, parsed: null, error: `larger than ${MAX_PARSE_BYTES} bytes: only the raw source is shown` };
    const parsed = await onFile(m, parseMessage).catch((err: Error) => {
      if (err instanceof ApiError) throw err;
      return { error: err.message };
    });
    if (!('headers' in parsed)) return { ...m, authResults: null, parsed: null, error: parsed.error };
    const { html, ...rest } = parsed;
    // Our server's verdicts, from the Authentication-Results with our authserv-id (auth-results.ts).
    const authResults = ourAuthResults(rest.headers, s.mail.auth.authservId);
    return { ...m, authResults, parsed: { ...rest, hasHtml: Boolean(html), htmlBytes: html ? Buffer.byteLength(html) : 0 } };
  });

  serve(endpoints.raw, async ({ params, query }) => {
    const m = message(params.id);
    const stream = await onFile(m, async (file) => {
      const s = fs.createReadStream(file);
      await new Promise<void>((resolve, reject) => s.once('open', () => resolve()).once('error', reject));
      return s;
    });
    return new Response(Readable.toWeb(stream) as ReadableStream, {
      headers: {
        'Content-Type': endpoints.raw.reply.media,
        'Content-Security-Policy': "default-src 'none'; sandbox",
        ...(query.download ? { 'Content-Disposition': disposition('attachment', `${m.key}.eml`) } : {}),
      },
    });
  });

  serve(endpoints.html, async ({ params, query }, c) => {
    const m = message(params.id);
    const parsed = m.size > MAX_PARSE_BYTES ? undefined : await onFile(m, parseMessage);
    if (!parsed?.html) throw new ApiError(404, 'this message has no HTML part');
    c.header('Content-Security-Policy', htmlCsp(query.remote === true));
    c.header('Cache-Control', 'no-store');
    return c.html(htmlDocument(parsed.html));
  });

  serve(endpoints.attachment, async ({ params }) => {
    const m = message(params.id);
    const a = await onFile(m, (file) => openAttachment(file, params.n));
    if (!a) throw new ApiError(404, `no attachment ${params.n} in this message`);
    // Always a download, never rendered by the console's origin (an attachment may be HTML).
    return new Response(Readable.toWeb(a.stream) as ReadableStream, {
      headers: {
        'Content-Type': endpoints.attachment.reply.media,
        'Content-Disposition': disposition('attachment', a.info.filename || `part-${params.n}`),
        'Content-Security-Policy': "default-src 'none'; sandbox",
      },
    });
  });

  serve(endpoints.folders, async ({ params }) => {
    box(params.user);
    const maildir = maildirOf(s, params.user);
    const folders = [];
    for (const f of await listFolders(maildir)) {
      // The same reading of the folder as IMAP's (new/ to cur/, UIDs in dovecot-uidlist).
      const st = await syncFolder(f.dir);
      const keywords = await readKeywords(f.dir);
      const unread = st.messages.filter((m) => !flagsOfName(m.name, keywords).includes('\\Seen')).length;
      folders.push({ name: f.name, specialUse: f.specialUse ?? null, total: st.messages.length, unread });
    }
    return { user: params.user, folders };
  });

  serve(endpoints.move, async ({ params, body }) => {
    const m = message(params.id);
    const maildir = maildirOf(s, m.user);
    const target = (await listFolders(maildir)).find((f) => f.name === body.folder && f.name !== INBOX);
    if (!target) throw new ApiError(422, `no such folder: ${JSON.stringify(body.folder.slice(0, 64))}`);
    // IMAP MOVE's steps (RFC 6851 §3.3): copy with the flags and a new UID, then expunge from the inbox.
    const inbox = await syncFolder(maildir);
    const base = path.basename(index().pathOf(m)).split(':')[0];
    const stored = inbox.messages.find((x) => x.base === base);
    if (!stored) throw new ApiError(404, NO_MESSAGE);
    const { copied, uids } = await copyMessages(maildir, [stored], await readKeywords(maildir), target.dir);
    if (copied.length === 0) throw new ApiError(404, NO_MESSAGE);
    await fs.promises.unlink(path.join(maildir, 'cur', stored.name)).catch(() => {});
    index().rescan(m.user);
    return { moved: m.id, folder: target.name, uid: uids[0]! };
  });

  serve(endpoints.deleteMessage, ({ params }) => {
    const m = message(params.id);
    try {
      fs.unlinkSync(index().pathOf(m));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    index().rescan(m.user);
    return { deleted: m.id };
  });

  serve(endpoints.read, ({ params, body }) => {
    const m = message(params.id);
    const read = body?.read ?? true;
    // Maildir spec: a message seen by a reader moves to cur/ with its info ":2,<flags>"; S is Seen
    // (the name rules are @sstt/maildir's, shared with the mail app).
    const from = index().pathOf(m);
    const name = path.basename(from);
    const others = flagsOf(name).replaceAll('S', '');
    const to = path.join(path.dirname(path.dirname(from)), 'cur', withFlags(name, read ? `${others}S` : others));
    if (to !== from) {
      try {
        fs.renameSync(from, to);
      } catch {
        throw new ApiError(409, 'the message changed meanwhile (taken by POP3?)');
      }
    }
    index().rescan(m.user);
    return index().get(m.id) ?? { ...m, seen: read };
  });
}
