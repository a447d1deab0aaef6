-- A hostile tenant against tool policies, global state, direct writes and the
-- per-user limits (issue 13), tried as the documented roles: the application
-- role "app" with a user identity from login/set_session, an observer, an
-- admin, and an agent in alfred_service, all created as README's "App roles
-- and row-level security" says.  Each refusal is checked to change nothing.
BEGIN;
SELECT plan(66);
SET LOCAL client_min_messages = warning;
SET LOCAL alfred.password_cost = 4;
SET LOCAL timezone = 'UTC';

-- The roles, as the README creates them (names prefixed: roles are cluster-wide).
CREATE ROLE tap_policy_app LOGIN;
SELECT alfred.grant_usage('tap_policy_app');
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'alfred_service') THEN
		CREATE ROLE alfred_service NOLOGIN;
	END IF;
END $$;
SELECT alfred.grant_usage('alfred_service');
CREATE ROLE tap_policy_agent LOGIN IN ROLE alfred_service;

SELECT alfred.create_user('tap-policy-ann@example.com', 'correct horse', display_name => 'Ann') AS ann \gset
SELECT alfred.create_user('tap-policy-bob@example.com', 'battery staple') AS bob \gset
SELECT alfred.create_user('tap-policy-root@example.com', 'admin secret', role => 'admin') AS root \gset
SELECT alfred.create_user('tap-policy-obs@example.com', 'observer pass', role => 'observer') AS obs \gset
SELECT alfred.login('tap-policy-ann@example.com', 'correct horse') AS ann_tok,
	   alfred.login('tap-policy-root@example.com', 'admin secret') AS root_tok,
	   alfred.login('tap-policy-obs@example.com', 'observer pass') AS obs_tok \gset

-- Tools: an external one, an sql one for everybody, and an admin-only one whose runs leave a trace.
CREATE TABLE public.tap_policy_log (tool text, user_id uuid);
CREATE FUNCTION public.tap_policy_remind(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE sql AS $$
	INSERT INTO public.tap_policy_log VALUES ('remind', $1);
	SELECT '{"message": "reminded"}'::jsonb
$$;
CREATE FUNCTION public.tap_policy_wipe(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE sql AS $$
	INSERT INTO public.tap_policy_log VALUES ('wipe', $1);
	SELECT '{"message": "wiped"}'::jsonb
$$;
SELECT alfred.register_tool('tap-weather', kind => 'external') IS NOT NULL AS registered \gset
SELECT alfred.register_tool('tap-remind', 'public.tap_policy_remind(uuid, jsonb)') IS NOT NULL AS registered \gset
SELECT alfred.register_tool('tap-wipe', 'public.tap_policy_wipe(uuid, jsonb)', admin_only => true) IS NOT NULL AS registered \gset
INSERT INTO alfred.mcp_servers (name, server_type, command, status, last_heartbeat)
VALUES ('tap-policy-mcp', 'stdio', 'mcp-tap', 'active', now() - interval '1 day');

-- Bob's things, for the tenant to go after.
SELECT alfred.schedule_task(:'bob', 'bob weather', 'tap-weather', cron => '0 7 * * *') AS bob_task \gset
SELECT alfred.connect_account(:'bob', 'gmail', 'bob-secret-token', key => 'a key of sixteen chars') AS bob_acct \gset

SELECT is((alfred.register_tool('tap-wipe', 'public.tap_policy_wipe(uuid, jsonb)', description => 'again')).admin_only, true,
	'registering a tool again without admin_only keeps its policy');
SELECT results_eq($$SELECT name FROM alfred.tools WHERE admin_only ORDER BY name$$,
	ARRAY['expire_proposals', 'run_maintenance', 'tap-wipe'],
	'the built-in tools that act on every user are admin-only, and so is a tool registered so');

------------------------------------------------------------------------------
-- Ann, through the application role
------------------------------------------------------------------------------
SET LOCAL ROLE tap_policy_app;
SELECT alfred.set_session(:'ann_tok', true) IS NOT NULL AS ann_session \gset

SELECT lives_ok(format($$SELECT alfred.schedule_task(%L, 'weather', 'tap-weather', '{"city": "Zürich"}',
		cron => '0 7 * * *', prompt_template => 'Weather for {{user.name}} in {{args.city}}?')$$, :'ann'),
	'the app role schedules a task with a prompt_template (it no longer reads password_hash)');
SELECT id AS ann_task FROM alfred.scheduled_tasks WHERE name = 'weather' \gset

SELECT throws_ok(format($$SELECT alfred.schedule_task(%L, 'm', 'run_maintenance', cron => '0 3 * * *')$$, :'ann'),
	'42501', 'permission denied to schedule tool "run_maintenance" for user "' || :'ann' || '"',
	'a user cannot schedule run_maintenance');
SELECT throws_ok(format($$SELECT alfred.schedule_task(%L, 'e', 'expire_proposals', cron => '0 3 * * *')$$, :'ann'),
	'42501', NULL, 'nor expire_proposals');
SELECT throws_ok(format($$SELECT alfred.schedule_task(%L, 'w', 'tap-wipe', at => now() + interval '1 hour')$$, :'ann'),
	'42501', NULL, 'nor a tool registered admin_only');
SELECT throws_ok(format($$INSERT INTO alfred.scheduled_tasks (user_id, name, task_type, schedule_cron, tool_name)
		VALUES (%L, 'sneaky', 'recurring', '0 3 * * *', 'run_maintenance')$$, :'ann'),
	'42501', NULL, 'a direct INSERT of such a task is refused too');
SELECT throws_ok(format($$UPDATE alfred.scheduled_tasks SET tool_name = 'run_maintenance' WHERE id = %L$$, :'ann_task'),
	'42501', NULL, 'and so is switching a task''s tool_name to it by UPDATE');
SELECT throws_ok(format($$SELECT alfred.schedule_task(%L, 'x', 'tap-weather', cron => '0 7 * * *')$$, :'bob'),
	'P0002', NULL, 'another user''s id: that user does not exist for her');
SELECT throws_ok('SELECT alfred.check_integrations()', '42501', 'permission denied to check integrations',
	'check_integrations (marks every MCP server) is refused to a user');

-- Direct writes of scheduled_tasks are held to the API's checks.
SELECT throws_ok(format($$UPDATE alfred.scheduled_tasks SET schedule_cron = '61 * * * *' WHERE id = %L$$, :'ann_task'),
	'22023', 'minute value 61 is out of range 0-59', 'an invalid cron expression by UPDATE');
SELECT throws_ok(format($$INSERT INTO alfred.scheduled_tasks (user_id, name, task_type, schedule_cron, tool_name)
		VALUES (%L, 'never', 'recurring', '0 0 30 2 *', 'tap-weather')$$, :'ann'),
	'22023', NULL, 'a cron expression that never fires by INSERT');
SELECT throws_ok(format($$UPDATE alfred.scheduled_tasks SET prompt_template = 'Hi {{args.nope}}' WHERE id = %L$$, :'ann_task'),
	'22023', 'template key "args.nope" is missing from the context', 'a template that does not render');
SELECT throws_ok(format($$UPDATE alfred.scheduled_tasks SET tool_args = '{}' WHERE id = %L$$, :'ann_task'),
	'22023', 'template key "args.city" is missing from the context', 'args the template needs cannot be removed');
SELECT throws_ok(format($$UPDATE alfred.scheduled_tasks SET next_run_at = 'infinity' WHERE id = %L$$, :'ann_task'),
	'22008', 'next_run_at "infinity" is out of range', 'an infinite next_run_at');
SELECT lives_ok(format($$INSERT INTO alfred.scheduled_tasks (user_id, name, task_type, schedule_cron, tool_name)
		VALUES (%L, 'direct', 'recurring', '0 8 * * *', 'tap-remind')$$, :'ann'),
	'a valid direct INSERT is accepted');
SELECT isnt((SELECT next_run_at FROM alfred.scheduled_tasks WHERE name = 'direct'), NULL,
	'and gets its next run, as schedule_task gives it');
SELECT id AS direct_task FROM alfred.scheduled_tasks WHERE name = 'direct' \gset
SELECT lives_ok(format('SELECT alfred.cancel_task(%L)', :'direct_task'), 'she cancels it');
SELECT throws_ok(format($$UPDATE alfred.scheduled_tasks SET status = 'active', next_run_at = now() WHERE id = %L$$, :'direct_task'),
	'55000', 'invalid scheduled task transition from "cancelled" to "active"',
	'a cancelled task cannot become active again');
SELECT throws_ok(format($$UPDATE alfred.scheduled_tasks SET status = 'paused' WHERE id = %L$$, :'direct_task'),
	'55000', NULL, 'nor paused: cancelled is final');
SELECT throws_ok(format($$UPDATE alfred.scheduled_tasks SET id = gen_random_uuid() WHERE id = %L$$, :'ann_task'),
	'55000', 'column "id" of a scheduled task cannot change', 'a task keeps its id');

-- task_runs: a user cannot record or finish a run.
RESET ROLE;
SELECT alfred.run_due_tasks(now() + interval '1 day') >= 1 AS ran \gset
SELECT id AS ann_run FROM alfred.task_runs WHERE task_id = :'ann_task' \gset
SET LOCAL ROLE tap_policy_app;
SELECT throws_ok(format($$INSERT INTO alfred.task_runs (user_id, task_id, status, result) VALUES (%L, %L, 'succeeded', 'forged')$$,
		:'ann', :'ann_task'),
	'42501', 'permission denied to record a run of scheduled task "' || :'ann_task' || '"', 'a user cannot insert a run');
SELECT throws_ok(format($$UPDATE alfred.task_runs SET status = 'succeeded', result = 'forged' WHERE id = %L$$, :'ann_run'),
	'42501', NULL, 'nor mark her queued run succeeded');
SELECT throws_ok(format($$UPDATE alfred.task_runs SET result = 'forged' WHERE id = %L$$, :'ann_run'),
	'42501', 'permission denied to change column "result" of a run of scheduled task "' || :'ann_task' || '"',
	'nor write its result');
SELECT throws_ok(format($$SELECT alfred.complete_run(%L, 'forged')$$, :'ann_run'),
	NULL, NULL, 'nor complete it through complete_run (only agents and the scheduler finish runs)');
SELECT is((SELECT status FROM alfred.task_runs WHERE id = :'ann_run'), 'queued', 'the run is still queued');

-- Tokens: written only through connect_account, sealed to their account.
SELECT lives_ok(format($$SELECT alfred.connect_account(%L, 'gmail', 'ann-token', key => 'a key of sixteen chars')$$, :'ann'),
	'she connects an account');
SELECT id AS ann_acct FROM alfred.connected_accounts WHERE user_id = :'ann' \gset
SELECT throws_ok(format($$UPDATE alfred.connected_accounts SET access_token = '\x00' WHERE id = %L$$, :'ann_acct'),
	'42501', 'permission denied to write the tokens of connected account "' || :'ann_acct' || '"',
	'a direct UPDATE of a token is refused');
SELECT throws_ok(format($$INSERT INTO alfred.connected_accounts (user_id, provider, access_token) VALUES (%L, 'outlook', '\x00')$$, :'ann'),
	'42501', NULL, 'and so is a direct INSERT');
SELECT is((SELECT access_token FROM alfred.account_tokens(:'ann_acct', 'a key of sixteen chars')), 'ann-token',
	'her token reads back');
RESET ROLE;
-- A ciphertext of Bob's account copied into Ann's row (as with a stolen dump): it does not open there.
SET LOCAL session_replication_role = replica;
UPDATE alfred.connected_accounts SET access_token = (SELECT access_token FROM alfred.connected_accounts WHERE id = :'bob_acct')
 WHERE id = :'ann_acct';
SET LOCAL session_replication_role = origin;
SET LOCAL ROLE tap_policy_app;
SELECT throws_ok(format($$SELECT * FROM alfred.account_tokens(%L, 'a key of sixteen chars')$$, :'ann_acct'),
	'28P01', 'cannot decrypt the tokens of connected account "' || :'ann_acct' || '"',
	'a token copied from another account does not decrypt in hers');
SELECT lives_ok(format($$SELECT alfred.set_account_tokens(%L, 'ann-new', key => 'a key of sixteen chars')$$, :'ann_acct'),
	'set_account_tokens stores a fresh one');
SELECT is((SELECT access_token FROM alfred.account_tokens(:'ann_acct', 'a key of sixteen chars')), 'ann-new',
	'which reads back');

-- Limits a DBA sets; a tenant cannot raise them.
SELECT throws_ok('SET alfred.max_active_tasks = 100000', '42501', NULL, 'the app role cannot change a limit');
RESET ROLE;
SET LOCAL alfred.max_active_tasks = 1;
SET LOCAL alfred.min_task_interval = '5min';
SET LOCAL alfred.max_tool_args = '1kB';
SET LOCAL ROLE tap_policy_app;
SELECT throws_ok(format($$SELECT alfred.schedule_task(%L, 'one more', 'tap-remind', cron => '0 9 * * *')$$, :'ann'),
	'54000', 'user "' || :'ann' || '" has too many active scheduled tasks', 'alfred.max_active_tasks holds for schedule_task');
SELECT throws_ok(format($$INSERT INTO alfred.scheduled_tasks (user_id, name, task_type, schedule_cron, tool_name)
		VALUES (%L, 'one more', 'recurring', '0 9 * * *', 'tap-remind')$$, :'ann'),
	'54000', NULL, 'and for a direct INSERT');
SELECT lives_ok(format('SELECT alfred.pause_task(%L)', :'ann_task'), 'pausing frees a place');
SELECT lives_ok(format($$SELECT alfred.schedule_task(%L, 'other', 'tap-remind', cron => '*/5 * * * *')$$, :'ann'),
	'which a task every 5 minutes takes (alfred.min_task_interval = 5min)');
SELECT throws_ok(format('SELECT alfred.resume_task(%L)', :'ann_task'), '54000', NULL,
	'resuming the paused task would exceed the limit');
SELECT throws_ok(format($$UPDATE alfred.scheduled_tasks SET status = 'active', next_run_at = now() + interval '1 day' WHERE id = %L$$, :'ann_task'),
	'54000', NULL, 'and so would a direct UPDATE');
SELECT throws_ok(format($$UPDATE alfred.scheduled_tasks SET schedule_cron = '*/2 * * * *' WHERE name = 'other' AND user_id = %L$$, :'ann'),
	'54000', 'scheduled task "other" would run too often', 'a cron firing every 2 minutes is refused by UPDATE');
SELECT throws_ok(format($$UPDATE alfred.scheduled_tasks SET schedule_cron = '30 seconds' WHERE name = 'other' AND user_id = %L$$, :'ann'),
	'54000', NULL, 'and pg_cron''s interval form too');
SELECT throws_ok(format($$UPDATE alfred.scheduled_tasks SET tool_args = jsonb_build_object('x', repeat('a', 2000)) WHERE name = 'other' AND user_id = %L$$, :'ann'),
	'54000', 'tool_args of scheduled task "other" are too large', 'tool_args beyond alfred.max_tool_args');
SELECT is((SELECT (schedule_cron, tool_args) FROM alfred.scheduled_tasks WHERE name = 'other' AND user_id = :'ann'),
	('*/5 * * * *'::text, '{}'::jsonb), 'the refused writes changed nothing');
SELECT throws_ok(format($$INSERT INTO alfred.scheduler_limits (user_id, max_active_tasks) VALUES (%L, 0)$$, :'ann'),
	'42501', NULL, 'a user cannot lift her own limit');
RESET ROLE;
INSERT INTO alfred.scheduler_limits (user_id, min_task_interval) VALUES (:'ann', '1min');
SET LOCAL ROLE tap_policy_app;
SELECT is((SELECT min_task_interval FROM alfred.scheduler_limits_of(:'ann')), '1min'::interval,
	'a DBA''s row for her replaces the setting, and she can read it');
SELECT lives_ok(format($$UPDATE alfred.scheduled_tasks SET schedule_cron = '*/2 * * * *' WHERE name = 'other' AND user_id = %L$$, :'ann'),
	'so every 2 minutes is now allowed for her');

------------------------------------------------------------------------------
-- An observer, an admin and an agent
------------------------------------------------------------------------------
SELECT alfred.set_session(:'obs_tok', true) IS NOT NULL AS obs_session \gset
SELECT throws_ok(format($$SELECT alfred.schedule_task(%L, 'x', 'tap-remind', cron => '0 9 * * *')$$, :'obs'),
	'42501', NULL, 'an observer schedules nothing, not even for herself');
SELECT throws_ok('SELECT alfred.check_integrations()', '42501', NULL, 'nor checks integrations');

SELECT alfred.set_session(:'root_tok', true) IS NOT NULL AS root_session \gset
SELECT throws_ok(format($$SELECT alfred.schedule_task(%L, 'm', 'run_maintenance', cron => '0 3 * * *')$$, :'ann'),
	'42501', NULL, 'an admin cannot give a user''s task an admin-only tool');
SELECT lives_ok(format($$SELECT alfred.schedule_task(%L, 'root wipe', 'tap-wipe', cron => '0 3 * * *')$$, :'root'),
	'an admin schedules an admin-only tool for herself');
SELECT is(alfred.check_integrations(), 1, 'an admin checks integrations');
RESET ROLE;

SET LOCAL ROLE tap_policy_agent;
SELECT lives_ok('SELECT alfred.check_integrations()', 'a member of alfred_service checks integrations');
SELECT alfred.act_as(:'ann', true) IS NOT NULL AS agent_as_ann \gset
SELECT lives_ok(format($$UPDATE alfred.task_runs SET lease_until = now() + interval '1 minute' WHERE id = %L$$, :'ann_run'),
	'an agent (alfred_service) may write a run: it is trusted with runs');
SELECT throws_ok(format($$SELECT alfred.schedule_task(%L, 'agent', 'tap-remind', cron => '0 9 * * *')$$, :'ann'),
	'54000', NULL, 'an agent acting as a user is held to her limits');
SELECT alfred.reset_identity(true) \gset
RESET ROLE;

-- Back to the default limits; one more task of Ann's with the sql tool, due later.
SET LOCAL alfred.max_active_tasks = 1000;
SET LOCAL alfred.min_task_interval = '1min';
SET LOCAL alfred.max_tool_args = '64kB';
SELECT alfred.schedule_task(:'ann', 'later', 'tap-remind', at => now() + interval '1 day') AS later_task \gset

------------------------------------------------------------------------------
-- At run time: a policy tightened (or an admin demoted) after scheduling
------------------------------------------------------------------------------
UPDATE alfred.users SET role = 'user' WHERE id = :'root';
UPDATE alfred.scheduled_tasks SET next_run_at = now() - interval '1 minute' WHERE name IN ('root wipe', 'other');
SELECT alfred.register_tool('tap-remind', 'public.tap_policy_remind(uuid, jsonb)', admin_only => true) IS NOT NULL AS tightened \gset
SELECT alfred.run_due_tasks(now()) AS ran \gset
SELECT is((SELECT count(*)::int FROM public.tap_policy_log), 0, 'nothing ran: neither the demoted admin''s tool nor the tightened one');
SELECT results_eq($$SELECT s.name, s.status, r.status, r.error LIKE '%is admin-only and user%'
					  FROM alfred.scheduled_tasks s JOIN alfred.task_runs r ON r.task_id = s.id
					 WHERE s.name IN ('root wipe', 'other') ORDER BY s.name$$,
	$$VALUES ('other'::text, 'paused'::text, 'failed'::text, true), ('root wipe', 'paused', 'failed', true)$$,
	'their runs failed with the policy''s reason and the tasks are paused');
SET LOCAL ROLE tap_policy_app;
SELECT alfred.set_session(:'ann_tok', true) IS NOT NULL AS ann_session \gset
SELECT throws_ok(format($$SELECT alfred.run_task_now(%L)$$, :'later_task'),
	'42501', 'permission denied to schedule tool "tap-remind" for user "' || :'ann' || '"',
	'run_task_now of an active task whose tool became admin-only is refused');
SELECT throws_ok(format($$SELECT alfred.resume_task(%L)$$, (SELECT id FROM alfred.scheduled_tasks WHERE name = 'other')),
	'42501', NULL, 'and resuming it is refused by the tool''s policy');
SELECT lives_ok(format('SELECT alfred.cancel_task(%L)', :'ann_task'), 'a user cancels her task with a queued run');
SELECT is((SELECT status FROM alfred.task_runs WHERE id = :'ann_run'), 'cancelled', 'which cancels the run: that write is hers to make');
RESET ROLE;

------------------------------------------------------------------------------
-- The AI quota: a user cannot raise their own limit
------------------------------------------------------------------------------
SET LOCAL ROLE tap_policy_app;
SELECT alfred.set_session(:'ann_tok', true) IS NOT NULL AS ann_session \gset
SELECT throws_ok($$UPDATE alfred.user_settings SET ai_daily_limit = 1000000$$,
	'42501', 'permission denied to set the AI quota of user "' || :'ann' || '"',
	'a user cannot raise her own AI quota by UPDATE');
SELECT lives_ok($$UPDATE alfred.user_settings SET ai_tone = 'casual'$$, 'her other settings are hers to change');
DELETE FROM alfred.user_settings;
SELECT throws_ok(format($$INSERT INTO alfred.user_settings (user_id, ai_daily_limit) VALUES (%L, 1000000)$$, :'ann'),
	'42501', NULL, 'nor by deleting her settings row and inserting one with a quota');
RESET ROLE;
UPDATE alfred.users SET role = 'admin' WHERE id = :'root';
SET LOCAL ROLE tap_policy_app;
SELECT alfred.set_session(:'root_tok', true) IS NOT NULL AS root_session \gset
SELECT lives_ok(format($$UPDATE alfred.user_settings SET ai_daily_limit = 50 WHERE user_id = %L$$, :'bob'),
	'an admin sets a user''s quota');
RESET ROLE;
SELECT is((SELECT ai_daily_limit FROM alfred.user_settings WHERE user_id = :'bob'), 50, 'and it is stored');

SELECT * FROM finish();
ROLLBACK;
