// The zone as a table: the scenario's zone records (packages/scenario zone.ts), the very ones
// apps/dns answers from and packages/infra writes for BIND, each with its data in presentation
// form (names absolute, as dig prints them). And the "dig" box: one query to the domain's own DNS
// server, the answer in dig's sections.
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { rdataText, scenarioZones, type Scenario } from '@sstt/scenario';
import type { DigType, ZoneRecord } from './api/schemas.ts';
import { decodeDns } from './sessions.ts';

export function zoneRecords(s: Scenario): ZoneRecord[] {
  return scenarioZones(s).flatMap((z) => z.records.map((r) => ({ zone: z.origin, name: `${r.name}.`, ttl: r.ttl, type: r.type, data: rdataText(r) })));
}

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
