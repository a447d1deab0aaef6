-- 300_scheduler.sql: prompt templates, the tool registry, scheduled tasks'
-- SQL API, the tick (run_due_tasks), the agent API for external runs and the
-- worker_status view.  C in src/template_sql.c, src/scheduler*.c, src/worker*.c.

CREATE FUNCTION @extschema@.render_template(template text, context jsonb)
RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_render_template_sql';
COMMENT ON FUNCTION @extschema@.render_template(text, jsonb) IS
'Fills {{dotted.path}} placeholders of template from the context object: strings as is, other values as JSON text; \{{ is a literal {{; a missing key raises 22023 naming it';

------------------------------------------------------------------------------
-- Lookups by id alone (the primary keys lead with user_id).  Unique on
-- (id, user_id), not id alone: a unique index of a table distributed by
-- user_id (Citus) must contain user_id; ids are random uuids either way.
------------------------------------------------------------------------------
CREATE UNIQUE INDEX scheduled_tasks_id_key ON @extschema@.scheduled_tasks (id, user_id);
CREATE UNIQUE INDEX task_runs_id_key ON @extschema@.task_runs (id, user_id);

-- The fair claim: the users with a due task (a loose scan, one probe per
-- user) and each user's due tasks in next_run_at order.  The coalesce (a
-- no-op on these rows) keeps the planner from serving a user's claim with
-- scheduled_tasks_due_idx, which would walk every user's due rows.
CREATE INDEX scheduled_tasks_user_due_idx ON @extschema@.scheduled_tasks
	(user_id, (coalesce(next_run_at, 'infinity'::timestamptz)))
	WHERE status = 'active' AND next_run_at IS NOT NULL;
COMMENT ON INDEX @extschema@.scheduled_tasks_user_due_idx IS
'The scheduler claims due tasks round-robin across users through this index: each user''s earliest due task, then their next ones.';

------------------------------------------------------------------------------
-- Times taken from callers, and the lease that fences an external run
------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.check_time(name text, value timestamptz)
RETURNS timestamptz
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_check_time_sql';
COMMENT ON FUNCTION @extschema@.check_time(text, timestamptz) IS
'Returns value when it is finite and within the years 1 to 9999 (NULL stays NULL); otherwise raises 22008 naming the argument "name" and the value. Every function that takes a time from its caller checks it with this (or its C twin).';

-- scheduled times are finite and within years 1 to 9999, however they are written
ALTER TABLE @extschema@.scheduled_tasks ADD CONSTRAINT scheduled_tasks_times_check
	CHECK (@extschema@.check_time('scheduled_at', scheduled_at) = scheduled_at
		   AND @extschema@.check_time('next_run_at', next_run_at) = next_run_at);

ALTER TABLE @extschema@.task_runs ADD COLUMN lease_token_hash bytea;
COMMENT ON COLUMN @extschema@.task_runs.lease_token_hash IS
'SHA-256 of the lease token claim_runs returned with the current claim (NULL when the run is not claimed); complete_run, fail_run and extend_lease compare against it. Only the digest is stored, so reading the row does not give the token.';

------------------------------------------------------------------------------
-- Helpers shared by the tick (C) and the agent API
------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.quiet_hours_end_at(at timestamptz, timezone text,
	quiet_start time, quiet_end time)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	-- a single expression, so that the planner inlines it into the tick's statement
	SELECT CASE
			WHEN $3 < $4 THEN
				CASE WHEN ($1 AT TIME ZONE $2)::time >= $3 AND ($1 AT TIME ZONE $2)::time < $4
					 THEN (($1 AT TIME ZONE $2)::date + $4) AT TIME ZONE $2 END
			WHEN $3 > $4 THEN
				CASE WHEN ($1 AT TIME ZONE $2)::time >= $3
					 THEN (($1 AT TIME ZONE $2)::date + 1 + $4) AT TIME ZONE $2
					 WHEN ($1 AT TIME ZONE $2)::time < $4
					 THEN (($1 AT TIME ZONE $2)::date + $4) AT TIME ZONE $2 END
		   END
$$;
COMMENT ON FUNCTION @extschema@.quiet_hours_end_at(timestamptz, text, time, time) IS
'When quiet hours from quiet_start to quiet_end (wall-clock times in timezone; they may wrap past midnight) that contain "at" end; NULL when "at" is outside them or they are not set.';

CREATE FUNCTION @extschema@.quiet_hours_end(user_id uuid, at timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
-- (PL/pgSQL: Citus plans no SQL-language function that reads a distributed
-- table with a parameter)
BEGIN
	RETURN (SELECT @extschema@.quiet_hours_end_at($2, u.timezone, s.quiet_hours_start, s.quiet_hours_end)
			  FROM @extschema@.users u
			  JOIN @extschema@.user_settings s ON s.user_id = u.id
			 WHERE u.id = $1);
END
$$;
COMMENT ON FUNCTION @extschema@.quiet_hours_end(uuid, timestamptz) IS
'When the user''s quiet hours (user_settings, in users.timezone; they may wrap past midnight) that contain "at" end; NULL when "at" is outside quiet hours or none are set.';

CREATE FUNCTION @extschema@.run_notification_content(task_id uuid, run_id uuid, task_name text,
	status text, result text, error text, at timestamptz, timezone text, quiet_start time,
	quiet_end time)
RETURNS TABLE (type text, title text, message text, priority text, scheduled_for timestamptz,
	data jsonb)
LANGUAGE sql STABLE PARALLEL SAFE
ROWS 1
AS $$
	-- one SELECT in a set-returning, non-strict sql function: the planner inlines it into
	-- the statement that records a batch of the tick (src/scheduler.c) as into
	-- run_notification, so both write what it says
	SELECT 'scheduled_task',
		   coalesce(CASE WHEN NOT @extschema@.is_blank(r.j->>'title') THEN r.j->>'title' END,
					CASE WHEN $4 = 'succeeded' THEN $3 ELSE $3 || ' failed' END),
		   CASE WHEN $4 = 'succeeded' THEN coalesce(r.j->>'message', $5) ELSE $6 END,
		   p.priority,
		   CASE WHEN p.priority <> 'urgent' THEN @extschema@.quiet_hours_end_at($7, $8, $9, $10) END,
		   jsonb_build_object('task_id', $1, 'run_id', $2, 'status', $4)
	  FROM (SELECT CASE WHEN $4 = 'succeeded' AND left(ltrim($5), 1) = '{'
						THEN $5::jsonb END AS j) r,
		   LATERAL (SELECT CASE WHEN r.j->>'priority' IN ('low', 'normal', 'high', 'urgent')
								THEN r.j->>'priority'
								WHEN $4 = 'succeeded' THEN 'normal' ELSE 'high' END AS priority) p
$$;
COMMENT ON FUNCTION @extschema@.run_notification_content(uuid, uuid, text, text, text, text, timestamptz, text, time, time) IS
'Internal: what the notification of a finished run says (one row). A successful run whose result is a JSON object uses its title (unless blank), message and priority (low, normal, high or urgent); otherwise the title is the task''s name (with " failed" for a failed run), the message the result or the error, and the priority normal, or high for a failed run. A non-urgent one is scheduled for the end of the quiet hours (quiet_start to quiet_end, wall-clock times in timezone) that contain "at".';

CREATE FUNCTION @extschema@.run_notification(user_id uuid, task_id uuid, run_id uuid,
	task_name text, status text, result text, error text, at timestamptz)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
AS $$
-- (PL/pgSQL, the values first: Citus plans no SQL-language function that
-- writes a distributed table with parameters)
DECLARE
	tz			text;
	quiet_start	time;
	quiet_end	time;
	note		record;
	new_id		uuid;
BEGIN
	SELECT u.timezone INTO tz FROM @extschema@.users u WHERE u.id = $1;
	SELECT s.quiet_hours_start, s.quiet_hours_end INTO quiet_start, quiet_end
	  FROM @extschema@.user_settings s WHERE s.user_id = $1;
	SELECT * INTO note
	  FROM @extschema@.run_notification_content($2, $3, $4, $5, $6, $7, $8, tz, quiet_start, quiet_end);
	INSERT INTO @extschema@.notifications AS n (user_id, type, title, message, priority, scheduled_for, data)
	VALUES ($1, note.type, note.title, note.message, note.priority, note.scheduled_for, note.data)
	RETURNING n.id INTO new_id;
	RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.run_notification(uuid, uuid, uuid, text, text, text, text, timestamptz) IS
'Internal: writes the notification of a finished run, what run_notification_content says in the user''s time zone and quiet hours, and returns its id.';

CREATE FUNCTION @extschema@.task_prompt_context(task @extschema@.scheduled_tasks)
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
			  FROM @extschema@.users u
			 WHERE u.id = $1.user_id) u
$$;
COMMENT ON FUNCTION @extschema@.task_prompt_context(@extschema@.scheduled_tasks) IS
'The context a task''s prompt_template is rendered with: {"user": the users row (no password hash) plus "name", "task": id, name, description, tool_name, timezone, source, schedule_cron, "args": tool_args}.';

CREATE FUNCTION @extschema@.retry_delay(attempt integer)
RETURNS interval
LANGUAGE sql VOLATILE
AS $$
	SELECT current_setting('alfred.retry_base_delay')::interval
		   * power(2, least(greatest(attempt, 1) - 1, 16)) * (1 + 0.25 * random())
$$;
COMMENT ON FUNCTION @extschema@.retry_delay(integer) IS
'Backoff before the next attempt after attempt number "attempt" failed: alfred.retry_base_delay × 2^(attempt − 1), plus up to 25 % jitter.';

------------------------------------------------------------------------------
-- The tick
------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.run_due_tasks(now timestamptz DEFAULT now(), max integer DEFAULT NULL)
RETURNS integer
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'alfred_run_due_tasks';
COMMENT ON FUNCTION @extschema@.run_due_tasks(timestamptz, integer) IS
'One scheduler tick as of "now": runs (sql tools) or queues (external tools) every task and retry due by then, at most max (NULL = all), in the caller''s transaction; returns how many. The background worker calls the same code.';

------------------------------------------------------------------------------
-- Tools and their policy
------------------------------------------------------------------------------
-- An sql tool runs with the worker's privileges, for any user_id and args
-- its task gives it: a tool that acts on every user (maintenance) or on
-- global state is admin_only, so only the tasks of active admin users run it.
ALTER TABLE @extschema@.tools ADD COLUMN admin_only boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN @extschema@.tools.admin_only IS
'Only tasks of an active admin user may run the tool: checked when a task is scheduled, changed by any write, made due by run_task_now, and again when it runs.';

CREATE FUNCTION @extschema@.tool_policy_error(tool_name text, user_id uuid)
RETURNS text
LANGUAGE sql STABLE
AS $$
	SELECT CASE WHEN t.admin_only AND NOT EXISTS (
				SELECT FROM @extschema@.users u WHERE u.id = $2 AND u.role = 'admin' AND u.status = 'active')
			THEN format('tool "%s" is admin-only and user "%s" is not an active admin', t.name, $2) END
	  FROM @extschema@.tools t
	 WHERE t.name = $1
$$;
COMMENT ON FUNCTION @extschema@.tool_policy_error(text, uuid) IS
'Why the tool''s policy refuses a task of user_id (an admin_only tool and a user who is not an active admin), or NULL when it allows it. The one rule behind schedule_task, direct writes of scheduled_tasks, run_task_now and the scheduler''s check at run time.';

CREATE FUNCTION @extschema@.register_tool(name text, fn regprocedure DEFAULT NULL,
	kind text DEFAULT 'sql', description text DEFAULT NULL, admin_only boolean DEFAULT NULL)
RETURNS @extschema@.tools
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p pg_proc;
	row @extschema@.tools;
BEGIN
	IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
		RAISE EXCEPTION 'permission denied to register tool "%"', register_tool.name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'The scheduler runs sql tools with its own privileges, so only superusers may register tools.';
	END IF;
	PERFORM @extschema@._require_argument('name', register_tool.name);
	PERFORM @extschema@._require_argument('kind', register_tool.kind);
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
	INSERT INTO @extschema@.tools AS t (name, kind, fn, description, admin_only)
	VALUES (register_tool.name, register_tool.kind, register_tool.fn, register_tool.description,
			coalesce(register_tool.admin_only, false))
	ON CONFLICT ON CONSTRAINT tools_pkey DO UPDATE
		SET kind = excluded.kind, fn = excluded.fn, description = excluded.description,
			admin_only = coalesce(register_tool.admin_only, t.admin_only)
	RETURNING * INTO row;
	RETURN row;
END
$$;
COMMENT ON FUNCTION @extschema@.register_tool(text, regprocedure, text, text, boolean) IS
'Registers (or re-registers) a tool scheduled tasks may run: kind sql with fn(user_id uuid, args jsonb) returns jsonb, run inside the database; kind external (no fn), run by an agent through claim_runs. admin_only => true: only tasks of active admin users may run it (NULL: false for a new tool, unchanged for a registered one). Superusers only. 22023 for a bad name, kind or signature.';

------------------------------------------------------------------------------
-- Scheduled tasks
------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.schedule_task(user_id uuid, name text, tool_name text,
	tool_args jsonb DEFAULT '{}', cron text DEFAULT NULL, at timestamptz DEFAULT NULL,
	timezone text DEFAULT NULL, prompt_template text DEFAULT '', description text DEFAULT NULL,
	source text DEFAULT 'user', max_retries integer DEFAULT 3)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	tz text := schedule_task.timezone;
	task @extschema@.scheduled_tasks;
BEGIN
	PERFORM @extschema@._require_argument('user_id', schedule_task.user_id);
	PERFORM @extschema@._require_argument('name', schedule_task.name);
	PERFORM @extschema@._require_argument('tool_name', schedule_task.tool_name);
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
	IF NOT EXISTS (SELECT FROM @extschema@.users u WHERE u.id = schedule_task.user_id) THEN
		RAISE EXCEPTION 'no user with id "%"', schedule_task.user_id
			USING ERRCODE = 'no_data_found';
	END IF;
	IF NOT EXISTS (SELECT FROM @extschema@.tools t WHERE t.name = schedule_task.tool_name) THEN
		RAISE EXCEPTION 'unknown tool "%"', schedule_task.tool_name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Register it with alfred.register_tool().';
	END IF;
	IF tz IS NULL THEN
		SELECT u.timezone INTO tz FROM @extschema@.users u WHERE u.id = schedule_task.user_id;
		tz := coalesce(tz, 'UTC');
	ELSIF NOT @extschema@.is_valid_timezone(tz) THEN
		RAISE EXCEPTION 'invalid time zone "%"', tz
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Use an IANA time zone name such as Europe/Paris, or UTC.';
	END IF;
	PERFORM @extschema@._require_argument('tool_args', schedule_task.tool_args);
	IF jsonb_typeof(schedule_task.tool_args) <> 'object' THEN
		RAISE EXCEPTION 'tool_args must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM @extschema@._require_argument('max_retries', schedule_task.max_retries);
	IF schedule_task.max_retries NOT BETWEEN 0 AND 100 THEN
		RAISE EXCEPTION 'max_retries % is out of range 0-100', schedule_task.max_retries
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO @extschema@.scheduled_tasks AS t (user_id, name, description, task_type, schedule_cron,
		scheduled_at, timezone, tool_name, tool_args, prompt_template, source, max_retries, next_run_at)
	VALUES (schedule_task.user_id, schedule_task.name, schedule_task.description,
		CASE WHEN schedule_task.cron IS NULL THEN 'one_time' ELSE 'recurring' END,
		schedule_task.cron, schedule_task.at, tz, schedule_task.tool_name, schedule_task.tool_args,
		coalesce(schedule_task.prompt_template, ''), schedule_task.source, schedule_task.max_retries,
		coalesce(schedule_task.at, @extschema@.cron_next(schedule_task.cron, now(), tz)))
	RETURNING * INTO task;		-- the scheduled_tasks_policy trigger checks the tool's policy, template and limits
	RETURN task.id;
END
$$;
COMMENT ON FUNCTION @extschema@.schedule_task(uuid, text, text, jsonb, text, timestamptz, text, text, text, text, integer) IS
'Schedules tool_name(user_id, tool_args) for a user: recurring with cron (evaluated in timezone, default the user''s) or once at "at"; returns the task id. 22023 for neither or both of cron/at, an at in the past, a bad cron, time zone or template, an unknown tool; P0002 for an unknown user; 42501 when the tool''s policy refuses the user; 54000 beyond the per-user limits (alfred.max_active_tasks, alfred.min_task_interval, alfred.max_tool_args).';

------------------------------------------------------------------------------
-- What the API checks, every write checks: scheduled_tasks and task_runs
------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.check_tool_policy(tool_name text, user_id uuid)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
DECLARE
	why text := @extschema@.tool_policy_error(check_tool_policy.tool_name, check_tool_policy.user_id);
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
COMMENT ON FUNCTION @extschema@.check_tool_policy(text, uuid) IS
'Raises 42501 when the tool''s policy (tool_policy_error) refuses a task of user_id.';

CREATE FUNCTION @extschema@.scheduled_task_min_gap(cron text, timezone text, after timestamptz,
	slots integer DEFAULT 500)
RETURNS interval
LANGUAGE sql STABLE
AS $$
	SELECT min(g.next - g.t)
	  FROM (SELECT t, lead(t) OVER (ORDER BY t) AS next
			  FROM @extschema@.cron_next_n($1, $3, $2, $4) AS c (t)) g
$$;
COMMENT ON FUNCTION @extschema@.scheduled_task_min_gap(text, text, timestamptz, integer) IS
'The shortest time between two consecutive fire times of a cron expression in timezone, over its next "slots" fire times after "after" (NULL when it fires less than twice): what alfred.min_task_interval is compared with.';

CREATE FUNCTION @extschema@.scheduled_tasks_policy()
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
	IF current_setting('row_security') = 'off' AND @extschema@.caller_is_service() THEN
		RETURN NEW;
	END IF;
	-- tenants are limited; a trusted role without an alfred identity (a DBA, a service) is not
	limited := NOT (@extschema@.caller_is_service() AND @extschema@.current_user_id() IS NULL);
	IF limited THEN
		SELECT l.max_active_tasks, l.min_task_interval, l.max_tool_args INTO max_active, min_interval, max_args
		  FROM @extschema@.scheduler_limits_of(NEW.user_id) l;
	END IF;

	IF TG_OP = 'INSERT' OR NEW.tool_name IS DISTINCT FROM OLD.tool_name
	   OR (NEW.status = 'active' AND OLD.status <> 'active') THEN
		PERFORM @extschema@.check_tool_policy(NEW.tool_name, NEW.user_id);
	END IF;

	-- (a missing cron expression or an unknown zone is the table's CHECK constraints' to report)
	IF NEW.task_type = 'recurring' AND NEW.schedule_cron IS NOT NULL AND @extschema@.is_valid_timezone(NEW.timezone)
	   AND (TG_OP = 'INSERT' OR NEW.schedule_cron IS DISTINCT FROM OLD.schedule_cron
			OR NEW.timezone IS DISTINCT FROM OLD.timezone OR NEW.task_type IS DISTINCT FROM OLD.task_type) THEN
		-- raises 22023 naming the bad field; NULL: it never fires
		IF @extschema@.cron_next(NEW.schedule_cron, now(), NEW.timezone) IS NULL THEN
			RAISE EXCEPTION 'cron expression "%" never fires after now', NEW.schedule_cron
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF min_interval > interval '0' THEN
			gap := @extschema@.scheduled_task_min_gap(NEW.schedule_cron, NEW.timezone, now());
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
		-- (NEW as a scheduled_tasks row: on Citus the trigger fires on a shard)
		PERFORM @extschema@.render_template(NEW.prompt_template, @extschema@.task_prompt_context(
			pg_catalog.jsonb_populate_record(NULL::@extschema@.scheduled_tasks, pg_catalog.to_jsonb(NEW))));
	END IF;

	IF NEW.status = 'active' AND (TG_OP = 'INSERT' OR OLD.status <> 'active') THEN
		-- an active task has a next run: the next slot, as schedule_task and resume_task give it
		IF NEW.next_run_at IS NULL AND @extschema@.is_valid_timezone(NEW.timezone) THEN
			NEW.next_run_at := CASE WHEN NEW.task_type = 'one_time' THEN greatest(NEW.scheduled_at, now())
									ELSE @extschema@.cron_next(NEW.schedule_cron, now(), NEW.timezone) END;
		END IF;
		IF max_active > 0 THEN
			lim := max_active;
			-- one writer per user at a time, so two transactions cannot both take the last place
			PERFORM pg_advisory_xact_lock(hashtext('alfred.scheduled_tasks'), hashtext(NEW.user_id::text));
			SELECT count(*) INTO n FROM @extschema@.scheduled_tasks t
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
COMMENT ON FUNCTION @extschema@.scheduled_tasks_policy() IS
'Trigger: every write of a scheduled task is held to what schedule_task checks: the tool''s policy (42501), a cron expression that fires (22023), a prompt_template that renders (22023), a task that becomes active without next_run_at gets its next slot; and, for tenants (callers with an alfred identity or without a trusted role), the limits alfred.min_task_interval, alfred.max_tool_args and alfred.max_active_tasks, or the user''s scheduler_limits row (54000).';

CREATE TRIGGER scheduled_tasks_policy
	BEFORE INSERT ON @extschema@.scheduled_tasks
	FOR EACH ROW EXECUTE FUNCTION @extschema@.scheduled_tasks_policy();
-- The scheduler's bookkeeping (next_run_at, counts, active -> paused or
-- completed) changes none of these: the trigger does not even start for it.
CREATE TRIGGER scheduled_tasks_policy_update
	BEFORE UPDATE ON @extschema@.scheduled_tasks
	FOR EACH ROW
	WHEN ((OLD.tool_name, OLD.tool_args, OLD.schedule_cron, OLD.timezone, OLD.task_type, OLD.prompt_template)
		  IS DISTINCT FROM
		  (NEW.tool_name, NEW.tool_args, NEW.schedule_cron, NEW.timezone, NEW.task_type, NEW.prompt_template)
		  OR (NEW.status = 'active' AND OLD.status <> 'active'))
	EXECUTE FUNCTION @extschema@.scheduled_tasks_policy();

CREATE FUNCTION @extschema@.scheduled_tasks_guard()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'alfred_scheduled_tasks_guard';
COMMENT ON FUNCTION @extschema@.scheduled_tasks_guard() IS
'Trigger: a scheduled task''s status moves only active -> paused, cancelled or completed and paused -> active or cancelled (55000 otherwise; cancelled and completed are final), and its id and created_at never change. The machine of proposals_guard.';
CREATE TRIGGER scheduled_tasks_guard
	BEFORE UPDATE ON @extschema@.scheduled_tasks
	FOR EACH ROW
	WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.id IS DISTINCT FROM NEW.id
		  OR OLD.created_at IS DISTINCT FROM NEW.created_at)
	EXECUTE FUNCTION @extschema@.scheduled_tasks_guard();

CREATE FUNCTION @extschema@.task_runs_guard()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'alfred_task_runs_guard';
COMMENT ON FUNCTION @extschema@.task_runs_guard() IS
'Trigger: runs are recorded and finished only by the scheduler and trusted roles (superusers, alfred_service members: the worker and agents through claim_runs, complete_run, fail_run); anyone else may only cancel a run that has not ended (42501).';
CREATE TRIGGER task_runs_guard
	BEFORE INSERT OR UPDATE ON @extschema@.task_runs
	FOR EACH ROW EXECUTE FUNCTION @extschema@.task_runs_guard();

CREATE FUNCTION @extschema@.task_for_update(task_id uuid)
RETURNS @extschema@.scheduled_tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	owner_id uuid;
	task @extschema@.scheduled_tasks;
BEGIN
	PERFORM @extschema@._require_argument('task_id', task_for_update.task_id);
	-- the owner first: a row lock names the distribution column (Citus)
	owner_id := @extschema@.owner_of('@extschema@.scheduled_tasks', task_for_update.task_id);
	SELECT * INTO task FROM @extschema@.scheduled_tasks t
	 WHERE t.user_id = owner_id AND t.id = task_for_update.task_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no scheduled task with id "%"', task_for_update.task_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN task;
END
$$;
COMMENT ON FUNCTION @extschema@.task_for_update(uuid) IS
'Internal: locks and returns a scheduled task (P0002 when there is none the caller may see).';

CREATE FUNCTION @extschema@.task_for_action(task_id uuid, action text, allowed text[],
	advice text DEFAULT NULL)
RETURNS @extschema@.scheduled_tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	task @extschema@.scheduled_tasks := @extschema@.task_for_update(task_for_action.task_id);
BEGIN
	IF task.status <> ALL (task_for_action.allowed) THEN
		RAISE EXCEPTION 'cannot % a % task', task_for_action.action, task.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('Task "%s" is %s%s.', task.name, task.status,
								  '; ' || task_for_action.advice);
	END IF;
	RETURN task;
END
$$;
COMMENT ON FUNCTION @extschema@.task_for_action(uuid, text, text[], text) IS
'Internal: locks and returns a scheduled task whose status is one of allowed, for the named action (pause, resume, cancel, run); P0002 when there is none the caller may see, 55000 "cannot <action> a <status> task" otherwise, its detail ending with the advice when one is given.';

CREATE FUNCTION @extschema@.pause_task(task_id uuid)
RETURNS @extschema@.scheduled_tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	task @extschema@.scheduled_tasks := @extschema@.task_for_action(pause_task.task_id, 'pause',
																	 '{active,paused}');
BEGIN
	UPDATE @extschema@.scheduled_tasks t SET status = 'paused', next_run_at = NULL
	 WHERE t.user_id = task.user_id AND t.id = task.id
	RETURNING * INTO task;
	RETURN task;
END
$$;
COMMENT ON FUNCTION @extschema@.pause_task(uuid) IS
'Pauses an active task (next_run_at becomes NULL; pausing a paused task changes nothing). 55000 for a cancelled or completed task.';

CREATE FUNCTION @extschema@.resume_task(task_id uuid)
RETURNS @extschema@.scheduled_tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	task @extschema@.scheduled_tasks := @extschema@.task_for_action(resume_task.task_id, 'resume',
																	 '{active,paused}');
	next_run timestamptz;
BEGIN
	IF task.status = 'active' THEN
		RETURN task;
	END IF;
	-- (the next run first: Citus takes no stable function in a CASE of an UPDATE)
	next_run := CASE WHEN task.task_type = 'recurring'
					 THEN @extschema@.cron_next(task.schedule_cron, now(), task.timezone)
					 ELSE greatest(task.scheduled_at, now()) END;
	UPDATE @extschema@.scheduled_tasks t SET status = 'active', next_run_at = next_run
	 WHERE t.user_id = task.user_id AND t.id = task.id
	RETURNING * INTO task;
	RETURN task;
END
$$;
COMMENT ON FUNCTION @extschema@.resume_task(uuid) IS
'Resumes a paused task: next_run_at is recomputed from now (a one-time task whose time passed while paused runs at once). 55000 for a cancelled or completed task.';

CREATE FUNCTION @extschema@.cancel_task(task_id uuid)
RETURNS @extschema@.scheduled_tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	task @extschema@.scheduled_tasks := @extschema@.task_for_action(cancel_task.task_id, 'cancel',
																	 '{active,paused,cancelled}');
BEGIN
	IF task.status = 'cancelled' THEN
		RETURN task;
	END IF;
	UPDATE @extschema@.task_runs r SET status = 'cancelled', lease_until = NULL, next_attempt_at = NULL,
		   finished_at = greatest(r.started_at, now())
	 WHERE r.user_id = task.user_id AND r.task_id = task.id AND r.status IN ('queued', 'retrying', 'running');
	UPDATE @extschema@.scheduled_tasks t SET status = 'cancelled', next_run_at = NULL
	 WHERE t.user_id = task.user_id AND t.id = task.id
	RETURNING * INTO task;
	RETURN task;
END
$$;
COMMENT ON FUNCTION @extschema@.cancel_task(uuid) IS
'Cancels a task for good, with its queued, retrying and running runs (cancelling twice changes nothing). 55000 for a completed task.';

CREATE FUNCTION @extschema@.run_task_now(task_id uuid)
RETURNS @extschema@.scheduled_tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	task @extschema@.scheduled_tasks := @extschema@.task_for_action(run_task_now.task_id, 'run',
																	 '{active}', 'resume it first');
BEGIN
	PERFORM @extschema@.check_tool_policy(task.tool_name, task.user_id);
	UPDATE @extschema@.scheduled_tasks t SET next_run_at = now()
	 WHERE t.user_id = task.user_id AND t.id = task.id
	RETURNING * INTO task;
	RETURN task;
END
$$;
COMMENT ON FUNCTION @extschema@.run_task_now(uuid) IS
'Makes an active task due now: the worker runs it at once (it is woken on commit); a recurring task then continues from its next slot. 55000 for a task that is not active, 42501 when the tool''s policy refuses the task''s user.';

------------------------------------------------------------------------------
-- External runs: the agent API
------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.scheduler_is_sharded()
RETURNS boolean
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'alfred_scheduler_is_sharded';
COMMENT ON FUNCTION @extschema@.scheduler_is_sharded() IS
'Whether scheduled_tasks is distributed by Citus (hash, by user_id), read from Citus''s catalog; false without Citus. Then each node''s worker ticks the shards placed on it, and claim_runs locks the runs it claims one by one.';

CREATE FUNCTION @extschema@.finish_run(run @extschema@.task_runs, status text, result text, error text,
	next_attempt_at timestamptz DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	task @extschema@.scheduled_tasks;
	final boolean := finish_run.status IN ('succeeded', 'failed');
	at timestamptz := now();	-- (Citus: no stable function in a CASE of an UPDATE)
	note uuid;
BEGIN
	SELECT * INTO task FROM @extschema@.scheduled_tasks t
	 WHERE t.user_id = run.user_id AND t.id = run.task_id FOR UPDATE;
	IF final THEN
		note := @extschema@.run_notification(run.user_id, run.task_id, run.id, task.name,
											 finish_run.status, finish_run.result, finish_run.error, at);
		PERFORM pg_notify('alfred_notifications',
						  json_build_object('user_id', run.user_id, 'notification_id', note)::text);
		UPDATE @extschema@.scheduled_tasks t
		   SET run_count = t.run_count + (finish_run.status = 'succeeded')::int,
			   fail_count = t.fail_count + (finish_run.status = 'failed')::int,
			   status = CASE WHEN t.task_type = 'one_time' AND t.status = 'active' THEN 'completed' ELSE t.status END
		 WHERE t.user_id = task.user_id AND t.id = task.id;
	END IF;
	UPDATE @extschema@.task_runs r
	   SET status = finish_run.status, result = finish_run.result, error = finish_run.error,
		   finished_at = CASE WHEN final THEN greatest(r.started_at, at) END,
		   duration_ms = CASE WHEN final AND r.started_at IS NOT NULL
							  THEN (extract(epoch FROM greatest(r.started_at, at) - r.started_at) * 1000)::int END,
		   lease_until = NULL, lease_token_hash = NULL, next_attempt_at = finish_run.next_attempt_at,
		   notification_id = note
	 WHERE r.user_id = run.user_id AND r.id = run.id;
END
$$;
COMMENT ON FUNCTION @extschema@.finish_run(@extschema@.task_runs, text, text, text, timestamptz) IS
'Internal: records the end of an attempt of an external run (succeeded, failed, or retrying at next_attempt_at), with the counts and the notification of a final outcome.';

CREATE FUNCTION @extschema@._run_claimable(status text, next_attempt_at timestamptz,
	lease_until timestamptz, at timestamptz)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT ($1 IN ('queued', 'retrying') AND $2 <= $4) OR ($1 = 'running' AND $3 < $4)
$$;
COMMENT ON FUNCTION @extschema@._run_claimable(text, timestamptz, timestamptz, timestamptz) IS
'Whether an external run may be claimed at "at": queued or retrying and due, or running with its lease expired. The one rule behind claim_runs'' candidates and its recheck of each under lock; inlined by the planner, so the partial indexes on next_attempt_at and lease_until still serve it.';

CREATE FUNCTION @extschema@._run_lease_spent(status text, lease_until timestamptz, attempt integer,
	max_retries integer, at timestamptz)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT $1 = 'running' AND $2 < $5 AND $3 > $4
$$;
COMMENT ON FUNCTION @extschema@._run_lease_spent(text, timestamptz, integer, integer, timestamptz) IS
'Whether a run''s lease expired on its last allowed attempt (attempt > max_retries) at "at": claim_runs fails it instead of handing it out again.';

CREATE FUNCTION @extschema@._claim_run(of_user uuid, of_run uuid, was text, worker text, lease interval,
	token uuid)
RETURNS TABLE (run_id uuid, task_id uuid, user_id uuid, tool_name text, tool_args jsonb,
	prompt text, attempt integer, lease_until timestamptz, lease_token uuid)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	UPDATE @extschema@.task_runs r
	   SET status = 'running', claimed_by = _claim_run.worker,
		   lease_until = now() + _claim_run.lease, next_attempt_at = NULL,
		   lease_token_hash = sha256(uuid_send(_claim_run.token)),
		   attempt = r.attempt + CASE WHEN _claim_run.was = 'queued' THEN 0 ELSE 1 END,
		   started_at = now()
	  FROM @extschema@.scheduled_tasks t
	 WHERE r.user_id = of_user AND r.id = of_run AND t.user_id = of_user AND t.id = r.task_id
	RETURNING r.id, r.task_id, r.user_id, t.tool_name, t.tool_args, r.prompt, r.attempt, r.lease_until,
			  _claim_run.token;
END
$$;
COMMENT ON FUNCTION @extschema@._claim_run(uuid, uuid, text, text, interval, uuid) IS
'Internal: leases the run (of_user, of_run), which the caller has locked and found claimable, to worker for lease with token (its SHA-256 stored); was is the status it had (a queued run keeps its attempt, a retried or expired one starts the next). What claim_runs returns for it.';

CREATE FUNCTION @extschema@.claim_runs(worker text, tools text[] DEFAULT NULL, max integer DEFAULT 1,
	lease interval DEFAULT '5 minutes')
RETURNS TABLE (run_id uuid, task_id uuid, user_id uuid, tool_name text, tool_args jsonb,
	prompt text, attempt integer, lease_until timestamptz, lease_token uuid)
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	expired @extschema@.task_runs;
	-- whose runs the caller may take: a superuser, a service role without an
	-- alfred identity or an admin every user's; a user only their own
	everyone boolean := current_setting('is_superuser') = 'on'
		OR (@extschema@.current_user_id() IS NULL AND @extschema@.caller_is_service())
		OR @extschema@.current_user_role() IS NOT DISTINCT FROM 'admin';
	own uuid := CASE WHEN @extschema@.current_user_role() = 'user' THEN @extschema@.current_user_id() END;
	-- on a Citus cluster: candidates in pages, the last one seen, what was claimed
	c record;
	page integer := greatest(least(claim_runs.max, 500) * 2, 16);
	after_due timestamptz;
	after_user uuid;
	after_id uuid;
	seen integer := 0;
	claimed integer := 0;
	was text;
	token uuid;
BEGIN
	PERFORM @extschema@._require_argument('worker', claim_runs.worker);
	PERFORM @extschema@._require_argument('max', claim_runs.max);
	IF @extschema@.is_blank(claim_runs.worker) THEN
		RAISE EXCEPTION 'worker must name the agent'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF claim_runs.max < 1 THEN
		RAISE EXCEPTION 'max must be at least 1'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM @extschema@.check_lease(claim_runs.lease);
	IF @extschema@.scheduler_is_sharded() THEN
		-- on a Citus cluster: no statement may lock rows of several shards, so each
		-- candidate (found without locks, oldest first) is locked by its key, skipped
		-- when another agent holds it, and claimed only if it is still claimable
		FOR c IN
			SELECT r.user_id, r.id, t.max_retries FROM @extschema@.task_runs r
			  JOIN @extschema@.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
			 WHERE @extschema@._run_lease_spent(r.status, r.lease_until, r.attempt, t.max_retries, now())
			   AND (everyone OR r.user_id = own)
		LOOP
			SELECT r.* INTO expired FROM @extschema@.task_runs r
			 WHERE r.user_id = c.user_id AND r.id = c.id
			   AND @extschema@._run_lease_spent(r.status, r.lease_until, r.attempt, c.max_retries, now())
			   FOR UPDATE SKIP LOCKED;
			IF FOUND THEN
				PERFORM @extschema@.finish_run(expired, 'failed', NULL,
					format('the lease of %s expired on attempt %s', expired.claimed_by, expired.attempt));
			END IF;
		END LOOP;
		LOOP
			FOR c IN
				SELECT r.user_id, r.id, coalesce(r.next_attempt_at, r.lease_until) AS due
				  FROM @extschema@.task_runs r
				  JOIN @extschema@.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
				  JOIN @extschema@.tools tl ON tl.name = t.tool_name AND tl.kind = 'external'
				 WHERE @extschema@._run_claimable(r.status, r.next_attempt_at, r.lease_until, now())
				   AND (claim_runs.tools IS NULL OR t.tool_name = ANY (claim_runs.tools))
				   AND (everyone OR r.user_id = own)
				   AND (after_due IS NULL
						OR (coalesce(r.next_attempt_at, r.lease_until), r.user_id, r.id) > (after_due, after_user, after_id))
				 ORDER BY coalesce(r.next_attempt_at, r.lease_until), r.user_id, r.id
				 LIMIT page
			LOOP
				seen := seen + 1;
				after_due := c.due;
				after_user := c.user_id;
				after_id := c.id;
				SELECT r.status INTO was FROM @extschema@.task_runs r
				 WHERE r.user_id = c.user_id AND r.id = c.id
				   AND @extschema@._run_claimable(r.status, r.next_attempt_at, r.lease_until, now())
				   FOR UPDATE SKIP LOCKED;
				CONTINUE WHEN NOT FOUND;
				RETURN QUERY SELECT * FROM @extschema@._claim_run(c.user_id, c.id, was, claim_runs.worker,
																 claim_runs.lease, gen_random_uuid());
				IF FOUND THEN
					claimed := claimed + 1;
					EXIT WHEN claimed >= claim_runs.max;
				END IF;
			END LOOP;
			EXIT WHEN claimed >= claim_runs.max OR seen < page;
			seen := 0;
		END LOOP;
		RETURN;
	END IF;
	-- a run whose lease expired after its last allowed attempt fails instead of coming back
	FOR expired IN
		SELECT r.* FROM @extschema@.task_runs r
		  JOIN @extschema@.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
		 WHERE @extschema@._run_lease_spent(r.status, r.lease_until, r.attempt, t.max_retries, now())
		   AND (everyone OR r.user_id = own)
		   FOR UPDATE OF r SKIP LOCKED
	LOOP
		PERFORM @extschema@.finish_run(expired, 'failed', NULL,
			format('the lease of %s expired on attempt %s', expired.claimed_by, expired.attempt));
	END LOOP;
	RETURN QUERY
	WITH c AS MATERIALIZED (
		SELECT r.user_id, r.id, r.status
		  FROM @extschema@.task_runs r
		  JOIN @extschema@.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
		  JOIN @extschema@.tools tl ON tl.name = t.tool_name AND tl.kind = 'external'
		 WHERE @extschema@._run_claimable(r.status, r.next_attempt_at, r.lease_until, now())
		   AND (claim_runs.tools IS NULL OR t.tool_name = ANY (claim_runs.tools))
		   AND (everyone OR r.user_id = own)
		 ORDER BY coalesce(r.next_attempt_at, r.lease_until)
		 LIMIT claim_runs.max
		   FOR UPDATE OF r SKIP LOCKED
	)
	SELECT claimed.* FROM c CROSS JOIN LATERAL
		@extschema@._claim_run(c.user_id, c.id, c.status, claim_runs.worker, claim_runs.lease,
							   gen_random_uuid()) claimed;
END
$$;
COMMENT ON FUNCTION @extschema@.claim_runs(text, text[], integer, interval) IS
'For an agent process: leases up to max queued external runs (of the given tools, NULL = any) to worker for lease (more than 0, at most 1 day), each with a fresh lease_token that complete_run, fail_run and extend_lease require. A superuser, a service role (alfred_service) without an alfred identity and an admin claim every user''s runs, a user only their own. A run whose lease expires comes back (at-least-once: the run id is the idempotency key) with a new token; after max_retries + 1 attempts it fails instead. On a Citus cluster (scheduler_is_sharded()) the candidates are read without locks and each is locked by its key (user_id, id) with SKIP LOCKED and claimed only if still claimable: the same runs, no lock across shards.';

CREATE FUNCTION @extschema@.check_lease(lease interval)
RETURNS interval
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
	PERFORM @extschema@._require_argument('lease', check_lease.lease);
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
COMMENT ON FUNCTION @extschema@.check_lease(interval) IS
'Internal: returns lease when it is more than 0 and at most 1 day; 22023 otherwise, naming it.';

CREATE FUNCTION @extschema@.run_for_update(run_id uuid)
RETURNS @extschema@.task_runs
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	owner_id uuid;
	run @extschema@.task_runs;
BEGIN
	PERFORM @extschema@._require_argument('run_id', run_for_update.run_id);
	owner_id := @extschema@.owner_of('@extschema@.task_runs', run_for_update.run_id);
	SELECT * INTO run FROM @extschema@.task_runs r
	 WHERE r.user_id = owner_id AND r.id = run_for_update.run_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no task run with id "%"', run_for_update.run_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN run;
END
$$;
COMMENT ON FUNCTION @extschema@.run_for_update(uuid) IS
'Internal: locks and returns a task run (P0002 when there is none the caller may see).';

CREATE FUNCTION @extschema@.run_for_report(run_id uuid, lease_token uuid, report text)
RETURNS @extschema@.task_runs
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	owner_id uuid;
	run @extschema@.task_runs;
	superuser boolean := current_setting('is_superuser') = 'on';
BEGIN
	PERFORM @extschema@._require_argument('run_id', run_for_report.run_id);
	owner_id := @extschema@.owner_of('@extschema@.task_runs', run_for_report.run_id);
	SELECT * INTO run FROM @extschema@.task_runs r
	 WHERE r.user_id = owner_id AND r.id = run_for_report.run_id FOR UPDATE;
	IF NOT FOUND OR NOT (superuser OR @extschema@.may_act_for(run.user_id, true)) THEN
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
COMMENT ON FUNCTION @extschema@.run_for_report(uuid, uuid, text) IS
'Internal: locks and returns a run whose lease the caller holds (report: complete, fail or extend the lease of): the run is running and lease_token is the one its current claim returned (55000 otherwise: a stale worker after re-claim, a run never claimed or already finished). A NULL lease_token is accepted from a superuser only (manual repair), for a run not yet finished. P0002 when the caller may not change the run''s user.';

CREATE FUNCTION @extschema@.extend_lease(run_id uuid, worker text, lease interval DEFAULT '5 minutes',
	lease_token uuid DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	run @extschema@.task_runs;
BEGIN
	PERFORM @extschema@.check_lease(extend_lease.lease);
	run := @extschema@.run_for_report(extend_lease.run_id, extend_lease.lease_token, 'extend the lease of');
	-- with the token, a lease that expired but that no one took again is still this worker's
	IF run.status <> 'running' OR run.claimed_by IS DISTINCT FROM extend_lease.worker
	   OR (extend_lease.lease_token IS NULL AND run.lease_until < now()) THEN
		RAISE EXCEPTION 'the lease of run "%" was lost', run.id
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('The run is %s%s.', run.status,
								  CASE WHEN run.claimed_by IS NOT NULL
									   THEN format(', claimed by %s until %s', run.claimed_by, run.lease_until) ELSE '' END);
	END IF;
	UPDATE @extschema@.task_runs r SET lease_until = now() + extend_lease.lease
	 WHERE r.user_id = run.user_id AND r.id = run.id
	RETURNING r.lease_until INTO run.lease_until;
	RETURN run.lease_until;
END
$$;
COMMENT ON FUNCTION @extschema@.extend_lease(uuid, text, interval, uuid) IS
'For a long external run: extends worker''s lease to now + lease (more than 0, at most 1 day) and returns its end. lease_token is the one claim_runs returned: a lease that expired but that no one claimed again is kept. 55000 when the run was claimed again, is not running, is another worker''s, or (from anyone but a superuser) the token is missing.';

CREATE FUNCTION @extschema@.complete_run(run_id uuid, result text, lease_token uuid DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@.finish_run(
		@extschema@.run_for_report(complete_run.run_id, complete_run.lease_token, 'complete'),
		'succeeded', complete_run.result, NULL);
END
$$;
COMMENT ON FUNCTION @extschema@.complete_run(uuid, text, uuid) IS
'For an agent: the external run succeeded with result (text; a JSON object''s title, message and priority shape the notification). lease_token is the one claim_runs returned; 55000 and nothing changes when it is not the run''s current one (the lease expired and the run was claimed again), when the run is not running (never claimed, already reported: a report counts once) or, from anyone but a superuser, when it is missing.';

CREATE FUNCTION @extschema@.fail_run(run_id uuid, error text, transient boolean DEFAULT true,
	lease_token uuid DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	run @extschema@.task_runs := @extschema@.run_for_report(fail_run.run_id, fail_run.lease_token, 'fail');
	max_retries integer;
BEGIN
	SELECT t.max_retries INTO max_retries FROM @extschema@.scheduled_tasks t
	 WHERE t.user_id = run.user_id AND t.id = run.task_id;
	IF coalesce(fail_run.transient, true) AND run.attempt <= max_retries THEN
		PERFORM @extschema@.finish_run(run, 'retrying', NULL, fail_run.error,
									   now() + @extschema@.retry_delay(run.attempt));
	ELSE
		PERFORM @extschema@.finish_run(run, 'failed', NULL, fail_run.error);
	END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.fail_run(uuid, text, boolean, uuid) IS
'For an agent: the external run failed with error. A transient failure is retried after exponential backoff with jitter while attempts remain (max_retries); otherwise the run fails (fail_count + 1, a notification). lease_token as for complete_run: 55000 and nothing changes for a stale, missing (except from a superuser) or finished one.';

-- the agent API above is the way in: these internals change any run they are given
REVOKE EXECUTE ON FUNCTION @extschema@.finish_run(@extschema@.task_runs, text, text, text, timestamptz),
	@extschema@.run_for_report(uuid, uuid, text),
	@extschema@._claim_run(uuid, uuid, text, text, interval, uuid) FROM PUBLIC;

------------------------------------------------------------------------------
-- The worker: wake-up on commit and status
------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.scheduled_task_wake()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'alfred_scheduled_task_wake';
COMMENT ON FUNCTION @extschema@.scheduled_task_wake() IS
'Trigger: when the transaction commits, wakes the scheduler workers that would sleep past the row''s next_run_at.';

CREATE TRIGGER scheduled_tasks_wake_insert
	AFTER INSERT ON @extschema@.scheduled_tasks
	FOR EACH ROW WHEN (NEW.status = 'active' AND NEW.next_run_at IS NOT NULL)
	EXECUTE FUNCTION @extschema@.scheduled_task_wake();
CREATE TRIGGER scheduled_tasks_wake_update
	AFTER UPDATE OF next_run_at, status ON @extschema@.scheduled_tasks
	FOR EACH ROW WHEN (NEW.status = 'active' AND NEW.next_run_at IS NOT NULL
					   AND (OLD.next_run_at IS NULL OR NEW.next_run_at < OLD.next_run_at
							OR OLD.status <> 'active'))
	EXECUTE FUNCTION @extschema@.scheduled_task_wake();

CREATE FUNCTION @extschema@.scheduler_workers(OUT worker integer, OUT pid integer, OUT state text,
	OUT started_at timestamptz, OUT last_tick timestamptz, OUT next_wakeup timestamptz,
	OUT ticks bigint, OUT runs_done bigint, OUT errors bigint, OUT last_error text)
RETURNS SETOF record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'alfred_worker_status';
COMMENT ON FUNCTION @extschema@.scheduler_workers() IS
'The scheduler workers'' shared-memory state (no rows unless alfred is in shared_preload_libraries); read it through the worker_status view.';

CREATE VIEW @extschema@.worker_status AS
	SELECT w.worker, w.pid, w.state, current_setting('alfred.database', true) AS database,
		   w.started_at, w.last_tick, w.next_wakeup, w.ticks, w.runs_done, w.errors, w.last_error
	  FROM @extschema@.scheduler_workers() w;
COMMENT ON VIEW @extschema@.worker_status IS
'One row per scheduler worker: pid, state (waiting for database, waiting for extension, idle, running, disabled, stopped), last tick, next wake-up, ticks, runs done, errors and the last error.';

------------------------------------------------------------------------------
-- Built-in sql tools
------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.tool_daily_briefing(user_id uuid, args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	briefing jsonb;
BEGIN
	IF to_regprocedure('@extschema@.today(uuid)') IS NULL THEN
		RAISE EXCEPTION 'daily_briefing needs alfred.today(uuid)'
			USING ERRCODE = 'feature_not_supported';
	END IF;
	EXECUTE 'SELECT @extschema@.today($1)' INTO briefing USING tool_daily_briefing.user_id;
	RETURN jsonb_build_object('title', 'Your day', 'message', coalesce(briefing->>'summary', briefing::text),
							  'briefing', briefing);
END
$$;
COMMENT ON FUNCTION @extschema@.tool_daily_briefing(uuid, jsonb) IS
'Built-in tool daily_briefing: what alfred.today(user_id) returns, as the notification of the run.';

CREATE FUNCTION @extschema@.tool_habit_reminder(user_id uuid, args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	habits jsonb;
BEGIN
	IF to_regprocedure('@extschema@.habits_at_risk(uuid)') IS NOT NULL THEN
		EXECUTE 'SELECT coalesce(jsonb_agg(to_jsonb(h)), ''[]'') FROM @extschema@.habits_at_risk($1) h'
		   INTO habits USING tool_habit_reminder.user_id;
	ELSE
		SELECT coalesce(jsonb_agg(jsonb_build_object('id', h.id, 'name', h.name,
													 'current_streak', h.current_streak)), '[]')
		  INTO habits
		  FROM @extschema@.habits h
		 WHERE h.user_id = tool_habit_reminder.user_id AND h.active AND h.reminder_enabled
		   AND h.current_streak > 0;
	END IF;
	RETURN jsonb_build_object('title', 'Habit reminder',
		'message', CASE jsonb_array_length(habits)
					   WHEN 0 THEN 'No habit streak is at risk.'
					   ELSE format('%s habit streak(s) at risk: %s', jsonb_array_length(habits),
								   (SELECT string_agg(h->>'name', ', ') FROM jsonb_array_elements(habits) h)) END,
		'habits', habits);
END
$$;
COMMENT ON FUNCTION @extschema@.tool_habit_reminder(uuid, jsonb) IS
'Built-in tool habit_reminder: the user''s habits whose streak is at risk (alfred.habits_at_risk when installed, else active habits with a streak).';

CREATE FUNCTION @extschema@.tool_overdue_tasks(user_id uuid, args jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
-- (PL/pgSQL: Citus plans no SQL-language function that reads a distributed
-- table with a parameter)
BEGIN
	RETURN (
	SELECT jsonb_build_object('title', 'Overdue tasks',
			'message', CASE count(*) WHEN 0 THEN 'Nothing is overdue.'
						ELSE format('%s overdue: %s', count(*), string_agg(t.title, ', ' ORDER BY t.due_date)) END,
			'priority', CASE WHEN count(*) > 0 THEN 'high' ELSE 'low' END,
			'tasks', coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'title', t.title, 'due_date', t.due_date,
														   'priority', t.priority) ORDER BY t.due_date), '[]'))
	  FROM @extschema@.tasks t
	 WHERE t.user_id = $1 AND t.status IN ('pending', 'in_progress', 'blocked') AND t.due_date < now());
END
$$;
COMMENT ON FUNCTION @extschema@.tool_overdue_tasks(uuid, jsonb) IS
'Built-in tool overdue_tasks: the user''s open tasks past their due date, oldest first.';

CREATE FUNCTION @extschema@.tool_expire_proposals(user_id uuid, args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	expired integer;
BEGIN
	IF to_regprocedure('@extschema@.expire_proposals()') IS NULL THEN
		RAISE EXCEPTION 'expire_proposals needs alfred.expire_proposals()'
			USING ERRCODE = 'feature_not_supported';
	END IF;
	EXECUTE 'SELECT @extschema@.expire_proposals()' INTO expired;
	RETURN jsonb_build_object('title', 'Proposals expired', 'priority', 'low',
							  'message', format('%s proposal(s) expired.', expired), 'expired', expired);
END
$$;
COMMENT ON FUNCTION @extschema@.tool_expire_proposals(uuid, jsonb) IS
'Built-in tool expire_proposals: runs alfred.expire_proposals() (every user''s proposals past expires_at).';

INSERT INTO @extschema@.tools (name, kind, fn, description, admin_only) VALUES
	('daily_briefing', 'sql', '@extschema@.tool_daily_briefing(uuid, jsonb)', 'The day at a glance: alfred.today(user_id).', false),
	('habit_reminder', 'sql', '@extschema@.tool_habit_reminder(uuid, jsonb)', 'Habits whose streak is at risk today.', false),
	('overdue_tasks', 'sql', '@extschema@.tool_overdue_tasks(uuid, jsonb)', 'Open tasks past their due date.', false),
	-- every user's proposals: admin-only
	('expire_proposals', 'sql', '@extschema@.tool_expire_proposals(uuid, jsonb)', 'Expires proposals past expires_at.', true);

CREATE FUNCTION @extschema@._lock_scheduler()
RETURNS void
AS 'MODULE_PATHNAME', 'alfred_lock_scheduler'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._lock_scheduler() IS
'Internal: holds off the scheduler of this node until the end of the transaction (every tick takes the same advisory lock shared), so that distribute() can alter the tables a tick locks without a deadlock.';
REVOKE EXECUTE ON FUNCTION @extschema@._lock_scheduler() FROM PUBLIC;
