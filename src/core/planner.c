/*-------------------------------------------------------------------------
 *
 * planner.c
 *		Free slots of a calendar: the user's weekly work blocks, minus quiet
 *		hours, lunch and busy intervals widened by buffers, kept when long
 *		enough.  Pure C; the backend wrapper is src/planner_sql.c.
 *
 * The weekly rules are expanded day by day through the caller's
 * local_to_instant function, so a work block "09:00-17:00" is seven hours
 * long on the day clocks spring forward and nine on the day they fall back.
 * Everything after the expansion is arithmetic on sorted, merged interval
 * lists: O((d + n) log (d + n)) for d days and n busy intervals.
 *
 *-------------------------------------------------------------------------
 */
#include "planner.h"
#include "calendar.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Ten years of days: bounds the scratch space a caller must provide. */
#define MAX_PLAN_DAYS 3660

static const char *const status_text[] = {
	[ALFRED_PLAN_OK] = "OK.",
	[ALFRED_PLAN_BAD_RANGE] = "The range must end after it starts.",
	[ALFRED_PLAN_BAD_DURATION] = "The duration must be positive.",
	[ALFRED_PLAN_BAD_BUFFER] = "Buffers must not be negative.",
	[ALFRED_PLAN_BAD_BLOCK] = "A work block needs a weekday 1-7 and a start before its end within 00:00-24:00.",
	[ALFRED_PLAN_BAD_DAILY] = "Quiet hours and lunch need times within 00:00-24:00.",
	[ALFRED_PLAN_BAD_DAYS] = "The range covers more than 3660 days.",
};

const char *
alfred_plan_strerror(alfred_plan_status status)
{
	if ((unsigned) status >= sizeof(status_text) / sizeof(status_text[0]))
		return "Unknown planner status.";
	return status_text[status];
}

/*---- parsing ----*/

/*
 * "H:MM" or "HH:MM" (00:00 .. 24:00) into minutes since midnight; returns 0
 * when s is not such a clock time.
 */
int
alfred_plan_parse_clock(const char *s, size_t len, int *minute)
{
	size_t		colon = (len == 4) ? 1 : 2;
	int			h = 0;

	if ((len != 4 && len != 5) || s[colon] != ':')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (i != colon && !isdigit((unsigned char) s[i]))
			return 0;
	for (size_t i = 0; i < colon; i++)
		h = h * 10 + (s[i] - '0');
	*minute = h * 60 + (s[colon + 1] - '0') * 10 + (s[colon + 2] - '0');
	if (s[colon + 1] > '5' || *minute > ALFRED_PLAN_MINUTES_PER_DAY)
		return 0;
	return 1;
}

/* "monday" or "mon" (any case) into ISO weekday 1 .. 7; 0 when unknown. */
int
alfred_plan_parse_weekday(const char *s, size_t len)
{
	static const char *const names[] = {
		"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
	};

	for (int i = 0; i < 7; i++)
	{
		size_t		full = strlen(names[i]);

		if ((len == 3 || len == full) && strncasecmp(s, names[i], len) == 0)
			return i + 1;
	}
	return 0;
}

/*---- intervals ----*/

static int
interval_cmp(const void *a, const void *b)
{
	const alfred_interval *x = a;
	const alfred_interval *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

/* Sort, drop empty intervals and merge overlapping or touching ones, in place. */
size_t
alfred_interval_normalize(alfred_interval *iv, size_t n)
{
	size_t		out = 0;

	qsort(iv, n, sizeof(*iv), interval_cmp);
	for (size_t i = 0; i < n; i++)
	{
		if (iv[i].end <= iv[i].start)
			continue;
		if (out > 0 && iv[i].start <= iv[out - 1].end)
		{
			if (iv[i].end > iv[out - 1].end)
				iv[out - 1].end = iv[i].end;
			continue;
		}
		iv[out++] = iv[i];
	}
	return out;
}

/*
 * a minus b, both normalized; out (room for na + nb) receives a normalized
 * list.  One pass over both lists.
 */
size_t
alfred_interval_subtract(const alfred_interval *a, size_t na,
						 const alfred_interval *b, size_t nb,
						 alfred_interval *out)
{
	size_t		n = 0;
	size_t		j = 0;

	for (size_t i = 0; i < na; i++)
	{
		int64_t		cur = a[i].start;

		while (j < nb && b[j].end <= cur)
			j++;
		for (size_t k = j; k < nb && b[k].start < a[i].end; k++)
		{
			if (b[k].start > cur)
				out[n++] = (alfred_interval) {cur, b[k].start};
			if (b[k].end > cur)
				cur = b[k].end;
			if (cur >= a[i].end)
				break;
		}
		if (cur < a[i].end)
			out[n++] = (alfred_interval) {cur, a[i].end};
	}
	return n;
}

/*---- validation ----*/

static int
daily_valid(alfred_plan_daily d)
{
	if (d.start_minute == -1)
		return 1;
	return d.start_minute >= 0 && d.start_minute < ALFRED_PLAN_MINUTES_PER_DAY &&
		d.end_minute >= 0 && d.end_minute <= ALFRED_PLAN_MINUTES_PER_DAY;
}

alfred_plan_status
alfred_plan_check(const alfred_plan_spec *spec)
{
	if (spec->range.end <= spec->range.start)
		return ALFRED_PLAN_BAD_RANGE;
	if (spec->duration <= 0)
		return ALFRED_PLAN_BAD_DURATION;
	if (spec->buffer_before < 0 || spec->buffer_after < 0)
		return ALFRED_PLAN_BAD_BUFFER;
	for (int i = 0; i < spec->nblocks; i++)
	{
		const alfred_plan_block *b = &spec->blocks[i];

		if (b->weekday < 1 || b->weekday > 7 || b->start_minute < 0 ||
			b->start_minute >= b->end_minute ||
			b->end_minute > ALFRED_PLAN_MINUTES_PER_DAY)
			return ALFRED_PLAN_BAD_BLOCK;
	}
	if (!daily_valid(spec->quiet) || !daily_valid(spec->lunch))
		return ALFRED_PLAN_BAD_DAILY;
	if (spec->ndays < 0 || spec->ndays > MAX_PLAN_DAYS || spec->nbusy < 0)
		return ALFRED_PLAN_BAD_DAYS;
	return ALFRED_PLAN_OK;
}

size_t
alfred_plan_scratch_size(const alfred_plan_spec *spec)
{
	size_t		per_day = (size_t) (spec->nblocks > 0 ? spec->nblocks : 1) + 2;
	size_t		nbusy = spec->nbusy > 0 ? (size_t) spec->nbusy : 0;
	size_t		ndays = spec->ndays > 0 ? (size_t) spec->ndays : 0;

	return ndays * per_day + nbusy + 1;
}

/*---- expansion of the weekly rules ----*/

/* Instant of local day `days` (since 1970-01-01) at minute 0 .. 1440. */
static int64_t
local_instant(const alfred_plan_spec *spec, long days, int minute)
{
	int			y,
				m,
				d;

	if (minute >= ALFRED_PLAN_MINUTES_PER_DAY)
	{
		days += minute / ALFRED_PLAN_MINUTES_PER_DAY;
		minute %= ALFRED_PLAN_MINUTES_PER_DAY;
	}
	alfred_civil_from_days(days, &y, &m, &d);
	return spec->local_to_instant(spec->arg, y, m, d, minute);
}

/* The daily window on local day `days`, wrapping past midnight; 0 if unset. */
static int
daily_interval(const alfred_plan_spec *spec, alfred_plan_daily w, long days,
			   alfred_interval *out)
{
	int			end;

	if (w.start_minute < 0 || w.start_minute == w.end_minute)
		return 0;
	end = w.end_minute;
	if (end < w.start_minute)
		end += ALFRED_PLAN_MINUTES_PER_DAY;
	out->start = local_instant(spec, days, w.start_minute);
	out->end = local_instant(spec, days, end);
	return 1;
}

static int64_t
sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

/* Work time clipped to the range, normalized, into work. */
static size_t
expand_work(const alfred_plan_spec *spec, long first, alfred_interval *work)
{
	size_t		n = 0;

	for (int i = 0; i < spec->ndays; i++)
	{
		long		days = first + i;
		int			wd = alfred_iso_weekday(days);

		if (spec->nblocks == 0)
		{
			work[n].start = local_instant(spec, days, 0);
			work[n++].end = local_instant(spec, days, ALFRED_PLAN_MINUTES_PER_DAY);
			continue;
		}
		for (int b = 0; b < spec->nblocks; b++)
		{
			if (spec->blocks[b].weekday != wd)
				continue;
			work[n].start = local_instant(spec, days, spec->blocks[b].start_minute);
			work[n++].end = local_instant(spec, days, spec->blocks[b].end_minute);
		}
	}
	for (size_t i = 0; i < n; i++)
	{
		if (work[i].start < spec->range.start)
			work[i].start = spec->range.start;
		if (work[i].end > spec->range.end)
			work[i].end = spec->range.end;
	}
	return alfred_interval_normalize(work, n);
}

/* Quiet hours, lunch and widened busy intervals, normalized, into blocked. */
static size_t
expand_blocked(const alfred_plan_spec *spec, long first, alfred_interval *blocked)
{
	size_t		n = 0;

	for (int i = 0; i < spec->ndays; i++)
	{
		n += daily_interval(spec, spec->quiet, first + i, &blocked[n]);
		n += daily_interval(spec, spec->lunch, first + i, &blocked[n]);
	}
	for (int i = 0; i < spec->nbusy; i++)
	{
		blocked[n].start = sat_add(spec->busy[i].start, -spec->buffer_before);
		blocked[n++].end = sat_add(spec->busy[i].end, spec->buffer_after);
	}
	return alfred_interval_normalize(blocked, n);
}

long
alfred_plan_free_slots(const alfred_plan_spec *spec,
					   alfred_interval *scratch, alfred_interval *out)
{
	alfred_plan_status status = alfred_plan_check(spec);
	long		first;
	size_t		nwork,
				nblocked,
				nfree,
				kept = 0;
	alfred_interval *blocked;

	if (status != ALFRED_PLAN_OK)
		return -(long) status;
	first = alfred_days_from_civil(spec->first_year, spec->first_month,
								   spec->first_day);
	nwork = expand_work(spec, first, scratch);
	blocked = scratch + nwork;
	nblocked = expand_blocked(spec, first, blocked);
	nfree = alfred_interval_subtract(scratch, nwork, blocked, nblocked, out);
	for (size_t i = 0; i < nfree; i++)
		if (out[i].end - out[i].start >= spec->duration)
			out[kept++] = out[i];
	return (long) kept;
}
