import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bannerText, certPaths, hostView, listenErrorMessage, loadScenario, maildirOf, serviceRows, serviceSockets } from '../src/index.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-svc-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const resolv = path.join(tmp, 'resolv.conf');
fs.writeFileSync(resolv, '');
const s = loadScenario({ env: {}, configFile: undefined, resolvConfPath: resolv, flags: {} });

describe('services', () => {
  it('lists every service with a command to try it', () => {
    const rows = serviceRows(s);
    expect(rows.map((r) => [r.service, r.app, r.port])).toEqual([
      ['dns', 'dns', s.listen.ports.dns],
      ['hostdns', 'dns', s.listen.ports.hostdns],
      ['smtp', 'mail', s.listen.ports.smtp],
      ['submission', 'mail', s.listen.ports.submission],
      ['pop3', 'mail', s.listen.ports.pop3],
      ['pop3s', 'mail', s.listen.ports.pop3s],
      ['imap', 'mail', s.listen.ports.imap],
      ['imaps', 'mail', s.listen.ports.imaps],
      ['http', 'http', s.listen.ports.http],
      ['https', 'http', s.listen.ports.https],
      ['console', 'console', s.listen.ports.console],
    ]);
    const tryIt = (service: string) => rows.find((r) => r.service === service)!.tryIt;
    expect(tryIt('console')).toBe(`open http://${s.listen.address}:${s.listen.ports.console}/`);
    expect(tryIt('dns')).toBe(`dig @${s.listen.address} -p ${s.listen.ports.dns} www.${s.domain}`);
    expect(tryIt('hostdns')).toBe(`dig @${s.listen.address} -p ${s.listen.ports.hostdns} www.${s.domain}`);
    expect(tryIt('pop3')).toBe(`curl -u ${s.users[1]!.name}:${s.users[1]!.password} pop3://${s.listen.address}:${s.listen.ports.pop3}/`);
    expect(tryIt('imap')).toBe(`curl -u ${s.users[1]!.name}:${s.users[1]!.password} 'imap://${s.listen.address}:${s.listen.ports.imap}/INBOX?ALL'`);
    expect(tryIt('http')).toBe(`curl -v http://${s.listen.address}:${s.listen.ports.http}/`);
  });

  it('the lab profile has one DNS view (its names are where the servers are), so one DNS row', () => {
    const lab = loadScenario({ env: { SSTT_PROFILE: 'lab' }, resolvConfPath: resolv, flags: {} });
    expect(lab.listen.ports.hostdns).toBe(lab.listen.ports.dns);
    expect(serviceRows(lab).map((r) => r.service)).not.toContain('hostdns');
    expect(hostView(lab)).toBe(lab);
  });

  it("the host's view puts every name of the zone where the dev servers listen, and only that changes", () => {
    const view = hostView(s);
    expect(new Set(view.names.map((n) => n.address))).toEqual(new Set([s.listen.address]));
    expect(view.names.map((n) => n.fqdn)).toEqual(s.names.map((n) => n.fqdn));
    expect({ ...view, names: s.names }).toEqual(s);
    // The zone's own view keeps the lab's addresses (the report's).
    expect(s.names.find((n) => n.label === 'www')!.address).toBe(s.network.server);
    const wildcard = loadScenario({ env: { SSTT_LISTEN: '0.0.0.0' }, resolvConfPath: resolv, flags: {} });
    expect(new Set(hostView(wildcard).names.map((n) => n.address))).toEqual(new Set(['127.0.0.1']));
  });

  it('the banner says which of sstt resolve / sstt trust is still missing, and nothing once both ran', () => {
    const apps = new Set(['dns', 'http'] as const);
    const url = `https://www.${s.domain}:${s.listen.ports.https}/`;
    const none = bannerText(s, new Set(apps), { trusted: false, resolved: false });
    expect(none).toContain(
      `To open ${url} by name in a browser on this machine: sudo npx sstt resolve (this machine resolves the domain's names to the dev servers); sudo npx sstt trust --client ${s.users[0]!.name} (its browsers, curl, Thunderbird trust the lab CA).`,
    );
    const half = bannerText(s, new Set(apps), { trusted: true, resolved: false });
    expect(half).toContain(`To open ${url} by name in a browser on this machine: sudo npx sstt resolve (`);
    expect(half).not.toContain('sstt trust');
    const both = bannerText(s, new Set(apps), { trusted: true, resolved: true });
    expect(both).not.toContain('npx sstt');
    expect(both).toBe(bannerText(s, new Set(apps)));
    const lab = loadScenario({ env: { SSTT_PROFILE: 'lab' }, resolvConfPath: resolv, flags: {} });
    expect(bannerText(lab, new Set(apps), { trusted: false, resolved: false })).toBe(bannerText(lab, new Set(apps)));
  });

  it('declares the sockets each service opens: DNS on UDP and TCP, the others on TCP, on the listen address', () => {
    const a = s.listen.address;
    expect(serviceSockets(s, ['dns', 'pop3s'])).toEqual([
      { service: 'dns', transport: 'udp', address: a, port: s.listen.ports.dns },
      { service: 'dns', transport: 'tcp', address: a, port: s.listen.ports.dns },
      { service: 'pop3s', transport: 'tcp', address: a, port: s.listen.ports.pop3s },
    ]);
    // DNS and its host view each listen on UDP and TCP: one row each, two sockets each.
    expect(serviceSockets(s)).toHaveLength(serviceRows(s).length + 2);
  });

  it('the banner shows only the apps that exist', () => {
    const onlyDns = bannerText(s, new Set(['dns']));
    expect(onlyDns).toMatch(new RegExp(`^DNS \\(udp\\+tcp\\) +${s.listen.address}:${s.listen.ports.dns}  `, 'm'));
    expect(onlyDns).not.toContain('POP3');
    expect(onlyDns).not.toContain('Thunderbird');
    expect(bannerText(s, new Set())).toContain('No service apps exist yet');
    const all = bannerText(s, new Set(['dns', 'mail', 'http']));
    expect(all).toContain(`incoming IMAP ${s.listen.address} port ${s.listen.ports.imap}`);
    expect(all).toContain(`or POP3 ${s.listen.address} port ${s.listen.ports.pop3}`);
    expect(all.split('\n')[0]).toBe(`sstt: the domain ${s.domain} (ID ${s.id}, profile ${s.profile})`);
  });

  it('the lab console asks for a password and the banner says so', () => {
    const lab = loadScenario({ env: { SSTT_PROFILE: 'lab', SSTT_CONSOLE_PASSWORD: 'x' }, resolvConfPath: resolv, flags: {} });
    expect(bannerText(lab, new Set(['console']))).toContain(
      `Web console  ${lab.listen.address}:${lab.listen.ports.console}  open http://${lab.listen.address}:${lab.listen.ports.console}/ (password: console.password of sstt.config.json)`,
    );
  });

  it('a listen failure says which service, which port and how to change it', () => {
    const err = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    expect(listenErrorMessage('dns', '127.0.0.1', 1053, err)).toBe(
      'dns: port 1053 on 127.0.0.1 is already taken; change it with --dns-port or SSTT_DNS_PORT (or ports.dns in sstt.config.json)',
    );
    const eacces = Object.assign(new Error('listen EACCES'), { code: 'EACCES' });
    expect(listenErrorMessage('http', '0.0.0.0', 80, eacces)).toBe(
      'http: port 80 on 0.0.0.0 needs root (ports below 1024); change it with --http-port or SSTT_HTTP_PORT (or ports.http in sstt.config.json)',
    );
  });

  it('certificate and mailbox paths hang off the configured directories', () => {
    const c = certPaths(s);
    expect(c.ca.cert).toBe(path.join(s.paths.certs, 'ca', 'ca.crt'));
    expect(c.client('nombre1_9721').p12).toBe(path.join(s.paths.certs, 'clients', 'nombre1_9721.p12'));
    expect(c.ipsec('client').key).toBe(path.join(s.paths.certs, 'ipsec', 'client.key'));
    expect(maildirOf(s, 'nombre2_9721')).toBe(path.join(s.paths.data, 'mail', 'nombre2_9721', 'Maildir'));
  });
});
