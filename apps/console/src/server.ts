// The console's HTTP side (Hono on node): the JSON API under /api/v1 (documented by
// /api/v1/openapi.json), one Server-Sent Events stream of every change, and the front end
// (dist/ui, built by Vite) on the same API. Every view of the UI is a call of this API.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { followJournal, type JournalReader } from '@sstt/events';
import { ConnectionLimiter, silentLogger, type Logger } from '@sstt/runtime';
import { certPaths, type Scenario } from '@sstt/scenario';
import { Hono, type Context } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import { HTTPException } from 'hono/http-exception';
import { streamSSE } from 'hono/streaming';
import { addressOf, EventStreams, limitConnections, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS, MAX_EVENT_STREAMS_PER_ADDRESS } from './connections.ts';
import { type IndexChange, type MailIndex, type MessageSummary, messageId, openMailIndex, prebuildCaches, publicSummary } from './mail-index.ts';
import { ourAuthResults } from './auth-results.ts';
import { htmlCsp, htmlDocument, openAttachment, parseMessage } from './message.ts';
import { openApiDocument } from './openapi.ts';
import { createPkiJobs, PkiRefusal } from './pki-jobs.ts';
import { passwordChecker } from './password.ts';
import { QueryError, search } from './search.ts';
import { type SessionSummary, SessionStore } from './sessions.ts';
import { dig, isDigType, zoneRecords } from './zone.ts';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
/** Messages larger than this are not parsed (only their raw source is offered). */
export const MAX_PARSE_BYTES = 64 * 1024 * 1024;
/** An SSE comment every so often keeps proxies and idle timers from closing the stream. */
const SSE_PING_MS = 15_000;
/**
 * Retry-After of an event stream refused at its per-address cap (429). A stream's place frees
 * only when another of the address's streams ends, so this is a hint for scripts; a browser's
 * EventSource does not retry after a status other than 200 (HTML, "fail the connection").
 */
const EVENT_STREAM_RETRY_S = 10;

/** The console's own pages: only its own scripts, styles and API; frames only of itself. */
const UI_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "frame-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

export interface ConsoleOptions {
  scenario: Scenario;
  host?: string;
  port?: number;
  /** The built front end (default apps/console/dist/ui of the checkout). */
  uiDir?: string;
  /** A mailbox without a cache and with this many messages is first indexed in a worker (default 2000). */
  indexWorkerMin?: number;
  /** Where the index cache lives (default <paths.data>/console). */
  cacheDir?: string;
  rescanMs?: number;
  /** Connection limits, certificate jobs (default: silent). */
  log?: Logger;
}

export interface ConsoleHandle {
  listen(): Promise<AddressInfo[]>;
  close(): Promise<void>;
  readonly index: MailIndex;
  readonly sessions: SessionStore;
  /** Reads the journal now (tests, instead of waiting for the poll). */
  pollJournal(): void;
}

class ApiError extends HTTPException {
  constructor(status: 400 | 401 | 404 | 409 | 413 | 422 | 500 | 502, message: string) {
    super(status, { message });
  }
}

const int = (v: string | undefined, dflt: number, max: number) => {
  if (v === undefined || v === '') return dflt;
  if (!/^\d{1,9}$/.test(v)) throw new ApiError(400, `expected a whole number, got ${JSON.stringify(v.slice(0, 40))}`);
  return Math.min(Number(v), max);
};

/** A file name safe to put in a Content-Disposition header (RFC 6266 §4.3, RFC 8187). */
function disposition(kind: 'attachment' | 'inline', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_') || 'attachment';
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function createConsoleServer(options: ConsoleOptions): ConsoleHandle {
  const s = options.scenario;
  const uiDir = options.uiDir ?? path.join(s.paths.root, 'apps', 'console', 'dist', 'ui');
  const cacheOpt = options.cacheDir ? { cacheDir: options.cacheDir } : {};
  // Opened by listen(), after a large mailbox's first index was built in a worker.
  let index!: MailIndex;
  const sessions = new SessionStore();
  let journal: JournalReader | undefined;
  const log = options.log ?? silentLogger();
  const limits = s.console.limits;
  const limiter = new ConnectionLimiter({
    service: 'console',
    maxConnections: limits.maxConnections ?? MAX_CONNECTIONS,
    maxConnectionsPerAddress: limits.maxConnectionsPerAddress ?? MAX_CONNECTIONS_PER_ADDRESS,
    log,
  });
  const streams = new EventStreams(limits.maxEventStreamsPerAddress ?? MAX_EVENT_STREAMS_PER_ADDRESS);
  const pkiJobs = createPkiJobs(s, log);
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      if (err.status === 401) return err.getResponse();
      return c.json({ error: err.message }, err.status);
    }
    if (err instanceof QueryError) return c.json({ error: err.message }, 400);
    return c.json({ error: `internal error: ${(err as Error).message}` }, 500);
  });
  app.notFound((c) => (c.req.path.startsWith('/api/') ? c.json({ error: `no such endpoint: ${c.req.method} ${c.req.path}` }, 404) : serveUi(c, '/index.html')));

  app.get('/livez', (c) => c.json({ ok: true }));
  if (s.console.password) {
    // Any user name; the password is the scenario's (the lab profile's console is on the LAN),
    // compared in constant time (password.ts).
    const matches = passwordChecker(s.console.password);
    app.use('*', basicAuth({ verifyUser: (_user, pass) => matches(pass), realm: 'sstt console' }));
  }
  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    if (!c.res.headers.has('Content-Security-Policy')) c.header('Content-Security-Policy', UI_CSP);
  });

  const api = new Hono();
  api.get('/openapi.json', (c) => c.json(openApiDocument(s)));
  api.get('/info', (c) =>
    c.json({
      domain: s.domain,
      id: s.id,
      profile: s.profile,
      users: s.users.map((u) => ({ name: u.name, email: u.email })),
      services: Object.fromEntries(Object.entries(s.listen.ports).map(([k, v]) => [k, `${s.listen.address}:${v}`])),
      journal: { protocols: s.console.events, lost: sessions.lost },
    }),
  );

  // ---- mailboxes and messages ----
  const box = (user: string) => {
    const b = index.mailbox(user);
    if (!b) throw new ApiError(404, `no such user: ${JSON.stringify(user.slice(0, 64))} (the users are ${index.users().join(', ')})`);
    return b;
  };
  /**
   * Runs `fn` on the message's file. A reader that sets a flag renames the file (new/ to cur/,
   * the info after ":" changes): when it is gone, the Maildir is scanned and the file's new name
   * tried once more before the message counts as gone.
   */
  const onFile = async <T>(m: MessageSummary, fn: (file: string) => Promise<T>): Promise<T> => {
    try {
      return await fn(index.pathOf(m));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      index.rescan(m.user);
      try {
        return await fn(index.pathOf(m));
      } catch (again) {
        if ((again as NodeJS.ErrnoException).code === 'ENOENT') throw new ApiError(404, 'no such message (deleted, or taken by POP3)');
        throw again;
      }
    }
  };
  const message = (id: string) => {
    const m = index.get(id);
    if (!m) throw new ApiError(404, 'no such message (deleted, or taken by POP3)');
    return m;
  };

  api.get('/mailboxes', (c) =>
    c.json({
      mailboxes: s.users.map((u) => {
        const b = box(u.name);
        return { user: u.name, email: u.email, total: b.entries.length, unread: b.unread, size: b.entries.reduce((n, e) => n + e.size, 0) };
      }),
    }),
  );
  api.get('/mailboxes/:user/messages', (c) => {
    const b = box(c.req.param('user'));
    const query = c.req.query('query') ?? '';
    const start = int(c.req.query('start'), 0, 1e9);
    const limit = int(c.req.query('limit'), DEFAULT_LIMIT, MAX_LIMIT);
    const t0 = performance.now();
    const found = search(b.entries, query);
    return c.json({
      user: c.req.param('user'),
      query,
      total: found.length,
      unread: b.unread,
      messagesTotal: b.entries.length,
      start,
      count: Math.max(0, Math.min(limit, found.length - start)),
      tookMs: Math.round((performance.now() - t0) * 10) / 10,
      messages: found.slice(start, start + limit).map(publicSummary),
    });
  });
  api.get('/messages/:id', async (c) => {
    const m = message(c.req.param('id'));
    if (m.size > MAX_PARSE_BYTES) return c.json({ ...m, parsed: null, error: `larger than ${MAX_PARSE_BYTES} bytes: only the raw source is shown` });
    const parsed = await onFile(m, parseMessage).catch((err: Error) => {
      if (err instanceof ApiError) throw err;
      return { error: err.message };
    });
    if ('error' in parsed && parsed.error && !('headers' in parsed)) return c.json({ ...m, parsed: null, error: parsed.error });
    const { html, ...rest } = parsed as Awaited<ReturnType<typeof parseMessage>>;
    // Our server's verdicts, from the Authentication-Results with our authserv-id (auth-results.ts).
    const authResults = ourAuthResults(rest.headers, s.mail.auth.authservId);
    return c.json({ ...m, authResults, parsed: { ...rest, hasHtml: Boolean(html), htmlBytes: html ? Buffer.byteLength(html) : 0 } });
  });
  api.get('/messages/:id/raw', async (c) => {
    const m = message(c.req.param('id'));
    const stream = await onFile(m, async (file) => {
      const s = fs.createReadStream(file);
      await new Promise<void>((resolve, reject) => s.once('open', () => resolve()).once('error', reject));
      return s;
    });
    return new Response(Readable.toWeb(stream) as ReadableStream, {
      headers: {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Security-Policy': "default-src 'none'; sandbox",
        ...(c.req.query('download') ? { 'Content-Disposition': disposition('attachment', `${m.key}.eml`) } : {}),
      },
    });
  });
  api.get('/messages/:id/html', async (c) => {
    const m = message(c.req.param('id'));
    const parsed = m.size > MAX_PARSE_BYTES ? undefined : await onFile(m, parseMessage);
    if (!parsed?.html) throw new ApiError(404, 'this message has no HTML part');
    c.header('Content-Security-Policy', htmlCsp(c.req.query('remote') === '1'));
    c.header('Cache-Control', 'no-store');
    return c.html(htmlDocument(parsed.html));
  });
  api.get('/messages/:id/attachments/:n', async (c) => {
    const m = message(c.req.param('id'));
    const n = int(c.req.param('n'), 0, 100_000);
    const a = await onFile(m, (file) => openAttachment(file, n));
    if (!a) throw new ApiError(404, `no attachment ${n} in this message`);
    // Always a download, never rendered by the console's origin (an attachment may be HTML).
    return new Response(Readable.toWeb(a.stream) as ReadableStream, {
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Disposition': disposition('attachment', a.info.filename || `part-${n}`),
        'Content-Security-Policy': "default-src 'none'; sandbox",
      },
    });
  });
  api.delete('/messages/:id', (c) => {
    const m = message(c.req.param('id'));
    try {
      fs.unlinkSync(index.pathOf(m));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    index.rescan(m.user);
    return c.json({ deleted: m.id });
  });
  api.put('/messages/:id/read', async (c) => {
    const m = message(c.req.param('id'));
    const body = (await c.req.json().catch(() => ({}))) as { read?: unknown };
    const read = body.read === undefined ? true : body.read === true;
    // Maildir spec: a message seen by a reader moves to cur/ with its info ":2,<flags>" (flags
    // in ASCII order); S is Seen.
    const from = index.pathOf(m);
    const name = path.basename(from);
    const flags = new Set(name.includes(':2,') ? name.slice(name.indexOf(':2,') + 3).split('') : []);
    if (read) flags.add('S');
    else flags.delete('S');
    const to = path.join(path.dirname(path.dirname(from)), 'cur', `${m.key}:2,${[...flags].sort().join('')}`);
    if (to !== from) {
      try {
        fs.renameSync(from, to);
      } catch {
        throw new ApiError(409, 'the message changed meanwhile (taken by POP3?)');
      }
    }
    index.rescan(m.user);
    return c.json(index.get(m.id) ?? { ...m, seen: read });
  });

  // ---- sessions ----
  api.get('/sessions', (c) => {
    const protocol = c.req.query('protocol');
    const client = c.req.query('client');
    const smtpId = c.req.query('smtpId');
    const before = c.req.query('before');
    return c.json({
      lost: sessions.lost,
      sessions: sessions.list({
        limit: int(c.req.query('limit'), 200, 2000),
        ...(protocol ? { protocol: protocol.split(',') } : {}),
        ...(client ? { client } : {}),
        ...(smtpId ? { smtpId } : {}),
        ...(before ? { before: int(before, 0, Number.MAX_SAFE_INTEGER) } : {}),
      }),
    });
  });
  api.get('/sessions/:id', (c) => {
    const one = sessions.get(c.req.param('id'), c.req.query('reveal') === '1');
    if (!one) throw new ApiError(404, 'no such session (older sessions leave the timeline)');
    // The messages this session delivered, found by the id in their Received header.
    const messages = one.smtpIds.length === 0 ? [] : findBySmtpId(one.smtpIds);
    return c.json({ ...one, messages });
  });
  const findBySmtpId = (ids: string[]) => {
    const out: Array<{ id: string; user: string; subject: string }> = [];
    for (const u of index.users())
      for (const e of index.mailbox(u)!.entries) if (e.smtpId && ids.includes(e.smtpId)) out.push({ id: messageId(u, e.key), user: u, subject: e.subject });
    return out;
  };

  // ---- live stream ----
  api.get('/events', (c) => {
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
      // A slow reader loses events (counted), it never makes the console buffer without bound.
      let lost = 0;
      const push = (event: string, data: unknown) => {
        if (queue.length >= 1000) {
          lost += 1;
          return;
        }
        queue.push({ event, data: JSON.stringify(data) });
        wake?.();
      };
      const onChange = (ch: IndexChange) => push(ch.type, ch);
      const onSession = (sum: SessionSummary) => push('session', sum);
      index.on('change', onChange);
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
        index.off('change', onChange);
        sessions.off('session', onSession);
        clearInterval(ping);
        wake?.();
      });
      try {
        await stream.writeSSE({ event: 'hello', data: JSON.stringify({ domain: s.domain }) });
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

  // ---- DNS ----
  api.get('/dns/zone', (c) => c.json({ records: zoneRecords(s) }));
  api.get('/dns/queries', (c) => c.json({ queries: sessions.list({ protocol: ['dns'], limit: int(c.req.query('limit'), 100, 2000) }) }));
  api.get('/dns/dig', async (c) => {
    const name = (c.req.query('name') ?? '').trim();
    const type = (c.req.query('type') ?? 'A').toUpperCase();
    if (!/^[A-Za-z0-9_.-]{1,253}$/.test(name)) throw new ApiError(400, `name: expected a domain name such as www.${s.domain}`);
    if (!isDigType(type))
      throw new ApiError(400, `type: expected one of A, AAAA, NS, MX, SOA, CNAME, PTR, SRV, TXT, ANY, got ${JSON.stringify(type.slice(0, 20))}`);
    try {
      return c.json({ server: `${s.listen.address}:${s.listen.ports.dns}`, ...(await dig(s.listen.address, s.listen.ports.dns, name, type)) });
    } catch (err) {
      throw new ApiError(502, `dig: ${(err as Error).message}`);
    }
  });

  // ---- certificates (packages/pki, loaded on first use: node-forge is large) ----
  const pki = () => import('@sstt/pki');
  /** A path inside the checkout relative to it (as the banner shows paths), others as they are. */
  const rel = (p: string) => {
    const r = path.relative(s.paths.root, p);
    return r.startsWith('..') || path.isAbsolute(r) ? p : r;
  };
  api.get('/certificates', async (c) => {
    const { listCertificates } = await pki();
    const { X509Certificate } = await import('node:crypto');
    const certs = listCertificates(s).map((ci) => {
      let extra: { issuer?: string; notBefore?: string } = {};
      try {
        const x = new X509Certificate(fs.readFileSync(ci.file));
        extra = { issuer: x.issuer.split('\n').join(', '), notBefore: new Date(x.validFrom).toISOString() };
      } catch {
        // missing file: status says so
      }
      return {
        ...ci,
        ...extra,
        file: rel(ci.file),
        p12: ci.p12 ? rel(ci.p12) : undefined,
        download: ci.p12 ? `/api/v1/certificates/${ci.name}/p12` : undefined,
      };
    });
    return c.json({ certificates: certs, p12Password: s.pki.p12Password, caDownload: '/api/v1/certificates/ca.crt' });
  });
  api.get('/certificates/ca.crt', (_c) => {
    const file = certPaths(s).ca.cert;
    if (!fs.existsSync(file)) throw new ApiError(404, 'no CA yet: run npx sstt-pki init');
    return new Response(fs.readFileSync(file), {
      headers: { 'Content-Type': 'application/x-x509-ca-cert', 'Content-Disposition': disposition('attachment', 'ca.crt') },
    });
  });
  api.get('/certificates/:name/p12', async (c) => {
    const { listCertificates } = await pki();
    const ci = listCertificates(s).find((x) => x.name === c.req.param('name'));
    if (!ci?.p12 || !fs.existsSync(ci.p12)) throw new ApiError(404, 'no PKCS#12 file for this certificate');
    return new Response(fs.readFileSync(ci.p12), {
      headers: { 'Content-Type': 'application/x-pkcs12', 'Content-Disposition': disposition('attachment', `${ci.name}.p12`) },
    });
  });
  // Revoke and renew generate keys, sign and encrypt PKCS#12 bundles: in a worker thread, one job
  // at a time (pki-jobs.ts), so the console keeps answering meanwhile.
  const certificateJob = async (op: 'revoke' | 'renew', name: string) => {
    try {
      return await pkiJobs.run(op, name);
    } catch (err) {
      if (err instanceof PkiRefusal) throw new ApiError(404, err.message);
      throw err;
    }
  };
  api.post('/certificates/:name/revoke', async (c) => {
    await certificateJob('revoke', c.req.param('name'));
    return c.json({ revoked: c.req.param('name') });
  });
  api.post('/certificates/:name/renew', async (c) => c.json({ renewed: await certificateJob('renew', c.req.param('name')) }));

  // ---- compose ----
  api.post('/send', async (c) => {
    const body = (await c.req.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!body) throw new ApiError(400, 'expected a JSON body');
    const { sendAsUser, ComposeError } = await import('./compose.ts');
    try {
      return c.json(await sendAsUser(s, body));
    } catch (err) {
      if (err instanceof ComposeError) throw new ApiError(err.status, err.message);
      throw err;
    }
  });

  app.route('/api/v1', api);

  // ---- the front end ----
  const serveUi = (c: Context, p: string) => {
    const rel = path.normalize(p).replace(/^(\.\.[/\\])+/, '');
    const file = path.join(uiDir, rel);
    if (!file.startsWith(uiDir + path.sep)) return c.json({ error: 'not found' }, 404);
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch {
      if (p !== '/index.html') return serveUi(c, '/index.html');
      return c.text('The console front end is not built: run npm run build -w @sstt/console', 503);
    }
    const type = STATIC_TYPES[path.extname(file)] ?? 'application/octet-stream';
    return c.body(new Uint8Array(data), 200, {
      'Content-Type': type,
      'Cache-Control': p.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  };
  app.get('/', (c) => serveUi(c, '/index.html'));
  app.get('/assets/*', (c) => serveUi(c, c.req.path));

  let server: Server | undefined;
  let gate: ReturnType<typeof limitConnections> | undefined;
  const host = options.host ?? s.listen.address;
  const port = options.port ?? s.listen.ports.console;
  return {
    get index() {
      return index;
    },
    sessions,
    pollJournal: () => journal?.poll(),
    listen: async () => {
      await prebuildCaches(s, { ...cacheOpt, ...(options.indexWorkerMin ? { workerMin: options.indexWorkerMin } : {}) });
      index = openMailIndex(s, { ...cacheOpt, ...(options.rescanMs ? { rescanMs: options.rescanMs } : {}) });
      return new Promise<AddressInfo[]>((resolve, reject) => {
        journal = followJournal(s.paths.events, (e) => sessions.add(e));
        const srv = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
        gate = limitConnections(srv, limiter);
        srv.once('error', reject);
        srv.listen(port, host, () => resolve([srv.address() as AddressInfo]));
        server = srv;
      });
    },
    close: async () => {
      journal?.close();
      index?.close();
      const srv = server;
      if (!srv) {
        limiter.close();
        return pkiJobs.idle();
      }
      // SSE streams stay open: end them so close() does not wait for the browsers.
      await new Promise<void>((resolve) => {
        srv.close(() => resolve());
        srv.closeAllConnections();
        gate?.destroyRefused();
      });
      limiter.close();
      await pkiJobs.idle();
    },
  };
}
