// The answer rules where this server used to part from BIND 9.18 (issue 15), one test each,
// named after the rule and its RFC. Each question goes to our server and to BIND (`recursion no`,
// `minimal-responses no`) loading the same zone files: the test checks the rule on our reply and
// that BIND's reply is the same, so the expectation is BIND's and not a guess.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@sstt/runtime';
import { freePort, startServer, tempDir, type Started } from '@sstt/testkit';
import { createDnsServer } from '../src/server.ts';
import { testScenario } from './helpers.ts';
import { exchange } from './reference/client.ts';
import { startNamed, type Named } from './reference/named.ts';
import { compareShapes, encodeZoneQuery, presentationToWire, replyShape, type ReplyShape, type ZoneQuery } from './reference/shared-zones.ts';
import { TYPE } from '../src/wire.ts';

const chain = (prefix: string, n: number) => [
  ...Array.from({ length: n }, (_, i) => `${prefix}${i + 1} CNAME ${prefix}${i + 2}`),
  `${prefix}${n + 1} A 10.2.9.${n}`,
];

const ZONES: Record<string, string[]> = {
  'rules.test': [
    '$TTL 300',
    '@ SOA ns hostmaster 1 3600 600 86400 120',
    '@ NS ns',
    '@ NS ns2',
    'ns A 10.2.0.1',
    'ns2 A 10.2.0.2',
    ...chain('c', 11),
    ...chain('d', 12),
    'sub NS ns.sub',
    'ns.sub A 10.2.1.1',
    'sub DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    'nods NS ns.sub',
    'into-sub CNAME www.sub',
    'ref NS ns.other.test.',
    'mx MX 10 mail.other.test.',
    'a\\.b A 10.2.0.5',
    'txtg TXT \\# 6 0568656C6C6F',
    'dupl MX 10 some.rules.test.',
    'dupl MX 10 Some.rules.test.',
    'Foo A 10.2.0.6',
    'foo A 10.2.0.7',
    '\\192x A 10.2.0.8',
    'dn DNAME a-much-longer-target-for-the-dname.rules.test.',
    'x.a-much-longer-target-for-the-dname A 10.2.0.10',
    // A delegation to a name server elsewhere in this zone (the most common shape in real
    // zones) beside one with glue below the cut; an exchange that is glue; a CNAME to other.test.
    'o A 10.2.0.53',
    'o AAAA fd00::53',
    'garden NS o',
    'garden NS ns.garden',
    'ns.garden A 10.2.2.1',
    'ns.garden AAAA fd00::2:1',
    'mxglue MX 10 ns.garden',
    'to-other CNAME mail.other.test.',
  ],
  'other.test': ['$TTL 300', '@ SOA ns hostmaster 1 3600 600 86400 120', '@ NS ns', 'ns A 10.3.0.1', 'mail A 10.3.0.25'],
  'trunc.test': [
    '$TTL 300',
    '@ SOA ns0.example. hostmaster 1 3600 600 86400 120',
    // Each name server in a domain of its own: no suffix to compress, so both servers fit the
    // same number of records (BIND 9.18 does not compress against an earlier RDATA name).
    ...Array.from({ length: 16 }, (_, i) => `@ NS ns.name-server-with-a-long-name.example${String(i).padStart(2, '0')}.`),
    'host A 10.4.0.1',
  ],
};

const tmp = tempDir('sstt-dns-rules-');
let named: Named | undefined;
let ours: Started | undefined;

beforeAll(async () => {
  const zones = Object.entries(ZONES).map(([origin, lines]) => {
    const file = path.join(tmp.dir, `${origin}.zone`);
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    return { origin, file };
  });
  named = await startNamed({
    dir: path.join(tmp.dir, 'named'),
    host: '127.0.0.1',
    port: await freePort('127.0.0.1'),
    zones,
    // check-names: owners like a\.b and \192x are not host names; BIND refuses them by default.
    options: ['recursion no;', 'minimal-responses no;', 'dnssec-validation no;', 'allow-query { any; };', 'check-names primary ignore;'],
  });
  ours = await startServer(
    createDnsServer({
      scenario: testScenario(),
      host: '127.0.0.1',
      port: 0,
      zoneFiles: zones,
      forwarders: [],
      allowQuery: ['127.0.0.0/8'],
      log: silentLogger(),
    }),
  );
}, 60_000);

afterAll(async () => {
  await ours?.close();
  await named?.close();
  tmp.remove();
});

let nextId = 0x2000;

/** Asks both servers; checks that BIND agrees with us, and returns our reply. */
async function ask(name: string, type: number, more: Partial<ZoneQuery> & { ad?: boolean } = {}): Promise<ReplyShape> {
  const q: ZoneQuery = { label: name, qname: presentationToWire(name), qtype: type, tcp: false, edns: 1232, dnssecOk: false, rd: true, ...more };
  const msg = encodeZoneQuery(q, nextId++);
  if (more.ad) msg[3] = msg[3]! | 0x20;
  const b = await exchange({ host: '127.0.0.1', port: named!.port }, msg, q.tcp, 3000);
  const o = await exchange({ host: '127.0.0.1', port: ours!.port }, msg, q.tcp, 3000);
  expect(b, 'BIND answered').not.toBeNull();
  expect(o, 'we answered').not.toBeNull();
  const bs = replyShape(b!)!;
  const os = replyShape(o!)!;
  expect(compareShapes(bs, os), `BIND: ${JSON.stringify(bs, null, 1)}\nours: ${JSON.stringify(os, null, 1)}`).toEqual([]);
  return os;
}

const owners = (rs: string[]) => rs.map((r) => r.split(' ').slice(0, 4).join(' '));

describe('answer rules as BIND 9.18 applies them', () => {
  it('CNAME chains (RFC 1034 §4.3.2 step 3a): 11 CNAMEs are followed to the address', async () => {
    const r = await ask('c1.rules.test', TYPE.A);
    expect(r.rcode).toBe(0);
    expect(r.sections[0].filter((x) => x.includes(' CNAME '))).toHaveLength(11);
    expect(r.sections[0].some((x) => x.startsWith('c12.rules.test. 300 1 A '))).toBe(true);
  });

  it('CNAME chain limit: a 12th CNAME ends in SERVFAIL with EDE 0 "max. restarts reached" (RFC 8914 §4.1)', async () => {
    const r = await ask('d1.rules.test', TYPE.A);
    expect(r.rcode).toBe(2);
    expect(r.sections[0]).toHaveLength(12);
    expect(r.opt).toContain('EDE0');
  });

  it('a CNAME into a delegation answers the chain and the referral of that cut, not our apex NS (RFC 1034 §4.3.2 step 3b)', async () => {
    const r = await ask('into-sub.rules.test', TYPE.A);
    expect(r.flags).toContain(' aa');
    expect(owners(r.sections[0])).toEqual(['into-sub.rules.test. 300 1 CNAME']);
    expect(owners(r.sections[1])).toEqual(['sub.rules.test. 300 1 NS']);
    expect(owners(r.sections[2])).toEqual(['ns.sub.rules.test. 300 1 A']);
  });

  it('DS at a delegation point is answered from the parent side, authoritatively (RFC 4035 §3.1.4.1)', async () => {
    const r = await ask('sub.rules.test', TYPE.DS);
    expect(r.flags).toContain(' aa');
    expect(owners(r.sections[0])).toEqual(['sub.rules.test. 300 1 DS']);
    const none = await ask('nods.rules.test', TYPE.DS);
    expect(none.flags).toContain(' aa');
    expect(none.sections[0]).toEqual([]);
    expect(owners(none.sections[1])).toEqual(['rules.test. 120 1 SOA']);
  });

  it('without recursion, a referral carries glue only and additional data comes from the same zone (RFC 1034 §4.3.2 step 3b, RFC 9471 §2)', async () => {
    const r = await ask('www.ref.rules.test', TYPE.A, { rd: false });
    expect(r.flags).not.toContain(' aa');
    expect(owners(r.sections[1])).toEqual(['ref.rules.test. 300 1 NS']);
    expect(r.sections[2]).toEqual([]);
    const glue = await ask('www.sub.rules.test', TYPE.A, { rd: false });
    expect(owners(glue.sections[2])).toEqual(['ns.sub.rules.test. 300 1 A']);
    const mx = await ask('mx.rules.test', TYPE.MX);
    expect(mx.sections[2].filter((x) => x.includes('other.test'))).toEqual([]);
  });

  it("a referral's additional section is glue only: a name server elsewhere in the parent zone gets no address (RFC 1034 §4.3.2 step 3b)", async () => {
    const r = await ask('www.garden.rules.test', TYPE.A, { rd: false });
    expect(r.flags).not.toContain(' aa');
    expect(r.sections[1]).toHaveLength(2);
    expect(owners(r.sections[2])).toEqual(['ns.garden.rules.test. 300 1 A', 'ns.garden.rules.test. 300 1 AAAA']);
    const cut = await ask('garden.rules.test', TYPE.NS, { rd: false });
    expect(owners(cut.sections[2])).toEqual(['ns.garden.rules.test. 300 1 A', 'ns.garden.rules.test. 300 1 AAAA']);
  });

  it('a positive answer takes no address from below a cut: glue goes with referrals only (RFC 1034 §4.3.2 step 6)', async () => {
    const r = await ask('mxglue.rules.test', TYPE.MX);
    expect(owners(r.sections[0])).toEqual(['mxglue.rules.test. 300 1 MX']);
    expect(owners(r.sections[2])).toEqual(['ns.rules.test. 300 1 A', 'ns2.rules.test. 300 1 A']);
  });

  it('without recursion a CNAME into another of our zones ends the answer: the CNAME alone, no authority, no additional (RFC 1034 §4.3.2 step 3a)', async () => {
    const r = await ask('to-other.rules.test', TYPE.A);
    expect(r.rcode).toBe(0);
    expect(r.flags).toBe('opcode0 qr aa rd');
    expect(owners(r.sections[0])).toEqual(['to-other.rules.test. 300 1 CNAME']);
    expect(r.sections[1]).toEqual([]);
    expect(r.sections[2]).toEqual([]);
  });

  it('an escaped dot is part of its label (RFC 1035 §5.1, RFC 4343 §2.1)', async () => {
    const r = await ask('a\\.b.rules.test', TYPE.A);
    expect(r.sections[0]).toEqual(['a\\.b.rules.test. 300 1 A 0a020005']);
    const split = await ask('a.b.rules.test', TYPE.A);
    expect(split.rcode).toBe(3);
  });

  it('TXT written in RFC 3597 generic form is one string (RFC 3597 §5)', async () => {
    const r = await ask('txtg.rules.test', TYPE.TXT);
    expect(r.sections[0]).toEqual([`txtg.rules.test. 300 1 TXT ${Buffer.from('\x05hello').toString('hex')}`]);
  });

  it('truncation without EDNS keeps the NS records that fit in authority, and never sets AD (RFC 2181 §9, RFC 6840 §5.8)', async () => {
    const r = await ask('host.trunc.test', TYPE.A, { edns: undefined, ad: true });
    expect(r.flags).toBe('opcode0 qr aa tc rd');
    expect(r.sections[0]).toHaveLength(1);
    // Part of the NS RRset (as many records as fit in 512 octets), not none and not all.
    expect(r.sections[1].length).toBeGreaterThan(0);
    expect(r.sections[1].length).toBeLessThan(16);
    const all = await ask('host.trunc.test', TYPE.A, { tcp: true, edns: undefined, ad: true });
    expect(all.sections[1]).toHaveLength(16);
    expect(all.flags).not.toContain(' ad');
  });

  it('identical records differing in case keep the spelling BIND keeps; owners keep their first spelling (RFC 4343 §3, RFC 2181 §5)', async () => {
    const r = await ask('dupl.rules.test', TYPE.MX);
    expect(r.sections[0]).toEqual(['dupl.rules.test. 300 1 MX 10 Some.rules.test.']);
    const foo = await ask('FOO.rules.test', TYPE.A);
    expect(owners(foo.sections[0])).toEqual(['Foo.rules.test. 300 1 A', 'Foo.rules.test. 300 1 A']);
  });

  it('case folding is ASCII only: \\224 does not match \\192, while X matches x (RFC 4343 §3)', async () => {
    const latin = await ask('\\224x.rules.test', TYPE.A);
    expect(latin.rcode).toBe(3);
    const ascii = await ask('\\192X.rules.test', TYPE.A);
    expect(ascii.rcode).toBe(0);
    expect(ascii.sections[0]).toHaveLength(1);
  });

  it('RA only where recursion is available to the client: not here (RFC 1035 §4.1.1)', async () => {
    const r = await ask('ns.rules.test', TYPE.A);
    expect(r.flags).toBe('opcode0 qr aa rd');
  });

  it('without recursion a name outside our zones is REFUSED, without RA (RFC 1035 §4.3.1)', async () => {
    const r = await ask('www.example.org', TYPE.A);
    expect(r.rcode).toBe(5);
    expect(r.flags).toBe('opcode0 qr rd');
  });

  it('DNAME: the DNAME, a CNAME synthesised from it with its TTL, and the answer at the new name (RFC 6672 §3.1)', async () => {
    const r = await ask('x.dn.rules.test', TYPE.A);
    expect(owners(r.sections[0]).sort()).toEqual([
      'dn.rules.test. 300 1 DNAME',
      'x.a-much-longer-target-for-the-dname.rules.test. 300 1 A',
      'x.dn.rules.test. 300 1 CNAME',
    ]);
  });

  it("DNAME: the synthesised CNAME keeps the question's spelling in owner and target, as BIND (RFC 6672 §3.1, RFC 4343 §4)", async () => {
    const r = await ask('X.Dn.RULES.test', TYPE.A);
    expect(r.sections[0]).toContain('X.Dn.RULES.test. 300 1 CNAME X.a-much-longer-target-for-the-dname.rules.test. ');
    // Made for each question, never kept: the next spelling gets its own.
    const again = await ask('x.DN.rules.TEST', TYPE.A);
    expect(again.sections[0]).toContain('x.DN.rules.TEST. 300 1 CNAME x.a-much-longer-target-for-the-dname.rules.test. ');
  });

  it('DNAME: a substitution longer than 255 octets is YXDOMAIN (RFC 6672 §2.2)', async () => {
    const pad = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(255 - 3 * 64 - 'dn.rules.test'.length - 3)];
    const r = await ask(`${pad.join('.')}.dn.rules.test`, TYPE.A);
    expect(r.rcode).toBe(6);
    expect(owners(r.sections[0])).toEqual(['dn.rules.test. 300 1 DNAME']);
  });
});
