#!/usr/bin/env bash
# bench/agent.sh: runs completed per second through alfred-agent with a
# trivial command (cat: the run's JSON comes back as its result).
#
#   ALFRED_PGROOT=/tmp/pgroot-me ALFRED_PORT=55599 nice bench/agent.sh [N]
#
# Builds and installs alfred, starts its own throwaway cluster on
# ALFRED_PORT (stopped at the end), queues N runs (default 2000) in the
# stand-in queue of test/integration/fixtures/agent_standin.sql (the same
# claim_runs/complete_run contract, without the scheduler's bookkeeping, so
# this measures the agent), and drains them:
#   baseline   one psql session doing what the agent does per run, without
#              a process: claim_runs(max 1), then complete_run (2 round trips)
#   agent -j1  alfred-agent, concurrency 1 (claim, fork/exec, report)
#   agent -j4  alfred-agent, concurrency 4
# and prints runs/s and each ratio to the baseline.
. "$(dirname "$0")/../test/lib.sh"
cd "$ALFRED_SRC"

N=${1:-2000}
DB=agent_bench
B=$ALFRED_TMP/bench-agent

build_and_install
start_cluster
trap stop_cluster EXIT
mkdir -p "$B"
psql_q -d postgres -c "CREATE DATABASE $DB" >/dev/null
psql_q -d $DB -f test/integration/fixtures/agent_standin.sql >/dev/null
q() { "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 -d $DB -c "$1"; }

# queue_runs: N queued runs of tool "cat", without notifications
queue_runs() {
	q "TRUNCATE alfred.standin_runs" >/dev/null
	q "SET session_replication_role = replica;
	   INSERT INTO alfred.standin_runs (tool_name, tool_args, prompt, created_at)
	   SELECT 'cat', jsonb_build_object('i', i), 'prompt ' || i, clock_timestamp()
	     FROM generate_series(1, $N) i" >/dev/null
	q "SELECT extract(epoch FROM clock_timestamp())"
}

# finish T0 LABEL: waits until every run succeeded, prints runs/s since T0
finish() {
	while [ "$(q "SELECT count(*) FROM alfred.standin_runs WHERE status = 'succeeded'")" != "$N" ]; do
		sleep 0.2
	done
	q "SELECT round($N / (extract(epoch FROM max(finished_at)) - $1)) FROM alfred.standin_runs"
}

for i in $(seq 1 "$N"); do
	echo "SELECT run_id FROM alfred.claim_runs('baseline', NULL, 1, '5 minutes') \\gset"
	echo "SELECT alfred.complete_run(:'run_id', 'done');"
done >"$B/baseline.sql"
t0=$(queue_runs)
psql_q -d $DB -f "$B/baseline.sql" >/dev/null
base=$(finish "$t0")

agent_rate() {	# agent_rate CONCURRENCY
	local pid t0
	cat >"$B/agent.conf" <<EOF
conninfo = host=$PGHOST port=$PGPORT user=postgres dbname=$DB
concurrency = $1
poll_interval = 100ms
[tool cat]
command = cat
EOF
	t0=$(queue_runs)
	"$PGBIN/alfred-agent" -c "$B/agent.conf" 2>"$B/agent-$1.log" &
	pid=$!
	finish "$t0"
	kill -TERM $pid
	wait $pid
}
j1=$(agent_rate 1)
j4=$(agent_rate 4)

printf '%-12s %10s %8s\n' "" "runs/s" "ratio"
printf '%-12s %10s %8s\n' baseline "$base" 1.00
printf '%-12s %10s %8s\n' "agent -j1" "$j1" "$(awk "BEGIN {printf \"%.2f\", $j1 / $base}")"
printf '%-12s %10s %8s\n' "agent -j4" "$j4" "$(awk "BEGIN {printf \"%.2f\", $j4 / $base}")"
