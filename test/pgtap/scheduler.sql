-- The scheduler's contract (signatures the agent builds against) and its
-- built-in tools, driven by run_due_tasks with a fixed "now".
BEGIN;
SELECT plan(20);
SET LOCAL timezone = 'UTC';

SELECT has_function('alfred', 'claim_runs', ARRAY['text', 'text[]', 'integer', 'interval'], 'claim_runs(worker, tools, max, lease)');
SELECT is((SELECT pg_get_function_result('alfred.claim_runs(text, text[], integer, interval)'::regprocedure)),
	'TABLE(run_id uuid, task_id uuid, user_id uuid, tool_name text, tool_args jsonb, prompt text, attempt integer, lease_until timestamp with time zone, lease_token uuid)',
	'claim_runs returns the columns agents read');
SELECT function_returns('alfred', 'extend_lease', ARRAY['uuid', 'text', 'interval', 'uuid'], 'timestamp with time zone', 'extend_lease(run_id, worker, lease, lease_token) → timestamptz');
SELECT function_returns('alfred', 'complete_run', ARRAY['uuid', 'text', 'uuid'], 'void', 'complete_run(run_id, result, lease_token)');
SELECT function_returns('alfred', 'fail_run', ARRAY['uuid', 'text', 'boolean', 'uuid'], 'void', 'fail_run(run_id, error, transient, lease_token)');
SELECT function_returns('alfred', 'run_due_tasks', ARRAY['timestamp with time zone', 'integer'], 'integer', 'run_due_tasks(now, max) → int');
SELECT function_returns('alfred', 'render_template', ARRAY['text', 'jsonb'], 'text', 'render_template(template, context) → text');
SELECT results_eq($$SELECT name, kind FROM alfred.tools WHERE name IN ('daily_briefing', 'habit_reminder', 'overdue_tasks', 'expire_proposals') ORDER BY name$$,
	$$VALUES ('daily_briefing', 'sql'), ('expire_proposals', 'sql'), ('habit_reminder', 'sql'), ('overdue_tasks', 'sql')$$,
	'the built-in tools are registered');

-- the claimability rule of claim_runs' two paths (NULL times: not claimable)
SELECT is((SELECT array_agg(alfred._run_claimable(s, n, l, '2026-01-01 12:00+00') IS TRUE ORDER BY i)
			 FROM (VALUES (1, 'queued', timestamptz '2026-01-01 11:00+00', NULL::timestamptz),
						  (2, 'queued', '2026-01-01 13:00+00', NULL), (3, 'queued', NULL, NULL),
						  (4, 'retrying', '2026-01-01 12:00+00', NULL), (5, 'running', NULL, '2026-01-01 11:59+00'),
						  (6, 'running', NULL, '2026-01-01 12:00+00'), (7, 'succeeded', '2026-01-01 11:00+00', NULL),
						  (8, 'cancelled', NULL, '2026-01-01 11:00+00')) v (i, s, n, l)),
	ARRAY[true, false, false, true, true, false, false, false],
	'_run_claimable: queued or retrying and due (at or before now), or running with its lease expired (before now)');
SELECT is((SELECT array_agg(alfred._run_lease_spent(s, l, a, m, '2026-01-01 12:00+00') IS TRUE ORDER BY i)
			 FROM (VALUES (1, 'running', timestamptz '2026-01-01 11:00+00', 4, 3), (2, 'running', '2026-01-01 11:00+00', 3, 3),
						  (3, 'running', '2026-01-01 13:00+00', 4, 3), (4, 'queued', '2026-01-01 11:00+00', 4, 3)) v (i, s, l, a, m)),
	ARRAY[true, false, false, false],
	'_run_lease_spent: running, lease expired, and past its last allowed attempt');

INSERT INTO alfred.users (id, email, password_hash, display_name)
VALUES ('00000000-0000-0000-0000-0000000000c1', 'cy@example.com', crypt('x', gen_salt('bf', 4)), 'Cy');
INSERT INTO alfred.tasks (user_id, title, due_date, status) VALUES
	('00000000-0000-0000-0000-0000000000c1', 'File taxes', now() - interval '2 days', 'pending'),
	('00000000-0000-0000-0000-0000000000c1', 'Call mum', now() - interval '1 day', 'in_progress'),
	('00000000-0000-0000-0000-0000000000c1', 'Done already', now() - interval '3 days', 'completed'),
	('00000000-0000-0000-0000-0000000000c1', 'Later', now() + interval '1 day', 'pending');

SELECT is(alfred.tool_overdue_tasks('00000000-0000-0000-0000-0000000000c1', '{}')->>'message',
	'2 overdue: File taxes, Call mum', 'overdue_tasks lists open tasks past due, oldest first');
SELECT is(alfred.tool_habit_reminder('00000000-0000-0000-0000-0000000000c1', '{}')->>'title',
	'Habit reminder', 'habit_reminder answers for a user without habits');

-- scheduled: the tick runs it and the notification carries the tool's title and priority
SELECT ok(alfred.schedule_task('00000000-0000-0000-0000-0000000000c1', 'Overdue check', 'overdue_tasks',
	cron => '0 9 * * *') IS NOT NULL, 'overdue_tasks can be scheduled');
UPDATE alfred.scheduled_tasks SET next_run_at = '2100-01-01 09:00' WHERE name = 'Overdue check';
SELECT is(alfred.run_due_tasks('2100-01-01 09:00:01'), 1, 'the tick runs it');
SELECT results_eq($$SELECT title, priority, message FROM alfred.notifications WHERE user_id = '00000000-0000-0000-0000-0000000000c1'$$,
	$$VALUES ('Overdue tasks', 'high', '2 overdue: File taxes, Call mum')$$,
	'its notification takes title, priority and message from the result');
SELECT is((SELECT next_run_at FROM alfred.scheduled_tasks WHERE name = 'Overdue check'),
	'2100-01-02 09:00+00'::timestamptz, 'and the task moves to its next slot');

-- the scheduler's bookkeeping is not audited; a user's change of the task is
SELECT is((SELECT count(*) FROM alfred.audit_trail WHERE action = 'update'
			AND entity_id = (SELECT id FROM alfred.scheduled_tasks WHERE name = 'Overdue check')), 0::bigint,
	'moving next_run_at after a run writes no audit row');
SELECT alfred.pause_task((SELECT id FROM alfred.scheduled_tasks WHERE name = 'Overdue check'));
SELECT results_eq($$SELECT old_values, new_values FROM alfred.audit_trail WHERE action = 'update'
			AND entity_id = (SELECT id FROM alfred.scheduled_tasks WHERE name = 'Overdue check')$$,
	$$VALUES ('{"status": "active"}'::jsonb, '{"status": "paused"}'::jsonb)$$,
	'pausing it is audited (status; next_run_at is bookkeeping)');

-- a built-in whose engine is missing fails its run with a clear error, not the tick
SELECT CASE WHEN to_regprocedure('alfred.today(uuid)') IS NULL
	THEN throws_ok($$SELECT alfred.tool_daily_briefing('00000000-0000-0000-0000-0000000000c1', '{}')$$, '0A000', NULL,
		'daily_briefing needs alfred.today')
	ELSE ok(alfred.tool_daily_briefing('00000000-0000-0000-0000-0000000000c1', '{}') ? 'briefing',
		'daily_briefing returns alfred.today') END;
SELECT CASE WHEN to_regprocedure('alfred.expire_proposals()') IS NULL
	THEN throws_ok($$SELECT alfred.tool_expire_proposals(NULL, '{}')$$, '0A000', NULL, 'expire_proposals needs alfred.expire_proposals')
	ELSE ok((alfred.tool_expire_proposals(NULL, '{}')->>'expired') IS NOT NULL, 'expire_proposals reports how many expired') END;

SELECT * FROM finish();
ROLLBACK;
