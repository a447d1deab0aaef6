# test/citus/scheduler_lib.bash: the Citus set-up shared by test/citus/scheduler.sh
# and bench/citus.sh (sourced after test/lib.sh and test/citus/lib.sh; not a
# test itself: only *.sh files are run).

# alfred installed through the coordinator and distributed (alfred.distribute()).
citus_alfred_distribute() {
	citus_psql 0 -c "SET client_min_messages = warning" -c "CREATE EXTENSION alfred CASCADE" \
		-c "SELECT count(*) FROM alfred.distribute()" >/dev/null
}
