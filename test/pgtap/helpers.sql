-- Direct tests of small documented functions that other tests reach only through their
-- callers: priority_rank, check_suggestion_type, quiet_hours_end_at, retention_cutoff,
-- retry_delay, task_prompt_context and may_act_for.
BEGIN;
SELECT plan(21);
SET LOCAL client_min_messages = warning;
SET LOCAL alfred.password_cost = 4;

-- priority_rank: the dashboards' sort key.
SELECT is(ARRAY(SELECT alfred.priority_rank(p)
				  FROM unnest(ARRAY['critical', 'urgent', 'high', 'medium', 'low', 'someday']) AS p),
		  ARRAY[0, 1, 2, 3, 4, 5], 'priority_rank: critical 0 … low 4, anything else after them');

-- check_suggestion_type
SELECT is(alfred.check_suggestion_type('weather_briefing'), 'weather_briefing',
		  'check_suggestion_type returns a named type');
SELECT throws_ok($$SELECT alfred.check_suggestion_type('  ')$$, '22023', 'suggestion type must not be empty',
				 'check_suggestion_type refuses a blank type');
SELECT throws_ok($$SELECT alfred.check_suggestion_type(NULL)$$, '22004', 'argument "suggestion_type" must not be null',
				 'check_suggestion_type refuses NULL');

-- quiet_hours_end_at, in Berlin (UTC+1 in winter, +2 from 2026-03-29 02:00).
SELECT is(alfred.quiet_hours_end_at('2026-01-15 21:30+00', 'Europe/Berlin', '22:00', '07:00'),
		  '2026-01-16 06:00+00'::timestamptz, 'quiet hours wrapping midnight, evening side: they end next morning');
SELECT is(alfred.quiet_hours_end_at('2026-01-15 23:30+00', 'Europe/Berlin', '22:00', '07:00'),
		  '2026-01-16 06:00+00'::timestamptz, 'after local midnight: they end the same (local) morning');
SELECT is(alfred.quiet_hours_end_at('2026-01-15 12:00+00', 'Europe/Berlin', '22:00', '07:00'),
		  NULL, 'outside wrapping quiet hours: NULL');
SELECT is(alfred.quiet_hours_end_at('2026-03-28 22:30+00', 'Europe/Berlin', '22:00', '07:00'),
		  '2026-03-29 05:00+00'::timestamptz, 'the end is a wall-clock time: 07:00 CEST after the DST change');
SELECT is(alfred.quiet_hours_end_at('2026-07-01 11:30+00', 'Europe/Berlin', '13:00', '14:00'),
		  '2026-07-01 12:00+00'::timestamptz, 'quiet hours within a day: they end the same day');
SELECT is(alfred.quiet_hours_end_at('2026-07-01 12:00+00', 'Europe/Berlin', '13:00', '14:00'),
		  NULL, 'the end itself is outside them');
SELECT is(alfred.quiet_hours_end_at('2026-07-01 12:00+00', 'Europe/Berlin', '14:00', '14:00'),
		  NULL, 'equal start and end: no quiet hours');
SELECT is(alfred.quiet_hours_end_at('2026-07-01 12:00+00', 'Europe/Berlin', NULL, '14:00'),
		  NULL, 'unset quiet hours: NULL');

-- retention_cutoff reads the retention table.
SELECT is(alfred.retention_cutoff('task_actions', '2026-01-15 00:00+00'), '2026-01-08 00:00+00'::timestamptz,
		  'retention_cutoff: now minus the relation''s keep');
SELECT is(alfred.retention_cutoff('audit_trail', '2026-01-15 00:00+00'), NULL,
		  'retention_cutoff: NULL for a relation kept forever');
SELECT is(alfred.retention_cutoff('no_such_relation', '2026-01-15 00:00+00'), NULL,
		  'retention_cutoff: NULL for a relation without a rule');

-- retry_delay: base × 2^(attempt − 1) plus up to 25 % jitter.
SELECT ok(bool_and(alfred.retry_delay(1) BETWEEN base AND base * 1.25
				   AND alfred.retry_delay(3) BETWEEN base * 4 AND base * 5
				   AND alfred.retry_delay(0) BETWEEN base AND base * 1.25),
		  'retry_delay doubles per attempt, with at most 25 % jitter')
  FROM (SELECT current_setting('alfred.retry_base_delay')::interval AS base) s, generate_series(1, 50);

-- task_prompt_context
SELECT alfred.create_user('tap-helpers-ann@example.com', 'correct horse', display_name => 'Ann') AS ann \gset
SELECT alfred.create_user('tap-helpers-bob@example.com', 'battery staple') AS bob \gset
SELECT alfred.create_user('tap-helpers-obs@example.com', 'observer pass', role => 'observer') AS obs \gset
SELECT alfred.task_prompt_context(jsonb_populate_record(NULL::alfred.scheduled_tasks,
		   jsonb_build_object('id', '00000000-0000-0000-0000-0000000000aa', 'user_id', :'ann', 'name', 'Stretch',
							  'tool_name', 'remind', 'tool_args', '{"text": "up"}'::jsonb, 'timezone', 'UTC',
							  'source', 'user'))) AS context \gset
SELECT is(((:'context'::jsonb)->'user'->>'name', (:'context'::jsonb)->'user' ? 'password_hash',
		   (:'context'::jsonb)->'task'->>'name', (:'context'::jsonb)->'args'),
		  ('Ann'::text, false, 'Stretch'::text, '{"text": "up"}'::jsonb),
		  'task_prompt_context: the user (name, no password hash), the task and its args');

-- may_act_for
SELECT ok(alfred.may_act_for(:'ann'), 'may_act_for: a superuser without an identity is a service');
SELECT alfred.act_as(:'ann', true) \gset
SELECT is((alfred.may_act_for(:'ann'), alfred.may_act_for(:'bob', false)), (true, false),
		  'a user may act for herself and not even read for another');
SELECT alfred.act_as(:'obs', true) \gset
SELECT is((alfred.may_act_for(:'ann', false), alfred.may_act_for(:'ann')), (true, false),
		  'an observer may read for anyone and write for no one');
SELECT is(alfred.may_act_for(:'obs'), false, 'not even for herself');
SELECT alfred.reset_identity(true) \gset

SELECT * FROM finish();
ROLLBACK;
