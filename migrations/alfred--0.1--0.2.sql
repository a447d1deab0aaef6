-- alfred 0.1 -> 0.2: the source of the upgrade script; make builds
-- alfred--0.1--0.2.sql from it with migrations/build.
--
-- Every change to migrations/0.2/*.sql (the fresh-install script of 0.2) is
-- made here too, so that ALTER EXTENSION alfred UPDATE gives the schema a
-- fresh install gives; test/integration/upgrade.sh compares the two.  A
-- function or view the parts define is not copied here: a line
--     -- @replace function alfred.name      (or view; @create for a new one)
-- stands for its definition in the parts, with the COMMENT ON, ALTER, GRANT
-- and REVOKE statements that name only it.  Everything else (ALTER TABLE,
-- new tables, triggers, data repairs, DROPs) is written here as it runs:
-- name schema alfred explicitly (@extschema@ would be pg_catalog, where the
-- extension object lives).  A directive emits the parts' current text where
-- it stands: what that text needs must exist by then.

\echo Use "ALTER EXTENSION alfred UPDATE TO '0.2'" to load this file. \quit

-- errors: one check of a required argument, used by the functions below
-- @create function alfred._require_argument
-- a user's day, one rule for user_today and the habit lists
-- @create function alfred._local_day
-- @create function alfred._user_time

-- run_maintenance: one table-driven loop instead of a block per relation.
-- main: one time-zone rule (timezone.c); leap-second zones are no longer valid.
COMMENT ON FUNCTION alfred.is_valid_timezone(text) IS
'Whether a time zone name is usable by every alfred engine: PostgreSQL''s time zone library knows it (IANA names such as Europe/Paris, and UTC) and it does not count leap seconds.';

-- policy: tool policies (admin_only), guards on direct writes of scheduled_tasks,
-- task_runs and connected_accounts tokens, per-user limits, sealed OAuth tokens,
-- check_integrations for admins and services only

-- Times that 0.1 accepted and scheduled_tasks_times_check refuses (schedule_task(at =>
-- 'infinity')): such a task never fell due; a NULL next_run_at says the same, and its
-- scheduled_at becomes the last instant alfred's times reach.
UPDATE alfred.scheduled_tasks SET next_run_at = NULL
 WHERE NOT isfinite(next_run_at) OR next_run_at >= '10000-01-01 00:00+00';
-- (a repair of the update, not a user's change: not in the audit trail)
ALTER TABLE alfred.scheduled_tasks DISABLE TRIGGER audit_update;
UPDATE alfred.scheduled_tasks SET scheduled_at = '9999-12-31 23:59:59+00'
 WHERE NOT isfinite(scheduled_at) OR scheduled_at >= '10000-01-01 00:00+00';
ALTER TABLE alfred.scheduled_tasks ENABLE TRIGGER audit_update;

-- An sql tool runs with the worker's privileges, for any user_id and args
-- its task gives it: a tool that acts on every user (maintenance) or on
-- global state is admin_only, so only the tasks of active admin users run it.
ALTER TABLE alfred.tools ADD COLUMN admin_only boolean NOT NULL DEFAULT false;

-- @replace function alfred.tool_policy_error

DROP FUNCTION alfred.register_tool(text, regprocedure, text, text);
-- @replace function alfred.register_tool

UPDATE alfred.tools SET admin_only = true WHERE name IN ('expire_proposals', 'run_maintenance');

-- @replace function alfred.task_prompt_context
-- @replace function alfred.schedule_task
-- @replace function alfred.check_tool_policy
-- @replace function alfred.scheduled_task_min_gap
-- @replace function alfred.scheduled_tasks_policy

CREATE TRIGGER scheduled_tasks_policy
	BEFORE INSERT ON alfred.scheduled_tasks
	FOR EACH ROW EXECUTE FUNCTION alfred.scheduled_tasks_policy();
-- The scheduler's bookkeeping (next_run_at, counts, active -> paused or
-- completed) changes none of these: the trigger does not even start for it.
CREATE TRIGGER scheduled_tasks_policy_update
	BEFORE UPDATE ON alfred.scheduled_tasks
	FOR EACH ROW
	WHEN ((OLD.tool_name, OLD.tool_args, OLD.schedule_cron, OLD.timezone, OLD.task_type, OLD.prompt_template)
		  IS DISTINCT FROM
		  (NEW.tool_name, NEW.tool_args, NEW.schedule_cron, NEW.timezone, NEW.task_type, NEW.prompt_template)
		  OR (NEW.status = 'active' AND OLD.status <> 'active'))
	EXECUTE FUNCTION alfred.scheduled_tasks_policy();

-- @replace function alfred.scheduled_tasks_guard
CREATE TRIGGER scheduled_tasks_guard
	BEFORE UPDATE ON alfred.scheduled_tasks
	FOR EACH ROW
	WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.id IS DISTINCT FROM NEW.id
		  OR OLD.created_at IS DISTINCT FROM NEW.created_at)
	EXECUTE FUNCTION alfred.scheduled_tasks_guard();

-- @replace function alfred.task_runs_guard
CREATE TRIGGER task_runs_guard
	BEFORE INSERT OR UPDATE ON alfred.task_runs
	FOR EACH ROW EXECUTE FUNCTION alfred.task_runs_guard();

CREATE TABLE alfred.scheduler_limits (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	max_active_tasks	integer,
	min_task_interval	interval,
	max_tool_args		integer,
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id),
	CONSTRAINT scheduler_limits_check CHECK (max_active_tasks >= 0 AND min_task_interval >= interval '0'
											 AND max_tool_args >= 0)
);
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON alfred.scheduler_limits
	FOR EACH ROW EXECUTE FUNCTION alfred.touch_updated_at();
-- users read their row (admins and observers all); only the tables' owner writes
SELECT alfred.enable_tenant_rls('alfred.scheduler_limits', commands => '{}');
SELECT pg_catalog.pg_extension_config_dump('alfred.scheduler_limits', '');

-- @replace function alfred.scheduler_limits_of
-- @replace function alfred.run_task_now
-- @replace function alfred.seal_account_token
-- @replace function alfred.open_account_token

-- Tokens are written only by the functions below (SECURITY DEFINER, so the
-- table's owner is the current user inside them), never by a direct write.
-- @replace function alfred.connected_accounts_guard
CREATE TRIGGER connected_accounts_guard
	BEFORE INSERT OR UPDATE ON alfred.connected_accounts
	FOR EACH ROW EXECUTE FUNCTION alfred.connected_accounts_guard();

-- @replace function alfred.connect_account
-- @replace function alfred.set_account_tokens
-- @replace function alfred.account_tokens

-- (pgcrypto's schema is pinned in these functions' search_path once, at the end of the
-- blocks that replace them)

-- @replace function alfred.check_integrations

-- seeds: the seeds' own flows (issue 15): chat sessions closed by maintenance
-- after 24 idle hours, seed 001's retention of task actions and of the
-- messages of ended sessions, cleanup_expired_sessions(), an AI context for
-- every user, enable_proactive_suggestions honoured (and on by default),
-- writable task_actions and approvals views, failed proposals rejectable,
-- approved_by kept on rejection, a clean error for an unknown task, rounded
-- calibration values.

-- Seed 001's switch now silences suggestions; 0.1 ignored it, so a row never
-- changed since its creation holds the old default, not a choice: it becomes on.
ALTER TABLE alfred.user_settings ALTER COLUMN enable_proactive_suggestions SET DEFAULT true;
UPDATE alfred.user_settings SET enable_proactive_suggestions = true
 WHERE NOT enable_proactive_suggestions AND updated_at = created_at;

COMMENT ON COLUMN alfred.user_settings.enable_proactive_suggestions IS
'Seed 001''s switch: while off, suggestion_score is 0 and should_suggest false for every suggestion type. On by default (alfred is a proactive assistant; calibration learns to be quiet, and set_proactiveness(''less'') asks for less).';


-- Every user has an AI context from creation on (seed 001).
INSERT INTO alfred.ai_contexts (user_id) SELECT u.id FROM alfred.users u ON CONFLICT DO NOTHING;

-- @replace function alfred.create_user
-- @replace function alfred.grant_usage
-- @replace function alfred._proposal_lock
-- @create function alfred._proposal_check_task
-- @replace function alfred.approve
-- @replace function alfred.reject
-- @replace view alfred.approvals

COMMENT ON VIEW alfred.task_actions IS
'Seed 001''s TaskAction over alfred.proposals (task actions only): confirmation_status pending, confirmed or rejected (also expired); executed_status not_executed, executing, success or failed. Writable through the state machine (trigger task_actions_write)';

-- @create function alfred._view_written
-- @create function alfred._view_not_writable
-- @create function alfred._view_bad_value
-- @create function alfred._view_check_decider
-- @create function alfred.task_actions_write

CREATE TRIGGER task_actions_write
	INSTEAD OF INSERT OR UPDATE ON alfred.task_actions
	FOR EACH ROW EXECUTE FUNCTION alfred.task_actions_write();

-- @create function alfred.approvals_write

CREATE TRIGGER approvals_write
	INSTEAD OF INSERT OR UPDATE ON alfred.approvals
	FOR EACH ROW EXECUTE FUNCTION alfred.approvals_write();

-- @create function alfred._calibration_round
-- @create function alfred._calibration_at_json
-- @replace view alfred.calibration
-- @replace function alfred.proactiveness

COMMENT ON FUNCTION alfred.suggestion_score(uuid, text, float8) IS
'The probability p that a suggestion of this type with base relevance base (in (0, 1]) should be made now: P(X >= t) for X ~ Beta(1 + e, 1 + d), t = (1 - g) / (base * (boosted ? 1.25 : 1)); 0 while the type is suppressed, and 0 for every type while the user''s user_settings.enable_proactive_suggestions is off. No history, g = 0.7, base 0.8: 0.625.';

COMMENT ON FUNCTION alfred.should_suggest(uuid, text, float8, bigint) IS
'Whether to make the suggestion now: yes with probability suggestion_score (so never while the user''s enable_proactive_suggestions is off); with a seed the draw is u = calibration_uniform(seed), so the answer is deterministic, without one it is random()';


-- Retention: task actions and messages of ended sessions; sessions are
-- removed at expiry by cleanup_expired_sessions() instead.  The rules state
-- the rule, not the design document it came from.
DELETE FROM alfred.retention WHERE relation = 'sessions';
INSERT INTO alfred.retention (relation, keep, rule) VALUES
	('task_actions', '7 days', 'pending, rejected or expired task actions (create, update, complete, delete, query) made or decided longer ago than this; executed ones follow proposals'),
	('inactive_session_messages', '1 day', 'messages of chat sessions that ended (closed, or idle for 24 hours) longer ago than this (deleted once the session is inactive); messages without a session follow chat_messages');

UPDATE alfred.retention r SET rule = v.rule
  FROM (VALUES
	('proposals', 'proposals in a final state (executed, rejected, expired, failed) whose last decision or execution is older; their execution logs go with them; executed ones are kept at least 30 days whatever keep says (the audit minimum)'),
	('execution_logs', 'execution logs older than this'),
	('agent_run_logs', 'agent run logs older than this'),
	('chat_messages', 'chat messages older than this'),
	('notifications', 'notifications sent, read, dismissed or archived longer ago than this')) AS v (relation, rule)
 WHERE r.relation = v.relation;

SELECT pg_catalog.pg_extension_config_dump('alfred.retention',
	'WHERE ROW(relation, NULL)::text NOT IN (''(proposals,)'', ''(execution_logs,)'', ''(agent_run_logs,)'', ''(preference_signals,)'', ''(chat_messages,)'', ''(notifications,)'', ''(task_actions,)'', ''(inactive_session_messages,)'', ''(task_runs,)'', ''(engagement_events,)'', ''(system_logs,)'', ''(audit_trail,)'')');

-- @create function alfred.cleanup_expired_sessions
-- @replace function alfred.run_maintenance

-- identity: set_session and act_as are transaction-local by default (safe
-- behind a transaction pooler), and a user who is no longer active reads nothing.
-- @replace function alfred.set_session
-- @replace function alfred.act_as
COMMENT ON FUNCTION alfred.readable_user_ids() IS
'The users whose rows the current alfred user may read: everyone for admins and observers, else themselves; nobody without an identity or once the user is no longer active (checked once per command). The policies compare user_id = ANY (...) with it.';
ALTER POLICY tasks_assignee_read ON alfred.tasks
	USING (assigned_to = (SELECT alfred.current_user_id())
		   AND (SELECT alfred.current_user_role()) IS NOT NULL);

-- identity: one definition of blank text, alfred.is_blank(), in every check that refuses it
-- (tabs, newlines, no-break and other Unicode spaces, zero-width characters).
-- Existing rows that only look blank make this step fail: fix them first.
-- @create function alfred.is_blank
ALTER TABLE alfred.users DROP CONSTRAINT users_username_check,
	ADD CONSTRAINT users_username_check CHECK (NOT alfred.is_blank(username) AND username !~ '[[:space:]]');
ALTER TABLE alfred.projects DROP CONSTRAINT projects_name_check,
	ADD CONSTRAINT projects_name_check CHECK (NOT alfred.is_blank(name));
ALTER TABLE alfred.project_updates DROP CONSTRAINT project_updates_content_check,
	ADD CONSTRAINT project_updates_content_check CHECK (NOT alfred.is_blank(content));
ALTER TABLE alfred.tasks DROP CONSTRAINT tasks_title_check,
	ADD CONSTRAINT tasks_title_check CHECK (NOT alfred.is_blank(title));
ALTER TABLE alfred.habits DROP CONSTRAINT habits_name_check,
	ADD CONSTRAINT habits_name_check CHECK (NOT alfred.is_blank(name));
ALTER TABLE alfred.chat_messages DROP CONSTRAINT chat_messages_content_check,
	ADD CONSTRAINT chat_messages_content_check CHECK (NOT alfred.is_blank(content));
ALTER TABLE alfred.learnings DROP CONSTRAINT learnings_topic_check,
	ADD CONSTRAINT learnings_topic_check CHECK (NOT alfred.is_blank(topic));
ALTER TABLE alfred.learnings DROP CONSTRAINT learnings_content_check,
	ADD CONSTRAINT learnings_content_check CHECK (NOT alfred.is_blank(content));
ALTER TABLE alfred.learned_preferences DROP CONSTRAINT learned_preferences_key_check,
	ADD CONSTRAINT learned_preferences_key_check CHECK (NOT alfred.is_blank(key));
ALTER TABLE alfred.items DROP CONSTRAINT items_source_id_check,
	ADD CONSTRAINT items_source_id_check CHECK (NOT alfred.is_blank(source_id));
ALTER TABLE alfred.proposals DROP CONSTRAINT proposals_agent_name_check,
	ADD CONSTRAINT proposals_agent_name_check CHECK (NOT alfred.is_blank(agent_name));
ALTER TABLE alfred.audit_trail DROP CONSTRAINT audit_trail_action_check,
	ADD CONSTRAINT audit_trail_action_check CHECK (NOT alfred.is_blank(action));
ALTER TABLE alfred.mcp_servers DROP CONSTRAINT mcp_servers_name_check,
	ADD CONSTRAINT mcp_servers_name_check CHECK (NOT alfred.is_blank(name));
ALTER TABLE alfred.watchers DROP CONSTRAINT watchers_name_check,
	ADD CONSTRAINT watchers_name_check CHECK (NOT alfred.is_blank(name));
ALTER TABLE alfred.file_attachments DROP CONSTRAINT file_attachments_filename_check,
	ADD CONSTRAINT file_attachments_filename_check CHECK (NOT alfred.is_blank(filename) AND NOT alfred.is_blank(original_filename));
ALTER TABLE alfred.notifications DROP CONSTRAINT notifications_title_check,
	ADD CONSTRAINT notifications_title_check CHECK (NOT alfred.is_blank(title));
ALTER TABLE alfred.observed_patterns DROP CONSTRAINT observed_patterns_type_check,
	ADD CONSTRAINT observed_patterns_type_check CHECK (NOT alfred.is_blank(pattern_type));
ALTER TABLE alfred.observed_patterns DROP CONSTRAINT observed_patterns_description_check,
	ADD CONSTRAINT observed_patterns_description_check CHECK (NOT alfred.is_blank(description));
ALTER TABLE alfred.scheduled_tasks DROP CONSTRAINT scheduled_tasks_name_check,
	ADD CONSTRAINT scheduled_tasks_name_check CHECK (NOT alfred.is_blank(name) AND char_length(name) <= 200);
ALTER TABLE alfred.engagement_events DROP CONSTRAINT engagement_events_type_check,
	ADD CONSTRAINT engagement_events_type_check CHECK (NOT alfred.is_blank(suggestion_type));
ALTER TABLE alfred.calibration_state DROP CONSTRAINT calibration_state_suggestion_type_check,
	ADD CONSTRAINT calibration_state_suggestion_type_check CHECK (NOT alfred.is_blank(suggestion_type));
-- @replace function alfred.check_suggestion_type
-- @replace function alfred.observe_pattern
-- @replace function alfred.propose
-- @replace function alfred.finish_execution
-- @replace function alfred.attach_file
-- @replace function alfred.set_context_summary
-- @replace function alfred.set_conversation_summary
-- @replace function alfred.watcher_report

-- fair: the scheduler claims due tasks round-robin across users (src/scheduler.c)
CREATE INDEX scheduled_tasks_user_due_idx ON alfred.scheduled_tasks
	(user_id, (coalesce(next_run_at, 'infinity'::timestamptz)))
	WHERE status = 'active' AND next_run_at IS NOT NULL;
COMMENT ON INDEX alfred.scheduled_tasks_user_due_idx IS
'The scheduler claims due tasks round-robin across users through this index: each user''s earliest due task, then their next ones.';

-- newcomer: schedule_maintenance keeps exactly one registration (unschedule_maintenance);
-- DROP EXTENSION alfred removes the pg_cron job (event triggers)
-- Removes whatever schedule_maintenance registered: the pg_cron job
-- "alfred-maintenance" of this database (when pg_cron is installed here) and
-- alfred's maintenance tasks.  pg_cron is called dynamically: it need not be
-- installed.
-- @create function alfred.unschedule_maintenance
-- @replace function alfred.schedule_maintenance

-- DROP EXTENSION alfred removes the pg_cron job too.  An event trigger of the
-- extension cannot see its own extension dropped (sql_drop and
-- ddl_command_end no longer fire once it is gone), so: before any DROP
-- EXTENSION, the job is taken out of cron.job and kept in a transaction-local
-- setting; after the command, if alfred is still there, the very same row
-- (same jobid) goes back.  An error rolls both back.  Only superusers can drop
-- alfred (superuser = true), so other roles' commands are left alone; the job
-- exists only in the database pg_cron serves.
-- @create function alfred.maintenance_job_before_drop
-- @create function alfred.maintenance_job_after_drop

CREATE EVENT TRIGGER alfred_maintenance_job_before_drop ON ddl_command_start
	WHEN TAG IN ('DROP EXTENSION')
	EXECUTE FUNCTION alfred.maintenance_job_before_drop();
CREATE EVENT TRIGGER alfred_maintenance_job_after_drop ON ddl_command_end
	WHEN TAG IN ('DROP EXTENSION')
	EXECUTE FUNCTION alfred.maintenance_job_after_drop();

-- worker: fenced leases (lease_token from claim_runs, required by complete_run, fail_run and
-- extend_lease), the agent API as SECURITY DEFINER so the documented agent role works,
-- times from callers checked (check_time, scheduled_tasks_times_check)
------------------------------------------------------------------------------
-- Times taken from callers, and the lease that fences an external run
------------------------------------------------------------------------------
-- @create function alfred.check_time

-- scheduled times are finite and within years 1 to 9999, however they are written
ALTER TABLE alfred.scheduled_tasks ADD CONSTRAINT scheduled_tasks_times_check
	CHECK (alfred.check_time('scheduled_at', scheduled_at) = scheduled_at
		   AND alfred.check_time('next_run_at', next_run_at) = next_run_at);

-- Times that 0.1 accepted and items_times_check refuses (ingest_item(start_datetime =>
-- 'infinity')): such a time says nothing of the item; NULL says the same.
UPDATE alfred.items i
   SET start_datetime = CASE WHEN i.start_datetime <@ r.ok THEN i.start_datetime END,
	   end_datetime = CASE WHEN i.end_datetime <@ r.ok THEN i.end_datetime END,
	   received_datetime = CASE WHEN i.received_datetime <@ r.ok THEN i.received_datetime END,
	   source_updated_at = CASE WHEN i.source_updated_at <@ r.ok THEN i.source_updated_at END
  FROM (VALUES (tstzrange('0001-01-01 00:00+00', '10000-01-01 00:00+00'))) r (ok)
 WHERE NOT (i.start_datetime <@ r.ok AND i.end_datetime <@ r.ok
			AND i.received_datetime <@ r.ok AND i.source_updated_at <@ r.ok);
ALTER TABLE alfred.items ADD CONSTRAINT items_times_check
	CHECK (alfred.check_time('start_datetime', start_datetime) = start_datetime
		   AND alfred.check_time('end_datetime', end_datetime) = end_datetime
		   AND alfred.check_time('received_datetime', received_datetime) = received_datetime
		   AND alfred.check_time('source_updated_at', source_updated_at) = source_updated_at);
-- @replace function alfred.ingest_item

ALTER TABLE alfred.task_runs ADD COLUMN lease_token_hash bytea;

DROP FUNCTION alfred.claim_runs(text, text[], integer, interval);
DROP FUNCTION alfred.extend_lease(uuid, text, interval);
DROP FUNCTION alfred.complete_run(uuid, text);
DROP FUNCTION alfred.fail_run(uuid, text, boolean);

-- @replace function alfred.finish_run
-- @create function alfred.claim_runs
-- @create function alfred.check_lease
-- @create function alfred.run_for_report
-- @create function alfred.extend_lease
-- @create function alfred.complete_run
-- @create function alfred.fail_run

-- the agent API above is the way in: these internals change any run they are given
REVOKE EXECUTE ON FUNCTION alfred.finish_run(alfred.task_runs, text, text, text, timestamptz),
	alfred.run_for_report(uuid, uuid, text) FROM PUBLIC;

-- main: a user cannot raise their own AI quota (user_settings_quota_guard)
-- A user's quota override is the DBA's, an admin's or a service's to set: a tenant who could
-- write it would lift their own limit (seed 001: "rate limits prevent abuse and cost overruns").
-- @create function alfred.user_settings_quota_guard

CREATE TRIGGER user_settings_quota_guard
	BEFORE INSERT OR UPDATE OF ai_daily_limit ON alfred.user_settings
	FOR EACH ROW EXECUTE FUNCTION alfred.user_settings_quota_guard();

-- main: blank-looking text is refused by claim_runs' worker name and the token setters; a blank-looking title falls back to the task name
-- @replace function alfred.run_notification
-- @replace function alfred.claim_runs
-- @replace function alfred.connect_account
-- @replace function alfred.set_account_tokens

-- docs: comments state the rule, not the design document it came from (docs/seed-map.md keeps the provenance), and every column of the main user-facing tables has one
COMMENT ON VIEW alfred.task_summary IS
'Tasks with assignee, number of proposals and urgency: overdue when due before the owner''s today, due_soon when due today or tomorrow, done when completed or cancelled.';
COMMENT ON VIEW alfred.daily_activity IS
'Log events per day (in the session''s TimeZone) and level over the last 30 days.';
COMMENT ON FUNCTION alfred.stale_projects(uuid, int) IS
'Active projects without an update for at least days days (default 7; counted from creation when never updated, so a new project is not stale), most neglected first.';
COMMENT ON FUNCTION alfred.health_check() IS
'Data integrity checks: orphaned tasks, habits and habit logs in the whole database (alfred''s foreign keys rule them out, so any count above 0 is a bug) and, over the habits the caller may see, broken streaks (habits whose stored streak tally differs from a full recompute of their logs; a streak that simply lapsed is not broken, habit_streak reads it as 0).';
COMMENT ON FUNCTION alfred.add_message(uuid, text, text, jsonb, uuid) IS
'Add a chat message (role user, assistant or system; user_message, ai_response and system_notification are accepted for them) and return it. Without session_id it goes to the user''s active session, which ends after 24 hours without a message: then a new session starts. The session''s message_count and last_activity_at and the user''s ai_contexts totals (total_messages, total_sessions, average_session_length) are kept. 55000 for a given session that has ended, 22023 for an unknown user, P0002 for an unknown session, 23514 for an empty message or another role.';
COMMENT ON FUNCTION alfred.check_proposal_payload(text, jsonb, boolean) IS
'Raises 22023 naming the missing, unknown or invalid key when payload does not fit the shape of action_type (task actions create/update/complete/delete/query; create_email_draft; create_calendar_event, update_calendar_event, delete_calendar_event, create_reminder_event); other action types take any JSON object';
COMMENT ON VIEW alfred.approvals IS
'alfred.proposals as an approvals table: status pending, approved (also executing, executed, failed), rejected or expired; approved_by/approved_at and rejected_by/rejected_at (both when an approved proposal was rejected later); requested_by is who asked (else the agent), notes the proposal''s notes, else the rejection reason, else the explanation. Writable through the state machine (trigger approvals_write)';
COMMENT ON VIEW alfred.task_actions IS
'The task actions of alfred.proposals, confirmation and execution apart: confirmation_status pending, confirmed or rejected (also expired); executed_status not_executed, executing, success or failed. Writable through the state machine (trigger task_actions_write)';
COMMENT ON FUNCTION alfred.suggestion_score(uuid, text, float8) IS
'The probability p that a suggestion of this type with base relevance base (in (0, 1]) should be made now: P(X >= t) for X ~ Beta(1 + e, 1 + d), t = (1 - g) / (base * (boosted ? 1.25 : 1)); 0 while the type is suppressed, and 0 for every type while the user''s user_settings.enable_proactive_suggestions is off. No history, g = 0.7, base 0.8: 0.625.';
-- every column of users, tasks, habits, proposals and scheduled_tasks says what it holds
-- rules: one notification rule, run_notification_content, written by the tick's batch statement and by run_notification; one status check for the task actions (task_for_action) and for the proposal transitions (_proposal_require, replacing _proposal_not_in)
-- @replace function alfred.run_notification_content

-- @replace function alfred.run_notification

-- @replace function alfred.task_for_action

-- @replace function alfred.pause_task

-- @replace function alfred.resume_task

-- @replace function alfred.cancel_task

-- @replace function alfred.run_task_now

-- @replace function alfred._proposal_require

-- @replace function alfred.approve

-- @replace function alfred.reject

-- @replace function alfred.start_execution

-- @replace function alfred.finish_execution

-- @replace function alfred.execute_proposal

-- @replace function alfred.retry_proposal

-- _proposal_require replaces it
DROP FUNCTION alfred._proposal_not_in(alfred.proposals, text, text);
-- claim: identity travels to Citus worker nodes as a signed claim (alfred.claim_key,
-- sign_claim, sync_claim_key, rotate_claim_key; src/identity.c), and no row-level security
-- policy contains a subquery (Citus refuses them): every tenant policy is built again.
CREATE TABLE alfred.claim_key (
	id			boolean PRIMARY KEY DEFAULT true CHECK (id),
	key			bytea NOT NULL CHECK (octet_length(key) BETWEEN 32 AND 128),
	created_at	timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON alfred.claim_key FROM PUBLIC;
-- 366 random bits from three version 4 UUIDs (pg_strong_random).
INSERT INTO alfred.claim_key (key)
VALUES (pg_catalog.decode(pg_catalog.replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text
											 || pg_catalog.gen_random_uuid()::text, '-', ''), 'hex'));

-- @create function alfred.sign_claim

-- @create function alfred.sync_claim_key

-- @create function alfred.rotate_claim_key
-- (not registered with pg_extension_config_dump: a restore makes its own key)

-- @replace function alfred.enable_tenant_rls

DO $$
DECLARE
	r		record;
BEGIN
	FOR r IN
		SELECT p.polrelid::regclass AS rel,
			   coalesce(array_agg(CASE p.polname WHEN 'tenant_insert' THEN 'INSERT' WHEN 'tenant_update' THEN 'UPDATE'
									  WHEN 'tenant_delete' THEN 'DELETE' END ORDER BY p.polname)
							FILTER (WHERE p.polname <> 'tenant_read'), '{}') AS commands
		  FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
		 WHERE c.relnamespace = 'alfred'::regnamespace
		   AND p.polname IN ('tenant_read', 'tenant_insert', 'tenant_update', 'tenant_delete')
		 GROUP BY p.polrelid
	LOOP
		EXECUTE format('DROP POLICY IF EXISTS tenant_read ON %s', r.rel);
		EXECUTE format('DROP POLICY IF EXISTS tenant_insert ON %s', r.rel);
		EXECUTE format('DROP POLICY IF EXISTS tenant_update ON %s', r.rel);
		EXECUTE format('DROP POLICY IF EXISTS tenant_delete ON %s', r.rel);
		PERFORM alfred.enable_tenant_rls(r.rel, r.commands);
	END LOOP;
END
$$;
ALTER POLICY users_read ON alfred.users
	USING (id = ANY (alfred.readable_user_ids()));
ALTER POLICY users_update ON alfred.users
	USING (id = ANY (alfred.writable_user_ids()))
	WITH CHECK (id = ANY (alfred.writable_user_ids()));
ALTER POLICY tasks_assignee_read ON alfred.tasks
	USING (assigned_to = alfred.current_user_id() AND alfred.current_user_role() IS NOT NULL);
ALTER POLICY tasks_assignee_update ON alfred.tasks
	USING (assigned_to = alfred.current_user_id() AND alfred.current_user_role() = 'user')
	WITH CHECK (assigned_to = alfred.current_user_id());
COMMENT ON FUNCTION alfred.readable_user_ids() IS
'The users whose rows the current alfred user may read: everyone for admins and observers, else themselves; nobody without an identity or once the user is no longer active (checked once per command). The policies compare user_id = ANY (...) with it.';
-- shards: the scheduler on Citus: each node's worker ticks the shards placed on it
-- (C); claim_runs locks the runs it claims one by one by their key on a Citus cluster,
-- and run_for_report locks a run by (user_id, id) after looking its owner up
-- @create function alfred.scheduler_is_sharded

-- @replace function alfred.run_for_report

-- @replace function alfred.claim_runs
-- citus: no temporary table in create_log_partitions (Citus cannot two-phase commit
-- a transaction that touched one, and CREATE EXTENSION on a coordinator is one)
-- @replace function alfred.create_log_partitions

-- citus: unique indexes that a table distributed by user_id can keep (they must
-- contain user_id); lookups by id or token alone still use them
DROP INDEX alfred.sessions_token_hash_key;
CREATE UNIQUE INDEX sessions_token_hash_key ON alfred.sessions (token_hash, user_id);
DROP INDEX alfred.habits_id_key;
CREATE UNIQUE INDEX habits_id_key ON alfred.habits (id, user_id);
DROP INDEX alfred.tasks_id_key;
CREATE UNIQUE INDEX tasks_id_key ON alfred.tasks (id, user_id);
DROP INDEX alfred.proposals_id_key;
CREATE UNIQUE INDEX proposals_id_key ON alfred.proposals (id, user_id);
DROP INDEX alfred.scheduled_tasks_id_key;
CREATE UNIQUE INDEX scheduled_tasks_id_key ON alfred.scheduled_tasks (id, user_id);
DROP INDEX alfred.task_runs_id_key;
CREATE UNIQUE INDEX task_runs_id_key ON alfred.task_runs (id, user_id);

-- citus: functions that run on Citus too: row locks and updates name user_id (the owner looked
-- up first), triggers pass the table's row type rather than the shard's, the
-- SQL-language functions that read tables with parameters are PL/pgSQL, and no
-- stable function is called in a CASE or coalesce of an UPDATE

-- @replace function alfred.audit_row

-- @replace function alfred.task_for_update

-- @replace function alfred.run_for_update

-- @replace function alfred.run_for_report

-- @replace function alfred._habit_for_update

-- @replace function alfred.log_habit

-- @replace function alfred.complete_task

-- @replace function alfred._proposal_lock

-- @replace function alfred.accept_pattern

-- @replace function alfred.account_for_tokens

-- @replace function alfred.assign_task

-- @replace function alfred.set_context_summary

-- @replace function alfred.watcher_report

-- @replace function alfred._habit_schedule_trigger

-- @replace function alfred.scheduled_tasks_policy

-- @replace function alfred.user_today

-- @replace function alfred._user_clock

-- @replace function alfred.proactiveness

-- @replace function alfred.refresh_proactiveness

-- @replace function alfred._proposal_execute

-- @replace function alfred.propose

-- @replace function alfred.approve

-- @replace function alfred.reject

-- @replace function alfred.start_execution

-- @replace function alfred.finish_execution

-- @replace function alfred.retry_proposal

-- @replace function alfred.priority_tasks

-- @replace function alfred.habits_today

-- @replace function alfred.project_health

-- @replace function alfred.weekly_stats

-- @replace function alfred.overdue_tasks

-- @replace function alfred.due_notifications

-- @replace function alfred.habits_at_risk

-- @replace function alfred.unschedule_maintenance

-- @replace function alfred.resume_task

-- @replace function alfred.refresh_all_proactiveness

-- @replace function alfred.health

-- @replace function alfred.quiet_hours_end

-- @replace function alfred.run_notification

-- @replace function alfred.tool_overdue_tasks

-- @replace function alfred.actionable_patterns

-- @replace function alfred.expire_attachments

-- @replace function alfred.ai_quota


-- citus: alfred.distribute() and its helpers (999_citus.sql)
-- @create function alfred.owner_of

-- @create function alfred.null_references

-- @create function alfred._lock_scheduler
-- @create function alfred.distribute

-- @create function alfred.is_citus_table

REVOKE ALL ON FUNCTION alfred.distribute(integer) FROM PUBLIC;


-- citus: the view calibration passes the state through jsonb (on a shard the row
-- type is the shard's)
-- @replace view alfred.calibration
-- errors: a NULL required argument raises 22004 (null_value_not_allowed) naming the
-- argument, through one helper, alfred._require_argument (src/arguments.c); error messages
-- written out whole.  The functions changed for it, as migrations/0.2 defines them.

-- @replace function alfred.create_log_partitions

-- @replace function alfred.check_password_strength

-- @replace function alfred.create_user

-- @replace function alfred.login

-- @replace function alfred.change_password

-- @replace function alfred.set_password

-- @replace function alfred.enable_tenant_rls

-- @replace function alfred.grant_usage

-- @replace function alfred.register_tool

-- @replace function alfred.schedule_task

-- @replace function alfred.claim_runs

-- @replace function alfred.check_lease

-- @replace function alfred._habit_for_update

-- @replace function alfred.log_habit

-- @replace function alfred.complete_task

-- @replace function alfred.add_task_dependency

-- @replace function alfred.today

-- @replace function alfred._require_user

-- @replace function alfred.learn_preference

-- @replace function alfred._proposal_lock

-- @replace function alfred.propose

-- @replace function alfred.finish_execution

-- @replace function alfred.check_suggestion_type

-- @replace function alfred.record_engagement

-- @replace function alfred.set_proactiveness

-- @replace function alfred.complete_onboarding

-- @replace function alfred.observe_pattern

-- @replace function alfred.cleanup_expired_sessions

-- @replace function alfred.run_maintenance

-- @replace function alfred.assign_task

-- @replace function alfred.attach_file

-- @replace function alfred.set_context_summary

-- @replace function alfred.set_conversation_summary

-- @replace function alfred.check_integrations

-- @replace function alfred.watcher_report

-- @replace function alfred.find_free_slots

-- @replace function alfred.consume_ai_quota

-- @replace function alfred.run_for_report

-- @replace function alfred._view_not_writable

-- @replace function alfred._view_bad_value

-- @replace function alfred._view_check_decider

-- @replace function alfred.connect_account

-- @replace function alfred.set_account_tokens

-- @replace function alfred.index_log_partition

-- @replace function alfred.task_for_update

-- @replace function alfred.run_for_update

-- @replace function alfred.close_chat_session

-- @replace function alfred.accept_pattern

-- @replace function alfred.account_for_tokens

-- @replace function alfred.mcp_heartbeat

-- @replace function alfred.refresh_proactiveness

-- claim_runs: one claimability rule, one lease-spent rule and one claim for its two paths
-- @create function alfred._run_claimable
-- @create function alfred._run_lease_spent
-- @create function alfred._claim_run
REVOKE EXECUTE ON FUNCTION alfred._claim_run(uuid, uuid, text, text, interval, uuid) FROM PUBLIC;

-- (replacing the password and token functions resets their search_path: pgcrypto's schema again)
DO $$
DECLARE
	crypto	name;
	fn		regprocedure;
BEGIN
	SELECT n.nspname INTO STRICT crypto
	  FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
	 WHERE e.extname = 'pgcrypto';
	FOR fn IN
		SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
		 WHERE p.pronamespace = 'alfred'::regnamespace
		   AND p.proname IN ('login', 'change_password', 'set_password', 'connect_account',
							 'set_account_tokens', 'account_tokens', 'seal_account_token',
							 'open_account_token')
	LOOP
		EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', fn, crypto);
	END LOOP;
END
$$;

-- grants: grant_usage on a Citus cluster: Citus refuses to pass on column
-- privileges (users) and does not copy them to new shard placements, so
-- grant_usage grants on the coordinator only and sync_grants() copies every
-- privilege on alfred's schema and relations to every node and placement
-- (grant_usage's new text comes with its @replace directive above)
-- @create function alfred._relation_grants
-- @create function alfred._grants
-- @create function alfred._apply_grants
-- @create function alfred.sync_grants

-- cupgrade: alfred.table_ddl(), how a later upgrade script changes alfred's
-- tables on a distributed alfred (999_citus.sql)
-- @create function alfred.table_ddl

-- every comment of these tables and their columns, as the parts write them (after
-- every change above, so each column exists)
-- @comments table alfred.tools
-- @comments table alfred.scheduler_limits
-- @comments table alfred.task_runs
-- @comments table alfred.users
-- @comments table alfred.sessions
-- @comments table alfred.connected_accounts
-- @comments table alfred.projects
-- @comments table alfred.project_updates
-- @comments table alfred.tasks
-- @comments table alfred.task_dependencies
-- @comments table alfred.habits
-- @comments table alfred.habit_logs
-- @comments table alfred.chat_sessions
-- @comments table alfred.chat_messages
-- @comments table alfred.ai_contexts
-- @comments table alfred.learnings
-- @comments table alfred.user_settings
-- @comments table alfred.learned_preferences
-- @comments table alfred.items
-- @comments table alfred.item_agent_metadata
-- @comments table alfred.proposals
-- @comments table alfred.execution_logs
-- @comments table alfred.preference_signals
-- @comments table alfred.agent_run_logs
-- @comments table alfred.system_logs
-- @comments table alfred.audit_trail
-- @comments table alfred.mcp_servers
-- @comments table alfred.watchers
-- @comments table alfred.file_attachments
-- @comments table alfred.notifications
-- @comments table alfred.observed_patterns
-- @comments table alfred.scheduled_tasks
-- @comments table alfred.engagement_events
-- @comments table alfred.proactiveness_settings
-- @comments table alfred.claim_key
