/*-------------------------------------------------------------------------
 *
 * quota_sql.c
 *		alfred.ai_daily_limit(): the default daily AI quota of a user.
 *
 * The setting alfred.ai_daily_limit exists only once this library is
 * loaded; reading it through a C function loads the library first, so
 * alfred.consume_ai_quota (SQL) sees the real value in a fresh session
 * even when alfred is not preloaded.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "alfred.h"

PG_FUNCTION_INFO_V1(alfred_ai_daily_limit_sql);
Datum
alfred_ai_daily_limit_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(alfred_ai_daily_limit);
}

