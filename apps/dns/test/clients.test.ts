// Real clients end to end: dig (bind9-dnsutils) and kdig (knot-dnsutils) against the server,
// over UDP and TCP; and the app itself (src/main.ts) refusing a taken port with one line, exit 2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run } from '@sstt/testkit';
import { mainWithTakenPort, startDns, startStub, testScenario } from './helpers.ts';

const s = testScenario();
const d = s.domain;
const server = s.names.find((n) => n.label === 'www')!.address;
let port = 0;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  const stub = await startStub((name) =>
    name === 'www.example.test' ? { answers: [{ type: 'A', name, ttl: 60, class: 'IN', data: '10.7.7.7' }] } : undefined,
  );
  const srv = await startDns({ scenario: s, forwarders: [stub.endpoint] });
  port = srv.port;
  closers.push(srv.close, stub.close);
});

afterAll(async () => {
  for (const c of closers) await c();
});

const dig = (...args: string[]) => run(requireTool('dig'), ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args]);
const kdig = (...args: string[]) => run(requireTool('kdig'), ['@127.0.0.1', '-p', String(port), '+time=2', '+retry=0', ...args]);

describe('dig', () => {
  it.each([[], ['+tcp']])('www A %s', async (...flags) => {
    const r = await dig(...flags, `www.${d}`, 'A');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/status: NOERROR/);
    expect(r.stdout).toMatch(/flags: qr aa rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 1, ADDITIONAL: 2/);
    const lines = r.stdout.split('\n').map((l) => l.split(/\s+/).join(' '));
    expect(lines).toContain(`www.${d}. 3600 IN A ${server}`);
    expect(lines).toContain(`${d}. 3600 IN NS dns.${d}.`);
    expect(lines).toContain(`dns.${d}. 3600 IN A ${server}`);
    expect(r.stdout).not.toMatch(/WARNING|malformed/i);
  });

  it('+short answers for the mail records', async () => {
    expect((await dig('+short', d, 'MX')).stdout).toBe(`10 smtp.${d}.\n`);
    expect((await dig('+short', `_submission._tcp.${d}`, 'SRV')).stdout).toBe(`0 1 ${s.listen.ports.submission} smtp.${d}.\n`);
    expect((await dig('+short', '-x', s.network.server)).stdout).toBe(`servidor.${d}.\n`);
  });

  it('AAAA www: NODATA with the SOA', async () => {
    const r = await dig('+noall', '+comments', '+authority', `www.${d}`, 'AAAA');
    expect(r.stdout).toMatch(/status: NOERROR/);
    expect(r.stdout).toMatch(new RegExp(`${d.replace(/\./g, '\\.')}\\.\\s+300\\s+IN\\s+SOA\\s+dns\\.`));
  });

  it('a forwarded name through the local stub', async () => {
    expect((await dig('+short', 'www.example.test')).stdout).toBe('10.7.7.7\n');
  });

  it('+edns=1 gets BADVERS', async () => {
    const r = await dig('+edns=1', '+noednsnegotiation', `www.${d}`);
    expect(r.stdout).toMatch(/status: BADVERS/);
  });
});

describe('kdig', () => {
  // kdig sends no EDNS unless asked: one additional record, the glue.
  it.each([[], ['+tcp']])('www A %s', async (...flags) => {
    const r = await kdig(...flags, `www.${d}`, 'A');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/status: NOERROR/);
    expect(r.stdout).toMatch(/Flags: qr aa rd ra; QUERY: 1; ANSWER: 1; AUTHORITY: 1; ADDITIONAL: 1/);
    expect(r.stdout).toMatch(new RegExp(`www\\.${d.replace(/\./g, '\\.')}\\.\\s+3600\\s+IN\\s+A\\s+${server.replace(/\./g, '\\.')}`));
  });

  it('NXDOMAIN', async () => {
    const r = await kdig(`nope.${d}`, 'A');
    expect(r.stdout).toMatch(/status: NXDOMAIN/);
  });
});

describe('the app', () => {
  it('a taken port: one line on stderr, exit 2', async () => {
    const { taken, code, lastLine } = await mainWithTakenPort(s, (port) => ['--dns-port', String(port)]);
    expect(code).toBe(2);
    expect(lastLine).toBe(
      `dns: dns: port ${taken} on 127.0.0.1 is already taken; change it with --dns-port or SSTT_DNS_PORT (or ports.dns in sstt.config.json)`,
    );
  });
});
