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

CREATE FUNCTION @extschema@.is_valid_timezone(tz text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'alfred_is_valid_timezone'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.is_valid_timezone(text) IS
'Whether a time zone name is usable by every alfred engine: PostgreSQL''s time zone library knows it (IANA names such as Europe/Paris, and UTC) and it does not count leap seconds.';

CREATE FUNCTION @extschema@.touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	NEW.updated_at := pg_catalog.now();
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.touch_updated_at() IS
'Trigger: sets updated_at to the transaction time on every UPDATE.';

CREATE FUNCTION @extschema@.forbid_tenant_change()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	RAISE EXCEPTION 'cannot move a row of "%" to another user', TG_TABLE_NAME
		USING ERRCODE = 'insufficient_privilege',
			  DETAIL = 'user_id is the tenant key; it never changes after a row is inserted.';
END
$$;
COMMENT ON FUNCTION @extschema@.forbid_tenant_change() IS
'Trigger: rejects an UPDATE that changes user_id (the tenant key is immutable).';

------------------------------------------------------------------------------
-- Accounts
------------------------------------------------------------------------------

CREATE TABLE @extschema@.users (
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
	CONSTRAINT users_username_check CHECK (NOT @extschema@.is_blank(username) AND username !~ '[[:space:]]'),
	CONSTRAINT users_password_hash_check CHECK (password_hash ~ '^\$2[abxy]?\$'),
	CONSTRAINT users_role_check CHECK (role IN ('admin', 'user', 'observer')),
	CONSTRAINT users_status_check CHECK (status IN ('active', 'inactive', 'suspended')),
	CONSTRAINT users_timezone_check CHECK (@extschema@.is_valid_timezone(timezone)),
	CONSTRAINT users_profile_check CHECK (jsonb_typeof(profile) = 'object')
);
CREATE UNIQUE INDEX users_email_key ON @extschema@.users (lower(email));
CREATE UNIQUE INDEX users_username_key ON @extschema@.users (lower(username));
CREATE INDEX users_status_idx ON @extschema@.users (status);
COMMENT ON TABLE @extschema@.users IS
'A person using alfred. Create with alfred.create_user(); passwords are bcrypt hashes.';
COMMENT ON COLUMN @extschema@.users.email IS 'Login name; unique regardless of case.';
COMMENT ON COLUMN @extschema@.users.password_hash IS 'bcrypt hash (pgcrypto crypt/gen_salt(''bf'')); never the password.';
COMMENT ON COLUMN @extschema@.users.role IS 'admin sees and changes every row, user only their own, observer reads every row and changes none.';
COMMENT ON COLUMN @extschema@.users.status IS 'Only active users can log in or be acted as; inactive and suspended ones cannot.';
COMMENT ON COLUMN @extschema@.users.timezone IS 'IANA zone in which "today", quiet hours, schedules and streaks are evaluated.';
COMMENT ON COLUMN @extschema@.users.profile IS 'Free-form profile and preferences (a JSON object); the name and time zone have their own columns, display_name and timezone.';
COMMENT ON COLUMN @extschema@.users.id IS 'The user''s id: user_id in every table the user owns.';
COMMENT ON COLUMN @extschema@.users.username IS 'Optional handle without white space; unique regardless of case.';
COMMENT ON COLUMN @extschema@.users.display_name IS 'The name the assistant calls the user by, optional; prompts fall back to first and last name, then username, then email.';
COMMENT ON COLUMN @extschema@.users.first_name IS 'Given name, optional.';
COMMENT ON COLUMN @extschema@.users.last_name IS 'Family name, optional.';
COMMENT ON COLUMN @extschema@.users.location_city IS 'City the user lives in, optional (free text).';
COMMENT ON COLUMN @extschema@.users.location_country IS 'Country the user lives in, optional (free text).';
COMMENT ON COLUMN @extschema@.users.last_login_at IS 'When alfred.login() last succeeded for the user; NULL: never.';
COMMENT ON COLUMN @extschema@.users.created_at IS 'When the user was created.';
COMMENT ON COLUMN @extschema@.users.updated_at IS 'When the row last changed (trigger touch_updated_at).';

CREATE TABLE @extschema@.sessions (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
-- With user_id so that sessions can be distributed by it: a lookup by token
-- alone still uses the index (and asks every shard on Citus); the token is
-- 32 random bytes, so two users never share one.
CREATE UNIQUE INDEX sessions_token_hash_key ON @extschema@.sessions (token_hash, user_id);
CREATE INDEX sessions_expires_at_idx ON @extschema@.sessions (expires_at);
COMMENT ON TABLE @extschema@.sessions IS
'Login sessions. Only the SHA-256 digest of a token is stored; alfred.login() returns the token once.';
COMMENT ON COLUMN @extschema@.sessions.token_hash IS 'sha256 of the token''s UTF-8 text.';

CREATE TABLE @extschema@.connected_accounts (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
CREATE INDEX connected_accounts_status_idx ON @extschema@.connected_accounts (user_id, status);
CREATE INDEX connected_accounts_refresh_idx ON @extschema@.connected_accounts (token_expires_at)
	WHERE status = 'active';
COMMENT ON TABLE @extschema@.connected_accounts IS
'OAuth connections to mail and calendar providers. Tokens are pgcrypto-encrypted with a key the server does not store.';
COMMENT ON COLUMN @extschema@.connected_accounts.access_token IS 'pgp_sym_encrypt()ed OAuth access token.';
COMMENT ON COLUMN @extschema@.connected_accounts.refresh_token IS 'pgp_sym_encrypt()ed OAuth refresh token.';

------------------------------------------------------------------------------
-- Projects and tasks
------------------------------------------------------------------------------

CREATE TABLE @extschema@.projects (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
	CONSTRAINT projects_name_check CHECK (NOT @extschema@.is_blank(name)),
	CONSTRAINT projects_role_check CHECK (role IN ('owner', 'member', 'observer')),
	CONSTRAINT projects_status_check CHECK (status IN ('active', 'on_hold', 'completed', 'archived'))
);
CREATE INDEX projects_status_idx ON @extschema@.projects (user_id, status);
CREATE INDEX projects_metadata_idx ON @extschema@.projects USING gin (metadata jsonb_path_ops);
COMMENT ON TABLE @extschema@.projects IS 'A user''s projects; their progress notes are in project_updates (project_health, stale_projects).';
COMMENT ON COLUMN @extschema@.projects.role IS 'The user''s role in the project: owner, member or observer.';

CREATE TABLE @extschema@.project_updates (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	project_id			uuid NOT NULL,
	content				text NOT NULL,
	update_type			text,
	action_items		text,
	blockers			jsonb NOT NULL DEFAULT '[]',
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, project_id) REFERENCES @extschema@.projects (user_id, id) ON DELETE CASCADE,
	CONSTRAINT project_updates_content_check CHECK (NOT @extschema@.is_blank(content)),
	CONSTRAINT project_updates_update_type_check CHECK (update_type IN ('progress', 'blocker', 'decision', 'note')),
	CONSTRAINT project_updates_blockers_check CHECK (jsonb_typeof(blockers) = 'array')
);
CREATE INDEX project_updates_project_idx ON @extschema@.project_updates (user_id, project_id, created_at DESC);
CREATE INDEX project_updates_created_idx ON @extschema@.project_updates (user_id, created_at DESC);
COMMENT ON TABLE @extschema@.project_updates IS 'Progress notes, blockers and decisions of a project.';

CREATE TABLE @extschema@.tasks (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
	assigned_to			uuid REFERENCES @extschema@.users (id) ON DELETE SET NULL,
	created_by			uuid REFERENCES @extschema@.users (id) ON DELETE SET NULL,
	estimated_duration	integer,
	actual_duration		integer,
	metadata			jsonb NOT NULL DEFAULT '{}',
	completed_at		timestamptz,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, project_id) REFERENCES @extschema@.projects (user_id, id) ON DELETE SET NULL (project_id),
	CONSTRAINT tasks_title_check CHECK (NOT @extschema@.is_blank(title)),
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
CREATE INDEX tasks_status_idx ON @extschema@.tasks (user_id, status);
CREATE INDEX tasks_due_idx ON @extschema@.tasks (user_id, due_date);
CREATE INDEX tasks_open_due_idx ON @extschema@.tasks (user_id, due_date)
	WHERE status IN ('pending', 'in_progress', 'blocked');
CREATE INDEX tasks_project_idx ON @extschema@.tasks (user_id, project_id) WHERE project_id IS NOT NULL;
CREATE INDEX tasks_priority_idx ON @extschema@.tasks (user_id, priority);
CREATE INDEX tasks_created_idx ON @extschema@.tasks (user_id, created_at DESC);
CREATE INDEX tasks_assigned_idx ON @extschema@.tasks (assigned_to, status) WHERE assigned_to IS NOT NULL;
CREATE INDEX tasks_tags_idx ON @extschema@.tasks USING gin (tags);
CREATE INDEX tasks_fulltext_idx ON @extschema@.tasks
	USING gin (to_tsvector('english'::regconfig, title || ' ' || coalesce(description, '')));
COMMENT ON TABLE @extschema@.tasks IS
'To-dos. A task belongs to user_id; assigned_to may name another user, who then sees and may update it.';
COMMENT ON COLUMN @extschema@.tasks.recurrence IS 'daily, weekly, monthly or a cron expression; the next occurrence is spawned on completion.';
COMMENT ON COLUMN @extschema@.tasks.estimated_duration IS 'Minutes, more than 0. A critical task is estimated at most 1440 (one day).';
COMMENT ON COLUMN @extschema@.tasks.actual_duration IS 'Minutes.';
COMMENT ON COLUMN @extschema@.tasks.created_by IS 'Who created the task when it was not its owner (an admin, an assigner).';
COMMENT ON COLUMN @extschema@.tasks.user_id IS 'The owner; never changes (trigger tenant_key_immutable).';
COMMENT ON COLUMN @extschema@.tasks.id IS 'The task''s id, unique with user_id.';
COMMENT ON COLUMN @extschema@.tasks.project_id IS 'The owner''s project the task belongs to, optional; cleared when the project is deleted.';
COMMENT ON COLUMN @extschema@.tasks.title IS 'What to do; not blank.';
COMMENT ON COLUMN @extschema@.tasks.description IS 'Details, optional.';
COMMENT ON COLUMN @extschema@.tasks.priority IS 'low, medium (the default), high, urgent or critical; dashboards list critical first.';
COMMENT ON COLUMN @extschema@.tasks.status IS 'pending, in_progress, blocked, completed, cancelled or failed; changes follow the task state machine (trigger tasks_status), and completing waits for every dependency.';
COMMENT ON COLUMN @extschema@.tasks.due_date IS 'When the task is due, optional; overdue once before the owner''s today (task_summary, overdue_tasks).';
COMMENT ON COLUMN @extschema@.tasks.blockers IS 'What blocks the task, free text, optional.';
COMMENT ON COLUMN @extschema@.tasks.tags IS 'Labels (text array, GIN-indexed).';
COMMENT ON COLUMN @extschema@.tasks.source IS 'How the task came: manual (the default), conversation (a task action of a proposal) or import.';
COMMENT ON COLUMN @extschema@.tasks.assigned_to IS 'Another user who sees the task and may update it, but not delete or reassign it; set with assign_task; cleared when that user is deleted.';
COMMENT ON COLUMN @extschema@.tasks.metadata IS 'Free-form data of the application (a JSON object).';
COMMENT ON COLUMN @extschema@.tasks.completed_at IS 'When the task was completed: set on entering completed, cleared on leaving it.';
COMMENT ON COLUMN @extschema@.tasks.created_at IS 'When the task was created.';
COMMENT ON COLUMN @extschema@.tasks.updated_at IS 'When the row last changed (trigger touch_updated_at).';

CREATE TABLE @extschema@.task_dependencies (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
	task_id				uuid NOT NULL,
	depends_on_task_id	uuid NOT NULL,
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, task_id, depends_on_task_id),
	FOREIGN KEY (user_id, task_id) REFERENCES @extschema@.tasks (user_id, id) ON DELETE CASCADE,
	FOREIGN KEY (user_id, depends_on_task_id) REFERENCES @extschema@.tasks (user_id, id) ON DELETE CASCADE,
	CONSTRAINT task_dependencies_self_check CHECK (task_id <> depends_on_task_id)
);
CREATE INDEX task_dependencies_reverse_idx ON @extschema@.task_dependencies (user_id, depends_on_task_id);
COMMENT ON TABLE @extschema@.task_dependencies IS
'task_id cannot complete before depends_on_task_id; both are tasks of user_id. A trigger rejects cycles.';

CREATE FUNCTION @extschema@.task_dependencies_check_cycle()
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
			  FROM @extschema@.task_dependencies d
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
COMMENT ON FUNCTION @extschema@.task_dependencies_check_cycle() IS
'Trigger: rejects a task dependency that would close a cycle (23514).';
CREATE TRIGGER task_dependencies_no_cycle
	BEFORE INSERT OR UPDATE ON @extschema@.task_dependencies
	FOR EACH ROW EXECUTE FUNCTION @extschema@.task_dependencies_check_cycle();

------------------------------------------------------------------------------
-- Habits
------------------------------------------------------------------------------

CREATE TABLE @extschema@.habits (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
	CONSTRAINT habits_name_check CHECK (NOT @extschema@.is_blank(name)),
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
CREATE INDEX habits_active_idx ON @extschema@.habits (user_id) WHERE active;
CREATE INDEX habits_reminder_idx ON @extschema@.habits (user_id) WHERE reminder_enabled AND active;
COMMENT ON TABLE @extschema@.habits IS
'Habits with streaks. Streak columns are maintained by alfred.log_habit()/unlog_habit().';
COMMENT ON COLUMN @extschema@.habits.days_of_week IS 'ISO weekdays, 1 = Monday … 7 = Sunday: the scheduled days of a custom habit, or the default weekly target.';
COMMENT ON COLUMN @extschema@.habits.target_per_week IS 'Logs needed in an ISO week to meet a weekly habit (default: number of days_of_week, else 1).';
COMMENT ON COLUMN @extschema@.habits.day_start_hour IS 'Hour at which the user''s day starts for this habit: a log before it counts for the previous day.';
COMMENT ON COLUMN @extschema@.habits.last_met_period IS 'First day of the last met period (day or ISO week); lets a log for today update the streak in O(1).';
COMMENT ON COLUMN @extschema@.habits.period_logs IS 'Weekly habits: logs in the ISO week of last_logged (part of the streak tally, with current_streak, best_streak, last_logged and last_met_period).';
COMMENT ON COLUMN @extschema@.habits.user_id IS 'The owner; never changes (trigger tenant_key_immutable).';
COMMENT ON COLUMN @extschema@.habits.id IS 'The habit''s id, unique with user_id.';
COMMENT ON COLUMN @extschema@.habits.name IS 'What the habit is; not blank.';
COMMENT ON COLUMN @extschema@.habits.frequency IS 'daily (every day), weekly (target_per_week logs per ISO week) or custom (the days_of_week).';
COMMENT ON COLUMN @extschema@.habits.time_preference IS 'morning, afternoon, evening or anytime, optional; habits_today lists them in that order.';
COMMENT ON COLUMN @extschema@.habits.current_streak IS 'Met periods in a row up to last_met_period, kept by log_habit and unlog_habit; habit_streak reads the streak as of a day (0 once it lapsed).';
COMMENT ON COLUMN @extschema@.habits.best_streak IS 'The longest run of met periods; at least current_streak.';
COMMENT ON COLUMN @extschema@.habits.total_completions IS 'Days logged, scheduled or not.';
COMMENT ON COLUMN @extschema@.habits.last_logged IS 'The latest day logged; NULL: never.';
COMMENT ON COLUMN @extschema@.habits.motivation IS 'Why the user keeps the habit, free text, optional.';
COMMENT ON COLUMN @extschema@.habits.category IS 'health, productivity, learning or wellness, optional.';
COMMENT ON COLUMN @extschema@.habits.active IS 'Whether the habit is kept now; inactive habits leave the dashboards and reminders.';
COMMENT ON COLUMN @extschema@.habits.reminder_enabled IS 'Whether the habit_reminder tool may remind the user of this habit.';
COMMENT ON COLUMN @extschema@.habits.created_at IS 'When the habit was created.';
COMMENT ON COLUMN @extschema@.habits.updated_at IS 'When the row last changed (trigger touch_updated_at).';

CREATE TABLE @extschema@.habit_logs (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	habit_id			uuid NOT NULL,
	logged_date			date NOT NULL,
	notes				text,
	duration_minutes	integer,
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, habit_id) REFERENCES @extschema@.habits (user_id, id) ON DELETE CASCADE,
	CONSTRAINT habit_logs_habit_date_key UNIQUE (user_id, habit_id, logged_date),
	CONSTRAINT habit_logs_duration_check CHECK (duration_minutes >= 0)
);
CREATE INDEX habit_logs_date_idx ON @extschema@.habit_logs (user_id, logged_date);
COMMENT ON TABLE @extschema@.habit_logs IS 'One row per habit and day done.';

------------------------------------------------------------------------------
-- Conversation and AI memory
------------------------------------------------------------------------------

CREATE TABLE @extschema@.chat_sessions (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
CREATE INDEX chat_sessions_recent_idx ON @extschema@.chat_sessions (user_id, last_activity_at DESC);
CREATE INDEX chat_sessions_active_idx ON @extschema@.chat_sessions (last_activity_at) WHERE is_active;
COMMENT ON TABLE @extschema@.chat_sessions IS
'A conversation with the assistant. Inactive after 24 hours without a message.';
COMMENT ON COLUMN @extschema@.chat_sessions.needs_summary IS 'More than 50 messages since the last context summary; set_context_summary clears it.';

CREATE TABLE @extschema@.chat_messages (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	session_id			uuid,
	role				text NOT NULL,
	content				text NOT NULL,
	metadata			jsonb NOT NULL DEFAULT '{}',
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, session_id) REFERENCES @extschema@.chat_sessions (user_id, id) ON DELETE CASCADE,
	CONSTRAINT chat_messages_role_check CHECK (role IN ('user', 'assistant', 'system')),
	CONSTRAINT chat_messages_content_check CHECK (NOT @extschema@.is_blank(content)),
	CONSTRAINT chat_messages_metadata_check CHECK (jsonb_typeof(metadata) = 'object')
);
CREATE INDEX chat_messages_session_idx ON @extschema@.chat_messages (user_id, session_id, created_at);
CREATE INDEX chat_messages_created_idx ON @extschema@.chat_messages (user_id, created_at DESC);
CREATE INDEX chat_messages_role_idx ON @extschema@.chat_messages (user_id, role);
COMMENT ON TABLE @extschema@.chat_messages IS
'Messages of a conversation, in a chat session or, with session_id NULL, outside any session.';
COMMENT ON COLUMN @extschema@.chat_messages.role IS 'user, assistant or system (add_message also takes user_message, ai_response and system_notification for these three).';

CREATE TABLE @extschema@.ai_contexts (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
COMMENT ON TABLE @extschema@.ai_contexts IS 'The assistant''s long-term memory of a user: one row per user, created with the user.';
COMMENT ON COLUMN @extschema@.ai_contexts.summary_threshold IS 'The highest of 100, 500, 1000 that total_messages has reached: the summary is regenerated at each; due while above summarized_threshold (set_conversation_summary).';

CREATE TABLE @extschema@.learnings (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	topic				text NOT NULL,
	content				text NOT NULL,
	original_query		text,
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	CONSTRAINT learnings_topic_check CHECK (NOT @extschema@.is_blank(topic)),
	CONSTRAINT learnings_content_check CHECK (NOT @extschema@.is_blank(content))
);
CREATE INDEX learnings_topic_idx ON @extschema@.learnings (user_id, topic);
CREATE INDEX learnings_fulltext_idx ON @extschema@.learnings
	USING gin (to_tsvector('english'::regconfig, topic || ' ' || content));
COMMENT ON TABLE @extschema@.learnings IS 'Knowledge the assistant gathered for the user.';

------------------------------------------------------------------------------
-- Settings and learned preferences
------------------------------------------------------------------------------

CREATE TABLE @extschema@.user_settings (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
	preferred_language	text NOT NULL DEFAULT 'en',
	ai_tone				text NOT NULL DEFAULT 'professional',
	email_tone			text NOT NULL DEFAULT 'professional',
	enable_proactive_suggestions boolean NOT NULL DEFAULT true,
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
CREATE INDEX user_settings_work_blocks_idx ON @extschema@.user_settings USING gin (preferred_work_blocks);
COMMENT ON TABLE @extschema@.user_settings IS
'One row per user: language and tone, quiet hours, work blocks, meeting preferences, safety and learning switches.';
COMMENT ON COLUMN @extschema@.user_settings.ai_daily_limit IS 'Per-user override of the daily AI request limit that consume_ai_quota enforces; NULL = the setting alfred.ai_daily_limit. Only the DBA, an admin or a service may set it.';
COMMENT ON COLUMN @extschema@.user_settings.quiet_hours_start IS 'Local time (users.timezone) at which quiet hours start; they may wrap past midnight.';
COMMENT ON COLUMN @extschema@.user_settings.preferred_work_blocks IS 'Array of {"day": "monday", "start": "09:00", "end": "12:00"}.';
COMMENT ON COLUMN @extschema@.user_settings.auto_reject_high_risk IS 'Reject high-risk proposals without asking.';
COMMENT ON COLUMN @extschema@.user_settings.day_start_hour IS 'Hour at which the user''s day starts (default for habits.day_start_hour).';

CREATE TABLE @extschema@.learned_preferences (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	key					text NOT NULL,
	value				text NOT NULL,
	confidence			real NOT NULL DEFAULT 0.5,
	learned_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	CONSTRAINT learned_preferences_key UNIQUE (user_id, key),
	CONSTRAINT learned_preferences_key_check CHECK (NOT @extschema@.is_blank(key)),
	CONSTRAINT learned_preferences_confidence_check CHECK (confidence BETWEEN 0 AND 1)
);
CREATE INDEX learned_preferences_confident_idx ON @extschema@.learned_preferences (user_id, confidence DESC);
COMMENT ON TABLE @extschema@.learned_preferences IS
'What the assistant learned about the user, one value per key with a confidence.';

------------------------------------------------------------------------------
-- Inbox
------------------------------------------------------------------------------

CREATE TABLE @extschema@.items (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
	FOREIGN KEY (user_id, source_account_id) REFERENCES @extschema@.connected_accounts (user_id, id)
		ON DELETE SET NULL (source_account_id),
	CONSTRAINT items_source_key UNIQUE (user_id, source_provider, source_id),
	CONSTRAINT items_source_type_check CHECK (source_type IN ('email', 'event')),
	CONSTRAINT items_source_provider_check CHECK (source_provider IN ('gmail', 'outlook', 'google_calendar')),
	CONSTRAINT items_source_id_check CHECK (NOT @extschema@.is_blank(source_id)),
	CONSTRAINT items_event_span_check CHECK (end_datetime >= start_datetime),
	CONSTRAINT items_recipients_check CHECK (jsonb_typeof(recipients) = 'array')
);
CREATE INDEX items_timeline_idx ON @extschema@.items (user_id, source_type, received_datetime DESC);
CREATE INDEX items_unarchived_idx ON @extschema@.items (user_id, received_datetime DESC) WHERE NOT is_archived;
CREATE INDEX items_events_idx ON @extschema@.items (user_id, start_datetime) WHERE start_datetime IS NOT NULL;
CREATE INDEX items_raw_metadata_idx ON @extschema@.items USING gin (raw_metadata jsonb_path_ops);
COMMENT ON TABLE @extschema@.items IS
'Ingested e-mails and calendar events; unique per user, provider and provider id, so ingestion is idempotent.';
COMMENT ON COLUMN @extschema@.items.source_updated_at IS 'The provider''s version of the item (its last-modified time); alfred.ingest_item updates the row only for a newer version.';

CREATE TABLE @extschema@.item_agent_metadata (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
	FOREIGN KEY (user_id, item_id) REFERENCES @extschema@.items (user_id, id) ON DELETE CASCADE,
	CONSTRAINT item_agent_metadata_category_check CHECK (category IN ('deadline', 'meeting', 'invite', 'admin', 'offer',
																	  'scam', 'newsletter', 'fyi', 'other')),
	CONSTRAINT item_agent_metadata_importance_check CHECK (importance IN ('critical', 'high', 'medium', 'low', 'ignore')),
	CONSTRAINT item_agent_metadata_action_type_check CHECK (action_type IN ('reply', 'attend', 'add_event', 'pay',
																		   'read', 'none')),
	CONSTRAINT item_agent_metadata_confidence_check CHECK (confidence_score BETWEEN 0 AND 1),
	CONSTRAINT item_agent_metadata_labels_check CHECK (jsonb_typeof(labels) = 'array')
);
CREATE INDEX item_agent_metadata_category_idx ON @extschema@.item_agent_metadata (user_id, category);
CREATE INDEX item_agent_metadata_importance_idx ON @extschema@.item_agent_metadata (user_id, importance);
CREATE INDEX item_agent_metadata_due_idx ON @extschema@.item_agent_metadata (user_id, due_datetime)
	WHERE due_datetime IS NOT NULL;
CREATE INDEX item_agent_metadata_scam_idx ON @extschema@.item_agent_metadata (user_id) WHERE is_scam;
CREATE INDEX item_agent_metadata_labels_idx ON @extschema@.item_agent_metadata USING gin (labels);
COMMENT ON TABLE @extschema@.item_agent_metadata IS 'What the agents made of an item: category, importance, deadline, scam flag. One row per item.';

------------------------------------------------------------------------------
-- Proposals: actions an agent wants to take, awaiting a human
------------------------------------------------------------------------------

CREATE TABLE @extschema@.proposals (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
	approved_by			uuid REFERENCES @extschema@.users (id) ON DELETE SET NULL,
	rejected_at			timestamptz,
	rejected_by			uuid REFERENCES @extschema@.users (id) ON DELETE SET NULL,
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
	FOREIGN KEY (user_id, related_item_id) REFERENCES @extschema@.items (user_id, id) ON DELETE SET NULL (related_item_id),
	FOREIGN KEY (user_id, task_id) REFERENCES @extschema@.tasks (user_id, id) ON DELETE SET NULL (task_id),
	FOREIGN KEY (user_id, session_id) REFERENCES @extschema@.chat_sessions (user_id, id) ON DELETE SET NULL (session_id),
	FOREIGN KEY (user_id, message_id) REFERENCES @extschema@.chat_messages (user_id, id) ON DELETE SET NULL (message_id),
	CONSTRAINT proposals_agent_name_check CHECK (NOT @extschema@.is_blank(agent_name)),
	CONSTRAINT proposals_action_type_check CHECK (action_type ~ '^[a-z][a-z0-9_]*$'),
	CONSTRAINT proposals_payload_check CHECK (jsonb_typeof(payload) = 'object'),
	CONSTRAINT proposals_edited_payload_check CHECK (jsonb_typeof(edited_payload) = 'object'),
	CONSTRAINT proposals_status_check CHECK (status IN ('pending', 'approved', 'rejected', 'executing',
														'executed', 'failed', 'expired')),
	CONSTRAINT proposals_risk_level_check CHECK (risk_level IN ('low', 'medium', 'high')),
	CONSTRAINT proposals_confidence_check CHECK (confidence BETWEEN 0 AND 1),
	CONSTRAINT proposals_attempts_check CHECK (attempts >= 0)
);
CREATE INDEX proposals_status_idx ON @extschema@.proposals (user_id, status, created_at DESC);
CREATE INDEX proposals_created_idx ON @extschema@.proposals (user_id, created_at DESC);
CREATE INDEX proposals_item_idx ON @extschema@.proposals (user_id, related_item_id) WHERE related_item_id IS NOT NULL;
CREATE INDEX proposals_task_idx ON @extschema@.proposals (user_id, task_id) WHERE task_id IS NOT NULL;
CREATE INDEX proposals_session_idx ON @extschema@.proposals (user_id, session_id) WHERE session_id IS NOT NULL;
CREATE INDEX proposals_expiry_idx ON @extschema@.proposals (expires_at) WHERE status = 'pending';
CREATE INDEX proposals_payload_idx ON @extschema@.proposals USING gin (payload jsonb_path_ops);
COMMENT ON TABLE @extschema@.proposals IS
'Every action an agent wants to take for the user, awaiting approval (the views approvals and task_actions show them in other shapes). One state machine: pending, approved, rejected, executing, executed, failed, expired.';
COMMENT ON COLUMN @extschema@.proposals.payload IS 'What the agent proposes, by action_type.';
COMMENT ON COLUMN @extschema@.proposals.edited_payload IS 'The payload as the user edited it when approving; executed instead of payload.';
COMMENT ON COLUMN @extschema@.proposals.requested_by IS 'Who asked for the action when it was not the agent: a user id or a system identifier.';
COMMENT ON COLUMN @extschema@.proposals.result IS 'What the last execution returned (finish_execution''s result, or the built-in task executor''s).';
COMMENT ON COLUMN @extschema@.proposals.attempts IS 'Execution attempts so far (a failed proposal may be retried).';
COMMENT ON COLUMN @extschema@.proposals.user_id IS 'The user the action is for; never changes (trigger tenant_key_immutable).';
COMMENT ON COLUMN @extschema@.proposals.id IS 'The proposal''s id, unique with user_id.';
COMMENT ON COLUMN @extschema@.proposals.agent_name IS 'The agent that proposes the action; not blank.';
COMMENT ON COLUMN @extschema@.proposals.action_type IS 'What kind of action: a lower-case identifier. The task actions (create, update, complete, delete, query) are executed by alfred itself; the other types by an executor outside (start_execution, finish_execution).';
COMMENT ON COLUMN @extschema@.proposals.status IS 'pending, approved, rejected, executing, executed, failed or expired; changes only along the proposal state machine (trigger proposals_guard), which stamps the matching *_at column.';
COMMENT ON COLUMN @extschema@.proposals.risk_level IS 'low (the default), medium or high. A high-risk proposal is rejected at once while the user''s auto_reject_high_risk is on; a low-risk query runs at once.';
COMMENT ON COLUMN @extschema@.proposals.confidence IS 'The agent''s confidence in the proposal, 0 to 1, optional.';
COMMENT ON COLUMN @extschema@.proposals.explanation IS 'Why the agent proposes the action, shown to the user; optional.';
COMMENT ON COLUMN @extschema@.proposals.warning_text IS 'What the user should know before approving; optional.';
COMMENT ON COLUMN @extschema@.proposals.related_item_id IS 'The user''s item (e-mail or event) the action is about, optional; cleared when the item is deleted.';
COMMENT ON COLUMN @extschema@.proposals.task_id IS 'The user''s task the action is about, optional; cleared when the task is deleted, so the decision record stays.';
COMMENT ON COLUMN @extschema@.proposals.session_id IS 'The chat session the action came from, optional; cleared when the session is deleted.';
COMMENT ON COLUMN @extschema@.proposals.message_id IS 'The chat message the action came from, optional; cleared when the message is deleted.';
COMMENT ON COLUMN @extschema@.proposals.expires_at IS 'A proposal still pending at this time becomes expired (expire_proposals); NULL: never.';
COMMENT ON COLUMN @extschema@.proposals.approved_at IS 'When the proposal was last approved.';
COMMENT ON COLUMN @extschema@.proposals.approved_by IS 'Who approved it; kept when the approved proposal is later rejected.';
COMMENT ON COLUMN @extschema@.proposals.rejected_at IS 'When the proposal was rejected.';
COMMENT ON COLUMN @extschema@.proposals.rejected_by IS 'Who rejected it; NULL for alfred''s own rejection (auto_reject_high_risk).';
COMMENT ON COLUMN @extschema@.proposals.rejection_reason IS 'Why it was rejected, as given to reject(); auto_reject_high_risk for alfred''s own rejection.';
COMMENT ON COLUMN @extschema@.proposals.started_at IS 'When the last execution started (approved -> executing).';
COMMENT ON COLUMN @extschema@.proposals.executed_at IS 'When the execution succeeded (executing -> executed).';
COMMENT ON COLUMN @extschema@.proposals.failed_at IS 'When the last execution failed (executing -> failed).';
COMMENT ON COLUMN @extschema@.proposals.expired_at IS 'When the pending proposal expired.';
COMMENT ON COLUMN @extschema@.proposals.error_message IS 'Why the last execution failed; each attempt''s error is also in execution_logs.';
COMMENT ON COLUMN @extschema@.proposals.notes IS 'Free-form notes on the proposal (the approvals view writes them).';
COMMENT ON COLUMN @extschema@.proposals.created_at IS 'When the action was proposed.';
COMMENT ON COLUMN @extschema@.proposals.updated_at IS 'When the row last changed (trigger touch_updated_at).';

CREATE TABLE @extschema@.execution_logs (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
	FOREIGN KEY (user_id, proposal_id) REFERENCES @extschema@.proposals (user_id, id) ON DELETE CASCADE,
	CONSTRAINT execution_logs_status_check CHECK (executor_status IN ('success', 'failure', 'partial')),
	CONSTRAINT execution_logs_duration_check CHECK (execution_duration_ms >= 0)
);
CREATE INDEX execution_logs_proposal_idx ON @extschema@.execution_logs (user_id, proposal_id);
CREATE INDEX execution_logs_created_idx ON @extschema@.execution_logs (user_id, created_at DESC);
CREATE INDEX execution_logs_failures_idx ON @extschema@.execution_logs (created_at DESC) WHERE executor_status <> 'success';
COMMENT ON TABLE @extschema@.execution_logs IS 'One row per execution attempt of a proposal.';

CREATE TABLE @extschema@.preference_signals (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	item_id				uuid,
	proposal_id			uuid,
	signal_type			text NOT NULL,
	context				jsonb NOT NULL DEFAULT '{}',
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, item_id) REFERENCES @extschema@.items (user_id, id) ON DELETE SET NULL (item_id),
	FOREIGN KEY (user_id, proposal_id) REFERENCES @extschema@.proposals (user_id, id) ON DELETE SET NULL (proposal_id),
	CONSTRAINT preference_signals_type_check CHECK (signal_type IN ('approved', 'rejected', 'ignored',
																	'edited_heavily', 'edited_lightly'))
);
CREATE INDEX preference_signals_type_idx ON @extschema@.preference_signals (user_id, signal_type, created_at DESC);
CREATE INDEX preference_signals_proposal_idx ON @extschema@.preference_signals (user_id, proposal_id)
	WHERE proposal_id IS NOT NULL;
COMMENT ON TABLE @extschema@.preference_signals IS 'Each human decision on a proposal, for preference learning.';

------------------------------------------------------------------------------
-- Agent telemetry
------------------------------------------------------------------------------

CREATE TABLE @extschema@.agent_run_logs (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
CREATE INDEX agent_run_logs_agent_idx ON @extschema@.agent_run_logs (user_id, agent_name, created_at DESC);
CREATE INDEX agent_run_logs_errors_idx ON @extschema@.agent_run_logs (created_at DESC) WHERE status <> 'success';
CREATE INDEX agent_run_logs_created_idx ON @extschema@.agent_run_logs (created_at);
COMMENT ON TABLE @extschema@.agent_run_logs IS 'One row per run of an agent or the orchestrator.';

CREATE TABLE @extschema@.system_logs (
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	logged_at			timestamptz NOT NULL DEFAULT now(),
	level				text NOT NULL,
	module				text,
	message				text,
	user_id				uuid REFERENCES @extschema@.users (id) ON DELETE CASCADE,
	task_id				uuid,
	request_id			text,
	ip_address			inet,
	user_agent			text,
	metadata			jsonb,
	FOREIGN KEY (user_id, task_id) REFERENCES @extschema@.tasks (user_id, id) ON DELETE SET NULL (task_id),
	CONSTRAINT system_logs_level_check CHECK (level IN ('debug', 'info', 'warning', 'error', 'critical'))
) PARTITION BY RANGE (logged_at);

-- The indexes live on each partition, not on the partitioned table: a
-- partition that create_log_partitions() adds after installation is not a
-- member of the extension, and pg_dump can restore it only if attaching it
-- to system_logs creates no index of its own (the parent's indexes would
-- be, since CREATE EXTENSION recreates them before the restore attaches it).
CREATE FUNCTION @extschema@.index_log_partition(part regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	base text := (SELECT c.relname FROM pg_class c WHERE c.oid = part);
BEGIN
	PERFORM @extschema@._require_argument('part', index_log_partition.part);
	EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (id, logged_at)', part, base || '_pkey');
	EXECUTE format('CREATE INDEX %I ON %s (logged_at DESC)', base || '_logged_idx', part);
	EXECUTE format('CREATE INDEX %I ON %s (level, logged_at DESC)', base || '_level_idx', part);
	EXECUTE format('CREATE INDEX %I ON %s (module, level)', base || '_module_idx', part);
	EXECUTE format('CREATE INDEX %I ON %s (user_id, logged_at DESC)', base || '_user_idx', part);
	EXECUTE format('CREATE INDEX %I ON %s USING gin (to_tsvector(''english''::regconfig, coalesce(message, '''')))',
				   base || '_fulltext_idx', part);
END
$$;
COMMENT ON FUNCTION @extschema@.index_log_partition(regclass) IS
'Internal (create_log_partitions): the primary key (id, logged_at) and the indexes of one system_logs partition.';

CREATE TABLE @extschema@.system_logs_default PARTITION OF @extschema@.system_logs DEFAULT;
SELECT @extschema@.index_log_partition('@extschema@.system_logs_default');
COMMENT ON TABLE @extschema@.system_logs IS
'Application log, partitioned by month of logged_at; alfred.create_log_partitions() creates months ahead. user_id is NULL for system events.';
COMMENT ON COLUMN @extschema@.system_logs.logged_at IS 'When the event happened; the partition key.';
COMMENT ON TABLE @extschema@.system_logs_default IS 'Rows whose month has no partition yet; create_log_partitions() moves them out.';

CREATE FUNCTION @extschema@.create_log_partitions(months_ahead integer DEFAULT 3)
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
	moving		jsonb;
BEGIN
	PERFORM @extschema@._require_argument('months_ahead', months_ahead);
	IF months_ahead NOT BETWEEN 0 AND 120 THEN
		RAISE EXCEPTION 'months_ahead must be between 0 and 120, not %', months_ahead
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR m IN 0 .. months_ahead LOOP
		lo := first_month + make_interval(months => m);
		hi := lo + interval '1 month';
		part := format('system_logs_%s', to_char(lo, 'YYYY_MM'));
		CONTINUE WHEN to_regclass(format('@extschema@.%I', part)) IS NOT NULL;
		-- Rows of this month that went to the default partition move to the
		-- new one (a partition cannot be created over rows of the default).
		-- They wait in a variable, not a temporary table: Citus cannot commit
		-- (two-phase) a transaction that touched a temporary object, and this
		-- runs inside CREATE EXTENSION.
		WITH moved AS (DELETE FROM @extschema@.system_logs_default d
						WHERE d.logged_at >= (lo::timestamp AT TIME ZONE 'UTC')
						  AND d.logged_at < (hi::timestamp AT TIME ZONE 'UTC')
					RETURNING d.*)
		SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(moved)) INTO moving FROM moved;
		EXECUTE format('CREATE TABLE @extschema@.%I PARTITION OF @extschema@.system_logs FOR VALUES FROM (%L) TO (%L)',
					   part, (lo::timestamp AT TIME ZONE 'UTC'), (hi::timestamp AT TIME ZONE 'UTC'));
		PERFORM @extschema@.index_log_partition(format('@extschema@.%I', part)::regclass);
		IF moving IS NOT NULL THEN
			INSERT INTO @extschema@.system_logs
				SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::@extschema@.system_logs, moving);
		END IF;
		EXECUTE format('COMMENT ON TABLE @extschema@.%I IS %L', part,
					   format('system_logs for %s (UTC)', to_char(lo, 'YYYY-MM')));
		created := created + 1;
	END LOOP;
	RETURN created;
END
$$;
COMMENT ON FUNCTION @extschema@.create_log_partitions(integer) IS
'Creates the monthly partitions of system_logs from the current month (UTC) to months_ahead months ahead; returns how many it created. Idempotent; run it monthly (the maintenance job does).';
SELECT @extschema@.create_log_partitions(3);

CREATE TABLE @extschema@.audit_trail (
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	user_id				uuid REFERENCES @extschema@.users (id) ON DELETE SET NULL,
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
	CONSTRAINT audit_trail_action_check CHECK (NOT @extschema@.is_blank(action))
);
CREATE INDEX audit_trail_user_idx ON @extschema@.audit_trail (user_id, created_at DESC);
CREATE INDEX audit_trail_entity_idx ON @extschema@.audit_trail (entity_type, entity_id);
CREATE INDEX audit_trail_created_idx ON @extschema@.audit_trail (created_at);
COMMENT ON TABLE @extschema@.audit_trail IS
'Who changed what. Written by triggers, read-only for application roles; user_id is the acting alfred user (NULL: none, or deleted since).';
COMMENT ON COLUMN @extschema@.audit_trail.db_role IS 'The database role that made the change.';

------------------------------------------------------------------------------
-- Integrations
------------------------------------------------------------------------------

CREATE TABLE @extschema@.mcp_servers (
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
	CONSTRAINT mcp_servers_name_check CHECK (NOT @extschema@.is_blank(name)),
	CONSTRAINT mcp_servers_status_check CHECK (status IN ('active', 'inactive', 'error'))
);
COMMENT ON TABLE @extschema@.mcp_servers IS
'Model Context Protocol servers the agents can use. Global: configured by the DBA or a service role, not by users.';

CREATE TABLE @extschema@.watchers (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
	CONSTRAINT watchers_name_check CHECK (NOT @extschema@.is_blank(name)),
	CONSTRAINT watchers_error_count_check CHECK (error_count >= 0)
);
CREATE INDEX watchers_active_idx ON @extschema@.watchers (user_id) WHERE is_active;
COMMENT ON TABLE @extschema@.watchers IS 'Sources a user''s agents watch (inbox, folder, feed) and their health; user_id is the owner.';

CREATE TABLE @extschema@.file_attachments (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
	FOREIGN KEY (user_id, task_id) REFERENCES @extschema@.tasks (user_id, id) ON DELETE SET NULL (task_id),
	CONSTRAINT file_attachments_filename_check CHECK (NOT @extschema@.is_blank(filename) AND NOT @extschema@.is_blank(original_filename)),
	CONSTRAINT file_attachments_size_check CHECK (file_size >= 0),
	CONSTRAINT file_attachments_checksum_check CHECK (hash_checksum ~ '^[0-9a-f]{64}$')
);
CREATE INDEX file_attachments_task_idx ON @extschema@.file_attachments (user_id, task_id) WHERE task_id IS NOT NULL;
CREATE INDEX file_attachments_expiry_idx ON @extschema@.file_attachments (expires_at) WHERE expires_at IS NOT NULL;
COMMENT ON TABLE @extschema@.file_attachments IS 'Files a user uploaded, stored outside the database; user_id is the uploader.';
COMMENT ON COLUMN @extschema@.file_attachments.hash_checksum IS 'Lower-case hex SHA-256 of the content.';

------------------------------------------------------------------------------
-- Notifications
------------------------------------------------------------------------------

CREATE TABLE @extschema@.notifications (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
	CONSTRAINT notifications_title_check CHECK (NOT @extschema@.is_blank(title)),
	CONSTRAINT notifications_priority_check CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
	CONSTRAINT notifications_channel_check CHECK (channel IN ('web', 'email', 'push', 'sms')),
	CONSTRAINT notifications_status_check CHECK (status IN ('pending', 'sent', 'read', 'dismissed', 'archived'))
);
CREATE INDEX notifications_status_idx ON @extschema@.notifications (user_id, status, created_at DESC);
CREATE INDEX notifications_due_idx ON @extschema@.notifications (scheduled_for) WHERE status = 'pending';
CREATE INDEX notifications_user_due_idx ON @extschema@.notifications (user_id, scheduled_for) WHERE status = 'pending';
COMMENT ON TABLE @extschema@.notifications IS
'Messages to the user: alerts, reminders, briefings, results of scheduled tasks. pending until sent at or after scheduled_for.';
COMMENT ON COLUMN @extschema@.notifications.scheduled_for IS 'Not before this time; NULL = as soon as possible.';
COMMENT ON COLUMN @extschema@.notifications.data IS 'Context: ids of tasks, habits, runs.';

------------------------------------------------------------------------------
-- Proactive engine
------------------------------------------------------------------------------

CREATE TABLE @extschema@.tools (
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
COMMENT ON TABLE @extschema@.tools IS
'The tools a scheduled task may run (global). kind sql: fn(user_id uuid, args jsonb) returns jsonb, run inside the database; kind external: run by an outside agent.';

CREATE TABLE @extschema@.observed_patterns (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
	CONSTRAINT observed_patterns_type_check CHECK (NOT @extschema@.is_blank(pattern_type)),
	CONSTRAINT observed_patterns_description_check CHECK (NOT @extschema@.is_blank(description)),
	CONSTRAINT observed_patterns_evidence_check CHECK (jsonb_typeof(evidence) = 'array'),
	CONSTRAINT observed_patterns_count_check CHECK (occurrence_count >= 1),
	CONSTRAINT observed_patterns_seen_check CHECK (last_seen_at >= first_seen_at),
	CONSTRAINT observed_patterns_confidence_check CHECK (confidence BETWEEN 0 AND 1)
);
CREATE INDEX observed_patterns_type_idx ON @extschema@.observed_patterns (user_id, pattern_type);
CREATE INDEX observed_patterns_actionable_idx ON @extschema@.observed_patterns (user_id)
	WHERE NOT acted_on AND occurrence_count >= 3;
COMMENT ON TABLE @extschema@.observed_patterns IS 'Behaviour the assistant noticed across conversations.';

CREATE TABLE @extschema@.scheduled_tasks (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	name				text NOT NULL,
	description			text,
	task_type			text NOT NULL,
	schedule_cron		text,
	scheduled_at		timestamptz,
	timezone			text NOT NULL DEFAULT 'UTC',
	tool_name			text NOT NULL REFERENCES @extschema@.tools (name) ON UPDATE CASCADE,
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
	FOREIGN KEY (user_id, pattern_id) REFERENCES @extschema@.observed_patterns (user_id, id) ON DELETE SET NULL (pattern_id),
	CONSTRAINT scheduled_tasks_name_check CHECK (NOT @extschema@.is_blank(name) AND char_length(name) <= 200),
	CONSTRAINT scheduled_tasks_task_type_check CHECK (task_type IN ('one_time', 'recurring')),
	CONSTRAINT scheduled_tasks_schedule_check CHECK (CASE task_type
													 WHEN 'recurring' THEN schedule_cron IS NOT NULL
													 ELSE scheduled_at IS NOT NULL END),
	CONSTRAINT scheduled_tasks_timezone_check CHECK (@extschema@.is_valid_timezone(timezone)),
	CONSTRAINT scheduled_tasks_tool_args_check CHECK (jsonb_typeof(tool_args) = 'object'),
	CONSTRAINT scheduled_tasks_status_check CHECK (status IN ('active', 'paused', 'cancelled', 'completed')),
	CONSTRAINT scheduled_tasks_source_check CHECK (source IN ('user', 'agent')),
	CONSTRAINT scheduled_tasks_next_run_check CHECK (status = 'active' OR next_run_at IS NULL),
	CONSTRAINT scheduled_tasks_counts_check CHECK (run_count >= 0 AND fail_count >= 0),
	CONSTRAINT scheduled_tasks_max_retries_check CHECK (max_retries BETWEEN 0 AND 100)
);
CREATE INDEX scheduled_tasks_status_idx ON @extschema@.scheduled_tasks (user_id, status);
CREATE INDEX scheduled_tasks_due_idx ON @extschema@.scheduled_tasks (next_run_at)
	WHERE status = 'active' AND next_run_at IS NOT NULL;
CREATE INDEX scheduled_tasks_tool_idx ON @extschema@.scheduled_tasks (tool_name);
COMMENT ON TABLE @extschema@.scheduled_tasks IS
'Tasks the scheduler runs for a user, once (scheduled_at) or on a cron schedule in timezone. The partial index on next_run_at finds due work.';
COMMENT ON COLUMN @extschema@.scheduled_tasks.schedule_cron IS 'Cron expression of a recurring task, evaluated in timezone.';
COMMENT ON COLUMN @extschema@.scheduled_tasks.prompt_template IS 'Prompt rendered with the task''s context for an external tool.';
COMMENT ON COLUMN @extschema@.scheduled_tasks.pattern_id IS 'The observed pattern this agent-sourced task was created from.';
COMMENT ON COLUMN @extschema@.scheduled_tasks.next_run_at IS 'Next time the task is due; NULL unless status is active.';
COMMENT ON COLUMN @extschema@.scheduled_tasks.run_count IS 'Successful runs.';
COMMENT ON COLUMN @extschema@.scheduled_tasks.fail_count IS 'Runs that failed after their retries.';
COMMENT ON COLUMN @extschema@.scheduled_tasks.user_id IS 'The user the task runs for; never changes (trigger tenant_key_immutable).';
COMMENT ON COLUMN @extschema@.scheduled_tasks.id IS 'The task''s id, unique on its own too (scheduled_tasks_id_key).';
COMMENT ON COLUMN @extschema@.scheduled_tasks.name IS 'What the task is called, not blank, at most 200 characters; the title of its notifications unless the result gives one.';
COMMENT ON COLUMN @extschema@.scheduled_tasks.description IS 'Details, optional; part of the prompt context.';
COMMENT ON COLUMN @extschema@.scheduled_tasks.task_type IS 'one_time (runs at scheduled_at) or recurring (runs at the slots of schedule_cron).';
COMMENT ON COLUMN @extschema@.scheduled_tasks.scheduled_at IS 'When a one-time task runs.';
COMMENT ON COLUMN @extschema@.scheduled_tasks.timezone IS 'The time zone schedule_cron is evaluated in (schedule_task defaults it to the user''s).';
COMMENT ON COLUMN @extschema@.scheduled_tasks.tool_name IS 'The registered tool the task runs (tools.name): an sql tool runs in the database, an external one is queued for an agent.';
COMMENT ON COLUMN @extschema@.scheduled_tasks.tool_args IS 'The tool''s arguments (a JSON object).';
COMMENT ON COLUMN @extschema@.scheduled_tasks.status IS 'active, paused, cancelled or completed. active -> paused, cancelled or completed; paused -> active or cancelled; cancelled and completed are final (trigger scheduled_tasks_guard).';
COMMENT ON COLUMN @extschema@.scheduled_tasks.source IS 'Who scheduled it: user (the default) or agent (then pattern_id may name the observed pattern).';
COMMENT ON COLUMN @extschema@.scheduled_tasks.last_run_at IS 'When the task last ran at one of its slots; NULL: never.';
COMMENT ON COLUMN @extschema@.scheduled_tasks.max_retries IS 'Retries after a failed attempt, 0 to 100 (default 3), with exponential backoff.';
COMMENT ON COLUMN @extschema@.scheduled_tasks.created_at IS 'When the task was scheduled.';
COMMENT ON COLUMN @extschema@.scheduled_tasks.updated_at IS 'When the row last changed (trigger touch_updated_at).';

CREATE TABLE @extschema@.task_runs (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
	FOREIGN KEY (user_id, task_id) REFERENCES @extschema@.scheduled_tasks (user_id, id) ON DELETE CASCADE,
	FOREIGN KEY (user_id, notification_id) REFERENCES @extschema@.notifications (user_id, id)
		ON DELETE SET NULL (notification_id),
	CONSTRAINT task_runs_status_check CHECK (status IN ('queued', 'running', 'retrying', 'succeeded',
														'failed', 'cancelled')),
	CONSTRAINT task_runs_attempt_check CHECK (attempt >= 1),
	CONSTRAINT task_runs_duration_check CHECK (duration_ms >= 0),
	CONSTRAINT task_runs_missed_slots_check CHECK (missed_slots >= 0),
	CONSTRAINT task_runs_finished_check CHECK (finished_at >= started_at)
);
CREATE INDEX task_runs_task_idx ON @extschema@.task_runs (user_id, task_id, created_at DESC);
CREATE INDEX task_runs_claimable_idx ON @extschema@.task_runs (next_attempt_at) WHERE status IN ('queued', 'retrying');
CREATE INDEX task_runs_leases_idx ON @extschema@.task_runs (lease_until) WHERE status = 'running';
COMMENT ON TABLE @extschema@.task_runs IS
'Each execution of a scheduled task. status: queued, running, retrying, succeeded, failed, cancelled.';
COMMENT ON COLUMN @extschema@.task_runs.attempt IS 'Attempt number, from 1: a run retried twice is at attempt 3.';
COMMENT ON COLUMN @extschema@.task_runs.due_at IS 'The schedule slot this run is for.';
COMMENT ON COLUMN @extschema@.task_runs.missed_slots IS 'Slots skipped because the server was down (a recurring task runs once after downtime).';
COMMENT ON COLUMN @extschema@.task_runs.prompt IS 'prompt_template rendered for this run.';
COMMENT ON COLUMN @extschema@.task_runs.claimed_by IS 'The external agent that claimed the run (claim_runs).';
COMMENT ON COLUMN @extschema@.task_runs.lease_until IS 'An external run goes back to the queue when its lease expires.';

CREATE TABLE @extschema@.engagement_events (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
	id					uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	suggestion_type		text NOT NULL,
	action				text NOT NULL,
	source				text NOT NULL,
	context				jsonb NOT NULL DEFAULT '{}',
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, id),
	CONSTRAINT engagement_events_type_check CHECK (NOT @extschema@.is_blank(suggestion_type)),
	CONSTRAINT engagement_events_action_check CHECK (action IN ('engaged', 'dismissed')),
	CONSTRAINT engagement_events_source_check CHECK (source IN ('conversation', 'notification', 'schedule'))
);
CREATE INDEX engagement_events_type_idx ON @extschema@.engagement_events (user_id, suggestion_type, created_at DESC);
CREATE INDEX engagement_events_action_idx ON @extschema@.engagement_events (user_id, action, created_at DESC);
COMMENT ON TABLE @extschema@.engagement_events IS 'How the user responded to a proactive suggestion.';

CREATE TABLE @extschema@.proactiveness_settings (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
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
COMMENT ON TABLE @extschema@.proactiveness_settings IS 'Per-user calibration of how proactive the assistant is. One row per user.';
COMMENT ON COLUMN @extschema@.proactiveness_settings.user_override IS 'The user''s explicit instruction: more, less or NULL.';

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
		 WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		 ORDER BY c.relname
	LOOP
		EXECUTE format('CREATE TRIGGER touch_updated_at BEFORE UPDATE ON %s
						FOR EACH ROW EXECUTE FUNCTION @extschema@.touch_updated_at()', rel);
	END LOOP;
	FOR rel IN
		SELECT c.oid::regclass
		  FROM pg_catalog.pg_class c
		  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
		 WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		   AND c.relname <> 'audit_trail'	-- keeps its rows, user_id SET NULL, when a user is deleted
		 ORDER BY c.relname
	LOOP
		EXECUTE format('CREATE TRIGGER tenant_key_immutable BEFORE UPDATE OF user_id ON %s
						FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id)
						EXECUTE FUNCTION @extschema@.forbid_tenant_change()', rel);
	END LOOP;
END
$$;

------------------------------------------------------------------------------
-- Reporting views (security_invoker: they show what the caller may see)
------------------------------------------------------------------------------

CREATE VIEW @extschema@.task_summary WITH (security_invoker = true) AS
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
	   (SELECT count(*) FROM @extschema@.proposals p
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
  FROM @extschema@.tasks t
  LEFT JOIN @extschema@.users o ON o.id = t.user_id
  LEFT JOIN @extschema@.users a ON a.id = t.assigned_to;
COMMENT ON VIEW @extschema@.task_summary IS
'Tasks with assignee, number of proposals and urgency: overdue when due before the owner''s today, due_soon when due today or tomorrow, done when completed or cancelled.';

CREATE VIEW @extschema@.daily_activity WITH (security_invoker = true) AS
SELECT l.logged_at::date AS activity_date,
	   l.level,
	   count(*) AS event_count,
	   string_agg(DISTINCT l.module, ', ') AS modules_affected
  FROM @extschema@.system_logs l
 WHERE l.logged_at >= current_date - 30
 GROUP BY l.logged_at::date, l.level
 ORDER BY activity_date DESC, l.level;
COMMENT ON VIEW @extschema@.daily_activity IS
'Log events per day (in the session''s TimeZone) and level over the last 30 days.';
