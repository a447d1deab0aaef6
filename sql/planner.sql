-- The free-slot planner: alfred.plan_free_slots (C) across DST changes,
-- with overlapping events, buffers, quiet hours and lunch; its refusals.
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

-- 09:00-17:00 New York on Friday to Monday around the spring-forward of
-- Sunday 2026-03-08: 14:00-22:00 UTC before, 13:00-21:00 UTC after.
SELECT * FROM alfred.plan_free_slots(NULL, '2026-03-06', '2026-03-10', '1 hour',
	'America/New_York',
	'[{"day": "fri", "start": "09:00", "end": "17:00"},
	  {"day": "Saturday", "start": "09:00", "end": "17:00"},
	  {"day": "sunday", "start": "09:00", "end": "17:00"},
	  {"day": "monday", "start": "09:00", "end": "17:00"}]');

-- A block over the skipped hour is one hour shorter; over the repeated hour
-- (Sunday 2026-11-01) one hour longer.
SELECT s, upper(s) - lower(s) AS length
FROM alfred.plan_free_slots(NULL, '2026-03-08', '2026-03-09', '1 hour', 'America/New_York',
	'[{"day": "sun", "start": "00:00", "end": "06:00"}]') s
UNION ALL
SELECT s, upper(s) - lower(s)
FROM alfred.plan_free_slots(NULL, '2026-11-01', '2026-11-02', '1 hour', 'America/New_York',
	'[{"day": "sun", "start": "00:00", "end": "06:00"}]') s;

-- Overlapping events merge; buffers of 15 minutes keep room around them;
-- slots shorter than the duration are dropped. Monday 2026-11-23, Paris (UTC+1).
SELECT * FROM alfred.plan_free_slots(
	ARRAY['[2026-11-23 09:00Z, 2026-11-23 09:30Z)',
	      '[2026-11-23 09:15Z, 2026-11-23 10:00Z)',
	      '[2026-11-23 13:40Z, 2026-11-23 14:00Z)',
	      'empty', NULL]::tstzrange[],
	'2026-11-23', '2026-11-24', '30 minutes', 'Europe/Paris',
	'[{"day": "mon", "start": "09:00", "end": "12:00"},
	  {"day": "mon", "start": "14:00", "end": "18:00"}]',
	buffer_before => '15 minutes', buffer_after => '15 minutes');

-- No work blocks: the whole day except quiet hours 22:00-07:00 and lunch.
SELECT * FROM alfred.plan_free_slots(NULL, '2026-11-23 00:00+01', '2026-11-25 00:00+01',
	'2 hours', 'Europe/Paris', quiet_start => '22:00', quiet_end => '07:00',
	lunch_start => '12:00', lunch_end => '13:30');

-- An event that covers the whole range leaves nothing.
SELECT count(*) FROM alfred.plan_free_slots(ARRAY['(,)']::tstzrange[],
	'2026-11-23', '2026-11-24', '1 minute', 'UTC');

-- Refusals: 22023 invalid_parameter_value, 22004 null_value_not_allowed.
SELECT pg_temp.err($$SELECT alfred.plan_free_slots(NULL, '2026-01-02', '2026-01-01', '1 hour', 'UTC')$$);
SELECT pg_temp.err($$SELECT alfred.plan_free_slots(NULL, '2026-01-01', '2026-01-02', '0', 'UTC')$$);
SELECT pg_temp.err($$SELECT alfred.plan_free_slots(NULL, '2026-01-01', '2026-01-02', '1 hour', 'Mars/Olympus')$$);
SELECT pg_temp.err($$SELECT alfred.plan_free_slots(NULL, '2026-01-01', '2026-01-02', '1 hour', 'UTC', '{"day": "mon"}')$$);
SELECT pg_temp.err($$SELECT alfred.plan_free_slots(NULL, '2026-01-01', '2026-01-02', '1 hour', 'UTC', '[{"day": "funday", "start": "09:00", "end": "10:00"}]')$$);
SELECT pg_temp.err($$SELECT alfred.plan_free_slots(NULL, '2026-01-01', '2026-01-02', '1 hour', 'UTC', '[{"day": "mon", "start": "10:00", "end": "09:00"}]')$$);
SELECT pg_temp.err($$SELECT alfred.plan_free_slots(NULL, '2026-01-01', '2026-01-02', '1 hour', 'UTC', '[{"day": "mon", "start": "9am", "end": "10:00"}]')$$);
SELECT pg_temp.err($$SELECT alfred.plan_free_slots(NULL, '2026-01-01', '2026-01-02', '1 hour', 'UTC', '[{"day": "mon", "start": 9}]')$$);
SELECT pg_temp.err($$SELECT alfred.plan_free_slots(NULL, '2026-01-01', '2026-01-02', '1 hour', 'UTC', '[1]')$$);
SELECT pg_temp.err($$SELECT alfred.plan_free_slots(NULL, '2026-01-01', '2026-01-02', '1 hour', 'UTC', buffer_after => '-5 minutes')$$);
SELECT pg_temp.err($$SELECT alfred.plan_free_slots(NULL, '2026-01-01', '2046-01-02', '1 hour', 'UTC')$$);
SELECT pg_temp.err($$SELECT alfred.plan_free_slots(NULL, '-infinity', '2026-01-02', '1 hour', 'UTC')$$);
SELECT pg_temp.err($$SELECT alfred.plan_free_slots(NULL, NULL, '2026-01-02', '1 hour', 'UTC')$$);
SELECT pg_temp.err($$SELECT alfred.plan_free_slots(NULL, '2026-01-01', '2026-01-02', '1 hour', NULL)$$);

-- alfred.find_free_slots: the same engine on a user's settings and calendar
BEGIN;
INSERT INTO alfred.users (id, email, password_hash, role, status, timezone) VALUES
	('00000000-0000-0000-0010-0000000000a1', 'ana.rest@example.com', '$2a$06$x', 'user', 'active', 'America/New_York'),
	('00000000-0000-0000-0010-0000000000b0', 'bob.rest@example.com', '$2a$06$x', 'user', 'active', 'UTC');
INSERT INTO alfred.user_settings (user_id, quiet_hours_start, quiet_hours_end,
                                  preferred_work_blocks, meeting_preferences) VALUES
	('00000000-0000-0000-0010-0000000000a1', '21:00', '08:00',
	 '[{"day": "saturday", "start": "07:00", "end": "18:00"},
	   {"day": "sunday", "start": "07:00", "end": "18:00"}]',
	 '{"min_duration_minutes": 30, "max_duration_minutes": 120, "buffer_before_minutes": 10,
	   "buffer_after_minutes": 5, "avoid_lunch_hours": true}');
-- events on the weekend of the spring-forward (Sunday 2026-03-08), two overlapping,
-- one archived, one without an end (an hour), one e-mail (not an event)
INSERT INTO alfred.items (user_id, source_type, source_provider, source_id, title,
                          start_datetime, end_datetime, is_archived) VALUES
	('00000000-0000-0000-0010-0000000000a1', 'event', 'google_calendar', 'e1', 'run', '2026-03-07 09:00-05', '2026-03-07 10:00-05', false),
	('00000000-0000-0000-0010-0000000000a1', 'event', 'google_calendar', 'e2', 'coffee', '2026-03-07 09:30-05', '2026-03-07 10:30-05', false),
	('00000000-0000-0000-0010-0000000000a1', 'event', 'google_calendar', 'e3', 'old', '2026-03-07 15:00-05', '2026-03-07 16:00-05', true),
	('00000000-0000-0000-0010-0000000000a1', 'event', 'outlook', 'e4', 'call', '2026-03-08 14:00-04', NULL, false),
	('00000000-0000-0000-0010-0000000000a1', 'email', 'gmail', 'm1', 'hello', '2026-03-08 09:00-04', '2026-03-08 17:00-04', false);
SET LOCAL timezone = 'America/New_York';
-- quiet hours end at 08:00, lunch 12-13, buffers 10 before and 5 after
SELECT * FROM alfred.find_free_slots('00000000-0000-0000-0010-0000000000a1',
	'2026-03-07 00:00', '2026-03-09 00:00', '45 minutes');
-- explicit arguments override the preferences: no buffers, lunch allowed
SELECT * FROM alfred.find_free_slots('00000000-0000-0000-0010-0000000000a1',
	'2026-03-08 00:00', '2026-03-09 00:00', '2 hours', buffer_before => '0', buffer_after => '0',
	avoid_lunch => false);
-- no settings: whole days; the default duration is 15 minutes
SELECT * FROM alfred.find_free_slots('00000000-0000-0000-0010-0000000000b0',
	'2026-03-08 00:00', '2026-03-08 06:00');
RESET timezone;
SELECT pg_temp.err($$SELECT alfred.find_free_slots('00000000-0000-0000-0010-0000000000a1', '2026-03-07', '2026-03-08', '10 minutes')$$);
SELECT pg_temp.err($$SELECT alfred.find_free_slots('00000000-0000-0000-0010-0000000000a1', '2026-03-07', '2026-03-08', '3 hours')$$);
SELECT pg_temp.err($$SELECT alfred.find_free_slots('00000000-0000-0000-0010-00000000ffff', '2026-03-07', '2026-03-08')$$);
SELECT pg_temp.err($$SELECT alfred.find_free_slots('00000000-0000-0000-0010-0000000000a1', NULL, '2026-03-08')$$);
SELECT pg_temp.err($$SELECT alfred.find_free_slots('00000000-0000-0000-0010-0000000000a1', '2026-03-08', '2026-03-07', '1 hour')$$);
-- a meeting preference of the wrong type is named
UPDATE alfred.user_settings SET meeting_preferences = meeting_preferences || '{"buffer_after_minutes": "5"}'
WHERE user_id = '00000000-0000-0000-0010-0000000000a1';
SELECT pg_temp.err($$SELECT alfred.find_free_slots('00000000-0000-0000-0010-0000000000a1', '2026-03-07', '2026-03-08', '1 hour')$$);
UPDATE alfred.user_settings SET meeting_preferences = meeting_preferences || '{"buffer_after_minutes": 5, "lunch_end": "13h"}'
WHERE user_id = '00000000-0000-0000-0010-0000000000a1';
SELECT pg_temp.err($$SELECT alfred.find_free_slots('00000000-0000-0000-0010-0000000000a1', '2026-03-07', '2026-03-08', '1 hour')$$);
CREATE ROLE regress_rest_app;
SELECT alfred.grant_usage('regress_rest_app');
SET ROLE regress_rest_app;
RESET ROLE;
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000b0', local => false) IS NOT NULL AS bob;
SET ROLE regress_rest_app;
SELECT pg_temp.err($$SELECT alfred.find_free_slots('00000000-0000-0000-0010-0000000000a1', '2026-03-07', '2026-03-08')$$);
SELECT count(*) AS own FROM alfred.find_free_slots('00000000-0000-0000-0010-0000000000b0', '2026-03-07', '2026-03-08');
RESET ROLE;
ROLLBACK;
