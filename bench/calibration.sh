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
#    plpgsql function over the same rows, $ROUNDS interleaved rounds.  Prints
#    calls/s per round and the median ratios.
# 2. pgbench, one decision per statement as an app makes them: should_suggest
#    against SELECT of the trivial plpgsql function, in $ROUNDS interleaved
#    rounds (the machine is noisy).  Prints each round's TPS and ratio, and the
#    median ratio.
. "$(dirname "$0")/../test/lib.sh"
cd "$ALFRED_SRC"

TYPES=${TYPES:-10}
CALLS=${CALLS:-20000}
SECONDS_EACH=${SECONDS_EACH:-3}
ROUNDS=${ROUNDS:-3}
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

log "in one query: $CALLS calls each, $ROUNDS interleaved rounds"
psql_q -d $DB -A -F ' ' -t <<SQL
CREATE TEMP TABLE rounds AS
SELECT g AS round,
	   rate('floor_sql(s)', $CALLS) AS sql_floor,
	   rate('floor_plpgsql(s)', $CALLS) AS plpgsql_floor,
	   rate(\$\$alfred.suggestion_score('00000000-0000-0000-0000-00000000be01', 'type_3', 0.8) > 0.5\$\$, $CALLS) AS score,
	   rate(\$\$alfred.should_suggest('00000000-0000-0000-0000-00000000be01', 'type_3', 0.8, s)\$\$, $CALLS) AS decide
  FROM generate_series(1, $ROUNDS) g;
SELECT format('round %s: trivial sql %s, trivial plpgsql %s, suggestion_score %s, should_suggest %s calls/s',
			  round, round(sql_floor), round(plpgsql_floor), round(score), round(decide))
  FROM rounds ORDER BY round;
SELECT format('should_suggest: median %s calls/s = %s x the trivial plpgsql function, %s x the trivial sql function',
			  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY decide)::numeric),
			  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY decide / plpgsql_floor)::numeric, 3),
			  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY decide / sql_floor)::numeric, 3))
  FROM rounds;
SQL

log "pgbench: one statement per decision, $ROUNDS interleaved rounds of ${SECONDS_EACH}s each"
echo "SELECT public.floor_plpgsql(:client_id);" >"$work/floor.sql"
cat >"$work/decide.sql" <<'EOF'
\set seed random(1, 1000000000)
SELECT alfred.should_suggest('00000000-0000-0000-0000-00000000be01', 'type_3', 0.8, :seed);
EOF
tps() { "$PGBIN/pgbench" -n -M prepared -c 1 -T "$SECONDS_EACH" -f "$1" $DB 2>/dev/null |
	sed -n 's/^tps = \([0-9.]*\) .*/\1/p'; }
for r in $(seq "$ROUNDS"); do
	echo "$(tps "$work/floor.sql") $(tps "$work/decide.sql")"
done | awk '{ printf "pgbench round %d: trivial plpgsql %8.0f tps, should_suggest %8.0f tps = %.3f x\n", NR, $1, $2, $2 / $1
			  print $2 / $1 > "/dev/stderr" }' 2>"$work/ratios"
sort -g "$work/ratios" | awk '{ r[NR] = $1 } END {
	printf "pgbench should_suggest: median %.3f x the trivial plpgsql statement\n", r[int((NR + 1) / 2)] }'
