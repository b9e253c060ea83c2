// A small domain for the console's tests: a scenario on temporary directories, our DNS, SMTP,
// submission and POP3 servers on 127.0.0.1 port 0 publishing to one journal, and the console on
// port 0 reading the same Maildirs and journal. Helpers call its API and wait (bounded).
import path from 'node:path';
import { createDnsServer } from '@sstt/dns';
import { type Journal, openJournal } from '@sstt/events';
import { createMailAuth, createPop3Server, createSmtpServer, dnsResolver, type MailAuth } from '@sstt/mail';
import { mintDkimKey } from '@sstt/pki';
import { certPaths, EVENT_PROTOCOLS, loadScenario, maildirOf, type Scenario } from '@sstt/scenario';
import fs from 'node:fs';
import { freePort, type MemoryLogger, memoryLogger, run, startServer, tempDir, type Started } from '@sstt/testkit';
import { type ConsoleHandle, createConsoleServer } from '../src/server.ts';

export interface World {
  s: Scenario;
  /** The world's temporary directory (everything it writes is below it). */
  root: string;
  smtp: Started;
  submission: Started;
  pop3: Started;
  dns: Started;
  /** The journal the world's servers publish to (a server a test starts passes it to be seen too). */
  journal: Journal;
  console: ConsoleHandle;
  /** What the console logged (its certificate jobs, its connection limits). */
  logs: MemoryLogger;
  base: string;
  /** GET/PUT/DELETE on the API; the parsed JSON body and the status. */
  api<T = Record<string, unknown>>(p: string, init?: RequestInit): Promise<{ status: number; body: T; headers: Headers }>;
  /** Polls `fn` until it returns a truthy value (bounded; the journal and the index are read on a timer). */
  until<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, ms?: number): Promise<T>;
  /** swaks to our SMTP server; resolves with its transcript. */
  swaks(args: string[]): Promise<string>;
  maildir(user: string): string;
  close(): Promise<void>;
}

export const UI_DIR = path.join(import.meta.dirname, '..', 'dist', 'ui');

export interface WorldOptions {
  /**
   * Mail authentication as main.ts sets it up: DKIM keys minted (so the zone publishes them), our
   * users' mail signed, every message checked through the world's DNS, results recorded only.
   */
  mailAuth?: boolean;
}

export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  const t = tempDir('sstt-console-');
  // The submission port is the scenario's: the console's compose sends through it.
  const submissionPort = await freePort();
  const load = () =>
    loadScenario({
      // Names outside the zone are never asked here; the forwarder is a dead local port all the same.
      env: {
        SSTT_CERTS_DIR: path.join(t.dir, 'certs'),
        SSTT_DATA_DIR: path.join(t.dir, 'var'),
        SSTT_SUBMISSION_PORT: String(submissionPort),
        SSTT_DNS_FORWARDERS: '127.0.0.1:9',
      },
      flags: {},
      configFile: undefined,
    });
  if (opts.mailAuth) {
    const keyless = load();
    for (const k of keyless.mail.auth.dkim) mintDkimKey(keyless, k);
  }
  const loaded = load();
  const journal = openJournal({ dir: loaded.paths.events, app: 'mail', protocols: EVENT_PROTOCOLS, maxBytes: 1 << 22, flushMs: 30 });
  // The DNS server on port 0 (free for UDP and TCP); the console's dig asks the scenario's port.
  const dns = await startServer(createDnsServer({ scenario: loaded, host: '127.0.0.1', port: 0, journal }));
  const s: Scenario = { ...loaded, listen: { ...loaded.listen, address: '127.0.0.1', ports: { ...loaded.listen.ports, dns: dns.port } } };
  let auth: MailAuth | undefined;
  if (opts.mailAuth) {
    auth = createMailAuth({
      authservId: s.mail.auth.authservId,
      domain: s.domain,
      signingKeys: s.mail.auth.dkim.map((k) => ({ ...k, privateKey: fs.readFileSync(certPaths(s).dkim(k.selector).key, 'utf8') })),
      verify: true,
      enforce: false,
      resolver: dnsResolver({ host: '127.0.0.1', port: dns.port }),
    });
  }
  const withAuth = auth ? { auth } : {};
  const smtp = await startServer(createSmtpServer({ scenario: s, host: '127.0.0.1', port: 0, journal, ...withAuth }));
  const submission = await startServer(createSmtpServer({ scenario: s, host: '127.0.0.1', port: submissionPort, submission: true, journal, ...withAuth }));
  const pop3 = await startServer(createPop3Server({ scenario: s, host: '127.0.0.1', port: 0, journal }));
  const logs = memoryLogger();
  // Every reply and event is parsed with its declared schema: a test that gets an undeclared shape fails.
  const console = createConsoleServer({ scenario: s, host: '127.0.0.1', port: 0, rescanMs: 300, uiDir: UI_DIR, log: logs.log, checkReplies: true });
  const started = await startServer(console);
  const base = `http://127.0.0.1:${started.port}`;
  return {
    s,
    root: t.dir,
    smtp,
    submission,
    pop3,
    dns,
    journal,
    console,
    logs,
    base,
    async api(p, init) {
      // A test that mints certificates blocks this process's loop for seconds; the console closes
      // the client's idle keep-alive connection meanwhile (its keep-alive timeout), and fetch then
      // reuses the dead connection and fails with ECONNRESET before any response. An idempotent
      // request is retried once on a new connection, as browsers do (RFC 9112 §9.3.1).
      const idempotent = init?.method === undefined || init.method === 'GET' || init.method === 'HEAD';
      let res: Response;
      try {
        res = await fetch(base + p, init);
      } catch (err) {
        if (!idempotent || (err as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw err;
        res = await fetch(base + p, init);
      }
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: the text itself
      }
      return { status: res.status, body: body as never, headers: res.headers };
    },
    async until(fn, what, ms = 10_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const v = await fn();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async swaks(args) {
      const r = await run('swaks', ['--server', `127.0.0.1:${smtp.port}`, '--hide-informational', ...args]);
      if (r.code !== 0) throw new Error(`swaks failed (${r.code}): ${r.stdout}${r.stderr}`);
      return r.stdout;
    },
    maildir: (user) => maildirOf(s, user),
    async close() {
      await started.close();
      await Promise.all([smtp.close(), submission.close(), pop3.close(), dns.close()]);
      await journal.close();
      t.remove();
    },
  };
}
