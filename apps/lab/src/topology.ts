// The lab on one machine as data, derived from the scenario (as Kathará's lab.conf or
// containerlab's topology file describe a lab): its hosts with their kind (a machine, or the
// bridge that is the LAN's cable), role and address; the links between them; the files each host
// mounts; and the processes each one runs with the sockets they open. The namespaces and
// /etc/netns directories are named from the scenario's ID, the files from the lab's directory
// (var/lab/<ID> unless told): keyed by the ID too, so two labs share no name. `up`
// builds from this value, the table is rendered from it, `down` reads the state file of what was
// built.
import path from 'node:path';
import { ipsecInstallPaths } from '@sstt/infra';
import { type HostRole, type Scenario, type Service, SERVICE_TRANSPORTS, SERVICES, type ServiceSocket, serviceRows, serviceSockets } from '@sstt/scenario';
import { OUTSIDE_MX, OUTSIDE_ZONE, outsideZoneText } from './outside.ts';
import { referenceServer } from './reference.ts';

/** The lab's machines, the names `sstt-lab exec` takes. */
export const MACHINES = ['cliente', 'servidor', 'exterior'] as const;
export type MachineName = (typeof MACHINES)[number];
/** Every host: the machines and the LAN's bridge. */
export type HostName = MachineName | 'lan';

/** A bind mount every command on a host sees, when its source exists (IPsec's files exist only when IPsec is on). */
export interface Mount {
  source: string;
  target: string;
}

export interface LabHost {
  name: HostName;
  /** A machine (an address, a host name, /etc files of its own) or a bridge (the LAN's cable). */
  kind: 'host' | 'bridge';
  /** What it stands for. */
  about: string;
  /** Which machine of the scenario it is (its zone names, its IPsec files). */
  role?: HostRole;
  /** Its address on the LAN (machines). */
  address?: string;
  /** Its network namespace: `<prefix>-<name>`. */
  ns: string;
  /** The bridge device inside its namespace (bridges). */
  bridge?: string;
  /** Its own files: /etc/netns/<ns>/ (which `ip netns exec` mounts over /etc), by name. */
  etc: Record<string, string>;
  /** Where this host's files live under the lab's directory (its strongSwan install). */
  dir: string;
  mounts: Mount[];
}

/** One end of a link: an interface in a host's namespace; on a bridge host, a port of its bridge. */
export interface LinkEnd {
  host: HostName;
  ifname: string;
  /** Address with prefix length, on machines' ends. */
  address?: string;
}

/** A veth pair between two hosts. */
export interface LabLink {
  a: LinkEnd;
  b: LinkEnd;
}

export interface LabProcess {
  /** `<host>: <what>`, as the state file, the logs and errors name it. */
  name: string;
  host: HostName;
  /** A bare program name is looked up as a Debian tool when it starts. */
  argv: string[];
  /** Added to the lab's environment (labEnv) for this process. */
  env: Record<string, string>;
  /** Files written before it starts (path -> text): its configuration. */
  files: Record<string, string>;
  /** Files that must exist before it starts (the apps' bundles, which npm run build makes). */
  requires: string[];
  /** Commands run on this machine (not in the lab) after its files are written, before it starts: its installation. */
  prepare?: string[][];
  /** Commands run on its own host after `prepare`, seeing that host's /etc and mounts as the process will. */
  setup?: string[][];
  /** Its output goes to this file; without one, nowhere. */
  log?: string;
  /** What the table says runs there. */
  summary: string;
  /** When it is ready: every socket it opens listens... */
  sockets: ServiceSocket[];
  /** ...or, for one that opens none, the file it writes holds something (the capture). */
  writes?: string;
}

export interface Topology {
  id: string;
  /** Every namespace and /etc/netns directory of this lab is named under this prefix. */
  prefix: string;
  /** In the order `up` creates them; the machines first in the table's order. */
  hosts: Record<HostName, LabHost>;
  links: LabLink[];
  /** In the order `up` starts them: the capture first, to see every packet of the others. */
  processes: LabProcess[];
  /** The IPsec peers in the order they start: the responder first, then the initiator (auto=start). */
  ipsecPeers: MachineName[];
  /** The lab's directory: the state file, certificates, Maildir, logs, the capture. */
  dir: string;
  /** Where the processes' logs go (SSTT_LOG_DIR of labEnv too). */
  logDir: string;
  stateFile: string;
  capture: string;
  /** Where the outside MX on exterior keeps the mail it receives (outside-mx.ts). */
  outsideMail: string;
  /** servidor runs the reference programs (`--reference`). */
  reference: boolean;
}

/**
 * The lab's directory by default: one per student ID (var/lab/<ID>), so labs of two IDs keep their
 * state, certificates (a CA per domain: its name constraints are the domain's), data and capture
 * apart and run side by side.
 */
export function labDir(s: Scenario): string {
  return path.join(s.paths.root, 'var', 'lab', s.id);
}

const logDirOf = (dir: string) => path.join(dir, 'log');

/** The outside world's resolver answers where every resolver does (RFC 1035 §4.2). */
const DNS_PORT = 53;
/** And its MX where every MX does (RFC 5321 §4.5.4.2). */
const SMTP_PORT = 25;

/** What every process of the lab sees beside the user's environment: the lab profile, the ID, the lab's directories. */
export function labEnv(s: Scenario, dir: string = labDir(s)): Record<string, string> {
  return {
    SSTT_PROFILE: 'lab',
    SSTT_ID: s.id,
    SSTT_CERTS_DIR: path.join(dir, 'certs'),
    SSTT_DATA_DIR: path.join(dir, 'data'),
    SSTT_LOG_DIR: logDirOf(dir),
    SSTT_DNS_FORWARDERS: s.network.gateway,
    // Our mail app relays by a smarthost only (apps/mail smtp-outbound.ts), not by MX lookup:
    // the gateway is where the MX of the one domain the LAN relays to (um.es) points.
    SSTT_MAIL_SMARTHOST: s.network.gateway,
    SSTT_LOG_FORMAT: 'json',
  };
}

/** The services servidor runs: the lab report's, and the console when it has a password (the lab profile's console needs one). */
function serverServices(s: Scenario): Service[] {
  return SERVICES.filter((x) => x !== 'console' || s.console.password !== undefined);
}

/** The lab of a lab-profile scenario; `dir` is the lab's directory (var/lab/<ID> unless told). */
export function labTopology(s: Scenario, opts: { dir?: string; reference?: boolean } = {}): Topology {
  const prefix = `sstt${s.id}`;
  const dir = opts.dir ?? labDir(s);
  const prefixLength = Number(s.network.lan.split('/')[1]);
  const logDir = logDirOf(dir);
  const logFile = (name: string) => path.join(logDir, `${name}.log`);
  const bundle = (rel: string) => path.join(s.paths.root, rel);

  const host = (name: HostName, kind: LabHost['kind'], about: string, extra: Partial<LabHost> = {}): LabHost => ({
    name,
    kind,
    about,
    ns: `${prefix}-${name}`,
    etc: {},
    dir: path.join(dir, 'hosts', name),
    mounts: [],
    ...extra,
  });
  const machine = (name: MachineName, about: string, address: string, role?: HostRole): LabHost => {
    const h = host(name, 'host', about, { address, ...(role ? { role } : {}) });
    h.etc = { 'resolv.conf': resolvConf(s, h), hosts: hostsFile(s, h) };
    if (role) h.mounts = ipsecMounts(s, role, h.dir);
    return h;
  };
  const hosts: Record<HostName, LabHost> = {
    cliente: machine('cliente', `the student's machine (resolv.conf: nameserver ${s.network.server}, search ${s.domain})`, s.network.client, 'client'),
    servidor: machine('servidor', 'every service of the domain', s.network.server, 'server'),
    exterior: machine('exterior', 'the outside world', s.network.gateway),
    lan: host('lan', 'bridge', 'the LAN: the cable every frame between the machines crosses, captured', { bridge: 'lan' }),
  };
  // Each machine's eth0 is plugged into a port of the bridge named after the machine.
  const links: LabLink[] = MACHINES.map((name) => ({
    a: { host: name, ifname: 'eth0', address: `${hosts[name].address}/${prefixLength}` },
    b: { host: 'lan', ifname: name },
  }));

  const capture = path.join(dir, 'lan.pcapng');
  const zoneFile = path.join(dir, `db.${OUTSIDE_ZONE}`);
  const dnsMain = bundle('apps/dns/dist/main.js');
  const devMain = bundle('packages/dev/dist/dev.js');
  const mxMain = bundle('apps/lab/dist/outside-mx.js');
  const outsideMail = path.join(hosts.exterior.dir, 'mx');
  const rows = serviceRows(s);
  const services = serverServices(s);
  const ref = opts.reference ? referenceServer(s, hosts.servidor.dir, logFile) : undefined;
  if (ref) {
    hosts.servidor.etc = { ...hosts.servidor.etc, ...ref.etc };
    hosts.servidor.mounts = [...hosts.servidor.mounts, ...ref.mounts];
  }
  const httpMain = bundle('apps/http/dist/main.js');
  const domain: LabProcess[] = ref
    ? [
        ...ref.processes,
        {
          // web_sstt's role: the report's plain HTTP trace (its cookie counter) is the student's
          // program, which sstt's apps/http stands for; HTTPS is Apache's.
          name: 'servidor: web_sstt (sstt apps/http, plain HTTP)',
          host: 'servidor',
          argv: [process.execPath, httpMain, '--no-https', '--listen', s.network.server, '--http-port', String(s.listen.ports.http)],
          env: {},
          files: {},
          requires: [httpMain],
          log: logFile('web_sstt'),
          summary: `web_sstt (sstt) :${s.listen.ports.http}`,
          sockets: [{ service: 'http', transport: 'tcp', address: s.network.server, port: s.listen.ports.http }],
        },
      ]
    : [
        {
          name: 'servidor: npm run dev (lab profile)',
          host: 'servidor',
          argv: [process.execPath, devMain],
          env: {},
          files: {},
          requires: [devMain],
          log: logFile('servidor'),
          summary: rows
            .filter((r) => services.includes(r.service))
            .map((r) => `${r.label} :${r.port}`)
            .join(', '),
          sockets: serviceSockets(s, services),
        },
      ];
  const processes: LabProcess[] = [
    {
      name: 'lan: capture',
      host: 'lan',
      argv: ['dumpcap', '-q', '-i', hosts.lan.bridge!, '-w', capture],
      env: {},
      files: {},
      requires: [],
      summary: `dumpcap -> ${path.relative(s.paths.root, capture)}`,
      sockets: [],
      writes: capture,
    },
    {
      name: 'exterior: dns',
      host: 'exterior',
      argv: [process.execPath, dnsMain, '--listen', s.network.gateway, '--dns-port', String(DNS_PORT), '--zone', `${OUTSIDE_ZONE}=${zoneFile}`],
      // It answers its own zone and forwards nothing (port 9 is discard): it is the end of the line.
      env: { SSTT_DNS_FORWARDERS: '127.0.0.1:9' },
      files: { [zoneFile]: outsideZoneText(s) },
      requires: [dnsMain],
      log: logFile('exterior'),
      summary: 'a resolver for the names outside the domain (the DNS of servidor forwards there)',
      sockets: SERVICE_TRANSPORTS.dns.map((transport) => ({ service: 'dns', transport, address: s.network.gateway, port: DNS_PORT })),
    },
    {
      name: 'exterior: mx',
      host: 'exterior',
      argv: [
        process.execPath,
        mxMain,
        JSON.stringify({ address: s.network.gateway, port: SMTP_PORT, domain: OUTSIDE_ZONE, dir: outsideMail, hostname: OUTSIDE_MX }),
      ],
      env: {},
      files: {},
      requires: [mxMain],
      log: logFile('exterior-mx'),
      summary: `the MX of ${OUTSIDE_ZONE} (servidor relays there; what it receives: ${path.relative(s.paths.root, outsideMail)})`,
      sockets: [{ service: 'smtp', transport: 'tcp', address: s.network.gateway, port: SMTP_PORT }],
    },
    ...domain,
  ];

  return {
    id: s.id,
    prefix,
    hosts,
    links,
    processes,
    ipsecPeers: ['servidor', 'cliente'],
    dir,
    logDir,
    stateFile: path.join(dir, 'state.json'),
    capture,
    outsideMail,
    reference: ref !== undefined,
  };
}

/** The files strongSwan reads on a machine, installed under its directory and bind-mounted over /etc and /run there. */
function ipsecMounts(s: Scenario, role: HostRole, d: string): Mount[] {
  const p = ipsecInstallPaths(s, role);
  return [{ source: `${d}/run`, target: '/run' }, ...[p.ipsecConf, p.ipsecSecrets, p.ipsecD, '/etc/swanctl'].map((f) => ({ source: `${d}${f}`, target: f }))];
}

/** The machines of a topology, in the table's order. */
export function machines(topo: Topology): LabHost[] {
  return Object.values(topo.hosts).filter((h) => h.kind === 'host');
}

/** Host names and the names of the zone that point at them, for each host's /etc/hosts. */
export function hostsFile(s: Scenario, h: Pick<LabHost, 'name' | 'address'>): string {
  const fqdn = s.names.find((n) => n.address === h.address && n.label === h.name)?.fqdn;
  return [`127.0.0.1\tlocalhost`, `${h.address}\t${fqdn ? `${fqdn} ` : ''}${h.name}`, ''].join('\n');
}

/** Each host's /etc/resolv.conf: the client and the server ask the domain's DNS, as in the report. */
export function resolvConf(s: Scenario, h: Pick<LabHost, 'name'>): string {
  if (h.name === 'exterior') return 'nameserver 127.0.0.1\n';
  return `nameserver ${s.network.server}\nsearch ${s.domain}\n`;
}
