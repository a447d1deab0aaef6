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
	PERFORM alfred.check_time('now', now);	-- 'infinity' would remove every row past retention

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
