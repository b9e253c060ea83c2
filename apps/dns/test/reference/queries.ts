// The differential test's query list: every name and type of the lab's zones, NXDOMAIN, NODATA,
// case changes, EDNS sizes (none, small, large, bad version), TCP, opcodes, a malformed header,
// the test-only zone's CNAMEs/wildcards/large RRsets, and forwarded names.
import dnsPacket from 'dns-packet';
import type { Scenario } from '@sstt/scenario';
import type { Query } from './client.ts';
import { EXTRA_ORIGIN, OUTSIDE } from './zones.ts';

/** Flips the case of every other letter: www.example -> WwW.ExAmPlE. */
export function mixCase(name: string): string {
  let i = 0;
  return name.replace(/[a-z]/gi, (c) => (i++ % 2 === 0 ? c.toUpperCase() : c.toLowerCase()));
}

export function labQueries(s: Scenario): Query[] {
  const d = s.domain;
  const rev = s.network.reverseZone;
  const q: Query[] = [];
  const add = (label: string, name: string, type: string, more: Partial<Query> = {}) => q.push({ label, name, type, edns: 1232, ...more });
  // The apex: SOA, NS, MX, and types it does not have.
  for (const t of ['SOA', 'NS', 'MX', 'A', 'AAAA', 'TXT']) add(`apex ${t}`, d, t);
  // Every name of the scenario, A (positive) and AAAA (NODATA), and MX on one host (NODATA).
  for (const n of s.names) add(`${n.label} A`, n.fqdn, 'A');
  for (const n of s.names) add(`${n.label} AAAA (NODATA)`, n.fqdn, 'AAAA');
  add('www MX (NODATA)', `www.${d}`, 'MX');
  // RFC 6186 SRV records and the autoconfig name.
  for (const srv of ['_submission._tcp', '_imap._tcp', '_imaps._tcp', '_pop3._tcp', '_pop3s._tcp']) add(`${srv} SRV`, `${srv}.${d}`, 'SRV');
  add('_tcp (empty non-terminal)', `_tcp.${d}`, 'A');
  add('autoconfig A', `autoconfig.${d}`, 'A');
  add('autoconfig CNAME', `autoconfig.${d}`, 'CNAME');
  add('autoconfig AAAA', `autoconfig.${d}`, 'AAAA');
  // NXDOMAIN.
  add('nope A (NXDOMAIN)', `nope.${d}`, 'A');
  add('nope MX (NXDOMAIN)', `nope.${d}`, 'MX');
  add('deep nope (NXDOMAIN)', `a.b.nope.${d}`, 'A');
  add('below www (NXDOMAIN)', `x.www.${d}`, 'A');
  // Case: the question's case is echoed, the answer is the same.
  add('www A mixed case', mixCase(`www.${d}`), 'A');
  add('apex MX upper case', d.toUpperCase(), 'MX');
  add('nope mixed case (NXDOMAIN)', mixCase(`nope.${d}`), 'A');
  // The reverse zone.
  for (const t of ['SOA', 'NS']) add(`reverse apex ${t}`, rev, t);
  const addrs = [...new Set(s.names.map((n) => n.address))];
  for (const a of addrs) add(`PTR ${a}`, `${a.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR');
  // RD=0 (issue 18): the NS lies in the forward zone, whose address BIND adds for RD=1 only.
  for (const t of ['SOA', 'NS']) add(`reverse apex ${t} RD=0`, rev, t, { rd: false });
  for (const a of addrs) add(`PTR ${a} RD=0`, `${a.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR', { rd: false });
  add('PTR .1 (NXDOMAIN)', `1.${rev}`, 'PTR');
  add('reverse A (NODATA)', `${addrs[0]!.split('.').reverse().join('.')}.in-addr.arpa`, 'A');
  // EDNS sizes and no EDNS.
  add('www A no EDNS', `www.${d}`, 'A', { edns: undefined });
  add('apex MX no EDNS', d, 'MX', { edns: undefined });
  add('www A EDNS 512', `www.${d}`, 'A', { edns: 512 });
  add('www A EDNS 100 (below 512)', `www.${d}`, 'A', { edns: 100 });
  add('www A EDNS 4096', `www.${d}`, 'A', { edns: 4096 });
  add('www A EDNS 65535 DO', `www.${d}`, 'A', { edns: 65535, dnssecOk: true });
  add('www A with a client COOKIE (RFC 7873)', `www.${d}`, 'A', { ednsOptions: [{ code: 10, data: Buffer.from('0123456789abcdef', 'hex') }] });
  add('www A EDNS version 1 (BADVERS)', `www.${d}`, 'A', { ednsVersion: 1 });
  // RD clear.
  add('www A RD=0', `www.${d}`, 'A', { rd: false });
  add('nope A RD=0 (NXDOMAIN)', `nope.${d}`, 'A', { rd: false });
  // TCP.
  add('www A TCP', `www.${d}`, 'A', { tcp: true });
  add('apex MX TCP no EDNS', d, 'MX', { tcp: true, edns: undefined });
  add('www AAAA TCP (NODATA)', `www.${d}`, 'AAAA', { tcp: true });
  add('nope TCP (NXDOMAIN)', `nope.${d}`, 'A', { tcp: true });
  // Opcodes and malformed headers (RFC 1035 §4.1.1).
  add('opcode STATUS (NOTIMP)', `www.${d}`, 'A', { opcode: 2, edns: undefined });
  add('opcode IQUERY (NOTIMP)', `www.${d}`, 'A', { opcode: 1, edns: undefined });
  q.push({ label: 'QDCOUNT 0 (FORMERR)', name: '', type: '', raw: (id) => header(id, 0x0100, 0) });
  q.push({
    label: 'QDCOUNT 2 (FORMERR)',
    name: '',
    type: '',
    raw: (id) => {
      const one = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: `www.${d}`, type: 'A' }] });
      const two = Buffer.concat([one, one.subarray(12)]);
      two.writeUInt16BE(2, 4);
      return two;
    },
  });
  const www = (id: number) => dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: `www.${d}`, type: 'A' }] });
  q.push({ label: 'question cut short (FORMERR)', name: '', type: '', raw: (id) => www(id).subarray(0, www(id).length - 3) });
  q.push({ label: 'trailing garbage after the question', name: '', type: '', raw: (id) => Buffer.concat([www(id), Buffer.from([1, 2, 3])]) });
  q.push({
    label: 'a response (QR=1) sent to the server: silence',
    name: '',
    type: '',
    timeoutMs: 800,
    raw: (id) => {
      const b = www(id);
      b.writeUInt16BE(b.readUInt16BE(2) | 0x8000, 2);
      return b;
    },
  });
  q.push({ label: 'shorter than a header: silence', name: '', type: '', timeoutMs: 800, raw: (id) => header(id, 0x0100, 1).subarray(0, 7) });
  return q;
}

/** A bare 12-byte header (RFC 1035 §4.1.1) with the given flags and QDCOUNT. */
function header(id: number, flags: number, qdcount: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(flags, 2);
  b.writeUInt16BE(qdcount, 4);
  return b;
}

/** The test-only zone: CNAME chains, wildcards, loops, large RRsets (TC), TXT/CAA/AAAA. `lab`: the lab's domain. */
export function extraQueries(lab: string): Query[] {
  const o = EXTRA_ORIGIN;
  const q: Query[] = [];
  const add = (label: string, name: string, type: string, more: Partial<Query> = {}) => q.push({ label, name, type, edns: 1232, ...more });
  add('extra apex TXT', o, 'TXT');
  add('extra apex CAA', o, 'CAA');
  add('extra apex MX (CNAME target, RFC 2181 §10.3)', o, 'MX');
  add('extra apex NS (out-of-zone NS)', o, 'NS');
  add('extra host AAAA', `host.${o}`, 'AAAA');
  add('extra alias A (CNAME in zone)', `alias.${o}`, 'A');
  add('extra alias2 A (CNAME chain)', `alias2.${o}`, 'A');
  add('extra alias2 CNAME', `alias2.${o}`, 'CNAME');
  add('extra alias MX (CNAME, NODATA at target)', `alias.${o}`, 'MX');
  add('extra loop (CNAME loop)', `loop1.${o}`, 'A');
  add('extra dangling CNAME (NXDOMAIN target)', `dangling.${o}`, 'A');
  // Its chain ends in forwarded data, cached by each server at its own second: forwarded answers' slack.
  add('extra out (CNAME to outside)', `out.${o}`, 'A', { ttlSlack: 5 });
  add('extra wildcard A', `foo.wild.${o}`, 'A');
  add('extra wildcard TXT', `Foo.Wild.${o}`, 'TXT');
  add('extra wildcard AAAA (NODATA)', `foo.wild.${o}`, 'AAAA');
  add('extra wild empty parent', `wild.${o}`, 'A');
  add('extra empty non-terminal', `a.b.${o}`, 'A');
  add('extra SRV', `_sip._udp.${o}`, 'SRV');
  add('extra TXT with several strings', `multi.${o}`, 'TXT');
  add('extra owner written in mixed case in the zone', `mixed.${o}`, 'A');
  add('extra SOA below the apex (NODATA)', `host.${o}`, 'SOA');
  add('extra NS below the apex (NODATA)', `host.${o}`, 'NS');
  add('extra delegation, RD=0 (referral)', `www.sub.${o}`, 'A', { rd: false });
  add('extra delegation point NS, RD=0', `sub.${o}`, 'NS', { rd: false });
  add('extra delegation to a name in the parent, RD=0 (referral without its address)', `www.garden.${o}`, 'A', { rd: false });
  add('extra delegation to a name in the parent: its NS, RD=0', `garden.${o}`, 'NS', { rd: false });
  add('extra MX whose exchange is glue below a cut (no address in additional)', `gluemx.${o}`, 'MX');
  add(`extra CNAME into ${lab}, RD=1 (followed)`, `tolab.${o}`, 'A');
  add(`extra CNAME into ${lab}, RD=0 (the CNAME alone)`, `tolab.${o}`, 'A', { rd: false });
  add('extra $GENERATE A', `gen2.${o}`, 'A');
  add('extra $GENERATE MX (its exchange, also generated, in additional)', `gmx04.${o}`, 'MX');
  add('extra $GENERATE: past the range (NXDOMAIN)', `gen5.${o}`, 'A');
  q.push({
    label: 'extra unknown type 65534 (NODATA)',
    name: '',
    type: '',
    raw: (id) => {
      const b = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: `host.${o}`, type: 'A' }] });
      b.writeUInt16BE(65534, b.length - 4);
      return b;
    },
  });
  add('extra big A EDNS 4096', `big.${o}`, 'A', { edns: 4096 });
  add('extra big A EDNS 512 (TC)', `big.${o}`, 'A', { edns: 512 });
  add('extra big A no EDNS (TC)', `big.${o}`, 'A', { edns: undefined });
  add('extra big A TCP', `big.${o}`, 'A', { tcp: true, edns: undefined });
  add('extra bigtxt TXT EDNS 1232', `bigtxt.${o}`, 'TXT');
  add('extra bigtxt TXT EDNS 512 (TC)', `bigtxt.${o}`, 'TXT', { edns: 512 });
  add('extra bigtxt TXT no EDNS (TC)', `bigtxt.${o}`, 'TXT', { edns: undefined });
  return q;
}

/** A loopback address outside the test's `allow-query` (the test allows only 127.0.0.1/32). */
export const OUTSIDER = '127.0.0.2';

/** Clients outside `allow-query`: REFUSED for our zones and for forwarded names alike. */
export function refusedQueries(s: Scenario): Query[] {
  const d = s.domain;
  return [
    { label: 'outside allow-query: www A (REFUSED)', name: `www.${d}`, type: 'A', edns: 1232, source: OUTSIDER },
    { label: 'outside allow-query: no EDNS (REFUSED)', name: d, type: 'MX', source: OUTSIDER },
    { label: 'outside allow-query: TCP (REFUSED)', name: `nope.${d}`, type: 'A', edns: 1232, tcp: true, source: OUTSIDER },
    { label: 'outside allow-query: reverse PTR (REFUSED)', name: `102.${s.network.reverseZone}`, type: 'PTR', edns: 1232, source: OUTSIDER },
    { label: 'outside allow-query: forwarded name (REFUSED)', name: `web.${OUTSIDE.domain}`, type: 'A', edns: 1232, source: OUTSIDER },
  ];
}

/** Names outside our zones: forwarded to the upstream stub. */
export function forwardedQueries(): Query[] {
  const d = OUTSIDE.domain;
  const q: Query[] = [];
  const add = (label: string, name: string, type: string, more: Partial<Query> = {}) => q.push({ label, name, type, edns: 1232, ttlSlack: 5, ...more });
  add('forwarded CNAME chain', `www.${d}`, 'A');
  add('forwarded CNAME chain again (cached)', `www.${d}`, 'A');
  add('forwarded A', `web.${d}`, 'A');
  add('forwarded MX', d, 'MX');
  add('forwarded NXDOMAIN', `nope.${d}`, 'A');
  add('forwarded NODATA', `web.${d}`, 'AAAA');
  add('forwarded mixed case', mixCase(`web.${d}`), 'A');
  add('forwarded no EDNS', `web.${d}`, 'A', { edns: undefined });
  add('forwarded TCP', `ns.${d}`, 'A', { tcp: true });
  add('forwarded answer larger than 1232 bytes (upstream over TCP), EDNS 4096', `huge.${d}`, 'A', { edns: 4096 });
  add('forwarded large answer, no EDNS (TC)', `huge.${d}`, 'A', { edns: undefined });
  add('forwarded large answer over TCP', `huge.${d}`, 'A', { tcp: true });
  add('outside name RD=0, never asked (root referral from hints)', `never-asked.${d}`, 'A', { rd: false });
  add('outside name RD=0, in the cache', `web.${d}`, 'A', { rd: false });
  add('forwarded REFUSED upstream (SERVFAIL)', 'www.example.invalid', 'A');
  return q;
}
