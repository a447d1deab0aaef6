# agent.sh: end to end with the real scheduler worker and a real
# alfred-agent process.  A scheduled `external` task runs the shipped
# get_weather example (README, "Connecting an external tool"); its result
# lands in task_runs and in the notification.  Killing the agent with -9
# mid-run: the run is re-claimed after its lease and completed once.
# Prints TAP.
. "$(dirname "$0")/fixtures/agent_lib.sh"

DB=$ALFRED_WORKER_DB
export PGOPTIONS="-c client_min_messages=warning"
q() { "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
ADA=00000000-0000-0000-0000-00000000ada0

psql_q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
psql_q -d "$DB" -c "CREATE EXTENSION alfred CASCADE" >/dev/null
q "INSERT INTO alfred.users (id, email, password_hash, display_name, timezone)
   VALUES ('$ADA', 'ada@example.com', crypt('x', gen_salt('bf', 4)), 'Ada', 'Europe/Zurich')"
q "SELECT alfred.register_tool('get_weather', kind => 'external', description => 'Weather forecast for a city')" >/dev/null
q "SELECT alfred.register_tool('echo_run', kind => 'external')" >/dev/null
q "SELECT alfred.register_tool('slow', kind => 'external')" >/dev/null
# schedule NAME TOOL ARGS [PROMPT]: a one-time task due in 0.5 s, prints its id
schedule() {
	q "SELECT alfred.schedule_task('$ADA', '$1', '$2', '$3', at => now() + interval '0.5 s',
								   prompt_template => '${4:-}')"
}
run_of() { q "SELECT concat_ws('|', r.status, r.attempt, r.claimed_by) FROM alfred.task_runs r WHERE r.task_id = '$1'"; }

echo "1..14"

tool echo_run <<'EOF'
cat
EOF
tool slow <<EOF
echo \$ALFRED_ATTEMPT >>"$W/slow.attempts"
[ "\$ALFRED_ATTEMPT" = 1 ] && exec sleep 30
echo '{"title": "slow done"}'
EOF
cat >"$W/agent.conf" <<EOF
conninfo = host=$PGHOST port=$PGPORT user=postgres dbname=$DB
name = agent-1
poll_interval = 30s
lease = 30s
[tool get_weather]
command = $ALFRED_SRC/agent/examples/get_weather
permanent_exit_codes = 2
[tool echo_run]
command = $W/echo_run
EOF
start_agent a1 "$W/agent.conf"
wait_log a1 'event=connected' 10

# ---- the README's example, through the real worker ----
task=$(schedule 'Morning weather' get_weather '{"city": "Zürich"}' 'Weather for {{user.name}} in {{args.city}}?')
wait_sql "SELECT status FROM alfred.scheduled_tasks WHERE id = '$task'" completed 15
is "$(run_of "$task")" "succeeded|1|agent-1" "the worker queued the external run, the agent ran it (NOTIFY: long before its 30 s poll)"
is "$(q "SELECT result::jsonb ->> 'message' FROM alfred.task_runs WHERE task_id = '$task'")" "sunny, 21 °C" \
	"get_weather's stdout is the run's result"
is "$(q "SELECT concat_ws('|', n.title, n.message, n.priority) FROM alfred.task_runs r
		 JOIN alfred.notifications n ON n.user_id = r.user_id AND n.id = r.notification_id WHERE r.task_id = '$task'")" \
	"Weather in Zürich|sunny, 21 °C|normal" "and the notification carries its title and message"
is "$(q "SELECT run_count || '|' || fail_count FROM alfred.scheduled_tasks WHERE id = '$task'")" "1|0" "the task counts one successful run"

task=$(schedule 'Echo' echo_run '{"n": 7}' 'Hello {{user.name}}, task {{task.name}}')
wait_sql "SELECT status FROM alfred.scheduled_tasks WHERE id = '$task'" completed 15
is "$(q "SELECT concat_ws('|', r.result::jsonb ->> 'prompt', r.result::jsonb #>> '{args,n}', r.result::jsonb ->> 'tool',
		r.result::jsonb ->> 'run_id' = r.id::text, r.result::jsonb ->> 'task_id' = r.task_id::text,
		r.result::jsonb ->> 'user_id' = r.user_id::text) FROM alfred.task_runs r WHERE r.task_id = '$task'")" \
	"Hello Ada, task Echo|7|echo_run|t|t|t" "the command got the rendered prompt, the args and the ids on stdin"

task=$(schedule 'No city' get_weather '{}')
wait_sql "SELECT status FROM alfred.scheduled_tasks WHERE id = '$task'" completed 15
is "$(q "SELECT concat_ws('|', status, attempt, error) FROM alfred.task_runs WHERE task_id = '$task'")" \
	"failed|1|exit code 2: get_weather: args need a \"city\"" "a declared permanent exit code fails the run without retries"
is "$(q "SELECT concat_ws('|', s.fail_count, n.title, n.priority) FROM alfred.scheduled_tasks s
		 JOIN alfred.task_runs r ON r.task_id = s.id JOIN alfred.notifications n ON n.id = r.notification_id
		 WHERE s.id = '$task'")" "1|No city failed|high" "the task counts the failure and the user is told"

# ---- kill -9 mid-run: the lease expires, another agent completes it once ----
cat >"$W/slow.conf" <<EOF
conninfo = host=$PGHOST port=$PGPORT user=postgres dbname=$DB
poll_interval = 500ms
lease = 2s
[tool slow]
command = $W/slow
EOF
sed 's/^poll_interval.*/name = slow-1\n&/' "$W/slow.conf" >"$W/slow1.conf"
sed 's/^poll_interval.*/name = slow-2\n&/' "$W/slow.conf" >"$W/slow2.conf"
start_agent s1 "$W/slow1.conf"
task=$(schedule 'Slow' slow '{}')
wait_sql "SELECT status FROM alfred.task_runs WHERE task_id = '$task'" running 15
for i in $(seq 1 100); do	# until the command has started (and noted its attempt)
	[ -s "$W/slow.attempts" ] && break
	sleep 0.1
done
cmd=$(pgrep -P "$(agent_pid s1)" || true)
kill -KILL "$(agent_pid s1)"
wait "$(agent_pid s1)" 2>/dev/null || true
is "$(run_of "$task")" "running|1|slow-1" "after kill -9 the run stays leased to the dead agent"
sleep 0.2
ok "$(ps -o stat= -p "${cmd:-1}" | grep -v Z || true)" = "" "the dead agent's command died with it (no orphan)"
start_agent s2 "$W/slow2.conf"
wait_sql "SELECT status FROM alfred.task_runs WHERE task_id = '$task'" succeeded 15
is "$(run_of "$task")" "succeeded|2|slow-2" "after its 2 s lease the run is re-claimed by another agent and completed"
is "$(q "SELECT count(*) || '|' || (SELECT run_count FROM alfred.scheduled_tasks WHERE id = '$task')
		 || '|' || count(notification_id) FROM alfred.task_runs WHERE task_id = '$task'")" "1|1|1" \
	"once: one run row, run_count 1, one notification"
is "$(tr '\n' ' ' <"$W/slow.attempts")" "1 2 " "the command saw attempt 1, then attempt 2"
sleep 2.5
is "$(q "SELECT count(*) FROM alfred.task_runs WHERE task_id = '$task' AND status <> 'succeeded'")" 0 \
	"nothing comes back after completion"
stop_agent s2
stop_agent a1
ok "$(grep -c 'level=error' "$W/a1.log" "$W/s2.log" | awk -F: '{s+=$2} END {print s}')" = 0 "no errors in the agents' logs"

# leave the cluster as found: no worker database, the worker back and waiting
psql_q -d postgres -c "DROP DATABASE $DB WITH (FORCE)" >/dev/null
for i in $(seq 1 100); do
	[ -n "$("$PGBIN/psql" -X -qAt -d postgres -c "SELECT 1 FROM pg_stat_activity WHERE backend_type = 'alfred scheduler'")" ] && break
	sleep 0.1
done
