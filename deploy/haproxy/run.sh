#!/usr/bin/env bash
# The HAProxy recipe, run end to end on this machine (loopback only):
# HAProxy (haproxy.cfg beside this script) in front of two uringd instances,
# a load through HAProxy from 127.0.0.2 (keep-alive, pipelined and
# new-connection clients, every response checked), and a rolling restart of
# both instances under that load: SIGTERM one, wait for it to exit, start it
# again, wait for its /readyz and for HAProxy to mark it UP, then the other.
# It fails unless every request succeeded and uringd's access logs show the
# client's address (127.0.0.2, from the PROXY v2 header), not HAProxy's.
#
#   deploy/haproxy/run.sh            # needs go, haproxy (apt-get install haproxy), curl
#
# Environment (defaults in brackets): WORK [a new temporary directory, kept],
# HAPROXY_PORT [18080], STATS_PORT [18081], A_PORT [18181], A_CHECK [18191],
# B_PORT [18182], B_CHECK [18192], ENGINE [io_uring], SHUTDOWN_DELAY [2s:
# uringd's -shutdown-delay], WARMUP and SETTLE [2: seconds of load before
# the first and after the last restart].
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=${WORK:-$(mktemp -d /tmp/uringd-haproxy.XXXXXX)}
mkdir -p "$WORK"
export HAPROXY_ADDR=127.0.0.1:${HAPROXY_PORT:-18080}
export HAPROXY_STATS=127.0.0.1:${STATS_PORT:-18081}
export HAPROXY_SOCK=$WORK/haproxy.sock
export URINGD_A=127.0.0.1:${A_PORT:-18181} URINGD_A_CHECK=${A_CHECK:-18191}
export URINGD_B=127.0.0.1:${B_PORT:-18182} URINGD_B_CHECK=${B_CHECK:-18192}
ENGINE=${ENGINE:-io_uring}
WARMUP=${WARMUP:-2}
SETTLE=${SETTLE:-2}
SHUTDOWN_DELAY=${SHUTDOWN_DELAY:-2s}

say() { echo "run.sh: $*"; }
die() {
	echo "run.sh: FAIL: $*" >&2
	exit 1
}

declare -A PID GEN
HAPROXY_PID="" LOAD_PID=""
cleanup() {
	for p in "${PID[@]}" $HAPROXY_PID $LOAD_PID; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap cleanup EXIT

say "work directory $WORK"
go build -o "$WORK/uringd" ./cmd/uringd
go build -o "$WORK/loadgen" ./deploy/haproxy/loadgen

addr_of() { if [ "$1" = a ]; then echo "$URINGD_A"; else echo "$URINGD_B"; fi; }
check_of() { if [ "$1" = a ]; then echo "$URINGD_A_CHECK"; else echo "$URINGD_B_CHECK"; fi; }

# start NAME: a new generation of instance NAME, its stderr and access log
# in $WORK/NAME.GEN.{log,access.log}.
start() {
	local n=$1 g=$((${GEN[$1]:-0} + 1))
	GEN[$n]=$g
	"$WORK/uringd" -addr "$(addr_of "$n")" -metrics "127.0.0.1:$(check_of "$n")" -workers 1 -engine "$ENGINE" \
		-proxy-protocol -proxy-from 127.0.0.1/32 -shutdown-delay "$SHUTDOWN_DELAY" -grace 10s \
		-access-log "$WORK/$n.$g.access.log" 2>"$WORK/$n.$g.log" &
	PID[$n]=$!
}

# wait_for WHAT CMD...: retry CMD for up to 30 s (a hang guard, not a timing).
wait_for() {
	local what=$1 i
	shift
	for ((i = 0; i < 300; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	die "timed out waiting for $what"
}
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(check_of "$1")/readyz")" = 200 ]; }
# haproxy_status NAME: the server's status column (18) in HAProxy's CSV stats.
haproxy_status() { curl -fsS "http://$HAPROXY_STATS/stats;csv" | awk -F, -v s="$1" '$1 == "uringd" && $2 == s { print $18 }'; }
is_status() { [ "$(haproxy_status "$1")" = "$2" ]; }

# restart NAME: the rolling-restart step for one instance.
restart() {
	local n=$1 code=0
	say "restart $n: SIGTERM (pid ${PID[$n]})"
	kill -TERM "${PID[$n]}"
	wait_for "haproxy to mark $n DOWN" is_status "$n" DOWN
	wait "${PID[$n]}" || code=$?
	[ "$code" = 0 ] || die "instance $n exited $code: $(tail -5 "$WORK/$n.${GEN[$n]}.log")"
	say "restart $n: exited 0, starting it again"
	start "$n"
	wait_for "$n /readyz 200" ready "$n"
	wait_for "haproxy to mark $n UP" is_status "$n" UP
	say "restart $n: ready, HAProxy has it UP"
}

start a
start b
wait_for "a /readyz 200" ready a
wait_for "b /readyz 200" ready b
haproxy -db -f deploy/haproxy/haproxy.cfg 2>"$WORK/haproxy.log" &
HAPROXY_PID=$!
wait_for "haproxy to mark a UP" is_status a UP
wait_for "haproxy to mark b UP" is_status b UP
say "haproxy on $HAPROXY_ADDR, a and b UP; load from 127.0.0.2"

"$WORK/loadgen" -url "$HAPROXY_ADDR" -source 127.0.0.2 -summary "$WORK/load.json" >"$WORK/load.out" 2>&1 &
LOAD_PID=$!
start_time=$SECONDS
sleep "$WARMUP"
restart a
restart b
sleep "$SETTLE"
kill -INT "$LOAD_PID"
load_code=0
wait "$LOAD_PID" || load_code=$?
LOAD_PID=""
cat "$WORK/load.out"
say "load ran $((SECONDS - start_time)) s across the rolling restart"

# HAProxy's own count of what it had to retry: connection errors (econ),
# retries (wretr) and redispatches (wredis) of the backend.
curl -fsS "http://$HAPROXY_STATS/stats;csv" |
	awk -F, '$1 == "uringd" && $2 == "BACKEND" { printf "run.sh: haproxy backend: econ=%s eresp=%s wretr=%s wredis=%s\n", $14, $15, $16, $17 }'
kill "$HAPROXY_PID"
wait "$HAPROXY_PID" 2>/dev/null || true
HAPROXY_PID=""
# Stop the second generation gracefully, so that its access log is complete.
for n in a b; do
	kill -TERM "${PID[$n]}"
	wait "${PID[$n]}" || die "instance $n (generation ${GEN[$n]}) did not exit cleanly"
done
PID=()

lines=$(cat "$WORK"/*.access.log | wc -l)
other=$(cat "$WORK"/*.access.log | grep -cv '^127\.0\.0\.2 ' || true)
say "access logs: $lines lines, $other not from 127.0.0.2"
grep -h '^Server .* is \(DOWN\|UP\)' "$WORK/haproxy.log" | sed 's/^/run.sh: haproxy: /' || true

[ "$load_code" = 0 ] || die "the load saw failed requests (see above and $WORK/load.json)"
[ "$lines" -gt 0 ] || die "no access log lines"
[ "$other" = 0 ] || die "access log lines not from 127.0.0.2 (the PROXY header's client): $(cat "$WORK"/*.access.log | grep -v '^127\.0\.0\.2 ' | head -3)"
say "PASS: zero failed requests across the rolling restart of a and b"
