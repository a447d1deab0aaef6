/*-------------------------------------------------------------------------
 *
 * arguments.c
 *		The one rule for a required argument given as NULL, for C and for
 *		SQL: error 22004 (null_value_not_allowed), "argument "x" must not
 *		be null", and nothing changed.
 *
 * PostgreSQL itself raises null_value_not_allowed when a function that
 * does not simply return NULL refuses a NULL argument (array_fill,
 * jsonb_set_lax, width_bucket, format('%I'), set_config), so alfred's API
 * does the same everywhere.  A NULL that is a meaningful value (an optional
 * argument, "no override") is documented by its function; any other NULL
 * is refused before anything else is checked.  C wrappers call
 * alfred_require_arg; PL/pgSQL functions call alfred._require_argument.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "alfred.h"

static void null_argument(const char *name) pg_attribute_noreturn();

static void
null_argument(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("argument \"%s\" must not be null", name)));
}

void
alfred_require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		null_argument(name);
}

/*
 * alfred._require_argument(name text, value "any"): raises 22004 naming
 * the argument when value is NULL (and, like any function, when its own
 * argument name is NULL).
 */
PG_FUNCTION_INFO_V1(alfred_require_argument_sql);
Datum
alfred_require_argument_sql(PG_FUNCTION_ARGS)
{
	alfred_require_arg(fcinfo, 0, "name");
	if (PG_ARGISNULL(1))
		null_argument(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}
