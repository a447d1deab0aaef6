/*-------------------------------------------------------------------------
 *
 * streak.c
 *		Habit streaks as DESIGN.md "Streaks" defines them, in plain C.
 *
 * A habit is scheduled daily, on some ISO weekdays (custom) or per ISO week
 * with a target number of logs (weekly).  A period is met when it has a log
 * (daily, custom: a log on a scheduled day) or at least target logs (weekly).
 * Walking the met periods in order, a run continues when a met period is the
 * scheduled period right after the previous met one, else restarts at 1.
 * best is the longest run; the current streak is the last run when it ends
 * in the open period (today, or the first scheduled day from today on; this
 * week) or in the scheduled period just before it, else 0.
 *
 * alfred_streak_recompute walks a whole history; alfred_streak_append folds
 * one more log that comes after every earlier one into a tally in O(1);
 * alfred_streak_result reads the streak and state as of a given day from a
 * tally.  test/unit/test_streak.c checks both against a day-by-day oracle.
 *
 *-------------------------------------------------------------------------
 */
#include "streak.h"
#include "calendar.h"

#include <stdlib.h>
#include <string.h>

/*---- Calendar ----*/

/* ISO weekday (1 = Monday .. 7 = Sunday) of a day number (days since 2000). */
int
alfred_streak_isodow(int32_t day)
{
	return alfred_iso_weekday((int64_t) day + ALFRED_DAYS_1970_TO_2000);
}

/* The Monday of the ISO week that contains day. */
int32_t
alfred_streak_week_start(int32_t day)
{
	return day - (alfred_streak_isodow(day) - 1);
}

static int
is_scheduled(const AlfredStreakSchedule *sched, int32_t day)
{
	if (sched->kind == ALFRED_STREAK_CUSTOM)
		return (sched->weekdays >> alfred_streak_isodow(day)) & 1;
	return 1;
}

/* The period that a met log on day belongs to. */
static int32_t
period_of(const AlfredStreakSchedule *sched, int32_t day)
{
	return sched->kind == ALFRED_STREAK_WEEKLY ? alfred_streak_week_start(day) : day;
}

/* The scheduled period right after period p. */
static int32_t
next_period(const AlfredStreakSchedule *sched, int32_t p)
{
	int32_t		d;

	if (sched->kind == ALFRED_STREAK_WEEKLY)
		return p + 7;
	d = p + 1;
	while (!is_scheduled(sched, d))
		d++;
	return d;
}

/* The scheduled period just before the open one (the one holding today). */
static int32_t
previous_period(const AlfredStreakSchedule *sched, int32_t today)
{
	int32_t		d;

	if (sched->kind == ALFRED_STREAK_WEEKLY)
		return alfred_streak_week_start(today) - 7;
	d = today - 1;
	while (!is_scheduled(sched, d))
		d--;
	return d;
}

/*---- Schedules ----*/

/*
 * Fill sched from a habit's frequency, ISO weekdays and weekly target
 * (target <= 0: the number of weekdays, else 1).  Weekdays matter for
 * custom habits and for the default weekly target; daily ignores them.
 */
AlfredStreakStatus
alfred_streak_schedule(AlfredStreakSchedule *sched, const char *frequency,
					   const int *weekdays, int nweekdays, int target)
{
	int			i;
	int			count = 0;

	memset(sched, 0, sizeof(*sched));
	if (strcmp(frequency, "daily") == 0)
		sched->kind = ALFRED_STREAK_DAILY;
	else if (strcmp(frequency, "custom") == 0)
		sched->kind = ALFRED_STREAK_CUSTOM;
	else if (strcmp(frequency, "weekly") == 0)
		sched->kind = ALFRED_STREAK_WEEKLY;
	else
		return ALFRED_STREAK_BAD_FREQUENCY;

	for (i = 0; i < nweekdays; i++)
	{
		if (weekdays[i] < 1 || weekdays[i] > 7)
			return ALFRED_STREAK_BAD_WEEKDAY;
		if (!((sched->weekdays >> weekdays[i]) & 1))
			count++;
		sched->weekdays |= 1u << weekdays[i];
	}
	if (sched->kind == ALFRED_STREAK_CUSTOM && count == 0)
		return ALFRED_STREAK_NO_WEEKDAYS;

	if (target <= 0)
		target = count > 0 ? count : 1;
	if (target > 7)
		return ALFRED_STREAK_BAD_TARGET;
	sched->target = target;
	return ALFRED_STREAK_OK;
}

const char *
alfred_streak_status_message(AlfredStreakStatus status)
{
	switch (status)
	{
		case ALFRED_STREAK_OK:
			return "No error.";
		case ALFRED_STREAK_BAD_FREQUENCY:
			return "The frequency must be daily, custom or weekly.";
		case ALFRED_STREAK_BAD_WEEKDAY:
			return "Days of the week are ISO weekdays, 1 (Monday) to 7 (Sunday).";
		case ALFRED_STREAK_NO_WEEKDAYS:
			return "A custom habit needs at least one day of the week.";
		case ALFRED_STREAK_BAD_TARGET:
			return "The weekly target must be between 1 and 7.";
	}
	return "Unknown error.";
}

const char *
alfred_streak_state_name(AlfredStreakState state)
{
	switch (state)
	{
		case ALFRED_STREAK_DONE:
			return "done";
		case ALFRED_STREAK_PENDING:
			return "pending";
		case ALFRED_STREAK_AT_RISK:
			return "at_risk";
		case ALFRED_STREAK_LOST:
			return "lost";
		case ALFRED_STREAK_NONE:
			break;
	}
	return "none";
}

/*---- Tallies ----*/

void
alfred_streak_tally_init(AlfredStreakTally *tally)
{
	tally->last_logged = ALFRED_STREAK_NO_DAY;
	tally->last_met = ALFRED_STREAK_NO_DAY;
	tally->run = 0;
	tally->best = 0;
	tally->period_logs = 0;
	tally->total = 0;
}

static int
compare_days(const void *a, const void *b)
{
	int32_t		x = *(const int32_t *) a;
	int32_t		y = *(const int32_t *) b;

	return (x > y) - (x < y);
}

/* Sort days in place and drop duplicates; returns the new count. */
int
alfred_streak_sort_days(int32_t *days, int n)
{
	int			i;
	int			out;

	for (i = 1; i < n; i++)
		if (days[i - 1] >= days[i])
			break;
	if (i < n)
		qsort(days, n, sizeof(int32_t), compare_days);
	for (out = 0, i = 0; i < n; i++)
		if (out == 0 || days[out - 1] != days[i])
			days[out++] = days[i];
	return n > 0 ? out : 0;
}

/* Extend the runs with met period p (which comes after every earlier one). */
static void
meet(const AlfredStreakSchedule *sched, AlfredStreakTally *tally, int32_t p)
{
	if (tally->last_met != ALFRED_STREAK_NO_DAY && next_period(sched, tally->last_met) == p)
		tally->run++;
	else
		tally->run = 1;
	tally->last_met = p;
	if (tally->run > tally->best)
		tally->best = tally->run;
}

/*
 * The full recompute: the tally of a sorted, duplicate-free history as of
 * today.  Days after today are not counted.
 */
void
alfred_streak_recompute(const AlfredStreakSchedule *sched, const int32_t *days,
						int n, int32_t today, AlfredStreakTally *tally)
{
	int			i = 0;

	alfred_streak_tally_init(tally);
	while (i < n && days[i] <= today)
	{
		int32_t		p = period_of(sched, days[i]);
		int			logs = 0;

		/* All logs of period p (one day, or one week). */
		while (i < n && days[i] <= today && period_of(sched, days[i]) == p)
		{
			logs++;
			tally->total++;
			tally->last_logged = days[i];
			i++;
		}
		tally->period_logs = logs;
		if (sched->kind == ALFRED_STREAK_WEEKLY ? logs >= sched->target : is_scheduled(sched, p))
			meet(sched, tally, p);
	}
}

/*
 * Fold a log on day into the tally in O(1).  Only a day after the latest
 * logged one can be appended; an earlier day needs a recompute, and the
 * latest day again changes nothing.
 */
int
alfred_streak_append(const AlfredStreakSchedule *sched, AlfredStreakTally *tally,
					 int32_t day)
{
	if (tally->last_logged != ALFRED_STREAK_NO_DAY)
	{
		if (day == tally->last_logged)
			return ALFRED_STREAK_DUPLICATE;
		if (day < tally->last_logged)
			return ALFRED_STREAK_BACKFILL;
	}
	if (tally->last_logged != ALFRED_STREAK_NO_DAY &&
		period_of(sched, day) == period_of(sched, tally->last_logged))
		tally->period_logs++;
	else
		tally->period_logs = 1;
	tally->last_logged = day;
	tally->total++;

	if (sched->kind == ALFRED_STREAK_WEEKLY)
	{
		if (tally->period_logs == sched->target)
			meet(sched, tally, period_of(sched, day));
	}
	else if (is_scheduled(sched, day))
		meet(sched, tally, day);
	return ALFRED_STREAK_APPENDED;
}

/*
 * The streak and state as of today from a tally whose logs are all on or
 * before today.
 */
void
alfred_streak_result(const AlfredStreakSchedule *sched, const AlfredStreakTally *tally,
					 int32_t today, AlfredStreakResult *result)
{
	int			trusted = tally->last_met != ALFRED_STREAK_NO_DAY &&
		tally->last_met >= previous_period(sched, today);

	result->current = trusted ? tally->run : 0;
	result->best = tally->best;

	if (sched->kind == ALFRED_STREAK_WEEKLY)
	{
		int			logs = 0;
		int			remaining;
		int			days_left = 8 - alfred_streak_isodow(today);

		if (tally->last_logged != ALFRED_STREAK_NO_DAY &&
			alfred_streak_week_start(tally->last_logged) == alfred_streak_week_start(today))
			logs = tally->period_logs;
		remaining = sched->target - logs;
		if (remaining <= 0)
			result->state = ALFRED_STREAK_DONE;
		else if (remaining == days_left)
			result->state = ALFRED_STREAK_AT_RISK;
		else if (remaining > days_left)
			result->state = ALFRED_STREAK_LOST;
		else
			result->state = ALFRED_STREAK_PENDING;
	}
	else if (!is_scheduled(sched, today))
		result->state = ALFRED_STREAK_NONE;
	else if (tally->last_logged == today)
		result->state = ALFRED_STREAK_DONE;
	else if (result->current > 0)
		result->state = ALFRED_STREAK_AT_RISK;
	else
		result->state = ALFRED_STREAK_NONE;
}
