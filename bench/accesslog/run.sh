#!/usr/bin/env bash
# Access log cost: uringd on one core (pinned to CPU 0, one worker,
# GOMAXPROCS=1) answering GET / to one wrk thread on CPU 1, 40 keep-alive
# connections, with -access-log off, combined and json (to a file), rounds
# interleaved. Reports the median server CPU µs per request
# (/proc/PID/stat utime+stime over the run / requests) and each format's
# ratio to "off" (issue 13's goal: within 1.15x).
#
#   bench/accesslog/run.sh [-d 5s] [-r 3] [-c 40]
#
# Needs: wrk, taskset, Go.
set -euo pipefail
DUR=5s ROUNDS=3 CONNS=40
while getopts "d:r:c:" o; do
	case $o in
	d) DUR=$OPTARG ;; r) ROUNDS=$OPTARG ;; c) CONNS=$OPTARG ;;
	*) exit 2 ;;
	esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TMP=$(mktemp -d /tmp/accesslog-bench.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
(cd "$REPO" && go build -o "$TMP/uringd" ./cmd/uringd)
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A PORT PID
start() { # name args...
	local name=$1 port
	shift
	port=$(freeport)
	GOMAXPROCS=1 taskset -c 0 "$TMP/uringd" -addr "127.0.0.1:$port" -workers 1 -log warn "$@" >"$TMP/$name.out" 2>&1 &
	PIDS+=($!)
	PID[$name]=$!
	PORT[$name]=$port
	for _ in $(seq 100); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/" && return 0
		sleep 0.1
	done
	echo "$name did not start" >&2
	exit 1
}
start off
start combined -access-log "$TMP/combined.log"
start json -access-log "$TMP/json.log" -access-log-format json
HZ=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
MODES=(off combined json)
for r in $(seq "$ROUNDS"); do
	for m in "${MODES[@]}"; do
		t0=$(ticks "${PID[$m]}")
		out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"$DUR" "http://127.0.0.1:${PORT[$m]}/")
		t1=$(ticks "${PID[$m]}")
		reqs=$(awk '/requests in/ {print $1}' <<<"$out")
		rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
		cpu=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$reqs" 'BEGIN {printf "%.3f", t / hz * 1e6 / n}')
		echo "$r $m $rps $cpu" | tee -a "$TMP/raw.txt" >&2
	done
done
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
off=$(awk '$2=="off" {print $4}' "$TMP/raw.txt" | median)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| access log | req/s (median) | CPU µs/req (median) | ratio to off |"
echo "|---|---:|---:|---:|"
for m in "${MODES[@]}"; do
	rps=$(awk -v m="$m" '$2==m {print $3}' "$TMP/raw.txt" | median)
	cpu=$(awk -v m="$m" '$2==m {print $4}' "$TMP/raw.txt" | median)
	printf "| %s | %.0f | %s | %s |\n" "$m" "$rps" "$cpu" "$(awk -v c="$cpu" -v o="$off" 'BEGIN {printf "%.2f", c/o}')"
done
lines=$(wc -l <"$TMP/combined.log")
echo "combined.log: $lines lines (every request logged: compare with the requests above)"
