-- Identity: accounts, sessions, set_session/act_as/reset_identity, and the
-- rule that no SET can forge an identity.
SET timezone = 'UTC';
SET alfred.password_cost = 4;
\set SHOW_CONTEXT never

-- create_user makes the account and its settings rows.
SELECT alfred.create_user('ann@example.com', 'correct horse', 'ann', 'Ann', 'Europe/Paris') AS ann \gset
SELECT alfred.create_user('bob@example.com', 'battery staple', 'bob') AS bob \gset
SELECT email, username, display_name, role, status, timezone,
       password_hash ~ '^\$2a\$04\$' AS bcrypt_cost_4, last_login_at
  FROM alfred.users ORDER BY email;
SELECT (SELECT count(*) FROM alfred.user_settings) AS settings,
       (SELECT count(*) FROM alfred.proactiveness_settings) AS proactiveness;

-- Bad input is refused with a clear message and changes nothing.
SELECT alfred.create_user('ANN@example.com', 'whatever123');
SELECT alfred.create_user('carl@example.com', 'whatever123', 'ANN');
SELECT alfred.create_user('not-an-email', 'whatever123');
SELECT alfred.create_user('carl@example.com', 'short');
SELECT alfred.create_user('carl@example.com', 'whatever123', timezone => 'Mars/Olympus');
SELECT alfred.create_user('carl@example.com', 'whatever123', role => 'root');
SELECT count(*) AS users FROM alfred.users;

-- login: a token on good credentials, NULL otherwise (no hint which part).
SELECT alfred.login('ann@example.com', 'correct horse') AS ann_token \gset
SELECT length(:'ann_token') AS token_length, :'ann_token' ~ '^[0-9a-f]{64}$' AS hex;
SELECT alfred.login('ANN@example.com', 'correct horse') IS NOT NULL AS email_case_ignored;
SELECT alfred.login('ann@example.com', 'wrong horse') AS wrong_password,
       alfred.login('nobody@example.com', 'correct horse') AS unknown_email;
SELECT alfred.login('ann@example.com', 'correct horse', valid_for => '-1 day');
-- Only the SHA-256 of the token is stored.
SELECT count(*) AS sessions_with_token_digest
  FROM alfred.sessions WHERE token_hash = sha256(convert_to(:'ann_token', 'UTF8'));
SELECT count(*) AS sessions_with_plain_token
  FROM alfred.sessions WHERE position(convert_to(:'ann_token', 'UTF8') IN token_hash) > 0;
SELECT last_login_at IS NOT NULL AS logged_in FROM alfred.users WHERE email = 'ann@example.com';

-- No identity until set_session or act_as; a plain SET is refused.
SELECT alfred.current_user_id() IS NULL AS nobody;
SET alfred.user_id = 'whatever';
SELECT set_config('alfred.user_id', :'bob', false);
SELECT alfred.current_user_id() IS NULL AS still_nobody;

-- set_session: by default the identity ends with its transaction (safe
-- behind a transaction pooler); local => false keeps it for the session.
SELECT alfred.set_session(:'ann_token') = :'ann' AS set_session_returns_ann;
SELECT alfred.current_user_id() IS NULL AS default_ends_with_the_statement;
BEGIN;
SELECT alfred.set_session(:'ann_token') = :'ann' AS ann_in_a_transaction;
SELECT alfred.current_user_id() = :'ann' AS still_ann_inside;
COMMIT;
SELECT alfred.current_user_id() IS NULL AS default_ends_at_commit;
SELECT alfred.set_session(:'ann_token', local => false) = :'ann' AS ann_for_the_session;
SELECT alfred.current_user_id() = :'ann' AS is_ann;
SELECT alfred.set_session('not a token');
SELECT alfred.set_session(NULL);
SELECT alfred.current_user_id() = :'ann' AS failed_set_session_keeps_ann;
SELECT alfred.reset_identity();
SELECT alfred.current_user_id() IS NULL AS reset;

-- local => true lasts for the transaction; an aborted transaction restores.
BEGIN;
SELECT alfred.set_session(:'ann_token', local => true) = :'ann' AS local_ann;
SELECT alfred.current_user_id() = :'ann' AS inside;
COMMIT;
SELECT alfred.current_user_id() IS NULL AS gone_after_commit;
BEGIN;
SELECT alfred.act_as(:'bob') = :'bob' AS bob_in_aborted_xact;
ROLLBACK;
SELECT alfred.current_user_id() IS NULL AS restored_after_rollback;
SELECT alfred.act_as(:'bob') = :'bob' AS act_as_bob_for_a_statement;
SELECT alfred.current_user_id() IS NULL AS act_as_defaults_to_local;
SELECT alfred.act_as(:'bob', local => false) = :'bob' AS act_as_bob;
BEGIN;
SELECT alfred.act_as(:'ann', local => true) = :'ann' AS ann_for_a_while;
COMMIT;
SELECT alfred.current_user_id() = :'bob' AS bob_again;

-- A rolled-back savepoint undoes a change, like SET; a released one keeps it.
BEGIN;
SAVEPOINT a;
SELECT alfred.act_as(:'ann') = :'ann' AS ann_in_savepoint;
ROLLBACK TO a;
SELECT alfred.current_user_id() = :'bob' AS bob_after_rollback_to;
SAVEPOINT b;
SELECT alfred.set_session(:'ann_token', local => false) = :'ann' AS ann_for_the_session_in_savepoint;
SAVEPOINT c;
SELECT alfred.reset_identity(local => false);
ROLLBACK TO c;
SELECT alfred.current_user_id() = :'ann' AS ann_after_inner_rollback;
RELEASE b;
COMMIT;
SELECT alfred.current_user_id() = :'ann' AS released_session_change_committed;
BEGIN;
SAVEPOINT a;
SELECT alfred.act_as(:'bob', local => false) = :'bob' AS bob_for_the_session_in_savepoint;
ROLLBACK TO a;
COMMIT;
SELECT alfred.current_user_id() = :'ann' AS rolled_back_change_not_committed;
-- An exception block is a savepoint too.
SELECT set_config('regress.bob', :'bob', false) IS NOT NULL AS noted;
DO $$
BEGIN
	BEGIN
		PERFORM alfred.act_as(current_setting('regress.bob')::uuid, local => false);
		RAISE EXCEPTION 'undo';
	EXCEPTION WHEN raise_exception THEN
		RAISE NOTICE 'identity after the failed block is ann: %',
			alfred.current_user_id() = (SELECT id FROM alfred.users WHERE email = 'ann@example.com');
	END;
END
$$;
SELECT alfred.current_user_id() = :'ann' AS ann_after_exception_block;
DISCARD ALL;
SELECT alfred.current_user_id() IS NULL AS discard_all_forgets;
SET alfred.password_cost = 4;
\set SHOW_CONTEXT never

-- act_as: unknown or inactive users, and roles that may not.
SELECT alfred.act_as('00000000-0000-0000-0000-000000000000');
CREATE ROLE regress_alfred_app;
CREATE ROLE regress_alfred_agent;
SELECT alfred.grant_usage('regress_alfred_app');
SET ROLE regress_alfred_app;
SELECT alfred.act_as(:'bob');
RESET ROLE;
CREATE ROLE alfred_service NOLOGIN;
SELECT alfred.grant_usage('alfred_service');
GRANT alfred_service TO regress_alfred_agent;
SELECT alfred.caller_is_service() AS superuser_is_service;
SET ROLE regress_alfred_app;
SELECT alfred.caller_is_service() AS app_is_not;
RESET ROLE;
SET ROLE regress_alfred_agent;
SELECT alfred.caller_is_service() AS agent_is;
SELECT alfred.act_as(:'bob') = :'bob' AS service_may_act_as;
SELECT alfred.create_user('olga@example.com', 'observer123', role => 'observer') IS NOT NULL AS service_creates_observer;
RESET ROLE;
SELECT alfred.reset_identity();
SET ROLE regress_alfred_app;
SELECT alfred.create_user('eve@example.com', 'sneaky-admin', role => 'admin');
RESET ROLE;

-- current_user_role follows users.role and status, read at each statement.
SELECT alfred.act_as(:'bob', local => false) = :'bob' AS bob;
SELECT alfred.current_user_role();
SELECT alfred.readable_user_ids() = ARRAY[:'bob']::uuid[] AS reads_self,
	   alfred.writable_user_ids() = ARRAY[:'bob']::uuid[] AS writes_self;
UPDATE alfred.users SET role = 'observer' WHERE id = :'bob';
SELECT alfred.current_user_role();
SELECT cardinality(alfred.readable_user_ids()) = (SELECT count(*) FROM alfred.users) AS observer_reads_all,
	   alfred.writable_user_ids() AS observer_writes;
UPDATE alfred.users SET role = 'admin' WHERE id = :'bob';
SELECT cardinality(alfred.writable_user_ids()) = (SELECT count(*) FROM alfred.users) AS admin_writes_all;
UPDATE alfred.users SET role = 'user', status = 'inactive' WHERE id = :'bob';
SELECT alfred.current_user_role() IS NULL AS inactive_has_no_role;
SELECT alfred.readable_user_ids() AS inactive_reads, alfred.writable_user_ids() AS inactive_writes;
UPDATE alfred.users SET status = 'active' WHERE id = :'bob';
SELECT alfred.reset_identity();
SELECT alfred.current_user_role() IS NULL AS nobody_has_no_role;
SELECT alfred.readable_user_ids() AS nobody_reads, alfred.writable_user_ids() AS nobody_writes;

-- grant_usage and enable_tenant_rls refuse nonsense.
SELECT alfred.grant_usage(NULL);
SELECT alfred.enable_tenant_rls('alfred.tasks', ARRAY['TRUNCATE']);

-- Time zones: PostgreSQL's own library decides.
SELECT tz, alfred.is_valid_timezone(tz)
  FROM unnest(ARRAY['UTC', 'Europe/Paris', 'america/new_york', 'Pacific/Apia', 'Mars/Olympus', '', 'Europe/']) AS tz;
SELECT alfred.is_valid_timezone(NULL) IS NULL AS strict;

-- A suspended user's token stops working.
UPDATE alfred.users SET status = 'suspended' WHERE id = :'ann';
SELECT alfred.set_session(:'ann_token');
SELECT alfred.login('ann@example.com', 'correct horse') AS suspended_login;
UPDATE alfred.users SET status = 'active' WHERE id = :'ann';

-- change_password needs the old one; logout revokes the token.
SELECT alfred.change_password('correct horse', 'new password');
SELECT alfred.set_session(:'ann_token', local => false) = :'ann' AS ann_again;
SELECT alfred.change_password('wrong horse', 'new password');
SELECT alfred.change_password('correct horse', 'tiny');
SELECT alfred.change_password('correct horse', 'new password');
SELECT alfred.login('ann@example.com', 'correct horse') AS old_password_fails;
SELECT alfred.login('ann@example.com', 'new password') IS NOT NULL AS new_password_works;
SELECT alfred.logout(:'ann_token') AS logged_out;
SELECT alfred.current_user_id() IS NULL AS logout_forgets_identity;
SELECT alfred.logout(:'ann_token') AS second_logout;
SELECT alfred.set_session(:'ann_token');

-- set_password (admins and service roles) revokes every session.
SELECT alfred.login('bob@example.com', 'battery staple') AS bob_token \gset
SET ROLE regress_alfred_app;
SELECT alfred.set_password(:'bob', 'reset-by-anyone');
RESET ROLE;
SELECT alfred.set_password(:'bob', 'reset by the dba');
SELECT alfred.set_session(:'bob_token');
SELECT alfred.set_password('00000000-0000-0000-0000-000000000000', 'reset by the dba');

DROP OWNED BY regress_alfred_app, alfred_service;
DROP ROLE regress_alfred_app;
DROP ROLE regress_alfred_agent;
DROP ROLE alfred_service;
DELETE FROM alfred.users;
