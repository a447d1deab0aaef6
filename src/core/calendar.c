/*-------------------------------------------------------------------------
 *
 * calendar.c
 *		Day numbers and civil dates of the proleptic Gregorian calendar, the
 *		one calendar of the cron, planner and streak cores (calendar.h).
 *
 * The conversions count 400-year eras of 146097 days from 0000-03-01, so
 * that the leap day ends a year and the month lengths from March on follow
 * the (153 m + 2) / 5 rule; no table and no loop.  Weekdays are residues of
 * the day number, taken non-negative for days before 1970.
 *
 *-------------------------------------------------------------------------
 */
#include "calendar.h"

/* Days from 0000-03-01 to 1970-01-01. */
#define DAYS_0000_03_01_TO_1970 719468

/* A non-negative residue of day modulo 7. */
static int
mod7(int64_t day)
{
	int64_t		r = day % 7;

	return (int) (r < 0 ? r + 7 : r);
}

int64_t
alfred_days_from_civil(int year, int month, int day)
{
	int64_t		y = (int64_t) year - (month <= 2);
	int64_t		era = (y >= 0 ? y : y - 399) / 400;
	int64_t		yoe = y - era * 400;
	int64_t		doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	int64_t		doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - DAYS_0000_03_01_TO_1970;
}

void
alfred_civil_from_days(int64_t days, int *year, int *month, int *day)
{
	int64_t		z = days + DAYS_0000_03_01_TO_1970;
	int64_t		era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t		doe = z - era * 146097;
	int64_t		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t		mp = (5 * doy + 2) / 153;
	int			m = (int) (mp < 10 ? mp + 3 : mp - 9);

	*day = (int) (doy - (153 * mp + 2) / 5 + 1);
	*month = m;
	*year = (int) (yoe + era * 400 + (m <= 2));
}

/* 1970-01-01 was a Thursday: weekday 4, ISO weekday 4. */
int
alfred_weekday(int64_t days)
{
	return mod7(days + 4);
}

int
alfred_iso_weekday(int64_t days)
{
	return mod7(days + 3) + 1;
}

int
alfred_days_in_month(int year, int month)
{
	static const int len[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
		return 29;
	return len[month];
}
