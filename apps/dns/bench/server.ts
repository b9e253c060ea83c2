// Our server for the benchmark: one Node process, the zone files bench/prepare.ts wrote, on
// 127.0.0.1:<port>, forwarders pointing at a dead loopback port (the query mix stays in our zones).
// Usage: node --import tsx bench/server.ts <workdir> <port>
import fs from 'node:fs';
import path from 'node:path';
import { loadScenario } from '@sstt/scenario';
import { runApp, silentLogger } from '@sstt/runtime';
import { openAppJournal } from '@sstt/events';
import { createDnsServer } from '../src/server.ts';
import { parseUdpTransport, udpTransport } from '../src/udp.ts';

const [dir, portText] = process.argv.slice(2);
if (!dir || !portText) {
  console.error('usage: server.ts <workdir> <port>');
  process.exit(2);
}
const zoneFiles = JSON.parse(fs.readFileSync(path.join(dir, 'zones.json'), 'utf8')) as Array<{ origin: string; file: string }>;
const scenario = loadScenario({
  env: {
    SSTT_PROFILE: 'lab',
    SSTT_DATA_DIR: dir,
    SSTT_CERTS_DIR: dir,
    SSTT_DNS_FORWARDERS: '127.0.0.1:9',
    ...(process.env.SSTT_EVENTS ? { SSTT_EVENTS: process.env.SSTT_EVENTS } : {}),
  },
  flags: {},
  configFile: undefined,
});
const log = silentLogger();
// The session journal the console reads, as main.ts opens it (SSTT_EVENTS=none: off).
const journal = openAppJournal(scenario, 'dns');
// SSTT_DNS_UDP=wrap|dgram (bench/run.sh's ours-wrap, ours-dgram), as main.ts reads it.
const forced = parseUdpTransport(process.env.SSTT_DNS_UDP);
await runApp({
  app: 'dns-bench',
  log,
  start: async () => {
    const server = createDnsServer({
      scenario,
      host: '127.0.0.1',
      port: Number(portText),
      zoneFiles,
      forwarders: [{ host: '127.0.0.1', port: 9 }],
      log,
      journal,
      udpTransport: forced,
    });
    await server.listen();
    console.log(JSON.stringify({ udpTransport: udpTransport(forced) }));
    return [server];
  },
});
