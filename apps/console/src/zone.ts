// The zone as a table: the master files packages/infra generates (the ones apps/dns serves),
// read the RFC 1035 §5.1 way: ";" starts a comment, "( ... )" continues a record over lines,
// a blank owner repeats the previous one, "@" is the origin, $ORIGIN and $TTL set defaults.
// And the "dig" box: one query to the domain's own DNS server, the answer in dig's sections.
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { Scenario } from '@sstt/scenario';
import { decodeDns } from './sessions.ts';

export interface ZoneRecord {
  zone: string;
  name: string;
  ttl: number;
  type: string;
  data: string;
}

export function parseZoneText(text: string): ZoneRecord[] {
  const out: ZoneRecord[] = [];
  let origin = '';
  let ttl = 3600;
  let owner = '';
  let zone = '';
  const logical: string[] = [];
  let open = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/;.*$/, '');
    const depth = (line.match(/\(/g)?.length ?? 0) - (line.match(/\)/g)?.length ?? 0);
    if (open || depth > 0) {
      open = open ? `${open} ${line}` : line;
      if (depth < 0 || (/\)/.test(line) && !/\(/.test(line))) {
        logical.push(open.replace(/[()]/g, ' '));
        open = '';
      }
      continue;
    }
    logical.push(line);
  }
  for (const line of logical) {
    if (!line.trim()) continue;
    const dir = /^\$(ORIGIN|TTL)\s+(\S+)/.exec(line);
    if (dir) {
      if (dir[1] === 'ORIGIN') zone = origin = dir[2]!.replace(/\.$/, '');
      else ttl = Number(dir[2]);
      continue;
    }
    const fields = line.trim().split(/\s+/);
    if (!/^\s/.test(line)) owner = fields.shift()!;
    let recTtl = ttl;
    if (/^\d+$/.test(fields[0] ?? '')) recTtl = Number(fields.shift());
    if (fields[0] === 'IN') fields.shift();
    const type = fields.shift() ?? '';
    const name = owner === '@' ? `${origin}.` : owner.endsWith('.') ? owner : `${owner}.${origin}.`;
    // Domain names in the data are relative to the origin unless they end in "." (RFC 1035 §5.1).
    const abs = (n: string) => (n === '@' ? `${origin}.` : n.endsWith('.') ? n : `${n}.${origin}.`);
    const nameAt: Record<string, number[]> = { NS: [0], CNAME: [0], PTR: [0], MX: [1], SRV: [3], SOA: [0, 1] };
    for (const i of nameAt[type] ?? []) if (fields[i] !== undefined) fields[i] = abs(fields[i]!);
    out.push({ zone, name, ttl: recTtl, type, data: fields.join(' ') });
  }
  return out;
}

export async function zoneRecords(s: Scenario): Promise<ZoneRecord[]> {
  // The same generator apps/dns serves its zones from (apps/dns/src/server.ts scenarioZoneSources).
  const { GENERATORS } = await import('@sstt/infra');
  const out: ZoneRecord[] = [];
  for (const [rel, text] of GENERATORS.bind!(s, () => undefined)) if (/^bind\/db\./.test(rel)) out.push(...parseZoneText(text));
  return out;
}

const TYPES = ['A', 'AAAA', 'NS', 'MX', 'SOA', 'CNAME', 'PTR', 'SRV', 'TXT', 'ANY'] as const;
export type DigType = (typeof TYPES)[number];
export const isDigType = (t: string): t is DigType => (TYPES as readonly string[]).includes(t);

/** Asks the domain's DNS over UDP; resolves with dig's sections or rejects after `timeoutMs`. */
export function dig(host: string, port: number, name: string, type: DigType, timeoutMs = 3000): Promise<{ rcode: string; text: string[] }> {
  const id = Math.floor(Math.random() * 65536);
  const query = dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: type as dnsPacket.RecordType, name, class: 'IN' }],
  });
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('message', (msg) => {
      if (msg.readUInt16BE(0) !== id) return;
      clearTimeout(timer);
      sock.close();
      const d = decodeDns(msg.toString('base64'));
      resolve({ rcode: d.rcode, text: d.text });
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      sock.close();
      reject(err);
    });
    sock.send(query, port, host);
  });
}
