-- The scheduler's SQL API driven tick by tick with a fixed "now"
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET client_min_messages = warning;
\set VERBOSITY terse
-- error paths print their SQLSTATE
CREATE FUNCTION try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '[0-9a-f]{8}-[0-9a-f-]{27}', '<uuid>', 'g');
END $$;


INSERT INTO alfred.users (id, email, password_hash, display_name, timezone) VALUES
	('00000000-0000-0000-0000-00000000000a', 'ada.scheduler@example.com', crypt('x', gen_salt('bf', 4)), 'Ada', 'Europe/Paris'),
	('00000000-0000-0000-0000-00000000000b', 'bob.scheduler@example.com', crypt('x', gen_salt('bf', 4)), NULL, 'UTC');

-- tools: the side effects of a tool land in test_log
CREATE TABLE test_log (n serial, user_id uuid, note text);
CREATE FUNCTION tool_ok(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE sql AS $$
	INSERT INTO test_log (user_id, note) VALUES ($1, $2->>'note');
	SELECT jsonb_build_object('message', 'noted ' || ($2->>'note'))
$$;
CREATE FUNCTION tool_fail(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO test_log (user_id, note) VALUES (user_id, 'must be rolled back');
	RAISE EXCEPTION 'tool broke: %', args->>'why';
END $$;
CREATE FUNCTION tool_slow(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_sleep(5); SELECT '{}'::jsonb
$$;
CREATE FUNCTION tool_whoami(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('message', 'acting as ' || coalesce(alfred.current_user_id()::text, 'nobody'))
$$;
CREATE FUNCTION not_a_tool(a uuid, b text) RETURNS jsonb LANGUAGE sql AS $$ SELECT '{}'::jsonb $$;
CREATE FUNCTION set_tool(a uuid, b jsonb) RETURNS SETOF jsonb LANGUAGE sql AS $$ SELECT '{}'::jsonb $$;

-- register_tool: happy path and every refusal
SELECT name, kind, fn FROM alfred.register_tool('ok', 'tool_ok(uuid, jsonb)', description => 'Notes args.note');
SELECT name, kind, fn FROM alfred.register_tool('fail', 'tool_fail(uuid, jsonb)');
SELECT name, kind, fn FROM alfred.register_tool('slow', 'tool_slow(uuid, jsonb)');
SELECT name, kind, fn FROM alfred.register_tool('whoami', 'tool_whoami(uuid, jsonb)');
SELECT name, kind, fn FROM alfred.register_tool('weather', kind => 'external', description => 'Weather API');
SELECT name, kind, description FROM alfred.register_tool('ok', 'tool_ok(uuid, jsonb)', description => 'Notes args.note again');
SELECT try($q$SELECT alfred.register_tool('bad', 'not_a_tool(uuid, text)')$q$);
SELECT try($q$SELECT alfred.register_tool('bad', 'set_tool(uuid, jsonb)')$q$);
SELECT try($q$SELECT alfred.register_tool('bad')$q$);
SELECT try($q$SELECT alfred.register_tool('bad', 'tool_ok(uuid, jsonb)', 'external')$q$);
SELECT try($q$SELECT alfred.register_tool('bad', kind => 'remote')$q$);
SELECT try($q$SELECT alfred.register_tool('Bad Name', 'tool_ok(uuid, jsonb)')$q$);
SELECT name, kind FROM alfred.tools ORDER BY name;

-- schedule_task: refusals (22023), nothing is inserted
SELECT try($q$SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'x', 'ok')$q$);
SELECT try($q$SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'x', 'ok', cron => '* * * * *', at => '2100-01-01')$q$);
SELECT try($q$SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'x', 'ok', at => '2000-01-01')$q$);
SELECT try($q$SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'x', 'nope', at => '2100-01-01')$q$);
SELECT try($q$SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'x', 'ok', at => '2100-01-01', timezone => 'Mars/Base')$q$);
SELECT try($q$SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'x', 'ok', '[1]', at => '2100-01-01')$q$);
SELECT try($q$SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'x', 'ok', at => '2100-01-01', max_retries => -1)$q$);
SELECT try($q$SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'x', 'weather', at => '2100-01-01',
	prompt_template => 'Weather in {{args.city}}')$q$);
SELECT try($q$SELECT alfred.schedule_task('00000000-0000-0000-0000-0000000000ff', 'x', 'ok', at => '2100-01-01')$q$);
SELECT count(*) AS tasks FROM alfred.scheduled_tasks;

-- one-time tasks, all due at 2100-01-01 00:00 UTC
CREATE TEMP TABLE t AS
SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'note', 'ok', '{"note": "first"}', at => '2100-01-01 00:00') AS id, 'note' AS k
UNION ALL
SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'breaks', 'fail', '{"why": "no network"}', at => '2100-01-01 00:00', max_retries => 2), 'breaks'
UNION ALL
SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000b', 'who', 'whoami', at => '2100-01-01 01:00', max_retries => 0), 'who'
UNION ALL
SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000b', 'weather', 'weather', '{"city": "Paris"}', at => '2100-01-01 01:00:01',
	prompt_template => 'Weather for {{user.name}} ({{user.email}}) in {{args.city}}'), 'weather';
SELECT k, s.task_type, s.timezone, s.status, s.next_run_at FROM t JOIN alfred.scheduled_tasks s USING (id) ORDER BY k;

-- nothing is due before its time; a tick runs what is due, once
SELECT alfred.run_due_tasks('2099-12-31 23:59:59');
SELECT alfred.run_due_tasks('2100-01-01 00:00', max => 1);
SELECT alfred.run_due_tasks('2100-01-01 00:00');
SELECT alfred.run_due_tasks('2100-01-01 00:00');
SELECT k, s.status, s.next_run_at, s.run_count, s.fail_count, s.last_run_at
  FROM t JOIN alfred.scheduled_tasks s USING (id) ORDER BY k;
SELECT k, r.status, r.attempt, r.due_at, r.started_at, r.result, r.error,
	   r.next_attempt_at - r.started_at BETWEEN '1s' AND '1.25s' AS backoff_1s_with_jitter
  FROM t JOIN alfred.task_runs r ON r.task_id = t.id ORDER BY k;
SELECT note FROM test_log ORDER BY n;

-- the failing tool is retried with exponential backoff until max_retries, then fails
SELECT alfred.run_due_tasks(r.next_attempt_at) FROM alfred.task_runs r WHERE r.status = 'retrying';
SELECT r.status, r.attempt, r.next_attempt_at - r.started_at BETWEEN '2s' AND '2.5s' AS backoff_2s_with_jitter
  FROM alfred.task_runs r WHERE r.error LIKE 'tool broke%';
SELECT alfred.run_due_tasks(r.next_attempt_at) FROM alfred.task_runs r WHERE r.status = 'retrying';
SELECT r.status, r.attempt, r.error, r.next_attempt_at FROM alfred.task_runs r WHERE r.error LIKE 'tool broke%';
SELECT s.status, s.run_count, s.fail_count FROM alfred.scheduled_tasks s WHERE s.name = 'breaks';
SELECT count(*) AS rolled_back_rows FROM test_log WHERE note = 'must be rolled back';

-- the remaining tasks
SELECT alfred.run_due_tasks('2100-01-01 01:00:05');
SELECT k, r.status, r.attempt, r.prompt, r.result FROM t JOIN alfred.task_runs r ON r.task_id = t.id
 WHERE k IN ('who', 'weather') ORDER BY k;

-- every finished run has a notification
SELECT n.user_id, n.type, n.title, n.message, n.priority, n.scheduled_for, n.data->>'status' AS status
  FROM alfred.notifications n ORDER BY n.title;
SELECT count(*) AS runs_without_notification FROM alfred.task_runs
 WHERE status IN ('succeeded', 'failed') AND notification_id IS NULL;

-- quiet hours, in the user's time zone (Ada: Europe/Paris, 22:00-07:00)
INSERT INTO alfred.user_settings (user_id, quiet_hours_start, quiet_hours_end)
VALUES ('00000000-0000-0000-0000-00000000000a', '22:00', '07:00');
SELECT at, alfred.quiet_hours_end('00000000-0000-0000-0000-00000000000a', at)
  FROM unnest('{2100-01-01 20:59, 2100-01-01 21:00, 2100-01-02 05:59, 2100-01-02 06:00, 2100-01-01 12:00}'::timestamptz[]) at;
SELECT alfred.quiet_hours_end('00000000-0000-0000-0000-00000000000b', '2100-01-01 23:00') AS no_settings;
SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'late note', 'ok', '{"note": "late"}', at => '2100-01-01 23:30') IS NOT NULL;
SELECT alfred.run_due_tasks('2100-01-01 23:30');
SELECT title, message, priority, scheduled_for FROM alfred.notifications WHERE title = 'late note';

-- a tool that runs too long is cut off by alfred.tool_timeout
SET alfred.tool_timeout = '200ms';
SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'slow', 'slow', at => '2100-01-02', max_retries => 0) IS NOT NULL;
SELECT alfred.run_due_tasks('2100-01-02');
SELECT r.status, r.error, r.duration_ms < 2000 AS cut_off FROM alfred.task_runs r
  JOIN alfred.scheduled_tasks s ON s.id = r.task_id WHERE s.name = 'slow';
RESET alfred.tool_timeout;

-- a template that no longer renders fails its run, naming the key (a direct write that
-- breaks it is refused; a DBA can still do it with triggers off)
SELECT try($q$UPDATE alfred.scheduled_tasks SET tool_args = '{}' WHERE name = 'weather'$q$);
SET session_replication_role = replica;
UPDATE alfred.scheduled_tasks SET status = 'active', next_run_at = '2100-01-03', tool_args = '{}'
 WHERE name = 'weather';
RESET session_replication_role;
SELECT alfred.run_due_tasks('2100-01-03');
SELECT r.status, r.error FROM alfred.task_runs r JOIN alfred.scheduled_tasks s ON s.id = r.task_id
 WHERE s.name = 'weather' AND r.status = 'failed';

-- pause, resume, cancel, run now
CREATE TEMP TABLE p AS SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'later', 'ok', at => '2100-02-01') AS id;
SELECT status, next_run_at FROM alfred.pause_task((SELECT id FROM p));
SELECT status, next_run_at FROM alfred.pause_task((SELECT id FROM p));
SELECT try($q$SELECT alfred.run_task_now((SELECT id FROM p))$q$);
SELECT alfred.run_due_tasks('2100-02-02');
SELECT status, next_run_at FROM alfred.resume_task((SELECT id FROM p));
SELECT status, next_run_at = now() AS due_now FROM alfred.run_task_now((SELECT id FROM p));
SELECT status, next_run_at FROM alfred.cancel_task((SELECT id FROM p));
SELECT status FROM alfred.cancel_task((SELECT id FROM p));
SELECT try($q$SELECT alfred.resume_task((SELECT id FROM p))$q$);
SELECT try($q$SELECT alfred.pause_task((SELECT id FROM t WHERE k = 'note'))$q$);
SELECT try($q$SELECT alfred.cancel_task((SELECT id FROM t WHERE k = 'note'))$q$);
SELECT try($q$SELECT alfred.pause_task('00000000-0000-0000-0000-000000000000')$q$);
SELECT try($q$SELECT alfred.run_due_tasks('2100-01-01', max => -1)$q$);

-- recurring tasks: cron in the task's time zone; after downtime one run, missed slots counted
SELECT try($q$SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'x', 'ok', cron => '0 25 * * *')$q$);
SELECT try($q$SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'x', 'ok', cron => '0 7 * * *', timezone => 'Nowhere/Land')$q$);
CREATE TEMP TABLE r AS SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'morning', 'ok', '{"note": "morning"}',
	cron => '0 7 * * *') AS id;
SELECT s.task_type, s.schedule_cron, s.timezone, s.next_run_at > now() AS in_future,
	   (s.next_run_at AT TIME ZONE 'Europe/Paris')::time AS paris_time
  FROM alfred.scheduled_tasks s WHERE s.id = (SELECT id FROM r);
UPDATE alfred.scheduled_tasks SET next_run_at = '2100-03-01 06:00' WHERE id = (SELECT id FROM r);
SELECT alfred.run_due_tasks('2100-03-01 06:00:00.5');
SELECT s.status, s.next_run_at, s.run_count, s.last_run_at FROM alfred.scheduled_tasks s WHERE s.id = (SELECT id FROM r);
SELECT alfred.run_due_tasks('2100-03-05 12:00');
SELECT s.status, s.next_run_at, s.run_count FROM alfred.scheduled_tasks s WHERE s.id = (SELECT id FROM r);
SELECT r.due_at, r.started_at, r.missed_slots, r.status FROM alfred.task_runs r
 WHERE r.task_id = (SELECT id FROM r) ORDER BY r.due_at;
SELECT status, next_run_at FROM alfred.cancel_task((SELECT id FROM r));

-- external runs: claim with a lease, extend it, fail transiently, complete once
SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000b', 'news', 'weather', '{"city": "Oslo"}',
	at => '2100-04-01', prompt_template => 'News for {{user.email}}: {{args.city}}', max_retries => 1) IS NOT NULL;
SELECT alfred.run_due_tasks('2100-04-01');
-- the tick ran 74 years ahead of the clock; make the queued run claimable now
UPDATE alfred.task_runs SET next_attempt_at = now()
 WHERE status = 'queued' AND task_id = (SELECT id FROM alfred.scheduled_tasks WHERE name = 'news');
SELECT try($q$SELECT alfred.claim_runs('')$q$);
SELECT try($q$SELECT alfred.claim_runs('a', max => 0)$q$);
SELECT try($q$SELECT alfred.claim_runs('a', lease => '0s')$q$);
SELECT count(*) FROM alfred.claim_runs('agent-1', tools => '{other}');
CREATE TEMP TABLE c AS SELECT * FROM alfred.claim_runs('agent-1', tools => '{weather}', max => 10);
SELECT tool_name, tool_args, prompt, attempt, lease_until > now() AS leased FROM c;
SELECT count(*) AS claimed_twice FROM alfred.claim_runs('agent-2');
SELECT alfred.extend_lease((SELECT run_id FROM c), 'agent-1', '10 minutes') > now() + interval '9 minutes' AS extended;
SELECT try(format($q$SELECT alfred.extend_lease(%L, 'agent-2')$q$, (SELECT run_id FROM c)));
SELECT try(format($q$SELECT alfred.extend_lease(%L, 'agent-1', '-1s')$q$, (SELECT run_id FROM c)));
SELECT alfred.fail_run((SELECT run_id FROM c), 'weather API timed out', lease_token => (SELECT lease_token FROM c));
SELECT status, attempt, error, claimed_by, lease_until, next_attempt_at > now() AS backoff
  FROM alfred.task_runs WHERE id = (SELECT run_id FROM c);
UPDATE alfred.task_runs SET next_attempt_at = now() WHERE id = (SELECT run_id FROM c);
CREATE TEMP TABLE c2 AS SELECT * FROM alfred.claim_runs('agent-2');
SELECT attempt, prompt, lease_token <> (SELECT lease_token FROM c) AS new_token FROM c2;
-- agent-1's token no longer holds the run
SELECT try(format($q$SELECT alfred.complete_run(%L, 'stale', %L)$q$, (SELECT run_id FROM c), (SELECT lease_token FROM c)));
SELECT alfred.complete_run((SELECT run_id FROM c), '{"title": "Oslo", "message": "Snow, -3C", "priority": "urgent"}', (SELECT lease_token FROM c2));
-- a report counts once: the second one is refused, with or without the token
SELECT try(format($q$SELECT alfred.complete_run(%L, 'reported twice', %L)$q$, (SELECT run_id FROM c), (SELECT lease_token FROM c2)));
SELECT try(format($q$SELECT alfred.complete_run(%L, 'reported twice')$q$, (SELECT run_id FROM c)));
SELECT try(format($q$SELECT alfred.fail_run(%L, 'too late')$q$, (SELECT run_id FROM c)));
SELECT try($q$SELECT alfred.complete_run('00000000-0000-0000-0000-000000000000', 'x')$q$);
SELECT status, attempt, result, error, claimed_by FROM alfred.task_runs WHERE id = (SELECT run_id FROM c);
SELECT s.status, s.run_count, s.fail_count FROM alfred.scheduled_tasks s WHERE s.name = 'news';
SELECT title, message, priority, scheduled_for FROM alfred.notifications WHERE data->>'run_id' = (SELECT run_id::text FROM c);

-- an expired lease puts the run back (at least once) with a new token; the first agent's late report is refused
SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000b', 'news 3', 'weather', at => '2100-04-03', max_retries => 1) IS NOT NULL;
SELECT alfred.run_due_tasks('2100-04-03');
UPDATE alfred.task_runs SET next_attempt_at = now()
 WHERE status = 'queued' AND task_id = (SELECT id FROM alfred.scheduled_tasks WHERE name = 'news 3');
CREATE TEMP TABLE e AS SELECT * FROM alfred.claim_runs('agent-1', lease => '1 ms');
SELECT pg_sleep(0.05);
SELECT try(format($q$SELECT alfred.extend_lease(%L, 'agent-1')$q$, (SELECT run_id FROM e)));
CREATE TEMP TABLE e2 AS SELECT * FROM alfred.claim_runs('agent-2');
SELECT run_id = (SELECT run_id FROM e) AS same_run, attempt FROM e2;
-- agent-1's late report is refused (it would drop agent-2's result); agent-2's counts, once
SELECT try(format($q$SELECT alfred.complete_run(%L, 'late', %L)$q$, (SELECT run_id FROM e), (SELECT lease_token FROM e)));
SELECT alfred.complete_run((SELECT run_id FROM e), 'agent-2 reports', (SELECT lease_token FROM e2));
SELECT try(format($q$SELECT alfred.complete_run(%L, 'agent-2 reports again', %L)$q$, (SELECT run_id FROM e), (SELECT lease_token FROM e2)));
SELECT r.status, r.attempt, r.result, s.run_count, (SELECT count(*) FROM alfred.notifications n WHERE n.data->>'run_id' = r.id::text) AS notes
  FROM alfred.task_runs r JOIN alfred.scheduled_tasks s ON s.id = r.task_id WHERE s.name = 'news 3';
-- after its last allowed attempt an expired lease fails the run instead
SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000b', 'news 4', 'weather', at => '2100-04-04', max_retries => 0) IS NOT NULL;
SELECT alfred.run_due_tasks('2100-04-04');
UPDATE alfred.task_runs SET next_attempt_at = now()
 WHERE status = 'queued' AND task_id = (SELECT id FROM alfred.scheduled_tasks WHERE name = 'news 4');
SELECT count(*) FROM alfred.claim_runs('agent-1', lease => '1 ms');
SELECT pg_sleep(0.05);
SELECT count(*) AS reclaimed FROM alfred.claim_runs('agent-2');
SELECT r.status, r.attempt, r.error, s.fail_count
  FROM alfred.task_runs r JOIN alfred.scheduled_tasks s ON s.id = r.task_id WHERE s.name = 'news 4';

-- a permanent failure ends the run at once
SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000b', 'news 2', 'weather', at => '2100-04-02', max_retries => 5) IS NOT NULL;
SELECT alfred.run_due_tasks('2100-04-02');
UPDATE alfred.task_runs SET next_attempt_at = now()
 WHERE status = 'queued' AND task_id = (SELECT id FROM alfred.scheduled_tasks WHERE name = 'news 2');
SELECT alfred.fail_run(run_id, 'no such city', transient => false) FROM alfred.claim_runs('agent-1');
SELECT r.status, r.attempt, r.error, s.status AS task_status, s.fail_count
  FROM alfred.task_runs r JOIN alfred.scheduled_tasks s ON s.id = r.task_id WHERE s.name = 'news 2';
SELECT try(format($q$SELECT alfred.complete_run(%L, 'x')$q$,
	(SELECT r.id FROM alfred.task_runs r JOIN alfred.scheduled_tasks s ON s.id = r.task_id WHERE s.name = 'news 2')));

-- one broken task cannot stop the tick: a cron expression broken by a direct UPDATE (refused
-- unless a DBA turns triggers off) fails its run and pauses the task, a blank title falls back
-- to the task name, the rest runs
CREATE FUNCTION tool_blank_title(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT '{"title": "  ", "message": "untitled"}'::jsonb
$$;
SELECT name FROM alfred.register_tool('blank', 'tool_blank_title(uuid, jsonb)');
SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'broken cron', 'ok', cron => '0 7 * * *') IS NOT NULL;
SELECT alfred.schedule_task('00000000-0000-0000-0000-00000000000a', 'blank', 'blank', at => '2100-05-01') IS NOT NULL;
SELECT try($q$UPDATE alfred.scheduled_tasks SET schedule_cron = '0 7 * * * *' WHERE name = 'broken cron'$q$);
SET session_replication_role = replica;
UPDATE alfred.scheduled_tasks SET schedule_cron = '0 7 * * * *', next_run_at = '2100-05-01' WHERE name = 'broken cron';
RESET session_replication_role;
SELECT alfred.run_due_tasks('2100-05-01');
SELECT s.name, s.status, s.next_run_at, s.fail_count, r.status AS run, r.error
  FROM alfred.scheduled_tasks s JOIN alfred.task_runs r ON r.task_id = s.id
 WHERE s.name IN ('broken cron', 'blank') ORDER BY s.name;
SELECT title, message FROM alfred.notifications WHERE data->>'task_id' IN
	(SELECT id::text FROM alfred.scheduled_tasks WHERE name IN ('broken cron', 'blank')) ORDER BY title;
SELECT try($q$SELECT alfred.resume_task((SELECT id FROM alfred.scheduled_tasks WHERE name = 'broken cron'))$q$);

-- the wake-up trigger fires only for rows that can fall due earlier
SELECT tgname FROM pg_trigger WHERE tgrelid = 'alfred.scheduled_tasks'::regclass AND tgname LIKE '%wake%' ORDER BY 1;

-- the worker_status view: workers exist when alfred is preloaded with
-- alfred.workers > 0 (a postmaster setting, defined only when preloaded)
SELECT (count(*) >= 1) = coalesce(current_setting('alfred.workers', true)::int > 0, false)
	   AS has_workers_when_preloaded
  FROM alfred.worker_status;

-- leave the database as we found it for the tests that follow
DELETE FROM alfred.users WHERE id IN ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-00000000000b');
