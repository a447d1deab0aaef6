# agent_faults.sh: alfred-agent under faults, end to end with the real
# scheduler worker and real misbehaving commands (fixtures/agent_faults/):
# a result that looks like JSON but is not is recorded once (as a failure
# with the database's error, never re-run); a descendant in its own session
# that holds stdout open is killed at the timeout, one that lingers after a
# successful run is killed at its end; kill -9 of the agent takes the whole
# command tree down; an outage of the database longer than the lease keeps a
# healthy command; a LATIN1 database gets and stores text intact (or refuses
# it, once); fatal connection errors at start exit 2 while transient ones
# are retried; --check connects; configuration errors name their line; the
# documented command is on the PATH after make install.  Prints TAP.
. "$(dirname "$0")/fixtures/agent_lib.sh"

DB=$ALFRED_WORKER_DB
F=$ALFRED_SRC/test/integration/fixtures/agent_faults
export FAULTS_W=$W
export PGOPTIONS="-c client_min_messages=warning"
q() { "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
ADA=00000000-0000-0000-0000-00000000ada0

# fresh_db [ENCODING]: the worker's database, new, with Ada and the tools
fresh_db() {
	local enc=${1:-UTF8}
	psql_q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
		-c "CREATE DATABASE $DB ENCODING '$enc' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
	psql_q -d "$DB" -c "CREATE EXTENSION alfred CASCADE" >/dev/null
	q "INSERT INTO alfred.users (id, email, password_hash, display_name, timezone)
	   VALUES ('$ADA', 'ada@example.com', crypt('x', gen_salt('bf', 4)), 'Ada', 'Europe/Zurich')"
	local t
	for t in not_json daemon_holds_stdout daemon_lingers tree healthy_slow echo_stdin sun; do
		q "SELECT alfred.register_tool('$t', kind => 'external')" >/dev/null
	done
}
# schedule NAME TOOL ARGS [MAX_RETRIES] [PROMPT]: a one-time task due now, prints its id
schedule() {
	q "SELECT alfred.schedule_task('$ADA', '$1', '$2', '$3', at => now() + interval '0.2 s', max_retries => ${4:-3},
								   prompt_template => '${5:-}')"
}
run_of() { q "SELECT concat_ws('|', status, attempt, claimed_by) FROM alfred.task_runs WHERE task_id = '$1'"; }
err_of() { q "SELECT error FROM alfred.task_runs WHERE task_id = '$1'"; }
alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]; }
wait_file() { local i; for i in $(seq 1 100); do [ -s "$1" ] && return 0; sleep 0.1; done; }
# gone PID: true once the process is gone (at most 3 s)
gone() { local i; for i in $(seq 1 30); do alive "$1" || return 0; sleep 0.1; done; return 1; }

echo "1..41"

fresh_db
cat >"$W/agent.conf" <<EOF
conninfo = host=$PGHOST port=$PGPORT user=postgres dbname=$DB
name = faults-1
poll_interval = 500ms
lease = 2s
log_level = debug
[tool not_json]
command = $F/not_json
[tool daemon_holds_stdout]
command = $F/daemon_holds_stdout
timeout = 1s
[tool daemon_lingers]
command = $F/daemon_lingers
[tool healthy_slow]
command = $F/healthy_slow
timeout = 1min
[tool echo_stdin]
command = $F/echo_stdin
[tool sun]
command = $F/sun
EOF
SLOW_SECONDS=12 start_agent a1 "$W/agent.conf"
wait_log a1 'event=connected' 10

# ---- a result that looks like JSON but is not: recorded once ----
task=$(schedule 'Half JSON' not_json '{}' 3)
wait_sql "SELECT status FROM alfred.task_runs WHERE task_id = '$task'" failed 15
is "$(run_of "$task")" "failed|1|faults-1" "a result the database cannot record fails the run on its first attempt (max_retries 3)"
err=$(err_of "$task")
ok "${err#the result could not be recorded: invalid input syntax for type json}" != "$err" \
	"the run's error is the database's: $err"
sleep 2.5	# longer than the lease: nothing comes back
is "$(tr '\n' ' ' <"$W/not_json.runs")" "1 " "the side-effecting command ran exactly once"
is "$(q "SELECT concat_ws('|', s.fail_count, n.title, n.priority) FROM alfred.scheduled_tasks s
		 JOIN alfred.task_runs r ON r.task_id = s.id JOIN alfred.notifications n ON n.id = r.notification_id
		 WHERE s.id = '$task'")" "1|Half JSON failed|high" "the task counts one failure and the user is told"
ok "$(grep -c 'event=result_refused.*sqlstate=22P02' "$W/a1.log")" = 1 "the agent logs the refused result once, with its SQLSTATE"

# ---- the whole tree ends with the run ----
task=$(schedule 'Holder' daemon_holds_stdout '{}' 0)
wait_file "$W/holder.pid"
holder=$(cat "$W/holder.pid")
ok "$(alive "$holder" && echo alive)" = alive "the command exited, its descendant (own session) holds stdout open"
wait_sql "SELECT status FROM alfred.task_runs WHERE task_id = '$task'" failed 10
is "$(run_of "$task")|$(err_of "$task")" "failed|1|faults-1|timed out after 1000 ms" \
	"the timeout applies until the run is decided, not until the command exits"
ok "$(gone "$holder" || echo alive)" = "" "the descendant that held stdout was killed"

task=$(schedule 'Lingerer' daemon_lingers '{}')
wait_sql "SELECT status FROM alfred.task_runs WHERE task_id = '$task'" succeeded 10
is "$(run_of "$task")" "succeeded|1|faults-1" "a command that leaves a descendant behind (stdout closed) succeeds"
lingerer=$(cat "$W/lingerer.pid")
ok "$(gone "$lingerer" || echo alive)" = "" "and the descendant ends with the run"

# ---- an outage longer than the lease keeps a healthy command ----
task=$(schedule 'Slow' healthy_slow '{}' 0)
wait_file "$W/healthy_slow.runs"
as_pg "$PGBIN/pg_ctl" -D "$ALFRED_DATA" -m fast -w stop >/dev/null
sleep 4		# twice the lease
as_pg "$PGBIN/pg_ctl" -D "$ALFRED_DATA" -l "$ALFRED_LOG" -w -t 60 start >/dev/null
wait_sql "SELECT status FROM alfred.task_runs WHERE task_id = '$task'" succeeded 20
is "$(run_of "$task")" "succeeded|1|faults-1" "after a 4 s outage (lease 2 s, max_retries 0) the run succeeds on its first attempt"
is "$(tr '\n' ' ' <"$W/healthy_slow.runs")" "1 " "the healthy command was neither killed nor run again"
ok "$(grep -c 'event=lease_lost' "$W/a1.log")" = 0 "no lease was lost"
ok "$(grep -c 'event=connected' "$W/a1.log")" = 2 "the agent reconnected once"

# ---- args deeper than the JSON library parses: passed as text, logged ----
task=$(q "SELECT alfred.schedule_task('$ADA', 'Deep', 'echo_stdin', ('{\"d\": ' || repeat('[', 3000) || repeat(']', 3000) || '}')::jsonb, at => now() + interval '0.2 s')")
wait_sql "SELECT status FROM alfred.task_runs WHERE task_id = '$task'" succeeded 10
is "$(q "SELECT jsonb_typeof(result::jsonb -> 'args') || '|' || length(result::jsonb ->> 'args') FROM alfred.task_runs WHERE task_id = '$task'")" \
	"string|6007" "args nested 3000 deep reach the command as their text"
ok "$(grep -c 'event=args_not_parsed.*maximum parsing depth' "$W/a1.log")" = 1 "and the agent logs why"
stop_agent a1
ok "$(grep 'level=error' "$W/a1.log" | grep -vc 'event=result_refused\|event=connection_lost\|event=connect_failed')" = 0 \
	"no other errors in the agent's log"

# ---- kill -9 of the agent takes the whole command tree down ----
cat >"$W/tree.conf" <<EOF
conninfo = host=$PGHOST port=$PGPORT user=postgres dbname=$DB
name = tree-1
lease = 30s
[tool tree]
command = $F/tree
EOF
start_agent t1 "$W/tree.conf"
task=$(schedule 'Tree' tree '{}')
wait_file "$W/tree_child.pid"
wait_file "$W/tree_cmd.pid"
cmd=$(cat "$W/tree_cmd.pid")
child=$(cat "$W/tree_child.pid")
ok "$(alive "$cmd" && alive "$child" && echo both)" = both "the command and its descendant in another session run"
kill -KILL "$(agent_pid t1)"
wait "$(agent_pid t1)" 2>/dev/null || true
ok "$(gone "$cmd" || echo alive)" = "" "kill -9 of the agent kills the command"
ok "$(gone "$child" || echo alive)" = "" "and its descendant in another session"

# ---- a LATIN1 database: text arrives intact, what it cannot store is refused once ----
fresh_db LATIN1
is "$(q "SHOW server_encoding")" LATIN1 "the worker's database is LATIN1 now"
PGCLIENTENCODING=LATIN1 start_agent l1 "$W/agent.conf"
wait_log l1 'event=connected' 10
task=$(schedule 'Wetter' echo_stdin '{"city": "Zürich"}' 3 'Wetter für {{args.city}}, {{user.name}}?')
wait_sql "SELECT status FROM alfred.task_runs WHERE task_id = '$task'" succeeded 15
is "$(q "SELECT concat_ws('|', result::jsonb #>> '{args,city}', result::jsonb ->> 'prompt') FROM alfred.task_runs WHERE task_id = '$task'")" \
	"Zürich|Wetter für Zürich, Ada?" "args and prompt reach the command as UTF-8 and come back intact (PGCLIENTENCODING=LATIN1 set)"
task=$(schedule 'Sun' sun '{}' 3)
wait_sql "SELECT status FROM alfred.task_runs WHERE task_id = '$task'" failed 15
is "$(run_of "$task")" "failed|1|faults-1" "a result LATIN1 cannot hold fails the run at once"
err=$(err_of "$task")
ok "${err#*has no equivalent in encoding \"LATIN1\"}" != "$err" "with the database's error: $err"
sleep 2.5
is "$(tr '\n' ' ' <"$W/sun.runs")" "1 " "and the command ran once"
stop_agent l1
fresh_db

# ---- connecting: fatal errors at start exit 2, transient ones are retried ----
printf '[tool sun]\ncommand = %s/sun\n' "$F" >"$W/conn.conf"
start=$SECONDS
rc=0; "$AGENT" -c "$W/conn.conf" -d "host=$PGHOST port=$PGPORT user=no_such_role dbname=$DB" >"$W/role.log" 2>&1 || rc=$?
is "$rc" 2 "an unknown role at start: exit status 2"
ok "$((SECONDS - start))" -le 3 "  at once"
ok "$(grep -c 'event=connect_failed.*role \\"no_such_role\\" does not exist.*giving up' "$W/role.log")" = 1 \
	"  one log line naming the cause"
rc=0; "$AGENT" -c "$W/conn.conf" -d "host=$PGHOST port=$PGPORT user=postgres dbname=no_such_db" >"$W/db.log" 2>&1 || rc=$?
is "$rc/$(grep -c 'database \\"no_such_db\\" does not exist' "$W/db.log")" "2/1" "an unknown database at start: exit status 2, named"
rc=0; "$AGENT" -c "$W/conn.conf" -d "host=$PGHOST colour=blue" >"$W/ci.log" 2>&1 || rc=$?
is "$rc/$(grep -c 'invalid connection option' "$W/ci.log")" "2/1" "a bad conninfo: exit status 2, named"
"$AGENT" -c "$W/conn.conf" -d "host=$PGHOST port=$((PGPORT + 1)) user=postgres dbname=$DB" >"$W/down.log" 2>&1 &
down=$!
sleep 1.5
ok "$(alive $down && echo alive)" = alive "a server that is not up: the agent keeps retrying"
ok "$(grep -c 'event=connect_failed.*retry_ms=' "$W/down.log")" -ge 2 "  and logs each attempt with its delay"
kill -TERM $down; wait $down 2>/dev/null || true

rc=0; out=$("$AGENT" --check -c "$W/conn.conf" -d "host=$PGHOST port=$PGPORT user=postgres dbname=$DB" 2>&1) || rc=$?
is "$rc/$out" "0/configuration ok: 1 tool(s)
connection ok: database \"$DB\" as role \"postgres\", alfred $(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ALFRED_SRC/alfred.control")" \
	"--check connects and reports the database, the role and alfred's version"
rc=0; out=$("$AGENT" --check -c "$W/conn.conf" -d "host=$PGHOST port=$PGPORT user=no_such_role dbname=$DB" 2>&1) || rc=$?
ok "$rc/${out#*could not connect: }" != "$rc/$out" "--check with a role that does not exist fails: $rc"
rc=0; out=$("$AGENT" --check -c "$W/conn.conf" -d "host=$PGHOST port=$PGPORT user=postgres dbname=postgres" 2>&1) || rc=$?
is "$rc/${out#*$'\n'}" "2/alfred-agent: database \"postgres\" has no alfred.claim_runs (is extension alfred installed?)" \
	"--check in a database without alfred fails"

# ---- configuration errors name their line ----
printf 'lease = 1min\n[tool sun]\ncommand = %s\n' "$F" >"$W/dir.conf"
rc=0; out=$("$AGENT" -c "$W/dir.conf" 2>&1) || rc=$?
is "$rc/$out" "2/alfred-agent: invalid configuration file \"$W/dir.conf\": line 3: command \"$F\" of tool \"sun\" is not an executable file" \
	"a directory is not an executable command"
printf 'lease = 1min\n# again\nlease = 2min\n[tool sun]\ncommand = %s/sun\n' "$F" >"$W/dup.conf"
rc=0; out=$("$AGENT" -c "$W/dup.conf" 2>&1) || rc=$?
is "$rc/$out" "2/alfred-agent: invalid configuration file \"$W/dup.conf\": line 3: setting \"lease\" is given twice (first on line 1)" \
	"a setting given twice is refused, with both lines"

# ---- installed: the documented command works as typed, with the release's version ----
if [ -n "${ALFRED_PGROOT:-}" ]; then path=$ALFRED_PGROOT/usr/local/bin:/usr/bin:/bin; else path=/usr/local/bin:/usr/bin:/bin; fi
is "$(PATH=$path command -v alfred-agent)" "${path%%:*}/alfred-agent" "after make install, alfred-agent is on the PATH (${path%%:*})"
is "$(PATH=$path alfred-agent -V)" "alfred-agent $(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ALFRED_SRC/alfred.control")" \
	"alfred-agent -V says the extension's default_version"
bindir=$("$PGBIN/pg_config" --bindir)
make -s -C "$ALFRED_SRC/agent" install DESTDIR="$W/dest" PG_CONFIG="$PGBIN/pg_config" >/dev/null
linkdir=${bindir%/usr/lib/postgresql/15/bin}/usr/local/bin
is "$(readlink "$W/dest$linkdir/alfred-agent")" "$bindir/alfred-agent" "install under DESTDIR: the link points to bindir's alfred-agent"
make -s -C "$ALFRED_SRC/agent" uninstall DESTDIR="$W/dest" PG_CONFIG="$PGBIN/pg_config" >/dev/null
ok "$(find "$W/dest" ! -type d)" = "" "make uninstall removes the program and the link"

# leave the cluster as found: no worker database, the worker back and waiting
psql_q -d postgres -c "DROP DATABASE $DB WITH (FORCE)" >/dev/null
for i in $(seq 1 100); do
	[ -n "$("$PGBIN/psql" -X -qAt -d postgres -c "SELECT 1 FROM pg_stat_activity WHERE backend_type = 'alfred scheduler'")" ] && break
	sleep 0.1
done
