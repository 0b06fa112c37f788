#!/usr/bin/env bash
# Installs (from Debian's packages, if missing) and starts a throwaway PostgreSQL on 127.0.0.1 for the tests.
# Prints the URL to use as FQ_TEST_POSTGRES_URL. Usage: eval "$(bash .ci/postgres.sh)"
set -euo pipefail
PORT="${FQ_PG_PORT:-55432}"
DIR="${FQ_PG_DIR:-/tmp/fengqiao-pg-$PORT}"

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
BIN="$(find_bin)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq postgresql >&2
  BIN="$(find_bin)"
fi

# PostgreSQL refuses to run as root: run it as the 'postgres' user the package creates (or ourselves).
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  RUN=(runuser -u postgres --)
else
  RUN=()
fi

if [ -f "$DIR/postmaster.pid" ] && "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  echo "PostgreSQL already running in $DIR" >&2
else
  rm -rf "$DIR"
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$DIR"
  "${RUN[@]}" "$BIN/initdb" -D "$DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR" -l "$DIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DIR -c fsync=on -c max_connections=300" start >&2
fi
echo "export FQ_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
