#!/usr/bin/env bash
# The scheduler's hot-path statements keep their index plans whatever the
# statistics say: statistics gathered while scheduled_tasks held 5 rows
# (autoanalyze after a small first load), a first tick then (so that any
# plan cached by the session is the small table's), a burst of 10,000 due
# tasks of two users, and the next tick's plans, as auto_explain prints them.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/worker_lib.bash"
echo "1..9"
DB=alfred_plans
create_db $DB

plans=$(psql_q -d $DB 2>&1 <<'SQL'
SET client_min_messages = warning;
INSERT INTO alfred.users (id, email, password_hash, display_name) VALUES
	('00000000-0000-0000-0000-0000000000a1', 'plans-a@example.com', crypt('x', gen_salt('bf', 4)), 'A'),
	('00000000-0000-0000-0000-0000000000b1', 'plans-b@example.com', crypt('x', gen_salt('bf', 4)), 'B');
CREATE FUNCTION public.noop(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$ BEGIN RETURN '{}'; END $$;
SELECT alfred.register_tool('noop', 'public.noop(uuid, jsonb)');
INSERT INTO alfred.scheduled_tasks (user_id, name, task_type, scheduled_at, tool_name, next_run_at)
SELECT '00000000-0000-0000-0000-0000000000a1', 'small ' || i, 'one_time', '2100-01-01', 'noop', '2100-01-01'
  FROM generate_series(1, 5) i;
ANALYZE alfred.scheduled_tasks; ANALYZE alfred.task_runs; ANALYZE alfred.notifications; ANALYZE alfred.users;
SELECT alfred.run_due_tasks('2100-01-02');
INSERT INTO alfred.scheduled_tasks (user_id, name, task_type, scheduled_at, tool_name, next_run_at)
SELECT CASE WHEN i % 100 = 0 THEN '00000000-0000-0000-0000-0000000000b1'::uuid
			ELSE '00000000-0000-0000-0000-0000000000a1'::uuid END,
	   'burst ' || i, 'one_time', '2100-01-03', 'noop', '2100-01-03'
  FROM generate_series(1, 10000) i;
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_level = notice;
SET client_min_messages = notice;
SELECT alfred.run_due_tasks('2100-01-04', 100);
SQL
)
# the plans of the scheduler's own statements (not of the foreign-key checks they fire)
hot=$(printf '%s\n' "$plans" | awk '/NOTICE:/ {keep = 0} /Query Text: (WITH RECURSIVE u|WITH o AS|SELECT t\.user_id)/ {keep = 1} keep')
is "$(printf '%s\n' "$hot" | grep -c 'Query Text:')" 3 "auto_explain shows the tick's three statements (retries, tasks, record)"
is "$(printf '%s\n' "$hot" | grep -Ec '(Seq|Bitmap Heap) Scan on (scheduled_tasks|task_runs|notifications|users|user_settings|tools)')" 0 \
	"no sequential or bitmap scan of a table (a bitmap scan reads all of a user's due rows to take a few)"
is "$(printf '%s\n' "$hot" | grep -Ec 'Hash Join|Merge Join|Hash Right Join|Hash Left Join')" 0 "no hash or merge join"
ok $(printf '%s\n' "$hot" | grep -q 'Index Scan using scheduled_tasks_user_due_idx on scheduled_tasks t'; echo $?) \
	"each user's due tasks come from the (user_id, next_run_at) index"
ok $(printf '%s\n' "$hot" | grep -q 'Index Scan using task_runs_claimable_idx on task_runs r'; echo $?) \
	"due retries come from the claimable-runs index"
# a full index scan is as bad as a sequential one, unless a LIMIT stops it at
# the first entry (the first step of the loose scan over users)
full=$(printf '%s\n' "$hot" | awk '
	pending != "" { if ($0 !~ /Index Cond/) print pending; pending = "" }
	/Index (Only )?Scan (Backward )?using .* on (scheduled_tasks|task_runs|notifications|users|user_settings)/ &&
		prev !~ /Limit/ { pending = $0 }
	{ prev = $0 }')
is "$full" "" "every other index scan has an index condition (no full index scan)"
ok $(printf '%s\n' "$hot" | grep -A3 'Update on scheduled_tasks' | grep -q 'Nested Loop'; echo $?) \
	"the batch update is a nested loop"
ok $(printf '%s\n' "$hot" | sed -n '/Update on scheduled_tasks/,$p' | grep -A1 'Index Scan using scheduled_tasks_\(pkey\|id_key\) on scheduled_tasks t' | grep -q 'Index Cond'; echo $?) \
	"that looks up each task by its key"
is "$(psql_q -d $DB -At -c "SELECT count(DISTINCT user_id) FROM alfred.task_runs WHERE due_at = '2100-01-03'")" 2 \
	"the tick's 100 runs include user B's (1 in 100 of the burst)"
psql_q -d postgres -c "DROP DATABASE $DB" >/dev/null
