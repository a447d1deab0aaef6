-- Proposals under row-level security: an application role acting as a user
-- proposes, decides and executes only that user's proposals, and the
-- decision records who made it.
BEGIN;
SELECT plan(10);
SET LOCAL client_min_messages = warning;
SET LOCAL alfred.password_cost = 4;

CREATE ROLE tap_proposals_app;
SELECT alfred.grant_usage('tap_proposals_app');
SELECT alfred.create_user('tap-ann@example.com', 'correct horse') AS ann \gset
SELECT alfred.create_user('tap-bob@example.com', 'battery staple') AS bob \gset
SELECT alfred.create_user('tap-root@example.com', 'admin secret', role => 'admin') AS root \gset
SELECT alfred.propose(:'bob', 'mail', 'create_email_draft',
	'{"to": ["x@example.com"], "subject": "s", "body": "b"}') AS bobs \gset

SELECT alfred.act_as(:'ann');
SET LOCAL ROLE tap_proposals_app;

SELECT lives_ok($$ SELECT alfred.propose(current_setting('tap.ann')::uuid, 'planner', 'create', '{"title": "Ann''s task"}') $$,
	'a user proposes for herself') FROM set_config('tap.ann', :'ann', true);
SELECT throws_ok($$ SELECT alfred.propose(current_setting('tap.bob')::uuid, 'planner', 'create', '{"title": "Bob''s task"}') $$,
	'42501', NULL, 'but not for another user') FROM set_config('tap.bob', :'bob', true);
SELECT throws_ok(format('SELECT alfred.approve(%L)', :'bobs'), 'P0002',
	format('proposal "%s" does not exist', :'bobs'), 'another user''s proposal is invisible to her decisions');
SELECT throws_ok(format('SELECT alfred.reject(%L)', :'bobs'), 'P0002', NULL, 'nor can she reject it');

SELECT id AS anns FROM alfred.proposals WHERE action_type = 'create' \gset
SELECT is((SELECT status FROM alfred.approve(:'anns', execute => true)), 'executed', 'she approves and executes hers');
SELECT is((SELECT approved_by FROM alfred.proposals WHERE id = :'anns'), :'ann'::uuid, 'approved_by is who acted');
SELECT is((SELECT created_by FROM alfred.tasks WHERE title = 'Ann''s task'), :'ann'::uuid, 'the task is created by her');
SELECT is((SELECT count(*)::int FROM alfred.preference_signals), 1, 'she sees her one signal');

RESET ROLE;
SELECT is((SELECT status FROM alfred.proposals WHERE id = :'bobs'), 'pending', 'Bob''s proposal is untouched');

-- an admin may decide for Bob, and the decision says so
SELECT alfred.act_as(:'root');
SET LOCAL ROLE tap_proposals_app;
SELECT is((SELECT rejected_by FROM alfred.reject(:'bobs')), :'root'::uuid, 'an admin''s rejection is recorded as hers');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
