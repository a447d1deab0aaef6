-- 600_calibration: proactive calibration (DESIGN.md "Proactive calibration").
-- How likely the assistant should be to make a suggestion of each type, learnt
-- from engagement_events; observed patterns and their acceptance.  The model is
-- C (src/core/calibrate.c, wrappers in src/calibrate_sql.c); this part reads and
-- writes the tables.

--
-- State per (user, suggestion type)
--
CREATE TABLE @extschema@.calibration_state (
	user_id uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
	suggestion_type text NOT NULL CHECK (NOT @extschema@.is_blank(suggestion_type)),
	engaged float8 NOT NULL DEFAULT 0 CHECK (engaged >= 0),
	dismissed float8 NOT NULL DEFAULT 0 CHECK (dismissed >= 0),
	global_engaged float8 NOT NULL DEFAULT 0 CHECK (global_engaged >= 0),
	global_dismissed float8 NOT NULL DEFAULT 0 CHECK (global_dismissed >= 0),
	counted_at timestamptz,
	last_event_at timestamptz,
	consecutive_engagements integer NOT NULL DEFAULT 0 CHECK (consecutive_engagements >= 0),
	consecutive_dismissals integer NOT NULL DEFAULT 0 CHECK (consecutive_dismissals >= 0),
	suppressions integer NOT NULL DEFAULT 0 CHECK (suppressions >= 0),
	suppressed_until timestamptz,
	boosted boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, suggestion_type)
);
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON @extschema@.calibration_state
	FOR EACH ROW EXECUTE FUNCTION @extschema@.touch_updated_at();
CREATE TRIGGER tenant_key_immutable BEFORE UPDATE OF user_id ON @extschema@.calibration_state
	FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id)
	EXECUTE FUNCTION @extschema@.forbid_tenant_change();
SELECT @extschema@.enable_tenant_rls('@extschema@.calibration_state');

COMMENT ON TABLE @extschema@.calibration_state IS
'Calibration state of one (user, suggestion type), kept by record_engagement: decayed counts as of counted_at, runs of engagements and dismissals, suppression and boost. Read it as of now through the view calibration (or calibration_at(state, now())).';
COMMENT ON COLUMN @extschema@.calibration_state.engaged IS
'e: engaged events of this type, each weighing 0.5^(age / 14 days), as of counted_at';
COMMENT ON COLUMN @extschema@.calibration_state.dismissed IS
'd: dismissed events of this type, each weighing 0.5^(age / 14 days), as of counted_at';
COMMENT ON COLUMN @extschema@.calibration_state.global_engaged IS
'This type''s share of the user''s global engaged count Ge (30-day half-life), as of counted_at; Ge is the sum over the user''s types';
COMMENT ON COLUMN @extschema@.calibration_state.global_dismissed IS
'This type''s share of the user''s global dismissed count Gd (30-day half-life), as of counted_at';
COMMENT ON COLUMN @extschema@.calibration_state.counted_at IS
'The time the four counts are as of (the last event); NULL before the first event';
COMMENT ON COLUMN @extschema@.calibration_state.last_event_at IS
'When the last engagement event of this type was recorded';
COMMENT ON COLUMN @extschema@.calibration_state.consecutive_engagements IS
'Engagements since the last dismissal (3 with p_hat >= 0.75 boost the type)';
COMMENT ON COLUMN @extschema@.calibration_state.consecutive_dismissals IS
'Dismissals since the last engagement (3 or more with p_hat <= 0.25 suppress the type)';
COMMENT ON COLUMN @extschema@.calibration_state.suppressions IS
'Suppressions since the last engagement; the n-th lasts 30 days * 2^(n-1), at most 180 days';
COMMENT ON COLUMN @extschema@.calibration_state.suppressed_until IS
'End of the current suppression; a past value means the suppression is over (no job clears it)';
COMMENT ON COLUMN @extschema@.calibration_state.boosted IS
'Boosted by a run of engagements; lapses when p_hat < 0.60 (also by decay, read through calibration_at)';

--
-- The model, in C
--
CREATE FUNCTION @extschema@.calibration_step(
	state @extschema@.calibration_state, action text, source text, at timestamptz)
RETURNS @extschema@.calibration_state
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_calibration_step';
COMMENT ON FUNCTION @extschema@.calibration_step(@extschema@.calibration_state, text, text, timestamptz) IS
'The calibration state after one engagement event at time at: decays the counts, adds the event, applies the suppression and boost rules; an action other than engaged/dismissed or a source other than conversation/notification/schedule raises 22023. Used by record_engagement.';

CREATE FUNCTION @extschema@.calibration_at(state @extschema@.calibration_state, at timestamptz)
RETURNS @extschema@.calibration_state
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_calibration_at';
COMMENT ON FUNCTION @extschema@.calibration_at(@extschema@.calibration_state, timestamptz) IS
'The calibration state as of time at: counts decayed to at, a suppression that has run out cleared (suppressed_until NULL), a boost whose p_hat fell below 0.60 dropped';

CREATE FUNCTION @extschema@.calibration_score(
	state @extschema@.calibration_state, level float8, base float8)
RETURNS float8
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_calibration_score';
COMMENT ON FUNCTION @extschema@.calibration_score(@extschema@.calibration_state, float8, float8) IS
'p = P(X >= t), X ~ Beta(1 + engaged, 1 + dismissed), t = (1 - level) / (base * (boosted ? 1.25 : 1)); 0 when suppressed; a NULL state is no history. The state must already be as of the time of the question (calibration_at). base outside (0, 1] raises 22023.';

CREATE FUNCTION @extschema@.proactiveness_level(
	global_engaged float8, global_dismissed float8, override text DEFAULT NULL)
RETURNS float8
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_proactiveness_level';
COMMENT ON FUNCTION @extschema@.proactiveness_level(float8, float8, text) IS
'The global level g = clamp(lo, hi, (3.5 + Ge) / (5 + Ge + Gd)) (0.7 with no events; NULL counts are 0): bounds [0.2, 0.9], [0.6, 1.0] for override ''more'', [0.0, 0.4] for ''less''; another override raises 22023';

CREATE FUNCTION @extschema@.calibration_uniform(seed bigint)
RETURNS float8
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_calibration_uniform';
COMMENT ON FUNCTION @extschema@.calibration_uniform(bigint) IS
'u in [0, 1): the top 53 bits of the first splitmix64 output for seed, divided by 2^53 (should_suggest says yes when u < p)';

CREATE FUNCTION @extschema@.pattern_confidence(
	occurrences integer, last_seen_at timestamptz, at timestamptz)
RETURNS float8
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_pattern_confidence';
COMMENT ON FUNCTION @extschema@.pattern_confidence(integer, timestamptz, timestamptz) IS
'Confidence of an observed pattern at time at: n / (n + 2) * 0.5^(days since last seen / 30)';

CREATE FUNCTION @extschema@.pattern_actionable(
	acted_on boolean, occurrences integer, last_seen_at timestamptz, at timestamptz)
RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_pattern_actionable';
COMMENT ON FUNCTION @extschema@.pattern_actionable(boolean, integer, timestamptz, timestamptz) IS
'Whether a pattern is worth suggesting at time at: not acted on, seen at least 3 times, confidence at least 0.5';

--
-- Reading the state as of now
--
-- What users read is rounded to 4 decimals (a count read seconds after an
-- event is 2.99999999, not 3); the stored state and every score stay exact.
CREATE FUNCTION @extschema@._calibration_round(value float8)
RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT round(value::numeric, 4)::float8 $$;
COMMENT ON FUNCTION @extschema@._calibration_round(float8) IS
'Internal: a calibration value as users read it: rounded to 4 decimal places (the view calibration, global_level of proactiveness()); the state and the scores are computed unrounded';

-- (c passes through jsonb: on Citus the query runs on a shard, whose row
-- type calibration_at does not take)
-- (the row as jsonb: on a Citus shard c is a row of the shard's own type; a
-- cast to calibration_state in the view itself would make the view depend on
-- the row type and refuse every later ALTER TABLE calibration_state)
CREATE FUNCTION @extschema@._calibration_at_json(state jsonb, at timestamptz)
RETURNS @extschema@.calibration_state
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
	SELECT @extschema@.calibration_at(pg_catalog.jsonb_populate_record(NULL::@extschema@.calibration_state, $1), $2)
$$;
COMMENT ON FUNCTION @extschema@._calibration_at_json(jsonb, timestamptz) IS
'Internal: calibration_at of a calibration_state row given as jsonb (the view calibration passes its rows so, which works on Citus shards too)';

CREATE VIEW @extschema@.calibration WITH (security_invoker = true) AS
SELECT s.user_id, s.suggestion_type,
	   @extschema@._calibration_round(s.engaged) AS engaged,
	   @extschema@._calibration_round(s.dismissed) AS dismissed,
	   @extschema@._calibration_round((1 + s.engaged) / (2 + s.engaged + s.dismissed)) AS p_hat,
	   s.consecutive_engagements, s.consecutive_dismissals,
	   s.suppressed_until IS NOT NULL AS suppressed, s.suppressed_until, s.suppressions,
	   s.boosted, s.last_event_at
  FROM @extschema@.calibration_state c
	   CROSS JOIN LATERAL @extschema@._calibration_at_json(pg_catalog.to_jsonb(c), now()) s;
COMMENT ON VIEW @extschema@.calibration IS
'Each (user, suggestion type) as of now: decayed counts e and d, p_hat = (1 + e) / (2 + e + d) (all three rounded to 4 decimals), whether it is suppressed (and until when) or boosted';

CREATE FUNCTION @extschema@.proactiveness(user_id uuid)
RETURNS @extschema@.proactiveness_settings
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
-- (PL/pgSQL, one table per statement: Citus plans no SQL-language function
-- that reads a distributed table with a parameter, and a query it sends to a
-- shard sees the shard's row type, not the table's)
#variable_conflict use_column
DECLARE
	ge			float8;
	gd			float8;
	suppressed	text[];
	boosted		text[];
	stored		@extschema@.proactiveness_settings;
BEGIN
	SELECT sum(s.global_engaged), sum(s.global_dismissed),
		   coalesce(array_agg(s.suggestion_type ORDER BY s.suggestion_type)
					FILTER (WHERE s.suppressed_until IS NOT NULL), '{}'),
		   coalesce(array_agg(s.suggestion_type ORDER BY s.suggestion_type)
					FILTER (WHERE s.boosted), '{}')
	  INTO ge, gd, suppressed, boosted
	  FROM @extschema@.calibration_state c
		   CROSS JOIN LATERAL @extschema@.calibration_at(
			   pg_catalog.jsonb_populate_record(NULL::@extschema@.calibration_state, pg_catalog.to_jsonb(c)), now()) s
	 WHERE c.user_id = proactiveness.user_id;
	SELECT p.* INTO stored FROM @extschema@.proactiveness_settings p WHERE p.user_id = proactiveness.user_id;
	IF NOT FOUND THEN
		stored := jsonb_populate_record(NULL::@extschema@.proactiveness_settings,
										jsonb_build_object('user_id', proactiveness.user_id, 'is_onboarded', false));
	END IF;
	RETURN jsonb_populate_record(
			   stored,
			   jsonb_build_object(
				   'global_level', @extschema@._calibration_round(
									   @extschema@.proactiveness_level(ge, gd, stored.user_override)),
				   'suppressed_types', suppressed,
				   'boosted_types', boosted));
END
$$;
COMMENT ON FUNCTION @extschema@.proactiveness(uuid) IS
'The user''s proactiveness settings as of now: the stored row (or the defaults for a user who has none) with global_level (rounded to 4 decimals), suppressed_types and boosted_types computed from the calibration state at this moment, so an expired suppression or a lapsed boost is gone without any job';

CREATE FUNCTION @extschema@.refresh_proactiveness(user_id uuid)
RETURNS @extschema@.proactiveness_settings
LANGUAGE plpgsql VOLATILE
AS $$
-- (PL/pgSQL: Citus plans no SQL-language function that reads a distributed
-- table with a parameter, nor an UPDATE joined with a function)
#variable_conflict use_column
DECLARE
	l		@extschema@.proactiveness_settings;
	result	@extschema@.proactiveness_settings;
BEGIN
	PERFORM @extschema@._require_argument('user_id', refresh_proactiveness.user_id);
	INSERT INTO @extschema@.proactiveness_settings (user_id) VALUES (refresh_proactiveness.user_id)
	ON CONFLICT (user_id) DO NOTHING;
	l := @extschema@.proactiveness(refresh_proactiveness.user_id);
	UPDATE @extschema@.proactiveness_settings p
	   SET global_level = l.global_level,
		   suppressed_types = l.suppressed_types,
		   boosted_types = l.boosted_types,
		   updated_at = now()
	 WHERE p.user_id = refresh_proactiveness.user_id
	RETURNING p.* INTO result;
	RETURN result;
END
$$;
COMMENT ON FUNCTION @extschema@.refresh_proactiveness(uuid) IS
'Stores proactiveness(user_id) in the user''s proactiveness_settings row (creating it with the defaults if needed) and returns it; every calibration function that writes calls it';

CREATE FUNCTION @extschema@.refresh_all_proactiveness()
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
-- (PL/pgSQL, one user at a time: on Citus a query over the settings runs on
-- the shards, where proactiveness() may not query another table)
DECLARE
	uid		uuid;
	l		@extschema@.proactiveness_settings;
	n		integer := 0;
BEGIN
	FOR uid IN SELECT p.user_id FROM @extschema@.proactiveness_settings p LOOP
		l := @extschema@.proactiveness(uid);
		UPDATE @extschema@.proactiveness_settings p
		   SET global_level = l.global_level,
			   suppressed_types = l.suppressed_types,
			   boosted_types = l.boosted_types
		 WHERE p.user_id = uid
		   AND (p.global_level, p.suppressed_types, p.boosted_types)
			   IS DISTINCT FROM (l.global_level, l.suppressed_types, l.boosted_types);
		IF FOUND THEN
			n := n + 1;
		END IF;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.refresh_all_proactiveness() IS
'Rewrites every stored proactiveness_settings row (that the caller may change) whose global_level, suppressed_types or boosted_types differ from proactiveness() now, and returns how many; optional housekeeping for readers of the table (scores never need it)';

--
-- Recording engagement, scoring and deciding
--
CREATE FUNCTION @extschema@.check_suggestion_type(suggestion_type text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
	PERFORM @extschema@._require_argument('suggestion_type', suggestion_type);
	IF @extschema@.is_blank(suggestion_type) THEN
		RAISE EXCEPTION 'suggestion type must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Name the kind of suggestion, for example "weather_briefing".';
	END IF;
	RETURN suggestion_type;
END
$$;
COMMENT ON FUNCTION @extschema@.check_suggestion_type(text) IS
'Returns suggestion_type; raises 22004 when it is NULL and 22023 when it is blank';

CREATE FUNCTION @extschema@.record_engagement(
	user_id uuid, suggestion_type text, action text, source text, context jsonb DEFAULT '{}')
RETURNS @extschema@.proactiveness_settings
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	st @extschema@.calibration_state;
BEGIN
	PERFORM @extschema@._require_argument('user_id', record_engagement.user_id);
	PERFORM @extschema@.check_suggestion_type(record_engagement.suggestion_type);
	-- One writer per user at a time, so the settings row reflects every type.
	INSERT INTO @extschema@.proactiveness_settings (user_id) VALUES (record_engagement.user_id)
	ON CONFLICT DO NOTHING;
	PERFORM FROM @extschema@.proactiveness_settings p
	  WHERE p.user_id = record_engagement.user_id FOR UPDATE;

	INSERT INTO @extschema@.calibration_state (user_id, suggestion_type)
	VALUES (record_engagement.user_id, record_engagement.suggestion_type)
	ON CONFLICT DO NOTHING;
	SELECT * INTO st FROM @extschema@.calibration_state c
	 WHERE c.user_id = record_engagement.user_id
	   AND c.suggestion_type = record_engagement.suggestion_type
	   FOR UPDATE;
	st := @extschema@.calibration_step(st, record_engagement.action, record_engagement.source, now());

	UPDATE @extschema@.calibration_state c
	   SET engaged = st.engaged, dismissed = st.dismissed,
		   global_engaged = st.global_engaged, global_dismissed = st.global_dismissed,
		   counted_at = st.counted_at, last_event_at = st.last_event_at,
		   consecutive_engagements = st.consecutive_engagements,
		   consecutive_dismissals = st.consecutive_dismissals,
		   suppressions = st.suppressions, suppressed_until = st.suppressed_until,
		   boosted = st.boosted, updated_at = now()
	 WHERE c.user_id = record_engagement.user_id
	   AND c.suggestion_type = record_engagement.suggestion_type;
	INSERT INTO @extschema@.engagement_events (user_id, suggestion_type, action, source, context)
	VALUES (record_engagement.user_id, record_engagement.suggestion_type, record_engagement.action,
			record_engagement.source, coalesce(record_engagement.context, '{}'));
	RETURN @extschema@.refresh_proactiveness(record_engagement.user_id);
END
$$;
COMMENT ON FUNCTION @extschema@.record_engagement(uuid, text, text, text, jsonb) IS
'Records what the user did with a suggestion (action engaged or dismissed; source conversation, notification or schedule): inserts the engagement_events row, updates the type''s calibration state and returns the refreshed proactiveness_settings. Bad input raises 22023 and records nothing.';

CREATE FUNCTION @extschema@.suggestion_score(
	user_id uuid, suggestion_type text, base float8 DEFAULT 1.0)
RETURNS float8
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_suggestion_score';
COMMENT ON FUNCTION @extschema@.suggestion_score(uuid, text, float8) IS
'The probability p that a suggestion of this type with base relevance base (in (0, 1]) should be made now: P(X >= t) for X ~ Beta(1 + e, 1 + d), t = (1 - g) / (base * (boosted ? 1.25 : 1)); 0 while the type is suppressed, and 0 for every type while the user''s user_settings.enable_proactive_suggestions is off. No history, g = 0.7, base 0.8: 0.625.';

CREATE FUNCTION @extschema@.should_suggest(
	user_id uuid, suggestion_type text, base float8 DEFAULT 1.0, seed bigint DEFAULT NULL)
RETURNS boolean
LANGUAGE sql VOLATILE
AS $$
	SELECT coalesce(@extschema@.calibration_uniform(should_suggest.seed), random())
		   < @extschema@.suggestion_score(should_suggest.user_id, should_suggest.suggestion_type,
										  should_suggest.base)
$$;
COMMENT ON FUNCTION @extschema@.should_suggest(uuid, text, float8, bigint) IS
'Whether to make the suggestion now: yes with probability suggestion_score (so never while the user''s enable_proactive_suggestions is off); with a seed the draw is u = calibration_uniform(seed), so the answer is deterministic, without one it is random()';

CREATE FUNCTION @extschema@.set_proactiveness(user_id uuid, override text)
RETURNS @extschema@.proactiveness_settings
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
BEGIN
	PERFORM @extschema@._require_argument('user_id', set_proactiveness.user_id);
	PERFORM @extschema@.proactiveness_level(0, 0, set_proactiveness.override);	-- 22023 if invalid
	INSERT INTO @extschema@.proactiveness_settings (user_id, user_override)
	VALUES (set_proactiveness.user_id, set_proactiveness.override)
	ON CONFLICT (user_id) DO UPDATE SET user_override = EXCLUDED.user_override;
	RETURN @extschema@.refresh_proactiveness(set_proactiveness.user_id);
END
$$;
COMMENT ON FUNCTION @extschema@.set_proactiveness(uuid, text) IS
'The user''s explicit instruction: ''more'' (global level within [0.6, 1.0]), ''less'' ([0.0, 0.4]) or NULL (back to [0.2, 0.9]); returns the refreshed settings; another value raises 22023';

CREATE FUNCTION @extschema@.complete_onboarding(user_id uuid, proactiveness text DEFAULT NULL)
RETURNS @extschema@.proactiveness_settings
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
BEGIN
	PERFORM @extschema@._require_argument('user_id', complete_onboarding.user_id);
	PERFORM @extschema@.proactiveness_level(0, 0, complete_onboarding.proactiveness);
	INSERT INTO @extschema@.proactiveness_settings (user_id, user_override, is_onboarded)
	VALUES (complete_onboarding.user_id, complete_onboarding.proactiveness, true)
	ON CONFLICT (user_id) DO UPDATE
	   SET is_onboarded = true,
		   user_override = coalesce(EXCLUDED.user_override,
									@extschema@.proactiveness_settings.user_override);
	RETURN @extschema@.refresh_proactiveness(complete_onboarding.user_id);
END
$$;
COMMENT ON FUNCTION @extschema@.complete_onboarding(uuid, text) IS
'Marks the user onboarded (is_onboarded) and records the answer to "how proactive should I be?" as the override (''more'', ''less''; NULL = skipped, keeps the current override); returns the refreshed settings';

--
-- Observed patterns
--
CREATE UNIQUE INDEX observed_patterns_user_type_description
	ON @extschema@.observed_patterns (user_id, pattern_type, md5(description));
COMMENT ON INDEX @extschema@.observed_patterns_user_type_description IS
'One pattern per user, type and description: observe_pattern accumulates into it';

CREATE FUNCTION @extschema@.pattern_evidence_tail(evidence jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT coalesce(jsonb_agg(e.value ORDER BY e.i), '[]')
	  FROM jsonb_array_elements(evidence) WITH ORDINALITY AS e(value, i)
	 WHERE e.i > jsonb_array_length(evidence) - 100
$$;
COMMENT ON FUNCTION @extschema@.pattern_evidence_tail(jsonb) IS
'The last 100 entries of an evidence array (observe_pattern keeps no more)';

CREATE FUNCTION @extschema@.observe_pattern(
	user_id uuid, pattern_type text, description text, evidence jsonb,
	suggested_action text DEFAULT NULL)
RETURNS @extschema@.observed_patterns
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	entries jsonb;
	result @extschema@.observed_patterns;
BEGIN
	PERFORM @extschema@._require_argument('user_id', observe_pattern.user_id);
	PERFORM @extschema@._require_argument('pattern_type', observe_pattern.pattern_type);
	PERFORM @extschema@._require_argument('description', observe_pattern.description);
	IF @extschema@.is_blank(observe_pattern.pattern_type)
	   OR @extschema@.is_blank(observe_pattern.description) THEN
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
	INSERT INTO @extschema@.observed_patterns AS p
		(user_id, pattern_type, description, evidence, suggested_action, occurrence_count, confidence)
	VALUES (observe_pattern.user_id, observe_pattern.pattern_type, observe_pattern.description,
			@extschema@.pattern_evidence_tail(coalesce(entries, '[]')), observe_pattern.suggested_action, 1,
			@extschema@.pattern_confidence(1, now(), now()))
	ON CONFLICT (user_id, pattern_type, md5(description)) DO UPDATE
	   SET occurrence_count = p.occurrence_count + 1,
		   evidence = @extschema@.pattern_evidence_tail(p.evidence || EXCLUDED.evidence),
		   last_seen_at = now(),
		   suggested_action = coalesce(EXCLUDED.suggested_action, p.suggested_action),
		   confidence = @extschema@.pattern_confidence(p.occurrence_count + 1, now(), now()),
		   updated_at = now()
	RETURNING p.* INTO result;
	RETURN result;
END
$$;
COMMENT ON FUNCTION @extschema@.observe_pattern(uuid, text, text, jsonb, text) IS
'Records one observation of a behavioural pattern: the first creates it, each further observation with the same user, type and description adds 1 to occurrence_count, appends the evidence (an object or an array of them; the last 100 entries are kept), refreshes last_seen_at and confidence n / (n + 2) and replaces suggested_action when one is given';

CREATE FUNCTION @extschema@.actionable_patterns(user_id uuid)
RETURNS SETOF @extschema@.observed_patterns
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
-- (PL/pgSQL: Citus plans no SQL-language function that reads a distributed
-- table with a parameter)
BEGIN
	RETURN QUERY
	SELECT (jsonb_populate_record(NULL::@extschema@.observed_patterns, to_jsonb(p) || jsonb_build_object(
				'confidence', @extschema@.pattern_confidence(p.occurrence_count, p.last_seen_at, now())))).*
	  FROM @extschema@.observed_patterns p
	 WHERE p.user_id = actionable_patterns.user_id
	   -- the first two conditions repeat pattern_actionable's so the partial index applies
	   AND p.acted_on = false AND p.occurrence_count >= 3
	   AND @extschema@.pattern_actionable(p.acted_on, p.occurrence_count, p.last_seen_at, now())
	 ORDER BY @extschema@.pattern_confidence(p.occurrence_count, p.last_seen_at, now()) DESC,
			  p.last_seen_at DESC, p.id;
END
$$;
COMMENT ON FUNCTION @extschema@.actionable_patterns(uuid) IS
'The user''s patterns worth suggesting now (not acted on, seen at least 3 times, confidence n / (n + 2) * 0.5^(days since last seen / 30) at least 0.5), most confident first, with confidence as of now';

CREATE FUNCTION @extschema@.accept_pattern(
	pattern_id uuid, tool_name text DEFAULT 'assistant', cron text DEFAULT NULL,
	at timestamptz DEFAULT NULL, tool_args jsonb DEFAULT '{}', name text DEFAULT NULL,
	prompt_template text DEFAULT NULL, timezone text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	owner_id uuid;
	pattern @extschema@.observed_patterns;
	task_id uuid;
BEGIN
	PERFORM @extschema@._require_argument('pattern_id', accept_pattern.pattern_id);
	owner_id := @extschema@.owner_of('@extschema@.observed_patterns', accept_pattern.pattern_id);
	SELECT * INTO pattern FROM @extschema@.observed_patterns p
	 WHERE p.user_id = owner_id AND p.id = accept_pattern.pattern_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no observed pattern with id "%"', accept_pattern.pattern_id
			USING ERRCODE = 'no_data_found';
	END IF;
	IF pattern.acted_on THEN
		RAISE EXCEPTION 'pattern "%" was already acted on', accept_pattern.pattern_id
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'A pattern creates at most one scheduled task.';
	END IF;
	task_id := @extschema@.schedule_task(
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
	UPDATE @extschema@.scheduled_tasks t SET pattern_id = pattern.id
	 WHERE t.user_id = pattern.user_id AND t.id = task_id;
	UPDATE @extschema@.observed_patterns p SET acted_on = true
	 WHERE p.user_id = pattern.user_id AND p.id = pattern.id;
	RETURN task_id;
END
$$;
COMMENT ON FUNCTION @extschema@.accept_pattern(uuid, text, text, timestamptz, jsonb, text, text, text) IS
'The user accepted what a pattern suggests: schedules an agent-sourced task (schedule_task, source ''agent'', pattern_id set) and marks the pattern acted on; returns the task id. Defaults: the external tool ''assistant'' (register it for your agent), name and prompt from suggested_action (else the description), and with neither cron nor at one run right away. P0002 for an unknown pattern, 55000 if it was already acted on; schedule_task''s own checks apply (22023).';

COMMENT ON COLUMN @extschema@.user_settings.enable_proactive_suggestions IS
'While off, suggestion_score is 0 and should_suggest false for every suggestion type. On by default (alfred is a proactive assistant; calibration learns to be quiet, and set_proactiveness(''less'') asks for less).';
