// BIND's $GENERATE directive in the master-file reader: what each line expands to, and the exact
// refusals, each checked against named-checkzone (BIND 9.18) reading the same file, so that the
// expectation is BIND's and not a guess.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireTool, run, tempDir } from '@sstt/testkit';
import { parseMasterFile, ZoneFileError, type ParsedRecord } from '../src/zone/master-file.ts';
import { buildZone } from '../src/zone/zone.ts';
import { nameToWire, typeName } from '../src/wire.ts';

const tmp = tempDir('sstt-dns-generate-');
afterAll(() => tmp.remove());

const FILE = 'db.ex';
const HEAD = ['$TTL 60', '@ SOA ns admin 1 2 3 4 5', '@ NS ns', 'ns A 10.0.0.1'];

/** named-checkzone's reading of `lines` as the zone ex.test in db.ex: its dump and its messages. */
async function bind(lines: string[]): Promise<{ ok: boolean; dump: string[]; output: string }> {
  fs.writeFileSync(path.join(tmp.dir, FILE), `${lines.join('\n')}\n`);
  const r = await run(requireTool('named-checkzone'), ['-k', 'ignore', '-i', 'none', '-D', '-o', '-', 'ex.test', FILE], { cwd: tmp.dir });
  const dump = r.stdout
    .split('\n')
    .filter((l) => /^\S+\s+\d+\s+IN\s/.test(l))
    .map((l) => l.replace(/\s+/g, ' ').trim());
  return { ok: r.code === 0, dump, output: r.stdout + r.stderr };
}

/** A record as owner, TTL, type and RDATA in wire form: equal exactly when the records are. */
function key(r: ParsedRecord): string {
  const wire = Buffer.concat(r.rdata.map((p) => (Buffer.isBuffer(p) ? p : nameToWire(p.name))));
  return `${r.name} ${r.ttl} ${typeName(r.type)} ${wire.toString('hex')}`;
}

/** The records of a zone once built (out-of-zone data dropped), as keys, sorted. */
function keys(text: string, warnings: string[] = []): string[] {
  const zone = buildZone('ex.test', FILE, parseMasterFile({ origin: 'ex.test', file: FILE, text, warnings }), warnings);
  warnings.splice(0, warnings.length, ...zone.warnings);
  return [...zone.nodes.values()].flatMap((n) => [...n.rrsets.values()].flatMap((s) => s.records.map(key))).sort();
}

function ourError(lines: string[]): string {
  try {
    keys(`${lines.join('\n')}\n`);
  } catch (err) {
    if (err instanceof ZoneFileError) return err.message;
    throw err;
  }
  return 'loaded';
}

describe('$GENERATE expands as BIND 9.18 expands it', () => {
  const zone = [
    ...HEAD,
    '$GENERATE 1-3 host$ A 10.0.0.$',
    '$GENERATE 1-10/4 h${0,3,d} 300 A 10.0.0.${10}',
    '$GENERATE 250-252 h${0,0,x}-${0,4,X}-${0,0,o} CNAME ${-1,2,d}',
    '$GENERATE 1024-1025 ${-2000,0,n}.n AAAA 2001:db8::${0,4,x}',
    '$GENERATE 10-11 ${0,7,N}.rev IN 120 PTR host-$.example.',
    '$GENERATE 1-2 $$\\$x${1} TXT "v $ \\$ $$ ${1,3}"',
    '$GENERATE 1-2 m$ MX "10 mail$"',
    '$GENERATE 3-3 s$ SRV "0 1 $ t$"',
    '$GENERATE 1-1 x$.other. A 10.0.0.$',
    'www A 10.0.0.5',
    '$GENERATE 7-7 g$ A 10.0.0.$',
    '  TXT "the owner before the $GENERATE line"',
    '$ORIGIN sub.ex.test.',
    '$GENERATE 1-1 d$ DNAME y$',
  ];
  // named-checkzone -D prints these (whitespace folded), the zone's own SOA, NS and ns A aside.
  const expected = [
    '\\$\\$x2.ex.test. 60 IN TXT "v" "1" "$" "$" "002"',
    '\\$\\$x3.ex.test. 60 IN TXT "v" "2" "$" "$" "003"',
    'ex.test. 60 IN NS ns.ex.test.',
    'ex.test. 60 IN SOA ns.ex.test. admin.ex.test. 1 2 3 4 5',
    'g7.ex.test. 60 IN A 10.0.0.7',
    'h001.ex.test. 300 IN A 10.0.0.11',
    'h005.ex.test. 300 IN A 10.0.0.15',
    'h009.ex.test. 300 IN A 10.0.0.19',
    'hfa-00FA-372.ex.test. 60 IN CNAME 249.ex.test.',
    'hfb-00FB-373.ex.test. 60 IN CNAME 250.ex.test.',
    'hfc-00FC-374.ex.test. 60 IN CNAME 251.ex.test.',
    'host1.ex.test. 60 IN A 10.0.0.1',
    'host2.ex.test. 60 IN A 10.0.0.2',
    'host3.ex.test. 60 IN A 10.0.0.3',
    'm1.ex.test. 60 IN MX 10 mail1.ex.test.',
    'm2.ex.test. 60 IN MX 10 mail2.ex.test.',
    '0.3.c.f.f.f.f.f.n.ex.test. 60 IN AAAA 2001:db8::400',
    '1.3.c.f.f.f.f.f.n.ex.test. 60 IN AAAA 2001:db8::401',
    'ns.ex.test. 60 IN A 10.0.0.1',
    'A.0.0.0.rev.ex.test. 120 IN PTR host-10.example.',
    'B.0.0.0.rev.ex.test. 120 IN PTR host-11.example.',
    's3.ex.test. 60 IN SRV 0 1 3 t3.ex.test.',
    'd1.sub.ex.test. 60 IN DNAME y1.sub.ex.test.',
    'www.ex.test. 60 IN A 10.0.0.5',
    'www.ex.test. 60 IN TXT "the owner before the $GENERATE line"',
  ];

  it('offsets, widths, the bases d o x X n N, steps, $$ and \\$, quoted data, TTL and class, origins', async () => {
    const b = await bind(zone);
    expect(b.output).toContain('db.ex:13: ignoring out-of-zone data (x1.other)');
    expect([...b.dump].sort()).toEqual([...expected].sort());
    const warnings: string[] = [];
    expect(keys(`${zone.join('\n')}\n`, warnings)).toEqual(keys(`$ORIGIN .\n${expected.join('\n')}\n`));
    expect(warnings).toEqual(['db.ex:13: ignoring out-of-zone data (x1.other)']);
  });

  it('names the $GENERATE line in every record it makes', () => {
    const records = parseMasterFile({ origin: 'ex.test', file: FILE, text: `${HEAD.join('\n')}\n$GENERATE 1-3 host$ A 10.0.0.$\n` });
    expect(records.slice(HEAD.length - 1).map((r) => `${r.name}@${r.line}`)).toEqual(['host1.ex.test@5', 'host2.ex.test@5', 'host3.ex.test@5']);
  });
});

describe('$GENERATE refusals: file:line, and the reason BIND gives', () => {
  // [the $GENERATE line, our message, what named-checkzone prints for it]
  const cases: Array<[string, string, string]> = [
    ['$GENERATE 5-1 h$ A 10.0.0.1', "db.ex:5: $GENERATE: invalid range '5-1'", "$GENERATE: db.ex:5: invalid range '5-1'"],
    ['$GENERATE 1- h$ A 10.0.0.1', "db.ex:5: $GENERATE: invalid range '1-'", "$GENERATE: db.ex:5: invalid range '1-'"],
    ['$GENERATE 1 h$ A 10.0.0.1', "db.ex:5: $GENERATE: invalid range '1'", "$GENERATE: db.ex:5: invalid range '1'"],
    ['$GENERATE a-b h$ A 10.0.0.1', "db.ex:5: $GENERATE: invalid range 'a-b'", "$GENERATE: db.ex:5: invalid range 'a-b'"],
    ['$GENERATE -1-5 h$ A 10.0.0.1', "db.ex:5: $GENERATE: invalid range '-1-5'", "$GENERATE: db.ex:5: invalid range '-1-5'"],
    ['$GENERATE 1--5 h$ A 10.0.0.1', "db.ex:5: $GENERATE: invalid range '1--5'", "$GENERATE: db.ex:5: invalid range '1--5'"],
    ['$GENERATE 1-5/0 h$ A 10.0.0.1', "db.ex:5: $GENERATE: invalid range '1-5/0'", "$GENERATE: db.ex:5: invalid range '1-5/0'"],
    ['$GENERATE 1-5/ h$ A 10.0.0.1', "db.ex:5: $GENERATE: invalid range '1-5/'", "$GENERATE: db.ex:5: invalid range '1-5/'"],
    ['$GENERATE 1-5/-2 h$ A 10.0.0.1', "db.ex:5: $GENERATE: invalid range '1-5/-2'", "$GENERATE: db.ex:5: invalid range '1-5/-2'"],
    [
      '$GENERATE 2147483647-2147483648 h$ A 10.0.0.1',
      "db.ex:5: $GENERATE: invalid range '2147483647-2147483648'",
      "$GENERATE: db.ex:5: invalid range '2147483647-2147483648'",
    ],
    ['$GENERATE 1-2 h$ BOGUS 1', "db.ex:5: $GENERATE: unknown RR type 'BOGUS'", "$GENERATE: db.ex:5: unknown RR type 'BOGUS'"],
    ['$GENERATE 1-2 h$ OPT 1', "db.ex:5: $GENERATE: meta RR type 'OPT'", "$GENERATE: db.ex:5: meta RR type 'OPT'"],
    ['$GENERATE 1-2 h${1,2,q} A 10.0.0.1', "db.ex:5: $GENERATE: syntax error in '${1,2,q}'", '$GENERATE: db.ex:5: syntax error'],
    ['$GENERATE 1-2 h${1,2 A 10.0.0.1', "db.ex:5: $GENERATE: syntax error in '${1,2'", '$GENERATE: db.ex:5: syntax error'],
    ['$GENERATE 1-2 h${} A 10.0.0.1', "db.ex:5: $GENERATE: syntax error in '${}'", '$GENERATE: db.ex:5: syntax error'],
    ['$GENERATE 1-2 h${2147483647} A 10.0.0.1', 'db.ex:5: $GENERATE: out of range', '$GENERATE: db.ex:5: out of range'],
    ['$GENERATE 1-1 h${0,200} A 10.0.0.1', 'db.ex:5: $GENERATE: ran out of space', '$GENERATE: db.ex:5: ran out of space'],
    ['$GENERATE 1-2 h$ A', 'db.ex:5: $GENERATE: unexpected end of line', 'dns_master_load: db.ex:5: unexpected end of line'],
    [
      '$GENERATE 1-2 m$ MX 10 mail$',
      'db.ex:5: $GENERATE: extra input text "mail$" (the data is one field: quote it when it holds spaces)',
      'dns_master_load: db.ex:5: extra input text',
    ],
    ['$GENERATE 1-2 h$ CH A 10.0.0.1', 'db.ex:5: $GENERATE: only class IN is served', "db.ex:5: class 'CH' != zone class 'IN'"],
    ['$GENERATE 1-2 h$ A 10.0.0.${300}', 'db.ex:5: $GENERATE: A: bad IPv4 address "10.0.0.301"', '$GENERATE: db.ex:5: bad dotted quad'],
  ];
  it.each(cases)('%s', async (line, ours, theirs) => {
    expect(ourError([...HEAD, line])).toBe(ours);
    const b = await bind([...HEAD, line]);
    expect(b.ok, b.output).toBe(false);
    expect(b.output).toContain(theirs);
  });

  it('without $TTL or a TTL before it, the line has no TTL (BIND: "no TTL specified")', async () => {
    const lines = ['$GENERATE 1-2 h$ A 10.0.0.$', ...HEAD.slice(1)];
    expect(ourError(lines)).toBe('db.ex:1: $GENERATE: no TTL: add a $TTL line or a TTL to the first record');
    expect((await bind(lines)).output).toContain('dns_master_load: db.ex:1: no TTL specified');
  });
});
