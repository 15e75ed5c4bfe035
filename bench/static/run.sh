#!/usr/bin/env bash
# Static-file benchmark: uringd -root vs nginx (Debian, one worker, sendfile
# on, access_log off) vs net/http's FileServer (GOMAXPROCS=1), on files of
# 1 KiB, 64 KiB and 10 MiB. Same method as bench/cmd/bench's one-core
# scenarios: server pinned to CPU 0 (taskset -c 0), one wrk thread pinned to
# CPU 1 (taskset -c 1), 40 keep-alive connections. Servers and wrk runs are
# interleaved round by round so that background load hits all alike; the
# table reports the median requests/s of the rounds. celeris's io_uring
# engine joins when ../shared/peers/celeris is there (servers/celeris/build.sh),
# in a table of its own against uringd.
#
#   bench/static/run.sh [-d 10s] [-r 3] [-c 40] [-o bench/results/static.md]
#
# Needs: wrk, taskset, nginx (apt-get install -y nginx-light), Go.
set -euo pipefail

DUR=10s ROUNDS=3 CONNS=40 OUT=""
while getopts "d:r:c:o:" o; do
	case $o in
	d) DUR=$OPTARG ;; r) ROUNDS=$OPTARG ;; c) CONNS=$OPTARG ;; o) OUT=$OPTARG ;;
	*) exit 2 ;;
	esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TMP=$(mktemp -d /tmp/static-bench.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

for t in wrk taskset nginx go; do
	command -v $t >/dev/null || { [ -x /usr/sbin/$t ] || { echo "missing $t" >&2; exit 1; }; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# The files: incompressible bytes, created once.
mkdir -p "$TMP/www"
head -c 1024 /dev/urandom >"$TMP/www/1k.bin"
head -c $((64 << 10)) /dev/urandom >"$TMP/www/64k.bin"
head -c $((10 << 20)) /dev/urandom >"$TMP/www/10m.bin"
FILES=(1k.bin 64k.bin 10m.bin)

# Builds.
(cd "$REPO" && go build -o "$TMP/uringd" ./cmd/uringd)
(cd "$REPO/bench" && go build -o "$TMP/fileserver" ./static/fileserver)
# celeris's io_uring engine, when ../shared/peers/celeris is there. Its epoll
# engine is left out: its sendfile path ends 10 MiB responses early (curl
# gets 3-6 MiB, then the connection closes; celeris v1.5.8).
CELERIS=""
if "$REPO/bench/servers/celeris/build.sh" "$TMP/celeris"; then CELERIS=1; fi

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# nginx: one worker, sendfile, no access log, keep-alive not capped (its
# default closes a connection every 1000 requests; uringd never does),
# open_file_cache on (its equivalent of uringd's cache: the strong baseline).
NGINX_PORT=$(freeport)
mkdir -p "$TMP/nginx/logs"
cat >"$TMP/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
user root;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 1s;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $TMP/www;
    }
}
CONF

start() { # name port cmd...
	local name=$1 port=$2
	shift 2
	taskset -c 0 "$@" >"$TMP/$name.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/1k.bin" && return 0
		sleep 0.1
	done
	echo "$name did not start:" >&2
	cat "$TMP/$name.log" >&2
	exit 1
}

U_PORT=$(freeport)
F_PORT=$(freeport)
start nginx "$NGINX_PORT" "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf"
GOMAXPROCS=1 start uringd "$U_PORT" "$TMP/uringd" -addr "127.0.0.1:$U_PORT" -workers 1 -root "$TMP/www" -log warn
GOMAXPROCS=1 start nethttp "$F_PORT" "$TMP/fileserver" -addr "127.0.0.1:$F_PORT" -root "$TMP/www"
declare -A PORT=([nginx]=$NGINX_PORT [uringd]=$U_PORT [nethttp]=$F_PORT)
declare -A PID=([nginx]=${PIDS[0]} [uringd]=${PIDS[1]} [nethttp]=${PIDS[2]})
SERVERS=(nginx uringd nethttp)
if [ -n "$CELERIS" ]; then
	C_PORT=$(freeport)
	GOMAXPROCS=1 start celeris "$C_PORT" "$TMP/celeris" -engine iouring -addr "127.0.0.1:$C_PORT" -root "$TMP/www"
	PORT[celeris]=$C_PORT PID[celeris]=${PIDS[3]}
	SERVERS+=(celeris)
fi

# Same bytes from each server.
for f in "${FILES[@]}"; do
	want=$(sha256sum <"$TMP/www/$f")
	for p in "${PORT[@]}"; do
		got=$(curl -sf "http://127.0.0.1:$p/$f" | sha256sum)
		[ "$got" = "$want" ] || { echo "port $p served a different $f" >&2; exit 1; }
	done
done

# cputicks PID: user+system clock ticks of PID and its children (nginx's
# worker is a child of its master), for CPU time per request: a figure that
# background load disturbs less than requests/s.
cputicks() {
	local t=0 p
	for p in $1 $(pgrep -P "$1" || true); do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo $t
}
HZ=$(getconf CLK_TCK)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
# wrk prints "Requests/sec: N" and "Transfer/sec: X"; keep rps and p99.
for r in $(seq "$ROUNDS"); do
	for f in "${FILES[@]}"; do
		for s in "${SERVERS[@]}"; do
			t0=$(cputicks "${PID[$s]}")
			out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"$DUR" --latency "http://127.0.0.1:${PORT[$s]}/$f")
			t1=$(cputicks "${PID[$s]}")
			rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
			reqs=$(awk '/requests in/ {print $1}' <<<"$out")
			cpu=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$reqs" 'BEGIN {printf "%.2f", t / hz * 1e6 / n}')
			p99=$(awk '$1=="99%" {print $2}' <<<"$out")
			errs=$(awk '/Socket errors|Non-2xx/ {print}' <<<"$out" | tr '\n' ' ')
			echo "$r $f $s $rps $p99 $cpu $errs" | tee -a "$TMP/raw.txt" >&2
		done
	done
done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
{
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') x $(nproc);"
	echo "$("$NGINX" -v 2>&1), $(go version | cut -d' ' -f3), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2);"
	echo "wrk -t1 -c$CONNS -d$DUR, $ROUNDS interleaved rounds (median shown); load average at start: $LOAD0, at end: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "| file | nginx req/s | uringd req/s | net/http req/s | uringd / nginx | CPU µs/req nginx | uringd | net/http |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for f in "${FILES[@]}"; do
		n=$(awk -v f="$f" '$2==f && $3=="nginx" {print $4}' "$TMP/raw.txt" | median)
		u=$(awk -v f="$f" '$2==f && $3=="uringd" {print $4}' "$TMP/raw.txt" | median)
		h=$(awk -v f="$f" '$2==f && $3=="nethttp" {print $4}' "$TMP/raw.txt" | median)
		nc=$(awk -v f="$f" '$2==f && $3=="nginx" {print $6}' "$TMP/raw.txt" | median)
		uc=$(awk -v f="$f" '$2==f && $3=="uringd" {print $6}' "$TMP/raw.txt" | median)
		hc=$(awk -v f="$f" '$2==f && $3=="nethttp" {print $6}' "$TMP/raw.txt" | median)
		ratio=$(awk -v u="$u" -v n="$n" 'BEGIN {printf "%.2f", u/n}')
		printf "| %s | %.0f | %.0f | %.0f | %s | %s | %s | %s |\n" "$f" "$n" "$u" "$h" "$ratio" "$nc" "$uc" "$hc"
	done
	if [ -n "$CELERIS" ]; then
		echo
		echo "| file | celeris io_uring req/s | celeris / uringd req/s | CPU µs/req celeris | celeris / uringd CPU |"
		echo "|---|---:|---:|---:|---:|"
		for f in "${FILES[@]}"; do
			u=$(awk -v f="$f" '$2==f && $3=="uringd" {print $4}' "$TMP/raw.txt" | median)
			c=$(awk -v f="$f" '$2==f && $3=="celeris" {print $4}' "$TMP/raw.txt" | median)
			uc=$(awk -v f="$f" '$2==f && $3=="uringd" {print $6}' "$TMP/raw.txt" | median)
			cc=$(awk -v f="$f" '$2==f && $3=="celeris" {print $6}' "$TMP/raw.txt" | median)
			awk -v f="$f" -v u="$u" -v c="$c" -v uc="$uc" -v cc="$cc" \
				'BEGIN {printf "| %s | %.0f | %.2f | %s | %.2f |\n", f, c, c/u, cc, cc/uc}'
		done
	fi
	echo
	echo "Raw rounds (round, file, server, req/s, p99, CPU µs/req, errors):"
	echo
	echo '```'
	cat "$TMP/raw.txt"
	echo '```'
} >"$TMP/table.md"
cat "$TMP/table.md"
[ -z "$OUT" ] || cp "$TMP/table.md" "$OUT"
