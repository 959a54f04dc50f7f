#!/usr/bin/env bash
# Installs the pinned npm packages (npm ci), type-checks and compiles with tsc, and runs the tests
# (node --test) against a live `autoglm serve --backend mock` that the test starts itself.
# Env: AUTOGLM_BIN (default ../../.venv/bin/autoglm). Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"
start=$(date +%s)

export AUTOGLM_BIN="${AUTOGLM_BIN:-$(pwd)/../../.venv/bin/autoglm}"
if [ ! -x "$AUTOGLM_BIN" ]; then
  echo "test.sh: no server binary at $AUTOGLM_BIN (create the Python venv first: make install)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

npm ci --no-audit --no-fund --loglevel=error
rm -rf dist
npx --no-install tsc -p tsconfig.json
echo "installed and compiled in $(( $(date +%s) - start ))s"

# The test starts the server as its child; run everything in its own process group and kill that
# group on exit so that no server outlives the run.
log=$(mktemp)
rc=0
setsid node --test --test-concurrency=1 --test-reporter=tap dist/test/ > >(tee "$log") 2>&1 &
pid=$!
trap 'kill -TERM -- -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; rm -f "$log"' EXIT INT TERM
wait "$pid" || rc=$?
sleep 0.2 # let tee flush
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
passed=${passed:-0}
failed=${failed:-0}
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then failed=1; rc=1; fi
echo "node client tests took $(( $(date +%s) - start ))s"
echo "$passed passed, $failed failed"
exit "$rc"
