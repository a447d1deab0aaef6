-- 700 operations: the audit trail (written by triggers), OAuth tokens encrypted
-- with pgcrypto, retention and maintenance (run_maintenance, schedule_maintenance
-- with pg_cron or alfred's own scheduler) and health() for monitoring.

------------------------------------------------------------------------------
-- Audit trail
------------------------------------------------------------------------------

-- Columns whose values never enter the audit trail: a change to one is
-- recorded as '[redacted]' so that the trail says it changed, not to what.
CREATE FUNCTION @extschema@.audit_redact(row_values jsonb)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(jsonb_object_agg(key,
				CASE WHEN key IN ('password_hash', 'access_token', 'refresh_token', 'token_hash')
						  AND value <> 'null'::jsonb
					 THEN '"[redacted]"'::jsonb ELSE value END), '{}'::jsonb)
	  FROM jsonb_each(row_values)
$$;
COMMENT ON FUNCTION @extschema@.audit_redact(jsonb) IS
'Replaces the values of secret columns (password_hash, access_token, refresh_token, token_hash) by "[redacted]" in a row image for the audit trail.';

CREATE FUNCTION @extschema@.audit_row()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	old_values	jsonb;
	new_values	jsonb;
	changed		text[];
	entity		uuid;
	actor		uuid;
	entity_type	text;
BEGIN
	-- pg_dump and pg_restore run with row_security = off: a restore reloads the
	-- trail itself and must not record its bulk load as changes.
	IF current_setting('row_security') = 'off' THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' THEN
		new_values := @extschema@.audit_redact(to_jsonb(NEW));
		entity := NEW.id;
	ELSIF TG_OP = 'DELETE' THEN
		old_values := @extschema@.audit_redact(to_jsonb(OLD));
		entity := OLD.id;
	ELSE
		-- Only the columns that changed, less bookkeeping columns named as
		-- trigger arguments; an update that changes nothing else is not audited.
		SELECT array_agg(n.key ORDER BY n.key) INTO changed
		  FROM jsonb_each(to_jsonb(NEW)) n
		  JOIN jsonb_each(to_jsonb(OLD)) o USING (key)
		 WHERE n.value IS DISTINCT FROM o.value
		   AND n.key <> 'updated_at' AND NOT n.key = ANY (coalesce(TG_ARGV, '{}'));
		IF changed IS NULL THEN
			RETURN NULL;
		END IF;
		old_values := @extschema@.audit_redact(
			(SELECT jsonb_object_agg(key, value) FROM jsonb_each(to_jsonb(OLD)) WHERE key = ANY (changed)));
		new_values := @extschema@.audit_redact(
			(SELECT jsonb_object_agg(key, value) FROM jsonb_each(to_jsonb(NEW)) WHERE key = ANY (changed)));
		entity := NEW.id;
	END IF;

	-- The actor, if a user (a plain INSERT: Citus plans no subquery in one).
	actor := (SELECT u.id FROM @extschema@.users u WHERE u.id = @extschema@.current_user_id());
	-- On Citus the trigger fires on a shard (tasks_102008) of a table (tasks).
	entity_type := TG_TABLE_NAME;
	IF entity_type ~ '_[0-9]+$'
	   AND to_regclass(format('%I.%I', TG_TABLE_SCHEMA, regexp_replace(entity_type, '_[0-9]+$', ''))) IS NOT NULL THEN
		entity_type := regexp_replace(entity_type, '_[0-9]+$', '');
	END IF;
	INSERT INTO @extschema@.audit_trail (user_id, action, entity_type, entity_id, old_values, new_values, db_role)
	VALUES (actor, lower(TG_OP), entity_type, entity, old_values, new_values, session_user);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.audit_row() IS
'AFTER trigger writing one audit_trail row per inserted, updated or deleted row: the acting alfred user (NULL for the system or a DBA), the database role (session_user), and the old and new values of the changed columns with secrets redacted. Trigger arguments name bookkeeping columns whose changes alone are not audited. Sessions with row_security = off (pg_dump, pg_restore) are not audited.';

CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.users
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_row('last_login_at');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.tasks
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_row();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.proposals
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_row();
-- The scheduler updates next_run_at, last_run_at and the counts on every run,
-- and completes a one-time task after its run (task_runs records the run):
-- the WHEN clause keeps the trigger from even starting for that bookkeeping
-- (thousands of rows a second); every other change is audited.
CREATE TRIGGER audit AFTER INSERT OR DELETE ON @extschema@.scheduled_tasks
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_row();
CREATE TRIGGER audit_update AFTER UPDATE ON @extschema@.scheduled_tasks
	FOR EACH ROW
	WHEN ((OLD.name, OLD.description, OLD.task_type, OLD.schedule_cron, OLD.scheduled_at, OLD.timezone,
		   OLD.tool_name, OLD.tool_args, OLD.prompt_template, OLD.source, OLD.pattern_id,
		   OLD.max_retries, OLD.user_id, OLD.id)
		  IS DISTINCT FROM
		  (NEW.name, NEW.description, NEW.task_type, NEW.schedule_cron, NEW.scheduled_at, NEW.timezone,
		   NEW.tool_name, NEW.tool_args, NEW.prompt_template, NEW.source, NEW.pattern_id,
		   NEW.max_retries, NEW.user_id, NEW.id)
		  OR (OLD.status IS DISTINCT FROM NEW.status
			  AND NOT (OLD.status = 'active' AND NEW.status = 'completed')))
	EXECUTE FUNCTION @extschema@.audit_row('next_run_at', 'last_run_at', 'run_count', 'fail_count');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.connected_accounts
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_row('last_sync_at');

------------------------------------------------------------------------------
-- OAuth tokens, encrypted with pgcrypto
------------------------------------------------------------------------------

-- The key comes from the caller or from the superuser-only setting
-- alfred.token_key (postgresql.conf or ALTER SYSTEM: a file, never a table).
CREATE FUNCTION @extschema@.token_key(key text)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k text;
BEGIN
	PERFORM @extschema@.current_user_id();		-- loads alfred, which defines alfred.token_key
	k := coalesce(key, nullif(current_setting('alfred.token_key', true), ''));
	IF k IS NULL THEN
		RAISE EXCEPTION 'no token encryption key'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'Neither a key argument nor the setting alfred.token_key was given.',
				  HINT = 'Set alfred.token_key in postgresql.conf (superuser-only) or pass key.';
	END IF;
	IF length(k) < 16 THEN
		RAISE EXCEPTION 'token encryption key is too short'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The key has %s characters; at least 16 are required.', length(k));
	END IF;
	RETURN k;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.token_key(text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.token_key(text) IS
'The key that encrypts OAuth tokens: the argument, else the superuser-only setting alfred.token_key; raises 55000 when there is none.';

-- Only the account's user, an admin, or a service role may touch its tokens.
CREATE FUNCTION @extschema@.account_for_tokens(account_id uuid)
RETURNS @extschema@.connected_accounts
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	owner_id uuid;
	acct @extschema@.connected_accounts;
BEGIN
	PERFORM @extschema@._require_argument('account_id', account_for_tokens.account_id);
	owner_id := @extschema@.owner_of('@extschema@.connected_accounts', account_id);
	SELECT * INTO acct FROM @extschema@.connected_accounts a WHERE a.user_id = owner_id AND a.id = account_id FOR UPDATE;
	IF NOT FOUND
	   OR NOT (acct.user_id = @extschema@.current_user_id()
			   OR @extschema@.current_user_role() = 'admin'
			   OR @extschema@.caller_is_service()) THEN
		RAISE EXCEPTION 'connected account "%" does not exist', account_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN acct;
END
$$;
COMMENT ON FUNCTION @extschema@.account_for_tokens(uuid) IS
'Locks and returns a connected account the caller may manage (its user, an admin, or a service role); otherwise raises as if it did not exist.';

-- A token is sealed to its account: the encrypted text starts with the
-- account's user_id and id, checked when it is opened, so a ciphertext copied
-- into another account's row does not decrypt there.
CREATE FUNCTION @extschema@.seal_account_token(user_id uuid, account_id uuid, token text, key text)
RETURNS bytea
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN token IS NOT NULL
				THEN pgp_sym_encrypt(user_id::text || account_id::text || token, key) END
$$;
COMMENT ON FUNCTION @extschema@.seal_account_token(uuid, uuid, text, text) IS
'Internal: encrypts an OAuth token for one connected account (its user_id and id are encrypted with it); NULL for NULL.';

CREATE FUNCTION @extschema@.open_account_token(user_id uuid, account_id uuid, sealed bytea, key text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	plain	text;
	owner	text := user_id::text || account_id::text;
BEGIN
	IF sealed IS NULL THEN
		RETURN NULL;
	END IF;
	BEGIN
		plain := pgp_sym_decrypt(sealed, key);
	EXCEPTION WHEN external_routine_invocation_exception OR data_exception THEN
		RAISE EXCEPTION 'cannot decrypt the tokens of connected account "%"', account_id
			USING ERRCODE = 'invalid_password',
				  DETAIL = 'The key is not the one the tokens were encrypted with.';
	END;
	IF left(plain, length(owner)) IS DISTINCT FROM owner THEN
		RAISE EXCEPTION 'cannot decrypt the tokens of connected account "%"', account_id
			USING ERRCODE = 'invalid_password',
				  DETAIL = 'The tokens were not encrypted for this account (copied from another one, or stored before alfred 0.2).',
				  HINT = 'Store them again with alfred.connect_account() or alfred.set_account_tokens().';
	END IF;
	RETURN substr(plain, length(owner) + 1);
END
$$;
COMMENT ON FUNCTION @extschema@.open_account_token(uuid, uuid, bytea, text) IS
'Internal: decrypts a token sealed for the connected account (user_id, account_id); 28P01 for a wrong key or a token sealed for another account.';
REVOKE ALL ON FUNCTION @extschema@.open_account_token(uuid, uuid, bytea, text) FROM PUBLIC;

-- Tokens are written only by the functions below (SECURITY DEFINER, so the
-- table's owner is the current user inside them), never by a direct write.
CREATE FUNCTION @extschema@.connected_accounts_guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF (TG_OP = 'INSERT' OR NEW.access_token IS DISTINCT FROM OLD.access_token
		OR NEW.refresh_token IS DISTINCT FROM OLD.refresh_token)
	   AND NOT pg_has_role(current_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), 'USAGE') THEN
		RAISE EXCEPTION 'permission denied to write the tokens of connected account "%"', NEW.id
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'OAuth tokens are written only by alfred.connect_account() and alfred.set_account_tokens().';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.connected_accounts_guard() IS
'Trigger: a connected account''s tokens are written only through connect_account and set_account_tokens (42501 for a direct INSERT, or an UPDATE of access_token or refresh_token, by anyone but the tables'' owner or a superuser).';
CREATE TRIGGER connected_accounts_guard
	BEFORE INSERT OR UPDATE ON @extschema@.connected_accounts
	FOR EACH ROW EXECUTE FUNCTION @extschema@.connected_accounts_guard();

CREATE FUNCTION @extschema@.connect_account(user_id uuid, provider text, access_token text,
	refresh_token text DEFAULT NULL, token_expires_at timestamptz DEFAULT NULL,
	provider_account_id text DEFAULT NULL, provider_email text DEFAULT NULL,
	scopes text[] DEFAULT '{}', key text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k		text;
	acct_id	uuid;
	new_id	uuid := gen_random_uuid();
BEGIN
	PERFORM @extschema@._require_argument('user_id', connect_account.user_id);
	IF NOT (connect_account.user_id = @extschema@.current_user_id()
			OR @extschema@.current_user_role() = 'admin'
			OR @extschema@.caller_is_service()) THEN
		RAISE EXCEPTION 'permission denied to connect an account for user "%"', connect_account.user_id
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	PERFORM @extschema@._require_argument('provider', connect_account.provider);
	PERFORM @extschema@._require_argument('access_token', connect_account.access_token);
	IF @extschema@.is_blank(access_token) THEN
		RAISE EXCEPTION 'access_token must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	k := @extschema@.token_key(key);
	INSERT INTO @extschema@.connected_accounts AS a
		   (user_id, id, provider, provider_account_id, provider_email, access_token, refresh_token,
			token_expires_at, scopes, status)
	VALUES (connect_account.user_id, new_id, connect_account.provider, connect_account.provider_account_id,
			connect_account.provider_email,
			@extschema@.seal_account_token(connect_account.user_id, new_id, access_token, k),
			@extschema@.seal_account_token(connect_account.user_id, new_id, refresh_token, k),
			connect_account.token_expires_at, coalesce(connect_account.scopes, '{}'), 'active')
	ON CONFLICT ON CONSTRAINT connected_accounts_account_key DO UPDATE
		SET token_expires_at = EXCLUDED.token_expires_at, scopes = EXCLUDED.scopes,
			provider_email = coalesce(EXCLUDED.provider_email, a.provider_email), status = 'active'
	RETURNING a.id INTO acct_id;
	IF acct_id <> new_id THEN
		-- an existing connection: its tokens are sealed to its own id
		UPDATE @extschema@.connected_accounts a
		   SET access_token = @extschema@.seal_account_token(a.user_id, a.id, connect_account.access_token, k),
			   refresh_token = @extschema@.seal_account_token(a.user_id, a.id, connect_account.refresh_token, k)
		 WHERE a.user_id = connect_account.user_id AND a.id = acct_id;
	END IF;
	RETURN acct_id;
END
$$;
COMMENT ON FUNCTION @extschema@.connect_account(uuid, text, text, text, timestamptz, text, text, text[], text) IS
'Stores (or refreshes) a user''s OAuth connection with its tokens encrypted by pgcrypto under the key (argument or alfred.token_key); returns the account id. Allowed to the user, admins and service roles.';

CREATE FUNCTION @extschema@.set_account_tokens(account_id uuid, access_token text,
	refresh_token text DEFAULT NULL, token_expires_at timestamptz DEFAULT NULL, key text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	acct	@extschema@.connected_accounts;
	k		text;
BEGIN
	PERFORM @extschema@._require_argument('account_id', account_id);
	PERFORM @extschema@._require_argument('access_token', access_token);
	acct := @extschema@.account_for_tokens(account_id);
	k := @extschema@.token_key(key);
	IF @extschema@.is_blank(access_token) THEN
		RAISE EXCEPTION 'access_token must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE @extschema@.connected_accounts a
	   SET access_token = @extschema@.seal_account_token(a.user_id, a.id, set_account_tokens.access_token, k),
		   refresh_token = CASE WHEN set_account_tokens.refresh_token IS NULL THEN a.refresh_token
								ELSE @extschema@.seal_account_token(a.user_id, a.id, set_account_tokens.refresh_token, k) END,
		   token_expires_at = set_account_tokens.token_expires_at,
		   status = 'active'
	 WHERE a.user_id = acct.user_id AND a.id = acct.id;
END
$$;
COMMENT ON FUNCTION @extschema@.set_account_tokens(uuid, text, text, timestamptz, text) IS
'Replaces a connected account''s tokens after a refresh (a NULL refresh_token keeps the old one), encrypted under the key (argument or alfred.token_key).';

CREATE FUNCTION @extschema@.account_tokens(account_id uuid, key text DEFAULT NULL,
	OUT access_token text, OUT refresh_token text, OUT token_expires_at timestamptz)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	acct	@extschema@.connected_accounts := @extschema@.account_for_tokens(account_id);
	k		text := @extschema@.token_key(key);
BEGIN
	access_token := @extschema@.open_account_token(acct.user_id, acct.id, acct.access_token, k);
	refresh_token := @extschema@.open_account_token(acct.user_id, acct.id, acct.refresh_token, k);
	token_expires_at := acct.token_expires_at;
END
$$;
COMMENT ON FUNCTION @extschema@.account_tokens(uuid, text) IS
'Decrypts a connected account''s OAuth tokens with the key (argument or alfred.token_key); the only way to read them back. Allowed to the account''s user, admins and service roles; a wrong key raises 28P01.';

------------------------------------------------------------------------------
-- Retention and maintenance
------------------------------------------------------------------------------

CREATE TABLE @extschema@.retention (
	relation			text NOT NULL PRIMARY KEY,
	keep				interval,
	rule				text NOT NULL,
	CONSTRAINT retention_keep_check CHECK (keep > interval '0')
);
COMMENT ON TABLE @extschema@.retention IS
'How long run_maintenance() keeps each kind of row (NULL keep = forever). A DBA may change keep; the rule column says what the age is counted from.';
INSERT INTO @extschema@.retention (relation, keep, rule) VALUES
	('proposals', '90 days', 'proposals in a final state (executed, rejected, expired, failed) whose last decision or execution is older; their execution logs go with them; executed ones are kept at least 30 days whatever keep says (the audit minimum)'),
	('execution_logs', '90 days', 'execution logs older than this'),
	('agent_run_logs', '30 days', 'agent run logs older than this'),
	('preference_signals', '1 year', 'preference signals older than this'),
	('chat_messages', '90 days', 'chat messages older than this'),
	('notifications', '30 days', 'notifications sent, read, dismissed or archived longer ago than this'),
	('task_actions', '7 days', 'pending, rejected or expired task actions (create, update, complete, delete, query) made or decided longer ago than this; executed ones follow proposals'),
	('inactive_session_messages', '1 day', 'messages of chat sessions that ended (closed, or idle for 24 hours) longer ago than this (deleted once the session is inactive); messages without a session follow chat_messages'),
	('task_runs', '90 days', 'finished runs (succeeded, failed, cancelled) of scheduled tasks older than this'),
	('engagement_events', '1 year', 'engagement events older than this (the calibration state keeps their decayed weight)'),
	('system_logs', '90 days', 'monthly partitions of system_logs whose whole month is older than this are dropped'),
	('audit_trail', NULL, 'the audit trail is kept forever unless a DBA sets keep');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.retention', '');

CREATE FUNCTION @extschema@.retention_cutoff(relation text, now timestamptz)
RETURNS timestamptz
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT now - r.keep FROM @extschema@.retention r WHERE r.relation = retention_cutoff.relation
$$;
COMMENT ON FUNCTION @extschema@.retention_cutoff(text, timestamptz) IS
'The instant before which rows of a relation are removed by run_maintenance(), or NULL when they are kept forever.';

-- Drops system_logs partitions whose month ended before the cutoff.
CREATE FUNCTION @extschema@.drop_log_partitions(cutoff timestamptz)
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	part	record;
	dropped text[] := '{}';
BEGIN
	IF cutoff IS NULL THEN
		RETURN dropped;
	END IF;
	FOR part IN
		SELECT c.oid::regclass AS rel, c.relname,
			   (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound,
			   EXISTS (SELECT 1 FROM pg_depend d
						WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') AS member
		  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		 WHERE i.inhparent = '@extschema@.system_logs'::regclass
		   AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
		 ORDER BY c.relname
	LOOP
		CONTINUE WHEN part.upper_bound IS NULL OR part.upper_bound > cutoff;
		IF part.member THEN
			EXECUTE format('ALTER EXTENSION alfred DROP TABLE %s', part.rel);
		END IF;
		EXECUTE format('DROP TABLE %s', part.rel);
		dropped := dropped || part.relname::text;
	END LOOP;
	RETURN dropped;
END
$$;
COMMENT ON FUNCTION @extschema@.drop_log_partitions(timestamptz) IS
'Drops the monthly partitions of system_logs whose month ended before cutoff; returns their names.';

-- cleanup_expired_sessions(): a session is gone
-- the moment it expires (or is revoked), not a retention period later.
CREATE FUNCTION @extschema@.cleanup_expired_sessions(now timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n integer;
BEGIN
	IF NOT (@extschema@.caller_is_service() OR @extschema@.current_user_role() IS NOT DISTINCT FROM 'admin') THEN
		RAISE EXCEPTION 'permission denied to clean up the sessions of all users'
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Only admins, superusers and members of role "alfred_service" may call cleanup_expired_sessions().';
	END IF;
	PERFORM @extschema@._require_argument('now', now);
	DELETE FROM @extschema@.sessions s WHERE s.expires_at <= cleanup_expired_sessions.now OR s.is_revoked;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.cleanup_expired_sessions(timestamptz) IS
'Deletes every session that has expired (expires_at at or before now) or was revoked, of all users, and returns how many. run_maintenance() calls it. Admins, superusers and alfred_service members only (42501 otherwise).';

CREATE FUNCTION @extschema@.run_maintenance(now timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	removed		jsonb := '{}';
	n			bigint;
	r			record;
	result		jsonb;
	closed		bigint;
BEGIN
	PERFORM @extschema@._require_argument('now', now);
	PERFORM @extschema@.check_time('now', now);	-- 'infinity' would remove every row past retention

	-- A chat session ends after 24 hours without a message, whether
	-- or not the user writes again (chat_sessions_active_idx finds them).
	UPDATE @extschema@.chat_sessions s SET is_active = false
	 WHERE s.is_active AND s.last_activity_at < now - interval '24 hours';
	GET DIAGNOSTICS closed = ROW_COUNT;

	-- What each retention row removes from its table: the rows matching filter
	-- whose age (an instant) is before $1 = now - keep ($2 is now).  Constants
	-- of this function only: nothing here comes from a table or a caller.
	FOR r IN
		SELECT v.relation, v.tbl, v.filter, v.age, now - rt.keep AS cutoff
		  FROM (VALUES
				('proposals', 'proposals', $f$status IN ('executed', 'rejected', 'expired', 'failed')
					AND (status <> 'executed' OR executed_at < $2 - interval '30 days')$f$,
				 'greatest(executed_at, rejected_at, expired_at, failed_at, updated_at)'),
				('task_actions', 'proposals', $f$status IN ('pending', 'rejected', 'expired')
					AND action_type IN ('create', 'update', 'complete', 'delete', 'query')$f$,
				 'greatest(created_at, rejected_at, expired_at)'),
				('execution_logs', 'execution_logs', 'true', 'created_at'),
				('agent_run_logs', 'agent_run_logs', 'true', 'created_at'),
				('preference_signals', 'preference_signals', 'true', 'created_at'),
				('chat_messages', 'chat_messages', 'true', 'created_at'),
				('inactive_session_messages', 'chat_messages', $f$session_id IS NOT NULL$f$,
				 $f$(SELECT s.last_activity_at FROM @extschema@.chat_sessions s
					  WHERE s.user_id = chat_messages.user_id AND s.id = chat_messages.session_id AND NOT s.is_active)$f$),
				('notifications', 'notifications', $f$status IN ('sent', 'read', 'dismissed', 'archived')$f$,
				 'coalesce(sent_at, read_at, dismissed_at, updated_at)'),
				('task_runs', 'task_runs', $f$status IN ('succeeded', 'failed', 'cancelled')$f$, 'coalesce(finished_at, updated_at)'),
				('engagement_events', 'engagement_events', 'true', 'created_at'),
				('audit_trail', 'audit_trail', 'true', 'created_at')) AS v (relation, tbl, filter, age)
		  JOIN @extschema@.retention rt USING (relation)
		 WHERE rt.keep IS NOT NULL
		 ORDER BY v.relation
	LOOP
		EXECUTE format('DELETE FROM @extschema@.%I WHERE (%s) AND (%s) < $1', r.tbl, r.filter, r.age)
			USING r.cutoff, now;
		GET DIAGNOSTICS n = ROW_COUNT;
		removed := removed || jsonb_build_object(r.relation, n);
	END LOOP;
	removed := removed || jsonb_build_object('sessions', @extschema@.cleanup_expired_sessions(now));

	result := jsonb_build_object(
		'removed', removed,
		'chat_sessions_closed', closed,
		'proposals_expired', @extschema@.expire_proposals(),
		-- suppressions and boosts that ran out since the user's last event (600_calibration)
		'proactiveness_refreshed', @extschema@.refresh_all_proactiveness(),
		'log_partitions_created', @extschema@.create_log_partitions(3),
		'log_partitions_dropped',
			to_jsonb(@extschema@.drop_log_partitions(@extschema@.retention_cutoff('system_logs', now))),
		-- integrations and attachments (800_integrations, 800_attachments)
		'mcp_servers_silent', @extschema@.check_integrations(now => now),
		'attachments_expired',
			(SELECT coalesce(jsonb_agg(jsonb_build_object('user_id', e.user_id, 'storage_path', e.storage_path)
			                           ORDER BY e.storage_path), '[]')
			   FROM @extschema@.expire_attachments(now) e));
	RETURN result;
END
$$;
COMMENT ON FUNCTION @extschema@.run_maintenance(timestamptz) IS
'Closes chat sessions idle for 24 hours, applies the retention table (removes old proposals, stale task actions, logs, signals, chat messages and the messages of ended sessions, sent notifications, finished runs, engagement events), removes expired and revoked sessions (cleanup_expired_sessions), expires proposals, creates system_logs partitions ahead and drops old ones, marks MCP servers silent for 5 minutes as error and removes expired attachment rows (their storage paths are in the result, for the caller to delete the files); returns what it did as jsonb. Run it daily: schedule_maintenance() registers it with pg_cron or alfred''s scheduler.';
REVOKE ALL ON FUNCTION @extschema@.run_maintenance(timestamptz) FROM PUBLIC;

CREATE FUNCTION @extschema@.tool_run_maintenance(user_id uuid, args jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	done jsonb := @extschema@.run_maintenance(now());
BEGIN
	RETURN jsonb_build_object('title', 'Maintenance', 'priority', 'low',
		'message', format('Removed %s old rows; %s log partitions created, %s dropped.',
						  (SELECT coalesce(sum(value::bigint), 0) FROM jsonb_each_text(done->'removed')),
						  done->'log_partitions_created', jsonb_array_length(done->'log_partitions_dropped')),
		'maintenance', done);
END
$$;
COMMENT ON FUNCTION @extschema@.tool_run_maintenance(uuid, jsonb) IS
'Built-in tool run_maintenance: alfred.run_maintenance() as a scheduled task (for alfred''s scheduler; see schedule_maintenance).';
INSERT INTO @extschema@.tools (name, kind, fn, description, admin_only) VALUES
	('run_maintenance', 'sql', '@extschema@.tool_run_maintenance(uuid, jsonb)',
	 'Retention and partition maintenance (alfred.run_maintenance()).', true);

-- Removes whatever schedule_maintenance registered: the pg_cron job
-- "alfred-maintenance" of this database (when pg_cron is installed here) and
-- alfred's maintenance tasks.  pg_cron is called dynamically: it need not be
-- installed.
CREATE FUNCTION @extschema@.unschedule_maintenance()
RETURNS int
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n			int := 0;
	jobs		int;
	cron_jobs	boolean;
	task		uuid;
BEGIN
	-- (to_regclass raises for a role without USAGE on schema cron)
	cron_jobs := CASE WHEN to_regnamespace('cron') IS NULL OR NOT has_schema_privilege('cron', 'USAGE')
					  THEN false ELSE to_regclass('cron.job') IS NOT NULL END;
	IF cron_jobs THEN
		-- cron.job shows a role only its own jobs (superusers: all).
		EXECUTE 'SELECT count(cron.unschedule(j.jobid))::int FROM cron.job j
				  WHERE j.jobname = $1 AND j.database = current_database()'
			INTO jobs USING 'alfred-maintenance';
		n := n + jobs;
	END IF;
	-- one call per task, not cancel_task() inside the query: on Citus that
	-- query runs on the shards, where cancel_task may not query a table
	FOR task IN
		SELECT t.id FROM @extschema@.scheduled_tasks t
		 WHERE t.tool_name = 'run_maintenance' AND t.status IN ('active', 'paused')
	LOOP
		PERFORM @extschema@.cancel_task(task);
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.unschedule_maintenance() IS
'Removes the daily maintenance registered by schedule_maintenance(): the pg_cron job "alfred-maintenance" of this database and alfred''s active or paused run_maintenance tasks (cancelled); returns how many it removed.';
REVOKE ALL ON FUNCTION @extschema@.unschedule_maintenance() FROM PUBLIC;

CREATE FUNCTION @extschema@.schedule_maintenance(schedule text DEFAULT '17 3 * * *', via text DEFAULT NULL,
	owner uuid DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	has_cron	boolean := to_regnamespace('cron') IS NOT NULL
						   AND EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron');
	cron_db		text := current_setting('cron.database_name', true);
	admin		uuid := owner;
	task		uuid;
	job			bigint;
BEGIN
	IF NOT @extschema@.cron_valid(schedule) THEN
		PERFORM @extschema@.cron_next(schedule, now());		-- raises 22023 naming the bad field
	END IF;
	IF via IS NOT NULL AND via NOT IN ('pg_cron', 'alfred') THEN
		RAISE EXCEPTION 'invalid maintenance runner "%"', via
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Use ''pg_cron'', ''alfred'' or NULL (pg_cron when installed).';
	END IF;

	IF via = 'pg_cron' OR (via IS NULL AND has_cron) THEN
		IF NOT has_cron THEN
			RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Run CREATE EXTENSION pg_cron in the database named by cron.database_name, or use via => ''alfred''.';
		END IF;
		-- Exactly one registration: an earlier job or task goes first.
		PERFORM @extschema@.unschedule_maintenance();
		EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
			USING 'alfred-maintenance', schedule, 'SELECT @extschema@.run_maintenance()';
		RETURN format('pg_cron job %s "alfred-maintenance" runs alfred.run_maintenance() at "%s"', job, schedule);
	END IF;

	IF admin IS NULL THEN
		SELECT u.id INTO admin FROM @extschema@.users u
		 WHERE u.role = 'admin' AND u.status = 'active' ORDER BY u.created_at, u.id LIMIT 1;
		IF admin IS NULL THEN
			RAISE EXCEPTION 'no active admin user to own the maintenance task'
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  DETAIL = CASE WHEN cron_db IS NOT NULL AND cron_db <> current_database()
									THEN format('pg_cron serves database "%s" (cron.database_name), not this one.', cron_db) END,
					  HINT = 'Create an admin user (create_user(..., role => ''admin'')), pass owner, or use pg_cron in the database it serves.';
		END IF;
	ELSIF NOT EXISTS (SELECT 1 FROM @extschema@.users u WHERE u.id = admin AND u.role = 'admin') THEN
		RAISE EXCEPTION 'user "%" is not an admin', admin USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM @extschema@.unschedule_maintenance();
	task := @extschema@.schedule_task(user_id => admin, name => 'alfred maintenance', tool_name => 'run_maintenance',
									  cron => schedule, timezone => 'UTC',
									  description => 'Retention and partition maintenance (schedule_maintenance).');
	RETURN format('alfred scheduled task %s runs alfred.run_maintenance() at "%s" UTC', task, schedule);
END
$$;
COMMENT ON FUNCTION @extschema@.schedule_maintenance(text, text, uuid) IS
'Registers daily maintenance (alfred.run_maintenance()) with pg_cron when it is installed in this database (job "alfred-maintenance"), else or with via => ''alfred'' as a scheduled task of an admin user run by alfred''s own worker. Exactly one registration remains: an earlier job or task is removed first (unschedule_maintenance). Returns what it registered.';
REVOKE ALL ON FUNCTION @extschema@.schedule_maintenance(text, text, uuid) FROM PUBLIC;

-- DROP EXTENSION alfred removes the pg_cron job too.  An event trigger of the
-- extension cannot see its own extension dropped (sql_drop and
-- ddl_command_end no longer fire once it is gone), so: before any DROP
-- EXTENSION, the job is taken out of cron.job and kept in a transaction-local
-- setting; after the command, if alfred is still there, the very same row
-- (same jobid) goes back.  An error rolls both back.  Only superusers can drop
-- alfred (superuser = true), so other roles' commands are left alone; the job
-- exists only in the database pg_cron serves.
CREATE FUNCTION @extschema@.maintenance_job_before_drop()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	jobs	text;
BEGIN
	IF NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user)
	   OR to_regclass('cron.job') IS NULL THEN
		RETURN;
	END IF;
	EXECUTE 'WITH gone AS (DELETE FROM cron.job j WHERE j.jobname = $1 AND j.database = current_database()
							RETURNING j.*)
			 SELECT jsonb_agg(to_jsonb(gone))::text FROM gone'
		INTO jobs USING 'alfred-maintenance';
	PERFORM set_config('alfred_drop_extension.cron_jobs', coalesce(jobs, ''), true);
END
$$;
COMMENT ON FUNCTION @extschema@.maintenance_job_before_drop() IS
'Event trigger (ddl_command_start of DROP EXTENSION, superusers): takes the pg_cron job "alfred-maintenance" of this database out of cron.job and keeps it for maintenance_job_after_drop(), so that DROP EXTENSION alfred leaves no job behind.';

CREATE FUNCTION @extschema@.maintenance_job_after_drop()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	jobs	text := current_setting('alfred_drop_extension.cron_jobs', true);
BEGIN
	IF coalesce(jobs, '') = '' THEN
		RETURN;
	END IF;
	PERFORM set_config('alfred_drop_extension.cron_jobs', '', true);
	IF to_regclass('cron.job') IS NOT NULL THEN		-- not when pg_cron was dropped
		EXECUTE 'INSERT INTO cron.job SELECT * FROM jsonb_populate_recordset(NULL::cron.job, $1::jsonb)'
			USING jobs;
	END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.maintenance_job_after_drop() IS
'Event trigger (ddl_command_end of DROP EXTENSION): alfred survived the command, so the pg_cron job taken out by maintenance_job_before_drop() goes back unchanged (same jobid).';

CREATE EVENT TRIGGER alfred_maintenance_job_before_drop ON ddl_command_start
	WHEN TAG IN ('DROP EXTENSION')
	EXECUTE FUNCTION @extschema@.maintenance_job_before_drop();
CREATE EVENT TRIGGER alfred_maintenance_job_after_drop ON ddl_command_end
	WHEN TAG IN ('DROP EXTENSION')
	EXECUTE FUNCTION @extschema@.maintenance_job_after_drop();

------------------------------------------------------------------------------
-- Health
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.health(now timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
-- (PL/pgSQL: Citus plans no SQL-language function that reads a distributed
-- table with a parameter)
BEGIN
	RETURN jsonb_build_object(
		'workers', (SELECT coalesce(jsonb_agg(jsonb_build_object('worker', w.worker, 'pid', w.pid, 'state', w.state,
									'last_tick', w.last_tick, 'runs_done', w.runs_done, 'errors', w.errors)
									ORDER BY w.worker), '[]')
					  FROM @extschema@.worker_status w),
		'worker_alive', EXISTS (SELECT 1 FROM @extschema@.worker_status w
								 WHERE w.pid IS NOT NULL AND w.state NOT IN ('stopped')
								   AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = w.pid)),
		'enabled', current_setting('alfred.enabled', true)::boolean,
		'due_tasks', (SELECT count(*) FROM @extschema@.scheduled_tasks t
					   WHERE t.status = 'active' AND t.next_run_at <= now),
		'oldest_due', (SELECT min(t.next_run_at) FROM @extschema@.scheduled_tasks t
						WHERE t.status = 'active' AND t.next_run_at <= now),
		'oldest_due_seconds', (SELECT round(extract(epoch FROM now - min(t.next_run_at)))::bigint
								 FROM @extschema@.scheduled_tasks t
								WHERE t.status = 'active' AND t.next_run_at <= now),
		'queued_external_runs', (SELECT count(*) FROM @extschema@.task_runs r WHERE r.status = 'queued'),
		'oldest_queued_run_seconds', (SELECT round(extract(epoch FROM now - min(r.created_at)))::bigint
										FROM @extschema@.task_runs r WHERE r.status = 'queued'),
		'running_runs', (SELECT count(*) FROM @extschema@.task_runs r WHERE r.status = 'running'),
		'failed_runs_last_hour', (SELECT count(*) FROM @extschema@.task_runs r
								   WHERE r.status = 'failed' AND r.finished_at > now - interval '1 hour'),
		'pending_proposals', (SELECT count(*) FROM @extschema@.proposals p WHERE p.status = 'pending'),
		'table_bytes', (SELECT jsonb_object_agg(c.relname, pg_total_relation_size(c.oid) ORDER BY c.relname)
						  FROM pg_class c
						 WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind IN ('r', 'p')
						   AND NOT c.relispartition));
END
$$;
COMMENT ON FUNCTION @extschema@.health(timestamptz) IS
'What a monitoring system polls: scheduler workers and whether one is alive, due tasks and the oldest due time, queued external runs and how long the oldest has waited for an agent, running runs, failed runs in the last hour, pending proposals, and every table''s size in bytes. Not granted to PUBLIC: GRANT EXECUTE to a monitoring role.';
REVOKE ALL ON FUNCTION @extschema@.health(timestamptz) FROM PUBLIC;

-- pgcrypto lives in whatever schema it was installed in: pin it in the search
-- path of the functions that encrypt and decrypt tokens.
DO $$
DECLARE
	crypto	name;
	fn		regprocedure;
BEGIN
	SELECT n.nspname INTO STRICT crypto
	  FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
	 WHERE e.extname = 'pgcrypto';
	FOR fn IN
		SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
		 WHERE p.pronamespace = '@extschema@'::regnamespace
		   AND p.proname IN ('connect_account', 'set_account_tokens', 'account_tokens',
							 'seal_account_token', 'open_account_token')
	LOOP
		EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', fn, crypto);
	END LOOP;
END
$$;
