#!/usr/bin/env bash
# Installs Go and the gRPC libraries from Debian, builds offline in GOPATH mode against
# /usr/share/gocode, and runs `go test` against a live `autoglm serve --backend mock` (started by the
# test itself). Env: AUTOGLM_BIN (default ../../.venv/bin/autoglm). Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"
start=$(date +%s)
. ./deps.sh
ensure_go_debian_packages

export AUTOGLM_BIN="${AUTOGLM_BIN:-$(pwd)/../../.venv/bin/autoglm}"
if [ ! -x "$AUTOGLM_BIN" ]; then
  echo "test.sh: no server binary at $AUTOGLM_BIN (create the Python venv first: make install)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# GOPATH mode: no module downloads; imports resolve to Debian's sources in /usr/share/gocode.
work=$(mktemp -d)
pkg="$work/src/github.com/open-autoglm/open-autoglm/clients/go"
mkdir -p "$pkg"
cp -r ./*.go gen "$pkg/"
export GO111MODULE=off GOPATH="$work:/usr/share/gocode" GOFLAGS= GOPROXY=off
log="$work/test.log"
rc=0
(cd "$pkg" && go build . && echo "built in $(( $(date +%s) - start ))s" && exec setsid go test -v -count=1 .) > >(tee "$log") 2>&1 &
pid=$!
trap 'kill -TERM -- -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
wait "$pid" || rc=$?
sleep 0.2 # let tee flush
passed=$(grep -c '^--- PASS' "$log" || true)
failed=$(grep -c '^--- FAIL' "$log" || true)
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then failed=1; rc=1; fi
echo "go client tests took $(( $(date +%s) - start ))s"
echo "$passed passed, $failed failed"
exit "$rc"
