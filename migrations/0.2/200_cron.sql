-- 200 cron: the cron engine (src/core/cron.c, src/cron_sql.c).
--
-- Volatility: cron_valid depends on its argument alone (IMMUTABLE).  The
-- others read the time zone database, which an operating system update can
-- change under a running server, so they are STABLE, not IMMUTABLE: a
-- fire time must not be frozen into an index or a generated column.  They do
-- not read the TimeZone setting; the zone is an argument.

CREATE FUNCTION @extschema@.cron_next(expr text, after timestamptz, tz text DEFAULT 'UTC')
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'alfred_cron_next_sql'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cron_next(text, timestamptz, text) IS
'First fire time of cron expression expr strictly after "after", evaluated in the wall-clock time of time zone tz; NULL if there is none within the timestamp range.';

CREATE FUNCTION @extschema@.cron_next_n(expr text, after timestamptz, tz text, n int)
RETURNS SETOF timestamptz
AS 'MODULE_PATHNAME', 'alfred_cron_next_n_sql'
LANGUAGE C STABLE STRICT PARALLEL SAFE
ROWS 10;

COMMENT ON FUNCTION @extschema@.cron_next_n(text, timestamptz, text, int) IS
'The next n fire times of cron expression expr after "after" in time zone tz, in order (the same as applying cron_next n times).';

CREATE FUNCTION @extschema@.cron_prev(expr text, before timestamptz, tz text DEFAULT 'UTC')
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'alfred_cron_prev_sql'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cron_prev(text, timestamptz, text) IS
'Last fire time of cron expression expr strictly before "before", evaluated in the wall-clock time of time zone tz; NULL if there is none within the timestamp range.';

CREATE FUNCTION @extschema@.cron_valid(expr text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'alfred_cron_valid_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cron_valid(text) IS
'True if expr is a cron expression alfred accepts (five fields, a macro such as @daily, or ''N seconds''); false instead of the error cron_next would raise.';
