#!/usr/bin/env bash
# Offload benchmark (issue 5): each server pinned to CPU 0 (GOMAXPROCS=1,
# one uringd worker), wrk pinned to CPU 1, servers alternating, ROUNDS rounds.
# Prints one line per run: server path conns req/s p50 p99 cpu-us/req, where
# cpu-us/req is the server's utime+stime (/proc/PID/stat) over the measured
# run divided by the requests answered: robust to other load on the machine,
# unlike req/s. celeris (io_uring and epoll) joins the /sleep runs when
# ../shared/peers/celeris is there (servers/celeris/build.sh).
#   bench/servers/blocking/run.sh [rounds] [duration]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
DUR=${2:-8s}
BIN=$(mktemp -d)/blocking
go build -o "$BIN" ./servers/blocking
# celeris (its /sleep route is Async: off the event loop), when its snapshot
# is there; servers/celeris/build.sh says why when it is not.
CELERIS=$(dirname "$BIN")/celeris
PEERS=""
if servers/celeris/build.sh "$CELERIS"; then PEERS="celeris celeris-epoll"; fi
port=$((20000 + RANDOM % 10000)) # random base below the ephemeral range: other benchmarks share this machine
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { # server path conns
	port=$((port + 1))
	local cmd=("$BIN" -server "$1")
	case $1 in
	celeris) cmd=("$CELERIS" -engine iouring) ;;
	celeris-epoll) cmd=("$CELERIS" -engine epoll) ;;
	esac
	taskset -c 0 env GOMAXPROCS=1 "${cmd[@]}" -addr "127.0.0.1:$port" 2>/dev/null &
	local pid=$!
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.05; done
	taskset -c 1 wrk -t1 -c"$3" -d2s "http://127.0.0.1:$port$2" >/dev/null # warm-up
	local out t0 t1
	t0=$(cputicks "$pid")
	out=$(taskset -c 1 wrk -t1 -c"$3" -d"$DUR" --latency "http://127.0.0.1:$port$2")
	t1=$(cputicks "$pid")
	kill "$pid"; wait "$pid" 2>/dev/null || true
	local rps p50 p99 errs
	rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	local reqs cpu
	reqs=$(awk '/requests in/ {print $1}' <<<"$out")
	cpu=$(awk -v t="$((t1 - t0))" -v n="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}')
	p50=$(awk '$1=="50%" {print $2}' <<<"$out")
	p99=$(awk '$1=="99%" {print $2}' <<<"$out")
	errs=$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' <<<"$out")
	echo "$1 $2 c$3 $rps $p50 $p99 ${cpu}us $errs"
}
echo "kernel $(uname -r), $(nproc) CPUs, $(go version | awk '{print $3}')"
for r in $(seq "$ROUNDS"); do
	for c in 64 256; do
		for s in uringd nethttp fasthttp uringd-netpoll $PEERS; do run "$s" /sleep "$c"; done
	done
	for s in uringd nethttp uringd-netpoll; do run "$s" /std 64; done
done
