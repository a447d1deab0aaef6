#!/usr/bin/env bash
# The worker's per-user time budget: user A has 20 tasks whose tool takes
# 200 ms, all due at one instant; user B has one task due half a second
# later.  With alfred.user_time_budget (100 ms) A's tools take at most one run
# of each batch beyond the budget, so B's task starts within a few hundred
# ms; with the budget off it waits behind all of A's batch (4 s).  Every
# task runs exactly once either way.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/worker_lib.bash"
echo "1..6"

B=00000000-0000-0000-0000-0000000000b2

# A's 20 slow tasks due 2 s from now, B's task 0.5 s after them; waits for all.
slow_burst() {
	q "TRUNCATE public.ran, alfred.task_runs, alfred.notifications; DELETE FROM alfred.scheduled_tasks" >/dev/null
	q "INSERT INTO alfred.scheduled_tasks (user_id, name, task_type, scheduled_at, tool_name, tool_args, next_run_at)
	   SELECT u, n, 'one_time', due, 'count', args, due
		 FROM (SELECT date_trunc('second', now()) + interval '2 s' AS t0) x,
			  LATERAL (SELECT '00000000-0000-0000-0000-000000000001'::uuid, 'slow ' || i, t0,
							  jsonb_build_object('n', i, 'sleep', 0.2)
						 FROM generate_series(1, 20) i
					   UNION ALL
					   SELECT '$B'::uuid, 'quiet', t0 + interval '0.5 s', '{\"n\": 0}') AS b(u, n, due, args)" >/dev/null
	wait_for "SELECT count(*) = 0 FROM alfred.scheduled_tasks WHERE status = 'active'" 30
}

quiet_latency_ms() {
	q "SELECT round(extract(epoch FROM started_at - due_at) * 1000) FROM alfred.task_runs WHERE user_id = '$B'"
}

fresh_worker_db
q "INSERT INTO alfred.users (id, email, password_hash, display_name)
   VALUES ('$B', 'quiet@example.com', crypt('x', gen_salt('bf', 4)), 'Quiet')" >/dev/null
wait_for "SELECT state = 'idle' FROM alfred.worker_status" 15

slow_burst
with=$(quiet_latency_ms)
ok $([ -n "$with" ] && [ "$with" -lt 1500 ]; echo $?) "with the budget, B's task starts ${with:-?} ms after its time (< 1500) while A's slow tasks drain"
is "$(q "SELECT count(*) || ' ' || count(DISTINCT n) FROM public.ran")" "21 21" "every task ran exactly once"
is "$(q "SELECT count(*) FROM alfred.task_runs WHERE status = 'succeeded'")" 21 "and has one succeeded run"

qpg "ALTER SYSTEM SET alfred.user_time_budget = 0" >/dev/null
qpg "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
slow_burst
without=$(quiet_latency_ms)
ok $([ -n "$without" ] && [ "$without" -gt 2500 ]; echo $?) "without it, B's task waits behind A's batch: ${without:-?} ms (> 2500)"
is "$(q "SELECT count(*) || ' ' || count(DISTINCT n) FROM public.ran")" "21 21" "every task ran exactly once"
qpg "ALTER SYSTEM RESET alfred.user_time_budget" >/dev/null
qpg "SELECT pg_reload_conf()" >/dev/null
is "$(q "SELECT count(*) FROM alfred.scheduled_tasks WHERE status = 'completed'")" 21 "all tasks completed"
