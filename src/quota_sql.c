/*-------------------------------------------------------------------------
 *
 * quota_sql.c
 *		The setting alfred.ai_daily_limit and alfred.ai_daily_limit(): the
 *		default daily AI quota of a user.
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
#include "utils/guc.h"

#include "alfred.h"

/*---- GUC variables ----*/
static int	alfred_ai_daily_limit = 100;

/* Called from _PG_init. */
void
alfred_quota_init(void)
{
	DefineCustomIntVariable("alfred.ai_daily_limit",
							"AI requests a user may make per day (their own day, in their time zone).",
							"user_settings.ai_daily_limit replaces it for one user; consume_ai_quota enforces it.",
							&alfred_ai_daily_limit,
							100, 0, PG_INT32_MAX,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
}

PG_FUNCTION_INFO_V1(alfred_ai_daily_limit_sql);
Datum
alfred_ai_daily_limit_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(alfred_ai_daily_limit);
}

