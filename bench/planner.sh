#!/usr/bin/env bash
# bench/planner.sh: free slots over a month with 200 events, C planner vs
# plain SQL, measured in the same run (bench/planner.sql).  Uses a throwaway
# cluster like the tests:  ALFRED_PGROOT=... ALFRED_PORT=... nice bench/planner.sh
. "$(dirname "$0")/../test/lib.sh"
build_and_install
start_cluster
trap 'stop_cluster' EXIT
create_db alfred_bench
psql_q -d alfred_bench -f "$ALFRED_SRC/bench/planner.sql"
