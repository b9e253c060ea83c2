// Each app's main.ts on its own, as `npm run dev` starts it: a taken port and a bad config value
// end it with one line and exit status 2.
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Service } from '@sstt/scenario';
import { tempDir } from '@sstt/testkit';
import { BIN, ROOT, portOf, privateEnv, silentForwarder, spawnGroup } from './helpers.ts';

const tmp = tempDir('sstt-e2e-apps-');
afterAll(() => tmp.remove());

const APPS: Array<{ app: string; service: Service }> = [
  { app: 'dns', service: 'dns' },
  { app: 'mail', service: 'smtp' },
  { app: 'http', service: 'http' },
];

describe.each(APPS)('apps/$app main', ({ app, service }) => {
  const main = path.join(ROOT, 'apps', app, 'src', 'main.ts');
  const tsx = path.join(BIN, 'tsx');

  it(`a taken ${service} port: exit 2 with one line naming the service, the port and the fix`, async () => {
    const fwd = await silentForwarder();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const env = { ...(await privateEnv(path.join(tmp.dir, app), fwd.port)), [`SSTT_${service.toUpperCase()}_PORT`]: String(port) };
      const p = spawnGroup(tsx, [main], env);
      expect(await p.exited).toBe(2);
      expect(p.output()).toContain(
        `${service}: port ${port} on 127.0.0.1 is already taken; change it with --${service}-port or SSTT_${service.toUpperCase()}_PORT (or ports.${service} in sstt.config.json)\n`,
      );
      expect(
        p
          .output()
          .trim()
          .split('\n')
          .filter((l) => l.includes('already taken')),
      ).toHaveLength(1);
      expect(portOf(env, service)).toBe(port);
    } finally {
      blocker.close();
      fwd.close();
    }
  });

  it('a bad flag value: exit 2 with one line', async () => {
    const env = await privateEnv(path.join(tmp.dir, `${app}-flag`), 9);
    const p = spawnGroup(tsx, [main, `--${service}-port`, '65536'], env);
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain(`command line: --${service}-port: expected a port number from 0 to 65535 (0 = any free port), found 65536\n`);
  });
});
