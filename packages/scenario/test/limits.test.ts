// http.limits, dns.limits and console.limits: overrides of the servers' named constants
// (apps/http server.ts, apps/dns server.ts, apps/console server.ts). Absent, the scenario carries no value and the constants apply.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadScenario } from '../src/index.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-scenario-limits-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const noResolv = path.join(tmp, 'resolv.conf');
fs.writeFileSync(noResolv, '');

let n = 0;
function load(content: unknown) {
  const configFile = path.join(tmp, `c${++n}.json`);
  fs.writeFileSync(configFile, JSON.stringify(content));
  return { configFile, load: () => loadScenario({ env: {}, configFile, resolvConfPath: noResolv }) };
}

describe('limits in the scenario', () => {
  it('absent: empty overrides (the servers use their constants)', () => {
    const s = load({}).load();
    expect(s.http.limits).toEqual({});
    expect(s.dns.limits).toEqual({});
    expect(s.console.limits).toEqual({});
  });

  it('http.limits, dns.limits and console.limits from the file reach the scenario', () => {
    const http = {
      maxConnections: 64,
      maxConnectionsPerClient: 8,
      headerTimeoutMs: 3000,
      pressurePercent: 50,
      pressureHeaderTimeoutMs: 500,
      pressureIdleTimeoutMs: 400,
    };
    const dns = {
      maxTcpClients: 20,
      maxTcpClientsPerAddress: 4,
      tcpIdleTimeoutMs: 5000,
      maxTcpQueries: 100,
      pressurePercent: 50,
      pressureTcpIdleTimeoutMs: 1000,
    };
    const console = { maxConnections: 40, maxConnectionsPerAddress: 10, maxEventStreamsPerAddress: 3 };
    const s = load({ http: { limits: http }, dns: { limits: dns }, console: { limits: console } }).load();
    expect(s.http.limits).toEqual(http);
    expect(s.dns.limits).toEqual(dns);
    expect(s.console.limits).toEqual(console);
  });

  it('a bad value names the key path', () => {
    const bad = load({ http: { limits: { pressurePercent: 0 } } });
    expect(bad.load).toThrow(ConfigError);
    expect(bad.load).toThrow(`${bad.configFile}: http.limits.pressurePercent: `);
    const unknown = load({ dns: { limits: { maxTcpClient: 3 } } });
    expect(unknown.load).toThrow(`${unknown.configFile}: dns.limits.maxTcpClient: `);
    const zero = load({ console: { limits: { maxEventStreamsPerAddress: 0 } } });
    expect(zero.load).toThrow(`${zero.configFile}: console.limits.maxEventStreamsPerAddress: expected a whole number from 1 to 1000`);
  });
});
