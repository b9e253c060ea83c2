// The server's CPU under the reconnecting slowloris of test/conn-limits.test.ts (two attacker
// processes, 150 idle and slow connections each from 127.0.0.2 and .3, reconnecting at once when
// cut; caps 40 per listener and 20 per address), with the per-address connection rate off (the
// code before issue 18) and at its defaults. The server runs in this process, the attackers in
// their own, so process.cpuUsage() is the server's alone. Bounded: SECONDS (default 10) per case.
//   npx tsx bench/slowloris-cpu.ts [seconds]        (from apps/mail)
// Prints one line per case; docs/security.md keeps the figures.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CONNECTION_BURST, CONNECTION_RATE_PER_SECOND } from '@sstt/runtime';
import type { MailLimits, Scenario } from '@sstt/scenario';
import { startServer, type Started } from '@sstt/testkit';
import { createPop3Server } from '../src/pop3/server.ts';
import { createSmtpServer } from '../src/smtp.ts';
import { serverTls, testScenario } from '../test/helpers.ts';

const seconds = Number(process.argv[2] ?? 10);
const ATTACKER = fileURLToPath(new URL('../test/fixtures/slow-clients.mjs', import.meta.url));
const LIMITS = { maxConnections: 40, maxConnectionsPerAddress: 20, commandTimeoutMs: 3000, pressureTimeoutMs: 1000 };

interface Totals {
  connects: number;
  closedByServer: number;
  greeted: number;
}

/** One attacker process; resolves with its totals once it has run for `seconds`. */
function attacker(port: number, from: string): Promise<Totals> {
  const child = spawn(
    process.execPath,
    [ATTACKER, JSON.stringify({ port, from, count: 150, mode: 'mixed', durationMs: seconds * 1000, maxConnects: 10_000_000 })],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('exit', () => resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Totals)));
}

const w = testScenario();
const tls = await serverTls(w.s);
const scenario = (rate: Partial<MailLimits>): Scenario => ({ ...w.s, mail: { ...w.s.mail, limits: { ...w.s.mail.limits, ...LIMITS, ...rate } } });
const LISTENERS: Record<string, (s: Scenario) => Promise<Started>> = {
  smtp: (s) => startServer(createSmtpServer({ scenario: s, host: '127.0.0.1', port: 0 })),
  pop3s: (s) => startServer(createPop3Server({ scenario: s, host: '127.0.0.1', port: 0, implicitTls: true, tls })),
};
const RATES: Record<string, Partial<MailLimits>> = {
  'rate off (before)': { connectionRatePerSecond: 0 },
  [`rate ${CONNECTION_RATE_PER_SECOND}/s, burst ${CONNECTION_BURST} (after)`]: {},
};

try {
  for (const [name, start] of Object.entries(LISTENERS)) {
    for (const [label, rate] of Object.entries(RATES)) {
      const srv = await start(scenario(rate));
      // measured over the whole attack, from the attackers' start to their end
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const results = await Promise.all([attacker(srv.port, '127.0.0.2'), attacker(srv.port, '127.0.0.3')]);
      const cpu = process.cpuUsage(cpu0);
      const wall = (performance.now() - t0) / 1000;
      await srv.close();
      const sum = (k: keyof Totals) => results.reduce((n, r) => n + (r[k] ?? 0), 0);
      const cpuS = (cpu.user + cpu.system) / 1e6;
      console.log(
        `${name}, ${label}: server CPU ${cpuS.toFixed(2)} s in ${wall.toFixed(1)} s (${Math.round((100 * cpuS) / wall)} % of a core); ` +
          `attacker connections ${sum('connects')} (${Math.round(sum('connects') / seconds)}/s), cut ${sum('closedByServer')}, greeted ${sum('greeted')}`,
      );
    }
  }
} finally {
  w.remove();
}
