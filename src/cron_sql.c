/*-------------------------------------------------------------------------
 *
 * cron_sql.c
 *		SQL functions of the cron engine (alfred.cron_next, cron_next_n,
 *		cron_prev, cron_valid) and the C API of cron_sql.h.
 *
 * The core (src/core/cron.c) searches wall-clock minutes.  This file maps
 * them to instants with PostgreSQL's own time zone library: a zone's time
 * line is a run of windows of constant UTC offset separated by transitions
 * (pg_next_dst_boundary).  Inside a window a wall-clock slot W is the
 * instant W - offset.  At a transition:
 *
 *	- gap (offset grows): slots whose wall time does not exist fire at
 *	  W - offset_before, which is what PostgreSQL's own conversion gives
 *	  ('2018-03-11 02:30' in New York is 03:30 EDT); a calendar day that
 *	  lies wholly inside a gap (Pacific/Apia, 2011-12-30) fires nothing;
 *	- fold (offset shrinks): wall times that happen twice fire at the first
 *	  pass only, unless the hour field allows every hour, in which case they
 *	  fire in both passes (an hourly job runs every real hour).
 *
 * The fire times are thus a set of instants; cron_next is its least member
 * after a time, cron_prev its greatest before, so a time that is two slots
 * at once fires once.  Parsed expressions, the pg_tz and a few windows are
 * cached per call site in fn_extra, so a million rows parse once and most
 * rows need no time zone lookup at all.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "cron.h"
#include "cron_sql.h"

/* Seconds from 1970-01-01 (pg_time_t) to 2000-01-01 (TimestampTz). */
#define UNIX_TO_PG_SECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/* The timestamp range in pg_time_t seconds, and its years. */
#define LIMIT_LO (MIN_TIMESTAMP / USECS_PER_SEC + UNIX_TO_PG_SECS)
#define LIMIT_HI (END_TIMESTAMP / USECS_PER_SEC + UNIX_TO_PG_SECS)
#define NO_BOUNDARY PG_INT64_MAX

/* How far back find_window looks for the transition that starts a window. */
#define LOOKBACK_SECS (400 * SECS_PER_DAY)

#define N_WINDOWS 4

/* A stretch of a zone's time line with one UTC offset: [lo, hi). */
typedef struct tz_window
{
	int64		lo;				/* a transition, or a time with none just before */
	int64		hi;				/* the next transition, or NO_BOUNDARY */
	long		off;			/* UTC offset in seconds east, within the window */
	long		prev_off;		/* offset just before lo (== off if no transition) */
} tz_window;

/* A zone and the windows it was last asked about. */
typedef struct cron_zone
{
	pg_tz	   *tz;
	int			nwin;
	int			nextwin;
	tz_window	win[N_WINDOWS];
} cron_zone;

/*
 * Memo of "the first day on or after day d with a fire time" (days since
 * 1970, wall clock), direct-mapped: a year of random rows hits it after
 * the first pass, so most cron_next calls do no calendar search at all.
 */
#define DAY_MEMO_SIZE 1024

typedef struct day_memo
{
	int64		day;
	int32		ahead;			/* next day - day, or -1 if none within range */
	uint32		gen;			/* valid only if equal to the cache's memo_gen */
} day_memo;

/* fn_extra of the scalar functions. */
typedef struct cron_cache
{
	char	   *expr;			/* the expression text, as given */
	int			exprlen;
	alfred_cron cron;
	uint32		memo_gen;		/* bumped when cron changes: empties memo */
	day_memo	memo[DAY_MEMO_SIZE];	/* for cron, in wall-clock days */
	char	   *tzname;
	int			tzlen;
	bool		args_const;		/* the call site's expression and zone are constants */
	cron_zone	zone;
} cron_cache;

/*---- Errors and argument checks ----*/

static void
report_invalid(const char *expr, const alfred_cron_error *err)
{
	char		msg[256];

	int			len = strlen(expr);

	alfred_cron_error_message(err, msg, sizeof(msg));
	if (len > 100)
		len = pg_mbcliplen(expr, len, 100);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", msg),
			 errdetail("The cron expression is \"%.*s%s\".", len, expr,
					   expr[len] ? "..." : ""),
			 err->status == ALFRED_CRON_FIELD_COUNT ?
			 errhint("The fields are minute, hour, day-of-month, month and day-of-week; alfred has no seconds or year field.") : 0));
}

static void
parse_or_error(const char *expr, alfred_cron *out)
{
	alfred_cron_error err;

	if (alfred_cron_parse(expr, out, &err) != ALFRED_CRON_OK)
		report_invalid(expr, &err);
}

/*
 * The zone named name, or NULL with *message (and *detail and *hint, which may
 * be NULL) saying why not; never raises.
 */
static pg_tz *
zone_or_message(const char *name, char **message, char **detail, char **hint)
{
	pg_tz	   *tz = NULL;

	*detail = *hint = NULL;
	if (strlen(name) < TZ_STRLEN_MAX)
		tz = pg_tzset(name);
	if (tz == NULL)
	{
		*message = psprintf("time zone \"%s\" not recognized", name);
		*hint = "Use an IANA time zone name such as \"Europe/Berlin\" (see pg_timezone_names).";
		return NULL;
	}
	if (!pg_tz_acceptable(tz))
	{
		*message = psprintf("time zone \"%s\" appears to use leap seconds", name);
		*detail = "PostgreSQL does not support leap seconds.";
		return NULL;
	}
	return tz;
}

static pg_tz *
zone_or_error(const char *name)
{
	char	   *message;
	char	   *detail;
	char	   *hint;
	pg_tz	   *tz = zone_or_message(name, &message, &detail, &hint);

	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", message),
				 detail ? errdetail("%s", detail) : 0,
				 hint ? errhint("%s", hint) : 0));
	return tz;
}

/*---- Time zone windows ----*/

/* Compute the window of zone->tz that contains t and remember it. */
static const tz_window *
compute_window(cron_zone *zone, int64 t)
{
	tz_window	w;
	tz_window  *slot;
	pg_time_t	s;
	long		before_off,
				after_off;
	int			before_dst,
				after_dst;
	pg_time_t	boundary;
	int			r;

	s = t - LOOKBACK_SECS;
	r = pg_next_dst_boundary(&s, &before_off, &before_dst, &boundary,
							 &after_off, &after_dst, zone->tz);
	if (r < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	/* no transition just before s + 1 day can reach past it */
	w.lo = s + SECS_PER_DAY;
	w.off = w.prev_off = before_off;
	w.hi = r == 1 ? boundary : NO_BOUNDARY;
	while (r == 1 && boundary <= t)
	{
		w.lo = boundary;
		w.prev_off = before_off;
		w.off = after_off;
		s = boundary;
		r = pg_next_dst_boundary(&s, &before_off, &before_dst, &boundary,
								 &after_off, &after_dst, zone->tz);
		w.hi = r == 1 ? boundary : NO_BOUNDARY;
	}
	slot = &zone->win[zone->nextwin];
	*slot = w;
	zone->nextwin = (zone->nextwin + 1) % N_WINDOWS;
	if (zone->nwin < N_WINDOWS)
		zone->nwin++;
	return slot;
}

/* The window of zone->tz that contains instant t (pg_time_t seconds). */
static inline tz_window
find_window(cron_zone *zone, int64 t)
{
	int			i;

	for (i = 0; i < zone->nwin; i++)
		if (zone->win[i].lo <= t && t < zone->win[i].hi)
			return zone->win[i];	/* at most N_WINDOWS compares */
	return *compute_window(zone, t);
}

/*---- Wall-clock searches (seconds since 1970 as if the zone were UTC) ----*/

static inline int64
floor_div(int64 a, int64 b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/*
 * A year no earlier (bound_year_after) or no later (bound_year_before) than
 * that of wall-clock seconds s: bounds for the core's search, which needs no
 * exact year because every result is checked against the exact limit.
 */
static inline int
bound_year_after(int64 s)
{
	return (int) (floor_div(s, 31556952) + 1971);
}

static inline int
bound_year_before(int64 s)
{
	return (int) (floor_div(s, 31556952) + 1969);
}

/* First allowed wall-clock minute W with lo <= W <= hi. */
static bool
first_wall(const alfred_cron *c, int64 lo, int64 hi, int64 *W)
{
	alfred_cron_time t;

	lo = -floor_div(-lo, 60) * 60;
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
last_wall(const alfred_cron *c, int64 lo, int64 hi, int64 *W)
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

/* Does the calendar day of wall time W lie wholly inside the gap [g0, g1)? */
static inline bool
day_skipped(int64 W, int64 g0, int64 g1)
{
	int64		day = floor_div(W, SECS_PER_DAY) * SECS_PER_DAY;

	return day >= g0 && day + SECS_PER_DAY <= g1;
}

/* First allowed slot in the gap [g0, g1) at or after lo, on a day that exists. */
static bool
first_gap_wall(const alfred_cron *c, int64 g0, int64 g1, int64 lo, int64 *W)
{
	while (first_wall(c, Max(lo, g0), g1 - 1, W))
	{
		if (!day_skipped(*W, g0, g1))
			return true;
		lo = floor_div(*W, SECS_PER_DAY) * SECS_PER_DAY + SECS_PER_DAY;
	}
	return false;
}

/* Last allowed slot in the gap [g0, g1) at or before hi, on a day that exists. */
static bool
last_gap_wall(const alfred_cron *c, int64 g0, int64 g1, int64 hi, int64 *W)
{
	while (last_wall(c, g0, Min(hi, g1 - 1), W))
	{
		if (!day_skipped(*W, g0, g1))
			return true;
		hi = floor_div(*W, SECS_PER_DAY) * SECS_PER_DAY - 1;
	}
	return false;
}

/*---- Instants ----*/

/*
 * Least fire time >= a (pg_time_t seconds).  Walks windows forward: in each,
 * the gap slots of the transition that opens it and the first ordinary slot;
 * the least of these is the answer once it lies before the window's end,
 * because everything later windows offer lies after it.
 */
static bool
next_instant(const alfred_cron *c, cron_zone *zone, int64 a, int64 *result)
{
	tz_window	w = find_window(zone, a);

	for (;;)
	{
		int64		best = NO_BOUNDARY;
		int64		W,
					start,
					end;

		CHECK_FOR_INTERRUPTS();
		if (w.off > w.prev_off &&
			first_gap_wall(c, w.lo + w.prev_off, w.lo + w.off, a + w.prev_off, &W))
			best = W - w.prev_off;

		start = Max(a, w.lo) + w.off;
		if (w.prev_off > w.off && !c->all_hours)
			start = Max(start, w.lo + w.prev_off);	/* second pass of a fold */
		end = (w.hi == NO_BOUNDARY ? LIMIT_HI : w.hi - 1) + w.off;
		if (first_wall(c, start, end, &W))
			best = Min(best, W - w.off);

		if (best != NO_BOUNDARY && best < w.hi)
		{
			*result = best;
			return best <= LIMIT_HI;
		}
		if (w.hi == NO_BOUNDARY || w.hi > LIMIT_HI)
			return false;
		w = find_window(zone, w.hi);
	}
}

/* Greatest fire time <= b (pg_time_t seconds); walks windows backward. */
static bool
prev_instant(const alfred_cron *c, cron_zone *zone, int64 b, int64 *result)
{
	tz_window	w = find_window(zone, b);
	int64		hi = b;			/* latest instant of interest */

	for (;;)
	{
		int64		best = PG_INT64_MIN;
		int64		W,
					start;

		CHECK_FOR_INTERRUPTS();
		hi = Min(hi, w.hi - 1);
		start = w.lo + w.off;
		if (w.prev_off > w.off && !c->all_hours)
			start = w.lo + w.prev_off;	/* second pass of a fold */
		if (last_wall(c, Max(start, LIMIT_LO + w.off), hi + w.off, &W))
			best = W - w.off;

		if (w.off > w.prev_off &&
			last_gap_wall(c, w.lo + w.prev_off, w.lo + w.off, hi + w.prev_off, &W))
			best = Max(best, W - w.prev_off);

		/* every candidate lies in [w.lo, hi]; earlier windows end before w.lo */
		if (best != PG_INT64_MIN)
		{
			*result = best;
			return best >= LIMIT_LO;
		}
		if (w.lo <= LIMIT_LO)
			return false;
		hi = w.lo - 1;
		w = find_window(zone, hi);
	}
}

/*---- The fast path of cron_next ----*/

/* First day >= day with a fire time (wall-clock days since 1970), memoized. */
static int64
compute_matching_day(const alfred_cron *c, day_memo *e, uint32 gen, int64 day)
{
	alfred_cron_time t;
	int64		next = NO_BOUNDARY;

	alfred_cron_time_from_seconds(day * SECS_PER_DAY, &t);
	if (alfred_cron_next_match(c, &t, t.year + 1000))
		next = alfred_cron_days_from_civil(t.year, t.month, t.day);
	e->day = day;
	e->ahead = next - day <= PG_INT32_MAX ? (int32) (next - day) : -1;
	e->gen = gen;
	return e->ahead < 0 ? NO_BOUNDARY : next;
}

static inline int64
next_matching_day(const alfred_cron *c, day_memo *memo, uint32 gen, int64 day)
{
	day_memo   *e = &memo[day & (DAY_MEMO_SIZE - 1)];

	if (e->day == day && e->gen == gen)
		return e->ahead < 0 ? NO_BOUNDARY : day + e->ahead;
	return compute_matching_day(c, e, gen, day);
}

/* First allowed minute of a matching day at or after minute m (0-1440), or -1. */
static inline int
first_slot(const alfred_cron *c, int m)
{
	int			h = m / 60;
	uint32		later;

	if (h < 24 && ((c->hours >> h) & 1))
	{
		uint64		mins = c->minutes & (~UINT64CONST(0) << (m % 60));

		if (mins)
			return h * 60 + __builtin_ctzll(mins);
	}
	later = h < 23 ? c->hours & (~(uint32) 0 << (h + 1)) : 0;
	if (later == 0)
		return -1;
	return __builtin_ctz(later) * 60 + __builtin_ctzll(c->minutes);
}

/*
 * cron_next for the common case: `a` (pg_time_t seconds) lies in a window
 * far enough from its opening transition that neither gap slots nor a fold's
 * second pass can matter, and the answer lies in the same window.  Returns
 * false when it cannot decide; next_instant then does.
 */
static pg_attribute_always_inline bool
fast_next(const alfred_cron *c, cron_zone *zone, day_memo *memo, uint32 gen, int64 a, int64 *u)
{
	tz_window	w = find_window(zone, a);
	int64		local,
				day,
				next_day,
				W;
	int			slot = -1;

	if (a < w.lo + Abs(w.off - w.prev_off))
		return false;
	local = a + w.off;
	day = floor_div(local, SECS_PER_DAY);
	next_day = next_matching_day(c, memo, gen, day);
	if (next_day == day)
		slot = first_slot(c, (int) ((local - day * SECS_PER_DAY + 59) / 60));
	if (slot < 0)
	{
		if (next_day == day)
			next_day = next_matching_day(c, memo, gen, day + 1);
		if (next_day == NO_BOUNDARY)
			return false;
		slot = first_slot(c, 0);
		day = next_day;
	}
	W = day * SECS_PER_DAY + slot * 60;
	*u = W - w.off;
	return *u < w.hi;
}

/*
 * cron_next / cron_prev on timestamps.  An instant strictly after `after`
 * is a whole second >= floor(after) + 1; strictly before `before`, a whole
 * second <= ceil(before) - 1.
 */
static bool
cron_next_ts(const alfred_cron *c, cron_zone *zone, day_memo *memo, uint32 gen,
			 TimestampTz after, TimestampTz *result)
{
	int64		a,
				u;

	if (TIMESTAMP_NOT_FINITE(after))
		return false;
	a = floor_div(after, USECS_PER_SEC) + 1 + UNIX_TO_PG_SECS;
	if (c->interval_seconds > 0)
		*result = after + (int64) c->interval_seconds * USECS_PER_SEC;
	else if ((memo && fast_next(c, zone, memo, gen, a, &u)) || next_instant(c, zone, a, &u))
		*result = (u - UNIX_TO_PG_SECS) * USECS_PER_SEC;
	else
		return false;
	return IS_VALID_TIMESTAMP(*result);
}

static bool
cron_prev_ts(const alfred_cron *c, cron_zone *zone, TimestampTz before, TimestampTz *result)
{
	int64		b,
				u;

	if (TIMESTAMP_NOT_FINITE(before))
		return false;
	if (c->interval_seconds > 0)
	{
		*result = before - (int64) c->interval_seconds * USECS_PER_SEC;
		return IS_VALID_TIMESTAMP(*result);
	}
	b = -floor_div(-before, USECS_PER_SEC) - 1 + UNIX_TO_PG_SECS;
	if (!prev_instant(c, zone, b, &u))
		return false;
	*result = (u - UNIX_TO_PG_SECS) * USECS_PER_SEC;
	return IS_VALID_TIMESTAMP(*result);
}

/*---- Per-call-site cache ----*/

/* The parsed expression (argument 0) and zone (argument 2) of this call. */
static cron_cache *
get_cache(FunctionCallInfo fcinfo)
{
	cron_cache *cache = (cron_cache *) fcinfo->flinfo->fn_extra;
	text	   *expr,
			   *tz;
	int			elen,
				tlen;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(cron_cache));
		cache->exprlen = -1;
		cache->tzlen = -1;
		fcinfo->flinfo->fn_extra = cache;
	}
	else if (cache->args_const)
		return cache;			/* constants cannot change within one execution */

	expr = PG_GETARG_TEXT_PP(0);
	tz = PG_GETARG_TEXT_PP(2);
	elen = VARSIZE_ANY_EXHDR(expr);
	tlen = VARSIZE_ANY_EXHDR(tz);
	if (cache->exprlen != elen || memcmp(cache->expr, VARDATA_ANY(expr), elen) != 0)
	{
		char	   *s = text_to_cstring(expr);
		alfred_cron parsed;

		parse_or_error(s, &parsed);
		if (cache->expr)
			pfree(cache->expr);
		cache->expr = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, s);
		cache->exprlen = elen;
		cache->cron = parsed;
		if (++cache->memo_gen == 0)	/* entries start at generation 0: never valid */
			cache->memo_gen = 1;
		pfree(s);
	}
	if (cache->tzlen != tlen || memcmp(cache->tzname, VARDATA_ANY(tz), tlen) != 0)
	{
		char	   *s = text_to_cstring(tz);
		pg_tz	   *z = zone_or_error(s);

		if (cache->tzname)
			pfree(cache->tzname);
		cache->tzname = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, s);
		cache->tzlen = tlen;
		memset(&cache->zone, 0, sizeof(cache->zone));
		cache->zone.tz = z;
		pfree(s);
	}
	cache->args_const = get_fn_expr_arg_stable(fcinfo->flinfo, 0) &&
		get_fn_expr_arg_stable(fcinfo->flinfo, 2);
	return cache;
}

/*---- SQL functions ----*/

PG_FUNCTION_INFO_V1(alfred_cron_next_sql);
Datum
alfred_cron_next_sql(PG_FUNCTION_ARGS)
{
	cron_cache *cache = get_cache(fcinfo);
	TimestampTz after = PG_GETARG_TIMESTAMPTZ(1);
	TimestampTz result;
	int64		u;

	/* the common case inline: a finite time, a five-field expression */
	if (likely(!TIMESTAMP_NOT_FINITE(after) && cache->cron.interval_seconds == 0) &&
		fast_next(&cache->cron, &cache->zone, cache->memo, cache->memo_gen,
				  floor_div(after, USECS_PER_SEC) + 1 + UNIX_TO_PG_SECS, &u))
	{
		result = (u - UNIX_TO_PG_SECS) * USECS_PER_SEC;
		if (IS_VALID_TIMESTAMP(result))
			PG_RETURN_TIMESTAMPTZ(result);
	}
	if (!cron_next_ts(&cache->cron, &cache->zone, cache->memo, cache->memo_gen, after, &result))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(result);
}

PG_FUNCTION_INFO_V1(alfred_cron_prev_sql);
Datum
alfred_cron_prev_sql(PG_FUNCTION_ARGS)
{
	cron_cache *cache = get_cache(fcinfo);
	TimestampTz result;

	if (!cron_prev_ts(&cache->cron, &cache->zone, PG_GETARG_TIMESTAMPTZ(1), &result))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(result);
}

PG_FUNCTION_INFO_V1(alfred_cron_valid_sql);
Datum
alfred_cron_valid_sql(PG_FUNCTION_ARGS)
{
	char	   *s = text_to_cstring(PG_GETARG_TEXT_PP(0));
	alfred_cron c;

	PG_RETURN_BOOL(alfred_cron_parse(s, &c, NULL) == ALFRED_CRON_OK);
}

/* State of cron_next_n between calls. */
typedef struct next_n_state
{
	alfred_cron cron;
	cron_zone	zone;
	TimestampTz last;
} next_n_state;

PG_FUNCTION_INFO_V1(alfred_cron_next_n_sql);
Datum
alfred_cron_next_n_sql(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	next_n_state *st;
	TimestampTz next;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		int32		n = PG_GETARG_INT32(3);
		char	   *expr = text_to_cstring(PG_GETARG_TEXT_PP(0));
		char	   *tz = text_to_cstring(PG_GETARG_TEXT_PP(2));

		if (n < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("n must not be negative"),
					 errdetail("n was %d.", n)));
		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		st = palloc0(sizeof(next_n_state));
		parse_or_error(expr, &st->cron);
		st->zone.tz = zone_or_error(tz);
		st->last = PG_GETARG_TIMESTAMPTZ(1);
		funcctx->max_calls = n;
		funcctx->user_fctx = st;
		MemoryContextSwitchTo(old);
	}
	funcctx = SRF_PERCALL_SETUP();
	st = funcctx->user_fctx;
	if (funcctx->call_cntr < funcctx->max_calls &&
		cron_next_ts(&st->cron, &st->zone, NULL, 0, st->last, &next))
	{
		st->last = next;
		SRF_RETURN_NEXT(funcctx, TimestampTzGetDatum(next));
	}
	SRF_RETURN_DONE(funcctx);
}

/*---- C API (cron_sql.h) ----*/

TimestampTz
alfred_cron_next_timestamptz(const char *expr, TimestampTz after, const char *tz)
{
	alfred_cron c;
	cron_zone	zone = {0};
	TimestampTz result;

	parse_or_error(expr, &c);
	zone.tz = zone_or_error(tz);
	if (!cron_next_ts(&c, &zone, NULL, 0, after, &result))
		TIMESTAMP_NOEND(result);
	return result;
}

TimestampTz
alfred_cron_prev_timestamptz(const char *expr, TimestampTz before, const char *tz)
{
	alfred_cron c;
	cron_zone	zone = {0};
	TimestampTz result;

	parse_or_error(expr, &c);
	zone.tz = zone_or_error(tz);
	if (!cron_prev_ts(&c, &zone, before, &result))
		TIMESTAMP_NOBEGIN(result);
	return result;
}

bool
alfred_cron_check(const char *expr, char **message)
{
	alfred_cron c;
	alfred_cron_error err;
	char		msg[256];

	if (alfred_cron_parse(expr, &c, &err) == ALFRED_CRON_OK)
		return true;
	if (message)
		*message = pstrdup(alfred_cron_error_message(&err, msg, sizeof(msg)));
	return false;
}

bool
alfred_cron_zone_check(const char *tz, char **message)
{
	char	   *msg;
	char	   *detail;
	char	   *hint;

	if (zone_or_message(tz, &msg, &detail, &hint) != NULL)
		return true;
	if (message)
		*message = msg;
	return false;
}
