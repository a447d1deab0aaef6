#!/usr/bin/env bash
# pgbouncer.sh: identity behind a real PgBouncer in transaction mode (the
# usual deployment: many clients share a few server connections).
#
# - The default scope (transaction-local): 50 users; each request is a
#   transaction with set_session(token) + a read, then a transaction without
#   any identity; 50 clients x 80 requests (8,000 transactions; set
#   ALFRED_BOUNCER_REQUESTS for more) through a pool of 4 server connections:
#   no transaction ever sees a row of another user, and no transaction
#   without a token has an identity or sees a row.
# - Session scope (local => false) behind a transaction pooler: the identity
#   stays on the server connection and the next client inherits it (the
#   documented danger, shown here so the README's warning stays true); with
#   server_reset_query_always = 1 PgBouncer's DISCARD ALL clears it.
# - On a direct connection, a session identity of a user who is then
#   suspended (by another session) reads nothing from its next statement.
# Prints TAP.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/worker_lib.bash"

DB=alfred_bouncer
USERS=50
CLIENTS=50
PER_CLIENT=${ALFRED_BOUNCER_REQUESTS:-80}
BOUNCER_DIR=$ALFRED_TMP/pgbouncer
BOUNCER_PORT=$((ALFRED_PORT + 1000))
RESET_PORT=$((ALFRED_PORT + 1001))
bouncer_pids=()

echo "1..9"
if ! command -v pgbouncer >/dev/null; then
	for i in $(seq 1 9); do echo "ok $i # SKIP pgbouncer is not installed"; done
	exit 0
fi

stop_bouncers() {
	local pid
	for pid in "${bouncer_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap stop_bouncers EXIT

# start_bouncer <port> <extra [pgbouncer] lines>: a pgbouncer in transaction
# mode in front of the test cluster's unix socket, on its own unix socket.
start_bouncer() {
	local port=$1 extra=$2 dir=$BOUNCER_DIR/$1
	mkdir -p "$dir"
	printf '"bouncer_app" ""\n"postgres" ""\n' >"$dir/userlist.txt"
	cat >"$dir/pgbouncer.ini" <<INI
[databases]
$DB = host=$ALFRED_TMP port=$ALFRED_PORT dbname=$DB
[pgbouncer]
listen_addr =
listen_port = $port
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 4
max_client_conn = 200
pidfile = $dir/pgbouncer.pid
logfile = $dir/pgbouncer.log
$extra
INI
	if [ "$(id -u)" = 0 ]; then chown -R postgres: "$BOUNCER_DIR"; fi
	as_pg pgbouncer -d -q "$dir/pgbouncer.ini"
	for _ in $(seq 1 50); do [ -f "$dir/pgbouncer.pid" ] && break; sleep 0.1; done
	bouncer_pids+=("$(cat "$dir/pgbouncer.pid")")
	for _ in $(seq 1 50); do
		env -u PGOPTIONS "$PGBIN/psql" -X -h "$dir" -p "$port" -U bouncer_app -d $DB -Atc "SELECT 1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# bq <port> <sql>: one psql client through the pgbouncer on port.
# (PgBouncer refuses the startup parameter "options", which worker_lib.bash sets.)
bq() { env -u PGOPTIONS "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$BOUNCER_DIR/$1" -p "$1" -U bouncer_app -d $DB -At -c "$2"; }

create_db $DB
qpg "DROP ROLE IF EXISTS bouncer_app" >/dev/null 2>&1 || true
psql_q -d $DB >/dev/null <<SQL
SET client_min_messages = warning;
SET alfred.password_cost = 4;
CREATE ROLE bouncer_app LOGIN;
SELECT alfred.grant_usage('bouncer_app');
-- The fixture: user n has n tasks; the test reads tokens from a table.
CREATE TABLE public.tokens (n int PRIMARY KEY, user_id uuid NOT NULL, token text NOT NULL);
INSERT INTO public.tokens
SELECT n, u.id, alfred.login(format('user%s@bouncer.test', n), 'bouncer password')
  FROM generate_series(1, $USERS) AS n,
	   LATERAL (SELECT alfred.create_user(format('user%s@bouncer.test', n), 'bouncer password') AS id) AS u;
INSERT INTO alfred.tasks (user_id, title)
SELECT t.user_id, format('task %s of user %s', i, t.n) FROM public.tokens t, generate_series(1, t.n) AS i;
-- What each transaction saw: its user's rows, other users' rows, its backend.
CREATE UNLOGGED TABLE public.seen (n int, expected uuid, identity uuid, own bigint, foreign_rows bigint, pid int);
CREATE UNLOGGED TABLE public.after (identity uuid, visible bigint, pid int);
GRANT SELECT ON public.tokens TO bouncer_app;
GRANT INSERT ON public.seen, public.after TO bouncer_app;
SQL

rc=0
start_bouncer $BOUNCER_PORT "" || rc=$?
ok $rc "pgbouncer $(pgbouncer --version | head -1 | cut -d' ' -f2) in transaction mode, pool of 4, on port $BOUNCER_PORT"

# The default scope, many clients and transactions.
cat >"$BOUNCER_DIR/default.sql" <<'SQL'
\set u random(1, 50)
SELECT token, user_id AS uid FROM public.tokens WHERE n = :u \gset
BEGIN;
SELECT alfred.set_session(:token);
INSERT INTO public.seen
SELECT :u::int, :uid::uuid, alfred.current_user_id(),
	   count(*) FILTER (WHERE t.user_id = :uid::uuid), count(*) FILTER (WHERE t.user_id <> :uid::uuid),
	   pg_backend_pid()
  FROM alfred.tasks t;
COMMIT;
INSERT INTO public.after SELECT alfred.current_user_id(), (SELECT count(*) FROM alfred.tasks), pg_backend_pid();
SQL
start=$SECONDS
rc=0
env -u PGOPTIONS "$PGBIN/pgbench" -n -M extended -h "$BOUNCER_DIR/$BOUNCER_PORT" -p $BOUNCER_PORT -U bouncer_app -c $CLIENTS -j 2 \
	-t "$PER_CLIENT" -f "$BOUNCER_DIR/default.sql" $DB >"$BOUNCER_DIR/pgbench.log" 2>&1 || rc=$?
ok $rc "pgbench: $CLIENTS clients x $PER_CLIENT requests (set_session + read, then a transaction without a token) in $((SECONDS - start)) s"
[ $rc = 0 ] || sed 's/^/# /' "$BOUNCER_DIR/pgbench.log" | tail -20
total=$((CLIENTS * PER_CLIENT))
is "$(q "SELECT count(*) || ' ' || count(DISTINCT n) FROM public.seen")" "$total $USERS" \
	"$total transactions with set_session(token) recorded what they saw, for all $USERS users"
is "$(q "SELECT count(*) FROM public.seen WHERE identity IS DISTINCT FROM expected OR own <> n OR foreign_rows <> 0")" 0 \
	"every one of them was its token's user and saw exactly that user's rows, none of another user"
is "$(q "SELECT count(*) || ' ' || count(*) FILTER (WHERE identity IS NULL AND visible = 0) FROM public.after")" "$total $total" \
	"every transaction without a token, on a connection another client had just used, had no identity and saw no row"
is "$(q "SELECT count(DISTINCT pid) <= 4 AND min(users) > 1 FROM (SELECT pid, count(DISTINCT n) AS users FROM public.seen GROUP BY pid) s")" t \
	"the clients really shared server connections: at most 4 backends, each serving several users"

# Session scope behind the transaction pooler: one server connection, so the
# second client is sure to get the connection the first one used.
token1=$(q "SELECT token FROM public.tokens WHERE n = 1")
uid1=$(q "SELECT user_id FROM public.tokens WHERE n = 1")
bq $BOUNCER_PORT "SELECT alfred.set_session('$token1', local => false)" >/dev/null
leaked=$(for i in 1 2 3 4 5 6 7 8; do bq $BOUNCER_PORT "SELECT alfred.current_user_id()"; done | grep -c "$uid1" || true)
ok $([ "$leaked" -gt 0 ]; echo $?) \
	"documented danger: set_session(token, local => false) through a transaction pooler leaves the identity on the server connection ($leaked of 8 later clients without a token were user 1)"

start_bouncer $RESET_PORT "server_reset_query_always = 1" || echo "# the second pgbouncer did not start"
bq $RESET_PORT "SELECT alfred.set_session('$token1', local => false)" >/dev/null
leaked=$(for i in 1 2 3 4 5 6 7 8; do bq $RESET_PORT "SELECT alfred.current_user_id()"; done | grep -c "$uid1" || true)
is "$leaked" 0 "with server_reset_query_always = 1 PgBouncer's DISCARD ALL clears a session identity after each transaction"

# An open session of a user who is then suspended (direct connection).
token2=$(q "SELECT token FROM public.tokens WHERE n = 2")
uid2=$(q "SELECT user_id FROM public.tokens WHERE n = 2")
out=$(psql_q -d $DB -At <<SQL
SET ROLE bouncer_app;
SELECT alfred.set_session('$token2', local => false) IS NOT NULL;
SELECT count(*) FROM alfred.tasks;
\! "$PGBIN/psql" -X -q -d $DB -c "UPDATE alfred.users SET status = 'suspended' WHERE id = '$uid2'"
SELECT count(*) FROM alfred.tasks;
SELECT count(*) FROM alfred.users;
SQL
)
is "$(echo $out)" "t 2 0 0" "a session of a user suspended by another session: 2 tasks before, no task and no account at its next statement"
q "UPDATE alfred.users SET status = 'active' WHERE id = '$uid2'" >/dev/null
