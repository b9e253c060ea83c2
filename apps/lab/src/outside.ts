// The outside world of the lab: the zone the stand-in resolver at the gateway serves, with the
// names the report asks outside the domain and the CNAME chain its trace shows
// (www.um.es CNAME www.clu.um.es, A 155.54.212.10).
import { type Scenario, UNIVERSITY_DOMAIN } from '@sstt/scenario';

export const OUTSIDE_ZONE = UNIVERSITY_DOMAIN;

export function outsideZoneText(s: Scenario): string {
  return [
    `$ORIGIN ${OUTSIDE_ZONE}.`,
    '$TTL 300',
    `@\tIN SOA ns.${OUTSIDE_ZONE}. hostmaster.${OUTSIDE_ZONE}. 1 3600 600 86400 300`,
    `@\tIN NS ns.${OUTSIDE_ZONE}.`,
    `ns\tIN A ${s.network.gateway}`,
    `www\tIN CNAME www.clu.${OUTSIDE_ZONE}.`,
    'www.clu\tIN A 155.54.212.10',
    'www.clu\tIN AAAA 2001:720:1710:601::10',
    '',
  ].join('\n');
}
