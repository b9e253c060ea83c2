#!/usr/bin/env bash
# IMAP benchmark: this app's IMAP server vs dovecot-imapd (Debian), same run, each on its own copy
# of the same Maildir. bench/imap-load.ts logs in, times the first SELECT INBOX and a UID SEARCH,
# FETCHes every message's full body on one connection, then IDLEs and times a delivery's EXISTS.
# Mailbox of N messages of ~SIZE bytes: one cold run each (new/ moved to cur/, uidlist or index
# built), then REPS warm runs alternating ours/dovecot; medians and ratios. Then SELECT and UID
# SEARCH on a mailbox of BIG messages (cold, then warm), and the memory of IDLE connections
# (the growth of the server's PSS from K to 2K logged-in connections idling in INBOX, per connection).
# Usage: bash bench/imap.sh     Env: N=2000 SIZE=2048 REPS=5 BIG=100000 K=200
# Takes /tmp/sstt-bench.lock itself unless a parent already holds it (run.sh, flock ...).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
APP="$(cd "$HERE/.." && pwd)"
# shellcheck source=lock.sh
source "$HERE/lock.sh"

N="${N:-2000}"; SIZE="${SIZE:-2048}"; REPS="${REPS:-5}"; BIG="${BIG:-100000}"; K="${K:-200}"
command -v dovecot >/dev/null && [ -x /usr/lib/dovecot/imap ] || { echo "installing dovecot-imapd"; DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-core dovecot-imapd >/dev/null; }
MAIL_UID=$(id -u mail); MAIL_GID=$(id -g mail)

# shellcheck source=dovecot.sh
source "$HERE/dovecot.sh"
bench_workdir imap
cd "$APP"
# Our server, on the benchmark's data directory; it tells us the port and the user.
start_ours bench/imap-server.ts IMAP_MAILDIR
OURS_PORT=$IMAP_PORT; BUSER=$IMAP_USER; BPASS=$IMAP_PASS

# gen <dir> <count> <size>: messages as an MDA leaves them in new/ (",S=" in the name).
gen() {
  node -e '
    const fs = require("fs"); const [dir, n, size] = process.argv.slice(1);
    fs.mkdirSync(dir, { recursive: true });
    const t = Math.floor(Date.now() / 1000) - 200000;
    const filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n";
    for (let i = 1; i <= +n; i++) {
      let m = `From: sender@client.test\r\nTo: bench@client.test\r\nSubject: imap test ${i}\r\nMessage-ID: <${i}.imap@client.test>\r\nDate: ${new Date((t + i) * 1000).toUTCString()}\r\n\r\n`;
      while (m.length + filler.length <= +size) m += filler;
      fs.writeFileSync(`${dir}/${t + i}.M${i}P1.bench,S=${Buffer.byteLength(m)}`, m);
    }' "$1" "$2" "$3"
}
# fill <count> <size>: the same fresh Maildir for both servers.
fill() {
  rm -rf "$W/gen"; gen "$W/gen" "$1" "$2"
  for who in ours dove; do
    md="$W/$who/mail/$BUSER/Maildir"; rm -rf "$md"; mkdir -p "$md/cur" "$md/tmp"; cp -a "$W/gen" "$md/new"
  done
  chown -R "$MAIL_UID:$MAIL_GID" "$W/dove"
}
fill "$N" "$SIZE"

start_dovecot "$W/dove/mail/$BUSER" imap
DOVE_PORT=$DOVE_IMAP_PORT

load() {
  local port=$1 pid=$2 md=$3 before after j
  before=$(cpu_ticks "$pid")
  j=$(TIMEOUT_MS=300000 npx tsx bench/imap-load.ts "$port" "$BUSER" "$BPASS" "$md")
  after=$(cpu_ticks "$pid")
  echo "${j%\}},\"server_cpu_ms\":$(( (after - before) * TICK_MS ))}"
}
RES="$W/imap.tsv"; : > "$RES"
echo "IMAP: $N messages of ~$SIZE bytes; ours on :$OURS_PORT, dovecot $(dovecot --version | cut -d' ' -f1) on :$DOVE_PORT"
run_round() {
  local phase=$1 who port pid md
  for who in ours dovecot; do
    port=$OURS_PORT; pid=$OURS_PID; md="$W/ours/mail/$BUSER/Maildir"
    [ $who = dovecot ] && port=$DOVE_PORT && pid=$DOVE_PID && md="$W/dove/mail/$BUSER/Maildir"
    j=$(load "$port" "$pid" "$md"); printf '%s\t%s\t%s\n' "$who" "$phase" "$j" | tee -a "$RES"
    [ $who = dovecot ] && chown -R "$MAIL_UID:$MAIL_GID" "$W/dove"
  done
}
run_round cold
for _ in $(seq "$REPS"); do run_round warm; done

# SELECT and UID SEARCH on BIG messages: the first SELECT (new/ to cur/, uidlist or index built), then warm.
fill "$BIG" 300
for phase in big-cold big-warm big-warm big-warm; do
  for who in ours dovecot; do
    port=$OURS_PORT; [ $who = dovecot ] && port=$DOVE_PORT
    j=$(PHASE=select TIMEOUT_MS=600000 npx tsx bench/imap-load.ts "$port" "$BUSER" "$BPASS" /nonexistent)
    printf '%s\t%s\t%s\n' "$who" "$phase" "$j" | tee -a "$RES"
  done
done

# Memory per IDLE connection: the growth of the server's proportional set size (its whole process tree)
# from K to 2K connections logged in and idling in INBOX (a small mailbox again), per connection.
# The first K are the baseline, not zero: the first connections after the big mailbox's runs set
# off the garbage collector of a Node server, which gave back more than they cost (a negative
# figure); the growth beyond them is the connections' own. Before 2026-12-07 the load came from one
# address, and ours took only 50 of them (its per-address cap): that figure was not a measure.
fill 10 "$SIZE"
# settle <who>: our server collects its garbage first (SIGUSR2, bench/imap-server.ts) and says when
# it is done; dovecot (no collector: what it holds is what its processes keep) is read as it is.
settle() {
  [ "$1" = ours ] || return 0
  local n
  n=$(grep -c '^GC$' "$W/ours.err" || true)
  kill -USR2 "$OURS_PID"
  for _ in $(seq 100); do [ "$(grep -c '^GC$' "$W/ours.err" || true)" -gt "$n" ] && return 0; sleep 0.05; done
  echo "our server did not report its garbage collection"; exit 1
}
for who in ours dovecot; do
  port=$OURS_PORT; pid=$OURS_PID; [ $who = dovecot ] && port=$DOVE_PORT && pid=$DOVE_PID
  rm -f "$W/idle.out" "$W/idle.in"; mkfifo "$W/idle.in"
  node -e '
    const net = require("net"); const [port, user, pass, k] = process.argv.slice(1);
    let ready = 0; let opened = 0; const socks = [];
    const open = (n) => { for (let i = 0; i < n; i++) {
      // 20 connections per client address (127.0.0.2 and up: all of 127/8 is this host): a
      // server that caps connections per address (ours: 50, as postfix) must not refuse the load.
      const s = net.connect({ port: +port, host: "127.0.0.1", localAddress: `127.0.${2 + Math.floor(opened / 5000)}.${2 + Math.floor((opened % 5000) / 20)}` }); socks.push(s); opened++; let buf = "";
      s.on("data", (d) => { buf += d;
        if (buf.includes("* OK") && !s.l) { s.l = 1; s.write(`l LOGIN "${user}" "${pass}"\r\ns SELECT INBOX\r\ni IDLE\r\n`); }
        if (/\r\n\+ [^\r]*\r\n/.test(buf) && !s.r) { s.r = 1; if (++ready === opened) console.log(`ready ${ready}`); } });
    } };
    open(+k);
    // A line "more" opens K more; the end of input closes them all.
    require("readline").createInterface({ input: process.stdin }).on("line", () => open(+k)).on("close", () => { for (const s of socks) s.destroy(); process.exit(0); });
  ' "$port" "$BUSER" "$BPASS" "$K" < "$W/idle.in" > "$W/idle.out" &
  IDLER=$!
  exec 7> "$W/idle.in"
  for _ in $(seq 1200); do grep -q "ready $K\$" "$W/idle.out" 2>/dev/null && break; sleep 0.05; done
  sleep 1; settle "$who"; before=$(pss_kib "$pid")
  echo more >&7
  for _ in $(seq 1200); do grep -q "ready $((2 * K))\$" "$W/idle.out" 2>/dev/null && break; sleep 0.05; done
  sleep 1; settle "$who"; after=$(pss_kib "$pid")
  exec 7>&-
  wait "$IDLER" 2>/dev/null || true; rm -f "$W/idle.in"
  grep -q "ready $((2 * K))\$" "$W/idle.out" || { echo "$who: $((2 * K)) IDLE connections were not all ready: $(tail -c 300 "$W/idle.out")"; exit 1; }
  printf '%s\tidle\t{"connections":%s,"kib_per_connection":%s}\n' "$who" "$K" "$(( (after - before) / K ))" | tee -a "$RES"
done
if grep -qiE 'error|fatal|panic' "$W/dovecot.log" 2>/dev/null; then grep -iE 'error|fatal|panic' "$W/dovecot.log" | tail -3; fi

node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split("\t"));
  const med = (a) => { a = [...a].sort((x, y) => x - y); const m = a.length >> 1; return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2; };
  const pick = (who, phase) => rows.filter((r) => r[0] === who && r[1] === phase).map((r) => JSON.parse(r[2])).filter((j) => !j.error);
  const errors = rows.filter((r) => JSON.parse(r[2]).error).length;
  const f = {};
  for (const who of ["ours", "dovecot"]) {
    for (const phase of ["cold", "warm"]) {
      const js = pick(who, phase); if (!js.length) continue;
      f[`${who}_${phase}`] = med(js.map((j) => j.msgs_per_s));
      console.log(`${who.padEnd(8)} ${phase}: FETCH ${med(js.map((j) => j.msgs_per_s))} msg/s, first SELECT ${med(js.map((j) => j.select_ms))} ms, UID SEARCH ${med(js.map((j) => j.uid_search_ms))} ms, delivery to EXISTS ${med(js.map((j) => j.idle_exists_ms))} ms, server CPU ${med(js.map((j) => j.server_cpu_ms))} ms (median of ${js.length})`);
    }
    for (const phase of ["big-cold", "big-warm"]) {
      const js = pick(who, phase); if (!js.length) continue;
      console.log(`${who.padEnd(8)} ${phase} (${js[0].messages} messages): SELECT ${med(js.map((j) => j.select_ms))} ms, UID SEARCH ${med(js.map((j) => j.uid_search_ms))} ms`);
    }
    const idle = pick(who, "idle")[0];
    if (idle) console.log(`${who.padEnd(8)} idle: ${idle.kib_per_connection} KiB per IDLE connection (from ${idle.connections} to ${2 * idle.connections} connections)`);
  }
  if (f.ours_warm && f.dovecot_warm) console.log(`ratio ours/dovecot FETCH warm = ${(f.ours_warm / f.dovecot_warm).toFixed(2)}x (target >= 1.0x); cold = ${(f.ours_cold / f.dovecot_cold).toFixed(2)}x`);
  // Paired: each warm round runs ours, then dovecot, on the same machine state.
  const [ow, dw] = [pick("ours", "warm"), pick("dovecot", "warm")];
  const pairs = ow.slice(0, dw.length).map((o, i) => o.msgs_per_s / dw[i].msgs_per_s);
  if (pairs.length) console.log(`paired FETCH warm: ours/dovecot ${med(pairs).toFixed(2)}x (median of ${pairs.length} rounds), ahead in ${pairs.filter((r) => r > 1).length}, behind in ${pairs.filter((r) => r < 1).length}`);
  if (errors) { console.log(`${errors} run(s) failed`); process.exit(1); }
' "$RES"
