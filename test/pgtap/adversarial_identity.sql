-- Identity as a hostile tenant would try it, seen from the documented roles
-- (an application role, an agent in alfred_service, observer and admin
-- users): an identity set in a savepoint or an exception block does not
-- survive its rollback, a suspended or inactive user's open session reads
-- nothing from its next statement on, nothing a scheduled tool does to the
-- identity outlives the tool, and blank-looking text is refused wherever
-- blank text is.  (What happens at COMMIT, and through PgBouncer, needs real
-- transactions: sql/identity.sql and test/integration/pgbouncer.sh.)
BEGIN;
SELECT plan(54);
SET LOCAL alfred.password_cost = 4;
SET LOCAL client_min_messages = warning;

CREATE ROLE tap_adv_app;
SELECT alfred.grant_usage('tap_adv_app');
DO $$
BEGIN
	CREATE ROLE alfred_service NOLOGIN;
EXCEPTION WHEN duplicate_object THEN
	NULL;
END
$$;
SELECT alfred.grant_usage('alfred_service');
CREATE ROLE tap_adv_agent IN ROLE alfred_service;

SELECT alfred.create_user('ann@adversarial.test', 'ann password') AS ann \gset
SELECT alfred.create_user('bob@adversarial.test', 'bob password') AS bob \gset
SELECT alfred.create_user('olga@adversarial.test', 'olga password', role => 'observer') AS olga \gset
SELECT alfred.create_user('adam@adversarial.test', 'adam password', role => 'admin') AS adam \gset
SELECT alfred.login('ann@adversarial.test', 'ann password') AS ann_token \gset
SELECT alfred.login('bob@adversarial.test', 'bob password') AS bob_token \gset
SELECT alfred.login('olga@adversarial.test', 'olga password') AS olga_token \gset
SELECT alfred.login('adam@adversarial.test', 'adam password') AS adam_token \gset
INSERT INTO alfred.tasks (user_id, title) VALUES (:'ann', 'ann one'), (:'ann', 'ann two');
INSERT INTO alfred.tasks (user_id, title, assigned_to) VALUES (:'ann', 'ann for bob', :'bob');
INSERT INTO alfred.tasks (user_id, title) VALUES (:'bob', 'bob one');
INSERT INTO alfred.habits (user_id, name) VALUES (:'ann', 'ann habit');

CREATE FUNCTION pg_temp.switch_then_fail(token text, local boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM alfred.set_session(token, local);
	RAISE EXCEPTION 'failing after the switch';
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.switch_then_fail(text, boolean) TO tap_adv_app;

------------------------------------------------------------------------------
-- Savepoints and exception blocks, as the application role
------------------------------------------------------------------------------
SET LOCAL ROLE tap_adv_app;
SELECT is(alfred.set_session(:'ann_token'), :'ann'::uuid, 'app: set_session(token) with the default scope');
SELECT is(alfred.current_user_id(), :'ann'::uuid, 'the default scope lasts for the rest of the transaction');

SAVEPOINT s1;
SELECT is(alfred.set_session(:'bob_token'), :'bob'::uuid, 'bob inside a savepoint');
SELECT is((SELECT count(*) FROM alfred.tasks), 2::bigint, 'and bob reads his own task and the one assigned to him');
ROLLBACK TO s1;
SELECT is(alfred.current_user_id(), :'ann'::uuid, 'ROLLBACK TO undoes set_session: ann again');
SELECT is((SELECT count(*) FROM alfred.tasks), 3::bigint, 'and row-level security follows: ann''s three tasks');

SAVEPOINT s2;
SELECT is(alfred.set_session(:'bob_token', local => false), :'bob'::uuid, 'bob for the session, inside a savepoint');
ROLLBACK TO s2;
SELECT is(alfred.current_user_id(), :'ann'::uuid, 'ROLLBACK TO undoes a session-scope change too');

SELECT throws_ok(format('SELECT pg_temp.switch_then_fail(%L, false)', :'bob_token'), 'P0001',
				 'failing after the switch', 'a function switches to bob, then fails');
SELECT is(alfred.current_user_id(), :'ann'::uuid, 'the failed exception block took bob with it');
SELECT throws_ok(format('SELECT pg_temp.switch_then_fail(%L, true)', :'bob_token'), 'P0001',
				 'failing after the switch', 'the same with local => true');
SELECT is(alfred.current_user_id(), :'ann'::uuid, 'still ann');

DO $$
DECLARE
	inside uuid;
BEGIN
	BEGIN
		PERFORM alfred.reset_identity();
		inside := alfred.current_user_id();
		RAISE EXCEPTION 'undo';
	EXCEPTION WHEN raise_exception THEN
		-- the handler already runs with the identity restored
		PERFORM set_config('tap.inside', coalesce(inside::text, 'nobody'), true);
		PERFORM set_config('tap.handler', alfred.current_user_id()::text, true);
	END;
END
$$;
SELECT is((current_setting('tap.inside'), current_setting('tap.handler')), ('nobody'::text, :'ann'::text),
		  'a PL/pgSQL exception block: nobody inside it, ann again in its handler');

-- Nested savepoints: an inner rollback restores the inner start, a released
-- savepoint's change belongs to its parent and goes with the parent's rollback.
SAVEPOINT a;
SELECT alfred.set_session(:'bob_token') \gset
SAVEPOINT b;
SELECT alfred.set_session(:'olga_token') \gset
SAVEPOINT c;
SELECT alfred.reset_identity() \gset
ROLLBACK TO c;
SELECT is(alfred.current_user_id(), :'olga'::uuid, 'nested: ROLLBACK TO the innermost savepoint gives olga back');
ROLLBACK TO b;
SELECT is(alfred.current_user_id(), :'bob'::uuid, 'then ROLLBACK TO the middle one gives bob back');
RELEASE a;
SELECT is(alfred.current_user_id(), :'bob'::uuid, 'RELEASE keeps bob');
SAVEPOINT d;
SAVEPOINT e;
SELECT alfred.set_session(:'adam_token') \gset
RELEASE e;
SELECT is(alfred.current_user_id(), :'adam'::uuid, 'a change in a released savepoint stays');
ROLLBACK TO d;
SELECT is(alfred.current_user_id(), :'bob'::uuid, '... until its parent rolls back');
SAVEPOINT f;
SELECT alfred.set_session(:'adam_token') \gset
SAVEPOINT g;
SELECT alfred.set_session(:'olga_token') \gset
RELEASE g;
ROLLBACK TO f;
SELECT is(alfred.current_user_id(), :'bob'::uuid, 'changes in a savepoint and its released child roll back to the savepoint''s start');
SELECT throws_ok(format('SELECT alfred.set_session(%L)', 'forged'), '28000', NULL, 'a forged token is refused');
SELECT is(alfred.current_user_id(), :'bob'::uuid, 'and a refused set_session changes nothing');
SELECT throws_ok(format('SELECT alfred.act_as(%L)', :'adam'), '42501', NULL, 'the app role may not act_as');
SELECT is(alfred.current_user_id(), :'bob'::uuid, 'nor does a refused act_as');
RESET ROLE;

------------------------------------------------------------------------------
-- The agent (alfred_service) and act_as
------------------------------------------------------------------------------
SET LOCAL ROLE tap_adv_agent;
SELECT is(alfred.act_as(:'ann'), :'ann'::uuid, 'agent: act_as(ann) with the default scope');
SAVEPOINT h;
SELECT is(alfred.act_as(:'bob', local => false), :'bob'::uuid, 'agent: act_as(bob) for the session, in a savepoint');
ROLLBACK TO h;
SELECT is(alfred.current_user_id(), :'ann'::uuid, 'ROLLBACK TO undoes act_as');
SELECT is((SELECT count(*) FROM alfred.tasks), 3::bigint, 'agent acting as ann reads ann''s tasks');
RESET ROLE;

------------------------------------------------------------------------------
-- A user who is no longer active reads nothing, at once
------------------------------------------------------------------------------
SET LOCAL ROLE tap_adv_app;
SELECT alfred.set_session(:'ann_token') \gset
SELECT is((SELECT count(*) FROM alfred.tasks) + (SELECT count(*) FROM alfred.habits)
		  + (SELECT count(*) FROM alfred.users), 5::bigint, 'ann reads her tasks, habit and account');
RESET ROLE;
UPDATE alfred.users SET status = 'suspended' WHERE id = :'ann';
SET LOCAL ROLE tap_adv_app;
SELECT is(alfred.current_user_id(), :'ann'::uuid, 'suspended: the open session still names ann');
SELECT is((SELECT count(*) FROM alfred.tasks), 0::bigint, 'but reads none of her tasks from the next statement on');
SELECT is((SELECT count(*) FROM alfred.habits), 0::bigint, 'nor her habits');
SELECT is((SELECT count(*) FROM alfred.users), 0::bigint, 'nor her account');
SELECT is(alfred.readable_user_ids(), '{}'::uuid[], 'readable_user_ids is empty');
SELECT throws_ok(format('INSERT INTO alfred.tasks (user_id, title) VALUES (%L, %L)', :'ann', 'sneaky'),
				 '42501', NULL, 'and writes are refused');
RESET ROLE;
UPDATE alfred.users SET status = 'inactive' WHERE id = :'ann';
SET LOCAL ROLE tap_adv_app;
SELECT is((SELECT count(*) FROM alfred.tasks), 0::bigint, 'inactive: the same');
RESET ROLE;
UPDATE alfred.users SET status = 'active' WHERE id = :'ann';
SET LOCAL ROLE tap_adv_app;
SELECT is((SELECT count(*) FROM alfred.tasks), 3::bigint, 'reactivated: her rows are back');

SELECT alfred.set_session(:'bob_token') \gset
SELECT is((SELECT count(*) FROM alfred.tasks WHERE user_id = :'ann'), 1::bigint, 'bob reads the task assigned to him');
RESET ROLE;
UPDATE alfred.users SET status = 'suspended' WHERE id = :'bob';
SET LOCAL ROLE tap_adv_app;
SELECT is((SELECT count(*) FROM alfred.tasks), 0::bigint, 'suspended bob reads neither his task nor the assigned one');
RESET ROLE;

UPDATE alfred.users SET status = 'suspended' WHERE id IN (:'olga', :'adam');
SET LOCAL ROLE tap_adv_app;
SELECT throws_ok(format('SELECT alfred.set_session(%L)', :'olga_token'), '28000', NULL,
				 'set_session with a suspended observer''s token fails');
RESET ROLE;
UPDATE alfred.users SET status = 'active' WHERE id = :'olga';
SELECT alfred.act_as(:'olga') \gset
UPDATE alfred.users SET status = 'suspended' WHERE id = :'olga';
SET LOCAL ROLE tap_adv_app;
SELECT is((SELECT count(*) FROM alfred.tasks), 0::bigint, 'a suspended observer reads nothing');
RESET ROLE;
UPDATE alfred.users SET status = 'active' WHERE id = :'adam';
SELECT alfred.act_as(:'adam') \gset
UPDATE alfred.users SET status = 'suspended' WHERE id = :'adam';
SET LOCAL ROLE tap_adv_app;
SELECT is((SELECT count(*) FROM alfred.tasks), 0::bigint, 'a suspended admin reads nothing');
RESET ROLE;
SET LOCAL ROLE tap_adv_agent;
SELECT throws_ok(format('SELECT alfred.act_as(%L)', :'adam'), '22023', NULL, 'the agent cannot act_as a suspended user');
RESET ROLE;
UPDATE alfred.users SET status = 'active' WHERE id IN (:'bob', :'olga', :'adam');

------------------------------------------------------------------------------
-- Nothing a scheduled tool does to the identity outlives the tool
------------------------------------------------------------------------------
CREATE FUNCTION public.tap_adv_identity_tool(user_id uuid, args jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM alfred.act_as((args->>'as')::uuid, local => false);
	IF (args->>'fail')::boolean THEN
		RAISE EXCEPTION 'tool fails after act_as';
	END IF;
	RETURN jsonb_build_object('title', 'ran as ' || alfred.current_user_id());
END
$$;
SELECT alfred.register_tool('tap_adv_identity_tool', 'public.tap_adv_identity_tool(uuid, jsonb)'::regprocedure) \gset
SELECT alfred.schedule_task(:'ann', 'switches', 'tap_adv_identity_tool', jsonb_build_object('as', :'adam', 'fail', false),
							at => '2100-01-01 09:00') \gset
SELECT alfred.schedule_task(:'bob', 'switches and fails', 'tap_adv_identity_tool',
							jsonb_build_object('as', :'adam', 'fail', true), at => '2100-01-01 09:00', max_retries => 0) \gset
SELECT alfred.act_as(:'olga') \gset
SELECT is(alfred.run_due_tasks('2100-01-01 09:00:01'), 2, 'the tick runs both tools (each switches to adam)');
SELECT is(alfred.current_user_id(), :'olga'::uuid, 'after the tick the identity is the one before it');
SELECT is((SELECT array_agg(r.status ORDER BY r.status) FROM alfred.task_runs r
			JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
		   WHERE t.tool_name = 'tap_adv_identity_tool'), ARRAY['failed', 'succeeded'],
		  'one run succeeded and one failed');
SELECT alfred.reset_identity(local => true) \gset

------------------------------------------------------------------------------
-- Blank-looking text is blank
------------------------------------------------------------------------------
SELECT is(array_agg(alfred.is_blank(t) ORDER BY n), array_fill(true, ARRAY[count(*)::int]),
		  'is_blank: empty, spaces, tab, newline, CR, vertical tab, form feed, NBSP, ideographic, em, thin, zero-width spaces, BOM, line separator, mixed')
  FROM (VALUES (1, ''), (2, '   '), (3, E'\t'), (4, E'\n'), (5, E'\r'), (6, E'\x0B'), (7, E'\f'),
			   (8, U&'\00A0'), (9, U&'\3000'), (10, U&'\2003'), (11, U&'\2009'), (12, U&'\200B'),
			   (13, U&'\FEFF'), (14, U&'\2028'), (15, U&'\0085'), (16, U&' \00A0' || E'\t' || U&'\2002\202F\205F\1680' || E'\n')) AS v (n, t);
SELECT is(array_agg(alfred.is_blank(t) ORDER BY n), ARRAY[false, false, false, false, false],
		  'is_blank: text with anything visible is not blank')
  FROM (VALUES (1, 'a'), (2, U&'\00A0x\00A0'), (3, U&'\3000\5B57'), (4, E'\t.\n'), (5, U&'\00E9')) AS v (n, t);
SELECT is(alfred.is_blank(NULL), NULL, 'is_blank(NULL) is NULL (CHECK constraints let NULL columns be)');
SET LOCAL ROLE tap_adv_app;
SELECT alfred.set_session(:'ann_token') \gset
SELECT throws_ok(format('INSERT INTO alfred.tasks (user_id, title) VALUES (%L, %L)', :'ann', t), '23514', NULL,
				 format('a task titled %s is refused', d))
  FROM (VALUES (E'\t\n', 'tab and newline'), (U&'\00A0\00A0', 'no-break spaces'),
			   (U&'\3000\2003', 'ideographic and em spaces'), (U&'\200B', 'a zero-width space')) AS v (t, d);
SELECT throws_ok(format('UPDATE alfred.habits SET name = %L WHERE user_id = %L', U&'\00A0', :'ann'), '23514', NULL,
				 'renaming a habit to a no-break space is refused');
SELECT throws_ok(format('SELECT alfred.record_engagement(%L, %L, %L, %L)', :'ann', U&'\00A0' || E'\t', 'engaged', 'push'),
				 '22023', 'suggestion type must not be empty', 'record_engagement refuses a blank-looking suggestion type');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
