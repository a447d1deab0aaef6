/*
 * test_streak.c
 *		Unit tests of src/core/streak.c: the examples of DESIGN.md "Streaks",
 *		schedule validation, and thousands of random histories on which the
 *		O(1) incremental path, the full recompute and a naive day-by-day
 *		oracle (calendar from libc, not from streak.c) must agree.
 */
#include <stdlib.h>
#include <time.h>

#include "streak.h"
#include "tap.h"

#define EPOCH_2000 10957		/* days from 1970-01-01 to 2000-01-01 */

static int32_t
day_of(int y, int m, int d)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	return (int32_t) (timegm(&tm) / 86400) - EPOCH_2000;
}

static int
oracle_isodow(int32_t day)
{
	time_t		t = ((time_t) day + EPOCH_2000) * 86400 + 43200;
	struct tm	tm;

	gmtime_r(&t, &tm);
	return tm.tm_wday == 0 ? 7 : tm.tm_wday;
}

/*---- The oracle: walk every day (or week) from the first log to today ----*/

static int
logged(const int32_t *days, int n, int32_t d)
{
	int			i;

	for (i = 0; i < n; i++)
		if (days[i] == d)
			return 1;
	return 0;
}

static int
logs_between(const int32_t *days, int n, int32_t from, int32_t to)
{
	int			i,
				c = 0;

	for (i = 0; i < n; i++)
		if (days[i] >= from && days[i] <= to)
			c++;
	return c;
}

static void
oracle(const AlfredStreakSchedule *s, const int32_t *days, int n, int32_t today,
	   AlfredStreakResult *r)
{
	int32_t		lo = today;
	int			i,
				cur = 0,
				best = 0;
	int32_t		this_week = today - (oracle_isodow(today) - 1);

	for (i = 0; i < n; i++)
		if (days[i] < lo)
			lo = days[i];

	if (s->kind == ALFRED_STREAK_WEEKLY)
	{
		int32_t		w;

		for (w = lo - (oracle_isodow(lo) - 1); w <= this_week; w += 7)
		{
			int			met = logs_between(days, n, w, w + 6 < today ? w + 6 : today) >= s->target;

			if (met && ++cur > best)
				best = cur;
			if (!met && w != this_week)
				cur = 0;
		}
	}
	else
	{
		int32_t		d;

		for (d = lo; d <= today; d++)
		{
			int			met;

			if (s->kind == ALFRED_STREAK_CUSTOM && !((s->weekdays >> oracle_isodow(d)) & 1))
				continue;
			met = logged(days, n, d);
			if (met && ++cur > best)
				best = cur;
			if (!met && d != today)
				cur = 0;
		}
	}
	r->current = cur;
	r->best = best;

	if (s->kind == ALFRED_STREAK_WEEKLY)
	{
		int			remaining = s->target - logs_between(days, n, this_week, today);
		int			days_left = 8 - oracle_isodow(today);

		r->state = remaining <= 0 ? ALFRED_STREAK_DONE :
			remaining == days_left ? ALFRED_STREAK_AT_RISK :
			remaining > days_left ? ALFRED_STREAK_LOST : ALFRED_STREAK_PENDING;
	}
	else if (s->kind == ALFRED_STREAK_CUSTOM && !((s->weekdays >> oracle_isodow(today)) & 1))
		r->state = ALFRED_STREAK_NONE;
	else if (logged(days, n, today))
		r->state = ALFRED_STREAK_DONE;
	else
		r->state = cur > 0 ? ALFRED_STREAK_AT_RISK : ALFRED_STREAK_NONE;
}

/*---- Helpers ----*/

static void
full(const AlfredStreakSchedule *s, const int32_t *days, int n, int32_t today,
	 AlfredStreakResult *r)
{
	AlfredStreakTally t;

	alfred_streak_recompute(s, days, n, today, &t);
	alfred_streak_result(s, &t, today, r);
}

static int
same(const AlfredStreakResult *a, const AlfredStreakResult *b)
{
	return a->current == b->current && a->best == b->best && a->state == b->state;
}

static int
same_tally(const AlfredStreakTally *a, const AlfredStreakTally *b)
{
	return a->last_logged == b->last_logged && a->last_met == b->last_met &&
		a->run == b->run && a->best == b->best &&
		a->period_logs == b->period_logs && a->total == b->total;
}

static void
check_example(const char *name, const char *freq, const int *wd, int nwd,
			  const int32_t *days, int n, int32_t today,
			  int current, int best, const char *state)
{
	AlfredStreakSchedule s;
	AlfredStreakResult r;

	alfred_streak_schedule(&s, freq, wd, nwd, 0);
	full(&s, days, n, today, &r);
	is_int(r.current, current, name);
	is_int(r.best, best, name);
	if (state)
		is_str(alfred_streak_state_name(r.state), state, name);
}

/*---- Tests ----*/

static void
test_calendar(void)
{
	int32_t		d;
	int			bad = 0;

	is_int(day_of(2000, 1, 1), 0, "2000-01-01 is day 0");
	is_int(alfred_streak_isodow(0), 6, "2000-01-01 is a Saturday");
	is_int(alfred_streak_isodow(day_of(2025, 6, 2)), 1, "2025-06-02 is a Monday");
	for (d = -800000; d < 800000; d += 7919)
		if (alfred_streak_isodow(d) != oracle_isodow(d) ||
			alfred_streak_isodow(alfred_streak_week_start(d)) != 1 ||
			d - alfred_streak_week_start(d) > 6)
			bad++;
	is_int(bad, 0, "weekdays and week starts agree with libc, before and after 2000");
}

static void
test_examples(void)
{
	int32_t		d1 = day_of(2025, 6, 1);
	int32_t		a[] = {d1 + 1, d1 + 2, d1 + 3};
	int32_t		b[] = {d1, d1 + 1, d1 + 2, d1 + 3, d1 + 5, d1 + 6};
	int32_t		c[] = {day_of(2025, 6, 5), day_of(2025, 6, 6), day_of(2025, 6, 9)};
	int			weekdays[] = {1, 2, 3, 4, 5};

	check_example("daily 02,03,04 today 04 -> (3,3,done)", "daily", NULL, 0, a, 3, d1 + 3, 3, 3, "done");
	check_example("daily 02,03,04 today 05 -> (3,3,at_risk)", "daily", NULL, 0, a, 3, d1 + 4, 3, 3, "at_risk");
	check_example("daily 02,03,04 today 06 -> (0,3,none)", "daily", NULL, 0, a, 3, d1 + 5, 0, 3, "none");
	check_example("daily 01-04,06,07 today 07 -> (2,4)", "daily", NULL, 0, b, 6, d1 + 6, 2, 4, "done");
	check_example("Mon-Fri Thu,Fri,Mon today Mon -> (3,3,done)", "custom", weekdays, 5, c, 3, day_of(2025, 6, 9), 3, 3, "done");
	check_example("Mon-Fri Thu,Fri today Sat keeps the streak", "custom", weekdays, 5, c, 2, day_of(2025, 6, 7), 2, 2, "none");
	check_example("Mon-Fri Thu,Fri today Mon is at risk", "custom", weekdays, 5, c, 2, day_of(2025, 6, 9), 2, 2, "at_risk");
	check_example("Mon-Fri Thu,Fri today Tue is broken", "custom", weekdays, 5, c, 2, day_of(2025, 6, 10), 0, 2, "none");
	check_example("no logs", "daily", NULL, 0, a, 0, d1, 0, 0, "none");
	check_example("logs after today are not counted", "daily", NULL, 0, a, 3, d1 + 1, 1, 1, "done");
}

static void
test_weekly(void)
{
	int32_t		mon = day_of(2025, 6, 2);
	int32_t		w[] = {mon - 7, mon - 5, mon, mon + 1};
	int			three[] = {1, 3, 5};
	AlfredStreakSchedule s;
	AlfredStreakResult r;

	alfred_streak_schedule(&s, "weekly", NULL, 0, 2);
	full(&s, w, 4, mon + 1, &r);
	is_int(r.current, 2, "weekly target 2: two met weeks in a row");
	is_str(alfred_streak_state_name(r.state), "done", "weekly met this week is done");
	full(&s, w, 3, mon, &r);
	is_int(r.current, 1, "weekly: the open week does not break the streak");
	is_str(alfred_streak_state_name(r.state), "pending", "weekly: 1 of 2 on Monday is pending");
	full(&s, w, 2, mon + 5, &r);
	is_str(alfred_streak_state_name(r.state), "at_risk", "weekly: 2 left with 2 days left is at risk");
	full(&s, w, 2, mon + 6, &r);
	is_str(alfred_streak_state_name(r.state), "lost", "weekly: 2 left on Sunday is lost");
	is_int(r.current, 1, "weekly: the previous week still counts on Sunday");
	full(&s, w, 2, mon + 7, &r);
	is_int(r.current, 0, "weekly: a missed week breaks the streak");

	is_int(alfred_streak_schedule(&s, "weekly", three, 3, 0), ALFRED_STREAK_OK, "weekly with three days");
	is_int(s.target, 3, "weekly target defaults to the number of days");
	alfred_streak_schedule(&s, "weekly", NULL, 0, 0);
	is_int(s.target, 1, "weekly target defaults to 1");
}

static void
test_schedule_errors(void)
{
	AlfredStreakSchedule s;
	int			bad[] = {0};
	int			dup[] = {3, 3};

	is_int(alfred_streak_schedule(&s, "hourly", NULL, 0, 0), ALFRED_STREAK_BAD_FREQUENCY, "unknown frequency");
	is_int(alfred_streak_schedule(&s, "daily", bad, 1, 0), ALFRED_STREAK_BAD_WEEKDAY, "weekday 0");
	is_int(alfred_streak_schedule(&s, "custom", NULL, 0, 0), ALFRED_STREAK_NO_WEEKDAYS, "custom without days");
	is_int(alfred_streak_schedule(&s, "weekly", NULL, 0, 8), ALFRED_STREAK_BAD_TARGET, "target 8");
	is_int(alfred_streak_schedule(&s, "weekly", dup, 2, 0), ALFRED_STREAK_OK, "duplicate weekdays");
	is_int(s.target, 1, "duplicate weekdays count once");
	ok(strlen(alfred_streak_status_message(ALFRED_STREAK_BAD_TARGET)) > 0, "status messages exist");
}

static void
test_sort(void)
{
	int32_t		d[] = {5, 3, 5, -2, 3, 9};
	int			n = alfred_streak_sort_days(d, 6);

	is_int(n, 4, "sort drops duplicates");
	ok(d[0] == -2 && d[1] == 3 && d[2] == 5 && d[3] == 9, "sort orders days");
	is_int(alfred_streak_sort_days(d, 0), 0, "sort of nothing");
}

/*---- Random histories ----*/

static int
rnd(int n)
{
	return rand() % n;
}

static void
random_schedule(AlfredStreakSchedule *s)
{
	static const char *freq[] = {"daily", "custom", "weekly"};
	int			wd[7];
	int			n = 0,
				d;

	for (d = 1; d <= 7; d++)
		if (rnd(2))
			wd[n++] = d;
	if (n == 0)
		wd[n++] = 1 + rnd(7);
	if (alfred_streak_schedule(s, freq[rnd(3)], wd, n, rnd(3) ? 1 + rnd(7) : 0) != ALFRED_STREAK_OK)
		abort();
}

static void
test_random(void)
{
	int			iter;
	int			histories = 5000;
	int			compared = 0;
	int			bad_full = 0,
				bad_incr = 0,
				bad_tally = 0,
				bad_status = 0,
				bad_past = 0;

	srand(20250602);
	for (iter = 0; iter < histories; iter++)
	{
		AlfredStreakSchedule s;
		AlfredStreakTally incr;
		int32_t		days[200];
		int			n = 0,
					i;
		int32_t		d = rnd(40000) - 20000;
		int			density = 1 + rnd(10);

		random_schedule(&s);
		/* a sorted, duplicate-free history with gaps of random length */
		for (i = 0; i < 60 + rnd(140); i++)
		{
			d += rnd(density) == 0 ? 1 + rnd(12) : 1;
			days[n++] = d;
		}

		alfred_streak_tally_init(&incr);
		for (i = 0; i < n; i++)
		{
			AlfredStreakTally before = incr;
			AlfredStreakTally whole;
			int			k;

			if (i > 0 && alfred_streak_append(&s, &incr, days[i - 1]) != ALFRED_STREAK_DUPLICATE)
				bad_status++;
			if (i > 1 && alfred_streak_append(&s, &incr, days[rnd(i - 1)]) != ALFRED_STREAK_BACKFILL)
				bad_status++;
			if (!same_tally(&before, &incr))
				bad_status++;
			if (alfred_streak_append(&s, &incr, days[i]) != ALFRED_STREAK_APPENDED)
				bad_status++;

			alfred_streak_recompute(&s, days, i + 1, days[i], &whole);
			if (!same_tally(&whole, &incr))
				bad_tally++;

			/* read the streak on the day of the log and on later days */
			for (k = 0; k < 3; k++)
			{
				int32_t		today = days[i] + (k == 0 ? 0 : rnd(k == 1 ? 3 : 16));
				AlfredStreakResult ro,
							rf,
							ri;

				oracle(&s, days, i + 1, today, &ro);
				full(&s, days, i + 1, today, &rf);
				alfred_streak_result(&s, &incr, today, &ri);
				bad_full += !same(&ro, &rf);
				bad_incr += !same(&ro, &ri);
				compared++;
			}
		}

		/* a recompute as of a day inside the history ignores later logs */
		{
			int			cut = rnd(n);
			AlfredStreakResult ro,
						rf;

			oracle(&s, days, cut + 1, days[cut], &ro);
			full(&s, days, n, days[cut], &rf);
			bad_past += !same(&ro, &rf);
		}
	}
	ok(compared > 100000, "compared %d (history, day) pairs from %d random histories", compared, histories);
	is_int(bad_full, 0, "full recompute agrees with the day-by-day oracle");
	is_int(bad_incr, 0, "incremental tally agrees with the day-by-day oracle");
	is_int(bad_tally, 0, "incremental tally equals the recomputed tally");
	is_int(bad_status, 0, "duplicates change nothing, back-fills are refused");
	is_int(bad_past, 0, "recompute as of a past day ignores later logs");
}

int
main(void)
{
	test_calendar();
	test_examples();
	test_weekly();
	test_schedule_errors();
	test_sort();
	test_random();
	return done_testing();
}
