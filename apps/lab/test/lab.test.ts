// The lab on this machine, as a user runs it (as root, as CI does): up, the commands of the
// table from cliente, the report's check, Ctrl-C; the same without IPsec, killed with SIGKILL and
// cleaned by `down`; a domain that cannot listen, named at once; and once more with swanctl.
// After each: no namespace, /etc/netns directory, process or state file of the lab is left.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renewCertificates, revokeCertificate } from '@sstt/pki';
import { readJournal } from '@sstt/events';
import { certPaths, SERVICE_TRANSPORTS, SERVICES } from '@sstt/scenario';
import { requireTool, run, tempDir } from '@sstt/testkit';
import { labContext } from '../src/lab.ts';
import { machines } from '../src/topology.ts';
import { CLI, lab, labUp, leftOver as leftOverOf, requireLabRun, stopWithCtrlC } from './helpers.ts';

const ctx = labContext();
const { s, topo } = ctx;
const tshark = requireTool('tshark');
const leftOver = () => leftOverOf(topo);

async function decode(filter: string): Promise<string[]> {
  const r = await run(tshark, ['-n', '-r', topo.capture, '-o', 'esp.enable_null_encryption_decode_heuristic:TRUE', '-Y', filter], { timeoutMs: 60_000 });
  return r.stdout.split('\n').filter(Boolean);
}

/**
 * The frames matching `filter` once dumpcap has written them. It hands frames to its file in
 * batches (the kernel's capture ring gives them up by block, dumpcap flushes every half second),
 * so frames of the last second may not be in the file yet: wait for them, within a bound.
 */
async function written(filter: string): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = await decode(filter);
    if (found.length > 0 || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  requireLabRun();
  // A lab a previous run left (it would refuse to start): remove it the documented way.
  await lab('down');
});

afterAll(async () => {
  await lab('down');
});

describe('sstt-lab', () => {
  it('without root: one line, exit 2, nothing created', async () => {
    // Uid 1000 inside a user namespace mapped onto ours: the program sees a non-root user, while
    // the checkout stays readable wherever it lives (a plain `runuser -u nobody` cannot read /root).
    // Where user namespaces cannot be made (a chroot), the same program with getuid() answering 1000.
    let r = await run(requireTool('unshare'), ['--user', '--map-user=1000', '--map-group=1000', process.execPath, CLI, 'up']);
    if (/^unshare: unshare failed/.test(r.stderr)) {
      r = await run(process.execPath, ['--import', 'data:text/javascript,process.getuid = () => 1000;', CLI, 'up']);
    }
    expect(r.stderr).toBe('sstt-lab: lab mode needs root for network namespaces: run sudo npm run lab\n');
    expect(r.code).toBe(2);
    expect(await leftOver()).toEqual([]);
  });

  it('up with IPsec (ipsec.conf): the table, the commands from cliente, the check, a second up refused, Ctrl-C', async () => {
    const u = await labUp();
    try {
      expect(u.output()).toMatch(/IPsec: ipsec\.conf \(starter\), (kernel ESP|kernel-libipsec)/);
      for (const h of machines(topo)) expect(u.output()).toContain(`${h.name.padEnd(10)}${h.address}`);
      expect((await lab('exec', 'cliente', '--', 'hostname')).stdout).toBe('cliente\n');
      expect((await lab('exec', 'servidor', '--', 'hostname')).stdout).toBe('servidor\n');
      const dig = await lab('exec', 'cliente', '--', requireTool('dig'), '+short', `www.${s.domain}`);
      expect(dig.stdout).toBe(`${s.network.server}\n`);
      const c = certPaths(s);
      const u1 = s.users[0]!;
      const u2 = s.users[1]!;
      // HTTPS by name from cliente: the status curl got, with and without the client certificate.
      const https = (...certArgs: string[]) =>
        lab(
          'exec',
          'cliente',
          '--',
          requireTool('curl'),
          '-s',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          '--cacert',
          c.ca.cert,
          ...certArgs,
          `https://www.${s.domain}/`,
        );
      const withCert = await https('--cert', c.client(u1.name).cert, '--key', c.client(u1.name).key);
      expect(withCert.stdout).toBe('200');
      const without = await https();
      expect(without.stdout).toBe('000');
      expect(without.code).not.toBe(0);
      const swaks = await lab(
        'exec',
        'cliente',
        '--',
        requireTool('swaks'),
        '--server',
        `smtp.${s.domain}`,
        '--from',
        u1.email,
        '--to',
        u2.email,
        '--header',
        'Subject: lab test',
      );
      expect(swaks.code, swaks.stdout).toBe(0);
      const pop = await lab('exec', 'cliente', '--', requireTool('curl'), '-s', '-u', `${u2.name}:${u2.password}`, `pop3://pop.${s.domain}/`);
      expect(pop.stdout).toMatch(/^1 \d+\r?\n/);

      // Thunderbird's autoconfig, as Thunderbird asks it in the lab (by name, through the zone's autoconfig CNAME).
      const auto = await lab('exec', 'cliente', '--', requireTool('curl'), '-s', `http://autoconfig.${s.domain}/mail/config-v1.1.xml`);
      expect(auto.stdout).toContain(`<hostname>pop.${s.domain}</hostname>\n      <port>${s.listen.ports.pop3}</port>`);
      expect(auto.stdout).toContain(`<hostname>smtp.${s.domain}</hostname>\n      <port>${s.listen.ports.submission}</port>`);

      const check = await lab('check');
      expect(check.stdout, check.stdout + check.stderr).toMatch(/all \d+ steps hold\n$/);
      expect(check.code).toBe(0);
      // ESP both ways, and no service packet between the two machines in clear.
      expect(check.stdout).toMatch(/ESP in both directions +PASS/);
      expect(check.stdout).toMatch(/nothing between cliente and servidor outside ESP +PASS/);
      // Each exchange's step names its session in the console (the servers' journal): the SMTP
      // step's is the session in which nombre1 sent to nombre2 from cliente.
      const events = readJournal(s.paths.events);
      const linked = (step: RegExp) =>
        check.stdout
          .split('\n')
          .find((l) => step.test(l))
          ?.match(/\(console #\/sessions\/(\S+)\)$/)?.[1];
      for (const step of [/^SMTP: /, /^POP3: /, /^HTTP GET /, /^HTTPS /]) expect(linked(step), String(step)).toBeDefined();
      const smtpSession = linked(/^SMTP: /)!;
      expect(events.find((e) => e.s === smtpSession && e.k === 'open')?.c).toMatch(new RegExp(`^${s.network.client.replaceAll('.', '\\.')}:\\d+$`));
      expect(events.some((e) => e.s === smtpSession && e.k === 'c' && String(e.x).startsWith(`MAIL FROM:<${u1.email}> BODY=8BITMIME`))).toBe(true);
      expect(events.filter((e) => e.s === smtpSession && e.k === 'c').map((e) => String(e.x).split(' ')[0])).toEqual(
        expect.arrayContaining(['EHLO', 'MAIL', 'RCPT', 'DATA', 'QUIT']),
      );

      const again = await lab('up');
      expect(again.stderr).toBe(
        `sstt-lab: a lab is already up, or one that died left ${topo.stateFile}, ${['cliente', 'exterior', 'lan', 'servidor'].map((h) => `namespace ${topo.prefix}-${h}`).join(', ')}: run npx sstt-lab down first\n`,
      );
      expect(again.code).toBe(2);
    } finally {
      expect(await stopWithCtrlC(u)).toBeLessThan(10_000);
    }
    expect(await leftOver()).toEqual([]);
  });

  it('without IPsec the services travel in clear; killed with SIGKILL, down removes everything', async () => {
    const u = await labUp('--no-ipsec');
    expect(u.output()).toContain('IPsec: off (--no-ipsec)');
    expect((await lab('exec', 'cliente', '--', requireTool('dig'), '+short', `www.${s.domain}`)).stdout).toBe(`${s.network.server}\n`);
    const clear = await written(`dns.qry.name=="www.${s.domain}" && ip.src==${s.network.client} && !esp`);
    expect(clear.length).toBeGreaterThan(0);
    expect(await decode('esp')).toEqual([]);
    u.child.kill('SIGKILL');
    await u.exited;
    expect((await leftOver()).length).toBeGreaterThan(0); // what a dead lab leaves
    const down = await lab('down');
    expect(down.stdout).toContain('lab removed');
    expect(await leftOver()).toEqual([]);
    const twice = await lab('down');
    expect(twice.stdout).toContain('nothing to remove');
  });

  it('a service that cannot listen: up names every socket that never opened, at once, and leaves nothing', async () => {
    // servidor's domain told to listen on an address servidor does not have: every app stops with
    // a configuration error, so the supervisor ends, and the wait with it.
    const tmp = tempDir('sstt-lab-');
    try {
      const config = path.join(tmp.dir, 'sstt.config.json');
      const nowhere = '10.9.9.9';
      fs.writeFileSync(config, JSON.stringify({ listen: nowhere }));
      const r = await lab('up', '--no-ipsec', '--config', config);
      // The lab's host DNS view is the DNS itself (one port): its sockets are the DNS's.
      const never = SERVICES.filter((x) => x !== 'console' && x !== 'hostdns').flatMap((x) =>
        SERVICE_TRANSPORTS[x].map((t) => `${x} (${t} ${nowhere}:${s.listen.ports[x]})`),
      );
      const log = path.relative(process.cwd(), path.join(topo.logDir, 'servidor.log'));
      expect(r.stderr).toBe(`sstt-lab: servidor: npm run dev (lab profile): ended with exit code 2 before listening on ${never.join(', ')} (log: ${log})\n`);
      expect(r.code).toBe(2);
      expect(await leftOver()).toEqual([]);
    } finally {
      tmp.remove();
    }
  });

  it("a revoked IPsec certificate keeps the tunnel down, with strongSwan's reason; nothing is left", async () => {
    await revokeCertificate(s, 'ipsec-client');
    try {
      const r = await lab('up');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^sstt-lab: the IPsec tunnel was refused: strongSwan says "[^"]*(certificate was revoked|AUTHENTICATION_FAILED)[^"]*"/);
      expect(await leftOver()).toEqual([]);
    } finally {
      await renewCertificates(s, { names: ['ipsec-client'] });
    }
  });

  it("up again with swanctl.conf (vici): the tunnel carries the client's queries, Ctrl-C leaves nothing", async () => {
    const u = await labUp('--swanctl');
    try {
      expect(u.output()).toContain('IPsec: swanctl.conf (vici)');
      expect((await lab('exec', 'cliente', '--', requireTool('dig'), '+short', `www.${s.domain}`)).stdout).toBe(`${s.network.server}\n`);
      expect((await written(`esp && ip.src==${s.network.client}`)).length).toBeGreaterThan(0);
      expect((await written(`esp && ip.src==${s.network.server}`)).length).toBeGreaterThan(0);
    } finally {
      expect(await stopWithCtrlC(u)).toBeLessThan(10_000);
    }
    expect(await leftOver()).toEqual([]);
  });
});
