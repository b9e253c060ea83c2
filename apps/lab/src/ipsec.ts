// The IPsec tunnel between the topology's peers (cliente and servidor) from the generated
// strongSwan files: each peer's files installed by its own install.sh under its directory (the
// topology mounts them over /etc and /run there), charon started by the starter (ipsec.conf) or
// by hand and loaded with swanctl (swanctl.conf, vici), the responder first, and the wait until
// the initiator's auto=start has the tunnel installed, or strongSwan says why it refused it.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CONN_NAME, generateIpsec, writeInfra } from '@sstt/infra';
import type { Scenario } from '@sstt/scenario';
import { findTool, requireTool, run } from '@sstt/host';
import { hostOf } from './host.ts';
import { openLog } from './services.ts';
import type { LabRecord } from './state.ts';
import type { MachineName, Topology } from './topology.ts';
import { LabError, until } from './wait.ts';

export type IpsecVariant = 'stroke' | 'vici';

export const IPSEC_TIMEOUTS = { tunnelMs: 30_000, daemonMs: 15_000 };

/** Each peer's strongSwan files, from the generated infra/ipsec, installed under its directory. */
export async function installIpsec(s: Scenario, topo: Topology): Promise<void> {
  const infra = path.join(topo.dir, 'infra');
  writeInfra(generateIpsec(s), infra);
  for (const name of topo.ipsecPeers) {
    const h = topo.hosts[name];
    fs.rmSync(h.dir, { recursive: true, force: true });
    const r = await run('sh', [path.join(infra, 'ipsec', h.role!, 'install.sh')], {
      env: { ...process.env, DESTDIR: h.dir, CERTS: path.join(topo.dir, 'certs') },
      cwd: s.paths.root,
    });
    if (r.code !== 0) throw new Error(`install.sh of ${name} failed: ${r.stderr}`);
    fs.mkdirSync(path.join(h.dir, 'run'));
    fs.writeFileSync(path.join(h.dir, 'etc/swanctl/swanctl.conf'), 'include conf.d/*.conf\n');
  }
}

/** Whether this kernel can hold ESP states (CONFIG_INET_ESP); else strongSwan needs kernel-libipsec. */
async function kernelHasEsp(ns: string): Promise<boolean> {
  const r = await run(requireTool('ip'), [
    '-n',
    ns,
    'xfrm',
    'state',
    'add',
    'src',
    '192.0.2.1',
    'dst',
    '192.0.2.2',
    'proto',
    'esp',
    'spi',
    '0x100',
    'mode',
    'tunnel',
    'auth',
    'sha1',
    `0x${'11'.repeat(20)}`,
    'enc',
    'cipher_null',
    '',
  ]);
  await run(requireTool('ip'), ['-n', ns, 'xfrm', 'state', 'flush']);
  return r.code === 0;
}

export function strongswanConf(dir: string, plugins: IpsecVariant, libipsec: boolean): string {
  const load = [
    'random nonce openssl pem pkcs1 pkcs8 x509 revocation constraints pubkey hmac kdf sha1 sha2',
    libipsec ? 'kernel-libipsec' : '',
    'kernel-netlink socket-default updown',
    plugins,
  ];
  return [
    'charon {',
    `  load = ${load.filter(Boolean).join(' ')}`,
    `  filelog { log { path = ${dir}/charon.log\n time_format = %T\n default = 1\n flush_line = yes } }`,
    // Where the kernel has no ESP, libipsec carries it (in UDP 4500) through a TUN device; the IKE
    // and ESP sockets are marked so that strongSwan's routing table skips them.
    ...(libipsec
      ? ['  plugins {', '    kernel-libipsec { allow_peer_ts = yes }', '    kernel-netlink { fwmark = !0x42 }', '    socket-default { fwmark = 0x42 }', '  }']
      : []),
    '}',
    '',
  ].join('\n');
}

/** The environment strongSwan's programs need on a peer: its own strongswan.conf. */
function swEnv(topo: Topology, name: MachineName): NodeJS.ProcessEnv {
  return { ...process.env, STRONGSWAN_CONF: path.join(topo.hosts[name].dir, 'strongswan.conf') };
}

function charonLog(topo: Topology, name: MachineName): string {
  try {
    return fs.readFileSync(path.join(topo.hosts[name].dir, 'charon.log'), 'utf8');
  } catch {
    return '';
  }
}

/**
 * Starts strongSwan on every peer and waits for the tunnel. Returns how the kernel carries ESP.
 * `track` receives the daemons it starts itself (vici); the starter's (ipsec.conf) daemonize and
 * live in the peers' namespaces, where `down` finds them.
 */
export async function startIpsec(topo: Topology, variant: IpsecVariant, record: LabRecord, track: (what: string, child: ChildProcess) => void): Promise<void> {
  const bridge = Object.values(topo.hosts).find((h) => h.kind === 'bridge')!;
  record.state.ipsec = (await kernelHasEsp(bridge.ns)) ? 'kernel' : 'libipsec';
  record.save();
  for (const name of topo.ipsecPeers) {
    const d = topo.hosts[name].dir;
    fs.writeFileSync(path.join(d, 'strongswan.conf'), strongswanConf(d, variant, record.state.ipsec === 'libipsec'));
  }
  const [responder] = topo.ipsecPeers;
  if (variant === 'stroke') {
    const ipsec = requireTool('ipsec');
    for (const name of topo.ipsecPeers) {
      const host = hostOf(topo, name);
      const r = await host.exec([ipsec, 'start'], { env: swEnv(topo, name) });
      if (r.code !== 0) throw new Error(`ipsec start on ${name}: ${r.stderr}`);
      if (name === responder) {
        await until(
          `the ${name} charon to load the connection`,
          async () => (await host.exec([ipsec, 'statusall'], { env: swEnv(topo, name) })).stdout.includes(`${CONN_NAME}:`),
          IPSEC_TIMEOUTS.daemonMs,
        );
      }
    }
  } else {
    const swanctl = requireTool('swanctl');
    requireTool('charon');
    for (const name of topo.ipsecPeers) {
      const host = hostOf(topo, name);
      const log = openLog(path.join(topo.logDir, `charon-${name}.log`));
      track(`${name}: charon`, host.spawn([findTool('charon')!], { env: swEnv(topo, name), stdio: ['ignore', log, log] }));
      fs.closeSync(log);
      await until(
        `charon on ${name} to open its vici socket`,
        async () => (await host.exec([swanctl, '--stats'], { env: swEnv(topo, name) })).code === 0,
        IPSEC_TIMEOUTS.daemonMs,
        100,
      );
      const r = await host.exec([swanctl, '--load-all'], { env: swEnv(topo, name) });
      if (r.code !== 0) throw new Error(`swanctl --load-all on ${name}: ${r.stdout}${r.stderr}`);
    }
  }
  await tunnelUp(topo, variant);
}

/** Waits until the initiator (the last peer to start) has the tunnel installed. */
async function tunnelUp(topo: Topology, variant: IpsecVariant): Promise<void> {
  const initiator = topo.ipsecPeers[topo.ipsecPeers.length - 1]!;
  const status = async () => {
    const cmd = variant === 'stroke' ? [requireTool('ipsec'), 'statusall'] : [requireTool('swanctl'), '--list-sas'];
    return (await hostOf(topo, initiator).exec(cmd, { env: swEnv(topo, initiator) })).stdout;
  };
  const logs = () => topo.ipsecPeers.map((name) => charonLog(topo, name)).join('');
  // A refusal (a revoked certificate, a wrong identity) ends the wait at once, with strongSwan's reason.
  const refusal = () => /[^\n]*(certificate was revoked|AUTHENTICATION_FAILED|no trusted RSA public key found|constraint check failed)[^\n]*/.exec(logs())?.[0];
  await until(
    `the IPsec tunnel between ${topo.ipsecPeers.join(' and ')}`,
    async () => {
      if (refusal()) throw new LabError('the IPsec tunnel was refused');
      return /INSTALLED, TUNNEL/.test(await status());
    },
    IPSEC_TIMEOUTS.tunnelMs,
    250,
  ).catch((err: Error) => {
    const why = refusal() ?? /[^\n]*failed[^\n]*/.exec(charonLog(topo, initiator))?.[0];
    const where = path.relative(process.cwd(), path.join(topo.dir, 'hosts', '*', 'charon.log'));
    throw new LabError(`${err.message}${why ? `: strongSwan says "${why.replace(/^\S+ \S+ /, '').trim()}"` : ''} (logs: ${where})`);
  });
}

/** Stops the starter's daemons (ipsec.conf); charon started by hand (vici) stops with the lab's processes. */
export async function stopIpsec(topo: Topology, variant: IpsecVariant): Promise<void> {
  if (variant !== 'stroke') return;
  for (const name of [...topo.ipsecPeers].reverse())
    await hostOf(topo, name)
      .exec([requireTool('ipsec'), 'stop'], { timeoutMs: 5_000 })
      .catch(() => undefined);
}
