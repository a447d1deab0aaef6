# schema_dump.sh: pg_dump keeps the data of alfred's tables.  Member tables of
# an extension are skipped by pg_dump unless registered with
# pg_extension_config_dump (990_dump.sql); rows the install script inserts
# itself are filtered out so that a restore (which runs CREATE EXTENSION) does
# not insert them twice.  Fill a database through the API, dump it, restore
# it into a new database, and compare every table.  Prints TAP.
. "$(dirname "$0")/../lib.sh"

SRC=alfred_dump_src
DST=alfred_dump_dst
export PGOPTIONS="-c client_min_messages=warning"
q() { "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

create_db $SRC
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d $SRC >/dev/null <<'SQL'
SET alfred.password_cost = 4;
SELECT alfred.create_user('dump@example.com', 'dump password', 'dumper') AS u \gset
SELECT alfred.login('dump@example.com', 'dump password');
INSERT INTO alfred.projects (user_id, name) VALUES (:'u', 'Garden') RETURNING id AS p \gset
INSERT INTO alfred.tasks (user_id, project_id, title) VALUES (:'u', :'p', 'Dig') RETURNING id AS t1 \gset
INSERT INTO alfred.tasks (user_id, title, tags) VALUES (:'u', 'Plant', '{spring}') RETURNING id AS t2 \gset
INSERT INTO alfred.task_dependencies (user_id, task_id, depends_on_task_id) VALUES (:'u', :'t2', :'t1');
INSERT INTO alfred.habits (user_id, name) VALUES (:'u', 'Water') RETURNING id AS h \gset
INSERT INTO alfred.habit_logs (user_id, habit_id, logged_date) VALUES (:'u', :'h', '2026-01-01');
INSERT INTO alfred.notifications (user_id, type, title) VALUES (:'u', 'info', 'Hello');
INSERT INTO alfred.learned_preferences (user_id, key, value) VALUES (:'u', 'tone', 'dry');
INSERT INTO alfred.system_logs (level, module, message, user_id) VALUES ('info', 'test', 'now', :'u');
INSERT INTO alfred.system_logs (logged_at, level, message) VALUES (now() + interval '3 years', 'info', 'far ahead');
INSERT INTO alfred.tools (name, kind, description) VALUES ('dump_tool', 'external', 'a user tool');
SELECT alfred.create_log_partitions(8);
SQL

# Row counts of every table (partitions included), as "table=count" lines.
counts() {
	q "$1" "SELECT c.relname || '=' || (xpath('/row/n/text()',
				query_to_xml(format('SELECT count(*) AS n FROM %s', c.oid::regclass), false, true, '')))[1]::text
		  FROM pg_class c WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind = 'r'
		 ORDER BY c.relname"
}

echo "1..6"
dump=$ALFRED_TMP/schema_dump.fc
if "$PGBIN/pg_dump" -Fc -d $SRC -f "$dump" 2>"$ALFRED_TMP/schema_dump.err"; then
	echo "ok 1 - pg_dump of a database with alfred succeeds"
else
	echo "not ok 1 - pg_dump of a database with alfred succeeds"; sed 's/^/# /' "$ALFRED_TMP/schema_dump.err"
fi
psql_q -d postgres -c "DROP DATABASE IF EXISTS $DST" -c "CREATE DATABASE $DST" >/dev/null
if "$PGBIN/pg_restore" --exit-on-error -d $DST "$dump" 2>"$ALFRED_TMP/schema_dump.err"; then
	echo "ok 2 - pg_restore into a new database succeeds"
else
	echo "not ok 2 - pg_restore into a new database succeeds"; sed 's/^/# /' "$ALFRED_TMP/schema_dump.err"
fi
src=$(counts $SRC | grep -v '^audit_trail='); dst=$(counts $DST | grep -v '^audit_trail=')
if [ "$src" = "$dst" ]; then
	echo "ok 3 - every table (but audit_trail) has the same number of rows after the restore"
else
	echo "not ok 3 - every table (but audit_trail) has the same number of rows after the restore"
	diff <(echo "$src") <(echo "$dst") | sed 's/^/# /'
fi
users=$(q $DST "SELECT count(*) FROM alfred.users WHERE email = 'dump@example.com'")
tasks=$(q $DST "SELECT count(*) FROM alfred.tasks")
if [ "$users" = 1 ] && [ "$tasks" = 2 ]; then
	echo "ok 4 - the user and the tasks came back"
else
	echo "not ok 4 - the user and the tasks came back # users=$users tasks=$tasks"
fi
token=$(q $DST "SET alfred.password_cost = 4; SELECT alfred.login('dump@example.com', 'dump password')" | tail -1)
who=$(q $DST "SELECT alfred.set_session('$token') IS NOT NULL" 2>&1)
if [ "$who" = t ]; then
	echo "ok 5 - the restored user logs in"
else
	echo "not ok 5 - the restored user logs in # $who"
fi
# The audit triggers do not fire for the rows the restore inserts (pg_restore
# runs with row_security = off), so the restored trail is the dumped one.
src=$(counts $SRC | grep '^audit_trail='); dst=$(counts $DST | grep '^audit_trail=')
if [ "$src" = "$dst" ]; then
	echo "ok 6 - audit_trail is restored as it was ($dst)"
else
	echo "not ok 6 - audit_trail is restored as it was ($src, restored $dst)"
fi
psql_q -d postgres -c "DROP DATABASE $SRC" -c "DROP DATABASE $DST" >/dev/null
