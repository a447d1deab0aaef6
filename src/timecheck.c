/*-------------------------------------------------------------------------
 *
 * timecheck.c
 *		Times taken from callers: the one check every function applies to a
 *		timestamptz argument, and saturating timestamp arithmetic.
 *
 * A time that reaches a table or the scheduler's arithmetic must be finite
 * and within the years 1 to 9999: "infinity" as a tick's "now" once made the
 * retry time overflow into a value that neither pg_dump nor the worker's
 * wake-up could read back.  alfred_check_time (C) and alfred.check_time
 * (SQL, for plpgsql and sql functions) raise 22008 naming the argument and
 * its value; alfred_timestamptz_plus_saturating adds a delay without ever
 * leaving the valid range.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "alfred.h"

/* 0001-01-01 and 10000-01-01 00:00 UTC, in microseconds since 2000-01-01. */
#define ALFRED_TIME_MIN INT64CONST(-63082281600000000)
#define ALFRED_TIME_END INT64CONST(252455616000000000)

bool
alfred_time_in_range(TimestampTz t)
{
	return !TIMESTAMP_NOT_FINITE(t) && t >= ALFRED_TIME_MIN && t < ALFRED_TIME_END;
}

void
alfred_check_time(const char *name, TimestampTz t)
{
	if (!alfred_time_in_range(t))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_FIELD_OVERFLOW),
				 errmsg("%s \"%s\" is out of range", name, timestamptz_to_str(t)),
				 errdetail("A time must be finite and within the years 1 to 9999.")));
}

/*
 * t + usec, saturating at the last valid timestamp (or the first, for a
 * negative delay) instead of overflowing; an infinite t stays infinite.
 */
TimestampTz
alfred_timestamptz_plus_saturating(TimestampTz t, int64 usec)
{
	TimestampTz result;

	if (TIMESTAMP_NOT_FINITE(t))
		return t;
	if (pg_add_s64_overflow(t, usec, &result) || !IS_VALID_TIMESTAMP(result))
		return usec > 0 ? END_TIMESTAMP - 1 : MIN_TIMESTAMP;
	return result;
}

PG_FUNCTION_INFO_V1(alfred_check_time_sql);
Datum
alfred_check_time_sql(PG_FUNCTION_ARGS)
{
	char	   *name = PG_ARGISNULL(0) ? "time" : text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	alfred_check_time(name, PG_GETARG_TIMESTAMPTZ(1));
	PG_RETURN_TIMESTAMPTZ(PG_GETARG_TIMESTAMPTZ(1));
}
