-- Proactive calibration: the design's example, hand-computed scores, the
-- state machine at fixed times, observed patterns and every error.
SET timezone = 'UTC';
\set SHOW_CONTEXT never
SET extra_float_digits = 0;
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN st || ': ' || msg || coalesce(' / ' || nullif(det, ''), '');
END $$;

INSERT INTO alfred.users (id, email, password_hash) VALUES
	('00000000-0000-0000-0000-0000000000a1', 'calibration-ada@example.com', '$2a$06$calibrationtestcalibrationtestcalibrationtestcalibr'),
	('00000000-0000-0000-0000-0000000000b2', 'calibration-bob@example.com', '$2a$06$calibrationtestcalibrationtestcalibrationtestcalibr');

--
-- The model at fixed times (calibration_step / calibration_at)
--
CREATE FUNCTION pg_temp.fresh() RETURNS alfred.calibration_state LANGUAGE sql AS $$
	SELECT jsonb_populate_record(NULL::alfred.calibration_state,
		'{"user_id": "00000000-0000-0000-0000-0000000000a1", "suggestion_type": "x",
		  "engaged": 0, "dismissed": 0, "global_engaged": 0, "global_dismissed": 0,
		  "consecutive_engagements": 0, "consecutive_dismissals": 0, "suppressions": 0,
		  "boosted": false}')
$$;
CREATE FUNCTION pg_temp.steps(actions text[], at timestamptz) RETURNS alfred.calibration_state
LANGUAGE plpgsql AS $$
DECLARE
	s alfred.calibration_state := pg_temp.fresh();
	a text;
BEGIN
	FOREACH a IN ARRAY actions LOOP
		s := alfred.calibration_step(s, a, 'conversation', at);
	END LOOP;
	RETURN s;
END $$;

-- three dismissals: d = 3, p_hat = 1/5, suppressed for 30 days
SELECT s.engaged, s.dismissed, s.global_dismissed, s.consecutive_dismissals,
	   s.suppressions, s.suppressed_until, s.counted_at, s.last_event_at
  FROM pg_temp.steps('{dismissed,dismissed,dismissed}', '2025-06-02 08:00') s;
-- still suppressed a moment before 30 days, over at 30 days (no job), d decayed
SELECT (alfred.calibration_at(s, '2025-07-02 07:59:59')).suppressed_until AS before_end,
	   (alfred.calibration_at(s, '2025-07-02 08:00')).suppressed_until AS at_end,
	   round((alfred.calibration_at(s, '2025-06-16 08:00')).dismissed::numeric, 12) AS d_after_14_days,
	   round((alfred.calibration_at(s, '2025-07-02 08:00')).global_dismissed::numeric, 12) AS gd_after_30_days
  FROM pg_temp.steps('{dismissed,dismissed,dismissed}', '2025-06-02 08:00') s;
-- scores: suppressed -> 0; at the end of the suppression Beta(1, 1 + 3*0.5^(30/14))
SELECT alfred.calibration_score(s, 0.7, 1.0) AS suppressed,
	   round(alfred.calibration_score(alfred.calibration_at(s, '2025-07-02 08:00'), 0.7, 1.0)::numeric, 12) AS after
  FROM pg_temp.steps('{dismissed,dismissed,dismissed}', '2025-06-02 08:00') s;
-- (1 - 0.3)^(1 + d) with d = 3 * 0.5^(30/14)
SELECT round((0.7 ^ (1 + 3 * 0.5 ^ (30.0 / 14)))::numeric, 12) AS by_hand;
-- an engagement lifts the suppression and resets the backoff
SELECT s.suppressed_until, s.suppressions, s.consecutive_dismissals, s.consecutive_engagements
  FROM pg_temp.steps('{dismissed,dismissed,dismissed,engaged}', '2025-06-02 08:00') s;
-- three engagements boost (p_hat 4/5); boosted t = 0.3 / 1.25 = 0.24, p = 1 - 0.24^4
SELECT s.boosted, alfred.calibration_score(s, 0.7, 1.0) AS p, 1 - 0.24 ^ 4 AS by_hand
  FROM pg_temp.steps('{engaged,engaged,engaged}', '2025-06-02 08:00') s;
-- two dismissals bring p_hat to 4/7 < 0.60: un-boosted
SELECT s.boosted FROM pg_temp.steps('{engaged,engaged,engaged,dismissed}', '2025-06-02 08:00') s;
SELECT s.boosted FROM pg_temp.steps('{engaged,engaged,engaged,dismissed,dismissed}', '2025-06-02 08:00') s;
-- the boost lapses by decay after 14 * log2(6) = 36.19 days
SELECT (alfred.calibration_at(s, '2025-07-08 08:00')).boosted AS after_36_days,
	   (alfred.calibration_at(s, '2025-07-09 08:00')).boosted AS after_37_days
  FROM pg_temp.steps('{engaged,engaged,engaged}', '2025-06-02 08:00') s;
-- the global level: no events 0.7; bounds; overrides
SELECT alfred.proactiveness_level(NULL, NULL) AS none,
	   alfred.proactiveness_level(2, 0) AS two_engaged,
	   alfred.proactiveness_level(0, 100) AS floor,
	   alfred.proactiveness_level(100, 0) AS ceiling,
	   alfred.proactiveness_level(0, 100, 'more') AS more_floor,
	   alfred.proactiveness_level(0, 0, 'less') AS less_ceiling,
	   alfred.proactiveness_level(0, 100, 'less') AS less_low;
-- t <= 0 gives 1, t >= 1 gives 0
SELECT alfred.calibration_score(NULL, 1.0, 0.5) AS t_zero,
	   alfred.calibration_score(NULL, 0.0, 1.0) AS t_one,
	   alfred.calibration_score(NULL, 0.4, 0.5) AS t_above_one,
	   alfred.calibration_score(NULL, 0.7, 0.8) AS design_example;
-- the draw: top 53 bits of splitmix64(seed) / 2^53; splitmix64(0) = 0xe220a8397b1dcdaf
SELECT alfred.calibration_uniform(0) AS u0,
	   ((x'e220a8397b1dcdaf'::bigint >> 11) & (2 ^ 53 - 1)::bigint) / 2 ^ 53 AS by_hand,
	   alfred.calibration_uniform(3) AS u3, alfred.calibration_uniform(8) AS u8;

--
-- The SQL API
--
-- the design's example: no history, g = 0.7, base 0.8 -> t = 0.375, p = 0.625
SELECT alfred.suggestion_score('00000000-0000-0000-0000-0000000000a1', 'weather_briefing', 0.8);
SELECT alfred.suggestion_score('00000000-0000-0000-0000-0000000000a1', 'weather_briefing');
-- a user with no settings gets the defaults
SELECT user_id, global_level, suppressed_types, boosted_types, user_override, is_onboarded
  FROM alfred.proactiveness('00000000-0000-0000-0000-0000000000a1');
-- deterministic draws: u(8) = 0.6185 < 0.625, u(9) = 0.6824 > 0.625
SELECT alfred.should_suggest('00000000-0000-0000-0000-0000000000a1', 'weather_briefing', 0.8, 8) AS seed_8,
	   alfred.should_suggest('00000000-0000-0000-0000-0000000000a1', 'weather_briefing', 0.8, 9) AS seed_9;

BEGIN;	-- one transaction: now() is fixed, so nothing decays between events
SELECT global_level, suppressed_types, boosted_types
  FROM alfred.record_engagement('00000000-0000-0000-0000-0000000000a1', 'weather_briefing', 'engaged', 'conversation');
SELECT global_level, suppressed_types, boosted_types
  FROM alfred.record_engagement('00000000-0000-0000-0000-0000000000a1', 'weather_briefing', 'engaged', 'notification',
								'{"suggestion": "Rain at 5pm: take an umbrella"}');
-- e = 2, d = 0, g = 5.5/7, t = 3/14: p = 1 - (3/14)^3
SELECT alfred.suggestion_score('00000000-0000-0000-0000-0000000000a1', 'weather_briefing') AS p,
	   round(1 - (3 / 14.0) ^ 3, 15) AS by_hand;
SELECT global_level, suppressed_types, boosted_types
  FROM alfred.record_engagement('00000000-0000-0000-0000-0000000000a1', 'weather_briefing', 'engaged', 'schedule');
-- boosted, g = 6.5/8, t = 0.1875/1.25 = 0.15: p = 1 - 0.15^4
SELECT alfred.suggestion_score('00000000-0000-0000-0000-0000000000a1', 'weather_briefing') AS p,
	   1 - 0.15 ^ 4 AS by_hand;
-- three dismissals of another type suppress it
SELECT global_level, suppressed_types, boosted_types
  FROM alfred.record_engagement('00000000-0000-0000-0000-0000000000a1', 'meeting_prep', 'dismissed', 'notification');
SELECT global_level, suppressed_types, boosted_types
  FROM alfred.record_engagement('00000000-0000-0000-0000-0000000000a1', 'meeting_prep', 'dismissed', 'notification');
SELECT global_level, suppressed_types, boosted_types
  FROM alfred.record_engagement('00000000-0000-0000-0000-0000000000a1', 'meeting_prep', 'dismissed', 'notification');
SELECT alfred.suggestion_score('00000000-0000-0000-0000-0000000000a1', 'meeting_prep') AS suppressed,
	   alfred.should_suggest('00000000-0000-0000-0000-0000000000a1', 'meeting_prep', 1.0, 3) AS even_with_u_0_11;
SELECT suggestion_type, engaged, dismissed, p_hat, suppressed, suppressions, boosted,
	   suppressed_until - last_event_at AS suppressed_for
  FROM alfred.calibration WHERE user_id = '00000000-0000-0000-0000-0000000000a1' ORDER BY 1;
-- an engagement lifts it: e = 1, d = 3, Ge = 4, Gd = 3, g = 7.5/12 = 0.625, t = 0.375,
-- p = P(Beta(2, 4) >= 0.375) = 0.625^5 + 5 * 0.375 * 0.625^4
SELECT global_level, suppressed_types, boosted_types
  FROM alfred.record_engagement('00000000-0000-0000-0000-0000000000a1', 'meeting_prep', 'engaged', 'conversation');
SELECT alfred.suggestion_score('00000000-0000-0000-0000-0000000000a1', 'meeting_prep') AS p,
	   0.625 ^ 5 + 5 * 0.375 * 0.625 ^ 4 AS by_hand;
-- u(3) = 0.113 < 0.381 <= u(5) = 0.387
SELECT alfred.should_suggest('00000000-0000-0000-0000-0000000000a1', 'meeting_prep', 1.0, 3) AS seed_3,
	   alfred.should_suggest('00000000-0000-0000-0000-0000000000a1', 'meeting_prep', 1.0, 5) AS seed_5;
-- 'less' caps g at 0.4: t = 0.6, p = 0.4^5 + 5 * 0.6 * 0.4^4
SELECT global_level, user_override, is_onboarded
  FROM alfred.set_proactiveness('00000000-0000-0000-0000-0000000000a1', 'less');
SELECT alfred.suggestion_score('00000000-0000-0000-0000-0000000000a1', 'meeting_prep') AS p,
	   0.4 ^ 5 + 5 * 0.6 * 0.4 ^ 4 AS by_hand;
-- 'more' keeps 0.625 (inside [0.6, 1.0]); NULL clears the override
SELECT global_level, user_override FROM alfred.set_proactiveness('00000000-0000-0000-0000-0000000000a1', 'more');
SELECT global_level, user_override FROM alfred.set_proactiveness('00000000-0000-0000-0000-0000000000a1', NULL);
SELECT count(*) AS events, count(*) FILTER (WHERE action = 'engaged') AS engaged
  FROM alfred.engagement_events WHERE user_id = '00000000-0000-0000-0000-0000000000a1';
COMMIT;

-- onboarding: records the stated preference and the flag; skipping keeps the override
SELECT global_level, user_override, is_onboarded
  FROM alfred.complete_onboarding('00000000-0000-0000-0000-0000000000b2', 'less');
SELECT global_level, user_override, is_onboarded
  FROM alfred.complete_onboarding('00000000-0000-0000-0000-0000000000b2');

-- time passes (the stored times move back 30 days): the suppression has run out
-- by itself and the refreshed settings say so
BEGIN;
SELECT suppressed_types FROM alfred.record_engagement('00000000-0000-0000-0000-0000000000b2', 'news', 'dismissed', 'notification');
SELECT suppressed_types FROM alfred.record_engagement('00000000-0000-0000-0000-0000000000b2', 'news', 'dismissed', 'notification');
SELECT suppressed_types FROM alfred.record_engagement('00000000-0000-0000-0000-0000000000b2', 'news', 'dismissed', 'notification');
UPDATE alfred.calibration_state
   SET counted_at = counted_at - interval '30 days', last_event_at = last_event_at - interval '30 days',
	   suppressed_until = suppressed_until - interval '30 days'
 WHERE user_id = '00000000-0000-0000-0000-0000000000b2';
SELECT suppressed_types AS stored_until_refreshed FROM alfred.proactiveness_settings
 WHERE user_id = '00000000-0000-0000-0000-0000000000b2';
SELECT suppressed_types AS as_of_now, global_level FROM alfred.proactiveness('00000000-0000-0000-0000-0000000000b2');
-- 'less': Ge = 0, Gd = 3 * 0.5 = 1.5, g = min(3.5 / 6.5, 0.4) = 0.4, t = 0.6;
-- d = 3 * 0.5^(30/14), p = P(Beta(1, 1 + d) >= 0.6) = 0.4^(1 + d)
SELECT round(alfred.suggestion_score('00000000-0000-0000-0000-0000000000b2', 'news')::numeric, 12) AS p,
	   round((0.4 ^ (1 + 3 * 0.5 ^ (30.0 / 14)))::numeric, 12) AS by_hand;
SELECT suppressed_types FROM alfred.refresh_proactiveness('00000000-0000-0000-0000-0000000000b2');
-- one more dismissal is not enough after the decay (p_hat = 1 / (2 + 1.679) > 0.25), two are
SELECT suppressed_types FROM alfred.record_engagement('00000000-0000-0000-0000-0000000000b2', 'news', 'dismissed', 'notification');
SELECT suppressed_types FROM alfred.record_engagement('00000000-0000-0000-0000-0000000000b2', 'news', 'dismissed', 'notification');
SELECT suppressions, suppressed_until - last_event_at AS second_suppression_lasts
  FROM alfred.calibration WHERE user_id = '00000000-0000-0000-0000-0000000000b2';
ROLLBACK;

--
-- Observed patterns
--
SELECT occurrence_count, evidence, suggested_action, confidence, acted_on
  FROM alfred.observe_pattern('00000000-0000-0000-0000-0000000000a1', 'recurring_query',
							  'Asks about weather most mornings', '{"date": "2025-06-02", "context": "rain?"}');
SELECT count(*) FROM alfred.actionable_patterns('00000000-0000-0000-0000-0000000000a1');
SELECT occurrence_count, evidence, suggested_action, round(confidence::numeric, 12) AS confidence
  FROM alfred.observe_pattern('00000000-0000-0000-0000-0000000000a1', 'recurring_query',
							  'Asks about weather most mornings', '[{"date": "2025-06-03"}, {"date": "2025-06-04"}]',
							  'Schedule a daily weather briefing at 7am');
SELECT occurrence_count, jsonb_array_length(evidence) AS entries, suggested_action, confidence
  FROM alfred.observe_pattern('00000000-0000-0000-0000-0000000000a1', 'recurring_query',
							  'Asks about weather most mornings', NULL);
-- a different description is a different pattern
SELECT occurrence_count FROM alfred.observe_pattern('00000000-0000-0000-0000-0000000000a1', 'recurring_query',
													'Asks about stocks on Mondays', '{}');
SELECT description, occurrence_count, round(confidence::numeric, 6) AS confidence
  FROM alfred.actionable_patterns('00000000-0000-0000-0000-0000000000a1');
-- accepting a pattern schedules an agent-sourced task and marks it acted on
SELECT pg_temp.err($$SELECT alfred.accept_pattern(id, cron => '0 7 * * *') FROM alfred.observed_patterns
					 WHERE description = 'Asks about weather most mornings'$$) AS no_assistant_tool_yet;
SELECT name, kind FROM alfred.register_tool('assistant', kind => 'external');
CREATE TEMP TABLE accepted AS
SELECT alfred.accept_pattern(id, cron => '0 7 * * *') AS task_id FROM alfred.observed_patterns
 WHERE description = 'Asks about weather most mornings';
SELECT t.name, t.task_type, t.schedule_cron, t.tool_name, t.tool_args, t.prompt_template, t.description,
	   t.source, t.status, p.description AS pattern, p.acted_on
  FROM accepted a JOIN alfred.scheduled_tasks t ON t.id = a.task_id
  JOIN alfred.observed_patterns p ON p.user_id = t.user_id AND p.id = t.pattern_id;
SELECT count(*) AS actionable_after FROM alfred.actionable_patterns('00000000-0000-0000-0000-0000000000a1');
SELECT regexp_replace(pg_temp.err($$SELECT alfred.accept_pattern(id) FROM alfred.observed_patterns
					 WHERE description = 'Asks about weather most mornings'$$), '"[0-9a-f-]{36}"', '"<id>"') AS twice;
SELECT pg_temp.err($$SELECT alfred.accept_pattern('00000000-0000-0000-0000-000000000000')$$) AS unknown;
SELECT pg_temp.err($$SELECT alfred.accept_pattern(id, cron => '0 7 * * *', at => now() + interval '1 day')
					 FROM alfred.observed_patterns WHERE description = 'Asks about stocks on Mondays'$$) AS both;
-- with neither cron nor at: one run right away, named after the description
INSERT INTO accepted
SELECT alfred.accept_pattern(id) FROM alfred.observed_patterns WHERE description = 'Asks about stocks on Mondays';
SELECT t.name, t.task_type, t.scheduled_at > now() AS soon, t.prompt_template, t.source
  FROM accepted a JOIN alfred.scheduled_tasks t ON t.id = a.task_id
 WHERE t.pattern_id IS NOT NULL AND t.task_type = 'one_time';
-- confidence n/(n+2) * 0.5^(days/30): 3 seen 7 days ago 0.5104, 8 days ago 0.4987
SELECT round(alfred.pattern_confidence(3, '2025-06-01', '2025-06-08')::numeric, 12) AS seven_days,
	   alfred.pattern_actionable(false, 3, '2025-06-01', '2025-06-08') AS actionable_7,
	   alfred.pattern_actionable(false, 3, '2025-06-01', '2025-06-09') AS actionable_8,
	   alfred.pattern_confidence(3, '2025-06-01', '2025-07-01') AS thirty_days;
-- the evidence keeps the last 100 entries
SELECT jsonb_array_length(alfred.pattern_evidence_tail(jsonb_agg(i))) AS kept,
	   alfred.pattern_evidence_tail(jsonb_agg(i)) -> 0 AS first_kept
  FROM generate_series(1, 150) i;

--
-- Bad input: 22023
--
SELECT pg_temp.err($$SELECT alfred.record_engagement('00000000-0000-0000-0000-0000000000b2', 'news', 'ignored', 'notification')$$);
SELECT pg_temp.err($$SELECT alfred.record_engagement('00000000-0000-0000-0000-0000000000b2', 'news', NULL, 'notification')$$);
SELECT pg_temp.err($$SELECT alfred.record_engagement('00000000-0000-0000-0000-0000000000b2', 'news', 'engaged', 'email')$$);
SELECT pg_temp.err($$SELECT alfred.record_engagement('00000000-0000-0000-0000-0000000000b2', 'news', 'engaged', NULL)$$);
SELECT pg_temp.err($$SELECT alfred.record_engagement('00000000-0000-0000-0000-0000000000b2', '', 'engaged', 'conversation')$$);
SELECT pg_temp.err($$SELECT alfred.record_engagement('00000000-0000-0000-0000-0000000000b2', NULL, 'engaged', 'conversation')$$);
SELECT pg_temp.err($$SELECT alfred.suggestion_score('00000000-0000-0000-0000-0000000000b2', ' ')$$);
SELECT pg_temp.err($$SELECT alfred.record_engagement(NULL, 'news', 'engaged', 'conversation')$$);
SELECT pg_temp.err($$SELECT alfred.suggestion_score('00000000-0000-0000-0000-0000000000b2', 'news', 0)$$);
SELECT pg_temp.err($$SELECT alfred.suggestion_score('00000000-0000-0000-0000-0000000000b2', 'news', 1.5)$$);
SELECT pg_temp.err($$SELECT alfred.suggestion_score('00000000-0000-0000-0000-0000000000b2', 'news', NULL)$$);
SELECT pg_temp.err($$SELECT alfred.suggestion_score('00000000-0000-0000-0000-0000000000b2', 'news', 'NaN')$$);
SELECT pg_temp.err($$SELECT alfred.should_suggest('00000000-0000-0000-0000-0000000000b2', 'news', -1, 1)$$);
SELECT pg_temp.err($$SELECT alfred.set_proactiveness('00000000-0000-0000-0000-0000000000b2', 'loud')$$);
SELECT pg_temp.err($$SELECT alfred.complete_onboarding('00000000-0000-0000-0000-0000000000b2', 'Less')$$);
SELECT pg_temp.err($$SELECT alfred.observe_pattern('00000000-0000-0000-0000-0000000000b2', 'x', 'y', '"a string"')$$);
SELECT pg_temp.err($$SELECT alfred.observe_pattern('00000000-0000-0000-0000-0000000000b2', '', 'y', '{}')$$);
SELECT pg_temp.err($$SELECT alfred.calibration_at(pg_temp.fresh(), 'infinity')$$);

-- leave the shared regression database as it was
DELETE FROM alfred.users WHERE id IN ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000b2');
DELETE FROM alfred.tools WHERE name = 'assistant';
