#!/usr/bin/env bash
# test/citus/scheduler.sh: the scheduler on a Citus cluster (a coordinator and
# two worker nodes on this machine).  Each node's background worker claims
# the due tasks of the shards placed on it: every task of users spread over
# every node fires exactly once (runs and the tool's side effects counted per
# task), on the node that holds the user's shard, one-time and cron tasks,
# through a worker node killed and restarted mid-drain and a shard moved
# while its tasks drain; external runs are claimed through the coordinator
# with their lease fencing.
#
#   ALFRED_PORT=55630 ALFRED_TMP=/tmp/alfred-citus bash test/citus/scheduler.sh
#   (alfred built and installed first: test/run does it, or build_and_install)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scheduler_lib.bash"	# citus_alfred_distribute
. "$(dirname "$0")/../integration/worker_lib.bash"	# ok, is, wait_for
set +e

q() { citus_psql 0 -At -c "$1"; }			# through the coordinator (wait_for's too)
qn() { local i=$1; shift; citus_psql "$i" -At -c "$1"; }	# on node i

citus_ensure_installed || exit 1
citus_start 2
citus_alfred_distribute
echo "1..38"

# fire: an sql tool whose side effect (a row of public.fired, colocated with
# the user's shard) commits with the run's record, and that says where it ran
citus_psql 0 >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE public.fired (user_id uuid NOT NULL, tag text NOT NULL, port int NOT NULL,
						   at timestamptz NOT NULL DEFAULT clock_timestamp());
SELECT create_distributed_table('public.fired', 'user_id', colocate_with => 'alfred.scheduled_tasks');
CREATE FUNCTION public.fire(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_sleep(coalesce((args->>'sleep')::float8, 0));
	INSERT INTO public.fired (user_id, tag, port) VALUES (fire.user_id, args->>'tag', current_setting('port')::int);
	RETURN jsonb_build_object('port', current_setting('port')::int);
END $$;
SELECT alfred.register_tool('fire', 'public.fire(uuid, jsonb)');
SELECT alfred.register_tool('ext', kind => 'external');
INSERT INTO alfred.users (email, username, password_hash)
SELECT 'u' || i || '@example.com', 'u' || i, '$2a$04$xxxxxxxxxxxxxxxxxxxxxx' FROM generate_series(1, 40) i;
-- the node (port) that holds a user's shard, from Citus's metadata
CREATE FUNCTION public.home_port(user_id uuid) RETURNS int LANGUAGE sql STABLE AS $$
	SELECT p.nodeport FROM pg_dist_shard_placement p
	 WHERE p.shardid = get_shard_id_for_distribution_column('alfred.scheduled_tasks', $1)
$$;
SQL
port1=$(citus_node_port 1)
port2=$(citus_node_port 2)

# exactly-once checks of the tasks named $1: each has one run, the tool fired
# once per task, and each run ran on the node holding the user's shard
runs_once() {
	q "SELECT count(*) FROM (SELECT FROM alfred.task_runs r JOIN alfred.scheduled_tasks t
								 ON t.user_id = r.user_id AND t.id = r.task_id
							  WHERE t.name = '$1' GROUP BY r.user_id, r.task_id HAVING count(*) <> 1) x"
}
fired_once() {
	q "SELECT count(*) || ' ' || count(DISTINCT tag) FROM public.fired WHERE tag LIKE '$1-%'"
}

is "$(q "SELECT alfred.scheduler_is_sharded()") $(qn 1 "SELECT alfred.scheduler_is_sharded()")" "t t" \
	"scheduler_is_sharded() on the coordinator and on a worker node"

# 1. one-time and cron tasks of 40 users, spread over both worker nodes
q "SELECT count(alfred.schedule_task(u.id, 'once', 'fire', jsonb_build_object('tag', 'once-' || u.username),
									 at => now() + interval '2 s')) FROM alfred.users u" >/dev/null
q "SELECT count(alfred.schedule_task(u.id, 'cron', 'fire', jsonb_build_object('tag', 'cron-' || u.username),
									 cron => '0 4 * * *')) FROM alfred.users u" >/dev/null
# a cron task due in 2 s (one multi-shard UPDATE: a two-phase commit on both nodes)
q "UPDATE alfred.scheduled_tasks SET next_run_at = now() + interval '2 s' WHERE name = 'cron'" >/dev/null
is "$(q "SELECT count(DISTINCT public.home_port(user_id)) FROM alfred.scheduled_tasks")" 2 \
	"the users' tasks live on both worker nodes"
ok $(wait_for "SELECT count(*) = 80 FROM alfred.task_runs" 30; echo $?) "every one-time and cron task ran"
sleep 1
is "$(runs_once once) $(runs_once cron)" "0 0" "each task ran exactly once"
is "$(fired_once once) $(fired_once cron)" "40 40 40 40" "and its tool's side effect happened once"
is "$(q "SELECT count(*) FROM alfred.task_runs r WHERE (r.result::jsonb->>'port')::int <> public.home_port(r.user_id)")" 0 \
	"each run ran on the node that holds the user's shard"
is "$(q "SELECT string_agg(DISTINCT r.result::jsonb->>'port', ' ' ORDER BY r.result::jsonb->>'port') FROM alfred.task_runs r")" \
	"$port1 $port2" "both worker nodes' schedulers ran tasks"
is "$(q "SELECT count(*) FILTER (WHERE status <> 'completed') FROM alfred.scheduled_tasks WHERE name = 'once'")" 0 \
	"the one-time tasks are completed"
is "$(q "SELECT count(*) FROM alfred.scheduled_tasks WHERE name = 'cron' AND status = 'active' AND run_count = 1
		  AND next_run_at = alfred.cron_next('0 4 * * *', last_run_at, timezone)")" 40 \
	"the cron tasks moved on to their next slot"
late=$(q "SELECT round(extract(epoch FROM max(r.started_at - r.due_at)) * 1000) FROM alfred.task_runs r")
ok $([ -n "$late" ] && [ "$late" -lt 1000 ]; echo $?) "they started within 1 s of due, woken at commit (latest ${late} ms)"
is "$(q "SELECT runs_done FROM alfred.worker_status")" 0 "the coordinator's scheduler (no shards) ran none"

# 1b. woken at commit, not by the once-a-second look at the placements: tasks
# due 0.5 s after their commit, of users on both nodes in one transaction
# (Citus commits it in two phases) and of one user alone (one phase)
q "SELECT count(alfred.schedule_task(u.id, 'soon', 'fire', jsonb_build_object('tag', 'soon-' || u.username),
									 at => now() + interval '0.5 s'))
	 FROM (SELECT * FROM alfred.users ORDER BY username LIMIT 10) u" >/dev/null
q "SELECT alfred.schedule_task(u.id, 'alone', 'fire', jsonb_build_object('tag', 'alone-' || u.username),
							   at => now() + interval '0.5 s') FROM alfred.users u WHERE username = 'u20'" >/dev/null
wait_for "SELECT count(*) = 11 FROM alfred.scheduled_tasks WHERE name IN ('soon', 'alone') AND status = 'completed'" 10
soon=$(q "SELECT round(extract(epoch FROM max(r.started_at - r.due_at) FILTER (WHERE t.name = 'soon')) * 1000) || ' '
			  || round(extract(epoch FROM max(r.started_at - r.due_at) FILTER (WHERE t.name = 'alone')) * 1000) || ' '
			  || count(DISTINCT public.home_port(r.user_id)) FILTER (WHERE t.name = 'soon')
			FROM alfred.task_runs r JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
		   WHERE t.name IN ('soon', 'alone')")
read -r soon_ms alone_ms soon_nodes <<<"$soon"
ok $([ "${soon_ms:-9999}" -lt 450 ] && [ "$soon_nodes" = 2 ]; echo $?) \
	"a two-phase commit on both nodes wakes both workers: latest start ${soon_ms} ms after due"
ok $([ "${alone_ms:-9999}" -lt 450 ]; echo $?) "a one-phase commit wakes the node's worker: ${alone_ms} ms after due"

# 2. a worker node killed mid-drain and restarted: the drain completes, once
q "SELECT count(alfred.schedule_task(u.id, 'drain', 'fire',
				jsonb_build_object('tag', 'drain-' || u.username || '-' || g, 'sleep', 0.01),
				at => now() + interval '1 s'))
	 FROM alfred.users u, generate_series(1, 15) g" >/dev/null
on1="public.home_port(r.user_id) = $port1"
total1=$(q "SELECT count(*) FROM alfred.scheduled_tasks r WHERE name = 'drain' AND $on1")
wait_for "SELECT count(*) >= 100 FROM alfred.task_runs r JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id WHERE t.name = 'drain' AND $on1" 20
before=$(q "SELECT count(*) FROM alfred.task_runs r JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id WHERE t.name = 'drain' AND $on1")
citus_kill_node 1
sleep 1
citus_start_node 1
ok $([ "$before" -gt 0 ] && [ "$before" -lt "$total1" ]; echo $?) "node 1 was killed mid-drain ($before of its $total1 runs done)"
ok $(wait_for "SELECT count(*) = 600 FROM alfred.scheduled_tasks WHERE name = 'drain' AND status = 'completed'" 60; echo $?) \
	"after its restart the drain completes"
is "$(runs_once drain)" 0 "each task ran exactly once"
is "$(fired_once drain)" "600 600" "and its tool's side effect happened once"
is "$(q "SELECT count(*) FROM alfred.task_runs r WHERE (r.result::jsonb->>'port')::int <> public.home_port(r.user_id)")" 0 \
	"each on the node holding its shard"

# 3. a shard moved to the other node while its tasks drain, then tasks of
# its users after the move: each ran once, the later ones on the new node,
# and the old node never served the copy it keeps until the deferred drop
shard=$(q "SELECT s.shardid FROM pg_dist_shard s JOIN pg_dist_shard_placement p USING (shardid)
			WHERE s.logicalrelid = 'alfred.scheduled_tasks'::regclass AND p.nodeport = $port1
			ORDER BY (SELECT count(*) FROM alfred.users u
					   WHERE get_shard_id_for_distribution_column('alfred.scheduled_tasks', u.id) = s.shardid) DESC,
					 s.shardid LIMIT 1")
in_shard="get_shard_id_for_distribution_column('alfred.scheduled_tasks', u.id) = $shard"
q "SELECT count(alfred.schedule_task(u.id, 'moving', 'fire',
				jsonb_build_object('tag', 'moving-' || u.username || '-' || g, 'sleep', 0.02),
				at => now() + interval '1 s'))
	 FROM alfred.users u, generate_series(1, 60) g WHERE $in_shard" >/dev/null
moving=$(q "SELECT count(*) FROM alfred.scheduled_tasks WHERE name = 'moving'")
wait_for "SELECT count(*) > 0 FROM alfred.task_runs r JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id WHERE t.name = 'moving'" 20
# logical replication connects to the nodes by their name (the socket directory)
# as Citus's local host name; and the moved-away copy stays (no deferred drop)
for ((i = 0; i <= 2; i++)); do
	citus_psql "$i" -c "ALTER SYSTEM SET citus.local_hostname = '$CITUS_SOCK'" \
		-c "ALTER SYSTEM SET citus.defer_shard_delete_interval = -1" -c "SELECT pg_reload_conf()" >/dev/null
done
move_start=$SECONDS
q "SELECT citus_move_shard_placement($shard, '$CITUS_SOCK', $port1, '$CITUS_SOCK', $port2, 'force_logical')" >/dev/null
echo "# the move took $((SECONDS - move_start)) s"
moved_at=$(q "SELECT count(*) FROM alfred.task_runs r JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id WHERE t.name = 'moving'")
is "$(q "SELECT nodeport FROM pg_dist_shard_placement WHERE shardid = $shard")" "$port2" "shard $shard moved to node 2"
# (whether the drain outlasted the move depends on the machine's speed: a note, not a test)
echo "# when the move returned, $moved_at of $moving of its runs were done"
ok $(wait_for "SELECT count(*) = $moving FROM alfred.scheduled_tasks WHERE name = 'moving' AND status = 'completed'" 60; echo $?) \
	"the drain completes on the new node"
q "SELECT count(alfred.schedule_task(u.id, 'moved', 'fire', jsonb_build_object('tag', 'moved-' || u.username),
									 at => now() + interval '2 s')) FROM alfred.users u WHERE $in_shard" >/dev/null
ok $(wait_for "SELECT count(*) = 0 FROM alfred.scheduled_tasks WHERE name = 'moved' AND status <> 'completed'" 30; echo $?) \
	"tasks of its users after the move ran"
is "$(runs_once moving) $(runs_once moved) $(fired_once moving)" "0 0 $moving $moving" "each exactly once, through the move"
is "$(q "SELECT count(*) FILTER (WHERE (r.result::jsonb->>'port')::int <> $port2) FROM alfred.task_runs r
		   JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id WHERE t.name = 'moved'")" 0 \
	"the ones after the move on the new node"
# the old node keeps its copy of the shard (the deferred drop is off): every
# run in it is one the new node has too (none recorded there after the move)
runs_shard=$(q "SELECT s.shardid FROM pg_dist_shard s WHERE s.logicalrelid = 'alfred.task_runs'::regclass
				  AND s.shardminvalue = (SELECT shardminvalue FROM pg_dist_shard WHERE shardid = $shard)")
sleep 1
old_ids=$(qn 1 "SELECT count(*) || ' ' || coalesce(string_agg(id::text, ','), '') FROM alfred.task_runs_$runs_shard")
is "$(q "SELECT count(*) FROM alfred.task_runs r WHERE r.id = ANY ('{${old_ids#* }}'::uuid[])")" "${old_ids%% *}" \
	"the old node did not serve its leftover copy of the shard (${old_ids%% *} runs in it, all from before the move)"

# 3b. a batch that commits while the move waits for it.  The move blocks
# writes (its lock waits for the batch's commit), then catches up to the WAL
# position it reads from node 1: the batch must be in that WAL.  The order is
# forced with locks this test holds: the move's index builds on node 2 wait
# until node 1 runs the batch, and the batch's tool waits on an advisory lock
# until the move waits for the batch.  Node 1's WAL writer is slowed, so a
# commit left in the WAL buffers (as an asynchronous one may be) would be
# missing on the new node, which would then run the task again.
wal_writer() { citus_psql 1 -c "ALTER SYSTEM SET wal_writer_delay = '$1'" -c "SELECT pg_reload_conf()" >/dev/null; }
waits_on() {	# waits_on I QUERY SECONDS: wait_for, on node I
	local node=$1
	(q() { qn "$node" "$1"; }; wait_for "$2" "$3")
}
hold() {	# hold I NAME SQL: a session on node I named NAME runs SQL and sleeps, in a transaction
	citus_psql "$1" -c "SET application_name = '$2'" -c "BEGIN" -c "$3" -c "SELECT pg_sleep(300)" >/dev/null 2>&1 &
}
release() { qn "$1" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '$2'" >/dev/null; }
blocked() {	# blocked WAITER HOLDER: a session (a) meeting WAITER waits for one (h) meeting HOLDER
	echo "SELECT count(*) > 0 FROM pg_stat_activity a, pg_stat_activity h
		   WHERE ($1) AND ($2) AND h.pid = ANY (pg_blocking_pids(a.pid))"
}
shard2=$(q "SELECT s.shardid FROM pg_dist_shard s JOIN pg_dist_shard_placement p USING (shardid)
			 WHERE s.logicalrelid = 'alfred.scheduled_tasks'::regclass AND p.nodeport = $port1
			   AND EXISTS (SELECT FROM alfred.users u
						    WHERE get_shard_id_for_distribution_column('alfred.scheduled_tasks', u.id) = s.shardid)
			 ORDER BY s.shardid LIMIT 1")
held_user=$(q "SELECT id FROM alfred.users u
				WHERE get_shard_id_for_distribution_column('alfred.scheduled_tasks', u.id) = $shard2 LIMIT 1")
citus_psql 0 >/dev/null <<'SQL'
CREATE FUNCTION public.hold(user_id uuid, args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_advisory_xact_lock_shared(4242);
	INSERT INTO public.fired (user_id, tag, port) VALUES (hold.user_id, args->>'tag', current_setting('port')::int);
	RETURN jsonb_build_object('port', current_setting('port')::int);
END $$;
SELECT alfred.register_tool('hold', 'public.hold(uuid, jsonb)');
SQL
wal_writer 10s
hold 1 tool_gate "SELECT pg_advisory_lock(4242)"
waits_on 1 "SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND granted" 10
q "SELECT citus_move_shard_placement($shard2, '$CITUS_SOCK', $port1, '$CITUS_SOCK', $port2, 'force_logical')" \
	>"$ALFRED_TMP/move2.out" 2>&1 &
mover=$!
# once the data is copied (the replication slot would wait for a batch in
# progress), node 2's copy of the shard is held against the move's index builds
wait_for "SELECT count(*) > 0 FROM get_rebalance_progress() WHERE status = 'Catching Up'" 60
hold 2 index_gate "SET citus.enable_manual_changes_to_shards = on; LOCK alfred.scheduled_tasks_$shard2 IN ROW EXCLUSIVE MODE"
ok $(waits_on 2 "$(blocked true "h.application_name = 'index_gate'")" 60; echo $?) \
	"the move (shard $shard2) is held before its final catch-up"
q "SELECT alfred.schedule_task('$held_user', 'held', 'hold', '{\"tag\": \"held-1\"}', at => now() + interval '50 ms')" >/dev/null
# (the task's row is written out of node 1's WAL buffers by a synchronous
# commit: an application's write committed asynchronously just before the
# move's cutover is a case of its own, in README)
citus_psql 1 -c "SET synchronous_commit = local" -c "SELECT pg_logical_emit_message(true, 'alfred-test', 'flush')" >/dev/null
ok $(waits_on 1 "$(blocked "a.backend_type = 'alfred scheduler'" "h.application_name = 'tool_gate'")" 20; echo $?) \
	"node 1 runs a batch in the shard (its tool waits)"
release 2 index_gate
# the move's lock on the shard's metadata (lock_shard_metadata(7 = ExclusiveLock, ...)) waits for the batch
ok $(waits_on 1 "$(blocked "a.query LIKE 'SELECT lock_shard_metadata(7, %'" "h.backend_type = 'alfred scheduler'")" 60; echo $?) \
	"the move blocks writes to the shard: it waits for the batch"
release 1 tool_gate
wait "$mover"
is "$(cat "$ALFRED_TMP/move2.out")$(q "SELECT nodeport FROM pg_dist_shard_placement WHERE shardid = $shard2")" "$port2" \
	"then the move completes"
ok $(wait_for "SELECT count(*) = 1 FROM alfred.scheduled_tasks WHERE name = 'held' AND status = 'completed'" 20; echo $?) \
	"the task is completed"
is "$(q "SELECT count(*) || ' ' || string_agg(r.result::jsonb->>'port', ',') FROM alfred.task_runs r
		   JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id WHERE t.name = 'held'"),$(
	  q "SELECT count(*) || ' ' || string_agg(port::text, ',') FROM public.fired WHERE tag = 'held-1'")" \
	"1 $port1,1 $port1" "it ran once, in the batch on node 1 the move waited for: the new node has that batch's commit"
wal_writer 200ms

# 4. external runs, claimed through the coordinator by agents (alfred_service):
# each run claimed once across the nodes, and the lease token still fences
citus_psql 0 >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE ROLE alfred_service NOLOGIN;
CREATE ROLE agent LOGIN IN ROLE alfred_service;
GRANT USAGE ON SCHEMA alfred TO alfred_service;	-- (grant_usage's column grants: the lead's part)
SQL
qa() { citus_psql 0 -At -U agent -c "$1"; }
q "SELECT count(alfred.schedule_task(u.id, 'ext', 'ext', at => now() + interval '1 s')) FROM alfred.users u" >/dev/null
ok $(wait_for "SELECT count(*) = 40 FROM alfred.task_runs r JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
				WHERE t.name = 'ext' AND r.status = 'queued'" 20; echo $?) "the workers queued the 40 external runs"
claims=$ALFRED_TMP/citus-claims
rm -f "$claims".*
for a in 1 2 3; do
	qa "SELECT run_id FROM alfred.claim_runs('agent-$a', max => 15, lease => '1 s')" >"$claims.$a" 2>&1 &
done
wait
is "$(cat "$claims".* | sort | uniq | wc -l) $(cat "$claims".* | wc -l)" "40 40" \
	"three agents claiming at once took each run once, 40 in all"
is "$(q "SELECT count(DISTINCT public.home_port(r.user_id)) FROM alfred.task_runs r
		   JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id
		  WHERE t.name = 'ext' AND r.status = 'running'")" 2 "from the shards of both worker nodes"
# the leases (1 s) expire: another agent claims a run again, with a new token
sleep 1.5
again=$(qa "SELECT run_id || ' ' || lease_token FROM alfred.claim_runs('agent-4', max => 1)")
run=${again%% *}
token=${again#* }
is "$(qa "SELECT count(*) FROM alfred.claim_runs('agent-5', max => 100) WHERE run_id = '$run'")" 0 \
	"a run claimed again is not handed out twice"
out=$(qa "SELECT alfred.complete_run('$run', '{\"title\": \"done\"}', gen_random_uuid())" 2>&1)
ok $(echo "$out" | grep -q 'does not hold run'; echo $?) "complete_run with a token that is not the run's is refused"
qa "SELECT alfred.complete_run('$run', '{\"title\": \"done\"}', '$token')" 2>&1 | sed 's/^/# /'
is "$(q "SELECT r.status || ' ' || (n.title IS NOT NULL) FROM alfred.task_runs r LEFT JOIN alfred.notifications n
		   ON n.user_id = r.user_id AND n.id = r.notification_id WHERE r.id = '$run'")" "succeeded true" \
	"with its token it completes the run, with its notification"
out=$(qa "SELECT alfred.complete_run('$run', 'again', '$token')" 2>&1)
ok $(echo "$out" | grep -q 'already ended as succeeded'; echo $?) "and a second report of it is refused"

# a tick decides whether the table is distributed under the lock distribute()
# takes (the coordinator) and with the table locked (every node: Citus's cache
# agrees with its catalogs then): no error, distribute() and the moves included
is "$(cat "$CITUS_DIR"/node[0-9].log | grep -c 'alfred scheduler ERROR')" 0 \
	"no node's scheduler logged an error, distribute() and the moves included"

[ -n "${CITUS_KEEP:-}" ] || citus_stop
