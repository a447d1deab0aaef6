-- One rule for a required argument given as NULL, across the API: error
-- 22004 (null_value_not_allowed, as PostgreSQL's own array_fill or
-- set_config raise it) "argument "x" must not be null", naming the argument,
-- and nothing changed.  C functions and PL/pgSQL functions alike; called as
-- the application role acting for a user, as an agent (a member of
-- alfred_service) and, for the administrative functions, as a superuser.
SET timezone = 'UTC';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
	RETURN st || ': ' || msg;
END $$;
-- Each call once, with its outcome; the summary at the end counts them by SQLSTATE.
CREATE TEMP TABLE outcomes (call text, outcome text);
GRANT ALL ON outcomes TO PUBLIC;
CREATE FUNCTION pg_temp.null_call(q text) RETURNS text LANGUAGE sql AS $$
	INSERT INTO outcomes VALUES (q, pg_temp.err(q)) RETURNING outcome
$$;
GRANT EXECUTE ON FUNCTION pg_temp.null_call(text), pg_temp.err(text) TO PUBLIC;
BEGIN;
SET LOCAL alfred.password_cost = 4;
INSERT INTO alfred.users (id, email, password_hash, role, status, timezone) VALUES
	('00000000-0000-0000-0016-0000000000a1', 'ana.nulls@example.com', '$2a$06$x', 'user', 'active', 'UTC');
INSERT INTO alfred.tasks (user_id, id, title) VALUES
	('00000000-0000-0000-0016-0000000000a1', '00000000-0000-0000-0016-00000000a001', 'ana''s report');
INSERT INTO alfred.habits (user_id, id, name, frequency) VALUES
	('00000000-0000-0000-0016-0000000000a1', '00000000-0000-0000-0016-00000000b001', 'run', 'daily');
CREATE ROLE regress_null_app;
SELECT alfred.grant_usage('regress_null_app');
CREATE ROLE alfred_service NOLOGIN;
CREATE ROLE regress_null_agent IN ROLE alfred_service;
SELECT alfred.grant_usage('regress_null_agent');

-- the application, acting for ana
SELECT alfred.act_as('00000000-0000-0000-0016-0000000000a1', local => true) IS NOT NULL AS ana;
SET LOCAL ROLE regress_null_app;
SELECT pg_temp.null_call(q) FROM (VALUES
	($$SELECT alfred.complete_task(task_id => NULL)$$),
	($$SELECT alfred.add_task_dependency(task_id => NULL, depends_on => '00000000-0000-0000-0016-00000000a001')$$),
	($$SELECT alfred.add_task_dependency(task_id => '00000000-0000-0000-0016-00000000a001', depends_on => NULL)$$),
	($$SELECT alfred.assign_task(task_id => NULL, assignee_id => NULL)$$),
	($$SELECT alfred.log_habit(habit_id => NULL)$$),
	($$SELECT alfred.today(user_id => NULL)$$),
	($$SELECT alfred.learn_preference(user_id => '00000000-0000-0000-0016-0000000000a1', key => NULL, value => 'tea')$$),
	($$SELECT alfred.learn_preference(user_id => '00000000-0000-0000-0016-0000000000a1', key => 'drink', value => NULL)$$),
	($$SELECT alfred.record_engagement(user_id => NULL, suggestion_type => 'briefing', action => 'engaged', source => 'conversation')$$),
	($$SELECT alfred.record_engagement(user_id => '00000000-0000-0000-0016-0000000000a1', suggestion_type => NULL, action => 'engaged', source => 'conversation')$$),
	($$SELECT alfred.record_engagement(user_id => '00000000-0000-0000-0016-0000000000a1', suggestion_type => 'briefing', action => NULL, source => 'conversation')$$),
	($$SELECT alfred.record_engagement(user_id => '00000000-0000-0000-0016-0000000000a1', suggestion_type => 'briefing', action => 'engaged', source => NULL)$$),
	($$SELECT alfred.suggestion_score(user_id => NULL, suggestion_type => 'briefing')$$),
	($$SELECT alfred.suggestion_score(user_id => '00000000-0000-0000-0016-0000000000a1', suggestion_type => NULL)$$),
	($$SELECT alfred.set_proactiveness(user_id => NULL, override => 'more')$$),
	($$SELECT alfred.complete_onboarding(user_id => NULL)$$),
	($$SELECT alfred.refresh_proactiveness(user_id => NULL)$$),
	($$SELECT alfred.observe_pattern(user_id => '00000000-0000-0000-0016-0000000000a1', pattern_type => NULL, description => 'walks', evidence => NULL)$$),
	($$SELECT alfred.propose(user_id => NULL, agent_name => 'mail', action_type => 'create', payload => '{"title": "x"}')$$),
	($$SELECT alfred.propose(user_id => '00000000-0000-0000-0016-0000000000a1', agent_name => NULL, action_type => 'create', payload => '{"title": "x"}')$$),
	($$SELECT alfred.propose(user_id => '00000000-0000-0000-0016-0000000000a1', agent_name => 'mail', action_type => NULL, payload => '{"title": "x"}')$$),
	($$SELECT alfred.propose(user_id => '00000000-0000-0000-0016-0000000000a1', agent_name => 'mail', action_type => 'create', payload => '{"title": "x"}', risk_level => NULL)$$),
	($$SELECT alfred.finish_execution(proposal_id => '00000000-0000-0000-0016-00000000c001', status => NULL)$$),
	($$SELECT alfred.attach_file(user_id => '00000000-0000-0000-0016-0000000000a1', storage_path => 's3://b/k', filename => 'a.pdf', checksum => NULL, file_size => 1, mime_type => 'application/pdf')$$),
	($$SELECT alfred.set_context_summary(session_id => NULL, summary => 'talked')$$),
	($$SELECT alfred.set_conversation_summary(user_id => '00000000-0000-0000-0016-0000000000a1', summary => NULL)$$),
	($$SELECT alfred.find_free_slots(user_id => '00000000-0000-0000-0016-0000000000a1', "from" => NULL, "to" => '2026-03-02')$$),
	($$SELECT alfred.consume_ai_quota(user_id => NULL)$$),
	($$SELECT alfred.consume_ai_quota(user_id => '00000000-0000-0000-0016-0000000000a1', cost => NULL)$$),
	($$SELECT alfred.schedule_task(user_id => '00000000-0000-0000-0016-0000000000a1', name => 'n', tool_name => 'daily_briefing', tool_args => NULL, cron => '0 9 * * *')$$),
	($$SELECT alfred.change_password(old_password => 'x', new_password => NULL)$$),
	($$SELECT alfred.schedule_task(user_id => NULL, name => 'n', tool_name => 'daily_briefing', cron => '0 9 * * *')$$),
	($$SELECT alfred.schedule_task(user_id => '00000000-0000-0000-0016-0000000000a1', name => 'n', tool_name => NULL, cron => '0 9 * * *')$$),
	($$SELECT alfred.pause_task(task_id => NULL)$$),
	($$SELECT alfred.resume_task(task_id => NULL)$$),
	($$SELECT alfred.cancel_task(task_id => NULL)$$),
	($$SELECT alfred.run_task_now(task_id => NULL)$$),
	($$SELECT alfred.close_chat_session(session_id => NULL)$$),
	($$SELECT alfred.accept_pattern(pattern_id => NULL)$$),
	($$SELECT alfred.account_tokens(account_id => NULL, key => 'a key of sixteen chars')$$),
	($$SELECT alfred.connect_account(user_id => NULL, provider => 'gmail', access_token => 'ya29.x', key => 'a key of sixteen chars')$$),
	($$SELECT alfred.connect_account(user_id => '00000000-0000-0000-0016-0000000000a1', provider => 'gmail', access_token => NULL, key => 'a key of sixteen chars')$$),
	($$SELECT alfred.set_account_tokens(account_id => '00000000-0000-0000-0016-00000000d001', access_token => NULL, key => 'a key of sixteen chars')$$),
	($$SELECT alfred.login(email => 'ana.nulls@example.com', password => 'whatever', valid_for => NULL)$$),
	($$SELECT alfred.create_user(email => NULL, password => 'a long password')$$),
	($$SELECT alfred.create_user(email => 'new.nulls@example.com', password => NULL)$$),
	($$SELECT alfred.create_user(email => 'new.nulls@example.com', password => 'a long password', timezone => NULL)$$),
	-- C functions
	($$SELECT alfred.calibration_score(state => NULL, level => NULL, base => 1)$$),
	($$SELECT alfred.calibration_score(state => NULL, level => 0.5, base => NULL)$$),
	($$SELECT alfred.streak_of(dates => '{}', frequency => NULL, days_of_week => NULL, target => NULL, today => '2026-03-01')$$),
	($$SELECT alfred.streak_of(dates => '{}', frequency => 'daily', days_of_week => NULL, target => NULL, today => NULL)$$),
	($$SELECT alfred.check_proposal_payload(action_type => NULL, payload => '{}')$$),
	($$SELECT alfred.check_proposal_payload(action_type => 'create', payload => NULL)$$),
	($$SELECT alfred.plan_free_slots(busy => '{}', "from" => '2026-03-02', "to" => '2026-03-03', duration => NULL, timezone => 'UTC')$$)
) AS calls(q);
RESET ROLE;

-- an agent
SET LOCAL ROLE regress_null_agent;
SELECT pg_temp.null_call(q) FROM (VALUES
	($$SELECT alfred.claim_runs(worker => NULL)$$),
	($$SELECT alfred.claim_runs(worker => 'agent-1', max => NULL)$$),
	($$SELECT alfred.claim_runs(worker => 'agent-1', lease => NULL)$$),
	($$SELECT alfred.watcher_report(watcher_id => NULL, ok => true)$$),
	($$SELECT alfred.complete_run(run_id => NULL, result => 'done')$$),
	($$SELECT alfred.fail_run(run_id => NULL, error => 'boom')$$),
	($$SELECT alfred.extend_lease(run_id => NULL, worker => 'agent-1')$$),
	($$SELECT alfred.mcp_heartbeat(name => NULL)$$),
	($$SELECT alfred.act_as(user_id => NULL)$$),
	($$SELECT alfred.set_password(user_id => NULL, new_password => 'a long password')$$),
	($$SELECT alfred.cleanup_expired_sessions(now => NULL)$$),
	($$SELECT alfred.check_integrations(now => NULL)$$)
) AS calls(q);
RESET ROLE;

-- a superuser
SELECT pg_temp.null_call(q) FROM (VALUES
	($$SELECT alfred.register_tool(name => NULL, kind => 'external')$$),
	($$SELECT alfred.register_tool(name => 'nulls.tool', kind => NULL)$$),
	($$SELECT alfred.grant_usage(role => NULL)$$),
	($$SELECT alfred.create_log_partitions(months_ahead => NULL)$$),
	($$SELECT alfred.run_maintenance(now => NULL)$$),
	($$SELECT alfred.calibration_step(state => NULL, action => 'engaged', source => 'conversation', at => '2026-03-01')$$),
	($$SELECT alfred._require_argument(name => NULL, value => 1)$$)
) AS calls(q);

-- one SQLSTATE for all of them, and nothing was written
SELECT split_part(outcome, ':', 1) AS sqlstate, count(*) FROM outcomes GROUP BY 1 ORDER BY 1;
SELECT count(*) AS tasks, (SELECT count(*) FROM alfred.task_dependencies) AS dependencies,
	   (SELECT count(*) FROM alfred.habit_logs WHERE user_id = '00000000-0000-0000-0016-0000000000a1') AS habit_logs,
	   (SELECT count(*) FROM alfred.proposals WHERE user_id = '00000000-0000-0000-0016-0000000000a1') AS proposals,
	   (SELECT count(*) FROM alfred.users WHERE email = 'new.nulls@example.com') AS new_users,
	   (SELECT count(*) FROM alfred.tools WHERE name = 'nulls.tool') AS tools
  FROM alfred.tasks WHERE user_id = '00000000-0000-0000-0016-0000000000a1';
-- a NULL in a row is never printed as "(null)": a run without a task, written
-- by the application, is refused by the run guard, and a proposal's NULL
-- status gets the not-null violation its column would raise after the guard
SELECT alfred.act_as('00000000-0000-0000-0016-0000000000a1', local => true) IS NOT NULL AS ana;
SET LOCAL ROLE regress_null_app;
SELECT pg_temp.err($$INSERT INTO alfred.task_runs (user_id, task_id, status)
	VALUES ('00000000-0000-0000-0016-0000000000a1', NULL, 'queued')$$);
RESET ROLE;
SELECT alfred.propose(user_id => '00000000-0000-0000-0016-0000000000a1', agent_name => 'mail',
	action_type => 'create', payload => '{"title": "x"}') IS NOT NULL AS proposed;
SELECT pg_temp.err($$UPDATE alfred.proposals SET status = NULL
	WHERE user_id = '00000000-0000-0000-0016-0000000000a1'$$);
ROLLBACK;
