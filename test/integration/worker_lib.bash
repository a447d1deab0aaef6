# worker_lib.bash: helpers shared by the scheduler worker's integration tests
# (sourced after test/lib.sh; not a test itself: test/run runs only *.sh, and
# this file only defines functions).

DB=$ALFRED_WORKER_DB
export PGOPTIONS="-c client_min_messages=warning"
n_test=0

ok() {	# ok <condition-exit-status> <name>
	n_test=$((n_test + 1))
	if [ "$1" = 0 ]; then echo "ok $n_test - $2"; else echo "not ok $n_test - $2"; fi
}

is() {	# is <got> <want> <name>
	n_test=$((n_test + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $n_test - $3"
	else
		echo "not ok $n_test - $3"
		echo "#          got: '$1'"
		echo "#     expected: '$2'"
	fi
}

q() { psql_q -d "$DB" -At -c "$1"; }
qpg() { psql_q -d postgres -At -c "$1"; }

# Waits until the query returns t, up to $2 seconds; returns 1 on timeout.
wait_for() {
	local sql=$1 timeout=${2:-30} start=$SECONDS
	while [ $((SECONDS - start)) -lt "$timeout" ]; do
		[ "$(q "$sql" 2>/dev/null)" = t ] && return 0
		sleep 0.1
	done
	return 1
}

worker_pids() { qpg "SELECT string_agg(pid::text, ' ' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = 'alfred scheduler'"; }

# A fresh worker database with alfred, a user and a counting tool.
fresh_worker_db() {
	qpg "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
	qpg "CREATE DATABASE $DB" >/dev/null
	psql_q -d "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION alfred CASCADE" >/dev/null
	psql_q -d "$DB" >/dev/null <<'SQL'
INSERT INTO alfred.users (id, email, password_hash, display_name)
VALUES ('00000000-0000-0000-0000-000000000001', 'ada@example.com', crypt('x', gen_salt('bf', 4)), 'Ada');
CREATE TABLE public.ran (n int, at timestamptz DEFAULT clock_timestamp());
CREATE FUNCTION public.count_tool(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE sql AS $$
	INSERT INTO public.ran (n) VALUES (($2->>'n')::int);
	SELECT CASE WHEN ($2->>'sleep') IS NOT NULL THEN (SELECT '{}'::jsonb FROM pg_sleep(($2->>'sleep')::float8))
				ELSE '{}'::jsonb END
$$;
SELECT alfred.register_tool('count', 'public.count_tool(uuid, jsonb)');
SQL
}

# Schedules n one-time tasks of the count tool, all due at the same instant
# ($2 seconds from now), in one transaction.
schedule_many() {
	local n=$1 ahead=${2:-1} args=${3:-'{}'}
	q "SELECT count(alfred.schedule_task('00000000-0000-0000-0000-000000000001', 'bulk ' || i, 'count',
			'$args'::jsonb || jsonb_build_object('n', i), at => t))
	   FROM generate_series(1, $n) i, (SELECT now() + interval '$ahead seconds' AS t) due" >/dev/null
}
