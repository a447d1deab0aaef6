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
	('00000000-0000-0000-0000-0000000000a1', 'ana@example.com', '$2a$06$x', 'user', 'active'),
	('00000000-0000-0000-0000-0000000000b0', 'bob@example.com', '$2a$06$x', 'user', 'active'),
	('00000000-0000-0000-0000-0000000000c0', 'olga@example.com', '$2a$06$x', 'observer', 'active'),
	('00000000-0000-0000-0000-0000000000d0', 'adam@example.com', '$2a$06$x', 'admin', 'active'),
	('00000000-0000-0000-0000-0000000000e0', 'ivy@example.com', '$2a$06$x', 'user', 'inactive');
INSERT INTO alfred.tasks (user_id, id, title) VALUES
	('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-00000000a001', 'ana''s report'),
	('00000000-0000-0000-0000-0000000000b0', '00000000-0000-0000-0000-00000000b001', 'bob''s slides');
CREATE ROLE regress_rest_app;
GRANT USAGE ON SCHEMA alfred TO regress_rest_app;
GRANT SELECT, UPDATE ON alfred.tasks TO regress_rest_app;
GRANT SELECT ON alfred.users TO regress_rest_app;
SET ROLE regress_rest_app;

-- the owner assigns her task to bob
SELECT alfred.act_as('00000000-0000-0000-0000-0000000000a1') IS NOT NULL AS ana;
SELECT id, user_id, assigned_to
FROM alfred.assign_task('00000000-0000-0000-0000-00000000a001', '00000000-0000-0000-0000-0000000000b0');

-- bob (the assignee, not the owner) may not reassign it; observers may not assign
SELECT alfred.act_as('00000000-0000-0000-0000-0000000000b0') IS NOT NULL AS bob;
SELECT pg_temp.err($$SELECT alfred.assign_task('00000000-0000-0000-0000-00000000a001', '00000000-0000-0000-0000-0000000000b0')$$);
SELECT alfred.act_as('00000000-0000-0000-0000-0000000000c0') IS NOT NULL AS olga;
SELECT pg_temp.err($$SELECT alfred.assign_task('00000000-0000-0000-0000-00000000a001', '00000000-0000-0000-0000-0000000000c0')$$);

-- an admin assigns anyone's task
SELECT alfred.act_as('00000000-0000-0000-0000-0000000000d0') IS NOT NULL AS adam;
SELECT id, user_id, assigned_to
FROM alfred.assign_task('00000000-0000-0000-0000-00000000b001', '00000000-0000-0000-0000-0000000000a1');

-- unknown task, inactive or unknown assignee, null task
SELECT pg_temp.err($$SELECT alfred.assign_task('00000000-0000-0000-0000-00000000ffff', '00000000-0000-0000-0000-0000000000a1')$$);
SELECT pg_temp.err($$SELECT alfred.assign_task('00000000-0000-0000-0000-00000000b001', '00000000-0000-0000-0000-0000000000e0')$$);
SELECT pg_temp.err($$SELECT alfred.assign_task('00000000-0000-0000-0000-00000000b001', '00000000-0000-0000-0000-00000000ffff')$$);
SELECT pg_temp.err($$SELECT alfred.assign_task(NULL, '00000000-0000-0000-0000-0000000000a1')$$);

-- without an identity a plain role may not assign
SELECT alfred.reset_identity();
SELECT pg_temp.err($$SELECT alfred.assign_task('00000000-0000-0000-0000-00000000a001', NULL)$$);
RESET ROLE;

-- the refusals changed nothing; every assignment is in the audit trail
SELECT id, assigned_to FROM alfred.tasks ORDER BY id;
SELECT user_id, action, entity_type, entity_id, new_values->>'assigned_to' AS assigned_to
FROM alfred.audit_trail WHERE action = 'task_assigned' ORDER BY created_at, entity_id;

-- the owner unassigns (NULL)
SELECT alfred.act_as('00000000-0000-0000-0000-0000000000b0') IS NOT NULL AS bob;
SELECT id, assigned_to FROM alfred.assign_task('00000000-0000-0000-0000-00000000b001', NULL);
ROLLBACK;
