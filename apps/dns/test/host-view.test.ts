// The DNS app's two views of the scenario's zones (dev profile): the zone as the lab has it on
// ports.dns, where dig shows the report's 192.168.56.x, and the host's view on ports.hostdns, where
// every name is at the address the dev servers listen on: what `npx sstt resolve` routes this
// machine's resolver to, so a browser that looks up www.<domain> reaches the dev servers. The host's
// view is authoritative only: a name outside the zones is refused, never forwarded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run } from '@sstt/testkit';
import { mainWithTakenPort, startDns, testScenario } from './helpers.ts';

// Forwarders configured, as a dev machine's resolv.conf gives them: the host's view must not use them.
const s = testScenario({ SSTT_DNS_FORWARDERS: '127.0.0.1:9' });
const d = s.domain;
const ports = { zone: 0, host: 0 };
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  const zone = await startDns({ scenario: s });
  // The scenario's forwarders, not the helper's none: the host's view must leave them out itself.
  const host = await startDns({ scenario: s, view: 'host', forwarders: undefined });
  ports.zone = zone.port;
  ports.host = host.port;
  closers.push(zone.close, host.close);
});
afterAll(async () => {
  for (const c of closers) await c();
});

const dig = (view: keyof typeof ports, ...args: string[]) => run(requireTool('dig'), ['@127.0.0.1', '-p', String(ports[view]), '+time=2', '+tries=1', ...args]);

describe("the zone's view and the host's view", () => {
  it("dig on the zone's port shows the lab's addresses, on the host's port the dev servers' address", async () => {
    for (const n of s.names) {
      expect((await dig('zone', '+short', n.fqdn)).stdout).toBe(`${n.address}\n`);
      expect((await dig('host', '+short', n.fqdn)).stdout).toBe(`${s.listen.address}\n`);
    }
    expect(s.names.find((n) => n.label === 'www')!.address).toBe(s.network.server);
  });

  it('the host view answers the rest of the zone as the zone does: MX, SRV, the autoconfig alias, the reverse zone', async () => {
    expect((await dig('host', '+short', d, 'MX')).stdout).toBe(`10 smtp.${d}.\n`);
    expect((await dig('host', '+short', `_pop3s._tcp.${d}`, 'SRV')).stdout).toBe(`10 1 ${s.listen.ports.pop3s} pop.${d}.\n`);
    expect((await dig('host', '+short', `_imaps._tcp.${d}`, 'SRV')).stdout).toBe(`0 1 ${s.listen.ports.imaps} mail.${d}.\n`);
    expect((await dig('host', '+short', `autoconfig.${d}`)).stdout).toBe(`www.${d}.\n${s.listen.address}\n`);
    expect((await dig('host', '+short', '-x', s.network.server)).stdout).toBe(`servidor.${d}.\n`);
    const aa = await dig('host', '+noall', '+comments', `www.${d}`);
    expect(aa.stdout).toMatch(/flags: qr aa rd;/);
  });

  it('a name outside the zones is refused by the host view, without forwarding (no ra)', async () => {
    const r = await dig('host', '+noall', '+comments', 'www.example.test');
    expect(r.stdout).toContain('status: REFUSED');
    expect(r.stdout).toMatch(/flags: qr rd;/);
  });
});

describe('the app', () => {
  it('opens the host view on ports.hostdns: a taken one is named with its own flag, exit 2', async () => {
    const { taken, code, lastLine } = await mainWithTakenPort(s, (port) => ['--dns-port', '0', '--hostdns-port', String(port)]);
    expect(code).toBe(2);
    expect(lastLine).toBe(
      `dns: hostdns: port ${taken} on 127.0.0.1 is already taken; change it with --hostdns-port or SSTT_HOSTDNS_PORT (or ports.hostdns in sstt.config.json)`,
    );
  });
});
