# agent_standin.sh: alfred-agent, a real process, against a stand-in of the
# external-run queue (fixtures/agent_standin.sql, same contract as the
# scheduler's claim_runs/extend_lease/complete_run/fail_run).  Covers what is
# awkward to stage through real scheduled tasks: every way a command can fail,
# notification vs polling, concurrency, lease renewal, server restart,
# graceful shutdown and bad configuration.  The end-to-end path through the
# real scheduler worker is agent.sh.  Prints TAP.
. "$(dirname "$0")/fixtures/agent_lib.sh"

DB=agent_standin
psql_q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
psql_q -d $DB -f "$ALFRED_SRC/test/integration/fixtures/agent_standin.sql" >/dev/null
q() { "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 -d $DB -c "$1"; }
# queue TOOL [ARGS] [PROMPT]: inserts a run, prints its id
queue() {
	local args='{}' prompt=NULL
	[ $# -ge 2 ] && args=$2
	[ $# -ge 3 ] && prompt=$3
	q "INSERT INTO alfred.standin_runs (tool_name, tool_args, prompt) VALUES ('$1', '$args', $prompt) RETURNING run_id"
}
status() { q "SELECT concat_ws('|', status, attempt, claims, completions) FROM alfred.standin_runs WHERE run_id = '$1'"; }

echo "1..36"

# ---- bad configuration: clear error, exit status 2 ----
printf 'concurrency = many\n' >"$W/bad.conf"
rc=0; "$AGENT" -c "$W/bad.conf" >"$W/bad.out" 2>&1 || rc=$?
is "$rc/$(cat "$W/bad.out")" "2/alfred-agent: invalid configuration file \"$W/bad.conf\": line 1: concurrency \"many\" is not an integer between 1 and 1024" \
	"bad config: exit status 2 and the line at fault"
printf '[tool x]\ncommand = %s/does-not-exist\n' "$W" >"$W/bad2.conf"
rc=0; "$AGENT" -c "$W/bad2.conf" >"$W/bad.out" 2>&1 || rc=$?
is "$rc/$(cat "$W/bad.out")" "2/alfred-agent: invalid configuration file \"$W/bad2.conf\": line 2: command \"$W/does-not-exist\" of tool \"x\" is not an executable file" \
	"a command that does not exist is a configuration error"
printf 'claim = all\nconninfo = dbname=%s\n' "$DB" >"$W/ok.conf"
is "$("$AGENT" --check -c "$W/ok.conf")" "configuration ok: 0 tool(s), claims every tool's runs
connection ok: database \"$DB\" as role \"postgres\"" "--check validates a file, connects and exits 0"
rc=0; "$AGENT" -c "$W/none.conf" >"$W/bad.out" 2>&1 || rc=$?
is "$rc/$(cat "$W/bad.out")" "2/alfred-agent: could not open configuration file \"$W/none.conf\": No such file or directory" \
	"a missing configuration file"

# ---- the tools ----
tool echo_tool <<'EOF'
input=$(cat)
printf '{"stdin": %s, "run_id": "%s", "attempt": %s}\n' "$input" "$ALFRED_RUN_ID" "$ALFRED_ATTEMPT"
EOF
tool perm_fail <<'EOF'
echo "no such city" >&2; exit 3
EOF
tool flaky <<'EOF'
[ "$ALFRED_ATTEMPT" -ge 2 ] && { echo "worked on attempt $ALFRED_ATTEMPT"; exit 0; }
echo "temporary glitch" >&2; exit 1
EOF
tool hang <<EOF
sleep 60 & echo \$! >"$W/hang.pid"; wait
EOF
tool garbage <<'EOF'
printf 'ok\377\n'
EOF
tool huge <<'EOF'
yes | head -c 300000
EOF
tool slow <<EOF
mkdir "$W/slots/\$ALFRED_RUN_ID"; ls "$W/slots" | wc -l >>"$W/slots.log"
sleep \${SLOW_SECONDS:-1}; rmdir "$W/slots/\$ALFRED_RUN_ID"; echo done
EOF
tool vanishing <<'EOF'
echo never
EOF
mkdir -p "$W/slots"

cat >"$W/a.conf" <<EOF
# agent A: notifications only in practice (polls every 30 s), claims every tool
conninfo = host=$PGHOST port=$PGPORT user=postgres dbname=$DB
name = agent-a
concurrency = 2
poll_interval = 30s
lease = 1min
claim = all
max_output = 64kB
[tool echo_tool]
command = $W/echo_tool extra 'two words'
[tool perm_fail]
command = $W/perm_fail
permanent_exit_codes = 3
[tool flaky]
command = $W/flaky
[tool hang]
command = $W/hang
timeout = 500ms
[tool garbage]
command = $W/garbage
[tool huge]
command = $W/huge
[tool slow]
command = $W/slow
[tool vanishing]
command = $W/vanishing
EOF
start_agent a "$W/a.conf"
wait_log a 'event=connected' 10

# ---- happy path through NOTIFY ----
id=$(queue echo_tool '{"city": "Zürich"}' "'Weather for Zürich?'")
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" succeeded 10
is "$(status "$id")" "succeeded|1|1|1" "a queued run completes once, well before the 30 s poll (NOTIFY)"
is "$(q "SELECT result::jsonb #>> '{stdin,args,city}' || ' ' || (result::jsonb #>> '{stdin,prompt}') || ' ' || (result::jsonb #>> '{stdin,tool}') || ' ' || (result::jsonb ->> 'run_id' = run_id::text) FROM alfred.standin_runs WHERE run_id = '$id'")" \
	"Zürich Weather for Zürich? echo_tool true" "the command read args, prompt and tool as JSON on stdin and got ALFRED_RUN_ID"
is "$(q "SELECT right(result, 1) FROM alfred.standin_runs WHERE run_id = '$id'")" "}" "the trailing newline of stdout is trimmed"
ok "$(grep -c "event=run_completed run_id=$id tool=echo_tool" "$W/a.log")" = 1 "a structured log line for the completion"

# ---- failures: permanent, transient, timeout, garbage, too large, unknown, vanished ----
id=$(queue perm_fail)
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" failed 10
is "$(q "SELECT concat_ws('|', status, attempt, transient, error) FROM alfred.standin_runs WHERE run_id = '$id'")" \
	"failed|1|f|exit code 3: no such city" "a declared exit code fails the run permanently, with stderr"
id=$(queue flaky)
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" succeeded 10
is "$(q "SELECT concat_ws('|', status, attempt, result) FROM alfred.standin_runs WHERE run_id = '$id'")" \
	"succeeded|2|worked on attempt 2" "another non-zero exit is transient: retried, then succeeds"
id=$(queue hang)
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id' AND attempt = 3" failed 20
is "$(q "SELECT concat_ws('|', status, attempt, transient, error) FROM alfred.standin_runs WHERE run_id = '$id'")" \
	"failed|3|t|timed out after 500 ms" "a hanging command times out (transient) on every attempt"
sleep 0.2
state=$(ps -o stat= -p "$(cat "$W/hang.pid")" || true)
ok "${state:-gone}" = gone "the timed-out command's whole process group was killed"
id=$(queue garbage)
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" failed 10
is "$(q "SELECT concat_ws('|', attempt, transient, error) FROM alfred.standin_runs WHERE run_id = '$id'")" \
	"1|f|output is not UTF-8 text (invalid byte at offset 2)" "output that is not UTF-8 fails permanently"
id=$(queue huge)
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" failed 10
is "$(q "SELECT concat_ws('|', attempt, transient, error) FROM alfred.standin_runs WHERE run_id = '$id'")" \
	"1|f|output exceeds max_output (65536 bytes)" "output above max_output fails permanently"
id=$(queue get_stock_price)
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" failed 10
is "$(q "SELECT concat_ws('|', attempt, transient, error) FROM alfred.standin_runs WHERE run_id = '$id'")" \
	"1|f|no command is configured for tool \"get_stock_price\" in alfred-agent \"agent-a\"" \
	"with claim = all, a run of an unknown tool fails permanently"
rm "$W/vanishing"
id=$(queue vanishing)
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" failed 10
is "$(q "SELECT concat_ws('|', attempt, transient, error) FROM alfred.standin_runs WHERE run_id = '$id'")" \
	"1|f|cannot execute \"$W/vanishing\": No such file or directory" "a command that cannot be executed fails permanently"
id=$(queue echo_tool)
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" succeeded 10
ok "$(status "$id")" = "succeeded|1|1|1" "the agent keeps going after all of that"

# ---- concurrency ----
: >"$W/slots.log"
ids=$(for i in 1 2 3 4 5; do queue slow; done)
wait_sql "SELECT count(*) FROM alfred.standin_runs WHERE tool_name = 'slow' AND status = 'succeeded'" 5 20
is "$(sort -n "$W/slots.log" | tail -1)" 2 "five runs, concurrency 2: two commands at a time, never more"

# ---- graceful shutdown: SIGTERM lets the running command finish ----
id=$(queue slow)
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" running 10
kill -TERM "$(agent_pid a)"
rc=0; wait "$(agent_pid a)" || rc=$?
is "$rc|$(status "$id")" "0|succeeded|1|1|1" "SIGTERM: the running command finishes and is reported, exit status 0"
ok "$(grep -c 'event=stopped completed=' "$W/a.log")" = 1 "the agent logs its stop"

# ---- agent B: polling, configured tools only, lease renewal, restart ----
cat >"$W/b.conf" <<EOF
conninfo = host=$PGHOST port=$PGPORT user=postgres dbname=$DB
name = agent-b
poll_interval = 1s
lease = 2s
shutdown_timeout = 1min
log_level = debug
[tool echo_tool]
command = $W/echo_tool
[tool slow]
command = $W/slow
EOF
start_agent b "$W/b.conf"
wait_log b 'event=connected' 10
id=$(q "BEGIN; SET LOCAL session_replication_role = replica;
	INSERT INTO alfred.standin_runs (tool_name) VALUES ('echo_tool') RETURNING run_id; COMMIT" | head -1)
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" succeeded 10
is "$(status "$id")" "succeeded|1|1|1" "a run queued without a notification is found by polling"
other=$(queue perm_fail)
sleep 2.5
is "$(status "$other")" "queued|0|0|0" "with claim = configured, a run of another tool is left for another agent"
q "DELETE FROM alfred.standin_runs WHERE run_id = '$other'" >/dev/null
export SLOW_SECONDS=5
stop_agent b
start_agent b "$W/b.conf"
wait_log b 'event=connected' 10
id=$(queue slow)
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" succeeded 15
is "$(status "$id")" "succeeded|1|1|1" "a 5 s command under a 2 s lease: renewed, never re-claimed, completed once"
ok "$(grep -c "event=lease_extended run_id=$id" "$W/b.log")" -ge 3 "its lease was extended every second"
unset SLOW_SECONDS

busy=$(queue slow)	# 5 s: agent b still has SLOW_SECONDS=5
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$busy'" running 10
restart_cluster
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$busy'" succeeded 20
is "$(status "$busy")" "succeeded|1|1|1" "a run in progress across a server restart is reported after the reconnection, once"
id=$(queue echo_tool)
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" succeeded 20
is "$(status "$id")" "succeeded|1|1|1" "after a server restart the agent reconnects and runs new work"
ok "$(grep -c 'event=connection_lost' "$W/b.log")" -ge 1 "the lost connection was logged"

# ---- shutdown that cannot wait: the second SIGTERM releases the run ----
export SLOW_SECONDS=30
stop_agent b
start_agent b "$W/b.conf"
wait_log b 'event=connected' 10
id=$(queue slow)
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" running 10
kill -TERM "$(agent_pid b)"; sleep 0.3; kill -TERM "$(agent_pid b)"
rc=0; wait "$(agent_pid b)" || rc=$?
is "$rc|$(q "SELECT concat_ws('|', status, transient, error) FROM alfred.standin_runs WHERE run_id = '$id'")" \
	"0|retrying|t|interrupted: alfred-agent shut down before the command finished" \
	"a second SIGTERM kills the command and releases the run for a retry"
unset SLOW_SECONDS

# ---- kill -9: the run comes back after its lease and completes once ----
q "DELETE FROM alfred.standin_runs WHERE status <> 'succeeded' AND status <> 'failed'" >/dev/null
export SLOW_SECONDS=2
start_agent b "$W/b.conf"
id=$(queue slow)
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" running 10
kill -KILL "$(agent_pid b)"; wait "$(agent_pid b)" 2>/dev/null || true
is "$(q "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'")" running "after kill -9 the run is still leased"
start_agent b "$W/b.conf"
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" succeeded 20
is "$(status "$id")" "succeeded|2|2|1" "it is re-claimed after the lease expires and completed exactly once"
stop_agent b
unset SLOW_SECONDS

# ---- SIGHUP reloads the file: new tools without a restart; a bad file changes nothing ----
cat >"$W/c.conf" <<EOF
conninfo = host=$PGHOST port=$PGPORT user=postgres dbname=$DB
name = agent-c
poll_interval = 1s
[tool echo_tool]
command = $W/echo_tool
EOF
start_agent c "$W/c.conf"
wait_log c 'event=connected' 10
id=$(queue late_tool)
sleep 1.5
is "$(status "$id")" "queued|0|0|0" "a tool missing from the file is not claimed"
printf '[tool late_tool]\ncommand = %s/echo_tool\n' "$W" >>"$W/c.conf"
kill -HUP "$(agent_pid c)"
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" succeeded 10
is "$(status "$id")" "succeeded|1|1|1" "after SIGHUP the tool added to the file is served, no restart"
printf 'concurrency = lots\n' >>"$W/c.conf"
kill -HUP "$(agent_pid c)"
wait_log c 'event=reload_failed' 10
id=$(queue late_tool)
wait_sql "SELECT status FROM alfred.standin_runs WHERE run_id = '$id'" succeeded 10
is "$(status "$id")|$(grep -c 'event=reload_failed .*line 8: unknown setting' "$W/c.log")" \
	"succeeded|1|1|1|1" "a bad file on SIGHUP is logged with its line and the previous configuration kept"
stop_agent c

# ---- log lines are key=value ----
ok "$(grep -cv '^ts=[0-9T:.-]*Z level=[a-z]* event=[a-z_]*' "$W/a.log" "$W/b.log" "$W/c.log" | awk -F: '{s+=$2} END {print s}')" = 0 \
	"every log line starts with ts=, level= and event="
ok "$(grep -c 'level=warning event=run_failed' "$W/a.log")" -ge 5 "failures are logged as warnings"
ok "$(grep -c "event=run_claimed" "$W/a.log")" -ge 10 "claims are logged"

psql_q -d postgres -c "DROP DATABASE $DB" >/dev/null
