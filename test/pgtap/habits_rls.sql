-- Habits, tasks and dashboards under row-level security: an application
-- role acting as a user reaches only her rows; an assignee who completes a
-- task is held to dependencies she cannot see and spawns the owner's next
-- occurrence.
BEGIN;
SELECT plan(12);
SET LOCAL client_min_messages = warning;
SET LOCAL alfred.password_cost = 4;

CREATE ROLE tap_habits_app;
SELECT alfred.grant_usage('tap_habits_app');
SELECT alfred.create_user('tap-habits-ann@example.com', 'correct horse') AS ann \gset
SELECT alfred.create_user('tap-habits-bob@example.com', 'battery staple') AS bob \gset
INSERT INTO alfred.habits (user_id, name) VALUES (:'ann', 'read') RETURNING id AS anns_habit \gset
INSERT INTO alfred.habits (user_id, name) VALUES (:'bob', 'run') RETURNING id AS bobs_habit \gset
INSERT INTO alfred.tasks (user_id, title) VALUES (:'bob', 'bob private') RETURNING id AS bobs_task \gset
INSERT INTO alfred.tasks (user_id, title, assigned_to, recurrence, due_date)
	VALUES (:'bob', 'for ann', :'ann', 'daily', now() + interval '1 hour') RETURNING id AS assigned \gset
SELECT alfred.add_task_dependency(:'assigned', :'bobs_task');

SELECT alfred.act_as(:'ann');
SET LOCAL ROLE tap_habits_app;

SELECT is((SELECT total_completions FROM alfred.log_habit(:'anns_habit')), 1, 'she logs her habit');
SELECT throws_ok(format('SELECT alfred.log_habit(%L)', :'bobs_habit'), 'P0002',
	format('habit "%s" does not exist', :'bobs_habit'), 'another user''s habit is invisible to log_habit');
SELECT throws_ok(format('SELECT alfred.unlog_habit(%L)', :'bobs_habit'), 'P0002', NULL, 'and to unlog_habit');
SELECT throws_ok(format('SELECT alfred.complete_task(%L)', :'bobs_task'), 'P0002', NULL,
	'another user''s task is invisible to complete_task');
SELECT throws_ok(format('SELECT alfred.today(%L)', :'bob'), '22023', NULL, 'and his briefing to today');
SELECT is((SELECT count(*)::int FROM alfred.habits_today(:'bob')), 0, 'his habits do not show');
SELECT is((SELECT count(*)::int FROM alfred.health_check() WHERE count > 0), 0, 'health_check sees her rows only');
SELECT throws_ok(format('SELECT alfred.complete_task(%L)', :'assigned'), '55000',
	'task "for ann" is blocked by unfinished task "bob private"',
	'an assignee is held to a dependency she cannot see');

RESET ROLE;
UPDATE alfred.tasks SET status = 'completed' WHERE id = :'bobs_task';
SET LOCAL ROLE tap_habits_app;
SELECT is((SELECT status FROM alfred.complete_task(:'assigned')), 'completed', 'once it is done she completes her assignment');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM alfred.tasks WHERE title = 'for ann' AND status = 'pending'
	AND user_id = :'bob' AND assigned_to = :'ann'), 1, 'the next occurrence is Bob''s, assigned to her');
SELECT is((SELECT total_completions FROM alfred.habits WHERE id = :'bobs_habit'), 0, 'Bob''s habit is untouched');
SELECT is((alfred.today(:'ann')->'habits'->0->>'completed_today')::boolean, true, 'her briefing shows her log');

SELECT * FROM finish();
ROLLBACK;
