-- alfred proposals: the state machine, payload checks, edit signals, the
-- built-in task executor, expiry and the seeds' views; exact error texts.
SET timezone = 'UTC';
\set SHOW_CONTEXT never
\set VERBOSITY default

INSERT INTO alfred.users (id, email, password_hash) VALUES
	('a0000000-0000-0000-0000-000000000001', 'proposals-ada@example.com', '$2a$06$' || repeat('x', 53)),
	('a0000000-0000-0000-0000-000000000002', 'proposals-bob@example.com', '$2a$06$' || repeat('x', 53));
INSERT INTO alfred.user_settings (user_id, auto_reject_high_risk)
VALUES ('a0000000-0000-0000-0000-000000000002', false);

-- the transition table: rows are from, columns to
SELECT f.s AS "from",
	   string_agg(CASE WHEN alfred.proposal_transition_allowed(f.s, t.s) THEN 'Y' ELSE '.' END, ' '
				  ORDER BY t.n) AS "pend appr rej exp exec done fail"
  FROM unnest(ARRAY['pending', 'approved', 'rejected', 'expired', 'executing', 'executed', 'failed'])
	   WITH ORDINALITY AS f(s, n),
	   unnest(ARRAY['pending', 'approved', 'rejected', 'expired', 'executing', 'executed', 'failed'])
	   WITH ORDINALITY AS t(s, n)
 GROUP BY f.s, f.n ORDER BY f.n;
SELECT alfred.proposal_transition_allowed('pending', 'done');

-- payload checks name the key (22023)
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'create', '{"description": "milk"}');
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'create', '{"title": "Milk", "titel": "x"}');
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'complete', '{"task_id": "b0000000-0000-0000-0000-000000000001"}');
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'update', '{"task_id": "42"}');
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'query', '{"filters": {"limit": 5000}}');
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'create', '["Milk"]');
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'mail', 'create_email_draft', '{"to": ["ann@example.com"], "subject": "Hi"}');
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'cal', 'create_calendar_event',
	'{"title": "Study", "start": "2025-11-15T16:00:00Z", "end": "2025-11-15T14:00:00Z"}');
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'x', 'order_pizza',
	jsonb_build_object('a', (repeat('[', 40) || repeat(']', 40))::jsonb));
SELECT alfred.check_proposal_payload(NULL, '{}');
SELECT alfred.check_proposal_payload('create', NULL);

-- the other arguments of propose (22023)
SELECT alfred.propose(NULL, 'planner', 'create', '{"title": "Milk"}');
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', ' ', 'create', '{"title": "Milk"}');
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'Create Task', '{"title": "Milk"}');
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'create', '{"title": "Milk"}', risk_level => 'extreme');
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'create', '{"title": "Milk"}', confidence => 1.5);
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'create', '{"title": "Milk"}', expires_at => now() - interval '1 second');
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'delete', '{"task_id": "b0000000-0000-0000-0000-000000000001"}',
	task_id => 'b0000000-0000-0000-0000-000000000002');
SELECT count(*) AS nothing_was_recorded FROM alfred.proposals;

-- the edit distance and the signal it gives, both sides of 0.25
SELECT alfred.proposal_edit_distance('{"a": 1, "b": [1, 2]}', '{"b": [1, 2.0], "a": 1}') AS same,
	   alfred.proposal_edit_distance('"kitten"', '"sitting"')::numeric(5, 4) AS kitten,
	   alfred.proposal_edit_distance('{"to": "x"}', '{"cc": "x"}') AS renamed;
SELECT n AS letters_changed,
	   alfred.proposal_edit_distance(jsonb_build_object('body', repeat('a', 100)),
									 jsonb_build_object('body', repeat('b', n) || repeat('a', 100 - n))) AS distance,
	   alfred.proposal_edit_signal(alfred.proposal_edit_distance(jsonb_build_object('body', repeat('a', 100)),
									 jsonb_build_object('body', repeat('b', n) || repeat('a', 100 - n)))) AS signal
  FROM unnest(ARRAY[0, 1, 24, 25, 100]) AS n;
SELECT alfred.proposal_edit_signal(1.5);

-- a plain approval, then the wrong next steps
INSERT INTO alfred.proposals (user_id, id, agent_name, action_type, payload) VALUES
	('a0000000-0000-0000-0000-000000000001', 'c0000000-0000-0000-0000-000000000001', 'mail', 'create_email_draft',
	 '{"to": ["ann@example.com"], "subject": "Re: lunch", "body": "Thursday at noon works for me."}');
SELECT status, approved_by, approved_at IS NOT NULL AS stamped, attempts
  FROM alfred.approve('c0000000-0000-0000-0000-000000000001');
SELECT alfred.approve('c0000000-0000-0000-0000-000000000001');
SELECT alfred.execute_proposal('c0000000-0000-0000-0000-000000000001');
SELECT alfred.finish_execution('c0000000-0000-0000-0000-000000000001', 'success');
SELECT alfred.approve('c0000000-0000-0000-0000-00000000dead');
SELECT alfred.reject(NULL);
SELECT status, started_at IS NOT NULL AS stamped, attempts FROM alfred.start_execution('c0000000-0000-0000-0000-000000000001');
SELECT alfred.finish_execution('c0000000-0000-0000-0000-000000000001', 'done');
SELECT alfred.finish_execution('c0000000-0000-0000-0000-000000000001', 'failure');
SELECT alfred.reject('c0000000-0000-0000-0000-000000000001');
SELECT status, error_message, failed_at IS NOT NULL AS stamped
  FROM alfred.finish_execution('c0000000-0000-0000-0000-000000000001', 'failure', error => 'SMTP 451',
							   external_ids => '{"draft_id": "r-1"}', duration_ms => 120);
SELECT alfred.approve('c0000000-0000-0000-0000-000000000001');
SELECT status, error_message FROM alfred.retry_proposal('c0000000-0000-0000-0000-000000000001');
SELECT status, attempts FROM alfred.start_execution('c0000000-0000-0000-0000-000000000001');
SELECT status, result, executed_at IS NOT NULL AS stamped
  FROM alfred.finish_execution('c0000000-0000-0000-0000-000000000001', 'success', result => '{"draft_id": "r-2"}');
SELECT alfred.retry_proposal('c0000000-0000-0000-0000-000000000001');
SELECT executor_status, executor_error, external_ids, response_payload,
	   CASE WHEN executor_status = 'failure' THEN execution_duration_ms END AS reported_ms,
	   execution_duration_ms >= 0 AS timed
  FROM alfred.execution_logs WHERE proposal_id = 'c0000000-0000-0000-0000-000000000001'
 ORDER BY created_at, executor_status;

-- edits: light and heavy; an edited payload is checked like the original
INSERT INTO alfred.proposals (user_id, id, agent_name, action_type, payload) VALUES
	('a0000000-0000-0000-0000-000000000001', 'c0000000-0000-0000-0000-000000000002', 'mail', 'create_email_draft',
	 '{"to": ["ann@example.com"], "subject": "Re: lunch", "body": "Thursday at noon works for me. See you there!"}'),
	('a0000000-0000-0000-0000-000000000001', 'c0000000-0000-0000-0000-000000000003', 'mail', 'create_email_draft',
	 '{"to": ["ann@example.com"], "subject": "Re: lunch", "body": "Thursday at noon works for me. See you there!"}');
SELECT alfred.approve('c0000000-0000-0000-0000-000000000002', '{"to": ["ann@example.com"], "subject": "Re: lunch"}');
SELECT status, edited_payload->>'body' AS body FROM alfred.approve('c0000000-0000-0000-0000-000000000002',
	'{"to": ["ann@example.com"], "subject": "Re: lunch", "body": "Thursday at noon works for me. See you there."}');
SELECT status FROM alfred.approve('c0000000-0000-0000-0000-000000000003',
	'{"to": ["ann@example.com", "bob@example.com"], "subject": "Re: lunch", "body": "Sorry, I cannot make it this week."}');
SELECT proposal_id, signal_type, context FROM alfred.preference_signals
 WHERE proposal_id IN ('c0000000-0000-0000-0000-000000000001', 'c0000000-0000-0000-0000-000000000002',
					   'c0000000-0000-0000-0000-000000000003')
 ORDER BY proposal_id;

-- rejecting: pending and approved can be rejected; who approved stays recorded
SELECT status, approved_by, rejected_by, rejection_reason, approved_at IS NOT NULL AS approved_at_kept
  FROM alfred.reject('c0000000-0000-0000-0000-000000000003', reason => 'Wrong week');
SELECT alfred.reject('c0000000-0000-0000-0000-000000000003');
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'mail', 'create_email_draft',
	'{"to": ["ann@example.com"], "subject": "s", "body": "b"}', explanation => 'Ann asked', requested_by => 'ann') AS asked \gset
SELECT requested_by, notes, status FROM alfred.approvals WHERE id = :'asked';
SELECT id, status, approved_by, rejected_by, requested_by, notes FROM alfred.approvals
 WHERE id IN ('c0000000-0000-0000-0000-000000000001', 'c0000000-0000-0000-0000-000000000003') ORDER BY id;

-- the guard: direct UPDATEs follow the machine too
INSERT INTO alfred.proposals (user_id, id, agent_name, action_type, payload) VALUES
	('a0000000-0000-0000-0000-000000000001', 'c0000000-0000-0000-0000-000000000004', 'x', 'order_pizza', '{"size": "large"}');
UPDATE alfred.proposals SET status = 'executed' WHERE id = 'c0000000-0000-0000-0000-000000000004';
UPDATE alfred.proposals SET status = 'pending' WHERE id = 'c0000000-0000-0000-0000-000000000001';
UPDATE alfred.proposals SET status = 'bogus' WHERE id = 'c0000000-0000-0000-0000-000000000004';
UPDATE alfred.proposals SET approved_at = now() WHERE id = 'c0000000-0000-0000-0000-000000000004';
UPDATE alfred.proposals SET attempts = 7 WHERE id = 'c0000000-0000-0000-0000-000000000004';
UPDATE alfred.proposals SET payload = '{"size": "small"}' WHERE id = 'c0000000-0000-0000-0000-000000000004';
UPDATE alfred.proposals SET edited_payload = '{"size": "small"}' WHERE id = 'c0000000-0000-0000-0000-000000000004';
UPDATE alfred.proposals SET explanation = 'Hungry', risk_level = 'medium' WHERE id = 'c0000000-0000-0000-0000-000000000004';
UPDATE alfred.proposals SET status = 'approved', approved_at = '2000-01-01'
 WHERE id = 'c0000000-0000-0000-0000-000000000004'
RETURNING status, approved_at > '2020-01-01' AS stamped_by_the_machine;

-- the built-in executor: task actions, approved and executed in one call
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'create',
	'{"title": "Buy milk", "priority": "high", "due_date": "2025-06-02T18:00", "tags": ["home"]}') AS create_id \gset
SELECT status, attempts, result->'task'->>'title' AS title, result->'task'->>'priority' AS priority,
	   (result->'task'->>'due_date')::timestamptz AS due, task_id IS NOT NULL AS linked
  FROM alfred.approve(:'create_id', execute => true);
SELECT task_id AS milk FROM alfred.proposals WHERE id = :'create_id' \gset
SELECT title, source, status FROM alfred.tasks WHERE id = :'milk';
SELECT status FROM alfred.approve(alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'update',
	jsonb_build_object('task_id', :'milk', 'description', '2 litres')), execute => true);
SELECT status FROM alfred.approve(alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'complete',
	jsonb_build_object('task_id', :'milk', 'completed', true)), execute => true);
SELECT title, description, status, completed_at IS NOT NULL AS completed FROM alfred.tasks WHERE id = :'milk';
-- completing twice keeps the first completion; completed => false reopens
SELECT completed_at AS done_at FROM alfred.tasks WHERE id = :'milk' \gset
SELECT status FROM alfred.approve(alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'complete',
	jsonb_build_object('task_id', :'milk', 'completed', true)), execute => true);
SELECT completed_at = :'done_at' AS first_completion_kept FROM alfred.tasks WHERE id = :'milk';
SELECT status FROM alfred.approve(alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'complete',
	jsonb_build_object('task_id', :'milk', 'completed', false)), execute => true);
SELECT status, completed_at FROM alfred.tasks WHERE id = :'milk';
SELECT status FROM alfred.approve(alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'complete',
	jsonb_build_object('task_id', :'milk', 'completed', true)), execute => true);
-- a low-risk query runs at once, without approval
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'query',
	'{"filters": {"completed": true, "search": "MILK"}}') AS q \gset
SELECT status, approved_by, result->'count' AS count, result->'tasks'->0->>'title' AS title
  FROM alfred.proposals WHERE id = :'q';
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'query',
	'{"filters": {"status": ["pending", "blocked"]}}') AS q \gset
SELECT status, result FROM alfred.proposals WHERE id = :'q';
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'query', '{}', risk_level => 'medium') AS q \gset
SELECT status FROM alfred.proposals WHERE id = :'q';
-- a proposal cannot point at a task that does not exist
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'update',
	'{"task_id": "b0000000-0000-0000-0000-00000000beef", "title": "Ghost"}');
-- a failing action is recorded as failed; only its own effects roll back
INSERT INTO alfred.tasks (user_id, id, title) VALUES
	('a0000000-0000-0000-0000-000000000001', 'b0000000-0000-0000-0000-000000000001', 'Call mum');
INSERT INTO alfred.proposals (user_id, id, agent_name, action_type, payload, task_id) VALUES
	('a0000000-0000-0000-0000-000000000001', 'c0000000-0000-0000-0000-000000000008', 'planner', 'update',
	 '{"task_id": "b0000000-0000-0000-0000-000000000001", "title": "Call mum back"}', 'b0000000-0000-0000-0000-000000000001');
\set ghost c0000000-0000-0000-0000-000000000008
DELETE FROM alfred.tasks WHERE id = 'b0000000-0000-0000-0000-000000000001';
SELECT status, error_message, result, task_id FROM alfred.approve(:'ghost', execute => true);
SELECT executor_status, executor_error, request_payload FROM alfred.execution_logs WHERE proposal_id = :'ghost';
SELECT alfred.execute_proposal(:'ghost');
SELECT status FROM alfred.retry_proposal(:'ghost');
SELECT alfred.start_execution(:'ghost');
SELECT status, attempts, error_message FROM alfred.execute_proposal(:'ghost');
INSERT INTO alfred.proposals (user_id, id, agent_name, action_type, payload) VALUES
	('a0000000-0000-0000-0000-000000000001', 'c0000000-0000-0000-0000-000000000009', 'planner', 'create', '{"title": "Pay rent"}');
SELECT alfred.execute_proposal('c0000000-0000-0000-0000-000000000009');
-- the task a failing create inserted is rolled back with it
SELECT status, error_message IS NOT NULL AS has_error
  FROM alfred.approve(alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'create',
	'{"title": "Orphan", "project_id": "b0000000-0000-0000-0000-00000000cafe"}'), execute => true);
SELECT count(*) AS orphans FROM alfred.tasks WHERE title = 'Orphan';
SELECT status FROM alfred.approve(alfred.propose('a0000000-0000-0000-0000-000000000001', 'planner', 'delete',
	jsonb_build_object('task_id', :'milk')), execute => true);
SELECT count(*) AS milk_left FROM alfred.tasks WHERE id = :'milk';
SELECT action_type, confirmation_status, executed_status, error_message, extracted_params ? 'task_id' AS names_task
  FROM alfred.task_actions WHERE user_id = 'a0000000-0000-0000-0000-000000000001'
 ORDER BY created_at, action_type;

-- high risk: rejected at once when the user says so (the default), else pending
SELECT alfred.propose('a0000000-0000-0000-0000-000000000001', 'mail', 'create_email_draft',
	'{"to": ["boss@example.com"], "subject": "I quit", "body": "Bye."}', risk_level => 'high') AS risky \gset
SELECT status, rejection_reason, rejected_by, rejected_at IS NOT NULL AS stamped
  FROM alfred.proposals WHERE id = :'risky';
SELECT alfred.propose('a0000000-0000-0000-0000-000000000002', 'mail', 'create_email_draft',
	'{"to": ["boss@example.com"], "subject": "I quit", "body": "Bye."}', risk_level => 'high') AS risky \gset
SELECT status FROM alfred.proposals WHERE id = :'risky';
SELECT count(*) AS no_signal_for_machine_decisions
  FROM alfred.preference_signals s JOIN alfred.proposals p ON p.id = s.proposal_id
 WHERE p.risk_level = 'high' OR p.action_type = 'query';

-- expiry: only pending proposals past expires_at, each with an ignored signal
INSERT INTO alfred.proposals (user_id, id, agent_name, action_type, payload, expires_at) VALUES
	('a0000000-0000-0000-0000-000000000002', 'c0000000-0000-0000-0000-000000000005', 'x', 'order_pizza', '{}', now() - interval '1 minute'),
	('a0000000-0000-0000-0000-000000000002', 'c0000000-0000-0000-0000-000000000006', 'x', 'order_pizza', '{}', now() + interval '1 hour'),
	('a0000000-0000-0000-0000-000000000002', 'c0000000-0000-0000-0000-000000000007', 'x', 'order_pizza', '{}', now() - interval '1 minute');
SELECT alfred.approve('c0000000-0000-0000-0000-000000000007');
UPDATE alfred.proposals SET status = 'rejected' WHERE id = 'c0000000-0000-0000-0000-000000000007';
SELECT alfred.expire_proposals() AS expired;
SELECT alfred.expire_proposals() AS expired_again;
SELECT id, status, expired_at IS NOT NULL AS stamped FROM alfred.proposals
 WHERE id IN ('c0000000-0000-0000-0000-000000000005', 'c0000000-0000-0000-0000-000000000006',
			  'c0000000-0000-0000-0000-000000000007') ORDER BY id;
SELECT proposal_id, signal_type FROM alfred.preference_signals
 WHERE user_id = 'a0000000-0000-0000-0000-000000000002' ORDER BY proposal_id;
SELECT alfred.approve('c0000000-0000-0000-0000-000000000005');

-- leave the database as found for the tests that follow
DELETE FROM alfred.users WHERE id IN ('a0000000-0000-0000-0000-000000000001', 'a0000000-0000-0000-0000-000000000002');
