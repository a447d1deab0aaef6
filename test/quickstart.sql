-- The quick-start tour: run by test/quickstart in a fresh database.
\pset footer off
SET timezone = 'UTC';
SELECT extversion AS "alfred version" FROM pg_extension WHERE extname = 'alfred';

-- A user, and a session: alfred.login returns a token; set_session makes the
-- connection that user, and row-level security shows them only their rows.
\echo '== a demo user logs in'
SELECT alfred.create_user('demo@example.com', 'demo password', 'demo', 'Demo User',
						  timezone => 'Europe/Paris') AS demo \gset
SELECT alfred.login('demo@example.com', 'demo password') AS token \gset
-- (local => false keeps the identity for this psql session; the default ends
-- it with the transaction, which is what an application behind a pooler wants.)
SELECT alfred.set_session(:'token', local => false) = :'demo' AS "logged in as demo";
SELECT email, username, display_name, role, timezone FROM alfred.users;

\echo '== a project and its tasks'
INSERT INTO alfred.projects (user_id, name, description)
VALUES (:'demo', 'Move house', 'Everything for the move on the first of the month')
RETURNING id AS project \gset
INSERT INTO alfred.tasks (user_id, project_id, title, priority, due_date, tags)
VALUES (:'demo', :'project', 'Book the van', 'high', now() + interval '2 days', '{logistics}'),
	   (:'demo', :'project', 'Pack the books', 'medium', now() + interval '10 days', '{packing}'),
	   (:'demo', :'project', 'Tell the bank', 'low', NULL, '{admin}'),
	   (:'demo', NULL, 'Renew passport', 'urgent', now() - interval '1 day', '{}');
INSERT INTO alfred.project_updates (user_id, project_id, content, update_type)
VALUES (:'demo', :'project', 'Van company shortlisted', 'progress');
SELECT title, priority, status, urgency_status, approval_requests
  FROM alfred.task_summary
 ORDER BY array_position(ARRAY['urgent', 'critical', 'high', 'medium', 'low'], priority), title;

\echo '== a habit'
INSERT INTO alfred.habits (user_id, name, frequency, days_of_week, time_preference, category)
VALUES (:'demo', 'Morning run', 'custom', '{1,3,5}', 'morning', 'health');
SELECT name, frequency, days_of_week AS "ISO days", current_streak, best_streak FROM alfred.habits;

\echo '== another user, through an application role, sees none of it'
-- (This psql session is a superuser, which row-level security does not
-- restrict; an application connects as a role like this one.)
CREATE ROLE alfred_demo_app;
SELECT alfred.grant_usage('alfred_demo_app');
SELECT alfred.create_user('other@example.com', 'other password') AS other \gset
-- An application's request: one transaction, whose identity ends with it.
BEGIN;
SELECT alfred.set_session(alfred.login('other@example.com', 'other password')) = :'other' AS "logged in as other";
SET LOCAL ROLE alfred_demo_app;
SELECT (SELECT count(*) FROM alfred.tasks) AS "tasks other sees",
	   (SELECT count(*) FROM alfred.habits) AS "habits other sees";
COMMIT;
SELECT alfred.current_user_id() = :'demo' AS "demo again after the request";
SELECT alfred.reset_identity();

\echo '== the habit is logged three days running: a streak, in the user''s own today'
SELECT id AS habit FROM alfred.habits WHERE user_id = :'demo' AND name = 'Morning run' \gset
UPDATE alfred.habits SET frequency = 'daily', days_of_week = '{}' WHERE id = :'habit';
SELECT (alfred.log_habit(:'habit', on_date => alfred.user_today(:'demo') - 2)).current_streak AS "day before yesterday";
SELECT (alfred.log_habit(:'habit', on_date => alfred.user_today(:'demo') - 1)).current_streak AS "yesterday";
SELECT (alfred.log_habit(:'habit')).current_streak AS "today (O(1) path)";
SELECT name, current_streak, best_streak, total_completions FROM alfred.habits WHERE id = :'habit';

\echo '== an agent proposes a task; the user approves it and alfred executes it, once'
SELECT alfred.propose(:'demo', 'planner', 'create',
					  '{"title": "Order moving boxes", "priority": "high"}',
					  explanation => 'You have 30 books and no boxes yet.') AS proposal \gset
SELECT status, action_type, explanation FROM alfred.proposals WHERE id = :'proposal';
SELECT (alfred.approve(:'proposal', execute => true)).status AS "after approve + execute";
SELECT signal_type FROM alfred.preference_signals WHERE proposal_id = :'proposal';
SELECT title, priority, source FROM alfred.tasks WHERE title = 'Order moving boxes';

\echo '== how proactive should alfred be? Three dismissed nudges suppress the type'
SELECT round(alfred.suggestion_score(:'demo', 'nudge', 0.8)::numeric, 3) AS "score before";
SELECT (alfred.record_engagement(:'demo', 'nudge', 'dismissed', 'notification')).suppressed_types,
	   (alfred.record_engagement(:'demo', 'nudge', 'dismissed', 'notification')).suppressed_types,
	   (alfred.record_engagement(:'demo', 'nudge', 'dismissed', 'notification')).suppressed_types AS "suppressed after 3";
SELECT round(alfred.suggestion_score(:'demo', 'nudge', 0.8)::numeric, 3) AS "score after";

\echo '== the proactive engine: a briefing scheduled 2 seconds ahead, run by the background worker'
SELECT alfred.schedule_task(:'demo', 'Demo briefing', 'daily_briefing',
							at => now() + interval '2 seconds') AS briefing_task \gset
SELECT alfred.schedule_task(:'demo', 'Weekday briefing', 'daily_briefing', cron => '0 7 * * MON-FRI',
							timezone => 'Europe/Paris') IS NOT NULL AS "recurring briefing scheduled";
SELECT name, task_type, schedule_cron, timezone, next_run_at FROM alfred.scheduled_tasks ORDER BY name;
\echo 'waiting for the worker (no one calls the tick) ...'
DO $$
BEGIN
	FOR i IN 1 .. 100 LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM alfred.task_runs r WHERE r.status = 'succeeded');
		PERFORM pg_sleep(0.1);
	END LOOP;
END $$;
SELECT t.name, r.status, r.started_at - r.due_at AS "started after due", n.title AS notification
  FROM alfred.task_runs r JOIN alfred.scheduled_tasks t ON t.id = r.task_id
  LEFT JOIN alfred.notifications n ON n.user_id = r.user_id AND n.id = r.notification_id;
SELECT pid IS NOT NULL AS "worker running", state, runs_done FROM alfred.worker_status;

\echo '== the daily briefing, as an app would render it'
SELECT alfred.today(:'demo') ->> 'summary' AS "today's summary";
SELECT jsonb_object_keys(alfred.today(:'demo')) AS "the briefing also holds";

\echo '== daily maintenance (retention, partitions): pg_cron serves database postgres here, not'
\echo '   this one, so alfred''s own scheduler runs it as a task of an admin user'
SELECT alfred.create_user('admin@example.com', 'admin password', role => 'admin') IS NOT NULL AS "admin created";
SELECT alfred.schedule_maintenance() AS registered;
SELECT alfred.schedule_maintenance('30 4 * * *') AS "registered again (replaces it)";
SELECT name, tool_name, schedule_cron, status FROM alfred.scheduled_tasks
 WHERE tool_name = 'run_maintenance' ORDER BY status;
