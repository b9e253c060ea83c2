// The CA's name constraints (RFC 5280 §4.2.1.10): trusting the lab's CA in a browser must not let
// it vouch for any other site. Permitted subtrees: the lab's domain (DNS names and mailboxes at it)
// and the LAN's addresses, plus loopback for the dev profile. node-forge parses this extension but
// cannot build it, so the DER is assembled here with forge.asn1.
import net from 'node:net';
import forge from 'node-forge';
import type { Scenario } from '@sstt/scenario';

const { asn1 } = forge;

export interface NameConstraints {
  /** DNS subtrees: the name itself and everything below it. */
  dns: string[];
  /** rfc822Name subtrees given as a host: any mailbox at that host (RFC 5280 §4.2.1.10). */
  email: string[];
  /** CIDR blocks, IPv4 or IPv6. */
  ip: string[];
}

/** The constraints the lab's CA carries for this scenario. */
export function constraintsFor(s: Scenario): NameConstraints {
  const dev = s.profile === 'dev';
  return {
    dns: dev ? [s.domain, 'localhost'] : [s.domain],
    email: [s.domain],
    ip: dev ? [s.network.lan, '127.0.0.0/8', '::1/128'] : [s.network.lan],
  };
}

/** GeneralName tags (RFC 5280 §4.2.1.6). */
const GN = { rfc822Name: 1, dNSName: 2, iPAddress: 7 } as const;

function cidrBytes(cidr: string): { addr: Buffer; mask: Buffer } {
  const [ip, lenText] = cidr.split('/');
  const v = net.isIP(ip!);
  if (!v) throw new Error(`not an IP block: ${cidr}`);
  const addr = ipBytes(ip!);
  const bits = lenText === undefined ? addr.length * 8 : Number(lenText);
  const mask = Buffer.alloc(addr.length);
  for (let i = 0; i < addr.length; i++) {
    const rem = bits - i * 8;
    mask[i] = rem >= 8 ? 0xff : rem <= 0 ? 0 : (0xff << (8 - rem)) & 0xff;
  }
  for (let i = 0; i < addr.length; i++) addr[i]! &= mask[i]!;
  return { addr, mask };
}

/** Network-order bytes of an IPv4 or IPv6 address. */
export function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!net.isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const parts = (s: string | undefined) => (s ? s.split(':') : []);
  const h = parts(head);
  const t = parts(tail);
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(parseInt(g, 16), i * 2);
  });
  return out;
}

/** The extension value: NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees }. */
export function nameConstraintsAsn1(c: NameConstraints): forge.asn1.Asn1 {
  const subtree = (tag: number, bytes: string) =>
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, false, bytes)]);
  const subtrees = [
    ...c.dns.map((d) => subtree(GN.dNSName, d)),
    ...c.email.map((e) => subtree(GN.rfc822Name, e)),
    ...c.ip.map((cidr) => {
      const { addr, mask } = cidrBytes(cidr);
      return subtree(GN.iPAddress, Buffer.concat([addr, mask]).toString('binary'));
    }),
  ];
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, subtrees)]);
}

export interface SubjectNames {
  dns: string[];
  email: string[];
  ip: string[];
}

function dnsWithin(name: string, base: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  const b = base.toLowerCase().replace(/^\./, '');
  return n === b || n.endsWith(`.${b}`);
}

function ipWithin(ip: string, cidr: string): boolean {
  const a = ipBytes(ip);
  const { addr, mask } = cidrBytes(cidr);
  if (a.length !== addr.length) return false;
  return a.every((byte, i) => (byte & mask[i]!) === addr[i]);
}

/** The names of a would-be certificate that fall outside the constraints (empty: it may be issued). */
export function outsideConstraints(names: SubjectNames, c: NameConstraints): string[] {
  const bad: string[] = [];
  for (const d of names.dns) if (!c.dns.some((b) => dnsWithin(d, b))) bad.push(`DNS:${d}`);
  for (const e of names.email) {
    const host = e.split('@').pop() ?? '';
    if (!c.email.some((b) => host.toLowerCase() === b.toLowerCase())) bad.push(`email:${e}`);
  }
  for (const ip of names.ip) if (!c.ip.some((b) => ipWithin(ip, b))) bad.push(`IP:${ip}`);
  return bad;
}

/** Reads the constraints back from a CA certificate (forge parses the extension). */
export function constraintsOf(ca: forge.pki.Certificate): NameConstraints | undefined {
  const ext = (ca.extensions as Array<{ id: string; value: string | forge.asn1.Asn1 }>).find((e) => e.id === '2.5.29.30');
  if (!ext) return undefined;
  // A certificate read from PEM holds the DER bytes; one just built holds the ASN.1 object.
  const seq = typeof ext.value === 'string' ? asn1.fromDer(ext.value) : ext.value;
  const out: NameConstraints = { dns: [], email: [], ip: [] };
  const permitted = (seq.value as forge.asn1.Asn1[]).find((v) => v.tagClass === asn1.Class.CONTEXT_SPECIFIC && v.type === 0);
  for (const st of (permitted?.value as forge.asn1.Asn1[] | undefined) ?? []) {
    const base = (st.value as forge.asn1.Asn1[])[0]!;
    const bytes = base.value as string;
    if (base.type === GN.dNSName) out.dns.push(bytes);
    else if (base.type === GN.rfc822Name) out.email.push(bytes);
    else if (base.type === GN.iPAddress) {
      const buf = Buffer.from(bytes, 'binary');
      const half = buf.length / 2;
      const addr = buf.subarray(0, half);
      const mask = buf.subarray(half);
      const len = [...mask].reduce((n, b) => n + b.toString(2).replace(/0/g, '').length, 0);
      const text = half === 4 ? [...addr].join('.') : formatV6(addr);
      out.ip.push(`${text}/${len}`);
    }
  }
  return out;
}

function formatV6(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}
