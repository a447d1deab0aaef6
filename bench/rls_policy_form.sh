#!/usr/bin/env bash
# bench/rls_policy_form.sh: what the policy form costs on one node, the same
# build and data: the policies as they are (functions called directly, no
# subquery, as Citus needs) against the 0.1 form (the same functions in
# scalar subqueries, InitPlans evaluated once per statement), alternating.
#
#   ALFRED_PGROOT=/tmp/pgroot-x ALFRED_PORT=555NN nice bench/rls_policy_form.sh
#
# One heavy user with $HEAVY_TASKS tasks among $USERS users with $TASKS each;
# an admin.  Variants (pgbench, $CLIENTS clients, $ROUNDS rounds of
# $SECONDS_EACH s, median TPS):
#   heavy   the app role: act_as(<heavy user>), count their pending tasks by
#           row-level security alone (a bitmap scan; every row rechecks the policy)
#   admin   act_as(<admin>), count every user's pending tasks (a sequential scan;
#           every row is compared with the array of all user ids)
# each with the policies in the direct form and in the subquery form.
. "$(dirname "$0")/../test/lib.sh"
cd "$ALFRED_SRC"

USERS=${USERS:-1000}
TASKS=${TASKS:-10}
HEAVY_TASKS=${HEAVY_TASKS:-10000}
SECONDS_EACH=${SECONDS_EACH:-4}
ROUNDS=${ROUNDS:-5}
CLIENTS=${CLIENTS:-2}
DB=bench_policy_form

build_and_install
start_cluster
work=$(mktemp -d)
trap 'stop_cluster; rm -rf "$work"' EXIT
create_db $DB
PGBENCH=$PGBIN/pgbench

log "loading $USERS users with $TASKS tasks each, one with $HEAVY_TASKS"
psql_q -d $DB <<SQL >/dev/null
SET client_min_messages = warning;
CREATE FUNCTION public.nid(n int) RETURNS uuid LANGUAGE sql IMMUTABLE
	AS \$\$ SELECT ('00000000-0000-0000-0000-' || lpad(n::text, 12, '0'))::uuid \$\$;
INSERT INTO alfred.users (id, email, password_hash, role)
	SELECT nid(u), 'bench' || u || '@example.com', '\$2a\$04\$notahash', CASE WHEN u = 0 THEN 'admin' ELSE 'user' END
	  FROM generate_series(0, $USERS) u;
INSERT INTO alfred.tasks (user_id, title, status)
	SELECT nid(u), 'task ' || t, CASE WHEN t % 3 = 0 THEN 'completed' ELSE 'pending' END
	  FROM generate_series(2, $USERS) u, generate_series(1, $TASKS) t;
INSERT INTO alfred.tasks (user_id, title, status)
	SELECT nid(1), 'task ' || t, CASE WHEN t % 3 = 0 THEN 'completed' ELSE 'pending' END
	  FROM generate_series(1, $HEAVY_TASKS) t;
DROP ROLE IF EXISTS bench_app;
DO \$\$ BEGIN CREATE ROLE alfred_service NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$;
CREATE ROLE bench_app LOGIN IN ROLE alfred_service;
SELECT alfred.grant_usage('bench_app');
VACUUM ANALYZE;
SQL

# form <direct|subquery>: the tasks policies in that form.
form() {
	local r="alfred.readable_user_ids()" w="alfred.writable_user_ids()" me="alfred.current_user_id()" role="alfred.current_user_role()"
	if [ "$1" = subquery ]; then r="(SELECT $r)::uuid[]"; w="(SELECT $w)::uuid[]"; me="(SELECT $me)"; role="(SELECT $role)"; fi
	psql_q -d $DB <<SQL >/dev/null
ALTER POLICY tenant_read ON alfred.tasks USING (user_id = ANY ($r));
ALTER POLICY tasks_assignee_read ON alfred.tasks USING (assigned_to = $me AND $role IS NOT NULL);
SQL
}
cat >"$work/heavy.sql" <<SQL
BEGIN;
SELECT alfred.act_as(nid(1), true);
SELECT count(*) FROM alfred.tasks WHERE status = 'pending';
COMMIT;
SQL
cat >"$work/admin.sql" <<SQL
BEGIN;
SELECT alfred.act_as(nid(0), true);
SELECT count(*) FROM alfred.tasks WHERE status = 'pending';
COMMIT;
SQL
run() {	# run <script>
	"$PGBENCH" -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_EACH" -U bench_app -f "$work/$1.sql" $DB 2>&1 |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
for r in $(seq "$ROUNDS"); do
	for f in direct subquery; do
		form $f
		for v in heavy admin; do echo "$v-$f $(run $v)" >>"$work/tps"; done
	done
done
form direct
median() { awk -v v="$1" '$1 == v {print $2}' "$work/tps" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
printf '%-16s %10s %16s\n' variant tps 'direct/subquery'
for v in heavy admin; do
	d=$(median $v-direct); s=$(median $v-subquery)
	printf '%-16s %10.0f\n%-16s %10.0f %16.2f\n' "$v-subquery" "$s" "$v-direct" "$d" "$(echo "$d / $s" | bc -l)"
done
