-- The seeds' writable views (task_actions, approvals) as the documented roles:
-- an application role acting as a user, an observer, an admin, and an agent
-- (a member of alfred_service).  A write through a view is exactly what the
-- API allows that role, no more.
BEGIN;
SELECT plan(12);
SET LOCAL client_min_messages = warning;
SET LOCAL alfred.password_cost = 4;

CREATE ROLE tap_views_app;
SELECT alfred.grant_usage('tap_views_app');
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'alfred_service') THEN
		CREATE ROLE alfred_service NOLOGIN;
	END IF;
END $$;
SELECT alfred.grant_usage('alfred_service');
CREATE ROLE tap_views_agent IN ROLE alfred_service;
SELECT alfred.create_user('tap-views-ann@example.com', 'correct horse') AS ann \gset
SELECT alfred.create_user('tap-views-eve@example.com', 'correct horse', role => 'observer') AS eve \gset
SELECT alfred.create_user('tap-views-root@example.com', 'correct horse', role => 'admin') AS root \gset
SELECT alfred.propose(:'ann', 'mail', 'send_report', '{}') AS first \gset
SELECT alfred.propose(:'ann', 'mail', 'send_report', '{}') AS second \gset

-- An observer reads Ann's approvals but cannot decide them through the view.
SELECT alfred.act_as(:'eve');
SET LOCAL ROLE tap_views_app;
SELECT is((SELECT count(*)::int FROM alfred.approvals WHERE id IN (:'first', :'second')), 2,
		  'an observer sees the approvals');
SELECT throws_ok(format($$UPDATE alfred.approvals SET status = 'approved' WHERE id = %L$$, :'first'),
				 '42501', format('permission denied to decide proposal "%s"', :'first'),
				 'an observer cannot approve through the view');
SELECT is((SELECT count(*)::int FROM alfred.task_actions WHERE id = :'first'), 0,
		  'a proposal that is no task action is not a row of task_actions');
SELECT throws_ok(format($$INSERT INTO alfred.approvals (user_id, action_type, details) VALUES (%L, 'x', '{}')$$, :'ann'),
				 '42501', NULL, 'an observer cannot propose through the view');
RESET ROLE;
SELECT is((SELECT status FROM alfred.proposals WHERE id = :'first'), 'pending', 'the observer changed nothing');

-- An admin decides another user's approval through the view, recorded as hers.
SELECT alfred.act_as(:'root');
SET LOCAL ROLE tap_views_app;
SELECT throws_ok(format($$UPDATE alfred.approvals SET status = 'approved', approved_by = %L WHERE id = %L$$, :'ann', :'first'),
				 '42501', NULL, 'an admin cannot record the decision in the user''s name');
SELECT lives_ok(format($$UPDATE alfred.approvals SET status = 'approved', approved_by = %L WHERE id = %L$$, :'root', :'first'),
				'an admin approves a user''s approval as herself');
RESET ROLE;
SELECT is((SELECT approved_by FROM alfred.proposals WHERE id = :'first'), :'root'::uuid, 'approved_by is the admin');

-- An agent (alfred_service) acting as Ann proposes a task action through the view.
SELECT alfred.reset_identity();
SET LOCAL ROLE tap_views_agent;
SELECT alfred.act_as(:'ann');
SELECT lives_ok(format($$INSERT INTO alfred.task_actions (user_id, action_type, extracted_params, confidence_score)
						 VALUES (%L, 'create', '{"title": "From the agent"}', 0.8)$$, :'ann'),
				'an agent acting as the user proposes a task action');
SELECT is((SELECT confirmation_status FROM alfred.task_actions WHERE extracted_params->>'title' = 'From the agent'),
		  'pending', '... pending');
-- and, acting as Ann, cannot reach another user's rows: the admin's own proposal is invisible
RESET ROLE;
SELECT alfred.reset_identity();
SELECT alfred.propose(:'root', 'mail', 'send_report', '{}') AS roots \gset
SET LOCAL ROLE tap_views_agent;
SELECT alfred.act_as(:'ann');
UPDATE alfred.approvals SET status = 'rejected' WHERE id = :'roots';
RESET ROLE;
SELECT is((SELECT status FROM alfred.proposals WHERE id = :'roots'), 'pending',
		  'acting as Ann, the agent''s UPDATE of the admin''s approval finds no row');
SELECT is((SELECT count(*)::int FROM alfred.proposals WHERE user_id = :'ann' AND status = 'rejected'), 0,
		  'and rejects nothing of Ann''s either');

SELECT * FROM finish();
ROLLBACK;
