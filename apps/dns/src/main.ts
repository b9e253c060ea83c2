// The DNS app (`npm start -w @sstt/dns`, or started by `npm run dev`): argv and environment -> scenario -> the DNS server, nothing else.
// Extra flag: --zone ORIGIN=FILE (repeatable) serves those master files instead of the zones
// generated from the scenario, reloading them when they change. Serving the scenario's zones, it
// also answers this machine's own resolver on ports.hostdns (the host's view: names at the dev
// servers' address) when that port is not ports.dns.
import { openAppJournal } from '@sstt/events';
import { createLogger, runApp } from '@sstt/runtime';
import { ConfigError, hasHostDnsView, loadScenario, parseCommandLine } from '@sstt/scenario';
import { createDnsServer } from './server.ts';
import { parseUdpTransport } from './udp.ts';

const log = createLogger({ name: 'dns', level: process.env.SSTT_LOG_LEVEL, format: process.env.SSTT_LOG_FORMAT });

void runApp({
  app: 'dns',
  log,
  start: async () => {
    const { values } = parseCommandLine(process.argv.slice(2), { zone: { type: 'string', multiple: true } });
    const scenario = loadScenario({ flags: values });
    const journal = openAppJournal(scenario, 'dns'); // the queries the console's timeline shows
    const zones = (values.zone as string[] | undefined)?.map((z) => {
      const i = z.indexOf('=');
      if (i <= 0) throw new ConfigError('command line', '--zone', 'ORIGIN=FILE', JSON.stringify(z));
      return { origin: z.slice(0, i), file: z.slice(i + 1) };
    });
    // SSTT_DNS_UDP=batch|wrap|dgram forces a UDP transport (udp.ts); otherwise the fastest available.
    const udpTransport = parseUdpTransport(process.env.SSTT_DNS_UDP);
    const servers = [createDnsServer({ scenario, log, journal, udpTransport, ...(zones ? { zoneFiles: zones } : {}) })];
    if (!zones && hasHostDnsView(scenario)) servers.push(createDnsServer({ scenario, view: 'host', log, journal, udpTransport }));
    for (const server of servers) await server.listen();
    return servers;
  },
});
