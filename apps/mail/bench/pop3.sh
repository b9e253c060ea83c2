#!/usr/bin/env bash
# POP3 download benchmark: this app's POP3 server vs dovecot-pop3d (Debian), same run, same
# mailbox: N messages of ~SIZE bytes (CRLF, ",S=" in the file name, one line in ten starting
# with "."), downloaded by bench/pop3-load.ts (USER/PASS, STAT, LIST, UIDL, RETR 1..N one at a
# time, QUIT). Each server gets its own copy of the Maildir. One cold run each (messages still in
# new/: the server moves them to cur/ and builds its uidlist/index), then REPS warm runs
# alternating ours/dovecot; medians of msgs/s and the ratio are printed.
# Usage: bash bench/pop3.sh     Env: N=2000 SIZE=2048 REPS=5
# Takes /tmp/sstt-bench.lock itself unless a parent already holds it (run.sh, flock ...).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
APP="$(cd "$HERE/.." && pwd)"
# shellcheck source=lock.sh
source "$HERE/lock.sh"

N="${N:-2000}"; SIZE="${SIZE:-2048}"; REPS="${REPS:-5}"
command -v dovecot >/dev/null || { echo "installing dovecot-pop3d"; DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-core dovecot-pop3d >/dev/null; }
MAIL_UID=$(id -u mail); MAIL_GID=$(id -g mail)

# shellcheck source=dovecot.sh
source "$HERE/dovecot.sh"
bench_workdir pop3
cd "$APP"
# Our server, on the benchmark's data directory; it tells us the port and the user.
start_ours bench/pop3-server.ts POP3_PASS
OURS_PORT=$POP3_PORT; BUSER=$POP3_USER; BPASS=$POP3_PASS

# The mailbox, generated once and copied for each server.
node -e '
  const fs = require("fs"); const [dir, n, size] = process.argv.slice(1);
  fs.mkdirSync(dir, { recursive: true });
  const t = Math.floor(Date.now() / 1000) - 100000;
  const filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n";
  for (let i = 1; i <= +n; i++) {
    let m = `Return-Path: <sender@client.test>\r\nFrom: sender@client.test\r\nTo: bench@client.test\r\nSubject: pop test ${i}\r\nMessage-ID: <${i}.pop@client.test>\r\nDate: ${new Date((t + i) * 1000).toUTCString()}\r\n\r\n`;
    while (m.length + filler.length <= +size) m += filler;
    if (i % 10 === 0) m += ".dot-leading line\r\n";
    fs.writeFileSync(`${dir}/${t + i}.M${i}P1.bench,S=${Buffer.byteLength(m)}`, m);
  }' "$W/gen" "$N" "$SIZE"
for who in ours dove; do
  md="$W/$who/mail/$BUSER/Maildir"; mkdir -p "$md/cur" "$md/tmp"; cp -a "$W/gen" "$md/new"
done
chown -R "$MAIL_UID:$MAIL_GID" "$W/dove"

# dovecot on a free loopback port, its own base/state directories, the same user and password.
start_dovecot "$W/dove/mail/$BUSER" pop3
DOVE_PORT=$DOVE_POP3_PORT

# One load run against a server; prints the client's JSON with the server's CPU ms added.
load() {
  local port=$1 pid=$2 before after j
  before=$(cpu_ticks "$pid")
  j=$(TIMEOUT_MS=110000 npx tsx bench/pop3-load.ts "$port" "$BUSER" "$BPASS")
  after=$(cpu_ticks "$pid")
  echo "${j%\}},\"server_cpu_ms\":$(( (after - before) * TICK_MS ))}"
}
RES="$W/pop3.tsv"; : > "$RES"
echo "POP3 download: $N messages of ~$SIZE bytes, sequential RETR; ours on :$OURS_PORT, dovecot $(dovecot --version | cut -d' ' -f1) on :$DOVE_PORT"
for who in ours dovecot; do
  port=$OURS_PORT; pid=$OURS_PID; [ $who = dovecot ] && port=$DOVE_PORT && pid=$DOVE_PID
  j=$(load "$port" "$pid"); printf '%s\tcold\t%s\n' "$who" "$j" | tee -a "$RES"
done
for r in $(seq "$REPS"); do
  for who in ours dovecot; do
    port=$OURS_PORT; pid=$OURS_PID; [ $who = dovecot ] && port=$DOVE_PORT && pid=$DOVE_PID
    j=$(load "$port" "$pid"); printf '%s\twarm\t%s\n' "$who" "$j" | tee -a "$RES"
  done
done
if grep -qiE 'error|fatal|panic' "$W/dovecot.log" 2>/dev/null; then grep -iE 'error|fatal|panic' "$W/dovecot.log" | tail -3; fi

node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split("\t"));
  const med = (a) => { a = [...a].sort((x, y) => x - y); const m = a.length >> 1; return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2; };
  const pick = (who, phase) => rows.filter((r) => r[0] === who && r[1] === phase).map((r) => JSON.parse(r[2]));
  const errors = rows.filter((r) => JSON.parse(r[2]).error).length;
  const fig = {};
  for (const who of ["ours", "dovecot"]) for (const phase of ["cold", "warm"]) {
    const js = pick(who, phase).filter((j) => !j.error);
    if (!js.length) continue;
    const v = js.map((j) => j.msgs_per_s);
    fig[who + "_" + phase] = med(v);
    const cpu = med(js.map((j) => j.server_cpu_ms));
    fig[who + "_" + phase + "_cpu"] = cpu;
    const ccpu = js.every((j) => j.client_retr_cpu_ms !== undefined) ? `, client CPU in RETRs ${med(js.map((j) => j.client_retr_cpu_ms))} ms` : "";
    console.log(`${who.padEnd(8)} ${phase}: ${med(v)} msg/s (median of ${v.length}, min ${Math.min(...v)}, max ${Math.max(...v)}), login ${med(js.map((j) => j.login_ms))} ms, server CPU ${cpu} ms per ${js[0].messages} messages${ccpu}`);
  }
  console.log(`ratio ours/dovecot warm = ${(fig.ours_warm / fig.dovecot_warm).toFixed(2)}x (target >= 1.0x); cold = ${(fig.ours_cold / fig.dovecot_cold).toFixed(2)}x`);
  const n = pick("ours", "warm")[0]?.messages ?? 1;
  console.log(`server CPU per message, warm: ours ${(fig.ours_warm_cpu / n * 1000).toFixed(0)} us, dovecot ${(fig.dovecot_warm_cpu / n * 1000).toFixed(0)} us`);
  if (errors) { console.log(`${errors} run(s) failed`); process.exit(1); }
' "$RES"
