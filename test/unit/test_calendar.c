/*
 * test_calendar.c
 *		Unit tests of src/core/calendar.c, the one calendar of the cron,
 *		planner and streak cores, against libc's timegm/gmtime_r as an
 *		independent oracle over every day of 1900-2200, plus the far past and
 *		future where libc is not asked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "calendar.h"
#include "tap.h"

int
main(void)
{
	int64_t		day;
	int			bad_roundtrip = 0,
				bad_oracle = 0,
				bad_weekday = 0,
				bad_month = 0;

	for (day = alfred_days_from_civil(1900, 1, 1); day <= alfred_days_from_civil(2200, 12, 31); day++)
	{
		int			y, m, d;
		time_t		t = (time_t) (day * 86400);
		struct tm	tm;

		alfred_civil_from_days(day, &y, &m, &d);
		if (alfred_days_from_civil(y, m, d) != day)
			bad_roundtrip++;
		gmtime_r(&t, &tm);
		if (tm.tm_year + 1900 != y || tm.tm_mon + 1 != m || tm.tm_mday != d)
			bad_oracle++;
		if (alfred_weekday(day) != tm.tm_wday
			|| alfred_iso_weekday(day) != (tm.tm_wday == 0 ? 7 : tm.tm_wday))
			bad_weekday++;
		/* the last day of each month is the day before the 1st of the next */
		if (d == 1 && day > alfred_days_from_civil(1900, 1, 1))
		{
			int			py, pm, pd;

			alfred_civil_from_days(day - 1, &py, &pm, &pd);
			if (alfred_days_in_month(py, pm) != pd)
				bad_month++;
		}
	}
	is_int(bad_roundtrip, 0, "civil <-> day number round trip, every day of 1900-2200");
	is_int(bad_oracle, 0, "civil dates agree with gmtime_r, every day of 1900-2200");
	is_int(bad_weekday, 0, "weekday and ISO weekday agree with gmtime_r");
	is_int(bad_month, 0, "days_in_month is the last day of every month");

	is_int((int) alfred_days_from_civil(1970, 1, 1), 0, "day 0 is 1970-01-01");
	is_int((int) alfred_days_from_civil(2000, 1, 1), ALFRED_DAYS_1970_TO_2000,
		   "ALFRED_DAYS_1970_TO_2000 is 2000-01-01");
	is_int(alfred_weekday(0), 4, "1970-01-01 is a Thursday (weekday 4)");
	is_int(alfred_iso_weekday(-1), 3, "1969-12-31 is a Wednesday (ISO 3): negative days");
	is_int(alfred_iso_weekday(ALFRED_DAYS_1970_TO_2000), 6, "2000-01-01 is a Saturday (ISO 6)");
	is_int(alfred_days_in_month(1900, 2), 28, "1900 is not a leap year");
	is_int(alfred_days_in_month(2000, 2), 29, "2000 is a leap year");
	is_int(alfred_days_in_month(2024, 2), 29, "2024 is a leap year");

	{
		int			y, m, d;

		alfred_civil_from_days(alfred_days_from_civil(-4713, 11, 24), &y, &m, &d);
		ok(y == -4713 && m == 11 && d == 24, "4714-11-24 BC round trips");
		alfred_civil_from_days(alfred_days_from_civil(294276, 12, 31), &y, &m, &d);
		ok(y == 294276 && m == 12 && d == 31, "294276-12-31 round trips");
		is_int(alfred_iso_weekday(alfred_days_from_civil(-4713, 11, 24)), 1,
			   "4714-11-24 BC is a Monday");
	}
	return done_testing();
}
