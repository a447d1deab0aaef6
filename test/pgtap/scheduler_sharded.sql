-- The scheduler's Citus switch on a single node: scheduler_is_sharded() is
-- false without Citus (no pg_dist_partition), for every documented role, so
-- the worker, run_due_tasks and claim_runs take the single-node path
-- (test/citus/scheduler.sh tries the other one on a cluster).  claim_runs'
-- page size cannot overflow for a huge max.
BEGIN;
SELECT plan(7);
SET LOCAL client_min_messages = warning;
SET LOCAL alfred.password_cost = 4;
SET LOCAL timezone = 'UTC';

CREATE ROLE app LOGIN PASSWORD 'app secret';
SELECT alfred.grant_usage('app');
CREATE ROLE alfred_service NOLOGIN;
SELECT alfred.grant_usage('alfred_service');
CREATE ROLE agent LOGIN PASSWORD 'agent secret' IN ROLE alfred_service;

SELECT is(to_regclass('pg_catalog.pg_dist_partition'), NULL, 'this database has no Citus catalog');
SELECT is(alfred.scheduler_is_sharded(), false, 'scheduler_is_sharded() is false without Citus');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'alfred.scheduler_is_sharded()'::regprocedure), 's',
		  'it is STABLE (a catalog read)');
SET LOCAL ROLE app;
SELECT is(alfred.scheduler_is_sharded(), false, 'the app reads it too');
RESET ROLE;
SET LOCAL ROLE agent;
SELECT is(alfred.scheduler_is_sharded(), false, 'and the agent');
-- the single-node claim, with a max whose page size would overflow on the Citus path
SELECT is((SELECT count(*)::int FROM alfred.claim_runs('tap-agent', max => 2147483647)), 0,
		  'claim_runs with the largest max claims what there is (nothing here)');
RESET ROLE;
SELECT throws_ok($$SELECT * FROM alfred.claim_runs('tap-agent', max => 0)$$, '22023', 'max must be at least 1',
				 'max 0 is still refused before anything is claimed');

SELECT * FROM finish();
ROLLBACK;
