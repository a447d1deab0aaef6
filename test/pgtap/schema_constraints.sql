-- Constraints of the unified schema: enum-like columns take only the union
-- of the seeds' values, durations are not negative, titles not empty;
-- references keep their tenant; the triggers (updated_at, tenant key,
-- dependency cycles) and system_logs partitions behave.
BEGIN;
SELECT plan(71);
SET LOCAL alfred.password_cost = 4;

SELECT alfred.create_user('cat@constraints.test', 'cat password', 'cat', timezone => 'America/New_York') AS u \gset
INSERT INTO alfred.tools (name, kind) VALUES ('regress_constraints_tool', 'external');
INSERT INTO alfred.projects (user_id, name) VALUES (:'u', 'Alpha') RETURNING id AS project \gset
INSERT INTO alfred.tasks (user_id, project_id, title) VALUES (:'u', :'project', 'one') RETURNING id AS t1 \gset
INSERT INTO alfred.tasks (user_id, title) VALUES (:'u', 'two') RETURNING id AS t2 \gset
INSERT INTO alfred.tasks (user_id, title) VALUES (:'u', 'three') RETURNING id AS t3 \gset
INSERT INTO alfred.habits (user_id, name) VALUES (:'u', 'Read') RETURNING id AS habit \gset
INSERT INTO alfred.proposals (user_id, agent_name, action_type, payload) VALUES (:'u', 'planner', 'create_task', '{}');
INSERT INTO alfred.scheduled_tasks (user_id, name, task_type, schedule_cron, tool_name)
	VALUES (:'u', 'weather', 'recurring', '0 7 * * *', 'regress_constraints_tool') RETURNING id AS sched \gset

-- A helper: run one statement in a subtransaction and expect an SQLSTATE.
CREATE FUNCTION pg_temp.rejects(stmt text, state text, what text) RETURNS text LANGUAGE sql AS $$
	SELECT throws_ok(stmt, state, NULL, what)
$$;

-- Enum-like columns: a value outside the seeds' union is a check violation.
-- Other parts validate some columns in triggers first (22023, with a message
-- of their own); the constraints behind them are tested with triggers off.
SET LOCAL session_replication_role = replica;
SELECT pg_temp.rejects(format('INSERT INTO alfred.tasks (user_id, title, priority) VALUES (%L, %L, %L)', :'u', 'x', 'whenever'),
					   '23514', 'tasks.priority rejects "whenever"');
SELECT pg_temp.rejects(format('INSERT INTO alfred.tasks (user_id, title, status) VALUES (%L, %L, %L)', :'u', 'x', 'done'),
					   '23514', 'tasks.status rejects "done"');
SELECT pg_temp.rejects(format('INSERT INTO alfred.tasks (user_id, title, source) VALUES (%L, %L, %L)', :'u', 'x', 'telepathy'),
					   '23514', 'tasks.source rejects "telepathy"');
SELECT pg_temp.rejects(format('INSERT INTO alfred.tasks (user_id, title, recurrence) VALUES (%L, %L, %L)', :'u', 'x', 'sometimes'),
					   '23514', 'tasks.recurrence rejects "sometimes"');
SELECT lives_ok(format('INSERT INTO alfred.tasks (user_id, title, recurrence, priority, status) VALUES (%L, %L, %L, %L, %L)',
					   :'u', 'x', '0 9 * * 1-5', 'urgent', 'blocked'),
				'tasks take a cron recurrence, urgent (seed 003) and blocked');
SELECT lives_ok(format('INSERT INTO alfred.tasks (user_id, title, priority, status) VALUES (%L, %L, %L, %L)',
					   :'u', 'x', 'critical', 'failed'),
				'tasks take critical and failed (seed 004)');
SELECT pg_temp.rejects(format('UPDATE alfred.users SET role = %L WHERE id = %L', 'root', :'u'), '23514', 'users.role rejects "root"');
SELECT pg_temp.rejects(format('UPDATE alfred.users SET status = %L WHERE id = %L', 'banned', :'u'), '23514', 'users.status rejects "banned"');
SELECT pg_temp.rejects(format('UPDATE alfred.users SET timezone = %L WHERE id = %L', 'Mars/Olympus', :'u'), '23514',
					   'users.timezone rejects an unknown zone');
SELECT pg_temp.rejects(format('UPDATE alfred.users SET email = %L WHERE id = %L', 'no at sign', :'u'), '23514',
					   'users.email must look like an address');
SELECT pg_temp.rejects(format('UPDATE alfred.projects SET status = %L', 'paused'), '23514', 'projects.status rejects "paused"');
SELECT pg_temp.rejects(format('UPDATE alfred.projects SET role = %L', 'boss'), '23514', 'projects.role rejects "boss"');
SELECT pg_temp.rejects(format('INSERT INTO alfred.project_updates (user_id, project_id, content, update_type) VALUES (%L, %L, %L, %L)',
							  :'u', :'project', 'x', 'rumour'), '23514', 'project_updates.update_type rejects "rumour"');
SELECT pg_temp.rejects(format('UPDATE alfred.habits SET frequency = %L', 'hourly'), '23514', 'habits.frequency rejects "hourly"');
SELECT pg_temp.rejects(format('UPDATE alfred.habits SET frequency = %L', 'custom'), '23514', 'a custom habit needs days_of_week');
SELECT pg_temp.rejects(format('UPDATE alfred.habits SET days_of_week = %L', '{1,8}'), '23514', 'days_of_week are ISO 1..7');
SELECT pg_temp.rejects(format('UPDATE alfred.habits SET time_preference = %L', 'noon'), '23514', 'habits.time_preference rejects "noon"');
SELECT pg_temp.rejects(format('UPDATE alfred.habits SET category = %L', 'hobby'), '23514', 'habits.category rejects "hobby"');
SELECT pg_temp.rejects(format('UPDATE alfred.habits SET day_start_hour = 24'), '23514', 'habits.day_start_hour is 0..23');
SELECT pg_temp.rejects(format('UPDATE alfred.habits SET current_streak = 5, best_streak = 4'), '23514',
					   'best_streak is never below current_streak');
SELECT pg_temp.rejects(format('INSERT INTO alfred.chat_messages (user_id, role, content) VALUES (%L, %L, %L)', :'u', 'robot', 'x'),
					   '23514', 'chat_messages.role rejects "robot"');
SELECT pg_temp.rejects(format('UPDATE alfred.user_settings SET ai_tone = %L', 'sarcastic'), '23514', 'user_settings.ai_tone rejects "sarcastic"');
SELECT pg_temp.rejects(format('UPDATE alfred.user_settings SET email_tone = %L', 'rude'), '23514', 'user_settings.email_tone rejects "rude"');
SELECT pg_temp.rejects(format('UPDATE alfred.user_settings SET quiet_hours_start = %L', '22:00'), '23514',
					   'quiet hours need both ends');
SELECT pg_temp.rejects(format('UPDATE alfred.user_settings SET ai_daily_limit = 0'), '23514', 'ai_daily_limit is positive');
SELECT pg_temp.rejects(format('INSERT INTO alfred.learned_preferences (user_id, key, value, confidence) VALUES (%L, %L, %L, 1.5)',
							  :'u', 'k', 'v'), '23514', 'learned_preferences.confidence is within 0..1');
SELECT pg_temp.rejects(format('INSERT INTO alfred.proposals (user_id, agent_name, action_type, payload, status) VALUES (%L, %L, %L, %L, %L)',
							  :'u', 'a', 'create_task', '{}', 'maybe'), '23514', 'proposals.status rejects "maybe"');
SELECT pg_temp.rejects(format('INSERT INTO alfred.proposals (user_id, agent_name, action_type, payload, risk_level) VALUES (%L, %L, %L, %L, %L)',
							  :'u', 'a', 'create_task', '{}', 'extreme'), '23514', 'proposals.risk_level rejects "extreme"');
SELECT pg_temp.rejects(format('INSERT INTO alfred.proposals (user_id, agent_name, action_type, payload) VALUES (%L, %L, %L, %L)',
							  :'u', 'a', 'create_task', '[]'), '23514', 'a proposal payload is an object');
SELECT pg_temp.rejects(format('INSERT INTO alfred.preference_signals (user_id, signal_type) VALUES (%L, %L)', :'u', 'shrugged'),
					   '23514', 'preference_signals.signal_type rejects "shrugged"');
SELECT pg_temp.rejects(format('INSERT INTO alfred.agent_run_logs (user_id, agent_name, context, status) VALUES (%L, %L, %L, %L)',
							  :'u', 'a', 'c', 'meh'), '23514', 'agent_run_logs.status rejects "meh"');
SELECT pg_temp.rejects(format('INSERT INTO alfred.system_logs (level, message) VALUES (%L, %L)', 'verbose', 'x'),
					   '23514', 'system_logs.level rejects "verbose"');
SELECT pg_temp.rejects(format('INSERT INTO alfred.notifications (user_id, type, title) VALUES (%L, %L, %L)', :'u', 'gossip', 'x'),
					   '23514', 'notifications.type rejects "gossip"');
SELECT pg_temp.rejects(format('INSERT INTO alfred.notifications (user_id, type, title, status) VALUES (%L, %L, %L, %L)', :'u', 'info', 'x', 'unread'),
					   '23514', 'notifications.status is pending/sent/read/dismissed/archived');
SELECT pg_temp.rejects(format('INSERT INTO alfred.notifications (user_id, type, title, channel) VALUES (%L, %L, %L, %L)', :'u', 'info', 'x', 'pigeon'),
					   '23514', 'notifications.channel rejects "pigeon"');
SELECT pg_temp.rejects(format('UPDATE alfred.scheduled_tasks SET task_type = %L', 'sometimes'), '23514',
					   'scheduled_tasks.task_type rejects "sometimes"');
SELECT pg_temp.rejects(format('UPDATE alfred.scheduled_tasks SET status = %L', 'sleeping'), '23514',
					   'scheduled_tasks.status rejects "sleeping"');
SELECT pg_temp.rejects(format('UPDATE alfred.scheduled_tasks SET source = %L', 'cat'), '23514', 'scheduled_tasks.source rejects "cat"');
SELECT pg_temp.rejects(format('UPDATE alfred.scheduled_tasks SET schedule_cron = NULL'), '23514', 'a recurring task needs a cron expression');
SELECT pg_temp.rejects(format('UPDATE alfred.scheduled_tasks SET status = %L, next_run_at = now()', 'paused'), '23514',
					   'a paused task has no next_run_at');
SELECT pg_temp.rejects(format('UPDATE alfred.scheduled_tasks SET timezone = %L', 'Nowhere/Land'), '23514',
					   'scheduled_tasks.timezone must be a known zone');
SELECT pg_temp.rejects(format('INSERT INTO alfred.task_runs (user_id, task_id, status) VALUES (%L, %L, %L)', :'u', :'sched', 'success'),
					   '23514', 'task_runs.status says succeeded, not success');
SELECT pg_temp.rejects(format('INSERT INTO alfred.engagement_events (user_id, suggestion_type, action, source) VALUES (%L, %L, %L, %L)',
							  :'u', 'weather', 'ignored', 'schedule'), '23514', 'engagement_events.action rejects "ignored"');
SELECT pg_temp.rejects(format('UPDATE alfred.proactiveness_settings SET user_override = %L', 'much'), '23514',
					   'proactiveness_settings.user_override rejects "much"');
SELECT pg_temp.rejects(format('UPDATE alfred.proactiveness_settings SET global_level = 1.2'), '23514', 'global_level is within 0..1');
SELECT pg_temp.rejects(format('INSERT INTO alfred.tools (name, kind) VALUES (%L, %L)', 'x', 'magic'), '23514', 'tools.kind rejects "magic"');
SELECT pg_temp.rejects(format('INSERT INTO alfred.tools (name, kind) VALUES (%L, %L)', 'x', 'sql'), '23514', 'an sql tool names its function');

-- Durations are not negative; titles and names are not empty.
SELECT pg_temp.rejects(format('INSERT INTO alfred.habit_logs (user_id, habit_id, logged_date, duration_minutes) VALUES (%L, %L, %L, -5)',
							  :'u', :'habit', '2026-01-01'), '23514', 'a habit log cannot last -5 minutes');
SELECT pg_temp.rejects(format('UPDATE alfred.tasks SET estimated_duration = -1'), '23514', 'a task cannot be estimated at -1 minutes');
SELECT pg_temp.rejects(format('UPDATE alfred.tasks SET actual_duration = -1'), '23514', 'a task cannot take -1 minutes');
SELECT pg_temp.rejects(format('UPDATE alfred.tasks SET priority = %L, estimated_duration = 2000', 'critical'), '23514',
					   'a critical task is estimated at most 24 hours (seed 004)');
SELECT pg_temp.rejects(format('INSERT INTO alfred.task_runs (user_id, task_id, duration_ms) VALUES (%L, %L, -1)', :'u', :'sched'),
					   '23514', 'a run cannot take -1 ms');
SELECT pg_temp.rejects(format('INSERT INTO alfred.execution_logs (user_id, proposal_id, executor_status, execution_duration_ms)
							   SELECT %L, id, %L, -1 FROM alfred.proposals LIMIT 1', :'u', 'success'),
					   '23514', 'an execution cannot take -1 ms');
SELECT pg_temp.rejects(format('INSERT INTO alfred.tasks (user_id, title) VALUES (%L, %L)', :'u', '   '), '23514', 'a task title is not blank');
SELECT pg_temp.rejects(format('INSERT INTO alfred.tasks (user_id, title) VALUES (%L, NULL)', :'u'), '23502', 'a task has a title');
SELECT pg_temp.rejects(format('INSERT INTO alfred.habits (user_id, name) VALUES (%L, %L)', :'u', ''), '23514', 'a habit name is not empty');
SELECT pg_temp.rejects(format('INSERT INTO alfred.projects (user_id, name) VALUES (%L, %L)', :'u', ' '), '23514', 'a project name is not blank');
SELECT pg_temp.rejects(format('INSERT INTO alfred.notifications (user_id, type, title) VALUES (%L, %L, %L)', :'u', 'info', ''),
					   '23514', 'a notification title is not empty');
SELECT pg_temp.rejects(format('UPDATE alfred.scheduled_tasks SET name = repeat(%L, 201)', 'x'), '23514',
					   'a scheduled task name is at most 200 characters (seed 000)');

SET LOCAL session_replication_role = origin;
SELECT pg_temp.rejects(format('UPDATE alfred.scheduled_tasks SET tool_name = %L', 'unregistered'), '23503',
					   'a scheduled task names a registered tool');

-- Uniqueness the seeds ask for.
SELECT pg_temp.rejects(format('INSERT INTO alfred.habit_logs (user_id, habit_id, logged_date) VALUES (%L, %L, %L), (%L, %L, %L)',
							  :'u', :'habit', '2026-02-01', :'u', :'habit', '2026-02-01'), '23505', 'one log per habit and day');

-- Task dependencies: no self-dependency, no cycle.
INSERT INTO alfred.task_dependencies (user_id, task_id, depends_on_task_id) VALUES (:'u', :'t1', :'t2'), (:'u', :'t2', :'t3');
SELECT pg_temp.rejects(format('INSERT INTO alfred.task_dependencies (user_id, task_id, depends_on_task_id) VALUES (%L, %L, %L)',
							  :'u', :'t1', :'t1'), '23514', 'a task cannot depend on itself');
SELECT pg_temp.rejects(format('INSERT INTO alfred.task_dependencies (user_id, task_id, depends_on_task_id) VALUES (%L, %L, %L)',
							  :'u', :'t3', :'t1'), '23514', 'a dependency that closes a cycle is refused');

-- ON DELETE SET NULL (project_id) keeps the task and its tenant.
DELETE FROM alfred.projects WHERE id = :'project';
SELECT results_eq(format('SELECT user_id, project_id FROM alfred.tasks WHERE id = %L', :'t1'),
				  format('VALUES (%L::uuid, NULL::uuid)', :'u'), 'deleting a project unlinks its tasks, keeping their user_id');

-- The tenant key never changes; updated_at follows updates.
SELECT alfred.create_user('dog@constraints.test', 'dog password') AS other \gset
SELECT pg_temp.rejects(format('UPDATE alfred.habits SET user_id = %L WHERE id = %L', :'other', :'habit'), '42501',
					   'a row cannot move to another user, even for the owner of the table');
UPDATE alfred.habits SET updated_at = '2000-01-01' WHERE id = :'habit';
SELECT is((SELECT updated_at FROM alfred.habits WHERE id = :'habit'), now(), 'updated_at is set by the trigger');

-- system_logs: monthly partitions, created ahead; rows in the default partition move out.
INSERT INTO alfred.system_logs (logged_at, level, message) VALUES (date_trunc('month', now()) + interval '6 months', 'info', 'future');
SELECT is((SELECT tableoid::regclass::text FROM alfred.system_logs WHERE message = 'future'), 'alfred.system_logs_default',
		  'a log six months ahead lands in the default partition');
SELECT is(alfred.create_log_partitions(6), 3, 'create_log_partitions(6) creates the three missing months');
SELECT is((SELECT tableoid::regclass::text FROM alfred.system_logs WHERE message = 'future'),
		  'alfred.system_logs_' || to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + interval '6 months', 'YYYY_MM'),
		  'and moves the row into its month');
SELECT is(alfred.create_log_partitions(6), 0, 'create_log_partitions is idempotent');
SELECT throws_ok('SELECT alfred.create_log_partitions(-1)', '22023', 'months_ahead must be between 0 and 120, not -1',
				 'a negative months_ahead is refused');

SELECT * FROM finish();
ROLLBACK;
