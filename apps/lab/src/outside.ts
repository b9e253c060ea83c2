// The outside world of the lab: the zone the stand-in resolver at the gateway serves, with the
// names the report asks outside the domain and the CNAME chain its trace shows
// (www.um.es CNAME www.clu.um.es, A 155.54.212.10); and its mail exchanger, at the gateway
// (outside-mx.ts), where servidor relays mail for the university's domain.
import fs from 'node:fs';
import path from 'node:path';
import { type Scenario, UNIVERSITY_DOMAIN } from '@sstt/scenario';

export const OUTSIDE_ZONE = UNIVERSITY_DOMAIN;

/** The outside MX's host name (its A record is the gateway's address). */
export const OUTSIDE_MX = `mx.${OUTSIDE_ZONE}`;

/** The mailbox outside that the replay writes to, as a student writes to the university. */
export const OUTSIDE_MAILBOX = `profesor@${OUTSIDE_ZONE}`;

export function outsideZoneText(s: Scenario): string {
  return [
    `$ORIGIN ${OUTSIDE_ZONE}.`,
    '$TTL 300',
    `@\tIN SOA ns.${OUTSIDE_ZONE}. hostmaster.${OUTSIDE_ZONE}. 1 3600 600 86400 300`,
    `@\tIN NS ns.${OUTSIDE_ZONE}.`,
    `ns\tIN A ${s.network.gateway}`,
    // The domain's mail exchanger (RFC 5321 §5.1): exim's dnslookup_relay_to_domains router and
    // our mail app's smarthost (the lab's SSTT_MAIL_SMARTHOST) both reach the gateway.
    `@\tIN MX 10 ${OUTSIDE_MX}.`,
    `mx\tIN A ${s.network.gateway}`,
    `www\tIN CNAME www.clu.${OUTSIDE_ZONE}.`,
    'www.clu\tIN A 155.54.212.10',
    'www.clu\tIN AAAA 2001:720:1710:601::10',
    '',
  ].join('\n');
}

/** The messages the outside MX has kept so far, oldest first. */
export function outsideMail(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort((x, y) => Number(x.split('-')[0]) - Number(y.split('-')[0]) || x.localeCompare(y))
    .map((f) => path.join(dir, f));
}
