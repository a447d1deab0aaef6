-- 420_dashboards: the dashboard, proactive and health-check queries as
-- functions, evaluated in each user's timezone, and alfred.today(user_id),
-- the daily briefing that brings them together.
--
-- "Today" is user_today(user_id) (users.timezone, user_settings.day_start_hour);
-- a habit's today also honours its own day_start_hour.  Day boundaries for
-- timestamps are the user's local midnights.  Every function runs with the
-- caller's rights, so row-level security decides what it sees.

CREATE FUNCTION @extschema@._user_clock(user_id uuid,
	OUT today date, OUT tz text, OUT day_start timestamptz, OUT day_end timestamptz)
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
-- (PL/pgSQL: Citus plans no SQL-language function that reads a distributed
-- table with a parameter)
DECLARE
	clock	record := @extschema@._user_time(_user_clock.user_id);
BEGIN
	IF clock.timezone IS NULL THEN
		RETURN;
	END IF;
	tz := clock.timezone;
	today := @extschema@._local_day(now(), tz, clock.day_start_hour);
	day_start := today::timestamp AT TIME ZONE tz;
	day_end := (today + 1)::timestamp AT TIME ZONE tz;
END
$$;

COMMENT ON FUNCTION @extschema@._user_clock(uuid) IS
'Internal to the dashboards: the user''s today, timezone, and the instants at which today starts and ends (local midnights).';

CREATE FUNCTION @extschema@.priority_rank(priority text)
RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT CASE priority WHEN 'critical' THEN 0 WHEN 'urgent' THEN 1 WHEN 'high' THEN 2
		WHEN 'medium' THEN 3 WHEN 'low' THEN 4 ELSE 5 END
$$;

COMMENT ON FUNCTION @extschema@.priority_rank(text) IS
'Sort key of a task priority: critical 0, urgent 1, high 2, medium 3, low 4.';

CREATE FUNCTION @extschema@.priority_tasks(user_id uuid)
RETURNS TABLE (task_id uuid, title text, priority text, status text, due_date timestamptz, project_id uuid)
LANGUAGE plpgsql STABLE
AS $$
-- (PL/pgSQL, the user's clock first: Citus plans no SQL-language function
-- that reads a distributed table with a parameter, and a query it sends to a
-- shard may call no function that reads another table)
#variable_conflict use_column
DECLARE
	c record;
BEGIN
	SELECT * INTO c FROM @extschema@._user_clock(priority_tasks.user_id);
	IF c.today IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY
	SELECT t.id, t.title, t.priority, t.status, t.due_date, t.project_id
	FROM @extschema@.tasks t
	WHERE t.user_id = priority_tasks.user_id
		AND t.status IN ('pending', 'in_progress')
		AND (t.due_date IS NULL OR t.due_date < c.day_end)
	ORDER BY @extschema@.priority_rank(t.priority), t.due_date NULLS LAST, t.created_at, t.id;
END
$$;

COMMENT ON FUNCTION @extschema@.priority_tasks(uuid) IS
'Today''s priority tasks: pending or in-progress tasks due by the end of the user''s today, or undated; critical first, then by due time (undated last).';

CREATE FUNCTION @extschema@.habits_today(user_id uuid)
RETURNS TABLE (habit_id uuid, name text, time_preference text, scheduled_today boolean,
	completed_today boolean, current_streak int, best_streak int, state text)
LANGUAGE plpgsql STABLE
AS $$
-- (PL/pgSQL, the user's clock first: Citus plans no SQL-language function
-- that reads a distributed table with a parameter, and a query it sends to a
-- shard may call no function that reads another table)
#variable_conflict use_column
DECLARE
	clock	record := @extschema@._user_time(habits_today.user_id);
BEGIN
	IF clock.timezone IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY
	SELECT h.id, h.name, h.time_preference,
		h.frequency <> 'custom' OR extract(isodow FROM d.today)::int = ANY (h.days_of_week),
		h.last_logged IS NOT DISTINCT FROM d.today,
		s.current_streak, s.best_streak, s.state
	FROM @extschema@.habits h
		CROSS JOIN LATERAL (SELECT @extschema@._local_day(now(), clock.timezone,
														  coalesce(h.day_start_hour, clock.day_start_hour)) AS today) d
		CROSS JOIN LATERAL @extschema@.habit_streak(
			pg_catalog.jsonb_populate_record(NULL::@extschema@.habits, pg_catalog.to_jsonb(h)), d.today) s
	WHERE h.user_id = habits_today.user_id AND h.active
	ORDER BY array_position('{morning,afternoon,evening,anytime}'::text[], h.time_preference) NULLS LAST,
		h.name, h.id;
END
$$;

COMMENT ON FUNCTION @extschema@.habits_today(uuid) IS
'The user''s active habits for today: whether today is scheduled (custom habits: their weekdays; weekly habits: every day of the week) and logged, the streak and state as of today; morning first, then afternoon, evening, anytime.';

CREATE FUNCTION @extschema@.project_health(user_id uuid)
RETURNS TABLE (project_id uuid, name text, status text, last_update_at timestamptz, days_since_update int)
LANGUAGE plpgsql STABLE
AS $$
-- (PL/pgSQL, the user's clock first: Citus plans no SQL-language function
-- that reads a distributed table with a parameter, and a query it sends to a
-- shard may call no function that reads another table)
#variable_conflict use_column
DECLARE
	c record;
BEGIN
	SELECT * INTO c FROM @extschema@._user_clock(project_health.user_id);
	IF c.today IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY
	SELECT p.id, p.name, p.status, u.last_update_at,
		c.today - (coalesce(u.last_update_at, p.created_at) AT TIME ZONE c.tz)::date
	FROM @extschema@.projects p
		CROSS JOIN LATERAL (SELECT max(pu.created_at) AS last_update_at
			FROM @extschema@.project_updates pu
			WHERE pu.user_id = p.user_id AND pu.project_id = p.id) u
	WHERE p.user_id = project_health.user_id AND p.status = 'active'
	ORDER BY 5 DESC, p.name, p.id;
END
$$;

COMMENT ON FUNCTION @extschema@.project_health(uuid) IS
'The user''s active projects with their last update and the days since it (since creation for a project never updated), in the user''s calendar; the most neglected first.';

CREATE FUNCTION @extschema@.stale_projects(user_id uuid, days int DEFAULT 7)
RETURNS TABLE (project_id uuid, name text, last_update_at timestamptz, days_since_update int)
LANGUAGE sql STABLE
AS $$
	SELECT h.project_id, h.name, h.last_update_at, h.days_since_update
	FROM @extschema@.project_health(stale_projects.user_id) h
	WHERE h.days_since_update >= stale_projects.days
$$;

COMMENT ON FUNCTION @extschema@.stale_projects(uuid, int) IS
'Active projects without an update for at least days days (default 7; counted from creation when never updated, so a new project is not stale), most neglected first.';

CREATE FUNCTION @extschema@.weekly_stats(user_id uuid,
	OUT since date, OUT tasks_completed bigint, OUT habits_logged bigint, OUT project_updates bigint)
LANGUAGE plpgsql STABLE
AS $$
-- (PL/pgSQL, the user's clock first: Citus plans no SQL-language function
-- that reads a distributed table with a parameter, and a query it sends to a
-- shard may call no function that reads another table)
#variable_conflict use_column
DECLARE
	c record;
BEGIN
	SELECT * INTO c FROM @extschema@._user_clock(weekly_stats.user_id);
	IF c.today IS NULL THEN
		RETURN;
	END IF;
	since := c.today - 6;
	SELECT count(*) INTO tasks_completed FROM @extschema@.tasks t
	 WHERE t.user_id = weekly_stats.user_id AND t.status = 'completed'
	   AND t.completed_at >= c.day_start - interval '6 days';
	SELECT count(*) INTO habits_logged FROM @extschema@.habit_logs l
	 WHERE l.user_id = weekly_stats.user_id AND l.logged_date BETWEEN c.today - 6 AND c.today;
	SELECT count(*) INTO project_updates FROM @extschema@.project_updates pu
	 WHERE pu.user_id = weekly_stats.user_id AND pu.created_at >= c.day_start - interval '6 days';
END
$$;

COMMENT ON FUNCTION @extschema@.weekly_stats(uuid) IS
'The user''s last seven days (today and the six before, in the user''s calendar; since = the first): tasks completed, habit logs, project updates, each counted on its own (a count is never multiplied by another table''s rows).';

CREATE FUNCTION @extschema@.overdue_tasks(user_id uuid)
RETURNS TABLE (task_id uuid, title text, due_date timestamptz, priority text, status text, days_overdue int)
LANGUAGE plpgsql STABLE
AS $$
-- (PL/pgSQL, the user's clock first: Citus plans no SQL-language function
-- that reads a distributed table with a parameter, and a query it sends to a
-- shard may call no function that reads another table)
#variable_conflict use_column
DECLARE
	c record;
BEGIN
	SELECT * INTO c FROM @extschema@._user_clock(overdue_tasks.user_id);
	IF c.today IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY
	SELECT t.id, t.title, t.due_date, t.priority, t.status,
		c.today - (t.due_date AT TIME ZONE c.tz)::date
	FROM @extschema@.tasks t
	WHERE t.user_id = overdue_tasks.user_id
		AND t.status IN ('pending', 'in_progress', 'blocked')
		AND t.due_date < c.day_start
	ORDER BY t.due_date, @extschema@.priority_rank(t.priority), t.id;
END
$$;

COMMENT ON FUNCTION @extschema@.overdue_tasks(uuid) IS
'Open tasks (pending, in progress, blocked) due before the user''s today, with the days overdue; oldest first.';

CREATE FUNCTION @extschema@.due_notifications(user_id uuid, at timestamptz DEFAULT now())
RETURNS SETOF @extschema@.notifications
LANGUAGE plpgsql STABLE
AS $$
-- (PL/pgSQL: Citus plans no SQL-language function that reads a distributed
-- table with a parameter)
BEGIN
	RETURN QUERY
	SELECT n.*
	FROM @extschema@.notifications n
	WHERE n.user_id = due_notifications.user_id AND n.status = 'pending'
		AND coalesce(n.scheduled_for, n.created_at) <= due_notifications.at
	ORDER BY coalesce(n.scheduled_for, n.created_at), n.id;
END
$$;

COMMENT ON FUNCTION @extschema@.due_notifications(uuid, timestamptz) IS
'The user''s pending notifications due at "at" (default now: scheduled_for passed, or unscheduled), oldest first: the notifications to send now.';

CREATE FUNCTION @extschema@.today(user_id uuid)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
	c record;
	briefing jsonb;
BEGIN
	PERFORM @extschema@._require_argument('user_id', user_id);
	SELECT * INTO c FROM @extschema@._user_clock(today.user_id);
	IF c.today IS NULL THEN
		RAISE EXCEPTION 'user "%" does not exist', user_id USING ERRCODE = 'invalid_parameter_value';
	END IF;
	briefing := jsonb_build_object(
		'date', c.today,
		'timezone', c.tz,
		'priority_tasks', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM @extschema@.priority_tasks(user_id) x),
		'overdue_tasks', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM @extschema@.overdue_tasks(user_id) x),
		'habits', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM @extschema@.habits_today(user_id) x),
		'habits_at_risk', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM @extschema@.habits_at_risk(user_id) x),
		'project_health', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM @extschema@.project_health(user_id) x),
		'stale_projects', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM @extschema@.stale_projects(user_id) x),
		'weekly_stats', (SELECT to_jsonb(x) FROM @extschema@.weekly_stats(user_id) x),
		'notifications', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', n.id, 'type', n.type,
				'title', n.title, 'message', n.message, 'priority', n.priority,
				'scheduled_for', n.scheduled_for)), '[]')
			FROM @extschema@.due_notifications(user_id) n));
	RETURN briefing || jsonb_build_object('summary', format(
		'%s: %s priority task(s), %s overdue; habits %s of %s done, %s streak(s) at risk; %s stale project(s).',
		to_char(c.today, 'FMDay DD Mon YYYY'),
		jsonb_array_length(briefing->'priority_tasks'),
		jsonb_array_length(briefing->'overdue_tasks'),
		(SELECT count(*) FROM jsonb_array_elements(briefing->'habits') h WHERE (h->>'completed_today')::boolean),
		(SELECT count(*) FROM jsonb_array_elements(briefing->'habits') h WHERE (h->>'scheduled_today')::boolean),
		jsonb_array_length(briefing->'habits_at_risk'),
		jsonb_array_length(briefing->'stale_projects')));
END
$$;

COMMENT ON FUNCTION @extschema@.today(uuid) IS
'The daily briefing of a user as one jsonb: date and timezone, priority_tasks, overdue_tasks, habits (today''s), habits_at_risk, project_health, stale_projects, weekly_stats, due notifications and a one-line summary (the scheduler''s daily_briefing tool sends it). 22023 for an unknown user.';

-- Orphans are counted over the whole database (counts only): under
-- row-level security a caller who sees a task assigned to her but not its
-- owner must not take it for an orphan.
CREATE FUNCTION @extschema@._orphan_counts()
RETURNS TABLE (issue text, count bigint, description text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT 'orphaned_tasks', count(*), 'tasks whose user does not exist'
	FROM @extschema@.tasks t WHERE NOT EXISTS (SELECT FROM @extschema@.users u WHERE u.id = t.user_id)
	UNION ALL
	SELECT 'orphaned_habits', count(*), 'habits whose user does not exist'
	FROM @extschema@.habits h WHERE NOT EXISTS (SELECT FROM @extschema@.users u WHERE u.id = h.user_id)
	UNION ALL
	SELECT 'orphaned_logs', count(*), 'habit logs whose habit does not exist'
	FROM @extschema@.habit_logs l WHERE NOT EXISTS (SELECT FROM @extschema@.habits h
		WHERE h.user_id = l.user_id AND h.id = l.habit_id)
$$;

COMMENT ON FUNCTION @extschema@._orphan_counts() IS
'Internal to health_check: orphaned tasks, habits and habit logs in the whole database (counts only; security definer so that row-level security cannot fake an orphan).';

CREATE FUNCTION @extschema@.health_check()
RETURNS TABLE (issue text, count bigint, description text)
LANGUAGE sql STABLE
AS $$
	SELECT * FROM @extschema@._orphan_counts()
	UNION ALL
	SELECT 'broken_streaks', count(*), 'habits whose stored streak differs from a recompute of their logs (fix: recompute_habit)'
	FROM @extschema@.habits h
		CROSS JOIN LATERAL @extschema@._habit_recompute(h, @extschema@._habit_logged_days(h),
			@extschema@.user_today(h.user_id, h.day_start_hour)) r
	WHERE (h.current_streak, h.best_streak, h.total_completions, h.last_logged, h.last_met_period, h.period_logs)
		IS DISTINCT FROM (r.current_streak, r.best_streak, r.total_completions, r.last_logged, r.last_met_period, r.period_logs)
$$;

COMMENT ON FUNCTION @extschema@.health_check() IS
'Data integrity checks: orphaned tasks, habits and habit logs in the whole database (alfred''s foreign keys rule them out, so any count above 0 is a bug) and, over the habits the caller may see, broken streaks (habits whose stored streak tally differs from a full recompute of their logs; a streak that simply lapsed is not broken, habit_streak reads it as 0).';
