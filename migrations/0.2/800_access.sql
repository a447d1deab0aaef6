-- 800_access: who may act for a user in the functions of issue #10
-- (assignment, integrations, attachments, quotas, conversation, planner).

CREATE FUNCTION @extschema@.may_act_for(user_id uuid, write boolean DEFAULT true)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN @extschema@.current_user_id() IS NULL THEN @extschema@.caller_is_service()
		ELSE coalesce(@extschema@.current_user_role() = 'admin'
		              OR (NOT may_act_for.write AND @extschema@.current_user_role() = 'observer')
		              OR (@extschema@.current_user_id() = may_act_for.user_id
		                  AND @extschema@.current_user_role() IN ('user', CASE WHEN NOT may_act_for.write THEN 'observer' END)),
		              false)
	END
$$;

COMMENT ON FUNCTION @extschema@.may_act_for(uuid, boolean) IS
'Whether the caller may read (write => false) or change the data of user_id, by the same rule as row-level security: the user themselves, admins, observers for reading only; without an alfred identity, a trusted service role (caller_is_service).';
