# operations.sh: maintenance registered with pg_cron (in the database pg_cron
# serves) and run by alfred's own worker; health() seeing the live worker.
# Prints TAP.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/worker_lib.bash"

echo "1..9"

# ---- pg_cron: only in cron.database_name (postgres in the test cluster) ----
psql_q -d postgres -c "SET client_min_messages = warning" \
	-c "CREATE EXTENSION IF NOT EXISTS pg_cron" -c "CREATE EXTENSION alfred CASCADE" >/dev/null
out=$(qpg "SELECT alfred.schedule_maintenance()")
ok $([[ $out =~ ^pg_cron\ job\ [0-9]+\ \"alfred-maintenance\" ]]; echo $?) "schedule_maintenance picks pg_cron when installed: $out"
qpg "SELECT alfred.schedule_maintenance('45 2 * * *')" >/dev/null
is "$(qpg "SELECT string_agg(concat_ws('|', jobname, schedule, command, database), ',') FROM cron.job")" \
	"alfred-maintenance|45 2 * * *|SELECT alfred.run_maintenance()|postgres" \
	"registering again replaces the one job"
is "$(qpg "SELECT (alfred.run_maintenance() ? 'removed')::text")" "true" "the job's command runs"
psql_q -d postgres -c "SELECT cron.unschedule('alfred-maintenance')" \
	-c "DROP EXTENSION alfred CASCADE" -c "DROP EXTENSION pg_cron" >/dev/null

# ---- alfred's own scheduler runs maintenance as an admin's task ----
fresh_worker_db
wait_for "SELECT count(*) > 0 FROM alfred.worker_status WHERE state IN ('idle', 'running')" 30
ok $? "the worker is up in $DB"
q "UPDATE alfred.users SET role = 'admin' WHERE id = '00000000-0000-0000-0000-000000000001'" >/dev/null
out=$(q "SELECT alfred.schedule_maintenance()")
ok $([[ $out =~ ^alfred\ scheduled\ task ]]; echo $?) "without pg_cron, alfred's scheduler: $out"
q "SELECT alfred.run_task_now(id) FROM alfred.scheduled_tasks WHERE tool_name = 'run_maintenance'" >/dev/null
wait_for "SELECT EXISTS (SELECT 1 FROM alfred.task_runs r JOIN alfred.scheduled_tasks t ON t.id = r.task_id
                          WHERE t.tool_name = 'run_maintenance' AND r.status = 'succeeded')" 30
ok $? "the worker ran run_maintenance"
is "$(q "SELECT n.title FROM alfred.notifications n JOIN alfred.task_runs r ON r.notification_id = n.id
          JOIN alfred.scheduled_tasks t ON t.id = r.task_id WHERE t.tool_name = 'run_maintenance'")" \
	"Maintenance" "its run notified the admin"

# ---- health() sees the live worker ----
is "$(q "SELECT (alfred.health()->>'worker_alive')")" "true" "health() reports the worker alive"
is "$(q "SELECT (alfred.health()->'table_bytes') ? 'scheduled_tasks'")" "t" "health() reports table sizes"

# Leave no worker database behind: worker.sh starts from a cluster without one.
qpg "DROP DATABASE $DB WITH (FORCE)" >/dev/null
# The worker connected to it was terminated; wait until the postmaster has
# restarted it, waiting for its database again.
for _ in $(seq 1 300); do [ -n "$(worker_pids)" ] && break; sleep 0.1; done
