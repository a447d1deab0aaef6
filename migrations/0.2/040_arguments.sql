-- 040 arguments: the one rule for a required argument given as NULL
-- (src/arguments.c): 22004 null_value_not_allowed, as PostgreSQL's own
-- functions raise it, naming the argument.  Every PL/pgSQL function of the
-- API checks its required arguments with it before anything else.

CREATE FUNCTION @extschema@._require_argument(name text, value "any")
RETURNS void
AS 'MODULE_PATHNAME', 'alfred_require_argument_sql'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@._require_argument(text, "any") IS
'Raises 22004 (null_value_not_allowed) "argument "name" must not be null" when value is NULL; does nothing otherwise. The API''s one check of a required argument.';
