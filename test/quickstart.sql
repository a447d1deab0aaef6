-- The quick-start tour: run by test/quickstart in a fresh database.
\pset footer off
SET timezone = 'UTC';
SELECT extversion AS "alfred version" FROM pg_extension WHERE extname = 'alfred';
