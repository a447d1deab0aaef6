-- alfred.streak_of: every example of DESIGN.md "Streaks", weekly states,
-- custom schedules across weekends, and its refusals.
SET timezone = 'UTC';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN st || ': ' || msg || coalesce(' / ' || nullif(det, ''), '');
END $$;

-- 2025-06-02 is a Monday.
SELECT 'daily 02,03,04 today 04' AS example, * FROM alfred.streak_of('{2025-06-02,2025-06-03,2025-06-04}', 'daily', NULL, NULL, '2025-06-04')
UNION ALL
SELECT 'daily 02,03,04 today 05', * FROM alfred.streak_of('{2025-06-02,2025-06-03,2025-06-04}', 'daily', NULL, NULL, '2025-06-05')
UNION ALL
SELECT 'daily 02,03,04 today 06', * FROM alfred.streak_of('{2025-06-02,2025-06-03,2025-06-04}', 'daily', NULL, NULL, '2025-06-06')
UNION ALL
SELECT 'daily 01-04,06,07 today 07', * FROM alfred.streak_of('{2025-06-07,2025-06-01,2025-06-02,2025-06-03,2025-06-04,2025-06-06}', 'daily', NULL, NULL, '2025-06-07')
UNION ALL
SELECT 'Mon-Fri Thu,Fri,Mon today Mon', * FROM alfred.streak_of('{2025-06-05,2025-06-06,2025-06-09}', 'custom', '{1,2,3,4,5}', NULL, '2025-06-09')
UNION ALL
SELECT 'Mon-Fri Thu,Fri today Sun', * FROM alfred.streak_of('{2025-06-05,2025-06-06}', 'custom', '{1,2,3,4,5}', NULL, '2025-06-08')
UNION ALL
SELECT 'Mon-Fri Thu,Fri,Sat today Mon', * FROM alfred.streak_of('{2025-06-05,2025-06-06,2025-06-07}', 'custom', '{1,2,3,4,5}', NULL, '2025-06-09')
UNION ALL
SELECT 'Mon-Fri Thu,Fri today Tue', * FROM alfred.streak_of('{2025-06-05,2025-06-06}', 'custom', '{1,2,3,4,5}', NULL, '2025-06-10')
UNION ALL
SELECT 'duplicates and NULLs', * FROM alfred.streak_of('{2025-06-02,NULL,2025-06-02,2025-06-03}', 'daily', NULL, NULL, '2025-06-03')
UNION ALL
SELECT 'no logs', * FROM alfred.streak_of('{}', 'daily', NULL, NULL, '2025-06-03')
UNION ALL
SELECT 'NULL dates', * FROM alfred.streak_of(NULL, 'daily', NULL, NULL, '2025-06-03')
UNION ALL
SELECT 'logs after today ignored', * FROM alfred.streak_of('{2025-06-02,2025-06-03,2025-06-04}', 'daily', NULL, NULL, '2025-06-03');

-- Weekly, target 3 (Mon/Wed/Fri): two met weeks (May 19-25, May 26-Jun 1),
-- then this week (Jun 2-8) with the logs listed, as of each day.
SELECT today::date, extract(isodow FROM today) AS dow, s.*
FROM generate_series('2025-06-02'::date, '2025-06-09', '1 day') AS today,
	alfred.streak_of('{2025-05-19,2025-05-21,2025-05-23,2025-05-26,2025-05-27,2025-05-28,2025-06-04,2025-06-05}',
		'weekly', '{1,3,5}', NULL, today::date) s;

-- An explicit target overrides the number of days.
SELECT * FROM alfred.streak_of('{2025-06-02}', 'weekly', '{1,3,5}', 1, '2025-06-02');

-- Refusals: 22023 invalid_parameter_value, 22004 null_value_not_allowed.
SELECT pg_temp.err($$SELECT alfred.streak_of('{}', 'hourly', NULL, NULL, '2025-06-02')$$);
SELECT pg_temp.err($$SELECT alfred.streak_of('{}', 'custom', '{}', NULL, '2025-06-02')$$);
SELECT pg_temp.err($$SELECT alfred.streak_of('{}', 'custom', '{0,1}', NULL, '2025-06-02')$$);
SELECT pg_temp.err($$SELECT alfred.streak_of('{}', 'weekly', NULL, 8, '2025-06-02')$$);
SELECT pg_temp.err($$SELECT alfred.streak_of('{}', NULL, NULL, NULL, '2025-06-02')$$);
SELECT pg_temp.err($$SELECT alfred.streak_of('{}', 'daily', NULL, NULL, NULL)$$);
SELECT pg_temp.err($$SELECT alfred.streak_of('{}', 'daily', NULL, NULL, 'infinity')$$);
SELECT pg_temp.err($$SELECT alfred.streak_of('{-infinity}', 'daily', NULL, NULL, '2025-06-02')$$);
