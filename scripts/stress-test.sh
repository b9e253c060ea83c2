#!/usr/bin/env bash
# stress-test.sh: the proof that the suite stays green on a busy machine (issue 18). Runs the
# README's test line (`npm run setup && npm install && npm test`, read from the README itself)
# RUNS times in a row (default 3) with BUSY CPU-bound processes (default 2, `yes > /dev/null` at
# normal priority) running beside it the whole time, as on a shared 2-core CI machine. Prints one
# line per run (result, seconds, where its log is) and exits non-zero if any run failed.
# Each run is bounded by RUN_TIMEOUT seconds (default 3600); the busy processes are killed on
# exit, on Ctrl-C and on SIGTERM.
#   scripts/stress-test.sh                 three runs beside two busy loops
#   RUNS=1 BUSY=4 scripts/stress-test.sh   one run beside four
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
busy=${BUSY:-2}
run_timeout=${RUN_TIMEOUT:-3600}

# The test line of the README's first ```sh block (the one CI runs, packages/testkit checks it).
line=$(awk '/^```sh/{f=1; next} /^```/{f=0} f' "$root/README.md" | sed 's/[[:space:]]*#.*$//' | grep -m1 'npm test')
if [ -z "$line" ]; then
  echo "stress-test: no test line (with npm test) in README.md's sh block" >&2
  exit 2
fi

logs=$(mktemp -d "${TMPDIR:-/tmp}/sstt-stress.XXXXXX")
pids=()
run_pid=
cleanup() {
  # the run under way (timeout passes the signal on to the test line), then the busy processes
  if [ -n "$run_pid" ]; then
    kill "$run_pid" 2>/dev/null
    wait "$run_pid" 2>/dev/null
    run_pid=
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  pids=()
}
trap cleanup EXIT
trap 'cleanup; echo "stress-test: interrupted" >&2; exit 130' INT TERM

for ((i = 0; i < busy; i++)); do
  yes >/dev/null &
  pids+=($!)
done
echo "stress-test: ${runs} run(s) of \`${line}\` beside ${busy} busy process(es) (pids ${pids[*]}); logs in ${logs}"

failed=0
for ((r = 1; r <= runs; r++)); do
  log="$logs/run-$r.log"
  start=$(date +%s)
  # In the background and waited for, so that a signal to this script is handled at once.
  (cd "$root" && exec timeout --kill-after=30 "$run_timeout" bash -c "$line") >"$log" 2>&1 &
  run_pid=$!
  wait "$run_pid"
  code=$?
  run_pid=
  secs=$(($(date +%s) - start))
  # turbo's summary of the tasks (e.g. "Tasks: 61 successful, 61 total"), when it got that far
  tasks=$(grep -aoE 'Tasks: +[0-9]+ successful, [0-9]+ total' "$log" | tail -1 | tr -s ' ')
  if [ "$code" -eq 0 ]; then
    echo "run $r/$runs: passed in ${secs} s${tasks:+ ($tasks)}; log $log"
  else
    failed=$((failed + 1))
    why="exit $code"
    [ "$code" -eq 124 ] && why="timed out after ${run_timeout} s"
    echo "run $r/$runs: FAILED ($why) in ${secs} s${tasks:+ ($tasks)}; log $log"
  fi
done

cleanup
if [ "$failed" -gt 0 ]; then
  echo "stress-test: $failed of $runs run(s) failed"
  exit 1
fi
echo "stress-test: all $runs run(s) passed"
