-- The unified schema: error texts of its constraints and triggers, the
-- partitions of system_logs, and seed 004's views.
SET timezone = 'UTC';
SET alfred.password_cost = 4;
\set VERBOSITY terse
SELECT alfred.create_user('sam@example.com', 'sam password', 'sam', timezone => 'Asia/Tokyo') AS sam \gset
SELECT alfred.create_user('kim@example.com', 'kim password', 'kim') AS kim \gset

-- Constraint names say which rule a row broke.
INSERT INTO alfred.tasks (user_id, title, priority) VALUES (:'sam', 'Pay rent', 'whenever');
INSERT INTO alfred.tasks (user_id, title) VALUES (:'sam', '   ');
INSERT INTO alfred.learned_preferences (user_id, key, value, confidence) VALUES (:'sam', 'tone', 'dry', 1.5);
INSERT INTO alfred.notifications (user_id, type, title, status) VALUES (:'sam', 'info', 'Hi', 'unread');

-- Tasks of sam due at various times, and one of kim's.
INSERT INTO alfred.tasks (user_id, title, due_date, status) VALUES
	(:'sam', 'A overdue', now() - interval '2 days', 'pending'),
	(:'sam', 'B due soon', now() + interval '1 day', 'in_progress'),
	(:'sam', 'C on track', now() + interval '10 days', 'pending'),
	(:'sam', 'D done', now() - interval '5 days', 'completed'),
	(:'sam', 'E no date', NULL, 'pending'),
	(:'kim', 'K kim''s', NULL, 'pending');
SELECT id AS a FROM alfred.tasks WHERE title = 'A overdue' \gset
SELECT id AS b FROM alfred.tasks WHERE title = 'B due soon' \gset
SELECT id AS c FROM alfred.tasks WHERE title = 'C on track' \gset
SELECT id AS k FROM alfred.tasks WHERE title = 'K kim''s' \gset
INSERT INTO alfred.task_dependencies (user_id, task_id, depends_on_task_id) VALUES (:'sam', :'a', :'b'), (:'sam', :'b', :'c');
INSERT INTO alfred.task_dependencies (user_id, task_id, depends_on_task_id) VALUES (:'sam', :'c', :'a');
INSERT INTO alfred.task_dependencies (user_id, task_id, depends_on_task_id) VALUES (:'sam', :'a', :'a');
-- A dependency on another user's task has no row to point at.
INSERT INTO alfred.task_dependencies (user_id, task_id, depends_on_task_id) VALUES (:'sam', :'a', :'k');
-- Nor can a row move to another user.
UPDATE alfred.tasks SET user_id = :'kim' WHERE id = :'a';

-- Seed 004's task_summary, urgency in the owner's timezone.
INSERT INTO alfred.proposals (user_id, agent_name, action_type, payload, task_id)
VALUES (:'sam', 'planner', 'update', '{}', :'b'), (:'sam', 'planner', 'complete', '{}', :'b');
SELECT title, status, urgency_status, approval_requests
  FROM alfred.task_summary WHERE user_id = :'sam' ORDER BY title;

-- system_logs: partitions by month, the default partition, daily_activity.
SELECT count(*) >= 4 AS months_ahead_exist
  FROM pg_inherits WHERE inhparent = 'alfred.system_logs'::regclass;
SELECT alfred.create_log_partitions(-1);
SELECT alfred.create_log_partitions(121);
SELECT alfred.create_log_partitions(NULL);
INSERT INTO alfred.system_logs (level, module, message, user_id) VALUES
	('info', 'scheduler', 'tick', :'sam'), ('info', 'planner', 'plan', NULL), ('error', 'scheduler', 'boom', NULL);
SELECT level, event_count, modules_affected FROM alfred.daily_activity ORDER BY level;

DELETE FROM alfred.system_logs;
DELETE FROM alfred.users;
