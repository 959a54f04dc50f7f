#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test run (Debian's `postgresql` package), on a free loopback
# port, in its own directory.
#
#   eval "$(scripts/test_postgres.sh start DIR)"   # exports AUTOGLM_TEST_DATABASE_URL
#   scripts/test_postgres.sh stop DIR
#
# The server refuses to run as root, so as root it runs as the package's `postgres` user.
set -euo pipefail

action=${1:?usage: test_postgres.sh start|stop DIR}
dir=${2:?usage: test_postgres.sh start|stop DIR}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bindir" ]; then
  echo "no PostgreSQL server here: apt-get install -y postgresql" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
start)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$bindir/initdb" --pgdata="$dir/data" --auth=trust --username=autoglm --encoding=UTF8 \
    --no-instructions >"$dir/initdb.log"
  # pg_stat_statements lets benchmarks count the queries each call costs.
  as_owner "$bindir/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait start \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 \
        -c shared_preload_libraries=pg_stat_statements" >/dev/null
  as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U autoglm autoglm_test
  echo "export AUTOGLM_TEST_REQUIRE_DATABASE=1 AUTOGLM_TEST_DATABASE_URL=postgresql+psycopg://autoglm@127.0.0.1:$port/autoglm_test"
  ;;
stop)
  if [ -d "$dir/data" ]; then
    as_owner "$bindir/pg_ctl" --pgdata="$dir/data" --mode=fast --wait stop >/dev/null || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: test_postgres.sh start|stop DIR" >&2
  exit 2
  ;;
esac
