/*-------------------------------------------------------------------------
 *
 * timezone.c
 *		The one rule for time zone names: alfred_zone_lookup() and
 *		alfred_zone_or_error() for C, alfred.is_valid_timezone(tz) for SQL.
 *
 * A zone is usable when PostgreSQL's own time zone library knows the name
 * and the zone does not count leap seconds (PostgreSQL's timestamps cannot
 * represent them).  users.timezone and scheduled_tasks.timezone are checked
 * with is_valid_timezone, and cron, the planner and the scheduler resolve
 * zones with alfred_zone_or_error, so a zone a table accepts is one every
 * engine can use.  pg_tzset() asks the server's zone cache: cheap, with no
 * scan of pg_timezone_names.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"

#include "timezone.h"

/* The zone of a name, or NULL when no zone of that name is usable. */
pg_tz *
alfred_zone_lookup(const char *name)
{
	pg_tz	   *tz;

	if (name[0] == '\0' || strlen(name) >= TZ_STRLEN_MAX)
		return NULL;
	tz = pg_tzset(name);
	if (tz == NULL || !pg_tz_acceptable(tz))
		return NULL;
	return tz;
}

/* The zone of a name; 22023 naming it when it is not usable. */
pg_tz *
alfred_zone_or_error(const char *name)
{
	pg_tz	   *tz = alfred_zone_lookup(name);

	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" not recognized", name),
				 errhint("Use an IANA time zone name such as \"Europe/Berlin\" (see pg_timezone_names).")));
	return tz;
}

PG_FUNCTION_INFO_V1(alfred_is_valid_timezone);
Datum
alfred_is_valid_timezone(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BOOL(alfred_zone_lookup(name) != NULL);
}
