#!/usr/bin/env bash
# Builds this peer into OUT against the celeris snapshot in ../shared/peers/celeris
# (beside the repository, or beside the main checkout when run from a git
# worktree), the way cmd/bench does: the replace goes into a temporary copy of
# go.mod, never into the repository. Exits 3 with a note when the snapshot is
# missing, so callers can skip the peer.
#   bench/servers/celeris/build.sh OUT
set -euo pipefail
OUT=$(realpath -m "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
SHARED=$REPO/../shared
if [ ! -d "$SHARED" ]; then
	common=$(git -C "$REPO" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
	[ -n "$common" ] && SHARED=$(dirname "$(dirname "$common")")/shared
fi
SRC=$SHARED/peers/celeris
if [ ! -f "$SRC/go.mod" ]; then
	echo "celeris snapshot $SRC not found (not on the module proxy): skipped" >&2
	exit 3
fi
SRC=$(realpath "$SRC")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cp "$HERE/go.mod" "$HERE/go.sum" "$TMP/"
cd "$HERE"
go mod edit -modfile="$TMP/go.mod" -replace="github.com/goceleris/celeris=$SRC"
go build -modfile="$TMP/go.mod" -o "$OUT" .
