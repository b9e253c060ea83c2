// Who gets which certificate, with which names: the one place that decides the lab's DNs, SANs
// and key usages. The apps, the infra generators (leftid/rightid) and the tests read it here.
import { certPaths, type HostRole, type Scenario } from '@sstt/scenario';

/** One relative distinguished name attribute, in the order it appears in the DN. */
export interface DnAttr {
  /** Short name as OpenSSL and strongSwan print it. */
  short: 'C' | 'ST' | 'O' | 'OU' | 'CN' | 'GN' | 'serialNumber';
  value: string;
}

export type LeafKind = 'server' | 'client' | 'ipsec';

export interface LeafSpec {
  /** What `revoke`/`renew`/`list` call it: a user name, 'server', 'ipsec-server' or 'ipsec-client'. */
  name: string;
  kind: LeafKind;
  subject: DnAttr[];
  dns: string[];
  email: string[];
  ip: string[];
  /** extendedKeyUsage OIDs. */
  eku: string[];
  cert: string;
  key: string;
  /** PKCS#12 bundle (client certificates only). */
  p12?: string;
}

/** The organisational part shared by every DN of the lab (SCENARIO.md: C=ES, ST=Murcia, O=UMU, OU=...). */
export function labOrg(s: Scenario): DnAttr[] {
  return [
    { short: 'C', value: 'ES' },
    { short: 'ST', value: 'Murcia' },
    { short: 'O', value: 'UMU' },
    { short: 'OU', value: `Servicios Telematicos ${s.id}` },
  ];
}

export function caSubject(s: Scenario): DnAttr[] {
  return [...labOrg(s), { short: 'CN', value: `ca.${s.domain}` }];
}

export const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  /** id-kp-ipsecIKE (RFC 4945 §5.1.3.12), wanted by Windows and macOS IKEv2 peers. */
  ipsecIke: '1.3.6.1.5.5.8.2.2',
} as const;

const LOOPBACK = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] };

function fqdnOf(s: Scenario, role: HostRole): string {
  // 'servidor' and 'cliente' are the zone's names for the two machines (SCENARIO.md, DNS zone).
  const n = s.names.find((x) => x.role === role && (role === 'server' ? x.label === 'servidor' : x.label === 'cliente'));
  return n?.fqdn ?? s.names.find((x) => x.role === role)!.fqdn;
}

function hostAddress(s: Scenario, role: HostRole): string {
  return role === 'server' ? s.network.server : s.network.client;
}

/** The DN strongSwan uses as leftid/rightid for a host (its certificate subject). */
export function ipsecSubject(s: Scenario, role: HostRole): DnAttr[] {
  return [...labOrg(s), { short: 'CN', value: fqdnOf(s, role) }];
}

/** A DN in strongSwan's/OpenSSL's one-line form: "C=ES, ST=Murcia, O=UMU, OU=..., CN=...". */
export function dnString(dn: DnAttr[]): string {
  return dn.map((a) => `${a.short}=${a.value}`).join(', ');
}

/** File name (without directory) of an IPsec host certificate/key, as ipsec.d/ holds them. */
export function ipsecFileBase(s: Scenario, role: HostRole): string {
  return fqdnOf(s, role);
}

/** Every leaf certificate of the lab. */
export function leafSpecs(s: Scenario): LeafSpec[] {
  const paths = certPaths(s);
  const dev = s.profile === 'dev';
  const www = `www.${s.domain}`;
  const serverNames = [www, s.domain, ...s.names.filter((n) => n.role === 'server').map((n) => n.fqdn)];
  const server: LeafSpec = {
    name: 'server',
    kind: 'server',
    subject: [...labOrg(s), { short: 'CN', value: www }],
    dns: [...new Set([...serverNames, ...(dev ? LOOPBACK.dns : [])])],
    email: [],
    ip: [s.network.server, ...(dev ? LOOPBACK.ip : [])],
    eku: [EKU.serverAuth],
    ...paths.server,
  };
  const clients: LeafSpec[] = s.users.map((u) => ({
    name: u.name,
    kind: 'client',
    // The lab asks for the user's first name and the ID in the DN.
    subject: [...labOrg(s), { short: 'CN', value: `${u.firstName} ${s.id}` }, { short: 'GN', value: u.firstName }, { short: 'serialNumber', value: s.id }],
    dns: [],
    email: [u.email],
    ip: [],
    eku: [EKU.clientAuth, EKU.emailProtection],
    ...paths.client(u.name),
  }));
  const ipsec: LeafSpec[] = (['server', 'client'] as const).map((role) => ({
    name: `ipsec-${role}`,
    kind: 'ipsec',
    subject: ipsecSubject(s, role),
    dns: [fqdnOf(s, role)],
    email: [],
    ip: [hostAddress(s, role)],
    eku: [EKU.serverAuth, EKU.clientAuth, EKU.ipsecIke],
    ...paths.ipsec(role),
  }));
  return [server, ...clients, ...ipsec];
}

/** The names `revoke`/`renew` accept. */
export function leafNames(s: Scenario): string[] {
  return leafSpecs(s).map((l) => l.name);
}
