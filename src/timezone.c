/*-------------------------------------------------------------------------
 *
 * timezone.c
 *		alfred.is_valid_timezone(tz): whether PostgreSQL's own time zone
 *		library knows a zone name.
 *
 * users.timezone and scheduled_tasks.timezone are checked with it, and
 * create_user validates its argument with it.  It asks pg_tzset() (the
 * zone cache of the server), so it is cheap and needs no scan of
 * pg_timezone_names.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"

#include "alfred.h"

PG_FUNCTION_INFO_V1(alfred_is_valid_timezone);
Datum
alfred_is_valid_timezone(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BOOL(name[0] != '\0' && strlen(name) < TZ_STRLEN_MAX &&
				   pg_tzset(name) != NULL);
}
