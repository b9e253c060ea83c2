// The app as a child process (src/main.ts run by node --import tsx, one process, so that a
// signal reaches the server itself), with the ports it logged as listening.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Scenario } from '@sstt/scenario';

export const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** The environment of a child app: ours without SSTT_*, plus the given values. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SSTT_')));
  return { ...env, SSTT_LOG_LEVEL: 'info', ...extra };
}

/** The variables that put a child app on a test scenario's data and certificates, every port free (0). */
export function appEnv(s: Scenario): Record<string, string> {
  return {
    SSTT_DATA_DIR: s.paths.data,
    SSTT_CERTS_DIR: s.paths.certs,
    SSTT_SMTP_PORT: '0',
    SSTT_SUBMISSION_PORT: '0',
    SSTT_POP3_PORT: '0',
    SSTT_POP3S_PORT: '0',
    SSTT_IMAP_PORT: '0',
    SSTT_IMAPS_PORT: '0',
  };
}

export interface App {
  child: ChildProcess;
  ports: Record<string, number>;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts main.ts as one node process (no npx/tsx wrapper, so a signal reaches the server itself). */
export function startApp(env: Record<string, string>, waitFor: string[] = ['smtp']): Promise<App> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const ports: Record<string, number> = {};
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const j = JSON.parse(line) as { msg?: string; service?: string; port?: number };
          if (j.msg === 'listening' && j.service && j.port) ports[j.service] = j.port;
        } catch {
          // not a log line
        }
        if (waitFor.every((s) => ports[s])) resolve({ child, ports, stderr: () => err, exited });
      }
    });
    void exited.then(({ code }) => reject(new Error(`app exited (${code}) before listening: ${err}`)));
  });
}
