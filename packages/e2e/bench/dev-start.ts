// `npm run bench -w @sstt/e2e`: how long `npm run dev` takes until every service answers (warm:
// certificates already minted, build outputs cached), and how much memory the whole process tree
// holds once it is ready (PSS and RSS summed over every process of its session, from
// /proc/<pid>/smaps_rollup). Rounds on free ports with a private data directory and a silent
// forwarder, so it runs beside a user's own `npm run dev` and sends nothing off the machine.
import dgram from 'node:dgram';
import { SERVICES } from '@sstt/scenario';
import { tempDir } from '@sstt/testkit';
import { portOf, privateEnv, sessionProcesses, silentForwarder, spawnGroup, waitForPort } from '../test/helpers.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 5);

async function dnsAnswers(port: number, deadline: number): Promise<void> {
  // A query for the root SOA-less name: any reply at all means the UDP listener is up.
  const query = Buffer.from('abcd01000001000000000000000001000001', 'hex');
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = dgram.createSocket('udp4');
      const timer = setTimeout(() => {
        sock.close();
        resolve(false);
      }, 50);
      sock.on('message', () => {
        clearTimeout(timer);
        sock.close();
        resolve(true);
      });
      sock.send(query, port, '127.0.0.1');
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error('DNS never answered');
  }
}

async function round(dataDir: string, forwarderPort: number): Promise<{ ms: number; pss: number; rss: number; procs: number; names: string }> {
  const env = await privateEnv(dataDir, forwarderPort);
  const t0 = performance.now();
  const dev = spawnGroup('npm', ['run', 'dev'], env);
  try {
    const deadline = Date.now() + 60_000;
    await Promise.all([
      ...SERVICES.filter((s) => s !== 'dns').map((s) => waitForPort(portOf(env, s), 60_000, '127.0.0.1', 10)),
      dnsAnswers(portOf(env, 'dns'), deadline),
    ]);
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 1500)); // let start-up garbage settle before reading memory
    const procs = sessionProcesses(dev.child.pid!);
    const names = procs.map((p) => `${p.comm}:${Math.round(p.pss / 1024)}`).join(' ');
    return { ms, pss: procs.reduce((a, p) => a + p.pss, 0) / 1024, rss: procs.reduce((a, p) => a + p.rss, 0) / 1024, procs: procs.length, names };
  } finally {
    process.kill(-dev.child.pid!, 'SIGINT');
    const gone = await Promise.race([dev.exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]);
    if (!gone) process.kill(-dev.child.pid!, 'SIGKILL');
  }
}

const tmp = tempDir('sstt-dev-bench-');
const forwarder = await silentForwarder();
try {
  // A first start mints the certificates (and fills the build cache): not counted.
  await round(tmp.dir, forwarder.port);
  const results = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = await round(tmp.dir, forwarder.port);
    results.push(r);
    console.log(`round ${i + 1}: ready in ${r.ms.toFixed(0)} ms, ${r.procs} processes, PSS ${r.pss.toFixed(0)} MB, RSS ${r.rss.toFixed(0)} MB  [${r.names}]`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ms = median(results.map((r) => r.ms));
  const pss = median(results.map((r) => r.pss));
  const rss = median(results.map((r) => r.rss));
  console.log(
    `npm run dev (warm), median of ${ROUNDS}: ready in ${ms.toFixed(0)} ms (target < 2000), PSS ${pss.toFixed(0)} MB (target < 300), RSS ${rss.toFixed(0)} MB`,
  );
} finally {
  forwarder.close();
  tmp.remove();
}
