// `sstt-lab up` and `down`: the lab's machines built from the topology, the domain started on
// servidor with the lab profile, the stand-in resolver on exterior, the capture of the LAN, and
// the IPsec tunnel between cliente and servidor from the generated strongSwan files; and the
// teardown from the state file.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { initPki } from '@sstt/pki';
import { CONN_NAME, generateIpsec, ipsecInstallPaths, writeInfra } from '@sstt/infra';
import { loadScenario, type HostRole, type Scenario } from '@sstt/scenario';
import { findTool, ipCmd, netnsList, netnsPids, requireTool, run, vethBetween } from '@sstt/host';
import { Host } from './host.ts';
import { OUTSIDE_ZONE, outsideZoneText } from './outside.ts';
import { readState, starttimeOf, writeState, type LabState } from './state.ts';
import { HOST_NAMES, hostsFile, labTopology, resolvConf, type HostName, type Topology } from './topology.ts';

/** A problem the user fixes (not root, leftovers, a tunnel that does not come up): one line, exit 2. */
export class LabError extends Error {}

export const LAB_TIMEOUTS = { tunnelMs: 30_000, servicesMs: 45_000, stopMs: 8_000 };

const ROLE: Partial<Record<HostName, HostRole>> = { cliente: 'client', servidor: 'server' };

export interface LabContext {
  base: Scenario;
  s: Scenario;
  topo: Topology;
  env: NodeJS.ProcessEnv;
}

/** The scenario of the lab: the user's ID and settings, the lab profile, everything under var/lab. */
export function labContext(flags: Record<string, unknown> = {}): LabContext {
  const base = loadScenario({ flags });
  const topo = labTopology(base);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SSTT_PROFILE: 'lab',
    SSTT_ID: base.id,
    SSTT_CERTS_DIR: path.join(topo.dir, 'certs'),
    SSTT_DATA_DIR: path.join(topo.dir, 'data'),
    SSTT_LOG_DIR: path.join(topo.dir, 'log'),
    SSTT_DNS_FORWARDERS: base.network.gateway,
    SSTT_LOG_FORMAT: 'json',
  };
  for (const k of Object.keys(env)) if (k.startsWith('SSTT_') && k.endsWith('_PORT')) delete env[k];
  return { base, s: loadScenario({ env, flags }), topo, env };
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new LabError('lab mode needs root for network namespaces: run sudo npm run lab');
}

/** What a lab that is up or died left: its state file, or namespaces under its prefix. */
export async function leftovers(topo: Topology): Promise<string[]> {
  const found: string[] = [];
  if (fs.existsSync(topo.stateFile)) found.push(topo.stateFile);
  for (const ns of (await netnsList()).sort()) if (ns.startsWith(`${topo.prefix}-`)) found.push(`namespace ${ns}`);
  return found;
}

/** The files strongSwan reads on a host, bind-mounted over /etc and /run there. */
function ipsecBinds(ctx: LabContext, name: HostName): Array<[string, string]> {
  const role = ROLE[name];
  if (!role) return [];
  const d = path.join(ctx.topo.dir, 'hosts', name);
  if (!fs.existsSync(path.join(d, 'run'))) return [];
  const p = ipsecInstallPaths(ctx.s, role);
  return [
    [`${d}/run`, '/run'],
    [`${d}${p.ipsecConf}`, p.ipsecConf],
    [`${d}${p.ipsecSecrets}`, p.ipsecSecrets],
    [`${d}${p.ipsecD}`, p.ipsecD],
    [`${d}/etc/swanctl`, '/etc/swanctl'],
  ];
}

export function hostOf(ctx: LabContext, name: HostName): Host {
  return new Host(ctx.topo.hosts[name], ipsecBinds(ctx, name));
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

export function strongswanConf(dir: string, plugins: 'stroke' | 'vici', libipsec: boolean): string {
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

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new LabError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface UpOptions {
  ipsec: boolean;
  variant: 'stroke' | 'vici';
  log: (line: string) => void;
}

export interface RunningLab {
  ctx: LabContext;
  state: LabState;
  stop(): Promise<void>;
}

export async function up(ctx: LabContext, opts: UpOptions): Promise<RunningLab> {
  requireRoot();
  const { s, topo } = ctx;
  const left = await leftovers(topo);
  if (left.length > 0) throw new LabError(`a lab is already up, or one that died left ${left.join(', ')}: run npx sstt-lab down first`);
  fs.mkdirSync(topo.dir, { recursive: true });
  const state: LabState = {
    prefix: topo.prefix,
    startedAt: new Date().toISOString(),
    namespaces: [],
    etcDirs: [],
    processes: [],
    ipsec: 'off',
    variant: opts.variant,
  };
  const save = () => writeState(topo.stateFile, state);
  save();
  const children: Array<{ what: string; child: ChildProcess }> = [];
  const track = (what: string, child: ChildProcess) => {
    children.push({ what, child });
    if (child.pid) state.processes.push({ pid: child.pid, starttime: starttimeOf(child.pid) ?? '', what });
    save();
    return child;
  };
  const logFile = (name: string) => {
    fs.mkdirSync(path.join(topo.dir, 'log'), { recursive: true });
    return fs.openSync(path.join(topo.dir, 'log', `${name}.log`), 'a');
  };

  try {
    // Certificates of the lab profile, and each host's strongSwan files installed by its own install.sh.
    opts.log('certificates (lab profile) in var/lab/certs');
    await initPki(s);
    if (opts.ipsec) {
      const infra = path.join(topo.dir, 'infra');
      writeInfra(generateIpsec(s), infra);
      for (const name of ['servidor', 'cliente'] as const) {
        const role = ROLE[name]!;
        const d = path.join(topo.dir, 'hosts', name);
        fs.rmSync(d, { recursive: true, force: true });
        const r = await run('sh', [path.join(infra, 'ipsec', role, 'install.sh')], {
          env: { ...process.env, DESTDIR: d, CERTS: path.join(topo.dir, 'certs') },
          cwd: s.paths.root,
        });
        if (r.code !== 0) throw new Error(`install.sh of ${name} failed: ${r.stderr}`);
        fs.mkdirSync(path.join(d, 'run'));
        fs.writeFileSync(path.join(d, 'etc/swanctl/swanctl.conf'), 'include conf.d/*.conf\n');
      }
    }

    // The machines and the LAN: nothing is created in the machine's own namespace.
    for (const ns of [topo.lanNs, ...HOST_NAMES.map((h) => topo.hosts[h].ns)]) {
      await ipCmd('netns', 'add', ns);
      state.namespaces.push(ns);
      save();
      await ipCmd('-n', ns, 'link', 'set', 'lo', 'up');
      // No IPv6 on the lab's links: no router solicitations or MLD reports in the capture.
      await run(requireTool('ip'), ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    await ipCmd('-n', topo.lanNs, 'link', 'add', topo.bridge, 'type', 'bridge');
    await ipCmd('-n', topo.lanNs, 'link', 'set', topo.bridge, 'up');
    for (const name of HOST_NAMES) {
      const h = topo.hosts[name];
      await vethBetween({ ns: h.ns, name: h.ifname }, { ns: topo.lanNs, name: h.port });
      await ipCmd('-n', topo.lanNs, 'link', 'set', h.port, 'master', topo.bridge);
      await ipCmd('-n', topo.lanNs, 'link', 'set', h.port, 'up');
      await ipCmd('-n', h.ns, 'addr', 'add', `${h.address}/${topo.prefixLength}`, 'dev', h.ifname);
      await ipCmd('-n', h.ns, 'link', 'set', h.ifname, 'up');
      const etc = path.join('/etc/netns', h.ns);
      fs.mkdirSync(etc, { recursive: true });
      state.etcDirs.push(etc);
      save();
      fs.writeFileSync(path.join(etc, 'resolv.conf'), resolvConf(s, h));
      fs.writeFileSync(path.join(etc, 'hosts'), hostsFile(s, h));
    }

    // The capture of the LAN, from the first packet.
    fs.rmSync(topo.capture, { force: true });
    const dumpcap = requireTool('dumpcap');
    track('capture', new Host({ ...topo.hosts.exterior, ns: topo.lanNs, name: 'exterior' }).spawn([dumpcap, '-q', '-i', topo.bridge, '-w', topo.capture]));
    await until('the capture to start', async () => fs.existsSync(topo.capture) && fs.statSync(topo.capture).size > 0, 10_000, 50);

    // exterior: the stand-in resolver for the outside world (our DNS app serving um.es only).
    const zoneFile = path.join(topo.dir, `db.${OUTSIDE_ZONE}`);
    fs.writeFileSync(zoneFile, outsideZoneText(s));
    const dnsMain = path.join(s.paths.root, 'apps/dns/dist/main.js');
    const devMain = path.join(s.paths.root, 'packages/dev/dist/dev.js');
    for (const f of [dnsMain, devMain]) if (!fs.existsSync(f)) throw new LabError(`${f} is missing: run npm run build (npm run lab builds it first)`);
    const exteriorLog = logFile('exterior');
    track(
      'exterior dns',
      hostOf(ctx, 'exterior').spawn([process.execPath, dnsMain, '--listen', s.network.gateway, '--dns-port', '53', '--zone', `${OUTSIDE_ZONE}=${zoneFile}`], {
        env: { ...ctx.env, SSTT_DNS_FORWARDERS: '127.0.0.1:9' },
        stdio: ['ignore', exteriorLog, exteriorLog],
      }),
    );

    // servidor: the whole domain, lab profile, standard ports.
    const serverLog = logFile('servidor');
    track(
      'servidor: npm run dev (lab profile)',
      hostOf(ctx, 'servidor').spawn([process.execPath, devMain], { env: ctx.env, stdio: ['ignore', serverLog, serverLog] }),
    );

    // The tunnel, server first (the responder), then the client, whose auto=start brings it up.
    if (opts.ipsec) {
      state.ipsec = (await kernelHasEsp(topo.lanNs)) ? 'kernel' : 'libipsec';
      save();
      for (const name of ['servidor', 'cliente'] as const) {
        const d = path.join(topo.dir, 'hosts', name);
        fs.writeFileSync(path.join(d, 'strongswan.conf'), strongswanConf(d, opts.variant, state.ipsec === 'libipsec'));
      }
      const swEnv = (name: HostName) => ({ ...process.env, STRONGSWAN_CONF: path.join(topo.dir, 'hosts', name, 'strongswan.conf') });
      if (opts.variant === 'stroke') {
        const ipsec = requireTool('ipsec');
        for (const name of ['servidor', 'cliente'] as const) {
          const r = await hostOf(ctx, name).exec([ipsec, 'start'], { env: swEnv(name) });
          if (r.code !== 0) throw new Error(`ipsec start on ${name}: ${r.stderr}`);
          if (name === 'servidor') {
            await until(
              'the server charon to load the connection',
              async () => (await hostOf(ctx, name).exec([ipsec, 'statusall'], { env: swEnv(name) })).stdout.includes(`${CONN_NAME}:`),
              15_000,
            );
          }
        }
      } else {
        const swanctl = requireTool('swanctl');
        requireTool('charon');
        for (const name of ['servidor', 'cliente'] as const) {
          const log = logFile(`charon-${name}`);
          track(`charon (${name})`, hostOf(ctx, name).spawn([findTool('charon')!], { env: swEnv(name), stdio: ['ignore', log, log] }));
          await until(
            `charon on ${name} to open its vici socket`,
            async () => (await hostOf(ctx, name).exec([swanctl, '--stats'], { env: swEnv(name) })).code === 0,
            15_000,
            100,
          );
          const r = await hostOf(ctx, name).exec([swanctl, '--load-all'], { env: swEnv(name) });
          if (r.code !== 0) throw new Error(`swanctl --load-all on ${name}: ${r.stdout}${r.stderr}`);
        }
      }
      const status = async () => {
        const cmd = opts.variant === 'stroke' ? [requireTool('ipsec'), 'statusall'] : [requireTool('swanctl'), '--list-sas'];
        return (await hostOf(ctx, 'cliente').exec(cmd, { env: swEnv('cliente') })).stdout;
      };
      // A refusal (a revoked certificate, a wrong identity) ends the wait at once, with strongSwan's reason.
      const refusal = () =>
        /[^\n]*(certificate was revoked|AUTHENTICATION_FAILED|no trusted RSA public key found|constraint check failed)[^\n]*/.exec(
          charonLog(topo, 'servidor') + charonLog(topo, 'cliente'),
        )?.[0];
      await until(
        'the IPsec tunnel between cliente and servidor',
        async () => {
          if (refusal()) throw new LabError('the IPsec tunnel was refused');
          return /INSTALLED, TUNNEL/.test(await status());
        },
        LAB_TIMEOUTS.tunnelMs,
        250,
      ).catch((err: Error) => {
        const why = refusal() ?? /[^\n]*failed[^\n]*/.exec(charonLog(topo, 'cliente'))?.[0];
        throw new LabError(`${err.message}${why ? `: strongSwan says "${why.replace(/^\S+ \S+ /, '').trim()}"` : ''} (logs: var/lab/hosts/*/charon.log)`);
      });
    }

    // Ready when the domain answers the client by name, through the server's DNS.
    const www = `www.${s.domain}`;
    await until(
      `servidor's services (log: ${path.join(topo.dir, 'log', 'servidor.log')})`,
      async () => {
        const log = fs.readFileSync(path.join(topo.dir, 'log', 'servidor.log'), 'utf8');
        if (!/web_sstt listening/.test(log) || !/"service":"pop3s"/.test(log) || !/dns listening/.test(log)) return false;
        const dig = await hostOf(ctx, 'cliente').exec([requireTool('dig'), '+short', '+time=1', '+tries=1', www]);
        return dig.stdout.trim() === s.network.server;
      },
      LAB_TIMEOUTS.servicesMs,
      250,
    );
  } catch (err) {
    await teardown(ctx, children).catch(() => undefined);
    throw err;
  }

  return { ctx, state, stop: () => teardown(ctx, children) };
}

function charonLog(topo: Topology, name: HostName): string {
  try {
    return fs.readFileSync(path.join(topo.dir, 'hosts', name, 'charon.log'), 'utf8');
  } catch {
    return '';
  }
}

/** Graceful stop of what `up` started (the domain closes its servers), then `down`. */
async function teardown(ctx: LabContext, children: Array<{ what: string; child: ChildProcess }>): Promise<void> {
  const state = readState(ctx.topo.stateFile);
  if (state?.ipsec !== 'off' && state?.variant === 'stroke') {
    for (const name of ['cliente', 'servidor'] as const)
      await hostOf(ctx, name)
        .exec([requireTool('ipsec'), 'stop'], { timeoutMs: 5_000 })
        .catch(() => undefined);
  }
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), LAB_TIMEOUTS.stopMs);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  await down(ctx);
}

/**
 * Removes what the state file says a lab created: every process in its namespaces (TERM, then
 * KILL), the recorded processes still alive with the same start time, the namespaces, the
 * /etc/netns directories, the state file. Leaves the capture, the logs and the Maildir. Idempotent.
 */
export async function down(ctx: LabContext, log: (line: string) => void = () => {}): Promise<boolean> {
  requireRoot();
  const state = readState(ctx.topo.stateFile);
  if (!state) return false;
  const victims = new Set<number>();
  for (const ns of state.namespaces) for (const pid of await netnsPids(ns)) victims.add(pid);
  for (const p of state.processes) if (starttimeOf(p.pid) === p.starttime) victims.add(p.pid);
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of victims) {
      try {
        process.kill(pid, sig);
      } catch {
        victims.delete(pid);
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + 3_000;
  while (victims.size > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    signal(0 as unknown as NodeJS.Signals);
  }
  if (victims.size > 0) signal('SIGKILL');
  const present = new Set(await netnsList());
  for (const ns of state.namespaces) {
    if (!present.has(ns)) continue;
    await ipCmd('netns', 'del', ns);
    log(`removed namespace ${ns}`);
  }
  for (const dir of state.etcDirs)
    if (dir.startsWith('/etc/netns/') && path.basename(dir).startsWith(`${state.prefix}-`)) fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(ctx.topo.stateFile, { force: true });
  return true;
}
