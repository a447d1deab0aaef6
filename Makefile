# Makefile for alfred (PGXS)
#
# src/core/*.c   pure C (no postgres.h): cron, streaks, calibration, proposals,
#                templates, planner; unit-tested by test/unit and fuzzed by test/fuzz
# src/*.c        the extension proper: fmgr wrappers, worker, GUCs
# migrations/    versioned SQL. The install script of the version under development is
#                assembled from migrations/<version>/*.sql in name order; released
#                versions and upgrade scripts are plain files migrations/alfred--*.sql.

EXTENSION = alfred
EXTVERSION = $(shell sed -n "s/^default_version *= *'\([^']*\)'/\1/p" alfred.control)

MODULE_big = alfred
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/core/*.c)))

PARTS = $(sort $(wildcard migrations/$(EXTVERSION)/*.sql))
DATA_built = alfred--$(EXTVERSION).sql
DATA = $(filter-out migrations/alfred--$(EXTVERSION).sql,$(wildcard migrations/alfred--*.sql))

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=pgcrypto --load-extension=alfred
ISOLATION = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
ISOLATION_OPTS = --load-extension=pgcrypto --load-extension=alfred

# PostgreSQL's headers are included as system headers: they are not -Wextra
# clean (unused parameters in inline functions), and alfred's own code must be.
PG_CPPFLAGS = -I$(srcdir)/src -I$(srcdir)/src/core -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CFLAGS = -Wall -Wextra $(ALFRED_CFLAGS)
# jansson is linked statically with its symbols hidden: the postgres binary
# exports a json_object() of its own (the SQL function), which would otherwise
# interpose on jansson's json_object() at run time and crash the backend.
SHLIB_LINK = -l:libjansson.a -Wl,--exclude-libs,libjansson.a

EXTRA_CLEAN = alfred--$(EXTVERSION).sql

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Parts qualify objects with @extschema@; the schema is alfred, created by the
# header (the extension object itself lives in pg_catalog, see alfred.control).
alfred--$(EXTVERSION).sql: $(PARTS)
	cat $^ | sed 's/@extschema@/alfred/g' > $@

.PHONY: unit fuzz
unit:
	$(MAKE) -C test/unit run

fuzz:
	$(MAKE) -C test/fuzz run

# alfred-agent (agent/), the reference external worker: a separate program
# (libpq + jansson), built by `make` and installed beside psql by `make install`.
all: agent-all
install: agent-install
uninstall: agent-uninstall
clean: agent-clean

.PHONY: agent-all agent-install agent-uninstall agent-clean
agent-all agent-install agent-uninstall agent-clean:
	$(MAKE) -C agent $(patsubst agent-%,%,$@) PG_CONFIG=$(PG_CONFIG)

# alfred-mcp (mcp/), the Model Context Protocol server for LLM clients: a
# separate program (libpq + jansson), built by `make`, installed beside psql
# with a link on PATH by `make install` (see mcp/Makefile).
all: mcp-all
install: mcp-install
uninstall: mcp-uninstall
clean: mcp-clean

.PHONY: mcp-all mcp-install mcp-uninstall mcp-clean
mcp-all mcp-install mcp-uninstall mcp-clean:
	$(MAKE) -C mcp $(patsubst mcp-%,%,$@) PG_CONFIG=$(PG_CONFIG)
