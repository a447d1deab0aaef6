# upgrade.sh: every released version upgrades to the current one.  For each
# frozen migrations/alfred--X.Y.sql: install X.Y, fill it with data through its
# own API (test/upgrade/fill-X.Y.sql), ALTER EXTENSION alfred UPDATE, and check
# that the schema equals a fresh install of the current version (pg_dump
# --schema-only in binary-upgrade mode, which lists the extension's member
# objects, less OIDs) and that every row survived.  Prints TAP.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/worker_lib.bash"

current=$(sed -n "s/^default_version *= *'\([^']*\)'/\1/p" "$ALFRED_SRC/alfred.control")
shopt -s nullglob
released=()
for f in "$ALFRED_SRC"/migrations/alfred--*.sql; do
	v=$(basename "$f" .sql); v=${v#alfred--}
	case $v in *--*) continue ;; esac
	[ "$v" = "$current" ] || released+=("$v")
done
if [ ${#released[@]} = 0 ]; then
	echo "1..0 # SKIP no released version before $current"
	exit 0
fi
echo "1..$((4 * ${#released[@]}))"

# The schema of a database, as pg_dump sees it with every extension member
# listed, less what differs between two equal databases (OIDs, comments
# naming the database).
schema_of() {
	"$PGBIN/pg_dump" --schema-only --binary-upgrade --no-owner -d "$1" |
		grep -v -e 'binary_upgrade_set_next_' -e '^\\restrict ' -e '^\\unrestrict ' \
			-e '^-- Dumped' -e '^--$' -e '^$' |
		sed -e "s/'{[0-9,]*}'/'{oids}'/g" -e "s/relfrozenxid = '[0-9]*', relminmxid = '[0-9]*'/relfrozenxid = 'xid'/" \
			-e "s/^WHERE oid = '[0-9]*';/WHERE oid = 'oid';/" -e "s/$1/DB/g"
}

# Row counts of every table in schema alfred.
rows_of() {
	psql_q -d "$1" -At -c "SELECT string_agg(format('%s=%s', c.relname,
			(xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM alfred.%I', c.relname), false, true, '')))[1]),
			' ' ORDER BY c.relname)
		  FROM pg_class c WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
}

W=$ALFRED_TMP/upgrade
mkdir -p "$W"
for v in "${released[@]}"; do
	qpg "DROP DATABASE IF EXISTS upgrade_old" >/dev/null
	qpg "DROP DATABASE IF EXISTS upgrade_new" >/dev/null
	qpg "CREATE DATABASE upgrade_old" >/dev/null
	qpg "CREATE DATABASE upgrade_new" >/dev/null
	psql_q -d upgrade_old -c "SET client_min_messages = warning" -c "CREATE EXTENSION alfred VERSION '$v' CASCADE" >/dev/null
	rc=0; psql_q -d upgrade_old -f "$ALFRED_SRC/test/upgrade/fill-$v.sql" >"$W/fill.out" 2>&1 || rc=$?
	ok $rc "$v: filled with data through its own API"
	[ $rc = 0 ] || sed 's/^/# /' "$W/fill.out"
	before=$(rows_of upgrade_old)

	psql_q -d upgrade_old -c "ALTER EXTENSION alfred UPDATE" >"$W/update.out" 2>&1 || sed 's/^/# /' "$W/update.out"
	is "$(psql_q -d upgrade_old -At -c "SELECT extversion FROM pg_extension WHERE extname = 'alfred'")" "$current" \
		"$v: ALTER EXTENSION alfred UPDATE reaches $current"

	psql_q -d upgrade_new -c "SET client_min_messages = warning" -c "CREATE EXTENSION alfred CASCADE" >/dev/null
	schema_of upgrade_old >"$W/old.sql"
	schema_of upgrade_new >"$W/new.sql"
	rc=0; diff -u "$W/new.sql" "$W/old.sql" >"$W/schema.diff" || rc=$?
	ok $rc "$v: the upgraded schema equals a fresh install of $current"
	if [ -s "$W/schema.diff" ]; then head -40 "$W/schema.diff" | sed 's/^/# /'; fi

	# What the update adds by design: tables that are new are not survivors;
	# 0.2 gives every user an AI context (seed 001), and the retention table
	# holds the rules of a fresh install.
	users=$(sed -n 's/.*\busers=\([0-9]*\).*/\1/p' <<<"$before")
	rules=$(psql_q -d upgrade_new -At -c "SELECT count(*) FROM alfred.retention")
	expected=$(sed -e "s/\bai_contexts=[0-9]*/ai_contexts=$users/" \
				   -e "s/\bretention=[0-9]*/retention=$rules/" <<<"$before")
	after=$(for kv in $(rows_of upgrade_old); do
		case " $before " in *" ${kv%%=*}="*) printf '%s ' "$kv" ;; esac
	done)
	is "${after% }" "$expected" "$v: every row survived the update"
done
qpg "DROP DATABASE upgrade_old" >/dev/null
qpg "DROP DATABASE upgrade_new" >/dev/null
