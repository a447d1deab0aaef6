-- 999_citus: alfred.distribute(), scale-out on a Citus cluster.
--
-- On a coordinator with worker nodes, after CREATE EXTENSION alfred CASCADE,
-- alfred.distribute() makes every user-owned table a distributed table by
-- user_id, all in one colocation group (so that a user's rows of every table
-- live on one node and joins, foreign keys and triggers stay local), the global
-- tables reference tables (a copy on every node), and leaves the two log
-- tables (audit_trail, system_logs; user_id NULL for the system) plain tables
-- of every node.  Citus is never required: without it this file only defines
-- the function, which then says what is missing.
--
-- What Citus cannot distribute is rewritten here, with the same behaviour:
-- a foreign key ON DELETE SET NULL (col) becomes a plain foreign key and a
-- BEFORE DELETE trigger on the referenced table that sets the column NULL
-- (a trigger on a shard may write the colocated shard of the same user).

CREATE FUNCTION @extschema@.owner_of(relation regclass, id uuid)
RETURNS uuid
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	owner	uuid;
BEGIN
	EXECUTE format('SELECT t.user_id FROM %s t WHERE t.id = $1', relation) INTO owner USING id;
	RETURN owner;
END
$$;
COMMENT ON FUNCTION @extschema@.owner_of(regclass, uuid) IS
'The user_id of the row of a user-owned table with this id, as the caller may see it (row-level security applies), or NULL. The API looks the owner up before it locks a row it knows by id alone, so that the lock names the distribution column, as Citus requires.';

CREATE FUNCTION @extschema@.null_references()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- TG_ARGV: the referencing table and its column; the referenced row is
	-- (user_id, id) of the row being deleted.
	EXECUTE format('UPDATE %s SET %I = NULL WHERE user_id = $1 AND %I = $2',
				   TG_ARGV[0], TG_ARGV[1], TG_ARGV[1])
		USING OLD.user_id, OLD.id;
	RETURN OLD;
END
$$;
COMMENT ON FUNCTION @extschema@.null_references() IS
'Internal (distribute): BEFORE DELETE trigger standing in for a foreign key ON DELETE SET NULL (col), which Citus refuses on a distributed table: sets column TG_ARGV[1] of table TG_ARGV[0] NULL in the rows of the same user that referenced the deleted row.';

CREATE FUNCTION @extschema@.distribute(shard_count integer DEFAULT NULL)
RETURNS TABLE (table_name regclass, kind text, shards integer, changed boolean)
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	reference_tables	regclass[] := ARRAY['@extschema@.users', '@extschema@.tools',
											'@extschema@.mcp_servers', '@extschema@.retention']::regclass[];
	node_tables			regclass[] := ARRAY['@extschema@.audit_trail', '@extschema@.system_logs',
											'@extschema@.claim_key']::regclass[];
	todo				regclass[];
	anchor				regclass;
	t					regclass;
	fk					record;
	fks					jsonb;
	workers				bigint;
BEGIN
	IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
		RAISE EXCEPTION 'permission denied to distribute alfred'
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('Role "%s" is not a superuser.', current_user);
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname = 'citus') THEN
		RAISE EXCEPTION 'extension "citus" is not installed in database "%"', current_database()
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'Preload citus and alfred on every node, add the worker nodes, then run CREATE EXTENSION citus before CREATE EXTENSION alfred.';
	END IF;
	IF shard_count IS NOT NULL AND shard_count NOT BETWEEN 1 AND 64000 THEN
		RAISE EXCEPTION 'shard_count must be between 1 and 64000, not %', shard_count
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE 'SELECT count(*) FROM pg_catalog.pg_dist_node n
			  WHERE n.groupid <> 0 AND n.noderole = ''primary'' AND n.isactive'
		INTO workers;
	IF workers = 0 THEN
		RAISE EXCEPTION 'the Citus cluster of database "%" has no worker nodes', current_database()
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Add them with citus_add_node() on the coordinator first.';
	END IF;

	-- No tick of this node's scheduler holds a lock on a table altered below.
	PERFORM @extschema@._lock_scheduler();

	-- Tables with triggers, created in one transaction with foreign keys to
	-- reference tables of the same transaction.
	PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
	PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
	PERFORM set_config('client_min_messages', 'warning', true);
	IF shard_count IS NOT NULL THEN
		PERFORM set_config('citus.shard_count', shard_count::text, true);
	END IF;

	-- The user-owned tables: alfred's tables with a user_id, but the node tables.
	SELECT array_agg(c.oid::regclass ORDER BY c.relname) INTO todo
	  FROM pg_catalog.pg_class c
	  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
								 AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
	  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'alfred'
	 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
	   AND EXISTS (SELECT FROM pg_catalog.pg_attribute a
				   WHERE a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped)
	   AND c.oid <> ALL (node_tables) AND c.oid <> ALL (reference_tables);

	-- Citus converts a plain table that references a reference table into a
	-- table of its own kind, and refuses a foreign key from a distributed
	-- table to a plain one: the foreign keys are dropped while the tables
	-- change kind and added back after (checked again then).  The node tables
	-- get none back (on a worker node the referenced tables are empty shells,
	-- their rows live in shards); ON DELETE SET NULL (col), which Citus refuses
	-- on a distributed table, comes back as a plain foreign key and a trigger
	-- on the referenced table (null_references).
	IF EXISTS (SELECT FROM unnest(reference_tables || todo) r WHERE NOT @extschema@.is_citus_table(r)) THEN
		-- (kept in a variable: Citus cannot commit a transaction that touched a
		-- temporary table)
		SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				   'tbl', k.conrelid::regclass, 'name', k.conname, 'def', pg_catalog.pg_get_constraintdef(k.oid),
				   'set_null', (SELECT a.attname FROM pg_catalog.pg_attribute a
								 WHERE a.attrelid = k.conrelid AND a.attnum = k.confdelsetcols[1]),
				   'parent', k.confrelid::regclass)
				   ORDER BY k.oid)	-- (the order they were made in: the order their actions fire)
		  INTO fks
		  FROM pg_catalog.pg_constraint k
		 WHERE k.contype = 'f' AND k.conparentid = 0
		   AND k.conrelid = ANY (reference_tables || todo || node_tables)
		   -- (again after an update: only the tables it added, whose
		   -- foreign keys are those of plain tables)
		   AND NOT @extschema@.is_citus_table(k.conrelid);
		FOR fk IN SELECT * FROM pg_catalog.jsonb_to_recordset(fks) AS f (tbl regclass, name name, def text, set_null name, parent regclass) LOOP
			-- here and in the workers' copies (CREATE EXTENSION made them)
			EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.name);
			EXECUTE 'SELECT count(*) FROM run_command_on_workers($1) WHERE NOT success'
				INTO workers USING format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', fk.tbl, fk.name);
		END LOOP;
	END IF;

	-- Reference tables first (the user-owned tables' foreign keys point at them).
	FOREACH t IN ARRAY reference_tables LOOP
		changed := NOT @extschema@.is_citus_table(t);
		IF changed THEN
			EXECUTE 'SELECT create_reference_table($1)' USING t;
		END IF;
		table_name := t; kind := 'reference'; shards := 1;
		RETURN NEXT;
	END LOOP;

	-- Then the user-owned tables, all colocated with the first.
	FOREACH t IN ARRAY todo LOOP
		changed := NOT @extschema@.is_citus_table(t);
		IF changed THEN
			EXECUTE 'SELECT create_distributed_table($1, ''user_id'', colocate_with => $2)'
				USING t, coalesce(anchor::text, 'default');
		END IF;
		anchor := coalesce(anchor, t);
		table_name := t; kind := 'distributed';
		EXECUTE 'SELECT count(*)::integer FROM pg_catalog.pg_dist_shard s WHERE s.logicalrelid = $1'
			INTO shards USING t;
		RETURN NEXT;
	END LOOP;

	IF fks IS NOT NULL THEN
		FOR fk IN SELECT * FROM pg_catalog.jsonb_to_recordset(fks) AS f (tbl regclass, name name, def text, set_null name, parent regclass)
				   WHERE f.tbl <> ALL (node_tables) LOOP
			IF fk.set_null IS NULL THEN
				EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.tbl, fk.name, fk.def);
			ELSE
				EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (user_id, %I) REFERENCES %s (user_id, id)',
							   fk.tbl, fk.name, fk.set_null, fk.parent);
				EXECUTE format('CREATE TRIGGER %I BEFORE DELETE ON %s FOR EACH ROW EXECUTE FUNCTION @extschema@.null_references(%L, %L)',
							   fk.name, fk.parent, fk.tbl::text, fk.set_null);
			END IF;
		END LOOP;
	END IF;

	-- Identity claims signed on the coordinator verify on every node with the
	-- same key (src/identity.c); a node added since gets it now.
	PERFORM @extschema@.sync_claim_key();
	-- And every node and shard placement has the privileges this node gives
	-- (Citus passes on no column privileges and gives new placements none).
	PERFORM @extschema@.sync_grants();

	FOREACH t IN ARRAY node_tables LOOP
		table_name := t; kind := 'node'; shards := 0; changed := false;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.distribute(integer) IS
'Scale-out on Citus (superusers, on the coordinator after the worker nodes are added): makes every user-owned table a distributed table by user_id in one colocation group (shard_count shards each; NULL: citus.shard_count, fixed from then on), users, tools, mcp_servers and retention reference tables, keeps audit_trail and system_logs plain tables of each node, copies the identity claim key to every worker node (sync_claim_key) and the privileges of alfred''s objects to every node and shard placement (sync_grants); run it again after adding a node. Idempotent: one row per table (kind distributed, reference or node; shards; changed = false when it already was). 0A000 without Citus, 55000 without worker nodes, 42501 for others than superusers.';

CREATE FUNCTION @extschema@.is_citus_table(relation regclass)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	found	boolean;
BEGIN
	IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
		RETURN false;
	END IF;
	EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1)'
		INTO found USING relation;
	RETURN found;
END
$$;
COMMENT ON FUNCTION @extschema@.is_citus_table(regclass) IS
'True when relation is a Citus table (distributed or reference) of this database; false without Citus.';

REVOKE ALL ON FUNCTION @extschema@.distribute(integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.table_ddl(relation regclass, command text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	on_worker	boolean := false;
BEGIN
	PERFORM @extschema@._require_argument('relation', table_ddl.relation);
	PERFORM @extschema@._require_argument('command', table_ddl.command);
	-- On a worker node a Citus table's DDL is the coordinator's to make: it
	-- has made it on this node's copy and shards before Citus runs the
	-- upgrade script here (with DDL propagation off).
	IF @extschema@.is_citus_table(table_ddl.relation) THEN
		EXECUTE 'SELECT g.groupid <> 0 FROM pg_catalog.pg_dist_local_group g' INTO on_worker;
	END IF;
	IF on_worker THEN
		RETURN false;
	END IF;
	EXECUTE table_ddl.command;
	RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.table_ddl(regclass, text) IS
'For upgrade scripts (the extension owner and superusers): runs command, a DDL statement on relation (ALTER TABLE, CREATE INDEX, CREATE POLICY...), as a statement of its own, so that on a Citus coordinator Citus applies it to the worker nodes and the shards; on a worker node it skips the DDL of a Citus table, which the coordinator has made there (false), and runs any other. On a single node it just runs it (true). An upgrade script changes alfred''s tables only through it.';

REVOKE ALL ON FUNCTION @extschema@.table_ddl(regclass, text) FROM PUBLIC;
