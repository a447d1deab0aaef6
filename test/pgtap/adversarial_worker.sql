-- The scheduler's agent API and tick, tried as the README's documented roles
-- ("App roles and row-level security"): the agent (LOGIN, member of
-- alfred_service, no alfred identity) claims and reports every user's runs
-- through fenced leases; the app acting as a user reaches only that user's
-- runs and reports nothing without the lease; a stale, missing, repeated or
-- forged report is refused with 55000 and changes nothing; times from callers
-- are checked.  now() is fixed inside this transaction, so an expired lease is
-- written as one.
BEGIN;
SELECT plan(49);
SET LOCAL client_min_messages = warning;
SET LOCAL alfred.password_cost = 4;
SET LOCAL timezone = 'UTC';

-- the roles, exactly as README.md sets them up
CREATE ROLE app LOGIN PASSWORD 'app secret';
SELECT alfred.grant_usage('app');
CREATE ROLE alfred_service NOLOGIN;
SELECT alfred.grant_usage('alfred_service');
CREATE ROLE agent LOGIN PASSWORD 'agent secret' IN ROLE alfred_service;

SELECT alfred.create_user('tap-worker-ann@example.com', 'correct horse') AS ann \gset
SELECT alfred.create_user('tap-worker-bob@example.com', 'battery staple') AS bob \gset
SELECT alfred.create_user('tap-worker-olga@example.com', 'observer pass', role => 'observer') AS olga \gset
SELECT alfred.register_tool('tap_weather', kind => 'external');
SELECT alfred.schedule_task(:'ann', 'ann weather', 'tap_weather', at => now() + interval '1 hour') AS ann_task \gset
SELECT alfred.schedule_task(:'bob', 'bob weather', 'tap_weather', at => now() + interval '1 hour', max_retries => 2) AS bob_task \gset
SELECT alfred.run_due_tasks(now() + interval '1 hour');
UPDATE alfred.task_runs SET next_attempt_at = now() WHERE status = 'queued';
SELECT id AS ann_run FROM alfred.task_runs WHERE task_id = :'ann_task' \gset
SELECT id AS bob_run FROM alfred.task_runs WHERE task_id = :'bob_task' \gset

CREATE TEMP TABLE claims (who text, run_id uuid, user_id uuid, lease_token uuid);
GRANT ALL ON claims TO app, agent;

---- the app as a user: her runs only, and nothing without the lease
SELECT alfred.act_as(:'ann');
SET LOCAL ROLE app;
SELECT throws_ok($$SELECT alfred.run_due_tasks()$$, '42501', 'permission denied to run a scheduler tick',
	'the app cannot tick the scheduler');
SELECT throws_ok($$SELECT alfred.run_due_tasks('infinity')$$, '22008', NULL, 'nor with an infinite now');
SELECT throws_ok(format('SELECT alfred.complete_run(%L, %L)', :'ann_run', 'faked'), '55000',
	format('cannot complete run "%s" without its lease_token', :'ann_run'),
	'she cannot complete her own queued run without a lease');
SELECT throws_ok(format('SELECT alfred.fail_run(%L, %L, lease_token => gen_random_uuid())', :'ann_run', 'faked'), '55000',
	NULL, 'nor fail it with a made-up token');
SELECT throws_ok(format('SELECT alfred.complete_run(%L, %L, gen_random_uuid())', :'bob_run', 'faked'), 'P0002',
	format('no task run with id "%s"', :'bob_run'), 'another user''s run does not exist for her');
SELECT throws_ok(format($$SELECT alfred.finish_run(r, 'succeeded', 'faked', NULL) FROM alfred.task_runs r WHERE r.id = %L$$, :'ann_run'),
	'42501', NULL, 'the internal finish_run is not hers to call');
SELECT throws_ok(format($$SELECT * FROM alfred._claim_run(%L, %L, 'queued', 'ann-laptop', '1 hour', gen_random_uuid())$$,
						:'bob', :'bob_run'),
	'42501', NULL, 'nor the internal _claim_run: she cannot lease Bob''s run by its key');
INSERT INTO claims SELECT 'ann', run_id, user_id, lease_token FROM alfred.claim_runs('ann-laptop', max => 10);
SELECT results_eq($$SELECT user_id FROM claims WHERE who = 'ann'$$, ARRAY[:'ann'::uuid],
	'claim_runs as a user takes her own run and none of Bob''s');
RESET ROLE;
SELECT alfred.reset_identity();
SELECT is((SELECT status FROM alfred.task_runs WHERE id = :'bob_run'), 'queued', 'Bob''s run is untouched');
-- give Ann's run back
UPDATE alfred.task_runs SET status = 'queued', claimed_by = NULL, lease_until = NULL, lease_token_hash = NULL,
	   next_attempt_at = now() WHERE id = :'ann_run';

---- an app connection without identity, and an observer, claim nothing
SET LOCAL ROLE app;
SELECT is((SELECT count(*)::int FROM alfred.claim_runs('nobody', max => 10)), 0, 'without an identity the app claims nothing');
RESET ROLE;
SELECT alfred.act_as(:'olga');
SET LOCAL ROLE app;
SELECT is((SELECT count(*)::int FROM alfred.claim_runs('olga', max => 10)), 0, 'an observer claims nothing');
SELECT throws_ok(format('SELECT alfred.complete_run(%L, %L, gen_random_uuid())', :'ann_run', 'x'), 'P0002', NULL,
	'and reports nothing');
RESET ROLE;
SELECT alfred.reset_identity();

---- the agent: every user's runs, fenced by the lease token
SET LOCAL ROLE agent;
SELECT is(alfred.current_user_id(), NULL, 'the agent has no alfred identity');
SELECT lives_ok($$SELECT alfred.run_due_tasks(now())$$, 'a service role may tick');
INSERT INTO claims SELECT 'agent-1', run_id, user_id, lease_token FROM alfred.claim_runs('agent-1', max => 10);
SELECT set_eq($$SELECT user_id FROM claims WHERE who = 'agent-1'$$, ARRAY[:'ann'::uuid, :'bob'::uuid],
	'the agent claims every user''s queued run');
SELECT is((SELECT count(DISTINCT lease_token)::int FROM claims WHERE who = 'agent-1'), 2, 'each claim has its own token');
SELECT is((SELECT count(*)::int FROM alfred.claim_runs('agent-2', max => 10)), 0, 'a claimed run is not claimed twice');
SELECT throws_ok(format('SELECT alfred.complete_run(%L, %L)', :'ann_run', 'no token'), '55000',
	format('cannot complete run "%s" without its lease_token', :'ann_run'), 'the agent needs the token');
SELECT throws_ok(format('SELECT alfred.complete_run(%L, %L, gen_random_uuid())', :'ann_run', 'forged'), '55000',
	NULL, 'a forged token is refused');
SELECT throws_ok(format('SELECT alfred.extend_lease(%L, %L, lease_token => gen_random_uuid())', :'ann_run', 'agent-1'), '55000',
	NULL, 'extend_lease with a forged token is refused');
SELECT cmp_ok(alfred.extend_lease(:'ann_run', 'agent-1', '10 minutes',
	(SELECT lease_token FROM claims WHERE who = 'agent-1' AND run_id = :'ann_run')), '>', now() + interval '9 minutes',
	'the holder extends its lease');
SELECT throws_ok(format('SELECT alfred.extend_lease(%L, %L, %L, %L)', :'ann_run', 'agent-1', '2 days',
	(SELECT lease_token FROM claims WHERE who = 'agent-1' AND run_id = :'ann_run')), '22023',
	'lease "2 days" is longer than 1 day', 'a lease is at most a day');
SELECT lives_ok(format('SELECT alfred.complete_run(%L, %L, %L)', :'ann_run', '{"message": "sunny"}',
	(SELECT lease_token FROM claims WHERE who = 'agent-1' AND run_id = :'ann_run')), 'the holder completes the run');
SELECT throws_ok(format('SELECT alfred.complete_run(%L, %L, %L)', :'ann_run', 'again',
	(SELECT lease_token FROM claims WHERE who = 'agent-1' AND run_id = :'ann_run')), '55000', NULL,
	'a second report with the same token is refused');
SELECT throws_ok(format('SELECT alfred.fail_run(%L, %L, lease_token => %L)', :'ann_run', 'late',
	(SELECT lease_token FROM claims WHERE who = 'agent-1' AND run_id = :'ann_run')), '55000', NULL,
	'and so is a failure after it');
RESET ROLE;
SELECT results_eq(format('SELECT status, result, lease_token_hash IS NULL FROM alfred.task_runs WHERE id = %L', :'ann_run'),
	$$VALUES ('succeeded'::text, '{"message": "sunny"}'::text, true)$$, 'the run holds the holder''s result, once');
SELECT is((SELECT run_count FROM alfred.scheduled_tasks WHERE id = :'ann_task'), 1, 'counted once');
SELECT isnt((SELECT lease_token_hash FROM alfred.task_runs WHERE id = :'bob_run'),
	(SELECT uuid_send(lease_token) FROM claims WHERE who = 'agent-1' AND run_id = :'bob_run'),
	'the run stores a digest of the token, not the token');

---- a stale worker after its lease expired and another claimed the run
UPDATE alfred.task_runs SET lease_until = now() - interval '1 second' WHERE id = :'bob_run';
SET LOCAL ROLE agent;
SELECT is(alfred.extend_lease(:'bob_run', 'agent-1', '5 minutes',
	(SELECT lease_token FROM claims WHERE who = 'agent-1' AND run_id = :'bob_run')), now() + interval '5 minutes',
	'an expired lease that no one took again is kept by its holder');
RESET ROLE;
UPDATE alfred.task_runs SET lease_until = now() - interval '1 second' WHERE id = :'bob_run';
SET LOCAL ROLE agent;
INSERT INTO claims SELECT 'agent-2', run_id, user_id, lease_token FROM alfred.claim_runs('agent-2', max => 10);
SELECT results_eq($$SELECT run_id FROM claims WHERE who = 'agent-2'$$, ARRAY[:'bob_run'::uuid],
	'another agent re-claims the expired run');
SELECT throws_ok(format('SELECT alfred.complete_run(%L, %L, %L)', :'bob_run', 'stale result',
	(SELECT lease_token FROM claims WHERE who = 'agent-1' AND run_id = :'bob_run')), '55000', NULL,
	'the stale worker''s report is refused');
SELECT throws_ok(format('SELECT alfred.fail_run(%L, %L, lease_token => %L)', :'bob_run', 'stale error',
	(SELECT lease_token FROM claims WHERE who = 'agent-1' AND run_id = :'bob_run')), '55000', NULL,
	'so is its failure');
SELECT throws_ok(format('SELECT alfred.extend_lease(%L, %L, lease_token => %L)', :'bob_run', 'agent-1',
	(SELECT lease_token FROM claims WHERE who = 'agent-1' AND run_id = :'bob_run')), '55000', NULL,
	'and its extend_lease');
RESET ROLE;
SELECT results_eq(format('SELECT status, claimed_by, attempt, result FROM alfred.task_runs WHERE id = %L', :'bob_run'),
	$$VALUES ('running'::text, 'agent-2'::text, 2, NULL::text)$$, 'the stale reports changed nothing');
SET LOCAL ROLE agent;
SELECT lives_ok(format('SELECT alfred.fail_run(%L, %L, lease_token => %L)', :'bob_run', 'timeout',
	(SELECT lease_token FROM claims WHERE who = 'agent-2')), 'the current holder reports a transient failure');
SELECT throws_ok(format('SELECT alfred.complete_run(%L, %L, %L)', :'bob_run', 'after failing',
	(SELECT lease_token FROM claims WHERE who = 'agent-2')), '55000', NULL,
	'its token no longer holds the retrying run');
RESET ROLE;
SELECT results_eq(format('SELECT status, error, result FROM alfred.task_runs WHERE id = %L', :'bob_run'),
	$$VALUES ('retrying'::text, 'timeout'::text, NULL::text)$$, 'the holder''s failure is recorded');

---- a superuser repairs by hand without a token, but not a finished run
SELECT lives_ok(format('SELECT alfred.fail_run(%L, %L, transient => false)', :'bob_run', 'given up by the DBA'),
	'a superuser may report a run without a token');
SELECT throws_ok(format('SELECT alfred.complete_run(%L, %L)', :'bob_run', 'twice'), '55000',
	'cannot complete a failed run', 'not a finished one');

---- times from callers
SELECT throws_ok($$SELECT alfred.run_due_tasks('infinity')$$, '22008', 'now "infinity" is out of range',
	'run_due_tasks refuses an infinite now');
SELECT throws_ok($$SELECT alfred.run_due_tasks('-infinity')$$, '22008', NULL, 'and a minus-infinite one');
SELECT throws_ok(format($$SELECT alfred.schedule_task(%L, 'never', 'tap_weather', at => 'infinity')$$, :'bob'), '22008',
	'scheduled_at "infinity" is out of range', 'schedule_task refuses at => infinity');
SELECT alfred.schedule_task(:'ann', 'ann daily', 'tap_weather', cron => '0 7 * * *') AS daily \gset
SELECT throws_ok(format($$UPDATE alfred.scheduled_tasks SET next_run_at = 'infinity' WHERE id = %L$$, :'daily'), '22008',
	'next_run_at "infinity" is out of range', 'and so does a direct UPDATE of next_run_at');
SELECT throws_ok($$SELECT alfred.claim_runs('x', lease => '1000 years')$$, '22023',
	'lease "1000 years" is longer than 1 day', 'claim_runs refuses an endless lease');
SELECT throws_ok($$SELECT alfred.run_maintenance('infinity')$$, '22008', 'now "infinity" is out of range',
	'run_maintenance refuses an infinite now (it would remove every row past retention)');
SELECT cmp_ok(alfred.retry_delay(2147483647), '<=', current_setting('alfred.retry_base_delay')::interval * 65536 * 1.25,
	'retry_delay saturates for any attempt');
SELECT is(alfred.check_time('x', '9999-12-31 23:59:59+00'), '9999-12-31 23:59:59+00'::timestamptz,
	'the last second of year 9999 is a time');

---- a service's tick: every user's due tasks, with the rights the worker has
SELECT alfred.schedule_task(:'bob', 'bob later', 'tap_weather', at => now() + interval '3 hours') AS later \gset
SET LOCAL ROLE agent;
SELECT cmp_ok(alfred.run_due_tasks(now() + interval '3 hours'), '>=', 1,
	'a service role''s tick runs the due tasks (it has no alfred identity to see them by)');
RESET ROLE;
SELECT is((SELECT status FROM alfred.task_runs WHERE task_id = :'later'), 'queued',
	'Bob''s task among them: its run is queued for the agents');

SELECT * FROM finish();
ROLLBACK;
