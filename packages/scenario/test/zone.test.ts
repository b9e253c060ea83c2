// The zones as data: the records the scenario implies, their presentation form (RFC 1035 §5.1)
// and the one serial rule (a digest of the records, the same wherever it is computed).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../src/load.ts';
import { ownerText, rdataText, recordText, scenarioZones, soaOf, zoneSerial, type ResourceRecord } from '../src/zone.ts';

// No DKIM key (an empty certs directory): the records below do not depend on this machine's keys.
const noCerts = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-zone-'));
afterAll(() => fs.rmSync(noCerts, { recursive: true, force: true }));
const scenario = (env: Record<string, string> = {}) =>
  loadScenario({ env: { SSTT_CERTS_DIR: noCerts, ...env }, resolvConfPath: '/dev/null', configFile: undefined });

describe('scenarioZones', () => {
  it("the lab's forward zone: SOA, NS, MX, SPF, one A per name, the RFC 6186 SRVs, autoconfig and DMARC, in that order", () => {
    const s = scenario({ SSTT_PROFILE: 'lab' });
    const [fwd] = scenarioZones(s);
    const d = s.domain;
    const p = s.listen.ports;
    const soa = soaOf(fwd!);
    expect(fwd!.records.map(recordText)).toEqual([
      `${d}.\t3600\tIN\tSOA\tdns.${d}. hostmaster.${d}. ${soa.serial} 3600 900 604800 300`,
      `${d}.\t3600\tIN\tNS\tdns.${d}.`,
      `${d}.\t3600\tIN\tMX\t10 smtp.${d}.`,
      `${d}.\t3600\tIN\tTXT\t"v=spf1 mx ip4:${s.network.lan} ip4:127.0.0.1 -all"`,
      ...s.names.map((n) => `${n.fqdn}.\t3600\tIN\tA\t${n.address}`),
      `_submission._tcp.${d}.\t3600\tIN\tSRV\t0 1 ${p.submission} smtp.${d}.`,
      `_imap._tcp.${d}.\t3600\tIN\tSRV\t0 1 ${p.imap} mail.${d}.`,
      `_imaps._tcp.${d}.\t3600\tIN\tSRV\t0 1 ${p.imaps} mail.${d}.`,
      `_pop3._tcp.${d}.\t3600\tIN\tSRV\t10 1 ${p.pop3} pop.${d}.`,
      `_pop3s._tcp.${d}.\t3600\tIN\tSRV\t10 1 ${p.pop3s} pop.${d}.`,
      `autoconfig.${d}.\t3600\tIN\tCNAME\twww.${d}.`,
      // No key minted: no DKIM record (mail-auth.test.ts has the zone with keys).
      `_dmarc.${d}.\t3600\tIN\tTXT\t"v=DMARC1; p=reject; rua=mailto:postmaster@${d}"`,
    ]);
  });

  it('the reverse zone: one PTR per machine of the LAN', () => {
    const s = scenario();
    const [, rev] = scenarioZones(s);
    const r = s.network.reverseZone;
    const last = (a: string) => a.split('.').at(-1);
    expect(rev!.origin).toBe(r);
    expect(rev!.records.slice(1).map(recordText)).toEqual([
      `${r}.\t3600\tIN\tNS\tdns.${s.domain}.`,
      `${last(s.network.server)}.${r}.\t3600\tIN\tPTR\tservidor.${s.domain}.`,
      `${last(s.network.client)}.${r}.\t3600\tIN\tPTR\tcliente.${s.domain}.`,
    ]);
  });
});

describe('the serial', () => {
  it('is the digest of the records: the same for the same scenario, wherever computed', () => {
    const a = scenarioZones(scenario({ SSTT_PROFILE: 'lab' }));
    const b = scenarioZones(scenario({ SSTT_PROFILE: 'lab' }));
    for (const [i, z] of a.entries()) {
      const serial = soaOf(z).serial;
      expect(serial).toBe(soaOf(b[i]!).serial);
      expect(serial).toBe(zoneSerial(z.origin, z.records));
      expect(serial).toBeGreaterThanOrEqual(1);
      expect(serial).toBeLessThanOrEqual(0xffffffff);
    }
  });

  it('changes when a record does, and not for a comment or the serial field itself', () => {
    const [fwd] = scenarioZones(scenario({ SSTT_PROFILE: 'lab' }));
    const base = soaOf(fwd!).serial;
    // Another submission port: one SRV differs, so does the serial.
    const [moved] = scenarioZones(scenario({ SSTT_PROFILE: 'lab', SSTT_SUBMISSION_PORT: '2587' }));
    expect(soaOf(moved!).serial).not.toBe(base);
    // Another ID: every name differs.
    const [other] = scenarioZones(scenario({ SSTT_PROFILE: 'lab', SSTT_ID: '1234' }));
    expect(soaOf(other!).serial).not.toBe(base);
    // Comments are not data; the SOA's own serial is left out of its digest.
    const records = fwd!.records.map(({ comment: _c, ...r }) => r as ResourceRecord);
    records[0] = { ...soaOf(fwd!), serial: 42 };
    expect(zoneSerial(fwd!.origin, records)).toBe(base);
    // A TTL is data.
    records[1] = { ...records[1]!, ttl: 60 };
    expect(zoneSerial(fwd!.origin, records)).not.toBe(base);
  });
});

describe('presentation form (RFC 1035 §5.1)', () => {
  it('owners: "@" for the origin, relative below it, absolute elsewhere', () => {
    expect(ownerText('ex.test', 'ex.test')).toBe('@');
    expect(ownerText('a.b.ex.test', 'ex.test')).toBe('a.b');
    expect(ownerText('notex.test', 'ex.test')).toBe('notex.test.');
    expect(ownerText('other.test', 'ex.test')).toBe('other.test.');
  });

  it('RDATA of each type, names absolute; TXT quoted with \\" \\\\ and \\DDD escapes', () => {
    expect(rdataText({ type: 'SOA', mname: 'ns.ex.test', rname: 'admin.ex.test', serial: 7, refresh: 1, retry: 2, expire: 3, minimum: 4 })).toBe(
      'ns.ex.test. admin.ex.test. 7 1 2 3 4',
    );
    expect(rdataText({ type: 'NS', host: 'ns.ex.test' })).toBe('ns.ex.test.');
    expect(rdataText({ type: 'A', address: '192.0.2.1' })).toBe('192.0.2.1');
    expect(rdataText({ type: 'MX', preference: 10, exchange: 'mx.ex.test' })).toBe('10 mx.ex.test.');
    expect(rdataText({ type: 'SRV', priority: 0, weight: 1, port: 587, target: 'smtp.ex.test' })).toBe('0 1 587 smtp.ex.test.');
    expect(rdataText({ type: 'CNAME', target: 'www.ex.test' })).toBe('www.ex.test.');
    expect(rdataText({ type: 'PTR', target: 'host.ex.test' })).toBe('host.ex.test.');
    expect(rdataText({ type: 'TXT', strings: ['v=spf1 mx -all', '', 'say "hi" \\ caf\u00e9\t;'] })).toBe(
      '"v=spf1 mx -all" "" "say \\"hi\\" \\\\ caf\\233\\009;"',
    );
  });
});
