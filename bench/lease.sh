#!/usr/bin/env bash
# bench/lease.sh: what fencing costs the agent API.  Claims and completes N
# external runs, one psql session doing what an agent does per run
# (claim_runs(max 1), then complete_run: two round trips), against
#   fenced     alfred's agent API: SECURITY DEFINER, a lease_token per claim
#              (its SHA-256 stored), the token checked on every report
#   unfenced   the same database with claim_runs, extend_lease, complete_run
#              and fail_run put back as released in 0.1 (alfred--0.1.sql, see migrations/released)
# in two databases of the same cluster, in alternating rounds, and prints
# runs/s of each and the ratio fenced / unfenced.  With REV (a commit), the
# second database is instead this tree with claim_runs as it was at REV
# (before/after of a change to it: "before"), and the ratio is fenced / before.
#
#   ALFRED_PGROOT=/tmp/pgroot-me ALFRED_PORT=55599 nice bench/lease.sh [N] [ROUNDS] [REV]
. "$(dirname "$0")/../test/lib.sh"
cd "$ALFRED_SRC"

N=${1:-2000}
ROUNDS=${2:-4}
REV=${3:-}
other=unfenced
[ -z "$REV" ] || other=before	# claim_runs at REV
B=$ALFRED_TMP/bench-lease
export PGOPTIONS="-c client_min_messages=warning"

build_and_install
start_cluster
trap stop_cluster EXIT
mkdir -p "$B"
q() { "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# the 0.1 agent API, as released (its install script rebuilt from the release commit)
perl migrations/build script alfred--0.1.sql | awk '/^CREATE FUNCTION alfred\.(claim_runs|extend_lease|complete_run|fail_run)\(/ { on = 1 }
	 on { print } on && /^COMMENT ON FUNCTION/ { on = 0; getline; print }' >"$B/unfenced.sql"

for db in fenced "$other"; do
	create_db $db
	q $db "INSERT INTO alfred.users (id, email, password_hash) VALUES ('00000000-0000-0000-0000-0000000000b1', 'bench@example.com', crypt('x', gen_salt('bf', 4)))"
	q $db "SELECT alfred.register_tool('cat', kind => 'external')" >/dev/null
	q $db "SELECT count(alfred.schedule_task('00000000-0000-0000-0000-0000000000b1', 'bench ' || i, 'cat',
			jsonb_build_object('i', i), at => now() + interval '1 hour')) FROM generate_series(1, $N) i" >/dev/null
	q $db "SELECT alfred.run_due_tasks(now() + interval '1 hour')" >/dev/null
	q $db "UPDATE alfred.task_runs SET next_attempt_at = now()"
done
if [ -n "$REV" ]; then
	git show "$REV:migrations/0.2/300_scheduler.sql" | sed 's/@extschema@/alfred/g' |
		awk '/^CREATE FUNCTION alfred\.claim_runs\(/ { on = 1; sub(/^CREATE FUNCTION/, "CREATE OR REPLACE FUNCTION") }
			 on { print } on && /^\$\$;/ { on = 0 }' >"$B/rev.sql"
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$other" -f "$B/rev.sql"
else
q unfenced "ALTER EXTENSION alfred DROP FUNCTION alfred.claim_runs(text, text[], integer, interval);
	ALTER EXTENSION alfred DROP FUNCTION alfred.extend_lease(uuid, text, interval, uuid);
	ALTER EXTENSION alfred DROP FUNCTION alfred.complete_run(uuid, text, uuid);
	ALTER EXTENSION alfred DROP FUNCTION alfred.fail_run(uuid, text, boolean, uuid);
	DROP FUNCTION alfred.claim_runs(text, text[], integer, interval);
	DROP FUNCTION alfred.extend_lease(uuid, text, interval, uuid);
	DROP FUNCTION alfred.complete_run(uuid, text, uuid);
	DROP FUNCTION alfred.fail_run(uuid, text, boolean, uuid);"
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d unfenced -f "$B/unfenced.sql"
fi

per=$((N / ROUNDS))
for i in $(seq 1 $per); do
	echo "SELECT run_id, lease_token FROM alfred.claim_runs('bench', NULL, 1, '5 minutes') \\gset"
	echo "SELECT alfred.complete_run(:'run_id', 'done', :'lease_token');"
done >"$B/fenced-round.sql"
for i in $(seq 1 $per); do
	echo "SELECT run_id FROM alfred.claim_runs('bench', NULL, 1, '5 minutes') \\gset"
	echo "SELECT alfred.complete_run(:'run_id', 'done');"
done >"$B/unfenced-round.sql"
[ -z "$REV" ] || cp "$B/fenced-round.sql" "$B/before-round.sql"

declare -A ms=([fenced]=0 [$other]=0)
for r in $(seq 1 "$ROUNDS"); do
	for db in "$other" fenced; do
		t0=$(date +%s%N)
		"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d $db -f "$B/$db-round.sql" >/dev/null
		ms[$db]=$((ms[$db] + ($(date +%s%N) - t0) / 1000000))
	done
done
for db in "$other" fenced; do
	[ "$(q $db "SELECT count(*) FROM alfred.task_runs WHERE status = 'succeeded'")" = $((per * ROUNDS)) ] ||
		{ echo "bench/lease.sh: $db did not complete every run" >&2; exit 1; }
done
echo "runs: $((per * ROUNDS)) per API, $ROUNDS alternating rounds; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -z "$REV" ] || echo "before: claim_runs at $REV ($(git rev-parse --short "$REV")); fenced: this tree"
for db in "$other" fenced; do
	echo "$db: $(( per * ROUNDS * 1000 / ms[$db] )) runs/s (${ms[$db]} ms)"
done
echo "ratio fenced / $other: $(echo "scale=2; ${ms[$other]} / ${ms[fenced]}" | bc)"
