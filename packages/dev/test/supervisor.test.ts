// The supervisor with stand-in apps (small node programs): a crash is restarted with a doubling,
// capped delay; exit 2 (configuration) is not; a stop reaches every child; the exit status says
// how the apps ended.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { supervise, type SupervisorLog } from '../src/supervisor.ts';

function recorder() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string; at: number }> = [];
  const log: SupervisorLog = {
    info: (obj, msg) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg, at: Date.now() }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg, at: Date.now() }),
    error: (obj, msg) => lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg, at: Date.now() }),
  };
  return { lines, log };
}

const app = (name: string, code: string) => ({ name, argv: [process.execPath, '-e', code] });

describe('supervise', () => {
  it('restarts a crashing app with a doubling delay up to the cap, and leaves the others alone', async () => {
    const { lines, log } = recorder();
    const policy = { firstDelayMs: 100, maxDelayMs: 400, stableMs: 60_000 };
    const sup = supervise([app('crashy', 'process.exit(1)'), app('steady', 'setInterval(() => {}, 1000)')], log, policy);
    const deadline = Date.now() + 20_000;
    while (lines.filter((l) => l.msg === 'crashed: restarting').length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const steadyPid = sup.pids().steady;
    sup.stop('SIGTERM');
    expect(await sup.done).toBe(0);
    const restarts = lines.filter((l) => l.msg === 'crashed: restarting');
    expect(restarts.slice(0, 5).map((l) => l.obj.restartInMs)).toEqual([100, 200, 400, 400, 400]);
    expect(restarts.every((l) => l.obj.app === 'crashy' && l.obj.cause === 'exit status 1')).toBe(true);
    expect(steadyPid).toBeGreaterThan(0);
    // The gap between two crashes is at least the announced delay.
    for (let i = 1; i < 5; i++) expect(restarts[i]!.at - restarts[i - 1]!.at).toBeGreaterThanOrEqual(Number(restarts[i - 1]!.obj.restartInMs) - 5);
  });

  it('names the signal that killed an app', async () => {
    const { lines, log } = recorder();
    const sup = supervise([app('victim', "process.kill(process.pid, 'SIGKILL')")], log, { firstDelayMs: 50, maxDelayMs: 50, stableMs: 60_000 });
    const deadline = Date.now() + 10_000;
    while (!lines.some((l) => l.msg === 'crashed: restarting') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    sup.stop('SIGTERM');
    await sup.done;
    expect(lines.find((l) => l.msg === 'crashed: restarting')?.obj).toEqual({ app: 'victim', cause: 'killed by SIGKILL', restartInMs: 50 });
  });

  it('does not restart an app that exits 2; when every app did, it ends with 2', async () => {
    const { lines, log } = recorder();
    const sup = supervise([app('a', 'process.exit(2)'), app('b', 'process.exit(2)')], log);
    expect(await sup.done).toBe(2);
    expect(
      lines
        .filter((l) => l.msg.startsWith('stopped by a configuration error'))
        .map((l) => l.obj.app)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(lines.some((l) => l.msg === 'crashed: restarting')).toBe(false);
  });

  it('passes a stop signal to every child and ends with 0 once they are down', async () => {
    const { log } = recorder();
    // Each child writes the signal it received to stdout... of its own; here it exits 0 on SIGTERM.
    const code = "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000)";
    const sup = supervise([app('x', code), app('y', code)], log);
    await new Promise((r) => setTimeout(r, 300));
    const pids = Object.values(sup.pids());
    expect(pids.every((p) => typeof p === 'number')).toBe(true);
    sup.stop('SIGTERM');
    expect(await sup.done).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid!, 0)).toThrow();
  });
});

describe('watchAncestors', () => {
  it('a supervisor whose parent is killed with SIGKILL stops its apps and ends', async () => {
    const { spawn } = await import('node:child_process');
    const fixture = fileURLToPath(new URL('./fixtures/orphan.ts', import.meta.url));
    // The parent: a plain node process that starts the supervisor and waits (turbo's place).
    const parent = spawn(
      process.execPath,
      [
        '-e',
        `require('child_process').spawn(process.execPath, ['--import', 'tsx', ${JSON.stringify(fixture)}], { stdio: 'inherit' }); setInterval(() => {}, 1000)`,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    parent.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 20_000;
    while (!out.includes('"app"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const pids = JSON.parse(out.trim().split('\n')[0]!) as { supervisor: number; app: number };
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive(pids.supervisor) && alive(pids.app)).toBe(true);
    parent.kill('SIGKILL');
    const until = Date.now() + 10_000;
    while ((alive(pids.supervisor) || alive(pids.app)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect({ supervisor: alive(pids.supervisor), app: alive(pids.app) }).toEqual({ supervisor: false, app: false });
  });
});
