// The write side of the session journal. A protocol server calls one function per event point
// (a command read, a reply written, a TLS handshake, a DNS exchange); the event goes into a
// fixed-size in-memory ring and leaves the process in batches, appended to
// <paths.events>/<app>.jsonl by a timer. Nothing here can slow a server or grow its memory:
// - the ring holds at most RING_EVENTS events; past that, events are counted as lost, not kept;
// - a batch is written asynchronously, and while a write is in flight the ring just fills;
// - the file is capped (scenario console.journalBytes): at the cap it is rotated to .1 (one
//   old file is kept), so the journal never takes more than twice the cap on disk;
// - a protocol switched off (scenario console.events) gets the shared no-op tap: one branch.
// Lines are JSON (one event each) so the console, a script or `tail -f | jq` can read them.
import fs from 'node:fs';
import path from 'node:path';
import type { EventProtocol } from '@sstt/scenario';

/**
 * Events kept in memory between two flushes; more are counted as lost. With FLUSH_MS this caps
 * what a flood (a benchmark) costs: about 10,000 events a second are journaled, the rest only
 * counted, which keeps the servers' throughput within a few per cent.
 */
export const RING_EVENTS = 2048;
/** How often the ring is written out. */
export const FLUSH_MS = 200;
/** Longest text kept of one protocol line (a header or command longer than this is cut). */
export const MAX_LINE = 512;

/** One journal line. `s` is the session id, unique per app process run. */
export interface JournalEvent {
  /** Milliseconds since the epoch. */
  t: number;
  /** Session id. */
  s: string;
  p: EventProtocol;
  /**
   * open: a connection (c = client address, l = local address); c: a client line; s: a server
   * line; tls: the handshake (v, cipher, peer); close; dns: one exchange (r or q: base64 of
   * the DNS message); lost: n events dropped because the ring was full.
   */
  k: 'open' | 'c' | 's' | 'tls' | 'close' | 'dns' | 'lost';
  x?: string;
  c?: string;
  l?: string;
  v?: string;
  cipher?: string;
  peer?: string;
  tr?: string;
  /** Base64 (a Buffer until the flush encodes it: the hot path only copies the bytes). */
  r?: string | Buffer;
  q?: string | Buffer;
  n?: number;
  /** A secret (a password, an AUTH blob): the console masks it unless asked. */
  secret?: boolean;
}

/** What a server holds for one connection. Every method is a no-op when the protocol is off. */
export interface SessionTap {
  /** The session's id; '' when nothing is recorded, so a caller can skip building its lines. */
  readonly id: string;
  /** A line the client sent. `secret` marks passwords and AUTH data. */
  client(line: string | Buffer, secret?: boolean): void;
  /** A line (or the lines of a multi-line reply) the server sent. */
  server(text: string): void;
  /** The TLS handshake is done: version, cipher, the client certificate's subject. */
  tls(socket: { getProtocol(): string | null; getCipher(): { name: string }; getPeerCertificate(): { subject?: Record<string, unknown> } | object }): void;
  close(): void;
}

/** The tap of a session nobody records (no journal, or its protocol switched off). */
export const NOOP_TAP: SessionTap = { id: '', client() {}, server() {}, tls() {}, close() {} };

export interface JournalOptions {
  /** Directory of the journal files (scenario paths.events). */
  dir: string;
  /** The app's name: the file is <dir>/<app>.jsonl. */
  app: string;
  /** Protocols to record; the others cost nothing. */
  protocols: readonly EventProtocol[];
  /** Size cap of the file; one rotated file (.1) is kept. */
  maxBytes: number;
  flushMs?: number;
  ringEvents?: number;
}

export interface Journal {
  readonly file: string;
  /** Events dropped because the ring was full (a slow disk, a flood). */
  readonly lost: number;
  session(
    p: EventProtocol,
    remote: { remoteAddress?: string | undefined; remotePort?: number | undefined },
    local?: { localAddress?: string | undefined; localPort?: number | undefined },
  ): SessionTap;
  /** One DNS exchange: the response (or the query when there is none) as sent. */
  dns(tr: 'udp' | 'tcp', address: string | undefined, port: number | undefined, message: Uint8Array, isQuery?: boolean): void;
  /** Writes what is in the ring now. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const addr = (a?: string, p?: number) => (a === undefined ? '' : a.includes(':') ? `[${a}]:${p ?? ''}` : `${a}:${p ?? ''}`);

export function openJournal(opts: JournalOptions): Journal {
  fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const file = path.join(opts.dir, `${opts.app}.jsonl`);
  const on = new Set<EventProtocol>(opts.protocols);
  const cap = opts.ringEvents ?? RING_EVENTS;
  let ring: JournalEvent[] = [];
  let lost = 0;
  let lostSinceFlush = 0;
  let seq = 0;
  const prefix = `${opts.app}-${process.pid.toString(36)}-${Date.now().toString(36)}-`;
  let fd = fs.openSync(file, 'a', 0o600);
  let size = fs.fstatSync(fd).size;
  let writing: Promise<void> | undefined;
  let closed = false;

  const push = (e: JournalEvent) => {
    ring.push(e);
  };
  /** True (and the loss counted) when the ring is full: checked before anything is built. */
  const full = () => {
    if (ring.length < cap) return false;
    lost += 1;
    lostSinceFlush += 1;
    return true;
  };
  const text = (line: string | Buffer) => {
    const s = typeof line === 'string' ? line : line.toString('latin1', 0, Math.min(line.length, MAX_LINE + 2));
    const t = s.endsWith('\r\n') ? s.slice(0, -2) : s;
    return t.length > MAX_LINE ? `${t.slice(0, MAX_LINE)}…` : t;
  };

  /** The batch as text, and room made for it (rotation at the cap). */
  const take = (): Buffer | undefined => {
    if (ring.length === 0 && lostSinceFlush === 0) return undefined;
    const batch = ring;
    ring = [];
    let out = '';
    for (const e of batch) {
      if (e.r && typeof e.r !== 'string') e.r = e.r.toString('base64');
      if (e.q && typeof e.q !== 'string') e.q = e.q.toString('base64');
      out += `${JSON.stringify(e)}\n`;
    }
    if (lostSinceFlush > 0) {
      out += `${JSON.stringify({ t: Date.now(), s: '', p: 'dns', k: 'lost', n: lostSinceFlush })}\n`;
      lostSinceFlush = 0;
    }
    const buf = Buffer.from(out, 'utf8');
    if (size + buf.length > opts.maxBytes && size > 0) {
      // Rotation: the readers notice the file shrank and read the new one from its start.
      fs.closeSync(fd);
      fs.renameSync(file, `${file}.1`);
      fd = fs.openSync(file, 'a', 0o600);
      size = 0;
    }
    size += buf.length;
    return buf;
  };
  const write = async (): Promise<void> => {
    const buf = take();
    if (!buf) return;
    const target = fd;
    await new Promise<void>((resolve) => fs.write(target, buf, () => resolve()));
  };
  /** At process exit (no more event loop): what is still in the ring, written synchronously. */
  const flushSync = () => {
    if (closed) return;
    try {
      const buf = take();
      if (buf) fs.writeSync(fd, buf);
    } catch {
      // exiting anyway
    }
  };
  process.once('exit', flushSync);
  const flush = (): Promise<void> => {
    writing ??= write().finally(() => {
      writing = undefined;
    });
    return writing;
  };
  const timer = setInterval(() => {
    if (!writing && (ring.length > 0 || lostSinceFlush > 0)) void flush();
  }, opts.flushMs ?? FLUSH_MS);
  timer.unref();

  return {
    file,
    get lost() {
      return lost;
    },
    session(p, remote, local) {
      if (closed || !on.has(p)) return NOOP_TAP;
      seq += 1;
      const s = prefix + seq.toString(36);
      if (!full()) push({ t: Date.now(), s, p, k: 'open', c: addr(remote.remoteAddress, remote.remotePort), l: addr(local?.localAddress, local?.localPort) });
      let ended = false;
      return {
        id: s,
        client(line, secret) {
          if (ended || full()) return;
          const e: JournalEvent = { t: Date.now(), s, p, k: 'c', x: text(line) };
          if (secret) e.secret = true;
          push(e);
        },
        server(reply) {
          if (!ended && !full()) push({ t: Date.now(), s, p, k: 's', x: text(reply) });
        },
        tls(socket) {
          if (ended || full()) return;
          const cert = socket.getPeerCertificate() as { subject?: Record<string, unknown> };
          const subject = cert?.subject
            ? Object.entries(cert.subject)
                .map(([k, v]) => `${k}=${String(v)}`)
                .join(', ')
            : undefined;
          push({ t: Date.now(), s, p, k: 'tls', v: socket.getProtocol() ?? '', cipher: socket.getCipher()?.name ?? '', ...(subject ? { peer: subject } : {}) });
        },
        close() {
          if (ended) return;
          ended = true;
          if (!full()) push({ t: Date.now(), s, p, k: 'close' });
        },
      };
    },
    dns(tr, address, port, message, isQuery = false) {
      if (closed || !on.has('dns') || full()) return;
      seq += 1;
      // The bytes are copied (the server may reuse its buffer) and encoded at flush time.
      const copy = Buffer.from(message);
      push({ t: Date.now(), s: prefix + seq.toString(36), p: 'dns', k: 'dns', tr, c: addr(address, port), ...(isQuery ? { q: copy } : { r: copy }) });
    },
    flush,
    async close() {
      if (closed) return;
      clearInterval(timer);
      process.off('exit', flushSync);
      await flush();
      if (ring.length > 0) await flush();
      closed = true;
      fs.closeSync(fd);
    },
  };
}

// ---- a journal on a server's handle ----
// A protocol server is given its journal as an option by the app's main.ts (or by a test) and
// keeps it on its handle, so two servers in one process record each to their own journal.
// Without one (tests of a single server, one-shot commands) every connection gets NOOP_TAP.

/** A tap for a new connection of protocol `p` (the no-op tap without a journal or when `p` is off). */
export function tapSession(
  journal: Journal | undefined,
  p: EventProtocol,
  socket: { remoteAddress?: string | undefined; remotePort?: number | undefined; localAddress?: string | undefined; localPort?: number | undefined },
): SessionTap {
  return journal ? journal.session(p, socket, socket) : NOOP_TAP;
}

/** Opens the journal of an app as the scenario configures it (paths.events, console.events, console.journalBytes). */
export function openAppJournal(s: { paths: { events: string }; console: { events: readonly EventProtocol[]; journalBytes: number } }, app: string): Journal {
  return openJournal({ dir: s.paths.events, app, protocols: s.console.events, maxBytes: s.console.journalBytes });
}
