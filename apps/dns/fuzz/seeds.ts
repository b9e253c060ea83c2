// What the DNS campaigns start from: well-formed queries (names in and out of the scenario's
// zones, every type we answer, EDNS with options) and the master files BIND gets for them.
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { bindZones } from '@sstt/infra';
import { scenarioZones, type Scenario } from '@sstt/scenario';
import { TYPE } from '../src/wire.ts';

const TYPES = Object.keys(TYPE).filter((t) => t !== 'OPT');

/** A label as clients send them: letters, digits, hyphens, now and then any byte. */
const label = fc.oneof(
  fc.stringMatching(/^[a-zA-Z0-9-]{1,12}$/),
  fc.constantFrom('*', 'www', 'mail', 'ns', '_tcp', 'xn--bcher-kva'),
  fc.string({ minLength: 1, maxLength: 63, unit: 'binary-ascii' }),
);

/** Names under the scenario's zones and outside them. */
export function queryName(s: Scenario): fc.Arbitrary<string> {
  const apexes = scenarioZones(s).map((z) => z.origin);
  return fc
    .tuple(fc.array(label, { maxLength: 4 }), fc.oneof(fc.constantFrom(...apexes), fc.constant(''), fc.constant('example.com')))
    .map(([ls, apex]) => [...ls, apex].filter(Boolean).join('.') || '.');
}

/** A well-formed query message as dns-packet encodes it. */
export function query(s: Scenario): fc.Arbitrary<Uint8Array> {
  return fc
    .record({
      id: fc.integer({ min: 0, max: 0xffff }),
      flags: fc.integer({ min: 0, max: 0xffff }).map((f) => f & ~0x8000),
      name: queryName(s),
      type: fc.constantFrom(...TYPES),
      qclass: fc.constantFrom('IN', 'IN', 'IN', 'CH', 'ANY'),
      edns: fc.option(
        fc.record({
          size: fc.integer({ min: 0, max: 0xffff }),
          version: fc.constantFrom(0, 0, 1),
          flags: fc.constantFrom(0, dnsPacket.DNSSEC_OK),
          options: fc.array(fc.record({ code: fc.constantFrom(8, 10, 10, 12, 15, 65001), data: fc.uint8Array({ maxLength: 40 }).map((d) => Buffer.from(d)) }), {
            maxLength: 2,
          }),
        }),
      ),
    })
    .map((q) => {
      const packet: dnsPacket.Packet = {
        type: 'query',
        id: q.id,
        flags: q.flags,
        questions: [{ name: q.name, type: q.type as dnsPacket.RecordType, class: q.qclass as 'IN' }],
      };
      if (q.edns) {
        packet.additionals = [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: q.edns.size,
            extendedRcode: 0,
            ednsVersion: q.edns.version,
            flags: q.edns.flags,
            options: q.edns.options,
          } as unknown as dnsPacket.Answer,
        ];
      }
      try {
        return new Uint8Array(dnsPacket.encode(packet));
      } catch {
        // A name dns-packet refuses (a label over 63 octets): the bare header is still a seed.
        return new Uint8Array(dnsPacket.encode({ type: 'query', id: q.id, questions: [] }));
      }
    });
}

/** The zones' master-file texts. */
export function zoneTexts(s: Scenario): string[] {
  return bindZones(s).map((z) => z.text);
}
