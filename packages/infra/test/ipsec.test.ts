// The generated strongSwan configuration judged by strongSwan itself: two network namespaces
// on a veth pair with the lab's client and server addresses, each machine's files installed by
// its generated install.sh below a temp dir and bind-mounted over the real /etc paths in a
// private mount namespace, a charon per namespace started by `ipsec start` (starter + stroke).
// The client's auto=start brings up the IKEv2 SA, a ping crosses the tunnel, and the capture
// on the wire shows ESP whose payload is readable (esp=null-sha1!: integrity only).
//
// This kernel has no in-kernel ESP (CONFIG_INET_ESP), so the test's strongswan.conf (not part of
// the generated files: it is this machine's fact, not the lab's) loads kernel-libipsec, which
// carries ESP in UDP 4500 (RFC 3948) from userspace.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostRole, Scenario } from '@sstt/scenario';
import { requireTool, run, tempDir } from '@sstt/testkit';
import { CONN_NAME, generateIpsec, ipsecInstallPaths } from '../src/ipsec/index.ts';
import { install, labIn, until } from './helpers.ts';

const ip = requireTool('ip');
const ipsecTool = requireTool('ipsec');
requireTool('charon');
const tcpdump = requireTool('tcpdump');
const ping = requireTool('ping');

const ROLES = ['server', 'client'] as const;

describe('strongSwan (ipsec.conf) host-to-host tunnel between two namespaces', () => {
  const tmp = tempDir('sstt-infra-ipsec-');
  const tag = `${process.pid}`;
  const ns: Record<HostRole, string> = { server: `sstt-infra-ipsec-srv-${tag}`, client: `sstt-infra-ipsec-cli-${tag}` };
  const veth: Record<HostRole, string> = { server: `vsis${tag}`.slice(0, 15), client: `vsic${tag}`.slice(0, 15) };
  let s: Scenario;
  let dirs: Record<HostRole, string>;
  let capture: ChildProcess | undefined;
  const pcap = path.join(tmp.dir, 'wire.pcap');
  const addr = (role: HostRole) => (role === 'server' ? s.network.server : s.network.client);

  /** Runs a command in the role's namespace with its installed /etc files and a private /run. */
  const inNs = (role: HostRole, cmd: string[], timeoutMs = 20_000) => {
    const d = dirs[role];
    const p = ipsecInstallPaths(s, role);
    const binds = [
      [`${d}/run`, '/run'],
      [`${d}${p.ipsecConf}`, p.ipsecConf],
      [`${d}${p.ipsecSecrets}`, p.ipsecSecrets],
      [`${d}${p.ipsecD}`, p.ipsecD],
    ];
    const script = `${binds.map(([from, to]) => `mount --bind '${from}' '${to}'`).join(' && ')} && exec "$@"`;
    return run(ip, ['netns', 'exec', ns[role], 'unshare', '-m', 'sh', '-c', script, 'in-ns', ...cmd], {
      env: { ...process.env, STRONGSWAN_CONF: `${d}/strongswan.conf` },
      timeoutMs,
    });
  };

  beforeAll(async () => {
    let infra: string;
    let certs: string;
    ({ s, infra, certs } = await labIn(tmp.dir, generateIpsec));
    dirs = { server: path.join(tmp.dir, 'server'), client: path.join(tmp.dir, 'client') };
    for (const role of ROLES) {
      const d = dirs[role];
      await install(path.join(infra, 'ipsec', role, 'install.sh'), d, certs, s.paths.root);
      fs.mkdirSync(path.join(d, 'run'));
      fs.writeFileSync(
        path.join(d, 'strongswan.conf'),
        [
          'charon {',
          '  load = random nonce openssl pem pkcs1 pkcs8 x509 revocation constraints pubkey hmac kdf sha1 sha2 kernel-libipsec kernel-netlink socket-default stroke updown',
          `  filelog { log { path = ${d}/charon.log\n time_format = %T\n default = 1\n flush_line = yes } }`,
          '  plugins {',
          // libipsec routes the peer into its TUN device; IKE/ESP sockets are marked so that
          // strongSwan's routing table skips them.
          '    kernel-libipsec { allow_peer_ts = yes }',
          '    kernel-netlink { fwmark = !0x42 }',
          '    socket-default { fwmark = 0x42 }',
          '  }',
          '}',
          '',
        ].join('\n'),
      );
    }
    const sh = async (...args: string[]) => {
      const r = await run(ip, args);
      if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    };
    for (const role of ROLES) await sh('netns', 'add', ns[role]);
    await sh('link', 'add', veth.client, 'type', 'veth', 'peer', 'name', veth.server);
    for (const role of ROLES) {
      await sh('link', 'set', veth[role], 'netns', ns[role]);
      await sh('-n', ns[role], 'addr', 'add', `${addr(role)}/${s.network.lan.split('/')[1]}`, 'dev', veth[role]);
      await sh('-n', ns[role], 'link', 'set', veth[role], 'up');
      await sh('-n', ns[role], 'link', 'set', 'lo', 'up');
    }
    // Capture everything on the server's side of the wire.
    capture = spawn(ip, ['netns', 'exec', ns.server, tcpdump, '-n', '-U', '--immediate-mode', '-i', veth.server, '-w', pcap, 'ip'], { stdio: 'ignore' });
    await until('tcpdump to open the capture', async () => fs.existsSync(pcap) && fs.statSync(pcap).size > 0, 10_000, 50);
  });

  afterAll(async () => {
    for (const role of ROLES) if (dirs) await inNs(role, [ipsecTool, 'stop'], 15_000).catch(() => undefined);
    capture?.kill('SIGTERM');
    for (const role of ROLES) await run(ip, ['netns', 'del', ns[role]]);
    tmp.remove();
  });

  it('the generated ipsec.conf has the lab\'s conn %default and conn host-host, left/right swapped', () => {
    const server = fs.readFileSync(path.join(dirs.server, 'etc/ipsec.conf'), 'utf8');
    const client = fs.readFileSync(path.join(dirs.client, 'etc/ipsec.conf'), 'utf8');
    for (const line of ['ikelifetime=60m', 'keylife=20m', 'rekeymargin=3m', 'keyingtries=1', 'mobike=no', 'keyexchange=ikev2', 'authby=pubkey', 'esp=null-sha1!', 'type=tunnel']) {
      expect(server).toContain(`    ${line}\n`);
      expect(client).toContain(`    ${line}\n`);
    }
    expect(server).toContain(`    left=${s.network.server}\n    leftcert=${ipsecInstallPaths(s, 'server').certName}\n`);
    expect(client).toContain(`    left=${s.network.client}\n`);
    expect(client).toContain('    auto=start\n');
    expect(fs.readFileSync(path.join(dirs.server, 'etc/ipsec.secrets'), 'utf8')).toContain(`: RSA ${ipsecInstallPaths(s, 'server').keyName}\n`);
    expect(fs.statSync(path.join(dirs.server, ipsecInstallPaths(s, 'server').key)).mode & 0o777).toBe(0o600);
  });

  it('the IKEv2 SA comes up, a ping crosses, and the wire shows readable ESP', async () => {
    // The responder first: once its stroke socket answers, the client's auto=start can reach it.
    let r = await inNs('server', [ipsecTool, 'start']);
    expect(r.code, r.stderr).toBe(0);
    await until('the server charon to load the connection', async () => (await inNs('server', [ipsecTool, 'statusall'])).stdout.includes(`${CONN_NAME}:`));
    r = await inNs('client', [ipsecTool, 'start']);
    expect(r.code, r.stderr).toBe(0);
    let status = '';
    await until(
      'the client to install the CHILD_SA',
      async () => {
        status = (await inNs('client', [ipsecTool, 'statusall'])).stdout;
        return /INSTALLED, TUNNEL/.test(status);
      },
      30_000,
      250,
    ).catch((err: Error) => {
      const tail = (role: HostRole) => fs.readFileSync(path.join(dirs[role], 'charon.log'), 'utf8').slice(-2500);
      throw new Error(`${err.message}\n${status}\n--- client charon.log\n${tail('client')}\n--- server charon.log\n${tail('server')}`);
    });
    expect(status).toMatch(new RegExp(`${CONN_NAME}\\[\\d+\\]: ESTABLISHED .*${s.network.client}\\[C=ES, ST=Murcia, O=UMU, OU=[^\\]]*CN=cliente\\.${s.domain.replace(/\./g, '\\.')}\\]\\.\\.\\.${s.network.server}\\[[^\\]]*CN=servidor`));
    expect(status).toContain('IKEv2');
    // The CHILD_SA uses the NULL cipher with HMAC-SHA1-96 (strongSwan prints NULL/HMAC_SHA1_96).
    expect(status).toMatch(/NULL\/HMAC_SHA1_96/);

    // A ping whose payload pattern we can look for in the capture.
    const pattern = Buffer.from(`SSTT${s.id}`).toString('hex');
    const p = await run(ip, ['netns', 'exec', ns.client, ping, '-c', '3', '-W', '2', '-p', pattern, s.network.server]);
    expect(p.stdout, p.stderr).toContain('3 packets transmitted, 3 received');

    // Let tcpdump flush (-U writes each packet as it arrives), then read the capture.
    capture?.kill('SIGTERM');
    await new Promise<void>((resolve) => (capture?.exitCode !== null ? resolve() : capture.once('exit', () => resolve())));
    const decoded = await run(tcpdump, ['-n', '-r', pcap]);
    const esp = decoded.stdout.split('\n').filter((l) => /UDP-encap: ESP\(spi=0x[0-9a-f]+,seq=0x[0-9a-f]+\)/.test(l));
    const plainIcmp = decoded.stdout.split('\n').filter((l) => /ICMP echo/.test(l));
    expect(esp.length, decoded.stdout).toBeGreaterThanOrEqual(6); // 3 requests + 3 replies
    expect(plainIcmp).toEqual([]);
    // Integrity only: the ping payload travels in clear inside ESP.
    const raw = fs.readFileSync(pcap);
    expect(raw.includes(Buffer.from(pattern.repeat(4), 'hex'))).toBe(true);
  });
});
