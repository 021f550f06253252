#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for caseload's tests, on a loopback port in a temp folder.
#
#   bash scripts/pg-test-server.sh run CMD...   start, run CMD with CASELOAD_TEST_PG_URL set, stop
#   eval "$(bash scripts/pg-test-server.sh start)"   start (or reuse) and print the export line
#   bash scripts/pg-test-server.sh stop         stop it and delete its folder
#
# Finds the server binaries (installing the distribution's postgresql package with apt-get when
# none are found and we are root). PostgreSQL refuses to run as root, so as root the cluster
# belongs to an unprivileged user (the distribution's 'postgres' user, created if missing).
# The cluster trades durability for speed (fsync off): it only ever holds test data.
# Environment: CASELOAD_PG_PORT (default 54329), CASELOAD_PG_DIR (default /tmp/caseload-pg-PORT).
set -euo pipefail

PORT=${CASELOAD_PG_PORT:-54329}
DIR=${CASELOAD_PG_DIR:-/tmp/caseload-pg-$PORT}
DBNAME=caseload_test

find_bindir() {
  local candidate
  if command -v pg_config >/dev/null 2>&1; then
    candidate=$(pg_config --bindir 2>/dev/null || true)
    if [ -n "$candidate" ] && [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then
      echo "$candidate"
      return 0
    fi
  fi
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then
      echo "$candidate"
      return 0
    fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return 0
  fi
  return 1
}

ensure_server_binaries() {
  if BINDIR=$(find_bindir); then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "pg-test-server: installing PostgreSQL from the distribution's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    BINDIR=$(find_bindir) && return 0
  fi
  echo "pg-test-server: no PostgreSQL server binaries found (install the 'postgresql' package)" >&2
  exit 1
}

# Run a command as the cluster's owner: ourselves, or an unprivileged user when we are root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    su -s /bin/sh "$OWNER" -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

choose_owner() {
  if [ "$(id -u)" = 0 ]; then
    OWNER=postgres
    if ! id "$OWNER" >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /bin/sh "$OWNER"
    fi
  else
    OWNER=$(id -un)
  fi
}

url() {
  echo "postgresql+psycopg://$OWNER@127.0.0.1:$PORT/$DBNAME"
}

start() {
  ensure_server_binaries
  choose_owner
  if [ -f "$DIR/data/postmaster.pid" ] && as_owner "$BINDIR/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    echo "export CASELOAD_TEST_PG_URL=$(url)"
    return 0
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR/socket"
  if [ "$(id -u)" = 0 ]; then
    chown -R "$OWNER" "$DIR"
  fi
  as_owner "$BINDIR/initdb" -D "$DIR/data" -U "$OWNER" -A trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
    || as_owner "$BINDIR/initdb" -D "$DIR/data" -U "$OWNER" -A trust -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
  as_owner "$BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-k $DIR/socket -p $PORT -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >&2 || { cat "$DIR/server.log" >&2; exit 1; }
  as_owner "$BINDIR/createdb" -h 127.0.0.1 -p "$PORT" -U "$OWNER" "$DBNAME"
  echo "export CASELOAD_TEST_PG_URL=$(url)"
}

stop() {
  if BINDIR=$(find_bindir) && [ -d "$DIR/data" ]; then
    choose_owner
    as_owner "$BINDIR/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
  fi
  rm -rf "$DIR"
}

case "${1:-start}" in
  start)
    start
    ;;
  stop)
    stop
    ;;
  run)
    shift
    [ $# -gt 0 ] || { echo "usage: $0 run CMD..." >&2; exit 2; }
    trap stop EXIT
    line=$(start)
    eval "$line"
    export CASELOAD_TEST_PG_URL
    echo "pg-test-server: PostgreSQL on 127.0.0.1:$PORT; CASELOAD_TEST_PG_URL=$CASELOAD_TEST_PG_URL" >&2
    "$@"
    ;;
  *)
    echo "usage: $0 [start|stop|run CMD...]" >&2
    exit 2
    ;;
esac
