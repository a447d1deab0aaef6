#!/usr/bin/env bash
# bench/citus_requests.sh (bench/citus.sh requests): the per-request cost of alfred's API through a Citus
# coordinator, against a single node on the same machine.
#
#   ALFRED_PGROOT=/tmp/pgroot-me ALFRED_PORT=55610 nice bench/citus_requests.sh [SECONDS]
#
# Starts a Citus coordinator and two worker nodes (test/citus/lib.sh; stopped at
# the end).  On the coordinator, database alfred_citus has alfred distributed
# (alfred.distribute()) and database alfred_single a plain alfred without
# Citus: the same server, so the machine's load falls on both alike.  In each,
# 50 users with 20 tasks and 2 habits each; then pgbench (one client, SECONDS
# per round, default 10) runs two typical requests for a random user:
#   today     SELECT alfred.today(user): the daily briefing (reads)
#   task      INSERT a task, complete_task() it (writes, a row lock by id)
# alternating single/citus twice, and prints requests/s and the ratio
# citus / single.  PGOPTIONS="-c citus.max_cached_conns_per_worker=8" (say)
# measures with more of the coordinator's connections to the workers kept
# between transactions (Citus's default keeps one per worker).
. "$(dirname "$0")/../test/lib.sh"
. "$(dirname "$0")/../test/citus/lib.sh"
cd "$ALFRED_SRC"

T=${1:-10}
B=$ALFRED_TMP/bench-citus
citus_ensure_installed
build_and_install >/dev/null
ALFRED_WORKERS=0 citus_start 2
trap citus_stop EXIT
mkdir -p "$B"

q() { local db=$1; shift; "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 -h "$CITUS_SOCK" -p "$(citus_node_port 0)" -U postgres -d "$db" -c "SET client_min_messages = warning" "$@"; }
q postgres -c "CREATE DATABASE alfred_single"
q alfred_single -c "CREATE EXTENSION alfred CASCADE"
q "$CITUS_DB" -c "CREATE EXTENSION alfred CASCADE"
q "$CITUS_DB" -c "SELECT count(*) FROM alfred.distribute()" >/dev/null
for db in alfred_single "$CITUS_DB"; do
	q "$db" -c "SET alfred.password_cost = 4" -c "
		SELECT count(alfred.create_user('b' || i || '@example.com', 'bench password', 'b' || i)) FROM generate_series(1, 50) i" >/dev/null
	q "$db" -c "INSERT INTO alfred.tasks (user_id, title) SELECT u.id, 'task ' || i FROM alfred.users u, generate_series(1, 20) i"
	q "$db" -c "INSERT INTO alfred.habits (user_id, name, frequency) SELECT u.id, 'habit ' || i, 'daily' FROM alfred.users u, generate_series(1, 2) i"
done

# (a DO block: the user looked up first, then the call, as an application
# would, with no function called inside a query over a distributed table)
cat >"$B/today.sql" <<'SQL'
DO $$
DECLARE
	n int := 1 + floor(random() * 50);
	u uuid := (SELECT id FROM alfred.users WHERE email = 'b' || n || '@example.com');
BEGIN
	PERFORM alfred.today(u);
END
$$;
SQL
cat >"$B/task.sql" <<'SQL'
DO $$
DECLARE
	n int := 1 + floor(random() * 50);
	u uuid := (SELECT id FROM alfred.users WHERE email = 'b' || n || '@example.com');
	t uuid;
BEGIN
	INSERT INTO alfred.tasks (user_id, title) VALUES (u, 'bench') RETURNING id INTO t;
	PERFORM alfred.complete_task(t);
END
$$;
SQL

tps() {	# tps <db> <script>
	"$PGBIN/pgbench" -n -h "$CITUS_SOCK" -p "$(citus_node_port 0)" -U postgres -c 1 -T "$T" -f "$B/$2.sql" "$1" 2>"$B/$1.$2.err" |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

printf '%-6s %-6s %12s %12s %8s\n' request round single/s citus/s ratio
for r in 1 2; do
	for s in today task; do
		a=$(tps alfred_single "$s")
		b=$(tps "$CITUS_DB" "$s")
		printf '%-6s %-6s %12s %12s %8s\n' "$s" "$r" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')"
	done
done
