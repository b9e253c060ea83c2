# Shared by pop3.sh and imap.sh (sourced): the work directory and its cleanup, our server started
# from a bench/*-server.ts, dovecot on free loopback ports with its own base and state directories
# under $W and the benchmark user from a passwd-file, and the CPU time and memory of a process tree.

# bench_workdir <name>: W, a fresh directory removed (with our server and dovecot stopped) on exit.
bench_workdir() {
  W="$(mktemp -d "/tmp/sstt-$1-bench.XXXXXX")"; chmod 755 "$W"
  OURS_PID=""; DOVE_PID=""
  trap bench_cleanup EXIT INT TERM
}
bench_cleanup() {
  [ -n "${KEEP_OURS_OUT:-}" ] && cp "$W/ours.out" "$KEEP_OURS_OUT" 2>/dev/null
  [ -n "$OURS_PID" ] && kill "$OURS_PID" 2>/dev/null && wait "$OURS_PID" 2>/dev/null || true
  [ -n "$DOVE_PID" ] && kill "$DOVE_PID" 2>/dev/null && wait "$DOVE_PID" 2>/dev/null || true
  rm -rf "$W"
}

# start_ours <bench/x-server.ts> <the last variable it prints>: our server on the benchmark's data
# directory; its output (PORT, USER, ...) is sourced. The entry is bundled first as the app's build
# bundles src/main.ts (scripts/bundle.mjs, esbuild), and run by node alone: what `npm run dev`
# runs, not the TypeScript loader (tsx compiles with esbuild's keepNames, a call per closure made).
# node itself (not npx/tsx wrappers), so that killing OURS_PID stops the server.
# For investigating, not for figures: OURS_NODE_FLAGS are given to that node (e.g. "--trace-deopt
# --trace-gc"), and KEEP_OURS_OUT=<file> keeps what it printed once the benchmark ends.
start_ours() {
  local entry
  entry="$W/bundle/$(basename "${1%.ts}").js"
  node "$HERE/../../../scripts/bundle.mjs" --outdir "$W/bundle" "$1" || { echo "bundling $1 failed"; exit 1; }
  # The bundle lives outside the checkout: SSTT_ROOT says where the scenario's files are.
  SSTT_ROOT="$(cd "$HERE/../../.." && pwd)" SSTT_DATA_DIR="$W/ours" node ${OURS_NODE_FLAGS:-} "$entry" > "$W/ours.out" 2> "$W/ours.err" &
  OURS_PID=$!
  for _ in $(seq 400); do grep -q "^$2=" "$W/ours.out" 2>/dev/null && break; sleep 0.05; done
  grep -q "^$2=" "$W/ours.out" || { echo "our server did not start:"; cat "$W/ours.err"; exit 1; }
  # shellcheck disable=SC1091
  . <(grep -E '^[A-Z0-9_]+=' "$W/ours.out")
}

# start_dovecot needs W, BUSER, BPASS, MAIL_UID, MAIL_GID; sets DOVE_PID, DOVE_POP3_PORT, DOVE_IMAP_PORT.
freeport() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# start_dovecot <home of the user's Maildir> <protocols: "pop3" or "imap">
start_dovecot() {
  local home=$1 protocols=$2
  DOVE_POP3_PORT=0; DOVE_IMAP_PORT=0
  [ "$protocols" = pop3 ] && DOVE_POP3_PORT=$(freeport)
  [ "$protocols" = imap ] && DOVE_IMAP_PORT=$(freeport)
  echo "$BUSER:{PLAIN}$BPASS:$MAIL_UID:$MAIL_GID::$home::" > "$W/users"
  mkdir -p "$W/run" "$W/state"
  cat > "$W/dovecot.conf" <<C
instance_name = sstt_${protocols}_bench_$$
base_dir = $W/run
state_dir = $W/state
protocols = $protocols
listen = 127.0.0.1
log_path = $W/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:~/Maildir
first_valid_uid = $MAIL_UID
first_valid_gid = $MAIL_GID
default_internal_user = dovecot
default_login_user = dovenull
pop3_uidl_format = %08Xu%08Xv
# The load's connections all reach dovecot: its defaults cap one user at 10 connections per
# client address (mail_max_userip_connections) and every service at 100 processes (one IMAP
# process per connection), which the IDLE memory load of K=200..400 connections passes.
mail_max_userip_connections = 2000
default_process_limit = 2000
default_client_limit = 4000
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $W/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $W/users
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $DOVE_POP3_PORT
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DOVE_IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
C
  dovecot -F -c "$W/dovecot.conf" > "$W/dovecot.out" 2>&1 &
  DOVE_PID=$!
  local port=$DOVE_POP3_PORT
  [ "$protocols" = imap ] && port=$DOVE_IMAP_PORT
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.05; done
  echo "dovecot did not start:"; cat "$W/dovecot.out" "$W/dovecot.log" 2>/dev/null; return 1
}

# CPU time (clock ticks) used so far by a process tree, reaped children included: the servers'
# own cost per run, which the machine's load does not inflate the way it inflates wall time.
cpu_ticks() {
  local tot=0 p f
  local -a todo=("$@")
  while [ ${#todo[@]} -gt 0 ]; do
    p=${todo[0]}; todo=("${todo[@]:1}")
    if [ -r "/proc/$p/stat" ]; then
      read -r -a f < <(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
      tot=$((tot + f[11] + f[12] + f[13] + f[14]))
      # shellcheck disable=SC2207
      todo+=($(pgrep -P "$p" || true))
    fi
  done
  echo "$tot"
}
TICK_MS=$((1000 / $(getconf CLK_TCK)))

# Proportional set size (KiB) of a process tree: dovecot runs a process per IMAP connection, and
# each page its processes share (the binary, libraries) counts once over them, not once in each as
# their RSS would count it.
pss_kib() {
  local tot=0 p kb
  local -a todo=("$@")
  while [ ${#todo[@]} -gt 0 ]; do
    p=${todo[0]}; todo=("${todo[@]:1}")
    kb=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true)
    tot=$((tot + ${kb:-0}))
    # shellcheck disable=SC2207
    todo+=($(pgrep -P "$p" || true))
  done
  echo "$tot"
}
