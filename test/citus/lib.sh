# test/citus/lib.sh: a Citus cluster on this machine for alfred's scale-out
# tests and benchmarks (sourced after test/lib.sh).
#
# A coordinator and N worker nodes, each a throwaway PostgreSQL 15 cluster with
# citus and alfred preloaded (citus first), listening only on one shared socket
# directory, so a node's name in Citus's metadata is that directory and its
# port tells the nodes apart.
#
#   citus_ensure_installed      build and install Citus from ../shared/vendor when missing
#   citus_start N               start the coordinator and N workers; create database
#                               $CITUS_DB with citus on every node and register the workers
#   citus_node_port I           port of node I (0 = the coordinator)
#   citus_psql I [psql args]    psql to database $CITUS_DB on node I
#   citus_stop_node I / citus_start_node I / citus_kill_node I
#   citus_add_worker            start one more worker node and register it
#   citus_stop                  stop every node
#
# Environment: ALFRED_TMP and ALFRED_PORT as in test/lib.sh; node I listens on
# ALFRED_PORT + 1 + I (so a single-node cluster of the same run keeps ALFRED_PORT).
# CITUS_DB (default alfred_citus) is also alfred.database, so the scheduler
# worker of every node serves it.

CITUS_DIR=$ALFRED_TMP/citus
CITUS_SOCK=$CITUS_DIR/sock
CITUS_DB=${CITUS_DB:-alfred_citus}
CITUS_NODES=0
CITUS_VENDOR=$ALFRED_SRC/../shared/vendor

citus_ensure_installed() {
	local libdir sharedir
	libdir=$("$PGBIN/pg_config" --pkglibdir)
	sharedir=$("$PGBIN/pg_config" --sharedir)
	if [ ! -f "$SYS_PGBIN/../lib/citus.so" ] || ! grep -q "default_version = '12.1-1'" /usr/share/postgresql/15/extension/citus.control 2>/dev/null; then
		log "installing Citus 12.1 (../shared/vendor/install-citus)"
		as_root "$CITUS_VENDOR/install-citus" >"$ALFRED_TMP/install-citus.log" 2>&1 ||
			{ tail -30 "$ALFRED_TMP/install-citus.log"; return 1; }
	fi
	# A private PostgreSQL copy (ALFRED_PGROOT) made before Citus was installed.
	if [ ! -f "$libdir/citus.so" ]; then
		cp -a /usr/lib/postgresql/15/lib/citus*.so "$libdir/"
		cp -a /usr/share/postgresql/15/extension/citus* "$sharedir/extension/"
	fi
}

citus_node_port() { echo $((ALFRED_PORT + 1 + $1)); }
citus_data() { echo "$CITUS_DIR/node$1"; }

citus_psql() {
	local i=$1; shift
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$CITUS_SOCK" -p "$(citus_node_port "$i")" -U postgres -d "$CITUS_DB" "$@"
}

citus_pg_ctl() {
	local i=$1; shift
	as_pg "$PGBIN/pg_ctl" -D "$(citus_data "$i")" -l "$(citus_data "$i").log" -w -t 120 "$@" >/dev/null
}

citus_init_node() {
	local i=$1 data
	data=$(citus_data "$i")
	rm -rf "$data"
	as_pg "$PGBIN/initdb" -D "$data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >"$data.initdb.log"
	cat >>"$data/postgresql.conf" <<CONF
port = $(citus_node_port "$i")
listen_addresses = ''
unix_socket_directories = '$CITUS_SOCK'
citus.local_hostname = '$CITUS_SOCK'
shared_preload_libraries = 'citus,alfred'
alfred.database = '$CITUS_DB'
alfred.workers = ${ALFRED_WORKERS:-1}
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
max_worker_processes = 32
max_prepared_transactions = 100
wal_level = logical
citus.shard_count = ${CITUS_SHARD_COUNT:-8}
log_min_messages = warning
log_line_prefix = '%m [%p] %b '
CONF
	citus_pg_ctl "$i" start
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$CITUS_SOCK" -p "$(citus_node_port "$i")" -U postgres -d postgres \
		-c "CREATE DATABASE $CITUS_DB" >/dev/null
	citus_psql "$i" -c "SET client_min_messages = warning" -c "CREATE EXTENSION citus" >/dev/null
}

citus_start() {
	local n=$1 i
	citus_stop
	rm -rf "$CITUS_DIR"
	mkdir -p "$CITUS_SOCK"
	if [ "$(id -u)" = 0 ]; then chown -R postgres: "$ALFRED_TMP"; fi
	for ((i = 0; i <= n; i++)); do citus_init_node "$i"; done
	CITUS_NODES=$n
	citus_psql 0 -c "SELECT citus_set_coordinator_host('$CITUS_SOCK', $(citus_node_port 0))" >/dev/null
	for ((i = 1; i <= n; i++)); do
		citus_psql 0 -c "SELECT citus_add_node('$CITUS_SOCK', $(citus_node_port "$i"))" >/dev/null
	done
}

citus_add_worker() {
	local i=$((CITUS_NODES + 1))
	citus_init_node "$i"
	CITUS_NODES=$i
	citus_psql 0 -c "SELECT citus_add_node('$CITUS_SOCK', $(citus_node_port "$i"))" >/dev/null
}

citus_stop_node() { citus_pg_ctl "$1" -m fast stop; }
citus_start_node() { citus_pg_ctl "$1" start; }
citus_kill_node() {
	local pid
	pid=$(head -1 "$(citus_data "$1")/postmaster.pid")
	kill -9 "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

citus_stop() {
	local d
	for d in "$CITUS_DIR"/node*; do
		[ -f "$d/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
	done
	return 0
}
