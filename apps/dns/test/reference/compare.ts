// Comparing our reply with BIND's: rcode, opcode, flags, question (exact case), OPT, and the
// answer/authority/additional RRsets order-insensitively; TTLs exactly, except where a cache
// explains a difference (forwarded answers: `ttlSlack` seconds). A truncated (TC) reply's partial
// answer depends on BIND's RRset rotation, so only its size and names are compared.
import type { Query } from './client.ts';
import { shapeOf, ttlsOf, type Shape } from './client.ts';

export interface Difference {
  what: string;
  bind: unknown;
  ours: unknown;
}

const SECTIONS = ['answer', 'authority', 'additional'] as const;

export function compareReplies(q: Query, bind: Buffer | null, ours: Buffer | null): Difference[] {
  if (bind === null || ours === null) {
    return bind === ours ? [] : [{ what: 'reply', bind: bind ? 'a reply' : 'no reply', ours: ours ? 'a reply' : 'no reply' }];
  }
  const b = shapeOf(bind, false);
  const o = shapeOf(ours, false);
  const diffs: Difference[] = [];
  for (const k of ['rcode', 'opcode', 'flags', 'opt'] as const) if (b[k] !== o[k]) diffs.push({ what: k, bind: b[k], ours: o[k] });
  if (JSON.stringify(b.question) !== JSON.stringify(o.question)) diffs.push({ what: 'question', bind: b.question, ours: o.question });
  const truncated = b.flags.split(' ').includes('tc');
  for (const sec of SECTIONS) {
    if (truncated && sec === 'answer') {
      const names = (s: Shape) => [...new Set(s.answer.map((r) => r.split(' ').slice(0, 3).join(' ')))].sort();
      if (b.answer.length !== o.answer.length) diffs.push({ what: 'answer count (TC)', bind: b.answer.length, ours: o.answer.length });
      if (JSON.stringify(names(b)) !== JSON.stringify(names(o))) diffs.push({ what: 'answer owners/types (TC)', bind: names(b), ours: names(o) });
      continue;
    }
    const missing = b[sec].filter((r) => !o[sec].includes(r));
    const extra = o[sec].filter((r) => !b[sec].includes(r));
    if (missing.length || extra.length || b[sec].length !== o[sec].length) diffs.push({ what: sec, bind: b[sec], ours: o[sec] });
  }
  // TTLs of the records both replies hold.
  const bt = ttlsOf(bind);
  const ot = ttlsOf(ours);
  const slack = q.ttlSlack ?? 0;
  for (const [rr, ttl] of bt) {
    const mine = ot.get(rr);
    if (mine !== undefined && Math.abs(mine - ttl) > slack) diffs.push({ what: `TTL of ${rr}`, bind: ttl, ours: mine });
  }
  return diffs;
}

/** A readable account of one query's differences, for FINDINGS.md and test failures. */
export function describe(q: Query, bind: Buffer | null, ours: Buffer | null, diffs: Difference[]): string {
  const how = [q.tcp ? 'TCP' : 'UDP', q.edns === undefined ? 'no EDNS' : `EDNS ${q.edns}`, q.rd === false ? 'RD=0' : 'RD=1'];
  if (q.ednsVersion) how.push(`EDNS version ${q.ednsVersion}`);
  if (q.dnssecOk) how.push('DO');
  if (q.opcode) how.push(`opcode ${q.opcode}`);
  const lines = [`### ${q.label}`, '', `Query: \`${q.raw ? '(hand-made message)' : `${q.name} ${q.type}`}\` (${how.join(', ')})`, ''];
  for (const d of diffs) lines.push(`- ${d.what}: BIND \`${JSON.stringify(d.bind)}\`, ours \`${JSON.stringify(d.ours)}\``);
  lines.push(
    '',
    'BIND:',
    '```',
    bind ? JSON.stringify(shapeOf(bind), null, 1) : 'no reply',
    '```',
    'Ours:',
    '```',
    ours ? JSON.stringify(shapeOf(ours), null, 1) : 'no reply',
    '```',
    '',
  );
  return lines.join('\n');
}
