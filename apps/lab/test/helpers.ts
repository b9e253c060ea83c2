// Running the built sstt-lab as a user does (as root, as CI does), for the lab's end-to-end tests.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { netnsList, run, type Spawned, spawnWatched } from '@sstt/testkit';
import type { Topology } from '../src/topology.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CLI = path.join(here, '..', 'dist', 'cli.js');

export function lab(...args: string[]) {
  return run(process.execPath, [CLI, ...args], { timeoutMs: 120_000 });
}

export async function labUp(...args: string[]): Promise<Spawned> {
  const up = spawnWatched(process.execPath, [CLI, 'up', ...args]);
  await up.waitFor(/Ctrl-C takes the lab down\./, 120_000);
  return up;
}

/** Everything a lab could leave: its namespaces, /etc/netns dirs, its state file. */
export async function leftOver(topo: Topology): Promise<string[]> {
  const left = (await netnsList()).filter((ns) => ns.startsWith(`${topo.prefix}-`));
  for (const h of Object.values(topo.hosts)) if (fs.existsSync(path.join('/etc/netns', h.ns))) left.push(`/etc/netns/${h.ns}`);
  if (fs.existsSync(topo.stateFile)) left.push(topo.stateFile);
  return left;
}

export async function stopWithCtrlC(u: Spawned): Promise<number> {
  const t0 = Date.now();
  u.child.kill('SIGINT');
  expect(await u.exited).toBe(0);
  return Date.now() - t0;
}

/** The checks every lab test starts with: root, and the bundle turbo builds before the tests. */
export function requireLabRun(): void {
  if (process.getuid?.() !== 0) throw new Error('the lab tests need root (network namespaces): run them as root, as CI does');
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (turbo builds it before this test)`);
}
