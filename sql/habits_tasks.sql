-- complete_task (recurrence through the cron engine, in the owner's
-- timezone), add_task_dependency and the task status state machine.
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
		'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g');
END $$;
SELECT alfred.create_user('habits-tasks@example.com', 'secret-tasks', timezone => 'Europe/Paris') AS u \gset
SELECT alfred.create_user('habits-other@example.com', 'secret-other') AS other \gset
CREATE FUNCTION pg_temp.task(title text, due timestamptz, recurrence text DEFAULT NULL) RETURNS uuid
LANGUAGE sql AS $$
	INSERT INTO alfred.tasks (user_id, title, due_date, recurrence)
	SELECT id, title, due, recurrence FROM alfred.users WHERE email = 'habits-tasks@example.com'
	RETURNING id
$$;
-- The pending occurrences of a title, in Paris wall-clock time.
CREATE FUNCTION pg_temp.occurrences(t text) RETURNS TABLE (status text, due_paris timestamp, completed boolean, previous boolean)
LANGUAGE sql AS $$
	SELECT status, due_date AT TIME ZONE 'Europe/Paris', completed_at IS NOT NULL, metadata ? 'previous_occurrence'
	FROM alfred.tasks WHERE title = t ORDER BY due_date, created_at
$$;

-- daily: the same wall-clock time the next day, across the spring-forward
-- of Sunday 2030-03-31 in Paris (09:30 CET = 08:30Z, then 09:30 CEST = 07:30Z).
SELECT status, due_date, completed_at IS NOT NULL AS completed
FROM alfred.complete_task(pg_temp.task('water plants', '2030-03-30 09:30+01', 'daily'));
SELECT due_date, due_date AT TIME ZONE 'Europe/Paris' AS paris FROM alfred.tasks
WHERE title = 'water plants' AND status = 'pending';
-- weekly: the same weekday and time; monthly: the same day, or the last day
-- of the month for the 29th-31st; a cron expression as given.
SELECT (alfred.complete_task(pg_temp.task('review week', '2030-01-04 18:00+01', 'weekly'))).status;
SELECT * FROM pg_temp.occurrences('review week');
SELECT (alfred.complete_task(pg_temp.task('pay rent', '2030-01-31 10:00+01', 'monthly'))).status;
SELECT (alfred.complete_task(id)).status FROM alfred.tasks WHERE title = 'pay rent' AND status = 'pending';
SELECT (alfred.complete_task(id)).status FROM alfred.tasks WHERE title = 'pay rent' AND status = 'pending';
SELECT * FROM pg_temp.occurrences('pay rent');
SELECT (alfred.complete_task(pg_temp.task('invoice', '2030-01-15 08:00+01', 'monthly'))).status;
SELECT * FROM pg_temp.occurrences('invoice');
SELECT (alfred.complete_task(pg_temp.task('standup', '2030-01-04 09:00+01', '0 9 * * MON-FRI'))).status;
SELECT * FROM pg_temp.occurrences('standup');
-- A late task recurs from now (no overdue copy), at its wall-clock time; a
-- task without a due time recurs from now.
SELECT (alfred.complete_task(pg_temp.task('stretch', '2020-01-01 08:15+01', 'daily'))).status;
SELECT due_date > now() AS future, due_date <= now() + interval '1 day' AS within_a_day,
	(due_date AT TIME ZONE 'Europe/Paris')::time AS paris_time
FROM alfred.tasks WHERE title = 'stretch' AND status = 'pending';
SELECT (alfred.complete_task(pg_temp.task('tidy', NULL, 'daily'))).status;
SELECT due_date > now() AS future, due_date <= now() + interval '1 day' AS within_a_day
FROM alfred.tasks WHERE title = 'tidy' AND status = 'pending';
-- Completing twice changes nothing and spawns nothing.
SELECT id AS rent FROM alfred.tasks WHERE title = 'pay rent' ORDER BY due_date LIMIT 1 \gset
SELECT (alfred.complete_task(:'rent')).status, count(*) FROM alfred.tasks WHERE title = 'pay rent' GROUP BY 1;

-- task_next_due directly: a monthly task on the 30th, a weekly one across
-- the fall-back of 2030-10-27 in Paris, a cron expression.
SELECT alfred.task_next_due('monthly', '2030-01-30 12:00+01', '2030-01-30 12:00+01', 'Europe/Paris') AS feb,
	alfred.task_next_due('monthly', '2030-02-28 12:00+01', '2030-02-28 12:00+01', 'Europe/Paris', 30) AS mar,
	alfred.task_next_due('weekly', '2030-10-21 08:00+02', '2030-10-21 08:00+02', 'Europe/Paris') AS weekly,
	alfred.task_next_due('*/20 * * * *', '2030-01-01 00:00Z', '2030-01-01 00:05Z', 'UTC') AS cron,
	alfred.task_next_due(NULL, '2030-01-01 00:00Z', '2030-01-01 00:05Z', 'UTC') AS none;

-- Dependencies: "ship" waits for "test", which waits for "build".
SELECT pg_temp.task('build', '2030-02-01') AS build \gset
SELECT pg_temp.task('test', '2030-02-02') AS test \gset
SELECT pg_temp.task('ship', '2030-02-03') AS ship \gset
SELECT depends_on_task_id = :'test' AS ok FROM alfred.add_task_dependency(:'ship', :'test');
SELECT depends_on_task_id = :'build' AS ok FROM alfred.add_task_dependency(:'test', :'build');
SELECT depends_on_task_id = :'build' AS again FROM alfred.add_task_dependency(:'test', :'build');
SELECT count(*) AS dependencies FROM alfred.task_dependencies WHERE task_id IN (:'ship', :'test');
SELECT pg_temp.err(format('SELECT alfred.complete_task(%L)', :'ship'));
SELECT pg_temp.err(format('UPDATE alfred.tasks SET status = %L WHERE id = %L', 'completed', :'test'));
SELECT (alfred.complete_task(:'build')).status;
SELECT (alfred.complete_task(:'test')).status;
SELECT pg_temp.err(format('UPDATE alfred.tasks SET status = %L WHERE id = %L', 'cancelled', :'test'));
SELECT status, completed_at IS NOT NULL AS completed FROM alfred.tasks WHERE id = :'test';
-- a cancelled dependency no longer blocks
UPDATE alfred.tasks SET status = 'pending' WHERE id = :'test';
UPDATE alfred.tasks SET status = 'cancelled' WHERE id = :'test';
SELECT (alfred.complete_task(:'ship')).status;

-- Refusals change nothing: 23514 check_violation (cycle, recurrence), 22023, 22004, 55000.
SELECT pg_temp.err(format('SELECT alfred.add_task_dependency(%L, %L)', :'build', :'ship'));
SELECT pg_temp.err(format('SELECT alfred.add_task_dependency(%L, %L)', :'build', :'build'));
INSERT INTO alfred.tasks (user_id, title) VALUES (:'other', 'foreign') RETURNING id AS foreign_task \gset
SELECT pg_temp.err(format('SELECT alfred.add_task_dependency(%L, %L)', :'build', :'foreign_task'));
SELECT pg_temp.err(format('SELECT alfred.add_task_dependency(%L, %L)', :'build', '00000000-0000-0000-0000-000000000000'));
SELECT pg_temp.err(format('SELECT alfred.add_task_dependency(%L, %L)', '00000000-0000-0000-0000-000000000000', :'build'));
SELECT pg_temp.err('SELECT alfred.add_task_dependency(NULL, NULL)');
SELECT pg_temp.err($$SELECT alfred.complete_task('00000000-0000-0000-0000-000000000000')$$);
SELECT pg_temp.err('SELECT alfred.complete_task(NULL)');
SELECT pg_temp.err(format('SELECT alfred.complete_task(%L)', :'test'));
SELECT pg_temp.err(format('UPDATE alfred.tasks SET status = %L WHERE id = %L', 'failed', :'build'));
SELECT pg_temp.err(format('UPDATE alfred.tasks SET status = %L WHERE id = %L', 'in_progress', :'test'));
SELECT pg_temp.err($$SELECT pg_temp.task('bad', NULL, 'every day')$$);
SELECT pg_temp.err($$SELECT pg_temp.task('bad', NULL, '61 * * * *')$$);
SELECT count(*) AS dependencies FROM alfred.task_dependencies WHERE user_id = :'u';
-- Reopening a completed task clears completed_at; failed tasks may be cancelled.
UPDATE alfred.tasks SET status = 'pending' WHERE id = :'build';
UPDATE alfred.tasks SET status = 'failed' WHERE id = :'build';
UPDATE alfred.tasks SET status = 'cancelled' WHERE id = :'build';
SELECT status, completed_at FROM alfred.tasks WHERE id = :'build';

DELETE FROM alfred.users WHERE id IN (:'u', :'other');
