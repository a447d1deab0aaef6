#!/usr/bin/env bash
# bench/grants.sh: what grant_usage and sync_grants() cost on a Citus cluster,
# against grant_usage on a database of the same coordinator without Citus
# (measured in the same run).
#
#   ALFRED_PGROOT=/tmp/pgroot-me ALFRED_PORT=55640 nice bench/grants.sh
#
# A coordinator and WORKERS worker nodes (default 2), CITUS_SHARD_COUNT shards
# (default 8), the set-up of test/citus/scheduler_lib.bash; ROUNDS rounds
# (default 5) of each, the median printed in ms with its ratio to the baseline:
#   baseline      grant_usage of a new role, alfred without Citus
#   grant_usage   the same through the coordinator (grants, then sync_grants()
#                 copying to every node and placement)
#   sync_noop     sync_grants() when everything already matches
# Builds and installs alfred; starts its own cluster (stopped at the end).
. "$(dirname "$0")/../test/lib.sh"
. "$(dirname "$0")/../test/citus/lib.sh"
. "$(dirname "$0")/../test/citus/scheduler_lib.bash"
cd "$ALFRED_SRC"

WORKERS=${WORKERS:-2}
ROUNDS=${ROUNDS:-5}

build_and_install >/dev/null
citus_ensure_installed
trap 'citus_stop' EXIT
citus_start "$WORKERS" >/dev/null
citus_alfred_distribute >/dev/null
"$PGBIN/psql" -X -q -h "$CITUS_SOCK" -p "$(citus_node_port 0)" -U postgres -d postgres \
	-c "CREATE DATABASE plain" >/dev/null
"$PGBIN/psql" -X -q -h "$CITUS_SOCK" -p "$(citus_node_port 0)" -U postgres -d plain \
	-c "SET client_min_messages = warning" -c "CREATE EXTENSION alfred CASCADE" >/dev/null

# ms <database> <sql>: the server-side time of one statement, in ms.
ms() {
	{ "$PGBIN/psql" -X -q -At -h "$CITUS_SOCK" -p "$(citus_node_port 0)" -U postgres -d "$1" -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
SELECT clock_timestamp() AS t0 \gset
$2;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 1);
SQL
	} | tail -1
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

base=$(for r in $(seq "$ROUNDS"); do ms plain "CREATE ROLE bench_plain_$r; SELECT alfred.grant_usage('bench_plain_$r')"; done | median)
grant=$(for r in $(seq "$ROUNDS"); do ms "$CITUS_DB" "CREATE ROLE bench_app_$r; SELECT alfred.grant_usage('bench_app_$r')"; done | median)
noop=$(for r in $(seq "$ROUNDS"); do ms "$CITUS_DB" "SELECT alfred.sync_grants()"; done | median)
placements=$(citus_psql 0 -At -c "SELECT count(*) FROM pg_dist_placement")
echo "Citus: coordinator + $WORKERS workers, $placements shard placements; median of $ROUNDS, ms"
printf '%-14s %9s %7s\n' part ms ratio
printf '%-14s %9s %7s\n' baseline "$base" 1.0
printf '%-14s %9s %7s\n' grant_usage "$grant" "$(awk -v a="$grant" -v b="$base" 'BEGIN { printf "%.1f", a / b }')"
printf '%-14s %9s %7s\n' sync_noop "$noop" "$(awk -v a="$noop" -v b="$base" 'BEGIN { printf "%.1f", a / b }')"
