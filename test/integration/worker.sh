#!/usr/bin/env bash
# The scheduler worker by itself: waits quietly for its database, picks up
# work without anyone calling the tick, wakes at once when a task is
# scheduled, reloads settings on SIGHUP and exits promptly on SIGTERM.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/worker_lib.bash"
echo "1..15"

qpg "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
sleep 1.5
pids=$(worker_pids)
ok $([ -n "$pids" ]; echo $?) "a worker runs while alfred.database does not exist (pid $pids)"
log_before=$(grep -c "alfred scheduler.*FATAL\|database \"$DB\" does not exist" "$ALFRED_LOG" || true)
sleep 2.5
log_after=$(grep -c "alfred scheduler.*FATAL\|database \"$DB\" does not exist" "$ALFRED_LOG" || true)
is "$((log_after - log_before))" 0 "it waits quietly: no FATAL in the log"
is "$(worker_pids)" "$pids" "and is not restarted while it waits"

fresh_worker_db
ok $(wait_for "SELECT state = 'idle' FROM alfred.worker_status" 15; echo $?) "it connects once the database and the extension exist"

# picks up work by itself
q "SELECT alfred.schedule_task('00000000-0000-0000-0000-000000000001', 'once', 'count', '{\"n\": 1}', at => now() + interval '0.5 s')" >/dev/null
ok $(wait_for "SELECT status = 'completed' FROM alfred.scheduled_tasks WHERE name = 'once'" 10; echo $?) "a one-time task runs without calling the tick"
is "$(q "SELECT count(*) || ' ' || min(r.status) || ' ' || count(r.notification_id) FROM alfred.task_runs r")" "1 succeeded 1" "one run, succeeded, with its notification"

# latch wake-up: the worker sleeps up to max_naptime (60 s) but a task 1 s ahead runs on time
q "SELECT pg_sleep(0.2)" >/dev/null
q "SELECT alfred.schedule_task('00000000-0000-0000-0000-000000000001', 'soon', 'count', '{\"n\": 2}', at => now() + interval '1 s')" >/dev/null
wait_for "SELECT status = 'completed' FROM alfred.scheduled_tasks WHERE name = 'soon'" 5
late=$(q "SELECT round(extract(epoch FROM r.started_at - r.due_at) * 1000) FROM alfred.task_runs r JOIN alfred.scheduled_tasks s ON s.id = r.task_id WHERE s.name = 'soon'")
ok $([ -n "$late" ] && [ "$late" -ge 0 ] && [ "$late" -lt 100 ]; echo $?) "a task scheduled 1 s ahead starts within 100 ms of due (${late} ms)"

# LISTEN: a run's notification and a queued external run are announced at commit
q "SELECT alfred.register_tool('ext', kind => 'external')" >/dev/null
listen_out=$ALFRED_TMP/worker-listen.out
psql_q -d "$DB" -c "LISTEN alfred_notifications" -c "LISTEN alfred_runs" -c "SELECT pg_sleep(3)" >"$listen_out" 2>&1 &
listener=$!
sleep 0.5
q "SELECT alfred.schedule_task('00000000-0000-0000-0000-000000000001', 'heard', 'count', '{\"n\": 4}', at => now() + interval '0.5 s'),
		  alfred.schedule_task('00000000-0000-0000-0000-000000000001', 'queued', 'ext', at => now() + interval '0.5 s')" >/dev/null
wait "$listener"
note=$(q "SELECT n.id FROM alfred.notifications n JOIN alfred.task_runs r ON r.notification_id = n.id JOIN alfred.scheduled_tasks s ON s.id = r.task_id WHERE s.name = 'heard'")
want="\"alfred_notifications\" with payload \"{\"user_id\":\"00000000-0000-0000-0000-000000000001\",\"notification_id\":\"$note\"}\""
ok $(grep -qF "$want" "$listen_out"; echo $?) "NOTIFY alfred_notifications carries the user and the notification"
run=$(q "SELECT r.id FROM alfred.task_runs r JOIN alfred.scheduled_tasks s ON s.id = r.task_id WHERE s.name = 'queued'")
ok $(grep -qF "\"alfred_runs\" with payload \"$run\"" "$listen_out"; echo $?) "NOTIFY alfred_runs carries the queued run's id"

# SIGHUP: settings reload without a restart
pid=$(worker_pids)
qpg "ALTER SYSTEM SET alfred.enabled = off" >/dev/null
qpg "SELECT pg_reload_conf()" >/dev/null
ok $(wait_for "SELECT state = 'disabled' FROM alfred.worker_status" 5; echo $?) "alfred.enabled = off on reload disables it"
q "SELECT alfred.schedule_task('00000000-0000-0000-0000-000000000001', 'held', 'count', '{\"n\": 3}', at => now() + interval '0.2 s')" >/dev/null
sleep 1
is "$(q "SELECT count(*) FROM public.ran WHERE n = 3")" 0 "a disabled worker runs nothing"
qpg "ALTER SYSTEM RESET alfred.enabled" >/dev/null
qpg "SELECT pg_reload_conf()" >/dev/null
ok $(wait_for "SELECT count(*) = 1 FROM public.ran WHERE n = 3" 5; echo $?) "re-enabled, it runs what fell due"
is "$(worker_pids)" "$pid" "same process throughout (no restart)"

# SIGTERM: prompt exit (status 1, so the postmaster starts it again)
start=$(date +%s%N)
qpg "SELECT pg_terminate_backend($pid)" >/dev/null
while kill -0 "$pid" 2>/dev/null || [ -n "$(qpg "SELECT 1 FROM pg_stat_activity WHERE pid = $pid")" ]; do
	sleep 0.01
	[ $(( ($(date +%s%N) - start) / 1000000 )) -gt 5000 ] && break
done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
ok $([ "$ms" -lt 1000 ]; echo $?) "SIGTERM: the worker exits within 1 s (${ms} ms)"
ok $(wait_for "SELECT state = 'idle' AND pid <> $pid FROM alfred.worker_status" 15; echo $?) "and the postmaster restarts it"
