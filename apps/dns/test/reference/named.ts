// Running BIND 9 (`named`) as a reference server under the test's control: a private directory,
// a free loopback port, one worker thread (`-n 1`), in the foreground (`-g`), as user `bind`.
// Readiness is the "running" line named prints on stderr, never a sleep.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { requireTool, run } from '@sstt/testkit';

export interface NamedZone {
  /** Zone origin without the trailing dot. */
  origin: string;
  /** Absolute path of the master file (copied into the named directory). */
  file: string;
}

export interface NamedOptions {
  /** Working directory (created; made readable by user bind). */
  dir: string;
  host: string;
  port: number;
  zones: NamedZone[];
  /** Statements added inside `options { }` (recursion, forwarders, minimal-responses...). */
  options: string[];
  /** How long to wait for "running" (default 15 s). */
  startTimeoutMs?: number;
  /** named is killed after this long even if nobody closes it (default 10 min). */
  maxLifetimeMs?: number;
  /**
   * The whole named.conf instead of the one built from the fields above (views, several
   * listen addresses); its zone files must already be in `dir`. `zones` is then not used.
   */
  conf?: string;
}

export interface Named {
  host: string;
  port: number;
  /** named's stderr so far (for failure messages). */
  log(): string;
  close(): Promise<void>;
}

/** The named.conf the reference runs with: our directory, our port, nothing from /etc/bind. */
export function namedConf(opts: NamedOptions, zoneFile: (z: NamedZone) => string): string {
  const d = opts.dir;
  return [
    'options {',
    `  directory "${d}";`,
    '  pid-file none;',
    `  session-keyfile "${d}/session.key";`,
    `  managed-keys-directory "${d}";`,
    `  listen-on port ${opts.port} { ${opts.host}; };`,
    '  listen-on-v6 { none; };',
    '  notify no;',
    ...opts.options.map((o) => `  ${o}`),
    '};',
    'controls { };',
    ...opts.zones.map((z) => `zone "${z.origin}" { type primary; file "${zoneFile(z)}"; };`),
    '',
  ].join('\n');
}

export async function startNamed(opts: NamedOptions): Promise<Named> {
  const named = requireTool('named');
  const checkconf = requireTool('named-checkconf');
  const checkzone = requireTool('named-checkzone');
  fs.mkdirSync(opts.dir, { recursive: true });
  const zoneFile = (z: NamedZone) => path.join(opts.dir, `db.${z.origin || 'root'}`);
  for (const z of opts.conf ? [] : opts.zones) {
    fs.copyFileSync(z.file, zoneFile(z));
    const cz = await run(checkzone, [z.origin, zoneFile(z)]);
    if (cz.code !== 0) throw new Error(`named-checkzone ${z.origin} ${z.file} failed:\n${cz.stdout}${cz.stderr}`);
  }
  const conf = path.join(opts.dir, 'named.conf');
  fs.writeFileSync(conf, opts.conf ?? namedConf(opts, zoneFile));
  const cc = await run(checkconf, [conf]);
  if (cc.code !== 0) throw new Error(`named-checkconf failed:\n${cc.stdout}${cc.stderr}\n${fs.readFileSync(conf, 'utf8')}`);
  // named drops to (or, here, runs as) user bind: the directory and files must be its own.
  execFileSync('chown', ['-R', 'bind:bind', opts.dir]);
  let dir = path.dirname(opts.dir);
  while (dir !== '/' && dir !== path.dirname(dir)) {
    // mkdtemp directories are 0700: let bind traverse them (only the x bit).
    try {
      const st = fs.statSync(dir);
      if ((st.mode & 0o001) === 0) fs.chmodSync(dir, st.mode | 0o001);
    } catch {
      break;
    }
    dir = path.dirname(dir);
  }

  // `timeout` bounds named's life if the test process dies without closing it; it passes our
  // SIGTERM on to runuser, which passes it on to named.
  const lifetime = String(Math.ceil((opts.maxLifetimeMs ?? 600_000) / 1000));
  const child: ChildProcess = spawn('timeout', [lifetime, 'runuser', '-u', 'bind', '--', named, '-g', '-n', '1', '-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`named did not start in time on ${opts.host}:${opts.port}:\n${log}`));
    }, opts.startTimeoutMs ?? 15_000);
    child.stderr!.on('data', (b: Buffer) => {
      log += b.toString('utf8');
      if (/\brunning\s*$/m.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`named exited (${code ?? signal}) before running:\n${log}`));
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });

  return {
    host: opts.host,
    port: opts.port,
    log: () => log,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // runuser forwards SIGTERM to named, which shuts down cleanly.
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
