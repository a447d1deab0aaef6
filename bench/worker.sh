#!/usr/bin/env bash
# bench/worker.sh: the scheduler worker against its targets, and pg_cron 1.4
# side by side in the same cluster.
#
#   ALFRED_PGROOT=/tmp/pgroot-me ALFRED_PORT=55599 nice bench/worker.sh [parts]
#
# parts (default: all of them, about 8 minutes):
#   throughput  10,000 one-time tasks due at the same instant, trivial sql tool
#               (run + notification each): tasks/s from the due time to the
#               last start; then pg_cron executing 1,000 jobs due the same
#               minute (select 1): jobs/s, and the ratio
#   latency     500 tasks due every 20 ms: p50/p99 of start - due
#   scale       one tick (run_due_tasks, 100 due) with 10k, 100k and 1M active
#               tasks: ms per tick, and the ratio to the 10k tick
#   idle        CPU time of the worker over 60 s with nothing due
#   memory      worker RssAnon every 15 s over MEMORY_MINUTES (default 3) minutes
#               of 300 tasks/s
# Builds and installs alfred and starts its own throwaway cluster (stopped at
# the end).
. "$(dirname "$0")/../test/lib.sh"
. "$(dirname "$0")/../test/integration/worker_lib.bash"
cd "$ALFRED_SRC"

parts=${*:-throughput latency scale idle memory}

build_and_install
start_cluster "cron.host = '$ALFRED_TMP'" "cron.max_running_jobs = 32" "log_min_messages = warning"
trap stop_cluster EXIT

worker_pid() { worker_pids | awk '{print $1}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# A fresh worker database whose tools do nothing but return: noop in
# PL/pgSQL (plans cached across calls) and noop_sql in LANGUAGE sql (which
# PostgreSQL 15 parses and plans again in every subtransaction).
bench_db() {
	fresh_worker_db
	q "CREATE FUNCTION public.noop(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE plpgsql AS \$\$ BEGIN RETURN '{}'; END \$\$;
	   CREATE FUNCTION public.noop_sql(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE sql AS \$\$ SELECT '{}'::jsonb \$\$;
	   SELECT alfred.register_tool('noop', 'public.noop(uuid, jsonb)');
	   SELECT alfred.register_tool('noop_sql', 'public.noop_sql(uuid, jsonb)')" >/dev/null
	wait_for "SELECT state = 'idle' FROM alfred.worker_status" 20
}

# Inserts n tasks of tool noop directly (fast), next_run_at given by an SQL expression of i.
insert_tasks() {	# insert_tasks <n> <next_run_at expression of i> [cron] [tool]
	local cron=${3:-} tool=${4:-noop}
	q "INSERT INTO alfred.scheduled_tasks (user_id, name, task_type, schedule_cron, scheduled_at, tool_name, next_run_at)
	   SELECT '00000000-0000-0000-0000-000000000001', 'bench ' || i,
			  CASE WHEN '$cron' = '' THEN 'one_time' ELSE 'recurring' END, nullif('$cron', ''),
			  CASE WHEN '$cron' = '' THEN $2 END, '$tool', $2
		 FROM generate_series(1, $1) i" >/dev/null
}

# tasks/s of n one-time tasks of tool due at the same instant, from due to
# last start (wall clock, so it depends on what else the machine runs), and
# per second of the worker's own CPU time
throughput_of() {	# throughput_of <n> <tool>
	local pid cpu0 cpu1
	q "TRUNCATE alfred.task_runs, alfred.notifications" >/dev/null
	pid=$(worker_pid)
	insert_tasks "$1" "(SELECT date_trunc('second', now()) + interval '3 s')" "" "$2"
	cpu0=$(cpu_ticks "$pid")
	wait_for "SELECT count(*) = 0 FROM alfred.scheduled_tasks WHERE status = 'active'" 180
	cpu1=$(cpu_ticks "$pid")
	echo "$(q "SELECT round($1 / extract(epoch FROM max(started_at) - min(due_at))) FROM alfred.task_runs") tasks/s" \
		"($(( $1 * $(getconf CLK_TCK) / (cpu1 - cpu0 > 0 ? cpu1 - cpu0 : 1) )) per CPU-second of the worker)"
}

bench_throughput() {
	local n=10000 rate rate_sql rate_big cron_rate
	bench_db
	rate=$(throughput_of $n noop)
	echo "alfred: $n tasks due at once, $rate (PL/pgSQL noop tool; run + notification each; batch_size 100)"
	rate_sql=$(throughput_of $n noop_sql)
	echo "alfred: $n tasks due at once, $rate_sql (LANGUAGE sql noop tool)"
	qpg "ALTER SYSTEM SET alfred.batch_size = 1000" >/dev/null; qpg "SELECT pg_reload_conf()" >/dev/null
	rate_big=$(throughput_of $n noop)
	qpg "ALTER SYSTEM RESET alfred.batch_size" >/dev/null; qpg "SELECT pg_reload_conf()" >/dev/null
	echo "alfred: $n tasks due at once, $rate_big (PL/pgSQL noop tool, batch_size 1000)"

	psql_q -d postgres -c "CREATE EXTENSION IF NOT EXISTS pg_cron" >/dev/null
	psql_q -d postgres -c "SELECT count(cron.schedule('bench' || i, '* * * * *', 'select 1')) FROM generate_series(1, 1000) i" >/dev/null
	local start=$SECONDS
	until [ "$(qpg "SELECT count(*) >= 1000 FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')")" = t ]; do
		sleep 1
		[ $((SECONDS - start)) -gt 180 ] && break
	done
	psql_q -d postgres -c "SELECT count(cron.unschedule(jobid)) FROM cron.job" >/dev/null
	cron_rate=$(qpg "SELECT round(count(*) / extract(epoch FROM max(end_time) - date_trunc('minute', min(start_time)))::numeric, 1)
					 FROM cron.job_run_details WHERE status = 'succeeded'")
	echo "pg_cron 1.4: 1000 jobs due the same minute, $cron_rate jobs/s ($(qpg "SELECT count(*) FROM cron.job_run_details WHERE status = 'succeeded'") succeeded)"
	echo "ratio alfred / pg_cron (wall clock, PL/pgSQL tool, batch_size 100): $(echo "scale=1; ${rate%% *} / $cron_rate" | bc)"
}

bench_latency() {
	bench_db
	insert_tasks 500 "(SELECT now() + interval '2 s') + i * interval '20 ms'"
	wait_for "SELECT count(*) = 500 FROM alfred.scheduled_tasks WHERE status = 'completed'" 60
	q "SELECT 'firing latency (start - due), 500 tasks due every 20 ms: p50 '
			  || round((percentile_cont(0.5) WITHIN GROUP (ORDER BY l))::numeric, 2) || ' ms, p99 '
			  || round((percentile_cont(0.99) WITHIN GROUP (ORDER BY l))::numeric, 2) || ' ms, max '
			  || round(max(l)::numeric, 2) || ' ms'
		 FROM (SELECT extract(epoch FROM started_at - due_at) * 1000 AS l FROM alfred.task_runs) x"
}

# ms of one tick that runs the 100 due tasks (rolled back each time), in one
# session after a warm-up tick: median of 5
tick_ms() {
	local args=(-c '\timing on') i
	for i in 0 1 2 3 4 5; do
		args+=(-c "BEGIN" -c "SELECT alfred.run_due_tasks('2000-01-02')" -c "ROLLBACK")
	done
	psql_q -d "$DB" "${args[@]}" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' |
		awk 'NR % 3 == 2' | tail -5 | sort -n | sed -n 3p
}

bench_scale() {
	local total=0 base=""
	bench_db
	qpg "ALTER SYSTEM SET alfred.enabled = off" >/dev/null; qpg "SELECT pg_reload_conf()" >/dev/null
	insert_tasks 100 "'2000-01-01'::timestamptz"
	for n in 10000 100000 1000000; do
		insert_tasks $((n - total)) "'2100-01-01'::timestamptz + i * interval '1 s'"
		total=$n
		q "VACUUM ANALYZE alfred.scheduled_tasks" >/dev/null
		ms=$(tick_ms)
		[ -z "$base" ] && base=$ms
		echo "tick with $n active tasks, 100 due: $ms ms (ratio to 10k: $(echo "scale=2; $ms / $base" | bc))"
	done
	qpg "ALTER SYSTEM RESET alfred.enabled" >/dev/null; qpg "SELECT pg_reload_conf()" >/dev/null
}

bench_idle() {
	local pid before after
	bench_db
	insert_tasks 1000 "'2100-01-01'::timestamptz + i * interval '1 s'"
	sleep 2
	pid=$(worker_pid)
	before=$(cpu_ticks "$pid")
	sleep 60
	after=$(cpu_ticks "$pid")
	echo "idle worker over 60 s: $((after - before)) CPU ticks of 1/$(getconf CLK_TCK) s, ticks done: $(q "SELECT ticks FROM alfred.worker_status")"
}

bench_memory() {
	local pid i
	bench_db
	insert_tasks 300 "now()" "1 seconds"
	pid=$(worker_pid)
	local samples=$((${MEMORY_MINUTES:-3} * 4))
	for i in $(seq 0 "$samples"); do
		echo "memory at $((i * 15)) s: RssAnon $(awk '/RssAnon/ {print $2, $3}' "/proc/$pid/status"), runs $(q "SELECT runs_done FROM alfred.worker_status")"
		[ "$i" = "$samples" ] || sleep 15
	done
}

for p in $parts; do
	echo "== $p"
	"bench_$p"
done
