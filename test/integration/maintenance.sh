# maintenance.sh: schedule_maintenance() keeps exactly one registration (a
# pg_cron job or an alfred task, never both), unschedule_maintenance() removes
# it, and DROP EXTENSION alfred removes the pg_cron job while every other DROP
# EXTENSION (another extension, a failed or a rolled-back drop, one by a
# non-superuser) leaves it exactly as it was.  Runs in the database pg_cron
# serves (postgres in the test cluster) and, for the quick start's case, in one
# it does not serve.  Prints TAP.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/worker_lib.bash"

echo "1..19"

jobs() { qpg "SELECT coalesce(string_agg(concat_ws('|', jobid, jobname, schedule, command, database, username, active), ',' ORDER BY jobid), '') FROM cron.job"; }
tasks() { qpg "SELECT coalesce(string_agg(schedule_cron || ' ' || status, ',' ORDER BY status, schedule_cron), '') FROM alfred.scheduled_tasks WHERE tool_name = 'run_maintenance'"; }

psql_q -d postgres -c "SET client_min_messages = warning" \
	-c "CREATE EXTENSION IF NOT EXISTS pg_cron" -c "CREATE EXTENSION alfred CASCADE" \
	-c "SET alfred.password_cost = 4" \
	-c "SELECT alfred.create_user('maint-root@example.com', 'root password', role => 'admin')" >/dev/null

# ---- exactly one registration ----
qpg "SELECT alfred.schedule_maintenance()" >/dev/null
qpg "SELECT alfred.schedule_maintenance(via => 'alfred')" >/dev/null
is "$(jobs)|$(tasks)" "|17 3 * * * active" "pg_cron, then alfred: only the alfred task remains"
qpg "SELECT alfred.schedule_maintenance('5 4 * * *', via => 'pg_cron')" >/dev/null
is "$(qpg "SELECT count(*) FROM cron.job")|$(tasks)" "1|17 3 * * * cancelled" \
	"alfred, then pg_cron: only the job remains, the task is cancelled"
qpg "SELECT alfred.schedule_maintenance('45 2 * * *')" >/dev/null
is "$(qpg "SELECT string_agg(concat_ws('|', jobname, schedule, command, database), ',') FROM cron.job")" \
	"alfred-maintenance|45 2 * * *|SELECT alfred.run_maintenance()|postgres" "pg_cron twice: one job, the later schedule"
is "$(qpg "SELECT alfred.unschedule_maintenance()")|$(jobs)" "1|" "unschedule_maintenance removes the job"
is "$(qpg "SELECT alfred.unschedule_maintenance()")" "0" "unschedule_maintenance with nothing registered removes nothing"

# ---- who may: neither function is granted to PUBLIC ----
qpg "CREATE ROLE regress_maint_app LOGIN; GRANT CREATE ON DATABASE postgres TO regress_maint_app" >/dev/null
qpg "SELECT alfred.grant_usage('regress_maint_app')" >/dev/null
for f in "schedule_maintenance()" "unschedule_maintenance()"; do
	out=$(psql_q -d postgres -U regress_maint_app -At -c "SELECT alfred.$f" 2>&1 || true)
	ok $([[ $out == *"permission denied for function"* ]]; echo $?) "an application role may not call $f: ${out%%$'\n'*}"
done

# ---- DROP EXTENSION of anything else leaves the job exactly as it was ----
qpg "SELECT alfred.schedule_maintenance('45 2 * * *')" >/dev/null
before=$(jobs)
qpg "CREATE EXTENSION pg_trgm; DROP EXTENSION pg_trgm" >/dev/null
is "$(jobs)" "$before" "DROP EXTENSION of another extension keeps the job (same jobid)"
qpg "DROP EXTENSION IF EXISTS no_such_extension" >/dev/null 2>&1
is "$(jobs)" "$before" "DROP EXTENSION IF EXISTS of a missing extension keeps the job"
out=$(psql_q -d postgres -At -c "DROP EXTENSION pgcrypto" 2>&1 || true)
ok $([[ $out == *"extension alfred requires it"* || $out == *"depends on"* ]]; echo $?) "a failing DROP EXTENSION fails: ${out%%$'\n'*}"
is "$(jobs)" "$before" "and keeps the job"
qpg "BEGIN; DROP EXTENSION alfred; ROLLBACK" >/dev/null
is "$(jobs)" "$before" "DROP EXTENSION alfred rolled back keeps the job"
out=$(psql_q -d postgres -U regress_maint_app -At -c "CREATE EXTENSION pg_trgm" -c "DROP EXTENSION pg_trgm" 2>&1 || true)
is "$out" "" "a non-superuser drops its own (trusted) extension without error"
is "$(jobs)" "$before" "and the job stays"

# ---- DROP EXTENSION alfred removes it ----
qpg "DROP EXTENSION alfred CASCADE" >/dev/null
is "$(jobs)" "" "DROP EXTENSION alfred removes the pg_cron job"
is "$(qpg "SELECT count(*) FROM pg_event_trigger")" "0" "and leaves no event trigger"
qpg "REVOKE CREATE ON DATABASE postgres FROM regress_maint_app; DROP ROLE regress_maint_app" >/dev/null

# ---- a database pg_cron does not serve (the quick start's): the alfred path ----
db=alfred_maint_other
create_db $db
qo() { psql_q -d $db -At -c "$1"; }
out=$(psql_q -d $db -At -c "SELECT alfred.schedule_maintenance()" 2>&1 || true)
ok $([[ $out == *"no active admin user"* && $out == *'pg_cron serves database "postgres"'* ]]; echo $?) \
	"without pg_cron here or an admin, the error names the database pg_cron serves: ${out//$'\n'/ }"
qo "SET alfred.password_cost = 4; SELECT alfred.create_user('other-root@example.com', 'root password', role => 'admin')" >/dev/null
out=$(qo "SELECT alfred.schedule_maintenance()")
ok $([[ $out =~ ^alfred\ scheduled\ task ]]; echo $?) "with an admin user it registers an alfred task: $out"
qo "SELECT alfred.schedule_maintenance('0 5 * * *')" >/dev/null
is "$(qo "SELECT string_agg(schedule_cron || ' ' || status, ',' ORDER BY status) FROM alfred.scheduled_tasks WHERE tool_name = 'run_maintenance'")" \
	"0 5 * * * active,17 3 * * * cancelled" "calling it again replaces the task"
qpg "DROP DATABASE $db" >/dev/null
qpg "DROP EXTENSION pg_cron" >/dev/null
