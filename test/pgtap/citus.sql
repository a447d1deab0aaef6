-- Scale-out on a single node: alfred.distribute() without Citus says what is
-- missing and changes nothing; what distribute() relies on behaves here as on
-- Citus (test/citus/distribute.sh): owner_of under row-level security, keys
-- that contain user_id, and a deleted task's proposals keeping their rows
-- with task_id NULL.  table_ddl(), the upgrade scripts' way to change a
-- table, just runs the command here (on Citus: test/citus/update.sh).
BEGIN;
SELECT plan(20);
SET LOCAL client_min_messages = warning;
SET LOCAL alfred.password_cost = 4;

CREATE ROLE tap_citus_app;
SELECT alfred.grant_usage('tap_citus_app');
SELECT alfred.create_user('tap-citus-ann@example.com', 'correct horse') AS ann \gset
SELECT alfred.create_user('tap-citus-bob@example.com', 'battery staple') AS bob \gset
INSERT INTO alfred.tasks (user_id, title) VALUES (:'ann', 'ann''s') RETURNING id AS anns_task \gset
INSERT INTO alfred.tasks (user_id, title) VALUES (:'bob', 'bob''s') RETURNING id AS bobs_task \gset

SELECT throws_ok('SELECT alfred.distribute()', '0A000',
	format('extension "citus" is not installed in database "%s"', current_database()),
	'distribute() without Citus: 0A000 naming what is missing');
SELECT throws_ok('SELECT alfred.distribute(0)', '0A000', NULL, 'Citus is checked before the arguments');
SELECT is(alfred.is_citus_table('alfred.tasks'), false, 'is_citus_table is false without Citus');
SELECT is((SELECT count(*)::int FROM pg_constraint
			 WHERE connamespace = 'alfred'::regnamespace AND contype = 'f' AND conparentid = 0
			   AND confdelsetcols IS NOT NULL), 12,
	'the failed call changed nothing: the 12 foreign keys ON DELETE SET NULL (col) are there');

SELECT is(pg_get_indexdef('alfred.tasks_id_key'::regclass),
	'CREATE UNIQUE INDEX tasks_id_key ON alfred.tasks USING btree (id, user_id)',
	'the index for lookups by id contains user_id (Citus requires it)');
SELECT is(pg_get_indexdef('alfred.sessions_token_hash_key'::regclass),
	'CREATE UNIQUE INDEX sessions_token_hash_key ON alfred.sessions USING btree (token_hash, user_id)',
	'so does the index for lookups by token');

SELECT alfred.act_as(:'ann');
SET LOCAL ROLE tap_citus_app;
SELECT throws_ok('SELECT alfred.distribute()', '42501', NULL, 'an application role may not distribute');
SELECT is(alfred.owner_of('alfred.tasks', :'anns_task'), :'ann'::uuid, 'owner_of her task: her');
SELECT is(alfred.owner_of('alfred.tasks', :'bobs_task'), NULL, 'owner_of another user''s task: NULL (row-level security)');
SELECT throws_ok(format('SELECT alfred.complete_task(%L)', :'bobs_task'), 'P0002', NULL,
	'so complete_task still cannot lock it');
RESET ROLE;

-- ON DELETE SET NULL (task_id): natively here, by a trigger on Citus
SELECT alfred.propose(:'ann', 'planner', 'update',
	payload => jsonb_build_object('task_id', :'anns_task', 'title', 'renamed')) AS proposal \gset
DELETE FROM alfred.tasks WHERE user_id = :'ann' AND id = :'anns_task';
SELECT is((SELECT task_id FROM alfred.proposals WHERE id = :'proposal'), NULL,
	'deleting a task keeps its proposals, task_id NULL');
SELECT is((SELECT count(*)::int FROM alfred.proposals WHERE id = :'proposal'), 1, 'the proposal is still there');

-- a user who approved her own proposal can be deleted (on Citus the cascade
-- must run before approved_by's SET NULL, as here: test/citus/distribute.sh)
SELECT alfred.approve(:'proposal');
DELETE FROM alfred.users WHERE id = :'ann';
SELECT is((SELECT count(*)::int FROM alfred.proposals WHERE user_id = :'ann'), 0,
	'deleting a user who approved proposals deletes them');

-- table_ddl: what an upgrade script runs, as on Citus's coordinator
SELECT is(alfred.table_ddl('alfred.tasks', 'ALTER TABLE alfred.tasks ADD COLUMN tap_note text'), true,
	'table_ddl runs an ALTER TABLE on a single node (true)');
SELECT has_column('alfred', 'tasks', 'tap_note', 'the column it added');
SELECT is(alfred.table_ddl('alfred.tasks', 'CREATE INDEX tap_note_idx ON alfred.tasks (user_id, tap_note)'), true,
	'table_ddl creates an index');
SELECT throws_ok($$SELECT alfred.table_ddl('alfred.tasks', NULL)$$, '22004', 'argument "command" must not be null',
	'table_ddl without a command: 22004');
SELECT throws_ok($$SELECT alfred.table_ddl('alfred.tasks', 'ALTER TABLE alfred.tasks ADD COLUMN tap_note text')$$, '42701', NULL,
	'a failing command raises its own error');
SELECT is((SELECT count(*)::int FROM pg_attribute WHERE attrelid = 'alfred.tasks'::regclass AND attname = 'tap_note'), 1,
	'and changes nothing');
SET LOCAL ROLE tap_citus_app;
SELECT throws_ok($$SELECT alfred.table_ddl('alfred.tasks', 'ALTER TABLE alfred.tasks DROP COLUMN tap_note')$$, '42501', NULL,
	'table_ddl is not for the app role (42501)');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
