#!/usr/bin/env bash
# Benchmark of web_sstt against nginx and node:http serving the same directory, in the same run:
# wrk -t1 -c50 keep-alive, a 1 KiB file and a 1 MiB file, REPS alternating rounds of DUR seconds;
# and the 1 KiB file again with every server closing a connection after 100 requests
# ("small.html@100": connections are set up all the time, as browsers do, so the cost of accepting
# one, of the connection limiter and of the session journal's open/close shows).
# Prints req/s and MB/s (median of the rounds), the ratios to nginx and to node:http (of the medians,
# and paired round by round), the CPU use of each server and of wrk, and which of them was the limit.
#   bash bench/run.sh [REPS=9] [DUR=4]         env: PIN=1 pins servers to CPU 1 and wrk to CPU 0
#                                                   LOG=0 turns web_sstt's access log off
#                                                   EVENTS=none turns the console's session journal off
#                                                   FILES="big.zip" SERVERS="web_sstt node_http" measure a subset
# Run serialised with the other benchmarks: flock /tmp/sstt-bench.lock npm run bench -w @sstt/http
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
APP="$(cd "$HERE/.." && pwd)"
REPS="${1:-9}"; DUR="${2:-4}"
FILES="${FILES:-small.html small.html@100 big.zip}"; SERVERS="${SERVERS:-web_sstt web_sstt_stream nginx node_http}"
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get install -y "${need[@]}" >/dev/null || { apt-get update >/dev/null && apt-get install -y "${need[@]}" >/dev/null; }
fi
W="$(mktemp -d /tmp/sstt-http-bench.XXXXXX)"
WWW="$W/www"; mkdir -p "$WWW" "$W/logs" "$W/ngx"
chmod 755 "$W" "$WWW"
# Exactly 1024 bytes of HTML and 1048576 random bytes (an extension of web_sstt's table).
{ printf '<!DOCTYPE html><html><head><title>bench</title></head><body><p>'; head -c 2000 /dev/zero | tr '\0' 'x'; } | head -c 1006 > "$WWW/small.html"
printf '</p></body></html>' >> "$WWW/small.html"
head -c 1048576 /dev/urandom > "$WWW/big.zip"
chmod 644 "$WWW"/*
[ "$(stat -c %s "$WWW/small.html")" = 1024 ] || { echo "small.html is not 1 KiB"; exit 1; }

SP=""; CP=""
if [ "${PIN:-0}" = 1 ]; then SP="taskset -c 1"; CP="taskset -c 0"; fi
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
P_OURS=$(free_port); P_STREAM=$(free_port); P_NGINX=$(free_port); P_NODE=$(free_port)
P_OURS100=$(free_port); P_NGINX100=$(free_port); P_NODE100=$(free_port)
# Same keep-alive allowance for everyone: 1000 requests per connection (nginx's default); the
# "@100" instances close after 100 (nginx's keepalive_requests default before 1.19.10).
MAXREQ=1000

cat > "$W/nginx.conf" <<C
worker_processes 1;
daemon off;
pid $W/nginx.pid;
error_log $W/nginx-error.log warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 10;
  keepalive_requests $MAXREQ;
  client_body_temp_path $W/ngx/body; proxy_temp_path $W/ngx/proxy; fastcgi_temp_path $W/ngx/fcgi;
  uwsgi_temp_path $W/ngx/uwsgi; scgi_temp_path $W/ngx/scgi;
  server { listen 127.0.0.1:$P_NGINX; root $WWW; }
  server { listen 127.0.0.1:$P_NGINX100; root $WWW; keepalive_requests 100; }
}
C

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT INT TERM

LOGFLAG=(--log-dir "$W/logs"); [ "${LOG:-1}" = 0 ] && LOGFLAG=()
# The console's session journal is on as in npm run dev (under $W); EVENTS=none turns it off.
export SSTT_DATA_DIR="$W/data"
[ -n "${EVENTS:-}" ] && export SSTT_EVENTS="$EVENTS" && echo "(session journal: SSTT_EVENTS=$EVENTS)"
$SP node --import tsx "$APP/src/main.ts" "$P_OURS" "$WWW" --listen 127.0.0.1 --no-https --max-requests $MAXREQ "${LOGFLAG[@]}" \
  > "$W/ours.out" 2>&1 & PIDS+=($!)
# The same server with a 64 KiB cache limit: the 1 MiB file is streamed from disk (page cache).
$SP node --import tsx "$APP/src/main.ts" "$P_STREAM" "$WWW" --listen 127.0.0.1 --no-https --max-requests $MAXREQ --cache-file-max 65536 \
  "${LOGFLAG[@]}" > "$W/stream.out" 2>&1 & PIDS+=($!)
$SP nginx -c "$W/nginx.conf" -p "$W" > "$W/nginx.out" 2>&1 & PIDS+=($!)
$SP node "$HERE/node-http.mjs" "$P_NODE" "$WWW" > "$W/node.out" 2>&1 & PIDS+=($!)
# The @100 instances (nginx's is a second server block of the same worker).
$SP node --import tsx "$APP/src/main.ts" "$P_OURS100" "$WWW" --listen 127.0.0.1 --no-https --max-requests 100 "${LOGFLAG[@]}" \
  > "$W/ours100.out" 2>&1 & PIDS+=($!)
$SP node "$HERE/node-http.mjs" "$P_NODE100" "$WWW" 100 > "$W/node100.out" 2>&1 & PIDS+=($!)
if [ "${LOG:-1}" = 0 ]; then echo "(web_sstt access log off)"; fi

declare -A PORT=([web_sstt]=$P_OURS [web_sstt_stream]=$P_STREAM [nginx]=$P_NGINX [node_http]=$P_NODE)
declare -A PORT100=([web_sstt]=$P_OURS100 [nginx]=$P_NGINX100 [node_http]=$P_NODE100)
declare -A SPID=([web_sstt]=${PIDS[0]} [web_sstt_stream]=${PIDS[1]} [nginx]=${PIDS[2]} [node_http]=${PIDS[3]})
declare -A SPID100=([web_sstt]=${PIDS[4]} [nginx]=${PIDS[2]} [node_http]=${PIDS[5]})
# A file "name@100" is name served by the instance that closes after 100 requests.
port_of() { if [[ "$2" == *@100 ]]; then echo "${PORT100[$1]:-}"; else echo "${PORT[$1]}"; fi; }
ALL="web_sstt web_sstt_stream nginx node_http"
for s in $ALL web_sstt@100 node_http@100 nginx@100; do
  ok=0
  for _ in $(seq 100); do
    c=$(curl -s -o /dev/null -w '%{http_code}:%{size_download}' --max-time 2 "http://127.0.0.1:$(port_of "${s%@*}" "$s")/big.zip" || true)
    [ "$c" = 200:1048576 ] && { ok=1; break; }
    sleep 0.2
  done
  [ $ok = 1 ] || { echo "$s did not come up ($c)"; cat "$W"/*.out; exit 1; }
done

# CPU time of a server (user + system, clock ticks): the nginx worker is the master's child.
cpu_pid() {
  if [ "$1" = nginx ]; then pgrep -P "${SPID[nginx]}" | head -1
  elif [[ "$2" == *@100 ]]; then echo "${SPID100[$1]}"
  else echo "${SPID[$1]}"; fi
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
# Warm-up (JIT, page cache, caches).
for s in $SERVERS; do for f in $FILES; do
  p=$(port_of "$s" "$f"); [ -n "$p" ] || continue
  timeout 20 $CP wrk -t1 -c50 -d2s "http://127.0.0.1:$p/${f%@*}" >/dev/null 2>&1 || true
done; done

OUT="$W/results.tsv"; : > "$OUT"
tomb() { awk -v v="$1" 'BEGIN{n=v+0; u=v; sub(/^[0-9.]+/,"",u); f=(u=="GB")?1024:(u=="MB")?1:(u=="KB")?1/1024:1/1048576; printf "%.2f", n*f}'; }
echo "wrk -t1 -c50 -d${DUR}s keep-alive, $REPS rounds; cores: $(nproc); PIN=${PIN:-0}; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for f in $FILES; do
  for r in $(seq "$REPS"); do
    for s in $SERVERS; do
      p=$(port_of "$s" "$f"); [ -n "$p" ] || continue
      log="$W/wrk.$s.$f.$r.txt"
      cp=$(cpu_pid "$s" "$f"); t0=$(ticks "$cp")
      # wrk's own CPU time (bash's time keyword: user + system of the child), to tell whether the
      # client or the server was the limit of the round.
      { TIMEFORMAT='%U %S'; time timeout $((DUR + 20)) $CP wrk -t1 -c50 -d"${DUR}s" "http://127.0.0.1:$p/${f%@*}" > "$log" 2>&1 || true; } 2> "$log.time"
      t1=$(ticks "$cp"); n=$(awk '/requests in/{print $1}' "$log")
      wcore=$(awk -v d="$DUR" '{ printf "%.2f", ($1 + $2) / d }' "$log.time")
      cpu=$(awk -v a="$t0" -v b="$t1" -v n="${n:-0}" -v hz="$HZ" 'BEGIN{ if (n > 0) printf "%.1f", (b - a) / hz * 1e6 / n; else print 0 }')
      rps=$(awk '/^Requests\/sec/{print $2}' "$log")
      tr=$(tomb "$(awk '/^Transfer\/sec/{print $2}' "$log")")
      non2xx=$(awk '/Non-2xx/{print $NF}' "$log" | tr -cd 0-9); serr=$(grep -c 'Socket errors' "$log" || true)
      srvcores=$(awk -v a="$t0" -v b="$t1" -v d="$DUR" -v hz="$HZ" 'BEGIN{ printf "%.2f", (b - a) / hz / d }')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$f" "$s" "$r" "${rps:-0}" "${tr:-0}" "${non2xx:-0}" "$serr" "$cpu" "$srvcores" "$wcore" | tee -a "$OUT"
    done
  done
done
node "$HERE/summary.mjs" "$OUT"
