# Makefile for alfred (PGXS)
#
# src/core/*.c   pure C (no postgres.h): cron, streaks, calibration, proposals,
#                templates, planner; unit-tested by test/unit and fuzzed by test/fuzz
# src/*.c        the extension proper: fmgr wrappers, worker, GUCs
# migrations/    versioned SQL, each object written once; migrations/build prints every
#                script (see its header and docs/contributing.md):
#                alfred--<dev>.sql      migrations/<dev>/*.sql in name order, <dev> being
#                                       default_version in alfred.control
#                alfred--<last>--<dev>.sql  its source migrations/alfred--<last>--<dev>.sql
#                                       with "-- @replace function alfred.f" lines expanded
#                                       from the parts
#                released versions (migrations/released: version and commit) are rebuilt
#                by the tree of the commit that released them, from git: the upgrade
#                scripts to them by make, their install scripts (only the upgrade test
#                needs them) by `make released` / `make install-released`.

EXTENSION = alfred
EXTVERSION = $(shell sed -n "s/^default_version *= *'\([^']*\)'/\1/p" alfred.control)

MODULE_big = alfred
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/core/*.c)))

PARTS = $(sort $(wildcard migrations/$(EXTVERSION)/*.sql))
# (the parts' directory too: removing a part changes nothing else)
MIGRATIONS = migrations/build migrations/released alfred.control migrations/$(EXTVERSION)
# One upgrade script from each version to the next; users of any released
# version update along them.  The install scripts of released versions are
# not installed: no user installs an old version.
UPGRADES := $(shell perl migrations/build upgrades)
ifneq ($(.SHELLSTATUS),0)
$(error migrations/build could not list the upgrade scripts)
endif
DEV_UPGRADE = $(filter %--$(EXTVERSION).sql,$(UPGRADES))
RELEASED_UPGRADES = $(filter-out $(DEV_UPGRADE),$(UPGRADES))
RELEASED_INSTALLS := $(shell perl migrations/build released)
ifneq ($(.SHELLSTATUS),0)
$(error migrations/build could not list the released versions)
endif
DATA_built = alfred--$(EXTVERSION).sql $(UPGRADES)

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

EXTRA_CLEAN = alfred--$(EXTVERSION).sql $(UPGRADES) $(RELEASED_INSTALLS)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Parts qualify objects with @extschema@, written alfred by migrations/build: the
# schema alfred is created by the header (the extension object itself lives in
# pg_catalog, see alfred.control).  A script is written whole or not at all.
BUILD_SCRIPT = perl migrations/build script $@ >$@.tmp && mv $@.tmp $@ || { rm -f $@.tmp; exit 1; }

alfred--$(EXTVERSION).sql: $(PARTS) $(MIGRATIONS)
	$(BUILD_SCRIPT)

$(DEV_UPGRADE): %: migrations/% $(PARTS) $(MIGRATIONS)
	$(BUILD_SCRIPT)

# Frozen: built by the tree of the commit that released their version (git).
$(RELEASED_UPGRADES) $(RELEASED_INSTALLS): migrations/released
	$(BUILD_SCRIPT)

# The install scripts of released versions, for the upgrade test
# (test/integration/upgrade.sh installs each and updates it).
.PHONY: released install-released uninstall-released
released: $(RELEASED_INSTALLS)

install-released: $(RELEASED_INSTALLS)
	$(if $^,$(INSTALL_DATA) $^ '$(DESTDIR)$(datadir)/$(datamoduledir)/')

uninstall-released:
	rm -f $(addprefix '$(DESTDIR)$(datadir)/$(datamoduledir)'/, $(RELEASED_INSTALLS))

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
