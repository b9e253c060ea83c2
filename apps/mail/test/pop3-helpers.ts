// Shared by the POP3 tests: a scenario on temporary directories, messages written into a
// Maildir as a delivery would (tmp/ then new/), our POP3 server on 127.0.0.1 port 0, and a
// small scripted POP3 client over testkit's rawTcp/rawTls.
import fs from 'node:fs';
import path from 'node:path';
import { maildirOf, type Scenario } from '@sstt/scenario';
import { rawTcp, rawTls, startServer, type RawClient, type Started } from '@sstt/testkit';
import tls from 'node:tls';
import { AuthPenalty } from '../src/auth-penalty.ts';
import { createPop3Server, type Pop3ServerOptions } from '../src/pop3/server.ts';
import { SESSION_LOCK_NAME } from '../src/pop3/lock.ts';
import { testScenario, whenDir, type TestWorld } from './helpers.ts';

/** The POP3 tests' world: a scenario in a fresh temporary directory, as the SMTP tests have it. */
export type Pop3World = TestWorld;
export const pop3Scenario = testScenario;

let counter = 0;

/**
 * Writes a message into a user's Maildir like a delivery agent: tmp/ first, then a rename into
 * new/. `names: 'S'` adds ",S=<size>" (dovecot's deliver adds ",W=" too with `names: 'SW'`).
 */
export function writeMessage(s: Scenario, user: string, content: string | Buffer, opts: { names?: '' | 'S' | 'SW'; seconds?: number } = {}): string {
  const md = maildirOf(s, user);
  for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(md, sub), { recursive: true });
  const buf = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
  counter++;
  const secs = opts.seconds ?? Math.floor(Date.now() / 1000);
  let name = `${secs}.M${100000 + counter}P${process.pid}Q${counter}.testhost`;
  const names = opts.names ?? 'S';
  if (names.includes('S')) name += `,S=${buf.length}`;
  if (names.includes('W')) name += `,W=${crlfSize(buf)}`;
  const tmp = path.join(md, 'tmp', name);
  fs.writeFileSync(tmp, buf);
  fs.renameSync(tmp, path.join(md, 'new', name));
  return name;
}

/** The message as POP3 sends it (before dot-stuffing): bare LF become CRLF. */
export function crlf(buf: Buffer | string): Buffer {
  const text = Buffer.isBuffer(buf) ? buf.toString('latin1') : Buffer.from(buf, 'utf8').toString('latin1');
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');
}

export function crlfSize(buf: Buffer | string): number {
  return crlf(buf).length;
}

/** Files currently in a Maildir subdirectory. */
export function listMaildir(s: Scenario, user: string, sub: 'new' | 'cur' | 'tmp'): string[] {
  try {
    return fs.readdirSync(path.join(maildirOf(s, user), sub)).sort();
  } catch {
    return [];
  }
}

export function startPop3(options: Pop3ServerOptions): Promise<Started> {
  // Short login penalties unless the test brings its own (auth-penalty.test.ts measures the real shape).
  return startServer(createPop3Server({ host: '127.0.0.1', port: 0, penalty: new AuthPenalty({ baseMs: 20, maxMs: 40 }), ...options }));
}

/** A scripted POP3 client: exact replies, multi-line bodies, byte-exact message reads. */
export class Pop3Client {
  constructor(readonly raw: RawClient) {}

  static async connect(port: number, opts: { tls?: tls.ConnectionOptions } = {}): Promise<{ client: Pop3Client; greeting: string }> {
    const raw = opts.tls ? await rawTls(port, opts.tls) : await rawTcp(port);
    const client = new Pop3Client(raw);
    return { client, greeting: await client.line() };
  }

  /** One reply line without CRLF. */
  async line(timeoutMs?: number): Promise<string> {
    const l = await this.raw.readLine(timeoutMs);
    return l.replace(/\r\n$/, '');
  }

  /** Sends a command and returns the one-line reply. */
  async cmd(command: string, timeoutMs?: number): Promise<string> {
    this.raw.write(`${command}\r\n`);
    return this.line(timeoutMs);
  }

  /** Reads a multi-line body up to CRLF.CRLF; returns it dot-unstuffed, as bytes. */
  async body(): Promise<Buffer> {
    const text = await this.raw.readUntil(/(^|\r\n)\.\r\n/);
    const raw = text === '.\r\n' ? '' : text.slice(0, -3);
    return Buffer.from(raw.replace(/^\.\./gm, '.'), 'latin1');
  }

  /** The body exactly as sent (still dot-stuffed), without the terminating line. */
  async rawBody(): Promise<string> {
    const text = await this.raw.readUntil(/(^|\r\n)\.\r\n/);
    return text === '.\r\n' ? '' : text.slice(0, -3);
  }

  async lines(command: string): Promise<{ first: string; lines: string[] }> {
    const first = await this.cmd(command);
    if (!first.startsWith('+OK')) return { first, lines: [] };
    const b = (await this.body()).toString('latin1');
    return { first, lines: b === '' ? [] : b.replace(/\r\n$/, '').split('\r\n') };
  }

  async login(user: string, password: string): Promise<string> {
    const r = await this.cmd(`USER ${user}`);
    if (r !== '+OK') return r;
    return this.cmd(`PASS ${password}`);
  }

  close(): void {
    this.raw.destroy();
  }
}

/** AUTH PLAIN blob (RFC 4616): authzid NUL authcid NUL password. */
export function plainBlob(user: string, password: string, authz = ''): string {
  return Buffer.from(`${authz}\0${user}\0${password}`).toString('base64');
}

/**
 * TLS on a connection whose STLS got `+OK` (or IMAP STARTTLS its OK): the verified secure socket, and `until(pattern)`,
 * which waits for the text received so far to match from its start and consumes the match.
 */
export async function upgradeToTls(
  client: { raw: RawClient },
  ca: string | Buffer,
): Promise<{ secure: tls.TLSSocket; until(pattern: RegExp): Promise<string> }> {
  const secure = tls.connect({ socket: client.raw.socket, ca, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', () => resolve());
    secure.once('error', reject);
  });
  if (!secure.authorized) throw new Error(`TLS peer not verified: ${String(secure.authorizationError)}`);
  let text = '';
  let wake: (() => void) | undefined;
  secure.on('data', (d: Buffer) => {
    text += d.toString('latin1');
    wake?.();
  });
  const closed = new Promise<void>((r) => secure.once('close', () => r()));
  return {
    secure,
    /** What arrived up to `pattern`, awaited as the data comes; rejects if the connection closes first. */
    async until(pattern) {
      while (!pattern.test(text)) {
        const more = new Promise<boolean>((r) => (wake = () => r(true)));
        if (!(await Promise.race([more, closed.then(() => false)])) && !pattern.test(text)) throw new Error(`no ${pattern} in ${JSON.stringify(text)}`);
      }
      wake = undefined;
      const m = pattern.exec(text)!;
      text = text.slice(m.index + m[0].length);
      return m[0];
    },
  };
}

/** Resolves once no session holds the user's mailbox: the server removes its lock file as the session ends. */
export function mailboxUnlocked(s: Scenario, user: string): Promise<void> {
  const dir = maildirOf(s, user);
  return whenDir(dir, () => !fs.existsSync(path.join(dir, SESSION_LOCK_NAME)), `${user}'s mailbox lock released`);
}
