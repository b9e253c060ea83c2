// Every answer rule of the issue, over UDP and over TCP, with exact expectations: flags, rcode
// and the three record sections (decoded with dns-packet).
import fs from 'node:fs';
import path from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioZones, soaOf, spfRecordText } from '@sstt/scenario';
import { tempDir } from '@sstt/testkit';
import { ask, encodeQuery, exchange, flags, opt, rcode, rrs, startDns, testScenario, type Transport } from './helpers.ts';

const s = testScenario();
const d = s.domain;
const rev = s.network.reverseZone;
const addr = (label: string) => s.names.find((n) => n.label === label)!.address;
const serialOf = (origin: string) => soaOf(scenarioZones(s).find((z) => z.origin === origin)!).serial;
const serial = serialOf(d);
const revSerial = serialOf(rev);
const SOA = `${d} 300 SOA dns.${d} hostmaster.${d} ${serial} 3600 900 604800 300`;
const NS = `${d} 3600 NS dns.${d}`;
const A_DNS = `dns.${d} 3600 A ${addr('dns')}`;

// A zone with a TXT RRset too big for 512 bytes, a CNAME chain, CAA, AAAA and a CNAME loop.
const big = tempDir('sstt-dns-big-');
const bigZone = path.join(big.dir, 'db.big.test');
fs.writeFileSync(
  bigZone,
  [
    '$ORIGIN big.test.',
    '$TTL 60',
    '@ IN SOA ns.big.test. admin.big.test. ( 7 3600 600 86400 30 )',
    '  IN NS ns',
    'ns IN A 10.0.0.1',
    '   IN AAAA 2001:db8::1',
    ...Array.from({ length: 10 }, (_, i) => `txt IN TXT "${String(i).padStart(2, '0')}${'x'.repeat(99)}"`),
    'a IN CNAME b',
    'b IN CNAME ns',
    'loop1 IN CNAME loop2',
    'loop2 IN CNAME loop1',
    '@ IN CAA 0 issue "ca.example"',
    'out IN CNAME www.example.com.',
    'sub IN NS ns.sub',
    'ns.sub IN A 10.0.0.53',
    '*.wild IN A 10.0.0.9',
    '',
  ].join('\n'),
);

let port = 0;
let bigPort = 0;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  const a = await startDns({ scenario: s });
  port = a.port;
  const b = await startDns({ scenario: s, zoneFiles: [{ origin: 'big.test', file: bigZone }] });
  bigPort = b.port;
  closers.push(a.close, b.close);
});

afterAll(async () => {
  for (const c of closers) await c();
  big.remove();
});

// These servers have no forwarders: recursion is not available, so no reply sets RA (RFC 1035
// §4.1.1; BIND with `recursion no`). The RA of a recursive server is tested in forward.test.ts.
describe.each<Transport>(['udp', 'tcp'])('authoritative answers over %s', (t) => {
  it('www A: answer, NS in authority, glue in additional, aa rd ra (the seed trace)', async () => {
    const r = await ask(t, port, { name: `www.${d}` });
    expect(rcode(r)).toBe('NOERROR');
    expect(flags(r)).toBe('qr aa rd');
    expect(r.id).toBe(0x1234);
    expect(rrs(r.answers)).toEqual([`www.${d} 3600 A ${addr('www')}`]);
    expect(rrs(r.authorities)).toEqual([NS]);
    expect(rrs(r.additionals)).toEqual([A_DNS]);
  });

  it('echoes the question case; the records keep the zone case', async () => {
    const name = `WwW.${d.toUpperCase()}`;
    const r = await ask(t, port, { name });
    expect(r.questions![0]!.name).toBe(name);
    expect(rrs(r.answers)).toEqual([`www.${d} 3600 A ${addr('www')}`]);
    expect(rrs(r.authorities)).toEqual([NS]);
  });

  it('every host name of the scenario', async () => {
    for (const n of s.names) {
      const r = await ask(t, port, { name: n.fqdn });
      expect(rrs(r.answers)).toEqual([`${n.fqdn} 3600 A ${n.address}`]);
      // The name server's own address is already in the answer: not repeated in additional.
      expect(rrs(r.additionals)).toEqual(n.label === 'dns' ? [] : [A_DNS]);
    }
  });

  it('MX 10 smtp with the address of smtp and of dns in additional', async () => {
    const r = await ask(t, port, { name: d, type: 'MX' });
    expect(rrs(r.answers)).toEqual([`${d} 3600 MX 10 smtp.${d}`]);
    expect(rrs(r.authorities)).toEqual([NS]);
    expect(rrs(r.additionals)).toEqual([`smtp.${d} 3600 A ${addr('smtp')}`, A_DNS]);
  });

  it('NS at the apex: no authority section, glue in additional', async () => {
    const r = await ask(t, port, { name: d, type: 'NS' });
    expect(rrs(r.answers)).toEqual([NS]);
    expect(rrs(r.authorities)).toEqual([]);
    expect(rrs(r.additionals)).toEqual([A_DNS]);
  });

  it('SOA', async () => {
    const r = await ask(t, port, { name: d, type: 'SOA' });
    expect(rrs(r.answers)).toEqual([SOA.replace(' 300 SOA', ' 3600 SOA')]);
    expect(rrs(r.authorities)).toEqual([NS]);
    expect(rrs(r.additionals)).toEqual([A_DNS]);
  });

  it('RFC 6186 SRV records with their targets in additional', async () => {
    const p = s.listen.ports;
    // IMAP preferred (priority 0) over POP3 (10), RFC 6186 §3.4.
    const cases: Array<[string, string, number, number]> = [
      ['_submission._tcp', 'smtp', p.submission, 0],
      ['_imap._tcp', 'mail', p.imap, 0],
      ['_imaps._tcp', 'mail', p.imaps, 0],
      ['_pop3._tcp', 'pop', p.pop3, 10],
      ['_pop3s._tcp', 'pop', p.pop3s, 10],
    ];
    for (const [label, target, srvPort, priority] of cases) {
      const r = await ask(t, port, { name: `${label}.${d}`, type: 'SRV' });
      expect(rrs(r.answers)).toEqual([`${label}.${d} 3600 SRV ${priority} 1 ${srvPort} ${target}.${d}`]);
      expect(rrs(r.additionals)).toEqual([`${target}.${d} 3600 A ${addr(target)}`, A_DNS]);
    }
  });

  it('autoconfig: the CNAME is followed inside the zone', async () => {
    const r = await ask(t, port, { name: `autoconfig.${d}` });
    expect(flags(r)).toBe('qr aa rd');
    expect(rrs(r.answers)).toEqual([`autoconfig.${d} 3600 CNAME www.${d}`, `www.${d} 3600 A ${addr('www')}`]);
    expect(rrs(r.authorities)).toEqual([NS]);
    expect(rrs(r.additionals)).toEqual([A_DNS]);
  });

  it('NODATA (AAAA www): NOERROR, empty answer, SOA with the negative TTL (RFC 2308)', async () => {
    const r = await ask(t, port, { name: `www.${d}`, type: 'AAAA' });
    expect(rcode(r)).toBe('NOERROR');
    expect(flags(r)).toBe('qr aa rd');
    expect(rrs(r.answers)).toEqual([]);
    expect(rrs(r.authorities)).toEqual([SOA]);
    expect(rrs(r.additionals)).toEqual([]);
  });

  it('an empty non-terminal (_tcp) is NODATA, not NXDOMAIN', async () => {
    const r = await ask(t, port, { name: `_tcp.${d}`, type: 'A' });
    expect(rcode(r)).toBe('NOERROR');
    expect(rrs(r.authorities)).toEqual([SOA]);
  });

  it('NXDOMAIN with the SOA', async () => {
    const r = await ask(t, port, { name: `nope.${d}` });
    expect(rcode(r)).toBe('NXDOMAIN');
    expect(flags(r)).toBe('qr aa rd');
    expect(rrs(r.answers)).toEqual([]);
    expect(rrs(r.authorities)).toEqual([SOA]);
    expect(rrs(r.additionals)).toEqual([]);
  });

  it('ANY: the RRsets of the name, no additional data (as BIND answers it)', async () => {
    const apex = await ask(t, port, { name: d, type: 'ANY' });
    expect(rrs(apex.answers).sort()).toEqual(
      [SOA.replace(' 300 SOA', ' 3600 SOA'), NS, `${d} 3600 MX 10 smtp.${d}`, `${d} 3600 TXT ${JSON.stringify(spfRecordText(s))}`].sort(),
    );
    expect(rrs(apex.authorities)).toEqual([]);
    expect(rrs(apex.additionals)).toEqual([]);
    const host = await ask(t, port, { name: `smtp.${d}`, type: 'ANY' });
    expect(rrs(host.answers)).toEqual([`smtp.${d} 3600 A ${addr('smtp')}`]);
    expect(rrs(host.authorities)).toEqual([NS]);
    expect(rrs(host.additionals)).toEqual([]);
  });

  it('reverse zone: PTR for both hosts; without recursion no address for its NS, which lies in the forward zone (BIND 9.18)', async () => {
    const last = (a: string) => a.split('.').at(-1);
    const REV_NS = `${rev} 3600 NS dns.${d}`;
    const r = await ask(t, port, { name: `${last(s.network.server)}.${rev}`, type: 'PTR' });
    expect(rrs(r.answers)).toEqual([`${last(s.network.server)}.${rev} 3600 PTR servidor.${d}`]);
    expect(rrs(r.authorities)).toEqual([REV_NS]);
    // Without recursion BIND fills the additional section from the RRset's own zone only (issue
    // 15, cause 4); with recursion (bind-diff.test.ts) from all its zones.
    expect(rrs(r.additionals)).toEqual([]);
    const c = await ask(t, port, { name: `${last(s.network.client)}.${rev}`, type: 'PTR' });
    expect(rrs(c.answers)).toEqual([`${last(s.network.client)}.${rev} 3600 PTR cliente.${d}`]);
    const nx = await ask(t, port, { name: `7.${rev}`, type: 'PTR' });
    expect(rcode(nx)).toBe('NXDOMAIN');
    expect(rrs(nx.authorities)).toEqual([`${rev} 300 SOA dns.${d} hostmaster.${d} ${revSerial} 3600 900 604800 300`]);
  });

  it('a delegation without RD: a referral (child NS + glue, no aa)', async () => {
    const r = await ask(t, bigPort, { name: 'www.sub.big.test', rd: false });
    expect(rcode(r)).toBe('NOERROR');
    expect(flags(r)).toBe('qr');
    expect(rrs(r.answers)).toEqual([]);
    expect(rrs(r.authorities)).toEqual(['sub.big.test 60 NS ns.sub.big.test']);
    expect(rrs(r.additionals)).toEqual(['ns.sub.big.test 60 A 10.0.0.53']);
  });

  it('a wildcard answers for the name asked; its parent is NODATA', async () => {
    const r = await ask(t, bigPort, { name: 'Foo.Wild.big.test' });
    expect(rrs(r.answers)).toEqual(['foo.wild.big.test 60 A 10.0.0.9']);
    expect(rrs(r.authorities)).toEqual(['big.test 60 NS ns.big.test']);
    const parent = await ask(t, bigPort, { name: 'wild.big.test' });
    expect(rcode(parent)).toBe('NOERROR');
    expect(rrs(parent.answers)).toEqual([]);
  });

  it('RD clear is echoed clear', async () => {
    const r = await ask(t, port, { name: `www.${d}`, rd: false });
    expect(flags(r)).toBe('qr aa');
  });

  it('CNAME chains, AAAA, CAA and a CNAME loop in a zone file', async () => {
    const chain = await ask(t, bigPort, { name: 'a.big.test' });
    expect(rrs(chain.answers)).toEqual(['a.big.test 60 CNAME b.big.test', 'b.big.test 60 CNAME ns.big.test', 'ns.big.test 60 A 10.0.0.1']);
    expect(rrs(chain.authorities)).toEqual(['big.test 60 NS ns.big.test']);
    expect(rrs(chain.additionals)).toEqual(['ns.big.test 60 AAAA 2001:db8::1']);
    const aaaa = await ask(t, bigPort, { name: 'ns.big.test', type: 'AAAA' });
    expect(rrs(aaaa.answers)).toEqual(['ns.big.test 60 AAAA 2001:db8::1']);
    const caa = await ask(t, bigPort, { name: 'big.test', type: 'CAA' });
    expect(caa.answers!.map((r) => (r as { data: unknown }).data)).toEqual([{ flags: 0, tag: 'issue', value: 'ca.example', issuerCritical: false }]);
    // A loop: SERVFAIL with both CNAMEs and an Extended DNS Error (BIND: "max. restarts reached").
    const loop = await ask(t, bigPort, { name: 'loop1.big.test', edns: 1232 });
    expect(rcode(loop)).toBe('SERVFAIL');
    expect(flags(loop)).toBe('qr aa rd');
    expect(rrs(loop.answers)).toEqual(['loop1.big.test 60 CNAME loop2.big.test', 'loop2.big.test 60 CNAME loop1.big.test']);
    expect(rrs(loop.authorities)).toEqual([]);
    const ede = (opt(loop) as unknown as { options: Array<{ code: number; data: Buffer }> }).options[0]!;
    expect(ede.code).toBe(15);
    expect(ede.data.readUInt16BE(0)).toBe(0);
    expect(ede.data.subarray(2).toString()).toBe('max. restarts reached');
  });
});

describe.each<Transport>(['udp', 'tcp'])('EDNS(0) over %s', (t) => {
  it('OPT is echoed with our UDP size (1232), version 0', async () => {
    const r = await ask(t, port, { name: `www.${d}`, edns: 4096 });
    expect(opt(r)).toMatchObject({ udpPayloadSize: 1232, ednsVersion: 0, extendedRcode: 0 });
    expect(rrs(r.answers)).toEqual([`www.${d} 3600 A ${addr('www')}`]);
    expect(r.additionals!.length).toBe(2);
  });

  it('no OPT in the query, none in the reply', async () => {
    const r = await ask(t, port, { name: `www.${d}` });
    expect(opt(r)).toBeUndefined();
  });

  it('the DO bit is echoed', async () => {
    const r = await ask(t, port, { name: `www.${d}`, edns: 1232, dnssecOk: true });
    expect(opt(r)!.flags & dnsPacket.DNSSEC_OK).toBe(dnsPacket.DNSSEC_OK);
  });

  it('version 1 gets BADVERS (extended rcode 1), flags rd only, no records', async () => {
    const r = await ask(t, port, { name: `www.${d}`, edns: 1232, ednsVersion: 1 });
    expect(flags(r)).toBe('qr rd');
    expect(r.raw[3]! & 0x0f).toBe(0);
    expect(opt(r)).toMatchObject({ extendedRcode: 1, ednsVersion: 0, udpPayloadSize: 1232 });
    expect(rrs(r.answers)).toEqual([]);
    expect(r.questions![0]!.name).toBe(`www.${d}`);
  });

  it('an answer larger than 512 bytes without EDNS', async () => {
    const r = await ask(t, bigPort, { name: 'txt.big.test', type: 'TXT' });
    if (t === 'udp') {
      // Without EDNS, BIND keeps the answer records that fit, and sets TC.
      expect(flags(r)).toBe('qr aa tc rd');
      expect(r.answers!.length).toBe(4);
      expect(rrs(r.authorities)).toEqual([]);
      expect(r.raw.length).toBeLessThanOrEqual(512);
    } else {
      expect(flags(r)).toBe('qr aa rd');
      expect(r.answers!.length).toBe(10);
      expect(rrs(r.authorities)).toEqual(['big.test 60 NS ns.big.test']);
      expect(rrs(r.additionals)).toEqual(['ns.big.test 60 A 10.0.0.1', 'ns.big.test 60 AAAA 2001:db8::1']);
    }
  });

  it('too big for EDNS 600: TC and no records at all (as BIND)', async () => {
    const r = await ask(t, bigPort, { name: 'txt.big.test', type: 'TXT', edns: 600 });
    if (t === 'udp') {
      expect(flags(r)).toBe('qr aa tc rd');
      expect(r.answers).toEqual([]);
      expect(opt(r)).toMatchObject({ udpPayloadSize: 1232 });
    } else expect(r.answers!.length).toBe(10);
  });

  it('EDNS size 512 or less over UDP: the answer alone (BIND), negative answers keep the SOA', async () => {
    const r = await ask(t, port, { name: d, type: 'MX', edns: 512 });
    expect(rrs(r.answers)).toEqual([`${d} 3600 MX 10 smtp.${d}`]);
    expect(rrs(r.authorities)).toEqual(t === 'udp' ? [] : [NS]);
    expect(rrs(r.additionals)).toEqual(t === 'udp' ? [] : [`smtp.${d} 3600 A ${addr('smtp')}`, A_DNS]);
    const nx = await ask(t, port, { name: `nope.${d}`, edns: 100 });
    expect(rrs(nx.authorities)).toEqual([SOA]);
  });

  it('a client COOKIE gets the client cookie back with a 16-byte server cookie (RFC 7873)', async () => {
    const client = Buffer.from('0123456789abcdef', 'hex');
    const q = encodeQuery({ name: `www.${d}`, edns: 1232 });
    // Append the option to the OPT record: code 10, length 8.
    const withCookie = Buffer.concat([q.subarray(0, q.length - 2), Buffer.from([0, 12, 0, 10, 0, 8]), client]);
    const raw = await exchange(t, port, withCookie);
    const r = dnsPacket.decode(raw!);
    const cookie = (opt(r) as unknown as { options: Array<{ code: number; data: Buffer }> }).options.find((o) => o.code === 10)!;
    expect(cookie.data.length).toBe(24);
    expect(cookie.data.subarray(0, 8).equals(client)).toBe(true);
    expect(cookie.data[8]).toBe(1);
    const bad = Buffer.concat([q.subarray(0, q.length - 2), Buffer.from([0, 9, 0, 10, 0, 5]), client.subarray(0, 5)]);
    expect(rcode(dnsPacket.decode((await exchange(t, port, bad))!))).toBe('FORMERR');
  });

  it('fits in the client size with EDNS 4096 (capped at our 1232): whole answer, additional dropped', async () => {
    const r = await ask(t, bigPort, { name: 'txt.big.test', type: 'TXT', edns: 4096 });
    expect(flags(r)).toBe('qr aa rd');
    expect(r.answers!.length).toBe(10);
    expect(rrs(r.authorities)).toEqual(['big.test 60 NS ns.big.test']);
    // 1244 bytes with the AAAA glue: over UDP it is left out (RFC 2181 §9: no TC for additional).
    expect(rrs(r.additionals)).toEqual(t === 'udp' ? ['ns.big.test 60 A 10.0.0.1'] : ['ns.big.test 60 A 10.0.0.1', 'ns.big.test 60 AAAA 2001:db8::1']);
    if (t === 'udp') expect(r.raw.length).toBeLessThanOrEqual(1232);
  });
});

describe.each<Transport>(['udp', 'tcp'])('malformed and refused queries over %s', (t) => {
  const header = (id: number, flags2: number, qd: number, an = 0, ns = 0, ar = 0) => {
    const b = Buffer.alloc(12);
    b.writeUInt16BE(id, 0);
    b[2] = flags2;
    b.writeUInt16BE(qd, 4);
    b.writeUInt16BE(an, 6);
    b.writeUInt16BE(ns, 8);
    b.writeUInt16BE(ar, 10);
    return b;
  };

  it('no question: FORMERR with the ID, RD echoed, nothing else (as BIND)', async () => {
    const raw = await exchange(t, port, header(0xbeef, 0x01, 0));
    const r = dnsPacket.decode(raw!);
    expect(r.id).toBe(0xbeef);
    expect(rcode(r)).toBe('FORMERR');
    expect(flags(r)).toBe('qr rd');
    expect(raw!.length).toBe(12);
  });

  it('a question cut short: FORMERR', async () => {
    const q = encodeQuery({ name: `www.${d}` });
    const raw = await exchange(t, port, q.subarray(0, q.length - 3));
    expect(rcode(dnsPacket.decode(raw!))).toBe('FORMERR');
  });

  it('trailing bytes after the question are ignored (as BIND)', async () => {
    const raw = await exchange(t, port, Buffer.concat([encodeQuery({ name: `www.${d}` }), Buffer.from([1, 2, 3])]));
    expect(rrs(dnsPacket.decode(raw!).answers)).toEqual([`www.${d} 3600 A ${addr('www')}`]);
  });

  it('two questions: FORMERR', async () => {
    const one = encodeQuery({ name: `www.${d}` });
    const msg = Buffer.concat([header(7, 0x01, 2), one.subarray(12), one.subarray(12)]);
    expect(rcode(dnsPacket.decode((await exchange(t, port, msg))!))).toBe('FORMERR');
  });

  // RFC 1035 §3.1: a name is at most 255 octets, label lengths and the root's zero included.
  // Found by apps/dns/fuzz (dns-message.fuzz.ts): a 256-octet name was answered, echoed in a
  // reply no resolver can read.
  const longName = (lastLabel: number) => {
    const labels = [63, 63, 63, lastLabel].map((n) => Buffer.concat([Buffer.from([n]), Buffer.alloc(n, 0x61)]));
    return Buffer.concat([...labels, Buffer.from([0, 0, 1, 0, 1])]);
  };

  it('a question name of 256 octets: FORMERR with the ID, RD echoed, nothing else', async () => {
    const raw = await exchange(t, port, Buffer.concat([header(0x0256, 0x01, 1), longName(62)]));
    const r = dnsPacket.decode(raw!);
    expect(r.id).toBe(0x0256);
    expect(rcode(r)).toBe('FORMERR');
    expect(flags(r)).toBe('qr rd');
    expect(raw!.length).toBe(12);
  });

  it('a question name of exactly 255 octets is read (and refused: not ours)', async () => {
    const raw = await exchange(t, port, Buffer.concat([header(0x0255, 0x01, 1), longName(61)]));
    const r = dnsPacket.decode(raw!);
    expect(r.id).toBe(0x0255);
    expect(rcode(r)).toBe('REFUSED');
    expect(r.questions?.[0]?.name.length).toBe(253);
  });

  it('shorter than a header: silence', async () => {
    expect(await exchange(t, port, Buffer.from([0x12, 0x34, 0x01]), { timeoutMs: 300 })).toBeNull();
  });

  it('a response (QR set): silence', async () => {
    const q = encodeQuery({ name: `www.${d}` });
    q[2] = q[2]! | 0x80;
    expect(await exchange(t, port, q, { timeoutMs: 300 })).toBeNull();
  });

  it('opcode STATUS (2): NOTIMP, the bare header with the opcode (as BIND)', async () => {
    const r = await ask(t, port, { name: `www.${d}`, opcode: 2 });
    expect(rcode(r)).toBe('NOTIMP');
    expect(flags(r)).toBe('qr');
    expect((r.raw[2]! >> 3) & 0x0f).toBe(2);
    expect(r.raw.length).toBe(12);
  });

  it('a client outside allow-query: REFUSED', async () => {
    const r = await ask(t, port, { name: `www.${d}` }, { localAddress: '127.0.0.2' }).catch(() => undefined);
    // 127.0.0.0/8 is allowed in the default scenario: 127.0.0.2 gets the answer ...
    expect(r && rrs(r.answers)).toEqual([`www.${d} 3600 A ${addr('www')}`]);
  });
});

describe.each<Transport>(['udp', 'tcp'])('allow-query over %s', (t) => {
  let restricted = 0;
  let close: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const srv = await startDns({ scenario: s, allowQuery: ['127.0.0.1/32'] });
    restricted = srv.port;
    close = srv.close;
  });
  afterAll(() => close());

  it('127.0.0.2 is outside 127.0.0.1/32: REFUSED, question echoed, no aa, no ra', async () => {
    const r = await ask(t, restricted, { name: `www.${d}` }, { localAddress: '127.0.0.2' });
    expect(rcode(r)).toBe('REFUSED');
    expect(flags(r)).toBe('qr rd');
    expect(r.questions![0]!.name).toBe(`www.${d}`);
    expect(rrs(r.answers)).toEqual([]);
  });

  it('REFUSED carries an Extended DNS Error 18 (Prohibited) to an EDNS client', async () => {
    const r = await ask(t, restricted, { name: `www.${d}`, edns: 1232 }, { localAddress: '127.0.0.2' });
    expect(rcode(r)).toBe('REFUSED');
    const ede = (opt(r) as unknown as { options: Array<{ code: number; data: Buffer }> }).options[0]!;
    expect(ede.code).toBe(15);
    expect(ede.data.readUInt16BE(0)).toBe(18);
  });

  it('127.0.0.1 is inside', async () => {
    const r = await ask(t, restricted, { name: `www.${d}` });
    expect(rcode(r)).toBe('NOERROR');
  });
});

describe('zone transfers and classes', () => {
  it('AXFR over UDP: FORMERR; over TCP: REFUSED', async () => {
    expect(rcode(await ask('udp', port, { name: d, type: 'AXFR' }))).toBe('FORMERR');
    expect(rcode(await ask('tcp', port, { name: d, type: 'AXFR' }))).toBe('REFUSED');
  });
});
