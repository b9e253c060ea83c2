// Summary of bench/run.sh's rounds (a TSV: file, server, round, req/s, MB/s, non-2xx, socket
// errors, server CPU µs/req, server cores, wrk cores): medians per server, ratios of medians,
// and paired ratios (each round of web_sstt against the reference's round right next to it,
// which cancels the drift of a shared machine better than a ratio of medians), the limiting
// factor of each file, and the issue's targets when every server was measured.
import fs from 'node:fs';

const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => l.split('\t'));
const med = (a) => {
  a = [...a].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
};
const M = {};
for (const r of rows) {
  const v = ((M[r[0]] ??= {})[r[1]] ??= { rps: [], mb: [], cpu: [], score: [], wcore: [], bad: 0 });
  v.rps.push(+r[3]), v.mb.push(+r[4]), v.cpu.push(+r[7]), v.score.push(+r[8]), v.wcore.push(+r[9]);
  v.bad += +r[5] + +r[6];
}
const ratio = (a, b) => (b ? `${(a / b).toFixed(2)}x` : '-');

console.log('\n== median of rounds (cores: share of one CPU busy during the round, server and wrk)');
console.log('file        server             req/s      MB/s   vs nginx (req/s, MB/s)   vs node:http   server CPU us/req   errors   server  wrk cores');
for (const [f, by] of Object.entries(M)) {
  const n = by.nginx && { rps: med(by.nginx.rps), mb: med(by.nginx.mb) };
  const h = by.node_http && { rps: med(by.node_http.rps) };
  for (const [s, v] of Object.entries(by)) {
    const rps = med(v.rps), mb = med(v.mb);
    console.log(
      f.padEnd(11), s.padEnd(16), rps.toFixed(0).padStart(9), mb.toFixed(1).padStart(9),
      `   ${n ? `${ratio(rps, n.rps)}, ${ratio(mb, n.mb)}` : '-'}`.padEnd(26), ratio(rps, h?.rps).padStart(8),
      med(v.cpu).toFixed(1).padStart(16), String(v.bad).padStart(10), med(v.score).toFixed(2).padStart(8), med(v.wcore).toFixed(2).padStart(6),
    );
  }
}

console.log('\n== paired rounds, web_sstt / reference (median [min-max], rounds web_sstt was ahead)');
for (const [f, by] of Object.entries(M)) {
  if (!by.web_sstt) continue;
  for (const ref of ['nginx', 'node_http']) {
    if (!by[ref]) continue;
    const k = Math.min(by.web_sstt.rps.length, by[ref].rps.length);
    const q = Array.from({ length: k }, (_, i) => by.web_sstt.rps[i] / by[ref].rps[i]);
    const c = Array.from({ length: k }, (_, i) => by.web_sstt.cpu[i] / by[ref].cpu[i]);
    console.log(
      `${f.padEnd(11)} vs ${ref.padEnd(10)} req/s ${med(q).toFixed(2)}x [${Math.min(...q).toFixed(2)}-${Math.max(...q).toFixed(2)}], ahead in ${q.filter((x) => x > 1).length} of ${k}; server CPU/req ${med(c).toFixed(2)}x`,
    );
  }
}

// The limiting factor of each file: wrk runs one thread, so when it keeps a whole core busy the
// client is the ceiling and req/s can no longer tell the servers apart.
console.log('');
for (const [f, by] of Object.entries(M)) {
  if (!by.web_sstt) continue;
  const w = med(by.web_sstt.wcore), s = med(by.web_sstt.score);
  const limit =
    w >= 0.9 ? `wrk (one thread at ${w.toFixed(2)} of a core; web_sstt at ${s.toFixed(2)})`
    : s >= 0.9 ? `web_sstt (${s.toFixed(2)} of a core; wrk at ${w.toFixed(2)})`
    : `neither saturated (web_sstt ${s.toFixed(2)}, wrk ${w.toFixed(2)} of a core)`;
  console.log(`limit on ${f}: ${limit}`);
}
console.log(`load after: ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);

const S = M['small.html'], B = M['big.zip'];
if (S?.web_sstt && S.nginx && S.node_http && B?.web_sstt && B.nginx && B.node_http) {
  const r1 = med(S.web_sstt.rps) / med(S.nginx.rps), r2 = med(B.web_sstt.mb) / med(B.nginx.mb);
  const a1 = med(S.web_sstt.rps) / med(S.node_http.rps), a2 = med(B.web_sstt.mb) / med(B.node_http.mb);
  console.log(
    `\ntargets: 1 KiB >= 0.80x nginx req/s: ${r1.toFixed(2)}x ${r1 >= 0.8 ? 'MET' : 'MISSED'}; 1 MiB >= 0.75x nginx MB/s: ${r2.toFixed(2)}x ${r2 >= 0.75 ? 'MET' : 'MISSED'}; ahead of node:http: ${a1.toFixed(2)}x / ${a2.toFixed(2)}x ${a1 > 1 && a2 > 1 ? 'MET' : 'MISSED'}`,
  );
  // Server CPU time per request: below 1 means web_sstt spent less CPU per request than node:http.
  const c1 = med(S.web_sstt.cpu) / med(S.node_http.cpu), c2 = med(B.web_sstt.cpu) / med(B.node_http.cpu);
  console.log(`server CPU per request, web_sstt / node:http: 1 KiB ${c1.toFixed(2)}x, 1 MiB ${c2.toFixed(2)}x (below 1: less CPU than node:http)`);
}
