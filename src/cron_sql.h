/*-------------------------------------------------------------------------
 *
 * cron_sql.h
 *		The cron engine for other backend code of alfred (the scheduler,
 *		recurring tasks): next and previous fire times in a time zone.
 *
 * The rules are those of alfred.cron_next / alfred.cron_prev (README,
 * "Cron"): five fields, wall-clock time of tz, DST gaps shift by the gap,
 * DST folds fire once at the first pass unless the hour field allows every
 * hour, calendar days a zone skipped fire nothing.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_CRON_SQL_H
#define ALFRED_CRON_SQL_H

#include "datatype/timestamp.h"

#include "cron_zone.h"

/*
 * An expression compiled for repeated evaluation (parsed once, zone resolved
 * once, a memo of matching days), palloc'd in CurrentMemoryContext; raises
 * 22023 for an invalid expression or an unknown zone (an IANA name such as
 * "Europe/Berlin").  Its next fire time strictly after `after`, in the
 * wall-clock time of the zone; DT_NOEND when there is none within the
 * timestamp range (or after is infinite): callers test with
 * TIMESTAMP_IS_NOEND().
 */
extern alfred_cron_compiled *alfred_cron_compile(const char *expr, const char *tz);
extern TimestampTz alfred_cron_compiled_next_timestamptz(alfred_cron_compiled *cc,
														 TimestampTz after);

/*
 * Is expr a valid cron expression?  Never raises for a bad expression: on
 * false, *message (if message is not NULL) is set to a palloc'd, lower-case
 * explanation such as "minute value 61 is out of range 0-59".
 */
extern bool alfred_cron_check(const char *expr, char **message);

/*
 * Does PostgreSQL's time zone library accept tz?  Never raises: on false,
 * *message (if not NULL) is set to the error alfred_cron_compile would
 * raise.
 */
extern bool alfred_cron_zone_check(const char *tz, char **message);

#endif							/* ALFRED_CRON_SQL_H */
