#!/usr/bin/env bash
# Installs the Debian packages, compiles the client and its tests with javac against the Debian jars,
# and runs them against a live `autoglm serve --backend mock` (started by the test itself).
# Env: AUTOGLM_BIN (default ../../.venv/bin/autoglm). Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"
start=$(date +%s)
. ./deps.sh
ensure_java_debian_packages

export AUTOGLM_BIN="${AUTOGLM_BIN:-$(pwd)/../../.venv/bin/autoglm}"
if [ ! -x "$AUTOGLM_BIN" ]; then
  echo "test.sh: no server binary at $AUTOGLM_BIN (create the Python venv first: make install)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

cp="$(java_classpath)"
rm -rf build/java
mkdir -p build/java/classes
find src/main/java src/test/java -name '*.java' > build/java/sources.txt
javac -nowarn -encoding UTF-8 --release 11 -d build/java/classes -cp "$cp" @build/java/sources.txt
echo "compiled in $(( $(date +%s) - start ))s"

# The test starts the server as its child; run it in its own process group and kill that group on
# exit so that no server outlives the run, whatever happens to the JVM.
log=$(mktemp)
rc=0
setsid java -cp "build/java/classes:$cp" org.openautoglm.client.RunTests > >(tee "$log") 2>&1 &
pid=$!
trap 'kill -TERM -- -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; rm -f "$log"' EXIT INT TERM
wait "$pid" || rc=$?
sleep 0.2 # let tee flush
echo "java client tests took $(( $(date +%s) - start ))s"
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1 || true)
if [ -z "$summary" ]; then
  summary="0 passed, 1 failed" # the JVM died before reporting
  [ "$rc" -ne 0 ] || rc=1
elif [ "$rc" -ne 0 ] && [[ "$summary" == *" 0 failed" ]]; then
  summary="${summary%% *} passed, 1 failed"
fi
echo "$summary"
exit "$rc"
