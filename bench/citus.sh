#!/usr/bin/env bash
# bench/citus.sh: alfred on Citus, measured against itself in the same run.
#
#   ALFRED_PGROOT=/tmp/pgroot-me ALFRED_PORT=55630 nice bench/citus.sh [parts]
#
# parts (default: all of them):
#   requests    the per-request cost of typical API calls through a Citus
#               coordinator against a single node (bench/citus_requests.sh;
#               SECONDS per round from REQUEST_SECONDS, default 10)
#   scheduler   scheduler throughput: TASKS one-time tasks (default 6,000, of 300
#               users) with a trivial sql tool (run + notification each) made due at
#               one instant by one UPDATE, drained by the background workers
#               (alfred.workers = 1 per node): tasks/s from the due time to the last
#               run's end, on a single node without Citus, then on a Citus cluster
#               with 1 and with 3 worker nodes (each worker node serves the shards
#               placed on it; the coordinator holds none); ROUNDS (default 2) rounds
#               each, the best kept, and the ratios to the 1-worker cluster
# Builds and installs alfred; starts its own clusters (stopped at the end).
. "$(dirname "$0")/../test/lib.sh"
. "$(dirname "$0")/../test/citus/lib.sh"
. "$(dirname "$0")/../test/citus/scheduler_lib.bash"
cd "$ALFRED_SRC"

parts=${*:-requests scheduler}
TASKS=${TASKS:-6000}
ROUNDS=${ROUNDS:-2}

build_and_install >/dev/null
citus_ensure_installed
trap 'citus_stop; stop_cluster' EXIT

# The workload, through the psql command given as arguments: users, a no-op
# tool, TASKS tasks far in the future.
scheduler_fixture() {
	"$@" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE FUNCTION public.noop(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE sql AS \$\$ SELECT '{}'::jsonb \$\$;
SELECT alfred.register_tool('noop', 'public.noop(uuid, jsonb)');
INSERT INTO alfred.users (email, password_hash)
SELECT 'bench' || i || '@example.com', '\$2a\$04\$xxxxxxxxxxxxxxxxxxxxxx' FROM generate_series(1, 300) i;
SQL
}

# One round: TASKS tasks made due at one instant; prints tasks/s.
scheduler_round() {
	"$@" -c "SET client_min_messages = warning" -c "DELETE FROM alfred.task_runs" \
		-c "DELETE FROM alfred.notifications" -c "DELETE FROM alfred.scheduled_tasks" >/dev/null
	"$@" -c "SET client_min_messages = warning" -c "
		INSERT INTO alfred.scheduled_tasks (user_id, name, task_type, scheduled_at, tool_name, next_run_at)
		SELECT u.id, 'bench ' || g, 'one_time', '2100-01-01', 'noop', '2100-01-01'
		  FROM alfred.users u, generate_series(1, $TASKS / 300) g" >/dev/null
	local due
	due=$("$@" -At -c "UPDATE alfred.scheduled_tasks SET next_run_at = now() + interval '1 s' RETURNING next_run_at" | head -1)
	local start=$SECONDS
	while [ "$("$@" -At -c "SELECT count(*) FROM alfred.task_runs")" -lt "$TASKS" ]; do
		sleep 0.2
		[ $((SECONDS - start)) -gt 600 ] && { echo "timeout" >&2; return 1; }
	done
	"$@" -At -c "SELECT round(count(*) / extract(epoch FROM max(finished_at) - '$due'::timestamptz))
				  FROM alfred.task_runs"
}

best_of() {	# best_of <psql command...>: the best of ROUNDS rounds
	local best=0 r t
	for ((r = 1; r <= ROUNDS; r++)); do
		t=$(scheduler_round "$@")
		echo "#   round $r: $t tasks/s" >&2
		[ "${t:-0}" -gt "$best" ] && best=$t
	done
	echo "$best"
}

single_psql() { psql_q -d "$ALFRED_WORKER_DB" "$@"; }
coordinator_psql() { citus_psql 0 "$@"; }

if [[ " $parts " == *" requests "* ]]; then
	bash "$ALFRED_SRC/bench/citus_requests.sh" "${REQUEST_SECONDS:-10}"
fi

if [[ " $parts " == *" scheduler "* ]]; then
	log "scheduler throughput: $TASKS tasks, single node"
	start_cluster >/dev/null
	psql_q -d postgres -c "CREATE DATABASE $ALFRED_WORKER_DB" >/dev/null
	psql_q -d "$ALFRED_WORKER_DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION alfred CASCADE" >/dev/null
	scheduler_fixture single_psql
	single=$(best_of single_psql)
	stop_cluster
	declare -A cluster
	for n in 1 3; do
		log "scheduler throughput: $TASKS tasks, Citus with $n worker node(s)"
		citus_start "$n"
		citus_alfred_distribute
		scheduler_fixture coordinator_psql
		cluster[$n]=$(best_of coordinator_psql)
		citus_stop
	done
	echo "scheduler throughput ($TASKS one-time tasks of 300 users, trivial sql tool, one worker per node, best of $ROUNDS):"
	printf '  %-36s %6s tasks/s\n' "single node, no Citus" "$single" \
		"Citus, coordinator + 1 worker node" "${cluster[1]}" "Citus, coordinator + 3 worker nodes" "${cluster[3]}"
	awk -v s="$single" -v a="${cluster[1]}" -v b="${cluster[3]}" \
		'BEGIN { printf "  3 worker nodes / 1 worker node: %.2f   1 worker node / single node: %.2f\n", b / a, a / s }'
fi
