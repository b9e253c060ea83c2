# Sourced by run.sh and pop3.sh: serialise with the other benchmarks of the project by taking
# /tmp/sstt-bench.lock, unless a parent already holds it (run.sh calling pop3.sh, or
# `flock /tmp/sstt-bench.lock npm run bench`). Re-executes the calling script under flock.
LOCK=/tmp/sstt-bench.lock
parent_holds_lock() {
  local pid=$PPID
  while [ "$pid" -gt 1 ]; do
    if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "flock.*$LOCK"; then return 0; fi
    # the parent pid is the 2nd field after the ")" that ends the command name (which may hold spaces)
    pid=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $2}')
    [ -n "$pid" ] || return 1
  done
  return 1
}
if [ -z "${SSTT_BENCH_LOCKED:-}" ] && ! parent_holds_lock; then
  exec flock "$LOCK" env SSTT_BENCH_LOCKED=1 bash "$0" "$@"
fi
