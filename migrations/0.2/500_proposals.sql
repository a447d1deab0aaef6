-- 500_proposals.sql: the one state machine for every action an agent wants to
-- take (task actions, e-mail and calendar actions, any other action type).
-- C in src/core/proposal.c (transition table, payload shapes, edit distance),
-- src/proposal_sql.c (its SQL wrappers) and src/proposal_guard.c (the trigger).
--
--   pending --approve--> approved --start--> executing --finish ok--> executed
--      |                    |                    '--finish error--> failed --retry--> approved
--      +--reject--> rejected <--reject--'                                 |
--      |               ^-------------------------reject-------------------'
--      '--(expires_at passes)--> expired
--
-- A proposal is rejected at any stage where its action has not happened and is
-- not happening: pending, approved, failed; never while executing.
--
-- Every API function locks the proposal row; a decision taken on a proposal
-- that a concurrent transaction changed meanwhile fails with 40001, so of two
-- people deciding at once exactly one wins.

/*---- C functions ----*/

CREATE FUNCTION @extschema@.check_proposal_payload(action_type text, payload jsonb, edited boolean DEFAULT false)
RETURNS void
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_check_proposal_payload';
COMMENT ON FUNCTION @extschema@.check_proposal_payload(text, jsonb, boolean) IS
'Raises 22023 naming the missing, unknown or invalid key when payload does not fit the shape of action_type (task actions create/update/complete/delete/query; create_email_draft; create_calendar_event, update_calendar_event, delete_calendar_event, create_reminder_event); other action types take any JSON object';

CREATE FUNCTION @extschema@.proposal_edit_distance(proposed jsonb, edited jsonb)
RETURNS double precision
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_proposal_edit_distance_sql';
COMMENT ON FUNCTION @extschema@.proposal_edit_distance(jsonb, jsonb) IS
'Normalized edit distance in [0, 1] between two JSON values: the edit cost (Levenshtein over strings'' code points and array elements, 1 per changed scalar, a key''s whole content when added or removed) divided by the content of the larger value';

CREATE FUNCTION @extschema@.proposal_edit_signal(distance double precision)
RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_proposal_edit_signal_sql';
COMMENT ON FUNCTION @extschema@.proposal_edit_signal(double precision) IS
'The preference signal of an approval with the given edit distance: approved at 0, edited_lightly below 0.25, edited_heavily from 0.25';

CREATE FUNCTION @extschema@.proposal_transition_allowed(from_status text, to_status text)
RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_proposal_transition_allowed_sql';
COMMENT ON FUNCTION @extschema@.proposal_transition_allowed(text, text) IS
'Whether the proposal state machine allows a move from from_status to to_status (the table the guard trigger enforces)';

CREATE FUNCTION @extschema@.proposals_guard()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'alfred_proposals_guard';
COMMENT ON FUNCTION @extschema@.proposals_guard() IS
'Trigger: a proposal''s status changes only along the state machine (else 55000 naming both statuses); entering a status stamps its timestamp; payload, action and history columns cannot be written directly';

CREATE TRIGGER proposals_guard
	BEFORE UPDATE ON @extschema@.proposals
	FOR EACH ROW EXECUTE FUNCTION @extschema@.proposals_guard();

-- The API finds a proposal by its id alone (the primary key leads with user_id);
-- with user_id so that the table can be distributed by it.
CREATE UNIQUE INDEX proposals_id_key ON @extschema@.proposals (id, user_id);

/*---- internal helpers ----*/

CREATE FUNCTION @extschema@._proposal_lock(proposal_id uuid)
RETURNS @extschema@.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	seen text;
	owner uuid;
	locked record;
BEGIN
	PERFORM @extschema@._require_argument('proposal_id', proposal_id);
	-- what this statement's snapshot shows, then the row as locked: if a
	-- concurrent transaction changed it in between, the caller decided on a
	-- stale proposal
	SELECT x.xmin::text, x.user_id INTO seen, owner FROM @extschema@.proposals x WHERE x.id = _proposal_lock.proposal_id;
	IF owner IS NOT NULL THEN	-- (else FOUND stays false; on Citus a lock on no shard fails)
		SELECT x AS p, x.xmin::text AS xmin INTO locked
		  FROM @extschema@.proposals x WHERE x.user_id = owner AND x.id = _proposal_lock.proposal_id FOR UPDATE;
	END IF;
	IF NOT FOUND AND owner <> ALL (@extschema@.writable_user_ids())
	   AND EXISTS (SELECT 1 FROM @extschema@.proposals x WHERE x.id = _proposal_lock.proposal_id) THEN
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
COMMENT ON FUNCTION @extschema@._proposal_lock(uuid) IS
'Internal: locks a proposal for a state change; P0002 when it does not exist (or the caller cannot see it), 42501 when the caller may read but not change it, 40001 when a concurrent transaction changed it after the calling statement''s snapshot';

CREATE FUNCTION @extschema@._proposal_signal(p @extschema@.proposals, kind text, extra jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- plpgsql, not sql: the INSERT's plan is cached across calls
	INSERT INTO @extschema@.preference_signals (user_id, item_id, proposal_id, signal_type, context)
	VALUES (p.user_id, p.related_item_id, p.id, kind,
			jsonb_build_object('agent_name', p.agent_name, 'action_type', p.action_type) || coalesce(extra, '{}'));
END
$$;
COMMENT ON FUNCTION @extschema@._proposal_signal(@extschema@.proposals, text, jsonb) IS
'Internal: records a human decision on a proposal in preference_signals';

CREATE FUNCTION @extschema@._proposal_require(p @extschema@.proposals, allowed text[], hint text DEFAULT NULL)
RETURNS @extschema@.proposals
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
	n int := cardinality(allowed);
	wanted text := CASE WHEN n = 1 THEN allowed[1]
						ELSE array_to_string(allowed[1:n - 1], ', ') || ' or ' || allowed[n] END;
BEGIN
	IF p.status = ANY (allowed) THEN
		RETURN p;
	ELSIF hint IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('proposal "%s" is not %s', p.id, wanted),
			DETAIL = format('It is %s.', p.status);
	END IF;
	RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
		MESSAGE = format('proposal "%s" is not %s', p.id, wanted),
		DETAIL = format('It is %s.', p.status),
		HINT = hint;
END
$$;
COMMENT ON FUNCTION @extschema@._proposal_require(@extschema@.proposals, text[], text) IS
'Internal: the proposal when its status is one of allowed; otherwise 55000 "proposal is not <allowed, listed with or>", its detail the status it is in, with the hint when one is given';

/* A payload time: with an offset as given, without one in the user's timezone. */
CREATE FUNCTION @extschema@._proposal_time(value text, tz text)
RETURNS timestamptz
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN value ~ '^\d{4}-\d\d-\d\d[Tt ].*([Zz]|[+-]\d\d(:?\d\d)?)$'
				THEN value::timestamptz
				ELSE value::timestamp AT TIME ZONE tz END;
$$;
COMMENT ON FUNCTION @extschema@._proposal_time(text, text) IS
'Internal: an ISO 8601 time from a payload; without an offset it is wall time in tz';

/* A task a proposal names must be one of its user's tasks (else 22023, not a raw foreign-key error). */
CREATE FUNCTION @extschema@._proposal_check_task(user_id uuid, task_id uuid, what text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF task_id IS NOT NULL AND NOT EXISTS (
		SELECT FROM @extschema@.tasks t
		 WHERE t.user_id = _proposal_check_task.user_id AND t.id = _proposal_check_task.task_id) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('task "%s" does not exist', task_id),
			DETAIL = format('The %s names no task of user "%s".', what, user_id);
	END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._proposal_check_task(uuid, uuid, text) IS
'Internal: raises 22023 naming the task when task_id is not NULL and not one of the user''s tasks (what says where the id came from)';

/*---- the built-in executor of task actions ----*/

CREATE FUNCTION @extschema@._proposal_apply_task_fields(uid uuid, tid uuid, pl jsonb, tz text)
RETURNS @extschema@.tasks
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t @extschema@.tasks;
BEGIN
	UPDATE @extschema@.tasks x SET
		title = CASE WHEN pl ? 'title' THEN pl->>'title' ELSE x.title END,
		description = CASE WHEN pl ? 'description' THEN pl->>'description' ELSE x.description END,
		priority = CASE WHEN pl ? 'priority' THEN pl->>'priority' ELSE x.priority END,
		due_date = CASE WHEN pl ? 'due_date' THEN @extschema@._proposal_time(pl->>'due_date', tz) ELSE x.due_date END,
		tags = CASE WHEN pl ? 'tags' THEN ARRAY(SELECT jsonb_array_elements_text(pl->'tags')) ELSE x.tags END,
		project_id = CASE WHEN pl ? 'project_id' THEN (pl->>'project_id')::uuid ELSE x.project_id END,
		updated_at = now()
	WHERE x.user_id = uid AND x.id = tid
	RETURNING * INTO t;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'no_data_found', MESSAGE = format('task "%s" does not exist', tid);
	END IF;
	RETURN t;
END
$$;
COMMENT ON FUNCTION @extschema@._proposal_apply_task_fields(uuid, uuid, jsonb, text) IS
'Internal: writes the task fields present in a create/update payload to one of the user''s tasks';

CREATE FUNCTION @extschema@._proposal_query_tasks(uid uuid, pl jsonb, tz text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	f jsonb := coalesce(pl->'filters', '{}');
	statuses text[] := ARRAY(SELECT jsonb_array_elements_text(
		CASE jsonb_typeof(f->'status') WHEN 'array' THEN f->'status' ELSE jsonb_build_array(f->'status') END));
	found jsonb;
BEGIN
	SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.due_date NULLS LAST, t.created_at, t.id), '[]')
	  INTO found
	  FROM (SELECT *
			  FROM @extschema@.tasks t
			 WHERE t.user_id = uid
			   AND (NOT pl ? 'task_id' OR t.id = (pl->>'task_id')::uuid)
			   AND (NOT f ? 'completed' OR (t.status = 'completed') = (f->>'completed')::boolean)
			   AND (NOT f ? 'status' OR t.status = ANY (statuses))
			   AND (NOT f ? 'priority' OR t.priority = f->>'priority')
			   AND (NOT f ? 'due_before' OR t.due_date < @extschema@._proposal_time(f->>'due_before', tz))
			   AND (NOT f ? 'due_after' OR t.due_date >= @extschema@._proposal_time(f->>'due_after', tz))
			   AND (NOT f ? 'search' OR strpos(lower(t.title || ' ' || coalesce(t.description, '')),
											   lower(f->>'search')) > 0)
			   AND (NOT f ? 'tag' OR f->>'tag' = ANY (t.tags))
			   AND (NOT f ? 'project_id' OR t.project_id = (f->>'project_id')::uuid)
			 ORDER BY t.due_date NULLS LAST, t.created_at, t.id
			 LIMIT coalesce((f->>'limit')::int, 50)) t;
	RETURN jsonb_build_object('count', jsonb_array_length(found), 'tasks', found);
END
$$;
COMMENT ON FUNCTION @extschema@._proposal_query_tasks(uuid, jsonb, text) IS
'Internal: the query task action: the user''s tasks matching the payload''s filters (at most limit, default 50) as {"count", "tasks"}';

CREATE FUNCTION @extschema@._proposal_run_task_action(p @extschema@.proposals)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pl jsonb := coalesce(p.edited_payload, p.payload);
	tz text := coalesce((SELECT u.timezone FROM @extschema@.users u WHERE u.id = p.user_id), 'UTC');
	tid uuid := (pl->>'task_id')::uuid;
	t @extschema@.tasks;
BEGIN
	CASE p.action_type
	WHEN 'create' THEN
		INSERT INTO @extschema@.tasks (user_id, title, source, created_by)
		VALUES (p.user_id, pl->>'title', 'conversation', coalesce(p.approved_by, p.user_id))
		RETURNING id INTO tid;
		t := @extschema@._proposal_apply_task_fields(p.user_id, tid, pl, tz);
	WHEN 'update' THEN
		t := @extschema@._proposal_apply_task_fields(p.user_id, tid, pl, tz);
	WHEN 'complete' THEN
		UPDATE @extschema@.tasks x
		   SET status = CASE WHEN (pl->>'completed')::boolean THEN 'completed' ELSE 'pending' END,
			   completed_at = CASE WHEN (pl->>'completed')::boolean THEN coalesce(x.completed_at, now()) END,
			   updated_at = now()
		 WHERE x.user_id = p.user_id AND x.id = tid
		RETURNING * INTO t;
	WHEN 'delete' THEN
		DELETE FROM @extschema@.tasks x WHERE x.user_id = p.user_id AND x.id = tid RETURNING * INTO t;
		IF FOUND THEN
			RETURN jsonb_build_object('deleted', to_jsonb(t));
		END IF;
	WHEN 'query' THEN
		RETURN @extschema@._proposal_query_tasks(p.user_id, pl, tz);
	END CASE;
	IF t.id IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'no_data_found', MESSAGE = format('task "%s" does not exist', tid);
	END IF;
	RETURN jsonb_build_object('task', to_jsonb(t));
END
$$;
COMMENT ON FUNCTION @extschema@._proposal_run_task_action(@extschema@.proposals) IS
'Internal: performs a task action (create, update, complete, delete, query) with the approved payload; returns its result';

/*
 * approved -> executing -> executed | failed, in the caller's transaction.
 * The action runs in a subtransaction: when it fails only its own effects
 * roll back and the failure is recorded; errors of class 40 (serialization,
 * deadlock) propagate so that the caller's transaction retries as a whole.
 */
CREATE FUNCTION @extschema@._proposal_execute(p @extschema@.proposals)
RETURNS @extschema@.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	started timestamptz := clock_timestamp();
	outcome jsonb;
	failure text;
	state text;
BEGIN
	UPDATE @extschema@.proposals x SET status = 'executing' WHERE x.user_id = p.user_id AND x.id = p.id;
	BEGIN
		outcome := @extschema@._proposal_run_task_action(p);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS failure = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
		IF state LIKE '40%' THEN
			RAISE;
		END IF;
	END;
	UPDATE @extschema@.proposals x
	   SET status = CASE WHEN failure IS NULL THEN 'executed' ELSE 'failed' END,
		   result = outcome,
		   error_message = failure,
		   task_id = CASE WHEN p.action_type = 'create' AND failure IS NULL
						  THEN (outcome->'task'->>'id')::uuid
						  WHEN p.action_type = 'delete' THEN NULL
						  ELSE x.task_id END
	 WHERE x.user_id = p.user_id AND x.id = p.id
	RETURNING * INTO p;
	INSERT INTO @extschema@.execution_logs
		(user_id, proposal_id, executor_status, executor_error, request_payload, response_payload,
		 execution_duration_ms)
	VALUES (p.user_id, p.id, CASE WHEN failure IS NULL THEN 'success' ELSE 'failure' END,
			CASE WHEN failure IS NOT NULL THEN format('%s (SQLSTATE %s)', failure, state) END,
			coalesce(p.edited_payload, p.payload), outcome,
			ceil(extract(epoch FROM clock_timestamp() - started) * 1000)::int);
	RETURN p;
END
$$;
COMMENT ON FUNCTION @extschema@._proposal_execute(@extschema@.proposals) IS
'Internal: runs an approved task action through executing to executed or failed and writes its execution_logs row';

/*---- the API ----*/

CREATE FUNCTION @extschema@.propose(
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
	p @extschema@.proposals;
	payload_task uuid;
BEGIN
	PERFORM @extschema@._require_argument('user_id', propose.user_id);
	PERFORM @extschema@._require_argument('agent_name', propose.agent_name);
	PERFORM @extschema@._require_argument('action_type', propose.action_type);
	PERFORM @extschema@._require_argument('risk_level', propose.risk_level);
	IF @extschema@.is_blank(propose.agent_name) THEN
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
	PERFORM @extschema@.check_proposal_payload(propose.action_type, propose.payload);
	IF @extschema@._proposal_is_task_action(propose.action_type) THEN
		payload_task := (propose.payload->>'task_id')::uuid;
	END IF;
	IF propose.task_id IS DISTINCT FROM payload_task AND propose.task_id IS NOT NULL AND payload_task IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('task_id "%s" does not match the payload''s task_id "%s"', propose.task_id, payload_task);
	END IF;
	PERFORM @extschema@._proposal_check_task(propose.user_id, coalesce(payload_task, propose.task_id),
		CASE WHEN payload_task IS NOT NULL THEN 'payload''s "task_id"' ELSE 'argument task_id' END);

	INSERT INTO @extschema@.proposals AS x
		(user_id, agent_name, action_type, payload, risk_level, explanation, warning_text, expires_at,
		 related_item_id, task_id, session_id, message_id, confidence, requested_by)
	VALUES (propose.user_id, propose.agent_name, propose.action_type, propose.payload, propose.risk_level,
			propose.explanation, propose.warning_text, propose.expires_at, propose.related_item_id,
			coalesce(propose.task_id, payload_task), propose.session_id, propose.message_id, propose.confidence,
			propose.requested_by)
	RETURNING * INTO p;

	-- the machine's own decisions (no preference signal: no human decided)
	IF p.risk_level = 'high' AND coalesce((SELECT s.auto_reject_high_risk FROM @extschema@.user_settings s
											WHERE s.user_id = p.user_id), true) THEN
		UPDATE @extschema@.proposals x SET status = 'rejected', rejection_reason = 'auto_reject_high_risk'
		 WHERE x.user_id = p.user_id AND x.id = p.id;
	ELSIF p.action_type = 'query' AND p.risk_level = 'low' THEN
		UPDATE @extschema@.proposals x SET status = 'approved' WHERE x.user_id = p.user_id AND x.id = p.id RETURNING * INTO p;
		PERFORM @extschema@._proposal_execute(p);
	END IF;
	RETURN p.id;
END
$$;
COMMENT ON FUNCTION @extschema@.propose(uuid, text, text, jsonb, text, text, text, timestamptz, uuid, uuid, uuid, uuid, double precision, text) IS
'Records an action an agent proposes (pending); checks the payload for the action type (22023 naming the key); a high-risk proposal is rejected at once when the user''s auto_reject_high_risk is on, a low-risk query task action runs at once; returns the proposal id';

CREATE FUNCTION @extschema@.approve(proposal_id uuid, edited_payload jsonb DEFAULT NULL, execute boolean DEFAULT false)
RETURNS @extschema@.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p @extschema@.proposals := @extschema@._proposal_lock(approve.proposal_id);
	distance double precision;
	signal text := 'approved';
	actor uuid;
	new_task uuid;
BEGIN
	PERFORM @extschema@._proposal_require(p, '{pending}',
		CASE WHEN p.status = 'failed' THEN 'Retry it with alfred.retry_proposal(), or reject it.' END);
	IF p.expires_at <= now() THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('proposal "%s" has expired', p.id),
			DETAIL = 'Its expires_at has passed; alfred.expire_proposals() marks it expired.';
	END IF;
	IF approve.execute AND NOT @extschema@._proposal_is_task_action(p.action_type) THEN
		PERFORM @extschema@._proposal_no_executor(p);
	END IF;
	IF approve.edited_payload IS NOT NULL THEN
		PERFORM @extschema@.check_proposal_payload(p.action_type, approve.edited_payload, true);
		IF @extschema@._proposal_is_task_action(p.action_type) THEN
			PERFORM @extschema@._proposal_check_task(p.user_id, (approve.edited_payload->>'task_id')::uuid,
													 'edited payload''s "task_id"');
		END IF;
		distance := @extschema@.proposal_edit_distance(p.payload, approve.edited_payload);
		signal := @extschema@.proposal_edit_signal(distance);
	END IF;

	-- (the values first: Citus takes no stable function in a CASE or
	-- coalesce of an UPDATE)
	actor := coalesce(@extschema@.current_user_id(), p.user_id);
	new_task := CASE WHEN @extschema@._proposal_is_task_action(p.action_type)
						  AND approve.edited_payload ? 'task_id'
					 THEN (approve.edited_payload->>'task_id')::uuid ELSE p.task_id END;
	UPDATE @extschema@.proposals x
	   SET status = 'approved',
		   approved_by = actor,
		   edited_payload = approve.edited_payload,
		   task_id = new_task
	 WHERE x.user_id = p.user_id AND x.id = p.id
	RETURNING * INTO p;
	PERFORM @extschema@._proposal_signal(p, signal,
		CASE WHEN distance IS NOT NULL
			 THEN jsonb_build_object('distance', round(distance::numeric, 4), 'heavy_edit_threshold', 0.25) END);
	IF approve.execute THEN
		p := @extschema@._proposal_execute(p);
	END IF;
	RETURN p;
END
$$;
COMMENT ON FUNCTION @extschema@.approve(uuid, jsonb, boolean) IS
'The user approves a pending proposal, optionally with an edited payload (checked like the original); writes an approved, edited_lightly or edited_heavily signal; execute => true also runs a task action in the same transaction';

CREATE FUNCTION @extschema@.reject(proposal_id uuid, reason text DEFAULT NULL)
RETURNS @extschema@.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p @extschema@.proposals := @extschema@._proposal_lock(reject.proposal_id);
	was text := p.status;
	actor uuid;
BEGIN
	PERFORM @extschema@._proposal_require(p, '{pending,approved,failed}',
		CASE WHEN p.status = 'executing' THEN 'Wait for its outcome: an action under way cannot be called back; a failed one can be rejected.' END);
	actor := coalesce(@extschema@.current_user_id(), p.user_id);	-- (Citus: no stable function in a coalesce of an UPDATE)
	UPDATE @extschema@.proposals x
	   SET status = 'rejected', rejected_by = actor, rejection_reason = reject.reason
	 WHERE x.user_id = p.user_id AND x.id = p.id
	RETURNING * INTO p;
	PERFORM @extschema@._proposal_signal(p, 'rejected',
		jsonb_build_object('was', was) || jsonb_strip_nulls(jsonb_build_object('reason', reject.reason)));
	RETURN p;
END
$$;
COMMENT ON FUNCTION @extschema@.reject(uuid, text) IS
'The user rejects a pending, approved (not yet executing) or failed proposal, with an optional reason; writes a rejected signal (its context says which status it was in); who approved it, if anyone, stays recorded';

CREATE FUNCTION @extschema@.start_execution(proposal_id uuid)
RETURNS @extschema@.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p @extschema@.proposals := @extschema@._proposal_lock(start_execution.proposal_id);
BEGIN
	IF @extschema@._proposal_is_task_action(p.action_type) THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('proposal "%s" is a task action', p.id),
			DETAIL = format('alfred executes "%s" itself.', p.action_type),
			HINT = 'Use alfred.execute_proposal().';
	END IF;
	PERFORM @extschema@._proposal_require(p, '{approved}');
	UPDATE @extschema@.proposals x SET status = 'executing' WHERE x.user_id = p.user_id AND x.id = p.id RETURNING * INTO p;
	RETURN p;
END
$$;
COMMENT ON FUNCTION @extschema@.start_execution(uuid) IS
'An outside executor takes an approved proposal (approved -> executing); task actions are executed by alfred.execute_proposal() instead';

CREATE FUNCTION @extschema@.finish_execution(
	proposal_id uuid,
	status text,
	result jsonb DEFAULT NULL,
	error text DEFAULT NULL,
	external_ids jsonb DEFAULT NULL,
	request_payload jsonb DEFAULT NULL,
	duration_ms integer DEFAULT NULL)
RETURNS @extschema@.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p @extschema@.proposals;
BEGIN
	PERFORM @extschema@._require_argument('status', finish_execution.status);
	p := @extschema@._proposal_lock(finish_execution.proposal_id);
	IF finish_execution.status NOT IN ('success', 'partial', 'failure') THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid execution status "%s"', finish_execution.status),
			DETAIL = 'An execution status is success, partial or failure.';
	END IF;
	IF finish_execution.status = 'failure' AND coalesce(@extschema@.is_blank(finish_execution.error), true) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'error must be given when status is "failure"';
	END IF;
	IF finish_execution.duration_ms < 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('duration_ms %s is negative', finish_execution.duration_ms);
	END IF;
	PERFORM @extschema@._proposal_require(p, '{executing}',
		CASE WHEN p.status = 'approved' THEN 'Call alfred.start_execution() first.' END);
	UPDATE @extschema@.proposals x
	   SET status = CASE WHEN finish_execution.status = 'failure' THEN 'failed' ELSE 'executed' END,
		   result = finish_execution.result,
		   error_message = finish_execution.error
	 WHERE x.user_id = p.user_id AND x.id = p.id
	RETURNING * INTO p;
	INSERT INTO @extschema@.execution_logs
		(user_id, proposal_id, executor_status, executor_error, external_ids, request_payload,
		 response_payload, execution_duration_ms)
	VALUES (p.user_id, p.id, finish_execution.status, finish_execution.error, coalesce(finish_execution.external_ids, '{}'),
			coalesce(finish_execution.request_payload, p.edited_payload, p.payload), finish_execution.result,
			coalesce(finish_execution.duration_ms,
					 ceil(extract(epoch FROM coalesce(p.executed_at, p.failed_at) - p.started_at) * 1000)::int));
	RETURN p;
END
$$;
COMMENT ON FUNCTION @extschema@.finish_execution(uuid, text, jsonb, text, jsonb, jsonb, integer) IS
'An outside executor reports an executing proposal''s outcome (status success, partial or failure; failure needs error): executing -> executed or failed, and an execution_logs row (duration defaults to the time since start_execution)';

CREATE FUNCTION @extschema@.execute_proposal(proposal_id uuid)
RETURNS @extschema@.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p @extschema@.proposals := @extschema@._proposal_lock(execute_proposal.proposal_id);
BEGIN
	IF NOT @extschema@._proposal_is_task_action(p.action_type) THEN
		PERFORM @extschema@._proposal_no_executor(p);
	END IF;
	PERFORM @extschema@._proposal_require(p, '{approved}',
		CASE WHEN p.status = 'pending' THEN 'Approve it first, or approve and execute at once with alfred.approve(..., execute => true).'
			 WHEN p.status = 'failed' THEN 'Retry it with alfred.retry_proposal() first.' END);
	RETURN @extschema@._proposal_execute(p);
END
$$;
COMMENT ON FUNCTION @extschema@.execute_proposal(uuid) IS
'Runs an approved task action inside the database (approved -> executing -> executed or failed, one execution_logs row), in the caller''s transaction: it happens exactly once or not at all';

CREATE FUNCTION @extschema@.retry_proposal(proposal_id uuid)
RETURNS @extschema@.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p @extschema@.proposals := @extschema@._proposal_lock(retry_proposal.proposal_id);
	actor uuid;
BEGIN
	PERFORM @extschema@._proposal_require(p, '{failed}');
	actor := coalesce(@extschema@.current_user_id(), p.user_id);	-- (Citus: no stable function in a coalesce of an UPDATE)
	UPDATE @extschema@.proposals x
	   SET status = 'approved', approved_by = actor, result = NULL, error_message = NULL
	 WHERE x.user_id = p.user_id AND x.id = p.id
	RETURNING * INTO p;
	RETURN p;
END
$$;
COMMENT ON FUNCTION @extschema@.retry_proposal(uuid) IS
'Puts a failed proposal back to approved (failed -> approved) so that it can be executed again; its earlier attempts stay in execution_logs';

CREATE FUNCTION @extschema@.expire_proposals()
RETURNS integer
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH expired AS (
		UPDATE @extschema@.proposals x SET status = 'expired'
		 WHERE x.status = 'pending' AND x.expires_at <= now()
		RETURNING x.*),
	signals AS (
		INSERT INTO @extschema@.preference_signals (user_id, item_id, proposal_id, signal_type, context)
		SELECT e.user_id, e.related_item_id, e.id, 'ignored',
			   jsonb_build_object('agent_name', e.agent_name, 'action_type', e.action_type)
		  FROM expired e)
	SELECT count(*)::int FROM expired;
$$;
COMMENT ON FUNCTION @extschema@.expire_proposals() IS
'Marks every pending proposal whose expires_at has passed expired, with an ignored signal each; returns how many';

/*---- helpers used above (plpgsql resolves them at run time) ----*/

CREATE FUNCTION @extschema@._proposal_is_task_action(action_type text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT action_type IN ('create', 'update', 'complete', 'delete', 'query') $$;
COMMENT ON FUNCTION @extschema@._proposal_is_task_action(text) IS
'Internal: whether alfred executes the action type itself';

CREATE FUNCTION @extschema@._proposal_no_executor(p @extschema@.proposals)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
		MESSAGE = format('action "%s" has no built-in executor', p.action_type),
		DETAIL = 'alfred executes only the task actions create, update, complete, delete and query.',
		HINT = 'Execute it outside and report with alfred.start_execution() and alfred.finish_execution().';
END
$$;
COMMENT ON FUNCTION @extschema@._proposal_no_executor(@extschema@.proposals) IS
'Internal: raises 55000 for an action type that alfred cannot execute itself';

/*---- the views approvals and task_actions over the one table ----*/

CREATE VIEW @extschema@.approvals WITH (security_invoker = true) AS
SELECT p.id, p.user_id, p.task_id, p.action_type,
	   coalesce(p.edited_payload, p.payload) AS details,
	   CASE WHEN p.status IN ('pending', 'rejected', 'expired') THEN p.status ELSE 'approved' END AS status,
	   coalesce(p.requested_by, p.agent_name) AS requested_by,
	   p.approved_by, p.approved_at,
	   p.rejected_by, p.rejected_at, p.expires_at, p.created_at, p.updated_at,
	   coalesce(p.notes, p.rejection_reason, p.explanation) AS notes
  FROM @extschema@.proposals p;
COMMENT ON VIEW @extschema@.approvals IS
'alfred.proposals as an approvals table: status pending, approved (also executing, executed, failed), rejected or expired; approved_by/approved_at and rejected_by/rejected_at (both when an approved proposal was rejected later); requested_by is who asked (else the agent), notes the proposal''s notes, else the rejection reason, else the explanation. Writable through the state machine (trigger approvals_write)';

CREATE VIEW @extschema@.task_actions WITH (security_invoker = true) AS
SELECT p.id, p.session_id, p.message_id, p.user_id, p.action_type,
	   coalesce(p.edited_payload, p.payload) AS extracted_params,
	   p.confidence AS confidence_score,
	   CASE WHEN p.status = 'pending' THEN 'pending'
			WHEN p.status IN ('rejected', 'expired') THEN 'rejected'
			ELSE 'confirmed' END AS confirmation_status,
	   CASE p.status WHEN 'executing' THEN 'executing' WHEN 'executed' THEN 'success'
			WHEN 'failed' THEN 'failed' ELSE 'not_executed' END AS executed_status,
	   p.task_id, p.error_message, p.created_at,
	   p.approved_at AS confirmed_at, p.executed_at
  FROM @extschema@.proposals p
 WHERE p.action_type IN ('create', 'update', 'complete', 'delete', 'query');
COMMENT ON VIEW @extschema@.task_actions IS
'The task actions of alfred.proposals, confirmation and execution apart: confirmation_status pending, confirmed or rejected (also expired); executed_status not_executed, executing, success or failed. Writable through the state machine (trigger task_actions_write)';

/*
 * Writing the views.  Clients write these views as if they were
 * tables; each write becomes a call of the API above, so it is checked,
 * signalled and guarded exactly as the API is (row-level security applies:
 * the views are security_invoker and so are these triggers).
 */

/* The columns of a view row that a write changes (INSERT: the non-NULL ones). */
CREATE FUNCTION @extschema@._view_written(new_row jsonb, old_row jsonb)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT coalesce(array_agg(k ORDER BY k), '{}')
	  FROM jsonb_object_keys(new_row) k
	 WHERE CASE WHEN old_row IS NULL THEN new_row->k <> 'null'
				ELSE new_row->k IS DISTINCT FROM old_row->k END
$$;
COMMENT ON FUNCTION @extschema@._view_written(jsonb, jsonb) IS
'Internal: the columns a write to a view sets: those that differ from the old row, or for an INSERT (old_row NULL) those that are not NULL';

CREATE FUNCTION @extschema@._view_not_writable(view_name text, written text[], writable text[], op text, allowed text)
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
COMMENT ON FUNCTION @extschema@._view_not_writable(text, text[], text[], text, text) IS
'Internal: raises 0A000 naming the first written column that is not writable through the view approvals or task_actions (op is ''insert into'' or ''update'')';

CREATE FUNCTION @extschema@._view_bad_value(col text, value text, allowed text)
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
COMMENT ON FUNCTION @extschema@._view_bad_value(text, text, text) IS
'Internal: raises 22023 for a value a column of the view approvals or task_actions does not take';

/* The decider recorded by approve/reject must be who the caller says decided. */
CREATE FUNCTION @extschema@._view_check_decider(col text, given uuid, proposal_user uuid)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
	IF given IS DISTINCT FROM coalesce(@extschema@.current_user_id(), proposal_user) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = CASE col
				WHEN 'approved_by' THEN format('approved_by "%s" is not the acting user', given)
				ELSE format('rejected_by "%s" is not the acting user', given)
			END,
			DETAIL = 'alfred records who decided: the current alfred user (set_session or act_as), or the proposal''s own user when a service decides without one.';
	END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._view_check_decider(text, uuid, uuid) IS
'Internal: raises 42501 unless given is the user approve/reject record as the decider';

CREATE FUNCTION @extschema@.task_actions_write()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w text[] := @extschema@._view_written(to_jsonb(NEW), CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END);
	pid uuid;
	confirming boolean;
BEGIN
	IF NEW.confirmation_status NOT IN ('pending', 'confirmed', 'rejected') THEN
		PERFORM @extschema@._view_bad_value('confirmation_status', NEW.confirmation_status, 'pending, confirmed, rejected');
	END IF;
	IF NEW.executed_status NOT IN ('not_executed', 'executing', 'success', 'failed') THEN
		PERFORM @extschema@._view_bad_value('executed_status', NEW.executed_status, 'not_executed, executing, success, failed');
	END IF;
	IF TG_OP = 'INSERT' THEN
		PERFORM @extschema@._view_not_writable('task_actions',
			w, ARRAY['user_id', 'session_id', 'message_id', 'action_type', 'extracted_params', 'confidence_score', 'task_id',
					 CASE WHEN NEW.confirmation_status = 'pending' THEN 'confirmation_status' END,
					 CASE WHEN NEW.executed_status = 'not_executed' THEN 'executed_status' END],
			'insert into', 'user_id, session_id, message_id, action_type, extracted_params, confidence_score and task_id');
		IF NOT @extschema@._proposal_is_task_action(NEW.action_type) THEN
			PERFORM @extschema@._view_bad_value('task action', NEW.action_type, 'create, update, complete, delete, query');
		END IF;
		pid := @extschema@.propose(user_id => coalesce(NEW.user_id, @extschema@.current_user_id()),
			agent_name => 'assistant', action_type => NEW.action_type,
			payload => coalesce(NEW.extracted_params, '{}'), task_id => NEW.task_id,
			session_id => NEW.session_id, message_id => NEW.message_id, confidence => NEW.confidence_score);
	ELSE
		pid := OLD.id;
		PERFORM @extschema@._view_not_writable('task_actions',
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
			PERFORM @extschema@.approve(pid,
				edited_payload => CASE WHEN 'extracted_params' = ANY (w) THEN NEW.extracted_params END,
				execute => NEW.executed_status = 'executing');
		ELSIF 'confirmation_status' = ANY (w) AND NEW.confirmation_status = 'rejected' THEN
			PERFORM @extschema@.reject(pid);
		ELSIF 'confirmation_status' = ANY (w) THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('task action "%s" cannot go from %s to %s', pid, OLD.confirmation_status, NEW.confirmation_status),
				DETAIL = 'A task action is confirmed or rejected once; it never returns to pending.';
		ELSIF 'executed_status' = ANY (w) THEN
			IF OLD.executed_status = 'failed' THEN
				PERFORM @extschema@.retry_proposal(pid);
			END IF;
			PERFORM @extschema@.execute_proposal(pid);
		END IF;
	END IF;
	SELECT * INTO NEW FROM @extschema@.task_actions t WHERE t.id = pid;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.task_actions_write() IS
'Trigger INSTEAD OF INSERT OR UPDATE on task_actions: an INSERT proposes the task action (alfred.propose, agent "assistant"); confirmation_status pending -> confirmed approves (a changed extracted_params is the edited payload; executed_status ''executing'' in the same UPDATE also runs it), -> rejected rejects; executed_status -> ''executing'' runs a confirmed action (retrying a failed one). Anything else raises 0A000, 22023 or 55000 and changes nothing';

CREATE TRIGGER task_actions_write
	INSTEAD OF INSERT OR UPDATE ON @extschema@.task_actions
	FOR EACH ROW EXECUTE FUNCTION @extschema@.task_actions_write();

CREATE FUNCTION @extschema@.approvals_write()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w text[] := @extschema@._view_written(to_jsonb(NEW), CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END);
	pid uuid;
BEGIN
	IF NEW.status NOT IN ('pending', 'approved', 'rejected', 'expired') THEN
		PERFORM @extschema@._view_bad_value('approval status', NEW.status, 'pending, approved, rejected, expired');
	END IF;
	IF TG_OP = 'INSERT' THEN
		PERFORM @extschema@._view_not_writable('approvals',
			w, ARRAY['user_id', 'task_id', 'action_type', 'details', 'requested_by', 'expires_at', 'notes',
					 CASE WHEN NEW.status = 'pending' THEN 'status' END],
			'insert into', 'user_id, task_id, action_type, details, requested_by, expires_at and notes');
		pid := @extschema@.propose(user_id => coalesce(NEW.user_id, @extschema@.current_user_id()),
			agent_name => coalesce(nullif(btrim(NEW.requested_by), ''), 'approvals'),
			action_type => NEW.action_type, payload => coalesce(NEW.details, '{}'),
			expires_at => NEW.expires_at, task_id => NEW.task_id, requested_by => NEW.requested_by);
		IF NEW.notes IS NOT NULL THEN
			UPDATE @extschema@.proposals x SET notes = NEW.notes WHERE x.id = pid;
		END IF;
	ELSE
		pid := OLD.id;
		PERFORM @extschema@._view_not_writable('approvals',
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
				PERFORM @extschema@._view_check_decider('approved_by', NEW.approved_by, OLD.user_id);
			END IF;
			PERFORM @extschema@.approve(pid,
				edited_payload => CASE WHEN 'details' = ANY (w) THEN NEW.details END);
		ELSIF 'status' = ANY (w) AND NEW.status = 'rejected' THEN
			IF 'rejected_by' = ANY (w) THEN
				PERFORM @extschema@._view_check_decider('rejected_by', NEW.rejected_by, OLD.user_id);
			END IF;
			PERFORM @extschema@.reject(pid, reason => CASE WHEN 'notes' = ANY (w) THEN NEW.notes END);
			IF 'notes' = ANY (w) THEN
				UPDATE @extschema@.proposals x SET notes = NEW.notes WHERE x.id = pid;
			END IF;
		ELSIF 'status' = ANY (w) THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('approval "%s" cannot be set to %s', pid, NEW.status),
				DETAIL = 'An approval expires when its expires_at passes (alfred.expire_proposals()) and never returns to pending.';
		ELSIF 'notes' = ANY (w) THEN
			UPDATE @extschema@.proposals x SET notes = NEW.notes WHERE x.id = pid;
		END IF;
	END IF;
	SELECT * INTO NEW FROM @extschema@.approvals a WHERE a.id = pid;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.approvals_write() IS
'Trigger INSTEAD OF INSERT OR UPDATE on approvals: an INSERT proposes (alfred.propose, agent = requested_by); status -> approved approves (changed details are the edited payload), -> rejected rejects (changed notes are the reason, and the notes); approved_by/rejected_by, when written, must be the acting user (42501); approved_at, rejected_at and updated_at are stamped by alfred whatever is written; notes alone update the notes. Anything else raises 0A000, 22023 or 55000 and changes nothing';

CREATE TRIGGER approvals_write
	INSTEAD OF INSERT OR UPDATE ON @extschema@.approvals
	FOR EACH ROW EXECUTE FUNCTION @extschema@.approvals_write();
