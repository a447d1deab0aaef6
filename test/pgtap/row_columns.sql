-- The C wrappers that take a whole table row (habits, calibration_state) find the columns
-- they read by name (src/row.c), so a table that gained columns or has dropped ones, as
-- after an upgrade, works as a fresh one; a column they need that is gone is an internal
-- error naming it.  The statements a backend keeps (src/plan.c: suggestion_score's query,
-- identity's lookups) are planned again when the tables they read change.  Driven by the
-- app acting as a user (README "App roles and row-level security"); the schema changes
-- are rolled back with the test.
BEGIN;
SELECT plan(10);
SET LOCAL client_min_messages = warning;
SET LOCAL alfred.password_cost = 4;
SET LOCAL timezone = 'UTC';

CREATE ROLE app LOGIN PASSWORD 'app secret';
SELECT alfred.grant_usage('app');
SELECT alfred.create_user('tap-row-ann@example.com', 'correct horse') AS ann \gset
INSERT INTO alfred.habits (user_id, name) VALUES (:'ann', 'Stretch') RETURNING id AS habit \gset
SELECT token FROM alfred.login('tap-row-ann@example.com', 'correct horse') AS token \gset
SELECT alfred.act_as(:'ann');

---- before: what the rows say
SET LOCAL ROLE app;
SELECT is((SELECT current_streak FROM alfred.log_habit(:'habit', alfred.user_today(:'ann') - 1)), 1,
	'the app logs a habit');
SELECT is((SELECT global_level FROM alfred.record_engagement(:'ann', 'news', 'engaged', 'conversation')), 0.75::float8,
	'and records an engagement');
SELECT alfred.suggestion_score(:'ann', 'news', 0.8) AS score_before \gset
SELECT is(alfred.set_session(:'token'), :'ann'::uuid, 'and sets its session from a token');
RESET ROLE;

---- the tables gain a column and have a dropped one, between and after the columns read
ALTER TABLE alfred.habits ADD COLUMN tap_gone int, ADD COLUMN tap_new text DEFAULT 'new';
ALTER TABLE alfred.habits DROP COLUMN tap_gone;
ALTER TABLE alfred.calibration_state ADD COLUMN tap_gone int, ADD COLUMN tap_new text DEFAULT 'new';
ALTER TABLE alfred.calibration_state DROP COLUMN tap_gone;
ALTER TABLE alfred.sessions ADD COLUMN tap_new text;
ALTER TABLE alfred.users ADD COLUMN tap_gone int;
ALTER TABLE alfred.users DROP COLUMN tap_gone;

SET LOCAL ROLE app;
SELECT results_eq(format($$SELECT current_streak, best_streak, total_completions, tap_new
							FROM alfred.log_habit(%L, alfred.user_today(%L))$$, :'habit', :'ann'),
	$$VALUES (2, 2, 2, 'new'::text)$$,
	'log_habit folds a new log into a row with an added and a dropped column, keeping the added one');
SELECT results_eq(format($$SELECT s.current_streak, s.state FROM alfred.habits h,
							alfred.habit_streak(h, alfred.user_today(%L)) s WHERE h.id = %L$$, :'ann', :'habit'),
	$$VALUES (2, 'done')$$, 'habit_streak reads such a row');
SELECT is((SELECT s.tap_new FROM alfred.calibration_state c,
				 alfred.calibration_step(c, 'engaged', 'conversation', now()) s
			WHERE c.user_id = :'ann' AND c.suggestion_type = 'news'), 'new',
	'calibration_step keeps the columns it does not model');
SELECT is(alfred.suggestion_score(:'ann', 'news', 0.8), :score_before::float8,
	'suggestion_score''s kept statement is planned again after the table changed, same score');
SELECT is(alfred.set_session(:'token'), :'ann'::uuid,
	'set_session''s kept lookup is planned again after sessions and users changed');
RESET ROLE;

---- a column the wrappers need is gone
ALTER TABLE alfred.habits RENAME COLUMN best_streak TO tap_best;
ALTER TABLE alfred.calibration_state RENAME COLUMN suppressions TO tap_suppressions;
SET LOCAL ROLE app;
SELECT throws_ok(format($$SELECT alfred.habit_streak(h, current_date) FROM alfred.habits h WHERE h.id = %L$$, :'habit'),
	'XX000', 'row type alfred.habits has no column "best_streak"',
	'a habits row without a column the streak needs is an internal error naming it');
SELECT throws_ok(format($$SELECT alfred.calibration_at(c, now()) FROM alfred.calibration_state c
						  WHERE c.user_id = %L$$, :'ann'),
	'XX000', 'row type alfred.calibration_state has no column "suppressions"',
	'so is a calibration_state row without one the model needs');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
