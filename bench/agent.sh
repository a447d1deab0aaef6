#!/usr/bin/env bash
# bench/agent.sh: runs completed per second through alfred-agent with a
# trivial command (cat: the run's JSON comes back as its result).
#
#   ALFRED_PGROOT=/tmp/pgroot-me ALFRED_PORT=55599 nice bench/agent.sh [N]
#
# Builds and installs alfred, starts its own throwaway cluster on
# ALFRED_PORT (stopped at the end) with the scheduler worker, has it queue N
# external runs (default 1000: N one-time tasks of tool "cat"), and drains
# them through the real agent API (claim_runs, complete_run: run row,
# notification, task counts):
#   baseline   one psql session doing what the agent does per run, without
#              a process: claim_runs(max 1), then complete_run (2 round trips)
#   agent -j1  alfred-agent, concurrency 1 (claim, fork/exec cat, report)
#   agent -j4  alfred-agent, concurrency 4
# and prints runs/s and each ratio to the baseline.  With AGENT_OTHER=PATH
# (another build of alfred-agent, e.g. one without the per-run shepherd) the
# same two agent runs are made with it too, in the same run of the script.
. "$(dirname "$0")/../test/lib.sh"
cd "$ALFRED_SRC"

N=${1:-1000}
DB=$ALFRED_WORKER_DB
B=$ALFRED_TMP/bench-agent
export PGOPTIONS="-c client_min_messages=warning"

build_and_install
start_cluster
trap stop_cluster EXIT
mkdir -p "$B"
create_db "$DB"
q() { "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
q "INSERT INTO alfred.users (id, email, password_hash) VALUES ('00000000-0000-0000-0000-0000000000b1', 'bench@example.com', crypt('x', gen_salt('bf', 4)))"
q "SELECT alfred.register_tool('cat', kind => 'external')" >/dev/null

# queue_runs: the worker queues N external runs; prints the time they all were
queue_runs() {
	q "DELETE FROM alfred.scheduled_tasks; DELETE FROM alfred.notifications"
	q "SELECT count(alfred.schedule_task('00000000-0000-0000-0000-0000000000b1', 'bench ' || i, 'cat',
			jsonb_build_object('i', i), at => now() + interval '1 s'))
	     FROM generate_series(1, $N) i" >/dev/null
	while [ "$(q "SELECT count(*) FROM alfred.task_runs WHERE status = 'queued'")" != "$N" ]; do
		sleep 0.2
	done
	q "SELECT extract(epoch FROM clock_timestamp())"
}

# finish T0: waits until every run succeeded, prints runs/s since T0
finish() {
	while [ "$(q "SELECT count(*) FROM alfred.task_runs WHERE status = 'succeeded'")" != "$N" ]; do
		sleep 0.2
	done
	q "SELECT round($N / (extract(epoch FROM max(finished_at)) - $1)) FROM alfred.task_runs"
}

for i in $(seq 1 "$N"); do
	echo "SELECT run_id, lease_token FROM alfred.claim_runs('baseline', NULL, 1, '5 minutes') \\gset"
	echo "SELECT alfred.complete_run(:'run_id', 'done', :'lease_token');"
done >"$B/baseline.sql"
t0=$(queue_runs)
psql_q -d $DB -f "$B/baseline.sql" >/dev/null
base=$(finish "$t0")

agent_rate() {	# agent_rate CONCURRENCY [BINARY]
	local pid t0 bin=${2:-$PGBIN/alfred-agent}
	cat >"$B/agent.conf" <<EOF
conninfo = host=$PGHOST port=$PGPORT user=postgres dbname=$DB
concurrency = $1
poll_interval = 100ms
[tool cat]
command = cat
EOF
	t0=$(queue_runs)
	"$bin" -c "$B/agent.conf" 2>"$B/agent-$1.log" &
	pid=$!
	finish "$t0"
	kill -TERM $pid
	wait $pid
}
j1=$(agent_rate 1)
j4=$(agent_rate 4)
if [ -n "${AGENT_OTHER:-}" ]; then
	o1=$(agent_rate 1 "$AGENT_OTHER")
	o4=$(agent_rate 4 "$AGENT_OTHER")
fi

printf '%-12s %10s %8s\n' "" "runs/s" "ratio"
printf '%-12s %10s %8s\n' baseline "$base" 1.00
printf '%-12s %10s %8s\n' "agent -j1" "$j1" "$(awk "BEGIN {printf \"%.2f\", $j1 / $base}")"
printf '%-12s %10s %8s\n' "agent -j4" "$j4" "$(awk "BEGIN {printf \"%.2f\", $j4 / $base}")"
if [ -n "${AGENT_OTHER:-}" ]; then
	printf '%-12s %10s %8s\n' "other -j1" "$o1" "$(awk "BEGIN {printf \"%.2f\", $o1 / $base}")"
	printf '%-12s %10s %8s\n' "other -j4" "$o4" "$(awk "BEGIN {printf \"%.2f\", $o4 / $base}")"
fi
