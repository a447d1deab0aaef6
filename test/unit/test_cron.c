/*
 * test_cron.c
 *		Unit tests of the cron core (src/core/cron.c): parsing, error
 *		messages, the calendar helpers, and the field-by-field search checked
 *		against a naive day-by-day, minute-by-minute oracle on random
 *		expressions and random start times.
 */
#include <stdint.h>
#include <stdlib.h>

#include "calendar.h"
#include "cron.h"
#include "tap.h"

/*---- Helpers ----*/

static alfred_cron
parse_ok(const char *expr)
{
	alfred_cron c;
	alfred_cron_error err;
	char		msg[256];

	memset(&c, 0, sizeof(c));
	if (alfred_cron_parse(expr, &c, &err) != ALFRED_CRON_OK)
		printf("# unexpected parse error for '%s': %s\n", expr,
			   alfred_cron_error_message(&err, msg, sizeof(msg)));
	return c;
}

static const char *
parse_message(const char *expr)
{
	static char msg[256];
	alfred_cron c;
	alfred_cron_error err;

	if (alfred_cron_parse(expr, &c, &err) == ALFRED_CRON_OK)
		return "ok";
	return alfred_cron_error_message(&err, msg, sizeof(msg));
}

static int
same(const char *a, const char *b)
{
	alfred_cron x = parse_ok(a);
	alfred_cron y = parse_ok(b);

	/* the star flags record how a field was written, not what it allows */
	x.dom_star = y.dom_star;
	x.dow_star = y.dow_star;
	return memcmp(&x, &y, sizeof(x)) == 0;
}

static alfred_cron_time
tm(int y, int mo, int d, int h, int mi)
{
	alfred_cron_time t = {y, mo, d, h, mi};

	return t;
}

static char *
fmt(const alfred_cron_time *t)
{
	static char buf[4][40];
	static int	i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%04d-%02d-%02d %02d:%02d", t->year, t->month, t->day, t->hour, t->minute);
	return buf[i];
}

static const char *
next_of(const char *expr, alfred_cron_time t)
{
	alfred_cron c = parse_ok(expr);

	if (!alfred_cron_next_match(&c, &t, t.year + 50))
		return "none";
	return fmt(&t);
}

static const char *
prev_of(const char *expr, alfred_cron_time t)
{
	alfred_cron c = parse_ok(expr);

	if (!alfred_cron_prev_match(&c, &t, t.year - 50))
		return "none";
	return fmt(&t);
}

/*---- An independent oracle ----*/

static int
is_weekday(int y, int m, int d)
{
	int			w = alfred_weekday(alfred_days_from_civil(y, m, d));

	return w >= 1 && w <= 5;
}

/* Day matching written from the rules, one day at a time. */
static int
oracle_day(const alfred_cron *c, int y, int m, int d)
{
	int			dim = alfred_days_in_month(y, m);
	int			wd = alfred_weekday(alfred_days_from_civil(y, m, d));
	int			dom = 0,
				dow = 0,
				n;

	if (!((c->months >> m) & 1))
		return 0;
	if ((c->mdays >> d) & 1)
		dom = 1;
	if (c->mday_last && d == dim)
		dom = 1;
	if (c->mday_last_weekday)
	{
		int			last = dim;

		while (!is_weekday(y, m, last))
			last--;
		if (d == last)
			dom = 1;
	}
	for (n = 1; n <= dim; n++)
	{
		int			target = n;

		if (!((c->mdays_nearest >> n) & 1))
			continue;
		if (alfred_weekday(alfred_days_from_civil(y, m, n)) == 6)
			target = n - 1 >= 1 ? n - 1 : n + 2;
		else if (alfred_weekday(alfred_days_from_civil(y, m, n)) == 0)
			target = n + 1 <= dim ? n + 1 : n - 2;
		if (d == target)
			dom = 1;
	}
	if ((c->wdays >> wd) & 1)
		dow = 1;
	if ((c->wdays_nth[(d - 1) / 7 + 1] >> wd) & 1)
		dow = 1;
	if (((c->wdays_last >> wd) & 1) && d + 7 > dim)
		dow = 1;
	if (c->dom_star && c->dow_star)
		return 1;
	if (c->dom_star)
		return dow;
	if (c->dow_star)
		return dom;
	return dom || dow;
}

static void
add_minute(alfred_cron_time *t, int delta)
{
	alfred_cron_time_from_seconds(alfred_cron_time_to_seconds(t) + 60 * delta, t);
}

static void
add_day(alfred_cron_time *t, int delta)
{
	alfred_cron_time_from_seconds(alfred_cron_time_to_seconds(t) + 86400 * delta, t);
}

/* First match >= t within `days` days, scanning day by day then minute by minute. */
static int
oracle_next(const alfred_cron *c, alfred_cron_time t, int days, alfred_cron_time *out)
{
	int			i;

	for (i = 0; i <= days; i++)
	{
		if (oracle_day(c, t.year, t.month, t.day))
		{
			alfred_cron_time u = t;

			while (u.day == t.day)
			{
				if (((c->hours >> u.hour) & 1) && ((c->minutes >> u.minute) & 1))
				{
					*out = u;
					return 1;
				}
				add_minute(&u, 1);
			}
		}
		add_day(&t, 1);
		t.hour = t.minute = 0;
	}
	return 0;
}

static int
oracle_prev(const alfred_cron *c, alfred_cron_time t, int days, alfred_cron_time *out)
{
	int			i;

	for (i = 0; i <= days; i++)
	{
		if (oracle_day(c, t.year, t.month, t.day))
		{
			alfred_cron_time u = t;

			while (u.day == t.day)
			{
				if (((c->hours >> u.hour) & 1) && ((c->minutes >> u.minute) & 1))
				{
					*out = u;
					return 1;
				}
				add_minute(&u, -1);
			}
		}
		add_day(&t, -1);
		t.hour = 23;
		t.minute = 59;
	}
	return 0;
}

/*---- Random expressions ----*/

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint32_t
rnd(uint32_t n)
{
	uint64_t	z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z ^= z >> 31;
	return (uint32_t) (z % n);
}

static void
random_term(char *buf, size_t len, int min, int max)
{
	int			a = min + rnd(max - min + 1);
	int			b = min + rnd(max - min + 1);
	int			k = 1 + rnd(max > 12 ? 12 : max);

	switch (rnd(6))
	{
		case 0:
			snprintf(buf, len, "*");
			break;
		case 1:
			snprintf(buf, len, "*/%d", k);
			break;
		case 2:
			snprintf(buf, len, "%d", a);
			break;
		case 3:
			snprintf(buf, len, "%d-%d", a, b);
			break;
		case 4:
			snprintf(buf, len, "%d-%d/%d", a, b, k);
			break;
		default:
			snprintf(buf, len, "%d/%d", a, k);
			break;
	}
}

static void
random_field(char *buf, size_t len, int field)
{
	static const int lo[5] = {0, 0, 1, 1, 0};
	static const int hi[5] = {59, 23, 31, 12, 7};
	int			n = 1 + rnd(3);
	int			i;

	buf[0] = '\0';
	if (field == ALFRED_CRON_DOM && rnd(3) == 0)
	{
		static const char *const special[] = {"L", "LW", "15W", "1W", "31W", "?", "29-L", "L,1", "30W,2"};

		snprintf(buf, len, "%s", special[rnd(9)]);
		return;
	}
	if (field == ALFRED_CRON_DOW && rnd(3) == 0)
	{
		static const char *const special[] = {"5L", "1#2", "0#5", "1#1,5#3", "FRI-MON", "?", "SUN#4,6L", "2,4L"};

		snprintf(buf, len, "%s", special[rnd(8)]);
		return;
	}
	for (i = 0; i < n; i++)
	{
		char		term[32];

		random_term(term, sizeof(term), lo[field], hi[field]);
		if (i > 0)
			strncat(buf, ",", len - strlen(buf) - 1);
		strncat(buf, term, len - strlen(buf) - 1);
		if (strcmp(term, "*") == 0)
			break;
	}
}

static void
test_random_against_oracle(int nexpr, int nstarts)
{
	int			e,
				s,
				bad_next = 0,
				bad_prev = 0,
				bad_match = 0,
				checked = 0;

	for (e = 0; e < nexpr; e++)
	{
		char		expr[200] = "";
		alfred_cron c;
		int			f;

		for (f = 0; f < 5; f++)
		{
			char		field[64];

			random_field(field, sizeof(field), f);
			if (f > 0)
				strcat(expr, " ");
			strcat(expr, field);
		}
		if (alfred_cron_parse(expr, &c, NULL) != ALFRED_CRON_OK)
			continue;
		for (s = 0; s < nstarts; s++)
		{
			alfred_cron_time t = tm(1990 + rnd(80), 1 + rnd(12), 1, rnd(24), rnd(60));
			alfred_cron_time got,
						want;
			int			found,
						ofound;

			t.day = 1 + rnd(alfred_days_in_month(t.year, t.month));
			got = t;
			found = alfred_cron_next_match(&c, &got, t.year + 30);
			ofound = oracle_next(&c, t, 366 * 30, &want);
			if (found != ofound || (found && memcmp(&got, &want, sizeof(got)) != 0))
			{
				if (bad_next++ < 5)
					printf("# next '%s' from %s: got %s, oracle %s\n", expr, fmt(&t),
						   found ? fmt(&got) : "none", ofound ? fmt(&want) : "none");
			}
			if (found && !alfred_cron_matches(&c, &got))
				bad_match++;
			got = t;
			found = alfred_cron_prev_match(&c, &got, t.year - 30);
			ofound = oracle_prev(&c, t, 366 * 29, &want);
			if (ofound && (!found || memcmp(&got, &want, sizeof(got)) != 0))
			{
				if (bad_prev++ < 5)
					printf("# prev '%s' from %s: got %s, oracle %s\n", expr, fmt(&t),
						   found ? fmt(&got) : "none", fmt(&want));
			}
			checked++;
		}
	}
	ok(checked > nexpr * nstarts / 4, "random expressions mostly parse (%d checks)", checked);
	is_int(bad_next, 0, "next_match agrees with the day-by-day oracle");
	is_int(bad_prev, 0, "prev_match agrees with the day-by-day oracle");
	is_int(bad_match, 0, "every match found satisfies alfred_cron_matches");
}

/*---- Tests ----*/

static void
test_calendar(void)
{
	int64_t		d;
	int			bad = 0;

	is_int(alfred_days_from_civil(1970, 1, 1), 0, "1970-01-01 is day 0");
	is_int(alfred_days_from_civil(2000, 3, 1), 11017, "2000-03-01 is day 11017");
	is_int(alfred_weekday(alfred_days_from_civil(2024, 1, 1)), 1, "2024-01-01 is a Monday");
	is_int(alfred_weekday(alfred_days_from_civil(1970, 1, 1)), 4, "1970-01-01 is a Thursday");
	is_int(alfred_weekday(alfred_days_from_civil(-4713, 11, 24)), 1, "4714-11-24 BC is a Monday");
	is_int(alfred_days_in_month(2024, 2), 29, "February 2024 has 29 days");
	is_int(alfred_days_in_month(1900, 2), 28, "February 1900 has 28 days");
	is_int(alfred_days_in_month(2000, 2), 29, "February 2000 has 29 days");
	for (d = -2500000; d < 2500000; d += 7)
	{
		int			y,
					m,
					dd;

		alfred_civil_from_days(d, &y, &m, &dd);
		if (alfred_days_from_civil(y, m, dd) != d || dd < 1 || dd > alfred_days_in_month(y, m))
			bad++;
	}
	is_int(bad, 0, "civil_from_days and days_from_civil round-trip over 13700 years");
	{
		alfred_cron_time t;

		alfred_cron_time_from_seconds(-1, &t);
		is_str(fmt(&t), "1969-12-31 23:59", "negative seconds floor to the previous minute");
		is_int(alfred_cron_time_to_seconds(&t), -60, "and convert back");
	}
}

static void
test_parse_equivalences(void)
{
	ok(same("5/15 * * * *", "5-59/15 * * * *"), "5/15 is 5-59/15");
	ok(same("*/15 * * * *", "0,15,30,45 * * * *"), "*/15 is 0,15,30,45");
	ok(same("10-50/10 * * * *", "10,20,30,40,50 * * * *"), "10-50/10");
	ok(same("0 22-2 * * *", "0 22,23,0,1,2 * * *"), "hours 22-2 wrap");
	ok(same("0 0 * * FRI-MON", "0 0 * * 5,6,0,1"), "FRI-MON wraps");
	ok(same("0 0 * * 7", "0 0 * * 0"), "7 is Sunday");
	ok(same("0 0 * * 0-7", "0 0 * * *"), "0-7 is every day");
	ok(same("0 0 ? * *", "0 0 * * *"), "? is * in day-of-month");
	ok(same("0 0 * * ?", "0 0 * * *"), "? is * in day-of-week");
	ok(same("0 0 1 jan,Jul *", "0 0 1 1,7 *"), "month names in any case");
	ok(same("0 0 * * mon-Fri", "0 0 * * 1-5"), "day names in any case");
	ok(same("0 0 29-L * *", "0 0 29-31 * *"), "29-L is days 29 to the month's end");
	ok(same("0 0 $ * *", "0 0 L * *"), "$ is L");
	ok(same("@yearly", "0 0 1 1 *") && same("@annually", "0 0 1 1 *"), "@yearly and @annually");
	ok(same("@monthly", "0 0 1 * *"), "@monthly");
	ok(same("@weekly", "0 0 * * 0"), "@weekly");
	ok(same("@daily", "0 0 * * *") && same("@midnight", "0 0 * * *"), "@daily and @midnight");
	ok(same("@hourly", "0 * * * *"), "@hourly");
	ok(same("  0  0\t* *  *  ", "0 0 * * *"), "white space around and between fields");
	ok(same("00 09 * * *", "0 9 * * *"), "leading zeros");
	ok(same("0 0 * * 6-0", "0 0 * * SAT,SUN"), "6-0 wraps to Saturday and Sunday");
	ok(same("0 0 * * 7-1", "0 0 * * 0,1"), "7-1 is Sunday and Monday");
	ok(same("0 0 * * */2", "0 0 * * 0,2,4,6"), "*/2 in day-of-week");

	{
		alfred_cron c = parse_ok("*/7 9-17 * * MON-FRI");

		ok(c.dom_star && !c.dow_star, "star flags follow how the day fields are written");
		ok(!c.all_hours, "9-17 is not every hour");
		ok(parse_ok("0 0-23 * * *").all_hours, "0-23 is every hour");
		ok(parse_ok("30 */1 * * *").all_hours, "*/1 is every hour");
		ok(!parse_ok("0 0 */2 * *").dom_star, "*/2 in day-of-month is restricted");
	}
	{
		alfred_cron c = parse_ok("0 0 * * 1#2,5L,MON#5");

		is_int(c.wdays, 0, "# and nL add no plain weekday");
		is_int(c.wdays_nth[2], 1 << 1, "1#2 is the second Monday");
		is_int(c.wdays_nth[5], 1 << 1, "MON#5 is the fifth Monday");
		is_int(c.wdays_last, 1 << 5, "5L is the last Friday");
	}
	{
		alfred_cron c = parse_ok("0 0 15W,LW,L * *");

		is_int(c.mdays_nearest, 1 << 15, "15W");
		ok(c.mday_last_weekday && c.mday_last, "LW and L");
	}
	is_int(parse_ok("5 seconds").interval_seconds, 5, "'5 seconds'");
	is_int(parse_ok("1 second").interval_seconds, 1, "'1 second'");
	is_int(parse_ok("59SECONDS").interval_seconds, 59, "'59SECONDS'");
}

static void
test_errors(void)
{
	static const char *const cases[][2] = {
		{"61 * * * *", "minute value 61 is out of range 0-59"},
		{"* * * * FRX", "day-of-week \"FRX\" is not a day name"},
		{"* * * * * *", "expression has 6 fields; alfred takes 5"},
		{"* * * * * * *", "expression has 7 fields; alfred takes 5"},
		{"*", "expression has 1 field; alfred takes 5"},
		{"", "expression is empty"},
		{" \t ", "expression is empty"},
		{"* 24 * * *", "hour value 24 is out of range 0-23"},
		{"* * 0 * *", "day-of-month value 0 is out of range 1-31"},
		{"* * * 13 *", "month value 13 is out of range 1-12"},
		{"* * * * 8", "day-of-week value 8 is out of range 0-7"},
		{"* * * JANX *", "month \"JANX\" is not a month name"},
		{"x * * * *", "minute \"x\" is not a number"},
		{"*/0 * * * *", "minute step 0 is out of range 1-59"},
		{"*/60 * * * *", "minute step 60 is out of range 1-59"},
		{"* * * * */8", "day-of-week step 8 is out of range 1-7"},
		{"* * * * 1#6", "day-of-week occurrence 6 is out of range 1-5"},
		{"1-2-3 * * * *", "minute term \"1-2-3\" is malformed"},
		{"1,,2 * * * *", "minute term \"1,,2\" is malformed"},
		{"* * * * *x", "day-of-week term \"*x\" is malformed"},
		{"? * * * *", "minute \"?\" is only allowed as a whole day-of-month or day-of-week field"},
		{"@reboot", "macro \"@reboot\" is not one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"},
		{"60 seconds", "seconds value 60 is out of range 1-59"},
		{"0 seconds", "seconds value 0 is out of range 1-59"},
		{"0 0 30 2 *", "expression can never fire: no allowed month has an allowed day of month"},
		{"0 0 31 4,6,9,11 *", "expression can never fire: no allowed month has an allowed day of month"},
		{"0 0 31W 2 *", "expression can never fire: no allowed month has an allowed day of month"},
		{"0 0 29 2 *", "ok"},
		{"0 0 30 2 1", "ok"},
		{"0 0 * 2 1#5", "ok"},
		{"0 0 L 2 *", "ok"},
		{"99999999999999999999 * * * *", "minute value 99999999999999999999 is out of range 0-59"},
		{"1111111111111111111111111111111111111111 * * * *", "minute value 1111111111111111111111111111111 is out of range 0-59"},
	};
	size_t		i;
	char		big[ALFRED_CRON_MAX_LEN + 10];
	alfred_cron_error err;
	alfred_cron c;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(parse_message(cases[i][0]), cases[i][1], cases[i][0]);

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_str(parse_message(big), "expression is longer than 1024 bytes", "overlong expression");
	is_int(alfred_cron_parse("61 * * * *", &c, &err), ALFRED_CRON_OUT_OF_RANGE, "status code");
	is_int(err.field, ALFRED_CRON_MINUTE, "error names the field");
	is_str(err.token, "61", "error carries the value");
	ok(err.min == 0 && err.max == 59, "error carries the range");
	is_int(alfred_cron_parse("61 * * * *", &c, NULL), ALFRED_CRON_OUT_OF_RANGE, "err may be NULL");
}

static void
test_search(void)
{
	alfred_cron_time t0 = tm(2024, 1, 1, 0, 0);

	is_str(next_of("*/15 * * * *", tm(2024, 1, 1, 0, 1)), "2024-01-01 00:15", "next is inclusive and jumps to 00:15");
	is_str(next_of("*/15 * * * *", t0), "2024-01-01 00:00", "a matching start is its own next match");
	is_str(next_of("59 23 31 12 *", t0), "2024-12-31 23:59", "last minute of the year");
	is_str(next_of("0 0 29 2 *", tm(2024, 3, 1, 0, 0)), "2028-02-29 00:00", "February 29 four years on");
	is_str(next_of("0 0 29 2 *", tm(2097, 1, 1, 0, 0)), "2104-02-29 00:00", "2100 is no leap year");
	is_str(next_of("0 0 * 2 1#5", t0), "2044-02-29 00:00", "fifth Monday of February");
	is_str(next_of("0 0 L * *", tm(2024, 2, 1, 0, 0)), "2024-02-29 00:00", "L in a leap February");
	is_str(next_of("0 0 LW * *", tm(2024, 3, 1, 0, 0)), "2024-03-29 00:00", "LW: March 31 2024 is a Sunday");
	is_str(next_of("0 0 1W * *", tm(2024, 6, 1, 0, 0)), "2024-06-03 00:00", "1W on a Saturday is Monday the 3rd");
	is_str(next_of("0 0 31W * *", tm(2024, 3, 1, 0, 0)), "2024-03-29 00:00", "31W on a Sunday is Friday the 29th");
	is_str(next_of("0 0 15W * *", tm(2024, 9, 1, 0, 0)), "2024-09-16 00:00", "15W on a Sunday is Monday the 16th");
	is_str(next_of("0 0 * * 5L", t0), "2024-01-26 00:00", "last Friday of January 2024");
	is_str(next_of("0 0 13 * 5", tm(2024, 1, 6, 0, 0)), "2024-01-12 00:00", "13th or Friday: Friday first");
	is_str(next_of("0 0 13 * 5", tm(2024, 1, 12, 0, 1)), "2024-01-13 00:00", "13th or Friday: then the 13th");
	is_str(next_of("0 22-2 * * *", tm(2024, 1, 1, 3, 0)), "2024-01-01 22:00", "wrapping hours");
	is_str(prev_of("*/15 * * * *", tm(2024, 1, 1, 0, 14)), "2024-01-01 00:00", "prev is inclusive");
	is_str(prev_of("0 0 L * *", t0), "2023-12-31 00:00", "prev L");
	is_str(prev_of("0 0 29 2 *", t0), "2020-02-29 00:00", "prev February 29");
	is_str(prev_of("0 0 * * 1#2", t0), "2023-12-11 00:00", "prev second Monday");
	is_str(prev_of("0 12 1 1 *", tm(-4713, 11, 24, 0, 0)), "-4713-01-01 12:00", "prev in 4714 BC");
	is_str(prev_of("0 0 31 12 *", tm(1, 6, 1, 0, 0)), "0000-12-31 00:00", "prev across into year 0 (1 BC)");
	is_str(next_of("0 0 1 1 *", tm(-1, 6, 1, 0, 0)), "0000-01-01 00:00", "next from 2 BC into 1 BC");
	{
		alfred_cron c = parse_ok("0 0 29 2 *");
		alfred_cron_time t = tm(2101, 1, 1, 0, 0);

		ok(!alfred_cron_next_match(&c, &t, 2103), "next respects max_year");
		t = tm(2103, 1, 1, 0, 0);
		ok(!alfred_cron_prev_match(&c, &t, 2097), "prev respects min_year");
	}
	ok(!alfred_cron_matches(&(alfred_cron) {0}, &(alfred_cron_time) {2024, 1, 1, 0, 0}), "an empty struct matches nothing");
}

int
main(void)
{
	test_calendar();
	test_parse_equivalences();
	test_errors();
	test_search();
	test_random_against_oracle(2000, 10);
	return done_testing();
}
