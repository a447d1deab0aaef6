#!/usr/bin/env bash
# bench/habits.sh: the cost of logging a habit and of a full streak recompute.
#
#   ALFRED_PGROOT=/tmp/pgroot-x ALFRED_PORT=555NN nice bench/habits.sh
#
# 1. pgbench, same data, same run: alfred.log_habit(habit) for today against
#    seed 003's own transaction (BEGIN; INSERT the log ON CONFLICT ...; UPDATE
#    the habit's streak; COMMIT) on a copy of its tables.  Each side has
#    $HABITS habits with a week of history up to yesterday; each transaction
#    logs today for a random habit (a repeat is the idempotent case on both
#    sides).  Both run interleaved in one pgbench run; prints their mean
#    latencies and the TPS ratio (target >= 1).
# 2. A habit with 10 years of daily logs: alfred.recompute_habit (lock, read
#    3653 logs, recompute in C, store) and alfred.streak_of over the same dates
#    as an array (the C definition alone); mean latency (target < 1 ms).
. "$(dirname "$0")/../test/lib.sh"
cd "$ALFRED_SRC"

HABITS=${HABITS:-20000}
SECONDS_EACH=${SECONDS_EACH:-10}
CLIENTS=${CLIENTS:-2}
DB=bench_habits

build_and_install
start_cluster
trap 'stop_cluster; rm -rf "$work"' EXIT
create_db $DB
work=$(mktemp -d)
PGBENCH=$PGBIN/pgbench

log "loading $HABITS habits with a week of history (alfred and seed 003 copies)"
psql_q -d $DB <<SQL >/dev/null
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.nid(n int) RETURNS uuid LANGUAGE sql IMMUTABLE
	AS \$\$ SELECT ('00000000-0000-0000-0000-' || lpad(n::text, 12, '0'))::uuid \$\$;
INSERT INTO alfred.users (id, email, timezone, password_hash)
	SELECT pg_temp.nid(u), 'bench' || u || '@example.com', 'UTC', '\$2a\$04\$benchbenchbenchbenchbe' FROM generate_series(1, 100) u;
INSERT INTO alfred.habits (user_id, id, name)
	SELECT pg_temp.nid(1 + h % 100), pg_temp.nid(h), 'habit ' || h FROM generate_series(1, $HABITS) h;
INSERT INTO alfred.habit_logs (user_id, habit_id, logged_date)
	SELECT pg_temp.nid(1 + h % 100), pg_temp.nid(h), current_date - d
	FROM generate_series(1, $HABITS) h, generate_series(1, 7) d;
SELECT alfred.recompute_habit(pg_temp.nid(h)) FROM generate_series(1, $HABITS) h;

-- Seed 003's tables, as its migration creates them (with its foreign keys).
CREATE SCHEMA seed003;
CREATE TABLE seed003.users (user_id uuid PRIMARY KEY, email text UNIQUE NOT NULL);
CREATE TABLE seed003.habits (
	habit_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id UUID NOT NULL REFERENCES seed003.users(user_id) ON DELETE CASCADE,
	name TEXT NOT NULL, frequency TEXT DEFAULT 'daily', time_preference TEXT,
	days_of_week JSONB DEFAULT '[]', current_streak INTEGER DEFAULT 0,
	best_streak INTEGER DEFAULT 0, total_completions INTEGER DEFAULT 0,
	last_logged DATE, motivation TEXT, category TEXT, active BOOLEAN DEFAULT true,
	reminder_enabled BOOLEAN DEFAULT true, created_at TIMESTAMP DEFAULT NOW());
CREATE INDEX idx_habits_user ON seed003.habits(user_id);
CREATE TABLE seed003.habit_logs (
	log_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
	habit_id UUID NOT NULL REFERENCES seed003.habits(habit_id) ON DELETE CASCADE,
	user_id UUID NOT NULL REFERENCES seed003.users(user_id) ON DELETE CASCADE,
	logged_date DATE NOT NULL, notes TEXT, duration_minutes INTEGER,
	created_at TIMESTAMP DEFAULT NOW(), UNIQUE(habit_id, logged_date));
CREATE INDEX idx_logs_habit ON seed003.habit_logs(habit_id);
CREATE INDEX idx_logs_date ON seed003.habit_logs(logged_date);
INSERT INTO seed003.users SELECT id, email FROM alfred.users;
INSERT INTO seed003.habits (habit_id, user_id, name, current_streak, best_streak, total_completions, last_logged)
	SELECT id, user_id, name, 7, 7, 7, current_date - 1 FROM alfred.habits;
INSERT INTO seed003.habit_logs (habit_id, user_id, logged_date)
	SELECT habit_id, user_id, logged_date FROM alfred.habit_logs;
VACUUM ANALYZE;
SQL

cat >"$work/alfred.sql" <<'SQL'
\set h random(1, :habits)
SELECT alfred.log_habit(('00000000-0000-0000-0000-' || lpad(:h::text, 12, '0'))::uuid);
SQL
cat >"$work/seed003.sql" <<'SQL'
\set h random(1, :habits)
BEGIN;
INSERT INTO seed003.habit_logs (habit_id, user_id, logged_date, notes, duration_minutes)
VALUES (('00000000-0000-0000-0000-' || lpad(:h::text, 12, '0'))::uuid,
	('00000000-0000-0000-0000-' || lpad((1 + :h % 100)::text, 12, '0'))::uuid, CURRENT_DATE, NULL, NULL)
ON CONFLICT (habit_id, logged_date) DO UPDATE SET notes = NULL, duration_minutes = NULL;
UPDATE seed003.habits
SET
    current_streak = CASE
        WHEN last_logged = CURRENT_DATE - INTERVAL '1 day' THEN current_streak + 1
        WHEN last_logged = CURRENT_DATE THEN current_streak
        ELSE 1
    END,
    best_streak = GREATEST(best_streak,
        CASE
            WHEN last_logged = CURRENT_DATE - INTERVAL '1 day' THEN current_streak + 1
            WHEN last_logged = CURRENT_DATE THEN current_streak
            ELSE 1
        END
    ),
    total_completions = total_completions + 1,
    last_logged = CURRENT_DATE
WHERE habit_id = ('00000000-0000-0000-0000-' || lpad(:h::text, 12, '0'))::uuid AND last_logged != CURRENT_DATE;
COMMIT;
SQL

latency() {	# latency <script> <transactions>: mean latency in ms, one client
	"$PGBENCH" -n -M prepared -c 1 -t "$2" -f "$1" $DB 2>/dev/null |
		sed -n 's/^latency average = \([0-9.]*\) ms/\1/p'
}

# Both transactions interleaved at random in one pgbench run (weights 1:1), so
# that load from elsewhere on the machine hits both alike; the throughput
# ratio is the inverse ratio of their mean latencies.
log "pgbench: seed 003's transaction and alfred.log_habit interleaved ($CLIENTS clients, ${SECONDS_EACH}s)"
"$PGBENCH" -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_EACH" -D habits="$HABITS" \
	-f "$work/seed003.sql@1" -f "$work/alfred.sql@1" $DB >"$work/mixed.out" 2>&1
seed=$(sed -n 's/^ - latency average = \([0-9.]*\) ms/\1/p' "$work/mixed.out" | sed -n 1p)
alf=$(sed -n 's/^ - latency average = \([0-9.]*\) ms/\1/p' "$work/mixed.out" | sed -n 2p)
n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/mixed.out")
echo "log a habit for today ($n transactions, $HABITS habits): seed 003 two-statement transaction $seed ms, alfred.log_habit $alf ms; TPS ratio alfred/seed $(awk -v a="$alf" -v s="$seed" 'BEGIN { printf "%.2f", s / a }')"

log "a habit with 10 years of daily logs"
psql_q -d $DB <<SQL >/dev/null
INSERT INTO alfred.habits (user_id, id, name)
	VALUES ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-999999999999', 'ten years');
INSERT INTO alfred.habit_logs (user_id, habit_id, logged_date)
	SELECT '00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-999999999999', d
	FROM generate_series(current_date - interval '10 years', current_date - 1, '1 day') d;
CREATE TABLE ten_years AS SELECT array_agg(logged_date ORDER BY logged_date) AS dates
	FROM alfred.habit_logs WHERE habit_id = '00000000-0000-0000-0000-999999999999';
VACUUM ANALYZE;
SQL
echo "SELECT alfred.recompute_habit('00000000-0000-0000-0000-999999999999');" >"$work/recompute.sql"
echo "SELECT alfred.streak_of(dates, 'daily', NULL, NULL, current_date) FROM ten_years;" >"$work/streak_of.sql"
echo "SELECT 1 FROM ten_years;" >"$work/baseline.sql"
n=$(psql_q -d $DB -Atc "SELECT cardinality(dates) FROM ten_years")
streak=$(psql_q -d $DB -Atc "SELECT (alfred.recompute_habit('00000000-0000-0000-0000-999999999999')).current_streak")
echo "full recompute of $n daily logs (streak $streak): recompute_habit $(latency "$work/recompute.sql" 500) ms, streak_of over the array $(latency "$work/streak_of.sql" 500) ms, baseline SELECT of the array row $(latency "$work/baseline.sql" 500) ms"
