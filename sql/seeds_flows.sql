-- The seeds' own flows (issue 15): seed 001's session lifecycle and retention,
-- seed 004's cleanup_expired_sessions(), an AI context per user, seed 001's
-- switch for proactive suggestions, rounded calibration values, and the
-- views task_actions (seed 001) and approvals (seed 004) written by their
-- clients, as an application role under row-level security.
-- Everything runs in one transaction that is rolled back at the end.
SET timezone = 'UTC';
SET alfred.password_cost = 4;
\set SHOW_CONTEXT never
\set ON_ERROR_ROLLBACK on
BEGIN;
-- Runs a statement and shows its SQLSTATE and message with ids masked.
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN others THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '[0-9a-f]{8}-[0-9a-f-]{27}', '<id>', 'g');
END $$;
CREATE ROLE seeds_app;
SELECT alfred.grant_usage('seeds_app');
SELECT alfred.create_user('seeds-ann@example.com', 'correct horse', 'seedsann') AS ann \gset
SELECT alfred.create_user('seeds-bob@example.com', 'correct horse', 'seedsbob') AS bob \gset
SELECT alfred.create_user('seeds-root@example.com', 'correct horse', 'seedsroot', role => 'admin') AS root \gset

------------------------------------------------------------------------------
-- An AI context from the user's creation on (seed 001)
------------------------------------------------------------------------------
SELECT count(*) AS contexts, sum(total_messages) AS messages FROM alfred.ai_contexts
 WHERE user_id IN (:'ann', :'bob', :'root');

------------------------------------------------------------------------------
-- The views' privileges: what their INSTEAD OF triggers implement
------------------------------------------------------------------------------
SELECT v AS view, has_table_privilege('seeds_app', 'alfred.' || v, 'SELECT') AS sel,
       has_table_privilege('seeds_app', 'alfred.' || v, 'INSERT') AS ins,
       has_table_privilege('seeds_app', 'alfred.' || v, 'UPDATE') AS upd,
       has_table_privilege('seeds_app', 'alfred.' || v, 'DELETE') AS del
  FROM unnest(ARRAY['approvals', 'task_actions', 'calibration']) v ORDER BY v;

------------------------------------------------------------------------------
-- Seed 001's client writes task_actions, acting as Ann through the app role
------------------------------------------------------------------------------
INSERT INTO alfred.tasks (user_id, id, title) VALUES
  (:'ann', '00000000-0000-0000-0000-00000000a001', 'Water plants'),
  (:'bob', '00000000-0000-0000-0000-00000000b001', 'Bob''s task');
SELECT alfred.propose(:'bob', 'assistant', 'complete',
       '{"task_id": "00000000-0000-0000-0000-00000000b001", "completed": true}') AS bobs \gset
SELECT alfred.act_as(:'ann') IS NOT NULL AS acting;
SET ROLE seeds_app;
-- the AI proposes: INSERT creates a pending proposal through propose()
INSERT INTO alfred.task_actions (user_id, action_type, extracted_params, confidence_score)
VALUES (:'ann', 'create', '{"title": "Buy milk"}', 0.9)
RETURNING action_type, extracted_params, confidence_score, confirmation_status, executed_status;
SELECT id AS milk FROM alfred.task_actions WHERE extracted_params->>'title' = 'Buy milk' \gset
SELECT agent_name, status FROM alfred.proposals WHERE id = :'milk';
-- a bad payload is refused as propose() refuses it; nothing is stored
INSERT INTO alfred.task_actions (user_id, action_type, extracted_params) VALUES (:'ann', 'create', '{"titel": "x"}');
INSERT INTO alfred.task_actions (user_id, action_type, extracted_params) VALUES (:'ann', 'send_email', '{}');
INSERT INTO alfred.task_actions (user_id, action_type, extracted_params, confirmation_status)
VALUES (:'ann', 'create', '{"title": "x"}', 'confirmed');
INSERT INTO alfred.task_actions (user_id, action_type, extracted_params, error_message)
VALUES (:'ann', 'create', '{"title": "x"}', 'none');
-- (another user's task actions cannot be made)
INSERT INTO alfred.task_actions (user_id, action_type, extracted_params) VALUES (:'bob', 'create', '{"title": "x"}');
SELECT count(*) AS ann_task_actions FROM alfred.task_actions;
-- the user confirms with edited parameters and asks to execute: approve(..., execute => true)
UPDATE alfred.task_actions SET confirmation_status = 'confirmed', executed_status = 'executing',
       extracted_params = '{"title": "Buy oat milk"}', confirmed_at = '2000-01-01'
 WHERE id = :'milk'
RETURNING confirmation_status, executed_status, extracted_params, task_id IS NOT NULL AS has_task,
          confirmed_at > '2000-01-01' AS stamped_by_alfred;
SELECT title FROM alfred.tasks WHERE title LIKE 'Buy%';
SELECT signal_type FROM alfred.preference_signals WHERE proposal_id = :'milk';
-- a confirmed action cannot be confirmed again differently, nor go back
SELECT pg_temp.try(format($$UPDATE alfred.task_actions SET extracted_params = '{"title": "Buy cream"}' WHERE id = %L$$, :'milk'));
SELECT pg_temp.try(format($$UPDATE alfred.task_actions SET confirmation_status = 'pending' WHERE id = %L$$, :'milk'));
SELECT pg_temp.try(format($$UPDATE alfred.task_actions SET executed_status = 'failed' WHERE id = %L$$, :'milk'));
SELECT pg_temp.try(format($$UPDATE alfred.task_actions SET executed_status = 'not_executed' WHERE id = %L$$, :'milk'));
SELECT pg_temp.try(format($$UPDATE alfred.task_actions SET confirmation_status = 'rejected' WHERE id = %L$$, :'milk'));
UPDATE alfred.task_actions SET confirmation_status = 'maybe' WHERE id = :'milk';
UPDATE alfred.task_actions SET task_id = NULL WHERE id = :'milk';
-- confirm now, execute later (seed 001's two steps)
INSERT INTO alfred.task_actions (user_id, action_type, extracted_params)
VALUES (:'ann', 'complete', '{"task_id": "00000000-0000-0000-0000-00000000a001", "completed": true}')
RETURNING id AS water \gset
UPDATE alfred.task_actions SET confirmation_status = 'confirmed' WHERE id = :'water'
RETURNING confirmation_status, executed_status;
UPDATE alfred.task_actions SET executed_status = 'executing' WHERE id = :'water'
RETURNING confirmation_status, executed_status;
SELECT status FROM alfred.tasks WHERE id = '00000000-0000-0000-0000-00000000a001';
-- rejecting
INSERT INTO alfred.task_actions (user_id, action_type, extracted_params) VALUES (:'ann', 'create', '{"title": "Spam"}')
RETURNING id AS spam \gset
UPDATE alfred.task_actions SET confirmation_status = 'rejected' WHERE id = :'spam'
RETURNING confirmation_status, executed_status;
SELECT status, rejected_by = :'ann' AS by_ann FROM alfred.proposals WHERE id = :'spam';
-- Bob's task action is invisible to Ann: her UPDATE finds nothing to change
UPDATE alfred.task_actions SET confirmation_status = 'confirmed' WHERE id = :'bobs';
-- a direct DELETE is not granted
DELETE FROM alfred.task_actions WHERE id = :'spam';
RESET ROLE;
SELECT status FROM alfred.proposals WHERE id = :'bobs';

------------------------------------------------------------------------------
-- An unknown task in a task action: a clean 22023 naming it
------------------------------------------------------------------------------
SELECT pg_temp.try(format($$SELECT alfred.propose(%L, 'assistant', 'delete', '{"task_id": "00000000-0000-0000-0000-00000000dead"}')$$, :'ann'));
SELECT pg_temp.try(format($$SELECT alfred.propose(%L, 'assistant', 'create', '{"title": "x"}', task_id => '00000000-0000-0000-0000-00000000dead')$$, :'ann'));
-- Bob's task is not Ann's
SELECT pg_temp.try(format($$SELECT alfred.propose(%L, 'assistant', 'update', '{"task_id": "00000000-0000-0000-0000-00000000b001", "title": "Mine"}')$$, :'ann'));
SELECT alfred.propose(:'ann', 'assistant', 'update', '{"task_id": "00000000-0000-0000-0000-00000000a001", "title": "Water the plants"}') AS upd \gset
SELECT pg_temp.try(format($$SELECT alfred.approve(%L, '{"task_id": "00000000-0000-0000-0000-00000000dead", "title": "x"}')$$, :'upd'));
-- the whole error: the message and a detail naming the user
INSERT INTO alfred.users (id, email, password_hash) VALUES
  ('00000000-0000-0000-0000-0000000005ee', 'seeds-cy@example.com', '$2a$04$seedsseedsseedsseedsseedsseedsseedsseedsseedsseedsse');
SELECT alfred.propose('00000000-0000-0000-0000-0000000005ee', 'assistant', 'delete', '{"task_id": "00000000-0000-0000-0000-00000000dead"}');
SELECT status FROM alfred.proposals WHERE id = :'upd';

------------------------------------------------------------------------------
-- Seed 004's client writes approvals
------------------------------------------------------------------------------
SELECT alfred.act_as(:'ann') IS NOT NULL AS acting;
SET ROLE seeds_app;
INSERT INTO alfred.approvals (user_id, task_id, action_type, details, requested_by, notes)
VALUES (:'ann', '00000000-0000-0000-0000-00000000a001', 'send_report', '{"to": "boss"}', 'report-bot', 'weekly')
RETURNING action_type, details, status, requested_by, notes, approved_by, rejected_by;
SELECT id AS report FROM alfred.approvals WHERE action_type = 'send_report' \gset
INSERT INTO alfred.approvals (user_id, action_type, details, status) VALUES (:'ann', 'send_report', '{}', 'approved');
INSERT INTO alfred.approvals (user_id, action_type, details, approved_by) VALUES (:'ann', 'send_report', '{}', :'ann');
-- approve, claiming to be someone else: refused
SELECT pg_temp.try(format($$UPDATE alfred.approvals SET status = 'approved', approved_by = %L WHERE id = %L$$, :'bob', :'report'));
-- approve as herself, with the timestamp the seed's client writes (alfred stamps its own)
UPDATE alfred.approvals SET status = 'approved', approved_by = :'ann', approved_at = '2000-01-01' WHERE id = :'report'
RETURNING status, approved_by = :'ann' AS by_ann, approved_at > '2000-01-01' AS stamped_by_alfred;
-- the decision columns move only with their decision
SELECT pg_temp.try(format($$UPDATE alfred.approvals SET rejected_by = %L WHERE id = %L$$, :'ann', :'report'));
-- (writing the value it already has changes nothing and is fine)
SELECT pg_temp.try(format($$UPDATE alfred.approvals SET approved_by = %L WHERE id = %L$$, :'ann', :'report'));
SELECT pg_temp.try(format($$UPDATE alfred.approvals SET approved_by = NULL WHERE id = %L$$, :'report'));
SELECT pg_temp.try(format($$UPDATE alfred.approvals SET details = '{"to": "team"}' WHERE id = %L$$, :'report'));
SELECT pg_temp.try(format($$UPDATE alfred.approvals SET status = 'pending' WHERE id = %L$$, :'report'));
SELECT pg_temp.try(format($$UPDATE alfred.approvals SET status = 'expired' WHERE id = %L$$, :'report'));
UPDATE alfred.approvals SET status = 'done' WHERE id = :'report';
UPDATE alfred.approvals SET expires_at = '2030-01-01' WHERE id = :'report';
-- notes alone are the user's to write
UPDATE alfred.approvals SET notes = 'weekly, to the boss' WHERE id = :'report' RETURNING notes;
-- approve then reject: both decisions are kept (seed 004's single-decision CHECK is not copied)
UPDATE alfred.approvals SET status = 'rejected', rejected_by = :'ann', rejected_at = now(), notes = 'Not this week'
 WHERE id = :'report'
RETURNING status, approved_by = :'ann' AS approved_by_kept, approved_at IS NOT NULL AS approved_at_kept,
          rejected_by = :'ann' AS rejected_by_ann, notes;
SELECT status, rejection_reason, (SELECT array_agg(signal_type ORDER BY created_at, signal_type)
                                    FROM alfred.preference_signals s WHERE s.proposal_id = p.id) AS signals
  FROM alfred.proposals p WHERE id = :'report';
-- Bob's proposal, seen through approvals: invisible, untouched
UPDATE alfred.approvals SET status = 'rejected' WHERE id = :'bobs';
RESET ROLE;
SELECT status FROM alfred.proposals WHERE id = :'bobs';
-- a service without an identity decides as the proposal's user
SELECT alfred.reset_identity();
SELECT pg_temp.try(format($$UPDATE alfred.approvals SET status = 'rejected', rejected_by = %L WHERE id = %L$$, :'ann', :'bobs'));
UPDATE alfred.approvals SET status = 'rejected', rejected_by = :'bob' WHERE id = :'bobs'
RETURNING status, rejected_by = :'bob' AS by_bob;

------------------------------------------------------------------------------
-- Seed 002: "can be rejected at any stage" where the action is not under way
------------------------------------------------------------------------------
SELECT alfred.propose(:'ann', 'mail', 'create_email_draft',
       '{"to": ["x@example.com"], "subject": "s", "body": "b"}') AS mail \gset
SELECT status FROM alfred.approve(:'mail');
SELECT status FROM alfred.start_execution(:'mail');
SELECT pg_temp.try(format('SELECT alfred.reject(%L)', :'mail'));
SELECT status FROM alfred.finish_execution(:'mail', 'failure', error => 'SMTP 451');
SELECT status, approved_by IS NOT NULL AS approved_by_kept, rejected_at IS NOT NULL AS stamped
  FROM alfred.reject(:'mail', reason => 'gave up');
SELECT context->>'was' AS was FROM alfred.preference_signals WHERE proposal_id = :'mail' AND signal_type = 'rejected';

------------------------------------------------------------------------------
-- Maintenance: sessions closed after 24 idle hours, seed 001's retention,
-- seed 004's cleanup_expired_sessions()
------------------------------------------------------------------------------
INSERT INTO alfred.chat_sessions (user_id, id, started_at, last_activity_at) VALUES
  (:'ann', '00000000-0000-0000-0000-0000000000c1', '2026-05-29 08:00+00', '2026-05-29 09:00+00'),	-- idle 3 days
  (:'ann', '00000000-0000-0000-0000-0000000000c2', '2026-05-31 08:00+00', '2026-05-31 12:00+00'),	-- idle 12 hours
  (:'ann', '00000000-0000-0000-0000-0000000000c3', '2026-05-31 08:00+00', '2026-05-31 08:30+00');	-- idle 15.5 hours
INSERT INTO alfred.chat_messages (user_id, session_id, role, content, created_at) VALUES
  (:'ann', '00000000-0000-0000-0000-0000000000c1', 'user', 'old session', '2026-05-29 09:00+00'),
  (:'ann', '00000000-0000-0000-0000-0000000000c2', 'user', 'live session', '2026-05-31 12:00+00'),
  (:'ann', '00000000-0000-0000-0000-0000000000c3', 'user', 'closed lately', '2026-05-31 08:30+00'),
  (:'ann', NULL, 'user', 'no session', '2026-05-01 00:00+00');
UPDATE alfred.chat_sessions SET is_active = false WHERE id = '00000000-0000-0000-0000-0000000000c3';
-- task actions: pending and rejected ones of 8 days ago go; a fresh one, an old
-- proposal that is no task action and an executed task action stay
INSERT INTO alfred.proposals (user_id, id, agent_name, action_type, payload, status, created_at,
                              rejected_at, executed_at, updated_at) VALUES
  (:'ann', '00000000-0000-0000-0000-0000000000f1', 'assistant', 'create', '{"title": "old pending"}', 'pending',
   '2026-05-24', NULL, NULL, '2026-05-24'),
  (:'ann', '00000000-0000-0000-0000-0000000000f2', 'assistant', 'create', '{"title": "new pending"}', 'pending',
   '2026-05-30', NULL, NULL, '2026-05-30'),
  (:'ann', '00000000-0000-0000-0000-0000000000f3', 'mail', 'send_report', '{"title": "old report"}', 'pending',
   '2026-05-24', NULL, NULL, '2026-05-24'),
  (:'ann', '00000000-0000-0000-0000-0000000000f4', 'assistant', 'create', '{"title": "old rejected"}', 'rejected',
   '2026-05-20', '2026-05-24', NULL, '2026-05-24'),
  (:'ann', '00000000-0000-0000-0000-0000000000f5', 'assistant', 'create', '{"title": "executed"}', 'executed',
   '2026-05-09', NULL, '2026-05-10', '2026-05-10');
-- sessions: one expired a minute ago, one revoked, one valid
INSERT INTO alfred.sessions (user_id, token_hash, created_at, expires_at, is_revoked, revoked_at) VALUES
  (:'ann', sha256('seeds-t1'), '2026-05-31', '2026-05-31 23:59+00', false, NULL),
  (:'ann', sha256('seeds-t2'), '2026-05-31', '2026-06-30', true, '2026-05-31 22:00+00'),
  (:'ann', sha256('seeds-t3'), '2026-05-31', '2026-06-30', false, NULL);
SELECT alfred.run_maintenance('2026-06-01 00:00+00') AS done \gset
SELECT (:'done'::jsonb)->'chat_sessions_closed' AS closed,
       (:'done'::jsonb)->'removed'->'sessions' AS sessions,
       (:'done'::jsonb)->'removed'->'task_actions' AS task_actions,
       (:'done'::jsonb)->'removed'->'inactive_session_messages' AS inactive_session_messages;
SELECT id, is_active FROM alfred.chat_sessions WHERE user_id = :'ann' ORDER BY id;
SELECT content FROM alfred.chat_messages WHERE user_id = :'ann' ORDER BY content;
SELECT payload->>'title' AS title, status FROM alfred.proposals
 WHERE user_id = :'ann' AND id::text LIKE '00000000-0000-0000-0000-0000000000f_' ORDER BY 1;
SELECT encode(token_hash, 'hex') = encode(sha256('seeds-t3'), 'hex') AS only_the_valid_one_left
  FROM alfred.sessions WHERE user_id = :'ann';
-- an executed task action is kept at least 30 days even when a DBA keeps proposals 1 day
UPDATE alfred.retention SET keep = '1 day' WHERE relation = 'proposals';
SELECT alfred.run_maintenance('2026-06-01 00:00+00') -> 'removed' -> 'proposals' AS removed_within_30_days;
SELECT alfred.run_maintenance('2026-06-10 00:00+00') -> 'removed' -> 'proposals' AS removed_after_30_days;
SELECT count(*) AS executed_left FROM alfred.proposals WHERE id = '00000000-0000-0000-0000-0000000000f5';

-- cleanup_expired_sessions: seed 004's function; it acts on every user, so only
-- admins, superusers and alfred_service members may call it
INSERT INTO alfred.sessions (user_id, token_hash, created_at, expires_at) VALUES
  (:'bob', sha256('seeds-t4'), '2026-05-01', '2026-05-02');
SELECT alfred.act_as(:'ann') IS NOT NULL AS acting;
SET ROLE seeds_app;
SELECT pg_temp.try('SELECT alfred.cleanup_expired_sessions()');
RESET ROLE;
SELECT alfred.reset_identity();
SET ROLE seeds_app;
SELECT pg_temp.try('SELECT alfred.cleanup_expired_sessions()');
RESET ROLE;
SELECT alfred.act_as(:'root') IS NOT NULL AS acting;
SET ROLE seeds_app;
SELECT alfred.cleanup_expired_sessions('2026-06-01 00:00+00') AS removed_by_admin;
RESET ROLE;
SELECT alfred.reset_identity();
SELECT pg_temp.try('SELECT alfred.cleanup_expired_sessions(NULL)');
SELECT alfred.cleanup_expired_sessions('2026-06-01 00:00+00') AS nothing_left;

------------------------------------------------------------------------------
-- enable_proactive_suggestions (seed 001) silences calibration; on by default
------------------------------------------------------------------------------
SELECT enable_proactive_suggestions FROM alfred.user_settings WHERE user_id = :'ann';
SELECT alfred.suggestion_score(:'ann', 'weather', 0.8) AS score_on,
       alfred.should_suggest(:'ann', 'weather', 0.8, 8) AS suggest_on;
UPDATE alfred.user_settings SET enable_proactive_suggestions = false WHERE user_id = :'ann';
SELECT alfred.suggestion_score(:'ann', 'weather', 0.8) AS score_off,
       alfred.should_suggest(:'ann', 'weather', 0.8, 8) AS suggest_off,
       alfred.should_suggest(:'ann', 'weather', 1.0, 1) AS suggest_off_any_draw;
-- Bob is not silenced by Ann's switch
SELECT alfred.suggestion_score(:'bob', 'weather', 0.8) AS bob_score;
UPDATE alfred.user_settings SET enable_proactive_suggestions = true WHERE user_id = :'ann';
SELECT alfred.suggestion_score(:'ann', 'weather', 0.8) AS score_on_again;

------------------------------------------------------------------------------
-- Calibration values as users read them: rounded; the state stays exact
------------------------------------------------------------------------------
SELECT global_level FROM alfred.record_engagement(:'ann', 'weather', 'engaged', 'conversation');
SELECT global_level FROM alfred.record_engagement(:'ann', 'weather', 'engaged', 'conversation');
SELECT global_level FROM alfred.record_engagement(:'ann', 'weather', 'engaged', 'conversation');
-- as if the events were two seconds ago
UPDATE alfred.calibration_state
   SET counted_at = counted_at - interval '2 seconds', last_event_at = last_event_at - interval '2 seconds'
 WHERE user_id = :'ann';
SELECT engaged, dismissed, p_hat FROM alfred.calibration WHERE user_id = :'ann';
SELECT (s).engaged < 3 AS decayed_exactly, (s).engaged > 2.9999 AS by_a_hair
  FROM (SELECT alfred.calibration_at(c, now()) AS s FROM alfred.calibration_state c WHERE user_id = :'ann') x;
SELECT engaged AS stored_exactly FROM alfred.calibration_state WHERE user_id = :'ann';
SELECT global_level FROM alfred.proactiveness(:'ann');

ROLLBACK;
