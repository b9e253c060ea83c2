// `npm run bench -w @sstt/lab -- [--labs N] [--reference]` (as root): how many labs of ours (or
// of the reference) run at once on this machine with `check` passing on each (issue 20's goal:
// 20 on 2 cores / 24 GB). Labs of IDs 5000, 5001, ... come up one after another (each waited
// for its table); then every lab's `check` runs, one at a time; then the memory of each (PSS of
// every process in its namespaces, /proc/<pid>/smaps_rollup). All are taken down with Ctrl-C.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { netnsList, netnsPids, run, type Spawned, spawnWatched } from '@sstt/testkit';

const { values } = parseArgs({ options: { labs: { type: 'string', default: '2' }, reference: { type: 'boolean', default: false } } });
const LABS = Number(values.labs);
const cli = path.join(import.meta.dirname, '..', 'dist', 'cli.js');
if (process.getuid?.() !== 0) throw new Error('run as root: the labs are network namespaces');
if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: npm run build first`);

/** PSS in KiB of the processes of the namespaces named sstt<ID>-*. */
async function pssOf(id: string): Promise<{ kib: number; procs: number }> {
  let kib = 0;
  let procs = 0;
  for (const ns of (await netnsList()).filter((n) => n.startsWith(`sstt${id}-`))) {
    for (const pid of await netnsPids(ns)) {
      const m = /^Pss:\s+(\d+) kB/m.exec(fs.existsSync(`/proc/${pid}/smaps_rollup`) ? fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8') : '');
      if (m) {
        kib += Number(m[1]);
        procs++;
      }
    }
  }
  return { kib, procs };
}

const ids = Array.from({ length: LABS }, (_, i) => String(5000 + i));
const ups: Spawned[] = [];
try {
  for (const id of ids) {
    await run(process.execPath, [cli, 'down', '--id', id]);
    const t0 = performance.now();
    const up = spawnWatched(process.execPath, [cli, 'up', '--id', id, ...(values.reference ? ['--reference'] : [])]);
    ups.push(up);
    await up.waitFor(/Ctrl-C takes the lab down\./, 180_000);
    console.log(`lab ${id} up in ${((performance.now() - t0) / 1000).toFixed(1)} s (${ups.length} running)`);
  }
  let passed = 0;
  for (const id of ids) {
    const t0 = performance.now();
    const r = await run(process.execPath, [cli, 'check', '--id', id], { timeoutMs: 300_000 });
    const ok = r.code === 0;
    if (ok) passed++;
    const { kib, procs } = await pssOf(id);
    console.log(
      `lab ${id}: check ${ok ? 'PASS' : 'FAIL'} in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${procs} processes, PSS ${(kib / 1024).toFixed(0)} MiB`,
    );
    if (!ok)
      console.log(
        r.stdout
          .split('\n')
          .filter((l) => /FAIL/.test(l))
          .join('\n'),
      );
  }
  console.log(`${passed} of ${LABS} labs${values.reference ? ' (reference)' : ''} running at once passed check`);
} finally {
  for (const up of ups) up.child.kill('SIGINT');
  await Promise.all(ups.map((u) => u.exited));
}
