// Prints the functions with the most self time in a V8 .cpuprofile (node --cpu-prof), and the
// share of time spent in our code, in dns-packet, in Node's dgram/net internals and idle.
// Usage: node --import tsx bench/profile-top.ts <file.cpuprofile>...   (env TOP=25)
// With several files (tsx's module-loader thread writes its own), the main thread's is the one
// whose samples reach apps/dns/src; the others are ignored.
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: profile-top.ts <file.cpuprofile>...');
  process.exit(2);
}
const profiles = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as Profile);
const ours = (p: Profile) => p.nodes.filter((n) => n.callFrame.url.includes('/apps/dns/src/')).reduce((s, n) => s + (n.hitCount ?? 0), 0);
const nodes = profiles.sort((a, b) => ours(b) - ours(a))[0]!.nodes;
const total = nodes.reduce((n, x) => n + (x.hitCount ?? 0), 0) || 1;
const byFn = new Map<string, number>();
const byArea = new Map<string, number>();
const area = (url: string, fn: string): string => {
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'V8/native (program)';
  if (url.includes('/apps/dns/src/')) return 'apps/dns/src';
  if (url.includes('dns-packet')) return 'dns-packet';
  if (url.startsWith('node:') || url === '') return 'node internals';
  return 'other JS';
};
for (const n of nodes) {
  const hits = n.hitCount ?? 0;
  if (!hits) continue;
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? `${url.replace(/^file:\/\/.*?\/(apps|packages|node_modules)\//, '$1/')}:${lineNumber + 1}` : '';
  const key = `${functionName || '(anonymous)'} ${where}`.trim();
  byFn.set(key, (byFn.get(key) ?? 0) + hits);
  const a = area(url, functionName);
  byArea.set(a, (byArea.get(a) ?? 0) + hits);
}
const pct = (h: number) => `${((100 * h) / total).toFixed(1).padStart(5)}%`;
console.log('  time by area:');
for (const [a, h] of [...byArea].sort((x, y) => y[1] - x[1])) console.log(`    ${pct(h)}  ${a}`);
console.log('  hottest functions (self time):');
for (const [k, h] of [...byFn].sort((x, y) => y[1] - x[1]).slice(0, Number(process.env.TOP ?? 25))) console.log(`    ${pct(h)}  ${k}`);
