// The domain's zones as data: the records the scenario implies (SCENARIO.md, "DNS zone"), typed,
// before any of them is text. Three readers and no parser between them: packages/infra renders
// them as BIND master files, apps/dns builds its answers from them, the console lists them. A
// record the domain gains (the SPF, DKIM and DMARC TXT records of mail authentication) is added
// here once, and all three show it.
import crypto from 'node:crypto';
import { dkimRecordName, dkimRecordText, dmarcRecordText, spfRecordText, txtStrings } from './mail-auth.ts';
import type { Scenario } from './scenario.ts';

/** Default TTL of every record ($TTL, RFC 2308 §4). */
export const ZONE_TTL = 3600;

/**
 * SOA timers (RFC 1035 §3.3.13, RFC 1912 §2.2). The last field is the negative-caching TTL of
 * RFC 2308 §4: kept short so that a name added during the lab is not hidden by a cached NXDOMAIN.
 */
export const SOA_TIMERS = { refresh: 3600, retry: 900, expire: 604800, minimum: 300 } as const;

/** The RDATA of each type the zones hold, by field (RFC 1035 §3.3, RFC 2782 for SRV). Names are absolute, without the final dot. */
export type Rdata =
  | { type: 'SOA'; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { type: 'NS'; host: string }
  | { type: 'A'; address: string }
  | { type: 'MX'; preference: number; exchange: string }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { type: 'CNAME'; target: string }
  | { type: 'PTR'; target: string }
  /** Each string is one <character-string> (RFC 1035 §3.3.14): at most 255 octets (latin1). */
  | { type: 'TXT'; strings: string[] };

/** One resource record: its owner (absolute, no final dot), TTL and RDATA. */
export type ResourceRecord = {
  name: string;
  ttl: number;
  /** Why the record is there; the master file writes it as a comment above the record. Not data: the serial ignores it. */
  comment?: string;
} & Rdata;

export type SoaRecord = ResourceRecord & { type: 'SOA' };

export interface ZoneData {
  /** Apex, without the final dot. */
  origin: string;
  /** The $TTL of the master file. */
  ttl: number;
  /** The SOA first, then the rest in the order the master file lists them and the answers keep. */
  records: [SoaRecord, ...ResourceRecord[]];
}

/** The scenario's zones: the domain's forward zone, and the reverse zone of the LAN (RFC 1035 §3.5). */
export function scenarioZones(s: Scenario): ZoneData[] {
  return [forwardZone(s), reverseZone(s)];
}

/** The zone's SOA record (always the first). */
export const soaOf = (z: ZoneData): SoaRecord => z.records[0];

/** A record of the zones, with the zones' TTL. */
const rr = (name: string, rdata: Rdata, comment?: string): ResourceRecord => ({ name, ttl: ZONE_TTL, ...rdata, ...(comment ? { comment } : {}) });

function forwardZone(s: Scenario): ZoneData {
  const d = s.domain;
  const host = (label: string) => s.names.find((n) => n.label === label)?.fqdn ?? s.dns.nameServer;
  const p = s.listen.ports;
  return withSerial(d, [
    ...apex(s, d),
    rr(d, { type: 'MX', preference: s.dns.mx.preference, exchange: s.dns.mx.exchange }),
    rr(d, { type: 'TXT', strings: txtStrings(spfRecordText(s)) }, 'SPF (RFC 7208): the MX and the networks we relay for send as the domain, nobody else'),
    ...s.names.map((n, i) => rr(n.fqdn, { type: 'A', address: n.address }, i === 0 ? 'hosts of the lab (SCENARIO.md, "DNS zone")' : undefined)),
    rr(
      `_submission._tcp.${d}`,
      { type: 'SRV', priority: 0, weight: 1, port: p.submission, target: host('smtp') },
      'mail client configuration: service records of RFC 6186 §3 (priority weight port target)',
    ),
    rr(`_imap._tcp.${d}`, { type: 'SRV', priority: 0, weight: 1, port: p.imap, target: host('mail') }),
    rr(`_imaps._tcp.${d}`, { type: 'SRV', priority: 0, weight: 1, port: p.imaps, target: host('mail') }),
    // RFC 6186 §3.4: a lower priority is preferred; IMAP (0) comes before POP3 (10).
    rr(`_pop3._tcp.${d}`, { type: 'SRV', priority: 10, weight: 1, port: p.pop3, target: host('pop') }),
    rr(`_pop3s._tcp.${d}`, { type: 'SRV', priority: 10, weight: 1, port: p.pop3s, target: host('pop') }),
    rr(`autoconfig.${d}`, { type: 'CNAME', target: host('www') }, 'Thunderbird looks up http://autoconfig.<domain>/mail/config-v1.1.xml'),
    // A key the pki has not minted yet has no record: a verifier then finds no key (RFC 6376
    // §6.1.2, permerror), the truth; an empty p= would claim the key was revoked (§3.6.1).
    ...s.mail.auth.dkim
      .filter((k): k is typeof k & { publicKey: string } => k.publicKey !== undefined)
      .map((k, i) =>
        rr(
          dkimRecordName(s, k.selector),
          { type: 'TXT', strings: txtStrings(dkimRecordText(k)) },
          i === 0 ? 'DKIM keys (RFC 6376 §3.6.1; Ed25519: RFC 8463), one per selector; minted by the pki in certs/dkim' : undefined,
        ),
      ),
    rr(`_dmarc.${d}`, { type: 'TXT', strings: txtStrings(dmarcRecordText(s)) }, 'DMARC (RFC 7489 §6.3): the policy for mail whose From is the domain'),
  ]);
}

function reverseZone(s: Scenario): ZoneData {
  const origin = s.network.reverseZone;
  const hosts = [
    { address: s.network.server, label: 'servidor' },
    { address: s.network.client, label: 'cliente' },
  ];
  return withSerial(origin, [
    ...apex(s, origin),
    ...hosts.map((h, i) =>
      rr(
        `${h.address.split('.').at(-1)}.${origin}`,
        { type: 'PTR', target: s.names.find((n) => n.label === h.label)?.fqdn ?? `${h.label}.${s.domain}` },
        i === 0 ? 'one PTR per machine of the LAN (RFC 1035 §3.5)' : undefined,
      ),
    ),
  ]);
}

/** The apex SOA (serial still 0: withSerial sets it) and NS of a zone of the domain. */
function apex(s: Scenario, origin: string): [SoaRecord, ResourceRecord] {
  return [
    { name: origin, ttl: ZONE_TTL, type: 'SOA', mname: s.dns.nameServer, rname: `hostmaster.${s.domain}`, serial: 0, ...SOA_TIMERS },
    rr(origin, { type: 'NS', host: s.dns.nameServer }),
  ];
}

/**
 * The serial rule, one for every reader: the SOA serial is a digest of the zone's records (each
 * in its presentation form, the SOA with serial 0, comments left out): the first 32 bits of
 * their SHA-256, 0 taken as 1. So the serial changes whenever what the zone answers changes,
 * and anyone who derives the zone from the same scenario (the BIND files, the DNS server, the
 * console) gets the same serial without reading a previous file back.
 *
 * It is an identity, not a counter: a new version's serial need not be "greater" in RFC 1982's
 * serial arithmetic. RFC 1035 §3.3.13 needs it to grow only for secondaries, which refresh when
 * the primary's serial is greater; the lab's zones have none (named.conf.local: `type master`, no
 * transfers), and BIND as primary reloads a smaller serial all the same (it logs "zone serial
 * (5/1000) has gone backwards" and serves the new zone). A secondary added one day needs a
 * counting serial (RFC 1912 §2.2's YYYYMMDDnn, kept in the scenario's config).
 */
export function zoneSerial(origin: string, records: readonly ResourceRecord[]): number {
  const h = crypto.createHash('sha256');
  h.update(`${origin}.\n`);
  for (const r of records) h.update(`${recordText(r.type === 'SOA' ? { ...r, serial: 0 } : r)}\n`);
  return h.digest().readUInt32BE(0) || 1;
}

function withSerial(origin: string, records: [SoaRecord, ...ResourceRecord[]]): ZoneData {
  const [soa, ...rest] = records;
  return { origin, ttl: ZONE_TTL, records: [{ ...soa, serial: zoneSerial(origin, records) }, ...rest] };
}

/** A domain name in presentation form, absolute (RFC 1035 §5.1: the final dot). */
const absoluteName = (name: string): string => `${name}.`;

/** The owner as a master file under $ORIGIN `origin` writes it: "@", relative, or absolute (RFC 1035 §5.1). */
export function ownerText(name: string, origin: string): string {
  if (name === origin) return '@';
  return name.endsWith(`.${origin}`) ? name.slice(0, -origin.length - 1) : absoluteName(name);
}

/** A <character-string> in quotes: `"` and `\` escaped, octets outside printable ASCII as \DDD (RFC 1035 §5.1). */
function quoted(s: string): string {
  let out = '"';
  for (const c of Buffer.from(s, 'latin1')) {
    if (c === 0x22 || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
    else if (c < 0x20 || c > 0x7e) out += `\\${String(c).padStart(3, '0')}`;
    else out += String.fromCharCode(c);
  }
  return `${out}"`;
}

/** The RDATA in presentation form, names absolute (as dig prints it and a master file may hold it). */
export function rdataText(r: Rdata): string {
  switch (r.type) {
    case 'SOA':
      return `${absoluteName(r.mname)} ${absoluteName(r.rname)} ${r.serial} ${r.refresh} ${r.retry} ${r.expire} ${r.minimum}`;
    case 'NS':
      return absoluteName(r.host);
    case 'A':
      return r.address;
    case 'MX':
      return `${r.preference} ${absoluteName(r.exchange)}`;
    case 'SRV':
      return `${r.priority} ${r.weight} ${r.port} ${absoluteName(r.target)}`;
    case 'CNAME':
    case 'PTR':
      return absoluteName(r.target);
    case 'TXT':
      return r.strings.map(quoted).join(' ');
  }
}

/** One record on one line, as dig's answer section shows it: `name. ttl IN TYPE rdata`. */
export function recordText(r: ResourceRecord): string {
  return `${absoluteName(r.name)}\t${r.ttl}\tIN\t${r.type}\t${rdataText(r)}`;
}
