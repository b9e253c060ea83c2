// Relayed mail: queued durably in <paths.mail>/.outbound/<domain>/Maildir (the 250 is sent only
// once it is there), and, when scenario.mail.smarthost is configured, forwarded from there to
// the smarthost by a small queue runner. Without a smarthost the outbound Maildirs simply keep
// the mail (the lab's server has no route to the Internet's MXs).
//
// A queued file starts with the envelope, which the runner strips before forwarding:
//   X-Envelope-To: <a@x>, <b@x>     (the recipients of that domain)
//   Return-Path: <sender>           (RFC 5321 §4.4: added at final delivery only, so not forwarded)
//   Received: ...                   (forwarded, our trace line)
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { withFlags } from '@sstt/maildir';
import type { Endpoint, Scenario } from '@sstt/scenario';
import { silentLogger, type Logger } from '@sstt/runtime';

export const OUTBOUND_DIR = '.outbound';
export const ENVELOPE_TO = 'X-Envelope-To';
/** How often the runner retries what a smarthost refused temporarily (RFC 5321 §4.5.4.1: at least 30 minutes between retries is for Internet MXs; a lab smarthost is local). */
export const OUTBOUND_RETRY_MS = 60_000;
/** Timeout of every step of a forwarding session (RFC 5321 §4.5.3.2 asks for minutes; we fail faster and retry). */
export const OUTBOUND_STEP_TIMEOUT_MS = 30_000;

export function outboundMaildir(s: Scenario, domain: string): string {
  return path.join(s.paths.mail, OUTBOUND_DIR, domain, 'Maildir');
}

/** The envelope header line of a queued file. */
export function envelopeHeader(recipients: string[]): string {
  return `${ENVELOPE_TO}: ${recipients.map((r) => `<${r}>`).join(', ')}\r\n`;
}

interface Queued {
  file: string;
  from: string;
  to: string[];
  /** Byte offset where the forwarded message starts (after X-Envelope-To and Return-Path). */
  bodyOffset: number;
}

/** Reads the envelope lines at the head of a queued file. */
export function readEnvelope(file: string): Queued | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(16 * 1024);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const text = head.subarray(0, n).toString('latin1');
    const m = /^X-Envelope-To: ([^\r\n]*)\r\nReturn-Path: <([^>\r\n]*)>\r\n/.exec(text);
    if (!m) return undefined;
    const to = [...m[1]!.matchAll(/<([^>]+)>/g)].map((x) => x[1]!);
    return { file, from: m[2]!, to, bodyOffset: Buffer.byteLength(m[0], 'latin1') };
  } finally {
    fs.closeSync(fd);
  }
}

/** A minimal SMTP client session (RFC 5321 §3.3) for one message. Resolves the final reply. */
async function forward(host: Endpoint, helo: string, q: Queued, timeoutMs: number): Promise<{ code: number; text: string }> {
  const sock = net.connect(host.port, host.host);
  sock.setTimeout(timeoutMs, () => sock.destroy(new Error('smarthost timed out')));
  await once(sock, 'connect');
  let buf = '';
  const waiters: Array<(r: { code: number; text: string }) => void> = [];
  const replies: Array<{ code: number; text: string }> = [];
  let failed: Error | undefined;
  const fail = (err: Error) => {
    failed = err;
    for (const w of waiters.splice(0)) w({ code: 0, text: err.message });
  };
  sock.on('error', fail);
  sock.on('close', () => fail(new Error('smarthost closed the connection')));
  sock.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, '');
      buf = buf.slice(i + 1);
      if (/^\d{3}-/.test(line)) continue;
      const r = { code: Number(line.slice(0, 3)), text: line };
      const w = waiters.shift();
      if (w) w(r);
      else replies.push(r);
    }
  });
  const reply = () =>
    new Promise<{ code: number; text: string }>((resolve) => {
      if (replies.length) resolve(replies.shift()!);
      else if (failed) resolve({ code: 0, text: failed.message });
      else waiters.push(resolve);
    });
  const step = async (cmd: string | undefined, ok: (c: number) => boolean) => {
    if (cmd !== undefined) sock.write(`${cmd}\r\n`);
    const r = await reply();
    if (!ok(r.code)) throw Object.assign(new Error(r.text), { reply: r });
    return r;
  };
  try {
    await step(undefined, (c) => c === 220);
    await step(`EHLO ${helo}`, (c) => c === 250);
    await step(`MAIL FROM:<${q.from}>`, (c) => c === 250);
    let accepted = 0;
    let lastRefusal: { code: number; text: string } | undefined;
    for (const rcpt of q.to) {
      sock.write(`RCPT TO:<${rcpt}>\r\n`);
      const r = await reply();
      if (r.code === 250 || r.code === 251) accepted++;
      else lastRefusal = r;
    }
    if (accepted === 0) throw Object.assign(new Error(lastRefusal?.text ?? 'no recipient accepted'), { reply: lastRefusal });
    await step('DATA', (c) => c === 354);
    // The message, dot-stuffed (RFC 5321 §4.5.2), streamed from the file.
    let atLineStart = true;
    for await (const chunk of fs.createReadStream(q.file, { start: q.bodyOffset })) {
      const b = chunk as Buffer;
      const parts: Buffer[] = [];
      let start = 0;
      for (let i = 0; i < b.length; i++) {
        if (atLineStart && b[i] === 0x2e) {
          parts.push(b.subarray(start, i), Buffer.from('.'));
          start = i;
        }
        atLineStart = b[i] === 0x0a;
      }
      parts.push(b.subarray(start));
      if (!sock.write(Buffer.concat(parts))) await once(sock, 'drain');
    }
    sock.write(atLineStart ? '.\r\n' : '\r\n.\r\n');
    const final = await reply();
    sock.end('QUIT\r\n');
    return final;
  } catch (err) {
    sock.destroy();
    const r = (err as { reply?: { code: number; text: string } }).reply;
    return r ?? { code: 0, text: (err as Error).message };
  }
}

export interface OutboundRunner {
  /** Looks at the queue now (called after each relay delivery). */
  poke(): void;
  close(): Promise<void>;
}

/** The queue runner; a no-op when no smarthost is configured. */
export function createOutboundRunner(s: Scenario, opts: { log?: Logger; retryMs?: number; stepTimeoutMs?: number } = {}): OutboundRunner {
  const smarthost = s.mail.smarthost;
  if (!smarthost) return { poke: () => {}, close: async () => {} };
  const log = opts.log ?? silentLogger();
  const retryMs = opts.retryMs ?? OUTBOUND_RETRY_MS;
  const root = path.join(s.paths.mail, OUTBOUND_DIR);
  const helo = `${s.hostname}.${s.domain}`;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  async function runOnce(): Promise<void> {
    let domains: string[] = [];
    try {
      domains = fs.readdirSync(root);
    } catch {
      return;
    }
    for (const domain of domains) {
      const dir = path.join(root, domain, 'Maildir');
      let names: string[] = [];
      try {
        names = fs.readdirSync(path.join(dir, 'new')).sort();
      } catch {
        continue;
      }
      for (const name of names) {
        if (closed) return;
        const file = path.join(dir, 'new', name);
        const q = readEnvelope(file);
        if (!q) continue;
        const r = await forward(smarthost!, helo, q, opts.stepTimeoutMs ?? OUTBOUND_STEP_TIMEOUT_MS);
        if (r.code >= 200 && r.code < 300) {
          fs.unlinkSync(file);
          log.info({ service: 'smtp', smarthost: `${smarthost!.host}:${smarthost!.port}`, to: q.to, reply: r.text }, 'forwarded to the smarthost');
        } else if (r.code >= 500) {
          // Permanent: keep it for the administrator in cur/, flagged (Maildir info "2,F").
          fs.renameSync(file, path.join(dir, 'cur', withFlags(name, 'F')));
          log.error({ service: 'smtp', to: q.to, reply: r.text }, 'smarthost refused the message');
        } else {
          log.warn({ service: 'smtp', to: q.to, reply: r.text }, 'smarthost unavailable, will retry');
          return;
        }
      }
    }
  }

  const kick = () => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = runOnce()
      .catch((err: unknown) => log.error({ err }, 'outbound queue runner failed'))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          kick();
        }
      });
  };
  const timer = setInterval(kick, retryMs);
  timer.unref();
  kick();
  return {
    poke: kick,
    close: async () => {
      closed = true;
      clearInterval(timer);
      await running;
    },
  };
}
