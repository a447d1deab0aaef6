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

CREATE FUNCTION @extschema@.task_next_due(
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
		RETURN @extschema@.cron_next(CASE recurrence
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

COMMENT ON FUNCTION @extschema@.task_next_due(text, timestamptz, timestamptz, text, int) IS
'The first due time after "after" of a task due at "due" that recurs by recurrence, in the wall-clock time of tz: daily = the same time every day, weekly = the same weekday and time (both through cron_next), monthly = the same time on day day_of_month (default: due''s day) of each month, or the last day of a shorter month; any other recurrence is a cron expression for cron_next.';

-- SECURITY DEFINER: an assignee who completes a task must be held to
-- dependencies they may not see, and spawns the owner's next occurrence.
CREATE FUNCTION @extschema@._task_status_trigger()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	blocker record;
BEGIN
	IF NEW.recurrence IS NOT NULL AND NEW.recurrence NOT IN ('daily', 'weekly', 'monthly')
		AND NOT @extschema@.cron_valid(NEW.recurrence) THEN
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
		FROM @extschema@.task_dependencies d
		JOIN @extschema@.tasks t ON t.user_id = d.user_id AND t.id = d.depends_on_task_id
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

COMMENT ON FUNCTION @extschema@._task_status_trigger() IS
'Trigger on tasks: validates the recurrence (23514), holds status changes to the state machine (55000), refuses to complete a task with an unfinished dependency (55000, naming it) and keeps completed_at in step with the status.';

CREATE TRIGGER tasks_status
	BEFORE INSERT OR UPDATE OF status, recurrence, completed_at ON @extschema@.tasks
	FOR EACH ROW EXECUTE FUNCTION @extschema@._task_status_trigger();

CREATE FUNCTION @extschema@._task_spawn_trigger()
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
	SELECT u.timezone INTO tz FROM @extschema@.users u WHERE u.id = NEW.user_id;
	-- The next slot after the due time, or after now if the task was late
	-- (no overdue copies); a task without a due time recurs from now.  A
	-- monthly task remembers its day of the month (31 stays 31 after a
	-- February 28).
	anchor := date_trunc('minute', coalesce(NEW.due_date, now()));
	day_of_month := coalesce((NEW.metadata->>'recurrence_day')::int,
		extract(day FROM anchor AT TIME ZONE tz)::int);
	next_due := @extschema@.task_next_due(NEW.recurrence, anchor, greatest(anchor, now()), tz, day_of_month);
	INSERT INTO @extschema@.tasks (user_id, project_id, title, description, priority, status,
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

COMMENT ON FUNCTION @extschema@._task_spawn_trigger() IS
'Trigger on tasks: when a recurring task becomes completed, inserts its next occurrence (pending, due at task_next_due in the owner''s timezone; metadata.previous_occurrence = the completed task, metadata.recurrence_day = the day of a monthly task).';

CREATE TRIGGER tasks_spawn_next
	AFTER UPDATE OF status ON @extschema@.tasks
	FOR EACH ROW
	WHEN (NEW.status = 'completed' AND OLD.status <> 'completed' AND NEW.recurrence IS NOT NULL)
	EXECUTE FUNCTION @extschema@._task_spawn_trigger();

CREATE FUNCTION @extschema@.complete_task(task_id uuid)
RETURNS @extschema@.tasks
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	owner_id uuid;
	t @extschema@.tasks;
BEGIN
	PERFORM @extschema@._require_argument('task_id', task_id);
	owner_id := @extschema@.owner_of('@extschema@.tasks', complete_task.task_id);
	SELECT * INTO t FROM @extschema@.tasks WHERE user_id = owner_id AND id = complete_task.task_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'task "%" does not exist', task_id USING ERRCODE = 'no_data_found';
	END IF;
	IF t.status = 'completed' THEN
		RETURN t;				-- completing twice changes nothing (and spawns nothing)
	END IF;
	UPDATE @extschema@.tasks SET status = 'completed'
	WHERE user_id = t.user_id AND id = t.id
	RETURNING * INTO t;
	RETURN t;
END
$$;

COMMENT ON FUNCTION @extschema@.complete_task(uuid) IS
'Complete a task and return it: sets completed_at; a recurring task (daily, weekly, monthly or a cron expression) spawns its next occurrence, due at the next slot after its due time (or after now when it was late) in the owner''s timezone. Completing a completed task changes nothing. 55000 when a task it depends on is unfinished (naming it) or when it is cancelled or failed; P0002 for an unknown task.';

CREATE FUNCTION @extschema@.add_task_dependency(task_id uuid, depends_on uuid)
RETURNS @extschema@.task_dependencies
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	t @extschema@.tasks;
	d @extschema@.tasks;
	dep @extschema@.task_dependencies;
BEGIN
	PERFORM @extschema@._require_argument('task_id', task_id);
	PERFORM @extschema@._require_argument('depends_on', depends_on);
	SELECT * INTO t FROM @extschema@.tasks WHERE id = add_task_dependency.task_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'task "%" does not exist', task_id USING ERRCODE = 'no_data_found';
	END IF;
	SELECT * INTO d FROM @extschema@.tasks WHERE id = add_task_dependency.depends_on;
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
	INSERT INTO @extschema@.task_dependencies AS x (user_id, task_id, depends_on_task_id)
	VALUES (t.user_id, t.id, d.id)
	ON CONFLICT DO NOTHING
	RETURNING * INTO dep;
	IF NOT FOUND THEN			-- already there
		SELECT * INTO dep FROM @extschema@.task_dependencies x
		WHERE x.user_id = t.user_id AND x.task_id = t.id AND x.depends_on_task_id = d.id;
	END IF;
	RETURN dep;
END
$$;

COMMENT ON FUNCTION @extschema@.add_task_dependency(uuid, uuid) IS
'Make task_id wait for depends_on (complete_task refuses it until depends_on is completed or cancelled) and return the dependency; adding it twice changes nothing. P0002 for an unknown task, 22023 for a task of another user or the task itself; 23514 when the dependency would close a cycle.';
