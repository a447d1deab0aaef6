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
