// The argv that runs a command on a lab host (as root): the host name and the bind-mount paths
// are arguments of a fixed script, so a path with a single quote and a space reaches `mount`
// intact. The script is run here for real with stand-ins for `hostname` and `mount` first on
// PATH (no root needed), which print the arguments they were given.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inNamespaceSteps, nsExecArgv } from './netns.ts';
import { run } from './run.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sstt-host it's-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const from = path.join(tmp, "it's a dir", 'ipsec.conf');
/** What a pasted path would run: it must never exist. */
const pwned = path.join(os.tmpdir(), `sstt-pwned-${process.pid}`);
const to = `/etc/ipsec.conf'; touch ${pwned}; echo '`;
const host = 'servidor';

describe('nsExecArgv', () => {
  it('passes the host name and the paths as arguments, never in the script text', () => {
    const argv = nsExecArgv('sstt9721-servidor', ['/usr/sbin/ipsec', 'start'], { hostname: host, binds: [[from, to]] });
    expect(argv).toEqual([
      'netns',
      'exec',
      'sstt9721-servidor',
      'unshare',
      '--uts',
      '-m',
      'sh',
      '-c',
      'hostname "${1}" && mount --bind "${2}" "${3}" && shift 3 && exec "$@"',
      'in-ns',
      host,
      from,
      to,
      '/usr/sbin/ipsec',
      'start',
    ]);
  });

  it('without a host name or mounts, the command directly', () => {
    expect(nsExecArgv('ns1', ['dig', "a b'c"])).toEqual(['netns', 'exec', 'ns1', 'dig', "a b'c"]);
  });

  it('a path with a quote and a space reaches mount, and the command its own arguments, intact', async () => {
    const bin = path.join(tmp, 'bin');
    const log = path.join(tmp, 'calls.log');
    fs.mkdirSync(bin);
    // Each stand-in writes its name and each argument in brackets, one call a line.
    const standIn = `#!/bin/sh\n{ printf '%s' "$(basename "$0")"; printf ' [%s]' "$@"; echo; } >> "$CALLS"\n`;
    for (const name of ['hostname', 'mount']) fs.writeFileSync(path.join(bin, name), standIn, { mode: 0o755 });
    const steps = inNamespaceSteps({
      hostname: host,
      binds: [
        [from, to],
        [`${from}.2`, `${to}.2`],
      ],
    })!;
    const cmd = ['sh', '-c', `printf '[%s]' "$@"`, 'cmd', "x y'z", '$HOME', '`id`'];
    const r = await run(steps[0]!, [...steps.slice(1), ...cmd], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, CALLS: log } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe("[x y'z][$HOME][`id`]");
    expect(fs.readFileSync(log, 'utf8')).toBe(
      [`hostname [${host}]`, `mount [--bind] [${from}] [${to}]`, `mount [--bind] [${from}.2] [${to}.2]`, ''].join('\n'),
    );
    expect(fs.existsSync(pwned)).toBe(false);
  });
});
