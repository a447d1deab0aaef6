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
