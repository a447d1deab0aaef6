-- 800_assign: task assignment; only the task's owner, admins and trusted services may assign.

CREATE FUNCTION @extschema@.assign_task(task_id uuid, assignee_id uuid)
RETURNS @extschema@.tasks
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	owner_id uuid;
	caller uuid := @extschema@.current_user_id();
	caller_role text := @extschema@.current_user_role();
	t @extschema@.tasks;
	old_assignee uuid;
BEGIN
	PERFORM @extschema@._require_argument('task_id', task_id);
	owner_id := @extschema@.owner_of('@extschema@.tasks', assign_task.task_id);
	SELECT * INTO t FROM @extschema@.tasks WHERE user_id = owner_id AND id = assign_task.task_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'task "%" not found', assign_task.task_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT coalesce(caller_role = 'admin' OR
	                (caller = t.user_id AND caller_role = 'user') OR
	                (caller IS NULL AND @extschema@.caller_is_service()), false) THEN
		RAISE EXCEPTION 'permission denied to assign task "%"', assign_task.task_id
			USING ERRCODE = '42501',
			      DETAIL = 'Only the owner of a task and admins may assign it; observers only read.';
	END IF;
	IF assignee_id IS NOT NULL AND NOT EXISTS (
		SELECT FROM @extschema@.users u WHERE u.id = assignee_id AND u.status = 'active') THEN
		RAISE EXCEPTION 'user "%" cannot be assigned tasks', assignee_id
			USING ERRCODE = '22023', DETAIL = 'The assignee must be an existing, active user.';
	END IF;
	old_assignee := t.assigned_to;
	UPDATE @extschema@.tasks SET assigned_to = assignee_id
	WHERE user_id = t.user_id AND id = t.id
	RETURNING * INTO t;
	-- every assignment is logged; the generic audit triggers log the UPDATE too.
	-- user_id is the acting alfred user (NULL for a service acting without one).
	INSERT INTO @extschema@.audit_trail (user_id, action, entity_type, entity_id, old_values, new_values)
	VALUES (caller, 'task_assigned', 'task', t.id,
	        jsonb_build_object('assigned_to', old_assignee),
	        jsonb_build_object('assigned_to', assignee_id, 'owner', t.user_id));
	RETURN t;
END
$$;

COMMENT ON FUNCTION @extschema@.assign_task(uuid, uuid) IS
'Assign a task to a user (NULL unassigns); allowed to the task''s owner, admins and trusted services (42501 for observers and others; P0002 for an unknown task; 22023 for an unknown or inactive assignee). The assignee then sees and can update it; every assignment is written to audit_trail as "task_assigned".';
