// The loader's RDATA codecs as round trips, text → wire → text, one per type (the way
// dns-packet tests its codecs): our loader turns each record's presentation form into wire form;
// that wire form, written back as RFC 3597 generic RDATA (`\# length hex`), must read in BIND
// (named-checkzone -D) as the very record BIND reads from the original text. BIND is thus the
// judge of both directions; then the loader's own rules (merging, default TTL, refusals).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run, tempDir } from '@sstt/testkit';
import { parseMasterFile, ZoneFileError } from '../src/zone/master-file.ts';
import { buildZone } from '../src/zone/zone.ts';
import { loadZone } from '../src/zone/store.ts';
import { nameToWire, typeName, type RdataPart } from '../src/wire.ts';

const ORIGIN = 'rt.test';
const KEY = 'mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==';
const HEX32 = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

/** One record per type, in the presentation forms of the RFCs and of BIND's own tests. */
const SAMPLES: Array<[string, string]> = [
  ['A', '192.0.2.1'],
  ['NS', 'ns.example.'],
  ['CNAME', 'Target.example.'],
  ['PTR', 'host.example.'],
  ['HINFO', '"PC \\"x86\\"" Linux'],
  ['MX', '10 mail.example.'],
  ['TXT', '"hello world" plain "\\065\\255" ""'],
  ['RP', 'mbox.example. txt.example.'],
  ['AFSDB', '1 afs.example.'],
  ['AAAA', '2001:db8::ffff:192.0.2.1'],
  ['LOC', '42 21 43.952 N 71 5 6.344 W -24m 1m 200m'],
  ['SRV', '10 60 5060 sip.example.'],
  ['NAPTR', '100 50 "s" "http+I2L+I2C+I2R" "" _http._tcp.example.'],
  ['KX', '10 kx.example.'],
  ['CERT', 'PKIX 12345 RSASHA256 MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'],
  ['DNAME', 'target.example.'],
  ['APL', '1:192.168.32.0/21 !1:192.168.38.0/28 2:ff00::/8'],
  ['DS', '60485 RSASHA1 1 ( 2BB183AF5F22588179A53B0A 98631FAD1A292118 )'],
  ['SSHFP', '2 1 123456789abcdef67890123456789abcdef67890'],
  ['IPSECKEY', '10 3 2 gw.example. AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=='],
  ['RRSIG', 'A 13 2 300 20280810112233 20180810112233 26125 example. YQ=='],
  ['NSEC', 'next.example. A NS SOA RRSIG NSEC TYPE65534'],
  ['DNSKEY', `257 3 13 ${KEY}`],
  ['DHCID', 'AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA='],
  ['NSEC3', '1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG'],
  ['NSEC3PARAM', '1 0 12 -'],
  ['TLSA', `3 1 1 ${HEX32}`],
  ['SMIMEA', `3 1 1 ${HEX32}`],
  ['CDS', '60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118'],
  ['CDNSKEY', `257 3 13 ${KEY}`],
  ['OPENPGPKEY', KEY],
  ['CSYNC', '66 3 A NS AAAA'],
  ['ZONEMD', `2018031900 1 1 ${HEX32}${HEX32.slice(0, 32)}`],
  ['SVCB', '1 svc.example. alpn=h2,h3 port=53443 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1 mandatory=alpn,port'],
  ['HTTPS', '1 . alpn=h3 no-default-alpn'],
  ['SPF', '"v=spf1 -all"'],
  ['NID', '10 0014:4fff:ff20:ee64'],
  ['L32', '10 192.0.2.1'],
  ['L64', '10 2001:0DB8:1140:1000'],
  ['LP', '10 l64.example.'],
  ['EUI48', '00-00-5e-00-53-2a'],
  ['EUI64', '00-00-5e-ef-10-00-00-2a'],
  ['URI', '10 1 "ftp://ftp1.example.com/public"'],
  ['CAA', '0 issue "ca.example.net; account=230123"'],
  ['TYPE65534', '\\# 4 0A000001'],
  ['NULL', '\\# 1 00'],
  ['A', '\\# 4 C0000202'],
  ['TXT', '\\# 6 0568656C6C6F'],
];

const HEAD = ['$TTL 300', `@ SOA ns hostmaster 1 3600 600 86400 300`, '@ NS ns', 'ns A 192.0.2.53'];
const owner = (i: number) => `t${i}-${SAMPLES[i]![0].toLowerCase()}`;

function wire(parts: RdataPart[]): Buffer {
  return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : nameToWire(p.name))));
}

const tmp = tempDir('sstt-dns-rdata-');
const bindText = new Map<string, string>();
const bindGeneric = new Map<string, string>();

/** named-checkzone -D: BIND's canonical text of each record, by owner. */
async function canonical(file: string): Promise<Map<string, string>> {
  const r = await run(requireTool('named-checkzone'), ['-k', 'ignore', '-i', 'none', '-D', '-o', '-', ORIGIN, file]);
  if (r.code !== 0) throw new Error(`named-checkzone refused ${file}:\n${r.stdout}${r.stderr}`);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(t\d+-\S+)\.rt\.test\.\s+(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.replace(/\s+/g, ' '));
  }
  return out;
}

beforeAll(async () => {
  const text = [...HEAD, ...SAMPLES.map(([t, rd], i) => `${owner(i)} ${t} ${rd}`)].join('\n');
  const original = path.join(tmp.dir, 'original.zone');
  fs.writeFileSync(original, `${text}\n`);
  const records = parseMasterFile({ origin: ORIGIN, file: original });
  const generic = records
    .filter((r) => r.name.startsWith('t'))
    .map((r) => {
      const w = wire(r.rdata);
      return `${r.name}. ${r.ttl} TYPE${r.type} \\# ${w.length} ${w.toString('hex')}`;
    });
  const back = path.join(tmp.dir, 'generic.zone');
  fs.writeFileSync(back, `${[...HEAD, ...generic].join('\n')}\n`);
  for (const [k, v] of await canonical(original)) bindText.set(k, v);
  for (const [k, v] of await canonical(back)) bindGeneric.set(k, v);
});

afterAll(() => tmp.remove());

describe('RDATA round trips: text → our wire → BIND text equals BIND text', () => {
  SAMPLES.forEach(([type, rdata], i) => {
    it(`${type} ${rdata}`, () => {
      expect(bindText.get(owner(i)), 'BIND read the original').toBeDefined();
      expect(bindGeneric.get(owner(i))).toBe(bindText.get(owner(i)));
    });
  });
});

function loadError(lines: string[]): string {
  try {
    buildZone(ORIGIN, 'db.rt', parseMasterFile({ origin: ORIGIN, file: 'db.rt', text: `${[...HEAD, ...lines].join('\n')}\n` }));
  } catch (err) {
    if (err instanceof ZoneFileError) return err.message;
    throw err;
  }
  return 'loaded';
}

describe('malformed RDATA: the exact message with file:line', () => {
  const cases: Array<[string, string]> = [
    ['x A \\# 3 0A0000', 'db.rt:5: A: generic RDATA must have 4 octets, not 3'],
    ['x TYPE65534 \\# 4 0A00', 'db.rt:5: TYPE65534: generic RDATA has 2 octets, not 4'],
    ['x TYPE65536 \\# 0', 'db.rt:5: unknown or unsupported record type "TYPE65536"'],
    ['x CLASS3 A 10.0.0.1', 'db.rt:5: only class IN is served'],
    ['x DS 1 8 2 0g', 'db.rt:5: DS: bad digest "0g"'],
    ['x DNSKEY 257 3 13 !!', 'db.rt:5: DNSKEY: bad key "!!"'],
    ['x NSEC next.example. A BOGUS', 'db.rt:5: NSEC: bad type "BOGUS"'],
    ['x LOC 91 N 0 E 0m', 'db.rt:5: LOC: bad latitude'],
    ['x SVCB 1 . bogus=1', 'db.rt:5: SVCB: unknown parameter "bogus"'],
    ['x RRSIG A 13 2 300 2028-08-10 20180810112233 26125 example. YQ==', 'db.rt:5: RRSIG: bad time "2028-08-10"'],
    ['x EUI48 00-00-5e-00-53', 'db.rt:5: EUI48: bad address "00-00-5e-00-53"'],
    ['x APL 3:1.2.3.4/8', 'db.rt:5: APL: bad item "3:1.2.3.4/8"'],
    ['x WKS 192.0.2.1 tcp 25', 'db.rt:5: WKS: no presentation format known here; write it in RFC 3597 generic form (\\# length hex)'],
  ];
  it.each(cases)('%s', (line, message) => {
    expect(loadError([line])).toBe(message);
  });
});

describe('what the loader does with a whole zone, as BIND does', () => {
  it('RFC 3597 TYPEn and CLASSn stand for the known type and class', () => {
    const recs = parseMasterFile({ origin: ORIGIN, file: 'db.rt', text: `${HEAD.join('\n')}\na CLASS1 TYPE1 10.0.0.1\nb IN TYPE16 "hello"\n` });
    expect(recs.slice(-2).map((r) => `${r.name} ${typeName(r.type)} ${r.klass} ${wire(r.rdata).toString('hex')}`)).toEqual([
      'a.rt.test A 1 0a000001',
      'b.rt.test TXT 1 0568656c6c6f',
    ]);
  });

  it('identical records are one (RFC 2181 §5): a CNAME written twice loads', () => {
    expect(loadError(['www CNAME ns', 'www CNAME ns', 'www CNAME NS'])).toBe('loaded');
    expect(loadError(['www CNAME ns', 'www CNAME ns2'])).toBe('db.rt:6: www.rt.test: multiple RRs of singleton type');
  });

  it("a CNAME beside DNSSEC records loads; beside other data it is refused with BIND's reason", () => {
    expect(loadError(['www CNAME ns', 'www NSEC ns A', 'www RRSIG CNAME 13 2 300 20280810112233 20180810112233 1 rt.test. YQ=='])).toBe('loaded');
    expect(loadError(['www CNAME ns', 'www TXT "x"'])).toBe('db.rt:6: www.rt.test: CNAME and other data');
  });

  it('a wildcard cannot own NS records (RFC 4592 §4.2), as BIND refuses it', () => {
    expect(loadError(['* NS ns.example.'])).toBe('db.rt:5: *.rt.test: invalid NS owner name (wildcard)');
  });

  it("no $TTL and no TTL: the SOA minimum, with BIND's warning (RFC 2308 §4)", () => {
    const file = path.join(tmp.dir, 'nottl.zone');
    fs.writeFileSync(file, '@ SOA ns hostmaster 1 3600 600 86400 1234\n@ NS ns\nns A 192.0.2.53\nwww 60 A 192.0.2.80\nold A 192.0.2.81\n');
    const zone = loadZone({ origin: ORIGIN, file });
    expect(zone.warnings).toEqual([`${file}:1: no TTL specified; using SOA MINTTL instead`]);
    expect(zone.ns.ttl).toBe(1234);
    expect(zone.nodes.get('www.rt.test')!.rrsets.get(1)!.ttl).toBe(60);
    // $TTL's role is taken by the SOA minimum, not by the last TTL written (as BIND).
    expect(zone.nodes.get('old.rt.test')!.rrsets.get(1)!.ttl).toBe(1234);
  });

  it('an escaped dot is data inside its label: two labels, not three', () => {
    const zone = buildZone(ORIGIN, 'db.rt', parseMasterFile({ origin: ORIGIN, file: 'db.rt', text: `${HEAD.join('\n')}\na\\.b A 10.0.0.1\n` }));
    expect([...zone.nodes.keys()]).toContain('a\\.b.rt.test');
    expect(nameToWire('a\\.b.rt.test').toString('hex')).toBe(Buffer.from('\x03a.b\x02rt\x04test\x00', 'latin1').toString('hex'));
    expect(zone.nonTerminals.has('b.rt.test')).toBe(false);
  });
});
