# readme.sh: every function a user calls, every table and every view is in README.md's
# SQL reference.  Prints TAP; a failure lists the missing ones.  (test/pgtap/documentation.sql checks that
# every object has a COMMENT.)
#
# Checked: every function the extension owns in schema alfred, except internal ones:
#   - names starting with "_" (helpers of other functions; not granted to users),
#   - names starting with "tool_" (the scheduler's built-in tools: README documents them
#     by tool name, e.g. daily_briefing, and users run them through schedule_task),
#   - trigger functions (they cannot be called).
# "In the SQL reference" means: between "## SQL reference" and the next "## " heading,
# the name followed by "(" (e.g. `today(user_id) → jsonb`), not part of a longer name.
# Tables and views (not partitions, which maintenance creates and drops): the name in
# backquotes, e.g. view `calibration`, `habits`.
# One row per thing: no function is named in the first cell of two rows of the SQL
# reference; every setting alfred defines (pg_settings, alfred.%) has exactly one row in
# "## Configuration" and every row there names a setting alfred defines; every key of
# health() is in "### Monitoring" in backquotes.
. "$(dirname "$0")/../lib.sh"

DB=alfred_readme
create_db "$DB"
names=$(psql_q -d "$DB" -At -c "
	SELECT DISTINCT p.proname
	  FROM pg_proc p
	  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'alfred'
	 WHERE p.pronamespace = 'alfred'::regnamespace
	   AND p.proname !~ '^(_|tool_)' AND p.prorettype <> 'trigger'::regtype
	 ORDER BY 1")
relations=$(psql_q -d "$DB" -At -c "
	SELECT c.relname
	  FROM pg_class c
	  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
	  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'alfred'
	 WHERE c.relnamespace = 'alfred'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
	   AND NOT c.relispartition
	 ORDER BY 1")
all_functions=$(psql_q -d "$DB" -At -c "
	SELECT DISTINCT p.proname
	  FROM pg_proc p
	  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'alfred'
	 WHERE p.pronamespace = 'alfred'::regnamespace
	 ORDER BY 1")
# A C function loads the library (and its settings) whether or not it is preloaded.
settings=$(psql_q -d "$DB" -At -c "SELECT alfred.cron_valid('* * * * *')" -c "
	SELECT name FROM pg_settings WHERE name LIKE 'alfred.%' ORDER BY 1" | grep -v '^t$')
config=$(awk '/^## Configuration/ { on = 1; next } /^## / { on = 0 } on' "$ALFRED_SRC/README.md")
config_rows=$(sed -n 's/^| `\(alfred\.[a-z_]*\)` |.*/\1/p' <<<"$config")
undefined=""
for g in $config_rows; do
	[ "$(psql_q -d "$DB" -At -c "SELECT alfred.cron_valid('* * * * *')" \
		-c "SELECT current_setting('$g', true) IS NOT NULL")" = $'t\nt' ] || undefined+=" $g"
done
health_keys=$(psql_q -d "$DB" -At -c "SELECT jsonb_object_keys(alfred.health()) ORDER BY 1")
psql_q -d postgres -c "DROP DATABASE $DB" >/dev/null

reference=$(awk '/^## SQL reference/ { on = 1; next } /^## / { on = 0 } on' "$ALFRED_SRC/README.md")

echo "1..7"
n=$(wc -w <<<"$names")
if [ "$n" -gt 100 ]; then echo "ok 1 - $n public functions found"; else echo "not ok 1 - only $n public functions found"; fi
if [ -n "$reference" ]; then echo "ok 2 - README.md has an SQL reference"; else echo "not ok 2 - README.md has no \"## SQL reference\""; fi

missing=()
for f in $names; do
	grep -Eq "(^|[^A-Za-z0-9_])$f\(" <<<"$reference" || missing+=("$f")
done
if [ ${#missing[@]} = 0 ]; then
	echo "ok 3 - every public function is in README.md's SQL reference"
else
	echo "not ok 3 - every public function is in README.md's SQL reference"
	echo "# missing (${#missing[@]}): ${missing[*]}"
fi

n=$(wc -w <<<"$relations")
missing=()
for r in $relations; do
	grep -Fq "\`$r\`" <<<"$reference" || missing+=("$r")
done
if [ "$n" -gt 30 ] && [ ${#missing[@]} = 0 ]; then
	echo "ok 4 - every table and view ($n) is in README.md's SQL reference"
else
	echo "not ok 4 - every table and view ($n) is in README.md's SQL reference"
	echo "# missing (${#missing[@]}): ${missing[*]}"
fi

# First cells of the reference's table rows: "| `f(…)`, `g(…)` | …" names f and g.
first_cells=$(sed -n 's/^| \([^|]*\) |.*/\1/p' <<<"$reference")
twice=()
for f in $all_functions; do
	n=$(grep -Ec "(^|[^A-Za-z0-9_])$f\(" <<<"$first_cells" || true)
	[ "$n" -le 1 ] || twice+=("$f ($n rows)")
done
if [ ${#twice[@]} = 0 ]; then
	echo "ok 5 - no function has two rows in README.md's SQL reference"
else
	echo "not ok 5 - no function has two rows in README.md's SQL reference"
	echo "# twice: ${twice[*]}"
fi

n=$(wc -w <<<"$settings")
bad=()
for g in $settings; do
	c=$(grep -cx "$g" <<<"$config_rows" || true)
	[ "$c" = 1 ] || bad+=("$g ($c rows)")
done
for g in $undefined; do bad+=("$g (not a setting of alfred)"); done
if [ "$n" -ge 10 ] && [ ${#bad[@]} = 0 ]; then
	echo "ok 6 - each of alfred's $n settings has exactly one row in README.md's Configuration"
else
	echo "not ok 6 - each of alfred's $n settings has exactly one row in README.md's Configuration"
	echo "# wrong: ${bad[*]}"
fi

monitoring=$(awk '/^### Monitoring/ { on = 1; next } /^##/ { on = 0 } on' "$ALFRED_SRC/README.md")
n=$(wc -w <<<"$health_keys")
missing=()
for k in $health_keys; do
	grep -Fq "\`$k\`" <<<"$monitoring" || missing+=("$k")
done
if [ "$n" -ge 10 ] && [ ${#missing[@]} = 0 ]; then
	echo "ok 7 - every key of health() ($n) is in README.md's Monitoring"
else
	echo "not ok 7 - every key of health() ($n) is in README.md's Monitoring"
	echo "# missing (${#missing[@]}): ${missing[*]}"
fi
