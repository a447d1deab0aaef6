-- Proactive calibration through the SQL API: three dismissals suppress and an
-- engagement lifts it; counts decay and a suppression runs out with time (no
-- job); boost and un-boost; should_suggest is deterministic per seed and says
-- yes about p of the time.  now() is fixed inside the transaction, so time
-- passing is simulated by moving the user's stored times back (pg_temp.travel).
BEGIN;
SELECT plan(37);

INSERT INTO alfred.users (id, email, password_hash) VALUES
	('00000000-0000-0000-0000-00000000c001', 'cal1@example.com', '$2a$06$calibrationtestcalibrationtestcalibrationtestcalibr'),
	('00000000-0000-0000-0000-00000000c002', 'cal2@example.com', '$2a$06$calibrationtestcalibrationtestcalibrationtestcalibr');

CREATE FUNCTION pg_temp.travel(u uuid, by interval) RETURNS void LANGUAGE sql AS $$
	UPDATE alfred.calibration_state
	   SET counted_at = counted_at - by, last_event_at = last_event_at - by,
		   suppressed_until = suppressed_until - by
	 WHERE user_id = u
$$;
CREATE FUNCTION pg_temp.rec(u uuid, t text, a text) RETURNS alfred.proactiveness_settings
LANGUAGE sql AS $$ SELECT alfred.record_engagement(u, t, a, 'notification') $$;
CREATE FUNCTION pg_temp.recn(u uuid, t text, a text, n int) RETURNS void LANGUAGE sql AS $$
	SELECT count(pg_temp.rec(u, t, a)) FROM generate_series(1, n)
$$;
CREATE FUNCTION pg_temp.suppressed(u uuid) RETURNS text[] LANGUAGE sql AS $$
	SELECT suppressed_types FROM alfred.proactiveness_settings WHERE user_id = u
$$;
CREATE FUNCTION pg_temp.boosted(u uuid) RETURNS text[] LANGUAGE sql AS $$
	SELECT boosted_types FROM alfred.proactiveness_settings WHERE user_id = u
$$;

--
-- Suppression: 3 dismissals suppress, an engagement lifts it
--
SELECT pg_temp.recn('00000000-0000-0000-0000-00000000c001', 'news', 'dismissed', 1);
SELECT pg_temp.recn('00000000-0000-0000-0000-00000000c001', 'news', 'dismissed', 1);
SELECT is(pg_temp.suppressed('00000000-0000-0000-0000-00000000c001'), '{}'::text[],
		  'two dismissals do not suppress');
SELECT cmp_ok(alfred.suggestion_score('00000000-0000-0000-0000-00000000c001', 'news'), '>', 0.0::float8,
			  'two dismissals: the score is still positive');
SELECT is((pg_temp.rec('00000000-0000-0000-0000-00000000c001', 'news', 'dismissed')).suppressed_types,
		  '{news}'::text[], 'the third dismissal suppresses: record_engagement returns it in suppressed_types');
SELECT is(pg_temp.suppressed('00000000-0000-0000-0000-00000000c001'), '{news}'::text[],
		  '... and the stored settings row says so');
SELECT is(alfred.suggestion_score('00000000-0000-0000-0000-00000000c001', 'news'), 0.0::float8,
		  'a suppressed type scores 0');
SELECT is((SELECT count(*) FROM generate_series(1, 200) s
			WHERE alfred.should_suggest('00000000-0000-0000-0000-00000000c001', 'news', 1.0, s)), 0::bigint,
		  'should_suggest says no for every seed while suppressed');
SELECT cmp_ok(alfred.suggestion_score('00000000-0000-0000-0000-00000000c001', 'weather'), '>', 0.0::float8,
			  'other types are not suppressed');
SELECT is((pg_temp.rec('00000000-0000-0000-0000-00000000c001', 'news', 'engaged')).suppressed_types,
		  '{}'::text[], 'an engagement lifts the suppression');
SELECT cmp_ok(alfred.suggestion_score('00000000-0000-0000-0000-00000000c001', 'news'), '>', 0.0::float8,
			  'after the engagement the score is positive again');
SELECT is((SELECT suppressions FROM alfred.calibration_state
			WHERE user_id = '00000000-0000-0000-0000-00000000c001' AND suggestion_type = 'news'), 0,
		  'the engagement resets the suppression backoff');
SELECT is((SELECT count(*) FROM alfred.engagement_events
			WHERE user_id = '00000000-0000-0000-0000-00000000c001' AND suggestion_type = 'news'), 4::bigint,
		  'every call inserted its engagement_events row');

--
-- Decay and the end of a suppression, with time
--
SELECT pg_temp.recn('00000000-0000-0000-0000-00000000c002', 'digest', 'dismissed', 3);
SELECT pg_temp.travel('00000000-0000-0000-0000-00000000c002', '29 days');
SELECT is((alfred.proactiveness('00000000-0000-0000-0000-00000000c002')).suppressed_types, '{digest}'::text[],
		  '29 days later the type is still suppressed');
SELECT is(alfred.suggestion_score('00000000-0000-0000-0000-00000000c002', 'digest'), 0.0::float8,
		  '... and scores 0');
SELECT pg_temp.travel('00000000-0000-0000-0000-00000000c002', '1 day');
SELECT is((alfred.proactiveness('00000000-0000-0000-0000-00000000c002')).suppressed_types, '{}'::text[],
		  '30 days later the suppression has run out, with no job');
SELECT cmp_ok(alfred.suggestion_score('00000000-0000-0000-0000-00000000c002', 'digest'), '>', 0.0::float8,
			  '... and the type scores above 0 again');
SELECT ok(abs((SELECT dismissed FROM alfred.calibration
				WHERE user_id = '00000000-0000-0000-0000-00000000c002' AND suggestion_type = 'digest')
			  - 3 * 0.5 ^ (30 / 14.0)) <= 0.00005,
		  'd decays with a 14-day half-life: 3 * 0.5^(30/14) (the view rounds to 4 decimals)');
SELECT ok(abs((alfred.proactiveness('00000000-0000-0000-0000-00000000c002')).global_level
			  - greatest(0.2, 3.5 / (5 + 1.5))) <= 0.00005,
		  'the global level decays with a 30-day half-life: Gd = 1.5, g = 3.5/6.5 (rounded to 4 decimals)');
SELECT is(alfred.refresh_all_proactiveness(), 1, 'refresh_all_proactiveness rewrites the one stale row');
SELECT is((SELECT suppressed_types FROM alfred.proactiveness_settings
			WHERE user_id = '00000000-0000-0000-0000-00000000c002'), '{}'::text[],
		  '... which now says the suppression is over');
SELECT is(alfred.refresh_all_proactiveness(), 0, 'a second run finds nothing to do');
SELECT is((alfred.refresh_proactiveness('00000000-0000-0000-0000-00000000c002')).suppressed_types, '{}'::text[],
		  'refresh_proactiveness stores the state as of now');
SELECT pg_temp.travel('00000000-0000-0000-0000-00000000c002', '3650 days');
SELECT ok(abs(alfred.suggestion_score('00000000-0000-0000-0000-00000000c002', 'digest', 0.8) - 0.625) < 1e-9,
		  'ten years later the history has decayed away: the design example''s 0.625 again');

--
-- Boost and un-boost
--
SELECT pg_temp.recn('00000000-0000-0000-0000-00000000c001', 'briefing', 'engaged', 2);
SELECT is(pg_temp.boosted('00000000-0000-0000-0000-00000000c001'), '{}'::text[], 'two engagements do not boost');
SELECT is((pg_temp.rec('00000000-0000-0000-0000-00000000c001', 'briefing', 'engaged')).boosted_types,
		  '{briefing}'::text[], 'the third engagement boosts');
SELECT cmp_ok(alfred.suggestion_score('00000000-0000-0000-0000-00000000c001', 'briefing', 0.5), '>',
			  (SELECT alfred.calibration_score(jsonb_populate_record(s, '{"boosted": false}'),
											   (alfred.proactiveness(c.user_id)).global_level, 0.5)
				 FROM alfred.calibration_state c, alfred.calibration_at(c, now()) s
				WHERE c.user_id = '00000000-0000-0000-0000-00000000c001' AND c.suggestion_type = 'briefing'),
			  'the boost raises the score above the same counts unboosted');
SELECT ok((SELECT boosted FROM alfred.calibration
			WHERE user_id = '00000000-0000-0000-0000-00000000c001' AND suggestion_type = 'briefing'),
		  'the calibration view shows the boost');
SELECT is((pg_temp.rec('00000000-0000-0000-0000-00000000c001', 'briefing', 'dismissed')).boosted_types,
		  '{briefing}'::text[], 'one dismissal keeps it (p_hat 4/6)');
SELECT is((pg_temp.rec('00000000-0000-0000-0000-00000000c001', 'briefing', 'dismissed')).boosted_types,
		  '{}'::text[], 'a second dismissal un-boosts (p_hat 4/7 < 0.60)');
SELECT pg_temp.recn('00000000-0000-0000-0000-00000000c001', 'alerts', 'engaged', 3);
SELECT is(pg_temp.boosted('00000000-0000-0000-0000-00000000c001'), '{alerts}'::text[], 'another type boosts');
SELECT pg_temp.travel('00000000-0000-0000-0000-00000000c001', '36 days');
SELECT is((alfred.proactiveness('00000000-0000-0000-0000-00000000c001')).boosted_types, '{alerts}'::text[],
		  '36 days later the boost holds');
SELECT pg_temp.travel('00000000-0000-0000-0000-00000000c001', '1 day');
SELECT is((alfred.proactiveness('00000000-0000-0000-0000-00000000c001')).boosted_types, '{}'::text[],
		  '37 days later it has lapsed (p_hat fell below 0.60 by decay)');

--
-- The draw
--
SELECT is((SELECT count(DISTINCT alfred.should_suggest('00000000-0000-0000-0000-00000000c002', 'fresh', 0.8, 77))
			 FROM generate_series(1, 20)), 1::bigint,
		  'the same seed gives the same answer');
SELECT ok((SELECT count(*) FROM generate_series(1, 4000) s
			WHERE alfred.should_suggest('00000000-0000-0000-0000-00000000c002', 'fresh', 0.8, s))
		  BETWEEN 2400 AND 2600,
		  'over 4000 seeds the yes rate is about p = 0.625');
SELECT ok((SELECT count(*) FROM generate_series(1, 4000)
			WHERE alfred.should_suggest('00000000-0000-0000-0000-00000000c002', 'fresh', 0.8))
		  BETWEEN 2300 AND 2700,
		  'without a seed the draw is random with the same rate');
SELECT is(alfred.should_suggest('00000000-0000-0000-0000-00000000c002', 'fresh', 1.0, 10),
		  alfred.calibration_uniform(10) < 0.7, 'yes iff u(seed) < p');

--
-- Settings always reflect the state
--
CREATE TEMP TABLE returned AS
SELECT * FROM alfred.record_engagement('00000000-0000-0000-0000-00000000c002', 'x', 'engaged', 'schedule');
SELECT is((SELECT (r.global_level, r.suppressed_types, r.boosted_types)::text FROM returned r),
		  (SELECT (l.global_level, l.suppressed_types, l.boosted_types)::text
			 FROM alfred.proactiveness('00000000-0000-0000-0000-00000000c002') l),
		  'record_engagement returns the live level and type lists');
SELECT is((SELECT (p.global_level, p.suppressed_types, p.boosted_types)::text
			 FROM alfred.proactiveness_settings p WHERE p.user_id = '00000000-0000-0000-0000-00000000c002'),
		  (SELECT (r.global_level, r.suppressed_types, r.boosted_types)::text FROM returned r),
		  '... and stores them in proactiveness_settings');

SELECT * FROM finish();
ROLLBACK;
