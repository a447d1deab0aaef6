/*-------------------------------------------------------------------------
 *
 * cron_sql.c
 *		SQL functions of the cron engine (alfred.cron_next, cron_next_n,
 *		cron_prev, cron_valid) and the C API of cron_sql.h.
 *
 * The pure core parses (src/core/cron.c) and searches fire times in a zone
 * with the DST rules (src/core/cron_zone.c); this file gives the core its
 * zone, PostgreSQL's own time zone library (pg_next_dst_boundary), converts
 * timestamps to and from the core's seconds, and turns status codes into
 * errors.  A compiled expression (parsed once, zone resolved once, with a
 * memo of matching days) is cached per call site in fn_extra, so a million
 * rows parse once and most rows need no time zone lookup at all; the
 * scheduler compiles a task's expression once per run (cron_sql.h).
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
#include "cron_zone.h"
#include "timezone.h"
#include "cron_sql.h"

/* Seconds from 1970-01-01 (pg_time_t) to 2000-01-01 (TimestampTz). */
#define UNIX_TO_PG_SECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/* The timestamp range in pg_time_t seconds. */
#define LIMIT_LO (MIN_TIMESTAMP / USECS_PER_SEC + UNIX_TO_PG_SECS)
#define LIMIT_HI (END_TIMESTAMP / USECS_PER_SEC + UNIX_TO_PG_SECS)

/* fn_extra of the scalar functions. */
typedef struct cron_cache
{
	char	   *expr;			/* the expression text, as given */
	int			exprlen;
	char	   *tzname;
	int			tzlen;
	bool		args_const;		/* the call site's expression and zone are constants */
	alfred_cron_compiled cc;
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

/*---- The zone and the timestamps ----*/

/* The core's zone callback: PostgreSQL's time zone library. */
static int
pg_zone_offsets(void *arg, int64_t t, long *before_off, int64_t *boundary, long *after_off)
{
	pg_time_t	s = (pg_time_t) t;
	pg_time_t	b = 0;
	int			before_dst,
				after_dst;
	int			r;

	r = pg_next_dst_boundary(&s, before_off, &before_dst, &b, after_off, &after_dst,
							 (const pg_tz *) arg);
	*boundary = b;
	return r;
}

static void
zone_init(alfred_cron_zone *zone, const char *tz)
{
	alfred_cron_zone_init(zone, pg_zone_offsets, alfred_zone_or_error(tz), LIMIT_LO, LIMIT_HI);
}

/*
 * A search's status as a result: true with *result set, false when there is
 * none within the timestamp range; an error when the zone could not tell.
 */
static bool
instant_result(alfred_cron_search status, int64 u, TimestampTz *result)
{
	if (status == ALFRED_CRON_ZONE_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	if (status != ALFRED_CRON_FOUND)
		return false;
	*result = (u - UNIX_TO_PG_SECS) * USECS_PER_SEC;
	return IS_VALID_TIMESTAMP(*result);
}

/* First whole second strictly after `after`, in the core's seconds. */
static inline int64
second_after(TimestampTz after)
{
	return alfred_floor_div(after, USECS_PER_SEC) + 1 + UNIX_TO_PG_SECS;
}

/*
 * cron_next / cron_prev on timestamps.  An instant strictly after `after`
 * is a whole second >= floor(after) + 1; strictly before `before`, a whole
 * second <= ceil(before) - 1.  pg_cron's 'N seconds' form counts from the
 * exact time given.
 */
static bool
next_ts(alfred_cron_compiled *cc, TimestampTz after, TimestampTz *result)
{
	int64		u = 0;
	alfred_cron_search status;

	if (TIMESTAMP_NOT_FINITE(after))
		return false;
	if (cc->cron.interval_seconds > 0)
	{
		*result = after + (int64) cc->cron.interval_seconds * USECS_PER_SEC;
		return IS_VALID_TIMESTAMP(*result);
	}
	status = alfred_cron_compiled_next(cc, second_after(after), &u);
	return instant_result(status, u, result);
}

static bool
prev_ts(alfred_cron_compiled *cc, TimestampTz before, TimestampTz *result)
{
	int64		b,
				u = 0;
	alfred_cron_search status;

	if (TIMESTAMP_NOT_FINITE(before))
		return false;
	if (cc->cron.interval_seconds > 0)
	{
		*result = before - (int64) cc->cron.interval_seconds * USECS_PER_SEC;
		return IS_VALID_TIMESTAMP(*result);
	}
	b = -alfred_floor_div(-before, USECS_PER_SEC) - 1 + UNIX_TO_PG_SECS;
	status = alfred_cron_prev_instant(&cc->cron, &cc->zone, b, &u);
	return instant_result(status, u, result);
}

/*---- Per-call-site cache ----*/

/* The compiled expression (argument 0) and zone (argument 2) of this call. */
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
		alfred_cron_compiled_set(&cache->cc, &parsed);
		pfree(s);
	}
	if (cache->tzlen != tlen || memcmp(cache->tzname, VARDATA_ANY(tz), tlen) != 0)
	{
		char	   *s = text_to_cstring(tz);

		zone_init(&cache->cc.zone, s);
		if (cache->tzname)
			pfree(cache->tzname);
		cache->tzname = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, s);
		cache->tzlen = tlen;
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
	if (likely(!TIMESTAMP_NOT_FINITE(after)) &&
		alfred_cron_fast_next(&cache->cc, second_after(after), &u))
	{
		result = (u - UNIX_TO_PG_SECS) * USECS_PER_SEC;
		if (IS_VALID_TIMESTAMP(result))
			PG_RETURN_TIMESTAMPTZ(result);
	}
	if (!next_ts(&cache->cc, after, &result))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(result);
}

PG_FUNCTION_INFO_V1(alfred_cron_prev_sql);
Datum
alfred_cron_prev_sql(PG_FUNCTION_ARGS)
{
	cron_cache *cache = get_cache(fcinfo);
	TimestampTz result;

	if (!prev_ts(&cache->cc, PG_GETARG_TIMESTAMPTZ(1), &result))
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
	alfred_cron_compiled *cc;
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
		st->cc = alfred_cron_compile(expr, tz);
		st->last = PG_GETARG_TIMESTAMPTZ(1);
		funcctx->max_calls = n;
		funcctx->user_fctx = st;
		MemoryContextSwitchTo(old);
	}
	funcctx = SRF_PERCALL_SETUP();
	st = funcctx->user_fctx;
	if (funcctx->call_cntr < funcctx->max_calls && next_ts(st->cc, st->last, &next))
	{
		st->last = next;
		SRF_RETURN_NEXT(funcctx, TimestampTzGetDatum(next));
	}
	SRF_RETURN_DONE(funcctx);
}

/*---- C API (cron_sql.h) ----*/

alfred_cron_compiled *
alfred_cron_compile(const char *expr, const char *tz)
{
	alfred_cron_compiled *cc = palloc0(sizeof(alfred_cron_compiled));
	alfred_cron parsed;

	parse_or_error(expr, &parsed);
	alfred_cron_compiled_set(cc, &parsed);
	zone_init(&cc->zone, tz);
	return cc;
}

TimestampTz
alfred_cron_compiled_next_timestamptz(alfred_cron_compiled *cc, TimestampTz after)
{
	TimestampTz result;

	if (!next_ts(cc, after, &result))
		TIMESTAMP_NOEND(result);
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
	if (alfred_zone_lookup(tz) != NULL)
		return true;
	if (message)
		*message = psprintf("time zone \"%s\" not recognized", tz);
	return false;
}
