#!/usr/bin/env bash
# Exactly once under failure and concurrency: kill -9 the worker in the
# middle of draining a few thousand due tasks, then every task has run
# exactly once; with two workers no task runs twice.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/worker_lib.bash"
echo "1..8"
N=3000

# Counts runs per task: every task exactly once, each with one run row and one notification.
check_exactly_once() {	# check_exactly_once <label>
	is "$(q "SELECT count(*) || ' ' || count(DISTINCT n) FROM public.ran")" "$N $N" "$1: the tool ran $N times for $N distinct tasks"
	is "$(q "SELECT count(*) FILTER (WHERE status = 'completed') || ' ' || sum(run_count) FROM alfred.scheduled_tasks")" "$N $N" \
		"$1: every task completed with run_count 1"
	is "$(q "SELECT count(*) || ' ' || count(DISTINCT task_id) || ' ' || (SELECT count(*) FROM alfred.notifications) FROM alfred.task_runs")" \
		"$N $N $N" "$1: one run row and one notification per task"
}

fresh_worker_db
wait_for "SELECT state = 'idle' FROM alfred.worker_status" 15
schedule_many $N 1 '{"sleep": 0.0005}'
ok $(wait_for "SELECT count(*) >= 300 FROM public.ran" 20; echo $?) "the worker starts draining $N due tasks"
pid=$(worker_pids)
done_before=$(q "SELECT count(*) FROM public.ran")
kill -9 "$pid"
ok $([ "$done_before" -lt "$N" ]; echo $?) "kill -9 the worker (pid $pid) after $done_before of $N runs"
# the postmaster resets every backend after the crash; wait until it accepts connections again
for _ in $(seq 1 100); do qpg "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
wait_for "SELECT count(*) = $N FROM alfred.scheduled_tasks WHERE status = 'completed'" 60
check_exactly_once "after the crash"

# two workers
echo "alfred.workers = 2" >>"$ALFRED_DATA/postgresql.conf"
restart_cluster
fresh_worker_db
wait_for "SELECT count(*) = 2 FROM alfred.worker_status WHERE state = 'idle'" 20
schedule_many $N 1
wait_for "SELECT count(*) = $N FROM alfred.scheduled_tasks WHERE status = 'completed'" 60
check_exactly_once "two workers"
busy=$(q "SELECT count(*) FROM alfred.worker_status WHERE runs_done > 0")
echo "# workers that ran tasks: $busy of 2"
sed -i '/^alfred.workers = 2$/d' "$ALFRED_DATA/postgresql.conf"
restart_cluster
