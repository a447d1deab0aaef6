-- alfred 0.1 -> 0.2
--
-- Every change to migrations/0.2/*.sql (the fresh-install script of 0.2) must
-- also be made here, so that ALTER EXTENSION alfred UPDATE gives the schema a
-- fresh install gives; test/integration/upgrade.sh compares the two.
-- Upgrade scripts are copied as they are: name schema alfred explicitly
-- (@extschema@ would be pg_catalog, where the extension object lives).

\echo Use "ALTER EXTENSION alfred UPDATE TO '0.2'" to load this file. \quit

-- run_maintenance: one table-driven loop instead of a block per relation.
-- main: one time-zone rule (timezone.c); leap-second zones are no longer valid.
COMMENT ON FUNCTION alfred.is_valid_timezone(text) IS
'Whether a time zone name is usable by every alfred engine: PostgreSQL''s time zone library knows it (IANA names such as Europe/Paris, and UTC) and it does not count leap seconds.';

-- policy: tool policies (admin_only), guards on direct writes of scheduled_tasks,
-- task_runs and connected_accounts tokens, per-user limits, sealed OAuth tokens,
-- check_integrations for admins and services only

-- Times that 0.1 accepted and scheduled_tasks_times_check refuses (schedule_task(at =>
-- 'infinity')): such a task never fell due; a NULL next_run_at says the same, and its
-- scheduled_at becomes the last instant alfred's times reach.
UPDATE alfred.scheduled_tasks SET next_run_at = NULL
 WHERE NOT isfinite(next_run_at) OR next_run_at >= '10000-01-01 00:00+00';
-- (a repair of the update, not a user's change: not in the audit trail)
ALTER TABLE alfred.scheduled_tasks DISABLE TRIGGER audit_update;
UPDATE alfred.scheduled_tasks SET scheduled_at = '9999-12-31 23:59:59+00'
 WHERE NOT isfinite(scheduled_at) OR scheduled_at >= '10000-01-01 00:00+00';
ALTER TABLE alfred.scheduled_tasks ENABLE TRIGGER audit_update;

-- An sql tool runs with the worker's privileges, for any user_id and args
-- its task gives it: a tool that acts on every user (maintenance) or on
-- global state is admin_only, so only the tasks of active admin users run it.
ALTER TABLE alfred.tools ADD COLUMN admin_only boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN alfred.tools.admin_only IS
'Only tasks of an active admin user may run the tool: checked when a task is scheduled, changed by any write, made due by run_task_now, and again when it runs.';

CREATE OR REPLACE FUNCTION alfred.tool_policy_error(tool_name text, user_id uuid)
RETURNS text
LANGUAGE sql STABLE
AS $$
	SELECT CASE WHEN t.admin_only AND NOT EXISTS (
				SELECT FROM alfred.users u WHERE u.id = $2 AND u.role = 'admin' AND u.status = 'active')
			THEN format('tool "%s" is admin-only and user "%s" is not an active admin', t.name, $2) END
	  FROM alfred.tools t
	 WHERE t.name = $1
$$;
COMMENT ON FUNCTION alfred.tool_policy_error(text, uuid) IS
'Why the tool''s policy refuses a task of user_id (an admin_only tool and a user who is not an active admin), or NULL when it allows it. The one rule behind schedule_task, direct writes of scheduled_tasks, run_task_now and the scheduler''s check at run time.';

DROP FUNCTION alfred.register_tool(text, regprocedure, text, text);
CREATE OR REPLACE FUNCTION alfred.register_tool(name text, fn regprocedure DEFAULT NULL,
	kind text DEFAULT 'sql', description text DEFAULT NULL, admin_only boolean DEFAULT NULL)
RETURNS alfred.tools
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p pg_proc;
	row alfred.tools;
BEGIN
	IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
		RAISE EXCEPTION 'permission denied to register tool "%"', register_tool.name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'The scheduler runs sql tools with its own privileges, so only superusers may register tools.';
	END IF;
	IF register_tool.name IS NULL OR register_tool.name !~ '^[a-z][a-z0-9_.-]*$' THEN
		RAISE EXCEPTION 'invalid tool name "%"', register_tool.name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A tool name starts with a lower-case letter followed by lower-case letters, digits, "_", "." or "-".';
	END IF;
	IF register_tool.kind IS NULL OR register_tool.kind NOT IN ('sql', 'external') THEN
		RAISE EXCEPTION 'invalid tool kind "%"', register_tool.kind
			USING ERRCODE = 'invalid_parameter_value', DETAIL = 'kind is sql or external.';
	END IF;
	IF register_tool.kind = 'external' AND register_tool.fn IS NOT NULL THEN
		RAISE EXCEPTION 'external tool "%" cannot have a function', register_tool.name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'An external tool is run by an agent process (claim_runs), not by the database.';
	END IF;
	IF register_tool.kind = 'sql' THEN
		SELECT * INTO p FROM pg_proc WHERE oid = register_tool.fn;
		IF NOT FOUND OR p.prokind <> 'f' OR p.proretset OR p.pronargs <> 2
		   OR p.proargtypes[0] <> 'uuid'::regtype OR p.proargtypes[1] <> 'jsonb'::regtype
		   OR p.prorettype <> 'jsonb'::regtype THEN
			RAISE EXCEPTION 'tool function "%" has the wrong signature', coalesce(register_tool.fn::text, '(null)')
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'An sql tool is a function (user_id uuid, args jsonb) returning jsonb, not a set.';
		END IF;
	END IF;
	INSERT INTO alfred.tools AS t (name, kind, fn, description, admin_only)
	VALUES (register_tool.name, register_tool.kind, register_tool.fn, register_tool.description,
			coalesce(register_tool.admin_only, false))
	ON CONFLICT ON CONSTRAINT tools_pkey DO UPDATE
		SET kind = excluded.kind, fn = excluded.fn, description = excluded.description,
			admin_only = coalesce(register_tool.admin_only, t.admin_only)
	RETURNING * INTO row;
	RETURN row;
END
$$;
COMMENT ON FUNCTION alfred.register_tool(text, regprocedure, text, text, boolean) IS
'Registers (or re-registers) a tool scheduled tasks may run: kind sql with fn(user_id uuid, args jsonb) returns jsonb, run inside the database; kind external (no fn), run by an agent through claim_runs. admin_only => true: only tasks of active admin users may run it (NULL: false for a new tool, unchanged for a registered one). Superusers only. 22023 for a bad name, kind or signature.';

UPDATE alfred.tools SET admin_only = true WHERE name IN ('expire_proposals', 'run_maintenance');

CREATE OR REPLACE FUNCTION alfred.task_prompt_context(task alfred.scheduled_tasks)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
	-- the columns grant_usage() lets an application role read: never password_hash
	SELECT jsonb_build_object(
			'user', to_jsonb(u) || jsonb_build_object('name',
				coalesce(u.display_name, nullif(concat_ws(' ', u.first_name, u.last_name), ''),
						 u.username, u.email)),
			'task', jsonb_build_object('id', $1.id, 'name', $1.name, 'description', $1.description,
									   'tool_name', $1.tool_name, 'timezone', $1.timezone,
									   'source', $1.source, 'schedule_cron', $1.schedule_cron),
			'args', $1.tool_args)
	  FROM (SELECT u.id, u.email, u.username, u.display_name, u.first_name, u.last_name, u.role,
				   u.status, u.timezone, u.location_city, u.location_country, u.profile,
				   u.last_login_at, u.created_at, u.updated_at
			  FROM alfred.users u
			 WHERE u.id = $1.user_id) u
$$;
COMMENT ON FUNCTION alfred.task_prompt_context(alfred.scheduled_tasks) IS
'The context a task''s prompt_template is rendered with: {"user": the users row (no password hash) plus "name", "task": id, name, description, tool_name, timezone, source, schedule_cron, "args": tool_args}.';

CREATE OR REPLACE FUNCTION alfred.schedule_task(user_id uuid, name text, tool_name text,
	tool_args jsonb DEFAULT '{}', cron text DEFAULT NULL, at timestamptz DEFAULT NULL,
	timezone text DEFAULT NULL, prompt_template text DEFAULT '', description text DEFAULT NULL,
	source text DEFAULT 'user', max_retries integer DEFAULT 3)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	tz text := schedule_task.timezone;
	task alfred.scheduled_tasks;
BEGIN
	IF (schedule_task.cron IS NULL) = (schedule_task.at IS NULL) THEN
		RAISE EXCEPTION 'a scheduled task needs either cron or at'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Give cron for a recurring task or at for a one-time task, not both and not neither.';
	END IF;
	IF schedule_task.at IS NOT NULL AND schedule_task.at <= now() THEN
		RAISE EXCEPTION 'at "%" is in the past', schedule_task.at
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A one-time task must be scheduled after the current time.';
	END IF;
	IF NOT EXISTS (SELECT FROM alfred.users u WHERE u.id = schedule_task.user_id) THEN
		RAISE EXCEPTION 'no user with id "%"', schedule_task.user_id
			USING ERRCODE = 'no_data_found';
	END IF;
	IF NOT EXISTS (SELECT FROM alfred.tools t WHERE t.name = schedule_task.tool_name) THEN
		RAISE EXCEPTION 'unknown tool "%"', schedule_task.tool_name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Register it with alfred.register_tool().';
	END IF;
	IF tz IS NULL THEN
		SELECT u.timezone INTO tz FROM alfred.users u WHERE u.id = schedule_task.user_id;
		tz := coalesce(tz, 'UTC');
	ELSIF NOT alfred.is_valid_timezone(tz) THEN
		RAISE EXCEPTION 'invalid time zone "%"', tz
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Use an IANA time zone name such as Europe/Paris, or UTC.';
	END IF;
	IF schedule_task.tool_args IS NULL OR jsonb_typeof(schedule_task.tool_args) <> 'object' THEN
		RAISE EXCEPTION 'tool_args must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF schedule_task.max_retries IS NULL OR schedule_task.max_retries NOT BETWEEN 0 AND 100 THEN
		RAISE EXCEPTION 'max_retries % is out of range 0-100', schedule_task.max_retries
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO alfred.scheduled_tasks AS t (user_id, name, description, task_type, schedule_cron,
		scheduled_at, timezone, tool_name, tool_args, prompt_template, source, max_retries, next_run_at)
	VALUES (schedule_task.user_id, schedule_task.name, schedule_task.description,
		CASE WHEN schedule_task.cron IS NULL THEN 'one_time' ELSE 'recurring' END,
		schedule_task.cron, schedule_task.at, tz, schedule_task.tool_name, schedule_task.tool_args,
		coalesce(schedule_task.prompt_template, ''), schedule_task.source, schedule_task.max_retries,
		coalesce(schedule_task.at, alfred.cron_next(schedule_task.cron, now(), tz)))
	RETURNING * INTO task;		-- the scheduled_tasks_policy trigger checks the tool's policy, template and limits
	RETURN task.id;
END
$$;
COMMENT ON FUNCTION alfred.schedule_task(uuid, text, text, jsonb, text, timestamptz, text, text, text, text, integer) IS
'Schedules tool_name(user_id, tool_args) for a user: recurring with cron (evaluated in timezone, default the user''s) or once at "at"; returns the task id. 22023 for neither or both of cron/at, an at in the past, a bad cron, time zone or template, an unknown tool; P0002 for an unknown user; 42501 when the tool''s policy refuses the user; 54000 beyond the per-user limits (alfred.max_active_tasks, alfred.min_task_interval, alfred.max_tool_args).';

CREATE OR REPLACE FUNCTION alfred.check_tool_policy(tool_name text, user_id uuid)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
DECLARE
	why text := alfred.tool_policy_error(check_tool_policy.tool_name, check_tool_policy.user_id);
BEGIN
	IF why IS NOT NULL THEN
		RAISE EXCEPTION 'permission denied to schedule tool "%" for user "%"',
			check_tool_policy.tool_name, check_tool_policy.user_id
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('The tool''s policy refuses it: %s.', why),
				  HINT = 'A superuser sets a tool''s policy with alfred.register_tool(..., admin_only => ...).';
	END IF;
END
$$;
COMMENT ON FUNCTION alfred.check_tool_policy(text, uuid) IS
'Raises 42501 when the tool''s policy (tool_policy_error) refuses a task of user_id.';

CREATE OR REPLACE FUNCTION alfred.scheduled_task_min_gap(cron text, timezone text, after timestamptz,
	slots integer DEFAULT 500)
RETURNS interval
LANGUAGE sql STABLE
AS $$
	SELECT min(g.next - g.t)
	  FROM (SELECT t, lead(t) OVER (ORDER BY t) AS next
			  FROM alfred.cron_next_n($1, $3, $2, $4) AS c (t)) g
$$;
COMMENT ON FUNCTION alfred.scheduled_task_min_gap(text, text, timestamptz, integer) IS
'The shortest time between two consecutive fire times of a cron expression in timezone, over its next "slots" fire times after "after" (NULL when it fires less than twice): what alfred.min_task_interval is compared with.';

CREATE OR REPLACE FUNCTION alfred.scheduled_tasks_policy()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
	limited boolean;
	max_active integer;			-- the user's limits; NULL for a caller who is not limited
	min_interval interval;
	max_args bigint;
	gap interval;
	lim bigint;
	n bigint;
BEGIN
	-- pg_restore (row_security off, as a trusted role) reloads rows as they were
	IF current_setting('row_security') = 'off' AND alfred.caller_is_service() THEN
		RETURN NEW;
	END IF;
	-- tenants are limited; a trusted role without an alfred identity (a DBA, a service) is not
	limited := NOT (alfred.caller_is_service() AND alfred.current_user_id() IS NULL);
	IF limited THEN
		SELECT l.max_active_tasks, l.min_task_interval, l.max_tool_args INTO max_active, min_interval, max_args
		  FROM alfred.scheduler_limits_of(NEW.user_id) l;
	END IF;

	IF TG_OP = 'INSERT' OR NEW.tool_name IS DISTINCT FROM OLD.tool_name
	   OR (NEW.status = 'active' AND OLD.status <> 'active') THEN
		PERFORM alfred.check_tool_policy(NEW.tool_name, NEW.user_id);
	END IF;

	-- (a missing cron expression or an unknown zone is the table's CHECK constraints' to report)
	IF NEW.task_type = 'recurring' AND NEW.schedule_cron IS NOT NULL AND alfred.is_valid_timezone(NEW.timezone)
	   AND (TG_OP = 'INSERT' OR NEW.schedule_cron IS DISTINCT FROM OLD.schedule_cron
			OR NEW.timezone IS DISTINCT FROM OLD.timezone OR NEW.task_type IS DISTINCT FROM OLD.task_type) THEN
		-- raises 22023 naming the bad field; NULL: it never fires
		IF alfred.cron_next(NEW.schedule_cron, now(), NEW.timezone) IS NULL THEN
			RAISE EXCEPTION 'cron expression "%" never fires after now', NEW.schedule_cron
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF min_interval > interval '0' THEN
			gap := alfred.scheduled_task_min_gap(NEW.schedule_cron, NEW.timezone, now());
			IF gap < min_interval THEN
				RAISE EXCEPTION 'scheduled task "%" would run too often', NEW.name
					USING ERRCODE = 'program_limit_exceeded',
						  DETAIL = format('Cron expression "%s" fires %s apart; the user''s alfred.min_task_interval is %s.',
										  NEW.schedule_cron, gap, min_interval);
			END IF;
		END IF;
	END IF;

	IF max_args > 0 AND (TG_OP = 'INSERT' OR NEW.tool_args IS DISTINCT FROM OLD.tool_args) THEN
		lim := max_args;
		n := octet_length(NEW.tool_args::text);
		IF n > lim THEN
			RAISE EXCEPTION 'tool_args of scheduled task "%" are too large', NEW.name
				USING ERRCODE = 'program_limit_exceeded',
					  DETAIL = format('They take %s bytes as JSON text; the user''s alfred.max_tool_args is %s bytes.', n, lim);
		END IF;
	END IF;

	IF NEW.prompt_template <> '' AND (TG_OP = 'INSERT' OR NEW.prompt_template IS DISTINCT FROM OLD.prompt_template
			OR NEW.tool_args IS DISTINCT FROM OLD.tool_args) THEN
		-- a template that cannot render for this user and these args fails now, not at 7 am
		PERFORM alfred.render_template(NEW.prompt_template, alfred.task_prompt_context(NEW));
	END IF;

	IF NEW.status = 'active' AND (TG_OP = 'INSERT' OR OLD.status <> 'active') THEN
		-- an active task has a next run: the next slot, as schedule_task and resume_task give it
		IF NEW.next_run_at IS NULL AND alfred.is_valid_timezone(NEW.timezone) THEN
			NEW.next_run_at := CASE WHEN NEW.task_type = 'one_time' THEN greatest(NEW.scheduled_at, now())
									ELSE alfred.cron_next(NEW.schedule_cron, now(), NEW.timezone) END;
		END IF;
		IF max_active > 0 THEN
			lim := max_active;
			-- one writer per user at a time, so two transactions cannot both take the last place
			PERFORM pg_advisory_xact_lock(hashtext('alfred.scheduled_tasks'), hashtext(NEW.user_id::text));
			SELECT count(*) INTO n FROM alfred.scheduled_tasks t
			 WHERE t.user_id = NEW.user_id AND t.status = 'active' AND t.id <> NEW.id;
			IF n >= lim THEN
				RAISE EXCEPTION 'user "%" has too many active scheduled tasks', NEW.user_id
					USING ERRCODE = 'program_limit_exceeded',
						  DETAIL = format('They have %s; their alfred.max_active_tasks is %s.', n, lim),
						  HINT = 'Cancel or pause a task first.';
			END IF;
		END IF;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION alfred.scheduled_tasks_policy() IS
'Trigger: every write of a scheduled task is held to what schedule_task checks: the tool''s policy (42501), a cron expression that fires (22023), a prompt_template that renders (22023), a task that becomes active without next_run_at gets its next slot; and, for tenants (callers with an alfred identity or without a trusted role), the limits alfred.min_task_interval, alfred.max_tool_args and alfred.max_active_tasks, or the user''s scheduler_limits row (54000).';

CREATE TRIGGER scheduled_tasks_policy
	BEFORE INSERT ON alfred.scheduled_tasks
	FOR EACH ROW EXECUTE FUNCTION alfred.scheduled_tasks_policy();
-- The scheduler's bookkeeping (next_run_at, counts, active -> paused or
-- completed) changes none of these: the trigger does not even start for it.
CREATE TRIGGER scheduled_tasks_policy_update
	BEFORE UPDATE ON alfred.scheduled_tasks
	FOR EACH ROW
	WHEN ((OLD.tool_name, OLD.tool_args, OLD.schedule_cron, OLD.timezone, OLD.task_type, OLD.prompt_template)
		  IS DISTINCT FROM
		  (NEW.tool_name, NEW.tool_args, NEW.schedule_cron, NEW.timezone, NEW.task_type, NEW.prompt_template)
		  OR (NEW.status = 'active' AND OLD.status <> 'active'))
	EXECUTE FUNCTION alfred.scheduled_tasks_policy();

CREATE OR REPLACE FUNCTION alfred.scheduled_tasks_guard()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'alfred_scheduled_tasks_guard';
COMMENT ON FUNCTION alfred.scheduled_tasks_guard() IS
'Trigger: a scheduled task''s status moves only active -> paused, cancelled or completed and paused -> active or cancelled (55000 otherwise; cancelled and completed are final), and its id and created_at never change. The machine of proposals_guard.';
CREATE TRIGGER scheduled_tasks_guard
	BEFORE UPDATE ON alfred.scheduled_tasks
	FOR EACH ROW
	WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.id IS DISTINCT FROM NEW.id
		  OR OLD.created_at IS DISTINCT FROM NEW.created_at)
	EXECUTE FUNCTION alfred.scheduled_tasks_guard();

CREATE OR REPLACE FUNCTION alfred.task_runs_guard()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'alfred_task_runs_guard';
COMMENT ON FUNCTION alfred.task_runs_guard() IS
'Trigger: runs are recorded and finished only by the scheduler and trusted roles (superusers, alfred_service members: the worker and agents through claim_runs, complete_run, fail_run); anyone else may only cancel a run that has not ended (42501).';
CREATE TRIGGER task_runs_guard
	BEFORE INSERT OR UPDATE ON alfred.task_runs
	FOR EACH ROW EXECUTE FUNCTION alfred.task_runs_guard();

CREATE TABLE alfred.scheduler_limits (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	max_active_tasks	integer,
	min_task_interval	interval,
	max_tool_args		integer,
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id),
	CONSTRAINT scheduler_limits_check CHECK (max_active_tasks >= 0 AND min_task_interval >= interval '0'
											 AND max_tool_args >= 0)
);
COMMENT ON TABLE alfred.scheduler_limits IS
'A DBA''s per-user overrides of alfred.max_active_tasks, alfred.min_task_interval and alfred.max_tool_args (NULL: the setting; 0: no limit). Users read their own row; only the DBA writes.';
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON alfred.scheduler_limits
	FOR EACH ROW EXECUTE FUNCTION alfred.touch_updated_at();
-- users read their row (admins and observers all); only the tables' owner writes
SELECT alfred.enable_tenant_rls('alfred.scheduler_limits', commands => '{}');
SELECT pg_catalog.pg_extension_config_dump('alfred.scheduler_limits', '');

CREATE OR REPLACE FUNCTION alfred.scheduler_limits_of(user_id uuid, OUT max_active_tasks integer,
	OUT min_task_interval interval, OUT max_tool_args bigint)
LANGUAGE sql STABLE
AS $$
	SELECT coalesce(l.max_active_tasks, current_setting('alfred.max_active_tasks')::integer),
		   coalesce(l.min_task_interval, current_setting('alfred.min_task_interval')::interval),
		   coalesce(l.max_tool_args, pg_size_bytes(current_setting('alfred.max_tool_args')))
	  FROM (SELECT alfred.current_user_id()) AS loaded (u)		-- defines the settings
	  LEFT JOIN alfred.scheduler_limits l ON l.user_id = $1
$$;
COMMENT ON FUNCTION alfred.scheduler_limits_of(uuid) IS
'The scheduler limits of a user: their scheduler_limits row where it sets one, else the settings alfred.max_active_tasks, alfred.min_task_interval and alfred.max_tool_args (0: no limit).';

CREATE OR REPLACE FUNCTION alfred.run_task_now(task_id uuid)
RETURNS alfred.scheduled_tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	task alfred.scheduled_tasks := alfred.task_for_update(run_task_now.task_id);
BEGIN
	IF task.status <> 'active' THEN
		RAISE EXCEPTION 'cannot run a % task', task.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('Task "%s" is %s; resume it first.', task.name, task.status);
	END IF;
	PERFORM alfred.check_tool_policy(task.tool_name, task.user_id);
	UPDATE alfred.scheduled_tasks t SET next_run_at = now()
	 WHERE t.user_id = task.user_id AND t.id = task.id
	RETURNING * INTO task;
	RETURN task;
END
$$;
COMMENT ON FUNCTION alfred.run_task_now(uuid) IS
'Makes an active task due now: the worker runs it at once (it is woken on commit); a recurring task then continues from its next slot. 55000 for a task that is not active, 42501 when the tool''s policy refuses the task''s user.';

CREATE OR REPLACE FUNCTION alfred.seal_account_token(user_id uuid, account_id uuid, token text, key text)
RETURNS bytea
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN token IS NOT NULL
				THEN pgp_sym_encrypt(user_id::text || account_id::text || token, key) END
$$;
COMMENT ON FUNCTION alfred.seal_account_token(uuid, uuid, text, text) IS
'Internal: encrypts an OAuth token for one connected account (its user_id and id are encrypted with it); NULL for NULL.';

CREATE OR REPLACE FUNCTION alfred.open_account_token(user_id uuid, account_id uuid, sealed bytea, key text)
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
COMMENT ON FUNCTION alfred.open_account_token(uuid, uuid, bytea, text) IS
'Internal: decrypts a token sealed for the connected account (user_id, account_id); 28P01 for a wrong key or a token sealed for another account.';
REVOKE ALL ON FUNCTION alfred.open_account_token(uuid, uuid, bytea, text) FROM PUBLIC;

-- Tokens are written only by the functions below (SECURITY DEFINER, so the
-- table's owner is the current user inside them), never by a direct write.
CREATE OR REPLACE FUNCTION alfred.connected_accounts_guard()
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
COMMENT ON FUNCTION alfred.connected_accounts_guard() IS
'Trigger: a connected account''s tokens are written only through connect_account and set_account_tokens (42501 for a direct INSERT, or an UPDATE of access_token or refresh_token, by anyone but the tables'' owner or a superuser).';
CREATE TRIGGER connected_accounts_guard
	BEFORE INSERT OR UPDATE ON alfred.connected_accounts
	FOR EACH ROW EXECUTE FUNCTION alfred.connected_accounts_guard();

CREATE OR REPLACE FUNCTION alfred.connect_account(user_id uuid, provider text, access_token text,
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
	IF NOT (connect_account.user_id = alfred.current_user_id()
			OR alfred.current_user_role() = 'admin'
			OR alfred.caller_is_service()) THEN
		RAISE EXCEPTION 'permission denied to connect an account for user "%"', connect_account.user_id
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF coalesce(access_token, '') = '' THEN
		RAISE EXCEPTION 'access_token must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	k := alfred.token_key(key);
	INSERT INTO alfred.connected_accounts AS a
		   (user_id, id, provider, provider_account_id, provider_email, access_token, refresh_token,
			token_expires_at, scopes, status)
	VALUES (connect_account.user_id, new_id, connect_account.provider, connect_account.provider_account_id,
			connect_account.provider_email,
			alfred.seal_account_token(connect_account.user_id, new_id, access_token, k),
			alfred.seal_account_token(connect_account.user_id, new_id, refresh_token, k),
			connect_account.token_expires_at, coalesce(connect_account.scopes, '{}'), 'active')
	ON CONFLICT ON CONSTRAINT connected_accounts_account_key DO UPDATE
		SET token_expires_at = EXCLUDED.token_expires_at, scopes = EXCLUDED.scopes,
			provider_email = coalesce(EXCLUDED.provider_email, a.provider_email), status = 'active'
	RETURNING a.id INTO acct_id;
	IF acct_id <> new_id THEN
		-- an existing connection: its tokens are sealed to its own id
		UPDATE alfred.connected_accounts a
		   SET access_token = alfred.seal_account_token(a.user_id, a.id, connect_account.access_token, k),
			   refresh_token = alfred.seal_account_token(a.user_id, a.id, connect_account.refresh_token, k)
		 WHERE a.user_id = connect_account.user_id AND a.id = acct_id;
	END IF;
	RETURN acct_id;
END
$$;
COMMENT ON FUNCTION alfred.connect_account(uuid, text, text, text, timestamptz, text, text, text[], text) IS
'Stores (or refreshes) a user''s OAuth connection with its tokens encrypted by pgcrypto under the key (argument or alfred.token_key); returns the account id. Allowed to the user, admins and service roles.';

CREATE OR REPLACE FUNCTION alfred.set_account_tokens(account_id uuid, access_token text,
	refresh_token text DEFAULT NULL, token_expires_at timestamptz DEFAULT NULL, key text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	acct	alfred.connected_accounts := alfred.account_for_tokens(account_id);
	k		text := alfred.token_key(key);
BEGIN
	IF coalesce(access_token, '') = '' THEN
		RAISE EXCEPTION 'access_token must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE alfred.connected_accounts a
	   SET access_token = alfred.seal_account_token(a.user_id, a.id, set_account_tokens.access_token, k),
		   refresh_token = CASE WHEN set_account_tokens.refresh_token IS NULL THEN a.refresh_token
								ELSE alfred.seal_account_token(a.user_id, a.id, set_account_tokens.refresh_token, k) END,
		   token_expires_at = set_account_tokens.token_expires_at,
		   status = 'active'
	 WHERE a.user_id = acct.user_id AND a.id = acct.id;
END
$$;
COMMENT ON FUNCTION alfred.set_account_tokens(uuid, text, text, timestamptz, text) IS
'Replaces a connected account''s tokens after a refresh (a NULL refresh_token keeps the old one), encrypted under the key (argument or alfred.token_key).';

CREATE OR REPLACE FUNCTION alfred.account_tokens(account_id uuid, key text DEFAULT NULL,
	OUT access_token text, OUT refresh_token text, OUT token_expires_at timestamptz)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	acct	alfred.connected_accounts := alfred.account_for_tokens(account_id);
	k		text := alfred.token_key(key);
BEGIN
	access_token := alfred.open_account_token(acct.user_id, acct.id, acct.access_token, k);
	refresh_token := alfred.open_account_token(acct.user_id, acct.id, acct.refresh_token, k);
	token_expires_at := acct.token_expires_at;
END
$$;
COMMENT ON FUNCTION alfred.account_tokens(uuid, text) IS
'Decrypts a connected account''s OAuth tokens with the key (argument or alfred.token_key); the only way to read them back. Allowed to the account''s user, admins and service roles; a wrong key raises 28P01.';

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
		 WHERE p.pronamespace = 'alfred'::regnamespace
		   AND p.proname IN ('connect_account', 'set_account_tokens', 'account_tokens',
							 'seal_account_token', 'open_account_token')
	LOOP
		EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', fn, crypto);
	END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION alfred.check_integrations(silent_after interval DEFAULT NULL,
                                               now timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n integer;
BEGIN
	-- it marks every MCP server: global state, for admins and trusted services
	IF NOT (alfred.caller_is_service() OR alfred.current_user_role() = 'admin') THEN
		RAISE EXCEPTION 'permission denied to check integrations'
			USING ERRCODE = '42501',
			      DETAIL = 'check_integrations marks every MCP server; only admins, superusers and members of alfred_service run it.';
	END IF;
	IF check_integrations.now IS NULL THEN
		RAISE EXCEPTION 'argument "now" must not be null' USING ERRCODE = '22004';
	END IF;
	-- the setting exists once the library is loaded (always, when preloaded)
	silent_after := coalesce(silent_after,
	                         current_setting('alfred.mcp_silence_timeout', true)::interval,
	                         interval '5 minutes');
	IF silent_after <= interval '0' THEN
		RAISE EXCEPTION 'invalid silence limit "%"', silent_after USING ERRCODE = '22023',
			DETAIL = 'A server is marked as failed after a positive interval without heartbeat.';
	END IF;
	UPDATE alfred.mcp_servers
	SET status = 'error'
	WHERE is_active AND status = 'active'
	  AND (last_heartbeat IS NULL OR last_heartbeat < check_integrations.now - silent_after);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

COMMENT ON FUNCTION alfred.check_integrations(interval, timestamptz) IS
'Maintenance: marks active MCP servers with no heartbeat for longer than silent_after (default: the setting alfred.mcp_silence_timeout, 5 minutes) before now as error; returns how many. Called by run_maintenance. Admins, superusers and alfred_service members only (42501).';

-- seeds: the seeds' own flows (issue 15): chat sessions closed by maintenance
-- after 24 idle hours, seed 001's retention of task actions and of the
-- messages of ended sessions, cleanup_expired_sessions(), an AI context for
-- every user, enable_proactive_suggestions honoured (and on by default),
-- writable task_actions and approvals views, failed proposals rejectable,
-- approved_by kept on rejection, a clean error for an unknown task, rounded
-- calibration values.

-- Seed 001's switch now silences suggestions; 0.1 ignored it, so a row never
-- changed since its creation holds the old default, not a choice: it becomes on.
ALTER TABLE alfred.user_settings ALTER COLUMN enable_proactive_suggestions SET DEFAULT true;
UPDATE alfred.user_settings SET enable_proactive_suggestions = true
 WHERE NOT enable_proactive_suggestions AND updated_at = created_at;

COMMENT ON COLUMN alfred.user_settings.enable_proactive_suggestions IS
'Seed 001''s switch: while off, suggestion_score is 0 and should_suggest false for every suggestion type. On by default (alfred is a proactive assistant; calibration learns to be quiet, and set_proactiveness(''less'') asks for less).';


-- Every user has an AI context from creation on (seed 001).
INSERT INTO alfred.ai_contexts (user_id) SELECT u.id FROM alfred.users u ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION alfred.create_user(
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
	IF create_user.email IS NULL OR create_user.email !~ '^[^@[:space:]]+@[^@[:space:]]+$' THEN
		RAISE EXCEPTION 'invalid email address "%"', coalesce(create_user.email, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'An email address has one @ and no spaces.';
	END IF;
	PERFORM alfred.check_password_strength(create_user.password);
	IF create_user.timezone IS NULL OR NOT alfred.is_valid_timezone(create_user.timezone) THEN
		RAISE EXCEPTION 'invalid time zone "%"', coalesce(create_user.timezone, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Use an IANA time zone name such as "Europe/Paris" or "UTC".';
	END IF;
	IF create_user.role IS NULL OR create_user.role NOT IN ('admin', 'user', 'observer') THEN
		RAISE EXCEPTION 'invalid role "%"', coalesce(create_user.role, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A role is admin, user or observer.';
	END IF;
	IF create_user.role <> 'user' AND NOT alfred.caller_is_service()
	   AND alfred.current_user_role() IS DISTINCT FROM 'admin' THEN
		RAISE EXCEPTION 'permission denied to create a user with role "%"', create_user.role
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Only admins, superusers and members of role "alfred_service" may create admin or observer users.';
	END IF;

	BEGIN
		INSERT INTO alfred.users AS u (email, password_hash, username, display_name, first_name, last_name,
											 role, timezone, location_city, location_country, profile)
		VALUES (create_user.email, alfred.hash_password(create_user.password), create_user.username,
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
	INSERT INTO alfred.user_settings (user_id) VALUES (new_id);
	INSERT INTO alfred.proactiveness_settings (user_id) VALUES (new_id);
	INSERT INTO alfred.ai_contexts (user_id) VALUES (new_id);	-- seed 001: an AI context per user
	RETURN new_id;
END
$$;
COMMENT ON FUNCTION alfred.create_user(text, text, text, text, text, text, text, text, text, text, jsonb) IS
'Creates a user (bcrypt password hash) with default settings, proactiveness and AI context rows; returns the id. Admin and observer users may only be created by admins, superusers and alfred_service members.';

CREATE OR REPLACE FUNCTION alfred.grant_usage(role regrole)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r			record;
	privileges	text;
BEGIN
	IF grant_usage.role IS NULL THEN
		RAISE EXCEPTION 'role must not be NULL' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE format('GRANT USAGE ON SCHEMA alfred TO %s', grant_usage.role);
	FOR r IN
		SELECT c.oid::regclass AS rel, c.relname, c.relkind, c.relrowsecurity
		  FROM pg_catalog.pg_class c
		 WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p', 'v')
		   AND NOT c.relispartition
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
					ON alfred.users TO %s', grant_usage.role);
END
$$;
COMMENT ON FUNCTION alfred.grant_usage(regrole) IS
'Grants an application role what it needs: the schema, DML on the user-owned tables (row-level security decides which rows), reads of views, tools, audit trail, and of users without password_hash. Run it as the extension owner after installing or upgrading.';

CREATE OR REPLACE FUNCTION alfred._proposal_lock(proposal_id uuid)
RETURNS alfred.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	seen text;
	owner uuid;
	locked record;
BEGIN
	IF proposal_id IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'proposal_id must not be null';
	END IF;
	-- what this statement's snapshot shows, then the row as locked: if a
	-- concurrent transaction changed it in between, the caller decided on a
	-- stale proposal
	SELECT x.xmin::text, x.user_id INTO seen, owner FROM alfred.proposals x WHERE x.id = _proposal_lock.proposal_id;
	SELECT x AS p, x.xmin::text AS xmin INTO locked
	  FROM alfred.proposals x WHERE x.id = _proposal_lock.proposal_id FOR UPDATE;
	IF NOT FOUND AND owner <> ALL (alfred.writable_user_ids())
	   AND EXISTS (SELECT FROM alfred.proposals x WHERE x.id = _proposal_lock.proposal_id) THEN
		-- visible but not writable (an observer), and not deleted meanwhile
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('permission denied to decide proposal "%s"', proposal_id),
			DETAIL = 'The current alfred user may read this proposal but not change it.';
	END IF;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'no_data_found',
			MESSAGE = format('proposal "%s" does not exist', proposal_id);
	END IF;
	IF seen IS DISTINCT FROM locked.xmin THEN
		RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
			MESSAGE = format('proposal "%s" was changed by a concurrent transaction', proposal_id),
			DETAIL = format('It is now %s.', (locked.p).status),
			HINT = 'Read the proposal again before deciding.';
	END IF;
	RETURN locked.p;
END
$$;
COMMENT ON FUNCTION alfred._proposal_lock(uuid) IS
'Internal: locks a proposal for a state change; P0002 when it does not exist (or the caller cannot see it), 42501 when the caller may read but not change it, 40001 when a concurrent transaction changed it after the calling statement''s snapshot';

CREATE FUNCTION alfred._proposal_check_task(user_id uuid, task_id uuid, what text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF task_id IS NOT NULL AND NOT EXISTS (
		SELECT FROM alfred.tasks t
		 WHERE t.user_id = _proposal_check_task.user_id AND t.id = _proposal_check_task.task_id) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('task "%s" does not exist', task_id),
			DETAIL = format('The %s names no task of user "%s".', what, user_id);
	END IF;
END
$$;
COMMENT ON FUNCTION alfred._proposal_check_task(uuid, uuid, text) IS
'Internal: raises 22023 naming the task when task_id is not NULL and not one of the user''s tasks (what says where the id came from)';

CREATE OR REPLACE FUNCTION alfred.approve(proposal_id uuid, edited_payload jsonb DEFAULT NULL, execute boolean DEFAULT false)
RETURNS alfred.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p alfred.proposals := alfred._proposal_lock(approve.proposal_id);
	distance double precision;
	signal text := 'approved';
BEGIN
	IF p.status <> 'pending' THEN
		PERFORM alfred._proposal_not_in(p, 'pending',
			CASE WHEN p.status = 'failed' THEN 'Retry it with alfred.retry_proposal(), or reject it.' END);
	END IF;
	IF p.expires_at <= now() THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('proposal "%s" has expired', p.id),
			DETAIL = 'Its expires_at has passed; alfred.expire_proposals() marks it expired.';
	END IF;
	IF approve.execute AND NOT alfred._proposal_is_task_action(p.action_type) THEN
		PERFORM alfred._proposal_no_executor(p);
	END IF;
	IF approve.edited_payload IS NOT NULL THEN
		PERFORM alfred.check_proposal_payload(p.action_type, approve.edited_payload, true);
		IF alfred._proposal_is_task_action(p.action_type) THEN
			PERFORM alfred._proposal_check_task(p.user_id, (approve.edited_payload->>'task_id')::uuid,
													 'edited payload''s "task_id"');
		END IF;
		distance := alfred.proposal_edit_distance(p.payload, approve.edited_payload);
		signal := alfred.proposal_edit_signal(distance);
	END IF;

	UPDATE alfred.proposals x
	   SET status = 'approved',
		   approved_by = coalesce(alfred.current_user_id(), p.user_id),
		   edited_payload = approve.edited_payload,
		   task_id = CASE WHEN alfred._proposal_is_task_action(p.action_type)
							   AND approve.edited_payload ? 'task_id'
						  THEN (approve.edited_payload->>'task_id')::uuid ELSE x.task_id END
	 WHERE x.id = p.id
	RETURNING * INTO p;
	PERFORM alfred._proposal_signal(p, signal,
		CASE WHEN distance IS NOT NULL
			 THEN jsonb_build_object('distance', round(distance::numeric, 4), 'heavy_edit_threshold', 0.25) END);
	IF approve.execute THEN
		p := alfred._proposal_execute(p);
	END IF;
	RETURN p;
END
$$;
COMMENT ON FUNCTION alfred.approve(uuid, jsonb, boolean) IS
'The user approves a pending proposal, optionally with an edited payload (checked like the original); writes an approved, edited_lightly or edited_heavily signal; execute => true also runs a task action in the same transaction';

CREATE OR REPLACE FUNCTION alfred.reject(proposal_id uuid, reason text DEFAULT NULL)
RETURNS alfred.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p alfred.proposals := alfred._proposal_lock(reject.proposal_id);
	was text := p.status;
BEGIN
	IF p.status NOT IN ('pending', 'approved', 'failed') THEN
		PERFORM alfred._proposal_not_in(p, 'pending, approved or failed',
			CASE WHEN p.status = 'executing' THEN 'Wait for its outcome: an action under way cannot be called back; a failed one can be rejected.' END);
	END IF;
	UPDATE alfred.proposals x
	   SET status = 'rejected', rejected_by = coalesce(alfred.current_user_id(), p.user_id), rejection_reason = reject.reason
	 WHERE x.id = p.id
	RETURNING * INTO p;
	PERFORM alfred._proposal_signal(p, 'rejected',
		jsonb_build_object('was', was) || jsonb_strip_nulls(jsonb_build_object('reason', reject.reason)));
	RETURN p;
END
$$;
COMMENT ON FUNCTION alfred.reject(uuid, text) IS
'The user rejects a pending, approved (not yet executing) or failed proposal, with an optional reason; writes a rejected signal (its context says which status it was in); who approved it, if anyone, stays recorded';

CREATE OR REPLACE VIEW alfred.approvals WITH (security_invoker = true) AS
SELECT p.id, p.user_id, p.task_id, p.action_type,
	   coalesce(p.edited_payload, p.payload) AS details,
	   CASE WHEN p.status IN ('pending', 'rejected', 'expired') THEN p.status ELSE 'approved' END AS status,
	   coalesce(p.requested_by, p.agent_name) AS requested_by,
	   p.approved_by, p.approved_at,
	   p.rejected_by, p.rejected_at, p.expires_at, p.created_at, p.updated_at,
	   coalesce(p.notes, p.rejection_reason, p.explanation) AS notes
  FROM alfred.proposals p;

COMMENT ON VIEW alfred.approvals IS
'Seed 004''s approvals over alfred.proposals: status pending, approved (also executing, executed, failed), rejected or expired; approved_by/approved_at and rejected_by/rejected_at (both when an approved proposal was rejected later); requested_by is who asked (else the agent), notes the proposal''s notes, else the rejection reason, else the explanation. Writable through the state machine (trigger approvals_write)';

COMMENT ON VIEW alfred.task_actions IS
'Seed 001''s TaskAction over alfred.proposals (task actions only): confirmation_status pending, confirmed or rejected (also expired); executed_status not_executed, executing, success or failed. Writable through the state machine (trigger task_actions_write)';

CREATE FUNCTION alfred._view_written(new_row jsonb, old_row jsonb)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT coalesce(array_agg(k ORDER BY k), '{}')
	  FROM jsonb_object_keys(new_row) k
	 WHERE CASE WHEN old_row IS NULL THEN new_row->k <> 'null'
				ELSE new_row->k IS DISTINCT FROM old_row->k END
$$;
COMMENT ON FUNCTION alfred._view_written(jsonb, jsonb) IS
'Internal: the columns a write to a view sets: those that differ from the old row, or for an INSERT (old_row NULL) those that are not NULL';

CREATE FUNCTION alfred._view_not_writable(view_name text, written text[], writable text[], op text, allowed text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
	col text := (SELECT c FROM unnest(written) c WHERE c <> ALL (array_remove(writable, NULL)) ORDER BY c LIMIT 1);
BEGIN
	IF col IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
			MESSAGE = format('cannot %s column "%s" of view "%s"', op, col, view_name),
			DETAIL = format('Through this view a client writes only %s; alfred''s state machine sets the rest.', allowed);
	END IF;
END
$$;
COMMENT ON FUNCTION alfred._view_not_writable(text, text[], text[], text, text) IS
'Internal: raises 0A000 naming the first written column that is not writable through a seed view';

CREATE FUNCTION alfred._view_bad_value(col text, value text, allowed text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
		MESSAGE = format('invalid %s "%s"', col, value),
		DETAIL = format('It is one of %s.', allowed);
END
$$;
COMMENT ON FUNCTION alfred._view_bad_value(text, text, text) IS
'Internal: raises 22023 for a value a seed view''s column does not take';

CREATE FUNCTION alfred._view_check_decider(col text, given uuid, proposal_user uuid)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
	IF given IS DISTINCT FROM coalesce(alfred.current_user_id(), proposal_user) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('%s "%s" is not the acting user', col, given),
			DETAIL = 'alfred records who decided: the current alfred user (set_session or act_as), or the proposal''s own user when a service decides without one.';
	END IF;
END
$$;
COMMENT ON FUNCTION alfred._view_check_decider(text, uuid, uuid) IS
'Internal: raises 42501 unless given is the user approve/reject record as the decider';

CREATE FUNCTION alfred.task_actions_write()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w text[] := alfred._view_written(to_jsonb(NEW), CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END);
	pid uuid;
	confirming boolean;
BEGIN
	IF NEW.confirmation_status NOT IN ('pending', 'confirmed', 'rejected') THEN
		PERFORM alfred._view_bad_value('confirmation_status', NEW.confirmation_status, 'pending, confirmed, rejected');
	END IF;
	IF NEW.executed_status NOT IN ('not_executed', 'executing', 'success', 'failed') THEN
		PERFORM alfred._view_bad_value('executed_status', NEW.executed_status, 'not_executed, executing, success, failed');
	END IF;
	IF TG_OP = 'INSERT' THEN
		PERFORM alfred._view_not_writable('task_actions',
			w, ARRAY['user_id', 'session_id', 'message_id', 'action_type', 'extracted_params', 'confidence_score', 'task_id',
					 CASE WHEN NEW.confirmation_status = 'pending' THEN 'confirmation_status' END,
					 CASE WHEN NEW.executed_status = 'not_executed' THEN 'executed_status' END],
			'insert into', 'user_id, session_id, message_id, action_type, extracted_params, confidence_score and task_id');
		IF NOT alfred._proposal_is_task_action(NEW.action_type) THEN
			PERFORM alfred._view_bad_value('task action', NEW.action_type, 'create, update, complete, delete, query');
		END IF;
		pid := alfred.propose(user_id => coalesce(NEW.user_id, alfred.current_user_id()),
			agent_name => 'assistant', action_type => NEW.action_type,
			payload => coalesce(NEW.extracted_params, '{}'), task_id => NEW.task_id,
			session_id => NEW.session_id, message_id => NEW.message_id, confidence => NEW.confidence_score);
	ELSE
		pid := OLD.id;
		PERFORM alfred._view_not_writable('task_actions',
			w, ARRAY['confirmation_status', 'executed_status', 'extracted_params', 'confirmed_at', 'executed_at'],
			'update', 'confirmation_status, executed_status and, with the confirmation, extracted_params');
		confirming := OLD.confirmation_status = 'pending' AND NEW.confirmation_status = 'confirmed';
		IF 'extracted_params' = ANY (w) AND NOT confirming THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('the parameters of task action "%s" change only when it is confirmed', pid),
				DETAIL = format('It is %s; a confirmation may edit them (confirmation_status from pending to confirmed).', OLD.confirmation_status);
		END IF;
		IF 'executed_status' = ANY (w) AND NEW.executed_status <> 'executing' THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('executed_status of task action "%s" cannot be set to "%s"', pid, NEW.executed_status),
				DETAIL = 'alfred executes task actions itself and records success or failed.',
				HINT = 'Set executed_status to ''executing'' (with or after the confirmation) to run it.';
		END IF;
		IF confirming THEN
			PERFORM alfred.approve(pid,
				edited_payload => CASE WHEN 'extracted_params' = ANY (w) THEN NEW.extracted_params END,
				execute => NEW.executed_status = 'executing');
		ELSIF 'confirmation_status' = ANY (w) AND NEW.confirmation_status = 'rejected' THEN
			PERFORM alfred.reject(pid);
		ELSIF 'confirmation_status' = ANY (w) THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('task action "%s" cannot go from %s to %s', pid, OLD.confirmation_status, NEW.confirmation_status),
				DETAIL = 'A task action is confirmed or rejected once; it never returns to pending.';
		ELSIF 'executed_status' = ANY (w) THEN
			IF OLD.executed_status = 'failed' THEN
				PERFORM alfred.retry_proposal(pid);
			END IF;
			PERFORM alfred.execute_proposal(pid);
		END IF;
	END IF;
	SELECT * INTO NEW FROM alfred.task_actions t WHERE t.id = pid;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION alfred.task_actions_write() IS
'Trigger INSTEAD OF INSERT OR UPDATE on task_actions (seed 001''s clients): an INSERT proposes the task action (alfred.propose, agent "assistant"); confirmation_status pending -> confirmed approves (a changed extracted_params is the edited payload; executed_status ''executing'' in the same UPDATE also runs it), -> rejected rejects; executed_status -> ''executing'' runs a confirmed action (retrying a failed one). Anything else raises 0A000, 22023 or 55000 and changes nothing';

CREATE TRIGGER task_actions_write
	INSTEAD OF INSERT OR UPDATE ON alfred.task_actions
	FOR EACH ROW EXECUTE FUNCTION alfred.task_actions_write();

CREATE FUNCTION alfred.approvals_write()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w text[] := alfred._view_written(to_jsonb(NEW), CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END);
	pid uuid;
BEGIN
	IF NEW.status NOT IN ('pending', 'approved', 'rejected', 'expired') THEN
		PERFORM alfred._view_bad_value('approval status', NEW.status, 'pending, approved, rejected, expired');
	END IF;
	IF TG_OP = 'INSERT' THEN
		PERFORM alfred._view_not_writable('approvals',
			w, ARRAY['user_id', 'task_id', 'action_type', 'details', 'requested_by', 'expires_at', 'notes',
					 CASE WHEN NEW.status = 'pending' THEN 'status' END],
			'insert into', 'user_id, task_id, action_type, details, requested_by, expires_at and notes');
		pid := alfred.propose(user_id => coalesce(NEW.user_id, alfred.current_user_id()),
			agent_name => coalesce(nullif(btrim(NEW.requested_by), ''), 'approvals'),
			action_type => NEW.action_type, payload => coalesce(NEW.details, '{}'),
			expires_at => NEW.expires_at, task_id => NEW.task_id, requested_by => NEW.requested_by);
		IF NEW.notes IS NOT NULL THEN
			UPDATE alfred.proposals x SET notes = NEW.notes WHERE x.id = pid;
		END IF;
	ELSE
		pid := OLD.id;
		PERFORM alfred._view_not_writable('approvals',
			w, ARRAY['status', 'approved_by', 'rejected_by', 'details', 'notes', 'approved_at', 'rejected_at', 'updated_at'],
			'update', 'status, approved_by or rejected_by (the acting user), notes and, with the approval, details');
		IF 'approved_by' = ANY (w) AND NOT ('status' = ANY (w) AND NEW.status = 'approved') THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('approved_by of approval "%s" is set only by approving it', pid);
		END IF;
		IF 'rejected_by' = ANY (w) AND NOT ('status' = ANY (w) AND NEW.status = 'rejected') THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('rejected_by of approval "%s" is set only by rejecting it', pid);
		END IF;
		IF 'details' = ANY (w) AND NOT ('status' = ANY (w) AND NEW.status = 'approved') THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('the details of approval "%s" change only when it is approved', pid),
				DETAIL = 'An approval may edit them (status from pending to approved).';
		END IF;
		IF 'status' = ANY (w) AND NEW.status = 'approved' THEN
			IF 'approved_by' = ANY (w) THEN
				PERFORM alfred._view_check_decider('approved_by', NEW.approved_by, OLD.user_id);
			END IF;
			PERFORM alfred.approve(pid,
				edited_payload => CASE WHEN 'details' = ANY (w) THEN NEW.details END);
		ELSIF 'status' = ANY (w) AND NEW.status = 'rejected' THEN
			IF 'rejected_by' = ANY (w) THEN
				PERFORM alfred._view_check_decider('rejected_by', NEW.rejected_by, OLD.user_id);
			END IF;
			PERFORM alfred.reject(pid, reason => CASE WHEN 'notes' = ANY (w) THEN NEW.notes END);
			IF 'notes' = ANY (w) THEN
				UPDATE alfred.proposals x SET notes = NEW.notes WHERE x.id = pid;
			END IF;
		ELSIF 'status' = ANY (w) THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('approval "%s" cannot be set to %s', pid, NEW.status),
				DETAIL = 'An approval expires when its expires_at passes (alfred.expire_proposals()) and never returns to pending.';
		ELSIF 'notes' = ANY (w) THEN
			UPDATE alfred.proposals x SET notes = NEW.notes WHERE x.id = pid;
		END IF;
	END IF;
	SELECT * INTO NEW FROM alfred.approvals a WHERE a.id = pid;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION alfred.approvals_write() IS
'Trigger INSTEAD OF INSERT OR UPDATE on approvals (seed 004''s clients): an INSERT proposes (alfred.propose, agent = requested_by); status -> approved approves (changed details are the edited payload), -> rejected rejects (changed notes are the reason, and the notes); approved_by/rejected_by, when written, must be the acting user (42501); approved_at, rejected_at and updated_at are stamped by alfred whatever is written; notes alone update the notes. Anything else raises 0A000, 22023 or 55000 and changes nothing';

CREATE TRIGGER approvals_write
	INSTEAD OF INSERT OR UPDATE ON alfred.approvals
	FOR EACH ROW EXECUTE FUNCTION alfred.approvals_write();

CREATE FUNCTION alfred._calibration_round(value float8)
RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT round(value::numeric, 4)::float8 $$;
COMMENT ON FUNCTION alfred._calibration_round(float8) IS
'Internal: a calibration value as users read it: rounded to 4 decimal places (the view calibration, global_level of proactiveness()); the state and the scores are computed unrounded';

CREATE OR REPLACE VIEW alfred.calibration WITH (security_invoker = true) AS
SELECT s.user_id, s.suggestion_type,
	   alfred._calibration_round(s.engaged) AS engaged,
	   alfred._calibration_round(s.dismissed) AS dismissed,
	   alfred._calibration_round((1 + s.engaged) / (2 + s.engaged + s.dismissed)) AS p_hat,
	   s.consecutive_engagements, s.consecutive_dismissals,
	   s.suppressed_until IS NOT NULL AS suppressed, s.suppressed_until, s.suppressions,
	   s.boosted, s.last_event_at
  FROM alfred.calibration_state c
	   CROSS JOIN LATERAL alfred.calibration_at(c, now()) s;

COMMENT ON VIEW alfred.calibration IS
'Each (user, suggestion type) as of now: decayed counts e and d, p_hat = (1 + e) / (2 + e + d) (all three rounded to 4 decimals), whether it is suppressed (and until when) or boosted';

CREATE OR REPLACE FUNCTION alfred.proactiveness(user_id uuid)
RETURNS alfred.proactiveness_settings
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	WITH live AS (
		SELECT sum(s.global_engaged) AS ge, sum(s.global_dismissed) AS gd,
			   coalesce(array_agg(s.suggestion_type ORDER BY s.suggestion_type)
						FILTER (WHERE s.suppressed_until IS NOT NULL), '{}') AS suppressed,
			   coalesce(array_agg(s.suggestion_type ORDER BY s.suggestion_type)
						FILTER (WHERE s.boosted), '{}') AS boosted
		  FROM alfred.calibration_state c
			   CROSS JOIN LATERAL alfred.calibration_at(c, now()) s
		 WHERE c.user_id = proactiveness.user_id),
	stored AS (
		SELECT coalesce((SELECT p FROM alfred.proactiveness_settings p
						  WHERE p.user_id = proactiveness.user_id),
						jsonb_populate_record(NULL::alfred.proactiveness_settings,
											  jsonb_build_object('user_id', proactiveness.user_id,
																 'is_onboarded', false))) AS p)
	SELECT jsonb_populate_record(
			   stored.p,
			   jsonb_build_object(
				   'global_level', alfred._calibration_round(
									   alfred.proactiveness_level(live.ge, live.gd, (stored.p).user_override)),
				   'suppressed_types', live.suppressed,
				   'boosted_types', live.boosted))
	  FROM live, stored
$$;
COMMENT ON FUNCTION alfred.proactiveness(uuid) IS
'The user''s proactiveness settings as of now: the stored row (or the defaults for a user who has none) with global_level (rounded to 4 decimals), suppressed_types and boosted_types computed from the calibration state at this moment, so an expired suppression or a lapsed boost is gone without any job';

COMMENT ON FUNCTION alfred.suggestion_score(uuid, text, float8) IS
'The probability p that a suggestion of this type with base relevance base (in (0, 1]) should be made now: P(X >= t) for X ~ Beta(1 + e, 1 + d), t = (1 - g) / (base * (boosted ? 1.25 : 1)); 0 while the type is suppressed, and 0 for every type while the user''s user_settings.enable_proactive_suggestions is off (seed 001). No history, g = 0.7, base 0.8: 0.625.';

COMMENT ON FUNCTION alfred.should_suggest(uuid, text, float8, bigint) IS
'Whether to make the suggestion now: yes with probability suggestion_score (so never while the user''s enable_proactive_suggestions is off); with a seed the draw is u = calibration_uniform(seed), so the answer is deterministic, without one it is random()';


-- Retention: seed 001's task actions and messages of ended sessions; sessions
-- are removed at expiry by cleanup_expired_sessions() instead.
DELETE FROM alfred.retention WHERE relation = 'sessions';
INSERT INTO alfred.retention (relation, keep, rule) VALUES
	('task_actions', '7 days', 'pending, rejected or expired task actions (seed 001 TaskAction: create, update, complete, delete, query) made or decided longer ago than this; executed ones follow proposals'),
	('inactive_session_messages', '1 day', 'messages of chat sessions that ended (closed, or idle for 24 hours) longer ago than this (seed 001: deleted once the session is inactive); messages without a session follow chat_messages');

UPDATE alfred.retention SET rule = 'proposals in a final state (executed, rejected, expired, failed) whose last decision or execution is older; their execution logs go with them (seed 002); executed ones are kept at least 30 days whatever keep says (seed 001''s audit minimum)' WHERE relation = 'proposals';

SELECT pg_catalog.pg_extension_config_dump('alfred.retention',
	'WHERE ROW(relation, NULL)::text NOT IN (''(proposals,)'', ''(execution_logs,)'', ''(agent_run_logs,)'', ''(preference_signals,)'', ''(chat_messages,)'', ''(notifications,)'', ''(task_actions,)'', ''(inactive_session_messages,)'', ''(task_runs,)'', ''(engagement_events,)'', ''(system_logs,)'', ''(audit_trail,)'')');

CREATE FUNCTION alfred.cleanup_expired_sessions(now timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n integer;
BEGIN
	IF NOT (alfred.caller_is_service() OR alfred.current_user_role() IS NOT DISTINCT FROM 'admin') THEN
		RAISE EXCEPTION 'permission denied to clean up the sessions of all users'
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Only admins, superusers and members of role "alfred_service" may call cleanup_expired_sessions().';
	END IF;
	IF now IS NULL THEN
		RAISE EXCEPTION 'now must not be NULL' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	DELETE FROM alfred.sessions s WHERE s.expires_at <= cleanup_expired_sessions.now OR s.is_revoked;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION alfred.cleanup_expired_sessions(timestamptz) IS
'Seed 004''s cleanup: deletes every session that has expired (expires_at at or before now) or was revoked, of all users, and returns how many. run_maintenance() calls it. Admins, superusers and alfred_service members only (42501 otherwise).';

CREATE OR REPLACE FUNCTION alfred.run_maintenance(now timestamptz DEFAULT now())
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
	IF now IS NULL THEN
		RAISE EXCEPTION 'now must not be NULL' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM alfred.check_time('now', now);	-- 'infinity' would remove every row past retention

	-- Seed 001: a chat session ends after 24 hours without a message, whether
	-- or not the user writes again (chat_sessions_active_idx finds them).
	UPDATE alfred.chat_sessions s SET is_active = false
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
				 $f$(SELECT s.last_activity_at FROM alfred.chat_sessions s
					  WHERE s.user_id = chat_messages.user_id AND s.id = chat_messages.session_id AND NOT s.is_active)$f$),
				('notifications', 'notifications', $f$status IN ('sent', 'read', 'dismissed', 'archived')$f$,
				 'coalesce(sent_at, read_at, dismissed_at, updated_at)'),
				('task_runs', 'task_runs', $f$status IN ('succeeded', 'failed', 'cancelled')$f$, 'coalesce(finished_at, updated_at)'),
				('engagement_events', 'engagement_events', 'true', 'created_at'),
				('audit_trail', 'audit_trail', 'true', 'created_at')) AS v (relation, tbl, filter, age)
		  JOIN alfred.retention rt USING (relation)
		 WHERE rt.keep IS NOT NULL
		 ORDER BY v.relation
	LOOP
		EXECUTE format('DELETE FROM alfred.%I WHERE (%s) AND (%s) < $1', r.tbl, r.filter, r.age)
			USING r.cutoff, now;
		GET DIAGNOSTICS n = ROW_COUNT;
		removed := removed || jsonb_build_object(r.relation, n);
	END LOOP;
	removed := removed || jsonb_build_object('sessions', alfred.cleanup_expired_sessions(now));

	result := jsonb_build_object(
		'removed', removed,
		'chat_sessions_closed', closed,
		'proposals_expired', alfred.expire_proposals(),
		-- suppressions and boosts that ran out since the user's last event (600_calibration)
		'proactiveness_refreshed', alfred.refresh_all_proactiveness(),
		'log_partitions_created', alfred.create_log_partitions(3),
		'log_partitions_dropped',
			to_jsonb(alfred.drop_log_partitions(alfred.retention_cutoff('system_logs', now))),
		-- integrations and attachments (800_integrations, 800_attachments)
		'mcp_servers_silent', alfred.check_integrations(now => now),
		'attachments_expired',
			(SELECT coalesce(jsonb_agg(jsonb_build_object('user_id', e.user_id, 'storage_path', e.storage_path)
			                           ORDER BY e.storage_path), '[]')
			   FROM alfred.expire_attachments(now) e));
	RETURN result;
END
$$;
COMMENT ON FUNCTION alfred.run_maintenance(timestamptz) IS
'Closes chat sessions idle for 24 hours (seed 001), applies the retention table (removes old proposals, stale task actions, logs, signals, chat messages and the messages of ended sessions, sent notifications, finished runs, engagement events), removes expired and revoked sessions (cleanup_expired_sessions), expires proposals, creates system_logs partitions ahead and drops old ones, marks MCP servers silent for 5 minutes as error and removes expired attachment rows (their storage paths are in the result, for the caller to delete the files); returns what it did as jsonb. Run it daily: schedule_maintenance() registers it with pg_cron or alfred''s scheduler.';

-- identity: set_session and act_as are transaction-local by default (safe
-- behind a transaction pooler), and a user who is no longer active reads nothing.
CREATE OR REPLACE FUNCTION alfred.set_session(token text, local boolean DEFAULT true)
RETURNS uuid
AS 'MODULE_PATHNAME', 'alfred_set_session'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION alfred.set_session(text, boolean) IS
'Becomes the user of a session token from login(); returns the user id. By default (local => true) the identity ends with the transaction, so a transaction-pooled connection never passes it on; local => false keeps it for the session. A rolled-back savepoint undoes it. An unknown, revoked or expired token raises 28000.';
CREATE OR REPLACE FUNCTION alfred.act_as(user_id uuid, local boolean DEFAULT true)
RETURNS uuid
AS 'MODULE_PATHNAME', 'alfred_act_as'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION alfred.act_as(uuid, boolean) IS
'Becomes an active user without a token: only superusers and members of role alfred_service (42501 otherwise). By default (local => true) the identity ends with the transaction; local => false keeps it for the session. A rolled-back savepoint undoes it.';
COMMENT ON FUNCTION alfred.readable_user_ids() IS
'The users whose rows the current alfred user may read: everyone for admins and observers, else themselves; nobody without an identity or once the user is no longer active (checked once per command).';
ALTER POLICY tasks_assignee_read ON alfred.tasks
	USING (assigned_to = (SELECT alfred.current_user_id())
		   AND (SELECT alfred.current_user_role()) IS NOT NULL);

-- identity: one definition of blank text, alfred.is_blank(), in every check that refuses it
-- (tabs, newlines, no-break and other Unicode spaces, zero-width characters).
-- Existing rows that only look blank make this step fail: fix them first.
CREATE FUNCTION alfred.is_blank(value text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'alfred_is_blank'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION alfred.is_blank(text) IS
'Whether a text shows nothing: it is empty or has only white space (Unicode White_Space: tabs, newlines, no-break, ideographic and other spaces) and invisible characters (zero-width spaces and joiners, BOM, Hangul fillers, braille blank). NULL for NULL. Every check that refuses blank text uses it.';
ALTER TABLE alfred.users DROP CONSTRAINT users_username_check,
	ADD CONSTRAINT users_username_check CHECK (NOT alfred.is_blank(username) AND username !~ '[[:space:]]');
ALTER TABLE alfred.projects DROP CONSTRAINT projects_name_check,
	ADD CONSTRAINT projects_name_check CHECK (NOT alfred.is_blank(name));
ALTER TABLE alfred.project_updates DROP CONSTRAINT project_updates_content_check,
	ADD CONSTRAINT project_updates_content_check CHECK (NOT alfred.is_blank(content));
ALTER TABLE alfred.tasks DROP CONSTRAINT tasks_title_check,
	ADD CONSTRAINT tasks_title_check CHECK (NOT alfred.is_blank(title));
ALTER TABLE alfred.habits DROP CONSTRAINT habits_name_check,
	ADD CONSTRAINT habits_name_check CHECK (NOT alfred.is_blank(name));
ALTER TABLE alfred.chat_messages DROP CONSTRAINT chat_messages_content_check,
	ADD CONSTRAINT chat_messages_content_check CHECK (NOT alfred.is_blank(content));
ALTER TABLE alfred.learnings DROP CONSTRAINT learnings_topic_check,
	ADD CONSTRAINT learnings_topic_check CHECK (NOT alfred.is_blank(topic));
ALTER TABLE alfred.learnings DROP CONSTRAINT learnings_content_check,
	ADD CONSTRAINT learnings_content_check CHECK (NOT alfred.is_blank(content));
ALTER TABLE alfred.learned_preferences DROP CONSTRAINT learned_preferences_key_check,
	ADD CONSTRAINT learned_preferences_key_check CHECK (NOT alfred.is_blank(key));
ALTER TABLE alfred.items DROP CONSTRAINT items_source_id_check,
	ADD CONSTRAINT items_source_id_check CHECK (NOT alfred.is_blank(source_id));
ALTER TABLE alfred.proposals DROP CONSTRAINT proposals_agent_name_check,
	ADD CONSTRAINT proposals_agent_name_check CHECK (NOT alfred.is_blank(agent_name));
ALTER TABLE alfred.audit_trail DROP CONSTRAINT audit_trail_action_check,
	ADD CONSTRAINT audit_trail_action_check CHECK (NOT alfred.is_blank(action));
ALTER TABLE alfred.mcp_servers DROP CONSTRAINT mcp_servers_name_check,
	ADD CONSTRAINT mcp_servers_name_check CHECK (NOT alfred.is_blank(name));
ALTER TABLE alfred.watchers DROP CONSTRAINT watchers_name_check,
	ADD CONSTRAINT watchers_name_check CHECK (NOT alfred.is_blank(name));
ALTER TABLE alfred.file_attachments DROP CONSTRAINT file_attachments_filename_check,
	ADD CONSTRAINT file_attachments_filename_check CHECK (NOT alfred.is_blank(filename) AND NOT alfred.is_blank(original_filename));
ALTER TABLE alfred.notifications DROP CONSTRAINT notifications_title_check,
	ADD CONSTRAINT notifications_title_check CHECK (NOT alfred.is_blank(title));
ALTER TABLE alfred.observed_patterns DROP CONSTRAINT observed_patterns_type_check,
	ADD CONSTRAINT observed_patterns_type_check CHECK (NOT alfred.is_blank(pattern_type));
ALTER TABLE alfred.observed_patterns DROP CONSTRAINT observed_patterns_description_check,
	ADD CONSTRAINT observed_patterns_description_check CHECK (NOT alfred.is_blank(description));
ALTER TABLE alfred.scheduled_tasks DROP CONSTRAINT scheduled_tasks_name_check,
	ADD CONSTRAINT scheduled_tasks_name_check CHECK (NOT alfred.is_blank(name) AND char_length(name) <= 200);
ALTER TABLE alfred.engagement_events DROP CONSTRAINT engagement_events_type_check,
	ADD CONSTRAINT engagement_events_type_check CHECK (NOT alfred.is_blank(suggestion_type));
ALTER TABLE alfred.calibration_state DROP CONSTRAINT calibration_state_suggestion_type_check,
	ADD CONSTRAINT calibration_state_suggestion_type_check CHECK (NOT alfred.is_blank(suggestion_type));
CREATE OR REPLACE FUNCTION alfred.check_suggestion_type(suggestion_type text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
	IF coalesce(alfred.is_blank(suggestion_type), true) THEN
		RAISE EXCEPTION 'suggestion type must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Name the kind of suggestion, for example "weather_briefing".';
	END IF;
	RETURN suggestion_type;
END
$$;
CREATE OR REPLACE FUNCTION alfred.observe_pattern(
	user_id uuid, pattern_type text, description text, evidence jsonb,
	suggested_action text DEFAULT NULL)
RETURNS alfred.observed_patterns
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	entries jsonb;
	result alfred.observed_patterns;
BEGIN
	IF observe_pattern.user_id IS NULL THEN
		RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF coalesce(alfred.is_blank(observe_pattern.pattern_type), true)
	   OR coalesce(alfred.is_blank(observe_pattern.description), true) THEN
		RAISE EXCEPTION 'pattern type and description must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A pattern is identified by its type and description.';
	END IF;
	entries := CASE jsonb_typeof(observe_pattern.evidence)
				   WHEN 'array' THEN observe_pattern.evidence
				   WHEN 'object' THEN jsonb_build_array(observe_pattern.evidence)
			   END;
	IF observe_pattern.evidence IS NOT NULL AND entries IS NULL THEN
		RAISE EXCEPTION 'evidence must be a JSON object or array, not %', jsonb_typeof(observe_pattern.evidence)
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Evidence is an entry like {"date": ..., "context": ..., "conversation_id": ...} or an array of them.';
	END IF;
	INSERT INTO alfred.observed_patterns AS p
		(user_id, pattern_type, description, evidence, suggested_action, occurrence_count, confidence)
	VALUES (observe_pattern.user_id, observe_pattern.pattern_type, observe_pattern.description,
			alfred.pattern_evidence_tail(coalesce(entries, '[]')), observe_pattern.suggested_action, 1,
			alfred.pattern_confidence(1, now(), now()))
	ON CONFLICT (user_id, pattern_type, md5(description)) DO UPDATE
	   SET occurrence_count = p.occurrence_count + 1,
		   evidence = alfred.pattern_evidence_tail(p.evidence || EXCLUDED.evidence),
		   last_seen_at = now(),
		   suggested_action = coalesce(EXCLUDED.suggested_action, p.suggested_action),
		   confidence = alfred.pattern_confidence(p.occurrence_count + 1, now(), now()),
		   updated_at = now()
	RETURNING p.* INTO result;
	RETURN result;
END
$$;
CREATE OR REPLACE FUNCTION alfred.propose(
	user_id uuid,
	agent_name text,
	action_type text,
	payload jsonb,
	risk_level text DEFAULT 'low',
	explanation text DEFAULT NULL,
	warning_text text DEFAULT NULL,
	expires_at timestamptz DEFAULT NULL,
	related_item_id uuid DEFAULT NULL,
	task_id uuid DEFAULT NULL,
	session_id uuid DEFAULT NULL,
	message_id uuid DEFAULT NULL,
	confidence double precision DEFAULT NULL,
	requested_by text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p alfred.proposals;
	payload_task uuid;
BEGIN
	IF propose.user_id IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'user_id must not be null';
	END IF;
	IF coalesce(alfred.is_blank(propose.agent_name), true) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'agent_name must not be empty';
	END IF;
	IF propose.action_type IS NULL OR propose.action_type !~ '^[a-z][a-z0-9_]{0,99}$' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid action_type "%s"', propose.action_type),
			DETAIL = 'An action type is 1 to 100 lower-case letters, digits and underscores, starting with a letter.';
	END IF;
	IF propose.risk_level IS NULL OR propose.risk_level NOT IN ('low', 'medium', 'high') THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid risk_level "%s"', propose.risk_level),
			DETAIL = 'A risk level is low, medium or high.';
	END IF;
	IF NOT propose.confidence BETWEEN 0 AND 1 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('confidence %s is out of range 0-1', propose.confidence);
	END IF;
	IF propose.expires_at <= now() THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'expires_at must be in the future';
	END IF;
	PERFORM alfred.check_proposal_payload(propose.action_type, propose.payload);
	IF alfred._proposal_is_task_action(propose.action_type) THEN
		payload_task := (propose.payload->>'task_id')::uuid;
	END IF;
	IF propose.task_id IS DISTINCT FROM payload_task AND propose.task_id IS NOT NULL AND payload_task IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('task_id "%s" does not match the payload''s task_id "%s"', propose.task_id, payload_task);
	END IF;
	PERFORM alfred._proposal_check_task(propose.user_id, coalesce(payload_task, propose.task_id),
		CASE WHEN payload_task IS NOT NULL THEN 'payload''s "task_id"' ELSE 'argument task_id' END);

	INSERT INTO alfred.proposals AS x
		(user_id, agent_name, action_type, payload, risk_level, explanation, warning_text, expires_at,
		 related_item_id, task_id, session_id, message_id, confidence, requested_by)
	VALUES (propose.user_id, propose.agent_name, propose.action_type, propose.payload, propose.risk_level,
			propose.explanation, propose.warning_text, propose.expires_at, propose.related_item_id,
			coalesce(propose.task_id, payload_task), propose.session_id, propose.message_id, propose.confidence,
			propose.requested_by)
	RETURNING * INTO p;

	-- the machine's own decisions (no preference signal: no human decided)
	IF p.risk_level = 'high' AND coalesce((SELECT s.auto_reject_high_risk FROM alfred.user_settings s
											WHERE s.user_id = p.user_id), true) THEN
		UPDATE alfred.proposals x SET status = 'rejected', rejection_reason = 'auto_reject_high_risk'
		 WHERE x.id = p.id;
	ELSIF p.action_type = 'query' AND p.risk_level = 'low' THEN
		UPDATE alfred.proposals x SET status = 'approved' WHERE x.id = p.id RETURNING * INTO p;
		PERFORM alfred._proposal_execute(p);
	END IF;
	RETURN p.id;
END
$$;
CREATE OR REPLACE FUNCTION alfred.finish_execution(
	proposal_id uuid,
	status text,
	result jsonb DEFAULT NULL,
	error text DEFAULT NULL,
	external_ids jsonb DEFAULT NULL,
	request_payload jsonb DEFAULT NULL,
	duration_ms integer DEFAULT NULL)
RETURNS alfred.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p alfred.proposals := alfred._proposal_lock(finish_execution.proposal_id);
BEGIN
	IF finish_execution.status IS NULL OR finish_execution.status NOT IN ('success', 'partial', 'failure') THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid execution status "%s"', finish_execution.status),
			DETAIL = 'An execution status is success, partial or failure.';
	END IF;
	IF finish_execution.status = 'failure' AND coalesce(alfred.is_blank(finish_execution.error), true) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'error must be given when status is "failure"';
	END IF;
	IF finish_execution.duration_ms < 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('duration_ms %s is negative', finish_execution.duration_ms);
	END IF;
	IF p.status <> 'executing' THEN
		PERFORM alfred._proposal_not_in(p, 'executing',
			CASE WHEN p.status = 'approved' THEN 'Call alfred.start_execution() first.' END);
	END IF;
	UPDATE alfred.proposals x
	   SET status = CASE WHEN finish_execution.status = 'failure' THEN 'failed' ELSE 'executed' END,
		   result = finish_execution.result,
		   error_message = finish_execution.error
	 WHERE x.id = p.id
	RETURNING * INTO p;
	INSERT INTO alfred.execution_logs
		(user_id, proposal_id, executor_status, executor_error, external_ids, request_payload,
		 response_payload, execution_duration_ms)
	VALUES (p.user_id, p.id, finish_execution.status, finish_execution.error, coalesce(finish_execution.external_ids, '{}'),
			coalesce(finish_execution.request_payload, p.edited_payload, p.payload), finish_execution.result,
			coalesce(finish_execution.duration_ms,
					 ceil(extract(epoch FROM coalesce(p.executed_at, p.failed_at) - p.started_at) * 1000)::int));
	RETURN p;
END
$$;
CREATE OR REPLACE FUNCTION alfred.attach_file(
	user_id uuid,
	storage_path text,
	filename text,
	checksum text,
	file_size bigint,
	mime_type text,
	task_id uuid DEFAULT NULL,
	original_filename text DEFAULT NULL,
	expires_at timestamptz DEFAULT NULL,
	is_encrypted boolean DEFAULT false)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	new_id uuid;
BEGIN
	IF user_id IS NULL OR storage_path IS NULL OR filename IS NULL OR checksum IS NULL
	   OR file_size IS NULL OR mime_type IS NULL THEN
		RAISE EXCEPTION 'arguments "user_id", "storage_path", "filename", "checksum", "file_size" and "mime_type" must not be null'
			USING ERRCODE = '22004';
	END IF;
	IF NOT alfred.may_act_for(user_id) THEN
		RAISE EXCEPTION 'permission denied to attach files for user "%"', user_id
			USING ERRCODE = '42501', DETAIL = 'Users attach files for themselves; observers only read.';
	END IF;
	IF checksum !~ '^[0-9A-Fa-f]{64}$' THEN
		RAISE EXCEPTION 'invalid checksum "%"', checksum USING ERRCODE = '22023',
			DETAIL = 'The checksum must be a SHA-256 digest written as 64 hexadecimal digits.';
	END IF;
	IF file_size < 0 THEN
		RAISE EXCEPTION 'invalid file size %', file_size USING ERRCODE = '22023',
			DETAIL = 'A file size is a number of bytes, zero or more.';
	END IF;
	IF mime_type !~ '^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$' THEN
		RAISE EXCEPTION 'invalid mime type "%"', mime_type USING ERRCODE = '22023',
			DETAIL = 'A mime type is written type/subtype, such as "application/pdf".';
	END IF;
	IF alfred.is_blank(storage_path) OR alfred.is_blank(filename) THEN
		RAISE EXCEPTION 'storage path and file name must not be empty' USING ERRCODE = '22023';
	END IF;
	IF expires_at <= now() THEN
		RAISE EXCEPTION 'expiry "%" is not in the future', expires_at USING ERRCODE = '22023';
	END IF;
	IF task_id IS NOT NULL AND NOT EXISTS (
		SELECT FROM alfred.tasks t WHERE t.user_id = attach_file.user_id AND t.id = task_id) THEN
		RAISE EXCEPTION 'task "%" not found', task_id USING ERRCODE = 'P0002',
			DETAIL = 'A file is attached to a task of the same user.';
	END IF;
	INSERT INTO alfred.file_attachments AS f
		(user_id, filename, original_filename, mime_type, file_size, storage_path, task_id,
		 expires_at, is_encrypted, hash_checksum)
	VALUES (user_id, filename, coalesce(original_filename, filename), lower(mime_type), file_size,
	        storage_path, task_id, expires_at, coalesce(is_encrypted, false), lower(checksum))
	RETURNING f.id INTO new_id;
	RETURN new_id;
END
$$;
CREATE OR REPLACE FUNCTION alfred.set_context_summary(session_id uuid, summary text)
RETURNS alfred.chat_sessions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s alfred.chat_sessions;
BEGIN
	IF coalesce(alfred.is_blank(summary), true) THEN
		RAISE EXCEPTION 'a context summary must not be empty' USING ERRCODE = '22023';
	END IF;
	SELECT * INTO s FROM alfred.chat_sessions c WHERE c.id = session_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'chat session "%" not found', session_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT alfred.may_act_for(s.user_id) THEN
		RAISE EXCEPTION 'permission denied to summarize chat session "%"', session_id
			USING ERRCODE = '42501', DETAIL = 'Only the session''s owner, admins and trusted services summarize it.';
	END IF;
	UPDATE alfred.chat_sessions c
	SET context_summary = summary, summarized_message_count = c.message_count
	WHERE c.user_id = s.user_id AND c.id = s.id
	RETURNING * INTO s;
	RETURN s;
END
$$;
CREATE OR REPLACE FUNCTION alfred.set_conversation_summary(user_id uuid, summary text)
RETURNS alfred.ai_contexts
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c alfred.ai_contexts;
BEGIN
	IF coalesce(alfred.is_blank(summary), true) THEN
		RAISE EXCEPTION 'a conversation summary must not be empty' USING ERRCODE = '22023';
	END IF;
	IF NOT EXISTS (SELECT FROM alfred.users u WHERE u.id = set_conversation_summary.user_id) THEN
		RAISE EXCEPTION 'user "%" not found', user_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT alfred.may_act_for(user_id) THEN
		RAISE EXCEPTION 'permission denied to summarize the conversations of user "%"', user_id
			USING ERRCODE = '42501';
	END IF;
	INSERT INTO alfred.ai_contexts AS x (user_id, conversation_summary)
	VALUES (user_id, summary)
	ON CONFLICT ON CONSTRAINT ai_contexts_pkey DO UPDATE
		SET conversation_summary = EXCLUDED.conversation_summary,
		    summarized_threshold = x.summary_threshold
	RETURNING * INTO c;
	RETURN c;
END
$$;
CREATE OR REPLACE FUNCTION alfred.watcher_report(watcher_id uuid, ok boolean, error text DEFAULT NULL)
RETURNS alfred.watchers
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w alfred.watchers;
BEGIN
	IF watcher_id IS NULL OR ok IS NULL THEN
		RAISE EXCEPTION 'arguments "watcher_id" and "ok" must not be null' USING ERRCODE = '22004';
	END IF;
	IF NOT ok AND coalesce(alfred.is_blank(error), true) THEN
		RAISE EXCEPTION 'a failed watcher run needs an error message' USING ERRCODE = '22023',
			DETAIL = 'Pass the error text as "error" when "ok" is false.';
	END IF;
	SELECT * INTO w FROM alfred.watchers x WHERE x.id = watcher_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'watcher "%" not found', watcher_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT alfred.may_act_for(w.user_id) THEN
		RAISE EXCEPTION 'permission denied to report on watcher "%"', watcher_id
			USING ERRCODE = '42501',
			      DETAIL = 'Only the watcher''s owner, admins and trusted services report its runs.';
	END IF;
	IF NOT w.is_active THEN
		RAISE EXCEPTION 'watcher "%" is disabled', watcher_id USING ERRCODE = '55000';
	END IF;
	UPDATE alfred.watchers x
	SET last_run_at = now(),
	    error_count = CASE WHEN ok THEN 0 ELSE x.error_count + 1 END,
	    last_error = CASE WHEN ok THEN x.last_error ELSE error END
	WHERE x.user_id = w.user_id AND x.id = w.id
	RETURNING * INTO w;
	RETURN w;
END
$$;

-- fair: the scheduler claims due tasks round-robin across users (src/scheduler.c)
CREATE INDEX scheduled_tasks_user_due_idx ON alfred.scheduled_tasks
	(user_id, (coalesce(next_run_at, 'infinity'::timestamptz)))
	WHERE status = 'active' AND next_run_at IS NOT NULL;
COMMENT ON INDEX alfred.scheduled_tasks_user_due_idx IS
'The scheduler claims due tasks round-robin across users through this index: each user''s earliest due task, then their next ones.';

-- newcomer: schedule_maintenance keeps exactly one registration (unschedule_maintenance);
-- DROP EXTENSION alfred removes the pg_cron job (event triggers)
-- Removes whatever schedule_maintenance registered: the pg_cron job
-- "alfred-maintenance" of this database (when pg_cron is installed here) and
-- alfred's maintenance tasks.  pg_cron is called dynamically: it need not be
-- installed.
CREATE FUNCTION alfred.unschedule_maintenance()
RETURNS int
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n			int := 0;
	jobs		int;
	cron_jobs	boolean;
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
	SELECT n + count(alfred.cancel_task(t.id)) INTO n
	  FROM alfred.scheduled_tasks t
	 WHERE t.tool_name = 'run_maintenance' AND t.status IN ('active', 'paused');
	RETURN n;
END
$$;
COMMENT ON FUNCTION alfred.unschedule_maintenance() IS
'Removes the daily maintenance registered by schedule_maintenance(): the pg_cron job "alfred-maintenance" of this database and alfred''s active or paused run_maintenance tasks (cancelled); returns how many it removed.';
REVOKE ALL ON FUNCTION alfred.unschedule_maintenance() FROM PUBLIC;

CREATE OR REPLACE FUNCTION alfred.schedule_maintenance(schedule text DEFAULT '17 3 * * *', via text DEFAULT NULL,
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
	IF NOT alfred.cron_valid(schedule) THEN
		PERFORM alfred.cron_next(schedule, now());		-- raises 22023 naming the bad field
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
		PERFORM alfred.unschedule_maintenance();
		EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
			USING 'alfred-maintenance', schedule, 'SELECT alfred.run_maintenance()';
		RETURN format('pg_cron job %s "alfred-maintenance" runs alfred.run_maintenance() at "%s"', job, schedule);
	END IF;

	IF admin IS NULL THEN
		SELECT u.id INTO admin FROM alfred.users u
		 WHERE u.role = 'admin' AND u.status = 'active' ORDER BY u.created_at, u.id LIMIT 1;
		IF admin IS NULL THEN
			RAISE EXCEPTION 'no active admin user to own the maintenance task'
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  DETAIL = CASE WHEN cron_db IS NOT NULL AND cron_db <> current_database()
									THEN format('pg_cron serves database "%s" (cron.database_name), not this one.', cron_db) END,
					  HINT = 'Create an admin user (create_user(..., role => ''admin'')), pass owner, or use pg_cron in the database it serves.';
		END IF;
	ELSIF NOT EXISTS (SELECT 1 FROM alfred.users u WHERE u.id = admin AND u.role = 'admin') THEN
		RAISE EXCEPTION 'user "%" is not an admin', admin USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM alfred.unschedule_maintenance();
	task := alfred.schedule_task(user_id => admin, name => 'alfred maintenance', tool_name => 'run_maintenance',
									  cron => schedule, timezone => 'UTC',
									  description => 'Retention and partition maintenance (schedule_maintenance).');
	RETURN format('alfred scheduled task %s runs alfred.run_maintenance() at "%s" UTC', task, schedule);
END
$$;
COMMENT ON FUNCTION alfred.schedule_maintenance(text, text, uuid) IS
'Registers daily maintenance (alfred.run_maintenance()) with pg_cron when it is installed in this database (job "alfred-maintenance"), else or with via => ''alfred'' as a scheduled task of an admin user run by alfred''s own worker. Exactly one registration remains: an earlier job or task is removed first (unschedule_maintenance). Returns what it registered.';
REVOKE ALL ON FUNCTION alfred.schedule_maintenance(text, text, uuid) FROM PUBLIC;

-- DROP EXTENSION alfred removes the pg_cron job too.  An event trigger of the
-- extension cannot see its own extension dropped (sql_drop and
-- ddl_command_end no longer fire once it is gone), so: before any DROP
-- EXTENSION, the job is taken out of cron.job and kept in a transaction-local
-- setting; after the command, if alfred is still there, the very same row
-- (same jobid) goes back.  An error rolls both back.  Only superusers can drop
-- alfred (superuser = true), so other roles' commands are left alone; the job
-- exists only in the database pg_cron serves.
CREATE FUNCTION alfred.maintenance_job_before_drop()
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
COMMENT ON FUNCTION alfred.maintenance_job_before_drop() IS
'Event trigger (ddl_command_start of DROP EXTENSION, superusers): takes the pg_cron job "alfred-maintenance" of this database out of cron.job and keeps it for maintenance_job_after_drop(), so that DROP EXTENSION alfred leaves no job behind.';

CREATE FUNCTION alfred.maintenance_job_after_drop()
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
COMMENT ON FUNCTION alfred.maintenance_job_after_drop() IS
'Event trigger (ddl_command_end of DROP EXTENSION): alfred survived the command, so the pg_cron job taken out by maintenance_job_before_drop() goes back unchanged (same jobid).';

CREATE EVENT TRIGGER alfred_maintenance_job_before_drop ON ddl_command_start
	WHEN TAG IN ('DROP EXTENSION')
	EXECUTE FUNCTION alfred.maintenance_job_before_drop();
CREATE EVENT TRIGGER alfred_maintenance_job_after_drop ON ddl_command_end
	WHEN TAG IN ('DROP EXTENSION')
	EXECUTE FUNCTION alfred.maintenance_job_after_drop();

-- worker: fenced leases (lease_token from claim_runs, required by complete_run, fail_run and
-- extend_lease), the agent API as SECURITY DEFINER so the documented agent role works,
-- times from callers checked (check_time, scheduled_tasks_times_check)
------------------------------------------------------------------------------
-- Times taken from callers, and the lease that fences an external run
------------------------------------------------------------------------------
CREATE FUNCTION alfred.check_time(name text, value timestamptz)
RETURNS timestamptz
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_check_time_sql';
COMMENT ON FUNCTION alfred.check_time(text, timestamptz) IS
'Returns value when it is finite and within the years 1 to 9999 (NULL stays NULL); otherwise raises 22008 naming the argument "name" and the value. Every function that takes a time from its caller checks it with this (or its C twin).';

-- scheduled times are finite and within years 1 to 9999, however they are written
ALTER TABLE alfred.scheduled_tasks ADD CONSTRAINT scheduled_tasks_times_check
	CHECK (alfred.check_time('scheduled_at', scheduled_at) = scheduled_at
		   AND alfred.check_time('next_run_at', next_run_at) = next_run_at);

ALTER TABLE alfred.task_runs ADD COLUMN lease_token_hash bytea;
COMMENT ON COLUMN alfred.task_runs.lease_token_hash IS
'SHA-256 of the lease token claim_runs returned with the current claim (NULL when the run is not claimed); complete_run, fail_run and extend_lease compare against it. Only the digest is stored, so reading the row does not give the token.';

DROP FUNCTION alfred.claim_runs(text, text[], integer, interval);
DROP FUNCTION alfred.extend_lease(uuid, text, interval);
DROP FUNCTION alfred.complete_run(uuid, text);
DROP FUNCTION alfred.fail_run(uuid, text, boolean);

CREATE OR REPLACE FUNCTION alfred.finish_run(run alfred.task_runs, status text, result text, error text,
	next_attempt_at timestamptz DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	task alfred.scheduled_tasks;
	final boolean := finish_run.status IN ('succeeded', 'failed');
	note uuid;
BEGIN
	SELECT * INTO task FROM alfred.scheduled_tasks t
	 WHERE t.user_id = run.user_id AND t.id = run.task_id FOR UPDATE;
	IF final THEN
		note := alfred.run_notification(run.user_id, run.task_id, run.id, task.name,
											 finish_run.status, finish_run.result, finish_run.error, now());
		PERFORM pg_notify('alfred_notifications',
						  json_build_object('user_id', run.user_id, 'notification_id', note)::text);
		UPDATE alfred.scheduled_tasks t
		   SET run_count = t.run_count + (finish_run.status = 'succeeded')::int,
			   fail_count = t.fail_count + (finish_run.status = 'failed')::int,
			   status = CASE WHEN t.task_type = 'one_time' AND t.status = 'active' THEN 'completed' ELSE t.status END
		 WHERE t.user_id = task.user_id AND t.id = task.id;
	END IF;
	UPDATE alfred.task_runs r
	   SET status = finish_run.status, result = finish_run.result, error = finish_run.error,
		   finished_at = CASE WHEN final THEN greatest(r.started_at, now()) END,
		   duration_ms = CASE WHEN final AND r.started_at IS NOT NULL
							  THEN (extract(epoch FROM greatest(r.started_at, now()) - r.started_at) * 1000)::int END,
		   lease_until = NULL, lease_token_hash = NULL, next_attempt_at = finish_run.next_attempt_at,
		   notification_id = note
	 WHERE r.user_id = run.user_id AND r.id = run.id;
END
$$;
COMMENT ON FUNCTION alfred.finish_run(alfred.task_runs, text, text, text, timestamptz) IS
'Internal: records the end of an attempt of an external run (succeeded, failed, or retrying at next_attempt_at), with the counts and the notification of a final outcome.';

CREATE FUNCTION alfred.claim_runs(worker text, tools text[] DEFAULT NULL, max integer DEFAULT 1,
	lease interval DEFAULT '5 minutes')
RETURNS TABLE (run_id uuid, task_id uuid, user_id uuid, tool_name text, tool_args jsonb,
	prompt text, attempt integer, lease_until timestamptz, lease_token uuid)
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	expired alfred.task_runs;
	-- whose runs the caller may take: a superuser, a service role without an
	-- alfred identity or an admin every user's; a user only their own
	everyone boolean := current_setting('is_superuser') = 'on'
		OR (alfred.current_user_id() IS NULL AND alfred.caller_is_service())
		OR alfred.current_user_role() IS NOT DISTINCT FROM 'admin';
	own uuid := CASE WHEN alfred.current_user_role() = 'user' THEN alfred.current_user_id() END;
BEGIN
	IF claim_runs.worker IS NULL OR btrim(claim_runs.worker) = '' THEN
		RAISE EXCEPTION 'worker must name the agent'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF claim_runs.max IS NULL OR claim_runs.max < 1 THEN
		RAISE EXCEPTION 'max must be at least 1'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM alfred.check_lease(claim_runs.lease);
	-- a run whose lease expired after its last allowed attempt fails instead of coming back
	FOR expired IN
		SELECT r.* FROM alfred.task_runs r
		  JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
		 WHERE r.status = 'running' AND r.lease_until < now() AND r.attempt > t.max_retries
		   AND (everyone OR r.user_id = own)
		   FOR UPDATE OF r SKIP LOCKED
	LOOP
		PERFORM alfred.finish_run(expired, 'failed', NULL,
			format('the lease of %s expired on attempt %s', expired.claimed_by, expired.attempt));
	END LOOP;
	RETURN QUERY
	WITH c AS (
		SELECT r.user_id, r.id, r.status, gen_random_uuid() AS token
		  FROM alfred.task_runs r
		  JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
		  JOIN alfred.tools tl ON tl.name = t.tool_name AND tl.kind = 'external'
		 WHERE ((r.status IN ('queued', 'retrying') AND r.next_attempt_at <= now())
				OR (r.status = 'running' AND r.lease_until < now()))
		   AND (claim_runs.tools IS NULL OR t.tool_name = ANY (claim_runs.tools))
		   AND (everyone OR r.user_id = own)
		 ORDER BY coalesce(r.next_attempt_at, r.lease_until)
		 LIMIT claim_runs.max
		   FOR UPDATE OF r SKIP LOCKED
	)
	UPDATE alfred.task_runs r
	   SET status = 'running', claimed_by = claim_runs.worker,
		   lease_until = now() + claim_runs.lease, next_attempt_at = NULL,
		   lease_token_hash = sha256(uuid_send(c.token)),
		   attempt = r.attempt + CASE WHEN c.status = 'queued' THEN 0 ELSE 1 END,
		   started_at = now()
	  FROM c, alfred.scheduled_tasks t
	 WHERE r.user_id = c.user_id AND r.id = c.id AND t.user_id = r.user_id AND t.id = r.task_id
	RETURNING r.id, r.task_id, r.user_id, t.tool_name, t.tool_args, r.prompt, r.attempt, r.lease_until,
			  c.token;
END
$$;
COMMENT ON FUNCTION alfred.claim_runs(text, text[], integer, interval) IS
'For an agent process: leases up to max queued external runs (of the given tools, NULL = any) to worker for lease (more than 0, at most 1 day), each with a fresh lease_token that complete_run, fail_run and extend_lease require. A superuser, a service role (alfred_service) without an alfred identity and an admin claim every user''s runs, a user only their own. A run whose lease expires comes back (at-least-once: the run id is the idempotency key) with a new token; after max_retries + 1 attempts it fails instead.';

CREATE FUNCTION alfred.check_lease(lease interval)
RETURNS interval
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
	IF check_lease.lease IS NULL OR check_lease.lease <= interval '0' THEN
		RAISE EXCEPTION 'lease must be positive'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('lease was "%s".', coalesce(check_lease.lease::text, 'NULL'));
	END IF;
	IF check_lease.lease > interval '1 day' THEN
		RAISE EXCEPTION 'lease "%" is longer than 1 day', check_lease.lease
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Take a shorter lease and renew it with extend_lease while the run lasts.';
	END IF;
	RETURN check_lease.lease;
END
$$;
COMMENT ON FUNCTION alfred.check_lease(interval) IS
'Internal: returns lease when it is more than 0 and at most 1 day; 22023 otherwise, naming it.';

CREATE FUNCTION alfred.run_for_report(run_id uuid, lease_token uuid, report text)
RETURNS alfred.task_runs
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	run alfred.task_runs;
	superuser boolean := current_setting('is_superuser') = 'on';
BEGIN
	SELECT * INTO run FROM alfred.task_runs r WHERE r.id = run_for_report.run_id FOR UPDATE;
	IF NOT FOUND OR NOT (superuser OR alfred.may_act_for(run.user_id, true)) THEN
		RAISE EXCEPTION 'no task run with id "%"', run_for_report.run_id
			USING ERRCODE = 'no_data_found';
	END IF;
	IF run_for_report.lease_token IS NULL THEN
		IF NOT superuser THEN
			RAISE EXCEPTION 'cannot % run "%" without its lease_token', run_for_report.report, run.id
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  DETAIL = 'Only a superuser may report a run without the lease_token claim_runs returned.',
					  HINT = 'Pass the lease_token of the claim that started this attempt.';
		ELSIF run.status NOT IN ('running', 'queued', 'retrying') THEN
			RAISE EXCEPTION 'cannot % a % run', run_for_report.report, run.status
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  DETAIL = format('Run "%s" already ended as %s.', run.id, run.status);
		END IF;
	ELSIF run.status <> 'running'
		  OR run.lease_token_hash IS DISTINCT FROM sha256(uuid_send(run_for_report.lease_token)) THEN
		RAISE EXCEPTION 'lease_token "%" does not hold run "%"', run_for_report.lease_token, run.id
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = CASE
					  WHEN run.status IN ('succeeded', 'failed', 'cancelled')
					  THEN format('The run already ended as %s.', run.status)
					  WHEN run.status <> 'running' THEN format('The run is %s: no one holds it.', run.status)
					  ELSE format('The run was claimed again, by %s until %s.', run.claimed_by, run.lease_until)
				  END;
	END IF;
	RETURN run;
END
$$;
COMMENT ON FUNCTION alfred.run_for_report(uuid, uuid, text) IS
'Internal: locks and returns a run whose lease the caller holds: the run is running and lease_token is the one its current claim returned (55000 otherwise: a stale worker after re-claim, a run never claimed or already finished). A NULL lease_token is accepted from a superuser only (manual repair), for a run not yet finished. P0002 when the caller may not change the run''s user.';

CREATE FUNCTION alfred.extend_lease(run_id uuid, worker text, lease interval DEFAULT '5 minutes',
	lease_token uuid DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	run alfred.task_runs;
BEGIN
	PERFORM alfred.check_lease(extend_lease.lease);
	run := alfred.run_for_report(extend_lease.run_id, extend_lease.lease_token, 'extend the lease of');
	-- with the token, a lease that expired but that no one took again is still this worker's
	IF run.status <> 'running' OR run.claimed_by IS DISTINCT FROM extend_lease.worker
	   OR (extend_lease.lease_token IS NULL AND run.lease_until < now()) THEN
		RAISE EXCEPTION 'the lease of run "%" was lost', run.id
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('The run is %s%s.', run.status,
								  CASE WHEN run.claimed_by IS NOT NULL
									   THEN format(', claimed by %s until %s', run.claimed_by, run.lease_until) ELSE '' END);
	END IF;
	UPDATE alfred.task_runs r SET lease_until = now() + extend_lease.lease
	 WHERE r.user_id = run.user_id AND r.id = run.id
	RETURNING r.lease_until INTO run.lease_until;
	RETURN run.lease_until;
END
$$;
COMMENT ON FUNCTION alfred.extend_lease(uuid, text, interval, uuid) IS
'For a long external run: extends worker''s lease to now + lease (more than 0, at most 1 day) and returns its end. lease_token is the one claim_runs returned: a lease that expired but that no one claimed again is kept. 55000 when the run was claimed again, is not running, is another worker''s, or (from anyone but a superuser) the token is missing.';

CREATE FUNCTION alfred.complete_run(run_id uuid, result text, lease_token uuid DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM alfred.finish_run(
		alfred.run_for_report(complete_run.run_id, complete_run.lease_token, 'complete'),
		'succeeded', complete_run.result, NULL);
END
$$;
COMMENT ON FUNCTION alfred.complete_run(uuid, text, uuid) IS
'For an agent: the external run succeeded with result (text; a JSON object''s title, message and priority shape the notification). lease_token is the one claim_runs returned; 55000 and nothing changes when it is not the run''s current one (the lease expired and the run was claimed again), when the run is not running (never claimed, already reported: a report counts once) or, from anyone but a superuser, when it is missing.';

CREATE FUNCTION alfred.fail_run(run_id uuid, error text, transient boolean DEFAULT true,
	lease_token uuid DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	run alfred.task_runs := alfred.run_for_report(fail_run.run_id, fail_run.lease_token, 'fail');
	max_retries integer;
BEGIN
	SELECT t.max_retries INTO max_retries FROM alfred.scheduled_tasks t
	 WHERE t.user_id = run.user_id AND t.id = run.task_id;
	IF coalesce(fail_run.transient, true) AND run.attempt <= max_retries THEN
		PERFORM alfred.finish_run(run, 'retrying', NULL, fail_run.error,
									   now() + alfred.retry_delay(run.attempt));
	ELSE
		PERFORM alfred.finish_run(run, 'failed', NULL, fail_run.error);
	END IF;
END
$$;
COMMENT ON FUNCTION alfred.fail_run(uuid, text, boolean, uuid) IS
'For an agent: the external run failed with error. A transient failure is retried after exponential backoff with jitter while attempts remain (max_retries); otherwise the run fails (fail_count + 1, a notification). lease_token as for complete_run: 55000 and nothing changes for a stale, missing (except from a superuser) or finished one.';

-- the agent API above is the way in: these internals change any run they are given
REVOKE EXECUTE ON FUNCTION alfred.finish_run(alfred.task_runs, text, text, text, timestamptz),
	alfred.run_for_report(uuid, uuid, text) FROM PUBLIC;

-- main: a user cannot raise their own AI quota (user_settings_quota_guard)
-- A user's quota override is the DBA's, an admin's or a service's to set: a tenant who could
-- write it would lift their own limit (seed 001: "rate limits prevent abuse and cost overruns").
CREATE FUNCTION alfred.user_settings_quota_guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.ai_daily_limit IS DISTINCT FROM (CASE WHEN TG_OP = 'UPDATE' THEN OLD.ai_daily_limit END)
	   AND NOT alfred.caller_is_service()
	   AND alfred.current_user_role() IS DISTINCT FROM 'admin' THEN
		RAISE EXCEPTION 'permission denied to set the AI quota of user "%"', NEW.user_id
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('ai_daily_limit would become %s.', coalesce(NEW.ai_daily_limit::text, 'NULL')),
				  HINT = 'An admin, a member of alfred_service or a superuser sets user_settings.ai_daily_limit.';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION alfred.user_settings_quota_guard() IS
'Trigger: only admins, alfred_service members and superusers set or change user_settings.ai_daily_limit (42501), so a user cannot raise their own AI quota, by UPDATE or by deleting and re-inserting their settings row.';

CREATE TRIGGER user_settings_quota_guard
	BEFORE INSERT OR UPDATE OF ai_daily_limit ON alfred.user_settings
	FOR EACH ROW EXECUTE FUNCTION alfred.user_settings_quota_guard();

-- main: blank-looking text is refused by claim_runs' worker name and the token setters; a blank-looking title falls back to the task name
CREATE OR REPLACE FUNCTION alfred.run_notification(user_id uuid, task_id uuid, run_id uuid,
	task_name text, status text, result text, error text, at timestamptz)
RETURNS uuid
LANGUAGE sql VOLATILE
AS $$
	INSERT INTO alfred.notifications (user_id, type, title, message, priority, scheduled_for, data)
	SELECT $1, 'scheduled_task',
		   coalesce(CASE WHEN NOT alfred.is_blank(r.j->>'title') THEN r.j->>'title' END, CASE WHEN $5 = 'succeeded' THEN $4 ELSE $4 || ' failed' END),
		   CASE WHEN $5 = 'succeeded' THEN coalesce(r.j->>'message', $6) ELSE $7 END,
		   p.priority,
		   CASE WHEN p.priority <> 'urgent' THEN alfred.quiet_hours_end($1, $8) END,
		   jsonb_build_object('task_id', $2, 'run_id', $3, 'status', $5)
	  FROM (SELECT CASE WHEN $5 = 'succeeded' AND left(ltrim($6), 1) = '{'
						THEN $6::jsonb END AS j) r,
		   LATERAL (SELECT CASE WHEN r.j->>'priority' IN ('low', 'normal', 'high', 'urgent')
								THEN r.j->>'priority'
								WHEN $5 = 'succeeded' THEN 'normal' ELSE 'high' END AS priority) p
	RETURNING id
$$;

CREATE OR REPLACE FUNCTION alfred.claim_runs(worker text, tools text[] DEFAULT NULL, max integer DEFAULT 1,
	lease interval DEFAULT '5 minutes')
RETURNS TABLE (run_id uuid, task_id uuid, user_id uuid, tool_name text, tool_args jsonb,
	prompt text, attempt integer, lease_until timestamptz, lease_token uuid)
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	expired alfred.task_runs;
	-- whose runs the caller may take: a superuser, a service role without an
	-- alfred identity or an admin every user's; a user only their own
	everyone boolean := current_setting('is_superuser') = 'on'
		OR (alfred.current_user_id() IS NULL AND alfred.caller_is_service())
		OR alfred.current_user_role() IS NOT DISTINCT FROM 'admin';
	own uuid := CASE WHEN alfred.current_user_role() = 'user' THEN alfred.current_user_id() END;
BEGIN
	IF coalesce(alfred.is_blank(claim_runs.worker), true) THEN
		RAISE EXCEPTION 'worker must name the agent'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF claim_runs.max IS NULL OR claim_runs.max < 1 THEN
		RAISE EXCEPTION 'max must be at least 1'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM alfred.check_lease(claim_runs.lease);
	-- a run whose lease expired after its last allowed attempt fails instead of coming back
	FOR expired IN
		SELECT r.* FROM alfred.task_runs r
		  JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
		 WHERE r.status = 'running' AND r.lease_until < now() AND r.attempt > t.max_retries
		   AND (everyone OR r.user_id = own)
		   FOR UPDATE OF r SKIP LOCKED
	LOOP
		PERFORM alfred.finish_run(expired, 'failed', NULL,
			format('the lease of %s expired on attempt %s', expired.claimed_by, expired.attempt));
	END LOOP;
	RETURN QUERY
	WITH c AS (
		SELECT r.user_id, r.id, r.status, gen_random_uuid() AS token
		  FROM alfred.task_runs r
		  JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
		  JOIN alfred.tools tl ON tl.name = t.tool_name AND tl.kind = 'external'
		 WHERE ((r.status IN ('queued', 'retrying') AND r.next_attempt_at <= now())
				OR (r.status = 'running' AND r.lease_until < now()))
		   AND (claim_runs.tools IS NULL OR t.tool_name = ANY (claim_runs.tools))
		   AND (everyone OR r.user_id = own)
		 ORDER BY coalesce(r.next_attempt_at, r.lease_until)
		 LIMIT claim_runs.max
		   FOR UPDATE OF r SKIP LOCKED
	)
	UPDATE alfred.task_runs r
	   SET status = 'running', claimed_by = claim_runs.worker,
		   lease_until = now() + claim_runs.lease, next_attempt_at = NULL,
		   lease_token_hash = sha256(uuid_send(c.token)),
		   attempt = r.attempt + CASE WHEN c.status = 'queued' THEN 0 ELSE 1 END,
		   started_at = now()
	  FROM c, alfred.scheduled_tasks t
	 WHERE r.user_id = c.user_id AND r.id = c.id AND t.user_id = r.user_id AND t.id = r.task_id
	RETURNING r.id, r.task_id, r.user_id, t.tool_name, t.tool_args, r.prompt, r.attempt, r.lease_until,
			  c.token;
END
$$;

CREATE OR REPLACE FUNCTION alfred.connect_account(user_id uuid, provider text, access_token text,
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
	IF NOT (connect_account.user_id = alfred.current_user_id()
			OR alfred.current_user_role() = 'admin'
			OR alfred.caller_is_service()) THEN
		RAISE EXCEPTION 'permission denied to connect an account for user "%"', connect_account.user_id
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF coalesce(alfred.is_blank(access_token), true) THEN
		RAISE EXCEPTION 'access_token must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	k := alfred.token_key(key);
	INSERT INTO alfred.connected_accounts AS a
		   (user_id, id, provider, provider_account_id, provider_email, access_token, refresh_token,
			token_expires_at, scopes, status)
	VALUES (connect_account.user_id, new_id, connect_account.provider, connect_account.provider_account_id,
			connect_account.provider_email,
			alfred.seal_account_token(connect_account.user_id, new_id, access_token, k),
			alfred.seal_account_token(connect_account.user_id, new_id, refresh_token, k),
			connect_account.token_expires_at, coalesce(connect_account.scopes, '{}'), 'active')
	ON CONFLICT ON CONSTRAINT connected_accounts_account_key DO UPDATE
		SET token_expires_at = EXCLUDED.token_expires_at, scopes = EXCLUDED.scopes,
			provider_email = coalesce(EXCLUDED.provider_email, a.provider_email), status = 'active'
	RETURNING a.id INTO acct_id;
	IF acct_id <> new_id THEN
		-- an existing connection: its tokens are sealed to its own id
		UPDATE alfred.connected_accounts a
		   SET access_token = alfred.seal_account_token(a.user_id, a.id, connect_account.access_token, k),
			   refresh_token = alfred.seal_account_token(a.user_id, a.id, connect_account.refresh_token, k)
		 WHERE a.user_id = connect_account.user_id AND a.id = acct_id;
	END IF;
	RETURN acct_id;
END
$$;

CREATE OR REPLACE FUNCTION alfred.set_account_tokens(account_id uuid, access_token text,
	refresh_token text DEFAULT NULL, token_expires_at timestamptz DEFAULT NULL, key text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	acct	alfred.connected_accounts := alfred.account_for_tokens(account_id);
	k		text := alfred.token_key(key);
BEGIN
	IF coalesce(alfred.is_blank(access_token), true) THEN
		RAISE EXCEPTION 'access_token must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE alfred.connected_accounts a
	   SET access_token = alfred.seal_account_token(a.user_id, a.id, set_account_tokens.access_token, k),
		   refresh_token = CASE WHEN set_account_tokens.refresh_token IS NULL THEN a.refresh_token
								ELSE alfred.seal_account_token(a.user_id, a.id, set_account_tokens.refresh_token, k) END,
		   token_expires_at = set_account_tokens.token_expires_at,
		   status = 'active'
	 WHERE a.user_id = acct.user_id AND a.id = acct.id;
END
$$;

-- (replacing the token setters resets their search_path: pgcrypto's schema again)
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
		 WHERE p.pronamespace = 'alfred'::regnamespace
		   AND p.proname IN ('connect_account', 'set_account_tokens', 'account_tokens',
							 'seal_account_token', 'open_account_token')
	LOOP
		EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', fn, crypto);
	END LOOP;
END
$$;

-- errors: a NULL required argument raises 22004 (null_value_not_allowed) naming the
-- argument, through one helper, alfred._require_argument (src/arguments.c); error messages
-- written out whole.  The functions changed for it, as migrations/0.2 defines them.
CREATE FUNCTION alfred._require_argument(name text, value "any")
RETURNS void
AS 'MODULE_PATHNAME', 'alfred_require_argument_sql'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION alfred._require_argument(text, "any") IS
'Raises 22004 (null_value_not_allowed) "argument "name" must not be null" when value is NULL; does nothing otherwise. The API''s one check of a required argument.';

CREATE OR REPLACE FUNCTION alfred.create_log_partitions(months_ahead integer DEFAULT 3)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	first_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
	lo			date;
	hi			date;
	part		text;
	created		integer := 0;
BEGIN
	PERFORM alfred._require_argument('months_ahead', months_ahead);
	IF months_ahead NOT BETWEEN 0 AND 120 THEN
		RAISE EXCEPTION 'months_ahead must be between 0 and 120, not %', months_ahead
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR m IN 0 .. months_ahead LOOP
		lo := first_month + make_interval(months => m);
		hi := lo + interval '1 month';
		part := format('system_logs_%s', to_char(lo, 'YYYY_MM'));
		CONTINUE WHEN to_regclass(format('alfred.%I', part)) IS NOT NULL;
		-- Rows of this month that went to the default partition move to the
		-- new one (a partition cannot be created over rows of the default).
		CREATE TEMP TABLE alfred_moving_logs (LIKE alfred.system_logs) ON COMMIT DROP;
		WITH moved AS (DELETE FROM alfred.system_logs_default d
						WHERE d.logged_at >= (lo::timestamp AT TIME ZONE 'UTC')
						  AND d.logged_at < (hi::timestamp AT TIME ZONE 'UTC')
					RETURNING *)
		INSERT INTO pg_temp.alfred_moving_logs SELECT * FROM moved;
		EXECUTE format('CREATE TABLE alfred.%I PARTITION OF alfred.system_logs FOR VALUES FROM (%L) TO (%L)',
					   part, (lo::timestamp AT TIME ZONE 'UTC'), (hi::timestamp AT TIME ZONE 'UTC'));
		PERFORM alfred.index_log_partition(format('alfred.%I', part)::regclass);
		INSERT INTO alfred.system_logs SELECT * FROM pg_temp.alfred_moving_logs;
		DROP TABLE pg_temp.alfred_moving_logs;
		EXECUTE format('COMMENT ON TABLE alfred.%I IS %L', part,
					   format('system_logs for %s (UTC)', to_char(lo, 'YYYY-MM')));
		created := created + 1;
	END LOOP;
	RETURN created;
END
$$;
COMMENT ON FUNCTION alfred.create_log_partitions(integer) IS
'Creates the monthly partitions of system_logs from the current month (UTC) to months_ahead months ahead; returns how many it created. Idempotent; run it monthly (the maintenance job does).';

CREATE OR REPLACE FUNCTION alfred.check_password_strength(password text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM alfred._require_argument('password', password);
	IF char_length(password) < 8 THEN
		RAISE EXCEPTION 'password is too short'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A password needs at least 8 characters.';
	END IF;
END
$$;
COMMENT ON FUNCTION alfred.check_password_strength(text) IS
'Internal: raises 22023 unless the password is acceptable (at least 8 characters).';

CREATE OR REPLACE FUNCTION alfred.create_user(
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
	PERFORM alfred._require_argument('email', create_user.email);
	PERFORM alfred._require_argument('password', create_user.password);
	PERFORM alfred._require_argument('timezone', create_user.timezone);
	PERFORM alfred._require_argument('role', create_user.role);
	IF create_user.email !~ '^[^@[:space:]]+@[^@[:space:]]+$' THEN
		RAISE EXCEPTION 'invalid email address "%"', create_user.email
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'An email address has one @ and no spaces.';
	END IF;
	PERFORM alfred.check_password_strength(create_user.password);
	IF NOT alfred.is_valid_timezone(create_user.timezone) THEN
		RAISE EXCEPTION 'invalid time zone "%"', create_user.timezone
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Use an IANA time zone name such as "Europe/Paris" or "UTC".';
	END IF;
	IF create_user.role NOT IN ('admin', 'user', 'observer') THEN
		RAISE EXCEPTION 'invalid role "%"', create_user.role
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A role is admin, user or observer.';
	END IF;
	IF create_user.role <> 'user' AND NOT alfred.caller_is_service()
	   AND alfred.current_user_role() IS DISTINCT FROM 'admin' THEN
		RAISE EXCEPTION 'permission denied to create a user with role "%"', create_user.role
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Only admins, superusers and members of role "alfred_service" may create admin or observer users.';
	END IF;

	BEGIN
		INSERT INTO alfred.users AS u (email, password_hash, username, display_name, first_name, last_name,
											 role, timezone, location_city, location_country, profile)
		VALUES (create_user.email, alfred.hash_password(create_user.password), create_user.username,
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
	INSERT INTO alfred.user_settings (user_id) VALUES (new_id);
	INSERT INTO alfred.proactiveness_settings (user_id) VALUES (new_id);
	INSERT INTO alfred.ai_contexts (user_id) VALUES (new_id);	-- seed 001: an AI context per user
	RETURN new_id;
END
$$;
COMMENT ON FUNCTION alfred.create_user(text, text, text, text, text, text, text, text, text, text, jsonb) IS
'Creates a user (bcrypt password hash) with default settings, proactiveness and AI context rows; returns the id. Admin and observer users may only be created by admins, superusers and alfred_service members.';

CREATE OR REPLACE FUNCTION alfred.login(
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
	PERFORM alfred._require_argument('valid_for', valid_for);
	IF valid_for <= interval '0' THEN
		RAISE EXCEPTION 'invalid session lifetime "%"', valid_for
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'valid_for must be a positive interval.';
	END IF;
	SELECT u.id, u.password_hash INTO found_id, found_hash
	  FROM alfred.users u
	 WHERE lower(u.email) = lower(login.email) AND u.status = 'active';
	IF found_id IS NULL THEN
		-- Do the work of a real check, so timing does not tell which part was wrong.
		PERFORM alfred.hash_password(coalesce(login.password, ''));
		RETURN NULL;
	END IF;
	IF login.password IS NULL OR crypt(login.password, found_hash) <> found_hash THEN
		RETURN NULL;
	END IF;

	token := encode(gen_random_bytes(32), 'hex');
	INSERT INTO alfred.sessions (user_id, token_hash, expires_at, ip_address, user_agent)
	VALUES (found_id, sha256(convert_to(token, 'UTF8')), now() + valid_for, login.ip_address, login.user_agent);
	UPDATE alfred.users u SET last_login_at = now() WHERE u.id = found_id;
	RETURN token;
END
$$;
COMMENT ON FUNCTION alfred.login(text, text, interval, inet, text) IS
'Checks an email and password and returns a fresh session token (64 hex digits; only its SHA-256 is stored), or NULL on bad credentials without saying which part was wrong.';

CREATE OR REPLACE FUNCTION alfred.change_password(old_password text, new_password text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	me			uuid := alfred.current_user_id();
	old_hash	text;
BEGIN
	PERFORM alfred._require_argument('new_password', new_password);
	IF me IS NULL THEN
		RAISE EXCEPTION 'no alfred user is set'
			USING ERRCODE = 'invalid_authorization_specification',
				  HINT = 'Call alfred.set_session() first.';
	END IF;
	SELECT u.password_hash INTO old_hash FROM alfred.users u WHERE u.id = me FOR UPDATE;
	IF old_password IS NULL OR crypt(old_password, old_hash) <> old_hash THEN
		RAISE EXCEPTION 'password is incorrect'
			USING ERRCODE = 'invalid_password';
	END IF;
	PERFORM alfred.check_password_strength(new_password);
	UPDATE alfred.users u SET password_hash = alfred.hash_password(new_password) WHERE u.id = me;
END
$$;
COMMENT ON FUNCTION alfred.change_password(text, text) IS
'Changes the current user''s password, given the old one (28P01 if wrong).';

CREATE OR REPLACE FUNCTION alfred.set_password(user_id uuid, new_password text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT alfred.caller_is_service() AND alfred.current_user_role() IS DISTINCT FROM 'admin' THEN
		RAISE EXCEPTION 'permission denied to set the password of another user'
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Only admins, superusers and members of role "alfred_service" may set passwords.';
	END IF;
	PERFORM alfred._require_argument('user_id', set_password.user_id);
	PERFORM alfred._require_argument('new_password', new_password);
	PERFORM alfred.check_password_strength(new_password);
	UPDATE alfred.users u SET password_hash = alfred.hash_password(new_password)
	 WHERE u.id = set_password.user_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'user "%" does not exist', set_password.user_id
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE alfred.sessions s SET is_revoked = true, revoked_at = now()
	 WHERE s.user_id = set_password.user_id AND NOT s.is_revoked;
END
$$;
COMMENT ON FUNCTION alfred.set_password(uuid, text) IS
'Resets a user''s password and revokes all their sessions (admins, superusers, alfred_service members).';

CREATE OR REPLACE FUNCTION alfred.enable_tenant_rls(rel regclass,
											  commands text[] DEFAULT ARRAY['INSERT', 'UPDATE', 'DELETE'])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	can_read	text := 'user_id = ANY ((SELECT alfred.readable_user_ids())::uuid[])';
	can_write	text := 'user_id = ANY ((SELECT alfred.writable_user_ids())::uuid[])';
BEGIN
	PERFORM alfred._require_argument('commands', commands);
	IF NOT commands <@ ARRAY['INSERT', 'UPDATE', 'DELETE'] THEN
		RAISE EXCEPTION 'invalid commands "%"', commands
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'commands is a subset of INSERT, UPDATE and DELETE.';
	END IF;
	-- Rows of nobody (system events in a log) are for admins and observers.
	IF NOT (SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = 'user_id') THEN
		can_read := can_read || ' OR (user_id IS NULL
									  AND (SELECT alfred.current_user_role()) IN (''admin'', ''observer''))';
		can_write := can_write || ' OR (user_id IS NULL AND (SELECT alfred.current_user_role()) = ''admin'')';
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
COMMENT ON FUNCTION alfred.enable_tenant_rls(regclass, text[]) IS
'Enables row-level security on a table with a user_id column: its user reads its rows and may run the given commands (INSERT, UPDATE, DELETE) on them; admins read and run them on all rows, observers read all rows. grant_usage() grants exactly these commands.';

CREATE OR REPLACE FUNCTION alfred.grant_usage(role regrole)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r			record;
	privileges	text;
BEGIN
	PERFORM alfred._require_argument('role', grant_usage.role);
	EXECUTE format('GRANT USAGE ON SCHEMA alfred TO %s', grant_usage.role);
	FOR r IN
		SELECT c.oid::regclass AS rel, c.relname, c.relkind, c.relrowsecurity
		  FROM pg_catalog.pg_class c
		 WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p', 'v')
		   AND NOT c.relispartition
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
					ON alfred.users TO %s', grant_usage.role);
END
$$;
COMMENT ON FUNCTION alfred.grant_usage(regrole) IS
'Grants an application role what it needs: the schema, DML on the user-owned tables (row-level security decides which rows), reads of views, tools, audit trail, and of users without password_hash. Run it as the extension owner after installing or upgrading.';

CREATE OR REPLACE FUNCTION alfred.register_tool(name text, fn regprocedure DEFAULT NULL,
	kind text DEFAULT 'sql', description text DEFAULT NULL, admin_only boolean DEFAULT NULL)
RETURNS alfred.tools
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p pg_proc;
	row alfred.tools;
BEGIN
	IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
		RAISE EXCEPTION 'permission denied to register tool "%"', register_tool.name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'The scheduler runs sql tools with its own privileges, so only superusers may register tools.';
	END IF;
	PERFORM alfred._require_argument('name', register_tool.name);
	PERFORM alfred._require_argument('kind', register_tool.kind);
	IF register_tool.name !~ '^[a-z][a-z0-9_.-]*$' THEN
		RAISE EXCEPTION 'invalid tool name "%"', register_tool.name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A tool name starts with a lower-case letter followed by lower-case letters, digits, "_", "." or "-".';
	END IF;
	IF register_tool.kind NOT IN ('sql', 'external') THEN
		RAISE EXCEPTION 'invalid tool kind "%"', register_tool.kind
			USING ERRCODE = 'invalid_parameter_value', DETAIL = 'kind is sql or external.';
	END IF;
	IF register_tool.kind = 'external' AND register_tool.fn IS NOT NULL THEN
		RAISE EXCEPTION 'external tool "%" cannot have a function', register_tool.name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'An external tool is run by an agent process (claim_runs), not by the database.';
	END IF;
	IF register_tool.kind = 'sql' THEN
		SELECT * INTO p FROM pg_proc WHERE oid = register_tool.fn;
		IF NOT FOUND OR p.prokind <> 'f' OR p.proretset OR p.pronargs <> 2
		   OR p.proargtypes[0] <> 'uuid'::regtype OR p.proargtypes[1] <> 'jsonb'::regtype
		   OR p.prorettype <> 'jsonb'::regtype THEN
			RAISE EXCEPTION 'tool function "%" has the wrong signature', coalesce(register_tool.fn::text, '(null)')
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'An sql tool is a function (user_id uuid, args jsonb) returning jsonb, not a set.';
		END IF;
	END IF;
	INSERT INTO alfred.tools AS t (name, kind, fn, description, admin_only)
	VALUES (register_tool.name, register_tool.kind, register_tool.fn, register_tool.description,
			coalesce(register_tool.admin_only, false))
	ON CONFLICT ON CONSTRAINT tools_pkey DO UPDATE
		SET kind = excluded.kind, fn = excluded.fn, description = excluded.description,
			admin_only = coalesce(register_tool.admin_only, t.admin_only)
	RETURNING * INTO row;
	RETURN row;
END
$$;
COMMENT ON FUNCTION alfred.register_tool(text, regprocedure, text, text, boolean) IS
'Registers (or re-registers) a tool scheduled tasks may run: kind sql with fn(user_id uuid, args jsonb) returns jsonb, run inside the database; kind external (no fn), run by an agent through claim_runs. admin_only => true: only tasks of active admin users may run it (NULL: false for a new tool, unchanged for a registered one). Superusers only. 22023 for a bad name, kind or signature.';

CREATE OR REPLACE FUNCTION alfred.schedule_task(user_id uuid, name text, tool_name text,
	tool_args jsonb DEFAULT '{}', cron text DEFAULT NULL, at timestamptz DEFAULT NULL,
	timezone text DEFAULT NULL, prompt_template text DEFAULT '', description text DEFAULT NULL,
	source text DEFAULT 'user', max_retries integer DEFAULT 3)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	tz text := schedule_task.timezone;
	task alfred.scheduled_tasks;
BEGIN
	PERFORM alfred._require_argument('user_id', schedule_task.user_id);
	PERFORM alfred._require_argument('name', schedule_task.name);
	PERFORM alfred._require_argument('tool_name', schedule_task.tool_name);
	IF (schedule_task.cron IS NULL) = (schedule_task.at IS NULL) THEN
		RAISE EXCEPTION 'a scheduled task needs either cron or at'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Give cron for a recurring task or at for a one-time task, not both and not neither.';
	END IF;
	IF schedule_task.at IS NOT NULL AND schedule_task.at <= now() THEN
		RAISE EXCEPTION 'at "%" is in the past', schedule_task.at
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A one-time task must be scheduled after the current time.';
	END IF;
	IF NOT EXISTS (SELECT FROM alfred.users u WHERE u.id = schedule_task.user_id) THEN
		RAISE EXCEPTION 'no user with id "%"', schedule_task.user_id
			USING ERRCODE = 'no_data_found';
	END IF;
	IF NOT EXISTS (SELECT FROM alfred.tools t WHERE t.name = schedule_task.tool_name) THEN
		RAISE EXCEPTION 'unknown tool "%"', schedule_task.tool_name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Register it with alfred.register_tool().';
	END IF;
	IF tz IS NULL THEN
		SELECT u.timezone INTO tz FROM alfred.users u WHERE u.id = schedule_task.user_id;
		tz := coalesce(tz, 'UTC');
	ELSIF NOT alfred.is_valid_timezone(tz) THEN
		RAISE EXCEPTION 'invalid time zone "%"', tz
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Use an IANA time zone name such as Europe/Paris, or UTC.';
	END IF;
	PERFORM alfred._require_argument('tool_args', schedule_task.tool_args);
	IF jsonb_typeof(schedule_task.tool_args) <> 'object' THEN
		RAISE EXCEPTION 'tool_args must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM alfred._require_argument('max_retries', schedule_task.max_retries);
	IF schedule_task.max_retries NOT BETWEEN 0 AND 100 THEN
		RAISE EXCEPTION 'max_retries % is out of range 0-100', schedule_task.max_retries
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO alfred.scheduled_tasks AS t (user_id, name, description, task_type, schedule_cron,
		scheduled_at, timezone, tool_name, tool_args, prompt_template, source, max_retries, next_run_at)
	VALUES (schedule_task.user_id, schedule_task.name, schedule_task.description,
		CASE WHEN schedule_task.cron IS NULL THEN 'one_time' ELSE 'recurring' END,
		schedule_task.cron, schedule_task.at, tz, schedule_task.tool_name, schedule_task.tool_args,
		coalesce(schedule_task.prompt_template, ''), schedule_task.source, schedule_task.max_retries,
		coalesce(schedule_task.at, alfred.cron_next(schedule_task.cron, now(), tz)))
	RETURNING * INTO task;		-- the scheduled_tasks_policy trigger checks the tool's policy, template and limits
	RETURN task.id;
END
$$;
COMMENT ON FUNCTION alfred.schedule_task(uuid, text, text, jsonb, text, timestamptz, text, text, text, text, integer) IS
'Schedules tool_name(user_id, tool_args) for a user: recurring with cron (evaluated in timezone, default the user''s) or once at "at"; returns the task id. 22023 for neither or both of cron/at, an at in the past, a bad cron, time zone or template, an unknown tool; P0002 for an unknown user; 42501 when the tool''s policy refuses the user; 54000 beyond the per-user limits (alfred.max_active_tasks, alfred.min_task_interval, alfred.max_tool_args).';

CREATE OR REPLACE FUNCTION alfred.claim_runs(worker text, tools text[] DEFAULT NULL, max integer DEFAULT 1,
	lease interval DEFAULT '5 minutes')
RETURNS TABLE (run_id uuid, task_id uuid, user_id uuid, tool_name text, tool_args jsonb,
	prompt text, attempt integer, lease_until timestamptz, lease_token uuid)
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	expired alfred.task_runs;
	-- whose runs the caller may take: a superuser, a service role without an
	-- alfred identity or an admin every user's; a user only their own
	everyone boolean := current_setting('is_superuser') = 'on'
		OR (alfred.current_user_id() IS NULL AND alfred.caller_is_service())
		OR alfred.current_user_role() IS NOT DISTINCT FROM 'admin';
	own uuid := CASE WHEN alfred.current_user_role() = 'user' THEN alfred.current_user_id() END;
BEGIN
	PERFORM alfred._require_argument('worker', claim_runs.worker);
	PERFORM alfred._require_argument('max', claim_runs.max);
	IF alfred.is_blank(claim_runs.worker) THEN
		RAISE EXCEPTION 'worker must name the agent'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF claim_runs.max < 1 THEN
		RAISE EXCEPTION 'max must be at least 1'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM alfred.check_lease(claim_runs.lease);
	-- a run whose lease expired after its last allowed attempt fails instead of coming back
	FOR expired IN
		SELECT r.* FROM alfred.task_runs r
		  JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
		 WHERE r.status = 'running' AND r.lease_until < now() AND r.attempt > t.max_retries
		   AND (everyone OR r.user_id = own)
		   FOR UPDATE OF r SKIP LOCKED
	LOOP
		PERFORM alfred.finish_run(expired, 'failed', NULL,
			format('the lease of %s expired on attempt %s', expired.claimed_by, expired.attempt));
	END LOOP;
	RETURN QUERY
	WITH c AS (
		SELECT r.user_id, r.id, r.status, gen_random_uuid() AS token
		  FROM alfred.task_runs r
		  JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
		  JOIN alfred.tools tl ON tl.name = t.tool_name AND tl.kind = 'external'
		 WHERE ((r.status IN ('queued', 'retrying') AND r.next_attempt_at <= now())
				OR (r.status = 'running' AND r.lease_until < now()))
		   AND (claim_runs.tools IS NULL OR t.tool_name = ANY (claim_runs.tools))
		   AND (everyone OR r.user_id = own)
		 ORDER BY coalesce(r.next_attempt_at, r.lease_until)
		 LIMIT claim_runs.max
		   FOR UPDATE OF r SKIP LOCKED
	)
	UPDATE alfred.task_runs r
	   SET status = 'running', claimed_by = claim_runs.worker,
		   lease_until = now() + claim_runs.lease, next_attempt_at = NULL,
		   lease_token_hash = sha256(uuid_send(c.token)),
		   attempt = r.attempt + CASE WHEN c.status = 'queued' THEN 0 ELSE 1 END,
		   started_at = now()
	  FROM c, alfred.scheduled_tasks t
	 WHERE r.user_id = c.user_id AND r.id = c.id AND t.user_id = r.user_id AND t.id = r.task_id
	RETURNING r.id, r.task_id, r.user_id, t.tool_name, t.tool_args, r.prompt, r.attempt, r.lease_until,
			  c.token;
END
$$;
COMMENT ON FUNCTION alfred.claim_runs(text, text[], integer, interval) IS
'For an agent process: leases up to max queued external runs (of the given tools, NULL = any) to worker for lease (more than 0, at most 1 day), each with a fresh lease_token that complete_run, fail_run and extend_lease require. A superuser, a service role (alfred_service) without an alfred identity and an admin claim every user''s runs, a user only their own. A run whose lease expires comes back (at-least-once: the run id is the idempotency key) with a new token; after max_retries + 1 attempts it fails instead.';

CREATE OR REPLACE FUNCTION alfred.check_lease(lease interval)
RETURNS interval
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
	PERFORM alfred._require_argument('lease', check_lease.lease);
	IF check_lease.lease <= interval '0' THEN
		RAISE EXCEPTION 'lease must be positive'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('lease was "%s".', check_lease.lease);
	END IF;
	IF check_lease.lease > interval '1 day' THEN
		RAISE EXCEPTION 'lease "%" is longer than 1 day', check_lease.lease
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Take a shorter lease and renew it with extend_lease while the run lasts.';
	END IF;
	RETURN check_lease.lease;
END
$$;
COMMENT ON FUNCTION alfred.check_lease(interval) IS
'Internal: returns lease when it is more than 0 and at most 1 day; 22023 otherwise, naming it.';

CREATE OR REPLACE FUNCTION alfred._habit_for_update(habit_id uuid, OUT habit alfred.habits, OUT today date)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	r record;
BEGIN
	PERFORM alfred._require_argument('habit_id', habit_id);
	SELECT h AS habit,
		((now() AT TIME ZONE u.timezone) - make_interval(hours => coalesce(h.day_start_hour, 0)))::date AS today
	INTO r
	FROM alfred.habits h JOIN alfred.users u ON u.id = h.user_id
	WHERE h.id = _habit_for_update.habit_id
	FOR UPDATE OF h;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'habit "%" does not exist', habit_id
			USING ERRCODE = 'no_data_found';
	END IF;
	habit := r.habit;
	today := r.today;
END
$$;
COMMENT ON FUNCTION alfred._habit_for_update(uuid) IS
'Internal to log_habit and unlog_habit: the habit row, locked, and the user''s today for it (timezone and day_start_hour); P0002 when the habit does not exist or is not visible.';

CREATE OR REPLACE FUNCTION alfred.log_habit(
	habit_id uuid,
	on_date date DEFAULT NULL,
	notes text DEFAULT NULL,
	duration_minutes int DEFAULT NULL)
RETURNS alfred.habits
LANGUAGE plpgsql VOLATILE
AS $$
-- The hot path: one locking read, one insert, one update; no nested calls
-- but the C fold (_habit_append).
#variable_conflict use_column
DECLARE
	h alfred.habits;
	tz text;
	today date;
	day date;
	updated alfred.habits;
BEGIN
	PERFORM alfred._require_argument('habit_id', habit_id);
	SELECT * INTO h FROM alfred.habits WHERE id = log_habit.habit_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'habit "%" does not exist', habit_id
			USING ERRCODE = 'no_data_found';
	END IF;
	SELECT timezone INTO tz FROM alfred.users WHERE id = h.user_id;
	today := ((now() AT TIME ZONE tz) - make_interval(hours => coalesce(h.day_start_hour, 0)))::date;
	day := coalesce(on_date, today);
	IF day > today THEN
		RAISE EXCEPTION 'habit "%" cannot be logged on "%"', h.name, day
			USING ERRCODE = 'invalid_parameter_value',
				DETAIL = format('That date is after the user''s today, %s.', today);
	END IF;
	IF NOT isfinite(day) THEN
		RAISE EXCEPTION 'habit "%" cannot be logged on "%"', h.name, day
			USING ERRCODE = 'invalid_parameter_value', DETAIL = 'The date must be finite.';
	END IF;

	INSERT INTO alfred.habit_logs (user_id, habit_id, logged_date, notes, duration_minutes)
	VALUES (h.user_id, h.id, day, log_habit.notes, log_habit.duration_minutes)
	ON CONFLICT (user_id, habit_id, logged_date) DO NOTHING;
	IF NOT FOUND THEN
		RETURN h;				-- already logged that day: nothing changes
	END IF;

	updated := alfred._habit_append(h, day);
	IF updated.id IS NULL THEN		-- a back-fill: recompute from the history
		updated := alfred._habit_recompute(h, alfred._habit_logged_days(h), today);
	END IF;
	UPDATE alfred.habits
	SET current_streak = updated.current_streak,
		best_streak = updated.best_streak,
		total_completions = updated.total_completions,
		last_logged = updated.last_logged,
		last_met_period = updated.last_met_period,
		period_logs = updated.period_logs
	WHERE user_id = h.user_id AND id = h.id
	RETURNING * INTO h;
	RETURN h;
END
$$;
COMMENT ON FUNCTION alfred.log_habit(uuid, date, text, int) IS
'Log a habit on on_date (NULL: today in the user''s timezone, shifted by the habit''s day_start_hour) and return the habit with its streak updated: in O(1) when the date comes after every earlier log, by a full recompute for a back-fill. Logging a date twice changes nothing; a date after the user''s today raises 22023; an unknown (or invisible) habit raises P0002.';

CREATE OR REPLACE FUNCTION alfred.complete_task(task_id uuid)
RETURNS alfred.tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	t alfred.tasks;
BEGIN
	PERFORM alfred._require_argument('task_id', task_id);
	SELECT * INTO t FROM alfred.tasks WHERE id = complete_task.task_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'task "%" does not exist', task_id USING ERRCODE = 'no_data_found';
	END IF;
	IF t.status = 'completed' THEN
		RETURN t;				-- completing twice changes nothing (and spawns nothing)
	END IF;
	UPDATE alfred.tasks SET status = 'completed'
	WHERE user_id = t.user_id AND id = t.id
	RETURNING * INTO t;
	RETURN t;
END
$$;
COMMENT ON FUNCTION alfred.complete_task(uuid) IS
'Complete a task and return it: sets completed_at; a recurring task (daily, weekly, monthly or a cron expression) spawns its next occurrence, due at the next slot after its due time (or after now when it was late) in the owner''s timezone. Completing a completed task changes nothing. 55000 when a task it depends on is unfinished (naming it) or when it is cancelled or failed; P0002 for an unknown task.';

CREATE OR REPLACE FUNCTION alfred.add_task_dependency(task_id uuid, depends_on uuid)
RETURNS alfred.task_dependencies
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	t alfred.tasks;
	d alfred.tasks;
	dep alfred.task_dependencies;
BEGIN
	PERFORM alfred._require_argument('task_id', task_id);
	PERFORM alfred._require_argument('depends_on', depends_on);
	SELECT * INTO t FROM alfred.tasks WHERE id = add_task_dependency.task_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'task "%" does not exist', task_id USING ERRCODE = 'no_data_found';
	END IF;
	SELECT * INTO d FROM alfred.tasks WHERE id = add_task_dependency.depends_on;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'task "%" does not exist', depends_on USING ERRCODE = 'no_data_found';
	END IF;
	IF t.user_id <> d.user_id THEN
		RAISE EXCEPTION 'task "%" cannot depend on task "%" of another user', t.title, d.title
			USING ERRCODE = 'invalid_parameter_value',
				DETAIL = 'A task can only depend on a task of the same user.';
	END IF;
	IF t.id = d.id THEN
		RAISE EXCEPTION 'task "%" cannot depend on itself', t.title
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO alfred.task_dependencies AS x (user_id, task_id, depends_on_task_id)
	VALUES (t.user_id, t.id, d.id)
	ON CONFLICT DO NOTHING
	RETURNING * INTO dep;
	IF NOT FOUND THEN			-- already there
		SELECT * INTO dep FROM alfred.task_dependencies x
		WHERE x.user_id = t.user_id AND x.task_id = t.id AND x.depends_on_task_id = d.id;
	END IF;
	RETURN dep;
END
$$;
COMMENT ON FUNCTION alfred.add_task_dependency(uuid, uuid) IS
'Make task_id wait for depends_on (complete_task refuses it until depends_on is completed or cancelled) and return the dependency; adding it twice changes nothing. P0002 for an unknown task, 22023 for a task of another user or the task itself; 23514 when the dependency would close a cycle.';

CREATE OR REPLACE FUNCTION alfred.today(user_id uuid)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
	c record;
	briefing jsonb;
BEGIN
	PERFORM alfred._require_argument('user_id', user_id);
	SELECT * INTO c FROM alfred._user_clock(today.user_id);
	IF c.today IS NULL THEN
		RAISE EXCEPTION 'user "%" does not exist', user_id USING ERRCODE = 'invalid_parameter_value';
	END IF;
	briefing := jsonb_build_object(
		'date', c.today,
		'timezone', c.tz,
		'priority_tasks', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM alfred.priority_tasks(user_id) x),
		'overdue_tasks', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM alfred.overdue_tasks(user_id) x),
		'habits', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM alfred.habits_today(user_id) x),
		'habits_at_risk', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM alfred.habits_at_risk(user_id) x),
		'project_health', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM alfred.project_health(user_id) x),
		'stale_projects', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM alfred.stale_projects(user_id) x),
		'weekly_stats', (SELECT to_jsonb(x) FROM alfred.weekly_stats(user_id) x),
		'notifications', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', n.id, 'type', n.type,
				'title', n.title, 'message', n.message, 'priority', n.priority,
				'scheduled_for', n.scheduled_for)), '[]')
			FROM alfred.due_notifications(user_id) n));
	RETURN briefing || jsonb_build_object('summary', format(
		'%s: %s priority task(s), %s overdue; habits %s of %s done, %s streak(s) at risk; %s stale project(s).',
		to_char(c.today, 'FMDay DD Mon YYYY'),
		jsonb_array_length(briefing->'priority_tasks'),
		jsonb_array_length(briefing->'overdue_tasks'),
		(SELECT count(*) FROM jsonb_array_elements(briefing->'habits') h WHERE (h->>'completed_today')::boolean),
		(SELECT count(*) FROM jsonb_array_elements(briefing->'habits') h WHERE (h->>'scheduled_today')::boolean),
		jsonb_array_length(briefing->'habits_at_risk'),
		jsonb_array_length(briefing->'stale_projects')));
END
$$;
COMMENT ON FUNCTION alfred.today(uuid) IS
'The daily briefing of a user as one jsonb: date and timezone, priority_tasks, overdue_tasks, habits (today''s), habits_at_risk, project_health, stale_projects, weekly_stats, due notifications and a one-line summary (the scheduler''s daily_briefing tool sends it). 22023 for an unknown user.';

CREATE OR REPLACE FUNCTION alfred._require_user(user_id uuid)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
	PERFORM alfred._require_argument('user_id', user_id);
	IF NOT EXISTS (SELECT FROM alfred.users u WHERE u.id = _require_user.user_id) THEN
		RAISE EXCEPTION 'user "%" does not exist', user_id USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;
COMMENT ON FUNCTION alfred._require_user(uuid) IS
'Internal: raises 22004 for a NULL user id and 22023 for a user that does not exist (or that the caller cannot see).';

CREATE OR REPLACE FUNCTION alfred.learn_preference(user_id uuid, key text, value text, confidence real DEFAULT 0.5)
RETURNS alfred.learned_preferences
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	learned alfred.learned_preferences;
BEGIN
	PERFORM alfred._require_user(user_id);
	PERFORM alfred._require_argument('key', key);
	PERFORM alfred._require_argument('value', value);
	PERFORM alfred._require_argument('confidence', confidence);
	IF NOT confidence BETWEEN 0 AND 1 THEN
		RAISE EXCEPTION 'confidence % is out of range', confidence
			USING ERRCODE = 'invalid_parameter_value', DETAIL = 'A confidence is between 0 and 1.';
	END IF;
	IF EXISTS (SELECT FROM alfred.user_settings s
			   WHERE s.user_id = learn_preference.user_id AND NOT s.enable_preference_learning) THEN
		SELECT * INTO learned FROM alfred.learned_preferences p
		WHERE p.user_id = learn_preference.user_id AND p.key = learn_preference.key;
		RETURN learned;			-- the user turned learning off: nothing changes
	END IF;
	INSERT INTO alfred.learned_preferences AS p (user_id, key, value, confidence)
	VALUES (learn_preference.user_id, learn_preference.key, learn_preference.value, learn_preference.confidence)
	ON CONFLICT ON CONSTRAINT learned_preferences_key DO UPDATE SET
		confidence = CASE
			WHEN p.value = EXCLUDED.value THEN least(1, 1 - (1 - p.confidence) * (1 - EXCLUDED.confidence))
			WHEN EXCLUDED.confidence > p.confidence THEN EXCLUDED.confidence
			ELSE p.confidence END,
		learned_at = CASE WHEN p.value <> EXCLUDED.value AND EXCLUDED.confidence > p.confidence
			THEN now() ELSE p.learned_at END,
		value = CASE WHEN p.value <> EXCLUDED.value AND EXCLUDED.confidence > p.confidence
			THEN EXCLUDED.value ELSE p.value END
	RETURNING p.* INTO learned;
	RETURN learned;
END
$$;
COMMENT ON FUNCTION alfred.learn_preference(uuid, text, text, real) IS
'Record evidence that the user prefers value for key, with confidence c in [0, 1], and return the preference. Rule: a new key is stored with c; the same value again is independent evidence, so the confidence becomes 1 - (1 - old)(1 - c) (0.5 then 0.5 gives 0.75); a different value replaces the stored one, with confidence c and a new learned_at, only when c is higher than the stored confidence, else nothing changes. Nothing is learned while user_settings.enable_preference_learning is off. 22023 for a confidence out of range or an unknown user, 22004 for NULLs.';

CREATE OR REPLACE FUNCTION alfred._proposal_lock(proposal_id uuid)
RETURNS alfred.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	seen text;
	owner uuid;
	locked record;
BEGIN
	PERFORM alfred._require_argument('proposal_id', proposal_id);
	-- what this statement's snapshot shows, then the row as locked: if a
	-- concurrent transaction changed it in between, the caller decided on a
	-- stale proposal
	SELECT x.xmin::text, x.user_id INTO seen, owner FROM alfred.proposals x WHERE x.id = _proposal_lock.proposal_id;
	SELECT x AS p, x.xmin::text AS xmin INTO locked
	  FROM alfred.proposals x WHERE x.id = _proposal_lock.proposal_id FOR UPDATE;
	IF NOT FOUND AND owner <> ALL (alfred.writable_user_ids())
	   AND EXISTS (SELECT FROM alfred.proposals x WHERE x.id = _proposal_lock.proposal_id) THEN
		-- visible but not writable (an observer), and not deleted meanwhile
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('permission denied to decide proposal "%s"', proposal_id),
			DETAIL = 'The current alfred user may read this proposal but not change it.';
	END IF;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'no_data_found',
			MESSAGE = format('proposal "%s" does not exist', proposal_id);
	END IF;
	IF seen IS DISTINCT FROM locked.xmin THEN
		RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
			MESSAGE = format('proposal "%s" was changed by a concurrent transaction', proposal_id),
			DETAIL = format('It is now %s.', (locked.p).status),
			HINT = 'Read the proposal again before deciding.';
	END IF;
	RETURN locked.p;
END
$$;
COMMENT ON FUNCTION alfred._proposal_lock(uuid) IS
'Internal: locks a proposal for a state change; P0002 when it does not exist (or the caller cannot see it), 42501 when the caller may read but not change it, 40001 when a concurrent transaction changed it after the calling statement''s snapshot';

CREATE OR REPLACE FUNCTION alfred.propose(
	user_id uuid,
	agent_name text,
	action_type text,
	payload jsonb,
	risk_level text DEFAULT 'low',
	explanation text DEFAULT NULL,
	warning_text text DEFAULT NULL,
	expires_at timestamptz DEFAULT NULL,
	related_item_id uuid DEFAULT NULL,
	task_id uuid DEFAULT NULL,
	session_id uuid DEFAULT NULL,
	message_id uuid DEFAULT NULL,
	confidence double precision DEFAULT NULL,
	requested_by text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p alfred.proposals;
	payload_task uuid;
BEGIN
	PERFORM alfred._require_argument('user_id', propose.user_id);
	PERFORM alfred._require_argument('agent_name', propose.agent_name);
	PERFORM alfred._require_argument('action_type', propose.action_type);
	PERFORM alfred._require_argument('risk_level', propose.risk_level);
	IF alfred.is_blank(propose.agent_name) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'agent_name must not be empty';
	END IF;
	IF propose.action_type !~ '^[a-z][a-z0-9_]{0,99}$' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid action_type "%s"', propose.action_type),
			DETAIL = 'An action type is 1 to 100 lower-case letters, digits and underscores, starting with a letter.';
	END IF;
	IF propose.risk_level NOT IN ('low', 'medium', 'high') THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid risk_level "%s"', propose.risk_level),
			DETAIL = 'A risk level is low, medium or high.';
	END IF;
	IF NOT propose.confidence BETWEEN 0 AND 1 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('confidence %s is out of range 0-1', propose.confidence);
	END IF;
	IF propose.expires_at <= now() THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'expires_at must be in the future';
	END IF;
	PERFORM alfred.check_proposal_payload(propose.action_type, propose.payload);
	IF alfred._proposal_is_task_action(propose.action_type) THEN
		payload_task := (propose.payload->>'task_id')::uuid;
	END IF;
	IF propose.task_id IS DISTINCT FROM payload_task AND propose.task_id IS NOT NULL AND payload_task IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('task_id "%s" does not match the payload''s task_id "%s"', propose.task_id, payload_task);
	END IF;
	PERFORM alfred._proposal_check_task(propose.user_id, coalesce(payload_task, propose.task_id),
		CASE WHEN payload_task IS NOT NULL THEN 'payload''s "task_id"' ELSE 'argument task_id' END);

	INSERT INTO alfred.proposals AS x
		(user_id, agent_name, action_type, payload, risk_level, explanation, warning_text, expires_at,
		 related_item_id, task_id, session_id, message_id, confidence, requested_by)
	VALUES (propose.user_id, propose.agent_name, propose.action_type, propose.payload, propose.risk_level,
			propose.explanation, propose.warning_text, propose.expires_at, propose.related_item_id,
			coalesce(propose.task_id, payload_task), propose.session_id, propose.message_id, propose.confidence,
			propose.requested_by)
	RETURNING * INTO p;

	-- the machine's own decisions (no preference signal: no human decided)
	IF p.risk_level = 'high' AND coalesce((SELECT s.auto_reject_high_risk FROM alfred.user_settings s
											WHERE s.user_id = p.user_id), true) THEN
		UPDATE alfred.proposals x SET status = 'rejected', rejection_reason = 'auto_reject_high_risk'
		 WHERE x.id = p.id;
	ELSIF p.action_type = 'query' AND p.risk_level = 'low' THEN
		UPDATE alfred.proposals x SET status = 'approved' WHERE x.id = p.id RETURNING * INTO p;
		PERFORM alfred._proposal_execute(p);
	END IF;
	RETURN p.id;
END
$$;
COMMENT ON FUNCTION alfred.propose(uuid, text, text, jsonb, text, text, text, timestamptz, uuid, uuid, uuid, uuid, double precision, text) IS
'Records an action an agent proposes (pending); checks the payload for the action type (22023 naming the key); a high-risk proposal is rejected at once when the user''s auto_reject_high_risk is on, a low-risk query task action runs at once; returns the proposal id';

CREATE OR REPLACE FUNCTION alfred.finish_execution(
	proposal_id uuid,
	status text,
	result jsonb DEFAULT NULL,
	error text DEFAULT NULL,
	external_ids jsonb DEFAULT NULL,
	request_payload jsonb DEFAULT NULL,
	duration_ms integer DEFAULT NULL)
RETURNS alfred.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p alfred.proposals;
BEGIN
	PERFORM alfred._require_argument('status', finish_execution.status);
	p := alfred._proposal_lock(finish_execution.proposal_id);
	IF finish_execution.status NOT IN ('success', 'partial', 'failure') THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid execution status "%s"', finish_execution.status),
			DETAIL = 'An execution status is success, partial or failure.';
	END IF;
	IF finish_execution.status = 'failure' AND coalesce(alfred.is_blank(finish_execution.error), true) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'error must be given when status is "failure"';
	END IF;
	IF finish_execution.duration_ms < 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('duration_ms %s is negative', finish_execution.duration_ms);
	END IF;
	IF p.status <> 'executing' THEN
		PERFORM alfred._proposal_not_in(p, 'executing',
			CASE WHEN p.status = 'approved' THEN 'Call alfred.start_execution() first.' END);
	END IF;
	UPDATE alfred.proposals x
	   SET status = CASE WHEN finish_execution.status = 'failure' THEN 'failed' ELSE 'executed' END,
		   result = finish_execution.result,
		   error_message = finish_execution.error
	 WHERE x.id = p.id
	RETURNING * INTO p;
	INSERT INTO alfred.execution_logs
		(user_id, proposal_id, executor_status, executor_error, external_ids, request_payload,
		 response_payload, execution_duration_ms)
	VALUES (p.user_id, p.id, finish_execution.status, finish_execution.error, coalesce(finish_execution.external_ids, '{}'),
			coalesce(finish_execution.request_payload, p.edited_payload, p.payload), finish_execution.result,
			coalesce(finish_execution.duration_ms,
					 ceil(extract(epoch FROM coalesce(p.executed_at, p.failed_at) - p.started_at) * 1000)::int));
	RETURN p;
END
$$;
COMMENT ON FUNCTION alfred.finish_execution(uuid, text, jsonb, text, jsonb, jsonb, integer) IS
'An outside executor reports an executing proposal''s outcome (status success, partial or failure; failure needs error): executing -> executed or failed, and an execution_logs row (duration defaults to the time since start_execution)';

CREATE OR REPLACE FUNCTION alfred.check_suggestion_type(suggestion_type text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
	PERFORM alfred._require_argument('suggestion_type', suggestion_type);
	IF alfred.is_blank(suggestion_type) THEN
		RAISE EXCEPTION 'suggestion type must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Name the kind of suggestion, for example "weather_briefing".';
	END IF;
	RETURN suggestion_type;
END
$$;
COMMENT ON FUNCTION alfred.check_suggestion_type(text) IS
'Returns suggestion_type; raises 22004 when it is NULL and 22023 when it is blank';

CREATE OR REPLACE FUNCTION alfred.record_engagement(
	user_id uuid, suggestion_type text, action text, source text, context jsonb DEFAULT '{}')
RETURNS alfred.proactiveness_settings
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	st alfred.calibration_state;
BEGIN
	PERFORM alfred._require_argument('user_id', record_engagement.user_id);
	PERFORM alfred.check_suggestion_type(record_engagement.suggestion_type);
	-- One writer per user at a time, so the settings row reflects every type.
	INSERT INTO alfred.proactiveness_settings (user_id) VALUES (record_engagement.user_id)
	ON CONFLICT DO NOTHING;
	PERFORM FROM alfred.proactiveness_settings p
	  WHERE p.user_id = record_engagement.user_id FOR UPDATE;

	INSERT INTO alfred.calibration_state (user_id, suggestion_type)
	VALUES (record_engagement.user_id, record_engagement.suggestion_type)
	ON CONFLICT DO NOTHING;
	SELECT * INTO st FROM alfred.calibration_state c
	 WHERE c.user_id = record_engagement.user_id
	   AND c.suggestion_type = record_engagement.suggestion_type
	   FOR UPDATE;
	st := alfred.calibration_step(st, record_engagement.action, record_engagement.source, now());

	UPDATE alfred.calibration_state c
	   SET engaged = st.engaged, dismissed = st.dismissed,
		   global_engaged = st.global_engaged, global_dismissed = st.global_dismissed,
		   counted_at = st.counted_at, last_event_at = st.last_event_at,
		   consecutive_engagements = st.consecutive_engagements,
		   consecutive_dismissals = st.consecutive_dismissals,
		   suppressions = st.suppressions, suppressed_until = st.suppressed_until,
		   boosted = st.boosted, updated_at = now()
	 WHERE c.user_id = record_engagement.user_id
	   AND c.suggestion_type = record_engagement.suggestion_type;
	INSERT INTO alfred.engagement_events (user_id, suggestion_type, action, source, context)
	VALUES (record_engagement.user_id, record_engagement.suggestion_type, record_engagement.action,
			record_engagement.source, coalesce(record_engagement.context, '{}'));
	RETURN alfred.refresh_proactiveness(record_engagement.user_id);
END
$$;
COMMENT ON FUNCTION alfred.record_engagement(uuid, text, text, text, jsonb) IS
'Records what the user did with a suggestion (action engaged or dismissed; source conversation, notification or schedule): inserts the engagement_events row, updates the type''s calibration state and returns the refreshed proactiveness_settings. Bad input raises 22023 and records nothing.';

CREATE OR REPLACE FUNCTION alfred.set_proactiveness(user_id uuid, override text)
RETURNS alfred.proactiveness_settings
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
BEGIN
	PERFORM alfred._require_argument('user_id', set_proactiveness.user_id);
	PERFORM alfred.proactiveness_level(0, 0, set_proactiveness.override);	-- 22023 if invalid
	INSERT INTO alfred.proactiveness_settings (user_id, user_override)
	VALUES (set_proactiveness.user_id, set_proactiveness.override)
	ON CONFLICT (user_id) DO UPDATE SET user_override = EXCLUDED.user_override;
	RETURN alfred.refresh_proactiveness(set_proactiveness.user_id);
END
$$;
COMMENT ON FUNCTION alfred.set_proactiveness(uuid, text) IS
'The user''s explicit instruction: ''more'' (global level within [0.6, 1.0]), ''less'' ([0.0, 0.4]) or NULL (back to [0.2, 0.9]); returns the refreshed settings; another value raises 22023';

CREATE OR REPLACE FUNCTION alfred.complete_onboarding(user_id uuid, proactiveness text DEFAULT NULL)
RETURNS alfred.proactiveness_settings
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
BEGIN
	PERFORM alfred._require_argument('user_id', complete_onboarding.user_id);
	PERFORM alfred.proactiveness_level(0, 0, complete_onboarding.proactiveness);
	INSERT INTO alfred.proactiveness_settings (user_id, user_override, is_onboarded)
	VALUES (complete_onboarding.user_id, complete_onboarding.proactiveness, true)
	ON CONFLICT (user_id) DO UPDATE
	   SET is_onboarded = true,
		   user_override = coalesce(EXCLUDED.user_override,
									alfred.proactiveness_settings.user_override);
	RETURN alfred.refresh_proactiveness(complete_onboarding.user_id);
END
$$;
COMMENT ON FUNCTION alfred.complete_onboarding(uuid, text) IS
'Marks the user onboarded (is_onboarded) and records the answer to "how proactive should I be?" as the override (''more'', ''less''; NULL = skipped, keeps the current override); returns the refreshed settings';

CREATE OR REPLACE FUNCTION alfred.observe_pattern(
	user_id uuid, pattern_type text, description text, evidence jsonb,
	suggested_action text DEFAULT NULL)
RETURNS alfred.observed_patterns
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	entries jsonb;
	result alfred.observed_patterns;
BEGIN
	PERFORM alfred._require_argument('user_id', observe_pattern.user_id);
	PERFORM alfred._require_argument('pattern_type', observe_pattern.pattern_type);
	PERFORM alfred._require_argument('description', observe_pattern.description);
	IF alfred.is_blank(observe_pattern.pattern_type)
	   OR alfred.is_blank(observe_pattern.description) THEN
		RAISE EXCEPTION 'pattern type and description must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A pattern is identified by its type and description.';
	END IF;
	entries := CASE jsonb_typeof(observe_pattern.evidence)
				   WHEN 'array' THEN observe_pattern.evidence
				   WHEN 'object' THEN jsonb_build_array(observe_pattern.evidence)
			   END;
	IF observe_pattern.evidence IS NOT NULL AND entries IS NULL THEN
		RAISE EXCEPTION 'evidence must be a JSON object or array, not %', jsonb_typeof(observe_pattern.evidence)
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Evidence is an entry like {"date": ..., "context": ..., "conversation_id": ...} or an array of them.';
	END IF;
	INSERT INTO alfred.observed_patterns AS p
		(user_id, pattern_type, description, evidence, suggested_action, occurrence_count, confidence)
	VALUES (observe_pattern.user_id, observe_pattern.pattern_type, observe_pattern.description,
			alfred.pattern_evidence_tail(coalesce(entries, '[]')), observe_pattern.suggested_action, 1,
			alfred.pattern_confidence(1, now(), now()))
	ON CONFLICT (user_id, pattern_type, md5(description)) DO UPDATE
	   SET occurrence_count = p.occurrence_count + 1,
		   evidence = alfred.pattern_evidence_tail(p.evidence || EXCLUDED.evidence),
		   last_seen_at = now(),
		   suggested_action = coalesce(EXCLUDED.suggested_action, p.suggested_action),
		   confidence = alfred.pattern_confidence(p.occurrence_count + 1, now(), now()),
		   updated_at = now()
	RETURNING p.* INTO result;
	RETURN result;
END
$$;
COMMENT ON FUNCTION alfred.observe_pattern(uuid, text, text, jsonb, text) IS
'Records one observation of a behavioural pattern: the first creates it, each further observation with the same user, type and description adds 1 to occurrence_count, appends the evidence (an object or an array of them; the last 100 entries are kept), refreshes last_seen_at and confidence n / (n + 2) and replaces suggested_action when one is given';

CREATE OR REPLACE FUNCTION alfred.cleanup_expired_sessions(now timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n integer;
BEGIN
	IF NOT (alfred.caller_is_service() OR alfred.current_user_role() IS NOT DISTINCT FROM 'admin') THEN
		RAISE EXCEPTION 'permission denied to clean up the sessions of all users'
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Only admins, superusers and members of role "alfred_service" may call cleanup_expired_sessions().';
	END IF;
	PERFORM alfred._require_argument('now', now);
	DELETE FROM alfred.sessions s WHERE s.expires_at <= cleanup_expired_sessions.now OR s.is_revoked;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION alfred.cleanup_expired_sessions(timestamptz) IS
'Seed 004''s cleanup: deletes every session that has expired (expires_at at or before now) or was revoked, of all users, and returns how many. run_maintenance() calls it. Admins, superusers and alfred_service members only (42501 otherwise).';

CREATE OR REPLACE FUNCTION alfred.run_maintenance(now timestamptz DEFAULT now())
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
	PERFORM alfred._require_argument('now', now);
	PERFORM alfred.check_time('now', now);	-- 'infinity' would remove every row past retention

	-- Seed 001: a chat session ends after 24 hours without a message, whether
	-- or not the user writes again (chat_sessions_active_idx finds them).
	UPDATE alfred.chat_sessions s SET is_active = false
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
				 $f$(SELECT s.last_activity_at FROM alfred.chat_sessions s
					  WHERE s.user_id = chat_messages.user_id AND s.id = chat_messages.session_id AND NOT s.is_active)$f$),
				('notifications', 'notifications', $f$status IN ('sent', 'read', 'dismissed', 'archived')$f$,
				 'coalesce(sent_at, read_at, dismissed_at, updated_at)'),
				('task_runs', 'task_runs', $f$status IN ('succeeded', 'failed', 'cancelled')$f$, 'coalesce(finished_at, updated_at)'),
				('engagement_events', 'engagement_events', 'true', 'created_at'),
				('audit_trail', 'audit_trail', 'true', 'created_at')) AS v (relation, tbl, filter, age)
		  JOIN alfred.retention rt USING (relation)
		 WHERE rt.keep IS NOT NULL
		 ORDER BY v.relation
	LOOP
		EXECUTE format('DELETE FROM alfred.%I WHERE (%s) AND (%s) < $1', r.tbl, r.filter, r.age)
			USING r.cutoff, now;
		GET DIAGNOSTICS n = ROW_COUNT;
		removed := removed || jsonb_build_object(r.relation, n);
	END LOOP;
	removed := removed || jsonb_build_object('sessions', alfred.cleanup_expired_sessions(now));

	result := jsonb_build_object(
		'removed', removed,
		'chat_sessions_closed', closed,
		'proposals_expired', alfred.expire_proposals(),
		-- suppressions and boosts that ran out since the user's last event (600_calibration)
		'proactiveness_refreshed', alfred.refresh_all_proactiveness(),
		'log_partitions_created', alfred.create_log_partitions(3),
		'log_partitions_dropped',
			to_jsonb(alfred.drop_log_partitions(alfred.retention_cutoff('system_logs', now))),
		-- integrations and attachments (800_integrations, 800_attachments)
		'mcp_servers_silent', alfred.check_integrations(now => now),
		'attachments_expired',
			(SELECT coalesce(jsonb_agg(jsonb_build_object('user_id', e.user_id, 'storage_path', e.storage_path)
			                           ORDER BY e.storage_path), '[]')
			   FROM alfred.expire_attachments(now) e));
	RETURN result;
END
$$;
COMMENT ON FUNCTION alfred.run_maintenance(timestamptz) IS
'Closes chat sessions idle for 24 hours (seed 001), applies the retention table (removes old proposals, stale task actions, logs, signals, chat messages and the messages of ended sessions, sent notifications, finished runs, engagement events), removes expired and revoked sessions (cleanup_expired_sessions), expires proposals, creates system_logs partitions ahead and drops old ones, marks MCP servers silent for 5 minutes as error and removes expired attachment rows (their storage paths are in the result, for the caller to delete the files); returns what it did as jsonb. Run it daily: schedule_maintenance() registers it with pg_cron or alfred''s scheduler.';

CREATE OR REPLACE FUNCTION alfred.assign_task(task_id uuid, assignee_id uuid)
RETURNS alfred.tasks
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	caller uuid := alfred.current_user_id();
	caller_role text := alfred.current_user_role();
	t alfred.tasks;
	old_assignee uuid;
BEGIN
	PERFORM alfred._require_argument('task_id', task_id);
	SELECT * INTO t FROM alfred.tasks WHERE id = assign_task.task_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'task "%" not found', assign_task.task_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT coalesce(caller_role = 'admin' OR
	                (caller = t.user_id AND caller_role = 'user') OR
	                (caller IS NULL AND alfred.caller_is_service()), false) THEN
		RAISE EXCEPTION 'permission denied to assign task "%"', assign_task.task_id
			USING ERRCODE = '42501',
			      DETAIL = 'Only the owner of a task and admins may assign it; observers only read.';
	END IF;
	IF assignee_id IS NOT NULL AND NOT EXISTS (
		SELECT FROM alfred.users u WHERE u.id = assignee_id AND u.status = 'active') THEN
		RAISE EXCEPTION 'user "%" cannot be assigned tasks', assignee_id
			USING ERRCODE = '22023', DETAIL = 'The assignee must be an existing, active user.';
	END IF;
	old_assignee := t.assigned_to;
	UPDATE alfred.tasks SET assigned_to = assignee_id
	WHERE user_id = t.user_id AND id = t.id
	RETURNING * INTO t;
	-- seed 004 logs every assignment; the generic audit triggers (#8) log the UPDATE too.
	-- user_id is the acting alfred user (NULL for a service acting without one).
	INSERT INTO alfred.audit_trail (user_id, action, entity_type, entity_id, old_values, new_values)
	VALUES (caller, 'task_assigned', 'task', t.id,
	        jsonb_build_object('assigned_to', old_assignee),
	        jsonb_build_object('assigned_to', assignee_id, 'owner', t.user_id));
	RETURN t;
END
$$;
COMMENT ON FUNCTION alfred.assign_task(uuid, uuid) IS
'Assign a task to a user (NULL unassigns); allowed to the task''s owner, admins and trusted services (42501 for observers and others; P0002 for an unknown task; 22023 for an unknown or inactive assignee). The assignee then sees and can update it; every assignment is written to audit_trail as "task_assigned".';

CREATE OR REPLACE FUNCTION alfred.attach_file(
	user_id uuid,
	storage_path text,
	filename text,
	checksum text,
	file_size bigint,
	mime_type text,
	task_id uuid DEFAULT NULL,
	original_filename text DEFAULT NULL,
	expires_at timestamptz DEFAULT NULL,
	is_encrypted boolean DEFAULT false)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	new_id uuid;
BEGIN
	PERFORM alfred._require_argument('user_id', user_id);
	PERFORM alfred._require_argument('storage_path', storage_path);
	PERFORM alfred._require_argument('filename', filename);
	PERFORM alfred._require_argument('checksum', checksum);
	PERFORM alfred._require_argument('file_size', file_size);
	PERFORM alfred._require_argument('mime_type', mime_type);
	IF NOT alfred.may_act_for(user_id) THEN
		RAISE EXCEPTION 'permission denied to attach files for user "%"', user_id
			USING ERRCODE = '42501', DETAIL = 'Users attach files for themselves; observers only read.';
	END IF;
	IF checksum !~ '^[0-9A-Fa-f]{64}$' THEN
		RAISE EXCEPTION 'invalid checksum "%"', checksum USING ERRCODE = '22023',
			DETAIL = 'The checksum must be a SHA-256 digest written as 64 hexadecimal digits.';
	END IF;
	IF file_size < 0 THEN
		RAISE EXCEPTION 'invalid file size %', file_size USING ERRCODE = '22023',
			DETAIL = 'A file size is a number of bytes, zero or more.';
	END IF;
	IF mime_type !~ '^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$' THEN
		RAISE EXCEPTION 'invalid mime type "%"', mime_type USING ERRCODE = '22023',
			DETAIL = 'A mime type is written type/subtype, such as "application/pdf".';
	END IF;
	IF alfred.is_blank(storage_path) OR alfred.is_blank(filename) THEN
		RAISE EXCEPTION 'storage path and file name must not be empty' USING ERRCODE = '22023';
	END IF;
	IF expires_at <= now() THEN
		RAISE EXCEPTION 'expiry "%" is not in the future', expires_at USING ERRCODE = '22023';
	END IF;
	IF task_id IS NOT NULL AND NOT EXISTS (
		SELECT FROM alfred.tasks t WHERE t.user_id = attach_file.user_id AND t.id = task_id) THEN
		RAISE EXCEPTION 'task "%" not found', task_id USING ERRCODE = 'P0002',
			DETAIL = 'A file is attached to a task of the same user.';
	END IF;
	INSERT INTO alfred.file_attachments AS f
		(user_id, filename, original_filename, mime_type, file_size, storage_path, task_id,
		 expires_at, is_encrypted, hash_checksum)
	VALUES (user_id, filename, coalesce(original_filename, filename), lower(mime_type), file_size,
	        storage_path, task_id, expires_at, coalesce(is_encrypted, false), lower(checksum))
	RETURNING f.id INTO new_id;
	RETURN new_id;
END
$$;
COMMENT ON FUNCTION alfred.attach_file(uuid, text, text, text, bigint, text, uuid, text, timestamptz, boolean) IS
'Record a stored file of a user (optionally on one of their tasks) with its SHA-256 checksum (64 hex digits, stored lower case), size in bytes and mime type; returns its id. 22023 for a bad checksum, size, mime type or expiry, P0002 for an unknown task, 42501 when the caller may not act for the user.';

CREATE OR REPLACE FUNCTION alfred.set_context_summary(session_id uuid, summary text)
RETURNS alfred.chat_sessions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s alfred.chat_sessions;
BEGIN
	PERFORM alfred._require_argument('session_id', session_id);
	PERFORM alfred._require_argument('summary', summary);
	IF alfred.is_blank(summary) THEN
		RAISE EXCEPTION 'a context summary must not be empty' USING ERRCODE = '22023';
	END IF;
	SELECT * INTO s FROM alfred.chat_sessions c WHERE c.id = session_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'chat session "%" not found', session_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT alfred.may_act_for(s.user_id) THEN
		RAISE EXCEPTION 'permission denied to summarize chat session "%"', session_id
			USING ERRCODE = '42501', DETAIL = 'Only the session''s owner, admins and trusted services summarize it.';
	END IF;
	UPDATE alfred.chat_sessions c
	SET context_summary = summary, summarized_message_count = c.message_count
	WHERE c.user_id = s.user_id AND c.id = s.id
	RETURNING * INTO s;
	RETURN s;
END
$$;
COMMENT ON FUNCTION alfred.set_context_summary(uuid, text) IS
'Store the compressed context of a chat session and clear its needs_summary flag (set again once 50 more messages arrive). 22023 empty summary, P0002 unknown session, 42501 not allowed.';

CREATE OR REPLACE FUNCTION alfred.set_conversation_summary(user_id uuid, summary text)
RETURNS alfred.ai_contexts
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c alfred.ai_contexts;
BEGIN
	PERFORM alfred._require_argument('user_id', user_id);
	PERFORM alfred._require_argument('summary', summary);
	IF alfred.is_blank(summary) THEN
		RAISE EXCEPTION 'a conversation summary must not be empty' USING ERRCODE = '22023';
	END IF;
	IF NOT EXISTS (SELECT FROM alfred.users u WHERE u.id = set_conversation_summary.user_id) THEN
		RAISE EXCEPTION 'user "%" not found', user_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT alfred.may_act_for(user_id) THEN
		RAISE EXCEPTION 'permission denied to summarize the conversations of user "%"', user_id
			USING ERRCODE = '42501';
	END IF;
	INSERT INTO alfred.ai_contexts AS x (user_id, conversation_summary)
	VALUES (user_id, summary)
	ON CONFLICT ON CONSTRAINT ai_contexts_pkey DO UPDATE
		SET conversation_summary = EXCLUDED.conversation_summary,
		    summarized_threshold = x.summary_threshold
	RETURNING * INTO c;
	RETURN c;
END
$$;
COMMENT ON FUNCTION alfred.set_conversation_summary(uuid, text) IS
'Store the user''s lifetime conversation summary (ai_contexts) and mark the last crossed threshold (100, 500, 1000 messages) as summarized, so summaries_due no longer lists the user. 22023 empty summary, P0002 unknown user, 42501 not allowed.';

CREATE OR REPLACE FUNCTION alfred.check_integrations(silent_after interval DEFAULT NULL,
                                               now timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n integer;
BEGIN
	-- it marks every MCP server: global state, for admins and trusted services
	IF NOT (alfred.caller_is_service() OR alfred.current_user_role() = 'admin') THEN
		RAISE EXCEPTION 'permission denied to check integrations'
			USING ERRCODE = '42501',
			      DETAIL = 'check_integrations marks every MCP server; only admins, superusers and members of alfred_service run it.';
	END IF;
	PERFORM alfred._require_argument('now', check_integrations.now);
	-- the setting exists once the library is loaded (always, when preloaded)
	silent_after := coalesce(silent_after,
	                         current_setting('alfred.mcp_silence_timeout', true)::interval,
	                         interval '5 minutes');
	IF silent_after <= interval '0' THEN
		RAISE EXCEPTION 'invalid silence limit "%"', silent_after USING ERRCODE = '22023',
			DETAIL = 'A server is marked as failed after a positive interval without heartbeat.';
	END IF;
	UPDATE alfred.mcp_servers
	SET status = 'error'
	WHERE is_active AND status = 'active'
	  AND (last_heartbeat IS NULL OR last_heartbeat < check_integrations.now - silent_after);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION alfred.check_integrations(interval, timestamptz) IS
'Maintenance: marks active MCP servers with no heartbeat for longer than silent_after (default: the setting alfred.mcp_silence_timeout, 5 minutes) before now as error; returns how many. Called by run_maintenance. Admins, superusers and alfred_service members only (42501).';

CREATE OR REPLACE FUNCTION alfred.watcher_report(watcher_id uuid, ok boolean, error text DEFAULT NULL)
RETURNS alfred.watchers
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w alfred.watchers;
BEGIN
	PERFORM alfred._require_argument('watcher_id', watcher_id);
	PERFORM alfred._require_argument('ok', ok);
	IF NOT ok AND coalesce(alfred.is_blank(error), true) THEN
		RAISE EXCEPTION 'a failed watcher run needs an error message' USING ERRCODE = '22023',
			DETAIL = 'Pass the error text as "error" when "ok" is false.';
	END IF;
	SELECT * INTO w FROM alfred.watchers x WHERE x.id = watcher_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'watcher "%" not found', watcher_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT alfred.may_act_for(w.user_id) THEN
		RAISE EXCEPTION 'permission denied to report on watcher "%"', watcher_id
			USING ERRCODE = '42501',
			      DETAIL = 'Only the watcher''s owner, admins and trusted services report its runs.';
	END IF;
	IF NOT w.is_active THEN
		RAISE EXCEPTION 'watcher "%" is disabled', watcher_id USING ERRCODE = '55000';
	END IF;
	UPDATE alfred.watchers x
	SET last_run_at = now(),
	    error_count = CASE WHEN ok THEN 0 ELSE x.error_count + 1 END,
	    last_error = CASE WHEN ok THEN x.last_error ELSE error END
	WHERE x.user_id = w.user_id AND x.id = w.id
	RETURNING * INTO w;
	RETURN w;
END
$$;
COMMENT ON FUNCTION alfred.watcher_report(uuid, boolean, text) IS
'A watcher reports a run: last_run_at becomes now; a failure (ok false, error required: 22023) counts in error_count and sets last_error; a success resets error_count to 0 and keeps last_error as history. P0002 unknown watcher, 42501 not the owner, 55000 disabled.';

CREATE OR REPLACE FUNCTION alfred.find_free_slots(
	user_id uuid,
	"from" timestamptz,
	"to" timestamptz,
	duration interval DEFAULT NULL,
	buffer_before interval DEFAULT NULL,
	buffer_after interval DEFAULT NULL,
	avoid_lunch boolean DEFAULT NULL)
RETURNS SETOF tstzrange
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tz text;
	st alfred.user_settings;
	mp jsonb;
	min_d interval;
	max_d interval;
	bb interval;
	ba interval;
	lunch boolean;
	busy tstzrange[];
	bad text;
BEGIN
	PERFORM alfred._require_argument('user_id', user_id);
	PERFORM alfred._require_argument('from', "from");
	PERFORM alfred._require_argument('to', "to");
	SELECT u.timezone INTO tz FROM alfred.users u WHERE u.id = find_free_slots.user_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'user "%" not found', user_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT alfred.may_act_for(user_id, false) THEN
		RAISE EXCEPTION 'permission denied to read the calendar of user "%"', user_id
			USING ERRCODE = '42501';
	END IF;
	SELECT * INTO st FROM alfred.user_settings s WHERE s.user_id = find_free_slots.user_id;
	mp := coalesce(st.meeting_preferences, '{}');
	SELECT e.key INTO bad FROM jsonb_each(mp) e
	WHERE CASE
		WHEN e.key IN ('min_duration_minutes', 'max_duration_minutes', 'buffer_before_minutes',
		               'buffer_after_minutes') THEN
			CASE WHEN jsonb_typeof(e.value) = 'number'
			     THEN e.value::numeric % 1 <> 0 OR e.value::numeric NOT BETWEEN 0 AND 10080
			     ELSE true END
		WHEN e.key = 'avoid_lunch_hours' THEN jsonb_typeof(e.value) <> 'boolean'
		WHEN e.key IN ('lunch_start', 'lunch_end') THEN
			jsonb_typeof(e.value) <> 'string' OR e.value #>> '{}' !~ '^([01]?[0-9]|2[0-3]):[0-5][0-9]$'
		ELSE false END
	ORDER BY e.key LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'invalid meeting preference "%": %', bad, mp->bad USING ERRCODE = '22023',
			DETAIL = 'Durations and buffers are whole minutes (0 to 10080), avoid_lunch_hours a boolean, lunch_start and lunch_end "HH:MM".';
	END IF;
	min_d := coalesce((mp->>'min_duration_minutes')::int, 15) * interval '1 minute';
	max_d := coalesce((mp->>'max_duration_minutes')::int, 480) * interval '1 minute';
	duration := coalesce(duration, min_d);
	IF duration < min_d OR duration > max_d THEN
		RAISE EXCEPTION 'duration "%" is outside the meeting preferences', duration
			USING ERRCODE = '22023',
			      DETAIL = format('The user''s meetings last from %s to %s.', min_d, max_d);
	END IF;
	bb := coalesce(buffer_before, (mp->>'buffer_before_minutes')::int * interval '1 minute', '0');
	ba := coalesce(buffer_after, (mp->>'buffer_after_minutes')::int * interval '1 minute', '0');
	lunch := coalesce(avoid_lunch, (mp->>'avoid_lunch_hours')::boolean, false);
	SELECT array_agg(tstzrange(i.start_datetime,
	                           coalesce(i.end_datetime, i.start_datetime + interval '1 hour')))
	INTO busy
	FROM alfred.items i
	WHERE i.user_id = find_free_slots.user_id AND i.source_type = 'event' AND NOT i.is_archived
	  AND i.start_datetime < "to" + ba
	  AND coalesce(i.end_datetime, i.start_datetime + interval '1 hour') > "from" - bb
	  AND coalesce(i.end_datetime, i.start_datetime + interval '1 hour') > i.start_datetime;
	RETURN QUERY SELECT * FROM alfred.plan_free_slots(
		busy, "from", "to", duration, tz, st.preferred_work_blocks,
		st.quiet_hours_start, st.quiet_hours_end,
		CASE WHEN lunch THEN coalesce((mp->>'lunch_start')::time, '12:00') END,
		CASE WHEN lunch THEN coalesce((mp->>'lunch_end')::time, '13:00') END,
		bb, ba);
END
$$;
COMMENT ON FUNCTION alfred.find_free_slots(uuid, timestamptz, timestamptz, interval, interval, interval, boolean) IS
'Free time of a user between "from" and "to": slots at least duration long inside their preferred work blocks (in users.timezone; none set = whole days), outside quiet hours and their calendar events (items with source_type event; one without an end lasts an hour) widened by buffers, and outside lunch (12:00-13:00 or meeting_preferences lunch_start/lunch_end) when avoid_lunch. NULL arguments come from meeting_preferences (duration = min_duration_minutes, default 15 minutes); a duration outside min/max_duration_minutes is 22023. P0002 unknown user, 42501 not allowed.';

CREATE OR REPLACE FUNCTION alfred.consume_ai_quota(user_id uuid, cost integer DEFAULT 1)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tz text;
	daily_limit integer;
	enabled boolean;
	today date;
BEGIN
	PERFORM alfred._require_argument('user_id', user_id);
	PERFORM alfred._require_argument('cost', cost);
	IF cost <= 0 THEN
		RAISE EXCEPTION 'invalid cost %', cost USING ERRCODE = '22023',
			DETAIL = 'A request costs one unit or more.';
	END IF;
	SELECT u.timezone, coalesce(s.ai_daily_limit, alfred.ai_daily_limit()),
	       coalesce(s.ai_features_enabled, true)
	INTO tz, daily_limit, enabled
	FROM alfred.users u
	LEFT JOIN alfred.user_settings s ON s.user_id = u.id
	WHERE u.id = consume_ai_quota.user_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'user "%" not found', user_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT alfred.may_act_for(user_id) THEN
		RAISE EXCEPTION 'permission denied to spend the AI quota of user "%"', user_id
			USING ERRCODE = '42501', DETAIL = 'Users spend their own quota; observers only read.';
	END IF;
	IF NOT enabled OR cost > daily_limit THEN
		RETURN false;
	END IF;
	today := (now() AT TIME ZONE tz)::date;
	-- one statement: the row lock of the upsert serializes concurrent callers,
	-- and the WHERE is re-checked against the latest count, so no double spend
	INSERT INTO alfred.ai_usage AS a (user_id, day, used)
	VALUES (consume_ai_quota.user_id, today, cost)
	ON CONFLICT ON CONSTRAINT ai_usage_pkey DO UPDATE
		SET used = a.used + EXCLUDED.used
		WHERE a.used + EXCLUDED.used <= daily_limit;
	RETURN FOUND;
END
$$;
COMMENT ON FUNCTION alfred.consume_ai_quota(uuid, integer) IS
'Spend cost units of the user''s AI quota for their current day (users.timezone): true and counted when it fits the daily limit (user_settings.ai_daily_limit, else alfred.ai_daily_limit), false and nothing spent when it does not or AI features are off. Concurrent calls never overspend. 22023 cost not positive, P0002 unknown user, 42501 not allowed to act for the user.';

CREATE OR REPLACE FUNCTION alfred.run_for_report(run_id uuid, lease_token uuid, report text)
RETURNS alfred.task_runs
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	run alfred.task_runs;
	superuser boolean := current_setting('is_superuser') = 'on';
BEGIN
	PERFORM alfred._require_argument('run_id', run_for_report.run_id);
	SELECT * INTO run FROM alfred.task_runs r WHERE r.id = run_for_report.run_id FOR UPDATE;
	IF NOT FOUND OR NOT (superuser OR alfred.may_act_for(run.user_id, true)) THEN
		RAISE EXCEPTION 'no task run with id "%"', run_for_report.run_id
			USING ERRCODE = 'no_data_found';
	END IF;
	IF run_for_report.lease_token IS NULL THEN
		IF NOT superuser THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
					  MESSAGE = CASE run_for_report.report
						  WHEN 'complete' THEN format('cannot complete run "%s" without its lease_token', run.id)
						  WHEN 'fail' THEN format('cannot fail run "%s" without its lease_token', run.id)
						  ELSE format('cannot extend the lease of run "%s" without its lease_token', run.id)
					  END,
					  DETAIL = 'Only a superuser may report a run without the lease_token claim_runs returned.',
					  HINT = 'Pass the lease_token of the claim that started this attempt.';
		ELSIF run.status NOT IN ('running', 'queued', 'retrying') THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
					  MESSAGE = CASE run_for_report.report
						  WHEN 'complete' THEN format('cannot complete a %s run', run.status)
						  WHEN 'fail' THEN format('cannot fail a %s run', run.status)
						  ELSE format('cannot extend the lease of a %s run', run.status)
					  END,
					  DETAIL = format('Run "%s" already ended as %s.', run.id, run.status);
		END IF;
	ELSIF run.status <> 'running'
		  OR run.lease_token_hash IS DISTINCT FROM sha256(uuid_send(run_for_report.lease_token)) THEN
		RAISE EXCEPTION 'lease_token "%" does not hold run "%"', run_for_report.lease_token, run.id
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = CASE
					  WHEN run.status IN ('succeeded', 'failed', 'cancelled')
					  THEN format('The run already ended as %s.', run.status)
					  WHEN run.status <> 'running' THEN format('The run is %s: no one holds it.', run.status)
					  ELSE format('The run was claimed again, by %s until %s.', run.claimed_by, run.lease_until)
				  END;
	END IF;
	RETURN run;
END
$$;
COMMENT ON FUNCTION alfred.run_for_report(uuid, uuid, text) IS
'Internal: locks and returns a run whose lease the caller holds (report: complete, fail or extend the lease of): the run is running and lease_token is the one its current claim returned (55000 otherwise: a stale worker after re-claim, a run never claimed or already finished). A NULL lease_token is accepted from a superuser only (manual repair), for a run not yet finished. P0002 when the caller may not change the run''s user.';

CREATE OR REPLACE FUNCTION alfred._view_not_writable(view_name text, written text[], writable text[], op text, allowed text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
	col text := (SELECT c FROM unnest(written) c WHERE c <> ALL (array_remove(writable, NULL)) ORDER BY c LIMIT 1);
BEGIN
	IF col IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
			MESSAGE = CASE op
				WHEN 'insert into' THEN format('cannot insert into column "%s" of view "%s"', col, view_name)
				ELSE format('cannot update column "%s" of view "%s"', col, view_name)
			END,
			DETAIL = format('Through this view a client writes only %s; alfred''s state machine sets the rest.', allowed);
	END IF;
END
$$;
COMMENT ON FUNCTION alfred._view_not_writable(text, text[], text[], text, text) IS
'Internal: raises 0A000 naming the first written column that is not writable through a seed view (op is ''insert into'' or ''update'')';

CREATE OR REPLACE FUNCTION alfred._view_bad_value(col text, value text, allowed text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
		MESSAGE = CASE col
			WHEN 'confirmation_status' THEN format('invalid confirmation_status "%s"', value)
			WHEN 'executed_status' THEN format('invalid executed_status "%s"', value)
			WHEN 'task action' THEN format('invalid task action "%s"', value)
			WHEN 'approval status' THEN format('invalid approval status "%s"', value)
			ELSE format('invalid value "%s" for column "%s"', value, col)
		END,
		DETAIL = format('It is one of %s.', allowed);
END
$$;
COMMENT ON FUNCTION alfred._view_bad_value(text, text, text) IS
'Internal: raises 22023 for a value a seed view''s column does not take';

CREATE OR REPLACE FUNCTION alfred._view_check_decider(col text, given uuid, proposal_user uuid)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
	IF given IS DISTINCT FROM coalesce(alfred.current_user_id(), proposal_user) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = CASE col
				WHEN 'approved_by' THEN format('approved_by "%s" is not the acting user', given)
				ELSE format('rejected_by "%s" is not the acting user', given)
			END,
			DETAIL = 'alfred records who decided: the current alfred user (set_session or act_as), or the proposal''s own user when a service decides without one.';
	END IF;
END
$$;
COMMENT ON FUNCTION alfred._view_check_decider(text, uuid, uuid) IS
'Internal: raises 42501 unless given is the user approve/reject record as the decider';

CREATE OR REPLACE FUNCTION alfred.connect_account(user_id uuid, provider text, access_token text,
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
	PERFORM alfred._require_argument('user_id', connect_account.user_id);
	IF NOT (connect_account.user_id = alfred.current_user_id()
			OR alfred.current_user_role() = 'admin'
			OR alfred.caller_is_service()) THEN
		RAISE EXCEPTION 'permission denied to connect an account for user "%"', connect_account.user_id
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	PERFORM alfred._require_argument('provider', connect_account.provider);
	PERFORM alfred._require_argument('access_token', connect_account.access_token);
	IF alfred.is_blank(access_token) THEN
		RAISE EXCEPTION 'access_token must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	k := alfred.token_key(key);
	INSERT INTO alfred.connected_accounts AS a
		   (user_id, id, provider, provider_account_id, provider_email, access_token, refresh_token,
			token_expires_at, scopes, status)
	VALUES (connect_account.user_id, new_id, connect_account.provider, connect_account.provider_account_id,
			connect_account.provider_email,
			alfred.seal_account_token(connect_account.user_id, new_id, access_token, k),
			alfred.seal_account_token(connect_account.user_id, new_id, refresh_token, k),
			connect_account.token_expires_at, coalesce(connect_account.scopes, '{}'), 'active')
	ON CONFLICT ON CONSTRAINT connected_accounts_account_key DO UPDATE
		SET token_expires_at = EXCLUDED.token_expires_at, scopes = EXCLUDED.scopes,
			provider_email = coalesce(EXCLUDED.provider_email, a.provider_email), status = 'active'
	RETURNING a.id INTO acct_id;
	IF acct_id <> new_id THEN
		-- an existing connection: its tokens are sealed to its own id
		UPDATE alfred.connected_accounts a
		   SET access_token = alfred.seal_account_token(a.user_id, a.id, connect_account.access_token, k),
			   refresh_token = alfred.seal_account_token(a.user_id, a.id, connect_account.refresh_token, k)
		 WHERE a.user_id = connect_account.user_id AND a.id = acct_id;
	END IF;
	RETURN acct_id;
END
$$;
COMMENT ON FUNCTION alfred.connect_account(uuid, text, text, text, timestamptz, text, text, text[], text) IS
'Stores (or refreshes) a user''s OAuth connection with its tokens encrypted by pgcrypto under the key (argument or alfred.token_key); returns the account id. Allowed to the user, admins and service roles.';

CREATE OR REPLACE FUNCTION alfred.set_account_tokens(account_id uuid, access_token text,
	refresh_token text DEFAULT NULL, token_expires_at timestamptz DEFAULT NULL, key text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	acct	alfred.connected_accounts;
	k		text;
BEGIN
	PERFORM alfred._require_argument('account_id', account_id);
	PERFORM alfred._require_argument('access_token', access_token);
	acct := alfred.account_for_tokens(account_id);
	k := alfred.token_key(key);
	IF alfred.is_blank(access_token) THEN
		RAISE EXCEPTION 'access_token must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE alfred.connected_accounts a
	   SET access_token = alfred.seal_account_token(a.user_id, a.id, set_account_tokens.access_token, k),
		   refresh_token = CASE WHEN set_account_tokens.refresh_token IS NULL THEN a.refresh_token
								ELSE alfred.seal_account_token(a.user_id, a.id, set_account_tokens.refresh_token, k) END,
		   token_expires_at = set_account_tokens.token_expires_at,
		   status = 'active'
	 WHERE a.user_id = acct.user_id AND a.id = acct.id;
END
$$;
COMMENT ON FUNCTION alfred.set_account_tokens(uuid, text, text, timestamptz, text) IS
'Replaces a connected account''s tokens after a refresh (a NULL refresh_token keeps the old one), encrypted under the key (argument or alfred.token_key).';

CREATE OR REPLACE FUNCTION alfred.index_log_partition(part regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	base text := (SELECT c.relname FROM pg_class c WHERE c.oid = part);
BEGIN
	PERFORM alfred._require_argument('part', index_log_partition.part);
	EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (id, logged_at)', part, base || '_pkey');
	EXECUTE format('CREATE INDEX %I ON %s (logged_at DESC)', base || '_logged_idx', part);
	EXECUTE format('CREATE INDEX %I ON %s (level, logged_at DESC)', base || '_level_idx', part);
	EXECUTE format('CREATE INDEX %I ON %s (module, level)', base || '_module_idx', part);
	EXECUTE format('CREATE INDEX %I ON %s (user_id, logged_at DESC)', base || '_user_idx', part);
	EXECUTE format('CREATE INDEX %I ON %s USING gin (to_tsvector(''english''::regconfig, coalesce(message, '''')))',
				   base || '_fulltext_idx', part);
END
$$;
COMMENT ON FUNCTION alfred.index_log_partition(regclass) IS
'Internal (create_log_partitions): the primary key (id, logged_at) and the indexes of one system_logs partition.';

CREATE OR REPLACE FUNCTION alfred.task_for_update(task_id uuid)
RETURNS alfred.scheduled_tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	task alfred.scheduled_tasks;
BEGIN
	PERFORM alfred._require_argument('task_id', task_for_update.task_id);
	SELECT * INTO task FROM alfred.scheduled_tasks t WHERE t.id = task_for_update.task_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no scheduled task with id "%"', task_for_update.task_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN task;
END
$$;
COMMENT ON FUNCTION alfred.task_for_update(uuid) IS
'Internal: locks and returns a scheduled task (P0002 when there is none the caller may see).';

CREATE OR REPLACE FUNCTION alfred.run_for_update(run_id uuid)
RETURNS alfred.task_runs
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	run alfred.task_runs;
BEGIN
	PERFORM alfred._require_argument('run_id', run_for_update.run_id);
	SELECT * INTO run FROM alfred.task_runs r WHERE r.id = run_for_update.run_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no task run with id "%"', run_for_update.run_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN run;
END
$$;
COMMENT ON FUNCTION alfred.run_for_update(uuid) IS
'Internal: locks and returns a task run (P0002 when there is none the caller may see).';

CREATE OR REPLACE FUNCTION alfred.close_chat_session(session_id uuid)
RETURNS alfred.chat_sessions
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	s alfred.chat_sessions;
BEGIN
	PERFORM alfred._require_argument('session_id', close_chat_session.session_id);
	UPDATE alfred.chat_sessions cs SET is_active = false
	WHERE cs.id = close_chat_session.session_id
	RETURNING * INTO s;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'chat session "%" does not exist', session_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN s;
END
$$;
COMMENT ON FUNCTION alfred.close_chat_session(uuid) IS
'End a chat session explicitly (seed 001: "explicit user close"); the next add_message without a session starts a new one. P0002 for an unknown session.';

CREATE OR REPLACE FUNCTION alfred.accept_pattern(
	pattern_id uuid, tool_name text DEFAULT 'assistant', cron text DEFAULT NULL,
	at timestamptz DEFAULT NULL, tool_args jsonb DEFAULT '{}', name text DEFAULT NULL,
	prompt_template text DEFAULT NULL, timezone text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	pattern alfred.observed_patterns;
	task_id uuid;
BEGIN
	PERFORM alfred._require_argument('pattern_id', accept_pattern.pattern_id);
	SELECT * INTO pattern FROM alfred.observed_patterns p
	 WHERE p.id = accept_pattern.pattern_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no observed pattern with id "%"', accept_pattern.pattern_id
			USING ERRCODE = 'no_data_found';
	END IF;
	IF pattern.acted_on THEN
		RAISE EXCEPTION 'pattern "%" was already acted on', accept_pattern.pattern_id
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'A pattern creates at most one scheduled task.';
	END IF;
	task_id := alfred.schedule_task(
		user_id => pattern.user_id,
		name => left(coalesce(accept_pattern.name, pattern.suggested_action, pattern.description), 200),
		tool_name => accept_pattern.tool_name,
		tool_args => coalesce(accept_pattern.tool_args, '{}'),
		cron => accept_pattern.cron,
		-- neither cron nor at: run once, as soon as the scheduler can
		at => CASE WHEN accept_pattern.cron IS NULL AND accept_pattern.at IS NULL
				   THEN now() + interval '1 second' ELSE accept_pattern.at END,
		timezone => accept_pattern.timezone,
		prompt_template => coalesce(accept_pattern.prompt_template, pattern.suggested_action, pattern.description),
		description => pattern.description,
		source => 'agent');
	UPDATE alfred.scheduled_tasks t SET pattern_id = pattern.id
	 WHERE t.user_id = pattern.user_id AND t.id = task_id;
	UPDATE alfred.observed_patterns p SET acted_on = true
	 WHERE p.user_id = pattern.user_id AND p.id = pattern.id;
	RETURN task_id;
END
$$;
COMMENT ON FUNCTION alfred.accept_pattern(uuid, text, text, timestamptz, jsonb, text, text, text) IS
'The user accepted what a pattern suggests: schedules an agent-sourced task (schedule_task, source ''agent'', pattern_id set) and marks the pattern acted on; returns the task id. Defaults: the external tool ''assistant'' (register it for your agent), name and prompt from suggested_action (else the description), and with neither cron nor at one run right away. P0002 for an unknown pattern, 55000 if it was already acted on; schedule_task''s own checks apply (22023).';

CREATE OR REPLACE FUNCTION alfred.account_for_tokens(account_id uuid)
RETURNS alfred.connected_accounts
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	acct alfred.connected_accounts;
BEGIN
	PERFORM alfred._require_argument('account_id', account_for_tokens.account_id);
	SELECT * INTO acct FROM alfred.connected_accounts a WHERE a.id = account_id FOR UPDATE;
	IF NOT FOUND
	   OR NOT (acct.user_id = alfred.current_user_id()
			   OR alfred.current_user_role() = 'admin'
			   OR alfred.caller_is_service()) THEN
		RAISE EXCEPTION 'connected account "%" does not exist', account_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN acct;
END
$$;
COMMENT ON FUNCTION alfred.account_for_tokens(uuid) IS
'Locks and returns a connected account the caller may manage (its user, an admin, or a service role); otherwise raises as if it did not exist.';

CREATE OR REPLACE FUNCTION alfred.mcp_heartbeat(name text, capabilities text[] DEFAULT NULL)
RETURNS alfred.mcp_servers
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s alfred.mcp_servers;
BEGIN
	PERFORM alfred._require_argument('name', mcp_heartbeat.name);
	IF NOT (alfred.caller_is_service() OR EXISTS (
		SELECT FROM alfred.users u WHERE u.id = alfred.current_user_id() AND u.role = 'admin')) THEN
		RAISE EXCEPTION 'permission denied to report a heartbeat for mcp server "%"', name
			USING ERRCODE = '42501',
			      DETAIL = 'Only admins, superusers and members of alfred_service report heartbeats.';
	END IF;
	SELECT * INTO s FROM alfred.mcp_servers m WHERE m.name = mcp_heartbeat.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'mcp server "%" not found', name USING ERRCODE = 'P0002',
			HINT = 'Register the server in alfred.mcp_servers first.';
	END IF;
	IF NOT s.is_active THEN
		RAISE EXCEPTION 'mcp server "%" is disabled', name USING ERRCODE = '55000',
			DETAIL = 'Set is_active to true to take its heartbeats again.';
	END IF;
	UPDATE alfred.mcp_servers m
	SET status = 'active', last_heartbeat = now(),
	    capabilities = coalesce(mcp_heartbeat.capabilities, m.capabilities)
	WHERE m.id = s.id
	RETURNING * INTO s;
	RETURN s;
END
$$;
COMMENT ON FUNCTION alfred.mcp_heartbeat(text, text[]) IS
'An MCP server reports it is alive: status becomes active, last_heartbeat now, and capabilities are replaced when given. For admins and trusted services (42501 otherwise); P0002 for an unknown server, 55000 for a disabled one.';

CREATE OR REPLACE FUNCTION alfred.refresh_proactiveness(user_id uuid)
RETURNS alfred.proactiveness_settings
LANGUAGE sql VOLATILE
AS $$
	SELECT alfred._require_argument('user_id', refresh_proactiveness.user_id);
	INSERT INTO alfred.proactiveness_settings (user_id) VALUES (refresh_proactiveness.user_id)
	ON CONFLICT (user_id) DO NOTHING;
	UPDATE alfred.proactiveness_settings p
	   SET global_level = l.global_level,
		   suppressed_types = l.suppressed_types,
		   boosted_types = l.boosted_types,
		   updated_at = now()
	  FROM alfred.proactiveness(refresh_proactiveness.user_id) l
	 WHERE p.user_id = refresh_proactiveness.user_id
	RETURNING p.*;
$$;
COMMENT ON FUNCTION alfred.refresh_proactiveness(uuid) IS
'Stores proactiveness(user_id) in the user''s proactiveness_settings row (creating it with the defaults if needed) and returns it; every calibration function that writes calls it';

-- (replacing the password and token functions resets their search_path: pgcrypto's schema again)
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
		 WHERE p.pronamespace = 'alfred'::regnamespace
		   AND p.proname IN ('login', 'change_password', 'set_password',
							 'connect_account', 'set_account_tokens')
	LOOP
		EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', fn, crypto);
	END LOOP;
END
$$;
