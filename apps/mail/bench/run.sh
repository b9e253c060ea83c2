#!/usr/bin/env bash
# npm run bench -w @sstt/mail: SMTP ingest of this app vs exim4 (Debian's MTA, delivering to
# Maildir), same load, same run, then the POP3 download benchmark (bench/pop3.sh) and the IMAP one
# (bench/imap.sh, vs dovecot-imapd).
# Load: N messages of ~SIZE bytes over C connections, every message acknowledged (250) before
# the next one on its connection (bench/smtp-load.mjs). Our server answers 250 only once the
# message is fsynced in new/; exim answers once it is fsynced in its spool and delivers after.
# Ours runs twice per round: without verification ("sstt-mail") and with it ("sstt-mail+auth":
# every message checked, SPF for MAIL FROM and HELO, DKIM, ARC, DMARC, through our DNS app, which
# this script starts on a free port with the DKIM keys it mints; the sender is a user of the
# domain, so every answer is in our zone, and the Authentication-Results is written). The ratio of
# the two is printed. AUTH_SIGN=1 also signs every message (the load comes from this machine, a
# relay network): two signatures, RSA 2048 costing about 2 ms of CPU each.
# Usage: bash bench/run.sh            Env: N=2000 C=10 SIZE=2048 REPS=3 (runs alternate), POP3=0 skips pop3.sh, IMAP=0 skips imap.sh, SMTP=0 runs only pop3.sh (and imap.sh), AUTH=0 skips the +auth runs, AUTH_SIGN=1 signs in them
# Takes /tmp/sstt-bench.lock itself unless a parent already holds it (flock ... npm run bench).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
APP="$(cd "$HERE/.." && pwd)"
# shellcheck source=lock.sh
source "$HERE/lock.sh"

# SMTP=0: only the POP3 and IMAP benchmarks.
if [ "${SMTP:-1}" = 0 ]; then
  if [ "${POP3:-1}" != 0 ]; then SSTT_BENCH_LOCKED=1 bash "$HERE/pop3.sh"; fi
  if [ "${IMAP:-1}" != 0 ]; then SSTT_BENCH_LOCKED=1 bash "$HERE/imap.sh"; fi
  exit 0
fi

N="${N:-2000}"; C="${C:-10}"; SIZE="${SIZE:-2048}"; REPS="${REPS:-3}"
W="$(mktemp -d /tmp/sstt-mail-bench.XXXXXX)"; chmod 755 "$W"
RES="$W/smtp.tsv"; : > "$RES"

# Debian tools the benchmark drives (CI installs them too).
need=()
command -v exim4 >/dev/null || need+=(exim4-daemon-light)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >/dev/null
fi

cd "$APP"
eval "$(node --import tsx bench/scenario-info.ts)"
freeport() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
waitport() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "nothing listens on $1" >&2; return 1; }

# ---- exim4, private instance (config adapted from the recipe that measured the issue's anchor) ----
EXIM_PORT="$(freeport)"
EX="$W/exim.conf"
cat > "$EX" <<C
primary_hostname = $HOSTNAME.$DOMAIN
domainlist local_domains = $DOMAIN
qualify_domain = $DOMAIN
daemon_smtp_ports = $EXIM_PORT
local_interfaces = 127.0.0.1
spool_directory = $W/exim-spool
log_file_path = $W/exim-log/%slog
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
smtp_accept_max = 200
smtp_accept_max_per_connection = 0
smtp_accept_queue_per_connection = 0
smtp_accept_reserve = 0
message_size_limit = $MAX_SIZE
never_users = root
keep_environment =
acl_smtp_rcpt = acl_check_rcpt
begin acl
acl_check_rcpt:
  accept domains = +local_domains
         local_parts = $BENCH_USER
  deny   message = relay not permitted
begin routers
localuser:
  driver = accept
  domains = +local_domains
  local_parts = $BENCH_USER
  transport = local_maildir
begin transports
local_maildir:
  driver = appendfile
  directory = $W/exim-maildir/$BENCH_USER/Maildir
  maildir_format
  create_directory
  delivery_date_add
  envelope_to_add
  return_path_add
  user = Debian-exim
  group = Debian-exim
  mode = 0600
  directory_mode = 0700
begin retry
*   *   F,2h,15m
C
chmod 644 "$EX"
# exim keeps root (needed to switch to the delivery user) with -C only for configs listed in
# Debian's TRUSTED_CONFIG_LIST.
grep -qxF "$EX" /etc/exim4/trusted_configs 2>/dev/null || echo "$EX" >> /etc/exim4/trusted_configs
chmod 644 /etc/exim4/trusted_configs
exim4 -C "$EX" -bV >/dev/null

PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  sed -i "\\#^$EX\$#d" /etc/exim4/trusted_configs 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT INT TERM

count_new() { find "$1" -type f 2>/dev/null | wc -l; }

# run_one LABEL PORT NEWDIR REP: client-side msg/s and, once all N are in new/, delivered msg/s
run_one() {
  local t0 t1 json cnt
  t0=$(date +%s.%N)
  json=$(TIMEOUT_MS=300000 FROM="$BENCH_FROM" HELO="cliente.$DOMAIN" node "$HERE/smtp-load.mjs" "$2" "$N" "$C" "$SIZE" "$BENCH_RCPT")
  for _ in $(seq 3000); do cnt=$(count_new "$3"); [ "$cnt" -ge "$N" ] && break; sleep 0.1; done
  t1=$(date +%s.%N)
  node -e '
    const [label, rep, json, t0, t1, cnt, n] = process.argv.slice(1);
    const j = JSON.parse(json);
    if (j.fail || +cnt < +n) { console.error(`${label}: ${j.fail} failures, ${cnt}/${n} delivered`); process.exit(1); }
    console.log([label, rep, j.msgs_per_s, (+n / (t1 - t0)).toFixed(1)].join("\t"));
  ' "$1" "$4" "$json" "$t0" "$t1" "$cnt" "$N"
}

start_exim() {
  rm -rf "$W/exim-spool" "$W/exim-log" "$W/exim-maildir"
  mkdir -p "$W/exim-spool" "$W/exim-log" "$W/exim-maildir"
  chown -R Debian-exim:Debian-exim "$W/exim-spool" "$W/exim-log" "$W/exim-maildir"
  exim4 -C "$EX" -bdf > "$W/exim.out" 2>&1 &
  EPID=$!; PIDS+=("$EPID"); waitport "$EXIM_PORT"
}

# wait_port_in_log FILE SED-EXPRESSION: the port an app started on port 0 logs (its "listening" line), waited for.
wait_port_in_log() {
  local port=""
  for _ in $(seq 1200); do
    port=$(sed -n "$2" "$1" | head -1)
    [ -n "$port" ] && break; sleep 0.05
  done
  [ -n "$port" ] || { cat "$1" >&2; return 1; }
  echo "$port"
}

# Our DNS app for the +auth runs: the domain's zone with the DKIM keys minted into $W/certs, no
# forwarder (every name the load makes us ask is in the zone).
start_dns() {
  ( cd "$APP/../../packages/pki" && SSTT_CERTS_DIR="$W/certs" node --import tsx src/cli.ts init > "$W/pki.out" 2>&1 )
  SSTT_CERTS_DIR="$W/certs" SSTT_DATA_DIR="$W/dns" SSTT_DNS_PORT=0 SSTT_DNS_FORWARDERS=127.0.0.1:9 SSTT_LOG_LEVEL=info \
    node --import tsx "$APP/../dns/src/main.ts" > "$W/dns.out" 2>&1 &
  DPID=$!; PIDS+=("$DPID")
  DNS_PORT=$(wait_port_in_log "$W/dns.out" 's/.*"port":\([0-9]*\).*dns listening.*/\1/p') || exit 1
}

# start_ours AUTH: AUTH=1 verifies (and signs with AUTH_SIGN=1), 0 neither (the plain streaming path).
start_ours() {
  rm -rf "$W/ours"; mkdir -p "$W/ours"
  local certs="$W/no-certs" verify=0 sign=0
  if [ "$1" = 1 ]; then certs="$W/certs"; verify=1; sign="${AUTH_SIGN:-0}"; fi
  SSTT_DATA_DIR="$W/ours" SSTT_CERTS_DIR="$certs" SSTT_SMTP_PORT=0 SSTT_SUBMISSION_PORT=0 \
    SSTT_POP3_PORT=0 SSTT_POP3S_PORT=0 SSTT_IMAP_PORT=0 SSTT_IMAPS_PORT=0 SSTT_LOG_LEVEL=info SSTT_DNS_PORT="${DNS_PORT:-0}" \
    SSTT_MAIL_AUTH_VERIFY="$verify" SSTT_MAIL_AUTH_SIGN="$sign" \
    node --import tsx src/main.ts > "$W/ours.out" 2>&1 &
  OPID=$!; PIDS+=("$OPID")
  OURS_PORT=$(wait_port_in_log "$W/ours.out" 's/.*"service":"smtp".*"port":\([0-9]*\).*"listening".*/\1/p') || exit 1
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

echo "SMTP ingest: $N messages of ~$SIZE bytes over $C connections, $REPS alternating runs each (machine: $(nproc) cores)"
[ "${AUTH:-1}" = 0 ] || start_dns
for r in $(seq "$REPS"); do
  start_exim; run_one exim "$EXIM_PORT" "$W/exim-maildir/$BENCH_USER/Maildir/new" "$r" | tee -a "$RES"; stop "$EPID"
  start_ours 0; run_one sstt-mail "$OURS_PORT" "$W/ours/mail/$BENCH_USER/Maildir/new" "$r" | tee -a "$RES"; stop "$OPID"
  if [ "${AUTH:-1}" != 0 ]; then
    start_ours 1; run_one sstt-mail+auth "$OURS_PORT" "$W/ours/mail/$BENCH_USER/Maildir/new" "$r" | tee -a "$RES"; stop "$OPID"
    # Every message was checked: the last one stored says so.
    last=$(ls -t "$W/ours/mail/$BENCH_USER/Maildir/new" | sed -n 1p)
    grep -q '^ dmarc=pass' "$W/ours/mail/$BENCH_USER/Maildir/new/$last" || { echo "sstt-mail+auth: the last message has no dmarc=pass:"; head -20 "$W/ours/mail/$BENCH_USER/Maildir/new/$last"; exit 1; }
  fi
done

node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split("\t"));
const med = (a) => { a = [...a].sort((x, y) => x - y); const m = a.length >> 1; return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2; };
const by = {}; for (const r of rows) (by[r[0]] ??= []).push(r);
const M = {};
for (const [k, rs] of Object.entries(by)) {
  M[k] = { ingest: med(rs.map((r) => +r[2])), delivered: med(rs.map((r) => +r[3])) };
  console.log(`${k.padEnd(10)} ingest ${M[k].ingest.toFixed(0).padStart(6)} msg/s   all in Maildir ${M[k].delivered.toFixed(0).padStart(6)} msg/s   (medians of ${rs.length})`);
}
if (M.exim && M["sstt-mail"]) {
  console.log(`ratio sstt-mail/exim: ingest ${(M["sstt-mail"].ingest / M.exim.ingest).toFixed(2)}x, in Maildir ${(M["sstt-mail"].delivered / M.exim.delivered).toFixed(2)}x (target >= 5x; every 250 after fsync)`);
}
const A = M["sstt-mail+auth"];
if (A && M.exim) console.log(`ratio sstt-mail+auth/exim: ingest ${(A.ingest / M.exim.ingest).toFixed(2)}x (target >= 5x with authentication on)`);
if (A && M["sstt-mail"]) console.log(`ratio sstt-mail+auth/sstt-mail: ingest ${(A.ingest / M["sstt-mail"].ingest).toFixed(2)}x (the cost of checking${process.env.AUTH_SIGN === "1" ? " and signing" : ""})`);
' "$RES"

if [ -f "$HERE/pop3.sh" ] && [ "${POP3:-1}" != 0 ]; then
  echo
  SSTT_BENCH_LOCKED=1 bash "$HERE/pop3.sh"
fi
if [ "${IMAP:-1}" != 0 ]; then
  echo
  SSTT_BENCH_LOCKED=1 bash "$HERE/imap.sh"
fi
