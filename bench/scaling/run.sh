#!/usr/bin/env bash
# Two workers sharing the CPUs with the load (issue 14, goal 7; bench/README.md,
# "Scaling across cores"): every server with 2 workers (GOMAXPROCS=2 for Go
# servers, THREADS=2 for the C reference), wrk -t2 -c40 GET /, nobody pinned;
# servers alternate within every round. One line per run, per request: the
# server's CPU (utime+stime of all its threads, /proc/PID/stat) and user CPU,
# voluntary and involuntary context switches (/proc/PID/task/*/status),
# syscalls and io_uring_enter calls (perf stat, when perf can attach), and the
# thread count: counts that other load on the machine disturbs far less than
# requests/s. The C reference is compiled from ../shared/reference (never
# copied); celeris joins when its snapshot is there (servers/celeris/build.sh).
#   bench/scaling/run.sh [rounds] [seconds] [servers...]   (default: 3 4 uringd cref gnet celeris)
set -uo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
DUR=${2:-4}
shift 2 2>/dev/null || shift $#
SERVERS=${*:-uringd cref gnet celeris}
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
(cd .. && go build -o "$BIN/uringd" ./cmd/uringd) || exit 1
go build -o "$BIN/gnet" ./servers/gnet || exit 1
ref=$(realpath -m ../../shared/reference/uring_http.c)
[ -f "$ref" ] || ref=$(dirname "$(dirname "$(git rev-parse --path-format=absolute --git-common-dir)")")/shared/reference/uring_http.c
gcc -O2 -o "$BIN/cref" "$ref" -luring -lpthread 2>/dev/null || echo "C reference not built ($ref): skipped" >&2
servers/celeris/build.sh "$BIN/celeris" || true

freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'; }
cpu() { awk '{print $14 + $15, $14}' "/proc/$1/stat"; }
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt/ {v += $2} /^nonvoluntary_ctxt/ {n += $2} END {print v, n}'; }
perfcount() { awk -F, -v e="$2" '$3 ~ e {print $1}' "$1"; }

run() { # server
	local port pid cmd
	port=$(freeport)
	case $1 in
	uringd) cmd=(env GOMAXPROCS=2 "$BIN/uringd" -addr ":$port" -workers 2) ;;
	cref) cmd=(env PORT="$port" THREADS=2 "$BIN/cref") ;;
	gnet) cmd=(env GOMAXPROCS=2 "$BIN/gnet" -addr ":$port" -workers 2) ;;
	celeris) cmd=(env GOMAXPROCS=2 "$BIN/celeris" -addr ":$port" -engine iouring) ;;
	esac
	"${cmd[@]}" >/dev/null 2>&1 & # env execs the server: $! is its PID
	pid=$!
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
	wrk -t2 -c40 -d1s "http://127.0.0.1:$port/" >/dev/null 2>&1 # warm-up
	local ticks c0 u0 v0 n0 c1 u1 v1 n1 out reqs th pf="$BIN/perf.$1"
	ticks=$(getconf CLK_TCK)
	read -r c0 u0 < <(cpu "$pid")
	read -r v0 n0 < <(switches "$pid")
	: >"$pf"
	perf stat -x, -e raw_syscalls:sys_enter,syscalls:sys_enter_io_uring_enter -p "$pid" -o "$pf" -- sleep "$DUR" 2>/dev/null &
	local perfpid=$!
	out=$(wrk -t2 -c40 -d"${DUR}s" "http://127.0.0.1:$port/" 2>&1)
	read -r c1 u1 < <(cpu "$pid")
	read -r v1 n1 < <(switches "$pid")
	th=$(ls "/proc/$pid/task" | wc -l)
	wait "$perfpid" 2>/dev/null
	kill "$pid"
	wait "$pid" 2>/dev/null
	reqs=$(echo "$out" | awk '/requests in/ {print $1}')
	awk -v s="$1" -v r="$reqs" -v t="$ticks" -v c=$((c1 - c0)) -v u=$((u1 - u0)) -v v=$((v1 - v0)) -v n=$((n1 - n0)) \
		-v th="$th" -v sc="$(perfcount "$pf" raw_syscalls)" -v ue="$(perfcount "$pf" io_uring_enter)" \
		'BEGIN {printf "%-8s %8d req  cpu %5.2f us/req  user %4.2f  switches %.4f + %.4f /req  syscalls %s  enter %s /req  threads %d\n",
			s, r, c / t * 1e6 / r, u / t * 1e6 / r, v / r, n / r,
			sc == "" ? "-" : sprintf("%.3f", sc / r), ue == "" ? "-" : sprintf("%.3f", ue / r), th}'
}

for round in $(seq "$ROUNDS"); do
	echo "# round $round, load average $(cut -d' ' -f1 /proc/loadavg)"
	for s in $SERVERS; do
		[ -x "$BIN/$s" ] && run "$s"
	done
done
