-- alfred.assign_task: owners and admins assign, observers and others are
-- refused (42501); the assignment is in audit_trail; the assignee then sees
-- and can update the task under row-level security.
SET timezone = 'UTC';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN st || ': ' || msg || coalesce(' / ' || nullif(det, ''), '');
END $$;
BEGIN;
INSERT INTO alfred.users (id, email, password_hash, role, status) VALUES
	('00000000-0000-0000-0010-0000000000a1', 'ana.rest@example.com', '$2a$06$x', 'user', 'active'),
	('00000000-0000-0000-0010-0000000000b0', 'bob.rest@example.com', '$2a$06$x', 'user', 'active'),
	('00000000-0000-0000-0010-0000000000c0', 'olga.rest@example.com', '$2a$06$x', 'observer', 'active'),
	('00000000-0000-0000-0010-0000000000d0', 'adam.rest@example.com', '$2a$06$x', 'admin', 'active'),
	('00000000-0000-0000-0010-0000000000e0', 'ivy.rest@example.com', '$2a$06$x', 'user', 'inactive');
INSERT INTO alfred.tasks (user_id, id, title) VALUES
	('00000000-0000-0000-0010-0000000000a1', '00000000-0000-0000-0010-00000000a001', 'ana''s report'),
	('00000000-0000-0000-0010-0000000000b0', '00000000-0000-0000-0010-00000000b001', 'bob''s slides');
CREATE ROLE regress_rest_app;
SELECT alfred.grant_usage('regress_rest_app');
SET ROLE regress_rest_app;

-- the owner assigns her task to bob
RESET ROLE;
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000a1', local => false) IS NOT NULL AS ana;
SET ROLE regress_rest_app;
SELECT id, user_id, assigned_to
FROM alfred.assign_task('00000000-0000-0000-0010-00000000a001', '00000000-0000-0000-0010-0000000000b0');

-- bob (the assignee, not the owner) may not reassign it; observers may not assign
RESET ROLE;
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000b0', local => false) IS NOT NULL AS bob;
SET ROLE regress_rest_app;
SELECT pg_temp.err($$SELECT alfred.assign_task('00000000-0000-0000-0010-00000000a001', '00000000-0000-0000-0010-0000000000b0')$$);
RESET ROLE;
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000c0', local => false) IS NOT NULL AS olga;
SET ROLE regress_rest_app;
SELECT pg_temp.err($$SELECT alfred.assign_task('00000000-0000-0000-0010-00000000a001', '00000000-0000-0000-0010-0000000000c0')$$);

-- an admin assigns anyone's task
RESET ROLE;
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000d0', local => false) IS NOT NULL AS adam;
SET ROLE regress_rest_app;
SELECT id, user_id, assigned_to
FROM alfred.assign_task('00000000-0000-0000-0010-00000000b001', '00000000-0000-0000-0010-0000000000a1');

-- unknown task, inactive or unknown assignee, null task
SELECT pg_temp.err($$SELECT alfred.assign_task('00000000-0000-0000-0010-00000000ffff', '00000000-0000-0000-0010-0000000000a1')$$);
SELECT pg_temp.err($$SELECT alfred.assign_task('00000000-0000-0000-0010-00000000b001', '00000000-0000-0000-0010-0000000000e0')$$);
SELECT pg_temp.err($$SELECT alfred.assign_task('00000000-0000-0000-0010-00000000b001', '00000000-0000-0000-0010-00000000ffff')$$);
SELECT pg_temp.err($$SELECT alfred.assign_task(NULL, '00000000-0000-0000-0010-0000000000a1')$$);

-- without an identity a plain role may not assign
SELECT alfred.reset_identity();
SELECT pg_temp.err($$SELECT alfred.assign_task('00000000-0000-0000-0010-00000000a001', NULL)$$);
RESET ROLE;

-- the refusals changed nothing; every assignment is in the audit trail
SELECT id, assigned_to FROM alfred.tasks ORDER BY id;
SELECT user_id, action, entity_type, entity_id, new_values->>'assigned_to' AS assigned_to
FROM alfred.audit_trail WHERE action = 'task_assigned' ORDER BY created_at, entity_id;

-- under row-level security the assignee sees the task and may update it, not delete it
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000b0', local => false) IS NOT NULL AS bob;
SET ROLE regress_rest_app;
SELECT id, user_id, title FROM alfred.tasks ORDER BY id;
UPDATE alfred.tasks SET status = 'in_progress' WHERE id = '00000000-0000-0000-0010-00000000a001'
RETURNING id, status;
WITH d AS (DELETE FROM alfred.tasks WHERE id = '00000000-0000-0000-0010-00000000a001' RETURNING 1)
SELECT count(*) AS deleted FROM d;
RESET ROLE;
-- once unassigned it is gone from his view
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000a1', local => false) IS NOT NULL AS ana;
SELECT assigned_to FROM alfred.assign_task('00000000-0000-0000-0010-00000000a001', NULL);
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000b0', local => false) IS NOT NULL AS bob;
SET ROLE regress_rest_app;
SELECT id, user_id, title FROM alfred.tasks ORDER BY id;
RESET ROLE;

-- the owner unassigns (NULL)
RESET ROLE;
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000b0', local => false) IS NOT NULL AS bob;
SET ROLE regress_rest_app;
SELECT id, assigned_to FROM alfred.assign_task('00000000-0000-0000-0010-00000000b001', NULL);
ROLLBACK;
