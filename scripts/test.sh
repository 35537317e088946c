#!/usr/bin/env bash
# Runs every test of the workspace on SQLite and PostgreSQL.
#
# PostgreSQL for the tests comes from, in order:
#   1. SIGMA_TEST_POSTGRES_URL, when set;
#   2. a server answering on 127.0.0.1:5432 as user postgres;
#   3. a throwaway cluster started from the installed PostgreSQL binaries
#      (initdb/pg_ctl) under $CARGO_TARGET_DIR/pg-test, stopped afterwards.
# Without any of these the script stops with a message saying what to do.
#
# Redis (for the shared rate-limit tests) comes likewise from
# SIGMA_TEST_REDIS_URL, else a server on 127.0.0.1:6379, else a throwaway
# redis-server on port 56379, stopped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-$PWD/target}
cleanup=()
trap 'for c in "${cleanup[@]}"; do eval "$c"; done' EXIT

pg_answers() {
  command -v psql >/dev/null 2>&1 && psql "$1" -Atqc 'select 1' >/dev/null 2>&1
}

if [ -z "${SIGMA_TEST_POSTGRES_URL:-}" ]; then
  default=postgres://postgres@127.0.0.1:5432/postgres
  if pg_answers "$default"; then
    export SIGMA_TEST_POSTGRES_URL=$default
  else
    initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$initdb" ]; then
      echo "make test needs PostgreSQL: none answers on 127.0.0.1:5432 and no PostgreSQL binaries are installed." >&2
      echo "Install PostgreSQL (Debian: apt-get install postgresql) or set SIGMA_TEST_POSTGRES_URL=postgres://..." >&2
      exit 1
    fi
    bin=$(dirname "$initdb")
    dir=$target/pg-test
    port=${SIGMA_TEST_PG_PORT:-55432}
    as_pg=()
    if [ "$(id -u)" = 0 ]; then
      id postgres >/dev/null 2>&1 || { echo "running as root needs a 'postgres' user for a throwaway cluster" >&2; exit 1; }
      as_pg=(runuser -u postgres --)
    fi
    rm -rf "$dir"; mkdir -p "$dir"
    [ ${#as_pg[@]} -gt 0 ] && chown postgres "$dir"
    echo "starting a throwaway PostgreSQL in $dir on port $port"
    "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
    cleanup+=("${as_pg[*]} $bin/pg_ctl -D $dir/data -m fast stop >/dev/null 2>&1 || true")
    export SIGMA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres
  fi
fi
echo "tests use PostgreSQL at $SIGMA_TEST_POSTGRES_URL"

redis_answers() { # host port
  (exec 3<>"/dev/tcp/$1/$2" && printf 'PING\r\n' >&3 && IFS= read -r -t 3 line <&3 && [[ "$line" == +PONG* ]]) 2>/dev/null
}
if [ -z "${SIGMA_TEST_REDIS_URL:-}" ]; then
  if redis_answers 127.0.0.1 6379; then
    export SIGMA_TEST_REDIS_URL=redis://127.0.0.1:6379
  elif command -v redis-server >/dev/null 2>&1; then
    rport=${SIGMA_TEST_REDIS_PORT:-56379}
    rdir=$target/redis-test
    mkdir -p "$rdir"
    echo "starting a throwaway Redis on port $rport"
    redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
      --pidfile "$rdir/redis.pid" --logfile "$rdir/redis.log" --dir "$rdir"
    cleanup+=("kill \$(cat $rdir/redis.pid) 2>/dev/null || true")
    for _ in $(seq 1 50); do redis_answers 127.0.0.1 "$rport" && break; sleep 0.1; done
    export SIGMA_TEST_REDIS_URL=redis://127.0.0.1:$rport
  else
    echo "make test needs Redis: none answers on 127.0.0.1:6379 and redis-server is not installed." >&2
    echo "Install it (Debian: apt-get install redis-server) or set SIGMA_TEST_REDIS_URL=redis://..." >&2
    exit 1
  fi
fi
echo "tests use Redis at $SIGMA_TEST_REDIS_URL"

# Each PostgreSQL test runs in its own database (sigma_t_<unix time>_<n>),
# copied from a migrated template. Drop those of runs older than 30 minutes
# now, before the tests start, rather than while they run.
if command -v psql >/dev/null 2>&1; then
  cutoff=$(( $(date +%s) - 1800 ))
  stale=0
  for db in $(psql "$SIGMA_TEST_POSTGRES_URL" -Atqc "select datname from pg_database where datname like 'sigma\_t\_%'" 2>/dev/null); do
    created=${db#sigma_t_}; created=${created%%_*}
    if [[ "$created" =~ ^[0-9]+$ ]] && [ "$created" -lt "$cutoff" ]; then
      psql "$SIGMA_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 && stale=$((stale + 1))
    fi
  done
  [ "$stale" -gt 0 ] && echo "dropped $stale test databases of earlier runs"
fi

# The real tools some tests drive (Prometheus, ansible-inventory): installed
# when missing and possible; without them those tests skip with a message
# (or fail under SIGMA_REQUIRE_TOOLS=1, as in CI).
if ! scripts/tools.sh; then
  [ "${SIGMA_REQUIRE_TOOLS:-}" = 1 ] && exit 1
  echo "warning: some integration tests will skip: their tools are missing" >&2
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
  cargo test --workspace --doc --quiet
else
  cargo test --workspace --no-fail-fast "$@"
fi
