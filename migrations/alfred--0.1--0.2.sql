-- alfred 0.1 -> 0.2
--
-- Every change to migrations/0.2/*.sql (the fresh-install script of 0.2) must
-- also be made here, so that ALTER EXTENSION alfred UPDATE gives the schema a
-- fresh install gives; test/integration/upgrade.sh compares the two.
-- Upgrade scripts are copied as they are: name schema alfred explicitly
-- (@extschema@ would be pg_catalog, where the extension object lives).

\echo Use "ALTER EXTENSION alfred UPDATE TO '0.2'" to load this file. \quit

-- run_maintenance: one table-driven loop instead of a block per relation.
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
BEGIN
	IF now IS NULL THEN
		RAISE EXCEPTION 'now must not be NULL' USING ERRCODE = 'invalid_parameter_value';
	END IF;

	-- What each retention row removes: the rows matching filter whose age
	-- (an instant) is before now - keep.  Constants of this function only:
	-- nothing here comes from a table or a caller.
	FOR r IN
		SELECT v.relation, v.filter, v.age, now - rt.keep AS cutoff
		  FROM (VALUES
				('proposals', $f$status IN ('executed', 'rejected', 'expired', 'failed')$f$,
				 'greatest(executed_at, rejected_at, expired_at, failed_at, updated_at)'),
				('execution_logs', 'true', 'created_at'),
				('agent_run_logs', 'true', 'created_at'),
				('preference_signals', 'true', 'created_at'),
				('chat_messages', 'true', 'created_at'),
				('notifications', $f$status IN ('sent', 'read', 'dismissed', 'archived')$f$,
				 'coalesce(sent_at, read_at, dismissed_at, updated_at)'),
				('sessions', 'true', 'least(expires_at, CASE WHEN is_revoked THEN revoked_at END)'),
				('task_runs', $f$status IN ('succeeded', 'failed', 'cancelled')$f$, 'coalesce(finished_at, updated_at)'),
				('engagement_events', 'true', 'created_at'),
				('audit_trail', 'true', 'created_at')) AS v (relation, filter, age)
		  JOIN alfred.retention rt USING (relation)
		 WHERE rt.keep IS NOT NULL
		 ORDER BY v.relation
	LOOP
		EXECUTE format('DELETE FROM alfred.%I WHERE (%s) AND (%s) < $1', r.relation, r.filter, r.age)
			USING r.cutoff;
		GET DIAGNOSTICS n = ROW_COUNT;
		removed := removed || jsonb_build_object(r.relation, n);
	END LOOP;

	result := jsonb_build_object(
		'removed', removed,
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

-- main: one time-zone rule (timezone.c); leap-second zones are no longer valid.
COMMENT ON FUNCTION alfred.is_valid_timezone(text) IS
'Whether a time zone name is usable by every alfred engine: PostgreSQL''s time zone library knows it (IANA names such as Europe/Paris, and UTC) and it does not count leap seconds.';
-- policy: tool policies (admin_only), guards on direct writes of scheduled_tasks,
-- task_runs and connected_accounts tokens, per-user limits, sealed OAuth tokens,
-- check_integrations for admins and services only

-- A due time that 0.1 accepted and the new CHECK refuses (schedule_task(at => 'infinity')):
-- such a task never fell due, and a NULL next_run_at says the same.
UPDATE alfred.scheduled_tasks SET next_run_at = NULL WHERE NOT isfinite(next_run_at);

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

-- A due time the worker's arithmetic can take.
ALTER TABLE alfred.scheduled_tasks ADD CONSTRAINT scheduled_tasks_finite_check
	CHECK (isfinite(next_run_at));

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
