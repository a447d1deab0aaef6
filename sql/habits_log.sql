-- log_habit, unlog_habit, recompute_habit, habit_streak, habits_at_risk and
-- the schedule trigger.  "Today" comes from now() in each user's timezone,
-- so dates are written relative to it (t) or far enough in the past.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN regexp_replace(st || ': ' || msg || coalesce(' / ' || nullif(det, ''), ''),
		'\d{4}-\d\d-\d\d', 'YYYY-MM-DD', 'g');
END $$;
-- A habit's streak columns, with dates relative to a day.
CREATE FUNCTION pg_temp.tally(h alfred.habits, t date) RETURNS text LANGUAGE sql AS $$
	SELECT format('run %s best %s total %s last_logged %s last_met %s period_logs %s',
		h.current_streak, h.best_streak, h.total_completions,
		coalesce((h.last_logged - t)::text, '-'), coalesce((h.last_met_period - t)::text, '-'),
		h.period_logs)
$$;

SELECT alfred.create_user('habits-ann@example.com', 'secret-ann', timezone => 'UTC') AS ann \gset
SELECT alfred.create_user('habits-kiri@example.com', 'secret-kiri', timezone => 'Pacific/Kiritimati') AS kiri \gset
SELECT alfred.create_user('habits-pago@example.com', 'secret-pago', timezone => 'Pacific/Pago_Pago') AS pago \gset
SELECT alfred.user_today(:'ann') AS t \gset

INSERT INTO alfred.habits (user_id, name) VALUES (:'ann', 'read') RETURNING id AS read \gset
INSERT INTO alfred.habits (user_id, name) VALUES (:'ann', 'run') RETURNING id AS run \gset

-- Three days in a row, the last one today (NULL date): the O(1) path.
SELECT pg_temp.tally(alfred.log_habit(:'read', :'t'::date - 2), :'t');
SELECT pg_temp.tally(alfred.log_habit(:'read', :'t'::date - 1, 'ch. 3', 25), :'t');
SELECT pg_temp.tally(alfred.log_habit(:'read'), :'t');
SELECT notes, duration_minutes, logged_date - :'t' AS day FROM alfred.habit_logs WHERE habit_id = :'read' ORDER BY logged_date;
-- The same day again changes nothing, not even the notes.
SELECT pg_temp.tally(alfred.log_habit(:'read', notes => 'again'), :'t');
SELECT count(*) AS logs, count(notes) AS with_notes FROM alfred.habit_logs WHERE habit_id = :'read';
-- Back-fills recompute: t-4 starts a run of 1, then t-3 joins the runs.
SELECT pg_temp.tally(alfred.log_habit(:'read', :'t'::date - 4), :'t');
SELECT pg_temp.tally(alfred.log_habit(:'read', :'t'::date - 3), :'t');
-- Removing t-1 splits the run: best goes down to 3.
SELECT pg_temp.tally(alfred.unlog_habit(:'read', :'t'::date - 1), :'t');
SELECT pg_temp.tally(alfred.unlog_habit(:'read', :'t'::date - 10), :'t') AS "nothing to remove";
-- Read as of today and later days: the stored run of 1 counts today and
-- tomorrow (at risk), then no more.
SELECT d::date - :'t'::date AS day, s.*
FROM alfred.habits h, generate_series(:'t'::date, :'t'::date + 2, '1 day') d,
	alfred.habit_streak(h, d::date) s
WHERE h.id = :'read';
-- Unlogging today (NULL) and the same via streak_of.
SELECT pg_temp.tally(alfred.unlog_habit(:'read'), :'t');
SELECT alfred.habit_streak(h, :'t')::text AS stored,
	alfred.streak_of(alfred._habit_logged_days(h), h.frequency, h.days_of_week, h.target_per_week, :'t')::text AS recomputed
FROM alfred.habits h WHERE h.id = :'read';

-- At risk: 'run' was logged yesterday only, 'read' has a streak of 0 today.
SELECT pg_temp.tally(alfred.log_habit(:'run', :'t'::date - 1), :'t');
SELECT name, current_streak, best_streak, state, last_logged - :'t'::date AS last_logged
FROM alfred.habits_at_risk(:'ann');
SELECT pg_temp.tally(alfred.log_habit(:'run'), :'t');
SELECT count(*) AS at_risk FROM alfred.habits_at_risk(:'ann');

-- A change of schedule recomputes from the logs (fixed days in June 2025:
-- Thu 05, Fri 06, Mon 09).
INSERT INTO alfred.habits (user_id, name) VALUES (:'ann', 'stretch') RETURNING id AS stretch \gset
SELECT pg_temp.tally(alfred.log_habit(:'stretch', d), '2025-06-09')
FROM unnest('{2025-06-05,2025-06-06,2025-06-09}'::date[]) d;
SELECT frequency, days_of_week, target_per_week, pg_temp.tally(h, '2025-06-09'), (alfred.habit_streak(h, '2025-06-09')).*
FROM alfred.habits h WHERE id = :'stretch';
UPDATE alfred.habits SET frequency = 'custom', days_of_week = '{1,2,3,4,5}' WHERE id = :'stretch';
SELECT frequency, days_of_week, target_per_week, pg_temp.tally(h, '2025-06-09'), (alfred.habit_streak(h, '2025-06-09')).*
FROM alfred.habits h WHERE id = :'stretch';
UPDATE alfred.habits SET frequency = 'weekly', target_per_week = 2 WHERE id = :'stretch';
SELECT frequency, days_of_week, target_per_week, pg_temp.tally(h, '2025-06-09'), (alfred.habit_streak(h, '2025-06-09')).*
FROM alfred.habits h WHERE id = :'stretch';
-- Renaming does not recompute; a streak column written by hand is repaired
-- by recompute_habit.
UPDATE alfred.habits SET name = 'stretch!', current_streak = 0 WHERE id = :'stretch';
SELECT name, current_streak FROM alfred.habits WHERE id = :'stretch';
SELECT pg_temp.tally(alfred.recompute_habit(:'stretch'), '2025-06-09');

-- The user's today: Kiritimati (UTC+14) is always a day or two ahead of
-- Pago Pago (UTC-11); a date that is today in Kiritimati is in Pago Pago's future.
INSERT INTO alfred.habits (user_id, name) VALUES (:'kiri', 'swim') RETURNING id AS swim \gset
INSERT INTO alfred.habits (user_id, name) VALUES (:'pago', 'walk') RETURNING id AS walk \gset
SELECT alfred.user_today(:'kiri') - alfred.user_today(:'pago') IN (1, 2) AS kiri_ahead;
SELECT (alfred.log_habit(:'swim', alfred.user_today(:'kiri'))).total_completions;
SELECT pg_temp.err(format('SELECT alfred.log_habit(%L, %L)', :'walk', alfred.user_today(:'kiri')));
-- day_start_hour: a habit whose day starts at 04:00.
UPDATE alfred.habits SET day_start_hour = 4 WHERE id = :'walk';
SELECT alfred.user_today(:'pago', 4) = ((now() AT TIME ZONE 'Pacific/Pago_Pago') - interval '4 hours')::date AS shifted;
SELECT (alfred.log_habit(:'walk')).last_logged = alfred.user_today(:'pago', 4) AS logged_on_shifted_day;

-- Refusals change nothing: 22023 invalid_parameter_value, 22004 null_value_not_allowed.
SELECT pg_temp.err(format('SELECT alfred.log_habit(%L, %L)', :'read', :'t'::date + 1));
SELECT pg_temp.err(format('SELECT alfred.log_habit(%L, %L)', :'read', '-infinity'));
SELECT pg_temp.err($$SELECT alfred.log_habit('00000000-0000-0000-0000-000000000000')$$);
SELECT pg_temp.err($$SELECT alfred.unlog_habit('00000000-0000-0000-0000-000000000000')$$);
SELECT pg_temp.err($$SELECT alfred.recompute_habit('00000000-0000-0000-0000-000000000000')$$);
SELECT pg_temp.err($$SELECT alfred.log_habit(NULL)$$);
SELECT pg_temp.err(format($$UPDATE alfred.habits SET frequency = 'custom', days_of_week = '{}' WHERE id = %L$$, :'stretch'));
SELECT pg_temp.err(format($$UPDATE alfred.habits SET days_of_week = '{1,8}' WHERE id = %L$$, :'stretch'));
SELECT pg_temp.err(format($$UPDATE alfred.habits SET target_per_week = 9 WHERE id = %L$$, :'stretch'));
SELECT pg_temp.err(format($$INSERT INTO alfred.habits (user_id, name, frequency) VALUES (%L, 'x', 'custom')$$, :'ann'));
SELECT frequency, days_of_week, target_per_week, pg_temp.tally(h, '2025-06-09') FROM alfred.habits h WHERE id = :'stretch';
SELECT count(*) AS habits FROM alfred.habits WHERE user_id = :'ann';

-- Leave the shared regression database as we found it.
DELETE FROM alfred.users WHERE id IN (:'ann', :'kiri', :'pago');
