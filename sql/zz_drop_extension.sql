-- DROP EXTENSION alfred CASCADE leaves nothing behind, and CREATE EXTENSION
-- gives the same schema again, also in a new database.  (Named zz_ so that it
-- runs last: it drops the extension every other test uses.)
SET client_min_messages = warning;
SET alfred.password_cost = 4;
SELECT oid AS ext FROM pg_extension WHERE extname = 'alfred' \gset
SELECT 'alfred'::regnamespace::oid AS nsp \gset

-- Leave traces of use: data, a partition created after install, grants to a role.
SELECT alfred.create_user('drop@example.com', 'drop password') IS NOT NULL AS user_created;
SELECT alfred.set_session(alfred.login('drop@example.com', 'drop password')) IS NOT NULL AS logged_in,
	   alfred.current_user_role();
SELECT alfred.reset_identity();
SELECT alfred.create_log_partitions(9) > 0 AS later_partitions_created;
CREATE ROLE regress_alfred_drop;
SELECT alfred.grant_usage('regress_alfred_drop');
CREATE TEMP TABLE roles_before AS SELECT rolname FROM pg_roles;
CREATE TEMP TABLE alfred_before AS
SELECT c.relname, c.relkind FROM pg_class c
 WHERE c.relnamespace = :nsp AND NOT c.relispartition
   AND NOT EXISTS (SELECT FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
					WHERE i.indexrelid = c.oid AND t.relispartition)	-- log partitions' own indexes
UNION ALL
SELECT p.oid::regprocedure::text, 'f' FROM pg_proc p WHERE p.pronamespace = :nsp;

DROP EXTENSION alfred CASCADE;

SELECT count(*) AS schema_left FROM pg_namespace WHERE nspname = 'alfred';
SELECT count(*) AS relations_left FROM pg_class WHERE relnamespace = :nsp;
SELECT count(*) AS functions_left FROM pg_proc WHERE pronamespace = :nsp OR probin LIKE '%alfred%';
SELECT count(*) AS types_left FROM pg_type WHERE typnamespace = :nsp;
SELECT count(*) AS policies_left FROM pg_policy p WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = p.polrelid);
SELECT count(*) AS dependencies_left FROM pg_depend
 WHERE (refclassid = 'pg_extension'::regclass AND refobjid = :ext)
	OR (classid = 'pg_extension'::regclass AND objid = :ext)
	OR (refclassid = 'pg_namespace'::regclass AND refobjid = :nsp);
SELECT count(*) AS grants_left FROM pg_shdepend
 WHERE refobjid = 'regress_alfred_drop'::regrole
   AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database());
SELECT count(*) AS config_dump_left FROM pg_extension WHERE extname = 'alfred';
SELECT count(*) AS event_triggers_left FROM pg_event_trigger WHERE evtname LIKE 'alfred%';
SELECT extname AS still_installed FROM pg_extension WHERE extname = 'pgcrypto';
DROP ROLE regress_alfred_drop;

-- The same schema again.
CREATE EXTENSION alfred;
-- alfred creates no roles (roles of other tests or of the quick-start tour
-- may exist on the cluster: only a new one would be alfred's).
SELECT rolname AS roles_created FROM pg_roles EXCEPT SELECT rolname FROM roles_before;
SELECT 'alfred'::regnamespace::oid AS nsp \gset
SELECT * FROM alfred_before
EXCEPT ALL
SELECT * FROM (SELECT c.relname, c.relkind FROM pg_class c
				WHERE c.relnamespace = :nsp AND NOT c.relispartition
				  AND NOT EXISTS (SELECT FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
								   WHERE i.indexrelid = c.oid AND t.relispartition)
			   UNION ALL
			   SELECT p.oid::regprocedure::text, 'f' FROM pg_proc p WHERE p.pronamespace = :nsp) AS now_there;
SELECT count(*) AS users FROM alfred.users;
-- The lookups this backend prepared before the drop work on the new tables.
SELECT alfred.create_user('again@example.com', 'again password') AS again \gset
SELECT alfred.set_session(alfred.login('again@example.com', 'again password')) = :'again' AS same_backend_logs_in,
	   alfred.current_user_role(), alfred.readable_user_ids() = ARRAY[:'again']::uuid[] AS reads_self;
SELECT alfred.reset_identity();
DELETE FROM alfred.users;

-- And in a new database.
CREATE DATABASE regress_alfred_fresh;
\c regress_alfred_fresh
SET client_min_messages = warning;
CREATE EXTENSION alfred CASCADE;
SET alfred.password_cost = 4;
SELECT count(*) >= 38 AS tables FROM pg_tables WHERE schemaname = 'alfred';
SELECT alfred.create_user('fresh@example.com', 'fresh password') AS fresh \gset
SELECT alfred.set_session(alfred.login('fresh@example.com', 'fresh password')) = :'fresh' AS fresh_user_logs_in;
\c contrib_regression
DROP DATABASE regress_alfred_fresh;
