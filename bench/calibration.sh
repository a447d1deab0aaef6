#!/usr/bin/env bash
# bench/calibration.sh: how fast alfred.should_suggest decides, against the
# floor of a trivial function call measured in the same run.
#
#   ALFRED_PGROOT=/tmp/pgroot-x ALFRED_PORT=555NN nice bench/calibration.sh
#
# A user with $TYPES suggestion types, each with a few engaged and dismissed
# events (so every decision reads and decays all of the user's state rows:
# the global level is a sum over types).
# 1. In one query (no client round trips): should_suggest(user, type, 0.8, seed)
#    for $CALLS seeds, against a trivial LANGUAGE sql function and a trivial
#    plpgsql function over the same rows.  Prints calls/s and the ratios.
# 2. pgbench, one decision per statement as an app makes them: should_suggest
#    against SELECT of the trivial plpgsql function.  Prints TPS and the ratio.
. "$(dirname "$0")/../test/lib.sh"
cd "$ALFRED_SRC"

TYPES=${TYPES:-10}
CALLS=${CALLS:-20000}
SECONDS_EACH=${SECONDS_EACH:-5}
DB=bench_calibration

build_and_install
start_cluster
trap 'stop_cluster; rm -rf "$work"' EXIT
create_db $DB
work=$(mktemp -d)

log "loading a user with $TYPES suggestion types"
psql_q -d $DB <<SQL >/dev/null
SET client_min_messages = warning;
INSERT INTO alfred.users (id, email, password_hash) VALUES ('00000000-0000-0000-0000-00000000be01', 'bench@example.com', '\$2a\$06\$calibrationtestcalibrationtestcalibrationtestcalibr');
SELECT alfred.record_engagement('00000000-0000-0000-0000-00000000be01', 'type_' || t,
								CASE WHEN (t + e) % 3 = 0 THEN 'dismissed' ELSE 'engaged' END, 'conversation')
  FROM generate_series(1, $TYPES) t, generate_series(1, 5) e;
CREATE FUNCTION public.floor_sql(seed bigint) RETURNS boolean LANGUAGE sql
	AS 'SELECT seed % 2 = 0';
CREATE FUNCTION public.floor_plpgsql(seed bigint) RETURNS boolean LANGUAGE plpgsql
	AS 'BEGIN RETURN seed % 2 = 0; END';
-- calls per second of one boolean expression over generate_series(1, n)
CREATE FUNCTION public.rate(expr text, n int) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; yes bigint;
BEGIN
	t0 := clock_timestamp();
	EXECUTE format('SELECT count(*) FILTER (WHERE %s) FROM generate_series(1, %s) s', expr, n) INTO yes;
	RETURN n / extract(epoch FROM clock_timestamp() - t0);
END \$\$;
SQL

log "in one query: $CALLS calls each"
psql_q -d $DB -A -F ' ' -t <<SQL
SELECT rate('floor_sql(s)', $CALLS) AS sql_floor \gset
SELECT rate('floor_plpgsql(s)', $CALLS) AS plpgsql_floor \gset
SELECT rate(\$\$alfred.should_suggest('00000000-0000-0000-0000-00000000be01', 'type_3', 0.8, s)\$\$, $CALLS) AS decide \gset
SELECT rate(\$\$alfred.suggestion_score('00000000-0000-0000-0000-00000000be01', 'type_3', 0.8) > 0.5\$\$, $CALLS) AS score \gset
SELECT format('trivial sql function      %10s calls/s', round(:sql_floor));
SELECT format('trivial plpgsql function  %10s calls/s', round(:plpgsql_floor));
SELECT format('suggestion_score          %10s calls/s', round(:score));
SELECT format('should_suggest (seeded)   %10s calls/s   = %s x the plpgsql floor, %s x the sql floor',
			  round(:decide), round((:decide / :plpgsql_floor)::numeric, 3), round((:decide / :sql_floor)::numeric, 3));
SQL

log "pgbench: one statement per decision, ${SECONDS_EACH}s each"
echo "SELECT public.floor_plpgsql(:client_id);" >"$work/floor.sql"
cat >"$work/decide.sql" <<'EOF'
\set seed random(1, 1000000000)
SELECT alfred.should_suggest('00000000-0000-0000-0000-00000000be01', 'type_3', 0.8, :seed);
EOF
tps() { "$PGBIN/pgbench" -n -M prepared -c 1 -T "$SECONDS_EACH" -f "$1" $DB 2>/dev/null |
	sed -n 's/^tps = \([0-9.]*\) .*/\1/p'; }
floor=$(tps "$work/floor.sql")
decide=$(tps "$work/decide.sql")
awk -v f="$floor" -v d="$decide" 'BEGIN {
	printf "pgbench trivial plpgsql   %10.0f tps\n", f
	printf "pgbench should_suggest    %10.0f tps   = %.3f x the floor\n", d, d / f }'
