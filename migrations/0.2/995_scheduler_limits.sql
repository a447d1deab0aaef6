-- 995_scheduler_limits: a DBA's per-user overrides of the scheduler limits
-- (alfred.max_active_tasks, alfred.min_task_interval, alfred.max_tool_args),
-- read by the scheduled_tasks_policy trigger of 300_scheduler.
--
-- After 990_dump: the table registers itself with pg_extension_config_dump, so
-- that it comes last in the extension's list of dumped tables both in a fresh
-- install and after ALTER EXTENSION UPDATE (which appends it).

CREATE TABLE @extschema@.scheduler_limits (
	user_id				uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
	max_active_tasks	integer,
	min_task_interval	interval,
	max_tool_args		integer,
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id),
	CONSTRAINT scheduler_limits_check CHECK (max_active_tasks >= 0 AND min_task_interval >= interval '0'
											 AND max_tool_args >= 0)
);
COMMENT ON TABLE @extschema@.scheduler_limits IS
'A DBA''s per-user overrides of alfred.max_active_tasks, alfred.min_task_interval and alfred.max_tool_args (NULL: the setting; 0: no limit). Users read their own row; only the DBA writes.';
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON @extschema@.scheduler_limits
	FOR EACH ROW EXECUTE FUNCTION @extschema@.touch_updated_at();
-- users read their row (admins and observers all); only the tables' owner writes
SELECT @extschema@.enable_tenant_rls('@extschema@.scheduler_limits', commands => '{}');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.scheduler_limits', '');

CREATE FUNCTION @extschema@.scheduler_limits_of(user_id uuid, OUT max_active_tasks integer,
	OUT min_task_interval interval, OUT max_tool_args bigint)
LANGUAGE plpgsql STABLE
AS $$
-- (PL/pgSQL: Citus plans no SQL-language function that reads a distributed
-- table with a parameter)
BEGIN
	PERFORM @extschema@.current_user_id();		-- loads alfred, which defines the settings
	SELECT l.max_active_tasks, l.min_task_interval, l.max_tool_args
	  INTO max_active_tasks, min_task_interval, max_tool_args
	  FROM @extschema@.scheduler_limits l WHERE l.user_id = scheduler_limits_of.user_id;
	max_active_tasks := coalesce(max_active_tasks, current_setting('alfred.max_active_tasks')::integer);
	min_task_interval := coalesce(min_task_interval, current_setting('alfred.min_task_interval')::interval);
	max_tool_args := coalesce(max_tool_args, pg_size_bytes(current_setting('alfred.max_tool_args')));
END
$$;
COMMENT ON FUNCTION @extschema@.scheduler_limits_of(uuid) IS
'The scheduler limits of a user: their scheduler_limits row where it sets one, else the settings alfred.max_active_tasks, alfred.min_task_interval and alfred.max_tool_args (0: no limit).';

