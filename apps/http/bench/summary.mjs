// Summary of bench/run.sh's rounds (a TSV: file, server, round, req/s, MB/s, non-2xx, socket
// errors, server CPU µs/req, server cores, wrk cores): medians per server, ratios of medians,
// and paired ratios (each round of web_sstt against the reference's round right next to it,
// which cancels the drift of a shared machine better than a ratio of medians), the limiting
// factor of each file, and the issue's targets for the servers measured.
import fs from 'node:fs';

const rows = fs
  .readFileSync(process.argv[2], 'utf8')
  .trim()
  .split('\n')
  .map((l) => l.split('\t'));
const med = (a) => {
  a = [...a].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
};
const M = {};
for (const r of rows) {
  const v = ((M[r[0]] ??= {})[r[1]] ??= { rps: [], mb: [], cpu: [], srvCores: [], wcore: [], bad: 0 });
  v.rps.push(+r[3]);
  v.mb.push(+r[4]);
  v.cpu.push(+r[7]);
  v.srvCores.push(+r[8]);
  v.wcore.push(+r[9]);
  v.bad += +r[5] + +r[6];
}
const ratio = (a, b) => (b ? `${(a / b).toFixed(2)}x` : '-');
// Round i of web_sstt against round i of the reference, run right next to it.
const paired = (by, ref, key) => {
  const k = Math.min(by.web_sstt[key].length, by[ref][key].length);
  return Array.from({ length: k }, (_, i) => by.web_sstt[key][i] / by[ref][key][i]);
};

console.log('\n== median of rounds (cores: share of one CPU busy during the round, server and wrk)');
console.log('file        server             req/s      MB/s   vs nginx (req/s, MB/s)   vs node:http   server CPU us/req   errors   server  wrk cores');
for (const [f, by] of Object.entries(M)) {
  const n = by.nginx && { rps: med(by.nginx.rps), mb: med(by.nginx.mb) };
  const h = by.node_http && { rps: med(by.node_http.rps) };
  for (const [s, v] of Object.entries(by)) {
    const rps = med(v.rps),
      mb = med(v.mb);
    console.log(
      f.padEnd(11),
      s.padEnd(16),
      rps.toFixed(0).padStart(9),
      mb.toFixed(1).padStart(9),
      `   ${n ? `${ratio(rps, n.rps)}, ${ratio(mb, n.mb)}` : '-'}`.padEnd(26),
      ratio(rps, h?.rps).padStart(8),
      med(v.cpu).toFixed(1).padStart(16),
      String(v.bad).padStart(10),
      med(v.srvCores).toFixed(2).padStart(8),
      med(v.wcore).toFixed(2).padStart(6),
    );
  }
}

console.log('\n== paired rounds, web_sstt / reference (median [min-max], rounds web_sstt was ahead)');
for (const [f, by] of Object.entries(M)) {
  if (!by.web_sstt) continue;
  for (const ref of ['nginx', 'node_http']) {
    if (!by[ref]) continue;
    const q = paired(by, ref, 'rps'),
      c = paired(by, ref, 'cpu');
    console.log(
      `${f.padEnd(11)} vs ${ref.padEnd(10)} req/s ${med(q).toFixed(2)}x [${Math.min(...q).toFixed(2)}-${Math.max(...q).toFixed(2)}], ahead in ${q.filter((x) => x > 1).length} of ${q.length}; server CPU/req ${med(c).toFixed(2)}x`,
    );
  }
}

// The limiting factor of each file: wrk runs one thread, so when it keeps a whole core busy the
// client is the ceiling and req/s can no longer tell the servers apart.
console.log('');
for (const [f, by] of Object.entries(M)) {
  if (!by.web_sstt) continue;
  const w = med(by.web_sstt.wcore),
    s = med(by.web_sstt.srvCores);
  const limit =
    w >= 0.9
      ? `wrk (one thread at ${w.toFixed(2)} of a core; web_sstt at ${s.toFixed(2)})`
      : s >= 0.9
        ? `web_sstt (${s.toFixed(2)} of a core; wrk at ${w.toFixed(2)})`
        : `neither saturated (web_sstt ${s.toFixed(2)}, wrk ${w.toFixed(2)} of a core)`;
  console.log(`limit on ${f}: ${limit}`);
}
console.log(`load after: ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);

// The issue's targets, judged on the paired rounds. "Ahead" must be more than a coin toss: the
// rounds web_sstt won are put to a one-sided sign test, and p < 0.05 is asked for (7 of 7, 8 of 9,
// 12 of 15 rounds...). With fewer than 5 pairs no verdict on "ahead" is possible.
const choose = (n, k) => {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
};
const signP = (wins, n) => {
  let p = 0;
  for (let k = wins; k <= n; k++) p += choose(n, k);
  return p / 2 ** n;
};
const ahead = (q) => {
  const wins = q.filter((x) => x > 1).length,
    p = signP(wins, q.length);
  const verdict = q.length < 5 ? 'TOO FEW ROUNDS' : p < 0.05 && med(q) > 1 ? 'MET' : 'NOT SHOWN';
  return `${med(q).toFixed(2)}x, ahead in ${wins} of ${q.length} (sign test p=${p.toFixed(3)}) ${verdict}`;
};
const S = M['small.html'],
  S100 = M['small.html@100'],
  B = M['big.zip'];
const lines = [];
if (S100?.web_sstt && S100.nginx) {
  const q = paired(S100, 'nginx', 'rps');
  lines.push(`1 KiB, 100 requests per connection, >= 1.00x nginx req/s: ${med(q).toFixed(2)}x ${med(q) >= 1 ? 'MET' : 'MISSED'} (${ahead(q)})`);
}
if (S?.web_sstt && S.nginx) {
  const r = med(paired(S, 'nginx', 'rps'));
  lines.push(`1 KiB >= 0.80x nginx req/s: ${r.toFixed(2)}x ${r >= 0.8 ? 'MET' : 'MISSED'}`);
}
if (B?.web_sstt && B.nginx) {
  // wrk prints MB/s with three digits; req/s of the same file is the same ratio, more precisely.
  const r = med(paired(B, 'nginx', 'rps'));
  lines.push(`1 MiB >= 0.75x nginx MB/s: ${r.toFixed(2)}x ${r >= 0.75 ? 'MET' : 'MISSED'}`);
}
if (S?.web_sstt && S.node_http) lines.push(`1 KiB ahead of node:http: ${ahead(paired(S, 'node_http', 'rps'))}`);
if (B?.web_sstt && B.node_http) lines.push(`1 MiB ahead of node:http: ${ahead(paired(B, 'node_http', 'rps'))}`);
if (lines.length) console.log(`\ntargets, on the paired rounds:\n  ${lines.join('\n  ')}`);
