// Shared by the SMTP-side tests: a scenario on temporary directories, the pki's certificates
// minted once per test file, our SMTP server on 127.0.0.1 port 0, and Maildir readers.
import fs from 'node:fs';
import path from 'node:path';
import { certPaths, loadScenario, maildirOf, type Scenario } from '@sstt/scenario';
import { initPki } from '@sstt/pki';
import { startServer, tempDir, type Started } from '@sstt/testkit';
import { createSmtpServer, type SmtpServerOptions } from '../src/smtp.ts';

export interface TestWorld {
  s: Scenario;
  root: string;
  remove(): void;
}

/** A scenario whose data and certificates live in a fresh temporary directory. */
export function testScenario(env: Record<string, string> = {}): TestWorld {
  const t = tempDir('sstt-mail-');
  const s = loadScenario({
    env: { SSTT_CERTS_DIR: path.join(t.dir, 'certs'), SSTT_DATA_DIR: path.join(t.dir, 'var'), ...env },
    flags: {},
    configFile: undefined,
  });
  return { s, root: t.dir, remove: t.remove };
}

/** Mints the CA and the server certificate (packages/pki) and returns what TLS needs. */
export async function serverTls(s: Scenario): Promise<{ key: Buffer; cert: Buffer; ca: string }> {
  await initPki(s);
  const p = certPaths(s);
  return { key: fs.readFileSync(p.server.key), cert: fs.readFileSync(p.server.cert), ca: p.ca.cert };
}

export function startSmtp(options: SmtpServerOptions): Promise<Started> {
  return startServer(createSmtpServer({ host: '127.0.0.1', port: 0, ...options }));
}

/** Files in a Maildir subdirectory (new by default), sorted by name. */
export function maildirFiles(dir: string, sub: 'new' | 'cur' | 'tmp' = 'new'): string[] {
  try {
    return fs
      .readdirSync(path.join(dir, sub))
      .sort()
      .map((n) => path.join(dir, sub, n));
  } catch {
    return [];
  }
}

export function userNew(s: Scenario, user: string): string[] {
  return maildirFiles(maildirOf(s, user));
}

/** The message as delivered, without the Return-Path and Received headers we added in front. */
export function withoutTrace(file: string): Buffer {
  const buf = fs.readFileSync(file);
  const text = buf.toString('latin1');
  const m = /^Return-Path: <[^>]*>\r\nReceived: [^\r]*\r\n(?:\t[^\r]*\r\n)*/.exec(text);
  if (!m) throw new Error(`${file} does not start with Return-Path and Received`);
  return buf.subarray(m[0].length);
}

/**
 * Resolves once `ready()` holds: checked at once, then on each change fs.watch (inotify) reports
 * in `dir`. For what a server or a client process does to files (a lock file removed, a file in
 * tmp/, a session ticket written), awaited as it happens instead of polled. `timeoutMs` is only a
 * safety net with a message.
 */
export function whenDir(dir: string, ready: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = fs.watch(dir);
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      watcher.close();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    const check = () => {
      try {
        if (ready()) done();
      } catch (err) {
        done(err as Error);
      }
    };
    watcher.on('change', check);
    watcher.on('error', (err) => done(err));
    check();
  });
}

/**
 * The scenario with the mail listeners' connection rate off: for a client that reconnects as fast
 * as it can while something else is under test (the fuzz campaigns, an attack from the probes' own
 * address); the rate's own tests are in conn-limits.test.ts.
 */
export function withoutConnectionRate(s: Scenario): Scenario {
  return { ...s, mail: { ...s.mail, limits: { ...s.mail.limits, connectionRatePerSecond: 0 } } };
}
