#!/usr/bin/env bash
# bench/schema_rls.sh: what identity and row-level security cost per request.
#
#   ALFRED_PGROOT=/tmp/pgroot-x ALFRED_PORT=555NN nice bench/schema_rls.sh
#
# $USERS users with $TASKS tasks each.  One pgbench run per variant, each a
# transaction that lists one random user's pending tasks (title, due date):
#   baseline    superuser, no identity, WHERE user_id = <user>  (RLS bypassed)
#   two_statements  the baseline plus a trivial statement (one more round trip,
#               as act_as and set_session add)
#   act_as      an app role in alfred_service: act_as(<user>, true), then the
#               same query (policies applied on top of the explicit user_id)
#   rls only    the same, but the query has no user_id: RLS alone picks the rows
#   set_session an app role: set_session(<token>, true) (SHA-256 lookup), then
#               the RLS-only query
#   heavy_baseline  superuser: count one heavy user's $HEAVY_TASKS tasks by
#               status with an explicit user_id
#   heavy_rls   the app role: act_as(<heavy user>), the same count by row-level
#               security alone (the policies' functions run on every row the
#               bitmap scan rechecks); compare its ratio to heavy_baseline's
# Prints the median TPS of each variant over $ROUNDS interleaved rounds and its
# ratio to the baseline.
. "$(dirname "$0")/../test/lib.sh"
cd "$ALFRED_SRC"

USERS=${USERS:-1000}
TASKS=${TASKS:-100}
SECONDS_EACH=${SECONDS_EACH:-4}
ROUNDS=${ROUNDS:-5}
CLIENTS=${CLIENTS:-2}
HEAVY_TASKS=${HEAVY_TASKS:-10000}
DB=bench_rls

build_and_install
start_cluster
work=$(mktemp -d)
trap 'stop_cluster; rm -rf "$work"' EXIT
create_db $DB
PGBENCH=$PGBIN/pgbench

log "loading $USERS users with $TASKS tasks each"
psql_q -d $DB <<SQL >/dev/null
SET client_min_messages = warning;
SET alfred.password_cost = 4;
CREATE FUNCTION public.nid(n int) RETURNS uuid LANGUAGE sql IMMUTABLE
	AS \$\$ SELECT ('00000000-0000-0000-0000-' || lpad(n::text, 12, '0'))::uuid \$\$;
INSERT INTO alfred.users (id, email, password_hash)
	SELECT nid(u), 'bench' || u || '@example.com', crypt('bench password', gen_salt('bf', 4))
	  FROM generate_series(1, $USERS) u;
INSERT INTO alfred.tasks (user_id, title, status)
	SELECT nid(u), 'task ' || t, CASE WHEN t % 3 = 0 THEN 'completed' ELSE 'pending' END
	  FROM generate_series(1, $USERS) u, generate_series(1, $TASKS) t;
INSERT INTO alfred.users (id, email, password_hash)
	VALUES (nid($USERS + 1), 'heavy@example.com', crypt('bench password', gen_salt('bf', 4)));
INSERT INTO alfred.tasks (user_id, title, status)
	SELECT nid($USERS + 1), 'task ' || t, CASE WHEN t % 3 = 0 THEN 'completed' ELSE 'pending' END
	  FROM generate_series(1, $HEAVY_TASKS) t;
CREATE TABLE public.bench_tokens (n int PRIMARY KEY, token text);
INSERT INTO public.bench_tokens SELECT u, alfred.login('bench' || u || '@example.com', 'bench password')
  FROM generate_series(1, $USERS) u;
DROP ROLE IF EXISTS bench_app;
DO \$\$ BEGIN CREATE ROLE alfred_service NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$;
CREATE ROLE bench_app LOGIN IN ROLE alfred_service;
SELECT alfred.grant_usage('bench_app');
GRANT SELECT ON public.bench_tokens TO bench_app;
VACUUM ANALYZE;
SQL

cat >"$work/baseline.sql" <<SQL
\set u random(1, $USERS)
BEGIN;
SELECT title, due_date FROM alfred.tasks WHERE user_id = nid(:u) AND status = 'pending';
COMMIT;
SQL
cat >"$work/two_statements.sql" <<SQL
\set u random(1, $USERS)
BEGIN;
SELECT nid(:u);
SELECT title, due_date FROM alfred.tasks WHERE user_id = nid(:u) AND status = 'pending';
COMMIT;
SQL
cat >"$work/act_as.sql" <<SQL
\set u random(1, $USERS)
BEGIN;
SELECT alfred.act_as(nid(:u), true);
SELECT title, due_date FROM alfred.tasks WHERE user_id = nid(:u) AND status = 'pending';
COMMIT;
SQL
cat >"$work/rls_only.sql" <<SQL
\set u random(1, $USERS)
BEGIN;
SELECT alfred.act_as(nid(:u), true);
SELECT title, due_date FROM alfred.tasks WHERE status = 'pending';
COMMIT;
SQL
cat >"$work/set_session.sql" <<SQL
\set u random(1, $USERS)
SELECT token FROM public.bench_tokens WHERE n = :u \gset
BEGIN;
SELECT alfred.set_session(:token, true);
SELECT title, due_date FROM alfred.tasks WHERE status = 'pending';
COMMIT;
SQL

cat >"$work/heavy_baseline.sql" <<SQL
BEGIN;
SELECT count(*) FROM alfred.tasks WHERE user_id = nid($USERS + 1) AND status = 'pending';
COMMIT;
SQL
cat >"$work/heavy_rls.sql" <<SQL
BEGIN;
SELECT alfred.act_as(nid($USERS + 1), true);
SELECT count(*) FROM alfred.tasks WHERE status = 'pending';
COMMIT;
SQL

run() {	# run <script> <role>
	"$PGBENCH" -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_EACH" -U "$2" -f "$work/$1.sql" $DB 2>&1 |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

# Rounds interleave the variants, so that the load of a shared machine falls
# on all of them alike; each variant's figure is its median over the rounds.
variants="baseline two_statements act_as rls_only set_session heavy_baseline heavy_rls"
for r in $(seq "$ROUNDS"); do
	for v in $variants; do
		role=bench_app
		case $v in baseline|two_statements|heavy_baseline) role=postgres ;; esac
		echo "$v $(run $v $role)" >>"$work/tps"
	done
done
median() { awk -v v="$1" '$1 == v {print $2}' "$work/tps" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
base=$(median baseline)
printf '%-15s %10s %7s\n' variant tps ratio
for v in $variants; do
	tps=$(median $v)
	printf '%-15s %10.0f %7.2f\n' "$v" "$tps" "$(echo "$tps / $base" | bc -l)"
done
