-- The notification of a finished run is one rule, alfred.run_notification_content: the
-- tick's batch statement (an sql tool's run) and the agent API (complete_run, fail_run of
-- an external run) both write what it says.  The same five outcomes go through both paths
-- (the tick as the worker runs it; the agent, a documented role, claims and reports; the
-- app reads as the user); each notification
-- must equal the rule applied to its run, and the rule must give the expected texts.
BEGIN;
SELECT plan(15);
SET LOCAL client_min_messages = warning;
SET LOCAL alfred.password_cost = 4;
SET LOCAL timezone = 'UTC';

-- the roles, as README.md sets them up
CREATE ROLE app LOGIN PASSWORD 'app secret';
SELECT alfred.grant_usage('app');
CREATE ROLE alfred_service NOLOGIN;
SELECT alfred.grant_usage('alfred_service');
CREATE ROLE agent LOGIN PASSWORD 'agent secret' IN ROLE alfred_service;

---- the rule on explicit inputs
SELECT results_eq($$SELECT type, title, message, priority, scheduled_for, data
					  FROM alfred.run_notification_content('00000000-0000-0000-0000-0000000000a1',
						'00000000-0000-0000-0000-0000000000b1', 'Weather', 'succeeded',
						'{"title": "Sunny", "message": "20 degrees", "priority": "low"}', NULL,
						'2026-01-15 23:30+00', 'Europe/Berlin', '22:00', '07:00')$$,
	$$VALUES ('scheduled_task'::text, 'Sunny'::text, '20 degrees'::text, 'low'::text,
			  '2026-01-16 06:00+00'::timestamptz,
			  '{"task_id": "00000000-0000-0000-0000-0000000000a1", "run_id": "00000000-0000-0000-0000-0000000000b1", "status": "succeeded"}'::jsonb)$$,
	'a JSON object result gives title, message and priority; inside quiet hours it waits for their end');
SELECT results_eq($$SELECT title, message, priority, scheduled_for
					  FROM alfred.run_notification_content(NULL, NULL, 'Weather', 'succeeded',
						'{"title": " \t", "priority": "urgent"}', NULL,
						'2026-01-15 23:30+00', 'Europe/Berlin', '22:00', '07:00')$$,
	$$VALUES ('Weather'::text, '{"title": " \t", "priority": "urgent"}'::text, 'urgent'::text, NULL::timestamptz)$$,
	'a blank title falls back to the task''s name, no message to the result; urgent ignores quiet hours');
SELECT results_eq($$SELECT title, message, priority, scheduled_for
					  FROM alfred.run_notification_content(NULL, NULL, 'Weather', 'succeeded',
						'[1, 2]', NULL, '2026-01-15 12:00+00', 'Europe/Berlin', '22:00', '07:00')$$,
	$$VALUES ('Weather'::text, '[1, 2]'::text, 'normal'::text, NULL::timestamptz)$$,
	'a result that is not a JSON object is the message, priority normal; outside quiet hours it is not delayed');
SELECT results_eq($$SELECT title, message, priority, scheduled_for
					  FROM alfred.run_notification_content(NULL, NULL, 'Weather', 'failed',
						'{"title": "ignored"}', 'timeout', '2026-01-15 23:30+00', 'UTC', NULL, NULL)$$,
	$$VALUES ('Weather failed'::text, 'timeout'::text, 'high'::text, NULL::timestamptz)$$,
	'a failed run says so with its error, priority high, whatever its result');
SELECT results_eq($$SELECT priority FROM alfred.run_notification_content(NULL, NULL, 'Weather', 'succeeded',
						'{"priority": "shouting"}', NULL, now(), 'UTC', NULL, NULL)$$,
	$$VALUES ('normal'::text)$$, 'an unknown priority is normal');
SELECT throws_ok($$SELECT * FROM alfred.run_notification_content(NULL, NULL, 'Weather', 'succeeded',
						'{oops', NULL, now(), 'UTC', NULL, NULL)$$, '22P02', NULL,
	'a result that starts like a JSON object but is none is refused');

-- the batch statement relies on the planner inlining the rule: no function scan is left
CREATE TEMP TABLE rows_in (task_id uuid, status text, result text);
CREATE FUNCTION pg_temp.plan_nodes(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (FORMAT JSON, COSTS OFF) ' || query INTO plan;
	RETURN QUERY SELECT n #>> '{}' FROM jsonb_path_query(plan::jsonb, 'strict $.**."Node Type"') n;
END
$$;
SELECT ok('Function Scan' <> ALL (ARRAY(SELECT pg_temp.plan_nodes($$SELECT n.* FROM rows_in r
			 CROSS JOIN LATERAL alfred.run_notification_content(r.task_id, r.task_id, 'x', r.status, r.result,
				NULL, now(), 'UTC', NULL, NULL) n$$))),
	'run_notification_content is inlined into a statement over many rows');
SELECT ok('Function Scan' = ANY (ARRAY(SELECT pg_temp.plan_nodes($$SELECT n.* FROM rows_in r
			 CROSS JOIN LATERAL alfred.run_notification_content(gen_random_uuid(), r.task_id, 'x', r.status, r.result,
				NULL, now(), 'UTC', NULL, NULL) n$$))),
	'(the plan check sees a function scan where inlining is impossible: a volatile argument)');

---- the same outcomes through both paths
SELECT alfred.create_user('tap-note-ann@example.com', 'correct horse', timezone => 'Europe/Berlin') AS ann \gset
-- quiet hours around the present, so that the non-urgent notifications wait
UPDATE alfred.user_settings
   SET quiet_hours_start = ((clock_timestamp() AT TIME ZONE 'Europe/Berlin') - interval '2 hours')::time,
	   quiet_hours_end = ((clock_timestamp() AT TIME ZONE 'Europe/Berlin') + interval '2 hours')::time
 WHERE user_id = :'ann';
CREATE FUNCTION public.tap_note_echo(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	IF args ? 'fail' THEN
		RAISE EXCEPTION '%', args->>'fail';
	END IF;
	RETURN args->'result';
END
$$;
SELECT alfred.register_tool('tap_note_echo', 'public.tap_note_echo(uuid, jsonb)');
SELECT alfred.register_tool('tap_note_agent', kind => 'external');

CREATE TEMP TABLE outcomes (n int, result text, fail text);
INSERT INTO outcomes VALUES
	(1, '{"title": "Sunny", "message": "20 degrees", "priority": "urgent"}', NULL),
	(2, '{"title": "  ", "message": "rain later"}', NULL),
	(3, '{"priority": "shouting"}', NULL),
	(4, '[1, 2]', NULL),
	(5, NULL, 'the weather service is down');
SELECT count(alfred.schedule_task(:'ann', 'sql ' || n, 'tap_note_echo',
		tool_args => CASE WHEN fail IS NULL THEN jsonb_build_object('result', result::jsonb)
						  ELSE jsonb_build_object('fail', fail) END,
		at => now() + interval '1 hour', max_retries => 0)) FROM outcomes;
SELECT count(alfred.schedule_task(:'ann', 'agent ' || n, 'tap_note_agent',
		at => now() + interval '1 hour', max_retries => 0)) FROM outcomes;

-- the tick as the worker runs it (a superuser); then the agent reports the external runs
SELECT is(alfred.run_due_tasks(now() + interval '1 hour'), 10, 'the tick runs the sql tools and queues the external runs');
UPDATE alfred.task_runs SET next_attempt_at = now() WHERE status = 'queued';
CREATE TEMP TABLE agent_tasks AS
	SELECT t.id AS task_id, o.* FROM alfred.scheduled_tasks t JOIN outcomes o ON t.name = 'agent ' || o.n;
GRANT SELECT ON agent_tasks TO agent;
SET LOCAL ROLE agent;
CREATE TEMP TABLE claims AS SELECT * FROM alfred.claim_runs('tap-agent', max => 10);
SELECT is((SELECT count(*)::int FROM claims), 5, 'the agent claims the five external runs');
SELECT throws_ok(format('SELECT alfred.complete_run(%L, %L, %L)', c.run_id, '{oops', c.lease_token), '22P02', NULL,
	'a report whose result starts like a JSON object but is none is refused')
  FROM claims c JOIN agent_tasks o USING (task_id) WHERE o.n = 1;
SELECT count(*) FROM (
	SELECT CASE WHEN o.fail IS NULL THEN alfred.complete_run(c.run_id, o.result, c.lease_token)
				ELSE alfred.fail_run(c.run_id, o.fail, false, c.lease_token) END
	  FROM claims c JOIN agent_tasks o USING (task_id)) reports;
RESET ROLE;

SELECT is((SELECT count(*)::int FROM alfred.task_runs r
			WHERE r.user_id = :'ann' AND r.status IN ('succeeded', 'failed') AND r.notification_id IS NOT NULL),
	10, 'every run ended with a notification');
SELECT results_eq(format($$SELECT r.id, n.type, n.title, n.message, n.priority, n.scheduled_for, n.data
							FROM alfred.task_runs r JOIN alfred.notifications n ON n.id = r.notification_id
						   WHERE r.user_id = %L ORDER BY r.id$$, :'ann'),
	format($$SELECT r.id, c.*
			   FROM alfred.task_runs r
			   JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
			   JOIN alfred.users u ON u.id = r.user_id
			   JOIN alfred.user_settings s ON s.user_id = r.user_id
			  CROSS JOIN LATERAL alfred.run_notification_content(r.task_id, r.id, t.name, r.status, r.result,
					r.error, r.finished_at, u.timezone, s.quiet_hours_start, s.quiet_hours_end) c
			  WHERE r.user_id = %L ORDER BY r.id$$, :'ann'),
	'the tick and the agent API each write what run_notification_content says of the run');
SELECT results_eq(format($$SELECT split_part(t.name, ' ', 2)::int, t.name LIKE 'sql %%', n.title, n.message,
								   n.priority, n.scheduled_for IS NOT NULL
							FROM alfred.task_runs r
							JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
							JOIN alfred.notifications n ON n.id = r.notification_id
						   WHERE r.user_id = %L ORDER BY 1, 2$$, :'ann'),
	$$VALUES (1, false, 'Sunny', '20 degrees', 'urgent', false), (1, true, 'Sunny', '20 degrees', 'urgent', false),
			 (2, false, 'agent 2', 'rain later', 'normal', true), (2, true, 'sql 2', 'rain later', 'normal', true),
			 (3, false, 'agent 3', '{"priority": "shouting"}', 'normal', true),
			 (3, true, 'sql 3', '{"priority": "shouting"}', 'normal', true),
			 (4, false, 'agent 4', '[1, 2]', 'normal', true), (4, true, 'sql 4', '[1, 2]', 'normal', true),
			 (5, false, 'agent 5 failed', 'the weather service is down', 'high', true),
			 (5, true, 'sql 5 failed', 'the weather service is down', 'high', true)$$,
	'both paths give the same texts for the same outcome');

-- the user reads her notifications through the app
SELECT alfred.act_as(:'ann');
SET LOCAL ROLE app;
SELECT is((SELECT count(*)::int FROM alfred.notifications WHERE type = 'scheduled_task'), 10,
	'the app acting as the user sees the ten notifications');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
