// Shared by the IMAP tests: our IMAP server on 127.0.0.1 port 0 (short login penalties), and a
// scripted IMAP client over testkit's rawTcp/rawTls that reads replies up to their tagged line.
import type tls from 'node:tls';
import { rawTcp, rawTls, startServer, type RawClient, type Started } from '@sstt/testkit';
import { AuthPenalty } from '../src/auth-penalty.ts';
import { createImapServer, type ImapServerOptions } from '../src/imap/server.ts';

export function startImap(options: ImapServerOptions): Promise<Started> {
  return startServer(createImapServer({ host: '127.0.0.1', port: 0, penalty: new AuthPenalty({ baseMs: 20, maxMs: 40 }), ...options }));
}

export class ImapClient {
  private n = 0;

  constructor(readonly raw: RawClient) {}

  static async connect(port: number, opts: { tls?: tls.ConnectionOptions } = {}): Promise<{ client: ImapClient; greeting: string }> {
    const raw = opts.tls ? await rawTls(port, opts.tls) : await rawTcp(port);
    const client = new ImapClient(raw);
    return { client, greeting: (await raw.readLine()).replace(/\r\n$/, '') };
  }

  /** One line without CRLF. */
  async line(timeoutMs?: number): Promise<string> {
    return (await this.raw.readLine(timeoutMs)).replace(/\r\n$/, '');
  }

  /** Sends `tag command` and returns everything up to and including the tagged reply (CRLF-separated text, literals included). */
  async cmd(command: string, tag = `a${++this.n}`): Promise<string> {
    this.raw.write(`${tag} ${command}\r\n`);
    return this.until(tag);
  }

  /** What arrives up to the tagged reply of `tag`, without the last CRLF (`timeoutMs`: a long transfer on a busy machine). */
  async until(tag: string, timeoutMs?: number): Promise<string> {
    const re = new RegExp(`(^|\\r\\n)${tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (OK|NO|BAD)[^\\r\\n]*\\r\\n`);
    const text = await this.raw.readUntil(re, timeoutMs);
    return text.replace(/\r\n$/, '');
  }

  async login(user: string, password: string): Promise<string> {
    return this.cmd(`LOGIN "${user}" "${password}"`);
  }

  close(): void {
    this.raw.destroy();
  }
}
