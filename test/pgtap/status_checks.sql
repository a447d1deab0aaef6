-- The status checks of the scheduled-task and proposal transitions, one helper each
-- (task_for_action, _proposal_require): every refusal keeps its SQLSTATE, message,
-- detail and hint, and changes nothing.  Driven by the app acting as a user (README "App
-- roles and row-level security"); another user's task or proposal is not found.
BEGIN;
SELECT plan(33);
SET LOCAL client_min_messages = warning;
SET LOCAL alfred.password_cost = 4;
SET LOCAL timezone = 'UTC';

CREATE ROLE app LOGIN PASSWORD 'app secret';
SELECT alfred.grant_usage('app');
SELECT alfred.create_user('tap-status-ann@example.com', 'correct horse') AS ann \gset
SELECT alfred.create_user('tap-status-bob@example.com', 'battery staple') AS bob \gset
SELECT alfred.register_tool('tap_status_tool', kind => 'external');
SELECT alfred.schedule_task(:'bob', 'bob''s', 'tap_status_tool', at => now() + interval '1 day') AS bobs_task \gset

-- SQLSTATE | message | detail | hint of the error a statement raises (it is rolled back)
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	state text;
	msg text;
	detail text;
	hint text;
BEGIN
	EXECUTE statement;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN concat_ws(' | ', state, msg, nullif(detail, ''), nullif(hint, ''));
END
$$;

SELECT alfred.act_as(:'ann');
SET LOCAL ROLE app;

---- scheduled tasks
SELECT alfred.schedule_task(:'ann', 'Walk', 'tap_status_tool', at => now() + interval '1 day') AS walk \gset
SELECT alfred.schedule_task(:'ann', 'Read', 'tap_status_tool', at => now() + interval '1 day') AS read \gset
SELECT is((SELECT status FROM alfred.pause_task(:'walk')), 'paused', 'an active task pauses');
SELECT is((SELECT status FROM alfred.pause_task(:'walk')), 'paused', 'pausing a paused task changes nothing');
SELECT is(pg_temp.error_of(format('SELECT alfred.run_task_now(%L)', :'walk')),
	'55000 | cannot run a paused task | Task "Walk" is paused; resume it first.',
	'a paused task cannot run now: resume it first');
SELECT is((SELECT status FROM alfred.resume_task(:'walk')), 'active', 'a paused task resumes');
SELECT is((SELECT status FROM alfred.resume_task(:'walk')), 'active', 'resuming an active task changes nothing');
SELECT is((SELECT next_run_at FROM alfred.run_task_now(:'walk')), now(), 'an active task runs now');
SELECT is((SELECT status FROM alfred.cancel_task(:'walk')), 'cancelled', 'a task is cancelled');
SELECT is((SELECT status FROM alfred.cancel_task(:'walk')), 'cancelled', 'cancelling twice changes nothing');
SELECT is(pg_temp.error_of(format('SELECT alfred.pause_task(%L)', :'walk')),
	'55000 | cannot pause a cancelled task | Task "Walk" is cancelled.', 'a cancelled task cannot pause');
SELECT is(pg_temp.error_of(format('SELECT alfred.resume_task(%L)', :'walk')),
	'55000 | cannot resume a cancelled task | Task "Walk" is cancelled.', 'nor resume');
SELECT is(pg_temp.error_of(format('SELECT alfred.run_task_now(%L)', :'walk')),
	'55000 | cannot run a cancelled task | Task "Walk" is cancelled; resume it first.', 'nor run now');
RESET ROLE;
UPDATE alfred.scheduled_tasks SET status = 'completed', next_run_at = NULL WHERE id = :'read';
SET LOCAL ROLE app;
SELECT is(pg_temp.error_of(format('SELECT alfred.cancel_task(%L)', :'read')),
	'55000 | cannot cancel a completed task | Task "Read" is completed.', 'a completed task cannot be cancelled');
SELECT is(pg_temp.error_of(format('SELECT alfred.resume_task(%L)', :'read')),
	'55000 | cannot resume a completed task | Task "Read" is completed.', 'nor resumed');
SELECT is(pg_temp.error_of(format('SELECT alfred.pause_task(%L)', :'bobs_task')),
	format('P0002 | no scheduled task with id "%s"', :'bobs_task'), 'another user''s task is not found');
SELECT is(pg_temp.error_of(format('SELECT alfred.cancel_task(%L)', '00000000-0000-0000-0000-00000000dead')),
	'P0002 | no scheduled task with id "00000000-0000-0000-0000-00000000dead"', 'nor is a task that does not exist');
SELECT is(pg_temp.error_of(format($$SELECT alfred.task_for_action(%L, 'archive', '{active}', 'try again later')$$, :'read')),
	'55000 | cannot archive a completed task | Task "Read" is completed; try again later.',
	'task_for_action names the action, the status and the advice');
SELECT is((SELECT name FROM alfred.task_for_action(:'read', 'inspect', '{completed,cancelled}')), 'Read',
	'and returns the task when its status is allowed');
RESET ROLE;
SELECT results_eq(format($$SELECT status, next_run_at FROM alfred.scheduled_tasks WHERE id IN (%L, %L) ORDER BY name$$, :'read', :'walk'),
	$$VALUES ('completed'::text, NULL::timestamptz), ('cancelled', NULL)$$, 'the refusals changed nothing');
SET LOCAL ROLE app;

---- proposals
SELECT alfred.propose(:'ann', 'mail', 'create_email_draft', '{"to": ["x@example.com"], "subject": "s", "body": "b"}') AS mail \gset
SELECT alfred.propose(:'ann', 'mail', 'create_email_draft', '{"to": ["y@example.com"], "subject": "s", "body": "b"}') AS mail2 \gset
SELECT alfred.propose(:'ann', 'planner', 'create', '{"title": "Stretch"}', risk_level => 'medium') AS plan \gset
SELECT is(pg_temp.error_of(format('SELECT alfred.start_execution(%L)', :'mail')),
	format('55000 | proposal "%s" is not approved | It is pending.', :'mail'), 'a pending proposal does not start executing');
SELECT is(pg_temp.error_of(format('SELECT alfred.retry_proposal(%L)', :'mail')),
	format('55000 | proposal "%s" is not failed | It is pending.', :'mail'), 'nor is it retried');
SELECT is(pg_temp.error_of(format('SELECT alfred.execute_proposal(%L)', :'plan')),
	format('55000 | proposal "%s" is not approved | It is pending. | Approve it first, or approve and execute at once with alfred.approve(..., execute => true).', :'plan'),
	'a pending task action is not executed, with a hint');
SELECT is(pg_temp.error_of(format($$SELECT alfred.finish_execution(%L, 'success')$$, :'mail')),
	format('55000 | proposal "%s" is not executing | It is pending.', :'mail'), 'a pending proposal has no outcome');
SELECT is((SELECT status FROM alfred.approve(:'mail2')), 'approved', 'a proposal is approved');
SELECT is(pg_temp.error_of(format($$SELECT alfred.finish_execution(%L, 'success')$$, :'mail2')),
	format('55000 | proposal "%s" is not executing | It is approved. | Call alfred.start_execution() first.', :'mail2'),
	'an approved one reports no outcome before it starts');
SELECT is((SELECT status FROM alfred.start_execution(:'mail2')), 'executing', 'it starts executing');
SELECT is(pg_temp.error_of(format('SELECT alfred.reject(%L)', :'mail2')),
	format('55000 | proposal "%s" is not pending, approved or failed | It is executing. | Wait for its outcome: an action under way cannot be called back; a failed one can be rejected.', :'mail2'),
	'an executing proposal cannot be rejected');
SELECT is((SELECT status FROM alfred.finish_execution(:'mail2', 'failure', error => 'smtp down')), 'failed', 'it fails');
SELECT is(pg_temp.error_of(format('SELECT alfred.approve(%L)', :'mail2')),
	format('55000 | proposal "%s" is not pending | It is failed. | Retry it with alfred.retry_proposal(), or reject it.', :'mail2'),
	'a failed proposal is not approved again, with a hint');
SELECT is((SELECT status FROM alfred.reject(:'mail')), 'rejected', 'a pending proposal is rejected');
SELECT is(pg_temp.error_of(format('SELECT alfred.approve(%L)', :'mail')),
	format('55000 | proposal "%s" is not pending | It is rejected.', :'mail'), 'a rejected proposal is not approved');
SELECT is(pg_temp.error_of(format($$SELECT alfred._proposal_require(p, '{pending,approved}') FROM alfred.proposals p WHERE p.id = %L$$, :'mail')),
	format('55000 | proposal "%s" is not pending or approved | It is rejected.', :'mail'),
	'_proposal_require lists two allowed statuses with "or"');
SELECT is((SELECT (alfred._proposal_require(p, '{rejected}', 'unused hint')).status FROM alfred.proposals p WHERE p.id = :'mail'),
	'rejected', 'and returns the proposal when its status is allowed');
RESET ROLE;
SELECT results_eq(format($$SELECT status FROM alfred.proposals WHERE id IN (%L, %L, %L) ORDER BY id$$, :'mail', :'mail2', :'plan'),
	format($$SELECT s FROM (VALUES (%L::uuid, 'rejected'::text), (%L, 'failed'), (%L, 'pending')) v(id, s) ORDER BY id$$,
		   :'mail', :'mail2', :'plan'),
	'the refused transitions changed nothing');

SELECT * FROM finish();
ROLLBACK;
