# test/citus/scheduler_lib.bash: the Citus set-up shared by test/citus/scheduler.sh
# and bench/citus.sh (sourced after test/lib.sh and test/citus/lib.sh; not a
# test itself: only *.sh files are run).

# alfred installed and its scheduler's tables distributed by user_id.
#
# Stands in for `CREATE EXTENSION alfred CASCADE; SELECT alfred.distribute();`
# (issue 14, the lead's part) until that is merged: replace the body with
# those two statements then.  It installs alfred on every node by hand and
# distributes only what the scheduler touches (scheduled_tasks, task_runs,
# notifications, user_settings by user_id in one colocation group; users
# and tools as reference tables), after dropping what Citus refuses on them
# (foreign keys, unique indexes on id alone, audit triggers).  The
# row-level security policies stay: they have no subquery (the claim part).
citus_alfred_distribute() {
	local i
	for ((i = 0; i <= CITUS_NODES; i++)); do
		citus_psql "$i" -c "SET client_min_messages = warning" -c "SET citus.enable_ddl_propagation = off" \
			-c "CREATE EXTENSION alfred CASCADE" >/dev/null
	done
	citus_psql 0 >/dev/null <<'SQL'
SET client_min_messages = warning;
SET citus.enable_unsafe_triggers = on;
DO $$
DECLARE
	tables regclass[] := ARRAY['alfred.users', 'alfred.tools', 'alfred.scheduled_tasks', 'alfred.task_runs',
							   'alfred.notifications', 'alfred.user_settings']::regclass[];
	c record;
BEGIN
	FOR c IN SELECT conrelid::regclass AS rel, conname FROM pg_constraint
			  WHERE contype = 'f' AND connamespace = 'alfred'::regnamespace AND conparentid = 0
				AND (confrelid = ANY (tables) OR conrelid = ANY (tables))
	LOOP
		EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.rel, c.conname);
	END LOOP;
	FOR c IN SELECT tgrelid::regclass AS rel, tgname FROM pg_trigger
			  WHERE tgrelid = ANY (tables) AND tgname IN ('audit', 'audit_update')
	LOOP
		EXECUTE format('DROP TRIGGER %I ON %s', c.tgname, c.rel);
	END LOOP;
END $$;
DROP INDEX alfred.scheduled_tasks_id_key, alfred.task_runs_id_key;
SELECT create_reference_table('alfred.users');
SELECT create_reference_table('alfred.tools');
SELECT create_distributed_table('alfred.scheduled_tasks', 'user_id');
SELECT create_distributed_table('alfred.task_runs', 'user_id', colocate_with => 'alfred.scheduled_tasks');
SELECT create_distributed_table('alfred.notifications', 'user_id', colocate_with => 'alfred.scheduled_tasks');
SELECT create_distributed_table('alfred.user_settings', 'user_id', colocate_with => 'alfred.scheduled_tasks');
SELECT alfred.sync_claim_key();	-- (distribute() runs it: identity claims verify on every node)
SELECT alfred.sync_grants();	-- (distribute() runs it: the privileges on every node and placement)
SQL
}
