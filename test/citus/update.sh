# update.sh: ALTER EXTENSION alfred UPDATE on an alfred that is already
# distributed (the next release on a running Citus cluster).  A coordinator
# and two workers with the current alfred created, distributed and holding
# data (users, tasks, a scheduled task, a session, through the coordinator)
# are updated to a probe version built here, whose upgrade script does what a
# release does: CREATE OR REPLACE FUNCTION of an API function, a new function,
# ADD COLUMN on a distributed and on a reference table, a new index, a new
# user-owned table with row-level security, a changed COMMENT.  Checks that
# every node has the new version, that the shards got the column and the
# index, that distribute() run again distributes the new table colocated,
# that the API works through the coordinator (as superuser and as an app
# role with set_session), that the scheduler keeps running tasks, and that no
# row was lost.  Prints TAP.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
set +e

echo "1..$(grep -c '^\(ok\|is\) ' "$0")"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
is() { n=$((n + 1)); if [ "$1" = "$2" ]; then echo "ok $n - $3"; else echo "not ok $n - $3"; echo "#   got:      '$1'"; echo "#   expected: '$2'"; fi; }
q() { citus_psql 0 -At -c "SET client_min_messages = warning" -c "$1" 2>&1; }
qn() { local i=$1; shift; citus_psql "$i" -At -c "$1" 2>&1; }
on_all() { for i in 0 1 2; do qn "$i" "$1"; done | tr '\n' ' '; }
# Row counts of alfred's tables (through the coordinator).
rows() {
	q "SELECT string_agg(format('%s=%s', c.relname,
			(xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM alfred.%I', c.relname), false, true, '')))[1]),
			' ' ORDER BY c.relname)
		  FROM pg_class c WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		   AND c.relname NOT IN ('audit_trail', 'system_logs', 'task_runs', 'probe_notes')"
}
wait_for() {	# wait_for <query returning t> <seconds>
	local i
	for ((i = 0; i < $2 * 10; i++)); do [ "$(q "$1")" = t ] && return 0; sleep 0.1; done
	return 1
}

citus_ensure_installed
build_and_install >/dev/null
current=$(sed -n "s/^default_version *= *'\([^']*\)'/\1/p" "$ALFRED_SRC/alfred.control")
probe=${current}probe
EXTDIR=$("$PGBIN/pg_config" --sharedir)/extension
W=$ALFRED_TMP/update
mkdir -p "$W"
probe_files=("$EXTDIR/alfred--$probe.sql" "$EXTDIR/alfred--$current--$probe.sql")

# The probe's upgrade script: what a release does.
cat >"$W/upgrade.sql" <<'SQL'
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION alfred UPDATE" to load this file. \quit
-- (new tables stay plain tables, with their foreign keys, until distribute())
SET LOCAL citus.enable_local_reference_table_foreign_keys = off;
CREATE OR REPLACE FUNCTION alfred.user_today(user_id uuid, day_start_hour int DEFAULT NULL)
RETURNS date
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
-- probe: replaced
BEGIN
	RETURN (SELECT ((now() AT TIME ZONE u.timezone)
					- make_interval(hours => coalesce(user_today.day_start_hour, s.day_start_hour, 0)))::date
			  FROM alfred.users u
			  LEFT JOIN alfred.user_settings s ON s.user_id = u.id
			 WHERE u.id = user_today.user_id);
END
$$;
CREATE FUNCTION alfred.probe_note_count(user_id uuid)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
BEGIN
	RETURN (SELECT count(*) FROM alfred.probe_notes n WHERE n.user_id = probe_note_count.user_id);
END
$$;
COMMENT ON FUNCTION alfred.probe_note_count(uuid) IS 'probe: the notes of a user';
SELECT alfred.table_ddl('alfred.tasks', 'ALTER TABLE alfred.tasks ADD COLUMN probe_note text');
SELECT alfred.table_ddl('alfred.users', 'ALTER TABLE alfred.users ADD COLUMN probe_flag boolean NOT NULL DEFAULT false');
SELECT alfred.table_ddl('alfred.tasks', 'CREATE INDEX tasks_probe_note ON alfred.tasks (user_id, probe_note)');
CREATE TABLE alfred.probe_notes (
	user_id	uuid NOT NULL REFERENCES alfred.users (id) ON DELETE CASCADE,
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	task_id	uuid,
	body	text NOT NULL,
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, task_id) REFERENCES alfred.tasks (user_id, id) ON DELETE CASCADE
);
SELECT alfred.enable_tenant_rls('alfred.probe_notes');
SELECT alfred.table_ddl('alfred.tasks', $$COMMENT ON TABLE alfred.tasks IS 'probe: a changed comment'$$);
SQL
{ cat "$EXTDIR/alfred--$current.sql"; sed 1,2d "$W/upgrade.sql"; } >"$W/install.sql"
as_installer cp "$W/install.sql" "${probe_files[0]}"
as_installer cp "$W/upgrade.sql" "${probe_files[1]}"
as_installer chmod a+r "${probe_files[@]}"

ALFRED_WORKERS=1 citus_start 2
trap 'citus_stop; as_installer rm -f "${probe_files[@]}"' EXIT

# ---- the current alfred, distributed, with data ----
q "CREATE EXTENSION alfred CASCADE" >/dev/null
q "SELECT count(*) FROM alfred.distribute()" >/dev/null
citus_psql 0 -q >"$W/fill.out" 2>&1 <<'SQL'
SET client_min_messages = warning;
SET alfred.password_cost = 4;
CREATE ROLE update_app LOGIN;
SELECT alfred.create_user('u' || i || '@update.test', 'password ' || i, 'u' || i) FROM generate_series(1, 6) i;
INSERT INTO alfred.tasks (user_id, title) SELECT id, 'before ' || username FROM alfred.users;
SELECT alfred.login('u1@update.test', 'password 1');
CREATE FUNCTION public.tick(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT args $$;
SELECT alfred.register_tool('tick', 'public.tick(uuid, jsonb)');
SELECT alfred.schedule_task(id, 'daily', 'tick', cron => '0 9 * * *') FROM alfred.users;
SELECT alfred.schedule_task(id, 'soon', 'tick', at => now() + interval '1 s') FROM alfred.users;
SQL
ok $? "alfred $current created, distributed and filled through the coordinator"
grep ERROR "$W/fill.out" | sed 's/^/# /'
ok $(wait_for "SELECT count(*) = 6 FROM alfred.scheduled_tasks WHERE name = 'soon' AND status = 'completed'" 30; echo $?) \
	"the scheduler ran the tasks due before the update"
before=$(rows)

# ---- the update ----
citus_psql 0 -c "ALTER EXTENSION alfred UPDATE TO '$probe'" >"$W/update.out" 2>&1
ok $? "ALTER EXTENSION alfred UPDATE TO '$probe' on the coordinator"
sed 's/^/# /' "$W/update.out"
is "$(on_all "SELECT extversion FROM pg_extension WHERE extname = 'alfred'")" "$probe $probe $probe " \
	"every node has alfred $probe"

# ---- what the update changed, on every node and every shard ----
is "$(on_all "SELECT p.prosrc LIKE '%probe: replaced%' AND to_regprocedure('alfred.probe_note_count(uuid)') IS NOT NULL
                FROM pg_proc p WHERE p.oid = 'alfred.user_today(uuid, integer)'::regprocedure")" "t t t " \
	"the replaced and the new function on every node"
is "$(on_all "SELECT count(*) FROM pg_attribute WHERE attname IN ('probe_note', 'probe_flag') AND NOT attisdropped
                AND attrelid IN ('alfred.tasks'::regclass, 'alfred.users'::regclass)")" "2 2 2 " \
	"the new columns of tasks and users on every node's table"
is "$(q "SELECT count(*) FILTER (WHERE success AND result = 'probe_note') || '/' || count(*)
          FROM run_command_on_shards('alfred.tasks', \$\$SELECT attname FROM pg_attribute WHERE attrelid = '%s'::regclass AND attname = 'probe_note'\$\$)")" \
	"8/8" "every shard of the distributed table tasks has the new column"
is "$(q "SELECT count(*) FILTER (WHERE success AND result = 'probe_flag') || '/' || count(*)
          FROM run_command_on_placements('alfred.users', \$\$SELECT attname FROM pg_attribute WHERE attrelid = '%s'::regclass AND attname = 'probe_flag'\$\$)")" \
	"3/3" "every placement of the reference table users has the new column"
is "$(q "SELECT count(*) FILTER (WHERE success AND result = '1') || '/' || count(*)
          FROM run_command_on_shards('alfred.tasks', \$\$SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                                                         WHERE i.indrelid = '%s'::regclass AND strpos(c.relname, 'tasks_probe_note') = 1\$\$)")" \
	"8/8" "every shard of tasks has the new index"
is "$(q "SELECT obj_description('alfred.tasks'::regclass, 'pg_class')")" "probe: a changed comment" "the changed COMMENT"
is "$(on_all "SELECT count(*) FROM pg_depend d WHERE d.objid = 'alfred.probe_notes'::regclass AND d.deptype = 'e'")" "1 1 1 " \
	"the new table is a member of alfred on every node"
is "$(rows)" "$before" "the update kept every row of every table"

# ---- distribute() again: the new table joins the colocation group ----
is "$(q "SELECT string_agg(format('%s %s %s', table_name, kind, changed), ', ') FROM alfred.distribute() WHERE changed")" \
	"alfred.probe_notes distributed t" "distribute() again distributes the new table, and only it"
is "$(q "SELECT count(DISTINCT colocationid) FROM pg_dist_partition WHERE partmethod = 'h' AND logicalrelid::text LIKE 'alfred.%'")" \
	"1" "colocated with every other user-owned table"
is "$(q "SELECT string_agg(confrelid::regclass::text, ' ' ORDER BY confrelid::regclass::text) FROM pg_constraint
          WHERE conrelid = 'alfred.probe_notes'::regclass AND contype = 'f'")" "alfred.tasks alfred.users" \
	"with its foreign keys to tasks and users"
is "$(rows)" "$before" "distribute() kept every row"

# ---- the API through the coordinator ----
U=$(q "SELECT id FROM alfred.users WHERE email = 'u1@update.test'")
T=$(q "INSERT INTO alfred.tasks (user_id, title, probe_note) VALUES ('$U', 'after', 'noted') RETURNING id")
q "INSERT INTO alfred.probe_notes (user_id, task_id, body) VALUES ('$U', '$T', 'a note')" >/dev/null
is "$(q "SELECT alfred.probe_note_count('$U') || ' ' || (alfred.user_today('$U') IS NOT NULL)")" "1 true" \
	"the new and the replaced function through the coordinator"
is "$(q "SELECT status FROM alfred.complete_task('$T')")" "completed" "complete_task on the updated alfred"
q "SET alfred.password_cost = 4; SELECT alfred.grant_usage('update_app')" >"$W/grant.out" 2>&1
ok $? "grant_usage again after the update (as README says)"
grep . "$W/grant.out" | sed 's/^/# /'
tok=$(q "SET alfred.password_cost = 4; SELECT alfred.login('u2@update.test', 'password 2')" | tail -1)
app() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$CITUS_SOCK" -p "$(citus_node_port 0)" -U update_app -d "$CITUS_DB" -v t="$tok" "$@" 2>&1; }
out=$(app <<'SQL'
BEGIN;
SELECT alfred.set_session(:'t') AS me \gset
INSERT INTO alfred.tasks (user_id, title, probe_note) VALUES (:'me', 'mine', 'app') RETURNING probe_note;
INSERT INTO alfred.probe_notes (user_id, body) VALUES (:'me', 'app note');
SELECT count(*) FROM alfred.probe_notes;
SELECT count(*) FROM alfred.tasks;
COMMIT;
SQL
)
is "$(tr '\n' ' ' <<<"$out")" "app 1 2 " \
	"as the app role with set_session: the new column and the new table, under row-level security"

# ---- the scheduler ----
q "SELECT count(alfred.schedule_task(id, 'after', 'tick', at => now() + interval '1 s')) FROM alfred.users WHERE email LIKE '%@update.test'" >/dev/null
ok $(wait_for "SELECT count(*) = 6 FROM alfred.scheduled_tasks WHERE name = 'after' AND status = 'completed'" 30; echo $?) \
	"the scheduler of every node runs the tasks due after the update"
is "$(q "SELECT count(*) FROM alfred.task_runs r JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
          WHERE t.name IN ('soon', 'after')")" "12" "each of them once"
