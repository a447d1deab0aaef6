#!/usr/bin/env bash
# bench/proposals.sh: what the guarded state machine costs.
#
#   ALFRED_NO_APT=1 ALFRED_PGROOT=/tmp/pgroot-x ALFRED_PORT=555NN nice bench/proposals.sh
#
# 1. A task action's whole life, one transaction each (pgbench, one client,
#    SECONDS_EACH per run): alfred.propose + alfred.approve(execute => true) of a `create`
#    (payload check in C, row lock, guard trigger on every status change,
#    signal, task insert in a subtransaction, execution log) against seed
#    002's flow as an application would write it by hand on plain copies of
#    its tables (INSERT the proposal, UPDATE it approved, INSERT the signal,
#    INSERT the task, UPDATE it executed, INSERT the log: no checks, no guard,
#    no lock), and against the same hand-written flow on alfred's own tables
#    (their indexes, constraints and schema triggers) with the guard trigger
#    off: the difference is what the API and the machine add.  Each side runs
#    twice (ABCCBA order); prints each side's mean latency and the ratios.
# 2. The edit signal of an approval: alfred.proposal_edit_distance of an email
#    draft with a $BODY-character body, for a one-word fix and for a rewrite,
#    against md5(a::text) = md5(b::text) (the cheapest "was it edited?").
. "$(dirname "$0")/../test/lib.sh"
cd "$ALFRED_SRC"

N=${N:-2000}
SECONDS_EACH=${SECONDS_EACH:-10}
BODY=${BODY:-2000}
DB=bench_proposals

build_and_install
start_cluster
work=$(mktemp -d)
trap 'stop_cluster; rm -rf "$work"' EXIT
create_db $DB

psql_q -d $DB <<SQL
SET client_min_messages = warning;
INSERT INTO alfred.users (id, email, password_hash)
VALUES ('00000000-0000-0000-0000-000000000001', 'bench@example.com', '\$2a\$04\$benchbenchbenchbenchbe');

-- seed 002's tables (action_proposals, preference_signals, execution_logs) and a task table
CREATE SCHEMA seed002;
CREATE TABLE seed002.tasks (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid NOT NULL,
	title text NOT NULL, status text DEFAULT 'pending', created_at timestamptz DEFAULT now());
CREATE TABLE seed002.action_proposals (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid NOT NULL,
	related_item_id uuid, agent_name varchar(100) NOT NULL, action_type varchar(100) NOT NULL,
	payload jsonb NOT NULL, status varchar(50) DEFAULT 'pending', risk_level varchar(50) DEFAULT 'low',
	explanation text, warning_text text, expires_at timestamp, created_at timestamp DEFAULT now(),
	updated_at timestamp DEFAULT now(), approved_at timestamp, executed_at timestamp);
CREATE INDEX ON seed002.action_proposals (user_id, status);
CREATE TABLE seed002.preference_signals (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid NOT NULL,
	item_id uuid, action_proposal_id uuid REFERENCES seed002.action_proposals ON DELETE SET NULL,
	signal_type varchar(50) NOT NULL, context jsonb, created_at timestamp DEFAULT now());
CREATE TABLE seed002.execution_logs (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid NOT NULL,
	action_proposal_id uuid NOT NULL REFERENCES seed002.action_proposals ON DELETE CASCADE,
	executor_status varchar(50) NOT NULL, executor_error text, external_ids jsonb, request_payload jsonb,
	response_payload jsonb, execution_duration_ms integer, created_at timestamp DEFAULT now());

SQL

U=00000000-0000-0000-0000-000000000001
cat >"$work/alfred.sql" <<SQL
SELECT alfred.approve(alfred.propose('$U', 'bench', 'create', jsonb_build_object('title', 'task ' || :client_id)), execute => true);
SQL
cat >"$work/same.sql" <<SQL
BEGIN;
INSERT INTO alfred.proposals (user_id, agent_name, action_type, payload)
VALUES ('$U', 'bench', 'create', '{"title": "task"}') RETURNING id AS pid \\gset
UPDATE alfred.proposals SET status = 'approved', approved_at = now() WHERE id = ':pid';
INSERT INTO alfred.preference_signals (user_id, proposal_id, signal_type) VALUES ('$U', ':pid', 'approved');
INSERT INTO alfred.tasks (user_id, title) VALUES ('$U', 'task') RETURNING id AS tid \\gset
UPDATE alfred.proposals SET status = 'executed', executed_at = now() WHERE id = ':pid';
INSERT INTO alfred.execution_logs (user_id, proposal_id, executor_status, request_payload, response_payload)
VALUES ('$U', ':pid', 'success', '{"title": "task"}', jsonb_build_object('task_id', ':tid'));
COMMIT;
SQL
sed -e 's/alfred\.proposals/seed002.action_proposals/g; s/alfred\.preference_signals/seed002.preference_signals/g' \
	-e 's/alfred\.tasks/seed002.tasks/g; s/alfred\.execution_logs/seed002.execution_logs/g' \
	-e 's/(user_id, proposal_id,/(user_id, action_proposal_id,/g' "$work/same.sql" >"$work/seed.sql"

# mean latency in microseconds of one pgbench run of a script
run() {
	"$PGBIN/pgbench" -n -c 1 -T "$SECONDS_EACH" -f "$work/$1.sql" $DB 2>&1 |
		sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p' | awk '{ printf "%.0f", $1 * 1000 }'
}
guard() { psql_q -d $DB -c "ALTER TABLE alfred.proposals $1 TRIGGER proposals_guard"; }

log "1. a create action proposed, approved and executed, one transaction each"
a1=$(run alfred); guard DISABLE; b1=$(run same); guard ENABLE; c1=$(run seed)
c2=$(run seed); guard DISABLE; b2=$(run same); guard ENABLE; a2=$(run alfred)
a=$(( (a1 + a2) / 2 )); b=$(( (b1 + b2) / 2 )); c=$(( (c1 + c2) / 2 ))
printf '%-26s %10s %26s %22s\n' side mean_us vs_alfred_tables_by_hand vs_seed_002_by_hand
for row in "seed 002 by hand:$c" "alfred tables by hand:$b" "alfred API:$a"; do
	us=${row##*:}
	printf '%-26s %10s %26s %22s\n' "${row%%:*}" "$us" \
		"$(awk -v x="$us" -v y="$b" 'BEGIN { printf "%.2f", x / y }')" \
		"$(awk -v x="$us" -v y="$c" 'BEGIN { printf "%.2f", x / y }')"
done
echo "(runs: alfred $a1 $a2, alfred tables by hand $b1 $b2, seed 002 by hand $c1 $c2)"

psql_q -d $DB <<SQL
\echo '== 2. edit signal of an email draft with a $BODY-character body ($N pairs each)'
CREATE TEMP TABLE pairs AS
SELECT k, jsonb_build_object('to', '["ann@example.com"]'::jsonb, 'subject', 'Re: plans', 'body', body) AS a,
	   jsonb_build_object('to', '["ann@example.com"]'::jsonb, 'subject', 'Re: plans',
		   'body', CASE k WHEN 'one word' THEN overlay(body PLACING 'XXXX' FROM $BODY / 2 FOR 4)
						  ELSE reverse(body) END) AS b
  FROM (SELECT string_agg(substr('the quick brown fox jumps over a lazy dog ', 1 + (g % 40), 1), '') AS body
		  FROM generate_series(1, $BODY) g) s,
	   unnest(ARRAY['one word', 'rewrite']) k;
CREATE FUNCTION pg_temp.timed(q text, n int) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
	FOR i IN 1..n LOOP EXECUTE q; END LOOP;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / n;
END \$\$;
SELECT p.k AS edit,
	   round(alfred.proposal_edit_distance(p.a, p.b)::numeric, 4) AS distance,
	   alfred.proposal_edit_signal(alfred.proposal_edit_distance(p.a, p.b)) AS signal,
	   round(d.us::numeric, 1) AS distance_us,
	   round(m.us::numeric, 1) AS md5_us,
	   round((d.us / m.us)::numeric, 1) AS ratio
  FROM pairs p,
	   LATERAL (SELECT pg_temp.timed(format('SELECT alfred.proposal_edit_distance(a, b) FROM pairs WHERE k = %L', p.k), $N) AS us) d,
	   LATERAL (SELECT pg_temp.timed(format('SELECT md5(a::text) = md5(b::text) FROM pairs WHERE k = %L', p.k), $N) AS us) m
 ORDER BY p.k;
SQL
