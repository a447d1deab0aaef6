/*-------------------------------------------------------------------------
 *
 * cron_zone.c
 *		The DST search of the cron engine: fire times of a parsed expression
 *		as instants of a zone whose offsets a callback reports (cron_zone.h).
 *
 * cron.c searches wall-clock minutes; this file walks the zone's windows of
 * constant offset and, in each, asks it for the gap slots of the transition
 * that opens the window and the first (or last) ordinary slot.  A window's
 * offsets come from the caller's callback once and are kept in a small ring,
 * so most searches make no call at all.
 *
 *-------------------------------------------------------------------------
 */
#include "cron_zone.h"

#include <string.h>

/* How far back a window's search starts for the transition that opens it. */
#define LOOKBACK_SECS (400 * (int64_t) ALFRED_SECS_PER_DAY)

void
alfred_cron_zone_init(alfred_cron_zone *zone, alfred_zone_offsets_fn offsets, void *arg,
					  int64_t limit_lo, int64_t limit_hi)
{
	memset(zone, 0, sizeof(*zone));
	zone->offsets = offsets;
	zone->arg = arg;
	zone->limit_lo = limit_lo;
	zone->limit_hi = limit_hi;
}

void
alfred_cron_compiled_set(alfred_cron_compiled *cc, const alfred_cron *c)
{
	cc->cron = *c;
	if (++cc->memo_gen == 0)	/* entries start at generation 0: never valid */
		cc->memo_gen = 1;
}

/*---- Windows ----*/

/* Compute the window that contains t and remember it; false if the zone cannot tell. */
bool
alfred_cron_zone_window(alfred_cron_zone *zone, int64_t t, alfred_tz_window *out)
{
	alfred_tz_window w;
	int64_t		s = t - LOOKBACK_SECS;
	int64_t		boundary;
	long		before_off,
				after_off;
	int			r;

	r = zone->offsets(zone->arg, s, &before_off, &boundary, &after_off);
	if (r < 0)
		return false;
	/* no transition just before s + 1 day can reach past it */
	w.lo = s + ALFRED_SECS_PER_DAY;
	w.off = w.prev_off = before_off;
	w.hi = r == 1 ? boundary : ALFRED_NO_BOUNDARY;
	while (r == 1 && boundary <= t)
	{
		w.lo = boundary;
		w.prev_off = before_off;
		w.off = after_off;
		s = boundary;
		r = zone->offsets(zone->arg, s, &before_off, &boundary, &after_off);
		if (r < 0)
			return false;
		w.hi = r == 1 ? boundary : ALFRED_NO_BOUNDARY;
	}
	zone->win[zone->nextwin] = w;
	zone->nextwin = (zone->nextwin + 1) % ALFRED_CRON_ZONE_WINDOWS;
	if (zone->nwin < ALFRED_CRON_ZONE_WINDOWS)
		zone->nwin++;
	*out = w;
	return true;
}

/*---- Wall-clock searches ----*/

/*
 * A year no earlier (bound_year_after) or no later (bound_year_before) than
 * that of wall-clock seconds s: bounds for the calendar search, which needs
 * no exact year because every result is checked against the exact limit.
 */
static inline int
bound_year_after(int64_t s)
{
	return (int) (alfred_floor_div(s, 31556952) + 1971);
}

static inline int
bound_year_before(int64_t s)
{
	return (int) (alfred_floor_div(s, 31556952) + 1969);
}

/* First allowed wall-clock minute W with lo <= W <= hi. */
static bool
first_wall(const alfred_cron *c, int64_t lo, int64_t hi, int64_t *W)
{
	alfred_cron_time t;

	lo = -alfred_floor_div(-lo, 60) * 60;
	if (lo > hi)
		return false;
	alfred_cron_time_from_seconds(lo, &t);
	if (!alfred_cron_next_match(c, &t, bound_year_after(hi)))
		return false;
	*W = alfred_cron_time_to_seconds(&t);
	return *W <= hi;
}

/* Last allowed wall-clock minute W with lo <= W <= hi. */
static bool
last_wall(const alfred_cron *c, int64_t lo, int64_t hi, int64_t *W)
{
	alfred_cron_time t;

	if (hi < lo)
		return false;
	alfred_cron_time_from_seconds(hi, &t);
	if (!alfred_cron_prev_match(c, &t, bound_year_before(lo)))
		return false;
	*W = alfred_cron_time_to_seconds(&t);
	return *W >= lo;
}

static inline int64_t
day_start(int64_t W)
{
	return alfred_floor_div(W, ALFRED_SECS_PER_DAY) * ALFRED_SECS_PER_DAY;
}

/* Does the calendar day of wall time W lie wholly inside the gap [g0, g1)? */
static inline bool
day_skipped(int64_t W, int64_t g0, int64_t g1)
{
	int64_t		day = day_start(W);

	return day >= g0 && day + ALFRED_SECS_PER_DAY <= g1;
}

/* First allowed slot in the gap [g0, g1) at or after lo, on a day that exists. */
static bool
first_gap_wall(const alfred_cron *c, int64_t g0, int64_t g1, int64_t lo, int64_t *W)
{
	while (first_wall(c, lo > g0 ? lo : g0, g1 - 1, W))
	{
		if (!day_skipped(*W, g0, g1))
			return true;
		lo = day_start(*W) + ALFRED_SECS_PER_DAY;
	}
	return false;
}

/* Last allowed slot in the gap [g0, g1) at or before hi, on a day that exists. */
static bool
last_gap_wall(const alfred_cron *c, int64_t g0, int64_t g1, int64_t hi, int64_t *W)
{
	while (last_wall(c, g0, hi < g1 - 1 ? hi : g1 - 1, W))
	{
		if (!day_skipped(*W, g0, g1))
			return true;
		hi = day_start(*W) - 1;
	}
	return false;
}

/*---- Instants ----*/

/*
 * Least fire time >= a.  Walks windows forward: in each, the gap slots of
 * the transition that opens it and the first ordinary slot; the least of
 * these is the answer once it lies before the window's end, because
 * everything later windows offer lies after it.
 */
alfred_cron_search
alfred_cron_next_instant(const alfred_cron *c, alfred_cron_zone *zone, int64_t a, int64_t *result)
{
	alfred_tz_window w;

	if (c->interval_seconds > 0)
	{
		*result = a - 1 + c->interval_seconds;
		return *result <= zone->limit_hi ? ALFRED_CRON_FOUND : ALFRED_CRON_NOT_FOUND;
	}
	if (!alfred_cron_find_window(zone, a, &w))
		return ALFRED_CRON_ZONE_FAILED;
	for (;;)
	{
		int64_t		best = ALFRED_NO_BOUNDARY;
		int64_t		W,
					start,
					end;

		if (w.off > w.prev_off &&
			first_gap_wall(c, w.lo + w.prev_off, w.lo + w.off, a + w.prev_off, &W))
			best = W - w.prev_off;

		start = (a > w.lo ? a : w.lo) + w.off;
		if (w.prev_off > w.off && !c->all_hours && start < w.lo + w.prev_off)
			start = w.lo + w.prev_off;	/* second pass of a fold */
		end = (w.hi == ALFRED_NO_BOUNDARY ? zone->limit_hi : w.hi - 1) + w.off;
		if (first_wall(c, start, end, &W) && W - w.off < best)
			best = W - w.off;

		if (best != ALFRED_NO_BOUNDARY && best < w.hi)
		{
			*result = best;
			return best <= zone->limit_hi ? ALFRED_CRON_FOUND : ALFRED_CRON_NOT_FOUND;
		}
		if (w.hi == ALFRED_NO_BOUNDARY || w.hi > zone->limit_hi)
			return ALFRED_CRON_NOT_FOUND;
		if (!alfred_cron_find_window(zone, w.hi, &w))
			return ALFRED_CRON_ZONE_FAILED;
	}
}

/* Greatest fire time <= b; walks windows backward. */
alfred_cron_search
alfred_cron_prev_instant(const alfred_cron *c, alfred_cron_zone *zone, int64_t b, int64_t *result)
{
	alfred_tz_window w;
	int64_t		hi = b;			/* latest instant of interest */

	if (c->interval_seconds > 0)
	{
		*result = b + 1 - c->interval_seconds;
		return *result >= zone->limit_lo ? ALFRED_CRON_FOUND : ALFRED_CRON_NOT_FOUND;
	}
	if (!alfred_cron_find_window(zone, b, &w))
		return ALFRED_CRON_ZONE_FAILED;
	for (;;)
	{
		int64_t		best = INT64_MIN;
		int64_t		W,
					start,
					lo;

		if (w.hi - 1 < hi)
			hi = w.hi - 1;
		start = w.lo + w.off;
		if (w.prev_off > w.off && !c->all_hours)
			start = w.lo + w.prev_off;	/* second pass of a fold */
		lo = zone->limit_lo + w.off;
		if (last_wall(c, start > lo ? start : lo, hi + w.off, &W))
			best = W - w.off;

		if (w.off > w.prev_off &&
			last_gap_wall(c, w.lo + w.prev_off, w.lo + w.off, hi + w.prev_off, &W) &&
			W - w.prev_off > best)
			best = W - w.prev_off;

		/* every candidate lies in [w.lo, hi]; earlier windows end before w.lo */
		if (best != INT64_MIN)
		{
			*result = best;
			return best >= zone->limit_lo ? ALFRED_CRON_FOUND : ALFRED_CRON_NOT_FOUND;
		}
		if (w.lo <= zone->limit_lo)
			return ALFRED_CRON_NOT_FOUND;
		hi = w.lo - 1;
		if (!alfred_cron_find_window(zone, hi, &w))
			return ALFRED_CRON_ZONE_FAILED;
	}
}

/*---- Compiled expressions ----*/

/* First day >= day with a fire time (wall-clock days), memoized in *e. */
int64_t
alfred_cron_memo_fill(const alfred_cron *c, alfred_cron_day_memo *e, uint32_t gen, int64_t day)
{
	alfred_cron_time t;
	int64_t		next = ALFRED_NO_BOUNDARY;

	alfred_cron_time_from_seconds(day * ALFRED_SECS_PER_DAY, &t);
	if (alfred_cron_next_match(c, &t, t.year + 1000))
		next = alfred_days_from_civil(t.year, t.month, t.day);
	e->day = day;
	e->ahead = next - day <= INT32_MAX ? (int32_t) (next - day) : -1;
	e->gen = gen;
	return e->ahead < 0 ? ALFRED_NO_BOUNDARY : next;
}

alfred_cron_search
alfred_cron_compiled_next(alfred_cron_compiled *cc, int64_t a, int64_t *result)
{
	if (alfred_cron_fast_next(cc, a, result))
		return ALFRED_CRON_FOUND;
	return alfred_cron_next_instant(&cc->cron, &cc->zone, a, result);
}
