// Differential test against BIND 9 (issue 4): the reference named (Debian bind9, the generated
// named.conf.options with `minimal-responses no`, the generated zone files) and our server load
// the same zones and forward to the same local upstream stub (a second named, authoritative for
// fake outside zones; never a real resolver). Every query goes to both; rcode, flags, question,
// OPT and the three sections must match (order-insensitive; TTLs exact except after a cache).
// Differences are written down in apps/dns/FINDINGS.md; this test keeps asserting BIND's answer.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario, type Scenario } from '@sstt/scenario';
import { silentLogger } from '@sstt/runtime';
import { requireTool, run, startServer, tempDir, type Started } from '@sstt/testkit';
import { createDnsServer } from '../src/server.ts';
import { buildQuery, exchange, exchangeTcpPipelined, shapeOf, type Query, type Server } from './reference/client.ts';
import { compareReplies, describe as describeDiff } from './reference/compare.ts';
import type { Named } from './reference/named.ts';
import { extraQueries, forwardedQueries, labQueries, refusedQueries } from './reference/queries.ts';
import { LOOPBACK, startReferenceBind, startUpstream } from './reference/reference.ts';
import { EXTRA_ORIGIN, extraZoneText, labNamedOptions, labZoneFiles, OUTSIDE, type ZoneFile } from './reference/zones.ts';

/**
 * The lab profile (the zone files are then the ones committed in infra/bind/), with
 * `allow-query` narrowed from all of 127.0.0.0/8 to 127.0.0.1/32 so that a second loopback
 * address is a client outside it (REFUSED), in BIND's options and ours alike.
 */
function scenario(tmp: string, forwarder?: Server): Scenario {
  const env: NodeJS.ProcessEnv = { SSTT_PROFILE: 'lab', SSTT_CERTS_DIR: tmp, SSTT_DATA_DIR: tmp };
  // Even the scenario's forwarders point at the stub: nothing may reach the lab's resolvers.
  env.SSTT_DNS_FORWARDERS = forwarder ? `${forwarder.host}:${forwarder.port}` : `${LOOPBACK}:9`;
  const lab = loadScenario({ env, flags: {}, configFile: undefined });
  const configFile = path.join(tmp, 'sstt.config.json');
  fs.writeFileSync(configFile, JSON.stringify({ dns: { allowQuery: [lab.network.lan, `${LOOPBACK}/32`, '::1/128'] } }));
  return loadScenario({ env, flags: {}, configFile });
}

const listTmp = tempDir('sstt-dns-diff-list-');
const listScenario = scenario(listTmp.dir);
const QUERIES: Query[] = [...labQueries(listScenario), ...extraQueries(listScenario.domain), ...forwardedQueries(), ...refusedQueries(listScenario)];
listTmp.remove();

let tmp: ReturnType<typeof tempDir>;
let upstream: Named | undefined;
let bind: Named | undefined;
let ours: Started | undefined;
let oursServer: Server;
let s: Scenario;
const report: string[] = [];
let nextId = 0x1000;

beforeAll(async () => {
  tmp = tempDir('sstt-dns-diff-');
  upstream = await startUpstream(path.join(tmp.dir, 'upstream'));
  s = scenario(tmp.dir, upstream);
  const zoneDir = path.join(tmp.dir, 'zones');
  fs.mkdirSync(zoneDir);
  const zones: ZoneFile[] = labZoneFiles(s, zoneDir);
  const extra = path.join(zoneDir, `extra.${EXTRA_ORIGIN}.zone`);
  fs.writeFileSync(extra, extraZoneText(s.domain));
  zones.push({ origin: EXTRA_ORIGIN, file: extra });
  const options = labNamedOptions(s);
  if (!options) throw new Error('the bind generator wrote no named.conf.options');
  bind = await startReferenceBind(path.join(tmp.dir, 'bind'), zones, options, upstream);
  ours = await startServer(
    createDnsServer({
      scenario: s,
      host: LOOPBACK,
      port: 0,
      zoneFiles: zones,
      forwarders: [{ host: upstream.host, port: upstream.port }],
      log: silentLogger(),
    }),
  );
  oursServer = { host: LOOPBACK, port: ours.port };
}, 60_000);

afterAll(async () => {
  await ours?.close();
  await bind?.close();
  await upstream?.close();
  tmp?.remove();
  // SSTT_DIFF_REPORT=file writes every difference found, in FINDINGS.md's format.
  if (process.env.SSTT_DIFF_REPORT) fs.writeFileSync(process.env.SSTT_DIFF_REPORT, report.join('\n'));
}, 30_000);

describe('differential test against BIND 9 (minimal-responses no, same zone files, same upstream)', () => {
  it('sends at least 40 queries covering every name and type of the zones', () => {
    expect(QUERIES.length).toBeGreaterThanOrEqual(40);
    for (const n of listScenario.names) expect(QUERIES.some((q) => q.name === n.fqdn && q.type === 'A')).toBe(true);
    for (const t of ['SOA', 'NS', 'MX', 'SRV', 'PTR']) expect(QUERIES.some((q) => q.type === t)).toBe(true);
    expect(QUERIES.some((q) => q.name.endsWith(OUTSIDE.domain))).toBe(true);
    expect(listScenario.dns.allowQuery).toContain(`${LOOPBACK}/32`);
  });

  for (const q of QUERIES) {
    it(`${q.label}: ${q.name || '(raw)'} ${q.type}`, async () => {
      const idB = nextId++;
      const idO = nextId++;
      const b = await exchange(bind!, buildQuery(q, idB), !!q.tcp, q.timeoutMs, q.source);
      const o = await exchange(oursServer, buildQuery(q, idO), !!q.tcp, q.timeoutMs, q.source);
      if (q.timeoutMs === undefined) expect(b, `BIND did not answer ${q.label}:\n${bind!.log().slice(-2000)}`).not.toBeNull();
      if (o) expect(shapeOf(o).id, 'reply id').toBe(idO);
      const diffs = compareReplies(q, b, o);
      if (diffs.length) report.push(describeDiff(q, b, o, diffs));
      expect(diffs, describeDiff(q, b, o, diffs)).toEqual([]);
    });
  }
});

describe('pipelined queries on one TCP connection (RFC 7766 §6.2.1.1)', () => {
  it('answers each of five pipelined queries as BIND does', async () => {
    const d = listScenario.domain;
    const qs: Query[] = [
      { label: 'p1', name: `www.${d}`, type: 'A', edns: 1232 },
      { label: 'p2', name: d, type: 'MX' },
      { label: 'p3', name: `nope.${d}`, type: 'A', edns: 1232 },
      { label: 'p4', name: `www.${d}`, type: 'AAAA' },
      { label: 'p5', name: `_pop3._tcp.${d}`, type: 'SRV', edns: 4096 },
    ];
    const ids = qs.map((_, i) => 0x7000 + i);
    const b = await exchangeTcpPipelined(
      bind!,
      qs.map((q, i) => buildQuery(q, ids[i]!)),
    );
    const o = await exchangeTcpPipelined(
      oursServer,
      qs.map((q, i) => buildQuery(q, ids[i]!)),
    );
    expect([...b.keys()].sort()).toEqual(ids);
    expect([...o.keys()].sort()).toEqual(ids);
    for (const [i, q] of qs.entries()) {
      const diffs = compareReplies(q, b.get(ids[i]!)!, o.get(ids[i]!)!);
      expect(diffs, describeDiff(q, b.get(ids[i]!)!, o.get(ids[i]!)!, diffs)).toEqual([]);
    }
  });
});

/** dig/kdig output without what legitimately varies (id, timing, server address, sizes). */
function normalizeDigOutput(text: string, dropTtl = false): string[] {
  const out: string[] = [];
  let section = '';
  const rrs: string[] = [];
  const flush = () => {
    out.push(...rrs.sort());
    rrs.length = 0;
  };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+/g, ' ').trim();
    if (!line) continue;
    if (/^;; (Query time|SERVER|WHEN|MSG SIZE|Received|Time|From|global options)|^; <<>>|^; \(\d+ server/.test(line)) continue;
    if (/^;; ->>HEADER<<-/.test(line)) {
      out.push(line.replace(/id: \d+/, 'id: *'));
      continue;
    }
    if (/^;; [A-Z ]+SECTION:?|^;; [A-Z ]+PSEUDOSECTION:?/i.test(line)) {
      flush();
      section = line;
      out.push(section);
      continue;
    }
    if (line.startsWith(';')) {
      flush();
      out.push(line);
      continue;
    }
    // Forwarded answers were cached at slightly different moments: their TTLs may differ.
    rrs.push(dropTtl ? line.replace(/^(\S+) \d+ /, '$1 * ') : line);
  }
  flush();
  return out;
}

describe('dig and kdig see the same answers from both servers', () => {
  const digCases = (d: string): Array<{ tool: 'dig' | 'kdig'; args: string[]; forwarded?: boolean }> => [
    { tool: 'dig', args: ['+nocookie', `www.${d}`, 'A'] },
    { tool: 'dig', args: ['+nocookie', '+norec', d, 'MX'] },
    { tool: 'dig', args: ['+nocookie', '+tcp', `nope.${d}`, 'A'] },
    { tool: 'dig', args: ['+nocookie', '+noedns', `_submission._tcp.${d}`, 'SRV'] },
    { tool: 'dig', args: ['+nocookie', '-x', listScenario.network.server] },
    { tool: 'kdig', args: ['+tcp', `www.${d}`, 'AAAA'] },
    { tool: 'kdig', args: [`autoconfig.${d}`, 'A'] },
    { tool: 'kdig', args: [`web.${OUTSIDE.domain}`, 'A'], forwarded: true },
  ];
  for (const c of digCases(listScenario.domain)) {
    it(`${c.tool} ${c.args.join(' ')}`, async () => {
      const tool = requireTool(c.tool);
      const common = c.tool === 'dig' ? ['+time=3', '+tries=1'] : ['+time=3', '+retry=0'];
      const b = await run(tool, [`@${LOOPBACK}`, '-p', String(bind!.port), ...common, ...c.args]);
      const o = await run(tool, [`@${LOOPBACK}`, '-p', String(oursServer.port), ...common, ...c.args]);
      expect(b.code, b.stderr + b.stdout).toBe(0);
      expect(normalizeDigOutput(o.stdout, c.forwarded)).toEqual(normalizeDigOutput(b.stdout, c.forwarded));
    });
  }
});
