-- bench/planner.sql: alfred.find_free_slots (settings and events read from
-- alfred's tables) and alfred.plan_free_slots (events passed in) over a month
-- with 200 events, against the same computation in plain SQL (multiranges
-- over the same events), in one run.
-- Run by bench/planner.sh; prints per-call times and their ratio.
\set ON_ERROR_STOP 1
SET timezone = 'UTC';
SELECT setseed(0.42);
CREATE TEMP TABLE ev AS
SELECT tstzrange(t, t + (15 + floor(random() * 8) * 15) * interval '1 minute') AS r
FROM (SELECT timestamptz '2026-11-01 06:00Z'
             + floor(random() * 30) * interval '1 day'
             + floor(random() * 48) * interval '15 minutes' AS t
      FROM generate_series(1, 200)) s;
CREATE TEMP TABLE blocks AS
SELECT d AS isodow, s::time AS s, e::time AS e
FROM generate_series(1, 5) d, (VALUES ('09:00', '12:00'), ('13:00', '17:30')) v(s, e);

-- the same result in plain SQL: work blocks as a multirange minus the buffered events
-- read from alfred.items (as find_free_slots reads them)
CREATE FUNCTION pg_temp.sql_free_slots(f timestamptz, t timestamptz, dur interval,
	tz text, buf interval) RETURNS SETOF tstzrange LANGUAGE sql STABLE AS $$
	WITH work AS (
		SELECT range_agg(tstzrange((g.day::date + b.s) AT TIME ZONE tz,
		                           (g.day::date + b.e) AT TIME ZONE tz)) AS w
		FROM generate_series((f AT TIME ZONE tz)::date - 1, (t AT TIME ZONE tz)::date + 1,
		                     interval '1 day') AS g(day)
		JOIN blocks b ON b.isodow = extract(isodow FROM g.day::date)),
	busy AS (
		SELECT coalesce(range_agg(tstzrange(i.start_datetime - buf, i.end_datetime + buf)), '{}') AS b
		FROM alfred.items i
		WHERE i.user_id = '00000000-0000-0000-0010-0000000000be' AND i.source_type = 'event'
		  AND NOT i.is_archived AND i.start_datetime < t + buf AND i.end_datetime > f - buf)
	SELECT s FROM work, busy,
		unnest(w * tstzmultirange(tstzrange(f, t)) - b) AS s
	WHERE upper(s) - lower(s) >= dur
$$;

CREATE TEMP TABLE args AS
SELECT (SELECT array_agg(r) FROM ev) AS busy,
       (SELECT jsonb_agg(jsonb_build_object('day', isodow::text, 'start', to_char(s, 'HH24:MI'),
                                            'end', to_char(e, 'HH24:MI')))
        FROM blocks) AS wb;
-- day names, not numbers, in work blocks
UPDATE args SET wb = (SELECT jsonb_agg(jsonb_set(x, '{day}',
	to_jsonb((ARRAY['mon','tue','wed','thu','fri'])[(x->>'day')::int])))
	FROM jsonb_array_elements(wb) x);

-- the same user, settings and events in alfred's tables, for find_free_slots
INSERT INTO alfred.users (id, email, password_hash, timezone)
VALUES ('00000000-0000-0000-0010-0000000000be', 'bench.rest@example.com', '$2a$06$x', 'Europe/Paris');
INSERT INTO alfred.user_settings (user_id, preferred_work_blocks, meeting_preferences)
SELECT '00000000-0000-0000-0010-0000000000be', wb,
       '{"buffer_before_minutes": 10, "buffer_after_minutes": 10}' FROM args;
INSERT INTO alfred.items (user_id, source_type, source_provider, source_id, start_datetime, end_datetime)
SELECT '00000000-0000-0000-0010-0000000000be', 'event', 'google_calendar', 'ev' || row_number() OVER (),
       lower(r), upper(r)
FROM ev;
ANALYZE alfred.items;

-- all three give the same slots
SELECT count(*) AS slots,
       (SELECT count(*) FROM pg_temp.sql_free_slots('2026-11-01', '2026-12-01', '30 minutes',
                                                    'Europe/Paris', '10 minutes')) AS sql_slots,
       bool_and(s IN (SELECT pg_temp.sql_free_slots('2026-11-01', '2026-12-01', '30 minutes',
                                                    'Europe/Paris', '10 minutes'))) AS same
FROM args, alfred.plan_free_slots(busy, '2026-11-01', '2026-12-01', '30 minutes', 'Europe/Paris',
                                  wb, buffer_before => '10 minutes', buffer_after => '10 minutes') s;
SELECT count(*) AS find_slots,
       bool_and(s IN (SELECT pg_temp.sql_free_slots('2026-11-01', '2026-12-01', '30 minutes',
                                                    'Europe/Paris', '10 minutes'))) AS same
FROM alfred.find_free_slots('00000000-0000-0000-0010-0000000000be', '2026-11-01', '2026-12-01',
                            '30 minutes') s;

DO $$
DECLARE
	n int := 500;
	t0 timestamptz;
	c_ms float8;
	find_ms float8;
	sql_ms float8;
	a record;
BEGIN
	SELECT * INTO a FROM args;
	FOR round IN 1 .. 3 LOOP
		t0 := clock_timestamp();
		FOR i IN 1 .. n LOOP
			PERFORM count(*) FROM alfred.plan_free_slots(a.busy, '2026-11-01', '2026-12-01',
				'30 minutes', 'Europe/Paris', a.wb, buffer_before => '10 minutes',
				buffer_after => '10 minutes');
		END LOOP;
		c_ms := extract(epoch FROM clock_timestamp() - t0) * 1000 / n;
		t0 := clock_timestamp();
		FOR i IN 1 .. n LOOP
			PERFORM count(*) FROM alfred.find_free_slots('00000000-0000-0000-0010-0000000000be',
				'2026-11-01', '2026-12-01', '30 minutes');
		END LOOP;
		find_ms := extract(epoch FROM clock_timestamp() - t0) * 1000 / n;
		t0 := clock_timestamp();
		FOR i IN 1 .. n LOOP
			PERFORM count(*) FROM pg_temp.sql_free_slots('2026-11-01', '2026-12-01', '30 minutes',
				'Europe/Paris', '10 minutes');
		END LOOP;
		sql_ms := extract(epoch FROM clock_timestamp() - t0) * 1000 / n;
		RAISE NOTICE 'round %: find_free_slots % ms, plan_free_slots % ms, plain SQL % ms per call; plain SQL / find_free_slots = %, plain SQL / plan_free_slots = %',
			round, round(find_ms::numeric, 3), round(c_ms::numeric, 3), round(sql_ms::numeric, 3),
			round((sql_ms / find_ms)::numeric, 1), round((sql_ms / c_ms)::numeric, 1);
	END LOOP;
END $$;
