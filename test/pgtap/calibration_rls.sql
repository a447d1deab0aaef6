-- Proactive calibration under row-level security: an application role acting
-- as a user records, scores and reads only her own calibration; another
-- user's state, settings and patterns are out of reach.
BEGIN;
SELECT plan(11);
SET LOCAL client_min_messages = warning;
SET LOCAL alfred.password_cost = 4;

CREATE ROLE tap_calibration_app;
SELECT alfred.grant_usage('tap_calibration_app');
SELECT alfred.create_user('tap-calibration-ann@example.com', 'correct horse') AS ann \gset
SELECT alfred.create_user('tap-calibration-bob@example.com', 'battery staple') AS bob \gset
SELECT count(alfred.record_engagement(:'bob', 'news', 'dismissed', 'notification')) FROM generate_series(1, 3) \gset
SELECT id AS bobs_pattern FROM alfred.observe_pattern(:'bob', 'time_based', 'Reads news at night', '{}') \gset

SELECT alfred.act_as(:'ann') \gset
SET LOCAL ROLE tap_calibration_app;

SELECT is((SELECT global_level FROM alfred.record_engagement(:'ann', 'news', 'engaged', 'conversation')), 0.75::float8,
		  'she records her engagement (g = 4.5/6)');
SELECT ok(abs(alfred.suggestion_score(:'ann', 'news', 0.8) - 0.90234375) < 1e-12,
		  'and scores from her state: e = 1, t = 0.25/0.8, p = 1 - t^2');
SELECT throws_ok(format($$SELECT alfred.record_engagement(%L, 'news', 'engaged', 'conversation')$$, :'bob'),
				 '42501', NULL, 'she cannot record for another user');
SELECT throws_ok(format($$SELECT alfred.set_proactiveness(%L, 'less')$$, :'bob'), '42501', NULL,
				 'nor change his proactiveness');
SELECT is((SELECT array_agg(DISTINCT user_id) FROM alfred.calibration), ARRAY[:'ann']::uuid[],
		  'the calibration view shows her rows only');
SELECT is((SELECT count(*) FROM alfred.proactiveness_settings), 1::bigint, 'and her settings only');
SELECT is(alfred.suggestion_score(:'bob', 'news', 0.8), 0.625::float8,
		  'his suppressed state is invisible: she gets the defaults for him');
SELECT is((SELECT count(*) FROM alfred.actionable_patterns(:'bob')), 0::bigint, 'his patterns do not show');
SELECT throws_ok(format('SELECT alfred.accept_pattern(%L)', :'bobs_pattern'), 'P0002', NULL,
				 'and she cannot accept one');

RESET ROLE;
SELECT is((SELECT suppressed_types FROM alfred.proactiveness_settings WHERE user_id = :'bob'), '{news}'::text[],
		  'his suppression is untouched');
SELECT is((SELECT count(*) FROM alfred.engagement_events WHERE user_id = :'bob'), 3::bigint,
		  'and so are his events');

SELECT * FROM finish();
ROLLBACK;
