// The generated systemd units judged by systemd itself (`systemd-analyze verify`, which prints
// nothing for a clean unit and names the file:line of anything it ignores), after install.sh put
// them in place for this checkout below DESTDIR.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireTool, run, tempDir } from '@sstt/testkit';
import { generateSystemd, SYSTEMD_APPS, SYSTEMD_TARGET } from '../src/index.ts';
import { install, labIn } from './helpers.ts';

const analyze = requireTool('systemd-analyze');

async function verify(files: string[]) {
  const r = await run(analyze, ['verify', ...files]);
  return { code: r.code, out: (r.stdout + r.stderr).trim() };
}

describe('systemd units (lab profile on a real server)', () => {
  it('install.sh writes the units for this checkout, and systemd-analyze verify finds nothing to say', async () => {
    const tmp = tempDir('sstt-infra-systemd-');
    try {
      const { s, infra, certs } = await labIn(tmp.dir, generateSystemd);
      const dest = path.join(tmp.dir, 'root');
      await install(path.join(infra, 'systemd', 'install.sh'), dest, certs, s.paths.root);
      const dir = path.join(dest, 'etc/systemd/system');
      const units = [...SYSTEMD_APPS.map((a) => `sstt-${a.app}.service`), SYSTEMD_TARGET];
      expect(fs.readdirSync(dir).sort()).toEqual([...units].sort());
      for (const a of SYSTEMD_APPS) {
        const text = fs.readFileSync(path.join(dir, `sstt-${a.app}.service`), 'utf8');
        expect(text).toContain(`ExecStart=/usr/bin/env node ${s.paths.root}/apps/${a.app}/dist/main.js\n`);
        expect(text).toContain('Restart=on-failure\n');
        expect(text).toContain('RestartPreventExitStatus=2\n');
        expect(text).toContain('Environment=SSTT_PROFILE=lab\n');
      }
      const r = await verify(units.map((u) => path.join(dir, u)));
      expect(r.out).toBe('');
      expect(r.code).toBe(0);

      // The judge can fail: a directive systemd cannot parse is named with its line.
      const bad = path.join(tmp.dir, 'sstt-bad.service');
      fs.writeFileSync(bad, fs.readFileSync(path.join(dir, 'sstt-dns.service'), 'utf8').replace('Restart=on-failure', 'Restart=sometimes'));
      expect((await verify([bad])).out).toMatch(/sstt-bad\.service:\d+: Failed to parse service restart specifier, ignoring: sometimes/);
    } finally {
      tmp.remove();
    }
  });
});
