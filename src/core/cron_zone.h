/*-------------------------------------------------------------------------
 *
 * cron_zone.h
 *		Fire times of a cron expression as instants in a time zone, with the
 *		DST rules of DESIGN.md "Time semantics".  No PostgreSQL dependency.
 *
 * The zone is the caller's: a callback reports its UTC offsets (the backend
 * asks PostgreSQL's pg_next_dst_boundary, the unit tests a synthetic zone),
 * so the whole DST search is unit-tested and fuzzed without a server.
 * Instants and wall-clock times are seconds since 1970-01-01 00:00 (a wall
 * time as if the zone were UTC).
 *
 * A zone's time line is a run of windows of constant UTC offset separated
 * by transitions.  Inside a window a wall-clock slot W is the instant
 * W - offset.  At a transition:
 *	- gap (offset grows): slots whose wall time does not exist fire at
 *	  W - offset_before, which is what PostgreSQL's own conversion gives
 *	  ('2018-03-11 02:30' in New York is 03:30 EDT); a calendar day that
 *	  lies wholly inside a gap (Pacific/Apia, 2011-12-30) fires nothing;
 *	- fold (offset shrinks): wall times that happen twice fire at the first
 *	  pass only, unless the hour field allows every hour, in which case they
 *	  fire in both passes (an hourly job runs every real hour).
 * The fire times are thus a set of instants: next is its least member at or
 * after a time, prev its greatest at or before, so an instant that is two
 * slots at once fires once.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_CORE_CRON_ZONE_H
#define ALFRED_CORE_CRON_ZONE_H

#include <stdbool.h>
#include <stdint.h>

#include "calendar.h"
#include "cron.h"

#define ALFRED_SECS_PER_DAY 86400
#define ALFRED_NO_BOUNDARY INT64_MAX
#define ALFRED_CRON_ZONE_WINDOWS 4
#define ALFRED_CRON_MEMO_SIZE 1024	/* a power of two */

/*
 * The caller's zone.  For instant t, set *before_off to the UTC offset
 * (seconds east) in force at t.  If the offset changes after t, set
 * *boundary to the instant of that change and *after_off to the new offset
 * and return 1; return 0 when it never changes after t, and -1 when t lies
 * outside what the zone can tell.  (pg_next_dst_boundary's contract.)
 */
typedef int (*alfred_zone_offsets_fn) (void *arg, int64_t t, long *before_off,
									   int64_t *boundary, long *after_off);

/* A stretch of a zone's time line with one UTC offset: [lo, hi). */
typedef struct alfred_tz_window
{
	int64_t		lo;				/* a transition, or a time with none just before */
	int64_t		hi;				/* the next transition, or ALFRED_NO_BOUNDARY */
	long		off;			/* UTC offset in seconds east, within the window */
	long		prev_off;		/* offset just before lo (== off if no transition) */
} alfred_tz_window;

/* A zone, the instants its caller can represent, and its last windows. */
typedef struct alfred_cron_zone
{
	alfred_zone_offsets_fn offsets;
	void	   *arg;
	int64_t		limit_lo;		/* earliest instant a result may be */
	int64_t		limit_hi;		/* latest instant a result may be */
	int			nwin;
	int			nextwin;
	alfred_tz_window win[ALFRED_CRON_ZONE_WINDOWS];
} alfred_cron_zone;

/* "The first day on or after day with a fire time", direct-mapped. */
typedef struct alfred_cron_day_memo
{
	int64_t		day;
	int32_t		ahead;			/* next day - day, or -1 if none within range */
	uint32_t	gen;			/* valid only if equal to the handle's memo_gen */
} alfred_cron_day_memo;

/*
 * A compiled expression: parsed once, its zone resolved once, and a memo of
 * matching days, so that evaluating it many times (a million rows, the slots
 * a task missed) costs little more than the arithmetic.
 */
typedef struct alfred_cron_compiled
{
	alfred_cron cron;
	alfred_cron_zone zone;
	uint32_t	memo_gen;		/* bumped when cron changes: empties the memo */
	alfred_cron_day_memo memo[ALFRED_CRON_MEMO_SIZE];
} alfred_cron_compiled;

typedef enum alfred_cron_search
{
	ALFRED_CRON_FOUND = 0,
	ALFRED_CRON_NOT_FOUND,		/* none within the zone's limits */
	ALFRED_CRON_ZONE_FAILED		/* the zone callback could not tell */
} alfred_cron_search;

extern void alfred_cron_zone_init(alfred_cron_zone *zone, alfred_zone_offsets_fn offsets,
								  void *arg, int64_t limit_lo, int64_t limit_hi);

/* Set cc's expression (already parsed) and forget what the memo knew. */
extern void alfred_cron_compiled_set(alfred_cron_compiled *cc, const alfred_cron *c);

/* Least fire time >= a; greatest fire time <= b. */
extern alfred_cron_search alfred_cron_next_instant(const alfred_cron *c, alfred_cron_zone *zone,
												   int64_t a, int64_t *result);
extern alfred_cron_search alfred_cron_prev_instant(const alfred_cron *c, alfred_cron_zone *zone,
												   int64_t b, int64_t *result);

/* Least fire time >= a of a compiled expression: the fast path, then the search. */
extern alfred_cron_search alfred_cron_compiled_next(alfred_cron_compiled *cc, int64_t a,
													int64_t *result);

/*---- The fast path, inline for callers on a hot path ----*/

extern bool alfred_cron_zone_window(alfred_cron_zone *zone, int64_t t, alfred_tz_window *w);
extern int64_t alfred_cron_memo_fill(const alfred_cron *c, alfred_cron_day_memo *e,
									 uint32_t gen, int64_t day);

/* The window that contains instant t: at most ALFRED_CRON_ZONE_WINDOWS compares. */
static inline bool
alfred_cron_find_window(alfred_cron_zone *zone, int64_t t, alfred_tz_window *w)
{
	int			i;

	for (i = 0; i < zone->nwin; i++)
		if (zone->win[i].lo <= t && t < zone->win[i].hi)
		{
			*w = zone->win[i];
			return true;
		}
	return alfred_cron_zone_window(zone, t, w);
}

/* First day >= day (wall-clock days) with a fire time, or ALFRED_NO_BOUNDARY. */
static inline int64_t
alfred_cron_next_matching_day(alfred_cron_compiled *cc, int64_t day)
{
	alfred_cron_day_memo *e = &cc->memo[day & (ALFRED_CRON_MEMO_SIZE - 1)];

	if (e->day == day && e->gen == cc->memo_gen)
		return e->ahead < 0 ? ALFRED_NO_BOUNDARY : day + e->ahead;
	return alfred_cron_memo_fill(&cc->cron, e, cc->memo_gen, day);
}

/* First allowed minute of a matching day at or after minute m (0-1440), or -1. */
static inline int
alfred_cron_first_slot(const alfred_cron *c, int m)
{
	int			h = m / 60;
	uint32_t	later;

	if (h < 24 && ((c->hours >> h) & 1))
	{
		uint64_t	mins = c->minutes & (~UINT64_C(0) << (m % 60));

		if (mins)
			return h * 60 + __builtin_ctzll(mins);
	}
	later = h < 23 ? c->hours & (~(uint32_t) 0 << (h + 1)) : 0;
	if (later == 0)
		return -1;
	return __builtin_ctz(later) * 60 + __builtin_ctzll(c->minutes);
}

/*
 * Least fire time >= a for the common case: a five-field expression, `a`
 * lies in a window far enough from its opening transition that neither gap
 * slots nor a fold's second pass can matter, and the answer lies in the same
 * window.  Returns false when it cannot decide; alfred_cron_next_instant
 * then does.
 */
static inline __attribute__((always_inline)) bool
alfred_cron_fast_next(alfred_cron_compiled *cc, int64_t a, int64_t *u)
{
	const alfred_cron *c = &cc->cron;
	alfred_tz_window w;
	int64_t		local,
				day,
				next_day;
	int			slot = -1;

	if (c->interval_seconds > 0 || !alfred_cron_find_window(&cc->zone, a, &w))
		return false;
	if (a < w.lo + (w.off > w.prev_off ? w.off - w.prev_off : w.prev_off - w.off))
		return false;
	local = a + w.off;
	day = alfred_floor_div(local, ALFRED_SECS_PER_DAY);
	next_day = alfred_cron_next_matching_day(cc, day);
	if (next_day == day)
		slot = alfred_cron_first_slot(c, (int) ((local - day * ALFRED_SECS_PER_DAY + 59) / 60));
	if (slot < 0)
	{
		if (next_day == day)
			next_day = alfred_cron_next_matching_day(cc, day + 1);
		if (next_day == ALFRED_NO_BOUNDARY)
			return false;
		slot = alfred_cron_first_slot(c, 0);
		day = next_day;
	}
	*u = day * ALFRED_SECS_PER_DAY + slot * 60 - w.off;
	return *u < w.hi && *u <= cc->zone.limit_hi;
}

#endif							/* ALFRED_CORE_CRON_ZONE_H */
