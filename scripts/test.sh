#!/usr/bin/env bash
# The project's test command (named in the README): unit and end-to-end tests on the
# real kernel, the root suite once more with io_uring refused (seccomp), the race
# detector where it applies, short fuzz runs of the parsers and
# the benchmark harness in quick mode (answers checked, timings never asserted).
#
#   FUZZTIME=5s   how long each fuzz target runs (0 skips the fuzz runs)
#   BENCH_QUICK=1 run the bench harness quick mode (0 skips it)
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== go test (all packages, real io_uring)"
go test -count=1 ./...

# A default Docker container refuses io_uring_setup (seccomp). The root suite runs
# once under such a filter (installed by TestMain on every thread): io_uring modes
# must skip with the reason and netpoll, the examples and everything else pass.
if [ "$(uname -m)" = x86_64 ]; then # the filter matches x86-64 syscall numbers
  echo "== go test . under a seccomp filter refusing io_uring_setup"
  URINGD_TEST_DENY_IOURING=1 go test -count=1 .
fi

echo "== go test -race"
go test -count=1 -race ./...

fuzztime=${FUZZTIME:-5s}
if [ "$fuzztime" != "0" ]; then
  echo "== fuzz smoke runs ($fuzztime each)"
  for pkg in ./http1/ ./static/ ./proxyproto/ ./tlsrecord/ ./metrics/; do
    [ -d "$pkg" ] || continue
    for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
      echo "-- $pkg $target"
      go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 2s "$pkg"
    done
  done
fi

if [ "${BENCH_QUICK:-1}" != "0" ]; then
  echo "== bench harness (quick mode: every server answers correctly; no timing asserted)"
  (cd bench && go test -count=1 ./...)
fi
