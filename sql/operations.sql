-- Operations: the audit trail written by triggers, encrypted OAuth tokens,
-- retention (run_maintenance), schedule_maintenance and health().
-- Everything runs in one transaction that is rolled back at the end.
SET timezone = 'UTC';
SET alfred.password_cost = 4;
\set SHOW_CONTEXT never
\set ON_ERROR_ROLLBACK on
BEGIN;
-- Runs a statement and shows its SQLSTATE and message with ids masked.
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN others THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '[0-9a-f]{8}-[0-9a-f-]{27}', '<id>', 'g');
END $$;

------------------------------------------------------------------------------
-- Audit trail
------------------------------------------------------------------------------
SELECT alfred.create_user('ops-ann@example.com', 'correct horse', 'opsann') AS ann \gset
SELECT alfred.create_user('ops-root@example.com', 'correct horse', 'opsroot', role => 'admin') AS root \gset
-- The user's creation is audited without the password hash.
SELECT action, entity_type, entity_id = :'ann' AS is_ann, user_id, db_role = session_user AS by_session_role,
       new_values->>'email' AS email, new_values->>'password_hash' AS password_hash
  FROM alfred.audit_trail WHERE entity_id = :'ann';

-- Acting as Ann: her task's insert, update and delete are audited with her as actor.
SELECT alfred.act_as(:'ann', local => false) IS NOT NULL AS acting;
INSERT INTO alfred.tasks (user_id, title) VALUES (:'ann', 'Write report') RETURNING id AS task \gset
UPDATE alfred.tasks SET title = 'Write the report', priority = 'high' WHERE id = :'task';
UPDATE alfred.tasks SET updated_at = updated_at WHERE id = :'task';	-- changes nothing: not audited
DELETE FROM alfred.tasks WHERE id = :'task';
SELECT action, user_id = :'ann' AS by_ann, old_values,
       CASE action WHEN 'insert' THEN jsonb_build_object('title', new_values->'title', 'priority', new_values->'priority')
                   ELSE new_values END AS new_values
  FROM alfred.audit_trail WHERE entity_type = 'tasks' AND entity_id = :'task' AND action <> 'delete'
 ORDER BY array_position(ARRAY['insert', 'update', 'delete'], action);
SELECT action, old_values->>'title' AS title FROM alfred.audit_trail
 WHERE entity_type = 'tasks' AND entity_id = :'task' AND action = 'delete';
-- A proposal's update (a trigger without bookkeeping arguments) is audited too.
SELECT alfred.propose(:'ann', 'planner', 'create', '{"title": "Buy milk"}') AS proposal \gset
SELECT (alfred.reject(:'proposal', 'not now')).status;
SELECT action, old_values->>'status' AS old_status, new_values->>'status' AS new_status,
       new_values->>'rejection_reason' AS reason
  FROM alfred.audit_trail WHERE entity_type = 'proposals' AND entity_id = :'proposal'
 ORDER BY array_position(ARRAY['insert', 'update', 'delete'], action);
SELECT alfred.reset_identity();

-- A password change is recorded as redacted; last_login_at alone is not audited.
UPDATE alfred.users SET last_login_at = '2026-01-01' WHERE id = :'ann';
UPDATE alfred.users SET password_hash = crypt('another one', gen_salt('bf', 4)) WHERE id = :'ann';
SELECT action, old_values, new_values FROM alfred.audit_trail
 WHERE entity_id = :'ann' AND action = 'update';

------------------------------------------------------------------------------
-- OAuth tokens, used by an application role (not a superuser) acting for Ann
------------------------------------------------------------------------------
CREATE ROLE ops_app;
SELECT alfred.grant_usage('ops_app');
SELECT alfred.act_as(:'ann', local => false) IS NOT NULL AS acting;
SET ROLE ops_app;
-- No key anywhere: refused, nothing stored.
SELECT alfred.connect_account(:'ann', 'gmail', 'ya29.secret-access', 'refresh-1');
SELECT alfred.connect_account(:'ann', 'gmail', 'ya29.secret-access', key => 'short');
SELECT alfred.connect_account(:'ann', 'gmail', '', key => 'a key of sixteen chars');
SELECT pg_temp.try(format('SELECT alfred.connect_account(%L, ''gmail'', ''x'', key => ''a key of sixteen chars'')', :'root'));
SELECT count(*) AS accounts FROM alfred.connected_accounts;
SELECT alfred.connect_account(:'ann', 'gmail', 'ya29.secret-access', 'refresh-1', '2026-12-01 10:00+00',
                              provider_account_id => 'ann@gmail.example', key => 'a key of sixteen chars') AS acct \gset
-- Stored encrypted: the plain token appears nowhere in the row.
SELECT position('ya29' IN encode(access_token, 'escape')) AS plain_access,
       position('refresh-1' IN encode(refresh_token, 'escape')) AS plain_refresh
  FROM alfred.connected_accounts WHERE id = :'acct';
SELECT * FROM alfred.account_tokens(:'acct', 'a key of sixteen chars');
SELECT pg_temp.try(format('SELECT alfred.account_tokens(%L, ''the wrong key, 16+'')', :'acct'));
-- Refresh: a new access token, the refresh token kept.
SELECT alfred.set_account_tokens(:'acct', 'ya29.new-access', key => 'a key of sixteen chars');
SELECT * FROM alfred.account_tokens(:'acct', 'a key of sixteen chars');
-- The audit trail never holds the tokens.
SELECT action, new_values->>'access_token' AS access_token, old_values->>'access_token' AS old_access_token
  FROM alfred.audit_trail WHERE entity_id = :'acct' ORDER BY created_at, action;
RESET ROLE;
-- Another user cannot reach Ann's account, as if it did not exist.
SELECT alfred.create_user('ops-bob@example.com', 'correct horse', 'opsbob') AS bob \gset
SELECT alfred.act_as(:'bob', local => false) IS NOT NULL AS acting;
SET ROLE ops_app;
SELECT pg_temp.try(format('SELECT alfred.account_tokens(%L, ''a key of sixteen chars'')', :'acct'));
SELECT pg_temp.try(format('SELECT alfred.set_account_tokens(%L, ''stolen'', key => ''a key of sixteen chars'')', :'acct'));
-- Nor read the encryption key.
SELECT alfred.token_key(NULL);
SHOW alfred.token_key;
RESET ROLE;
-- The key may come from the superuser-only setting instead of the caller.
SET alfred.token_key = 'a key of sixteen chars';
SELECT access_token FROM alfred.account_tokens(:'acct');
RESET alfred.token_key;
SELECT alfred.reset_identity();

------------------------------------------------------------------------------
-- Retention
------------------------------------------------------------------------------
SELECT relation, keep FROM alfred.retention ORDER BY relation;
INSERT INTO alfred.chat_sessions (user_id, id) VALUES (:'ann', '00000000-0000-0000-0000-0000000000c1');
INSERT INTO alfred.chat_messages (user_id, session_id, role, content, created_at) VALUES
  (:'ann', '00000000-0000-0000-0000-0000000000c1', 'user', 'old', '2026-01-01'),
  (:'ann', '00000000-0000-0000-0000-0000000000c1', 'user', 'new', '2026-05-01');
INSERT INTO alfred.notifications (user_id, type, title, status, sent_at) VALUES
  (:'ann', 'info', 'sent long ago', 'sent', '2026-03-01'),
  (:'ann', 'info', 'sent lately', 'sent', '2026-05-20'),
  (:'ann', 'info', 'never sent', 'pending', NULL);
INSERT INTO alfred.agent_run_logs (user_id, agent_name, context, status, created_at) VALUES
  (:'ann', 'triage', 'inbox', 'success', '2026-04-01'),
  (:'ann', 'triage', 'inbox', 'success', '2026-05-25');
INSERT INTO alfred.sessions (user_id, token_hash, created_at, expires_at) VALUES
  (:'ann', sha256('t1'), '2026-01-01', '2026-01-02'),
  (:'ann', sha256('t2'), '2026-05-31', '2026-06-30');
CREATE TABLE alfred.system_logs_2020_01 PARTITION OF alfred.system_logs
  FOR VALUES FROM ('2020-01-01 00:00+00') TO ('2020-02-01 00:00+00');
SELECT alfred.run_maintenance('2026-06-01 00:00+00') AS done \gset
SELECT (:'done'::jsonb) -> 'removed' AS removed, (:'done'::jsonb) -> 'log_partitions_dropped' AS dropped;
-- Partitions exist for this month and three ahead.
SELECT count(*) AS partitions_ahead FROM generate_series(0, 3) m
 WHERE to_regclass('alfred.system_logs_' || to_char(now() + make_interval(months => m), 'YYYY_MM')) IS NOT NULL;
SELECT content FROM alfred.chat_messages WHERE user_id = :'ann';
SELECT title FROM alfred.notifications WHERE user_id = :'ann' ORDER BY title;
SELECT count(*) AS sessions_left FROM alfred.sessions WHERE user_id = :'ann';
-- A DBA may keep something forever.
UPDATE alfred.retention SET keep = NULL WHERE relation = 'chat_messages';
SELECT alfred.run_maintenance('2030-01-01 00:00+00') -> 'removed' ? 'chat_messages' AS chat_messages_purged;
-- A retention must be positive.
UPDATE alfred.retention SET keep = '0 days' WHERE relation = 'chat_messages';
SELECT alfred.run_maintenance(NULL);


------------------------------------------------------------------------------
-- schedule_maintenance
------------------------------------------------------------------------------
SELECT alfred.schedule_maintenance('0 3 * *');
SELECT alfred.schedule_maintenance(via => 'systemd');
SELECT alfred.schedule_maintenance(via => 'pg_cron');
SELECT pg_temp.try(format('SELECT alfred.schedule_maintenance(via => ''alfred'', owner => %L)', :'ann'));
SELECT regexp_replace(alfred.schedule_maintenance(via => 'alfred'), '[0-9a-f-]{36}', '<id>') AS registered;
SELECT user_id = :'root' AS owned_by_admin, tool_name, schedule_cron, status, next_run_at > now() AS ahead
  FROM alfred.scheduled_tasks WHERE tool_name = 'run_maintenance';
-- Registering again replaces the task.
SELECT regexp_replace(alfred.schedule_maintenance('30 4 * * *', via => 'alfred'), '[0-9a-f-]{36}', '<id>') AS registered;
SELECT schedule_cron, status FROM alfred.scheduled_tasks WHERE tool_name = 'run_maintenance' ORDER BY status;

------------------------------------------------------------------------------
-- health()
------------------------------------------------------------------------------
SELECT jsonb_object_keys(alfred.health()) AS key ORDER BY 1;
SELECT (alfred.health('2030-01-01') ->> 'due_tasks')::int >= 1 AS maintenance_due_by_2030;

ROLLBACK;
