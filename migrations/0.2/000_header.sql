-- alfred 0.2: assembled by the Makefile from migrations/0.2/*.sql in name order.
-- Each part opens with a comment naming its area; every object is qualified
-- with @extschema@.

\echo Use "CREATE EXTENSION alfred" to load this file. \quit


-- The schema is a member of the extension, so DROP EXTENSION removes it too.
CREATE SCHEMA alfred;
COMMENT ON SCHEMA alfred IS 'alfred: the data engine of a personal AI assistant (extension alfred)';
