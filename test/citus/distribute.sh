# distribute.sh: alfred on a Citus coordinator with two worker nodes.
# CREATE EXTENSION through the coordinator, alfred.distribute() (what it makes
# of every table, its errors, idempotence), the SQL API through the
# coordinator as a superuser, a node added and the shards rebalanced, and
# DROP EXTENSION.  Prints TAP.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
set +e

echo "1..37"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
is() { n=$((n + 1)); if [ "$1" = "$2" ]; then echo "ok $n - $3"; else echo "not ok $n - $3"; echo "#   got:      '$1'"; echo "#   expected: '$2'"; fi; }
q() { citus_psql 0 -At -c "SET client_min_messages = warning" -c "$1" 2>&1; }
# the SQLSTATE of a statement that must fail
state() { citus_psql 0 -At -v VERBOSITY=verbose -c "$1" 2>&1 | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' | head -1; }

citus_ensure_installed
build_and_install >/dev/null
ALFRED_WORKERS=0 citus_start 2
trap citus_stop EXIT
# The rebalancer's background job connects to the coordinator by
# citus.local_hostname (localhost): the nodes listen on the socket only.
citus_psql 0 -q -c "ALTER SYSTEM SET citus.local_hostname = '$CITUS_SOCK'" -c "SELECT pg_reload_conf()" >/dev/null

# ---- install and distribute ----
q "CREATE EXTENSION alfred CASCADE" >/dev/null
is "$(for i in 0 1 2; do citus_psql "$i" -Atc "SELECT extversion FROM pg_extension WHERE extname = 'alfred'"; done | tr '\n' ' ')" \
	"0.2 0.2 0.2 " "CREATE EXTENSION alfred on the coordinator creates it on every worker"
q "CREATE ROLE citus_app LOGIN" >/dev/null
is "$(citus_psql 0 -At -U citus_app -v VERBOSITY=verbose -c "SELECT alfred.distribute()" 2>&1 |
	sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p')" "42501" "distribute() is for superusers only (42501)"
out=$(q "SELECT kind, count(*), min(shards), bool_and(changed) FROM alfred.distribute() GROUP BY kind ORDER BY kind")
is "$out" "distributed|31|8|t
node|3|0|f
reference|4|1|t" "distribute(): 31 user-owned tables distributed (8 shards), 4 reference tables, 2 node tables"
is "$(q "SELECT count(DISTINCT colocationid) FROM pg_dist_partition WHERE partmethod = 'h' AND logicalrelid::text LIKE 'alfred.%'")" \
	"1" "every distributed table is in one colocation group"
is "$(q "SELECT count(*) FROM pg_dist_partition p WHERE p.logicalrelid::text LIKE 'alfred.%' AND p.partmethod = 'h'
          AND column_to_column_name(p.logicalrelid, p.partkey) <> 'user_id'")" "0" "all by user_id"
is "$(q "SELECT string_agg(logicalrelid::text, ' ' ORDER BY logicalrelid::text) FROM pg_dist_partition WHERE partmethod = 'n'
          AND logicalrelid::text LIKE 'alfred.%'")" "alfred.mcp_servers alfred.retention alfred.tools alfred.users" \
	"users, tools, mcp_servers and retention are reference tables"
is "$(q "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid IN ('alfred.audit_trail'::regclass, 'alfred.system_logs'::regclass)")" \
	"0" "audit_trail and system_logs stay node tables"
is "$(q "SELECT count(*) FILTER (WHERE changed) || '/' || count(*) FROM alfred.distribute()")" "0/38" \
	"a second distribute() changes nothing and says so"
is "$(q "SELECT count(*) FROM pg_constraint WHERE conrelid::text LIKE 'alfred.%' AND contype = 'f' AND confdelsetcols IS NOT NULL")" \
	"0" "no foreign key ON DELETE SET NULL (col) is left (Citus refuses them)"

# ---- the API through the coordinator ----
U=$(q "SELECT alfred.create_user('ada@example.com', 'secret pw', 'ada', timezone => 'Europe/Paris')")
V=$(q "SELECT alfred.create_user('bob@example.com', 'other pw', 'bob')")
ok $([[ $U =~ ^[0-9a-f-]{36}$ && $V =~ ^[0-9a-f-]{36}$ ]]; echo $?) "create_user: $U $V"
tok=$(q "SELECT alfred.login('ada@example.com', 'secret pw')")
ok $([[ $tok =~ ^[0-9a-f]{64}$ ]]; echo $?) "login through the coordinator returns a token"
is "$(q "SELECT alfred.login('ada@example.com', 'wrong') IS NULL")" "t" "a wrong password gets no token"
is "$(q "SELECT alfred.logout('$tok')")" "t" "logout finds the session by its token alone (every shard)"

T1=$(q "INSERT INTO alfred.tasks (user_id, title, priority) VALUES ('$U', 'pack', 'high') RETURNING id")
T2=$(q "INSERT INTO alfred.tasks (user_id, title) VALUES ('$U', 'move') RETURNING id")
is "$(q "SELECT user_id FROM alfred.add_task_dependency('$T2', '$T1')")" "$U" "add_task_dependency"
is "$(q "SELECT status FROM alfred.complete_task('$T1')")" "completed" "complete_task (a row lock by id: the owner looked up first)"
is "$(state "SELECT alfred.complete_task('00000000-0000-0000-0000-00000000abcd')")" "P0002" \
	"complete_task of an unknown task still raises P0002"

H=$(q "INSERT INTO alfred.habits (user_id, name, frequency) VALUES ('$U', 'run', 'daily') RETURNING id")
q "SELECT alfred.log_habit('$H', on_date => alfred.user_today('$U') - 1)" >/dev/null
is "$(q "SELECT current_streak FROM alfred.log_habit('$H')")" "2" "log_habit on two days: a streak of 2 (the habits trigger on a shard)"

P=$(q "SELECT alfred.propose('$U', 'planner', 'update', payload => jsonb_build_object('task_id', '$T2', 'title', 'move out'))" 2>&1)
ok $([[ $P =~ ^[0-9a-f-]{36}$ ]]; echo $?) "propose: $P"
is "$(q "DELETE FROM alfred.tasks WHERE user_id = '$U' AND id = '$T2'; SELECT task_id IS NULL FROM alfred.proposals WHERE id = '$P'")" \
	"t" "deleting a task sets its proposals' task_id NULL (the trigger standing in for SET NULL (task_id))"
is "$(q "SELECT round(alfred.suggestion_score('$U', 'nudge', 0.8)::numeric, 3)")" "0.625" "suggestion_score"
is "$(q "SELECT count(*) FROM alfred.record_engagement('$U', 'nudge', 'dismissed', 'notification')")" "1" "record_engagement"

is "$(q "SELECT status FROM alfred.approve('$P')")" "approved" "approve (the owner looked up before the row lock)"
P2=$(q "SELECT alfred.propose('$U', 'planner', 'create', payload => jsonb_build_object('title', 'from a proposal'))")
is "$(q "SELECT status FROM alfred.approve('$P2', execute => true)")" "executed" "approve with execute creates the task"
is "$(q "SELECT count(*) FROM alfred.tasks WHERE user_id = '$U' AND title = 'from a proposal'")" "1" "the executed proposal's task is there"
is "$(q "SELECT count(*) FROM alfred.calibration WHERE user_id = '$U'")" "1" "the calibration view (state passed as the table's row type)"
is "$(q "SELECT alfred.today('$U')->'habits'->0->>'completed_today'")" "true" "today(): the briefing through the coordinator"
is "$(q "SELECT (alfred.weekly_stats('$U')).habits_logged")" "2" "weekly_stats"
S=$(q "SELECT alfred.schedule_task('$U', 'brief', 'daily_briefing', cron => '0 7 * * *')")
is "$(q "SELECT (SELECT status FROM alfred.pause_task('$S')) || ' ' || (SELECT status FROM alfred.resume_task('$S')) || ' ' || (SELECT status FROM alfred.cancel_task('$S'))")" \
	"paused active cancelled" "schedule_task, pause_task, resume_task, cancel_task"
is "$(q "SELECT alfred.run_maintenance() ? 'removed'")" "t" "run_maintenance"
is "$(q "SELECT alfred.health() ? 'table_bytes'")" "t" "health"
A=$(q "SELECT alfred.connect_account('$U', 'gmail', 'the access token', key => 'a key of sixteen chars')")
is "$(q "SELECT (alfred.account_tokens('$A', key => 'a key of sixteen chars')).access_token")" "the access token" \
	"connect_account and account_tokens"
C=$(q "INSERT INTO alfred.chat_sessions (user_id) VALUES ('$U') RETURNING id")
is "$(q "SELECT context_summary FROM alfred.set_context_summary('$C', 'moving house')")" "moving house" "set_context_summary"
q "DELETE FROM alfred.users WHERE id = '$V'" >/dev/null
is "$(q "SELECT count(*) FROM alfred.users WHERE id = '$V'")$(q "SELECT count(*) FROM alfred.sessions WHERE user_id = '$V'")" "00" \
	"deleting a user cascades to the distributed tables"
is "$(q "DELETE FROM alfred.users WHERE id = '$U'; SELECT count(*) FROM alfred.proposals WHERE user_id = '$U'")" "0" \
	"deleting a user who approved proposals (SET NULL approved_by after the cascade, as on one node)"

# ---- a third node, shards rebalanced ----
citus_add_worker
q "SELECT citus_rebalance_start(shard_transfer_mode => 'block_writes')" >/dev/null
q "SELECT citus_rebalance_wait()" >/dev/null
is "$(q "SELECT count(DISTINCT p.nodeport) FROM pg_dist_shard s JOIN pg_dist_shard_placement p USING (shardid)
          WHERE s.logicalrelid = 'alfred.tasks'::regclass")" "3" \
	"after citus_add_worker and a rebalance the tasks' shards are on three nodes"
W=$(q "SELECT alfred.create_user('cy@example.com', 'pw of cy', 'cy')")
T3=$(q "INSERT INTO alfred.tasks (user_id, title) VALUES ('$W', 'after the rebalance') RETURNING id")
H3=$(q "INSERT INTO alfred.habits (user_id, name, frequency) VALUES ('$W', 'swim', 'daily') RETURNING id")
is "$(q "SELECT (SELECT status FROM alfred.complete_task('$T3')) || ' ' || (SELECT current_streak FROM alfred.log_habit('$H3'))")" \
	"completed 1" "the API works after the rebalance"

# ---- removing alfred ----
q "DROP EXTENSION alfred CASCADE" >/dev/null
is "$(for i in 0 1 2 3; do citus_psql "$i" -Atc "SELECT count(*) FROM pg_namespace WHERE nspname = 'alfred'"; done | tr '\n' ' ')$(q "SELECT count(*) FROM pg_dist_partition")" \
	"0 0 0 0 0" "DROP EXTENSION alfred CASCADE removes alfred and its shards from every node"
