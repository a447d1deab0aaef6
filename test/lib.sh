# test/lib.sh: shared by test/run, test/quickstart, the integration tests and
# the benchmarks.
#
# Installs what alfred needs (Debian 12 packages), builds and installs the
# extension, and manages a throwaway PostgreSQL 15 cluster with alfred and
# pg_cron preloaded.  Run as root (clusters then run as the postgres user) or
# as a user with sudo.
#
# Environment (every variable is optional):
#   ALFRED_TMP      directory for the cluster (data/), its socket, server.log and the
#                   suites' logs.  Unset: a new one from mktemp (/tmp/alfred-test.XXXXXX),
#                   exported, so the integration scripts a run starts share it; test/run
#                   removes a directory it made unless something failed.  The cluster
#                   listens only on a socket in this directory, so runs never share one.
#   ALFRED_PORT     port of the throwaway cluster (default 55432).  The socket lives in
#                   ALFRED_TMP, so two runs on one machine may use the same port.
#   ALFRED_PGROOT   install into a private copy of PostgreSQL under this root instead of
#                   the system's, so that several checkouts can be tested side by side
#   ALFRED_NO_APT   set to skip the package check (offline development)
#   ALFRED_WORKER_DB  database the scheduler worker serves (alfred.database; default
#                   alfred_worker)
#   ALFRED_WORKERS  scheduler workers of the cluster (alfred.workers; default 1, so that
#                   tests and benchmarks see one worker; alfred's own default is 2)
#
# To run one integration script by hand against a cluster of your own:
#   export ALFRED_TMP=/tmp/mine; bash -c '. test/lib.sh; build_and_install; start_cluster'
#   bash test/integration/worker.sh
#   bash -c '. test/lib.sh; stop_cluster'

set -euo pipefail

ALFRED_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ALFRED_PORT=${ALFRED_PORT:-55432}
if [ -z "${ALFRED_TMP:-}" ]; then
	ALFRED_TMP=$(mktemp -d "${TMPDIR:-/tmp}/alfred-test.XXXXXX")
	ALFRED_TMP_MADE=$ALFRED_TMP		# made here: remove_tmp may delete it
fi
export ALFRED_TMP ALFRED_PORT
ALFRED_DATA=$ALFRED_TMP/data
ALFRED_LOG=$ALFRED_TMP/server.log
ALFRED_WORKER_DB=${ALFRED_WORKER_DB:-alfred_worker}
SYS_PGBIN=/usr/lib/postgresql/15/bin
PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-15-pgtap
libjansson-dev libpq-dev libtap-parser-sourcehandler-pgtap-perl make gcc valgrind pgbouncer"

if [ -n "${ALFRED_PGROOT:-}" ]; then
	PGBIN=$ALFRED_PGROOT/usr/lib/postgresql/15/bin
else
	PGBIN=$SYS_PGBIN
fi

export PGHOST=$ALFRED_TMP PGPORT=$ALFRED_PORT PGUSER=postgres PGDATABASE=postgres

log() { printf '== %s\n' "$*" >&2; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Run a command as the user who owns the cluster.
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_packages() {
	[ -n "${ALFRED_NO_APT:-}" ] && return 0
	local missing=""
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		log "installing packages:$missing"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
	fi
	# The packaged cluster is not used; keep it from holding resources.
	as_root pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
	# Nor its PgBouncer service: test/integration/pgbouncer.sh starts its own.
	as_root service pgbouncer stop >/dev/null 2>&1 || true
}

# A private copy of the PostgreSQL installation (binaries, share, headers): paths
# are relocatable, so its pg_config and postgres look only inside the copy.
ensure_private_root() {
	[ -z "${ALFRED_PGROOT:-}" ] && return 0
	if [ ! -x "$PGBIN/postgres" ] || [ "$SYS_PGBIN/postgres" -nt "$PGBIN/postgres" ]; then
		log "copying PostgreSQL into $ALFRED_PGROOT"
		mkdir -p "$ALFRED_PGROOT/usr/lib/postgresql" "$ALFRED_PGROOT/usr/share/postgresql" "$ALFRED_PGROOT/usr/include"
		cp -a /usr/lib/postgresql/15 "$ALFRED_PGROOT/usr/lib/postgresql/"
		cp -a /usr/share/postgresql/15 "$ALFRED_PGROOT/usr/share/postgresql/"
		cp -a /usr/include/postgresql "$ALFRED_PGROOT/usr/include/"
		chmod -R a+rX "$ALFRED_PGROOT"
	fi
}

# Run a command that writes into the PostgreSQL installation: as root, unless
# it is a private copy (ALFRED_PGROOT).
as_installer() {
	if [ -n "${ALFRED_PGROOT:-}" ]; then "$@"; else as_root "$@"; fi
}

build_and_install() {
	ensure_private_root
	log "building alfred"
	make -C "$ALFRED_SRC" -s -j2 PG_CONFIG="$PGBIN/pg_config" ALFRED_CFLAGS=-Werror
	as_installer make -C "$ALFRED_SRC" -s install PG_CONFIG="$PGBIN/pg_config" >/dev/null
}

# The install scripts of the released versions (migrations/released), rebuilt
# from the commits that released them (so the clone needs its history) and
# installed beside the current version, for the upgrade test; make install
# leaves them out, as no user installs an old version.
install_released() {
	make -C "$ALFRED_SRC" -s released PG_CONFIG="$PGBIN/pg_config" &&
		as_installer make -C "$ALFRED_SRC" -s install-released PG_CONFIG="$PGBIN/pg_config"
}

uninstall_released() {
	as_installer make -C "$ALFRED_SRC" -s uninstall-released PG_CONFIG="$PGBIN/pg_config"
}

stop_cluster() {
	if [ -f "$ALFRED_DATA/postmaster.pid" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$ALFRED_DATA" -m immediate -w stop >/dev/null 2>&1 || true
	fi
}

# Removes ALFRED_TMP if this shell made it (and nothing is to be kept).
remove_tmp() {
	if [ -n "${ALFRED_TMP_MADE:-}" ] && [ "$ALFRED_TMP_MADE" = "$ALFRED_TMP" ]; then
		rm -rf "$ALFRED_TMP"
	fi
}

# Start a fresh cluster (a new data directory; other files in ALFRED_TMP, such
# as the suites' logs, stay).  Extra postgresql.conf lines may be passed as
# arguments.
start_cluster() {
	stop_cluster
	rm -rf "$ALFRED_DATA" "$ALFRED_LOG"
	mkdir -p "$ALFRED_TMP"
	if [ "$(id -u)" = 0 ]; then chown postgres: "$ALFRED_TMP"; fi
	as_pg "$PGBIN/initdb" -D "$ALFRED_DATA" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >"$ALFRED_TMP/initdb.log"
	cat >>"$ALFRED_DATA/postgresql.conf" <<CONF
port = $ALFRED_PORT
listen_addresses = ''
unix_socket_directories = '$ALFRED_TMP'
shared_preload_libraries = 'alfred,pg_cron'
alfred.database = '$ALFRED_WORKER_DB'
alfred.workers = ${ALFRED_WORKERS:-1}
cron.database_name = 'postgres'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
max_worker_processes = 32
max_prepared_transactions = 10
log_min_messages = warning
log_line_prefix = '%m [%p] %b '
CONF
	local line
	for line in "$@"; do echo "$line" >>"$ALFRED_DATA/postgresql.conf"; done
	as_pg "$PGBIN/pg_ctl" -D "$ALFRED_DATA" -l "$ALFRED_LOG" -w -t 60 start >/dev/null
}

restart_cluster() {
	as_pg "$PGBIN/pg_ctl" -D "$ALFRED_DATA" -l "$ALFRED_LOG" -w -t 60 -m fast restart >/dev/null
}

# Restart the cluster with alfred preloaded (on, as start_cluster leaves it) or
# not (off: shared_preload_libraries and alfred.* settings as on a cluster
# where alfred was only installed).
set_preload() {
	local conf=$ALFRED_DATA/postgresql.conf
	if [ "$1" = off ]; then
		[ -f "$conf.preloaded" ] || cp -p "$conf" "$conf.preloaded"
		sed -e "s/^shared_preload_libraries = .*/shared_preload_libraries = ''/" -e '/^alfred\./d' \
			"$conf.preloaded" >"$conf"
	elif [ -f "$conf.preloaded" ]; then
		mv "$conf.preloaded" "$conf"
	fi
	restart_cluster
}

psql_q() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

# Create a database with alfred (and optionally more extensions) installed.
create_db() {
	local db=$1; shift
	psql_q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
	psql_q -d "$db" -c "SET client_min_messages = warning" -c "CREATE EXTENSION alfred CASCADE" >/dev/null
	local ext
	for ext in "$@"; do psql_q -d "$db" -c "CREATE EXTENSION IF NOT EXISTS $ext" >/dev/null; done
}
