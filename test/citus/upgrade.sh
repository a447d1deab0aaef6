# upgrade.sh: an alfred 0.1 database scales out on Citus.  0.1 cannot be
# created through a coordinator that has worker nodes (its install script
# uses a temporary table, which Citus's two-phase commit refuses), so the
# documented path is: 0.1 on the coordinator before workers are added (or on
# the single node that becomes the coordinator), ALTER EXTENSION alfred
# UPDATE, add the workers (Citus creates the extension on them), then
# alfred.distribute().  Every row survives and the API works.  Prints TAP.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
set +e

echo "1..8"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
is() { n=$((n + 1)); if [ "$1" = "$2" ]; then echo "ok $n - $3"; else echo "not ok $n - $3"; echo "#   got:      '$1'"; echo "#   expected: '$2'"; fi; }
q() { citus_psql 0 -At -c "SET client_min_messages = warning" -c "$1" 2>&1; }
# Row counts of alfred's tables (through the coordinator).
rows() {
	q "SELECT string_agg(format('%s=%s', c.relname,
			(xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM alfred.%I', c.relname), false, true, '')))[1]),
			' ' ORDER BY c.relname)
		  FROM pg_class c WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		   AND c.relname NOT IN ('audit_trail', 'system_logs')"
}

citus_ensure_installed
build_and_install >/dev/null
install_released >/dev/null		# 0.1's install script, rebuilt from its release commit
ALFRED_WORKERS=0 citus_start 0
trap 'citus_stop; uninstall_released >/dev/null 2>&1' EXIT

q "CREATE EXTENSION alfred VERSION '0.1' CASCADE" >/dev/null
is "$(q "SELECT extversion FROM pg_extension WHERE extname = 'alfred'")" "0.1" "0.1 installs on a coordinator without workers"
out=$(citus_psql 0 -q -f "$ALFRED_SRC/test/upgrade/fill-0.1.sql" 2>&1)
ok $? "filled through 0.1's own API"
[ -n "$out" ] && echo "$out" | grep ERROR | sed 's/^/# /'

q "ALTER EXTENSION alfred UPDATE" >/dev/null
is "$(q "SELECT extversion FROM pg_extension WHERE extname = 'alfred'")" "0.2" "ALTER EXTENSION alfred UPDATE on the coordinator"
# (the update's own rows, as on a single node: test/integration/upgrade.sh)
before=$(rows)

citus_add_worker
citus_add_worker
is "$(for i in 1 2; do citus_psql "$i" -Atc "SELECT extversion FROM pg_extension WHERE extname = 'alfred'"; done | tr '\n' ' ')" \
	"0.2 0.2 " "the workers added then get alfred 0.2 from Citus"

is "$(q "SELECT count(*) FILTER (WHERE changed AND kind <> 'node') || '/' || count(*) FROM alfred.distribute()")" "35/38" \
	"distribute() after the upgrade: 35 tables become Citus tables"
is "$(q "SELECT count(DISTINCT p.nodeport) FROM pg_dist_shard s JOIN pg_dist_shard_placement p USING (shardid)
          WHERE s.logicalrelid = 'alfred.tasks'::regclass")" "2" "the tasks' shards are on both workers"
after=$(rows)
is "$after" "$before" "distribute() keeps every row of every table"
U=$(q "SELECT alfred.create_user('after@example.com', 'a password', 'after')")
T=$(q "INSERT INTO alfred.tasks (user_id, title) VALUES ('$U', 'after the upgrade') RETURNING id")
is "$(q "SELECT status FROM alfred.complete_task('$T')")" "completed" "the API works on the upgraded, distributed alfred"
