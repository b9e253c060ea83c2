import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadScenario, MAIL_LIMITS, parseCommandLine, type LoadOptions } from '../src/index.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-scenario-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function configFile(content: unknown): string {
  const file = path.join(tmp, `c${++n}.json`);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}
const noResolv = path.join(tmp, 'resolv.conf');
fs.writeFileSync(noResolv, '');

/** Loads with nothing from the real environment or the repository's own config file. */
function load(opts: LoadOptions = {}) {
  return loadScenario({ env: {}, configFile: configFile({}), resolvConfPath: noResolv, ...opts });
}

function errorOf(opts: LoadOptions): string {
  try {
    load(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  it('derives the seed scenario from ID 9721', () => {
    const s = load();
    expect(s.id).toBe('9721');
    expect(s.domain).toBe('sstt9721.org');
    expect(s.profile).toBe('dev');
    expect(s.users.map((u) => [u.name, u.password, u.firstName, u.email])).toEqual([
      ['nombre1_9721', 'nombre1_9721', 'nombre1', 'nombre1_9721@sstt9721.org'],
      ['nombre2_9721', 'nombre2_9721', 'nombre2', 'nombre2_9721@sstt9721.org'],
    ]);
    expect(s.network).toEqual({
      lan: '192.168.56.0/24',
      server: '192.168.56.102',
      client: '192.168.56.101',
      reverseZone: '56.168.192.in-addr.arpa',
      gateway: '192.168.56.1',
    });
    expect(s.names.map((h) => `${h.fqdn}=${h.address}`)).toEqual([
      'dns.sstt9721.org=192.168.56.102',
      'www.sstt9721.org=192.168.56.102',
      'web.sstt9721.org=192.168.56.102',
      'smtp.sstt9721.org=192.168.56.102',
      'pop.sstt9721.org=192.168.56.102',
      'mail.sstt9721.org=192.168.56.102',
      'servidor.sstt9721.org=192.168.56.102',
      'cliente.sstt9721.org=192.168.56.101',
    ]);
    expect(s.dns.nameServer).toBe('dns.sstt9721.org');
    expect(s.dns.mx).toEqual({ preference: 10, exchange: 'smtp.sstt9721.org' });
    expect(s.mail.maxSize).toBe(52428800);
    expect(s.http.cookie).toEqual({ name: 'cookie_counter', maxAgeSeconds: 120, limit: 10 });
    expect(s.http.idleTimeoutSeconds).toBe(10);
  });

  it('dev profile: loopback and unprivileged ports', () => {
    const s = load();
    expect(s.listen).toEqual({
      address: '127.0.0.1',
      ports: {
        dns: 1053,
        hostdns: 1054,
        smtp: 2525,
        submission: 5870,
        pop3: 1110,
        pop3s: 1995,
        imap: 1143,
        imaps: 1993,
        http: 8080,
        https: 8443,
        console: 8025,
      },
    });
    expect(s.mail.relayNets).toEqual(['127.0.0.1/32', '::1/128']);
  });

  it('lab profile: the standard ports on the server address and the university forwarders', () => {
    const s = load({ env: { SSTT_PROFILE: 'lab' } });
    expect(s.listen).toEqual({
      address: '192.168.56.102',
      ports: { dns: 53, hostdns: 53, smtp: 25, submission: 587, pop3: 110, pop3s: 995, imap: 143, imaps: 993, http: 80, https: 443, console: 8025 },
    });
    expect(s.dns.forwarders).toEqual([
      { host: '155.54.1.1', port: 53 },
      { host: '155.54.1.2', port: 53 },
    ]);
    expect(s.mail.relayNets).toEqual(['192.168.56.0/24', '127.0.0.1/32']);
  });

  it('dev forwarders come from resolv.conf, leaving out ourselves', () => {
    const resolv = path.join(tmp, 'resolv-2.conf');
    fs.writeFileSync(resolv, '# comment\nnameserver 127.0.0.1\nnameserver 10.0.0.53\noptions ndots:1\nnameserver ::1\n');
    expect(load({ resolvConfPath: resolv, env: { SSTT_DNS_PORT: '53' } }).dns.forwarders).toEqual([
      { host: '10.0.0.53', port: 53 },
      { host: '::1', port: 53 },
    ]);
    expect(load({ resolvConfPath: resolv }).dns.forwarders.map((f) => f.host)).toEqual(['127.0.0.1', '10.0.0.53', '::1']);
  });

  it('another ID changes every derived name', () => {
    const s = load({ env: { SSTT_ID: '1234' } });
    expect(s.domain).toBe('sstt1234.org');
    expect(s.users.map((u) => u.name)).toEqual(['nombre1_1234', 'nombre2_1234']);
    expect(s.names[1]!.fqdn).toBe('www.sstt1234.org');
    expect(s.pki.p12Password).toBe('sstt1234');
  });

  it('mapToLoopback answers 127.0.0.1 for every name', () => {
    const s = load({ env: { SSTT_DNS_MAP_TO_LOOPBACK: 'true' } });
    expect(new Set(s.names.map((h) => h.address))).toEqual(new Set(['127.0.0.1']));
  });

  it('the console: every protocol journaled by default, SSTT_EVENTS picks some or none, a password for the lab', () => {
    const s = load();
    expect(s.console.events).toEqual(['smtp', 'submission', 'pop3', 'pop3s', 'imap', 'imaps', 'http', 'https', 'dns']);
    expect(s.console.password).toBeUndefined();
    expect(s.paths.events).toBe(path.join(s.paths.data, 'events'));
    expect(load({ env: { SSTT_EVENTS: 'smtp, dns' } }).console.events).toEqual(['smtp', 'dns']);
    expect(load({ env: { SSTT_EVENTS: 'none' } }).console.events).toEqual([]);
    expect(load({ env: { SSTT_CONSOLE_PASSWORD: 'pw' } }).console.password).toBe('pw');
    expect(() => load({ env: { SSTT_EVENTS: 'smtp,ftp' } })).toThrow(
      /^environment: SSTT_EVENTS: expected one of smtp, submission, pop3, pop3s, imap, imaps, http, https, dns, none, found "ftp"$/,
    );
  });
});

describe('precedence: file, then environment, then flags', () => {
  const file = configFile({ id: '1111', ports: { dns: 5301, http: 8081 }, dns: { forwarders: ['127.0.0.9:5399'] } });

  it('the file alone', () => {
    const s = load({ configFile: file });
    expect([s.id, s.listen.ports.dns, s.listen.ports.http, s.listen.ports.smtp]).toEqual(['1111', 5301, 8081, 2525]);
    expect(s.dns.forwarders).toEqual([{ host: '127.0.0.9', port: 5399 }]);
  });

  it('environment beats the file', () => {
    const s = load({ configFile: file, env: { SSTT_ID: '2222', SSTT_DNS_PORT: '5302', SSTT_DNS_FORWARDERS: '127.0.0.7, 127.0.0.8:54' } });
    expect([s.id, s.listen.ports.dns, s.listen.ports.http]).toEqual(['2222', 5302, 8081]);
    expect(s.dns.forwarders).toEqual([
      { host: '127.0.0.7', port: 53 },
      { host: '127.0.0.8', port: 54 },
    ]);
  });

  it('flags beat the environment', () => {
    const { values } = parseCommandLine(['--id', '3333', '--dns-port', '5303', '--forwarder', '127.0.0.6']);
    const s = load({ configFile: file, env: { SSTT_ID: '2222', SSTT_DNS_PORT: '5302' }, flags: values });
    expect([s.id, s.listen.ports.dns, s.listen.ports.http]).toEqual(['3333', 5303, 8081]);
    expect(s.dns.forwarders).toEqual([{ host: '127.0.0.6', port: 53 }]);
  });

  it('SSTT_CONFIG and --config choose the file', () => {
    expect(loadScenario({ env: { SSTT_CONFIG: file }, resolvConfPath: noResolv }).id).toBe('1111');
    expect(loadScenario({ env: {}, flags: { config: file }, resolvConfPath: noResolv }).id).toBe('1111');
  });

  it('paths are resolved against the repository root', () => {
    const s = load({ env: { SSTT_CERTS_DIR: '/tmp/x-certs', SSTT_DATA_DIR: 'var-test' } });
    expect(s.paths.certs).toBe('/tmp/x-certs');
    expect(s.paths.mail).toBe(path.join(s.paths.root, 'var-test', 'mail'));
    expect(fs.existsSync(path.join(s.paths.root, 'turbo.json'))).toBe(true);
  });
});

describe('validation: one line naming source, key, expectation and value', () => {
  const PORT = 'a port number from 0 to 65535 (0 = any free port)';
  it.each([
    [{ env: { SSTT_DNS_PORT: 'abc' } }, `environment: SSTT_DNS_PORT: expected ${PORT}, found "abc"`],
    [{ env: { SSTT_HTTP_PORT: '70000' } }, `environment: SSTT_HTTP_PORT: expected ${PORT}, found 70000`],
    [{ env: { SSTT_SMTP_PORT: '-1' } }, `environment: SSTT_SMTP_PORT: expected ${PORT}, found -1`],
    [{ env: { SSTT_ID: '12' } }, 'environment: SSTT_ID: expected four digits (the last four of the DNI), found "12"'],
    [{ env: { SSTT_PROFILE: 'prod' } }, 'environment: SSTT_PROFILE: expected one of dev, lab, found "prod"'],
    [{ env: { SSTT_LISTEN: '1.2.3' } }, 'environment: SSTT_LISTEN: expected an IPv4 address such as 127.0.0.1, found "1.2.3"'],
    [{ env: { SSTT_DNS_MAP_TO_LOOPBACK: 'maybe' } }, 'environment: SSTT_DNS_MAP_TO_LOOPBACK: expected a boolean, found "maybe"'],
    [{ env: { SSTT_HTTP_IDLE_TIMEOUT: '0' } }, 'environment: SSTT_HTTP_IDLE_TIMEOUT: expected at least 1, found 0'],
    [
      { env: { SSTT_DNS_FORWARDERS: 'resolver.example' } },
      'environment: SSTT_DNS_FORWARDERS: expected an IP address, optionally with :port (IPv6 as [addr]:port), found "resolver.example"',
    ],
    [{ flags: { 'pop3-port': 'x' } }, `command line: --pop3-port: expected ${PORT}, found "x"`],
    [{ flags: { profile: 'x' } }, 'command line: --profile: expected one of dev, lab, found "x"'],
  ])('%j', (opts, line) => {
    expect(errorOf(opts as LoadOptions)).toBe(line);
  });

  it('a bad value in the file names the file and the key path', () => {
    const f1 = configFile({ ports: { dns: '5' } });
    expect(errorOf({ configFile: f1 })).toBe(`${f1}: ports.dns: expected ${PORT}, found "5"`);
    const f2 = configFile({ ports: { dnss: 5 } });
    expect(errorOf({ configFile: f2 })).toBe(
      `${f2}: ports.dnss: expected one of dns, hostdns, smtp, submission, pop3, pop3s, imap, imaps, http, https, console, found unknown key "dnss"`,
    );
    const f3 = configFile({ users: [{ name: 'X', password: 'p' }] });
    expect(errorOf({ configFile: f3 })).toBe(`${f3}: users.0.name: expected a lower-case login name (letters, digits, . _ -), found "X"`);
    const f4 = configFile({ users: [{ name: 'ana', password: '' }] });
    expect(errorOf({ configFile: f4 })).toBe(`${f4}: users.0.password: expected a text of at least 1 characters, found ""`);
    const f5 = configFile({ pki: { keySize: 1024 } });
    expect(errorOf({ configFile: f5 })).toBe(`${f5}: pki.keySize: expected one of the allowed values, found 1024`);
    const f6 = configFile({ colour: 'blue' });
    expect(errorOf({ configFile: f6 })).toMatch(
      new RegExp(`^${f6}: colour: expected one of id, profile, listen, ports, users, dns, http, mail, pki, console, paths, found unknown key "colour"$`),
    );
  });

  it('mail: postmaster is the first user unless set, and must be a user; limits override the defaults one by one', () => {
    const s = load();
    expect(s.mail.postmaster).toBe('nombre1_9721');
    expect(s.mail.limits).toEqual(MAIL_LIMITS);
    const f1 = configFile({ mail: { postmaster: 'nombre2_9721', limits: { maxConnectionsPerAddress: 5, authPenaltyMs: 10 } } });
    const s1 = load({ configFile: f1 });
    expect(s1.mail.postmaster).toBe('nombre2_9721');
    expect(s1.mail.limits).toEqual({ ...MAIL_LIMITS, maxConnectionsPerAddress: 5, authPenaltyMs: 10 });
    const f2 = configFile({ mail: { postmaster: 'root' } });
    expect(errorOf({ configFile: f2 })).toBe('configuration: mail.postmaster: expected one of the users (nombre1_9721, nombre2_9721), found "root"');
    const f3 = configFile({ mail: { limits: { maxConnections: 0 } } });
    expect(errorOf({ configFile: f3 })).toBe(`${f3}: mail.limits.maxConnections: expected a whole number from 1 to 100000, found 0`);
    const f4 = configFile({ mail: { limits: { authPenaltyMs: 1.5 } } });
    expect(errorOf({ configFile: f4 })).toBe(`${f4}: mail.limits.authPenaltyMs: expected a whole number of milliseconds from 0 to 60000, found 1.5`);
    const f5 = configFile({ mail: { limits: { maxClients: 3 } } });
    expect(errorOf({ configFile: f5 })).toMatch(
      /mail\.limits\.maxClients: expected one of maxConnections, maxConnectionsPerAddress, .*authPenaltyMaxMs, connectionRatePerSecond, connectionBurst, found unknown key "maxClients"$/,
    );
  });

  it('the connection rate of every listener: mail.limits, http.limits and dns.limits; absent, the limiter keeps its constants', () => {
    const s = load();
    for (const limits of [s.mail.limits, s.http.limits, s.dns.limits]) expect(limits).not.toHaveProperty('connectionRatePerSecond');
    const rate = { connectionRatePerSecond: 0.5, connectionBurst: 20 };
    const f = configFile({ mail: { limits: rate }, http: { limits: { connectionRatePerSecond: 0 } }, dns: { limits: rate } });
    const s1 = load({ configFile: f });
    expect(s1.mail.limits).toEqual({ ...MAIL_LIMITS, ...rate });
    expect(s1.http.limits).toEqual({ connectionRatePerSecond: 0 });
    expect(s1.dns.limits).toEqual(rate);
    const bad = configFile({ http: { limits: { connectionBurst: 0 } } });
    expect(errorOf({ configFile: bad })).toBe(`${bad}: http.limits.connectionBurst: expected a whole number from 1 to 1000000, found 0`);
  });

  it('an unreadable or broken file', () => {
    const broken = configFile('{bad json');
    expect(errorOf({ configFile: broken })).toMatch(new RegExp(`^${broken}: \\(file\\): expected valid JSON, found .*position 1`));
    // Found by fuzz/load.fuzz.ts: JSON.parse quotes the bad text, newlines and NULs included;
    // the message stays one line with them escaped.
    const controls = configFile('\n\u0000[]');
    const line = errorOf({ configFile: controls });
    expect(line).toMatch(new RegExp(`^${controls}: \\(file\\): expected valid JSON, found `));
    expect(line).not.toMatch(/[\u0000-\u001f]/);
    expect(line).toContain('\\u000a\\u0000[]');
    const missing = path.join(tmp, 'missing.json');
    expect(errorOf({ configFile: missing })).toBe(`${missing}: (file): expected a readable JSON file, found no such file`);
  });

  it('unknown and incomplete flags', () => {
    expect(() => parseCommandLine(['--dns-prt', '5'])).toThrow(
      "command line: --dns-prt: expected one of the documented flags (see --help), found Unknown option '--dns-prt'",
    );
    expect(() => parseCommandLine(['--dns-port'])).toThrow(
      "command line: --dns-port: expected one of the documented flags (see --help), found Option '--dns-port <value>' argument missing",
    );
  });

  it('an app can add its own flags and positionals', () => {
    const r = parseCommandLine(['8081', 'www', '--verbose'], { verbose: { type: 'boolean' } }, true);
    expect(r.positionals).toEqual(['8081', 'www']);
    expect(r.values.verbose).toBe(true);
  });
});
