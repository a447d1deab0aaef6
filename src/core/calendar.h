/*-------------------------------------------------------------------------
 *
 * calendar.h
 *		The proleptic Gregorian calendar of alfred's pure cores: day numbers,
 *		civil dates, weekdays and month lengths.  No PostgreSQL dependency.
 *
 * A day number counts days since 1970-01-01 (day 0, a Thursday), the epoch
 * of the cron search and the planner.  The streak core names days since
 * 2000-01-01, PostgreSQL's DateADT, so that dates cross the fmgr boundary
 * unchanged; ALFRED_DAYS_1970_TO_2000 converts between the two.  Every
 * function is valid for any int year.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_CORE_CALENDAR_H
#define ALFRED_CORE_CALENDAR_H

#include <stdint.h>

/* Days from 1970-01-01 to 2000-01-01. */
#define ALFRED_DAYS_1970_TO_2000 10957

extern int64_t alfred_days_from_civil(int year, int month, int day);
extern void alfred_civil_from_days(int64_t days, int *year, int *month, int *day);

/* Day of week of a day number: Sunday = 0 .. Saturday = 6 (cron's numbering). */
extern int	alfred_weekday(int64_t days);

/* ISO weekday of a day number: Monday = 1 .. Sunday = 7. */
extern int	alfred_iso_weekday(int64_t days);

extern int	alfred_days_in_month(int year, int month);

/* a / b rounded toward minus infinity (b != 0). */
static inline int64_t
alfred_floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

#endif							/* ALFRED_CORE_CALENDAR_H */
