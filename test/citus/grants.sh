# test/citus/grants.sh: the documented app roles on a Citus cluster (a
# coordinator and two workers, a third added later).  The roles are created
# on the coordinator exactly as README's "App roles and row-level security"
# says and grant_usage runs there (Citus refuses to pass on its column
# privileges on users); then, as the app role with an identity through the
# coordinator, a user reads and writes her own rows and not another's,
# password_hash is unreadable through the coordinator and directly on every
# node (the table and its shard), the agent acts as a user, an observer only
# reads; every node and shard placement has exactly the coordinator's
# privileges, after a shard move too, and after a node is added once
# sync_grants() has run; a role missing on a worker, or a worker down,
# changes nothing; a REVOKE on a view reaches the nodes at the next
# sync_grants(); Citus's lock check on a direct UPDATE of users and the role
# setting that lifts it; the internal functions are the owner's.  Prints TAP.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scheduler_lib.bash"	# citus_alfred_distribute

. "$(dirname "$0")/tap.bash"
# q <sql>: the coordinator as superuser, one value per line.
q() { citus_psql 0 -At -c "$1"; }
# on <node> <role> [psql args]: a script on stdin, connected to node I as that
# role (errors with their SQLSTATE); prints what psql printed and never fails.
on() {
	local i=$1 role=$2; shift 2
	{ echo "\\set VERBOSITY verbose"; cat; } |
		"$PGBIN/psql" -X -q -At -h "$CITUS_SOCK" -p "$(citus_node_port "$i")" -U "$role" -d "$CITUS_DB" \
			-v ON_ERROR_STOP=1 "$@" 2>&1 || true
}
# as_user <token> <sql>: one transaction through the coordinator as the app
# role with the identity of that token's user.
as_user() {
	printf "BEGIN;\nSELECT alfred.set_session(:'t') AS me \\\\gset\n%s\nCOMMIT;\n" "$2" | on 0 app -v t="$1"
}
# differing <node>: on node I, the copies of alfred's schema and relations
# (but on the coordinator, their source) and the shard placements whose
# privileges differ from the coordinator's, as "name" lines; and a last line
# "checked N" with how many were compared.
differing() {
	citus_psql "$1" -At -v doc="$(q "SELECT alfred._grants()")" <<'SQL'
SET citus.override_table_visibility = off;
WITH doc AS (SELECT (:'doc')::jsonb AS d),
rels AS (
	SELECT j.key AS name, to_regclass(j.key) AS rel, j.value AS acl FROM doc, jsonb_each(d->'relations') j),
targets AS (
	SELECT r.name, r.rel AS target, r.acl FROM rels r
	 WHERE (SELECT groupid FROM pg_dist_local_group) <> 0
	UNION ALL
	SELECT r.name, to_regclass(shard_name(s.logicalrelid, s.shardid)), r.acl FROM rels r
	  JOIN pg_dist_shard s ON s.logicalrelid = r.rel
	  JOIN pg_dist_placement p ON p.shardid = s.shardid
	 WHERE p.groupid = (SELECT groupid FROM pg_dist_local_group))
SELECT coalesce(target::text, name || ' (missing)') FROM targets
 WHERE target IS NULL OR alfred._relation_grants(target) <> acl
UNION ALL
SELECT 'schema' FROM doc WHERE (SELECT groupid FROM pg_dist_local_group) <> 0 AND alfred._grants()->'schema' <> d->'schema'
UNION ALL
SELECT 'checked ' || count(*) FROM targets;
SQL
}
# same <node>: "same (N compared)" when nothing differs on node I, else what does.
same() {
	local d
	d=$(differing "$1")
	if [ "$(wc -l <<<"$d")" = 1 ] && [[ $d =~ ^checked\ [1-9] ]]; then echo "same (${d#checked } compared)"; else echo "$d"; fi
}
# placements <table> <node>: the shard placements of a table on node I.
placements() {
	q "SELECT string_agg(shard_name(s.logicalrelid, s.shardid), ' ' ORDER BY s.shardid)
		 FROM pg_dist_shard s JOIN pg_dist_placement p ON p.shardid = s.shardid
		 JOIN pg_dist_node d ON d.groupid = p.groupid
		WHERE s.logicalrelid = '$1'::regclass AND d.nodeport = $(citus_node_port "$2")"
}

cleanup() { [ -n "${CITUS_KEEP:-}" ] || citus_stop; }
trap cleanup EXIT

build_and_install >&2
citus_ensure_installed >&2
citus_start 2 >&2
citus_alfred_distribute >&2

echo "1..50"

# README: the roles, once per cluster, on the coordinator.
out=$(on 0 postgres <<'SQL'
SET client_min_messages = warning;
CREATE ROLE app LOGIN PASSWORD 'app secret';
SELECT alfred.grant_usage('app');
CREATE ROLE alfred_service NOLOGIN;
SELECT alfred.grant_usage('alfred_service');
CREATE ROLE agent LOGIN PASSWORD 'agent secret' IN ROLE alfred_service;
SQL
)
is "$out" "" "README's roles and grant_usage run on the coordinator (Citus refused its column grants)"
for i in 1 2; do
	is "$(citus_psql "$i" -At -c "SELECT string_agg(r.rolname || coalesce(':' || m.roleid::regrole::text, ''), ' ' ORDER BY r.rolname)
									FROM pg_roles r LEFT JOIN pg_auth_members m ON m.member = r.oid
								   WHERE r.rolname IN ('app', 'agent', 'alfred_service')")" \
		"agent:alfred_service alfred_service app" "worker $i has the roles, agent in alfred_service (Citus passes them on)"
done
for i in 0 1 2; do
	like "$(same "$i")" "^same" "node $i: every copy and shard placement has the coordinator's privileges"
done
is "$(q "SELECT alfred.sync_grants()")" 0 "sync_grants() finds nothing to change after grant_usage"
is "$(citus_psql 1 -At -c "SELECT has_column_privilege('app', 'alfred.users', 'email', 'SELECT'),
								  has_column_privilege('app', 'alfred.users', 'password_hash', 'SELECT'),
								  has_column_privilege('app', 'alfred.users', 'display_name', 'UPDATE'),
								  has_column_privilege('app', 'alfred.users', 'role', 'UPDATE'),
								  has_table_privilege('app', 'alfred.notifications', 'INSERT'),
								  has_table_privilege('app', 'alfred.audit_trail', 'SELECT'),
								  has_schema_privilege('app', 'alfred', 'USAGE')")" "t|f|t|f|t|t|t" \
	"on a worker the app reads users but password_hash, updates profile columns but role; the schema, a node table"

# Users A and B whose notifications live on different workers; an observer.
a="" b=""
for i in $(seq 1 40); do
	q "SET alfred.password_cost = 4; SELECT alfred.create_user('u$i@grants.test', 'password $i')" >/dev/null
	read -r a b < <(q "
		WITH placed AS (
			SELECT u.id, min(d.nodeport) AS port, min(u.email) AS email FROM alfred.users u
			  JOIN pg_dist_placement p ON p.shardid = get_shard_id_for_distribution_column('alfred.notifications', u.id)
			  JOIN pg_dist_node d ON d.groupid = p.groupid
			 GROUP BY u.id)
		SELECT (SELECT id FROM placed ORDER BY port, email LIMIT 1) || ' ' || (SELECT id FROM placed ORDER BY port DESC, email LIMIT 1)
		 WHERE (SELECT count(DISTINCT port) FROM placed) = 2") || true
	[ -n "$b" ] && break
done
ok $([ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]; echo $?) "users A and B have their notifications on different workers"
q "SET alfred.password_cost = 4; SELECT alfred.create_user('olga@grants.test', 'olga password', role => 'observer')" >/dev/null
login() { q "SET alfred.password_cost = 4; SELECT alfred.login((SELECT email FROM alfred.users WHERE id = '$1'), '$2')" | tail -1; }
pw() { q "SELECT 'password ' || substring(email FROM '^u([0-9]+)@') FROM alfred.users WHERE id = '$1'"; }
ta=$(login "$a" "$(pw "$a")")
tb=$(login "$b" "$(pw "$b")")
to=$(login "$(q "SELECT id FROM alfred.users WHERE email = 'olga@grants.test'")" 'olga password')
DENIED="ERROR:  42501: permission denied for (table|column)"
RLS_REFUSED="ERROR:  42501: new row violates row-level security policy"

users_shard=alfred.users_$(q "SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'alfred.users'::regclass")

# The app through the coordinator.
as_user "$ta" "INSERT INTO alfred.notifications (user_id, type, title) VALUES ('$a', 'info', 'a1'), ('$a', 'info', 'a2');" >/dev/null
as_user "$tb" "INSERT INTO alfred.notifications (user_id, type, title) VALUES ('$b', 'info', 'b1');" >/dev/null
is "$(q "SELECT count(*) FILTER (WHERE user_id = '$a') || ' ' || count(*) FILTER (WHERE user_id = '$b') FROM alfred.notifications")" \
	"2 1" "A and B write their own rows through the coordinator (on two workers)"
is "$(as_user "$ta" "SELECT string_agg(title, ',' ORDER BY title) FROM alfred.notifications;")" "a1,a2" \
	"A reads her rows and none of B's"
like "$(as_user "$ta" "INSERT INTO alfred.notifications (user_id, type, title) VALUES ('$b', 'info', 'from a');")" \
	"$RLS_REFUSED" "A cannot write a row of B's (42501)"
as_user "$ta" "UPDATE alfred.notifications SET title = 'changed by a' WHERE user_id = '$b'; DELETE FROM alfred.notifications WHERE user_id = '$b';" >/dev/null
is "$(q "SELECT title FROM alfred.notifications WHERE user_id = '$b'")" "b1" "A's UPDATE and DELETE of B's rows change nothing"
is "$(as_user "$ta" "SELECT email FROM alfred.users;")" "$(q "SELECT email FROM alfred.users WHERE id = '$a'")" \
	"A reads her own account (users, a reference table) and no other"
like "$(as_user "$ta" "SELECT password_hash FROM alfred.users;")" "$DENIED" \
	"password_hash is unreadable through the coordinator (42501)"
# Citus locks a reference table's shard on the first worker node before a
# write, and checks there that the role may UPDATE, DELETE or TRUNCATE the
# whole table: a column privilege is not enough (README: App roles on Citus).
like "$(as_user "$ta" "UPDATE alfred.users SET display_name = 'Ann' WHERE id = '$a';")" \
	"ERROR:  42501: permission denied for table users" \
	"a direct UPDATE of her profile is refused by Citus's lock check (42501) unless the DBA lifts it"
q "ALTER ROLE app SET citus.skip_advisory_lock_permission_checks = on" >/dev/null
as_user "$ta" "UPDATE alfred.users SET display_name = 'Ann' WHERE id = '$a';" >/dev/null
is "$(for i in 0 1 2; do citus_psql "$i" -At -c "SELECT display_name FROM $users_shard WHERE id = '$a'"; done | sort | uniq -c | sed 's/^ *//')" \
	"3 Ann" "with it lifted for the role, A updates her profile: the placement on every node has the column grant"
like "$(as_user "$ta" "UPDATE alfred.users SET role = 'admin' WHERE id = '$a';")" "$DENIED" \
	"A cannot change her role (no UPDATE on that column, 42501)"
is "$(as_user "$to" "SELECT count(*) FROM alfred.notifications;")" 3 "the observer reads every user's rows"
like "$(as_user "$to" "INSERT INTO alfred.notifications (user_id, type, title) VALUES ('$a', 'info', 'by olga');")" \
	"$RLS_REFUSED" "and writes none"
like "$(as_user "$to" "SELECT password_hash FROM alfred.users;")" "$DENIED" "nor reads password_hash"
is "$(printf "BEGIN;\nSELECT alfred.act_as('%s') \\\\gset\nSELECT count(*) FROM alfred.notifications;\nCOMMIT;\n" "$b" | on 0 agent)" \
	1 "the agent (alfred_service) acts as B and reads his rows"
like "$(echo "SELECT password_hash FROM alfred.users;" | on 0 agent)" "$DENIED" "the agent cannot read password_hash either"

# Directly on each worker node, as the app: the table and its shard.
for i in 1 2; do
	like "$(echo "SELECT password_hash FROM alfred.users;" | on "$i" app)" "$DENIED" \
		"worker $i: password_hash of alfred.users is unreadable (42501)"
	like "$(echo "SELECT password_hash FROM $users_shard;" | on "$i" app)" "$DENIED" \
		"worker $i: password_hash of its shard $users_shard is unreadable (42501)"
	is "$(echo "SELECT count(email) FROM $users_shard;" | on "$i" app)" 0 \
		"worker $i: the other columns of the shard are granted (row-level security shows no row without identity)"
done

# A shard move: Citus copies table-level privileges, alfred's distributed tables need no more.
shard=$(q "SELECT get_shard_id_for_distribution_column('alfred.notifications', '$a')")
from=$(q "SELECT d.nodeport FROM pg_dist_placement p JOIN pg_dist_node d ON d.groupid = p.groupid WHERE p.shardid = $shard")
to_port=$(( from == $(citus_node_port 1) ? $(citus_node_port 2) : $(citus_node_port 1) ))
q "SELECT citus_move_shard_placement($shard, '$CITUS_SOCK', $from, '$CITUS_SOCK', $to_port, shard_transfer_mode => 'block_writes')" >/dev/null
is "$(q "SELECT d.nodeport FROM pg_dist_placement p JOIN pg_dist_node d ON d.groupid = p.groupid WHERE p.shardid = $shard")" \
	"$to_port" "A's notifications shard moved to the other worker"
for i in 1 2; do
	like "$(same "$i")" "^same" "after the move, worker $i's copies and placements have the coordinator's privileges"
done
is "$(as_user "$ta" "INSERT INTO alfred.notifications (user_id, type, title) VALUES ('$a', 'info', 'a3'); SELECT string_agg(title, ',' ORDER BY title) FROM alfred.notifications;")" \
	"a1,a2,a3" "A reads and writes her rows on their new node, still none of B's"
is "$(as_user "$tb" "SELECT string_agg(title, ',' ORDER BY title) FROM alfred.notifications;")" "b1" "B still reads only his"

# A node added: the reference tables' new placement and the new node's tables
# get their column privileges from sync_grants().
# (alfred installed on it by hand first, as citus_alfred_distribute does,
# until the lead's CREATE EXTENSION that Citus can pass on is merged)
citus_init_node 3 >&2
CITUS_NODES=3
citus_psql 3 -c "SET client_min_messages = warning" -c "SET citus.enable_ddl_propagation = off" \
	-c "CREATE EXTENSION alfred CASCADE" >/dev/null
q "SELECT citus_add_node('$CITUS_SOCK', $(citus_node_port 3))" >/dev/null
q "SET client_min_messages = warning; SELECT replicate_reference_tables()" >/dev/null
new_users=$(placements alfred.users 3)
is "$new_users" "$users_shard" "the new worker has a placement of users"
ok $(d=$(differing 3); [ "$(wc -l <<<"$d")" -gt 1 ]; echo $?) "before sync_grants() the new node's privileges differ (Citus copies no column privileges)"
changed=$(q "SELECT alfred.sync_grants()")
ok $([ "$changed" -gt 0 ]; echo $?) "sync_grants() changes them ($changed objects)"
like "$(same 3)" "^same" "then the new worker's copies and placements have the coordinator's privileges"
like "$(echo "SELECT password_hash FROM $users_shard;" | on 3 app)" "$DENIED" "new worker: password_hash of the users shard is unreadable"
is "$(echo "SELECT count(email) FROM $users_shard;" | on 3 app)" 0 "new worker: its other columns are readable"
is "$(q "SELECT alfred.sync_grants()")" 0 "and sync_grants() again changes nothing"

# A role that exists on the coordinator only: nothing changes anywhere.
q "SET citus.enable_create_role_propagation = off; CREATE ROLE lonely" >/dev/null
like "$(echo "SELECT alfred.grant_usage('lonely');" | on 0 postgres)" \
	"ERROR:  42704: role \"lonely\" does not exist on node \"$CITUS_SOCK:[0-9]+\"" \
	"grant_usage for a role missing on the workers: 42704 naming the role and the node"
is "$(q "SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a WHERE a.grantee = 'lonely'::regrole")
$(q "SELECT alfred.sync_grants()")" "0
0" "and it granted nothing on the coordinator, nor is there anything to copy"

# A REVOKE of the DBA's on a view (which Citus does not pass on) reaches the
# nodes at the next sync_grants().
q "REVOKE SELECT ON alfred.calibration FROM app" >/dev/null
is "$(citus_psql 1 -At -c "SELECT has_table_privilege('app', 'alfred.calibration', 'SELECT')")" t \
	"a REVOKE on a view stays on the coordinator"
is "$(q "SELECT alfred.sync_grants()")" 3 "sync_grants() copies it to the three workers"
is "$(for i in 1 2 3; do citus_psql "$i" -At -c "SELECT has_table_privilege('app', 'alfred.calibration', 'SELECT')"; done | sort -u)" f \
	"then no worker lets the app read the view"

# On a worker node sync_grants() fixes only that node's placements; a node
# down is an error that names it, and nothing is half done on the others.
is "$(citus_psql 1 -At -c "SELECT alfred.sync_grants()")" 0 "on a worker, sync_grants() finds its placements matching"
citus_stop_node 3
like "$(echo "SELECT alfred.grant_usage('app');" | on 0 postgres)" \
	"ERROR:  08006: could not read the roles of node \"$CITUS_SOCK:$(citus_node_port 3)\"" \
	"with a worker node down, grant_usage fails naming the node (08006) before any node changes"
citus_start_node 3

# The internal functions are the owner's.
like "$(echo "SELECT alfred.sync_grants();" | on 0 app)" "ERROR:  42501: permission denied for function sync_grants" \
	"sync_grants() is not for the app role (42501)"
like "$(echo "SELECT alfred._apply_grants('{\"schema\": [], \"relations\": {}}', true);" | on 1 app)" \
	"ERROR:  42501: permission denied for function _apply_grants" "nor _apply_grants on a worker (42501)"

exit $((failed > 0))
