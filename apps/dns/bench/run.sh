#!/usr/bin/env bash
# dnsperf against our DNS server (one Node process, the session journal on as `npm run dev` runs
# it) and against BIND 9 (`named -n 1`), Knot DNS (one UDP worker) and NSD (one server process),
# all loading the same generated zone files, with the same query mix (A, MX, AAAA-NODATA,
# NXDOMAIN), in the same run: alternating rounds, medians, and ours paired with each peer round by
# round (rounds won). dnsperf's own CPU is printed: at ~1 core it is the ceiling for every server,
# and "not behind" is then all a round can show. Loopback only; nothing is forwarded.
#
# Usage: npm run bench -w @sstt/dns [-- REPS DUR]     (default 3 rounds of 10 s per server)
# Env:   PIN=1      our server / named on CPU 1, dnsperf on CPU 0 (per-core figures)
#        PROFILE=1  one extra run of our server under `node --cpu-prof`; prints the hottest functions
#        CLIENTS=10 dnsperf -c (simulated clients)
#        RATE=N     offer a fixed N queries/s (dnsperf -Q) instead of as many as possible: both servers
#                   then answer the same load and "CPU us/query" compares their cost without saturation
#        ZONE=bind-limits  a zone of ../shared/dns-zones (or a path to such a folder) instead of the lab's;
#                   the summary's load time (spawn to first answer) and RSS then compare loading it
#        SERVERS="bind knot nsd ours" (the default); ours-noev: our server with the console's session journal off (SSTT_EVENTS=none)
#        SERVERS="bind ours"  add ours-wrap / ours-dgram (our server forced onto Node's udp_wrap binding or
#                   node:dgram instead of the batching addon, SSTT_DNS_UDP=wrap|dgram) and
#                   floor / floor-sync (a Node UDP server that only echoes: node:dgram's ceiling)
#                   floor-batch (the same echo on our batching addon: the floor under our server)
#                   floor-c / floor-c-per-datagram (bench/echo.c: the same echo in C, no Node, with our
#                   addon's system calls or with NSD's: the kernel's part of every server's cost)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
APP="$(dirname "$HERE")"
REPS="${1:-${REPS:-3}}"
DUR="${2:-${DUR:-10}}"
CLIENTS="${CLIENTS:-10}"
LIMIT=(); [ -n "${RATE:-}" ] && LIMIT=(-Q "$RATE")

# The Debian tools this benchmark drives (CI and fresh machines install them here).
missing=()
command -v dnsperf >/dev/null || missing+=(dnsperf)
command -v named >/dev/null || [ -x /usr/sbin/named ] || missing+=(bind9)
command -v knotd >/dev/null || [ -x /usr/sbin/knotd ] || missing+=(knot)
command -v nsd >/dev/null || [ -x /usr/sbin/nsd ] || missing+=(nsd)
command -v dig >/dev/null || missing+=(bind9-dnsutils)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then apt-get install -y "${missing[@]}" >/dev/null || { apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null; }
  else sudo apt-get install -y "${missing[@]}" >/dev/null; fi
fi
NAMED="$(command -v named || echo /usr/sbin/named)"
KNOTD="$(command -v knotd || echo /usr/sbin/knotd)"
NSD="$(command -v nsd || echo /usr/sbin/nsd)"

W="$(mktemp -d /tmp/sstt-dns-bench.XXXXXX)"
PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
SP=""; CP=""
if [ "${PIN:-0}" = 1 ]; then SP="taskset -c 1"; CP="taskset -c 0"; fi
cd "$APP"
read -r PROBE_NAME PROBE_ADDR < <(node --import tsx bench/prepare.ts "$W" "$PORT")
"$NAMED" -v >/dev/null
named-checkconf "$W/named.conf"

SPID=""
stop() {
  if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
    kill "$SPID"
    for _ in $(seq 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SPID" 2>/dev/null || true
  fi
  SPID=""
}
cleanup() { stop; [ "${KEEP:-0}" = 1 ] || rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

start() {
  T0=$(date +%s%N)
  case "$1" in
    bind) $SP "$NAMED" -g -n 1 -c "$W/named.conf" >"$W/named.log" 2>&1 & SPID=$! ;;
    knot) $SP "$KNOTD" -c "$W/knot.conf" >"$W/knot.log" 2>&1 & SPID=$! ;;
    nsd) $SP "$NSD" -d -c "$W/nsd.conf" >"$W/nsd.log" 2>&1 & SPID=$! ;;
    ours) $SP node --import tsx bench/server.ts "$W" "$PORT" >"$W/ours.log" 2>&1 & SPID=$! ;;
    ours-noev) SSTT_EVENTS=none $SP node --import tsx bench/server.ts "$W" "$PORT" >"$W/ours.log" 2>&1 & SPID=$! ;;
    ours-wrap) SSTT_DNS_UDP=wrap $SP node --import tsx bench/server.ts "$W" "$PORT" >"$W/ours.log" 2>&1 & SPID=$! ;;
    ours-dgram) SSTT_DNS_UDP=dgram $SP node --import tsx bench/server.ts "$W" "$PORT" >"$W/ours.log" 2>&1 & SPID=$! ;;
    floor) $SP node --import tsx bench/floor.ts "$PORT" >"$W/floor.log" 2>&1 & SPID=$! ;;
    floor-sync) $SP node --import tsx bench/floor.ts "$PORT" --sync-lookup >"$W/floor.log" 2>&1 & SPID=$! ;;
    floor-batch) $SP node --import tsx bench/floor.ts "$PORT" --batch >"$W/floor.log" 2>&1 & SPID=$! ;;
    floor-c) $SP "$W/echo" "$PORT" >"$W/floor.log" 2>&1 & SPID=$! ;;
    floor-c-per-datagram) $SP "$W/echo" "$PORT" --per-datagram >"$W/floor.log" 2>&1 & SPID=$! ;;
    ours-prof) $SP node --cpu-prof --cpu-prof-dir="$W/prof" --import tsx bench/server.ts "$W" "$PORT" >"$W/ours.log" 2>&1 & SPID=$! ;;
  esac
  for _ in $(seq 150); do
    if [[ "$1" == floor* ]]; then dig +time=1 +tries=1 @127.0.0.1 -p "$PORT" "$PROBE_NAME" A >/dev/null 2>&1 && return 0; sleep 0.1; continue; fi
    if dig +short +time=1 +tries=1 @127.0.0.1 -p "$PORT" "$PROBE_NAME" A 2>/dev/null | grep -qxF "$PROBE_ADDR"; then
      # Load time: from the spawn to the first right answer; memory: the server's RSS then.
      LOAD_MS=$(( ($(date +%s%N) - T0) / 1000000 ))
      RSS_MB=$(awk '/^VmRSS/{printf "%.0f", $2 / 1024}' "/proc/$SPID/status")
      return 0
    fi
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.1
  done
  echo "server $1 did not come up:"
  case "$1" in bind) tail -5 "$W/named.log" ;; knot | nsd) tail -5 "$W/$1.log" ;; *) tail -5 "$W/ours.log" ;; esac
  return 1
}

sanity() {
  for q in "$PROBE_NAME A" "$(sed -n 4p "$W/queries.txt")" "$PROBE_NAME AAAA" "$(sed -n 6p "$W/queries.txt")"; do
    # shellcheck disable=SC2086
    echo "    $q: $(dig +noall +comments +answer +authority +time=1 +tries=1 @127.0.0.1 -p "$PORT" $q | grep -Eo 'status: [A-Z]+|flags:[a-z ]+|IN\s+[A-Z]+\s+\S+' | tr -s ' \t' ' ' | paste -sd'|' | cut -c1-240)"
  done
}

# CPU time (user + system, all threads) the server has used so far, in clock ticks: the process
# and every descendant still running (NSD answers in a forked grandchild).
cpu_ticks() {
  local t=0 p todo=("$1")
  while [ ${#todo[@]} -gt 0 ]; do
    p=${todo[0]}; todo=("${todo[@]:1}")
    # utime + stime, counted after the command name (NSD's "(nsd: server 1)" holds spaces).
    t=$((t + $({ sed 's/.*) //' "/proc/$p/stat" 2>/dev/null || echo; } | awk '{print $12 + $13}')))
    # shellcheck disable=SC2207
    todo+=($(pgrep -P "$p" || true))
  done
  echo "$t"
}
CLK="$(getconf CLK_TCK)"

# The C floor is built here, with the compiler npm install uses for the addon.
if [[ " ${SERVERS:-} " == *" floor-c"* ]]; then gcc -O2 -o "$W/echo" "$HERE/echo.c" || { echo "building bench/echo.c failed"; exit 1; }; fi

OUT="$W/results.tsv"; : >"$OUT"
echo "dnsperf -l $DUR -c $CLIENTS ${LIMIT[*]}, $REPS alternating rounds, port $PORT, queries: $(paste -sd',' "$W/queries.txt")${PIN:+, pinned}"
for r in $(seq "$REPS"); do
  for s in ${SERVERS:-bind knot nsd ours}; do
    start "$s" || { stop; exit 1; }
    if [ "$r" = 1 ] && [[ "$s" != floor* ]]; then
      echo "  [$s] sanity:"; sanity
      [[ "$s" == ours* ]] && echo "    UDP transport: $(grep -o '"udpTransport":"[a-z]*"' "$W/ours.log" | head -1 | cut -d'"' -f4)"
    fi
    t0=$(cpu_ticks "$SPID")
    # dnsperf's own CPU (user + sys seconds) through bash's time keyword.
    TIMEFORMAT='%U %S'
    { time $CP dnsperf -s 127.0.0.1 -p "$PORT" -d "$W/queries.txt" -l "$DUR" -c "$CLIENTS" "${LIMIT[@]}" >"$W/dnsperf.$s.$r.txt" 2>&1; } 2>"$W/dnsperf-cpu.$s.$r.txt" || true
    t1=$(cpu_ticks "$SPID")
    gen_cores=$(awk -v d="$DUR" '{ printf "%.2f", ($1 + $2) / d }' "$W/dnsperf-cpu.$s.$r.txt")
    done_q=$(awk '/Queries completed/{print $3}' "$W/dnsperf.$s.$r.txt")
    # CPU microseconds the server spent per answered query, and the cores it kept busy.
    cpu_us=$(awk -v a="$t0" -v b="$t1" -v c="$CLK" -v n="${done_q:-0}" 'BEGIN{ if (n > 0) printf "%.1f", (b - a) / c * 1e6 / n; else print 0 }')
    cores=$(awk -v a="$t0" -v b="$t1" -v c="$CLK" -v d="$DUR" 'BEGIN{ printf "%.2f", (b - a) / c / d }')
    qps=$(awk '/Queries per second/{print $4}' "$W/dnsperf.$s.$r.txt")
    lat=$(awk '/Average Latency/{gsub(/[(),]/,""); print $4, $8}' "$W/dnsperf.$s.$r.txt")
    lost=$(awk '/Queries lost/{print $3}' "$W/dnsperf.$s.$r.txt")
    codes=$(awk -F': ' '/Response codes/{print $2}' "$W/dnsperf.$s.$r.txt")
    # shellcheck disable=SC2086
    set -- $lat
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$r" "${qps:-0}" "${1:-0}" "${2:-0}" "${lost:-?}" "$cpu_us" "$cores" "$codes" "${LOAD_MS:-0}" "${RSS_MB:-0}" "${gen_cores:-0}" | tee -a "$OUT"
    stop
    sleep 1
  done
done

echo "== summary: median [min-max] of $REPS rounds"
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split("\t"));
const by = {};
for (const r of rows) (by[r[0]] ??= []).push(r);
const med = (a) => { a = [...a].sort((x, y) => x - y); const m = a.length >> 1; return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2; };
const M = {};
for (const [k, rs] of Object.entries(by)) {
  const q = rs.map((r) => +r[2]), la = rs.map((r) => +r[3] * 1e3), lm = rs.map((r) => +r[4] * 1e3);
  const cpu = rs.map((r) => +r[6]), cores = rs.map((r) => +r[7]);
  M[k] = { qps: med(q), cpu: med(cpu) };
  const load = rs.map((r) => +r[9]), rss = rs.map((r) => +r[10]);
  const gen = rs.map((r) => +r[11]);
  console.log(`${k.padEnd(10)} QPS ${med(q).toFixed(0)} [${Math.min(...q).toFixed(0)}-${Math.max(...q).toFixed(0)}]  latency avg ${med(la).toFixed(3)} ms  max ${med(lm).toFixed(1)} ms  CPU ${med(cpu).toFixed(1)} us/query (${med(cores).toFixed(2)} cores)  dnsperf ${med(gen).toFixed(2)} cores  lost ${rs.map((r) => r[5]).join(",")}  load ${med(load).toFixed(0)} ms  RSS ${med(rss).toFixed(0)} MB`);
}
// Paired rounds: ours against each peer in the same round (the rounds alternate, so the
// figures of one round were taken next to each other); "won" counts the rounds where ours answered more.
if (by.ours) {
  for (const peer of ["bind", "knot", "nsd"]) {
    if (!by[peer]) continue;
    const pairs = by.ours.map((o) => [o, by[peer].find((p) => p[1] === o[1])]).filter(([, p]) => p);
    const ratios = pairs.map(([o, p]) => +o[2] / +p[2]);
    const won = ratios.filter((x) => x > 1).length;
    console.log(`paired ours/${peer}: ${med(ratios).toFixed(2)}x QPS (median of ${ratios.length} rounds), ahead in ${won} of ${ratios.length}; CPU per query ${(M.ours.cpu / M[peer].cpu).toFixed(2)}x`);
  }
}
if (M["ours-noev"] && M.ours) console.log(`ratio ours/ours-noev = ${(M.ours.qps / M["ours-noev"].qps).toFixed(3)}x QPS with the session journal on (target >= 0.95x), CPU per query ${(M.ours.cpu / M["ours-noev"].cpu).toFixed(2)}x`);
for (const f of ["ours-wrap", "ours-dgram", "floor", "floor-sync", "floor-batch", "floor-c", "floor-c-per-datagram"])
  for (const peer of ["bind", "nsd"]) if (M[f] && M[peer]) console.log(`ratio ${f}/${peer} = ${(M[f].qps / M[peer].qps).toFixed(2)}x QPS, CPU per query ${(M[f].cpu / M[peer].cpu).toFixed(2)}x`);
for (const peer of ["bind", "knot", "nsd"]) {
  if (M[peer] && M.ours) console.log(`ratio ours/${peer} = ${(M.ours.qps / M[peer].qps).toFixed(2)}x QPS (medians; target >= 1.00x), CPU per query ${(M.ours.cpu / M[peer].cpu).toFixed(2)}x (below 1 = less CPU per answer)`);
}
' "$OUT"

if [ "${PROFILE:-0}" = 1 ]; then
  echo "== profile of our server (one run of $DUR s under --cpu-prof)"
  start ours-prof || { stop; exit 1; }
  $CP dnsperf -s 127.0.0.1 -p "$PORT" -d "$W/queries.txt" -l "$DUR" -c "$CLIENTS" >"$W/dnsperf.prof.txt" 2>&1 || true
  awk '/Queries per second/{print "  (profiled run: " $4 " QPS)"}' "$W/dnsperf.prof.txt"
  stop
  node --import tsx bench/profile-top.ts "$W"/prof/*.cpuprofile
fi
