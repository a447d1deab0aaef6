# mcp.sh: alfred-mcp end to end with the official MCP TypeScript SDK.
# Installs @modelcontextprotocol/sdk into test/mcp/node_modules (ignored by
# git; npm's cache makes re-runs fast), then test/mcp/mcp_test.mjs starts
# the installed alfred-mcp (the link on PATH) over stdio as an app role under
# row-level security: lists and calls every tool, reads every resource, gets
# the prompt; a second person's token neither sees nor touches the first's
# data; an expired token and a suspended user end access with a tool error;
# protocol errors for bad calls.  Then the database is checked, and the
# command line (--check, -V, bad configurations).  Prints TAP.
. "$(dirname "$0")/../lib.sh"

DB=alfred_mcp
export PGOPTIONS="-c client_min_messages=warning"
q() { "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
n=0
fails=0
tap() {	# tap <ok?> <name>
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi
}
is() {	# is <got> <want> <name>
	if [ "$1" = "$2" ]; then tap 0 "$3"; else tap 1 "$3"; printf '#   got: %s\n#  want: %s\n' "$1" "$2"; fi
}
like() {	# like <got> <regex> <name>
	if [[ "$1" =~ $2 ]]; then tap 0 "$3"; else tap 1 "$3"; printf '#   got: %s\n#  want: /%s/\n' "$1" "$2"; fi
}

# ---- the installed binary: on PATH through the link make install made ----
LINKDIR=${ALFRED_PGROOT:-}/usr/local/bin
like "$(readlink "$LINKDIR/alfred-mcp")" "^$PGBIN/alfred-mcp\$" "make install links $LINKDIR/alfred-mcp to the binary beside psql"
MCP=$(PATH="$LINKDIR:$PATH" command -v alfred-mcp || true)
is "$MCP" "$LINKDIR/alfred-mcp" "alfred-mcp is found on PATH"
is "$("$MCP" -V)" "alfred-mcp 0.2" "alfred-mcp -V"

# ---- the SDK ----
if [ ! -d "$ALFRED_SRC/test/mcp/node_modules/@modelcontextprotocol/sdk" ]; then
	(cd "$ALFRED_SRC/test/mcp" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2)
fi

# ---- database, roles and people ----
psql_q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
psql_q -d "$DB" -c "CREATE EXTENSION alfred CASCADE" >/dev/null
q "DO \$\$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'alfred_service') THEN CREATE ROLE alfred_service NOLOGIN; END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mcp_app') THEN CREATE ROLE mcp_app LOGIN; END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mcp_agent') THEN CREATE ROLE mcp_agent LOGIN IN ROLE alfred_service; END IF;
END \$\$"
q "SELECT alfred.grant_usage('mcp_app'); SELECT alfred.grant_usage('alfred_service')" >/dev/null
user() {	# user <name> <timezone>: creates <name>@example.com, prints its id
	q "SET alfred.password_cost = 4; SELECT alfred.create_user('$1@example.com', 'password-$1', display_name => '$1', timezone => '$2')"
}
login() { q "SELECT alfred.login('$1@example.com', 'password-$1')"; }
ANN_ID=$(user ann Europe/Zurich)
user bob America/New_York >/dev/null
user carl UTC >/dev/null
user dan UTC >/dev/null
ANN_HABIT=$(q "SELECT alfred.act_as('$ANN_ID');
	WITH h AS (INSERT INTO alfred.habits (user_id, name) VALUES ('$ANN_ID', 'Stretch') RETURNING id)
	SELECT (alfred.log_habit(h.id, alfred.user_today('$ANN_ID') - 1)).id FROM h" | tail -1)
export ALFRED_MCP=$MCP ANN_ID ANN_HABIT
export ANN_TOKEN=$(login ann) BOB_TOKEN=$(login bob) CARL_TOKEN=$(login carl) DAN_TOKEN=$(login dan)
export MCP_CONNINFO="host=$PGHOST port=$PGPORT dbname=$DB user=mcp_app"
export MCP_SERVICE_CONNINFO="host=$PGHOST port=$PGPORT dbname=$DB user=mcp_agent"
export README=$ALFRED_SRC/README.md MCP_PATH="$LINKDIR:/usr/bin:/bin"
export PSQL="$PGBIN/psql -X -qAt -v ON_ERROR_STOP=1 -h $PGHOST -p $PGPORT -U postgres -d $DB"

# ---- the SDK client ----
out=$(cd "$ALFRED_SRC/test/mcp" && node mcp_test.mjs 2>&1) || true
while IFS= read -r line; do
	case $line in
		"ok - "*) tap 0 "${line#ok - }" ;;
		"not ok - "*) tap 1 "${line#not ok - }" ;;
		*) echo "# $line" ;;
	esac
done <<<"$out"
grep -q '^ok - the test script ran to its end$' <<<"$out" || tap 1 "the SDK client ran to its end"

# ---- the database afterwards ----
ann="user_id = '$ANN_ID'"
is "$(q "SELECT string_agg(title || ':' || status, ',' ORDER BY due_date, status) FROM alfred.tasks WHERE $ann")" \
	"Buy paint:completed,Paint the fence:completed,Paint the fence:pending" "ann's tasks: both completed, the weekly one recurs"
is "$(q "SELECT count(*) FROM alfred.task_dependencies WHERE $ann")" "1" "the dependency is stored"
is "$(q "SELECT source || '|' || created_by::text FROM alfred.tasks WHERE $ann AND title = 'Buy paint'")" "conversation|$ANN_ID" \
	"tasks added through MCP are marked as from a conversation, created by ann"
is "$(q "SELECT count(*) || '|' || max(notes) FROM alfred.habit_logs WHERE $ann")" "2|ten minutes" "two habit logs, with the note"
is "$(q "SELECT value || '|' || confidence FROM alfred.learned_preferences WHERE $ann")" "black, no sugar|0.6" "the preference"
is "$(q "SELECT topic FROM alfred.learnings WHERE $ann")" "garden" "the learning"
is "$(q "SELECT status || '|' || source || '|' || tool_name FROM alfred.scheduled_tasks WHERE $ann")" "cancelled|agent|daily_briefing" \
	"the scheduled task: cancelled, from the agent"
is "$(q "SELECT concat_ws('|', status, agent_name, requested_by, risk_level, executed_at IS NULL) FROM alfred.proposals WHERE $ann")" \
	"pending|alfred-mcp|mcp-test|medium|t" "the proposal waits for ann, not executed, with the client's name"
is "$(q "SELECT suggestion_type || '|' || action || '|' || source FROM alfred.engagement_events WHERE $ann")" \
	"habit_reminder|engaged|conversation" "the engagement event"
is "$(q "SELECT count(*) FROM alfred.tasks t JOIN alfred.users u ON u.id = t.user_id WHERE u.email = 'bob@example.com'")" "0" \
	"bob wrote nothing (his failed add_task rolled back)"
is "$(q "SELECT count(*) FROM alfred.tasks WHERE title = 'hijacked'")" "0" "ann's task kept its title"
is "$(q "SELECT count(*) FROM alfred.tasks t JOIN alfred.users u ON u.id = t.user_id WHERE u.email = 'carl@example.com'")" "0" \
	"carl's write after expiry did not happen"
is "$(q "SELECT count(*) FROM alfred.audit_trail WHERE entity_type = 'tasks' AND user_id = '$ANN_ID' AND action = 'insert'")" "3" \
	"the audit trail names ann as the actor of her three task inserts"

# ---- the command line ----
export ALFRED_CONNINFO=$MCP_CONNINFO
like "$(ALFRED_TOKEN=$ANN_TOKEN "$MCP" --check 2>&1)" "^configuration ok \(environment\): acting for ann@example.com \($ANN_ID\)" \
	"--check connects and names the person"
rc=0; msg=$(ALFRED_TOKEN=nope "$MCP" --check 2>&1) || rc=$?
like "$rc|$msg" "^2\|alfred-mcp: environment: identity refused: invalid or expired session token" "--check with a bad token: status 2 and why"
rc=0; msg=$(env -u ALFRED_TOKEN "$MCP" --check 2>&1) || rc=$?
like "$rc|$msg" "^2\|alfred-mcp: no identity" "no identity: status 2"
W=$(mktemp -d)
printf 'conninfo = %s\ntoken = %s\nstatement_timeout = 10s\n' "$MCP_CONNINFO" "$BOB_TOKEN" >"$W/mcp.conf"
like "$(env -u ALFRED_CONNINFO "$MCP" -c "$W/mcp.conf" --check 2>&1)" "^configuration ok \($W/mcp.conf\): acting for bob@example.com" \
	"a configuration file instead of the environment"
printf 'conninfo = x\ntokn = y\n' >"$W/bad.conf"
rc=0; msg=$("$MCP" -c "$W/bad.conf" 2>&1) || rc=$?
is "$rc|$msg" "2|alfred-mcp: invalid configuration file \"$W/bad.conf\": line 2: unknown setting \"tokn\"" "a bad file: status 2 naming the line"
rm -rf "$W"
SUPER="host=$PGHOST port=$PGPORT dbname=$DB user=postgres"
rc=0; msg=$(ALFRED_CONNINFO=$SUPER ALFRED_TOKEN=$ANN_TOKEN "$MCP" --check 2>&1) || rc=$?
is "$rc|$msg" "2|alfred-mcp: role \"postgres\" bypasses row-level security: connect alfred-mcp as an application role (see README, \"App roles and row-level security\")" \
	"a superuser connection is refused (it would bypass row-level security)"
msg=$(printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}' \
	'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"today"}}' |
	ALFRED_CONNINFO=$SUPER ALFRED_TOKEN=$ANN_TOKEN "$MCP" 2>/dev/null | tail -1)
like "$msg" '"isError":true' "  and a tool call through it is a tool error"
like "$msg" 'bypasses row-level security' "  saying why"
rc=0; msg=$(printf '' | ALFRED_CONNINFO="host=$PGHOST port=1 dbname=x" ALFRED_TOKEN=t "$MCP" 2>&1 >/dev/null) || rc=$?
is "$rc" "0" "an unreachable database does not stop the server from starting (it reports per call)"

# ---- a server restart between two calls: the next call reconnects ----
coproc SRV { ALFRED_TOKEN=$BOB_TOKEN "$MCP" 2>"$ALFRED_TMP/mcp-restart.err"; }
srv_pid=$SRV_PID srv_in=${SRV[1]}
rpc() { echo "$1" >&"${SRV[1]}"; IFS= read -r -t 20 line <&"${SRV[0]}"; echo "$line"; }
rpc '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}' >/dev/null
like "$(rpc '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"today"}}')" '"isError":false' \
	"restart: a call before the server restarts"
restart_cluster
like "$(rpc '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"today"}}')" '"isError":false' \
	"restart: the first call after it reconnects and succeeds"
eval "exec $srv_in>&-"
rc=0; wait "$srv_pid" || rc=$?
is "$rc|$(grep -c 'event=reconnecting' "$ALFRED_TMP/mcp-restart.err")" "0|1" "restart: logged once; EOF ends the server with 0"

# ---- a long session under AddressSanitizer and LeakSanitizer ----
make -s -C "$ALFRED_SRC/mcp" alfred-mcp-asan PG_CONFIG="$PGBIN/pg_config" >/dev/null
{
	echo '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}'
	for i in $(seq 1 100); do
		echo '{"jsonrpc":"2.0","id":'$i',"method":"tools/call","params":{"name":"add_task","arguments":{"title":"t'$i'","tags":["x"],"due_date":"2031-01-01"}}}'
		echo '{"jsonrpc":"2.0","id":"l'$i'","method":"tools/call","params":{"name":"list_tasks","arguments":{"limit":5}}}'
		echo '{"jsonrpc":"2.0","id":"e'$i'","method":"tools/call","params":{"name":"complete_task","arguments":{"task_id":"00000000-0000-0000-0000-000000000000"}}}'
		echo '{"jsonrpc":"2.0","id":"r'$i'","method":"resources/read","params":{"uri":"alfred://briefing"}}'
		echo '{"jsonrpc":"2.0","id":"p'$i'","method":"prompts/get","params":{"name":"daily-review"}}'
		echo 'junk {'
	done
} >"$ALFRED_TMP/mcp-session.jsonl"
rc=0
ALFRED_TOKEN=$BOB_TOKEN "$ALFRED_SRC/mcp/alfred-mcp-asan" <"$ALFRED_TMP/mcp-session.jsonl" \
	>"$ALFRED_TMP/mcp-session.out" 2>"$ALFRED_TMP/mcp-session.err" || rc=$?
is "$rc|$(wc -l <"$ALFRED_TMP/mcp-session.out")|$(grep -c '"isError":true' "$ALFRED_TMP/mcp-session.out")" "0|601|100" \
	"600 requests under ASan/UBSan: one response each, 100 tool errors, exit 0"
is "$(grep -c 'Sanitizer' "$ALFRED_TMP/mcp-session.err")" "0" "  no leak, no memory error, no undefined behaviour"
is "$(q "SELECT count(*) FROM alfred.tasks t JOIN alfred.users u ON u.id = t.user_id WHERE u.email = 'bob@example.com'")" "100" \
	"  its 100 tasks are bob's"
rm -f "$ALFRED_SRC/mcp/alfred-mcp-asan"

echo "1..$n"
[ "$fails" = 0 ]
