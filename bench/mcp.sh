#!/usr/bin/env bash
# bench/mcp.sh: tool calls per second and p99 latency through alfred-mcp and
# the official MCP TypeScript SDK client, against the same SQL run directly.
#
#   ALFRED_PGROOT=/tmp/pgroot-me ALFRED_PORT=55599 nice bench/mcp.sh [SECONDS]
#
# Builds and installs alfred, starts its own throwaway cluster on
# ALFRED_PORT (stopped at the end), makes a person with 200 tasks (50 open),
# 5 habits and a session token, and for the tools list_tasks and today
# measures, one call at a time for SECONDS (default 10) each:
#   direct   pgbench -c 1 -M extended running exactly the transaction alfred-mcp runs per
#            call (`alfred-mcp --sql TOOL`: BEGIN, set_session, the tool's
#            statements, COMMIT) as the same app role, over the same socket
#   mcp      test/mcp/bench.mjs: the SDK's Client calling the tool through
#            StdioClientTransport (JSON-RPC over a pipe, JSON schema checks,
#            then the same transaction)
# and prints calls/s, p50 and p99 latency (ms) and the ratios mcp/direct.
. "$(dirname "$0")/../test/lib.sh"
cd "$ALFRED_SRC"

SECS=${1:-10}
DB=alfred_bench_mcp
B=$ALFRED_TMP/bench-mcp
export PGOPTIONS="-c client_min_messages=warning"

build_and_install
start_cluster
trap stop_cluster EXIT
mkdir -p "$B"
create_db "$DB"
q() { "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
if [ ! -d test/mcp/node_modules/@modelcontextprotocol/sdk ]; then
	(cd test/mcp && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
fi
q "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mcp_app') THEN CREATE ROLE mcp_app LOGIN; END IF; END \$\$"
q "SELECT alfred.grant_usage('mcp_app')" >/dev/null
ID=$(q "SET alfred.password_cost = 4; SELECT alfred.create_user('bench@example.com', 'password-bench', timezone => 'Europe/Zurich')")
q "INSERT INTO alfred.tasks (user_id, title, priority, status, due_date)
   SELECT '$ID', 'task ' || i, (ARRAY['low','medium','high','urgent','critical'])[1 + i % 5],
          CASE WHEN i % 4 = 0 THEN 'pending' ELSE 'completed' END, now() + (i - 100) * interval '1 day'
     FROM generate_series(1, 200) i;
   INSERT INTO alfred.habits (user_id, name) SELECT '$ID', 'habit ' || i FROM generate_series(1, 5) i"
TOKEN=$(q "SELECT alfred.login('bench@example.com', 'password-bench')")
CONNINFO="host=$PGHOST port=$PGPORT dbname=$DB user=mcp_app"
MCP=$PGBIN/alfred-mcp

# percentile P of the latencies (ms) in pgbench's per-transaction log
pct() { awk '{print $3 / 1000}' "$1" | sort -n | awk -v p="$2" '{a[NR]=$1} END {i=int(NR*p); if (i<1) i=1; printf "%.2f", a[i]}'; }

printf '%-12s %-7s %8s %9s %8s %8s\n' tool how calls calls/s p50_ms p99_ms
for tool in list_tasks today; do
	# the identity statement gets the token; the tool's parameters are NULL (no arguments)
	"$MCP" --sql "$tool" | sed "2s/\\\$1/:token/; 3,\$s/\\\$[0-9][0-9]*/NULL::text/g" >"$B/$tool.sql"
	rm -f "$B"/pgbench_log.*
	(cd "$B" && "$PGBIN/pgbench" -n -c 1 -T "$SECS" -M extended -f "$B/$tool.sql" -D token="$TOKEN" -l \
		-h "$PGHOST" -p "$PGPORT" -U mcp_app "$DB" >"$B/$tool.pgbench" 2>&1)
	log=$(ls "$B"/pgbench_log.* | head -1)
	dn=$(wc -l <"$log")
	dtps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$B/$tool.pgbench" | head -1)
	d50=$(pct "$log" 0.5); d99=$(pct "$log" 0.99)
	printf '%-12s %-7s %8s %9.1f %8s %8s\n' "$tool" direct "$dn" "$dtps" "$d50" "$d99"
	read -r mn mtps m50 m99 < <(cd test/mcp && ALFRED_MCP=$MCP ALFRED_CONNINFO=$CONNINFO ALFRED_TOKEN=$TOKEN \
		node bench.mjs "$tool" "$SECS")
	printf '%-12s %-7s %8s %9.1f %8s %8s\n' "$tool" mcp "$mn" "$mtps" "$m50" "$m99"
	awk -v a="$mtps" -v b="$dtps" -v c="$m99" -v d="$d99" -v t="$tool" \
		'BEGIN {printf "%-12s ratio mcp/direct: calls/s %.2f, p99 latency %.2f\n", t, a / b, c / d}'
done
