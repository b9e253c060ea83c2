import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bannerText, certPaths, listenErrorMessage, loadScenario, maildirOf, serviceRows, serviceSockets } from '../src/index.ts';

const resolv = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-svc-')), 'resolv.conf');
fs.writeFileSync(resolv, '');
const s = loadScenario({ env: {}, configFile: undefined, resolvConfPath: resolv, flags: {} });

describe('services', () => {
  it('lists every service with a command to try it', () => {
    const rows = serviceRows(s);
    expect(rows.map((r) => [r.service, r.app, r.port])).toEqual([
      ['dns', 'dns', s.listen.ports.dns],
      ['smtp', 'mail', s.listen.ports.smtp],
      ['submission', 'mail', s.listen.ports.submission],
      ['pop3', 'mail', s.listen.ports.pop3],
      ['pop3s', 'mail', s.listen.ports.pop3s],
      ['http', 'http', s.listen.ports.http],
      ['https', 'http', s.listen.ports.https],
      ['console', 'console', s.listen.ports.console],
    ]);
    expect(rows[7]!.tryIt).toBe(`open http://${s.listen.address}:${s.listen.ports.console}/`);
    expect(rows[0]!.tryIt).toBe(`dig @${s.listen.address} -p ${s.listen.ports.dns} www.${s.domain}`);
    expect(rows[3]!.tryIt).toBe(`curl -u ${s.users[1]!.name}:${s.users[1]!.password} pop3://${s.listen.address}:${s.listen.ports.pop3}/`);
    expect(rows[5]!.tryIt).toBe(`curl -v http://${s.listen.address}:${s.listen.ports.http}/`);
  });

  it('declares the sockets each service opens: DNS on UDP and TCP, the others on TCP, on the listen address', () => {
    const a = s.listen.address;
    expect(serviceSockets(s, ['dns', 'pop3s'])).toEqual([
      { service: 'dns', transport: 'udp', address: a, port: s.listen.ports.dns },
      { service: 'dns', transport: 'tcp', address: a, port: s.listen.ports.dns },
      { service: 'pop3s', transport: 'tcp', address: a, port: s.listen.ports.pop3s },
    ]);
    expect(serviceSockets(s)).toHaveLength(serviceRows(s).length + 1);
  });

  it('the banner shows only the apps that exist', () => {
    const onlyDns = bannerText(s, new Set(['dns']));
    expect(onlyDns).toContain(`DNS (udp+tcp)  ${s.listen.address}:${s.listen.ports.dns}`);
    expect(onlyDns).not.toContain('POP3');
    expect(onlyDns).not.toContain('Thunderbird');
    expect(bannerText(s, new Set())).toContain('No service apps exist yet');
    const all = bannerText(s, new Set(['dns', 'mail', 'http']));
    expect(all).toContain(`incoming POP3 ${s.listen.address} port ${s.listen.ports.pop3}`);
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
