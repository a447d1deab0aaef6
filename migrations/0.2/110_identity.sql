-- 110 identity: who the alfred user of a connection is, accounts and
-- sessions, row-level security on every user-owned table, and the grants an
-- application role needs.
--
-- alfred.current_user_id() is backend-local state set only by
-- set_session(token) or act_as(user_id) (src/identity.c): no SET can forge
-- it.  Policies compare user_id with it; the caller's alfred role (admin,
-- user, observer) is looked up once per statement.  On a Citus cluster the
-- identity travels to the worker nodes as a claim signed with the key in
-- alfred.claim_key (SET LOCAL alfred.claim), and the policies contain no
-- subquery (Citus refuses them).

------------------------------------------------------------------------------
-- Identity (C)
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.current_user_id()
RETURNS uuid
AS 'MODULE_PATHNAME', 'alfred_current_user_id_sql'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.current_user_id() IS
'The alfred user of this connection (set by set_session or act_as), or NULL. Row-level security is keyed to it.';

CREATE FUNCTION @extschema@.set_session(token text, local boolean DEFAULT true)
RETURNS uuid
AS 'MODULE_PATHNAME', 'alfred_set_session'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.set_session(text, boolean) IS
'Becomes the user of a session token from login(); returns the user id. By default (local => true) the identity ends with the transaction, so a transaction-pooled connection never passes it on; local => false keeps it for the session. A rolled-back savepoint undoes it. An unknown, revoked or expired token raises 28000. On a Citus cluster the identity travels to the worker nodes as a signed claim (SET LOCAL alfred.claim) and local => false raises 0A000.';

CREATE FUNCTION @extschema@.act_as(user_id uuid, local boolean DEFAULT true)
RETURNS uuid
AS 'MODULE_PATHNAME', 'alfred_act_as'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.act_as(uuid, boolean) IS
'Becomes an active user without a token: only superusers and members of role alfred_service (42501 otherwise). By default (local => true) the identity ends with the transaction; local => false keeps it for the session. A rolled-back savepoint undoes it. On a Citus cluster the identity travels to the worker nodes as a signed claim (SET LOCAL alfred.claim) and local => false raises 0A000.';

CREATE FUNCTION @extschema@.reset_identity(local boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'alfred_reset_identity'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reset_identity(boolean) IS
'Forgets the alfred user of this connection (for the transaction only with local => true). DISCARD ALL does the same.';

CREATE FUNCTION @extschema@.caller_is_service()
RETURNS boolean
AS 'MODULE_PATHNAME', 'alfred_caller_is_service'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.caller_is_service() IS
'Whether the calling database role (as set by login or SET ROLE) is a superuser or a member of role alfred_service.';

CREATE FUNCTION @extschema@.current_user_role()
RETURNS text
AS 'MODULE_PATHNAME', 'alfred_current_user_role'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.current_user_role() IS
'The role (admin, user, observer) of the current alfred user, or NULL when there is none or the user is not active. Read at most once per command.';

------------------------------------------------------------------------------
-- Claims: the identity on Citus worker nodes
------------------------------------------------------------------------------

-- The HMAC key of identity claims: one row, readable by the extension owner
-- only.  Never distributed: on a Citus cluster every node keeps its own copy,
-- which sync_claim_key() makes equal to the coordinator's (the C code reads
-- it inside queries on shards, where a query on a Citus table is refused).
CREATE TABLE @extschema@.claim_key (
	id			boolean PRIMARY KEY DEFAULT true CHECK (id),
	key			bytea NOT NULL CHECK (octet_length(key) BETWEEN 32 AND 128),
	created_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE @extschema@.claim_key IS
'The key (HMAC-SHA256) that signs identity claims (alfred.claim) on a Citus cluster; one row, the extension owner''s only. A local table on every node, kept equal by sync_claim_key().';
REVOKE ALL ON @extschema@.claim_key FROM PUBLIC;
-- 366 random bits from three version 4 UUIDs (pg_strong_random).
INSERT INTO @extschema@.claim_key (key)
VALUES (pg_catalog.decode(pg_catalog.replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text
											 || pg_catalog.gen_random_uuid()::text, '-', ''), 'hex'));

CREATE FUNCTION @extschema@.sign_claim(user_id uuid, expires_at timestamptz, origin bigint DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'alfred_sign_claim'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.sign_claim(uuid, timestamptz, bigint) IS
'Internal: an identity claim for user_id until expires_at, for backend origin (this one when NULL), signed with the cluster key. Only the extension owner and superusers (42501 otherwise); set_session and act_as issue claims themselves.';
REVOKE EXECUTE ON FUNCTION @extschema@.sign_claim(uuid, timestamptz, bigint) FROM PUBLIC;

CREATE FUNCTION @extschema@.sync_claim_key()
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k		bytea;
	node	record;
	copied	integer := 0;
BEGIN
	IF NOT EXISTS (SELECT FROM pg_extension e WHERE e.extname = 'citus') THEN
		RETURN 0;
	END IF;
	SELECT c.key INTO STRICT k FROM @extschema@.claim_key c;
	FOR node IN EXECUTE 'SELECT nodename, nodeport, success, result FROM run_command_on_workers($1)'
		USING format('UPDATE alfred.claim_key SET key = %L::bytea', k)
	LOOP
		IF NOT node.success THEN
			RAISE EXCEPTION 'could not copy the claim key to node "%:%"', node.nodename, node.nodeport
				USING ERRCODE = 'connection_failure',
					  DETAIL = node.result;
		END IF;
		copied := copied + 1;
	END LOOP;
	RETURN copied;
END
$$;
COMMENT ON FUNCTION @extschema@.sync_claim_key() IS
'Copies the coordinator''s claim key to every Citus worker node, so claims signed here verify there; returns the number of workers (0 without Citus). Extension owner only; run by distribute() and after adding a node.';
REVOKE EXECUTE ON FUNCTION @extschema@.sync_claim_key() FROM PUBLIC;

CREATE FUNCTION @extschema@.rotate_claim_key()
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	UPDATE @extschema@.claim_key c
	   SET key = decode(replace(gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text,
							    '-', ''), 'hex'),
		   created_at = now();
	RETURN @extschema@.sync_claim_key();
END
$$;
COMMENT ON FUNCTION @extschema@.rotate_claim_key() IS
'Replaces the claim key with a new random one and copies it to the Citus worker nodes (returns their number); claims signed before no longer verify. Extension owner only.';
REVOKE EXECUTE ON FUNCTION @extschema@.rotate_claim_key() FROM PUBLIC;

------------------------------------------------------------------------------
-- Accounts and sessions
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.check_password_strength(password text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_argument('password', password);
	IF char_length(password) < 8 THEN
		RAISE EXCEPTION 'password is too short'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A password needs at least 8 characters.';
	END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.check_password_strength(text) IS
'Internal: raises 22023 unless the password is acceptable (at least 8 characters).';

CREATE FUNCTION @extschema@.hash_password(password text)
RETURNS text
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT crypt(password, gen_salt('bf'::text,
		coalesce(current_setting('alfred.password_cost', true), '10')::integer))
$$;
COMMENT ON FUNCTION @extschema@.hash_password(text) IS
'Internal: bcrypt hash of a password at cost alfred.password_cost.';

CREATE FUNCTION @extschema@.create_user(
	email text,
	password text,
	username text DEFAULT NULL,
	display_name text DEFAULT NULL,
	timezone text DEFAULT 'UTC',
	role text DEFAULT 'user',
	first_name text DEFAULT NULL,
	last_name text DEFAULT NULL,
	location_city text DEFAULT NULL,
	location_country text DEFAULT NULL,
	profile jsonb DEFAULT '{}')
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	new_id		uuid;
	violated	text;
BEGIN
	PERFORM @extschema@._require_argument('email', create_user.email);
	PERFORM @extschema@._require_argument('password', create_user.password);
	PERFORM @extschema@._require_argument('timezone', create_user.timezone);
	PERFORM @extschema@._require_argument('role', create_user.role);
	IF create_user.email !~ '^[^@[:space:]]+@[^@[:space:]]+$' THEN
		RAISE EXCEPTION 'invalid email address "%"', create_user.email
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'An email address has one @ and no spaces.';
	END IF;
	PERFORM @extschema@.check_password_strength(create_user.password);
	IF NOT @extschema@.is_valid_timezone(create_user.timezone) THEN
		RAISE EXCEPTION 'invalid time zone "%"', create_user.timezone
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Use an IANA time zone name such as "Europe/Paris" or "UTC".';
	END IF;
	IF create_user.role NOT IN ('admin', 'user', 'observer') THEN
		RAISE EXCEPTION 'invalid role "%"', create_user.role
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A role is admin, user or observer.';
	END IF;
	IF create_user.role <> 'user' AND NOT @extschema@.caller_is_service()
	   AND @extschema@.current_user_role() IS DISTINCT FROM 'admin' THEN
		RAISE EXCEPTION 'permission denied to create a user with role "%"', create_user.role
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Only admins, superusers and members of role "alfred_service" may create admin or observer users.';
	END IF;

	BEGIN
		INSERT INTO @extschema@.users AS u (email, password_hash, username, display_name, first_name, last_name,
											 role, timezone, location_city, location_country, profile)
		VALUES (create_user.email, @extschema@.hash_password(create_user.password), create_user.username,
				create_user.display_name, create_user.first_name, create_user.last_name, create_user.role,
				create_user.timezone, create_user.location_city, create_user.location_country,
				coalesce(create_user.profile, '{}'))
		RETURNING u.id INTO new_id;
	EXCEPTION WHEN unique_violation THEN
		GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
		IF violated = 'users_username_key' THEN
			RAISE EXCEPTION 'a user with username "%" already exists', create_user.username
				USING ERRCODE = 'unique_violation';
		END IF;
		RAISE EXCEPTION 'a user with email "%" already exists', create_user.email
			USING ERRCODE = 'unique_violation',
				  DETAIL = 'Email addresses are unique regardless of case.';
	END;
	INSERT INTO @extschema@.user_settings (user_id) VALUES (new_id);
	INSERT INTO @extschema@.proactiveness_settings (user_id) VALUES (new_id);
	INSERT INTO @extschema@.ai_contexts (user_id) VALUES (new_id);	-- every user has an AI context
	RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_user(text, text, text, text, text, text, text, text, text, text, jsonb) IS
'Creates a user (bcrypt password hash) with default settings, proactiveness and AI context rows; returns the id. Admin and observer users may only be created by admins, superusers and alfred_service members.';

CREATE FUNCTION @extschema@.login(
	email text,
	password text,
	valid_for interval DEFAULT '30 days',
	ip_address inet DEFAULT NULL,
	user_agent text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	found_id	uuid;
	found_hash	text;
	token		text;
BEGIN
	PERFORM @extschema@._require_argument('valid_for', valid_for);
	IF valid_for <= interval '0' THEN
		RAISE EXCEPTION 'invalid session lifetime "%"', valid_for
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'valid_for must be a positive interval.';
	END IF;
	SELECT u.id, u.password_hash INTO found_id, found_hash
	  FROM @extschema@.users u
	 WHERE lower(u.email) = lower(login.email) AND u.status = 'active';
	IF found_id IS NULL THEN
		-- Do the work of a real check, so timing does not tell which part was wrong.
		PERFORM @extschema@.hash_password(coalesce(login.password, ''));
		RETURN NULL;
	END IF;
	IF login.password IS NULL OR crypt(login.password, found_hash) <> found_hash THEN
		RETURN NULL;
	END IF;

	token := encode(gen_random_bytes(32), 'hex');
	INSERT INTO @extschema@.sessions (user_id, token_hash, expires_at, ip_address, user_agent)
	VALUES (found_id, sha256(convert_to(token, 'UTF8')), now() + valid_for, login.ip_address, login.user_agent);
	UPDATE @extschema@.users u SET last_login_at = now() WHERE u.id = found_id;
	RETURN token;
END
$$;
COMMENT ON FUNCTION @extschema@.login(text, text, interval, inet, text) IS
'Checks an email and password and returns a fresh session token (64 hex digits; only its SHA-256 is stored), or NULL on bad credentials without saying which part was wrong.';

CREATE FUNCTION @extschema@.logout(token text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	revoked_user	uuid;
BEGIN
	UPDATE @extschema@.sessions s SET is_revoked = true, revoked_at = now()
	 WHERE s.token_hash = sha256(convert_to(logout.token, 'UTF8')) AND NOT s.is_revoked
	RETURNING s.user_id INTO revoked_user;
	IF revoked_user IS NOT NULL AND revoked_user = @extschema@.current_user_id() THEN
		PERFORM @extschema@.reset_identity();
	END IF;
	RETURN revoked_user IS NOT NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.logout(text) IS
'Revokes a session token; true if it was live. If the connection was that user, it forgets the identity.';

CREATE FUNCTION @extschema@.change_password(old_password text, new_password text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	me			uuid := @extschema@.current_user_id();
	old_hash	text;
BEGIN
	PERFORM @extschema@._require_argument('new_password', new_password);
	IF me IS NULL THEN
		RAISE EXCEPTION 'no alfred user is set'
			USING ERRCODE = 'invalid_authorization_specification',
				  HINT = 'Call alfred.set_session() first.';
	END IF;
	SELECT u.password_hash INTO old_hash FROM @extschema@.users u WHERE u.id = me FOR UPDATE;
	IF old_password IS NULL OR crypt(old_password, old_hash) <> old_hash THEN
		RAISE EXCEPTION 'password is incorrect'
			USING ERRCODE = 'invalid_password';
	END IF;
	PERFORM @extschema@.check_password_strength(new_password);
	UPDATE @extschema@.users u SET password_hash = @extschema@.hash_password(new_password) WHERE u.id = me;
END
$$;
COMMENT ON FUNCTION @extschema@.change_password(text, text) IS
'Changes the current user''s password, given the old one (28P01 if wrong).';

CREATE FUNCTION @extschema@.set_password(user_id uuid, new_password text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT @extschema@.caller_is_service() AND @extschema@.current_user_role() IS DISTINCT FROM 'admin' THEN
		RAISE EXCEPTION 'permission denied to set the password of another user'
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Only admins, superusers and members of role "alfred_service" may set passwords.';
	END IF;
	PERFORM @extschema@._require_argument('user_id', set_password.user_id);
	PERFORM @extschema@._require_argument('new_password', new_password);
	PERFORM @extschema@.check_password_strength(new_password);
	UPDATE @extschema@.users u SET password_hash = @extschema@.hash_password(new_password)
	 WHERE u.id = set_password.user_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'user "%" does not exist', set_password.user_id
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE @extschema@.sessions s SET is_revoked = true, revoked_at = now()
	 WHERE s.user_id = set_password.user_id AND NOT s.is_revoked;
END
$$;
COMMENT ON FUNCTION @extschema@.set_password(uuid, text) IS
'Resets a user''s password and revokes all their sessions (admins, superusers, alfred_service members).';

-- The pgcrypto functions (crypt, gen_salt, gen_random_bytes) live in whatever
-- schema pgcrypto was installed in; pin it right after pg_catalog.
DO $$
DECLARE
	crypto		name;
	fn			regprocedure;
BEGIN
	SELECT n.nspname INTO STRICT crypto
	  FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
	 WHERE e.extname = 'pgcrypto';
	FOR fn IN
		SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
		 WHERE p.pronamespace = '@extschema@'::regnamespace
		   AND p.proname IN ('hash_password', 'login', 'change_password', 'set_password')
	LOOP
		EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', fn, crypto);
	END LOOP;
END
$$;

------------------------------------------------------------------------------
-- Row-level security
------------------------------------------------------------------------------

-- The policies compare user_id with an array of a STABLE function, with no
-- subquery (Citus refuses those): "user_id = ANY (readable_user_ids())" is
-- still an index condition, so a query that relies on row-level security
-- alone uses the (user_id, …) indexes; in a filter the function runs per row
-- but hands out an array built once per command.
CREATE FUNCTION @extschema@.readable_user_ids()
RETURNS uuid[]
AS 'MODULE_PATHNAME', 'alfred_readable_user_ids'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.readable_user_ids() IS
'The users whose rows the current alfred user may read: everyone for admins and observers, else themselves; nobody without an identity or once the user is no longer active (checked once per command). The policies compare user_id = ANY (...) with it.';

CREATE FUNCTION @extschema@.writable_user_ids()
RETURNS uuid[]
AS 'MODULE_PATHNAME', 'alfred_writable_user_ids'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.writable_user_ids() IS
'The users whose rows the current alfred user may write: everyone for admins, themselves for active users, nobody for observers and inactive users.';

CREATE FUNCTION @extschema@.enable_tenant_rls(rel regclass,
											  commands text[] DEFAULT ARRAY['INSERT', 'UPDATE', 'DELETE'])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	can_read	text := 'user_id = ANY (@extschema@.readable_user_ids())';
	can_write	text := 'user_id = ANY (@extschema@.writable_user_ids())';
BEGIN
	PERFORM @extschema@._require_argument('commands', commands);
	IF NOT commands <@ ARRAY['INSERT', 'UPDATE', 'DELETE'] THEN
		RAISE EXCEPTION 'invalid commands "%"', commands
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'commands is a subset of INSERT, UPDATE and DELETE.';
	END IF;
	-- Rows of nobody (system events in a log) are for admins and observers.
	IF NOT (SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = 'user_id') THEN
		can_read := can_read || ' OR (user_id IS NULL AND @extschema@.current_user_role() IN (''admin'', ''observer''))';
		can_write := can_write || ' OR (user_id IS NULL AND @extschema@.current_user_role() = ''admin'')';
	END IF;
	EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', rel);
	EXECUTE format('CREATE POLICY tenant_read ON %s FOR SELECT USING (%s)', rel, can_read);
	IF 'INSERT' = ANY (commands) THEN
		EXECUTE format('CREATE POLICY tenant_insert ON %s FOR INSERT WITH CHECK (%s)', rel, can_write);
	END IF;
	IF 'UPDATE' = ANY (commands) THEN
		EXECUTE format('CREATE POLICY tenant_update ON %s FOR UPDATE USING (%s) WITH CHECK (%s)',
					   rel, can_write, can_write);
	END IF;
	IF 'DELETE' = ANY (commands) THEN
		EXECUTE format('CREATE POLICY tenant_delete ON %s FOR DELETE USING (%s)', rel, can_write);
	END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.enable_tenant_rls(regclass, text[]) IS
'Enables row-level security on a table with a user_id column: its user reads its rows and may run the given commands (INSERT, UPDATE, DELETE) on them; admins read and run them on all rows, observers read all rows. grant_usage() grants exactly these commands.';

DO $$
DECLARE
	rel regclass;
BEGIN
	FOR rel IN
		SELECT c.oid::regclass
		  FROM pg_catalog.pg_class c
		  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
		 WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		 ORDER BY c.relname
	LOOP
		PERFORM @extschema@.enable_tenant_rls(rel, CASE rel
			WHEN '@extschema@.sessions'::regclass THEN ARRAY['DELETE']	-- login() creates them
			WHEN '@extschema@.system_logs'::regclass THEN ARRAY['INSERT']	-- append-only
			WHEN '@extschema@.audit_trail'::regclass THEN ARRAY[]::text[]	-- written by triggers
			ELSE ARRAY['INSERT', 'UPDATE', 'DELETE'] END);
	END LOOP;
END
$$;

-- Users see their own account; admins all; observers read all.
ALTER TABLE @extschema@.users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_read ON @extschema@.users FOR SELECT
	USING (id = ANY (@extschema@.readable_user_ids()));
CREATE POLICY users_update ON @extschema@.users FOR UPDATE
	USING (id = ANY (@extschema@.writable_user_ids()))
	WITH CHECK (id = ANY (@extschema@.writable_user_ids()));

-- A task's assignee sees it and may update it (but not hand it on).
-- The role is read once per command; an inactive user has none.
CREATE POLICY tasks_assignee_read ON @extschema@.tasks FOR SELECT
	USING (assigned_to = @extschema@.current_user_id() AND @extschema@.current_user_role() IS NOT NULL);
CREATE POLICY tasks_assignee_update ON @extschema@.tasks FOR UPDATE
	USING (assigned_to = @extschema@.current_user_id() AND @extschema@.current_user_role() = 'user')
	WITH CHECK (assigned_to = @extschema@.current_user_id());

------------------------------------------------------------------------------
-- Application roles
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.grant_usage(role regrole)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r			record;
	privileges	text;
	citus		boolean := EXISTS (SELECT FROM pg_extension e WHERE e.extname = 'citus');
	shards		oid[] := '{}';
	propagation	text;
BEGIN
	PERFORM @extschema@._require_argument('role', grant_usage.role);
	IF citus THEN
		-- Citus refuses to pass on column privileges (users): grant on this
		-- node only, then copy every privilege with sync_grants().  Shard
		-- placements on this node (a reference table's) are not alfred's
		-- tables: sync_grants() gives them their table's privileges.
		propagation := current_setting('citus.enable_ddl_propagation');
		PERFORM set_config('citus.enable_ddl_propagation', 'off', true);
		EXECUTE 'SELECT coalesce(array_agg(c.oid), ''{}'') FROM pg_catalog.pg_class c
				  WHERE c.relnamespace = $1 AND pg_catalog.relation_is_a_known_shard(c.oid)'
			INTO shards USING '@extschema@'::regnamespace;
	END IF;
	EXECUTE format('GRANT USAGE ON SCHEMA @extschema@ TO %s', grant_usage.role);
	FOR r IN
		SELECT c.oid::regclass AS rel, c.relname, c.relkind, c.relrowsecurity
		  FROM pg_catalog.pg_class c
		 WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind IN ('r', 'p', 'v')
		   AND NOT c.relispartition AND c.oid <> ALL (shards)
		 ORDER BY c.relname
	LOOP
		-- Tables under row-level security: SELECT and the commands their policies allow.
		privileges := CASE
			WHEN r.relname IN ('users', 'mcp_servers') THEN NULL
			WHEN r.relname = 'tools' THEN 'SELECT'
			-- views: SELECT, and the commands their INSTEAD OF triggers implement (seeds' task_actions, approvals)
			WHEN r.relkind = 'v' THEN (SELECT string_agg(cmd, ', ' ORDER BY cmd) FROM (
					SELECT 'SELECT' UNION
					SELECT unnest(ARRAY[CASE WHEN t.tgtype & 4 <> 0 THEN 'INSERT' END,
										CASE WHEN t.tgtype & 16 <> 0 THEN 'UPDATE' END])
					  FROM pg_catalog.pg_trigger t WHERE t.tgrelid = r.rel AND t.tgtype & 64 <> 0) AS c (cmd)
				 WHERE cmd IS NOT NULL)
			WHEN r.relrowsecurity THEN
				(SELECT string_agg(cmd, ', ' ORDER BY cmd) FROM (
					SELECT 'SELECT' UNION
					SELECT CASE p.polcmd WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' END
					  FROM pg_catalog.pg_policy p WHERE p.polrelid = r.rel AND p.polcmd IN ('a', 'w', 'd')) AS c (cmd))
		END;
		IF privileges IS NOT NULL THEN
			EXECUTE format('GRANT %s ON %s TO %s', privileges, r.rel, grant_usage.role);
		END IF;
	END LOOP;
	-- Never the password hash; role and status change only through the DBA.
	EXECUTE format('GRANT SELECT (id, email, username, display_name, first_name, last_name, role, status,
								  timezone, location_city, location_country, profile, last_login_at,
								  created_at, updated_at),
						  UPDATE (username, display_name, first_name, last_name, timezone,
								  location_city, location_country, profile)
					ON @extschema@.users TO %s', grant_usage.role);
	IF citus THEN
		PERFORM set_config('citus.enable_ddl_propagation', propagation, true);
		PERFORM @extschema@.sync_grants();
	END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.grant_usage(regrole) IS
'Grants an application role what it needs: the schema, DML on the user-owned tables (row-level security decides which rows), reads of views, tools, audit trail, and of users without password_hash. Run it as the extension owner after installing or upgrading. On a Citus cluster, run on the coordinator: it grants there, then sync_grants() gives every node and shard placement the same privileges.';

------------------------------------------------------------------------------
-- Privileges on a Citus cluster
------------------------------------------------------------------------------

-- Citus creates a shard placement (create_distributed_table, a shard move or
-- copy, a reference table copied to a new node) with its table's table-level
-- privileges but not its column privileges, and refuses to pass on a GRANT
-- with a column list; the tables of a node that are not Citus tables get
-- nothing at all.  So the privileges on alfred's schema and relations are
-- copied here, as role names, from the coordinator to every node and every
-- placement.

CREATE FUNCTION @extschema@._relation_grants(relation regclass)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
-- (Citus hides shard placements from queries on pg_class by default)
SET citus.override_table_visibility = off
AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_array(g.grantee, g.privilege, g.grantable, g.col)
							  ORDER BY g.grantee, g.privilege, g.grantable, g.col), '[]')
	  FROM (SELECT r.rolname::text AS grantee, a.privilege_type AS privilege, a.is_grantable AS grantable,
				   NULL::text AS col
			  FROM pg_class c
			 CROSS JOIN LATERAL aclexplode(c.relacl) a
			  LEFT JOIN pg_roles r ON r.oid = a.grantee
			 WHERE c.oid = _relation_grants.relation AND a.grantee <> c.relowner
			UNION		-- (the same privilege from two grantors is one)
			SELECT r.rolname::text, a.privilege_type, a.is_grantable, att.attname::text
			  FROM pg_class c
			  JOIN pg_attribute att ON att.attrelid = c.oid AND att.attnum > 0 AND NOT att.attisdropped
			 CROSS JOIN LATERAL aclexplode(att.attacl) a
			  LEFT JOIN pg_roles r ON r.oid = a.grantee
			 WHERE c.oid = _relation_grants.relation AND a.grantee <> c.relowner) g
$$;
COMMENT ON FUNCTION @extschema@._relation_grants(regclass) IS
'Internal (sync_grants): the privileges on a relation and its columns but its owner''s, as a sorted jsonb array of [grantee role name (null: PUBLIC), privilege, grantable, column (null: the table)].';

CREATE FUNCTION @extschema@._grants()
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT jsonb_build_object(
		'schema', (SELECT coalesce(jsonb_agg(jsonb_build_array(r.rolname, a.privilege_type, a.is_grantable, NULL)
											 ORDER BY r.rolname, a.privilege_type, a.is_grantable), '[]')
					 FROM pg_namespace n
					CROSS JOIN LATERAL aclexplode(n.nspacl) a
					 LEFT JOIN pg_roles r ON r.oid = a.grantee
					WHERE n.oid = '@extschema@'::regnamespace AND a.grantee <> n.nspowner),
		'relations', (SELECT coalesce(jsonb_object_agg(c.oid::regclass::text, @extschema@._relation_grants(c.oid)), '{}')
						FROM pg_class c
						JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
						JOIN pg_extension e ON e.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
					   WHERE e.extname = 'alfred' AND c.relnamespace = '@extschema@'::regnamespace
						 AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND NOT c.relispartition))
$$;
COMMENT ON FUNCTION @extschema@._grants() IS
'Internal (sync_grants): the privileges on this node''s schema alfred and on every relation the extension owns (not partitions), as jsonb {schema: [...], relations: {name: [...]}} of _relation_grants() items.';

CREATE FUNCTION @extschema@._apply_grants(grants jsonb, copies boolean)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	citus		boolean := EXISTS (SELECT FROM pg_extension e WHERE e.extname = 'citus');
	propagation	text;
	rel			record;
	target		regclass;
	targets		regclass[];
	have		jsonb;
	who			text;
	g			record;
	changed		integer := 0;
BEGIN
	IF jsonb_typeof(grants->'schema') IS DISTINCT FROM 'array'
	   OR jsonb_typeof(grants->'relations') IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION 'invalid privileges document'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'It is an object with an array "schema" and an object "relations", as _grants() returns.';
	END IF;
	-- (the privileges go into GRANT statements: only their names)
	SELECT i->>1 INTO who
	  FROM (SELECT i FROM jsonb_array_elements(grants->'schema') i
			UNION ALL
			SELECT i FROM jsonb_each(grants->'relations') r, jsonb_array_elements(r.value) i) x
	 WHERE coalesce(x.i->>1, '') <> ALL (ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES',
												 'TRIGGER', 'USAGE', 'CREATE'])
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'invalid privilege "%" in privileges document', who
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF citus THEN
		-- (only this node: a worker node does not pass DDL on, and the
		-- coordinator's own copies are the source)
		propagation := current_setting('citus.enable_ddl_propagation');
		PERFORM set_config('citus.enable_ddl_propagation', 'off', true);
	END IF;
	IF copies THEN
		have := @extschema@._grants()->'schema';
		IF have <> grants->'schema' THEN
			SELECT string_agg(DISTINCT coalesce(quote_ident(i->>0), 'PUBLIC'), ', ') INTO who
			  FROM jsonb_array_elements(have || (grants->'schema')) i;
			EXECUTE format('REVOKE ALL ON SCHEMA @extschema@ FROM %s', who);
			FOR g IN SELECT i->>0 AS grantee, i->>1 AS privilege, (i->>2)::boolean AS grantable
					   FROM jsonb_array_elements(grants->'schema') i LOOP
				EXECUTE format('GRANT %s ON SCHEMA @extschema@ TO %s%s', g.privilege,
							   coalesce(quote_ident(g.grantee), 'PUBLIC'),
							   CASE WHEN g.grantable THEN ' WITH GRANT OPTION' ELSE '' END);
			END LOOP;
			changed := changed + 1;
		END IF;
	END IF;
	FOR rel IN SELECT j.key AS name, to_regclass(j.key) AS oid, j.value AS acl
				 FROM jsonb_each(grants->'relations') j
				WHERE to_regclass(j.key) IS NOT NULL
				ORDER BY j.key LOOP
		targets := CASE WHEN copies THEN ARRAY[rel.oid] ELSE '{}' END;
		IF citus THEN
			-- the relation's shard placements on this node
			EXECUTE 'SELECT coalesce(array_agg(pg_catalog.to_regclass(pg_catalog.shard_name(s.logicalrelid, s.shardid))
												ORDER BY s.shardid), ''{}'')
					   FROM pg_catalog.pg_dist_shard s
					   JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
					  WHERE s.logicalrelid = $1
						AND p.groupid = (SELECT l.groupid FROM pg_catalog.pg_dist_local_group l)'
				INTO STRICT targets USING rel.oid;
			targets := CASE WHEN copies THEN ARRAY[rel.oid] ELSE '{}' END || targets;
		END IF;
		FOREACH target IN ARRAY targets LOOP
			CONTINUE WHEN target IS NULL;		-- (a placement being dropped)
			have := @extschema@._relation_grants(target);
			CONTINUE WHEN have = rel.acl;
			-- REVOKE ALL on a table revokes its column privileges too.
			SELECT string_agg(DISTINCT coalesce(quote_ident(i->>0), 'PUBLIC'), ', ') INTO who
			  FROM jsonb_array_elements(have || rel.acl) i;
			EXECUTE format('REVOKE ALL ON %s FROM %s', target, who);
			FOR g IN SELECT i->>0 AS grantee, i->>1 AS privilege, (i->>2)::boolean AS grantable,
							string_agg(quote_ident(i->>3), ', ' ORDER BY i->>3) AS cols
					   FROM jsonb_array_elements(rel.acl) i
					  GROUP BY 1, 2, 3, i->>3 IS NULL LOOP
				EXECUTE format('GRANT %s%s ON %s TO %s%s', g.privilege,
							   CASE WHEN g.cols IS NULL THEN '' ELSE ' (' || g.cols || ')' END, target,
							   coalesce(quote_ident(g.grantee), 'PUBLIC'),
							   CASE WHEN g.grantable THEN ' WITH GRANT OPTION' ELSE '' END);
			END LOOP;
			changed := changed + 1;
		END LOOP;
	END LOOP;
	IF citus THEN
		PERFORM set_config('citus.enable_ddl_propagation', propagation, true);
	END IF;
	RETURN changed;
END
$$;
COMMENT ON FUNCTION @extschema@._apply_grants(jsonb, boolean) IS
'Internal (sync_grants, on each node): gives the shard placements on this node of each relation in grants (a _grants() document), and with copies => true this node''s schema alfred and relations themselves, exactly those privileges (REVOKE ALL, then GRANT); returns how many it changed.';
REVOKE EXECUTE ON FUNCTION @extschema@._apply_grants(jsonb, boolean) FROM PUBLIC;

CREATE FUNCTION @extschema@.sync_grants()
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	grants		jsonb;
	roles		text[];
	node		record;
	changed		integer;
	coordinator	boolean;
BEGIN
	IF NOT EXISTS (SELECT FROM pg_extension e WHERE e.extname = 'citus') THEN
		RETURN 0;
	END IF;
	grants := @extschema@._grants();
	EXECUTE 'SELECT l.groupid = 0 FROM pg_catalog.pg_dist_local_group l' INTO coordinator;
	IF coordinator THEN
		-- Every role named must exist on every worker node before anything changes.
		SELECT coalesce(array_agg(DISTINCT i->>0), '{}') INTO roles
		  FROM (SELECT i FROM jsonb_array_elements(grants->'schema') i
				UNION ALL
				SELECT i FROM jsonb_each(grants->'relations') r, jsonb_array_elements(r.value) i) x
		 WHERE x.i->>0 IS NOT NULL;
		FOR node IN EXECUTE 'SELECT nodename, nodeport, success, result FROM run_command_on_workers($1)'
			USING format('SELECT string_agg(r, '', '' ORDER BY r) FROM unnest(%L::text[]) r WHERE NOT EXISTS
							(SELECT FROM pg_catalog.pg_roles o WHERE o.rolname = r)', roles)
		LOOP
			IF NOT node.success THEN
				RAISE EXCEPTION 'could not read the roles of node "%:%"', node.nodename, node.nodeport
					USING ERRCODE = 'connection_failure',
						  DETAIL = node.result;
			END IF;
			IF coalesce(node.result, '') <> '' THEN
				RAISE EXCEPTION 'role "%" does not exist on node "%:%"',
								split_part(node.result, ', ', 1), node.nodename, node.nodeport
					USING ERRCODE = 'undefined_object',
						  DETAIL = format('Missing there: %s.', node.result),
						  HINT = 'Create roles on the coordinator with citus.enable_create_role_propagation on (the default), or create them on that node.';
			END IF;
		END LOOP;
	END IF;
	-- This node's shard placements, then every worker node's copies and placements.
	changed := @extschema@._apply_grants(grants, false);
	IF coordinator THEN
		FOR node IN EXECUTE 'SELECT nodename, nodeport, success, result FROM run_command_on_workers($1)'
			USING format('SELECT @extschema@._apply_grants(%L::jsonb, true)', grants)
		LOOP
			IF NOT node.success THEN
				RAISE EXCEPTION 'could not copy the privileges to node "%:%"', node.nodename, node.nodeport
					USING ERRCODE = 'connection_failure',
						  DETAIL = node.result;
			END IF;
			changed := changed + node.result::integer;
		END LOOP;
	END IF;
	RETURN changed;
END
$$;
COMMENT ON FUNCTION @extschema@.sync_grants() IS
'On a Citus cluster: gives every copy of alfred''s schema and relations on the worker nodes, and every shard placement, exactly the privileges they have on the coordinator (column privileges included, which Citus does not copy); returns how many objects it changed (0 when all matched, and without Citus). On a worker node it fixes only that node''s placements. Extension owner only; grant_usage() and distribute() run it: run it again after adding a node or moving shards. The worker nodes commit their part at once: after an error, run it again.';
REVOKE EXECUTE ON FUNCTION @extschema@.sync_grants() FROM PUBLIC;
