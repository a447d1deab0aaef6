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
#   fairness    one user's 20,000 one-time tasks due at one instant while a quiet
#               user has a task due every 100 ms for 20 s: the quiet user's p50/p99 firing
#               latency (start - due) during the drain and the burst's tasks/s,
#               with alfred.fair_claim off (the claim in next_run_at order, as
#               before) and on, in the same run; FAIR_ROUNDS (default 3) rounds
#   stale_stats 10,000 one-time tasks due at once drained after ANALYZE of a
#               near-empty scheduled_tasks, then after ANALYZE of the full burst:
#               tasks/s of each and the ratio stale / fresh; STALE_ROUNDS
#               (default 3) rounds
# Builds and installs alfred and starts its own throwaway cluster (stopped at
# the end).
. "$(dirname "$0")/../test/lib.sh"
. "$(dirname "$0")/../test/integration/worker_lib.bash"
cd "$ALFRED_SRC"

parts=${*:-throughput latency scale idle memory fairness stale_stats}

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

set_sighup() {	# set_sighup <setting> <value>: ALTER SYSTEM and reload
	qpg "ALTER SYSTEM SET $1 = '$2'" >/dev/null
	qpg "SELECT pg_reload_conf()" >/dev/null
	sleep 0.5
}

# One drain of a 20,000-task burst of user 1 while user 2 has a task due
# every 100 ms for 20 s, from the burst's instant (or, when the machine is so
# loaded that the burst's insert commits after that instant, from just after
# the commit: the quiet tasks are inserted then, in a few milliseconds).
# Throughput: from the due instant (or the commit) to the burst's last start.
fairness_round() {	# fairness_round <label>
	local n=20000 t0 visible
	q "TRUNCATE alfred.task_runs, alfred.notifications; DELETE FROM alfred.scheduled_tasks" >/dev/null
	t0=$(q "SELECT date_trunc('second', now()) + interval '4 s'")
	q "INSERT INTO alfred.scheduled_tasks (user_id, name, task_type, scheduled_at, tool_name, next_run_at)
	   SELECT '00000000-0000-0000-0000-000000000001', 'burst ' || i, 'one_time', '$t0', 'noop', '$t0'
		 FROM generate_series(1, $n) i" >/dev/null
	visible=$(q "SELECT greatest('$t0'::timestamptz, clock_timestamp() + interval '200 ms')")
	q "INSERT INTO alfred.scheduled_tasks (user_id, name, task_type, scheduled_at, tool_name, next_run_at)
	   SELECT '00000000-0000-0000-0000-000000000002', 'quiet ' || i, 'one_time', due, 'noop', due
		 FROM generate_series(0, 199) i, LATERAL (SELECT '$visible'::timestamptz + i * interval '100 ms' AS due) d" >/dev/null
	wait_for "SELECT count(*) = 0 FROM alfred.scheduled_tasks WHERE status = 'active'" 300
	q "WITH burst AS (SELECT max(started_at) AS last, count(*) AS n FROM alfred.task_runs
					   WHERE user_id = '00000000-0000-0000-0000-000000000001'),
			quiet AS (SELECT extract(epoch FROM r.started_at - r.due_at) * 1000 AS l FROM alfred.task_runs r, burst
					   WHERE r.user_id = '00000000-0000-0000-0000-000000000002' AND r.due_at <= burst.last)
	   SELECT '$1: burst ' || round(n / extract(epoch FROM last - '$visible'::timestamptz + interval '200 ms')) || ' tasks/s ('
			  || n || ' in ' || round(extract(epoch FROM last - '$visible'::timestamptz + interval '200 ms')::numeric, 2)
			  || ' s; insert lag ' || round(greatest(0, extract(epoch FROM '$visible'::timestamptz - interval '200 ms' - '$t0'))::numeric, 2)
			  || ' s); quiet user, ' || (SELECT count(*) FROM quiet) || ' tasks due during the drain: p50 '
			  || coalesce(round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY l) FROM quiet)::numeric, 1) || ' ms, p99 '
			  || round((SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY l) FROM quiet)::numeric, 1) || ' ms, max '
			  || round((SELECT max(l) FROM quiet)::numeric, 1) || ' ms', '-')
		 FROM burst"
}

bench_fairness() {
	local i
	bench_db
	q "INSERT INTO alfred.users (id, email, password_hash, display_name)
	   VALUES ('00000000-0000-0000-0000-000000000002', 'quiet@example.com', crypt('x', gen_salt('bf', 4)), 'Quiet')" >/dev/null
	for i in $(seq 1 "${FAIR_ROUNDS:-3}"); do
		set_sighup alfred.fair_claim off
		fairness_round "round $i, fair_claim off (before)"
		set_sighup alfred.fair_claim on
		fairness_round "round $i, fair_claim on  (after) "
	done
	qpg "ALTER SYSTEM RESET alfred.fair_claim" >/dev/null; qpg "SELECT pg_reload_conf()" >/dev/null
}

# tasks/s of a 10,000-task burst drained by the worker, due 3 s after the
# insert; stale: ANALYZE saw 5 rows, fresh: ANALYZE saw the burst
stale_round() {	# stale_round <stale|fresh>
	local n=10000
	q "TRUNCATE alfred.task_runs, alfred.notifications; DELETE FROM alfred.scheduled_tasks" >/dev/null
	if [ "$1" = stale ]; then
		insert_tasks 5 "'2100-01-01'::timestamptz"
		q "ANALYZE alfred.scheduled_tasks; ANALYZE alfred.task_runs; ANALYZE alfred.notifications" >/dev/null
		q "DELETE FROM alfred.scheduled_tasks" >/dev/null
		insert_tasks $n "(SELECT date_trunc('second', now()) + interval '3 s')"
	else
		insert_tasks $n "(SELECT date_trunc('second', now()) + interval '3 s')"
		q "ANALYZE alfred.scheduled_tasks; ANALYZE alfred.task_runs; ANALYZE alfred.notifications" >/dev/null
	fi
	wait_for "SELECT count(*) = 0 FROM alfred.scheduled_tasks WHERE status = 'active'" 300
	q "SELECT round($n / extract(epoch FROM max(started_at) - min(due_at))) FROM alfred.task_runs"
}

bench_stale_stats() {
	local i stale fresh
	bench_db
	q "ALTER TABLE alfred.scheduled_tasks SET (autovacuum_enabled = off);
	   ALTER TABLE alfred.task_runs SET (autovacuum_enabled = off);
	   ALTER TABLE alfred.notifications SET (autovacuum_enabled = off)" >/dev/null
	for i in $(seq 1 "${STALE_ROUNDS:-3}"); do
		stale=$(stale_round stale)
		fresh=$(stale_round fresh)
		echo "round $i: 10000 tasks due at once, statistics of 5 rows: $stale tasks/s; fresh statistics: $fresh tasks/s; ratio stale / fresh $(echo "scale=2; $stale / $fresh" | bc)"
	done
}

for p in $parts; do
	echo "== $p"
	"bench_$p"
done
