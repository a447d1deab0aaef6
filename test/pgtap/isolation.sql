-- Isolation between users through row-level security, seen from a
-- non-superuser application role: no read, update, delete or insert across
-- users, no cross-user reference, a plain SET does not switch identity,
-- observers only read, admins see all, assignees see their tasks.
BEGIN;
SELECT plan(337);
SET LOCAL alfred.password_cost = 4;

CREATE ROLE regress_isolation_app;
SELECT alfred.grant_usage('regress_isolation_app');
INSERT INTO alfred.tools (name, kind) VALUES ('regress_isolation_tool', 'external');

SELECT alfred.create_user('ann@isolation.test', 'ann password', 'ann_iso') AS ann \gset
SELECT alfred.create_user('bob@isolation.test', 'bob password', 'bob_iso') AS bob \gset
SELECT alfred.create_user('olga@isolation.test', 'olga password', role => 'observer') AS olga \gset
SELECT alfred.create_user('adam@isolation.test', 'adam password', role => 'admin') AS adam \gset
SELECT alfred.login('ann@isolation.test', 'ann password') AS ann_token \gset
SELECT alfred.login('bob@isolation.test', 'bob password') AS bob_token \gset
SELECT alfred.login('olga@isolation.test', 'olga password') AS olga_token \gset
SELECT alfred.login('adam@isolation.test', 'adam password') AS adam_token \gset

-- One row of every user-owned table for a user (as the superuser).  A new
-- user-owned table needs a row here: the first test counts them.
CREATE FUNCTION pg_temp.fixture(u uuid, tag text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	project uuid; task uuid; task2 uuid; habit uuid; chat uuid; msg uuid; account uuid;
	item uuid; proposal uuid; notification uuid; pattern uuid; sched uuid;
BEGIN
	INSERT INTO alfred.connected_accounts (user_id, provider, provider_account_id, access_token)
		VALUES (u, 'gmail', tag, '\x00') RETURNING id INTO account;
	INSERT INTO alfred.projects (user_id, name) VALUES (u, tag || ' project') RETURNING id INTO project;
	INSERT INTO alfred.project_updates (user_id, project_id, content) VALUES (u, project, tag || ' update');
	INSERT INTO alfred.tasks (user_id, project_id, title) VALUES (u, project, tag || ' task') RETURNING id INTO task;
	INSERT INTO alfred.tasks (user_id, title) VALUES (u, tag || ' second task') RETURNING id INTO task2;
	INSERT INTO alfred.task_dependencies (user_id, task_id, depends_on_task_id) VALUES (u, task, task2);
	INSERT INTO alfred.habits (user_id, name) VALUES (u, tag || ' habit') RETURNING id INTO habit;
	INSERT INTO alfred.habit_logs (user_id, habit_id, logged_date) VALUES (u, habit, '2026-01-01');
	INSERT INTO alfred.chat_sessions (user_id) VALUES (u) RETURNING id INTO chat;
	INSERT INTO alfred.chat_messages (user_id, session_id, role, content) VALUES (u, chat, 'user', 'hi') RETURNING id INTO msg;
	-- ai_contexts, user_settings, proactiveness_settings: create_user made them
	INSERT INTO alfred.learnings (user_id, topic, content) VALUES (u, tag, 'something');
	INSERT INTO alfred.learned_preferences (user_id, key, value) VALUES (u, 'tone', tag);
	INSERT INTO alfred.items (user_id, source_type, source_provider, source_account_id, source_id)
		VALUES (u, 'email', 'gmail', account, tag) RETURNING id INTO item;
	INSERT INTO alfred.item_agent_metadata (user_id, item_id, category) VALUES (u, item, 'fyi');
	INSERT INTO alfred.proposals (user_id, agent_name, action_type, payload, task_id, related_item_id, session_id, message_id)
		VALUES (u, 'planner', 'create_task', '{}', task, item, chat, msg) RETURNING id INTO proposal;
	INSERT INTO alfred.execution_logs (user_id, proposal_id, executor_status) VALUES (u, proposal, 'success');
	INSERT INTO alfred.preference_signals (user_id, proposal_id, item_id, signal_type) VALUES (u, proposal, item, 'approved');
	INSERT INTO alfred.agent_run_logs (user_id, agent_name, context, status) VALUES (u, 'triage', 'refresh_inbox', 'success');
	INSERT INTO alfred.system_logs (user_id, task_id, level, message) VALUES (u, task, 'info', tag);
	INSERT INTO alfred.audit_trail (user_id, action) VALUES (u, 'fixture');
	INSERT INTO alfred.watchers (user_id, name, watcher_type) VALUES (u, tag, 'inbox');
	INSERT INTO alfred.file_attachments (user_id, task_id, filename, original_filename, storage_path)
		VALUES (u, task, 'f', 'f.txt', '/tmp/f');
	INSERT INTO alfred.notifications (user_id, type, title) VALUES (u, 'info', tag) RETURNING id INTO notification;
	INSERT INTO alfred.observed_patterns (user_id, pattern_type, description) VALUES (u, 'time_based', tag) RETURNING id INTO pattern;
	INSERT INTO alfred.scheduled_tasks (user_id, name, task_type, schedule_cron, tool_name, pattern_id)
		VALUES (u, tag, 'recurring', '0 7 * * *', 'regress_isolation_tool', pattern) RETURNING id INTO sched;
	INSERT INTO alfred.task_runs (user_id, task_id, notification_id) VALUES (u, sched, notification);
	INSERT INTO alfred.engagement_events (user_id, suggestion_type, action, source) VALUES (u, 'weather', 'engaged', 'schedule');
	INSERT INTO alfred.calibration_state (user_id, suggestion_type) VALUES (u, 'weather');
	INSERT INTO alfred.ai_usage (user_id, day, used) VALUES (u, '2026-01-01', 1);
	INSERT INTO alfred.scheduler_limits (user_id, max_active_tasks) VALUES (u, 50);
END
$$;
SELECT pg_temp.fixture(:'ann', 'ann');
SELECT pg_temp.fixture(:'bob', 'bob');

-- The tables under test, and what an application role may do with its own rows.
CREATE TEMP TABLE tenant_tables (name text, commands text[]);
INSERT INTO tenant_tables
SELECT c.relname, CASE c.relname WHEN 'sessions' THEN '{DELETE}' WHEN 'system_logs' THEN '{INSERT}'
								 WHEN 'audit_trail' THEN '{}' WHEN 'ai_usage' THEN '{}' WHEN 'scheduler_limits' THEN '{}' ELSE '{INSERT,UPDATE,DELETE}' END::text[]
  FROM pg_class c
 WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'user_id');
GRANT SELECT ON tenant_tables TO regress_isolation_app;

SELECT is((SELECT count(*) FROM tenant_tables), 33::bigint, 'every user-owned table is under test');
SELECT is_empty($$
	SELECT t.name FROM tenant_tables t
	 WHERE (SELECT count(DISTINCT user_id) FROM alfred.sessions) < 2
		OR NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = t.name)
$$, 'fixtures exist');

-- For one table, as the application role with the given identity: what is
-- visible, what UPDATE and DELETE reach, and whether copies of ann's and bob's
-- rows can be inserted.  Returns pgTAP lines (checked after RESET ROLE).
CREATE FUNCTION pg_temp.probe(tbl text, me uuid, other uuid, token text, commands text[])
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	mine bigint; theirs bigint;
	seen_mine bigint; seen_theirs bigint; upd_mine bigint; upd_theirs bigint; del_theirs bigint; del_mine bigint;
	insert_other text := 'no error'; insert_own text := 'no error';
	cols text;	-- the columns an INSERT can write (not generated ones)
BEGIN
	SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
	  FROM pg_attribute
	 WHERE attrelid = format('alfred.%I', tbl)::regclass AND attnum > 0 AND NOT attisdropped
	   AND attgenerated = '';
	EXECUTE format('SELECT count(*) FROM alfred.%I WHERE user_id = $1', tbl) INTO mine USING me;
	EXECUTE format('SELECT count(*) FROM alfred.%I WHERE user_id = $1', tbl) INTO theirs USING other;
	EXECUTE format('CREATE TEMP TABLE probe_rows ON COMMIT DROP AS SELECT * FROM alfred.%I WHERE user_id IN ($1, $2)', tbl)
		USING me, other;
	GRANT SELECT ON probe_rows TO regress_isolation_app;

	SET LOCAL ROLE regress_isolation_app;
	PERFORM alfred.set_session(token);
	EXECUTE format('SELECT count(*) FILTER (WHERE user_id = $1), count(*) FILTER (WHERE user_id = $2) FROM alfred.%I', tbl)
		INTO seen_mine, seen_theirs USING me, other;
	IF 'UPDATE' = ANY (commands) THEN
		EXECUTE format('UPDATE alfred.%I SET user_id = user_id WHERE user_id = $1', tbl) USING me;
		GET DIAGNOSTICS upd_mine = ROW_COUNT;
		EXECUTE format('UPDATE alfred.%I SET user_id = user_id WHERE user_id = $1', tbl) USING other;
		GET DIAGNOSTICS upd_theirs = ROW_COUNT;
	END IF;
	IF 'DELETE' = ANY (commands) THEN
		EXECUTE format('DELETE FROM alfred.%I WHERE user_id = $1', tbl) USING other;
		GET DIAGNOSTICS del_theirs = ROW_COUNT;
		-- Deleting my rows works; undone at once, so cascades leave later tables intact.
		BEGIN
			EXECUTE format('DELETE FROM alfred.%I WHERE user_id = $1', tbl) USING me;
			GET DIAGNOSTICS del_mine = ROW_COUNT;
			RAISE EXCEPTION 'undo' USING ERRCODE = 'P0001';
		EXCEPTION WHEN raise_exception THEN
			NULL;
		END;
	END IF;
	IF 'INSERT' = ANY (commands) THEN
		-- Copies of the other user's rows: refused by the policy (the ids
		-- are taken, so without the policy a unique violation would show).
		BEGIN
			EXECUTE format('INSERT INTO alfred.%I (%s) SELECT %s FROM probe_rows WHERE user_id = $1', tbl, cols, cols)
				USING other;
		EXCEPTION WHEN OTHERS THEN
			insert_other := SQLSTATE;
		END;
		-- Copies of my own rows pass the policy and hit the primary key.
		BEGIN
			EXECUTE format('INSERT INTO alfred.%I (%s) SELECT %s FROM probe_rows WHERE user_id = $1', tbl, cols, cols)
				USING me;
		EXCEPTION WHEN OTHERS THEN
			insert_own := SQLSTATE;
		END;
	END IF;
	PERFORM alfred.reset_identity();
	RESET ROLE;
	DROP TABLE probe_rows;

	RETURN NEXT cmp_ok(mine, '>', 0::bigint, tbl || ': the fixture has rows of the user');
	RETURN NEXT cmp_ok(theirs, '>', 0::bigint, tbl || ': the fixture has rows of another user');
	RETURN NEXT is(seen_mine, mine, tbl || ': the user sees all their rows');
	RETURN NEXT is(seen_theirs, 0::bigint, tbl || ': the user sees none of another user''s rows');
	IF 'UPDATE' = ANY (commands) THEN
		RETURN NEXT is(upd_mine, mine, tbl || ': the user updates their rows');
		RETURN NEXT is(upd_theirs, 0::bigint, tbl || ': UPDATE does not reach another user''s rows');
	END IF;
	IF 'DELETE' = ANY (commands) THEN
		RETURN NEXT is(del_mine, mine, tbl || ': the user deletes their rows');
		RETURN NEXT is(del_theirs, 0::bigint, tbl || ': DELETE does not reach another user''s rows');
	END IF;
	IF 'INSERT' = ANY (commands) THEN
		RETURN NEXT is(insert_other, '42501', tbl || ': inserting a row for another user is refused');
		-- runs and OAuth tokens are written only by the scheduler, agents and the token
		-- functions: their guard triggers refuse even the user's own row
		IF tbl IN ('task_runs', 'connected_accounts') THEN
			RETURN NEXT is(insert_own, '42501', tbl || ': inserting their own row is refused by the guard trigger');
		ELSE
			RETURN NEXT is(insert_own, '23505', tbl || ': inserting their own row passes the policy');
		END IF;
	END IF;
END
$$;

SELECT pg_temp.probe(t.name, :'ann', :'bob', :'ann_token', t.commands) FROM tenant_tables t ORDER BY t.name;

-- Identity comes only from set_session or act_as.
SELECT (SELECT id FROM alfred.projects WHERE user_id = :'bob') AS bob_project,
	   (SELECT id FROM alfred.habits WHERE user_id = :'bob') AS bob_habit,
	   (SELECT id FROM alfred.tasks WHERE user_id = :'bob' AND title = 'bob task') AS bob_task \gset
SET ROLE regress_isolation_app;
SELECT is((SELECT count(*) FROM alfred.tasks), 0::bigint, 'without an identity the application role sees no task');
SELECT throws_ok(format('SET alfred.user_id = %L', :'ann'), '42602', NULL, 'a plain SET alfred.user_id is refused');
SELECT throws_ok(format('SELECT set_config(%L, %L, false)', 'alfred.user_id', :'ann'), '42602', NULL,
				 'set_config(''alfred.user_id'') is refused');
SELECT is(alfred.current_user_id(), NULL, 'and grants no identity');
SELECT throws_ok(format('SELECT alfred.act_as(%L)', :'ann'), '42501', NULL,
				 'an application role that is not in alfred_service cannot act_as');
SELECT throws_ok('SELECT alfred.set_session(''forged'')', '28000', NULL, 'a forged token is refused');

-- Ann: no cross-user reference, whatever the policies allow.
SELECT alfred.set_session(:'ann_token') AS ignored \gset
SELECT throws_ok(format($$INSERT INTO alfred.tasks (user_id, project_id, title) VALUES (%L, %L, 'steal')$$,
						:'ann', :'bob_project'),
				 '23503', NULL, 'a task cannot point at another user''s project');
SELECT throws_ok(format($$INSERT INTO alfred.habit_logs (user_id, habit_id, logged_date) VALUES (%L, %L, '2026-01-02')$$,
						:'ann', :'bob_habit'),
				 '23503', NULL, 'a habit log cannot point at another user''s habit');
SELECT throws_ok(format($$UPDATE alfred.proposals SET task_id = %L WHERE user_id = %L$$,
						:'bob_task', :'ann'),
				 '23503', NULL, 'a proposal cannot point at another user''s task');
SELECT throws_ok(format($$UPDATE alfred.tasks SET user_id = %L WHERE user_id = %L$$, :'bob', :'ann'),
				 '42501', NULL, 'a row cannot be moved to another user');
SELECT results_eq('SELECT title FROM alfred.task_summary ORDER BY title',
				  ARRAY['ann second task', 'ann task'], 'task_summary shows only the caller''s tasks');
SELECT is((SELECT count(*) FROM alfred.daily_activity), 1::bigint, 'daily_activity counts only the caller''s logs');

-- Ann's own account: visible without the password hash, and no promotion.
SELECT results_eq('SELECT email FROM alfred.users', ARRAY['ann@isolation.test'], 'a user sees only their own account');
SELECT throws_ok('SELECT password_hash FROM alfred.users', '42501', NULL, 'password hashes are not readable');
SELECT results_eq($$WITH u AS (UPDATE alfred.users SET display_name = 'Ann I.' RETURNING 1) SELECT count(*) FROM u$$,
				  ARRAY[1::bigint], 'a user renames themselves');
SELECT throws_ok($$UPDATE alfred.users SET role = 'admin'$$, '42501', NULL, 'a user cannot change their role');
SELECT is((SELECT count(*) FROM alfred.sessions), 1::bigint, 'a user sees only their own sessions');

-- Seed 004: the assignee of a task sees it and may update it, but not hand it on.
RESET ROLE;
UPDATE alfred.tasks SET assigned_to = :'ann' WHERE user_id = :'bob' AND title = 'bob task';
SET ROLE regress_isolation_app;
SELECT results_eq('SELECT title FROM alfred.tasks WHERE user_id <> alfred.current_user_id()', ARRAY['bob task'],
				  'the assignee sees the task assigned to them');
SELECT results_eq($$WITH u AS (UPDATE alfred.tasks SET status = 'in_progress' WHERE title = 'bob task' RETURNING 1)
					SELECT count(*) FROM u$$, ARRAY[1::bigint], 'the assignee updates it');
SELECT throws_ok($$UPDATE alfred.tasks SET assigned_to = NULL WHERE title = 'bob task'$$, '42501', NULL,
				 'the assignee cannot hand it on');
SELECT results_eq($$WITH d AS (DELETE FROM alfred.tasks WHERE title = 'bob task' RETURNING 1) SELECT count(*) FROM d$$,
				  ARRAY[0::bigint], 'the assignee cannot delete it');
SELECT alfred.reset_identity() AS ignored \gset

-- Olga, an observer, reads everything and writes nothing.
SELECT alfred.set_session(:'olga_token') AS ignored \gset
SELECT is((SELECT count(DISTINCT user_id) FROM alfred.tasks), 2::bigint, 'an observer reads every user''s tasks');
SELECT is((SELECT count(*) FROM alfred.users), 4::bigint, 'an observer reads every account');
SELECT throws_ok(format($$INSERT INTO alfred.tasks (user_id, title) VALUES (%L, 'mine')$$, :'olga'), '42501', NULL,
				 'an observer cannot insert even for themselves');
SELECT results_eq($$WITH u AS (UPDATE alfred.tasks SET title = 'x' RETURNING 1) SELECT count(*) FROM u$$,
				  ARRAY[0::bigint], 'an observer updates nothing');
SELECT results_eq($$WITH d AS (DELETE FROM alfred.habits RETURNING 1) SELECT count(*) FROM d$$,
				  ARRAY[0::bigint], 'an observer deletes nothing');
SELECT alfred.reset_identity() AS ignored \gset

-- Adam, an admin, sees and changes all.
SELECT alfred.set_session(:'adam_token') AS ignored \gset
SELECT is((SELECT count(*) FROM alfred.users), 4::bigint, 'an admin sees every account');
SELECT is((SELECT count(DISTINCT user_id) FROM alfred.habits), 2::bigint, 'an admin sees every user''s habits');
SELECT results_eq($$WITH u AS (UPDATE alfred.habits SET active = false RETURNING 1) SELECT count(*) FROM u$$,
				  ARRAY[2::bigint], 'an admin updates every user''s rows');
SELECT lives_ok(format($$INSERT INTO alfred.tasks (user_id, title) VALUES (%L, 'from the admin')$$, :'bob'),
				'an admin inserts for another user');
SELECT results_eq(format($$WITH u AS (UPDATE alfred.users SET display_name = 'Bob' WHERE id = %L RETURNING 1)
						   SELECT count(*) FROM u$$, :'bob'),
				  ARRAY[1::bigint], 'an admin updates another user''s account');
SELECT alfred.reset_identity() AS ignored \gset
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
