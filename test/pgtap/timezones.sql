-- One rule for time zone names: a zone the tables accept is a zone every
-- engine (cron, the planner, the scheduler) can use, and the other way round.
BEGIN;
SELECT plan(12);

SELECT ok(alfred.is_valid_timezone('Europe/Berlin'), 'an IANA zone is valid');
SELECT ok(alfred.is_valid_timezone('UTC'), 'UTC is valid');
SELECT ok(NOT alfred.is_valid_timezone(''), 'the empty name is not a zone');
SELECT ok(NOT alfred.is_valid_timezone('Mars/Olympus'), 'an unknown name is not a zone');
SELECT ok(NOT alfred.is_valid_timezone(repeat('x', 300)), 'an over-long name is not a zone');
SELECT ok(NOT alfred.is_valid_timezone('right/UTC'),
		  'a zone counting leap seconds is refused (cron and the planner cannot use it)');

SELECT throws_ok($$SELECT alfred.cron_next('0 9 * * *', '2026-01-01', 'right/UTC')$$,
				 '22023', 'time zone "right/UTC" not recognized', 'cron_next refuses the same zone');
SELECT throws_ok($$SELECT * FROM alfred.plan_free_slots(NULL, '2026-01-01', '2026-01-02', '1 hour', 'right/UTC')$$,
				 '22023', 'time zone "right/UTC" not recognized', 'the planner refuses the same zone');
SELECT throws_ok($$SELECT alfred.cron_next('0 9 * * *', '2026-01-01', 'Mars/Olympus')$$,
				 '22023', 'time zone "Mars/Olympus" not recognized', 'cron: unknown zone');
SELECT throws_ok($$SELECT * FROM alfred.plan_free_slots(NULL, '2026-01-01', '2026-01-02', '1 hour', 'Mars/Olympus')$$,
				 '22023', 'time zone "Mars/Olympus" not recognized', 'planner: unknown zone, same message');

SET LOCAL alfred.password_cost = 4;
SELECT throws_ok($$SELECT alfred.create_user('tz-right@example.com', 'password123', timezone => 'right/UTC')$$,
				 '22023', NULL, 'create_user refuses a leap-second zone');
SELECT throws_ok($$INSERT INTO alfred.users (email, password_hash, timezone) VALUES ('tz-direct@example.com', 'x', 'right/UTC')$$,
				 '23514', NULL, 'a direct write of a leap-second zone violates users_timezone_check');

SELECT * FROM finish();
ROLLBACK;
