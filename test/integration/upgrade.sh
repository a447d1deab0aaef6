# upgrade.sh: every released version upgrades to the current one.  For each
# version in migrations/released: install it (its install script rebuilt from
# the commit that released it), fill it with data through its own API
# (test/upgrade/fill-X.Y.sql), ALTER EXTENSION alfred UPDATE, and check that
# the schema equals a fresh install of the current version (pg_dump
# --schema-only in binary-upgrade mode, which lists the extension's member
# objects, less OIDs) and that every row survived.
#
# Then that the check and the build catch what they are for, in a scratch
# copy of migrations/ built as version <current>probe: a part changed without
# the upgrade source makes the schemas differ; "build copies" finds the new
# function copied into the upgrade source and --fix makes the copy a "-- @create"
# directive, with which they are equal again; a directive naming an object no
# part defines fails the build, naming the line; a shallow clone is told to
# fetch the history.  Prints TAP.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/worker_lib.bash"

current=$(sed -n "s/^default_version *= *'\([^']*\)'/\1/p" "$ALFRED_SRC/alfred.control")
released=($(sed -n 's/^\([^#[:space:]][^[:space:]]*\)[[:space:]].*/\1/p' "$ALFRED_SRC/migrations/released"))
last=${released[${#released[@]} - 1]}
probe=${current}probe
echo "1..$((1 + 4 * ${#released[@]} + 7))"

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

# new_dbs: empty databases upgrade_old and upgrade_new.
new_dbs() {
	qpg "DROP DATABASE IF EXISTS upgrade_old" >/dev/null
	qpg "DROP DATABASE IF EXISTS upgrade_new" >/dev/null
	qpg "CREATE DATABASE upgrade_old" >/dev/null
	qpg "CREATE DATABASE upgrade_new" >/dev/null
}

# same_schema <name>: the test that upgrade_old and upgrade_new have one schema.
# diff_schema <name>: the test that they differ.
compare_schemas() {
	schema_of upgrade_old >"$W/old.sql"
	schema_of upgrade_new >"$W/new.sql"
	diff -u "$W/new.sql" "$W/old.sql" >"$W/schema.diff"
}
same_schema() {
	local rc=0
	compare_schemas || rc=$?
	ok $rc "$1"
	if [ -s "$W/schema.diff" ]; then head -40 "$W/schema.diff" | sed 's/^/# /'; fi
}

W=$ALFRED_TMP/upgrade
EXTDIR=$("$PGBIN/pg_config" --sharedir)/extension
mkdir -p "$W"
probe_files=("$EXTDIR/alfred--$probe.sql" "$EXTDIR/alfred--$last--$probe.sql")
cleanup() {
	uninstall_released >/dev/null 2>&1 || true
	as_installer rm -f "${probe_files[@]}"
}
trap cleanup EXIT

rc=0; install_released >"$W/released.out" 2>&1 || rc=$?
ok $rc "the install scripts of ${released[*]} are rebuilt from the commits that released them"
[ $rc = 0 ] || sed 's/^/# /' "$W/released.out"

for v in "${released[@]}"; do
	new_dbs
	psql_q -d upgrade_old -c "SET client_min_messages = warning" -c "CREATE EXTENSION alfred VERSION '$v' CASCADE" >/dev/null
	rc=0; psql_q -d upgrade_old -f "$ALFRED_SRC/test/upgrade/fill-$v.sql" >"$W/fill.out" 2>&1 || rc=$?
	ok $rc "$v: filled with data through its own API"
	[ $rc = 0 ] || sed 's/^/# /' "$W/fill.out"
	before=$(rows_of upgrade_old)

	psql_q -d upgrade_old -c "ALTER EXTENSION alfred UPDATE" >"$W/update.out" 2>&1 || sed 's/^/# /' "$W/update.out"
	is "$(psql_q -d upgrade_old -At -c "SELECT extversion FROM pg_extension WHERE extname = 'alfred'")" "$current" \
		"$v: ALTER EXTENSION alfred UPDATE reaches $current"

	psql_q -d upgrade_new -c "SET client_min_messages = warning" -c "CREATE EXTENSION alfred CASCADE" >/dev/null
	same_schema "$v: the upgraded schema equals a fresh install of $current"

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

# The scratch copy: migrations/ and alfred.control as version $probe, with a
# new function in a part of its own.
P=$W/probe
rm -rf "$P"
mkdir -p "$P/migrations"
cp "$ALFRED_SRC/alfred.control" "$P/"
sed -i "s/^default_version *=.*/default_version = '$probe'/" "$P/alfred.control"
cp -R "$ALFRED_SRC/migrations/$current" "$P/migrations/$probe"
cp "$ALFRED_SRC/migrations/build" "$ALFRED_SRC/migrations/released" "$P/migrations/"
cp "$ALFRED_SRC/migrations/alfred--$last--$current.sql" "$P/migrations/alfred--$last--$probe.sql"
cat >"$P/migrations/$probe/999_probe.sql" <<'SQL'
CREATE FUNCTION @extschema@.upgrade_probe(n integer)
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT n + 1 $$;
COMMENT ON FUNCTION @extschema@.upgrade_probe(integer) IS 'upgrade.sh: a part that changed';
SQL

# probe_schemas: builds the probe's scripts, installs them, and leaves
# upgrade_old ($last updated to $probe) and upgrade_new (a fresh $probe).
probe_schemas() {
	perl "$P/migrations/build" script "alfred--$probe.sql" >"$W/install.sql" &&
		perl "$P/migrations/build" script "alfred--$last--$probe.sql" >"$W/upgrade.sql" &&
		as_installer cp "$W/install.sql" "${probe_files[0]}" &&
		as_installer cp "$W/upgrade.sql" "${probe_files[1]}" &&
		as_installer chmod a+r "${probe_files[@]}" || return 1
	new_dbs
	psql_q -d upgrade_old -c "SET client_min_messages = warning" \
		-c "CREATE EXTENSION alfred VERSION '$last' CASCADE" -c "ALTER EXTENSION alfred UPDATE TO '$probe'" >/dev/null &&
		psql_q -d upgrade_new -c "SET client_min_messages = warning" -c "CREATE EXTENSION alfred VERSION '$probe' CASCADE" >/dev/null
}

rc=0; probe_schemas >"$W/probe.out" 2>&1 || rc=$?
[ $rc = 0 ] || sed 's/^/# /' "$W/probe.out"
rc=0; compare_schemas || rc=$?
is "$rc:$(grep -q '^-.*upgrade_probe' "$W/schema.diff" && echo lacks)" "1:lacks" \
	"a part changed without the upgrade source: the upgraded schema lacks what a fresh install has"

# What a branch may append: the new function copied from its part.
src=$P/migrations/alfred--$last--$probe.sql
n=$(($(wc -l <"$src") + 2))
{ echo '-- upgrade.sh: the probe'; sed 's/@extschema@/alfred/g' "$P/migrations/$probe/999_probe.sql"; } >>"$src"
is "$(perl "$P/migrations/build" copies 2>&1 | grep upgrade_probe)" \
	"migrations/alfred--$last--$probe.sql:$n: a copy of migrations/$probe/999_probe.sql: write \"-- @create function alfred.upgrade_probe\"" \
	"build copies finds a definition the upgrade source copies from a part"
perl "$P/migrations/build" copies --fix >/dev/null
is "$(tail -n 2 "$src")" "-- upgrade.sh: the probe
-- @create function alfred.upgrade_probe" "build copies --fix makes it a directive"
rc=0; probe_schemas >"$W/probe.out" 2>&1 || rc=$?
[ $rc = 0 ] || sed 's/^/# /' "$W/probe.out"
same_schema "with a directive in the upgrade source, the upgraded schema equals a fresh install again"

n=$(($(wc -l <"$src") + 1))
echo '-- @replace function alfred.no_such_function' >>"$src"
rc=0; perl "$P/migrations/build" script "alfred--$last--$probe.sql" >/dev/null 2>"$W/build.err" || rc=$?
is "$rc:$(cat "$W/build.err")" \
	"1:migrations/build: migrations/alfred--$last--$probe.sql:$n: function alfred.no_such_function is not defined in migrations/$probe/*.sql" \
	"a directive naming a function no part defines fails the build, naming the line"

sed -i '$d' "$src"		# (the bad directive)
user_comments() { perl "$P/migrations/build" script "alfred--$last--$probe.sql" | grep -c "^COMMENT ON COLUMN alfred.users\."; }
before=$(user_comments)
echo '-- @comments table alfred.users' >>"$src"
is "$(($(user_comments) - before))" \
	"$(cat "$P"/migrations/$probe/*.sql | grep -c "^COMMENT ON COLUMN @extschema@.users\.")" \
	"a @comments directive stands for every comment the parts give the table's columns"

# A clone without the release commits (shallow, as CI checkouts often are)
# cannot rebuild a released script, and says how to get them.
commit() { git -C "$P" -c user.name=upgrade.sh -c user.email=upgrade@example.com commit -q --allow-empty -m "$1"; }
git -C "$P" init -q && git -C "$P" add -A && commit probe && commit "probe again" &&
	rm -rf "$W/shallow" && git clone -q --depth 1 "file://$P" "$W/shallow" >"$W/clone.out" 2>&1 ||
	sed 's/^/# /' "$W/clone.out"
rc=0; perl "$W/shallow/migrations/build" script "alfred--$last.sql" >/dev/null 2>"$W/build.err" || rc=$?
is "$rc:$(cat "$W/build.err")" \
	"1:migrations/build: alfred--$last.sql is rebuilt from commit $(sed -n "s/^$last \([0-9a-f]*\).*/\1/p" "$ALFRED_SRC/migrations/released"), which released alfred $last (migrations/released), and that commit is not in this clone: it is shallow; run \"git fetch --unshallow\"" \
	"a shallow clone cannot rebuild $last and says to run git fetch --unshallow"

qpg "DROP DATABASE upgrade_old" >/dev/null
qpg "DROP DATABASE upgrade_new" >/dev/null
