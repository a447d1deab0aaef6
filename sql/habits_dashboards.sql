-- The dashboards of seed 003 as functions in the user's timezone, today()
-- (the daily briefing) and health_check().  Dates are relative to the
-- user's today (t), in New York.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
	RETURN st || ': ' || msg;
END $$;
SELECT alfred.create_user('habits-dash@example.com', 'secret-dash', timezone => 'America/New_York') AS u \gset
SELECT alfred.user_today(:'u') AS t \gset
-- a local wall-clock time on day t + d in New York
CREATE FUNCTION pg_temp.at(d int, hm text) RETURNS timestamptz LANGUAGE sql AS $$
	SELECT ((alfred.user_today(id) + d)::text || ' ' || hm)::timestamp AT TIME ZONE 'America/New_York'
	FROM alfred.users WHERE email = 'habits-dash@example.com'
$$;

INSERT INTO alfred.tasks (user_id, title, priority, status, due_date) VALUES
	(:'u', 'overdue high', 'high', 'pending', pg_temp.at(-2, '10:00')),
	(:'u', 'overdue blocked', 'medium', 'blocked', pg_temp.at(-1, '09:00')),
	(:'u', 'today urgent', 'urgent', 'pending', pg_temp.at(0, '17:00')),
	(:'u', 'today low', 'low', 'in_progress', pg_temp.at(0, '08:00')),
	(:'u', 'last minute', 'low', 'pending', pg_temp.at(0, '23:59')),
	(:'u', 'undated medium', 'medium', 'pending', NULL),
	(:'u', 'tomorrow critical', 'critical', 'pending', pg_temp.at(1, '00:00')),
	(:'u', 'done', 'high', 'completed', pg_temp.at(-1, '12:00')),
	(:'u', 'cancelled', 'high', 'cancelled', pg_temp.at(-3, '12:00'));
INSERT INTO alfred.projects (user_id, name, status, created_at) VALUES
	(:'u', 'alpha', 'active', now()),
	(:'u', 'beta', 'active', now() - interval '10 days'),
	(:'u', 'gamma', 'active', now() - interval '20 days'),
	(:'u', 'shelved', 'archived', now() - interval '30 days');
INSERT INTO alfred.project_updates (user_id, project_id, content, created_at)
SELECT :'u', p.id, 'progress on ' || p.name, v.at
FROM alfred.projects p JOIN (VALUES ('alpha', now()), ('gamma', pg_temp.at(-8, '12:00')),
	('gamma', pg_temp.at(-9, '12:00'))) v(name, at) USING (name)
WHERE p.user_id = :'u';
INSERT INTO alfred.habits (user_id, name, time_preference, frequency, days_of_week, target_per_week) VALUES
	(:'u', 'read', 'evening', 'daily', '{}', NULL),
	(:'u', 'meditate', 'morning', 'daily', '{}', NULL),
	(:'u', 'gym tomorrow', 'afternoon', 'custom', ARRAY[extract(isodow FROM :'t'::date + 1)::int], NULL),
	(:'u', 'call mum', NULL, 'weekly', '{}', 1),
	(:'u', 'paused', 'morning', 'daily', '{}', NULL);
UPDATE alfred.habits SET active = false WHERE user_id = :'u' AND name = 'paused';
SELECT count(alfred.log_habit(h.id, :'t'::date + d)) AS logs
FROM alfred.habits h, LATERAL (VALUES (-2), (-1)) v(d) WHERE h.user_id = :'u' AND h.name = 'read';
SELECT count(alfred.log_habit(h.id)) AS logs FROM alfred.habits h
WHERE h.user_id = :'u' AND h.name IN ('meditate', 'call mum');
INSERT INTO alfred.notifications (user_id, type, title, status, scheduled_for) VALUES
	(:'u', 'nudge', 'due an hour ago', 'pending', now() - interval '1 hour'),
	(:'u', 'info', 'unscheduled', 'pending', NULL),
	(:'u', 'nudge', 'in an hour', 'pending', now() + interval '1 hour'),
	(:'u', 'nudge', 'already sent', 'sent', now() - interval '2 hours');

-- Priority tasks: open, due by the end of today (New York) or undated;
-- by priority, then due time.
SELECT title, priority, status, due_date - pg_temp.at(0, '00:00') AS due_after_midnight
FROM alfred.priority_tasks(:'u');
-- Overdue: open tasks due before today.
SELECT title, status, days_overdue FROM alfred.overdue_tasks(:'u');
-- Habits today: morning, afternoon, evening, then the rest.
SELECT name, time_preference, scheduled_today, completed_today, current_streak, best_streak, state
FROM alfred.habits_today(:'u');
SELECT name, current_streak, state FROM alfred.habits_at_risk(:'u');
-- Projects: days since the last update (since creation when none).
SELECT name, status, last_update_at IS NOT NULL AS updated, days_since_update FROM alfred.project_health(:'u');
SELECT name, days_since_update FROM alfred.stale_projects(:'u');
SELECT name FROM alfred.stale_projects(:'u', days => 9);
SELECT since - :'t'::date AS since, tasks_completed, habits_logged, project_updates FROM alfred.weekly_stats(:'u');
SELECT title FROM alfred.due_notifications(:'u');
SELECT title FROM alfred.due_notifications(:'u', now() + interval '2 hours');

-- The briefing: every part, and a summary line.
SELECT key, CASE jsonb_typeof(value) WHEN 'array' THEN jsonb_array_length(value)::text
	WHEN 'object' THEN (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(value) k)
	ELSE jsonb_typeof(value) END AS content
FROM jsonb_each(alfred.today(:'u')) ORDER BY key;
SELECT regexp_replace(alfred.today(:'u')->>'summary', '^[^:]*:', '<date>:') AS summary,
	(alfred.today(:'u')->>'date')::date = :'t'::date AS dated_today,
	alfred.today(:'u')->'priority_tasks'->0->>'title' AS first_task;
-- The scheduler's built-in daily_briefing tool sends it.
SELECT r->>'title' AS title, r->'briefing'->>'timezone' AS timezone,
	r->>'message' = r->'briefing'->>'summary' AS message_is_summary
FROM alfred.tool_daily_briefing(:'u', '{}') r;

-- health_check: nothing wrong, then a log written behind log_habit's back
-- is a broken streak until recompute_habit.
SELECT * FROM alfred.health_check();
INSERT INTO alfred.habit_logs (user_id, habit_id, logged_date)
SELECT user_id, id, :'t'::date FROM alfred.habits WHERE user_id = :'u' AND name = 'read';
SELECT issue, count FROM alfred.health_check() WHERE issue = 'broken_streaks';
SELECT (alfred.recompute_habit(id)).current_streak FROM alfred.habits WHERE user_id = :'u' AND name = 'read';
SELECT issue, count FROM alfred.health_check() WHERE issue = 'broken_streaks';

-- Refusals: 22004, 22023.  The table functions return nothing for an unknown user.
SELECT pg_temp.err('SELECT alfred.today(NULL)');
SELECT pg_temp.err($$SELECT alfred.today('00000000-0000-0000-0000-000000000000')$$);
SELECT count(*) AS nothing FROM alfred.priority_tasks('00000000-0000-0000-0000-000000000000');

DELETE FROM alfred.users WHERE id = :'u';
