#!/usr/bin/env bash
# The worker's own error net: an error that escapes a cycle (here: a table the
# tick reads is missing) is caught, counted and retried with a back-off, any
# number of times; the worker serves again as soon as the cause is gone, and a
# fast shutdown while it keeps failing ends it in bounded time.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/worker_lib.bash"
echo "1..8"

errors() { q "SELECT errors FROM alfred.worker_status"; }

fresh_worker_db
wait_for "SELECT state = 'idle' FROM alfred.worker_status" 15
q "SELECT alfred.schedule_task('00000000-0000-0000-0000-000000000001', 'after the outage', 'count',
		'{\"n\": 1}', cron => '* * * * *')" >/dev/null
q "UPDATE alfred.scheduled_tasks SET next_run_at = now() + interval '1 second'" >/dev/null

# every cycle now fails: the claim statements join alfred.tools
q "ALTER TABLE alfred.tools RENAME TO tools_away"
ok $(wait_for "SELECT errors >= 4 FROM alfred.worker_status" 20; echo $?) \
	"the worker catches one error after another (errors: $(errors))"
is "$(q "SELECT last_error FROM alfred.worker_status")" 'relation "alfred.tools" does not exist' \
	"worker_status shows the last error"
is "$(q "SELECT count(*) FROM public.ran")" 0 "nothing ran while the table was missing"
n=$(grep -c 'relation "alfred.tools" does not exist' "$ALFRED_LOG" || true)
sleep 3
m=$(grep -c 'relation "alfred.tools" does not exist' "$ALFRED_LOG" || true)
ok $([ $((m - n)) -ge 1 ] && [ $((m - n)) -le 4 ]; echo $?) \
	"the worker backs off while the error persists ($((m - n)) errors logged in 3 s)"

q "ALTER TABLE alfred.tools_away RENAME TO tools"
ok $(wait_for "SELECT count(*) >= 1 FROM public.ran" 10; echo $?) "tasks run again once the table is back"
ok $(wait_for "SELECT state = 'idle' FROM alfred.worker_status" 10; echo $?) "the worker is idle again"

# a fast shutdown while the worker keeps failing
q "ALTER TABLE alfred.tools RENAME TO tools_away"
before=$(errors)
q "UPDATE alfred.scheduled_tasks SET next_run_at = now()" >/dev/null	# wakes the worker
ok $(wait_for "SELECT errors >= $before + 2 FROM alfred.worker_status" 20; echo $?) "the worker fails again"
start=$(date +%s%N)
rc=0
as_pg timeout 30 "$PGBIN/pg_ctl" -D "$ALFRED_DATA" -m fast -w -t 25 stop >/dev/null 2>&1 || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
ok $([ "$rc" = 0 ] && [ "$ms" -lt 10000 ]; echo $?) "pg_ctl -m fast stop ends the failing worker in ${ms} ms (< 10 s)"
as_pg "$PGBIN/pg_ctl" -D "$ALFRED_DATA" -l "$ALFRED_LOG" -w -t 60 start >/dev/null
q "ALTER TABLE alfred.tools_away RENAME TO tools" || true
