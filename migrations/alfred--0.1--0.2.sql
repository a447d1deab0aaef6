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

-- agent: extend_lease keeps a lease that expired but that nobody claimed since
CREATE OR REPLACE FUNCTION alfred.extend_lease(run_id uuid, worker text, lease interval DEFAULT '5 minutes')
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	run alfred.task_runs := alfred.run_for_update(extend_lease.run_id);
BEGIN
	IF extend_lease.lease IS NULL OR extend_lease.lease <= interval '0' THEN
		RAISE EXCEPTION 'lease must be positive'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- a lease that ran out but that nobody took since (a claim changes
	-- claimed_by) is still the worker's: an outage does not cost its run
	IF run.status <> 'running' OR run.claimed_by IS DISTINCT FROM extend_lease.worker THEN
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
COMMENT ON FUNCTION alfred.extend_lease(uuid, text, interval) IS
'For a long external run: extends worker''s lease to now + lease and returns its end, also after it expired if nobody claimed the run since. 55000 when the run is no longer this worker''s (another worker claimed it, or it ended).';
