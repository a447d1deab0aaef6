-- Blank-looking text (no-break, zero-width, tabs) is refused wherever blank text is:
-- the checks that once compared with '' or btrim() use alfred.is_blank too.
BEGIN;
SELECT plan(6);
SET LOCAL client_min_messages = warning;
SET LOCAL alfred.password_cost = 4;

SELECT alfred.create_user('tap-blank@example.com', 'password123') AS uid \gset
SELECT alfred.connect_account(:'uid', 'gmail', 'real-token', key => 'a key of sixteen chars') AS acct \gset

SELECT throws_ok($$SELECT * FROM alfred.claim_runs(E'\u00a0')$$, '22023', 'worker must name the agent',
	'claim_runs refuses a worker name of a no-break space');
SELECT throws_ok($$SELECT * FROM alfred.claim_runs(E'\t\n')$$, '22023', 'worker must name the agent',
	'and one of a tab and a newline');
SELECT throws_ok(format($$SELECT alfred.connect_account(%L, 'gmail', E'\u200b', key => 'a key of sixteen chars')$$, :'uid'),
	'22023', 'access_token must not be empty', 'connect_account refuses a zero-width access token');
SELECT throws_ok(format($$SELECT alfred.set_account_tokens(%L, E' \u3000 ', key => 'a key of sixteen chars')$$, :'acct'),
	'22023', 'access_token must not be empty', 'set_account_tokens refuses an ideographic-space token');
SELECT is((SELECT access_token FROM alfred.account_tokens(:'acct', 'a key of sixteen chars')), 'real-token',
	'and the stored token is unchanged');

-- a tool's blank-looking title falls back to the task's name
CREATE FUNCTION public.tap_blank_title(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE sql
	AS $$ SELECT jsonb_build_object('title', E'\u00a0\u200b', 'message', 'hi') $$;
SELECT alfred.register_tool('tap-blank-title', 'public.tap_blank_title(uuid, jsonb)') IS NOT NULL AS reg \gset
SELECT alfred.schedule_task(:'uid', 'Blank title task', 'tap-blank-title', at => '2100-01-01') AS task \gset
SELECT alfred.run_due_tasks('2100-01-01') AS ran \gset
SELECT is((SELECT title FROM alfred.notifications WHERE user_id = :'uid' AND type = 'scheduled_task'),
	'Blank title task', 'a blank-looking title from a tool falls back to the task name');

SELECT * FROM finish();
ROLLBACK;
