#!/usr/bin/env bash
# bench/null_check.sh: what the one NULL-argument check (alfred._require_argument,
# src/arguments.c) costs a PL/pgSQL function, against the hand-written
# IF ... IS NULL THEN RAISE it replaced, and against a function with no check,
# measured in the same run: 3 interleaved rounds of 200000 calls of each, one
# query per round (no client round trips).  The difference is the cost of one
# check; for scale, the same rounds time consume_ai_quota (two checks) per call.  Uses a throwaway cluster like
# the tests:
#   ALFRED_PGROOT=... ALFRED_PORT=... nice bench/null_check.sh
. "$(dirname "$0")/../test/lib.sh"
build_and_install
start_cluster
trap 'stop_cluster' EXIT
create_db alfred_bench
psql_q -d alfred_bench <<'SQL'
CREATE FUNCTION bench_none(x uuid) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
	RETURN 1;
END $$;
CREATE FUNCTION bench_if(x uuid) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
	IF x IS NULL THEN
		RAISE EXCEPTION 'argument "x" must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	RETURN 1;
END $$;
CREATE FUNCTION bench_helper(x uuid) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
	PERFORM alfred._require_argument('x', x);
	RETURN 1;
END $$;
CREATE FUNCTION bench_time(fn text, n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	s int;
BEGIN
	t0 := clock_timestamp();
	EXECUTE format('SELECT sum(%I(''00000000-0000-0000-0000-000000000001''::uuid)) FROM generate_series(1, $1)', fn)
		INTO s USING n;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / n;	-- µs per call
END $$;
INSERT INTO alfred.users (id, email, password_hash, role, status, timezone) VALUES
	('00000000-0000-0000-0000-000000000001', 'bench@example.com', '$2a$06$x', 'user', 'active', 'UTC');
SET alfred.ai_daily_limit = 100000000;
CREATE TEMP TABLE r (round int, fn text, us float8);
DO $$
DECLARE
	t0 timestamptz;
BEGIN
	FOR round IN 1..3 LOOP
		INSERT INTO r SELECT round, f, bench_time(f, 200000)
		  FROM unnest(ARRAY['bench_none', 'bench_if', 'bench_helper']) f;
		t0 := clock_timestamp();
		PERFORM alfred.consume_ai_quota('00000000-0000-0000-0000-000000000001') FROM generate_series(1, 2000);
		INSERT INTO r VALUES (round, 'consume_ai_quota', extract(epoch FROM clock_timestamp() - t0) * 1e6 / 2000);
	END LOOP;
END $$;
\pset footer off
SELECT round, fn, round(us::numeric, 3) AS us_per_call FROM r ORDER BY round, fn;
SELECT f.fn, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.us - n.us)::numeric, 3) AS median_check_us,
	   round(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.us / n.us)::numeric, 2) AS median_x_no_check
  FROM r f JOIN r n ON n.round = f.round AND n.fn = 'bench_none'
 WHERE f.fn IN ('bench_if', 'bench_helper') GROUP BY f.fn ORDER BY 1;
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us)::numeric, 1) AS consume_ai_quota_median_us
  FROM r WHERE fn = 'consume_ai_quota';
SQL
