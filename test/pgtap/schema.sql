-- The unified schema: every table, its primary key and foreign keys, and the
-- tenant-key rules (docs/seed-map.md).
BEGIN;
SELECT plan(160);

SELECT has_schema('alfred');

-- Every table of the unification map.
SELECT has_table('alfred', t, format('table alfred.%s exists', t))
  FROM unnest(ARRAY['users', 'sessions', 'connected_accounts', 'tasks', 'task_dependencies', 'projects',
					'project_updates', 'habits', 'habit_logs', 'chat_sessions', 'chat_messages', 'ai_contexts',
					'learnings', 'user_settings', 'learned_preferences', 'items', 'item_agent_metadata',
					'proposals', 'execution_logs', 'preference_signals', 'agent_run_logs', 'system_logs',
					'audit_trail', 'mcp_servers', 'watchers', 'file_attachments', 'notifications',
					'scheduled_tasks', 'task_runs', 'observed_patterns', 'engagement_events',
					'proactiveness_settings', 'tools']) AS t;
SELECT has_view('alfred', 'task_summary', 'view task_summary exists');
SELECT has_view('alfred', 'daily_activity', 'view daily_activity exists');

-- Primary keys: tenant key first.
SELECT col_is_pk('alfred', t, ARRAY['user_id', 'id'], format('%s has primary key (user_id, id)', t))
  FROM unnest(ARRAY['sessions', 'connected_accounts', 'tasks', 'projects', 'project_updates', 'habits',
					'habit_logs', 'chat_sessions', 'chat_messages', 'learnings', 'learned_preferences', 'items',
					'proposals', 'execution_logs', 'preference_signals', 'agent_run_logs', 'watchers',
					'file_attachments', 'notifications', 'scheduled_tasks', 'task_runs', 'observed_patterns',
					'engagement_events']) AS t;
SELECT col_is_pk('alfred', t, ARRAY['user_id'], format('%s has one row per user', t))
  FROM unnest(ARRAY['user_settings', 'ai_contexts', 'proactiveness_settings']) AS t;
SELECT col_is_pk('alfred', 'task_dependencies', ARRAY['user_id', 'task_id', 'depends_on_task_id'],
				 'task_dependencies has primary key (user_id, task_id, depends_on_task_id)');
SELECT col_is_pk('alfred', 'item_agent_metadata', ARRAY['user_id', 'item_id'],
				 'item_agent_metadata has primary key (user_id, item_id)');
SELECT col_is_pk('alfred', 'users', 'id', 'users has primary key id');
SELECT col_is_pk('alfred', 'tools', 'name', 'tools has primary key name');
SELECT col_is_pk('alfred', 'mcp_servers', 'id', 'mcp_servers has primary key id');
SELECT col_is_pk('alfred', 'audit_trail', 'id', 'audit_trail has primary key id');
SELECT col_is_pk('alfred', 'system_logs_default', ARRAY['id', 'logged_at'],
				 'system_logs partitions have primary key (id, logged_at)');

-- Every user-owned table belongs to a user.
SELECT fk_ok('alfred', t, 'user_id', 'alfred', 'users', 'id')
  FROM unnest(ARRAY['sessions', 'connected_accounts', 'tasks', 'task_dependencies', 'projects',
					'project_updates', 'habits', 'habit_logs', 'chat_sessions', 'chat_messages', 'ai_contexts',
					'learnings', 'user_settings', 'learned_preferences', 'items', 'item_agent_metadata',
					'proposals', 'execution_logs', 'preference_signals', 'agent_run_logs', 'system_logs',
					'audit_trail', 'watchers', 'file_attachments', 'notifications', 'scheduled_tasks',
					'task_runs', 'observed_patterns', 'engagement_events', 'proactiveness_settings']) AS t;

-- References between user-owned tables are composite, tenant key first.
SELECT fk_ok('alfred', f.tbl, ARRAY['user_id', f.col], 'alfred', f.ref, ARRAY['user_id', f.refcol])
  FROM (VALUES ('project_updates', 'project_id', 'projects', 'id'),
			   ('tasks', 'project_id', 'projects', 'id'),
			   ('task_dependencies', 'task_id', 'tasks', 'id'),
			   ('task_dependencies', 'depends_on_task_id', 'tasks', 'id'),
			   ('habit_logs', 'habit_id', 'habits', 'id'),
			   ('chat_messages', 'session_id', 'chat_sessions', 'id'),
			   ('items', 'source_account_id', 'connected_accounts', 'id'),
			   ('item_agent_metadata', 'item_id', 'items', 'id'),
			   ('proposals', 'related_item_id', 'items', 'id'),
			   ('proposals', 'task_id', 'tasks', 'id'),
			   ('proposals', 'session_id', 'chat_sessions', 'id'),
			   ('proposals', 'message_id', 'chat_messages', 'id'),
			   ('execution_logs', 'proposal_id', 'proposals', 'id'),
			   ('preference_signals', 'item_id', 'items', 'id'),
			   ('preference_signals', 'proposal_id', 'proposals', 'id'),
			   ('system_logs', 'task_id', 'tasks', 'id'),
			   ('file_attachments', 'task_id', 'tasks', 'id'),
			   ('scheduled_tasks', 'pattern_id', 'observed_patterns', 'id'),
			   ('task_runs', 'task_id', 'scheduled_tasks', 'id'),
			   ('task_runs', 'notification_id', 'notifications', 'id')) AS f (tbl, col, ref, refcol);

-- References to other users (assignment, decisions) and to the tool registry.
SELECT fk_ok('alfred', 'tasks', 'assigned_to', 'alfred', 'users', 'id');
SELECT fk_ok('alfred', 'tasks', 'created_by', 'alfred', 'users', 'id');
SELECT fk_ok('alfred', 'proposals', 'approved_by', 'alfred', 'users', 'id');
SELECT fk_ok('alfred', 'proposals', 'rejected_by', 'alfred', 'users', 'id');
SELECT fk_ok('alfred', 'scheduled_tasks', 'tool_name', 'alfred', 'tools', 'name');

-- The rule itself, over the catalog: no foreign key between two tables with a
-- user_id leaves user_id out, except the deliberate cross-user references.
SELECT is_empty($$
	SELECT c.conrelid::regclass::text || ' -> ' || c.confrelid::regclass::text
	  FROM pg_constraint c
	 WHERE c.contype = 'f'
	   AND c.connamespace = 'alfred'::regnamespace
	   AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attname = 'user_id')
	   AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.confrelid AND a.attname = 'user_id')
	   AND NOT (SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attname = 'user_id')
			   = ANY (c.conkey)
$$, 'every foreign key between user-owned tables includes user_id');

-- Row-level security is on for users and every table with a user_id.
SELECT is_empty($$
	SELECT c.relname FROM pg_class c
	 WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
	   AND NOT c.relrowsecurity
	   AND (c.relname = 'users'
			OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'user_id'))
$$, 'row-level security is enabled on users and every table with user_id');

-- Timestamps are timestamptz.
SELECT is_empty($$
	SELECT c.relname || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
	 WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0
	   AND a.atttypid = 'timestamp'::regtype
$$, 'no column is timestamp without time zone');

-- Every table with updated_at maintains it by trigger.
SELECT is_empty($$
	SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'updated_at'
	 WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
	   AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'touch_updated_at')
$$, 'every table with updated_at has the touch_updated_at trigger');

-- Every table has a comment.
SELECT is_empty($$
	SELECT c.relname FROM pg_class c
	 WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p', 'v')
	   AND obj_description(c.oid, 'pg_class') IS NULL
$$, 'every table and view has a comment');

-- Project-wide rules for functions (STYLE.md): every function of alfred has a
-- comment and named arguments, and every SECURITY DEFINER one pins a
-- search_path that starts with pg_catalog.
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	 WHERE p.pronamespace = 'alfred'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL
$$, 'every function has a comment');
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	 WHERE p.pronamespace = 'alfred'::regnamespace AND p.pronargs > 0
	   AND (p.proargnames IS NULL OR '' = ANY (p.proargnames[1:p.pronargs]))
$$, 'every function names its arguments');
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	 WHERE p.pronamespace = 'alfred'::regnamespace AND p.prosecdef
	   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=pg_catalog%')
$$, 'every SECURITY DEFINER function pins search_path, pg_catalog first');

-- Identity functions: signatures, and which run as the extension owner.
SELECT has_function('alfred', f, a, format('function %s(%s) exists', f, array_to_string(a, ', ')))
  FROM (VALUES ('current_user_id', '{}'::text[]), ('set_session', '{text,boolean}'), ('act_as', '{uuid,boolean}'),
			   ('reset_identity', '{boolean}'), ('login', '{text,text,interval,inet,text}'), ('logout', '{text}'),
			   ('change_password', '{text,text}'), ('set_password', '{uuid,text}'), ('grant_usage', '{regrole}'),
			   ('create_user', '{text,text,text,text,text,text,text,text,text,text,jsonb}'),
			   ('create_log_partitions', '{integer}')) AS f (f, a);
SELECT is_definer('alfred', f, a, format('%s runs as the extension owner', f))
  FROM (VALUES ('create_user', '{text,text,text,text,text,text,text,text,text,text,jsonb}'::text[]),
			   ('login', '{text,text,interval,inet,text}'), ('logout', '{text}'), ('change_password', '{text,text}'),
			   ('set_password', '{uuid,text}')) AS f (f, a);
SELECT isnt_definer('alfred', f, a, format('%s runs as its caller', f))
  FROM (VALUES ('set_session', '{text,boolean}'::text[]), ('act_as', '{uuid,boolean}'), ('grant_usage', '{regrole}'),
			   ('current_user_id', '{}'), ('current_user_role', '{}'), ('readable_user_ids', '{}'),
			   ('writable_user_ids', '{}')) AS f (f, a);
SELECT volatility_is('alfred', 'current_user_id', '{}'::text[], 'stable', 'current_user_id is stable (an index condition)');

-- system_logs is partitioned by month, with a default partition.
SELECT is(relkind, 'p'::"char", 'system_logs is partitioned') FROM pg_class WHERE oid = 'alfred.system_logs'::regclass;
SELECT cmp_ok((SELECT count(*) FROM pg_inherits WHERE inhparent = 'alfred.system_logs'::regclass), '>=', 5::bigint,
			  'system_logs has the current month, three ahead and a default partition');
SELECT has_index('alfred', 'scheduled_tasks', 'scheduled_tasks_due_idx', 'the scheduler''s partial index exists');
SELECT ok(pg_get_indexdef('alfred.scheduled_tasks_due_idx'::regclass) ~ 'WHERE .*status = ''active''',
		  'scheduled_tasks_due_idx is partial on active tasks');

SELECT * FROM finish();
ROLLBACK;
