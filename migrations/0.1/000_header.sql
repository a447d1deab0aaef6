-- alfred 0.1: assembled by the Makefile from migrations/0.1/*.sql in name order.
-- Each part opens with a comment naming its area; every object is qualified
-- with @extschema@.

\echo Use "CREATE EXTENSION alfred" to load this file. \quit

