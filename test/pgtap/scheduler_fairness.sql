-- Fairness of the scheduler's claim: a user's backlog is never ahead of
-- another user's first due task.  User A has a burst of 300 tasks due at one
-- instant, B one task due a little later, C two; each tick (run_due_tasks
-- with max) takes every user's first task, round-robin, and still fills up
-- to max from the users that have more.  Retries take at most half a tick
-- while tasks are due.
BEGIN;
SELECT plan(14);
SET LOCAL timezone = 'UTC';
SET LOCAL client_min_messages = warning;

INSERT INTO alfred.users (id, email, password_hash, display_name) VALUES
	('00000000-0000-0000-0000-0000000000a1', 'fair-a@example.com', crypt('x', gen_salt('bf', 4)), 'A'),
	('00000000-0000-0000-0000-0000000000b1', 'fair-b@example.com', crypt('x', gen_salt('bf', 4)), 'B'),
	('00000000-0000-0000-0000-0000000000c1', 'fair-c@example.com', crypt('x', gen_salt('bf', 4)), 'C');
CREATE FUNCTION pg_temp.noop(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT '{}'::jsonb $$;
CREATE FUNCTION pg_temp.fails(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'always fails';
END
$$;
SELECT alfred.register_tool('fair_noop', 'pg_temp.noop(uuid, jsonb)');
SELECT alfred.register_tool('fair_fails', 'pg_temp.fails(uuid, jsonb)');

CREATE FUNCTION pg_temp.burst(u uuid, n int, due timestamptz, tool text DEFAULT 'fair_noop') RETURNS void
LANGUAGE sql AS $$
	INSERT INTO alfred.scheduled_tasks (user_id, name, task_type, scheduled_at, tool_name, next_run_at)
	SELECT u, 'fair ' || i, 'one_time', due, tool, due FROM generate_series(1, n) i
$$;
CREATE FUNCTION pg_temp.runs(u uuid) RETURNS bigint
LANGUAGE sql AS $$ SELECT count(*) FROM alfred.task_runs WHERE user_id = u $$;

SELECT pg_temp.burst('00000000-0000-0000-0000-0000000000a1', 300, '2100-01-01 00:00');
SELECT pg_temp.burst('00000000-0000-0000-0000-0000000000b1', 1, '2100-01-01 00:00:05');
SELECT pg_temp.burst('00000000-0000-0000-0000-0000000000c1', 2, '2100-01-01 00:00:10');
ANALYZE alfred.scheduled_tasks;

SELECT is(alfred.run_due_tasks('2100-01-01 01:00', 10), 10, 'a tick of 10 with 303 due runs 10');
SELECT is(pg_temp.runs('00000000-0000-0000-0000-0000000000b1'), 1::bigint,
	'B''s task, due after A''s 300, runs in the first tick');
SELECT is(pg_temp.runs('00000000-0000-0000-0000-0000000000c1'), 2::bigint,
	'so do both of C''s');
SELECT is(pg_temp.runs('00000000-0000-0000-0000-0000000000a1'), 7::bigint,
	'A''s backlog fills the rest of the tick');

SELECT is(alfred.run_due_tasks('2100-01-01 01:00', 100), 100, 'a tick with only A due runs a full batch');
SELECT is(alfred.run_due_tasks('2100-01-01 01:00'), 193, 'the rest of A''s burst drains');
SELECT is((SELECT count(*) || ' ' || count(DISTINCT task_id) FROM alfred.task_runs), '303 303',
	'every task ran exactly once');
SELECT is((SELECT count(*) FROM alfred.scheduled_tasks WHERE status = 'active'), 0::bigint,
	'and none is left due');

-- a quiet user's task due while A's backlog is waiting, 100 at a time
SELECT pg_temp.burst('00000000-0000-0000-0000-0000000000a1', 250, '2100-01-02 00:00');
SELECT pg_temp.burst('00000000-0000-0000-0000-0000000000b1', 1, '2100-01-02 00:00:59');
SELECT is(alfred.run_due_tasks('2100-01-02 00:01', 100), 100, 'the next burst: a tick of 100');
SELECT is(pg_temp.runs('00000000-0000-0000-0000-0000000000b1'), 2::bigint,
	'B''s task is in it, ahead of 150 of A''s');

-- retries: A's 20 failing tasks retry; B's task due meanwhile still runs in the first tick
SELECT alfred.run_due_tasks('2100-01-02 00:01');
DELETE FROM alfred.task_runs;
SELECT pg_temp.burst('00000000-0000-0000-0000-0000000000a1', 20, '2100-01-03 00:00', 'fair_fails');
SELECT is(alfred.run_due_tasks('2100-01-03 00:00:01'), 20, 'A''s 20 failing tasks run once');
SELECT pg_temp.burst('00000000-0000-0000-0000-0000000000b1', 1, '2100-01-03 00:00:30');
SELECT is(alfred.run_due_tasks('2100-01-03 01:00', 10), 10, 'a tick of 10 with 20 retries and 1 task due');
SELECT is(pg_temp.runs('00000000-0000-0000-0000-0000000000b1'), 1::bigint,
	'B''s task is in it: retries take at most half of a tick while tasks are due');
SELECT is((SELECT count(*) FROM alfred.task_runs WHERE user_id = '00000000-0000-0000-0000-0000000000a1' AND attempt = 2),
	9::bigint, 'and A''s retries fill the rest');

SELECT * FROM finish();
ROLLBACK;
