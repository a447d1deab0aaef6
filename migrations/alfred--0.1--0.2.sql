-- alfred 0.1 -> 0.2
--
-- Every change to migrations/0.2/*.sql (the fresh-install script of 0.2) must
-- also be made here, so that ALTER EXTENSION alfred UPDATE gives the schema a
-- fresh install gives; test/integration/upgrade.sh compares the two.
-- Upgrade scripts are copied as they are: name schema alfred explicitly
-- (@extschema@ would be pg_catalog, where the extension object lives).

\echo Use "ALTER EXTENSION alfred UPDATE TO '0.2'" to load this file. \quit
