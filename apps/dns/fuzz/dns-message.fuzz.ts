// DNS messages into the responder, in process: any bytes in, never an exception; a reply or
// no reply (RFC 1035 §4.1.1: nothing for a message whose header cannot be read or that is a
// response), and every reply parses with dns-packet and answers the query's ID.
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { scenarioZones, type Scenario } from '@sstt/scenario';
import { mutated, runCampaign, type FuzzBudget } from '@sstt/testkit';
import { createAcl } from '../src/acl.ts';
import { createResponder, type Transport } from '../src/responder.ts';
import { ZoneSet } from '../src/zone/zone.ts';
import { zoneFromData } from '../src/scenario-zones.ts';
import { query } from './seeds.ts';

export function dnsMessageCampaign(s: Scenario, budget: FuzzBudget): Promise<number> {
  const zones = new ZoneSet(scenarioZones(s).map(zoneFromData));
  const responder = createResponder({ zones: () => zones, acl: createAcl(['any']) });
  const message = fc.oneof({ weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)) }, { weight: 4, arbitrary: mutated(query(s)) });
  const property = fc.asyncProperty(message, fc.constantFrom<Transport>('udp', 'tcp'), async (msg, transport) => {
    const reply = await responder.respond(msg, transport, '127.0.0.1');
    if (reply === null) return;
    const body = transport === 'tcp' ? reply.subarray(2) : reply;
    if (transport === 'tcp') assert.equal(reply.readUInt16BE(0), body.length, 'TCP length prefix');
    const decoded = dnsPacket.decode(body);
    assert.equal(decoded.id, msg.readUInt16BE(0), 'reply ID');
    assert.equal(decoded.type, 'response');
    // Over UDP: 512 octets at most in a reply without OPT (RFC 1035 §4.2.1), our 1232 with it
    // (RFC 6891 §6.2.5).
    const edns = (decoded.additionals ?? []).some((r) => r.type === 'OPT');
    if (transport === 'udp') assert.ok(body.length <= (edns ? 1232 : 512), `UDP reply of ${body.length} octets (EDNS: ${edns})`);
  });
  return runCampaign(property, budget);
}
