#!/usr/bin/env bash
# bench/cron.sh: alfred.cron_next over many rows, against two baselines
# measured in the same run:
#   1. the floor: the same rows doing `timestamptz + interval` (the cost of
#      reading rows and calling a function at all); target: cron_next <= 1.5x
#   2. the npm package cron-parser under node computing the same next times
#      (expression parsed once, reset to each row); target: alfred faster.
#      cron-parser needs about half a millisecond per row, so by default it
#      runs on the first NODE_ROWS (20000) of the same rows and the ratio is
#      per row; NODE_ROWS=1000000 runs all of them (about ten minutes).
# It also checks that cron-parser and alfred agree on every row it computed.
#
#   nice bench/cron.sh                       # 1M rows, '*/7 9-17 * * MON-FRI', Europe/Berlin
#   ROWS=100000 EXPR='0 9 * * *' TZNAME=America/New_York bench/cron.sh
#
# Honours ALFRED_PGROOT / ALFRED_PORT like test/run (a throwaway cluster);
# needs node and `npm install` in bench/ for the cron-parser part.
set -euo pipefail
renice -n 10 $$ >/dev/null 2>&1 || true
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/../test/lib.sh"

ROWS=${ROWS:-1000000}
EXPR=${EXPR:-'*/7 9-17 * * MON-FRI'}
TZNAME=${TZNAME:-Europe/Berlin}
NODE_ROWS=${NODE_ROWS:-20000}

build_and_install >/dev/null
start_cluster
trap stop_cluster EXIT
create_db alfred_bench
q() { psql_q -d alfred_bench -At "$@"; }

q <<SQL
SET max_parallel_workers_per_gather = 0;
SELECT setseed(0.5);
CREATE TABLE bench_rows AS
	SELECT date_trunc('milliseconds', '2026-01-01 00:00+00'::timestamptz + random() * interval '365 days') AS t
	  FROM generate_series(1, $ROWS);
VACUUM ANALYZE bench_rows;
CREATE FUNCTION bench_ms(query text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE
	t0 timestamptz := clock_timestamp();
BEGIN
	EXECUTE query;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;
SQL

floor_q="SELECT max(t + interval '1 hour') FROM bench_rows"
cron_q="SELECT max(alfred.cron_next('$EXPR', t, '$TZNAME')) FROM bench_rows"
zone_q="SELECT max(t AT TIME ZONE '$TZNAME') FROM bench_rows"
q -c "SET max_parallel_workers_per_gather = 0" -c "$floor_q" -c "$cron_q" >/dev/null	# warm the cache
# Nine rounds, each timing the three queries back to back; the machine is
# shared, so report the fastest time of each and the median of the
# per-round ratios (a round's queries see the same load).
read -r floor_ms cron_ms zone_ms ratio < <(q -F " " <<SQL | tail -1
SET max_parallel_workers_per_gather = 0;
WITH runs AS (
	SELECT bench_ms(\$q\$$floor_q\$q\$) AS f, bench_ms(\$q\$$cron_q\$q\$) AS c,
		   bench_ms(\$q\$$zone_q\$q\$) AS z
	  FROM generate_series(1, 9))
SELECT round(min(f)::numeric, 1), round(min(c)::numeric, 1), round(min(z)::numeric, 1),
	   round(percentile_cont(0.5) WITHIN GROUP (ORDER BY c / f)::numeric, 2) FROM runs;
SQL
)
extra_ns=$(awk -v a="$cron_ms" -v b="$floor_ms" -v n="$ROWS" 'BEGIN { printf "%.0f", (a - b) * 1e6 / n }')
echo "rows:                      $ROWS ('$EXPR' in $TZNAME, instants spread over 2026)"
echo "floor (t + interval):      $floor_ms ms"
echo "alfred.cron_next:          $cron_ms ms  (${extra_ns} ns/row above the floor)"
echo "ratio cron_next / floor:   $ratio  (median of 9 paired rounds; target <= 1.5)"
echo "for scale, t AT TIME ZONE: $zone_ms ms  (PostgreSQL's own conversion to $TZNAME wall time)"

if command -v node >/dev/null && [ -d "$BENCH_DIR/node_modules/cron-parser" ]; then
	rows_file=$ALFRED_TMP/bench_rows.txt
	q -c "COPY (SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM bench_rows ORDER BY ctid LIMIT $NODE_ROWS) TO STDOUT" >"$rows_file"
	q -c "COPY (SELECT to_char(alfred.cron_next('$EXPR', t, '$TZNAME') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM bench_rows ORDER BY ctid LIMIT $NODE_ROWS) TO STDOUT" >"$ALFRED_TMP/bench_alfred.txt"
	node_ms=$(nice node "$BENCH_DIR/cron_parser.js" "$rows_file" "$EXPR" "$TZNAME" "$ALFRED_TMP/bench_node.txt")
	differ=$(paste -d' ' "$ALFRED_TMP/bench_alfred.txt" "$ALFRED_TMP/bench_node.txt" | awk '$1 != $2' | wc -l)
	node_rows=$(wc -l <"$rows_file")
	node_ratio=$(awk -v a="$node_ms" -v na="$node_rows" -v b="$cron_ms" -v nb="$ROWS" 'BEGIN { printf "%.0f", (a / na) / (b / nb) }')
	echo "cron-parser (node):        $node_ms ms for $node_rows rows = $(awk -v a="$node_ms" -v n="$node_rows" 'BEGIN { printf "%.0f", a * 1e6 / n }') ns/row  (cron-parser $(node -p "require('$BENCH_DIR/node_modules/cron-parser/package.json').version"), node $(node --version))"
	echo "alfred.cron_next:          $(awk -v a="$cron_ms" -v n="$ROWS" 'BEGIN { printf "%.0f", a * 1e6 / n }') ns/row"
	echo "ratio cron-parser / alfred per row: $node_ratio  (target > 1: alfred faster)"
	echo "rows where they disagree:  $differ of $node_rows"
else
	echo "cron-parser: skipped (no node, or no 'npm install' in bench/)"
fi
