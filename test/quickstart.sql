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
SELECT alfred.set_session(:'token') = :'demo' AS "logged in as demo";
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
SELECT alfred.set_session(alfred.login('other@example.com', 'other password')) = :'other' AS "logged in as other";
SET ROLE alfred_demo_app;
SELECT (SELECT count(*) FROM alfred.tasks) AS "tasks other sees",
	   (SELECT count(*) FROM alfred.habits) AS "habits other sees";
RESET ROLE;
SELECT alfred.reset_identity();
