-- alfred 0.1: assembled by the Makefile from migrations/0.1/*.sql in name order.
-- Each part opens with a comment naming its area; every object is qualified
-- with alfred.

\echo Use "CREATE EXTENSION alfred" to load this file. \quit


-- The schema is a member of the extension, so DROP EXTENSION removes it too.
CREATE SCHEMA alfred;
COMMENT ON SCHEMA alfred IS 'alfred: the data engine of a personal AI assistant (extension alfred)';
-- 100 schema: the unified tables of DESIGN.md's "Unification map".
--
-- Tenant key first: every user-owned table has user_id and primary key
-- (user_id, id) (one-row-per-user tables: primary key (user_id)); every
-- reference between user-owned tables is a composite foreign key that
-- includes user_id, so no row can point at another user's row.  The global
-- tables tools and mcp_servers, and the log tables system_logs and
-- audit_trail (whose actor may be the system), are the exceptions.
-- docs/seed-map.md says where every seed column went.
--
-- Row-level security, identity and the grants for application roles are in
-- 110_identity.sql.

------------------------------------------------------------------------------
-- Helpers used by constraints and triggers
------------------------------------------------------------------------------

CREATE FUNCTION alfred.is_valid_timezone(tz text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'alfred_is_valid_timezone'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION alfred.is_valid_timezone(text) IS
'Whether PostgreSQL''s time zone library knows the zone name (IANA names such as Europe/Paris, and UTC).';

CREATE FUNCTION alfred.touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	NEW.updated_at := pg_catalog.now();
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION alfred.touch_updated_at() IS
'Trigger: sets updated_at to the transaction time on every UPDATE.';

CREATE FUNCTION alfred.forbid_tenant_change()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	RAISE EXCEPTION 'cannot move a row of "%" to another user', TG_TABLE_NAME
		USING ERRCODE = 'insufficient_privilege',
			  DETAIL = 'user_id is the tenant key; it never changes after a row is inserted.';
END
$$;
COMMENT ON FUNCTION alfred.forbid_tenant_change() IS
'Trigger: rejects an UPDATE that changes user_id (the tenant key is immutable).';

------------------------------------------------------------------------------
-- Accounts
------------------------------------------------------------------------------

CREATE TABLE alfred.users (
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	email				text NOT NULL,
	username			text,
	display_name		text,
	first_name			text,
	last_name			text,
	password_hash		text NOT NULL,
	role				text NOT NULL DEFAULT 'user',
	status				text NOT NULL DEFAULT 'active',
	timezone			text NOT NULL DEFAULT 'UTC',
	location_city		text,
	location_country	text,
	profile				jsonb NOT NULL DEFAULT '{}',
	last_login_at		timestamptz,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (id),
	CONSTRAINT users_email_check CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
	CONSTRAINT users_username_check CHECK (username <> '' AND username !~ '[[:space:]]'),
	CONSTRAINT users_password_hash_check CHECK (password_hash ~ '^\$2[abxy]?\$'),
	CONSTRAINT users_role_check CHECK (role IN ('admin', 'user', 'observer')),
	CONSTRAINT users_status_check CHECK (status IN ('active', 'inactive', 'suspended')),
	CONSTRAINT users_timezone_check CHECK (alfred.is_valid_timezone(timezone)),
	CONSTRAINT users_profile_check CHECK (jsonb_typeof(profile) = 'object')
);
CREATE UNIQUE INDEX users_email_key ON alfred.users (lower(email));
CREATE UNIQUE INDEX users_username_key ON alfred.users (lower(username));
CREATE INDEX users_status_idx ON alfred.users (status);
COMMENT ON TABLE alfred.users IS
'A person using alfred (seeds 002, 003, 004). Create with alfred.create_user(); passwords are bcrypt hashes.';
COMMENT ON COLUMN alfred.users.email IS 'Login name; unique regardless of case.';
COMMENT ON COLUMN alfred.users.password_hash IS 'bcrypt hash (pgcrypto crypt/gen_salt(''bf'')); never the password.';
COMMENT ON COLUMN alfred.users.role IS 'admin sees and changes every row, user only their own, observer reads every row and changes none.';
COMMENT ON COLUMN alfred.users.status IS 'Only active users can log in or be acted as (seed 002 is_active = status ''active'').';
COMMENT ON COLUMN alfred.users.timezone IS 'IANA zone in which "today", quiet hours, schedules and streaks are evaluated.';
COMMENT ON COLUMN alfred.users.profile IS 'Free-form profile (seed 003 profile, seed 004 preferences).';

CREATE TABLE alfred.sessions (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	token_hash			bytea NOT NULL,
	expires_at			timestamptz NOT NULL,
	created_at			timestamptz NOT NULL DEFAULT now(),
	last_accessed_at	timestamptz NOT NULL DEFAULT now(),
	ip_address			inet,
	user_agent			text,
	is_revoked			boolean NOT NULL DEFAULT false,
	revoked_at			timestamptz,
	PRIMARY KEY (user_id, id),
	CONSTRAINT sessions_token_hash_check CHECK (octet_length(token_hash) = 32),
	CONSTRAINT sessions_expires_at_check CHECK (expires_at > created_at),
	CONSTRAINT sessions_revoked_check CHECK (is_revoked = (revoked_at IS NOT NULL))
);
CREATE UNIQUE INDEX sessions_token_hash_key ON alfred.sessions (token_hash);
CREATE INDEX sessions_expires_at_idx ON alfred.sessions (expires_at);
COMMENT ON TABLE alfred.sessions IS
'Login sessions (seed 004). Only the SHA-256 digest of a token is stored; alfred.login() returns the token once.';
COMMENT ON COLUMN alfred.sessions.token_hash IS 'sha256 of the token''s UTF-8 text.';

CREATE TABLE alfred.connected_accounts (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	provider			text NOT NULL,
	provider_account_id	text,
	provider_email		text,
	access_token		bytea NOT NULL,
	refresh_token		bytea,
	token_expires_at	timestamptz,
	scopes				text[] NOT NULL DEFAULT '{}',
	status				text NOT NULL DEFAULT 'active',
	last_sync_at		timestamptz,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	CONSTRAINT connected_accounts_provider_check CHECK (provider IN ('gmail', 'outlook', 'google_calendar')),
	CONSTRAINT connected_accounts_status_check CHECK (status IN ('active', 'expired', 'revoked', 'error')),
	CONSTRAINT connected_accounts_account_key UNIQUE NULLS NOT DISTINCT (user_id, provider, provider_account_id)
);
CREATE INDEX connected_accounts_status_idx ON alfred.connected_accounts (user_id, status);
CREATE INDEX connected_accounts_refresh_idx ON alfred.connected_accounts (token_expires_at)
	WHERE status = 'active';
COMMENT ON TABLE alfred.connected_accounts IS
'OAuth connections to mail and calendar providers (seed 002). Tokens are pgcrypto-encrypted with a key the server does not store.';
COMMENT ON COLUMN alfred.connected_accounts.access_token IS 'pgp_sym_encrypt()ed OAuth access token.';
COMMENT ON COLUMN alfred.connected_accounts.refresh_token IS 'pgp_sym_encrypt()ed OAuth refresh token.';

------------------------------------------------------------------------------
-- Projects and tasks
------------------------------------------------------------------------------

CREATE TABLE alfred.projects (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	name				text NOT NULL,
	organization		text,
	role				text NOT NULL DEFAULT 'owner',
	status				text NOT NULL DEFAULT 'active',
	description			text,
	integrations		jsonb NOT NULL DEFAULT '{}',
	metadata			jsonb NOT NULL DEFAULT '{}',
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	CONSTRAINT projects_name_check CHECK (btrim(name) <> ''),
	CONSTRAINT projects_role_check CHECK (role IN ('owner', 'member', 'observer')),
	CONSTRAINT projects_status_check CHECK (status IN ('active', 'on_hold', 'completed', 'archived'))
);
CREATE INDEX projects_status_idx ON alfred.projects (user_id, status);
CREATE INDEX projects_metadata_idx ON alfred.projects USING gin (metadata jsonb_path_ops);
COMMENT ON TABLE alfred.projects IS 'A user''s projects (seed 003).';
COMMENT ON COLUMN alfred.projects.role IS 'The user''s role in the project: owner, member or observer.';

CREATE TABLE alfred.project_updates (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	project_id			uuid NOT NULL,
	content				text NOT NULL,
	update_type			text,
	action_items		text,
	blockers			jsonb NOT NULL DEFAULT '[]',
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, project_id) REFERENCES alfred.projects (user_id, id) ON DELETE CASCADE,
	CONSTRAINT project_updates_content_check CHECK (btrim(content) <> ''),
	CONSTRAINT project_updates_update_type_check CHECK (update_type IN ('progress', 'blocker', 'decision', 'note')),
	CONSTRAINT project_updates_blockers_check CHECK (jsonb_typeof(blockers) = 'array')
);
CREATE INDEX project_updates_project_idx ON alfred.project_updates (user_id, project_id, created_at DESC);
CREATE INDEX project_updates_created_idx ON alfred.project_updates (user_id, created_at DESC);
COMMENT ON TABLE alfred.project_updates IS 'Progress notes, blockers and decisions of a project (seed 003).';

CREATE TABLE alfred.tasks (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	project_id			uuid,
	title				text NOT NULL,
	description			text,
	priority			text NOT NULL DEFAULT 'medium',
	status				text NOT NULL DEFAULT 'pending',
	due_date			timestamptz,
	recurrence			text,
	blockers			text,
	tags				text[] NOT NULL DEFAULT '{}',
	source				text NOT NULL DEFAULT 'manual',
	assigned_to			uuid REFERENCES alfred.users (id) ON DELETE SET NULL,
	created_by			uuid REFERENCES alfred.users (id) ON DELETE SET NULL,
	estimated_duration	integer,
	actual_duration		integer,
	metadata			jsonb NOT NULL DEFAULT '{}',
	completed_at		timestamptz,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, project_id) REFERENCES alfred.projects (user_id, id) ON DELETE SET NULL (project_id),
	CONSTRAINT tasks_title_check CHECK (btrim(title) <> ''),
	CONSTRAINT tasks_priority_check CHECK (priority IN ('low', 'medium', 'high', 'urgent', 'critical')),
	CONSTRAINT tasks_status_check CHECK (status IN ('pending', 'in_progress', 'blocked', 'completed', 'cancelled', 'failed')),
	CONSTRAINT tasks_recurrence_check CHECK (recurrence IN ('daily', 'weekly', 'monthly')
											 OR recurrence ~ '^(@[a-z]+|[^[:space:]]+([[:space:]]+[^[:space:]]+){4})$'),
	CONSTRAINT tasks_source_check CHECK (source IN ('manual', 'conversation', 'import')),
	CONSTRAINT tasks_estimated_duration_check CHECK (estimated_duration > 0),
	CONSTRAINT tasks_actual_duration_check CHECK (actual_duration >= 0),
	CONSTRAINT tasks_priority_duration_check CHECK (priority <> 'critical' OR estimated_duration <= 1440),
	CONSTRAINT tasks_metadata_check CHECK (jsonb_typeof(metadata) = 'object')
);
CREATE INDEX tasks_status_idx ON alfred.tasks (user_id, status);
CREATE INDEX tasks_due_idx ON alfred.tasks (user_id, due_date);
CREATE INDEX tasks_open_due_idx ON alfred.tasks (user_id, due_date)
	WHERE status IN ('pending', 'in_progress', 'blocked');
CREATE INDEX tasks_project_idx ON alfred.tasks (user_id, project_id) WHERE project_id IS NOT NULL;
CREATE INDEX tasks_priority_idx ON alfred.tasks (user_id, priority);
CREATE INDEX tasks_created_idx ON alfred.tasks (user_id, created_at DESC);
CREATE INDEX tasks_assigned_idx ON alfred.tasks (assigned_to, status) WHERE assigned_to IS NOT NULL;
CREATE INDEX tasks_tags_idx ON alfred.tasks USING gin (tags);
CREATE INDEX tasks_fulltext_idx ON alfred.tasks
	USING gin (to_tsvector('english'::regconfig, title || ' ' || coalesce(description, '')));
COMMENT ON TABLE alfred.tasks IS
'To-dos (seeds 001, 003, 004). A task belongs to user_id; assigned_to may name another user, who then sees and may update it.';
COMMENT ON COLUMN alfred.tasks.recurrence IS 'daily, weekly, monthly (seed 003) or a cron expression; the next occurrence is spawned on completion.';
COMMENT ON COLUMN alfred.tasks.estimated_duration IS 'Minutes. A critical task is estimated at most 1440 (seed 004).';
COMMENT ON COLUMN alfred.tasks.actual_duration IS 'Minutes.';
COMMENT ON COLUMN alfred.tasks.created_by IS 'Who created the task when it was not its owner (an admin, an assigner).';

CREATE TABLE alfred.task_dependencies (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	task_id				uuid NOT NULL,
	depends_on_task_id	uuid NOT NULL,
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, task_id, depends_on_task_id),
	FOREIGN KEY (user_id, task_id) REFERENCES alfred.tasks (user_id, id) ON DELETE CASCADE,
	FOREIGN KEY (user_id, depends_on_task_id) REFERENCES alfred.tasks (user_id, id) ON DELETE CASCADE,
	CONSTRAINT task_dependencies_self_check CHECK (task_id <> depends_on_task_id)
);
CREATE INDEX task_dependencies_reverse_idx ON alfred.task_dependencies (user_id, depends_on_task_id);
COMMENT ON TABLE alfred.task_dependencies IS
'task_id cannot complete before depends_on_task_id (seed 004 tasks.dependencies). A trigger rejects cycles.';

CREATE FUNCTION alfred.task_dependencies_check_cycle()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- One writer per user at a time, so two concurrent inserts cannot close a cycle.
	PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('alfred.task_dependencies'),
											 pg_catalog.hashtext(NEW.user_id::text));
	IF EXISTS (
		WITH RECURSIVE reach (task_id) AS (
			SELECT NEW.depends_on_task_id
			UNION
			SELECT d.depends_on_task_id
			  FROM alfred.task_dependencies d
			  JOIN reach r ON d.task_id = r.task_id
			 WHERE d.user_id = NEW.user_id
		)
		SELECT 1 FROM reach WHERE reach.task_id = NEW.task_id)
	THEN
		RAISE EXCEPTION 'task dependency would create a cycle'
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Task %s already depends, directly or not, on task %s.',
								  NEW.depends_on_task_id, NEW.task_id);
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION alfred.task_dependencies_check_cycle() IS
'Trigger: rejects a task dependency that would close a cycle (23514).';
CREATE TRIGGER task_dependencies_no_cycle
	BEFORE INSERT OR UPDATE ON alfred.task_dependencies
	FOR EACH ROW EXECUTE FUNCTION alfred.task_dependencies_check_cycle();

------------------------------------------------------------------------------
-- Habits
------------------------------------------------------------------------------

CREATE TABLE alfred.habits (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	name				text NOT NULL,
	frequency			text NOT NULL DEFAULT 'daily',
	days_of_week		integer[] NOT NULL DEFAULT '{}',
	target_per_week		integer,
	day_start_hour		integer NOT NULL DEFAULT 0,
	time_preference		text,
	current_streak		integer NOT NULL DEFAULT 0,
	best_streak			integer NOT NULL DEFAULT 0,
	total_completions	integer NOT NULL DEFAULT 0,
	last_logged			date,
	last_met_period		date,
	period_logs			integer NOT NULL DEFAULT 0,
	motivation			text,
	category			text,
	active				boolean NOT NULL DEFAULT true,
	reminder_enabled	boolean NOT NULL DEFAULT true,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	CONSTRAINT habits_name_check CHECK (btrim(name) <> ''),
	CONSTRAINT habits_frequency_check CHECK (frequency IN ('daily', 'weekly', 'custom')),
	CONSTRAINT habits_days_of_week_check CHECK (days_of_week <@ '{1,2,3,4,5,6,7}'
												AND array_position(days_of_week, NULL) IS NULL),
	CONSTRAINT habits_custom_days_check CHECK (frequency <> 'custom' OR cardinality(days_of_week) > 0),
	CONSTRAINT habits_target_per_week_check CHECK (target_per_week BETWEEN 1 AND 7),
	CONSTRAINT habits_day_start_hour_check CHECK (day_start_hour BETWEEN 0 AND 23),
	CONSTRAINT habits_time_preference_check CHECK (time_preference IN ('morning', 'afternoon', 'evening', 'anytime')),
	CONSTRAINT habits_streak_check CHECK (current_streak >= 0 AND best_streak >= current_streak),
	CONSTRAINT habits_total_completions_check CHECK (total_completions >= 0),
	CONSTRAINT habits_category_check CHECK (category IN ('health', 'productivity', 'learning', 'wellness'))
);
CREATE INDEX habits_active_idx ON alfred.habits (user_id) WHERE active;
CREATE INDEX habits_reminder_idx ON alfred.habits (user_id) WHERE reminder_enabled AND active;
COMMENT ON TABLE alfred.habits IS
'Habits with streaks (seed 003). Streak columns are maintained by alfred.log_habit()/unlog_habit().';
COMMENT ON COLUMN alfred.habits.days_of_week IS 'ISO weekdays, 1 = Monday … 7 = Sunday: the scheduled days of a custom habit, or the default weekly target.';
COMMENT ON COLUMN alfred.habits.target_per_week IS 'Logs needed in an ISO week to meet a weekly habit (default: number of days_of_week, else 1).';
COMMENT ON COLUMN alfred.habits.day_start_hour IS 'Hour at which the user''s day starts for this habit: a log before it counts for the previous day.';
COMMENT ON COLUMN alfred.habits.last_met_period IS 'First day of the last met period (day or ISO week); lets a log for today update the streak in O(1).';
COMMENT ON COLUMN alfred.habits.period_logs IS 'Weekly habits: logs in the ISO week of last_logged (part of the streak tally, with current_streak, best_streak, last_logged and last_met_period).';

CREATE TABLE alfred.habit_logs (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	habit_id			uuid NOT NULL,
	logged_date			date NOT NULL,
	notes				text,
	duration_minutes	integer,
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, habit_id) REFERENCES alfred.habits (user_id, id) ON DELETE CASCADE,
	CONSTRAINT habit_logs_habit_date_key UNIQUE (user_id, habit_id, logged_date),
	CONSTRAINT habit_logs_duration_check CHECK (duration_minutes >= 0)
);
CREATE INDEX habit_logs_date_idx ON alfred.habit_logs (user_id, logged_date);
COMMENT ON TABLE alfred.habit_logs IS 'One row per habit and day done (seed 003).';

------------------------------------------------------------------------------
-- Conversation and AI memory
------------------------------------------------------------------------------

CREATE TABLE alfred.chat_sessions (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	started_at			timestamptz NOT NULL DEFAULT now(),
	last_activity_at	timestamptz NOT NULL DEFAULT now(),
	is_active			boolean NOT NULL DEFAULT true,
	context_summary		text,
	message_count		integer NOT NULL DEFAULT 0,
	summarized_message_count integer NOT NULL DEFAULT 0,
	needs_summary		boolean NOT NULL GENERATED ALWAYS AS (message_count - summarized_message_count > 50) STORED,
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	CONSTRAINT chat_sessions_message_count_check CHECK (message_count >= 0),
	CONSTRAINT chat_sessions_activity_check CHECK (last_activity_at >= started_at)
);
CREATE INDEX chat_sessions_recent_idx ON alfred.chat_sessions (user_id, last_activity_at DESC);
CREATE INDEX chat_sessions_active_idx ON alfred.chat_sessions (last_activity_at) WHERE is_active;
COMMENT ON TABLE alfred.chat_sessions IS
'A conversation with the assistant (seed 001). Inactive after 24 hours without a message.';
COMMENT ON COLUMN alfred.chat_sessions.needs_summary IS 'More than 50 messages since the last context summary (seed 001); set_context_summary clears it.';

CREATE TABLE alfred.chat_messages (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	session_id			uuid,
	role				text NOT NULL,
	content				text NOT NULL,
	metadata			jsonb NOT NULL DEFAULT '{}',
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, session_id) REFERENCES alfred.chat_sessions (user_id, id) ON DELETE CASCADE,
	CONSTRAINT chat_messages_role_check CHECK (role IN ('user', 'assistant', 'system')),
	CONSTRAINT chat_messages_content_check CHECK (btrim(content) <> ''),
	CONSTRAINT chat_messages_metadata_check CHECK (jsonb_typeof(metadata) = 'object')
);
CREATE INDEX chat_messages_session_idx ON alfred.chat_messages (user_id, session_id, created_at);
CREATE INDEX chat_messages_created_idx ON alfred.chat_messages (user_id, created_at DESC);
CREATE INDEX chat_messages_role_idx ON alfred.chat_messages (user_id, role);
COMMENT ON TABLE alfred.chat_messages IS
'Messages of a conversation (seed 001 ChatMessage, seed 003 chat_history; the latter has no session, so session_id may be NULL).';
COMMENT ON COLUMN alfred.chat_messages.role IS 'user, assistant or system (seed 001 user_message, ai_response, system_notification).';

CREATE TABLE alfred.ai_contexts (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	conversation_summary text,
	user_patterns		jsonb NOT NULL DEFAULT '{}',
	total_messages		integer NOT NULL DEFAULT 0,
	summary_threshold	integer NOT NULL GENERATED ALWAYS AS (CASE WHEN total_messages >= 1000 THEN 1000
																   WHEN total_messages >= 500 THEN 500
																   WHEN total_messages >= 100 THEN 100
																   ELSE 0 END) STORED,
	summarized_threshold integer NOT NULL DEFAULT 0,
	total_sessions		integer NOT NULL DEFAULT 0,
	average_session_length double precision NOT NULL DEFAULT 0,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id),
	CONSTRAINT ai_contexts_counts_check CHECK (total_messages >= 0 AND total_sessions >= 0
											   AND average_session_length >= 0)
);
COMMENT ON TABLE alfred.ai_contexts IS 'The assistant''s long-term memory of a user: one row per user (seed 001 AIContext).';
COMMENT ON COLUMN alfred.ai_contexts.summary_threshold IS 'The highest of 100, 500, 1000 that total_messages has reached (seed 001: regenerate the summary at each); due while above summarized_threshold (set_conversation_summary).';

CREATE TABLE alfred.learnings (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	topic				text NOT NULL,
	content				text NOT NULL,
	original_query		text,
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	CONSTRAINT learnings_topic_check CHECK (btrim(topic) <> ''),
	CONSTRAINT learnings_content_check CHECK (btrim(content) <> '')
);
CREATE INDEX learnings_topic_idx ON alfred.learnings (user_id, topic);
CREATE INDEX learnings_fulltext_idx ON alfred.learnings
	USING gin (to_tsvector('english'::regconfig, topic || ' ' || content));
COMMENT ON TABLE alfred.learnings IS 'Knowledge the assistant gathered for the user (seed 003).';

------------------------------------------------------------------------------
-- Settings and learned preferences
------------------------------------------------------------------------------

CREATE TABLE alfred.user_settings (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	preferred_language	text NOT NULL DEFAULT 'en',
	ai_tone				text NOT NULL DEFAULT 'professional',
	email_tone			text NOT NULL DEFAULT 'professional',
	enable_proactive_suggestions boolean NOT NULL DEFAULT false,
	ai_features_enabled	boolean NOT NULL DEFAULT true,
	ai_daily_limit		integer,
	learned_shortcuts	jsonb NOT NULL DEFAULT '{}',
	quiet_hours_start	time,
	quiet_hours_end		time,
	preferred_work_blocks jsonb NOT NULL DEFAULT '[]',
	meeting_preferences	jsonb NOT NULL DEFAULT '{}',
	auto_reject_high_risk boolean NOT NULL DEFAULT true,
	enable_safety_agent	boolean NOT NULL DEFAULT true,
	enable_preference_learning boolean NOT NULL DEFAULT true,
	notification_settings jsonb NOT NULL DEFAULT '{}',
	day_start_hour		integer NOT NULL DEFAULT 0,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id),
	CONSTRAINT user_settings_language_check CHECK (preferred_language ~ '^[a-z]{2}$'),
	CONSTRAINT user_settings_ai_tone_check CHECK (ai_tone IN ('professional', 'casual', 'concise')),
	CONSTRAINT user_settings_email_tone_check CHECK (email_tone IN ('casual', 'friendly', 'professional', 'formal')),
	CONSTRAINT user_settings_ai_daily_limit_check CHECK (ai_daily_limit > 0),
	CONSTRAINT user_settings_quiet_hours_check CHECK ((quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)),
	CONSTRAINT user_settings_work_blocks_check CHECK (jsonb_typeof(preferred_work_blocks) = 'array'),
	CONSTRAINT user_settings_meeting_check CHECK (jsonb_typeof(meeting_preferences) = 'object'),
	CONSTRAINT user_settings_day_start_hour_check CHECK (day_start_hour BETWEEN 0 AND 23)
);
CREATE INDEX user_settings_work_blocks_idx ON alfred.user_settings USING gin (preferred_work_blocks);
COMMENT ON TABLE alfred.user_settings IS
'One row per user: language and tone, quiet hours, work blocks, meeting preferences, safety and learning switches (seed 001 UserPreferences, seed 002 user_preferences).';
COMMENT ON COLUMN alfred.user_settings.ai_daily_limit IS 'Per-user override of the daily AI request limit (seed 001 rate_limit_override); NULL = the default.';
COMMENT ON COLUMN alfred.user_settings.quiet_hours_start IS 'Local time (users.timezone) at which quiet hours start; they may wrap past midnight.';
COMMENT ON COLUMN alfred.user_settings.preferred_work_blocks IS 'Array of {"day": "monday", "start": "09:00", "end": "12:00"}.';
COMMENT ON COLUMN alfred.user_settings.auto_reject_high_risk IS 'Reject high-risk proposals without asking.';
COMMENT ON COLUMN alfred.user_settings.day_start_hour IS 'Hour at which the user''s day starts (default for habits.day_start_hour).';

CREATE TABLE alfred.learned_preferences (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	key					text NOT NULL,
	value				text NOT NULL,
	confidence			real NOT NULL DEFAULT 0.5,
	learned_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	CONSTRAINT learned_preferences_key UNIQUE (user_id, key),
	CONSTRAINT learned_preferences_key_check CHECK (btrim(key) <> ''),
	CONSTRAINT learned_preferences_confidence_check CHECK (confidence BETWEEN 0 AND 1)
);
CREATE INDEX learned_preferences_confident_idx ON alfred.learned_preferences (user_id, confidence DESC);
COMMENT ON TABLE alfred.learned_preferences IS
'What the assistant learned about the user, one value per key with a confidence (seed 003 user_preferences).';

------------------------------------------------------------------------------
-- Inbox
------------------------------------------------------------------------------

CREATE TABLE alfred.items (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	source_type			text NOT NULL,
	source_provider		text NOT NULL,
	source_account_id	uuid,
	source_id			text NOT NULL,
	title				text,
	body_preview		text,
	body_full			text,
	sender				text,
	recipients			jsonb NOT NULL DEFAULT '[]',
	start_datetime		timestamptz,
	end_datetime		timestamptz,
	received_datetime	timestamptz,
	raw_metadata		jsonb NOT NULL DEFAULT '{}',
	source_updated_at	timestamptz,
	is_archived			boolean NOT NULL DEFAULT false,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, source_account_id) REFERENCES alfred.connected_accounts (user_id, id)
		ON DELETE SET NULL (source_account_id),
	CONSTRAINT items_source_key UNIQUE (user_id, source_provider, source_id),
	CONSTRAINT items_source_type_check CHECK (source_type IN ('email', 'event')),
	CONSTRAINT items_source_provider_check CHECK (source_provider IN ('gmail', 'outlook', 'google_calendar')),
	CONSTRAINT items_source_id_check CHECK (source_id <> ''),
	CONSTRAINT items_event_span_check CHECK (end_datetime >= start_datetime),
	CONSTRAINT items_recipients_check CHECK (jsonb_typeof(recipients) = 'array')
);
CREATE INDEX items_timeline_idx ON alfred.items (user_id, source_type, received_datetime DESC);
CREATE INDEX items_unarchived_idx ON alfred.items (user_id, received_datetime DESC) WHERE NOT is_archived;
CREATE INDEX items_events_idx ON alfred.items (user_id, start_datetime) WHERE start_datetime IS NOT NULL;
CREATE INDEX items_raw_metadata_idx ON alfred.items USING gin (raw_metadata jsonb_path_ops);
COMMENT ON TABLE alfred.items IS
'Ingested e-mails and calendar events (seed 002); unique per user, provider and provider id, so ingestion is idempotent.';
COMMENT ON COLUMN alfred.items.source_updated_at IS 'The provider''s version of the item (its last-modified time); alfred.ingest_item updates the row only for a newer version.';

CREATE TABLE alfred.item_agent_metadata (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	item_id				uuid NOT NULL,
	category			text,
	importance			text,
	action_type			text,
	due_datetime		timestamptz,
	confidence_score	double precision,
	labels				jsonb NOT NULL DEFAULT '[]',
	is_scam				boolean NOT NULL DEFAULT false,
	is_noise			boolean NOT NULL DEFAULT false,
	summary				text,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, item_id),
	FOREIGN KEY (user_id, item_id) REFERENCES alfred.items (user_id, id) ON DELETE CASCADE,
	CONSTRAINT item_agent_metadata_category_check CHECK (category IN ('deadline', 'meeting', 'invite', 'admin', 'offer',
																	  'scam', 'newsletter', 'fyi', 'other')),
	CONSTRAINT item_agent_metadata_importance_check CHECK (importance IN ('critical', 'high', 'medium', 'low', 'ignore')),
	CONSTRAINT item_agent_metadata_action_type_check CHECK (action_type IN ('reply', 'attend', 'add_event', 'pay',
																		   'read', 'none')),
	CONSTRAINT item_agent_metadata_confidence_check CHECK (confidence_score BETWEEN 0 AND 1),
	CONSTRAINT item_agent_metadata_labels_check CHECK (jsonb_typeof(labels) = 'array')
);
CREATE INDEX item_agent_metadata_category_idx ON alfred.item_agent_metadata (user_id, category);
CREATE INDEX item_agent_metadata_importance_idx ON alfred.item_agent_metadata (user_id, importance);
CREATE INDEX item_agent_metadata_due_idx ON alfred.item_agent_metadata (user_id, due_datetime)
	WHERE due_datetime IS NOT NULL;
CREATE INDEX item_agent_metadata_scam_idx ON alfred.item_agent_metadata (user_id) WHERE is_scam;
CREATE INDEX item_agent_metadata_labels_idx ON alfred.item_agent_metadata USING gin (labels);
COMMENT ON TABLE alfred.item_agent_metadata IS 'What the agents made of an item: category, importance, deadline, scam flag (seed 002). One row per item.';

------------------------------------------------------------------------------
-- Proposals: actions an agent wants to take, awaiting a human
------------------------------------------------------------------------------

CREATE TABLE alfred.proposals (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	agent_name			text NOT NULL,
	action_type			text NOT NULL,
	payload				jsonb NOT NULL,
	edited_payload		jsonb,
	status				text NOT NULL DEFAULT 'pending',
	risk_level			text NOT NULL DEFAULT 'low',
	confidence			double precision,
	explanation			text,
	warning_text		text,
	requested_by		text,
	related_item_id		uuid,
	task_id				uuid,
	session_id			uuid,
	message_id			uuid,
	expires_at			timestamptz,
	approved_at			timestamptz,
	approved_by			uuid REFERENCES alfred.users (id) ON DELETE SET NULL,
	rejected_at			timestamptz,
	rejected_by			uuid REFERENCES alfred.users (id) ON DELETE SET NULL,
	rejection_reason	text,
	started_at			timestamptz,
	executed_at			timestamptz,
	failed_at			timestamptz,
	expired_at			timestamptz,
	result				jsonb,
	error_message		text,
	attempts			integer NOT NULL DEFAULT 0,
	notes				text,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, related_item_id) REFERENCES alfred.items (user_id, id) ON DELETE SET NULL (related_item_id),
	FOREIGN KEY (user_id, task_id) REFERENCES alfred.tasks (user_id, id) ON DELETE SET NULL (task_id),
	FOREIGN KEY (user_id, session_id) REFERENCES alfred.chat_sessions (user_id, id) ON DELETE SET NULL (session_id),
	FOREIGN KEY (user_id, message_id) REFERENCES alfred.chat_messages (user_id, id) ON DELETE SET NULL (message_id),
	CONSTRAINT proposals_agent_name_check CHECK (btrim(agent_name) <> ''),
	CONSTRAINT proposals_action_type_check CHECK (action_type ~ '^[a-z][a-z0-9_]*$'),
	CONSTRAINT proposals_payload_check CHECK (jsonb_typeof(payload) = 'object'),
	CONSTRAINT proposals_edited_payload_check CHECK (jsonb_typeof(edited_payload) = 'object'),
	CONSTRAINT proposals_status_check CHECK (status IN ('pending', 'approved', 'rejected', 'executing',
														'executed', 'failed', 'expired')),
	CONSTRAINT proposals_risk_level_check CHECK (risk_level IN ('low', 'medium', 'high')),
	CONSTRAINT proposals_confidence_check CHECK (confidence BETWEEN 0 AND 1),
	CONSTRAINT proposals_attempts_check CHECK (attempts >= 0)
);
CREATE INDEX proposals_status_idx ON alfred.proposals (user_id, status, created_at DESC);
CREATE INDEX proposals_created_idx ON alfred.proposals (user_id, created_at DESC);
CREATE INDEX proposals_item_idx ON alfred.proposals (user_id, related_item_id) WHERE related_item_id IS NOT NULL;
CREATE INDEX proposals_task_idx ON alfred.proposals (user_id, task_id) WHERE task_id IS NOT NULL;
CREATE INDEX proposals_session_idx ON alfred.proposals (user_id, session_id) WHERE session_id IS NOT NULL;
CREATE INDEX proposals_expiry_idx ON alfred.proposals (expires_at) WHERE status = 'pending';
CREATE INDEX proposals_payload_idx ON alfred.proposals USING gin (payload jsonb_path_ops);
COMMENT ON TABLE alfred.proposals IS
'Every action an agent wants to take for the user, awaiting approval (seed 001 TaskAction, seed 002 action_proposals, seed 004 approvals). One state machine: pending, approved, rejected, executing, executed, failed, expired.';
COMMENT ON COLUMN alfred.proposals.payload IS 'What the agent proposes, by action_type.';
COMMENT ON COLUMN alfred.proposals.edited_payload IS 'The payload as the user edited it when approving; executed instead of payload.';
COMMENT ON COLUMN alfred.proposals.requested_by IS 'Who asked for the action when it was not the agent (seed 004: a user id or a system identifier).';
COMMENT ON COLUMN alfred.proposals.result IS 'What the last execution returned (finish_execution''s result, or the built-in task executor''s).';
COMMENT ON COLUMN alfred.proposals.attempts IS 'Execution attempts so far (a failed proposal may be retried).';

CREATE TABLE alfred.execution_logs (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	proposal_id			uuid NOT NULL,
	executor_status		text NOT NULL,
	executor_error		text,
	external_ids		jsonb NOT NULL DEFAULT '{}',
	request_payload		jsonb,
	response_payload	jsonb,
	execution_duration_ms integer,
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, proposal_id) REFERENCES alfred.proposals (user_id, id) ON DELETE CASCADE,
	CONSTRAINT execution_logs_status_check CHECK (executor_status IN ('success', 'failure', 'partial')),
	CONSTRAINT execution_logs_duration_check CHECK (execution_duration_ms >= 0)
);
CREATE INDEX execution_logs_proposal_idx ON alfred.execution_logs (user_id, proposal_id);
CREATE INDEX execution_logs_created_idx ON alfred.execution_logs (user_id, created_at DESC);
CREATE INDEX execution_logs_failures_idx ON alfred.execution_logs (created_at DESC) WHERE executor_status <> 'success';
COMMENT ON TABLE alfred.execution_logs IS 'One row per execution attempt of a proposal (seed 002).';

CREATE TABLE alfred.preference_signals (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	item_id				uuid,
	proposal_id			uuid,
	signal_type			text NOT NULL,
	context				jsonb NOT NULL DEFAULT '{}',
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, item_id) REFERENCES alfred.items (user_id, id) ON DELETE SET NULL (item_id),
	FOREIGN KEY (user_id, proposal_id) REFERENCES alfred.proposals (user_id, id) ON DELETE SET NULL (proposal_id),
	CONSTRAINT preference_signals_type_check CHECK (signal_type IN ('approved', 'rejected', 'ignored',
																	'edited_heavily', 'edited_lightly'))
);
CREATE INDEX preference_signals_type_idx ON alfred.preference_signals (user_id, signal_type, created_at DESC);
CREATE INDEX preference_signals_proposal_idx ON alfred.preference_signals (user_id, proposal_id)
	WHERE proposal_id IS NOT NULL;
COMMENT ON TABLE alfred.preference_signals IS 'Each human decision on a proposal, for preference learning (seed 002).';

------------------------------------------------------------------------------
-- Agent telemetry
------------------------------------------------------------------------------

CREATE TABLE alfred.agent_run_logs (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	agent_name			text NOT NULL,
	context				text NOT NULL,
	input_summary		jsonb,
	output_summary		jsonb,
	status				text NOT NULL,
	error_message		text,
	duration_ms			integer,
	created_at			timestamptz NOT NULL DEFAULT now(),
	completed_at		timestamptz,
	PRIMARY KEY (user_id, id),
	CONSTRAINT agent_run_logs_status_check CHECK (status IN ('success', 'partial', 'error')),
	CONSTRAINT agent_run_logs_duration_check CHECK (duration_ms >= 0),
	CONSTRAINT agent_run_logs_completed_check CHECK (completed_at >= created_at)
);
CREATE INDEX agent_run_logs_agent_idx ON alfred.agent_run_logs (user_id, agent_name, created_at DESC);
CREATE INDEX agent_run_logs_errors_idx ON alfred.agent_run_logs (created_at DESC) WHERE status <> 'success';
CREATE INDEX agent_run_logs_created_idx ON alfred.agent_run_logs (created_at);
COMMENT ON TABLE alfred.agent_run_logs IS 'One row per run of an agent or the orchestrator (seed 002).';

CREATE TABLE alfred.system_logs (
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	logged_at			timestamptz NOT NULL DEFAULT now(),
	level				text NOT NULL,
	module				text,
	message				text,
	user_id				uuid REFERENCES alfred.users (id) ON DELETE CASCADE,
	task_id				uuid,
	request_id			text,
	ip_address			inet,
	user_agent			text,
	metadata			jsonb,
	FOREIGN KEY (user_id, task_id) REFERENCES alfred.tasks (user_id, id) ON DELETE SET NULL (task_id),
	CONSTRAINT system_logs_level_check CHECK (level IN ('debug', 'info', 'warning', 'error', 'critical'))
) PARTITION BY RANGE (logged_at);

-- The indexes live on each partition, not on the partitioned table: a
-- partition that create_log_partitions() adds after installation is not a
-- member of the extension, and pg_dump can restore it only if attaching it
-- to system_logs creates no index of its own (the parent's indexes would
-- be, since CREATE EXTENSION recreates them before the restore attaches it).
CREATE FUNCTION alfred.index_log_partition(part regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	base text := (SELECT c.relname FROM pg_class c WHERE c.oid = part);
BEGIN
	EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (id, logged_at)', part, base || '_pkey');
	EXECUTE format('CREATE INDEX %I ON %s (logged_at DESC)', base || '_logged_idx', part);
	EXECUTE format('CREATE INDEX %I ON %s (level, logged_at DESC)', base || '_level_idx', part);
	EXECUTE format('CREATE INDEX %I ON %s (module, level)', base || '_module_idx', part);
	EXECUTE format('CREATE INDEX %I ON %s (user_id, logged_at DESC)', base || '_user_idx', part);
	EXECUTE format('CREATE INDEX %I ON %s USING gin (to_tsvector(''english''::regconfig, coalesce(message, '''')))',
				   base || '_fulltext_idx', part);
END
$$;
COMMENT ON FUNCTION alfred.index_log_partition(regclass) IS
'Internal (create_log_partitions): the primary key (id, logged_at) and the indexes of one system_logs partition.';

CREATE TABLE alfred.system_logs_default PARTITION OF alfred.system_logs DEFAULT;
SELECT alfred.index_log_partition('alfred.system_logs_default');
COMMENT ON TABLE alfred.system_logs IS
'Application log (seed 004), partitioned by month of logged_at; alfred.create_log_partitions() creates months ahead. user_id is NULL for system events.';
COMMENT ON COLUMN alfred.system_logs.logged_at IS 'When the event happened (seed 004 "timestamp").';
COMMENT ON TABLE alfred.system_logs_default IS 'Rows whose month has no partition yet; create_log_partitions() moves them out.';

CREATE FUNCTION alfred.create_log_partitions(months_ahead integer DEFAULT 3)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	first_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
	lo			date;
	hi			date;
	part		text;
	created		integer := 0;
BEGIN
	IF months_ahead IS NULL OR months_ahead NOT BETWEEN 0 AND 120 THEN
		RAISE EXCEPTION 'months_ahead must be between 0 and 120, not %', coalesce(months_ahead::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR m IN 0 .. months_ahead LOOP
		lo := first_month + make_interval(months => m);
		hi := lo + interval '1 month';
		part := format('system_logs_%s', to_char(lo, 'YYYY_MM'));
		CONTINUE WHEN to_regclass(format('alfred.%I', part)) IS NOT NULL;
		-- Rows of this month that went to the default partition move to the
		-- new one (a partition cannot be created over rows of the default).
		CREATE TEMP TABLE alfred_moving_logs (LIKE alfred.system_logs) ON COMMIT DROP;
		WITH moved AS (DELETE FROM alfred.system_logs_default d
						WHERE d.logged_at >= (lo::timestamp AT TIME ZONE 'UTC')
						  AND d.logged_at < (hi::timestamp AT TIME ZONE 'UTC')
					RETURNING *)
		INSERT INTO pg_temp.alfred_moving_logs SELECT * FROM moved;
		EXECUTE format('CREATE TABLE alfred.%I PARTITION OF alfred.system_logs FOR VALUES FROM (%L) TO (%L)',
					   part, (lo::timestamp AT TIME ZONE 'UTC'), (hi::timestamp AT TIME ZONE 'UTC'));
		PERFORM alfred.index_log_partition(format('alfred.%I', part)::regclass);
		INSERT INTO alfred.system_logs SELECT * FROM pg_temp.alfred_moving_logs;
		DROP TABLE pg_temp.alfred_moving_logs;
		EXECUTE format('COMMENT ON TABLE alfred.%I IS %L', part,
					   format('system_logs for %s (UTC)', to_char(lo, 'YYYY-MM')));
		created := created + 1;
	END LOOP;
	RETURN created;
END
$$;
COMMENT ON FUNCTION alfred.create_log_partitions(integer) IS
'Creates the monthly partitions of system_logs from the current month (UTC) to months_ahead months ahead; returns how many it created. Idempotent; run it monthly (the maintenance job does).';
SELECT alfred.create_log_partitions(3);

CREATE TABLE alfred.audit_trail (
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	user_id				uuid REFERENCES alfred.users (id) ON DELETE SET NULL,
	action				text NOT NULL,
	entity_type			text,
	entity_id			uuid,
	old_values			jsonb,
	new_values			jsonb,
	ip_address			inet,
	user_agent			text,
	db_role				text NOT NULL DEFAULT current_user,
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (id),
	CONSTRAINT audit_trail_action_check CHECK (btrim(action) <> '')
);
CREATE INDEX audit_trail_user_idx ON alfred.audit_trail (user_id, created_at DESC);
CREATE INDEX audit_trail_entity_idx ON alfred.audit_trail (entity_type, entity_id);
CREATE INDEX audit_trail_created_idx ON alfred.audit_trail (created_at);
COMMENT ON TABLE alfred.audit_trail IS
'Who changed what (seed 004). Written by triggers, read-only for application roles; user_id is the acting alfred user (NULL: none, or deleted since).';
COMMENT ON COLUMN alfred.audit_trail.db_role IS 'The database role that made the change.';

------------------------------------------------------------------------------
-- Integrations
------------------------------------------------------------------------------

CREATE TABLE alfred.mcp_servers (
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	name				text NOT NULL,
	server_type			text NOT NULL,
	command				text NOT NULL,
	args				text[] NOT NULL DEFAULT '{}',
	environment			jsonb NOT NULL DEFAULT '{}',
	status				text NOT NULL DEFAULT 'inactive',
	last_heartbeat		timestamptz,
	capabilities		text[] NOT NULL DEFAULT '{}',
	is_active			boolean NOT NULL DEFAULT true,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (id),
	CONSTRAINT mcp_servers_name_key UNIQUE (name),
	CONSTRAINT mcp_servers_name_check CHECK (btrim(name) <> ''),
	CONSTRAINT mcp_servers_status_check CHECK (status IN ('active', 'inactive', 'error'))
);
COMMENT ON TABLE alfred.mcp_servers IS
'Model Context Protocol servers the agents can use (seed 004). Global: configured by the DBA or a service role, not by users.';

CREATE TABLE alfred.watchers (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	name				text NOT NULL,
	watcher_type		text NOT NULL,
	config				jsonb NOT NULL DEFAULT '{}',
	is_active			boolean NOT NULL DEFAULT true,
	last_run_at			timestamptz,
	last_error			text,
	error_count			integer NOT NULL DEFAULT 0,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	CONSTRAINT watchers_name_check CHECK (btrim(name) <> ''),
	CONSTRAINT watchers_error_count_check CHECK (error_count >= 0)
);
CREATE INDEX watchers_active_idx ON alfred.watchers (user_id) WHERE is_active;
COMMENT ON TABLE alfred.watchers IS 'Sources a user''s agents watch (inbox, folder, feed) and their health (seed 004; created_by is user_id).';

CREATE TABLE alfred.file_attachments (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	task_id				uuid,
	filename			text NOT NULL,
	original_filename	text NOT NULL,
	mime_type			text,
	file_size			bigint,
	storage_path		text NOT NULL,
	is_encrypted		boolean NOT NULL DEFAULT false,
	hash_checksum		text,
	expires_at			timestamptz,
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, task_id) REFERENCES alfred.tasks (user_id, id) ON DELETE SET NULL (task_id),
	CONSTRAINT file_attachments_filename_check CHECK (btrim(filename) <> '' AND btrim(original_filename) <> ''),
	CONSTRAINT file_attachments_size_check CHECK (file_size >= 0),
	CONSTRAINT file_attachments_checksum_check CHECK (hash_checksum ~ '^[0-9a-f]{64}$')
);
CREATE INDEX file_attachments_task_idx ON alfred.file_attachments (user_id, task_id) WHERE task_id IS NOT NULL;
CREATE INDEX file_attachments_expiry_idx ON alfred.file_attachments (expires_at) WHERE expires_at IS NOT NULL;
COMMENT ON TABLE alfred.file_attachments IS 'Files a user uploaded, stored outside the database (seed 004; uploaded_by is user_id).';
COMMENT ON COLUMN alfred.file_attachments.hash_checksum IS 'Lower-case hex SHA-256 of the content.';

------------------------------------------------------------------------------
-- Notifications
------------------------------------------------------------------------------

CREATE TABLE alfred.notifications (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	type				text NOT NULL,
	title				text NOT NULL,
	message				text,
	priority			text NOT NULL DEFAULT 'normal',
	channel				text NOT NULL DEFAULT 'web',
	status				text NOT NULL DEFAULT 'pending',
	data				jsonb NOT NULL DEFAULT '{}',
	scheduled_for		timestamptz,
	sent_at				timestamptz,
	read_at				timestamptz,
	dismissed_at		timestamptz,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	CONSTRAINT notifications_type_check CHECK (type IN ('alert', 'approval', 'status', 'error', 'info',
														'morning_briefing', 'evening_review', 'habit_reminder',
														'task_due', 'nudge', 'scheduled_task')),
	CONSTRAINT notifications_title_check CHECK (btrim(title) <> ''),
	CONSTRAINT notifications_priority_check CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
	CONSTRAINT notifications_channel_check CHECK (channel IN ('web', 'email', 'push', 'sms')),
	CONSTRAINT notifications_status_check CHECK (status IN ('pending', 'sent', 'read', 'dismissed', 'archived'))
);
CREATE INDEX notifications_status_idx ON alfred.notifications (user_id, status, created_at DESC);
CREATE INDEX notifications_due_idx ON alfred.notifications (scheduled_for) WHERE status = 'pending';
CREATE INDEX notifications_user_due_idx ON alfred.notifications (user_id, scheduled_for) WHERE status = 'pending';
COMMENT ON TABLE alfred.notifications IS
'Messages to the user (seeds 000, 004 notifications, seed 003 scheduled_notifications). pending until sent at or after scheduled_for.';
COMMENT ON COLUMN alfred.notifications.scheduled_for IS 'Not before this time (seed 003 trigger_time); NULL = as soon as possible.';
COMMENT ON COLUMN alfred.notifications.data IS 'Context: ids of tasks, habits, runs (seed 004 data, seed 003 context).';

------------------------------------------------------------------------------
-- Proactive engine
------------------------------------------------------------------------------

CREATE TABLE alfred.tools (
	name				text NOT NULL,
	kind				text NOT NULL,
	fn					regprocedure,
	description			text,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (name),
	CONSTRAINT tools_name_check CHECK (name ~ '^[a-z][a-z0-9_.-]*$'),
	CONSTRAINT tools_kind_check CHECK (kind IN ('sql', 'external')),
	CONSTRAINT tools_fn_check CHECK ((kind = 'sql') = (fn IS NOT NULL))
);
COMMENT ON TABLE alfred.tools IS
'The tools a scheduled task may run (global). kind sql: fn(user_id uuid, args jsonb) returns jsonb, run inside the database; kind external: run by an outside agent.';

CREATE TABLE alfred.observed_patterns (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	pattern_type		text NOT NULL,
	description			text NOT NULL,
	evidence			jsonb NOT NULL DEFAULT '[]',
	occurrence_count	integer NOT NULL DEFAULT 1,
	first_seen_at		timestamptz NOT NULL DEFAULT now(),
	last_seen_at		timestamptz NOT NULL DEFAULT now(),
	acted_on			boolean NOT NULL DEFAULT false,
	suggested_action	text,
	confidence			double precision NOT NULL DEFAULT 0.5,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	CONSTRAINT observed_patterns_type_check CHECK (btrim(pattern_type) <> ''),
	CONSTRAINT observed_patterns_description_check CHECK (btrim(description) <> ''),
	CONSTRAINT observed_patterns_evidence_check CHECK (jsonb_typeof(evidence) = 'array'),
	CONSTRAINT observed_patterns_count_check CHECK (occurrence_count >= 1),
	CONSTRAINT observed_patterns_seen_check CHECK (last_seen_at >= first_seen_at),
	CONSTRAINT observed_patterns_confidence_check CHECK (confidence BETWEEN 0 AND 1)
);
CREATE INDEX observed_patterns_type_idx ON alfred.observed_patterns (user_id, pattern_type);
CREATE INDEX observed_patterns_actionable_idx ON alfred.observed_patterns (user_id)
	WHERE NOT acted_on AND occurrence_count >= 3;
COMMENT ON TABLE alfred.observed_patterns IS 'Behaviour the assistant noticed across conversations (seed 000).';

CREATE TABLE alfred.scheduled_tasks (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	name				text NOT NULL,
	description			text,
	task_type			text NOT NULL,
	schedule_cron		text,
	scheduled_at		timestamptz,
	timezone			text NOT NULL DEFAULT 'UTC',
	tool_name			text NOT NULL REFERENCES alfred.tools (name) ON UPDATE CASCADE,
	tool_args			jsonb NOT NULL DEFAULT '{}',
	prompt_template		text NOT NULL DEFAULT '',
	status				text NOT NULL DEFAULT 'active',
	source				text NOT NULL DEFAULT 'user',
	pattern_id			uuid,
	next_run_at			timestamptz,
	last_run_at			timestamptz,
	run_count			integer NOT NULL DEFAULT 0,
	fail_count			integer NOT NULL DEFAULT 0,
	max_retries			integer NOT NULL DEFAULT 3,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, pattern_id) REFERENCES alfred.observed_patterns (user_id, id) ON DELETE SET NULL (pattern_id),
	CONSTRAINT scheduled_tasks_name_check CHECK (btrim(name) <> '' AND char_length(name) <= 200),
	CONSTRAINT scheduled_tasks_task_type_check CHECK (task_type IN ('one_time', 'recurring')),
	CONSTRAINT scheduled_tasks_schedule_check CHECK (CASE task_type
													 WHEN 'recurring' THEN schedule_cron IS NOT NULL
													 ELSE scheduled_at IS NOT NULL END),
	CONSTRAINT scheduled_tasks_timezone_check CHECK (alfred.is_valid_timezone(timezone)),
	CONSTRAINT scheduled_tasks_tool_args_check CHECK (jsonb_typeof(tool_args) = 'object'),
	CONSTRAINT scheduled_tasks_status_check CHECK (status IN ('active', 'paused', 'cancelled', 'completed')),
	CONSTRAINT scheduled_tasks_source_check CHECK (source IN ('user', 'agent')),
	CONSTRAINT scheduled_tasks_next_run_check CHECK (status = 'active' OR next_run_at IS NULL),
	CONSTRAINT scheduled_tasks_counts_check CHECK (run_count >= 0 AND fail_count >= 0),
	CONSTRAINT scheduled_tasks_max_retries_check CHECK (max_retries BETWEEN 0 AND 100)
);
CREATE INDEX scheduled_tasks_status_idx ON alfred.scheduled_tasks (user_id, status);
CREATE INDEX scheduled_tasks_due_idx ON alfred.scheduled_tasks (next_run_at)
	WHERE status = 'active' AND next_run_at IS NOT NULL;
CREATE INDEX scheduled_tasks_tool_idx ON alfred.scheduled_tasks (tool_name);
COMMENT ON TABLE alfred.scheduled_tasks IS
'Tasks the scheduler runs for a user, once (scheduled_at) or on a cron schedule in timezone (seed 000). The partial index on next_run_at finds due work.';
COMMENT ON COLUMN alfred.scheduled_tasks.schedule_cron IS 'Cron expression of a recurring task, evaluated in timezone.';
COMMENT ON COLUMN alfred.scheduled_tasks.prompt_template IS 'Prompt rendered with the task''s context for an external tool.';
COMMENT ON COLUMN alfred.scheduled_tasks.pattern_id IS 'The observed pattern this agent-sourced task was created from.';
COMMENT ON COLUMN alfred.scheduled_tasks.next_run_at IS 'Next time the task is due; NULL unless status is active.';
COMMENT ON COLUMN alfred.scheduled_tasks.run_count IS 'Successful runs.';
COMMENT ON COLUMN alfred.scheduled_tasks.fail_count IS 'Runs that failed after their retries.';

CREATE TABLE alfred.task_runs (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	task_id				uuid NOT NULL,
	status				text NOT NULL DEFAULT 'queued',
	attempt				integer NOT NULL DEFAULT 1,
	due_at				timestamptz,
	started_at			timestamptz,
	finished_at			timestamptz,
	duration_ms			integer,
	missed_slots		integer NOT NULL DEFAULT 0,
	prompt				text,
	result				text,
	error				text,
	notification_id		uuid,
	claimed_by			text,
	lease_until			timestamptz,
	next_attempt_at		timestamptz,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, task_id) REFERENCES alfred.scheduled_tasks (user_id, id) ON DELETE CASCADE,
	FOREIGN KEY (user_id, notification_id) REFERENCES alfred.notifications (user_id, id)
		ON DELETE SET NULL (notification_id),
	CONSTRAINT task_runs_status_check CHECK (status IN ('queued', 'running', 'retrying', 'succeeded',
														'failed', 'cancelled')),
	CONSTRAINT task_runs_attempt_check CHECK (attempt >= 1),
	CONSTRAINT task_runs_duration_check CHECK (duration_ms >= 0),
	CONSTRAINT task_runs_missed_slots_check CHECK (missed_slots >= 0),
	CONSTRAINT task_runs_finished_check CHECK (finished_at >= started_at)
);
CREATE INDEX task_runs_task_idx ON alfred.task_runs (user_id, task_id, created_at DESC);
CREATE INDEX task_runs_claimable_idx ON alfred.task_runs (next_attempt_at) WHERE status IN ('queued', 'retrying');
CREATE INDEX task_runs_leases_idx ON alfred.task_runs (lease_until) WHERE status = 'running';
COMMENT ON TABLE alfred.task_runs IS
'Each execution of a scheduled task (seed 000). status: queued, running, retrying, succeeded, failed, cancelled.';
COMMENT ON COLUMN alfred.task_runs.attempt IS 'Attempt number, from 1 (seed 000 retry_count = attempt - 1).';
COMMENT ON COLUMN alfred.task_runs.due_at IS 'The schedule slot this run is for.';
COMMENT ON COLUMN alfred.task_runs.missed_slots IS 'Slots skipped because the server was down (a recurring task runs once after downtime).';
COMMENT ON COLUMN alfred.task_runs.prompt IS 'prompt_template rendered for this run.';
COMMENT ON COLUMN alfred.task_runs.claimed_by IS 'The external agent that claimed the run (claim_runs).';
COMMENT ON COLUMN alfred.task_runs.lease_until IS 'An external run goes back to the queue when its lease expires.';

CREATE TABLE alfred.engagement_events (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	suggestion_type		text NOT NULL,
	action				text NOT NULL,
	source				text NOT NULL,
	context				jsonb NOT NULL DEFAULT '{}',
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	CONSTRAINT engagement_events_type_check CHECK (btrim(suggestion_type) <> ''),
	CONSTRAINT engagement_events_action_check CHECK (action IN ('engaged', 'dismissed')),
	CONSTRAINT engagement_events_source_check CHECK (source IN ('conversation', 'notification', 'schedule'))
);
CREATE INDEX engagement_events_type_idx ON alfred.engagement_events (user_id, suggestion_type, created_at DESC);
CREATE INDEX engagement_events_action_idx ON alfred.engagement_events (user_id, action, created_at DESC);
COMMENT ON TABLE alfred.engagement_events IS 'How the user responded to a proactive suggestion (seed 000).';

CREATE TABLE alfred.proactiveness_settings (
	user_id				uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	global_level		double precision NOT NULL DEFAULT 0.7,
	user_override		text,
	suppressed_types	text[] NOT NULL DEFAULT '{}',
	boosted_types		text[] NOT NULL DEFAULT '{}',
	is_onboarded		boolean NOT NULL DEFAULT false,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id),
	CONSTRAINT proactiveness_settings_level_check CHECK (global_level BETWEEN 0 AND 1),
	CONSTRAINT proactiveness_settings_override_check CHECK (user_override IN ('more', 'less'))
);
COMMENT ON TABLE alfred.proactiveness_settings IS 'Per-user calibration of how proactive the assistant is (seed 000). One row per user.';
COMMENT ON COLUMN alfred.proactiveness_settings.user_override IS 'The user''s explicit instruction: more, less or NULL.';

------------------------------------------------------------------------------
-- updated_at triggers and the immutable tenant key
------------------------------------------------------------------------------

DO $$
DECLARE
	rel regclass;
BEGIN
	FOR rel IN
		SELECT c.oid::regclass
		  FROM pg_catalog.pg_class c
		  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'updated_at' AND NOT a.attisdropped
		 WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		 ORDER BY c.relname
	LOOP
		EXECUTE format('CREATE TRIGGER touch_updated_at BEFORE UPDATE ON %s
						FOR EACH ROW EXECUTE FUNCTION alfred.touch_updated_at()', rel);
	END LOOP;
	FOR rel IN
		SELECT c.oid::regclass
		  FROM pg_catalog.pg_class c
		  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
		 WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		   AND c.relname <> 'audit_trail'	-- keeps its rows, user_id SET NULL, when a user is deleted
		 ORDER BY c.relname
	LOOP
		EXECUTE format('CREATE TRIGGER tenant_key_immutable BEFORE UPDATE OF user_id ON %s
						FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id)
						EXECUTE FUNCTION alfred.forbid_tenant_change()', rel);
	END LOOP;
END
$$;

------------------------------------------------------------------------------
-- Seed 004's views (security_invoker: they show what the caller may see)
------------------------------------------------------------------------------

CREATE VIEW alfred.task_summary WITH (security_invoker = true) AS
SELECT t.user_id,
	   t.id,
	   t.title,
	   t.status,
	   t.priority,
	   t.project_id,
	   t.assigned_to,
	   a.username AS assigned_to_name,
	   t.created_at,
	   t.updated_at,
	   t.due_date,
	   (SELECT count(*) FROM alfred.proposals p
		 WHERE p.user_id = t.user_id AND p.task_id = t.id) AS approval_requests,
	   CASE
		   WHEN t.status IN ('completed', 'cancelled') THEN 'done'
		   WHEN t.due_date IS NULL THEN 'on_track'
		   WHEN (t.due_date AT TIME ZONE coalesce(o.timezone, 'UTC'))::date
				< (now() AT TIME ZONE coalesce(o.timezone, 'UTC'))::date THEN 'overdue'
		   WHEN (t.due_date AT TIME ZONE coalesce(o.timezone, 'UTC'))::date
				<= (now() AT TIME ZONE coalesce(o.timezone, 'UTC'))::date + 1 THEN 'due_soon'
		   ELSE 'on_track'
	   END AS urgency_status
  FROM alfred.tasks t
  LEFT JOIN alfred.users o ON o.id = t.user_id
  LEFT JOIN alfred.users a ON a.id = t.assigned_to;
COMMENT ON VIEW alfred.task_summary IS
'Tasks with assignee, number of proposals and urgency (seed 004): overdue when due before the owner''s today, due_soon when due today or tomorrow, done when completed or cancelled.';

CREATE VIEW alfred.daily_activity WITH (security_invoker = true) AS
SELECT l.logged_at::date AS activity_date,
	   l.level,
	   count(*) AS event_count,
	   string_agg(DISTINCT l.module, ', ') AS modules_affected
  FROM alfred.system_logs l
 WHERE l.logged_at >= current_date - 30
 GROUP BY l.logged_at::date, l.level
 ORDER BY activity_date DESC, l.level;
COMMENT ON VIEW alfred.daily_activity IS
'Log events per day (in the session''s TimeZone) and level over the last 30 days (seed 004).';
-- 110 identity: who the alfred user of a connection is, accounts and
-- sessions, row-level security on every user-owned table, and the grants an
-- application role needs.
--
-- alfred.current_user_id() is backend-local state set only by
-- set_session(token) or act_as(user_id) (src/identity.c): no SET can forge
-- it.  Policies compare user_id with it; the caller's alfred role (admin,
-- user, observer) is looked up once per statement.

------------------------------------------------------------------------------
-- Identity (C)
------------------------------------------------------------------------------

CREATE FUNCTION alfred.current_user_id()
RETURNS uuid
AS 'MODULE_PATHNAME', 'alfred_current_user_id_sql'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION alfred.current_user_id() IS
'The alfred user of this connection (set by set_session or act_as), or NULL. Row-level security is keyed to it.';

CREATE FUNCTION alfred.set_session(token text, local boolean DEFAULT false)
RETURNS uuid
AS 'MODULE_PATHNAME', 'alfred_set_session'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION alfred.set_session(text, boolean) IS
'Becomes the user of a session token from login(); returns the user id. local => true lasts until the end of the transaction (for transaction pooling). An unknown, revoked or expired token raises 28000.';

CREATE FUNCTION alfred.act_as(user_id uuid, local boolean DEFAULT false)
RETURNS uuid
AS 'MODULE_PATHNAME', 'alfred_act_as'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION alfred.act_as(uuid, boolean) IS
'Becomes an active user without a token: only superusers and members of role alfred_service (42501 otherwise). local => true lasts until the end of the transaction.';

CREATE FUNCTION alfred.reset_identity(local boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'alfred_reset_identity'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION alfred.reset_identity(boolean) IS
'Forgets the alfred user of this connection (for the transaction only with local => true). DISCARD ALL does the same.';

CREATE FUNCTION alfred.caller_is_service()
RETURNS boolean
AS 'MODULE_PATHNAME', 'alfred_caller_is_service'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION alfred.caller_is_service() IS
'Whether the calling database role (as set by login or SET ROLE) is a superuser or a member of role alfred_service.';

CREATE FUNCTION alfred.current_user_role()
RETURNS text
AS 'MODULE_PATHNAME', 'alfred_current_user_role'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION alfred.current_user_role() IS
'The role (admin, user, observer) of the current alfred user, or NULL when there is none or the user is not active. Read at most once per command.';

------------------------------------------------------------------------------
-- Accounts and sessions
------------------------------------------------------------------------------

CREATE FUNCTION alfred.check_password_strength(password text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF password IS NULL OR char_length(password) < 8 THEN
		RAISE EXCEPTION 'password is too short'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A password needs at least 8 characters.';
	END IF;
END
$$;
COMMENT ON FUNCTION alfred.check_password_strength(text) IS
'Internal: raises 22023 unless the password is acceptable (at least 8 characters).';

CREATE FUNCTION alfred.hash_password(password text)
RETURNS text
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT crypt(password, gen_salt('bf'::text,
		coalesce(current_setting('alfred.password_cost', true), '10')::integer))
$$;
COMMENT ON FUNCTION alfred.hash_password(text) IS
'Internal: bcrypt hash of a password at cost alfred.password_cost.';

CREATE FUNCTION alfred.create_user(
	email text,
	password text,
	username text DEFAULT NULL,
	display_name text DEFAULT NULL,
	timezone text DEFAULT 'UTC',
	role text DEFAULT 'user',
	first_name text DEFAULT NULL,
	last_name text DEFAULT NULL,
	location_city text DEFAULT NULL,
	location_country text DEFAULT NULL,
	profile jsonb DEFAULT '{}')
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	new_id		uuid;
	violated	text;
BEGIN
	IF create_user.email IS NULL OR create_user.email !~ '^[^@[:space:]]+@[^@[:space:]]+$' THEN
		RAISE EXCEPTION 'invalid email address "%"', coalesce(create_user.email, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'An email address has one @ and no spaces.';
	END IF;
	PERFORM alfred.check_password_strength(create_user.password);
	IF create_user.timezone IS NULL OR NOT alfred.is_valid_timezone(create_user.timezone) THEN
		RAISE EXCEPTION 'invalid time zone "%"', coalesce(create_user.timezone, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Use an IANA time zone name such as "Europe/Paris" or "UTC".';
	END IF;
	IF create_user.role IS NULL OR create_user.role NOT IN ('admin', 'user', 'observer') THEN
		RAISE EXCEPTION 'invalid role "%"', coalesce(create_user.role, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A role is admin, user or observer.';
	END IF;
	IF create_user.role <> 'user' AND NOT alfred.caller_is_service()
	   AND alfred.current_user_role() IS DISTINCT FROM 'admin' THEN
		RAISE EXCEPTION 'permission denied to create a user with role "%"', create_user.role
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Only admins, superusers and members of role "alfred_service" may create admin or observer users.';
	END IF;

	BEGIN
		INSERT INTO alfred.users AS u (email, password_hash, username, display_name, first_name, last_name,
											 role, timezone, location_city, location_country, profile)
		VALUES (create_user.email, alfred.hash_password(create_user.password), create_user.username,
				create_user.display_name, create_user.first_name, create_user.last_name, create_user.role,
				create_user.timezone, create_user.location_city, create_user.location_country,
				coalesce(create_user.profile, '{}'))
		RETURNING u.id INTO new_id;
	EXCEPTION WHEN unique_violation THEN
		GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
		IF violated = 'users_username_key' THEN
			RAISE EXCEPTION 'a user with username "%" already exists', create_user.username
				USING ERRCODE = 'unique_violation';
		END IF;
		RAISE EXCEPTION 'a user with email "%" already exists', create_user.email
			USING ERRCODE = 'unique_violation',
				  DETAIL = 'Email addresses are unique regardless of case.';
	END;
	INSERT INTO alfred.user_settings (user_id) VALUES (new_id);
	INSERT INTO alfred.proactiveness_settings (user_id) VALUES (new_id);
	RETURN new_id;
END
$$;
COMMENT ON FUNCTION alfred.create_user(text, text, text, text, text, text, text, text, text, text, jsonb) IS
'Creates a user (bcrypt password hash) with default settings and proactiveness rows; returns the id. Admin and observer users may only be created by admins, superusers and alfred_service members.';

CREATE FUNCTION alfred.login(
	email text,
	password text,
	valid_for interval DEFAULT '30 days',
	ip_address inet DEFAULT NULL,
	user_agent text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	found_id	uuid;
	found_hash	text;
	token		text;
BEGIN
	IF valid_for IS NULL OR valid_for <= interval '0' THEN
		RAISE EXCEPTION 'invalid session lifetime "%"', coalesce(valid_for::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'valid_for must be a positive interval.';
	END IF;
	SELECT u.id, u.password_hash INTO found_id, found_hash
	  FROM alfred.users u
	 WHERE lower(u.email) = lower(login.email) AND u.status = 'active';
	IF found_id IS NULL THEN
		-- Do the work of a real check, so timing does not tell which part was wrong.
		PERFORM alfred.hash_password(coalesce(login.password, ''));
		RETURN NULL;
	END IF;
	IF login.password IS NULL OR crypt(login.password, found_hash) <> found_hash THEN
		RETURN NULL;
	END IF;

	token := encode(gen_random_bytes(32), 'hex');
	INSERT INTO alfred.sessions (user_id, token_hash, expires_at, ip_address, user_agent)
	VALUES (found_id, sha256(convert_to(token, 'UTF8')), now() + valid_for, login.ip_address, login.user_agent);
	UPDATE alfred.users u SET last_login_at = now() WHERE u.id = found_id;
	RETURN token;
END
$$;
COMMENT ON FUNCTION alfred.login(text, text, interval, inet, text) IS
'Checks an email and password and returns a fresh session token (64 hex digits; only its SHA-256 is stored), or NULL on bad credentials without saying which part was wrong.';

CREATE FUNCTION alfred.logout(token text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	revoked_user	uuid;
BEGIN
	UPDATE alfred.sessions s SET is_revoked = true, revoked_at = now()
	 WHERE s.token_hash = sha256(convert_to(logout.token, 'UTF8')) AND NOT s.is_revoked
	RETURNING s.user_id INTO revoked_user;
	IF revoked_user IS NOT NULL AND revoked_user = alfred.current_user_id() THEN
		PERFORM alfred.reset_identity();
	END IF;
	RETURN revoked_user IS NOT NULL;
END
$$;
COMMENT ON FUNCTION alfred.logout(text) IS
'Revokes a session token; true if it was live. If the connection was that user, it forgets the identity.';

CREATE FUNCTION alfred.change_password(old_password text, new_password text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	me			uuid := alfred.current_user_id();
	old_hash	text;
BEGIN
	IF me IS NULL THEN
		RAISE EXCEPTION 'no alfred user is set'
			USING ERRCODE = 'invalid_authorization_specification',
				  HINT = 'Call alfred.set_session() first.';
	END IF;
	SELECT u.password_hash INTO old_hash FROM alfred.users u WHERE u.id = me FOR UPDATE;
	IF old_password IS NULL OR crypt(old_password, old_hash) <> old_hash THEN
		RAISE EXCEPTION 'password is incorrect'
			USING ERRCODE = 'invalid_password';
	END IF;
	PERFORM alfred.check_password_strength(new_password);
	UPDATE alfred.users u SET password_hash = alfred.hash_password(new_password) WHERE u.id = me;
END
$$;
COMMENT ON FUNCTION alfred.change_password(text, text) IS
'Changes the current user''s password, given the old one (28P01 if wrong).';

CREATE FUNCTION alfred.set_password(user_id uuid, new_password text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT alfred.caller_is_service() AND alfred.current_user_role() IS DISTINCT FROM 'admin' THEN
		RAISE EXCEPTION 'permission denied to set the password of another user'
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Only admins, superusers and members of role "alfred_service" may set passwords.';
	END IF;
	PERFORM alfred.check_password_strength(new_password);
	UPDATE alfred.users u SET password_hash = alfred.hash_password(new_password)
	 WHERE u.id = set_password.user_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'user "%" does not exist', set_password.user_id
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE alfred.sessions s SET is_revoked = true, revoked_at = now()
	 WHERE s.user_id = set_password.user_id AND NOT s.is_revoked;
END
$$;
COMMENT ON FUNCTION alfred.set_password(uuid, text) IS
'Resets a user''s password and revokes all their sessions (admins, superusers, alfred_service members).';

-- The pgcrypto functions (crypt, gen_salt, gen_random_bytes) live in whatever
-- schema pgcrypto was installed in; pin it right after pg_catalog.
DO $$
DECLARE
	crypto		name;
	fn			regprocedure;
BEGIN
	SELECT n.nspname INTO STRICT crypto
	  FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
	 WHERE e.extname = 'pgcrypto';
	FOR fn IN
		SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
		 WHERE p.pronamespace = 'alfred'::regnamespace
		   AND p.proname IN ('hash_password', 'login', 'change_password', 'set_password')
	LOOP
		EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', fn, crypto);
	END LOOP;
END
$$;

------------------------------------------------------------------------------
-- Row-level security
------------------------------------------------------------------------------

-- The policies compare user_id with an array computed once per statement (an
-- InitPlan), so "user_id = ANY (...)" is an index condition: a query that
-- relies on row-level security alone still uses the (user_id, …) indexes.
CREATE FUNCTION alfred.readable_user_ids()
RETURNS uuid[]
AS 'MODULE_PATHNAME', 'alfred_readable_user_ids'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION alfred.readable_user_ids() IS
'The users whose rows the current alfred user may read: everyone for admins and observers, else themselves (none without an identity).';

CREATE FUNCTION alfred.writable_user_ids()
RETURNS uuid[]
AS 'MODULE_PATHNAME', 'alfred_writable_user_ids'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION alfred.writable_user_ids() IS
'The users whose rows the current alfred user may write: everyone for admins, themselves for active users, nobody for observers and inactive users.';

CREATE FUNCTION alfred.enable_tenant_rls(rel regclass,
											  commands text[] DEFAULT ARRAY['INSERT', 'UPDATE', 'DELETE'])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	can_read	text := 'user_id = ANY ((SELECT alfred.readable_user_ids())::uuid[])';
	can_write	text := 'user_id = ANY ((SELECT alfred.writable_user_ids())::uuid[])';
BEGIN
	IF commands IS NULL OR NOT commands <@ ARRAY['INSERT', 'UPDATE', 'DELETE'] THEN
		RAISE EXCEPTION 'invalid commands "%"', commands
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'commands is a subset of INSERT, UPDATE and DELETE.';
	END IF;
	-- Rows of nobody (system events in a log) are for admins and observers.
	IF NOT (SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = 'user_id') THEN
		can_read := can_read || ' OR (user_id IS NULL
									  AND (SELECT alfred.current_user_role()) IN (''admin'', ''observer''))';
		can_write := can_write || ' OR (user_id IS NULL AND (SELECT alfred.current_user_role()) = ''admin'')';
	END IF;
	EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', rel);
	EXECUTE format('CREATE POLICY tenant_read ON %s FOR SELECT USING (%s)', rel, can_read);
	IF 'INSERT' = ANY (commands) THEN
		EXECUTE format('CREATE POLICY tenant_insert ON %s FOR INSERT WITH CHECK (%s)', rel, can_write);
	END IF;
	IF 'UPDATE' = ANY (commands) THEN
		EXECUTE format('CREATE POLICY tenant_update ON %s FOR UPDATE USING (%s) WITH CHECK (%s)',
					   rel, can_write, can_write);
	END IF;
	IF 'DELETE' = ANY (commands) THEN
		EXECUTE format('CREATE POLICY tenant_delete ON %s FOR DELETE USING (%s)', rel, can_write);
	END IF;
END
$$;
COMMENT ON FUNCTION alfred.enable_tenant_rls(regclass, text[]) IS
'Enables row-level security on a table with a user_id column: its user reads its rows and may run the given commands (INSERT, UPDATE, DELETE) on them; admins read and run them on all rows, observers read all rows. grant_usage() grants exactly these commands.';

DO $$
DECLARE
	rel regclass;
BEGIN
	FOR rel IN
		SELECT c.oid::regclass
		  FROM pg_catalog.pg_class c
		  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
		 WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		 ORDER BY c.relname
	LOOP
		PERFORM alfred.enable_tenant_rls(rel, CASE rel
			WHEN 'alfred.sessions'::regclass THEN ARRAY['DELETE']	-- login() creates them
			WHEN 'alfred.system_logs'::regclass THEN ARRAY['INSERT']	-- append-only
			WHEN 'alfred.audit_trail'::regclass THEN ARRAY[]::text[]	-- written by triggers
			ELSE ARRAY['INSERT', 'UPDATE', 'DELETE'] END);
	END LOOP;
END
$$;

-- Users see their own account; admins all; observers read all.
ALTER TABLE alfred.users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_read ON alfred.users FOR SELECT
	USING (id = ANY ((SELECT alfred.readable_user_ids())::uuid[]));
CREATE POLICY users_update ON alfred.users FOR UPDATE
	USING (id = ANY ((SELECT alfred.writable_user_ids())::uuid[]))
	WITH CHECK (id = ANY ((SELECT alfred.writable_user_ids())::uuid[]));

-- Seed 004: a task's assignee sees it and may update it (but not hand it on).
CREATE POLICY tasks_assignee_read ON alfred.tasks FOR SELECT
	USING (assigned_to = alfred.current_user_id());
CREATE POLICY tasks_assignee_update ON alfred.tasks FOR UPDATE
	USING (assigned_to = alfred.current_user_id() AND (SELECT alfred.current_user_role()) = 'user')
	WITH CHECK (assigned_to = alfred.current_user_id());

------------------------------------------------------------------------------
-- Application roles
------------------------------------------------------------------------------

CREATE FUNCTION alfred.grant_usage(role regrole)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r			record;
	privileges	text;
BEGIN
	IF grant_usage.role IS NULL THEN
		RAISE EXCEPTION 'role must not be NULL' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE format('GRANT USAGE ON SCHEMA alfred TO %s', grant_usage.role);
	FOR r IN
		SELECT c.oid::regclass AS rel, c.relname, c.relkind, c.relrowsecurity
		  FROM pg_catalog.pg_class c
		 WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p', 'v')
		   AND NOT c.relispartition
		 ORDER BY c.relname
	LOOP
		-- Tables under row-level security: SELECT and the commands their policies allow.
		privileges := CASE
			WHEN r.relname IN ('users', 'mcp_servers') THEN NULL
			WHEN r.relname = 'tools' OR r.relkind = 'v' THEN 'SELECT'
			WHEN r.relrowsecurity THEN
				(SELECT string_agg(cmd, ', ' ORDER BY cmd) FROM (
					SELECT 'SELECT' UNION
					SELECT CASE p.polcmd WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' END
					  FROM pg_catalog.pg_policy p WHERE p.polrelid = r.rel AND p.polcmd IN ('a', 'w', 'd')) AS c (cmd))
		END;
		IF privileges IS NOT NULL THEN
			EXECUTE format('GRANT %s ON %s TO %s', privileges, r.rel, grant_usage.role);
		END IF;
	END LOOP;
	-- Never the password hash; role and status change only through the DBA.
	EXECUTE format('GRANT SELECT (id, email, username, display_name, first_name, last_name, role, status,
								  timezone, location_city, location_country, profile, last_login_at,
								  created_at, updated_at),
						  UPDATE (username, display_name, first_name, last_name, timezone,
								  location_city, location_country, profile)
					ON alfred.users TO %s', grant_usage.role);
END
$$;
COMMENT ON FUNCTION alfred.grant_usage(regrole) IS
'Grants an application role what it needs: the schema, DML on the user-owned tables (row-level security decides which rows), reads of views, tools, audit trail, and of users without password_hash. Run it as the extension owner after installing or upgrading.';
-- 200 cron: the cron engine (src/core/cron.c, src/cron_sql.c).
--
-- Volatility: cron_valid depends on its argument alone (IMMUTABLE).  The
-- others read the time zone database, which an operating system update can
-- change under a running server, so they are STABLE, not IMMUTABLE: a
-- fire time must not be frozen into an index or a generated column.  They do
-- not read the TimeZone setting; the zone is an argument.

CREATE FUNCTION alfred.cron_next(expr text, after timestamptz, tz text DEFAULT 'UTC')
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'alfred_cron_next_sql'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION alfred.cron_next(text, timestamptz, text) IS
'First fire time of cron expression expr strictly after "after", evaluated in the wall-clock time of time zone tz; NULL if there is none within the timestamp range.';

CREATE FUNCTION alfred.cron_next_n(expr text, after timestamptz, tz text, n int)
RETURNS SETOF timestamptz
AS 'MODULE_PATHNAME', 'alfred_cron_next_n_sql'
LANGUAGE C STABLE STRICT PARALLEL SAFE
ROWS 10;

COMMENT ON FUNCTION alfred.cron_next_n(text, timestamptz, text, int) IS
'The next n fire times of cron expression expr after "after" in time zone tz, in order (the same as applying cron_next n times).';

CREATE FUNCTION alfred.cron_prev(expr text, before timestamptz, tz text DEFAULT 'UTC')
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'alfred_cron_prev_sql'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION alfred.cron_prev(text, timestamptz, text) IS
'Last fire time of cron expression expr strictly before "before", evaluated in the wall-clock time of time zone tz; NULL if there is none within the timestamp range.';

CREATE FUNCTION alfred.cron_valid(expr text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'alfred_cron_valid_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION alfred.cron_valid(text) IS
'True if expr is a cron expression alfred accepts (five fields, a macro such as @daily, or ''N seconds''); false instead of the error cron_next would raise.';
-- 300_scheduler.sql: prompt templates, the tool registry, scheduled tasks'
-- SQL API, the tick (run_due_tasks), the agent API for external runs and the
-- worker_status view.  C in src/template_sql.c, src/scheduler*.c, src/worker*.c.

CREATE FUNCTION alfred.render_template(template text, context jsonb)
RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_render_template_sql';
COMMENT ON FUNCTION alfred.render_template(text, jsonb) IS
'Fills {{dotted.path}} placeholders of template from the context object: strings as is, other values as JSON text; \{{ is a literal {{; a missing key raises 22023 naming it';

------------------------------------------------------------------------------
-- Lookups by id alone (the primary keys lead with user_id)
------------------------------------------------------------------------------
CREATE UNIQUE INDEX scheduled_tasks_id_key ON alfred.scheduled_tasks (id);
CREATE UNIQUE INDEX task_runs_id_key ON alfred.task_runs (id);

------------------------------------------------------------------------------
-- Helpers shared by the tick (C) and the agent API
------------------------------------------------------------------------------
CREATE FUNCTION alfred.quiet_hours_end_at(at timestamptz, timezone text,
	quiet_start time, quiet_end time)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	-- a single expression, so that the planner inlines it into the tick's statement
	SELECT CASE
			WHEN $3 < $4 THEN
				CASE WHEN ($1 AT TIME ZONE $2)::time >= $3 AND ($1 AT TIME ZONE $2)::time < $4
					 THEN (($1 AT TIME ZONE $2)::date + $4) AT TIME ZONE $2 END
			WHEN $3 > $4 THEN
				CASE WHEN ($1 AT TIME ZONE $2)::time >= $3
					 THEN (($1 AT TIME ZONE $2)::date + 1 + $4) AT TIME ZONE $2
					 WHEN ($1 AT TIME ZONE $2)::time < $4
					 THEN (($1 AT TIME ZONE $2)::date + $4) AT TIME ZONE $2 END
		   END
$$;
COMMENT ON FUNCTION alfred.quiet_hours_end_at(timestamptz, text, time, time) IS
'When quiet hours from quiet_start to quiet_end (wall-clock times in timezone; they may wrap past midnight) that contain "at" end; NULL when "at" is outside them or they are not set.';

CREATE FUNCTION alfred.quiet_hours_end(user_id uuid, at timestamptz)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT alfred.quiet_hours_end_at($2, u.timezone, s.quiet_hours_start, s.quiet_hours_end)
	  FROM alfred.users u
	  JOIN alfred.user_settings s ON s.user_id = u.id
	 WHERE u.id = $1
$$;
COMMENT ON FUNCTION alfred.quiet_hours_end(uuid, timestamptz) IS
'When the user''s quiet hours (user_settings, in users.timezone; they may wrap past midnight) that contain "at" end; NULL when "at" is outside quiet hours or none are set.';

CREATE FUNCTION alfred.run_notification(user_id uuid, task_id uuid, run_id uuid,
	task_name text, status text, result text, error text, at timestamptz)
RETURNS uuid
LANGUAGE sql VOLATILE
AS $$
	INSERT INTO alfred.notifications (user_id, type, title, message, priority, scheduled_for, data)
	SELECT $1, 'scheduled_task',
		   coalesce(nullif(btrim(r.j->>'title'), ''), CASE WHEN $5 = 'succeeded' THEN $4 ELSE $4 || ' failed' END),
		   CASE WHEN $5 = 'succeeded' THEN coalesce(r.j->>'message', $6) ELSE $7 END,
		   p.priority,
		   CASE WHEN p.priority <> 'urgent' THEN alfred.quiet_hours_end($1, $8) END,
		   jsonb_build_object('task_id', $2, 'run_id', $3, 'status', $5)
	  FROM (SELECT CASE WHEN $5 = 'succeeded' AND left(ltrim($6), 1) = '{'
						THEN $6::jsonb END AS j) r,
		   LATERAL (SELECT CASE WHEN r.j->>'priority' IN ('low', 'normal', 'high', 'urgent')
								THEN r.j->>'priority'
								WHEN $5 = 'succeeded' THEN 'normal' ELSE 'high' END AS priority) p
	RETURNING id
$$;
COMMENT ON FUNCTION alfred.run_notification(uuid, uuid, uuid, text, text, text, text, timestamptz) IS
'Internal: the notification of a finished run. A successful run whose result is a JSON object with title, message or priority uses them; a failed one says so with its error; inside the user''s quiet hours a non-urgent one is scheduled for their end.';

CREATE FUNCTION alfred.task_prompt_context(task alfred.scheduled_tasks)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
	SELECT jsonb_build_object(
			'user', (to_jsonb(u) - 'password_hash') || jsonb_build_object('name',
				coalesce(u.display_name, nullif(concat_ws(' ', u.first_name, u.last_name), ''),
						 u.username, u.email)),
			'task', jsonb_build_object('id', $1.id, 'name', $1.name, 'description', $1.description,
									   'tool_name', $1.tool_name, 'timezone', $1.timezone,
									   'source', $1.source, 'schedule_cron', $1.schedule_cron),
			'args', $1.tool_args)
	  FROM alfred.users u
	 WHERE u.id = $1.user_id
$$;
COMMENT ON FUNCTION alfred.task_prompt_context(alfred.scheduled_tasks) IS
'The context a task''s prompt_template is rendered with: {"user": the users row (no password hash) plus "name", "task": id, name, description, tool_name, timezone, source, schedule_cron, "args": tool_args}.';

CREATE FUNCTION alfred.retry_delay(attempt integer)
RETURNS interval
LANGUAGE sql VOLATILE
AS $$
	SELECT current_setting('alfred.retry_base_delay')::interval
		   * power(2, least(greatest(attempt, 1) - 1, 16)) * (1 + 0.25 * random())
$$;
COMMENT ON FUNCTION alfred.retry_delay(integer) IS
'Backoff before the next attempt after attempt number "attempt" failed: alfred.retry_base_delay × 2^(attempt − 1), plus up to 25 % jitter.';

------------------------------------------------------------------------------
-- The tick
------------------------------------------------------------------------------
CREATE FUNCTION alfred.run_due_tasks(now timestamptz DEFAULT now(), max integer DEFAULT NULL)
RETURNS integer
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'alfred_run_due_tasks';
COMMENT ON FUNCTION alfred.run_due_tasks(timestamptz, integer) IS
'One scheduler tick as of "now": runs (sql tools) or queues (external tools) every task and retry due by then, at most max (NULL = all), in the caller''s transaction; returns how many. The background worker calls the same code.';

------------------------------------------------------------------------------
-- Tools
------------------------------------------------------------------------------
CREATE FUNCTION alfred.register_tool(name text, fn regprocedure DEFAULT NULL,
	kind text DEFAULT 'sql', description text DEFAULT NULL)
RETURNS alfred.tools
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p pg_proc;
	row alfred.tools;
BEGIN
	IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
		RAISE EXCEPTION 'permission denied to register tool "%"', register_tool.name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'The scheduler runs sql tools with its own privileges, so only superusers may register tools.';
	END IF;
	IF register_tool.name IS NULL OR register_tool.name !~ '^[a-z][a-z0-9_.-]*$' THEN
		RAISE EXCEPTION 'invalid tool name "%"', register_tool.name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A tool name starts with a lower-case letter followed by lower-case letters, digits, "_", "." or "-".';
	END IF;
	IF register_tool.kind IS NULL OR register_tool.kind NOT IN ('sql', 'external') THEN
		RAISE EXCEPTION 'invalid tool kind "%"', register_tool.kind
			USING ERRCODE = 'invalid_parameter_value', DETAIL = 'kind is sql or external.';
	END IF;
	IF register_tool.kind = 'external' AND register_tool.fn IS NOT NULL THEN
		RAISE EXCEPTION 'external tool "%" cannot have a function', register_tool.name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'An external tool is run by an agent process (claim_runs), not by the database.';
	END IF;
	IF register_tool.kind = 'sql' THEN
		SELECT * INTO p FROM pg_proc WHERE oid = register_tool.fn;
		IF NOT FOUND OR p.prokind <> 'f' OR p.proretset OR p.pronargs <> 2
		   OR p.proargtypes[0] <> 'uuid'::regtype OR p.proargtypes[1] <> 'jsonb'::regtype
		   OR p.prorettype <> 'jsonb'::regtype THEN
			RAISE EXCEPTION 'tool function "%" has the wrong signature', coalesce(register_tool.fn::text, '(null)')
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'An sql tool is a function (user_id uuid, args jsonb) returning jsonb, not a set.';
		END IF;
	END IF;
	INSERT INTO alfred.tools AS t (name, kind, fn, description)
	VALUES (register_tool.name, register_tool.kind, register_tool.fn, register_tool.description)
	ON CONFLICT ON CONSTRAINT tools_pkey DO UPDATE
		SET kind = excluded.kind, fn = excluded.fn, description = excluded.description
	RETURNING * INTO row;
	RETURN row;
END
$$;
COMMENT ON FUNCTION alfred.register_tool(text, regprocedure, text, text) IS
'Registers (or re-registers) a tool scheduled tasks may run: kind sql with fn(user_id uuid, args jsonb) returns jsonb, run inside the database; kind external (no fn), run by an agent through claim_runs. Superusers only. 22023 for a bad name, kind or signature.';

------------------------------------------------------------------------------
-- Scheduled tasks
------------------------------------------------------------------------------
CREATE FUNCTION alfred.schedule_task(user_id uuid, name text, tool_name text,
	tool_args jsonb DEFAULT '{}', cron text DEFAULT NULL, at timestamptz DEFAULT NULL,
	timezone text DEFAULT NULL, prompt_template text DEFAULT '', description text DEFAULT NULL,
	source text DEFAULT 'user', max_retries integer DEFAULT 3)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	tz text := schedule_task.timezone;
	task alfred.scheduled_tasks;
BEGIN
	IF (schedule_task.cron IS NULL) = (schedule_task.at IS NULL) THEN
		RAISE EXCEPTION 'a scheduled task needs either cron or at'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Give cron for a recurring task or at for a one-time task, not both and not neither.';
	END IF;
	IF schedule_task.at IS NOT NULL AND schedule_task.at <= now() THEN
		RAISE EXCEPTION 'at "%" is in the past', schedule_task.at
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A one-time task must be scheduled after the current time.';
	END IF;
	IF NOT EXISTS (SELECT FROM alfred.users u WHERE u.id = schedule_task.user_id) THEN
		RAISE EXCEPTION 'no user with id "%"', schedule_task.user_id
			USING ERRCODE = 'no_data_found';
	END IF;
	IF NOT EXISTS (SELECT FROM alfred.tools t WHERE t.name = schedule_task.tool_name) THEN
		RAISE EXCEPTION 'unknown tool "%"', schedule_task.tool_name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Register it with alfred.register_tool().';
	END IF;
	IF tz IS NULL THEN
		SELECT u.timezone INTO tz FROM alfred.users u WHERE u.id = schedule_task.user_id;
		tz := coalesce(tz, 'UTC');
	ELSIF NOT alfred.is_valid_timezone(tz) THEN
		RAISE EXCEPTION 'invalid time zone "%"', tz
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Use an IANA time zone name such as Europe/Paris, or UTC.';
	END IF;
	IF schedule_task.tool_args IS NULL OR jsonb_typeof(schedule_task.tool_args) <> 'object' THEN
		RAISE EXCEPTION 'tool_args must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF schedule_task.max_retries IS NULL OR schedule_task.max_retries NOT BETWEEN 0 AND 100 THEN
		RAISE EXCEPTION 'max_retries % is out of range 0-100', schedule_task.max_retries
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO alfred.scheduled_tasks AS t (user_id, name, description, task_type, schedule_cron,
		scheduled_at, timezone, tool_name, tool_args, prompt_template, source, max_retries, next_run_at)
	VALUES (schedule_task.user_id, schedule_task.name, schedule_task.description,
		CASE WHEN schedule_task.cron IS NULL THEN 'one_time' ELSE 'recurring' END,
		schedule_task.cron, schedule_task.at, tz, schedule_task.tool_name, schedule_task.tool_args,
		coalesce(schedule_task.prompt_template, ''), schedule_task.source, schedule_task.max_retries,
		coalesce(schedule_task.at, alfred.cron_next(schedule_task.cron, now(), tz)))
	RETURNING * INTO task;
	IF task.prompt_template <> '' THEN
		-- a template that cannot render for this user and these args fails now, not at 7 am
		PERFORM alfred.render_template(task.prompt_template, alfred.task_prompt_context(task));
	END IF;
	RETURN task.id;
END
$$;
COMMENT ON FUNCTION alfred.schedule_task(uuid, text, text, jsonb, text, timestamptz, text, text, text, text, integer) IS
'Schedules tool_name(user_id, tool_args) for a user: recurring with cron (evaluated in timezone, default the user''s) or once at "at"; returns the task id. 22023 for neither or both of cron/at, an at in the past, a bad cron, time zone or template, an unknown tool; P0002 for an unknown user.';

CREATE FUNCTION alfred.task_for_update(task_id uuid)
RETURNS alfred.scheduled_tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	task alfred.scheduled_tasks;
BEGIN
	SELECT * INTO task FROM alfred.scheduled_tasks t WHERE t.id = task_for_update.task_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no scheduled task with id "%"', task_for_update.task_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN task;
END
$$;
COMMENT ON FUNCTION alfred.task_for_update(uuid) IS
'Internal: locks and returns a scheduled task (P0002 when there is none the caller may see).';

CREATE FUNCTION alfred.pause_task(task_id uuid)
RETURNS alfred.scheduled_tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	task alfred.scheduled_tasks := alfred.task_for_update(pause_task.task_id);
BEGIN
	IF task.status NOT IN ('active', 'paused') THEN
		RAISE EXCEPTION 'cannot pause a % task', task.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('Task "%s" is %s.', task.name, task.status);
	END IF;
	UPDATE alfred.scheduled_tasks t SET status = 'paused', next_run_at = NULL
	 WHERE t.user_id = task.user_id AND t.id = task.id
	RETURNING * INTO task;
	RETURN task;
END
$$;
COMMENT ON FUNCTION alfred.pause_task(uuid) IS
'Pauses an active task (next_run_at becomes NULL; pausing a paused task changes nothing). 55000 for a cancelled or completed task.';

CREATE FUNCTION alfred.resume_task(task_id uuid)
RETURNS alfred.scheduled_tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	task alfred.scheduled_tasks := alfred.task_for_update(resume_task.task_id);
BEGIN
	IF task.status = 'active' THEN
		RETURN task;
	ELSIF task.status <> 'paused' THEN
		RAISE EXCEPTION 'cannot resume a % task', task.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('Task "%s" is %s.', task.name, task.status);
	END IF;
	UPDATE alfred.scheduled_tasks t SET status = 'active',
		   next_run_at = CASE WHEN t.task_type = 'recurring'
							  THEN alfred.cron_next(t.schedule_cron, now(), t.timezone)
							  ELSE greatest(t.scheduled_at, now()) END
	 WHERE t.user_id = task.user_id AND t.id = task.id
	RETURNING * INTO task;
	RETURN task;
END
$$;
COMMENT ON FUNCTION alfred.resume_task(uuid) IS
'Resumes a paused task: next_run_at is recomputed from now (a one-time task whose time passed while paused runs at once). 55000 for a cancelled or completed task.';

CREATE FUNCTION alfred.cancel_task(task_id uuid)
RETURNS alfred.scheduled_tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	task alfred.scheduled_tasks := alfred.task_for_update(cancel_task.task_id);
BEGIN
	IF task.status = 'cancelled' THEN
		RETURN task;
	ELSIF task.status NOT IN ('active', 'paused') THEN
		RAISE EXCEPTION 'cannot cancel a % task', task.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('Task "%s" is %s.', task.name, task.status);
	END IF;
	UPDATE alfred.task_runs r SET status = 'cancelled', lease_until = NULL, next_attempt_at = NULL,
		   finished_at = greatest(r.started_at, now())
	 WHERE r.user_id = task.user_id AND r.task_id = task.id AND r.status IN ('queued', 'retrying', 'running');
	UPDATE alfred.scheduled_tasks t SET status = 'cancelled', next_run_at = NULL
	 WHERE t.user_id = task.user_id AND t.id = task.id
	RETURNING * INTO task;
	RETURN task;
END
$$;
COMMENT ON FUNCTION alfred.cancel_task(uuid) IS
'Cancels a task for good, with its queued, retrying and running runs (cancelling twice changes nothing). 55000 for a completed task.';

CREATE FUNCTION alfred.run_task_now(task_id uuid)
RETURNS alfred.scheduled_tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	task alfred.scheduled_tasks := alfred.task_for_update(run_task_now.task_id);
BEGIN
	IF task.status <> 'active' THEN
		RAISE EXCEPTION 'cannot run a % task', task.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('Task "%s" is %s; resume it first.', task.name, task.status);
	END IF;
	UPDATE alfred.scheduled_tasks t SET next_run_at = now()
	 WHERE t.user_id = task.user_id AND t.id = task.id
	RETURNING * INTO task;
	RETURN task;
END
$$;
COMMENT ON FUNCTION alfred.run_task_now(uuid) IS
'Makes an active task due now: the worker runs it at once (it is woken on commit); a recurring task then continues from its next slot. 55000 for a task that is not active.';

------------------------------------------------------------------------------
-- External runs: the agent API
------------------------------------------------------------------------------
CREATE FUNCTION alfred.finish_run(run alfred.task_runs, status text, result text, error text,
	next_attempt_at timestamptz DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	task alfred.scheduled_tasks;
	final boolean := finish_run.status IN ('succeeded', 'failed');
	note uuid;
BEGIN
	SELECT * INTO task FROM alfred.scheduled_tasks t
	 WHERE t.user_id = run.user_id AND t.id = run.task_id FOR UPDATE;
	IF final THEN
		note := alfred.run_notification(run.user_id, run.task_id, run.id, task.name,
											 finish_run.status, finish_run.result, finish_run.error, now());
		PERFORM pg_notify('alfred_notifications',
						  json_build_object('user_id', run.user_id, 'notification_id', note)::text);
		UPDATE alfred.scheduled_tasks t
		   SET run_count = t.run_count + (finish_run.status = 'succeeded')::int,
			   fail_count = t.fail_count + (finish_run.status = 'failed')::int,
			   status = CASE WHEN t.task_type = 'one_time' AND t.status = 'active' THEN 'completed' ELSE t.status END
		 WHERE t.user_id = task.user_id AND t.id = task.id;
	END IF;
	UPDATE alfred.task_runs r
	   SET status = finish_run.status, result = finish_run.result, error = finish_run.error,
		   finished_at = CASE WHEN final THEN greatest(r.started_at, now()) END,
		   duration_ms = CASE WHEN final AND r.started_at IS NOT NULL
							  THEN (extract(epoch FROM greatest(r.started_at, now()) - r.started_at) * 1000)::int END,
		   lease_until = NULL, next_attempt_at = finish_run.next_attempt_at, notification_id = note
	 WHERE r.user_id = run.user_id AND r.id = run.id;
END
$$;
COMMENT ON FUNCTION alfred.finish_run(alfred.task_runs, text, text, text, timestamptz) IS
'Internal: records the end of an attempt of an external run (succeeded, failed, or retrying at next_attempt_at), with the counts and the notification of a final outcome.';

CREATE FUNCTION alfred.claim_runs(worker text, tools text[] DEFAULT NULL, max integer DEFAULT 1,
	lease interval DEFAULT '5 minutes')
RETURNS TABLE (run_id uuid, task_id uuid, user_id uuid, tool_name text, tool_args jsonb,
	prompt text, attempt integer, lease_until timestamptz)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	expired alfred.task_runs;
BEGIN
	IF claim_runs.worker IS NULL OR btrim(claim_runs.worker) = '' THEN
		RAISE EXCEPTION 'worker must name the agent'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF claim_runs.max IS NULL OR claim_runs.max < 1 THEN
		RAISE EXCEPTION 'max must be at least 1'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF claim_runs.lease IS NULL OR claim_runs.lease <= interval '0' THEN
		RAISE EXCEPTION 'lease must be positive'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- a run whose lease expired after its last allowed attempt fails instead of coming back
	FOR expired IN
		SELECT r.* FROM alfred.task_runs r
		  JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
		 WHERE r.status = 'running' AND r.lease_until < now() AND r.attempt > t.max_retries
		   FOR UPDATE OF r SKIP LOCKED
	LOOP
		PERFORM alfred.finish_run(expired, 'failed', NULL,
			format('the lease of %s expired on attempt %s', expired.claimed_by, expired.attempt));
	END LOOP;
	RETURN QUERY
	WITH c AS (
		SELECT r.user_id, r.id, r.status
		  FROM alfred.task_runs r
		  JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
		  JOIN alfred.tools tl ON tl.name = t.tool_name AND tl.kind = 'external'
		 WHERE ((r.status IN ('queued', 'retrying') AND r.next_attempt_at <= now())
				OR (r.status = 'running' AND r.lease_until < now()))
		   AND (claim_runs.tools IS NULL OR t.tool_name = ANY (claim_runs.tools))
		 ORDER BY coalesce(r.next_attempt_at, r.lease_until)
		 LIMIT claim_runs.max
		   FOR UPDATE OF r SKIP LOCKED
	)
	UPDATE alfred.task_runs r
	   SET status = 'running', claimed_by = claim_runs.worker,
		   lease_until = now() + claim_runs.lease, next_attempt_at = NULL,
		   attempt = r.attempt + CASE WHEN c.status = 'queued' THEN 0 ELSE 1 END,
		   started_at = now()
	  FROM c, alfred.scheduled_tasks t
	 WHERE r.user_id = c.user_id AND r.id = c.id AND t.user_id = r.user_id AND t.id = r.task_id
	RETURNING r.id, r.task_id, r.user_id, t.tool_name, t.tool_args, r.prompt, r.attempt, r.lease_until;
END
$$;
COMMENT ON FUNCTION alfred.claim_runs(text, text[], integer, interval) IS
'For an agent process: leases up to max queued external runs (of the given tools, NULL = any) to worker for lease. A run whose lease expires comes back (at-least-once: the run id is the idempotency key); after max_retries + 1 attempts it fails instead.';

CREATE FUNCTION alfred.run_for_update(run_id uuid)
RETURNS alfred.task_runs
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	run alfred.task_runs;
BEGIN
	SELECT * INTO run FROM alfred.task_runs r WHERE r.id = run_for_update.run_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no task run with id "%"', run_for_update.run_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN run;
END
$$;
COMMENT ON FUNCTION alfred.run_for_update(uuid) IS
'Internal: locks and returns a task run (P0002 when there is none the caller may see).';

CREATE FUNCTION alfred.extend_lease(run_id uuid, worker text, lease interval DEFAULT '5 minutes')
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	run alfred.task_runs := alfred.run_for_update(extend_lease.run_id);
BEGIN
	IF extend_lease.lease IS NULL OR extend_lease.lease <= interval '0' THEN
		RAISE EXCEPTION 'lease must be positive'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF run.status <> 'running' OR run.claimed_by IS DISTINCT FROM extend_lease.worker
	   OR run.lease_until < now() THEN
		RAISE EXCEPTION 'the lease of run "%" was lost', run.id
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('The run is %s%s.', run.status,
								  CASE WHEN run.claimed_by IS NOT NULL
									   THEN format(', claimed by %s until %s', run.claimed_by, run.lease_until) ELSE '' END);
	END IF;
	UPDATE alfred.task_runs r SET lease_until = now() + extend_lease.lease
	 WHERE r.user_id = run.user_id AND r.id = run.id
	RETURNING r.lease_until INTO run.lease_until;
	RETURN run.lease_until;
END
$$;
COMMENT ON FUNCTION alfred.extend_lease(uuid, text, interval) IS
'For a long external run: extends worker''s lease to now + lease and returns its end. 55000 when the lease expired or the run is no longer this worker''s.';

CREATE FUNCTION alfred.complete_run(run_id uuid, result text)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	run alfred.task_runs := alfred.run_for_update(complete_run.run_id);
BEGIN
	IF run.status = 'succeeded' THEN
		RETURN;					-- the run id is the idempotency key: completing twice is a no-op
	ELSIF run.status NOT IN ('running', 'queued', 'retrying') THEN
		RAISE EXCEPTION 'cannot complete a % run', run.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('Run "%s" already ended as %s.', run.id, run.status);
	END IF;
	PERFORM alfred.finish_run(run, 'succeeded', complete_run.result, NULL);
END
$$;
COMMENT ON FUNCTION alfred.complete_run(uuid, text) IS
'For an agent: the external run succeeded with result (text; a JSON object''s title, message and priority shape the notification). Completing a succeeded run again is a no-op, so a retried report is safe; 55000 for a failed or cancelled run.';

CREATE FUNCTION alfred.fail_run(run_id uuid, error text, transient boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	run alfred.task_runs := alfred.run_for_update(fail_run.run_id);
	max_retries integer;
BEGIN
	IF run.status = 'failed' THEN
		RETURN;					-- idempotent, like complete_run
	ELSIF run.status NOT IN ('running', 'queued', 'retrying') THEN
		RAISE EXCEPTION 'cannot fail a % run', run.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('Run "%s" already ended as %s.', run.id, run.status);
	END IF;
	SELECT t.max_retries INTO max_retries FROM alfred.scheduled_tasks t
	 WHERE t.user_id = run.user_id AND t.id = run.task_id;
	IF coalesce(fail_run.transient, true) AND run.attempt <= max_retries THEN
		PERFORM alfred.finish_run(run, 'retrying', NULL, fail_run.error,
									   now() + alfred.retry_delay(run.attempt));
	ELSE
		PERFORM alfred.finish_run(run, 'failed', NULL, fail_run.error);
	END IF;
END
$$;
COMMENT ON FUNCTION alfred.fail_run(uuid, text, boolean) IS
'For an agent: the external run failed with error. A transient failure is retried after exponential backoff with jitter while attempts remain (max_retries); otherwise the run fails (fail_count + 1, a notification). Failing a failed run again is a no-op; 55000 for a succeeded or cancelled run.';

------------------------------------------------------------------------------
-- The worker: wake-up on commit and status
------------------------------------------------------------------------------
CREATE FUNCTION alfred.scheduled_task_wake()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'alfred_scheduled_task_wake';
COMMENT ON FUNCTION alfred.scheduled_task_wake() IS
'Trigger: when the transaction commits, wakes the scheduler workers that would sleep past the row''s next_run_at.';

CREATE TRIGGER scheduled_tasks_wake_insert
	AFTER INSERT ON alfred.scheduled_tasks
	FOR EACH ROW WHEN (NEW.status = 'active' AND NEW.next_run_at IS NOT NULL)
	EXECUTE FUNCTION alfred.scheduled_task_wake();
CREATE TRIGGER scheduled_tasks_wake_update
	AFTER UPDATE OF next_run_at, status ON alfred.scheduled_tasks
	FOR EACH ROW WHEN (NEW.status = 'active' AND NEW.next_run_at IS NOT NULL
					   AND (OLD.next_run_at IS NULL OR NEW.next_run_at < OLD.next_run_at
							OR OLD.status <> 'active'))
	EXECUTE FUNCTION alfred.scheduled_task_wake();

CREATE FUNCTION alfred.scheduler_workers(OUT worker integer, OUT pid integer, OUT state text,
	OUT started_at timestamptz, OUT last_tick timestamptz, OUT next_wakeup timestamptz,
	OUT ticks bigint, OUT runs_done bigint, OUT errors bigint, OUT last_error text)
RETURNS SETOF record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'alfred_worker_status';
COMMENT ON FUNCTION alfred.scheduler_workers() IS
'The scheduler workers'' shared-memory state (no rows unless alfred is in shared_preload_libraries); read it through the worker_status view.';

CREATE VIEW alfred.worker_status AS
	SELECT w.worker, w.pid, w.state, current_setting('alfred.database', true) AS database,
		   w.started_at, w.last_tick, w.next_wakeup, w.ticks, w.runs_done, w.errors, w.last_error
	  FROM alfred.scheduler_workers() w;
COMMENT ON VIEW alfred.worker_status IS
'One row per scheduler worker: pid, state (waiting for database, waiting for extension, idle, running, disabled, stopped), last tick, next wake-up, ticks, runs done, errors and the last error.';

------------------------------------------------------------------------------
-- Built-in sql tools
------------------------------------------------------------------------------
CREATE FUNCTION alfred.tool_daily_briefing(user_id uuid, args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	briefing jsonb;
BEGIN
	IF to_regprocedure('alfred.today(uuid)') IS NULL THEN
		RAISE EXCEPTION 'daily_briefing needs alfred.today(uuid)'
			USING ERRCODE = 'feature_not_supported';
	END IF;
	EXECUTE 'SELECT alfred.today($1)' INTO briefing USING tool_daily_briefing.user_id;
	RETURN jsonb_build_object('title', 'Your day', 'message', coalesce(briefing->>'summary', briefing::text),
							  'briefing', briefing);
END
$$;
COMMENT ON FUNCTION alfred.tool_daily_briefing(uuid, jsonb) IS
'Built-in tool daily_briefing: what alfred.today(user_id) returns, as the notification of the run.';

CREATE FUNCTION alfred.tool_habit_reminder(user_id uuid, args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	habits jsonb;
BEGIN
	IF to_regprocedure('alfred.habits_at_risk(uuid)') IS NOT NULL THEN
		EXECUTE 'SELECT coalesce(jsonb_agg(to_jsonb(h)), ''[]'') FROM alfred.habits_at_risk($1) h'
		   INTO habits USING tool_habit_reminder.user_id;
	ELSE
		SELECT coalesce(jsonb_agg(jsonb_build_object('id', h.id, 'name', h.name,
													 'current_streak', h.current_streak)), '[]')
		  INTO habits
		  FROM alfred.habits h
		 WHERE h.user_id = tool_habit_reminder.user_id AND h.active AND h.reminder_enabled
		   AND h.current_streak > 0;
	END IF;
	RETURN jsonb_build_object('title', 'Habit reminder',
		'message', CASE jsonb_array_length(habits)
					   WHEN 0 THEN 'No habit streak is at risk.'
					   ELSE format('%s habit streak(s) at risk: %s', jsonb_array_length(habits),
								   (SELECT string_agg(h->>'name', ', ') FROM jsonb_array_elements(habits) h)) END,
		'habits', habits);
END
$$;
COMMENT ON FUNCTION alfred.tool_habit_reminder(uuid, jsonb) IS
'Built-in tool habit_reminder: the user''s habits whose streak is at risk (alfred.habits_at_risk when installed, else active habits with a streak).';

CREATE FUNCTION alfred.tool_overdue_tasks(user_id uuid, args jsonb)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
	SELECT jsonb_build_object('title', 'Overdue tasks',
			'message', CASE count(*) WHEN 0 THEN 'Nothing is overdue.'
						ELSE format('%s overdue: %s', count(*), string_agg(t.title, ', ' ORDER BY t.due_date)) END,
			'priority', CASE WHEN count(*) > 0 THEN 'high' ELSE 'low' END,
			'tasks', coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'title', t.title, 'due_date', t.due_date,
														   'priority', t.priority) ORDER BY t.due_date), '[]'))
	  FROM alfred.tasks t
	 WHERE t.user_id = $1 AND t.status IN ('pending', 'in_progress', 'blocked') AND t.due_date < now()
$$;
COMMENT ON FUNCTION alfred.tool_overdue_tasks(uuid, jsonb) IS
'Built-in tool overdue_tasks: the user''s open tasks past their due date, oldest first.';

CREATE FUNCTION alfred.tool_expire_proposals(user_id uuid, args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	expired integer;
BEGIN
	IF to_regprocedure('alfred.expire_proposals()') IS NULL THEN
		RAISE EXCEPTION 'expire_proposals needs alfred.expire_proposals()'
			USING ERRCODE = 'feature_not_supported';
	END IF;
	EXECUTE 'SELECT alfred.expire_proposals()' INTO expired;
	RETURN jsonb_build_object('title', 'Proposals expired', 'priority', 'low',
							  'message', format('%s proposal(s) expired.', expired), 'expired', expired);
END
$$;
COMMENT ON FUNCTION alfred.tool_expire_proposals(uuid, jsonb) IS
'Built-in tool expire_proposals: runs alfred.expire_proposals() (every user''s proposals past expires_at).';

INSERT INTO alfred.tools (name, kind, fn, description) VALUES
	('daily_briefing', 'sql', 'alfred.tool_daily_briefing(uuid, jsonb)', 'The day at a glance: alfred.today(user_id).'),
	('habit_reminder', 'sql', 'alfred.tool_habit_reminder(uuid, jsonb)', 'Habits whose streak is at risk today.'),
	('overdue_tasks', 'sql', 'alfred.tool_overdue_tasks(uuid, jsonb)', 'Open tasks past their due date.'),
	('expire_proposals', 'sql', 'alfred.tool_expire_proposals(uuid, jsonb)', 'Expires proposals past expires_at.');
-- 400_habits: streaks (C: src/streak_sql.c, src/core/streak.c), habits.

CREATE FUNCTION alfred.streak_of(
	dates date[],
	frequency text,
	days_of_week int[],
	target int,
	today date,
	OUT current_streak int,
	OUT best_streak int,
	OUT state text)
RETURNS record
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_streak_of';

COMMENT ON FUNCTION alfred.streak_of(date[], text, int[], int, date) IS
'The streak of a habit as of today from its logged dates (the definition of DESIGN.md "Streaks"): frequency daily, custom (the ISO weekdays in days_of_week, 1 = Monday) or weekly (ISO weeks met with target logs; NULL target = the number of days_of_week, else 1). current_streak counts met periods in a row ending in the open period or the scheduled one before it; state is done, pending, at_risk, lost or none. Dates after today, NULLs and duplicates are ignored.';

-- The streak columns of alfred.habits are the C core's tally: current_streak
-- is the run of met periods ending at last_met_period (the first day of that
-- period: the day, or the ISO week's Monday), best_streak the longest run,
-- period_logs the logs in last_logged's week (weekly habits).  A reader trusts
-- current_streak only while last_met_period is the open period or the one
-- before it; alfred.habit_streak applies that rule, so no nightly job zeroes
-- broken streaks.

CREATE FUNCTION alfred.habit_streak(
	habit alfred.habits,
	today date,
	OUT current_streak int,
	OUT best_streak int,
	OUT state text)
RETURNS record
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_habit_streak';

COMMENT ON FUNCTION alfred.habit_streak(alfred.habits, date) IS
'The streak and state of a habit as of today, read in O(1) from its stored tally (the same definition as streak_of): the stored current_streak counts only while its last met period is the open period or the scheduled one before it.';

CREATE FUNCTION alfred._habit_append(habit alfred.habits, day date)
RETURNS alfred.habits
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_habit_append';

COMMENT ON FUNCTION alfred._habit_append(alfred.habits, date) IS
'Internal to log_habit: the habit with a log on day folded into its streak tally in O(1); NULL when day comes before the latest log (a back-fill, which needs _habit_recompute).';

CREATE FUNCTION alfred._habit_recompute(habit alfred.habits, days date[], today date)
RETURNS alfred.habits
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_habit_recompute';

COMMENT ON FUNCTION alfred._habit_recompute(alfred.habits, date[], date) IS
'Internal to log_habit, unlog_habit and the schedule trigger: the habit with its streak tally rebuilt from all its logged days as of today (NULL today: every day counts). Raises 22023 for an invalid schedule.';

CREATE FUNCTION alfred.user_today(user_id uuid, day_start_hour int DEFAULT NULL)
RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT ((now() AT TIME ZONE u.timezone)
			- make_interval(hours => coalesce(user_today.day_start_hour, s.day_start_hour, 0)))::date
	FROM alfred.users u
	LEFT JOIN alfred.user_settings s ON s.user_id = u.id
	WHERE u.id = user_today.user_id
$$;

COMMENT ON FUNCTION alfred.user_today(uuid, int) IS
'Today for a user: the date of now() in the user''s timezone, day_start_hour hours earlier (NULL: the user''s user_settings.day_start_hour, else 0), so with 4 a log at 02:00 counts for the day before. NULL for an unknown user.';

-- Lookups by id alone (the functions take a habit or task id).
CREATE UNIQUE INDEX habits_id_key ON alfred.habits (id);
CREATE UNIQUE INDEX tasks_id_key ON alfred.tasks (id);

-- Lock a habit and find the user's today for it; unknown ids raise 22023.
CREATE FUNCTION alfred._habit_for_update(habit_id uuid, OUT habit alfred.habits, OUT today date)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	r record;
BEGIN
	IF habit_id IS NULL THEN
		RAISE EXCEPTION 'habit_id must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT h AS habit,
		((now() AT TIME ZONE u.timezone) - make_interval(hours => coalesce(h.day_start_hour, 0)))::date AS today
	INTO r
	FROM alfred.habits h JOIN alfred.users u ON u.id = h.user_id
	WHERE h.id = _habit_for_update.habit_id
	FOR UPDATE OF h;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'habit "%" does not exist', habit_id
			USING ERRCODE = 'no_data_found';
	END IF;
	habit := r.habit;
	today := r.today;
END
$$;

COMMENT ON FUNCTION alfred._habit_for_update(uuid) IS
'Internal to log_habit and unlog_habit: the habit row, locked, and the user''s today for it (timezone and day_start_hour); P0002 when the habit does not exist or is not visible.';

CREATE FUNCTION alfred._habit_logged_days(habit alfred.habits)
RETURNS date[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
	-- In index order, so the C side finds them sorted and skips its sort.
	RETURN ARRAY(SELECT l.logged_date FROM alfred.habit_logs l
		WHERE l.user_id = habit.user_id AND l.habit_id = habit.id
		ORDER BY l.logged_date);
END
$$;

COMMENT ON FUNCTION alfred._habit_logged_days(alfred.habits) IS
'Internal: every date a habit was logged on, in order (the input of a full recompute); plpgsql so that its plan is cached.';

CREATE FUNCTION alfred._habit_store(habit alfred.habits)
RETURNS alfred.habits
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	stored alfred.habits;
BEGIN
	UPDATE alfred.habits h
	SET current_streak = habit.current_streak,
		best_streak = habit.best_streak,
		total_completions = habit.total_completions,
		last_logged = habit.last_logged,
		last_met_period = habit.last_met_period,
		period_logs = habit.period_logs
	WHERE h.user_id = habit.user_id AND h.id = habit.id
	RETURNING h.* INTO stored;
	RETURN stored;
END
$$;

COMMENT ON FUNCTION alfred._habit_store(alfred.habits) IS
'Internal: write a habit''s streak tally (the columns the streak core computes) back to its row.';

CREATE FUNCTION alfred.log_habit(
	habit_id uuid,
	on_date date DEFAULT NULL,
	notes text DEFAULT NULL,
	duration_minutes int DEFAULT NULL)
RETURNS alfred.habits
LANGUAGE plpgsql VOLATILE
AS $$
-- The hot path: one locking read, one insert, one update; no nested calls
-- but the C fold (_habit_append).
#variable_conflict use_column
DECLARE
	h alfred.habits;
	tz text;
	today date;
	day date;
	updated alfred.habits;
BEGIN
	IF habit_id IS NULL THEN
		RAISE EXCEPTION 'habit_id must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO h FROM alfred.habits WHERE id = log_habit.habit_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'habit "%" does not exist', habit_id
			USING ERRCODE = 'no_data_found';
	END IF;
	SELECT timezone INTO tz FROM alfred.users WHERE id = h.user_id;
	today := ((now() AT TIME ZONE tz) - make_interval(hours => coalesce(h.day_start_hour, 0)))::date;
	day := coalesce(on_date, today);
	IF day > today THEN
		RAISE EXCEPTION 'habit "%" cannot be logged on "%"', h.name, day
			USING ERRCODE = 'invalid_parameter_value',
				DETAIL = format('That date is after the user''s today, %s.', today);
	END IF;
	IF NOT isfinite(day) THEN
		RAISE EXCEPTION 'habit "%" cannot be logged on "%"', h.name, day
			USING ERRCODE = 'invalid_parameter_value', DETAIL = 'The date must be finite.';
	END IF;

	INSERT INTO alfred.habit_logs (user_id, habit_id, logged_date, notes, duration_minutes)
	VALUES (h.user_id, h.id, day, log_habit.notes, log_habit.duration_minutes)
	ON CONFLICT (user_id, habit_id, logged_date) DO NOTHING;
	IF NOT FOUND THEN
		RETURN h;				-- already logged that day: nothing changes
	END IF;

	updated := alfred._habit_append(h, day);
	IF updated.id IS NULL THEN		-- a back-fill: recompute from the history
		updated := alfred._habit_recompute(h, alfred._habit_logged_days(h), today);
	END IF;
	UPDATE alfred.habits
	SET current_streak = updated.current_streak,
		best_streak = updated.best_streak,
		total_completions = updated.total_completions,
		last_logged = updated.last_logged,
		last_met_period = updated.last_met_period,
		period_logs = updated.period_logs
	WHERE user_id = h.user_id AND id = h.id
	RETURNING * INTO h;
	RETURN h;
END
$$;

COMMENT ON FUNCTION alfred.log_habit(uuid, date, text, int) IS
'Log a habit on on_date (NULL: today in the user''s timezone, shifted by the habit''s day_start_hour) and return the habit with its streak updated: in O(1) when the date comes after every earlier log, by a full recompute for a back-fill. Logging a date twice changes nothing; a date after the user''s today raises 22023; an unknown (or invisible) habit raises P0002.';

CREATE FUNCTION alfred.unlog_habit(habit_id uuid, on_date date DEFAULT NULL)
RETURNS alfred.habits
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	r record;
	h alfred.habits;
	today date;
BEGIN
	SELECT * INTO r FROM alfred._habit_for_update(habit_id);
	h := r.habit;
	today := r.today;
	DELETE FROM alfred.habit_logs l
	WHERE l.user_id = h.user_id AND l.habit_id = h.id
		AND l.logged_date = coalesce(on_date, today);
	IF NOT FOUND THEN
		RETURN h;				-- nothing logged that day: nothing changes
	END IF;
	RETURN alfred._habit_store(
		alfred._habit_recompute(h, alfred._habit_logged_days(h), today));
END
$$;

COMMENT ON FUNCTION alfred.unlog_habit(uuid, date) IS
'Remove the log of a habit on on_date (NULL: the user''s today) and return the habit with its streak recomputed from the remaining history (best_streak can go down). A date without a log changes nothing; an unknown (or invisible) habit raises P0002.';

CREATE FUNCTION alfred.recompute_habit(habit_id uuid)
RETURNS alfred.habits
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	r record;
	h alfred.habits;
	today date;
BEGIN
	SELECT * INTO r FROM alfred._habit_for_update(habit_id);
	h := r.habit;
	today := r.today;
	RETURN alfred._habit_store(
		alfred._habit_recompute(h, alfred._habit_logged_days(h), today));
END
$$;

COMMENT ON FUNCTION alfred.recompute_habit(uuid) IS
'Rebuild a habit''s streak columns from its logs (after habit_logs rows were written directly, or when health_check reports streak drift) and return the habit. An unknown (or invisible) habit raises P0002.';

-- An insert validates the schedule (22023) and keeps the streak columns it is
-- given, so that a dump restores as it was (its logs come after it; after an
-- import of logs, recompute_habit); a schedule change recomputes them.
CREATE FUNCTION alfred._habit_schedule_trigger()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM alfred.habit_streak(NEW, '2000-01-01');
		RETURN NEW;
	END IF;
	RETURN alfred._habit_recompute(NEW, alfred._habit_logged_days(NEW),
		alfred.user_today(NEW.user_id, NEW.day_start_hour));
END
$$;

COMMENT ON FUNCTION alfred._habit_schedule_trigger() IS
'Trigger on habits: validates the schedule of a new habit (22023; its streak columns are kept, so a dump restores as it was); recomputes the streak tally when frequency, days_of_week, target_per_week or day_start_hour change.';

CREATE TRIGGER habits_schedule_insert
	BEFORE INSERT ON alfred.habits
	FOR EACH ROW EXECUTE FUNCTION alfred._habit_schedule_trigger();

CREATE TRIGGER habits_schedule_update
	BEFORE UPDATE OF frequency, days_of_week, target_per_week, day_start_hour ON alfred.habits
	FOR EACH ROW
	WHEN (OLD.frequency IS DISTINCT FROM NEW.frequency
		OR OLD.days_of_week IS DISTINCT FROM NEW.days_of_week
		OR OLD.target_per_week IS DISTINCT FROM NEW.target_per_week
		OR OLD.day_start_hour IS DISTINCT FROM NEW.day_start_hour)
	EXECUTE FUNCTION alfred._habit_schedule_trigger();

CREATE FUNCTION alfred.habits_at_risk(user_id uuid)
RETURNS TABLE (habit_id uuid, name text, current_streak int, best_streak int, state text, last_logged date)
LANGUAGE sql STABLE
AS $$
	SELECT h.id, h.name, s.current_streak, s.best_streak, s.state, h.last_logged
	FROM alfred.habits h
	CROSS JOIN LATERAL alfred.habit_streak(h, alfred.user_today(h.user_id, h.day_start_hour)) s
	WHERE h.user_id = habits_at_risk.user_id AND h.active AND s.state = 'at_risk'
	ORDER BY s.current_streak DESC, h.name
$$;

COMMENT ON FUNCTION alfred.habits_at_risk(uuid) IS
'The user''s active habits whose streak is at risk today (in the user''s timezone): a daily or custom habit scheduled today, not yet logged, with a streak above 0; a weekly habit that needs a log on every remaining day of the week. Longest streaks first.';
-- 410_tasks: task completion with recurrence (cron engine) and dependencies,
-- and the task status state machine.
--
-- Status transitions (a direct UPDATE is held to them too):
--   pending, in_progress, blocked  -> any status
--   completed                      -> pending, in_progress   (reopen)
--   failed                         -> pending, in_progress, cancelled   (retry or give up)
--   cancelled                      -> pending                (reopen)
-- Entering completed requires every task it depends on to be completed or
-- cancelled, and sets completed_at; leaving it clears completed_at.  A
-- recurring task that becomes completed spawns its next occurrence.

CREATE FUNCTION alfred.task_next_due(
	recurrence text,
	due timestamptz,
	after timestamptz,
	tz text,
	day_of_month int DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
	l timestamp := due AT TIME ZONE tz;
	d int := coalesce(day_of_month, extract(day FROM l)::int);
	m timestamp;
	candidate timestamptz;
BEGIN
	IF recurrence IS NULL OR due IS NULL OR after IS NULL OR tz IS NULL THEN
		RETURN NULL;
	END IF;
	IF recurrence <> 'monthly' THEN
		RETURN alfred.cron_next(CASE recurrence
			WHEN 'daily' THEN format('%s %s * * *', extract(minute FROM l), extract(hour FROM l))
			WHEN 'weekly' THEN format('%s %s * * %s', extract(minute FROM l), extract(hour FROM l), extract(dow FROM l))
			ELSE recurrence
		END, after, tz);
	END IF;
	-- monthly: day d of each month, clamped to the month's last day
	m := greatest(date_trunc('month', l), date_trunc('month', after AT TIME ZONE tz) - interval '1 month');
	LOOP
		m := m + interval '1 month';
		candidate := (m + make_interval(days => least(d, extract(day FROM m + interval '1 month - 1 day')::int) - 1)
			+ l::time) AT TIME ZONE tz;
		IF candidate > after THEN
			RETURN candidate;
		END IF;
	END LOOP;
END
$$;

COMMENT ON FUNCTION alfred.task_next_due(text, timestamptz, timestamptz, text, int) IS
'The first due time after "after" of a task due at "due" that recurs by recurrence, in the wall-clock time of tz: daily = the same time every day, weekly = the same weekday and time (both through cron_next), monthly = the same time on day day_of_month (default: due''s day) of each month, or the last day of a shorter month; any other recurrence is a cron expression for cron_next.';

-- SECURITY DEFINER: an assignee who completes a task must be held to
-- dependencies they may not see, and spawns the owner's next occurrence.
CREATE FUNCTION alfred._task_status_trigger()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	blocker record;
BEGIN
	IF NEW.recurrence IS NOT NULL AND NEW.recurrence NOT IN ('daily', 'weekly', 'monthly')
		AND NOT alfred.cron_valid(NEW.recurrence) THEN
		RAISE EXCEPTION 'invalid task recurrence "%"', NEW.recurrence
			USING ERRCODE = 'check_violation',
				DETAIL = 'A recurrence is daily, weekly, monthly or a cron expression.';
	END IF;
	IF TG_OP = 'UPDATE' AND NEW.status IS DISTINCT FROM OLD.status AND NOT (
		OLD.status IN ('pending', 'in_progress', 'blocked')
		OR (OLD.status = 'completed' AND NEW.status IN ('pending', 'in_progress'))
		OR (OLD.status = 'failed' AND NEW.status IN ('pending', 'in_progress', 'cancelled'))
		OR (OLD.status = 'cancelled' AND NEW.status = 'pending'))
	THEN
		RAISE EXCEPTION 'task "%" cannot go from "%" to "%"', NEW.title, OLD.status, NEW.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				DETAIL = 'A completed task can only be reopened (pending, in_progress), a failed one retried or cancelled, a cancelled one reopened.';
	END IF;
	IF NEW.status = 'completed' AND (TG_OP = 'INSERT' OR OLD.status <> 'completed') THEN
		SELECT t.id, t.title, t.status INTO blocker
		FROM alfred.task_dependencies d
		JOIN alfred.tasks t ON t.user_id = d.user_id AND t.id = d.depends_on_task_id
		WHERE d.user_id = NEW.user_id AND d.task_id = NEW.id
			AND t.status NOT IN ('completed', 'cancelled')
		ORDER BY t.created_at, t.id
		LIMIT 1;
		IF FOUND THEN
			RAISE EXCEPTION 'task "%" is blocked by unfinished task "%"', NEW.title, blocker.title
				USING ERRCODE = 'object_not_in_prerequisite_state',
					DETAIL = format('Task %s depends on task %s, which is %s.', NEW.id, blocker.id, blocker.status),
					HINT = 'Complete or cancel the blocking task first.';
		END IF;
		NEW.completed_at := coalesce(NEW.completed_at, now());
	ELSIF NEW.status <> 'completed' THEN
		NEW.completed_at := NULL;
	END IF;
	RETURN NEW;
END
$$;

COMMENT ON FUNCTION alfred._task_status_trigger() IS
'Trigger on tasks: validates the recurrence (23514), holds status changes to the state machine (55000), refuses to complete a task with an unfinished dependency (55000, naming it) and keeps completed_at in step with the status.';

CREATE TRIGGER tasks_status
	BEFORE INSERT OR UPDATE OF status, recurrence, completed_at ON alfred.tasks
	FOR EACH ROW EXECUTE FUNCTION alfred._task_status_trigger();

CREATE FUNCTION alfred._task_spawn_trigger()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tz text;
	anchor timestamptz;
	day_of_month int;
	next_due timestamptz;
BEGIN
	SELECT u.timezone INTO tz FROM alfred.users u WHERE u.id = NEW.user_id;
	-- The next slot after the due time, or after now if the task was late
	-- (no overdue copies); a task without a due time recurs from now.  A
	-- monthly task remembers its day of the month (31 stays 31 after a
	-- February 28).
	anchor := date_trunc('minute', coalesce(NEW.due_date, now()));
	day_of_month := coalesce((NEW.metadata->>'recurrence_day')::int,
		extract(day FROM anchor AT TIME ZONE tz)::int);
	next_due := alfred.task_next_due(NEW.recurrence, anchor, greatest(anchor, now()), tz, day_of_month);
	INSERT INTO alfred.tasks (user_id, project_id, title, description, priority, status,
		due_date, recurrence, tags, source, assigned_to, created_by, estimated_duration, metadata)
	VALUES (NEW.user_id, NEW.project_id, NEW.title, NEW.description, NEW.priority, 'pending',
		next_due, NEW.recurrence, NEW.tags, NEW.source, NEW.assigned_to, NEW.created_by,
		NEW.estimated_duration,
		NEW.metadata || jsonb_build_object('previous_occurrence', NEW.id)
			|| CASE WHEN NEW.recurrence = 'monthly'
				THEN jsonb_build_object('recurrence_day', day_of_month) ELSE '{}' END);
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION alfred._task_spawn_trigger() IS
'Trigger on tasks: when a recurring task becomes completed, inserts its next occurrence (pending, due at task_next_due in the owner''s timezone; metadata.previous_occurrence = the completed task, metadata.recurrence_day = the day of a monthly task).';

CREATE TRIGGER tasks_spawn_next
	AFTER UPDATE OF status ON alfred.tasks
	FOR EACH ROW
	WHEN (NEW.status = 'completed' AND OLD.status <> 'completed' AND NEW.recurrence IS NOT NULL)
	EXECUTE FUNCTION alfred._task_spawn_trigger();

CREATE FUNCTION alfred.complete_task(task_id uuid)
RETURNS alfred.tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	t alfred.tasks;
BEGIN
	IF task_id IS NULL THEN
		RAISE EXCEPTION 'task_id must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO t FROM alfred.tasks WHERE id = complete_task.task_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'task "%" does not exist', task_id USING ERRCODE = 'no_data_found';
	END IF;
	IF t.status = 'completed' THEN
		RETURN t;				-- completing twice changes nothing (and spawns nothing)
	END IF;
	UPDATE alfred.tasks SET status = 'completed'
	WHERE user_id = t.user_id AND id = t.id
	RETURNING * INTO t;
	RETURN t;
END
$$;

COMMENT ON FUNCTION alfred.complete_task(uuid) IS
'Complete a task and return it: sets completed_at; a recurring task (daily, weekly, monthly or a cron expression) spawns its next occurrence, due at the next slot after its due time (or after now when it was late) in the owner''s timezone. Completing a completed task changes nothing. 55000 when a task it depends on is unfinished (naming it) or when it is cancelled or failed; P0002 for an unknown task.';

CREATE FUNCTION alfred.add_task_dependency(task_id uuid, depends_on uuid)
RETURNS alfred.task_dependencies
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	t alfred.tasks;
	d alfred.tasks;
	dep alfred.task_dependencies;
BEGIN
	IF task_id IS NULL OR depends_on IS NULL THEN
		RAISE EXCEPTION 'task_id and depends_on must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO t FROM alfred.tasks WHERE id = add_task_dependency.task_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'task "%" does not exist', task_id USING ERRCODE = 'no_data_found';
	END IF;
	SELECT * INTO d FROM alfred.tasks WHERE id = add_task_dependency.depends_on;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'task "%" does not exist', depends_on USING ERRCODE = 'no_data_found';
	END IF;
	IF t.user_id <> d.user_id THEN
		RAISE EXCEPTION 'task "%" cannot depend on task "%" of another user', t.title, d.title
			USING ERRCODE = 'invalid_parameter_value',
				DETAIL = 'A task can only depend on a task of the same user.';
	END IF;
	IF t.id = d.id THEN
		RAISE EXCEPTION 'task "%" cannot depend on itself', t.title
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO alfred.task_dependencies AS x (user_id, task_id, depends_on_task_id)
	VALUES (t.user_id, t.id, d.id)
	ON CONFLICT DO NOTHING
	RETURNING * INTO dep;
	IF NOT FOUND THEN			-- already there
		SELECT * INTO dep FROM alfred.task_dependencies x
		WHERE x.user_id = t.user_id AND x.task_id = t.id AND x.depends_on_task_id = d.id;
	END IF;
	RETURN dep;
END
$$;

COMMENT ON FUNCTION alfred.add_task_dependency(uuid, uuid) IS
'Make task_id wait for depends_on (complete_task refuses it until depends_on is completed or cancelled) and return the dependency; adding it twice changes nothing. P0002 for an unknown task, 22023 for a task of another user or the task itself; 23514 when the dependency would close a cycle.';
-- 420_dashboards: seed 003's dashboard, proactive and health-check queries as
-- functions, evaluated in each user's timezone, and alfred.today(user_id),
-- the daily briefing that brings them together.
--
-- "Today" is user_today(user_id) (users.timezone, user_settings.day_start_hour);
-- a habit's today also honours its own day_start_hour.  Day boundaries for
-- timestamps are the user's local midnights.  Every function runs with the
-- caller's rights, so row-level security decides what it sees.

CREATE FUNCTION alfred._user_clock(user_id uuid,
	OUT today date, OUT tz text, OUT day_start timestamptz, OUT day_end timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT c.today, u.timezone,
		c.today::timestamp AT TIME ZONE u.timezone,
		(c.today + 1)::timestamp AT TIME ZONE u.timezone
	FROM alfred.users u,
		LATERAL (SELECT alfred.user_today(u.id) AS today) c
	WHERE u.id = _user_clock.user_id
$$;

COMMENT ON FUNCTION alfred._user_clock(uuid) IS
'Internal to the dashboards: the user''s today, timezone, and the instants at which today starts and ends (local midnights).';

CREATE FUNCTION alfred.priority_rank(priority text)
RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT CASE priority WHEN 'critical' THEN 0 WHEN 'urgent' THEN 1 WHEN 'high' THEN 2
		WHEN 'medium' THEN 3 WHEN 'low' THEN 4 ELSE 5 END
$$;

COMMENT ON FUNCTION alfred.priority_rank(text) IS
'Sort key of a task priority: critical 0, urgent 1, high 2, medium 3, low 4.';

CREATE FUNCTION alfred.priority_tasks(user_id uuid)
RETURNS TABLE (task_id uuid, title text, priority text, status text, due_date timestamptz, project_id uuid)
LANGUAGE sql STABLE
AS $$
	SELECT t.id, t.title, t.priority, t.status, t.due_date, t.project_id
	FROM alfred.tasks t, alfred._user_clock(priority_tasks.user_id) c
	WHERE t.user_id = priority_tasks.user_id
		AND t.status IN ('pending', 'in_progress')
		AND (t.due_date IS NULL OR t.due_date < c.day_end)
	ORDER BY alfred.priority_rank(t.priority), t.due_date NULLS LAST, t.created_at, t.id
$$;

COMMENT ON FUNCTION alfred.priority_tasks(uuid) IS
'Today''s priority tasks (seed 003): pending or in-progress tasks due by the end of the user''s today, or undated; critical first, then by due time (undated last).';

CREATE FUNCTION alfred.habits_today(user_id uuid)
RETURNS TABLE (habit_id uuid, name text, time_preference text, scheduled_today boolean,
	completed_today boolean, current_streak int, best_streak int, state text)
LANGUAGE sql STABLE
AS $$
	SELECT h.id, h.name, h.time_preference,
		h.frequency <> 'custom' OR extract(isodow FROM d.today)::int = ANY (h.days_of_week),
		h.last_logged IS NOT DISTINCT FROM d.today,
		s.current_streak, s.best_streak, s.state
	FROM alfred.habits h
		CROSS JOIN LATERAL (SELECT alfred.user_today(h.user_id, h.day_start_hour) AS today) d
		CROSS JOIN LATERAL alfred.habit_streak(h, d.today) s
	WHERE h.user_id = habits_today.user_id AND h.active
	ORDER BY array_position('{morning,afternoon,evening,anytime}'::text[], h.time_preference) NULLS LAST,
		h.name, h.id
$$;

COMMENT ON FUNCTION alfred.habits_today(uuid) IS
'The user''s active habits for today (seed 003): whether today is scheduled (custom habits: their weekdays; weekly habits: every day of the week) and logged, the streak and state as of today; morning first, then afternoon, evening, anytime.';

CREATE FUNCTION alfred.project_health(user_id uuid)
RETURNS TABLE (project_id uuid, name text, status text, last_update_at timestamptz, days_since_update int)
LANGUAGE sql STABLE
AS $$
	SELECT p.id, p.name, p.status, u.last_update_at,
		c.today - (coalesce(u.last_update_at, p.created_at) AT TIME ZONE c.tz)::date
	FROM alfred.projects p
		CROSS JOIN alfred._user_clock(project_health.user_id) c
		CROSS JOIN LATERAL (SELECT max(pu.created_at) AS last_update_at
			FROM alfred.project_updates pu
			WHERE pu.user_id = p.user_id AND pu.project_id = p.id) u
	WHERE p.user_id = project_health.user_id AND p.status = 'active'
	ORDER BY 5 DESC, p.name, p.id
$$;

COMMENT ON FUNCTION alfred.project_health(uuid) IS
'The user''s active projects with their last update and the days since it (since creation for a project never updated), in the user''s calendar; the most neglected first (seed 003).';

CREATE FUNCTION alfred.stale_projects(user_id uuid, days int DEFAULT 7)
RETURNS TABLE (project_id uuid, name text, last_update_at timestamptz, days_since_update int)
LANGUAGE sql STABLE
AS $$
	SELECT h.project_id, h.name, h.last_update_at, h.days_since_update
	FROM alfred.project_health(stale_projects.user_id) h
	WHERE h.days_since_update >= stale_projects.days
$$;

COMMENT ON FUNCTION alfred.stale_projects(uuid, int) IS
'Active projects without an update for at least days days (default 7; counted from creation when never updated, so a new project is not stale), most neglected first (seed 003).';

CREATE FUNCTION alfred.weekly_stats(user_id uuid,
	OUT since date, OUT tasks_completed bigint, OUT habits_logged bigint, OUT project_updates bigint)
LANGUAGE sql STABLE
AS $$
	SELECT c.today - 6,
		(SELECT count(*) FROM alfred.tasks t
			WHERE t.user_id = weekly_stats.user_id AND t.status = 'completed'
				AND t.completed_at >= c.day_start - interval '6 days'),
		(SELECT count(*) FROM alfred.habit_logs l
			WHERE l.user_id = weekly_stats.user_id AND l.logged_date BETWEEN c.today - 6 AND c.today),
		(SELECT count(*) FROM alfred.project_updates pu
			WHERE pu.user_id = weekly_stats.user_id AND pu.created_at >= c.day_start - interval '6 days')
	FROM alfred._user_clock(weekly_stats.user_id) c
$$;

COMMENT ON FUNCTION alfred.weekly_stats(uuid) IS
'The user''s last seven days (today and the six before, in the user''s calendar; since = the first): tasks completed, habit logs, project updates (seed 003''s weekly statistics, without its join fan-out).';

CREATE FUNCTION alfred.overdue_tasks(user_id uuid)
RETURNS TABLE (task_id uuid, title text, due_date timestamptz, priority text, status text, days_overdue int)
LANGUAGE sql STABLE
AS $$
	SELECT t.id, t.title, t.due_date, t.priority, t.status,
		c.today - (t.due_date AT TIME ZONE c.tz)::date
	FROM alfred.tasks t, alfred._user_clock(overdue_tasks.user_id) c
	WHERE t.user_id = overdue_tasks.user_id
		AND t.status IN ('pending', 'in_progress', 'blocked')
		AND t.due_date < c.day_start
	ORDER BY t.due_date, alfred.priority_rank(t.priority), t.id
$$;

COMMENT ON FUNCTION alfred.overdue_tasks(uuid) IS
'Open tasks (pending, in progress, blocked) due before the user''s today, with the days overdue; oldest first (seed 003).';

CREATE FUNCTION alfred.due_notifications(user_id uuid, at timestamptz DEFAULT now())
RETURNS SETOF alfred.notifications
LANGUAGE sql STABLE
AS $$
	SELECT n.*
	FROM alfred.notifications n
	WHERE n.user_id = due_notifications.user_id AND n.status = 'pending'
		AND coalesce(n.scheduled_for, n.created_at) <= due_notifications.at
	ORDER BY coalesce(n.scheduled_for, n.created_at), n.id
$$;

COMMENT ON FUNCTION alfred.due_notifications(uuid, timestamptz) IS
'The user''s pending notifications due at "at" (default now: scheduled_for passed, or unscheduled), oldest first (seed 003''s notifications to send).';

CREATE FUNCTION alfred.today(user_id uuid)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
	c record;
	briefing jsonb;
BEGIN
	IF user_id IS NULL THEN
		RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO c FROM alfred._user_clock(today.user_id);
	IF c.today IS NULL THEN
		RAISE EXCEPTION 'user "%" does not exist', user_id USING ERRCODE = 'invalid_parameter_value';
	END IF;
	briefing := jsonb_build_object(
		'date', c.today,
		'timezone', c.tz,
		'priority_tasks', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM alfred.priority_tasks(user_id) x),
		'overdue_tasks', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM alfred.overdue_tasks(user_id) x),
		'habits', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM alfred.habits_today(user_id) x),
		'habits_at_risk', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM alfred.habits_at_risk(user_id) x),
		'project_health', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM alfred.project_health(user_id) x),
		'stale_projects', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM alfred.stale_projects(user_id) x),
		'weekly_stats', (SELECT to_jsonb(x) FROM alfred.weekly_stats(user_id) x),
		'notifications', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', n.id, 'type', n.type,
				'title', n.title, 'message', n.message, 'priority', n.priority,
				'scheduled_for', n.scheduled_for)), '[]')
			FROM alfred.due_notifications(user_id) n));
	RETURN briefing || jsonb_build_object('summary', format(
		'%s: %s priority task(s), %s overdue; habits %s of %s done, %s streak(s) at risk; %s stale project(s).',
		to_char(c.today, 'FMDay DD Mon YYYY'),
		jsonb_array_length(briefing->'priority_tasks'),
		jsonb_array_length(briefing->'overdue_tasks'),
		(SELECT count(*) FROM jsonb_array_elements(briefing->'habits') h WHERE (h->>'completed_today')::boolean),
		(SELECT count(*) FROM jsonb_array_elements(briefing->'habits') h WHERE (h->>'scheduled_today')::boolean),
		jsonb_array_length(briefing->'habits_at_risk'),
		jsonb_array_length(briefing->'stale_projects')));
END
$$;

COMMENT ON FUNCTION alfred.today(uuid) IS
'The daily briefing of a user as one jsonb: date and timezone, priority_tasks, overdue_tasks, habits (today''s), habits_at_risk, project_health, stale_projects, weekly_stats, due notifications and a one-line summary (the scheduler''s daily_briefing tool sends it). 22023 for an unknown user.';

-- Orphans are counted over the whole database (counts only): under
-- row-level security a caller who sees a task assigned to her but not its
-- owner must not take it for an orphan.
CREATE FUNCTION alfred._orphan_counts()
RETURNS TABLE (issue text, count bigint, description text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT 'orphaned_tasks', count(*), 'tasks whose user does not exist'
	FROM alfred.tasks t WHERE NOT EXISTS (SELECT FROM alfred.users u WHERE u.id = t.user_id)
	UNION ALL
	SELECT 'orphaned_habits', count(*), 'habits whose user does not exist'
	FROM alfred.habits h WHERE NOT EXISTS (SELECT FROM alfred.users u WHERE u.id = h.user_id)
	UNION ALL
	SELECT 'orphaned_logs', count(*), 'habit logs whose habit does not exist'
	FROM alfred.habit_logs l WHERE NOT EXISTS (SELECT FROM alfred.habits h
		WHERE h.user_id = l.user_id AND h.id = l.habit_id)
$$;

COMMENT ON FUNCTION alfred._orphan_counts() IS
'Internal to health_check: orphaned tasks, habits and habit logs in the whole database (counts only; security definer so that row-level security cannot fake an orphan).';

CREATE FUNCTION alfred.health_check()
RETURNS TABLE (issue text, count bigint, description text)
LANGUAGE sql STABLE
AS $$
	SELECT * FROM alfred._orphan_counts()
	UNION ALL
	SELECT 'broken_streaks', count(*), 'habits whose stored streak differs from a recompute of their logs (fix: recompute_habit)'
	FROM alfred.habits h
		CROSS JOIN LATERAL alfred._habit_recompute(h, alfred._habit_logged_days(h),
			alfred.user_today(h.user_id, h.day_start_hour)) r
	WHERE (h.current_streak, h.best_streak, h.total_completions, h.last_logged, h.last_met_period, h.period_logs)
		IS DISTINCT FROM (r.current_streak, r.best_streak, r.total_completions, r.last_logged, r.last_met_period, r.period_logs)
$$;

COMMENT ON FUNCTION alfred.health_check() IS
'Seed 003''s health checks: orphaned tasks, habits and habit logs in the whole database (alfred''s foreign keys rule them out, so any count above 0 is a bug) and, over the habits the caller may see, broken streaks (habits whose stored streak tally differs from a full recompute of their logs; a streak that simply lapsed is not broken, habit_streak reads it as 0).';
-- 430_conversation_inbox: learned preferences (seed 003), the chat session
-- lifecycle (seed 001) and idempotent inbox ingestion (seed 002).

CREATE FUNCTION alfred._require_user(user_id uuid)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
	IF user_id IS NULL THEN
		RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT EXISTS (SELECT FROM alfred.users u WHERE u.id = _require_user.user_id) THEN
		RAISE EXCEPTION 'user "%" does not exist', user_id USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;

COMMENT ON FUNCTION alfred._require_user(uuid) IS
'Internal: raises 22004 for a NULL user id and 22023 for a user that does not exist (or that the caller cannot see).';

------------------------------------------------------------------------------
-- Learned preferences
------------------------------------------------------------------------------

CREATE FUNCTION alfred.learn_preference(user_id uuid, key text, value text, confidence real DEFAULT 0.5)
RETURNS alfred.learned_preferences
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	learned alfred.learned_preferences;
BEGIN
	PERFORM alfred._require_user(user_id);
	IF key IS NULL OR value IS NULL OR confidence IS NULL THEN
		RAISE EXCEPTION 'key, value and confidence must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT confidence BETWEEN 0 AND 1 THEN
		RAISE EXCEPTION 'confidence % is out of range', confidence
			USING ERRCODE = 'invalid_parameter_value', DETAIL = 'A confidence is between 0 and 1.';
	END IF;
	IF EXISTS (SELECT FROM alfred.user_settings s
			   WHERE s.user_id = learn_preference.user_id AND NOT s.enable_preference_learning) THEN
		SELECT * INTO learned FROM alfred.learned_preferences p
		WHERE p.user_id = learn_preference.user_id AND p.key = learn_preference.key;
		RETURN learned;			-- the user turned learning off: nothing changes
	END IF;
	INSERT INTO alfred.learned_preferences AS p (user_id, key, value, confidence)
	VALUES (learn_preference.user_id, learn_preference.key, learn_preference.value, learn_preference.confidence)
	ON CONFLICT ON CONSTRAINT learned_preferences_key DO UPDATE SET
		confidence = CASE
			WHEN p.value = EXCLUDED.value THEN least(1, 1 - (1 - p.confidence) * (1 - EXCLUDED.confidence))
			WHEN EXCLUDED.confidence > p.confidence THEN EXCLUDED.confidence
			ELSE p.confidence END,
		learned_at = CASE WHEN p.value <> EXCLUDED.value AND EXCLUDED.confidence > p.confidence
			THEN now() ELSE p.learned_at END,
		value = CASE WHEN p.value <> EXCLUDED.value AND EXCLUDED.confidence > p.confidence
			THEN EXCLUDED.value ELSE p.value END
	RETURNING p.* INTO learned;
	RETURN learned;
END
$$;

COMMENT ON FUNCTION alfred.learn_preference(uuid, text, text, real) IS
'Record evidence that the user prefers value for key, with confidence c in [0, 1], and return the preference. Rule: a new key is stored with c; the same value again is independent evidence, so the confidence becomes 1 - (1 - old)(1 - c) (0.5 then 0.5 gives 0.75); a different value replaces the stored one, with confidence c and a new learned_at, only when c is higher than the stored confidence, else nothing changes. Nothing is learned while user_settings.enable_preference_learning is off. 22023 for a confidence out of range or an unknown user, 22004 for NULLs.';

------------------------------------------------------------------------------
-- Chat sessions
------------------------------------------------------------------------------

CREATE FUNCTION alfred.add_message(
	user_id uuid,
	role text,
	content text,
	metadata jsonb DEFAULT '{}',
	session_id uuid DEFAULT NULL)
RETURNS alfred.chat_messages
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	s alfred.chat_sessions;
	msg alfred.chat_messages;
	new_session boolean := false;
	r text := CASE role WHEN 'user_message' THEN 'user' WHEN 'ai_response' THEN 'assistant'
		WHEN 'system_notification' THEN 'system' ELSE role END;
BEGIN
	PERFORM alfred._require_user(user_id);
	-- One writer per user: the ai_contexts row is the lock.
	INSERT INTO alfred.ai_contexts AS c (user_id) VALUES (add_message.user_id)
	ON CONFLICT ON CONSTRAINT ai_contexts_pkey DO NOTHING;
	PERFORM FROM alfred.ai_contexts c WHERE c.user_id = add_message.user_id FOR UPDATE;

	IF session_id IS NOT NULL THEN
		SELECT * INTO s FROM alfred.chat_sessions cs
		WHERE cs.user_id = add_message.user_id AND cs.id = add_message.session_id;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'chat session "%" does not exist', session_id
				USING ERRCODE = 'no_data_found';
		END IF;
		IF NOT s.is_active OR s.last_activity_at < now() - interval '24 hours' THEN
			RAISE EXCEPTION 'chat session "%" has ended', session_id
				USING ERRCODE = 'object_not_in_prerequisite_state',
					DETAIL = 'A session ends when closed or after 24 hours without a message.',
					HINT = 'Add the message without a session_id to start a new session.';
		END IF;
	ELSE
		-- The user's latest active session, unless it idled out.
		UPDATE alfred.chat_sessions cs SET is_active = false
		WHERE cs.user_id = add_message.user_id AND cs.is_active
			AND cs.last_activity_at < now() - interval '24 hours';
		SELECT * INTO s FROM alfred.chat_sessions cs
		WHERE cs.user_id = add_message.user_id AND cs.is_active
		ORDER BY cs.last_activity_at DESC LIMIT 1;
		IF NOT FOUND THEN
			INSERT INTO alfred.chat_sessions (user_id) VALUES (add_message.user_id) RETURNING * INTO s;
			new_session := true;
		END IF;
	END IF;

	INSERT INTO alfred.chat_messages (user_id, session_id, role, content, metadata)
	VALUES (add_message.user_id, s.id, r, add_message.content, coalesce(add_message.metadata, '{}'))
	RETURNING * INTO msg;
	UPDATE alfred.chat_sessions cs
	SET message_count = cs.message_count + 1, last_activity_at = greatest(cs.last_activity_at, msg.created_at)
	WHERE cs.user_id = s.user_id AND cs.id = s.id;
	UPDATE alfred.ai_contexts c
	SET total_messages = c.total_messages + 1,
		total_sessions = c.total_sessions + new_session::int,
		average_session_length = (c.total_messages + 1)::float8 / greatest(c.total_sessions + new_session::int, 1)
	WHERE c.user_id = add_message.user_id;
	RETURN msg;
END
$$;

COMMENT ON FUNCTION alfred.add_message(uuid, text, text, jsonb, uuid) IS
'Add a chat message (role user, assistant or system; seed 001''s user_message, ai_response and system_notification are accepted) and return it. Without session_id it goes to the user''s active session, which ends after 24 hours without a message: then a new session starts. The session''s message_count and last_activity_at and the user''s ai_contexts totals (total_messages, total_sessions, average_session_length) are kept. 55000 for a given session that has ended, 22023 for an unknown user, P0002 for an unknown session, 23514 for an empty message or another role.';

CREATE FUNCTION alfred.close_chat_session(session_id uuid)
RETURNS alfred.chat_sessions
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	s alfred.chat_sessions;
BEGIN
	UPDATE alfred.chat_sessions cs SET is_active = false
	WHERE cs.id = close_chat_session.session_id
	RETURNING * INTO s;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'chat session "%" does not exist', session_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN s;
END
$$;

COMMENT ON FUNCTION alfred.close_chat_session(uuid) IS
'End a chat session explicitly (seed 001: "explicit user close"); the next add_message without a session starts a new one. P0002 for an unknown session.';

------------------------------------------------------------------------------
-- Inbox
------------------------------------------------------------------------------

CREATE FUNCTION alfred.ingest_item(
	user_id uuid,
	source_type text,
	source_provider text,
	source_id text,
	title text DEFAULT NULL,
	body_preview text DEFAULT NULL,
	body_full text DEFAULT NULL,
	sender text DEFAULT NULL,
	recipients jsonb DEFAULT '[]',
	start_datetime timestamptz DEFAULT NULL,
	end_datetime timestamptz DEFAULT NULL,
	received_datetime timestamptz DEFAULT NULL,
	raw_metadata jsonb DEFAULT '{}',
	source_updated_at timestamptz DEFAULT NULL,
	source_account_id uuid DEFAULT NULL)
RETURNS alfred.items
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	item alfred.items;
BEGIN
	PERFORM alfred._require_user(user_id);
	INSERT INTO alfred.items AS i (user_id, source_type, source_provider, source_id, title,
		body_preview, body_full, sender, recipients, start_datetime, end_datetime,
		received_datetime, raw_metadata, source_updated_at, source_account_id)
	VALUES (ingest_item.user_id, ingest_item.source_type, ingest_item.source_provider,
		ingest_item.source_id, ingest_item.title, ingest_item.body_preview, ingest_item.body_full,
		ingest_item.sender, coalesce(ingest_item.recipients, '[]'), ingest_item.start_datetime,
		ingest_item.end_datetime, ingest_item.received_datetime, coalesce(ingest_item.raw_metadata, '{}'),
		ingest_item.source_updated_at, ingest_item.source_account_id)
	ON CONFLICT ON CONSTRAINT items_source_key DO UPDATE SET
		source_type = EXCLUDED.source_type, title = EXCLUDED.title,
		body_preview = EXCLUDED.body_preview, body_full = EXCLUDED.body_full,
		sender = EXCLUDED.sender, recipients = EXCLUDED.recipients,
		start_datetime = EXCLUDED.start_datetime, end_datetime = EXCLUDED.end_datetime,
		received_datetime = EXCLUDED.received_datetime, raw_metadata = EXCLUDED.raw_metadata,
		source_updated_at = EXCLUDED.source_updated_at,
		source_account_id = coalesce(EXCLUDED.source_account_id, i.source_account_id)
	WHERE CASE WHEN EXCLUDED.source_updated_at IS NOT NULL
		THEN i.source_updated_at IS NULL OR EXCLUDED.source_updated_at > i.source_updated_at
		ELSE i.source_updated_at IS NULL
			AND (i.source_type, i.title, i.body_preview, i.body_full, i.sender, i.recipients,
				 i.start_datetime, i.end_datetime, i.received_datetime, i.raw_metadata)
			IS DISTINCT FROM
				(EXCLUDED.source_type, EXCLUDED.title, EXCLUDED.body_preview, EXCLUDED.body_full,
				 EXCLUDED.sender, EXCLUDED.recipients, EXCLUDED.start_datetime, EXCLUDED.end_datetime,
				 EXCLUDED.received_datetime, EXCLUDED.raw_metadata) END
	RETURNING i.* INTO item;
	IF NOT FOUND THEN			-- the same or an older version: nothing changes
		SELECT * INTO item FROM alfred.items i
		WHERE i.user_id = ingest_item.user_id AND i.source_provider = ingest_item.source_provider
			AND i.source_id = ingest_item.source_id;
	END IF;
	RETURN item;
END
$$;

COMMENT ON FUNCTION alfred.ingest_item(uuid, text, text, text, text, text, text, text, jsonb, timestamptz, timestamptz, timestamptz, jsonb, timestamptz, uuid) IS
'Store an e-mail or calendar event from a provider and return the item; idempotent on (user, source_provider, source_id). A second delivery updates the row in place when it is a newer version (source_updated_at later than the stored one), or, for a provider without versions, when its content differs; the same or an older version changes nothing. is_archived (the user''s) is kept. 23514 for an unknown source type or provider, 22023 for an unknown user.';
-- 500_proposals.sql: the one state machine for every action an agent wants to
-- take (seed 001 TaskAction, seed 002 action_proposals, seed 004 approvals).
-- C in src/core/proposal.c (transition table, payload shapes, edit distance),
-- src/proposal_sql.c (its SQL wrappers) and src/proposal_guard.c (the trigger).
--
--   pending --approve--> approved --start--> executing --finish ok--> executed
--      |                    |                    '--finish error--> failed --retry--> approved
--      +--reject--> rejected <--reject--'
--      '--(expires_at passes)--> expired
--
-- Every API function locks the proposal row; a decision taken on a proposal
-- that a concurrent transaction changed meanwhile fails with 40001, so of two
-- people deciding at once exactly one wins.

/*---- C functions ----*/

CREATE FUNCTION alfred.check_proposal_payload(action_type text, payload jsonb, edited boolean DEFAULT false)
RETURNS void
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_check_proposal_payload';
COMMENT ON FUNCTION alfred.check_proposal_payload(text, jsonb, boolean) IS
'Raises 22023 naming the missing, unknown or invalid key when payload does not fit the shape of action_type (task actions create/update/complete/delete/query, seed 002''s email and calendar actions); other action types take any JSON object';

CREATE FUNCTION alfred.proposal_edit_distance(proposed jsonb, edited jsonb)
RETURNS double precision
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_proposal_edit_distance_sql';
COMMENT ON FUNCTION alfred.proposal_edit_distance(jsonb, jsonb) IS
'Normalized edit distance in [0, 1] between two JSON values: the edit cost (Levenshtein over strings'' code points and array elements, 1 per changed scalar, a key''s whole content when added or removed) divided by the content of the larger value';

CREATE FUNCTION alfred.proposal_edit_signal(distance double precision)
RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_proposal_edit_signal_sql';
COMMENT ON FUNCTION alfred.proposal_edit_signal(double precision) IS
'The preference signal of an approval with the given edit distance: approved at 0, edited_lightly below 0.25, edited_heavily from 0.25';

CREATE FUNCTION alfred.proposal_transition_allowed(from_status text, to_status text)
RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_proposal_transition_allowed_sql';
COMMENT ON FUNCTION alfred.proposal_transition_allowed(text, text) IS
'Whether the proposal state machine allows a move from from_status to to_status (the table the guard trigger enforces)';

CREATE FUNCTION alfred.proposals_guard()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'alfred_proposals_guard';
COMMENT ON FUNCTION alfred.proposals_guard() IS
'Trigger: a proposal''s status changes only along the state machine (else 55000 naming both statuses); entering a status stamps its timestamp; payload, action and history columns cannot be written directly';

CREATE TRIGGER proposals_guard
	BEFORE UPDATE ON alfred.proposals
	FOR EACH ROW EXECUTE FUNCTION alfred.proposals_guard();

-- The API finds a proposal by its id alone (the primary key leads with user_id).
CREATE UNIQUE INDEX proposals_id_key ON alfred.proposals (id);

/*---- internal helpers ----*/

CREATE FUNCTION alfred._proposal_lock(proposal_id uuid)
RETURNS alfred.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	seen text;
	locked record;
BEGIN
	IF proposal_id IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'proposal_id must not be null';
	END IF;
	-- what this statement's snapshot shows, then the row as locked: if a
	-- concurrent transaction changed it in between, the caller decided on a
	-- stale proposal
	SELECT x.xmin::text INTO seen FROM alfred.proposals x WHERE x.id = _proposal_lock.proposal_id;
	SELECT x AS p, x.xmin::text AS xmin INTO locked
	  FROM alfred.proposals x WHERE x.id = _proposal_lock.proposal_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'no_data_found',
			MESSAGE = format('proposal "%s" does not exist', proposal_id);
	END IF;
	IF seen IS DISTINCT FROM locked.xmin THEN
		RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
			MESSAGE = format('proposal "%s" was changed by a concurrent transaction', proposal_id),
			DETAIL = format('It is now %s.', (locked.p).status),
			HINT = 'Read the proposal again before deciding.';
	END IF;
	RETURN locked.p;
END
$$;
COMMENT ON FUNCTION alfred._proposal_lock(uuid) IS
'Internal: locks a proposal for a state change; P0002 when it does not exist, 40001 when a concurrent transaction changed it after the calling statement''s snapshot';

CREATE FUNCTION alfred._proposal_signal(p alfred.proposals, kind text, extra jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- plpgsql, not sql: the INSERT's plan is cached across calls
	INSERT INTO alfred.preference_signals (user_id, item_id, proposal_id, signal_type, context)
	VALUES (p.user_id, p.related_item_id, p.id, kind,
			jsonb_build_object('agent_name', p.agent_name, 'action_type', p.action_type) || coalesce(extra, '{}'));
END
$$;
COMMENT ON FUNCTION alfred._proposal_signal(alfred.proposals, text, jsonb) IS
'Internal: records a human decision on a proposal in preference_signals';

CREATE FUNCTION alfred._proposal_not_in(p alfred.proposals, wanted text, hint text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
	IF hint IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('proposal "%s" is not %s', p.id, wanted),
			DETAIL = format('It is %s.', p.status);
	END IF;
	RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
		MESSAGE = format('proposal "%s" is not %s', p.id, wanted),
		DETAIL = format('It is %s.', p.status),
		HINT = hint;
END
$$;
COMMENT ON FUNCTION alfred._proposal_not_in(alfred.proposals, text, text) IS
'Internal: raises 55000 saying the proposal is not in the wanted status';

/* A payload time: with an offset as given, without one in the user's timezone. */
CREATE FUNCTION alfred._proposal_time(value text, tz text)
RETURNS timestamptz
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN value ~ '^\d{4}-\d\d-\d\d[Tt ].*([Zz]|[+-]\d\d(:?\d\d)?)$'
				THEN value::timestamptz
				ELSE value::timestamp AT TIME ZONE tz END;
$$;
COMMENT ON FUNCTION alfred._proposal_time(text, text) IS
'Internal: an ISO 8601 time from a payload; without an offset it is wall time in tz';

/*---- the built-in executor of task actions ----*/

CREATE FUNCTION alfred._proposal_apply_task_fields(uid uuid, tid uuid, pl jsonb, tz text)
RETURNS alfred.tasks
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t alfred.tasks;
BEGIN
	UPDATE alfred.tasks x SET
		title = CASE WHEN pl ? 'title' THEN pl->>'title' ELSE x.title END,
		description = CASE WHEN pl ? 'description' THEN pl->>'description' ELSE x.description END,
		priority = CASE WHEN pl ? 'priority' THEN pl->>'priority' ELSE x.priority END,
		due_date = CASE WHEN pl ? 'due_date' THEN alfred._proposal_time(pl->>'due_date', tz) ELSE x.due_date END,
		tags = CASE WHEN pl ? 'tags' THEN ARRAY(SELECT jsonb_array_elements_text(pl->'tags')) ELSE x.tags END,
		project_id = CASE WHEN pl ? 'project_id' THEN (pl->>'project_id')::uuid ELSE x.project_id END,
		updated_at = now()
	WHERE x.user_id = uid AND x.id = tid
	RETURNING * INTO t;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'no_data_found', MESSAGE = format('task "%s" does not exist', tid);
	END IF;
	RETURN t;
END
$$;
COMMENT ON FUNCTION alfred._proposal_apply_task_fields(uuid, uuid, jsonb, text) IS
'Internal: writes the task fields present in a create/update payload to one of the user''s tasks';

CREATE FUNCTION alfred._proposal_query_tasks(uid uuid, pl jsonb, tz text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	f jsonb := coalesce(pl->'filters', '{}');
	statuses text[] := ARRAY(SELECT jsonb_array_elements_text(
		CASE jsonb_typeof(f->'status') WHEN 'array' THEN f->'status' ELSE jsonb_build_array(f->'status') END));
	found jsonb;
BEGIN
	SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.due_date NULLS LAST, t.created_at, t.id), '[]')
	  INTO found
	  FROM (SELECT *
			  FROM alfred.tasks t
			 WHERE t.user_id = uid
			   AND (NOT pl ? 'task_id' OR t.id = (pl->>'task_id')::uuid)
			   AND (NOT f ? 'completed' OR (t.status = 'completed') = (f->>'completed')::boolean)
			   AND (NOT f ? 'status' OR t.status = ANY (statuses))
			   AND (NOT f ? 'priority' OR t.priority = f->>'priority')
			   AND (NOT f ? 'due_before' OR t.due_date < alfred._proposal_time(f->>'due_before', tz))
			   AND (NOT f ? 'due_after' OR t.due_date >= alfred._proposal_time(f->>'due_after', tz))
			   AND (NOT f ? 'search' OR strpos(lower(t.title || ' ' || coalesce(t.description, '')),
											   lower(f->>'search')) > 0)
			   AND (NOT f ? 'tag' OR f->>'tag' = ANY (t.tags))
			   AND (NOT f ? 'project_id' OR t.project_id = (f->>'project_id')::uuid)
			 ORDER BY t.due_date NULLS LAST, t.created_at, t.id
			 LIMIT coalesce((f->>'limit')::int, 50)) t;
	RETURN jsonb_build_object('count', jsonb_array_length(found), 'tasks', found);
END
$$;
COMMENT ON FUNCTION alfred._proposal_query_tasks(uuid, jsonb, text) IS
'Internal: the query task action: the user''s tasks matching the payload''s filters (at most limit, default 50) as {"count", "tasks"}';

CREATE FUNCTION alfred._proposal_run_task_action(p alfred.proposals)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pl jsonb := coalesce(p.edited_payload, p.payload);
	tz text := coalesce((SELECT u.timezone FROM alfred.users u WHERE u.id = p.user_id), 'UTC');
	tid uuid := (pl->>'task_id')::uuid;
	t alfred.tasks;
BEGIN
	CASE p.action_type
	WHEN 'create' THEN
		INSERT INTO alfred.tasks (user_id, title, source, created_by)
		VALUES (p.user_id, pl->>'title', 'conversation', coalesce(p.approved_by, p.user_id))
		RETURNING id INTO tid;
		t := alfred._proposal_apply_task_fields(p.user_id, tid, pl, tz);
	WHEN 'update' THEN
		t := alfred._proposal_apply_task_fields(p.user_id, tid, pl, tz);
	WHEN 'complete' THEN
		UPDATE alfred.tasks x
		   SET status = CASE WHEN (pl->>'completed')::boolean THEN 'completed' ELSE 'pending' END,
			   completed_at = CASE WHEN (pl->>'completed')::boolean THEN coalesce(x.completed_at, now()) END,
			   updated_at = now()
		 WHERE x.user_id = p.user_id AND x.id = tid
		RETURNING * INTO t;
	WHEN 'delete' THEN
		DELETE FROM alfred.tasks x WHERE x.user_id = p.user_id AND x.id = tid RETURNING * INTO t;
		IF FOUND THEN
			RETURN jsonb_build_object('deleted', to_jsonb(t));
		END IF;
	WHEN 'query' THEN
		RETURN alfred._proposal_query_tasks(p.user_id, pl, tz);
	END CASE;
	IF t.id IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'no_data_found', MESSAGE = format('task "%s" does not exist', tid);
	END IF;
	RETURN jsonb_build_object('task', to_jsonb(t));
END
$$;
COMMENT ON FUNCTION alfred._proposal_run_task_action(alfred.proposals) IS
'Internal: performs a task action (create, update, complete, delete, query) with the approved payload; returns its result';

/*
 * approved -> executing -> executed | failed, in the caller's transaction.
 * The action runs in a subtransaction: when it fails only its own effects
 * roll back and the failure is recorded; errors of class 40 (serialization,
 * deadlock) propagate so that the caller's transaction retries as a whole.
 */
CREATE FUNCTION alfred._proposal_execute(p alfred.proposals)
RETURNS alfred.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	started timestamptz := clock_timestamp();
	outcome jsonb;
	failure text;
	state text;
BEGIN
	UPDATE alfred.proposals x SET status = 'executing' WHERE x.id = p.id;
	BEGIN
		outcome := alfred._proposal_run_task_action(p);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS failure = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
		IF state LIKE '40%' THEN
			RAISE;
		END IF;
	END;
	UPDATE alfred.proposals x
	   SET status = CASE WHEN failure IS NULL THEN 'executed' ELSE 'failed' END,
		   result = outcome,
		   error_message = failure,
		   task_id = CASE WHEN p.action_type = 'create' AND failure IS NULL
						  THEN (outcome->'task'->>'id')::uuid
						  WHEN p.action_type = 'delete' THEN NULL
						  ELSE x.task_id END
	 WHERE x.id = p.id
	RETURNING * INTO p;
	INSERT INTO alfred.execution_logs
		(user_id, proposal_id, executor_status, executor_error, request_payload, response_payload,
		 execution_duration_ms)
	VALUES (p.user_id, p.id, CASE WHEN failure IS NULL THEN 'success' ELSE 'failure' END,
			CASE WHEN failure IS NOT NULL THEN format('%s (SQLSTATE %s)', failure, state) END,
			coalesce(p.edited_payload, p.payload), outcome,
			ceil(extract(epoch FROM clock_timestamp() - started) * 1000)::int);
	RETURN p;
END
$$;
COMMENT ON FUNCTION alfred._proposal_execute(alfred.proposals) IS
'Internal: runs an approved task action through executing to executed or failed and writes its execution_logs row';

/*---- the API ----*/

CREATE FUNCTION alfred.propose(
	user_id uuid,
	agent_name text,
	action_type text,
	payload jsonb,
	risk_level text DEFAULT 'low',
	explanation text DEFAULT NULL,
	warning_text text DEFAULT NULL,
	expires_at timestamptz DEFAULT NULL,
	related_item_id uuid DEFAULT NULL,
	task_id uuid DEFAULT NULL,
	session_id uuid DEFAULT NULL,
	message_id uuid DEFAULT NULL,
	confidence double precision DEFAULT NULL,
	requested_by text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p alfred.proposals;
	payload_task uuid;
BEGIN
	IF propose.user_id IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'user_id must not be null';
	END IF;
	IF coalesce(btrim(propose.agent_name), '') = '' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'agent_name must not be empty';
	END IF;
	IF propose.action_type IS NULL OR propose.action_type !~ '^[a-z][a-z0-9_]{0,99}$' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid action_type "%s"', propose.action_type),
			DETAIL = 'An action type is 1 to 100 lower-case letters, digits and underscores, starting with a letter.';
	END IF;
	IF propose.risk_level IS NULL OR propose.risk_level NOT IN ('low', 'medium', 'high') THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid risk_level "%s"', propose.risk_level),
			DETAIL = 'A risk level is low, medium or high.';
	END IF;
	IF NOT propose.confidence BETWEEN 0 AND 1 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('confidence %s is out of range 0-1', propose.confidence);
	END IF;
	IF propose.expires_at <= now() THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'expires_at must be in the future';
	END IF;
	PERFORM alfred.check_proposal_payload(propose.action_type, propose.payload);
	IF alfred._proposal_is_task_action(propose.action_type) THEN
		payload_task := (propose.payload->>'task_id')::uuid;
	END IF;
	IF propose.task_id IS DISTINCT FROM payload_task AND propose.task_id IS NOT NULL AND payload_task IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('task_id "%s" does not match the payload''s task_id "%s"', propose.task_id, payload_task);
	END IF;

	INSERT INTO alfred.proposals AS x
		(user_id, agent_name, action_type, payload, risk_level, explanation, warning_text, expires_at,
		 related_item_id, task_id, session_id, message_id, confidence, requested_by)
	VALUES (propose.user_id, propose.agent_name, propose.action_type, propose.payload, propose.risk_level,
			propose.explanation, propose.warning_text, propose.expires_at, propose.related_item_id,
			coalesce(propose.task_id, payload_task), propose.session_id, propose.message_id, propose.confidence,
			propose.requested_by)
	RETURNING * INTO p;

	-- the machine's own decisions (no preference signal: no human decided)
	IF p.risk_level = 'high' AND coalesce((SELECT s.auto_reject_high_risk FROM alfred.user_settings s
											WHERE s.user_id = p.user_id), true) THEN
		UPDATE alfred.proposals x SET status = 'rejected', rejection_reason = 'auto_reject_high_risk'
		 WHERE x.id = p.id;
	ELSIF p.action_type = 'query' AND p.risk_level = 'low' THEN
		UPDATE alfred.proposals x SET status = 'approved' WHERE x.id = p.id RETURNING * INTO p;
		PERFORM alfred._proposal_execute(p);
	END IF;
	RETURN p.id;
END
$$;
COMMENT ON FUNCTION alfred.propose(uuid, text, text, jsonb, text, text, text, timestamptz, uuid, uuid, uuid, uuid, double precision, text) IS
'Records an action an agent proposes (pending); checks the payload for the action type (22023 naming the key); a high-risk proposal is rejected at once when the user''s auto_reject_high_risk is on, a low-risk query task action runs at once; returns the proposal id';

CREATE FUNCTION alfred.approve(proposal_id uuid, edited_payload jsonb DEFAULT NULL, execute boolean DEFAULT false)
RETURNS alfred.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p alfred.proposals := alfred._proposal_lock(approve.proposal_id);
	distance double precision;
	signal text := 'approved';
BEGIN
	IF p.status <> 'pending' THEN
		PERFORM alfred._proposal_not_in(p, 'pending',
			CASE WHEN p.status = 'failed' THEN 'Retry it with alfred.retry_proposal().' END);
	END IF;
	IF p.expires_at <= now() THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('proposal "%s" has expired', p.id),
			DETAIL = 'Its expires_at has passed; alfred.expire_proposals() marks it expired.';
	END IF;
	IF approve.execute AND NOT alfred._proposal_is_task_action(p.action_type) THEN
		PERFORM alfred._proposal_no_executor(p);
	END IF;
	IF approve.edited_payload IS NOT NULL THEN
		PERFORM alfred.check_proposal_payload(p.action_type, approve.edited_payload, true);
		distance := alfred.proposal_edit_distance(p.payload, approve.edited_payload);
		signal := alfred.proposal_edit_signal(distance);
	END IF;

	UPDATE alfred.proposals x
	   SET status = 'approved',
		   approved_by = coalesce(alfred.current_user_id(), p.user_id),
		   edited_payload = approve.edited_payload,
		   task_id = CASE WHEN alfred._proposal_is_task_action(p.action_type)
							   AND approve.edited_payload ? 'task_id'
						  THEN (approve.edited_payload->>'task_id')::uuid ELSE x.task_id END
	 WHERE x.id = p.id
	RETURNING * INTO p;
	PERFORM alfred._proposal_signal(p, signal,
		CASE WHEN distance IS NOT NULL
			 THEN jsonb_build_object('distance', round(distance::numeric, 4), 'heavy_edit_threshold', 0.25) END);
	IF approve.execute THEN
		p := alfred._proposal_execute(p);
	END IF;
	RETURN p;
END
$$;
COMMENT ON FUNCTION alfred.approve(uuid, jsonb, boolean) IS
'The user approves a pending proposal, optionally with an edited payload (checked like the original); writes an approved, edited_lightly or edited_heavily signal; execute => true also runs a task action in the same transaction';

CREATE FUNCTION alfred.reject(proposal_id uuid, reason text DEFAULT NULL)
RETURNS alfred.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p alfred.proposals := alfred._proposal_lock(reject.proposal_id);
	was text := p.status;
BEGIN
	IF p.status NOT IN ('pending', 'approved') THEN
		PERFORM alfred._proposal_not_in(p, 'pending or approved');
	END IF;
	UPDATE alfred.proposals x
	   SET status = 'rejected', rejected_by = coalesce(alfred.current_user_id(), p.user_id), rejection_reason = reject.reason
	 WHERE x.id = p.id
	RETURNING * INTO p;
	PERFORM alfred._proposal_signal(p, 'rejected',
		jsonb_build_object('was', was) || jsonb_strip_nulls(jsonb_build_object('reason', reject.reason)));
	RETURN p;
END
$$;
COMMENT ON FUNCTION alfred.reject(uuid, text) IS
'The user rejects a pending or approved (not yet executing) proposal, with an optional reason; writes a rejected signal';

CREATE FUNCTION alfred.start_execution(proposal_id uuid)
RETURNS alfred.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p alfred.proposals := alfred._proposal_lock(start_execution.proposal_id);
BEGIN
	IF alfred._proposal_is_task_action(p.action_type) THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('proposal "%s" is a task action', p.id),
			DETAIL = format('alfred executes "%s" itself.', p.action_type),
			HINT = 'Use alfred.execute_proposal().';
	END IF;
	IF p.status <> 'approved' THEN
		PERFORM alfred._proposal_not_in(p, 'approved');
	END IF;
	UPDATE alfred.proposals x SET status = 'executing' WHERE x.id = p.id RETURNING * INTO p;
	RETURN p;
END
$$;
COMMENT ON FUNCTION alfred.start_execution(uuid) IS
'An outside executor takes an approved proposal (approved -> executing); task actions are executed by alfred.execute_proposal() instead';

CREATE FUNCTION alfred.finish_execution(
	proposal_id uuid,
	status text,
	result jsonb DEFAULT NULL,
	error text DEFAULT NULL,
	external_ids jsonb DEFAULT NULL,
	request_payload jsonb DEFAULT NULL,
	duration_ms integer DEFAULT NULL)
RETURNS alfred.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p alfred.proposals := alfred._proposal_lock(finish_execution.proposal_id);
BEGIN
	IF finish_execution.status IS NULL OR finish_execution.status NOT IN ('success', 'partial', 'failure') THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid execution status "%s"', finish_execution.status),
			DETAIL = 'An execution status is success, partial or failure.';
	END IF;
	IF finish_execution.status = 'failure' AND coalesce(finish_execution.error, '') = '' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'error must be given when status is "failure"';
	END IF;
	IF finish_execution.duration_ms < 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('duration_ms %s is negative', finish_execution.duration_ms);
	END IF;
	IF p.status <> 'executing' THEN
		PERFORM alfred._proposal_not_in(p, 'executing',
			CASE WHEN p.status = 'approved' THEN 'Call alfred.start_execution() first.' END);
	END IF;
	UPDATE alfred.proposals x
	   SET status = CASE WHEN finish_execution.status = 'failure' THEN 'failed' ELSE 'executed' END,
		   result = finish_execution.result,
		   error_message = finish_execution.error
	 WHERE x.id = p.id
	RETURNING * INTO p;
	INSERT INTO alfred.execution_logs
		(user_id, proposal_id, executor_status, executor_error, external_ids, request_payload,
		 response_payload, execution_duration_ms)
	VALUES (p.user_id, p.id, finish_execution.status, finish_execution.error, coalesce(finish_execution.external_ids, '{}'),
			coalesce(finish_execution.request_payload, p.edited_payload, p.payload), finish_execution.result,
			coalesce(finish_execution.duration_ms,
					 ceil(extract(epoch FROM coalesce(p.executed_at, p.failed_at) - p.started_at) * 1000)::int));
	RETURN p;
END
$$;
COMMENT ON FUNCTION alfred.finish_execution(uuid, text, jsonb, text, jsonb, jsonb, integer) IS
'An outside executor reports an executing proposal''s outcome (status success, partial or failure; failure needs error): executing -> executed or failed, and an execution_logs row (duration defaults to the time since start_execution)';

CREATE FUNCTION alfred.execute_proposal(proposal_id uuid)
RETURNS alfred.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p alfred.proposals := alfred._proposal_lock(execute_proposal.proposal_id);
BEGIN
	IF NOT alfred._proposal_is_task_action(p.action_type) THEN
		PERFORM alfred._proposal_no_executor(p);
	END IF;
	IF p.status <> 'approved' THEN
		PERFORM alfred._proposal_not_in(p, 'approved',
			CASE WHEN p.status = 'pending' THEN 'Approve it first, or approve and execute at once with alfred.approve(..., execute => true).'
				 WHEN p.status = 'failed' THEN 'Retry it with alfred.retry_proposal() first.' END);
	END IF;
	RETURN alfred._proposal_execute(p);
END
$$;
COMMENT ON FUNCTION alfred.execute_proposal(uuid) IS
'Runs an approved task action inside the database (approved -> executing -> executed or failed, one execution_logs row), in the caller''s transaction: it happens exactly once or not at all';

CREATE FUNCTION alfred.retry_proposal(proposal_id uuid)
RETURNS alfred.proposals
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p alfred.proposals := alfred._proposal_lock(retry_proposal.proposal_id);
BEGIN
	IF p.status <> 'failed' THEN
		PERFORM alfred._proposal_not_in(p, 'failed');
	END IF;
	UPDATE alfred.proposals x
	   SET status = 'approved', approved_by = coalesce(alfred.current_user_id(), p.user_id), result = NULL, error_message = NULL
	 WHERE x.id = p.id
	RETURNING * INTO p;
	RETURN p;
END
$$;
COMMENT ON FUNCTION alfred.retry_proposal(uuid) IS
'Puts a failed proposal back to approved (failed -> approved) so that it can be executed again; its earlier attempts stay in execution_logs';

CREATE FUNCTION alfred.expire_proposals()
RETURNS integer
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH expired AS (
		UPDATE alfred.proposals x SET status = 'expired'
		 WHERE x.status = 'pending' AND x.expires_at <= now()
		RETURNING x.*),
	signals AS (
		INSERT INTO alfred.preference_signals (user_id, item_id, proposal_id, signal_type, context)
		SELECT e.user_id, e.related_item_id, e.id, 'ignored',
			   jsonb_build_object('agent_name', e.agent_name, 'action_type', e.action_type)
		  FROM expired e)
	SELECT count(*)::int FROM expired;
$$;
COMMENT ON FUNCTION alfred.expire_proposals() IS
'Marks every pending proposal whose expires_at has passed expired, with an ignored signal each; returns how many';

/*---- helpers used above (plpgsql resolves them at run time) ----*/

CREATE FUNCTION alfred._proposal_is_task_action(action_type text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT action_type IN ('create', 'update', 'complete', 'delete', 'query') $$;
COMMENT ON FUNCTION alfred._proposal_is_task_action(text) IS
'Internal: whether alfred executes the action type itself';

CREATE FUNCTION alfred._proposal_no_executor(p alfred.proposals)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
		MESSAGE = format('action "%s" has no built-in executor', p.action_type),
		DETAIL = 'alfred executes only the task actions create, update, complete, delete and query.',
		HINT = 'Execute it outside and report with alfred.start_execution() and alfred.finish_execution().';
END
$$;
COMMENT ON FUNCTION alfred._proposal_no_executor(alfred.proposals) IS
'Internal: raises 55000 for an action type that alfred cannot execute itself';

/*---- the seeds' views over the one table ----*/

CREATE VIEW alfred.approvals WITH (security_invoker = true) AS
SELECT p.id, p.user_id, p.task_id, p.action_type,
	   coalesce(p.edited_payload, p.payload) AS details,
	   CASE WHEN p.status IN ('pending', 'rejected', 'expired') THEN p.status ELSE 'approved' END AS status,
	   coalesce(p.requested_by, p.agent_name) AS requested_by,
	   p.approved_by,
	   CASE WHEN p.status NOT IN ('pending', 'rejected', 'expired') THEN p.approved_at END AS approved_at,
	   p.rejected_by, p.rejected_at, p.expires_at, p.created_at, p.updated_at,
	   coalesce(p.notes, p.rejection_reason, p.explanation) AS notes
  FROM alfred.proposals p;
COMMENT ON VIEW alfred.approvals IS
'Seed 004''s approvals over alfred.proposals: status pending, approved (also executing, executed, failed), rejected or expired; one decision: approved_by or rejected_by; requested_by is who asked (else the agent), notes the proposal''s notes, else the rejection reason, else the explanation';

CREATE VIEW alfred.task_actions WITH (security_invoker = true) AS
SELECT p.id, p.session_id, p.message_id, p.user_id, p.action_type,
	   coalesce(p.edited_payload, p.payload) AS extracted_params,
	   p.confidence AS confidence_score,
	   CASE WHEN p.status = 'pending' THEN 'pending'
			WHEN p.status IN ('rejected', 'expired') THEN 'rejected'
			ELSE 'confirmed' END AS confirmation_status,
	   CASE p.status WHEN 'executing' THEN 'executing' WHEN 'executed' THEN 'success'
			WHEN 'failed' THEN 'failed' ELSE 'not_executed' END AS executed_status,
	   p.task_id, p.error_message, p.created_at,
	   p.approved_at AS confirmed_at, p.executed_at
  FROM alfred.proposals p
 WHERE p.action_type IN ('create', 'update', 'complete', 'delete', 'query');
COMMENT ON VIEW alfred.task_actions IS
'Seed 001''s TaskAction over alfred.proposals (task actions only): confirmation_status pending, confirmed or rejected (also expired); executed_status not_executed, executing, success or failed';
-- 600_calibration: proactive calibration (DESIGN.md "Proactive calibration").
-- How likely the assistant should be to make a suggestion of each type, learnt
-- from engagement_events; observed patterns and their acceptance.  The model is
-- C (src/core/calibrate.c, wrappers in src/calibrate_sql.c); this part reads and
-- writes the tables.

--
-- State per (user, suggestion type)
--
CREATE TABLE alfred.calibration_state (
	user_id uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	suggestion_type text NOT NULL CHECK (btrim(suggestion_type) <> ''),
	engaged float8 NOT NULL DEFAULT 0 CHECK (engaged >= 0),
	dismissed float8 NOT NULL DEFAULT 0 CHECK (dismissed >= 0),
	global_engaged float8 NOT NULL DEFAULT 0 CHECK (global_engaged >= 0),
	global_dismissed float8 NOT NULL DEFAULT 0 CHECK (global_dismissed >= 0),
	counted_at timestamptz,
	last_event_at timestamptz,
	consecutive_engagements integer NOT NULL DEFAULT 0 CHECK (consecutive_engagements >= 0),
	consecutive_dismissals integer NOT NULL DEFAULT 0 CHECK (consecutive_dismissals >= 0),
	suppressions integer NOT NULL DEFAULT 0 CHECK (suppressions >= 0),
	suppressed_until timestamptz,
	boosted boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, suggestion_type)
);
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON alfred.calibration_state
	FOR EACH ROW EXECUTE FUNCTION alfred.touch_updated_at();
CREATE TRIGGER tenant_key_immutable BEFORE UPDATE OF user_id ON alfred.calibration_state
	FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id)
	EXECUTE FUNCTION alfred.forbid_tenant_change();
SELECT alfred.enable_tenant_rls('alfred.calibration_state');

COMMENT ON TABLE alfred.calibration_state IS
'Calibration state of one (user, suggestion type), kept by record_engagement: decayed counts as of counted_at, runs of engagements and dismissals, suppression and boost. Read it as of now through the view calibration (or calibration_at(state, now())).';
COMMENT ON COLUMN alfred.calibration_state.engaged IS
'e: engaged events of this type, each weighing 0.5^(age / 14 days), as of counted_at';
COMMENT ON COLUMN alfred.calibration_state.dismissed IS
'd: dismissed events of this type, each weighing 0.5^(age / 14 days), as of counted_at';
COMMENT ON COLUMN alfred.calibration_state.global_engaged IS
'This type''s share of the user''s global engaged count Ge (30-day half-life), as of counted_at; Ge is the sum over the user''s types';
COMMENT ON COLUMN alfred.calibration_state.global_dismissed IS
'This type''s share of the user''s global dismissed count Gd (30-day half-life), as of counted_at';
COMMENT ON COLUMN alfred.calibration_state.counted_at IS
'The time the four counts are as of (the last event); NULL before the first event';
COMMENT ON COLUMN alfred.calibration_state.last_event_at IS
'When the last engagement event of this type was recorded';
COMMENT ON COLUMN alfred.calibration_state.consecutive_engagements IS
'Engagements since the last dismissal (3 with p_hat >= 0.75 boost the type)';
COMMENT ON COLUMN alfred.calibration_state.consecutive_dismissals IS
'Dismissals since the last engagement (3 or more with p_hat <= 0.25 suppress the type)';
COMMENT ON COLUMN alfred.calibration_state.suppressions IS
'Suppressions since the last engagement; the n-th lasts 30 days * 2^(n-1), at most 180 days';
COMMENT ON COLUMN alfred.calibration_state.suppressed_until IS
'End of the current suppression; a past value means the suppression is over (no job clears it)';
COMMENT ON COLUMN alfred.calibration_state.boosted IS
'Boosted by a run of engagements; lapses when p_hat < 0.60 (also by decay, read through calibration_at)';

--
-- The model, in C
--
CREATE FUNCTION alfred.calibration_step(
	state alfred.calibration_state, action text, source text, at timestamptz)
RETURNS alfred.calibration_state
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_calibration_step';
COMMENT ON FUNCTION alfred.calibration_step(alfred.calibration_state, text, text, timestamptz) IS
'The calibration state after one engagement event at time at: decays the counts, adds the event, applies the suppression and boost rules; an action other than engaged/dismissed or a source other than conversation/notification/schedule raises 22023. Used by record_engagement.';

CREATE FUNCTION alfred.calibration_at(state alfred.calibration_state, at timestamptz)
RETURNS alfred.calibration_state
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_calibration_at';
COMMENT ON FUNCTION alfred.calibration_at(alfred.calibration_state, timestamptz) IS
'The calibration state as of time at: counts decayed to at, a suppression that has run out cleared (suppressed_until NULL), a boost whose p_hat fell below 0.60 dropped';

CREATE FUNCTION alfred.calibration_score(
	state alfred.calibration_state, level float8, base float8)
RETURNS float8
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_calibration_score';
COMMENT ON FUNCTION alfred.calibration_score(alfred.calibration_state, float8, float8) IS
'p = P(X >= t), X ~ Beta(1 + engaged, 1 + dismissed), t = (1 - level) / (base * (boosted ? 1.25 : 1)); 0 when suppressed; a NULL state is no history. The state must already be as of the time of the question (calibration_at). base outside (0, 1] raises 22023.';

CREATE FUNCTION alfred.proactiveness_level(
	global_engaged float8, global_dismissed float8, override text DEFAULT NULL)
RETURNS float8
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_proactiveness_level';
COMMENT ON FUNCTION alfred.proactiveness_level(float8, float8, text) IS
'The global level g = clamp(lo, hi, (3.5 + Ge) / (5 + Ge + Gd)) (0.7 with no events; NULL counts are 0): bounds [0.2, 0.9], [0.6, 1.0] for override ''more'', [0.0, 0.4] for ''less''; another override raises 22023';

CREATE FUNCTION alfred.calibration_uniform(seed bigint)
RETURNS float8
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_calibration_uniform';
COMMENT ON FUNCTION alfred.calibration_uniform(bigint) IS
'u in [0, 1): the top 53 bits of the first splitmix64 output for seed, divided by 2^53 (should_suggest says yes when u < p)';

CREATE FUNCTION alfred.pattern_confidence(
	occurrences integer, last_seen_at timestamptz, at timestamptz)
RETURNS float8
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_pattern_confidence';
COMMENT ON FUNCTION alfred.pattern_confidence(integer, timestamptz, timestamptz) IS
'Confidence of an observed pattern at time at: n / (n + 2) * 0.5^(days since last seen / 30)';

CREATE FUNCTION alfred.pattern_actionable(
	acted_on boolean, occurrences integer, last_seen_at timestamptz, at timestamptz)
RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_pattern_actionable';
COMMENT ON FUNCTION alfred.pattern_actionable(boolean, integer, timestamptz, timestamptz) IS
'Whether a pattern is worth suggesting at time at: not acted on, seen at least 3 times, confidence at least 0.5';

--
-- Reading the state as of now
--
CREATE VIEW alfred.calibration WITH (security_invoker = true) AS
SELECT s.user_id, s.suggestion_type, s.engaged, s.dismissed,
	   (1 + s.engaged) / (2 + s.engaged + s.dismissed) AS p_hat,
	   s.consecutive_engagements, s.consecutive_dismissals,
	   s.suppressed_until IS NOT NULL AS suppressed, s.suppressed_until, s.suppressions,
	   s.boosted, s.last_event_at
  FROM alfred.calibration_state c
	   CROSS JOIN LATERAL alfred.calibration_at(c, now()) s;
COMMENT ON VIEW alfred.calibration IS
'Each (user, suggestion type) as of now: decayed counts e and d, p_hat = (1 + e) / (2 + e + d), whether it is suppressed (and until when) or boosted';

CREATE FUNCTION alfred.proactiveness(user_id uuid)
RETURNS alfred.proactiveness_settings
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	WITH live AS (
		SELECT sum(s.global_engaged) AS ge, sum(s.global_dismissed) AS gd,
			   coalesce(array_agg(s.suggestion_type ORDER BY s.suggestion_type)
						FILTER (WHERE s.suppressed_until IS NOT NULL), '{}') AS suppressed,
			   coalesce(array_agg(s.suggestion_type ORDER BY s.suggestion_type)
						FILTER (WHERE s.boosted), '{}') AS boosted
		  FROM alfred.calibration_state c
			   CROSS JOIN LATERAL alfred.calibration_at(c, now()) s
		 WHERE c.user_id = proactiveness.user_id),
	stored AS (
		SELECT coalesce((SELECT p FROM alfred.proactiveness_settings p
						  WHERE p.user_id = proactiveness.user_id),
						jsonb_populate_record(NULL::alfred.proactiveness_settings,
											  jsonb_build_object('user_id', proactiveness.user_id,
																 'is_onboarded', false))) AS p)
	SELECT jsonb_populate_record(
			   stored.p,
			   jsonb_build_object(
				   'global_level', alfred.proactiveness_level(live.ge, live.gd, (stored.p).user_override),
				   'suppressed_types', live.suppressed,
				   'boosted_types', live.boosted))
	  FROM live, stored
$$;
COMMENT ON FUNCTION alfred.proactiveness(uuid) IS
'The user''s proactiveness settings as of now: the stored row (or the defaults for a user who has none) with global_level, suppressed_types and boosted_types computed from the calibration state at this moment, so an expired suppression or a lapsed boost is gone without any job';

CREATE FUNCTION alfred.refresh_proactiveness(user_id uuid)
RETURNS alfred.proactiveness_settings
LANGUAGE sql VOLATILE
AS $$
	INSERT INTO alfred.proactiveness_settings (user_id) VALUES (refresh_proactiveness.user_id)
	ON CONFLICT (user_id) DO NOTHING;
	UPDATE alfred.proactiveness_settings p
	   SET global_level = l.global_level,
		   suppressed_types = l.suppressed_types,
		   boosted_types = l.boosted_types,
		   updated_at = now()
	  FROM alfred.proactiveness(refresh_proactiveness.user_id) l
	 WHERE p.user_id = refresh_proactiveness.user_id
	RETURNING p.*;
$$;
COMMENT ON FUNCTION alfred.refresh_proactiveness(uuid) IS
'Stores proactiveness(user_id) in the user''s proactiveness_settings row (creating it with the defaults if needed) and returns it; every calibration function that writes calls it';

CREATE FUNCTION alfred.refresh_all_proactiveness()
RETURNS integer
LANGUAGE sql VOLATILE
AS $$
	WITH stale AS (
		SELECT p.user_id, l.global_level, l.suppressed_types, l.boosted_types
		  FROM alfred.proactiveness_settings p
			   CROSS JOIN LATERAL alfred.proactiveness(p.user_id) l
		 WHERE (p.global_level, p.suppressed_types, p.boosted_types)
			   IS DISTINCT FROM (l.global_level, l.suppressed_types, l.boosted_types)),
	done AS (
		UPDATE alfred.proactiveness_settings p
		   SET global_level = s.global_level,
			   suppressed_types = s.suppressed_types,
			   boosted_types = s.boosted_types
		  FROM stale s
		 WHERE p.user_id = s.user_id
		RETURNING 1)
	SELECT count(*)::integer FROM done
$$;
COMMENT ON FUNCTION alfred.refresh_all_proactiveness() IS
'Rewrites every stored proactiveness_settings row (that the caller may change) whose global_level, suppressed_types or boosted_types differ from proactiveness() now, and returns how many; optional housekeeping for readers of the table (scores never need it)';

--
-- Recording engagement, scoring and deciding
--
CREATE FUNCTION alfred.check_suggestion_type(suggestion_type text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
	IF suggestion_type IS NULL OR btrim(suggestion_type) = '' THEN
		RAISE EXCEPTION 'suggestion type must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Name the kind of suggestion, for example "weather_briefing".';
	END IF;
	RETURN suggestion_type;
END
$$;
COMMENT ON FUNCTION alfred.check_suggestion_type(text) IS
'Returns suggestion_type, or raises 22023 when it is NULL or blank';

CREATE FUNCTION alfred.record_engagement(
	user_id uuid, suggestion_type text, action text, source text, context jsonb DEFAULT '{}')
RETURNS alfred.proactiveness_settings
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	st alfred.calibration_state;
BEGIN
	IF record_engagement.user_id IS NULL THEN
		RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM alfred.check_suggestion_type(record_engagement.suggestion_type);
	-- One writer per user at a time, so the settings row reflects every type.
	INSERT INTO alfred.proactiveness_settings (user_id) VALUES (record_engagement.user_id)
	ON CONFLICT DO NOTHING;
	PERFORM FROM alfred.proactiveness_settings p
	  WHERE p.user_id = record_engagement.user_id FOR UPDATE;

	INSERT INTO alfred.calibration_state (user_id, suggestion_type)
	VALUES (record_engagement.user_id, record_engagement.suggestion_type)
	ON CONFLICT DO NOTHING;
	SELECT * INTO st FROM alfred.calibration_state c
	 WHERE c.user_id = record_engagement.user_id
	   AND c.suggestion_type = record_engagement.suggestion_type
	   FOR UPDATE;
	st := alfred.calibration_step(st, record_engagement.action, record_engagement.source, now());

	UPDATE alfred.calibration_state c
	   SET engaged = st.engaged, dismissed = st.dismissed,
		   global_engaged = st.global_engaged, global_dismissed = st.global_dismissed,
		   counted_at = st.counted_at, last_event_at = st.last_event_at,
		   consecutive_engagements = st.consecutive_engagements,
		   consecutive_dismissals = st.consecutive_dismissals,
		   suppressions = st.suppressions, suppressed_until = st.suppressed_until,
		   boosted = st.boosted, updated_at = now()
	 WHERE c.user_id = record_engagement.user_id
	   AND c.suggestion_type = record_engagement.suggestion_type;
	INSERT INTO alfred.engagement_events (user_id, suggestion_type, action, source, context)
	VALUES (record_engagement.user_id, record_engagement.suggestion_type, record_engagement.action,
			record_engagement.source, coalesce(record_engagement.context, '{}'));
	RETURN alfred.refresh_proactiveness(record_engagement.user_id);
END
$$;
COMMENT ON FUNCTION alfred.record_engagement(uuid, text, text, text, jsonb) IS
'Records what the user did with a suggestion (action engaged or dismissed; source conversation, notification or schedule): inserts the engagement_events row, updates the type''s calibration state and returns the refreshed proactiveness_settings. Bad input raises 22023 and records nothing.';

CREATE FUNCTION alfred.suggestion_score(
	user_id uuid, suggestion_type text, base float8 DEFAULT 1.0)
RETURNS float8
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_suggestion_score';
COMMENT ON FUNCTION alfred.suggestion_score(uuid, text, float8) IS
'The probability p that a suggestion of this type with base relevance base (in (0, 1]) should be made now: P(X >= t) for X ~ Beta(1 + e, 1 + d), t = (1 - g) / (base * (boosted ? 1.25 : 1)); 0 while the type is suppressed. No history, g = 0.7, base 0.8: 0.625.';

CREATE FUNCTION alfred.should_suggest(
	user_id uuid, suggestion_type text, base float8 DEFAULT 1.0, seed bigint DEFAULT NULL)
RETURNS boolean
LANGUAGE sql VOLATILE
AS $$
	SELECT coalesce(alfred.calibration_uniform(should_suggest.seed), random())
		   < alfred.suggestion_score(should_suggest.user_id, should_suggest.suggestion_type,
										  should_suggest.base)
$$;
COMMENT ON FUNCTION alfred.should_suggest(uuid, text, float8, bigint) IS
'Whether to make the suggestion now: yes with probability suggestion_score; with a seed the draw is u = calibration_uniform(seed), so the answer is deterministic, without one it is random()';

CREATE FUNCTION alfred.set_proactiveness(user_id uuid, override text)
RETURNS alfred.proactiveness_settings
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
BEGIN
	IF set_proactiveness.user_id IS NULL THEN
		RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM alfred.proactiveness_level(0, 0, set_proactiveness.override);	-- 22023 if invalid
	INSERT INTO alfred.proactiveness_settings (user_id, user_override)
	VALUES (set_proactiveness.user_id, set_proactiveness.override)
	ON CONFLICT (user_id) DO UPDATE SET user_override = EXCLUDED.user_override;
	RETURN alfred.refresh_proactiveness(set_proactiveness.user_id);
END
$$;
COMMENT ON FUNCTION alfred.set_proactiveness(uuid, text) IS
'The user''s explicit instruction: ''more'' (global level within [0.6, 1.0]), ''less'' ([0.0, 0.4]) or NULL (back to [0.2, 0.9]); returns the refreshed settings; another value raises 22023';

CREATE FUNCTION alfred.complete_onboarding(user_id uuid, proactiveness text DEFAULT NULL)
RETURNS alfred.proactiveness_settings
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
BEGIN
	IF complete_onboarding.user_id IS NULL THEN
		RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM alfred.proactiveness_level(0, 0, complete_onboarding.proactiveness);
	INSERT INTO alfred.proactiveness_settings (user_id, user_override, is_onboarded)
	VALUES (complete_onboarding.user_id, complete_onboarding.proactiveness, true)
	ON CONFLICT (user_id) DO UPDATE
	   SET is_onboarded = true,
		   user_override = coalesce(EXCLUDED.user_override,
									alfred.proactiveness_settings.user_override);
	RETURN alfred.refresh_proactiveness(complete_onboarding.user_id);
END
$$;
COMMENT ON FUNCTION alfred.complete_onboarding(uuid, text) IS
'Marks the user onboarded (is_onboarded) and records the answer to "how proactive should I be?" as the override (''more'', ''less''; NULL = skipped, keeps the current override); returns the refreshed settings';

--
-- Observed patterns
--
CREATE UNIQUE INDEX observed_patterns_user_type_description
	ON alfred.observed_patterns (user_id, pattern_type, md5(description));
COMMENT ON INDEX alfred.observed_patterns_user_type_description IS
'One pattern per user, type and description: observe_pattern accumulates into it';

CREATE FUNCTION alfred.pattern_evidence_tail(evidence jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT coalesce(jsonb_agg(e.value ORDER BY e.i), '[]')
	  FROM jsonb_array_elements(evidence) WITH ORDINALITY AS e(value, i)
	 WHERE e.i > jsonb_array_length(evidence) - 100
$$;
COMMENT ON FUNCTION alfred.pattern_evidence_tail(jsonb) IS
'The last 100 entries of an evidence array (observe_pattern keeps no more)';

CREATE FUNCTION alfred.observe_pattern(
	user_id uuid, pattern_type text, description text, evidence jsonb,
	suggested_action text DEFAULT NULL)
RETURNS alfred.observed_patterns
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	entries jsonb;
	result alfred.observed_patterns;
BEGIN
	IF observe_pattern.user_id IS NULL THEN
		RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF observe_pattern.pattern_type IS NULL OR btrim(observe_pattern.pattern_type) = ''
	   OR observe_pattern.description IS NULL OR btrim(observe_pattern.description) = '' THEN
		RAISE EXCEPTION 'pattern type and description must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A pattern is identified by its type and description.';
	END IF;
	entries := CASE jsonb_typeof(observe_pattern.evidence)
				   WHEN 'array' THEN observe_pattern.evidence
				   WHEN 'object' THEN jsonb_build_array(observe_pattern.evidence)
			   END;
	IF observe_pattern.evidence IS NOT NULL AND entries IS NULL THEN
		RAISE EXCEPTION 'evidence must be a JSON object or array, not %', jsonb_typeof(observe_pattern.evidence)
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Evidence is an entry like {"date": ..., "context": ..., "conversation_id": ...} or an array of them.';
	END IF;
	INSERT INTO alfred.observed_patterns AS p
		(user_id, pattern_type, description, evidence, suggested_action, occurrence_count, confidence)
	VALUES (observe_pattern.user_id, observe_pattern.pattern_type, observe_pattern.description,
			alfred.pattern_evidence_tail(coalesce(entries, '[]')), observe_pattern.suggested_action, 1,
			alfred.pattern_confidence(1, now(), now()))
	ON CONFLICT (user_id, pattern_type, md5(description)) DO UPDATE
	   SET occurrence_count = p.occurrence_count + 1,
		   evidence = alfred.pattern_evidence_tail(p.evidence || EXCLUDED.evidence),
		   last_seen_at = now(),
		   suggested_action = coalesce(EXCLUDED.suggested_action, p.suggested_action),
		   confidence = alfred.pattern_confidence(p.occurrence_count + 1, now(), now()),
		   updated_at = now()
	RETURNING p.* INTO result;
	RETURN result;
END
$$;
COMMENT ON FUNCTION alfred.observe_pattern(uuid, text, text, jsonb, text) IS
'Records one observation of a behavioural pattern: the first creates it, each further observation with the same user, type and description adds 1 to occurrence_count, appends the evidence (an object or an array of them; the last 100 entries are kept), refreshes last_seen_at and confidence n / (n + 2) and replaces suggested_action when one is given';

CREATE FUNCTION alfred.actionable_patterns(user_id uuid)
RETURNS SETOF alfred.observed_patterns
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT (jsonb_populate_record(p, jsonb_build_object(
				'confidence', alfred.pattern_confidence(p.occurrence_count, p.last_seen_at, now())))).*
	  FROM alfred.observed_patterns p
	 WHERE p.user_id = actionable_patterns.user_id
	   -- the first two conditions repeat pattern_actionable's so the partial index applies
	   AND p.acted_on = false AND p.occurrence_count >= 3
	   AND alfred.pattern_actionable(p.acted_on, p.occurrence_count, p.last_seen_at, now())
	 ORDER BY alfred.pattern_confidence(p.occurrence_count, p.last_seen_at, now()) DESC,
			  p.last_seen_at DESC, p.id
$$;
COMMENT ON FUNCTION alfred.actionable_patterns(uuid) IS
'The user''s patterns worth suggesting now (not acted on, seen at least 3 times, confidence n / (n + 2) * 0.5^(days since last seen / 30) at least 0.5), most confident first, with confidence as of now';

CREATE FUNCTION alfred.accept_pattern(
	pattern_id uuid, tool_name text DEFAULT 'assistant', cron text DEFAULT NULL,
	at timestamptz DEFAULT NULL, tool_args jsonb DEFAULT '{}', name text DEFAULT NULL,
	prompt_template text DEFAULT NULL, timezone text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	pattern alfred.observed_patterns;
	task_id uuid;
BEGIN
	SELECT * INTO pattern FROM alfred.observed_patterns p
	 WHERE p.id = accept_pattern.pattern_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no observed pattern with id "%"', accept_pattern.pattern_id
			USING ERRCODE = 'no_data_found';
	END IF;
	IF pattern.acted_on THEN
		RAISE EXCEPTION 'pattern "%" was already acted on', accept_pattern.pattern_id
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'A pattern creates at most one scheduled task.';
	END IF;
	task_id := alfred.schedule_task(
		user_id => pattern.user_id,
		name => left(coalesce(accept_pattern.name, pattern.suggested_action, pattern.description), 200),
		tool_name => accept_pattern.tool_name,
		tool_args => coalesce(accept_pattern.tool_args, '{}'),
		cron => accept_pattern.cron,
		-- neither cron nor at: run once, as soon as the scheduler can
		at => CASE WHEN accept_pattern.cron IS NULL AND accept_pattern.at IS NULL
				   THEN now() + interval '1 second' ELSE accept_pattern.at END,
		timezone => accept_pattern.timezone,
		prompt_template => coalesce(accept_pattern.prompt_template, pattern.suggested_action, pattern.description),
		description => pattern.description,
		source => 'agent');
	UPDATE alfred.scheduled_tasks t SET pattern_id = pattern.id
	 WHERE t.user_id = pattern.user_id AND t.id = task_id;
	UPDATE alfred.observed_patterns p SET acted_on = true
	 WHERE p.user_id = pattern.user_id AND p.id = pattern.id;
	RETURN task_id;
END
$$;
COMMENT ON FUNCTION alfred.accept_pattern(uuid, text, text, timestamptz, jsonb, text, text, text) IS
'The user accepted what a pattern suggests: schedules an agent-sourced task (schedule_task, source ''agent'', pattern_id set) and marks the pattern acted on; returns the task id. Defaults: the external tool ''assistant'' (register it for your agent), name and prompt from suggested_action (else the description), and with neither cron nor at one run right away. P0002 for an unknown pattern, 55000 if it was already acted on; schedule_task''s own checks apply (22023).';
-- 700 operations: the audit trail (written by triggers), OAuth tokens encrypted
-- with pgcrypto, retention and maintenance (run_maintenance, schedule_maintenance
-- with pg_cron or alfred's own scheduler) and health() for monitoring.

------------------------------------------------------------------------------
-- Audit trail
------------------------------------------------------------------------------

-- Columns whose values never enter the audit trail: a change to one is
-- recorded as '[redacted]' so that the trail says it changed, not to what.
CREATE FUNCTION alfred.audit_redact(row_values jsonb)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(jsonb_object_agg(key,
				CASE WHEN key IN ('password_hash', 'access_token', 'refresh_token', 'token_hash')
						  AND value <> 'null'::jsonb
					 THEN '"[redacted]"'::jsonb ELSE value END), '{}'::jsonb)
	  FROM jsonb_each(row_values)
$$;
COMMENT ON FUNCTION alfred.audit_redact(jsonb) IS
'Replaces the values of secret columns (password_hash, access_token, refresh_token, token_hash) by "[redacted]" in a row image for the audit trail.';

CREATE FUNCTION alfred.audit_row()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	old_values	jsonb;
	new_values	jsonb;
	changed		text[];
	entity		uuid;
BEGIN
	-- pg_dump and pg_restore run with row_security = off: a restore reloads the
	-- trail itself and must not record its bulk load as changes.
	IF current_setting('row_security') = 'off' THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' THEN
		new_values := alfred.audit_redact(to_jsonb(NEW));
		entity := NEW.id;
	ELSIF TG_OP = 'DELETE' THEN
		old_values := alfred.audit_redact(to_jsonb(OLD));
		entity := OLD.id;
	ELSE
		-- Only the columns that changed, less bookkeeping columns named as
		-- trigger arguments; an update that changes nothing else is not audited.
		SELECT array_agg(n.key ORDER BY n.key) INTO changed
		  FROM jsonb_each(to_jsonb(NEW)) n
		  JOIN jsonb_each(to_jsonb(OLD)) o USING (key)
		 WHERE n.value IS DISTINCT FROM o.value
		   AND n.key <> 'updated_at' AND NOT n.key = ANY (coalesce(TG_ARGV, '{}'));
		IF changed IS NULL THEN
			RETURN NULL;
		END IF;
		old_values := alfred.audit_redact(
			(SELECT jsonb_object_agg(key, value) FROM jsonb_each(to_jsonb(OLD)) WHERE key = ANY (changed)));
		new_values := alfred.audit_redact(
			(SELECT jsonb_object_agg(key, value) FROM jsonb_each(to_jsonb(NEW)) WHERE key = ANY (changed)));
		entity := NEW.id;
	END IF;

	INSERT INTO alfred.audit_trail (user_id, action, entity_type, entity_id, old_values, new_values, db_role)
	VALUES ((SELECT u.id FROM alfred.users u WHERE u.id = alfred.current_user_id()),
			lower(TG_OP), TG_TABLE_NAME, entity, old_values, new_values, session_user);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION alfred.audit_row() IS
'AFTER trigger writing one audit_trail row per inserted, updated or deleted row: the acting alfred user (NULL for the system or a DBA), the database role (session_user), and the old and new values of the changed columns with secrets redacted. Trigger arguments name bookkeeping columns whose changes alone are not audited. Sessions with row_security = off (pg_dump, pg_restore) are not audited.';

CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON alfred.users
	FOR EACH ROW EXECUTE FUNCTION alfred.audit_row('last_login_at');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON alfred.tasks
	FOR EACH ROW EXECUTE FUNCTION alfred.audit_row();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON alfred.proposals
	FOR EACH ROW EXECUTE FUNCTION alfred.audit_row();
-- The scheduler updates next_run_at, last_run_at and the counts on every run,
-- and completes a one-time task after its run (task_runs records the run):
-- the WHEN clause keeps the trigger from even starting for that bookkeeping
-- (thousands of rows a second); every other change is audited.
CREATE TRIGGER audit AFTER INSERT OR DELETE ON alfred.scheduled_tasks
	FOR EACH ROW EXECUTE FUNCTION alfred.audit_row();
CREATE TRIGGER audit_update AFTER UPDATE ON alfred.scheduled_tasks
	FOR EACH ROW
	WHEN ((OLD.name, OLD.description, OLD.task_type, OLD.schedule_cron, OLD.scheduled_at, OLD.timezone,
		   OLD.tool_name, OLD.tool_args, OLD.prompt_template, OLD.source, OLD.pattern_id,
		   OLD.max_retries, OLD.user_id, OLD.id)
		  IS DISTINCT FROM
		  (NEW.name, NEW.description, NEW.task_type, NEW.schedule_cron, NEW.scheduled_at, NEW.timezone,
		   NEW.tool_name, NEW.tool_args, NEW.prompt_template, NEW.source, NEW.pattern_id,
		   NEW.max_retries, NEW.user_id, NEW.id)
		  OR (OLD.status IS DISTINCT FROM NEW.status
			  AND NOT (OLD.status = 'active' AND NEW.status = 'completed')))
	EXECUTE FUNCTION alfred.audit_row('next_run_at', 'last_run_at', 'run_count', 'fail_count');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON alfred.connected_accounts
	FOR EACH ROW EXECUTE FUNCTION alfred.audit_row('last_sync_at');

------------------------------------------------------------------------------
-- OAuth tokens, encrypted with pgcrypto
------------------------------------------------------------------------------

-- The key comes from the caller or from the superuser-only setting
-- alfred.token_key (postgresql.conf or ALTER SYSTEM: a file, never a table).
CREATE FUNCTION alfred.token_key(key text)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k text;
BEGIN
	PERFORM alfred.current_user_id();		-- loads alfred, which defines alfred.token_key
	k := coalesce(key, nullif(current_setting('alfred.token_key', true), ''));
	IF k IS NULL THEN
		RAISE EXCEPTION 'no token encryption key'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'Neither a key argument nor the setting alfred.token_key was given.',
				  HINT = 'Set alfred.token_key in postgresql.conf (superuser-only) or pass key.';
	END IF;
	IF length(k) < 16 THEN
		RAISE EXCEPTION 'token encryption key is too short'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The key has %s characters; at least 16 are required.', length(k));
	END IF;
	RETURN k;
END
$$;
REVOKE ALL ON FUNCTION alfred.token_key(text) FROM PUBLIC;
COMMENT ON FUNCTION alfred.token_key(text) IS
'The key that encrypts OAuth tokens: the argument, else the superuser-only setting alfred.token_key; raises 55000 when there is none.';

-- Only the account's user, an admin, or a service role may touch its tokens.
CREATE FUNCTION alfred.account_for_tokens(account_id uuid)
RETURNS alfred.connected_accounts
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	acct alfred.connected_accounts;
BEGIN
	SELECT * INTO acct FROM alfred.connected_accounts a WHERE a.id = account_id FOR UPDATE;
	IF NOT FOUND
	   OR NOT (acct.user_id = alfred.current_user_id()
			   OR alfred.current_user_role() = 'admin'
			   OR alfred.caller_is_service()) THEN
		RAISE EXCEPTION 'connected account "%" does not exist', account_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN acct;
END
$$;
COMMENT ON FUNCTION alfred.account_for_tokens(uuid) IS
'Locks and returns a connected account the caller may manage (its user, an admin, or a service role); otherwise raises as if it did not exist.';

CREATE FUNCTION alfred.connect_account(user_id uuid, provider text, access_token text,
	refresh_token text DEFAULT NULL, token_expires_at timestamptz DEFAULT NULL,
	provider_account_id text DEFAULT NULL, provider_email text DEFAULT NULL,
	scopes text[] DEFAULT '{}', key text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k	text;
	id	uuid;
BEGIN
	IF NOT (connect_account.user_id = alfred.current_user_id()
			OR alfred.current_user_role() = 'admin'
			OR alfred.caller_is_service()) THEN
		RAISE EXCEPTION 'permission denied to connect an account for user "%"', connect_account.user_id
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF coalesce(access_token, '') = '' THEN
		RAISE EXCEPTION 'access_token must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	k := alfred.token_key(key);
	INSERT INTO alfred.connected_accounts AS a
		   (user_id, provider, provider_account_id, provider_email, access_token, refresh_token,
			token_expires_at, scopes, status)
	VALUES (connect_account.user_id, connect_account.provider, connect_account.provider_account_id,
			connect_account.provider_email, pgp_sym_encrypt(access_token, k),
			pgp_sym_encrypt(refresh_token, k), connect_account.token_expires_at,
			coalesce(connect_account.scopes, '{}'), 'active')
	ON CONFLICT ON CONSTRAINT connected_accounts_account_key DO UPDATE
		SET access_token = EXCLUDED.access_token, refresh_token = EXCLUDED.refresh_token,
			token_expires_at = EXCLUDED.token_expires_at, scopes = EXCLUDED.scopes,
			provider_email = coalesce(EXCLUDED.provider_email, a.provider_email), status = 'active'
	RETURNING a.id INTO id;
	RETURN id;
END
$$;
COMMENT ON FUNCTION alfred.connect_account(uuid, text, text, text, timestamptz, text, text, text[], text) IS
'Stores (or refreshes) a user''s OAuth connection with its tokens encrypted by pgcrypto under the key (argument or alfred.token_key); returns the account id. Allowed to the user, admins and service roles.';

CREATE FUNCTION alfred.set_account_tokens(account_id uuid, access_token text,
	refresh_token text DEFAULT NULL, token_expires_at timestamptz DEFAULT NULL, key text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	acct	alfred.connected_accounts := alfred.account_for_tokens(account_id);
	k		text := alfred.token_key(key);
BEGIN
	IF coalesce(access_token, '') = '' THEN
		RAISE EXCEPTION 'access_token must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE alfred.connected_accounts a
	   SET access_token = pgp_sym_encrypt(set_account_tokens.access_token, k),
		   refresh_token = CASE WHEN set_account_tokens.refresh_token IS NULL THEN a.refresh_token
								ELSE pgp_sym_encrypt(set_account_tokens.refresh_token, k) END,
		   token_expires_at = set_account_tokens.token_expires_at,
		   status = 'active'
	 WHERE a.user_id = acct.user_id AND a.id = acct.id;
END
$$;
COMMENT ON FUNCTION alfred.set_account_tokens(uuid, text, text, timestamptz, text) IS
'Replaces a connected account''s tokens after a refresh (a NULL refresh_token keeps the old one), encrypted under the key (argument or alfred.token_key).';

CREATE FUNCTION alfred.account_tokens(account_id uuid, key text DEFAULT NULL,
	OUT access_token text, OUT refresh_token text, OUT token_expires_at timestamptz)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	acct	alfred.connected_accounts := alfred.account_for_tokens(account_id);
	k		text := alfred.token_key(key);
BEGIN
	BEGIN
		access_token := pgp_sym_decrypt(acct.access_token, k);
		refresh_token := pgp_sym_decrypt(acct.refresh_token, k);
	EXCEPTION WHEN external_routine_invocation_exception OR data_exception THEN
		RAISE EXCEPTION 'cannot decrypt the tokens of connected account "%"', account_id
			USING ERRCODE = 'invalid_password',
				  DETAIL = 'The key is not the one the tokens were encrypted with.';
	END;
	token_expires_at := acct.token_expires_at;
END
$$;
COMMENT ON FUNCTION alfred.account_tokens(uuid, text) IS
'Decrypts a connected account''s OAuth tokens with the key (argument or alfred.token_key); the only way to read them back. Allowed to the account''s user, admins and service roles; a wrong key raises 28P01.';

------------------------------------------------------------------------------
-- Retention and maintenance
------------------------------------------------------------------------------

CREATE TABLE alfred.retention (
	relation			text NOT NULL PRIMARY KEY,
	keep				interval,
	rule				text NOT NULL,
	CONSTRAINT retention_keep_check CHECK (keep > interval '0')
);
COMMENT ON TABLE alfred.retention IS
'How long run_maintenance() keeps each kind of row (NULL keep = forever). A DBA may change keep; the rule column says what the age is counted from.';
INSERT INTO alfred.retention (relation, keep, rule) VALUES
	('proposals', '90 days', 'proposals in a final state (executed, rejected, expired, failed) whose last decision or execution is older; their execution logs go with them (seed 002)'),
	('execution_logs', '90 days', 'execution logs older than this (seed 002)'),
	('agent_run_logs', '30 days', 'agent run logs older than this (seed 002)'),
	('preference_signals', '1 year', 'preference signals older than this'),
	('chat_messages', '90 days', 'chat messages older than this (seed 003 chat_history)'),
	('notifications', '30 days', 'notifications sent, read, dismissed or archived longer ago than this (seed 003)'),
	('sessions', '1 day', 'sessions expired or revoked longer ago than this (seed 004)'),
	('task_runs', '90 days', 'finished runs (succeeded, failed, cancelled) of scheduled tasks older than this'),
	('engagement_events', '1 year', 'engagement events older than this (the calibration state keeps their decayed weight)'),
	('system_logs', '90 days', 'monthly partitions of system_logs whose whole month is older than this are dropped'),
	('audit_trail', NULL, 'the audit trail is kept forever unless a DBA sets keep');
SELECT pg_catalog.pg_extension_config_dump('alfred.retention', '');

CREATE FUNCTION alfred.retention_cutoff(relation text, now timestamptz)
RETURNS timestamptz
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT now - r.keep FROM alfred.retention r WHERE r.relation = retention_cutoff.relation
$$;
COMMENT ON FUNCTION alfred.retention_cutoff(text, timestamptz) IS
'The instant before which rows of a relation are removed by run_maintenance(), or NULL when they are kept forever.';

-- Drops system_logs partitions whose month ended before the cutoff.
CREATE FUNCTION alfred.drop_log_partitions(cutoff timestamptz)
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	part	record;
	dropped text[] := '{}';
BEGIN
	IF cutoff IS NULL THEN
		RETURN dropped;
	END IF;
	FOR part IN
		SELECT c.oid::regclass AS rel, c.relname,
			   (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound,
			   EXISTS (SELECT 1 FROM pg_depend d
						WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') AS member
		  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		 WHERE i.inhparent = 'alfred.system_logs'::regclass
		   AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
		 ORDER BY c.relname
	LOOP
		CONTINUE WHEN part.upper_bound IS NULL OR part.upper_bound > cutoff;
		IF part.member THEN
			EXECUTE format('ALTER EXTENSION alfred DROP TABLE %s', part.rel);
		END IF;
		EXECUTE format('DROP TABLE %s', part.rel);
		dropped := dropped || part.relname::text;
	END LOOP;
	RETURN dropped;
END
$$;
COMMENT ON FUNCTION alfred.drop_log_partitions(timestamptz) IS
'Drops the monthly partitions of system_logs whose month ended before cutoff; returns their names.';

CREATE FUNCTION alfred.run_maintenance(now timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	removed		jsonb := '{}';
	n			bigint;
	cutoff		timestamptz;
	result		jsonb;
BEGIN
	IF now IS NULL THEN
		RAISE EXCEPTION 'now must not be NULL' USING ERRCODE = 'invalid_parameter_value';
	END IF;

	cutoff := alfred.retention_cutoff('proposals', now);
	IF cutoff IS NOT NULL THEN
		DELETE FROM alfred.proposals p
		 WHERE p.status IN ('executed', 'rejected', 'expired', 'failed')
		   AND greatest(p.executed_at, p.rejected_at, p.expired_at, p.failed_at, p.updated_at) < cutoff;
		GET DIAGNOSTICS n = ROW_COUNT;
		removed := removed || jsonb_build_object('proposals', n);
	END IF;

	cutoff := alfred.retention_cutoff('execution_logs', now);
	IF cutoff IS NOT NULL THEN
		DELETE FROM alfred.execution_logs WHERE created_at < cutoff;
		GET DIAGNOSTICS n = ROW_COUNT;
		removed := removed || jsonb_build_object('execution_logs', n);
	END IF;

	cutoff := alfred.retention_cutoff('agent_run_logs', now);
	IF cutoff IS NOT NULL THEN
		DELETE FROM alfred.agent_run_logs WHERE created_at < cutoff;
		GET DIAGNOSTICS n = ROW_COUNT;
		removed := removed || jsonb_build_object('agent_run_logs', n);
	END IF;

	cutoff := alfred.retention_cutoff('preference_signals', now);
	IF cutoff IS NOT NULL THEN
		DELETE FROM alfred.preference_signals WHERE created_at < cutoff;
		GET DIAGNOSTICS n = ROW_COUNT;
		removed := removed || jsonb_build_object('preference_signals', n);
	END IF;

	cutoff := alfred.retention_cutoff('chat_messages', now);
	IF cutoff IS NOT NULL THEN
		DELETE FROM alfred.chat_messages WHERE created_at < cutoff;
		GET DIAGNOSTICS n = ROW_COUNT;
		removed := removed || jsonb_build_object('chat_messages', n);
	END IF;

	cutoff := alfred.retention_cutoff('notifications', now);
	IF cutoff IS NOT NULL THEN
		DELETE FROM alfred.notifications
		 WHERE status IN ('sent', 'read', 'dismissed', 'archived')
		   AND coalesce(sent_at, read_at, dismissed_at, updated_at) < cutoff;
		GET DIAGNOSTICS n = ROW_COUNT;
		removed := removed || jsonb_build_object('notifications', n);
	END IF;

	cutoff := alfred.retention_cutoff('sessions', now);
	IF cutoff IS NOT NULL THEN
		DELETE FROM alfred.sessions
		 WHERE expires_at < cutoff OR (is_revoked AND revoked_at < cutoff);
		GET DIAGNOSTICS n = ROW_COUNT;
		removed := removed || jsonb_build_object('sessions', n);
	END IF;

	cutoff := alfred.retention_cutoff('task_runs', now);
	IF cutoff IS NOT NULL THEN
		DELETE FROM alfred.task_runs
		 WHERE status IN ('succeeded', 'failed', 'cancelled') AND coalesce(finished_at, updated_at) < cutoff;
		GET DIAGNOSTICS n = ROW_COUNT;
		removed := removed || jsonb_build_object('task_runs', n);
	END IF;

	cutoff := alfred.retention_cutoff('engagement_events', now);
	IF cutoff IS NOT NULL THEN
		DELETE FROM alfred.engagement_events WHERE created_at < cutoff;
		GET DIAGNOSTICS n = ROW_COUNT;
		removed := removed || jsonb_build_object('engagement_events', n);
	END IF;

	cutoff := alfred.retention_cutoff('audit_trail', now);
	IF cutoff IS NOT NULL THEN
		DELETE FROM alfred.audit_trail WHERE created_at < cutoff;
		GET DIAGNOSTICS n = ROW_COUNT;
		removed := removed || jsonb_build_object('audit_trail', n);
	END IF;

	result := jsonb_build_object(
		'removed', removed,
		'proposals_expired', alfred.expire_proposals(),
		-- suppressions and boosts that ran out since the user's last event (600_calibration)
		'proactiveness_refreshed', alfred.refresh_all_proactiveness(),
		'log_partitions_created', alfred.create_log_partitions(3),
		'log_partitions_dropped',
			to_jsonb(alfred.drop_log_partitions(alfred.retention_cutoff('system_logs', now))),
		-- integrations and attachments (800_integrations, 800_attachments)
		'mcp_servers_silent', alfred.check_integrations(now => now),
		'attachments_expired',
			(SELECT coalesce(jsonb_agg(jsonb_build_object('user_id', e.user_id, 'storage_path', e.storage_path)
			                           ORDER BY e.storage_path), '[]')
			   FROM alfred.expire_attachments(now) e));
	RETURN result;
END
$$;
COMMENT ON FUNCTION alfred.run_maintenance(timestamptz) IS
'Applies the retention table (removes old proposals, logs, signals, chat messages, sent notifications, expired sessions, finished runs, engagement events), expires proposals, creates system_logs partitions ahead and drops old ones, marks MCP servers silent for 5 minutes as error and removes expired attachment rows (their storage paths are in the result, for the caller to delete the files); returns what it did as jsonb. Run it daily: schedule_maintenance() registers it with pg_cron or alfred''s scheduler.';
REVOKE ALL ON FUNCTION alfred.run_maintenance(timestamptz) FROM PUBLIC;

CREATE FUNCTION alfred.tool_run_maintenance(user_id uuid, args jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	done jsonb := alfred.run_maintenance(now());
BEGIN
	RETURN jsonb_build_object('title', 'Maintenance', 'priority', 'low',
		'message', format('Removed %s old rows; %s log partitions created, %s dropped.',
						  (SELECT coalesce(sum(value::bigint), 0) FROM jsonb_each_text(done->'removed')),
						  done->'log_partitions_created', jsonb_array_length(done->'log_partitions_dropped')),
		'maintenance', done);
END
$$;
COMMENT ON FUNCTION alfred.tool_run_maintenance(uuid, jsonb) IS
'Built-in tool run_maintenance: alfred.run_maintenance() as a scheduled task (for alfred''s scheduler; see schedule_maintenance).';
INSERT INTO alfred.tools (name, kind, fn, description) VALUES
	('run_maintenance', 'sql', 'alfred.tool_run_maintenance(uuid, jsonb)',
	 'Retention and partition maintenance (alfred.run_maintenance()).');

CREATE FUNCTION alfred.schedule_maintenance(schedule text DEFAULT '17 3 * * *', via text DEFAULT NULL,
	owner uuid DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	has_cron	boolean := to_regnamespace('cron') IS NOT NULL
						   AND EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron');
	admin		uuid := owner;
	task		uuid;
	job			bigint;
BEGIN
	IF NOT alfred.cron_valid(schedule) THEN
		PERFORM alfred.cron_next(schedule, now());		-- raises 22023 naming the bad field
	END IF;
	IF via IS NOT NULL AND via NOT IN ('pg_cron', 'alfred') THEN
		RAISE EXCEPTION 'invalid maintenance runner "%"', via
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Use ''pg_cron'', ''alfred'' or NULL (pg_cron when installed).';
	END IF;

	IF via = 'pg_cron' OR (via IS NULL AND has_cron) THEN
		IF NOT has_cron THEN
			RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Run CREATE EXTENSION pg_cron in the database named by cron.database_name, or use via => ''alfred''.';
		END IF;
		EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
			USING 'alfred-maintenance', schedule, 'SELECT alfred.run_maintenance()';
		RETURN format('pg_cron job %s "alfred-maintenance" runs alfred.run_maintenance() at "%s"', job, schedule);
	END IF;

	IF admin IS NULL THEN
		SELECT u.id INTO admin FROM alfred.users u
		 WHERE u.role = 'admin' AND u.status = 'active' ORDER BY u.created_at, u.id LIMIT 1;
		IF admin IS NULL THEN
			RAISE EXCEPTION 'no active admin user to own the maintenance task'
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Create an admin user, pass owner, or install pg_cron.';
		END IF;
	ELSIF NOT EXISTS (SELECT 1 FROM alfred.users u WHERE u.id = admin AND u.role = 'admin') THEN
		RAISE EXCEPTION 'user "%" is not an admin', admin USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM alfred.cancel_task(t.id) FROM alfred.scheduled_tasks t
	 WHERE t.tool_name = 'run_maintenance' AND t.status IN ('active', 'paused');
	task := alfred.schedule_task(user_id => admin, name => 'alfred maintenance', tool_name => 'run_maintenance',
									  cron => schedule, timezone => 'UTC',
									  description => 'Retention and partition maintenance (schedule_maintenance).');
	RETURN format('alfred scheduled task %s runs alfred.run_maintenance() at "%s" UTC', task, schedule);
END
$$;
COMMENT ON FUNCTION alfred.schedule_maintenance(text, text, uuid) IS
'Registers daily maintenance (alfred.run_maintenance()) with pg_cron when it is installed in this database (job "alfred-maintenance", replacing an earlier one), else or with via => ''alfred'' as a scheduled task of an admin user run by alfred''s own worker (replacing an earlier one). Returns what it registered.';
REVOKE ALL ON FUNCTION alfred.schedule_maintenance(text, text, uuid) FROM PUBLIC;

------------------------------------------------------------------------------
-- Health
------------------------------------------------------------------------------

CREATE FUNCTION alfred.health(now timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT jsonb_build_object(
		'workers', (SELECT coalesce(jsonb_agg(jsonb_build_object('worker', w.worker, 'pid', w.pid, 'state', w.state,
									'last_tick', w.last_tick, 'runs_done', w.runs_done, 'errors', w.errors)
									ORDER BY w.worker), '[]')
					  FROM alfred.worker_status w),
		'worker_alive', EXISTS (SELECT 1 FROM alfred.worker_status w
								 WHERE w.pid IS NOT NULL AND w.state NOT IN ('stopped')
								   AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = w.pid)),
		'enabled', current_setting('alfred.enabled', true)::boolean,
		'due_tasks', (SELECT count(*) FROM alfred.scheduled_tasks t
					   WHERE t.status = 'active' AND t.next_run_at <= now),
		'oldest_due', (SELECT min(t.next_run_at) FROM alfred.scheduled_tasks t
						WHERE t.status = 'active' AND t.next_run_at <= now),
		'oldest_due_seconds', (SELECT round(extract(epoch FROM now - min(t.next_run_at)))::bigint
								 FROM alfred.scheduled_tasks t
								WHERE t.status = 'active' AND t.next_run_at <= now),
		'queued_external_runs', (SELECT count(*) FROM alfred.task_runs r WHERE r.status = 'queued'),
		'oldest_queued_run_seconds', (SELECT round(extract(epoch FROM now - min(r.created_at)))::bigint
										FROM alfred.task_runs r WHERE r.status = 'queued'),
		'running_runs', (SELECT count(*) FROM alfred.task_runs r WHERE r.status = 'running'),
		'failed_runs_last_hour', (SELECT count(*) FROM alfred.task_runs r
								   WHERE r.status = 'failed' AND r.finished_at > now - interval '1 hour'),
		'pending_proposals', (SELECT count(*) FROM alfred.proposals p WHERE p.status = 'pending'),
		'table_bytes', (SELECT jsonb_object_agg(c.relname, pg_total_relation_size(c.oid) ORDER BY c.relname)
						  FROM pg_class c
						 WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p')
						   AND NOT c.relispartition))
$$;
COMMENT ON FUNCTION alfred.health(timestamptz) IS
'What a monitoring system polls: scheduler workers and whether one is alive, due tasks and the oldest due time, queued external runs and how long the oldest has waited for an agent, running runs, failed runs in the last hour, pending proposals, and every table''s size in bytes. Not granted to PUBLIC: GRANT EXECUTE to a monitoring role.';
REVOKE ALL ON FUNCTION alfred.health(timestamptz) FROM PUBLIC;

-- pgcrypto lives in whatever schema it was installed in: pin it in the search
-- path of the functions that encrypt and decrypt tokens.
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
		   AND p.proname IN ('connect_account', 'set_account_tokens', 'account_tokens')
	LOOP
		EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', fn, crypto);
	END LOOP;
END
$$;
-- 800_access: who may act for a user in the functions of issue #10
-- (assignment, integrations, attachments, quotas, conversation, planner).

CREATE FUNCTION alfred.may_act_for(user_id uuid, write boolean DEFAULT true)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN alfred.current_user_id() IS NULL THEN alfred.caller_is_service()
		ELSE coalesce(alfred.current_user_role() = 'admin'
		              OR (NOT may_act_for.write AND alfred.current_user_role() = 'observer')
		              OR (alfred.current_user_id() = may_act_for.user_id
		                  AND alfred.current_user_role() IN ('user', CASE WHEN NOT may_act_for.write THEN 'observer' END)),
		              false)
	END
$$;

COMMENT ON FUNCTION alfred.may_act_for(uuid, boolean) IS
'Whether the caller may read (write => false) or change the data of user_id, by the same rule as row-level security: the user themselves, admins, observers for reading only; without an alfred identity, a trusted service role (caller_is_service).';
-- 800_assign: task assignment with permissions (seed 004 assign_task, has_permission).

CREATE FUNCTION alfred.assign_task(task_id uuid, assignee_id uuid)
RETURNS alfred.tasks
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	caller uuid := alfred.current_user_id();
	caller_role text := alfred.current_user_role();
	t alfred.tasks;
	old_assignee uuid;
BEGIN
	IF task_id IS NULL THEN
		RAISE EXCEPTION 'argument "task_id" must not be null' USING ERRCODE = '22004';
	END IF;
	SELECT * INTO t FROM alfred.tasks WHERE id = assign_task.task_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'task "%" not found', assign_task.task_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT coalesce(caller_role = 'admin' OR
	                (caller = t.user_id AND caller_role = 'user') OR
	                (caller IS NULL AND alfred.caller_is_service()), false) THEN
		RAISE EXCEPTION 'permission denied to assign task "%"', assign_task.task_id
			USING ERRCODE = '42501',
			      DETAIL = 'Only the owner of a task and admins may assign it; observers only read.';
	END IF;
	IF assignee_id IS NOT NULL AND NOT EXISTS (
		SELECT FROM alfred.users u WHERE u.id = assignee_id AND u.status = 'active') THEN
		RAISE EXCEPTION 'user "%" cannot be assigned tasks', assignee_id
			USING ERRCODE = '22023', DETAIL = 'The assignee must be an existing, active user.';
	END IF;
	old_assignee := t.assigned_to;
	UPDATE alfred.tasks SET assigned_to = assignee_id
	WHERE user_id = t.user_id AND id = t.id
	RETURNING * INTO t;
	-- seed 004 logs every assignment; the generic audit triggers (#8) log the UPDATE too.
	-- user_id is the acting alfred user (NULL for a service acting without one).
	INSERT INTO alfred.audit_trail (user_id, action, entity_type, entity_id, old_values, new_values)
	VALUES (caller, 'task_assigned', 'task', t.id,
	        jsonb_build_object('assigned_to', old_assignee),
	        jsonb_build_object('assigned_to', assignee_id, 'owner', t.user_id));
	RETURN t;
END
$$;

COMMENT ON FUNCTION alfred.assign_task(uuid, uuid) IS
'Assign a task to a user (NULL unassigns); allowed to the task''s owner, admins and trusted services (42501 for observers and others; P0002 for an unknown task; 22023 for an unknown or inactive assignee). The assignee then sees and can update it; every assignment is written to audit_trail as "task_assigned".';
-- 800_attachments: file attachments with checksums and expiry (seed 004).

CREATE FUNCTION alfred.attach_file(
	user_id uuid,
	storage_path text,
	filename text,
	checksum text,
	file_size bigint,
	mime_type text,
	task_id uuid DEFAULT NULL,
	original_filename text DEFAULT NULL,
	expires_at timestamptz DEFAULT NULL,
	is_encrypted boolean DEFAULT false)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	new_id uuid;
BEGIN
	IF user_id IS NULL OR storage_path IS NULL OR filename IS NULL OR checksum IS NULL
	   OR file_size IS NULL OR mime_type IS NULL THEN
		RAISE EXCEPTION 'arguments "user_id", "storage_path", "filename", "checksum", "file_size" and "mime_type" must not be null'
			USING ERRCODE = '22004';
	END IF;
	IF NOT alfred.may_act_for(user_id) THEN
		RAISE EXCEPTION 'permission denied to attach files for user "%"', user_id
			USING ERRCODE = '42501', DETAIL = 'Users attach files for themselves; observers only read.';
	END IF;
	IF checksum !~ '^[0-9A-Fa-f]{64}$' THEN
		RAISE EXCEPTION 'invalid checksum "%"', checksum USING ERRCODE = '22023',
			DETAIL = 'The checksum must be a SHA-256 digest written as 64 hexadecimal digits.';
	END IF;
	IF file_size < 0 THEN
		RAISE EXCEPTION 'invalid file size %', file_size USING ERRCODE = '22023',
			DETAIL = 'A file size is a number of bytes, zero or more.';
	END IF;
	IF mime_type !~ '^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$' THEN
		RAISE EXCEPTION 'invalid mime type "%"', mime_type USING ERRCODE = '22023',
			DETAIL = 'A mime type is written type/subtype, such as "application/pdf".';
	END IF;
	IF btrim(storage_path) = '' OR btrim(filename) = '' THEN
		RAISE EXCEPTION 'storage path and file name must not be empty' USING ERRCODE = '22023';
	END IF;
	IF expires_at <= now() THEN
		RAISE EXCEPTION 'expiry "%" is not in the future', expires_at USING ERRCODE = '22023';
	END IF;
	IF task_id IS NOT NULL AND NOT EXISTS (
		SELECT FROM alfred.tasks t WHERE t.user_id = attach_file.user_id AND t.id = task_id) THEN
		RAISE EXCEPTION 'task "%" not found', task_id USING ERRCODE = 'P0002',
			DETAIL = 'A file is attached to a task of the same user.';
	END IF;
	INSERT INTO alfred.file_attachments AS f
		(user_id, filename, original_filename, mime_type, file_size, storage_path, task_id,
		 expires_at, is_encrypted, hash_checksum)
	VALUES (user_id, filename, coalesce(original_filename, filename), lower(mime_type), file_size,
	        storage_path, task_id, expires_at, coalesce(is_encrypted, false), lower(checksum))
	RETURNING f.id INTO new_id;
	RETURN new_id;
END
$$;

COMMENT ON FUNCTION alfred.attach_file(uuid, text, text, text, bigint, text, uuid, text, timestamptz, boolean) IS
'Record a stored file of a user (optionally on one of their tasks) with its SHA-256 checksum (64 hex digits, stored lower case), size in bytes and mime type; returns its id. 22023 for a bad checksum, size, mime type or expiry, P0002 for an unknown task, 42501 when the caller may not act for the user.';

CREATE FUNCTION alfred.expire_attachments(now timestamptz DEFAULT now())
RETURNS TABLE (user_id uuid, attachment_id uuid, storage_path text)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	DELETE FROM alfred.file_attachments f
	WHERE f.expires_at <= expire_attachments.now
	  AND (alfred.caller_is_service() OR alfred.may_act_for(f.user_id))
	RETURNING f.user_id, f.id, f.storage_path
$$;

COMMENT ON FUNCTION alfred.expire_attachments(timestamptz) IS
'Maintenance: deletes the attachment rows whose expires_at is not after now and returns their storage paths, for the caller to delete the files. A trusted service removes everyone''s; a user only their own.';
-- 800_conversation: conversation memory thresholds (seed 001: a session over
-- 50 messages is summarized; the lifetime summary is regenerated when total
-- messages cross 100, 500 and 1000).  The flags are generated columns of
-- chat_sessions (needs_summary) and ai_contexts (summary_threshold >
-- summarized_threshold), so they hold however the counters are maintained.

CREATE FUNCTION alfred.set_context_summary(session_id uuid, summary text)
RETURNS alfred.chat_sessions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s alfred.chat_sessions;
BEGIN
	IF coalesce(btrim(summary), '') = '' THEN
		RAISE EXCEPTION 'a context summary must not be empty' USING ERRCODE = '22023';
	END IF;
	SELECT * INTO s FROM alfred.chat_sessions c WHERE c.id = session_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'chat session "%" not found', session_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT alfred.may_act_for(s.user_id) THEN
		RAISE EXCEPTION 'permission denied to summarize chat session "%"', session_id
			USING ERRCODE = '42501', DETAIL = 'Only the session''s owner, admins and trusted services summarize it.';
	END IF;
	UPDATE alfred.chat_sessions c
	SET context_summary = summary, summarized_message_count = c.message_count
	WHERE c.user_id = s.user_id AND c.id = s.id
	RETURNING * INTO s;
	RETURN s;
END
$$;

COMMENT ON FUNCTION alfred.set_context_summary(uuid, text) IS
'Store the compressed context of a chat session and clear its needs_summary flag (set again once 50 more messages arrive). 22023 empty summary, P0002 unknown session, 42501 not allowed.';

CREATE FUNCTION alfred.set_conversation_summary(user_id uuid, summary text)
RETURNS alfred.ai_contexts
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c alfred.ai_contexts;
BEGIN
	IF coalesce(btrim(summary), '') = '' THEN
		RAISE EXCEPTION 'a conversation summary must not be empty' USING ERRCODE = '22023';
	END IF;
	IF NOT EXISTS (SELECT FROM alfred.users u WHERE u.id = set_conversation_summary.user_id) THEN
		RAISE EXCEPTION 'user "%" not found', user_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT alfred.may_act_for(user_id) THEN
		RAISE EXCEPTION 'permission denied to summarize the conversations of user "%"', user_id
			USING ERRCODE = '42501';
	END IF;
	INSERT INTO alfred.ai_contexts AS x (user_id, conversation_summary)
	VALUES (user_id, summary)
	ON CONFLICT ON CONSTRAINT ai_contexts_pkey DO UPDATE
		SET conversation_summary = EXCLUDED.conversation_summary,
		    summarized_threshold = x.summary_threshold
	RETURNING * INTO c;
	RETURN c;
END
$$;

COMMENT ON FUNCTION alfred.set_conversation_summary(uuid, text) IS
'Store the user''s lifetime conversation summary (ai_contexts) and mark the last crossed threshold (100, 500, 1000 messages) as summarized, so summaries_due no longer lists the user. 22023 empty summary, P0002 unknown user, 42501 not allowed.';

CREATE VIEW alfred.summaries_due WITH (security_invoker = true) AS
SELECT 'session'::text AS kind, s.user_id, s.id AS session_id, s.message_count AS messages,
       s.summarized_message_count AS summarized_at
FROM alfred.chat_sessions s
WHERE s.needs_summary
UNION ALL
SELECT 'lifetime', c.user_id, NULL, c.total_messages, c.summarized_threshold
FROM alfred.ai_contexts c
WHERE c.summary_threshold > c.summarized_threshold;

COMMENT ON VIEW alfred.summaries_due IS
'What an agent should summarize: chat sessions over 50 messages since their last summary (set_context_summary), and users whose lifetime message count crossed 100, 500 or 1000 since their last conversation summary (set_conversation_summary).';
-- 800_integrations: health of MCP servers and watchers (seed 004).

CREATE FUNCTION alfred.mcp_heartbeat(name text, capabilities text[] DEFAULT NULL)
RETURNS alfred.mcp_servers
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s alfred.mcp_servers;
BEGIN
	IF NOT (alfred.caller_is_service() OR EXISTS (
		SELECT FROM alfred.users u WHERE u.id = alfred.current_user_id() AND u.role = 'admin')) THEN
		RAISE EXCEPTION 'permission denied to report a heartbeat for mcp server "%"', name
			USING ERRCODE = '42501',
			      DETAIL = 'Only admins, superusers and members of alfred_service report heartbeats.';
	END IF;
	SELECT * INTO s FROM alfred.mcp_servers m WHERE m.name = mcp_heartbeat.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'mcp server "%" not found', name USING ERRCODE = 'P0002',
			HINT = 'Register the server in alfred.mcp_servers first.';
	END IF;
	IF NOT s.is_active THEN
		RAISE EXCEPTION 'mcp server "%" is disabled', name USING ERRCODE = '55000',
			DETAIL = 'Set is_active to true to take its heartbeats again.';
	END IF;
	UPDATE alfred.mcp_servers m
	SET status = 'active', last_heartbeat = now(),
	    capabilities = coalesce(mcp_heartbeat.capabilities, m.capabilities)
	WHERE m.id = s.id
	RETURNING * INTO s;
	RETURN s;
END
$$;

COMMENT ON FUNCTION alfred.mcp_heartbeat(text, text[]) IS
'An MCP server reports it is alive: status becomes active, last_heartbeat now, and capabilities are replaced when given. For admins and trusted services (42501 otherwise); P0002 for an unknown server, 55000 for a disabled one.';

CREATE FUNCTION alfred.check_integrations(silent_after interval DEFAULT NULL,
                                               now timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n integer;
BEGIN
	IF check_integrations.now IS NULL THEN
		RAISE EXCEPTION 'argument "now" must not be null' USING ERRCODE = '22004';
	END IF;
	-- the setting exists once the library is loaded (always, when preloaded)
	silent_after := coalesce(silent_after,
	                         current_setting('alfred.mcp_silence_timeout', true)::interval,
	                         interval '5 minutes');
	IF silent_after <= interval '0' THEN
		RAISE EXCEPTION 'invalid silence limit "%"', silent_after USING ERRCODE = '22023',
			DETAIL = 'A server is marked as failed after a positive interval without heartbeat.';
	END IF;
	UPDATE alfred.mcp_servers
	SET status = 'error'
	WHERE is_active AND status = 'active'
	  AND (last_heartbeat IS NULL OR last_heartbeat < check_integrations.now - silent_after);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

COMMENT ON FUNCTION alfred.check_integrations(interval, timestamptz) IS
'Maintenance: marks active MCP servers with no heartbeat for longer than silent_after (default: the setting alfred.mcp_silence_timeout, 5 minutes) before now as error; returns how many. Called by run_maintenance.';

CREATE FUNCTION alfred.watcher_report(watcher_id uuid, ok boolean, error text DEFAULT NULL)
RETURNS alfred.watchers
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w alfred.watchers;
BEGIN
	IF watcher_id IS NULL OR ok IS NULL THEN
		RAISE EXCEPTION 'arguments "watcher_id" and "ok" must not be null' USING ERRCODE = '22004';
	END IF;
	IF NOT ok AND coalesce(btrim(error), '') = '' THEN
		RAISE EXCEPTION 'a failed watcher run needs an error message' USING ERRCODE = '22023',
			DETAIL = 'Pass the error text as "error" when "ok" is false.';
	END IF;
	SELECT * INTO w FROM alfred.watchers x WHERE x.id = watcher_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'watcher "%" not found', watcher_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT alfred.may_act_for(w.user_id) THEN
		RAISE EXCEPTION 'permission denied to report on watcher "%"', watcher_id
			USING ERRCODE = '42501',
			      DETAIL = 'Only the watcher''s owner, admins and trusted services report its runs.';
	END IF;
	IF NOT w.is_active THEN
		RAISE EXCEPTION 'watcher "%" is disabled', watcher_id USING ERRCODE = '55000';
	END IF;
	UPDATE alfred.watchers x
	SET last_run_at = now(),
	    error_count = CASE WHEN ok THEN 0 ELSE x.error_count + 1 END,
	    last_error = CASE WHEN ok THEN x.last_error ELSE error END
	WHERE x.user_id = w.user_id AND x.id = w.id
	RETURNING * INTO w;
	RETURN w;
END
$$;

COMMENT ON FUNCTION alfred.watcher_report(uuid, boolean, text) IS
'A watcher reports a run: last_run_at becomes now; a failure (ok false, error required: 22023) counts in error_count and sets last_error; a success resets error_count to 0 and keeps last_error as history. P0002 unknown watcher, 42501 not the owner, 55000 disabled.';

CREATE VIEW alfred.unhealthy_integrations WITH (security_invoker = true) AS
SELECT 'mcp_server'::text AS kind, m.id, NULL::uuid AS user_id, m.name,
       'no heartbeat'::text AS problem, m.last_heartbeat AS last_seen, NULL::text AS last_error,
       NULL::integer AS error_count
FROM alfred.mcp_servers m
WHERE m.is_active AND m.status = 'error'
UNION ALL
SELECT 'watcher', w.id, w.user_id, w.name, 'failing', w.last_run_at, w.last_error, w.error_count
FROM alfred.watchers w
WHERE w.is_active AND w.error_count > 0;

COMMENT ON VIEW alfred.unhealthy_integrations IS
'Enabled integrations that need attention: MCP servers marked error (silent, see check_integrations) and watchers whose last runs failed (error_count consecutive failures).';
-- 800_planner: the free-slot planner (C: src/planner_sql.c, src/core/planner.c).

CREATE FUNCTION alfred.plan_free_slots(
	busy tstzrange[],
	"from" timestamptz,
	"to" timestamptz,
	duration interval,
	timezone text,
	work_blocks jsonb DEFAULT NULL,
	quiet_start time DEFAULT NULL,
	quiet_end time DEFAULT NULL,
	lunch_start time DEFAULT NULL,
	lunch_end time DEFAULT NULL,
	buffer_before interval DEFAULT '0',
	buffer_after interval DEFAULT '0')
RETURNS SETOF tstzrange
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_plan_free_slots_sql';

COMMENT ON FUNCTION alfred.plan_free_slots(tstzrange[], timestamptz, timestamptz, interval, text, jsonb, time, time, time, time, interval, interval) IS
'The free slots between "from" and "to" at least duration long: inside work_blocks ([{"day": "monday", "start": "09:00", "end": "12:00"}], evaluated in timezone; NULL = whole days), outside busy ranges widened by buffer_before/buffer_after, quiet hours and lunch (times of day; quiet hours may wrap past midnight). The engine under find_free_slots.';

CREATE FUNCTION alfred.find_free_slots(
	user_id uuid,
	"from" timestamptz,
	"to" timestamptz,
	duration interval DEFAULT NULL,
	buffer_before interval DEFAULT NULL,
	buffer_after interval DEFAULT NULL,
	avoid_lunch boolean DEFAULT NULL)
RETURNS SETOF tstzrange
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tz text;
	st alfred.user_settings;
	mp jsonb;
	min_d interval;
	max_d interval;
	bb interval;
	ba interval;
	lunch boolean;
	busy tstzrange[];
	bad text;
BEGIN
	IF user_id IS NULL OR "from" IS NULL OR "to" IS NULL THEN
		RAISE EXCEPTION 'arguments "user_id", "from" and "to" must not be null' USING ERRCODE = '22004';
	END IF;
	SELECT u.timezone INTO tz FROM alfred.users u WHERE u.id = find_free_slots.user_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'user "%" not found', user_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT alfred.may_act_for(user_id, false) THEN
		RAISE EXCEPTION 'permission denied to read the calendar of user "%"', user_id
			USING ERRCODE = '42501';
	END IF;
	SELECT * INTO st FROM alfred.user_settings s WHERE s.user_id = find_free_slots.user_id;
	mp := coalesce(st.meeting_preferences, '{}');
	SELECT e.key INTO bad FROM jsonb_each(mp) e
	WHERE CASE
		WHEN e.key IN ('min_duration_minutes', 'max_duration_minutes', 'buffer_before_minutes',
		               'buffer_after_minutes') THEN
			CASE WHEN jsonb_typeof(e.value) = 'number'
			     THEN e.value::numeric % 1 <> 0 OR e.value::numeric NOT BETWEEN 0 AND 10080
			     ELSE true END
		WHEN e.key = 'avoid_lunch_hours' THEN jsonb_typeof(e.value) <> 'boolean'
		WHEN e.key IN ('lunch_start', 'lunch_end') THEN
			jsonb_typeof(e.value) <> 'string' OR e.value #>> '{}' !~ '^([01]?[0-9]|2[0-3]):[0-5][0-9]$'
		ELSE false END
	ORDER BY e.key LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'invalid meeting preference "%": %', bad, mp->bad USING ERRCODE = '22023',
			DETAIL = 'Durations and buffers are whole minutes (0 to 10080), avoid_lunch_hours a boolean, lunch_start and lunch_end "HH:MM".';
	END IF;
	min_d := coalesce((mp->>'min_duration_minutes')::int, 15) * interval '1 minute';
	max_d := coalesce((mp->>'max_duration_minutes')::int, 480) * interval '1 minute';
	duration := coalesce(duration, min_d);
	IF duration < min_d OR duration > max_d THEN
		RAISE EXCEPTION 'duration "%" is outside the meeting preferences', duration
			USING ERRCODE = '22023',
			      DETAIL = format('The user''s meetings last from %s to %s.', min_d, max_d);
	END IF;
	bb := coalesce(buffer_before, (mp->>'buffer_before_minutes')::int * interval '1 minute', '0');
	ba := coalesce(buffer_after, (mp->>'buffer_after_minutes')::int * interval '1 minute', '0');
	lunch := coalesce(avoid_lunch, (mp->>'avoid_lunch_hours')::boolean, false);
	SELECT array_agg(tstzrange(i.start_datetime,
	                           coalesce(i.end_datetime, i.start_datetime + interval '1 hour')))
	INTO busy
	FROM alfred.items i
	WHERE i.user_id = find_free_slots.user_id AND i.source_type = 'event' AND NOT i.is_archived
	  AND i.start_datetime < "to" + ba
	  AND coalesce(i.end_datetime, i.start_datetime + interval '1 hour') > "from" - bb
	  AND coalesce(i.end_datetime, i.start_datetime + interval '1 hour') > i.start_datetime;
	RETURN QUERY SELECT * FROM alfred.plan_free_slots(
		busy, "from", "to", duration, tz, st.preferred_work_blocks,
		st.quiet_hours_start, st.quiet_hours_end,
		CASE WHEN lunch THEN coalesce((mp->>'lunch_start')::time, '12:00') END,
		CASE WHEN lunch THEN coalesce((mp->>'lunch_end')::time, '13:00') END,
		bb, ba);
END
$$;

COMMENT ON FUNCTION alfred.find_free_slots(uuid, timestamptz, timestamptz, interval, interval, interval, boolean) IS
'Free time of a user between "from" and "to": slots at least duration long inside their preferred work blocks (in users.timezone; none set = whole days), outside quiet hours and their calendar events (items with source_type event; one without an end lasts an hour) widened by buffers, and outside lunch (12:00-13:00 or meeting_preferences lunch_start/lunch_end) when avoid_lunch. NULL arguments come from meeting_preferences (duration = min_duration_minutes, default 15 minutes); a duration outside min/max_duration_minutes is 22023. P0002 unknown user, 42501 not allowed.';
-- 800_quota: per-user daily AI quota (seed 001 rate_limit_override:
-- "rate limits prevent abuse and cost overruns").

CREATE TABLE alfred.ai_usage (
	user_id uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	day date NOT NULL,
	used integer NOT NULL DEFAULT 0 CHECK (used >= 0),
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, day)
);

COMMENT ON TABLE alfred.ai_usage IS
'AI requests spent per user and day (the user''s own calendar day, in users.timezone); written only by consume_ai_quota, read by the user.';

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON alfred.ai_usage
	FOR EACH ROW EXECUTE FUNCTION alfred.touch_updated_at();

-- users read their rows (admins and observers all); nobody writes them but consume_ai_quota
SELECT alfred.enable_tenant_rls('alfred.ai_usage', commands => '{}');

CREATE FUNCTION alfred.ai_daily_limit()
RETURNS integer
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'alfred_ai_daily_limit_sql';

COMMENT ON FUNCTION alfred.ai_daily_limit() IS
'The setting alfred.ai_daily_limit: AI requests a user may make per day unless user_settings.ai_daily_limit says otherwise.';

CREATE FUNCTION alfred.consume_ai_quota(user_id uuid, cost integer DEFAULT 1)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tz text;
	daily_limit integer;
	enabled boolean;
	today date;
BEGIN
	IF user_id IS NULL OR cost IS NULL THEN
		RAISE EXCEPTION 'arguments "user_id" and "cost" must not be null' USING ERRCODE = '22004';
	END IF;
	IF cost <= 0 THEN
		RAISE EXCEPTION 'invalid cost %', cost USING ERRCODE = '22023',
			DETAIL = 'A request costs one unit or more.';
	END IF;
	SELECT u.timezone, coalesce(s.ai_daily_limit, alfred.ai_daily_limit()),
	       coalesce(s.ai_features_enabled, true)
	INTO tz, daily_limit, enabled
	FROM alfred.users u
	LEFT JOIN alfred.user_settings s ON s.user_id = u.id
	WHERE u.id = consume_ai_quota.user_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'user "%" not found', user_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT alfred.may_act_for(user_id) THEN
		RAISE EXCEPTION 'permission denied to spend the AI quota of user "%"', user_id
			USING ERRCODE = '42501', DETAIL = 'Users spend their own quota; observers only read.';
	END IF;
	IF NOT enabled OR cost > daily_limit THEN
		RETURN false;
	END IF;
	today := (now() AT TIME ZONE tz)::date;
	-- one statement: the row lock of the upsert serializes concurrent callers,
	-- and the WHERE is re-checked against the latest count, so no double spend
	INSERT INTO alfred.ai_usage AS a (user_id, day, used)
	VALUES (consume_ai_quota.user_id, today, cost)
	ON CONFLICT ON CONSTRAINT ai_usage_pkey DO UPDATE
		SET used = a.used + EXCLUDED.used
		WHERE a.used + EXCLUDED.used <= daily_limit;
	RETURN FOUND;
END
$$;

COMMENT ON FUNCTION alfred.consume_ai_quota(uuid, integer) IS
'Spend cost units of the user''s AI quota for their current day (users.timezone): true and counted when it fits the daily limit (user_settings.ai_daily_limit, else alfred.ai_daily_limit), false and nothing spent when it does not or AI features are off. Concurrent calls never overspend. 22023 cost not positive, P0002 unknown user, 42501 not allowed to act for the user.';

CREATE FUNCTION alfred.ai_quota(user_id uuid)
RETURNS TABLE (day date, daily_limit integer, used integer, remaining integer)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT d.day, d.lim, coalesce(a.used, 0), greatest(d.lim - coalesce(a.used, 0), 0)
	FROM (SELECT (now() AT TIME ZONE u.timezone)::date AS day,
	             coalesce(s.ai_daily_limit, alfred.ai_daily_limit()) AS lim
	      FROM alfred.users u
	      LEFT JOIN alfred.user_settings s ON s.user_id = u.id
	      WHERE u.id = ai_quota.user_id AND alfred.may_act_for(u.id, false)) d
	LEFT JOIN alfred.ai_usage a ON a.user_id = ai_quota.user_id AND a.day = d.day
$$;

COMMENT ON FUNCTION alfred.ai_quota(uuid) IS
'The user''s AI quota today (their time zone): limit, used and remaining. No row when the user is unknown or the caller may not read their data.';
-- 990 dump: pg_dump must keep the data of every alfred table.
--
-- Tables created by an extension script are members of the extension, and
-- pg_dump skips the contents of member tables unless they are registered with
-- pg_extension_config_dump().  This last part registers every table (and
-- system_logs partition) that the parts before it created.  Partitions that
-- create_log_partitions() adds later are not members and are dumped as usual.
--
-- Rows the install script itself inserted (built-in tools, retention
-- periods) are left out of the dump by a filter on their primary keys: a
-- restore runs CREATE EXTENSION, which inserts them again.

DO $$
DECLARE
	rel			regclass;
	has_rows	boolean;
	key			text;
	installed	text;
BEGIN
	FOR rel IN
		SELECT c.oid::regclass FROM pg_catalog.pg_class c
		 WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind = 'r'
		 ORDER BY c.relname
	LOOP
		EXECUTE format('SELECT EXISTS (SELECT FROM %s)', rel) INTO has_rows;
		IF NOT has_rows THEN
			PERFORM pg_catalog.pg_extension_config_dump(rel, '');
			CONTINUE;
		END IF;
		SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.ord) INTO STRICT key
		  FROM pg_catalog.pg_index i
		 CROSS JOIN LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k (attnum, ord)
		  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
		 WHERE i.indrelid = rel AND i.indisprimary;
		IF key IS NULL THEN
			RAISE EXCEPTION 'table % has rows at install time but no primary key', rel;
		END IF;
		EXECUTE format('SELECT pg_catalog.string_agg(pg_catalog.quote_literal(ROW(%s, NULL)::text), '', '') FROM %s',
					   key, rel) INTO installed;
		PERFORM pg_catalog.pg_extension_config_dump(rel,
			format('WHERE ROW(%s, NULL)::text NOT IN (%s)', key, installed));
	END LOOP;
END
$$;
