/*-------------------------------------------------------------------------
 *
 * quota_sql.c
 *		alfred.ai_daily_limit(): the default daily AI quota of a user, and
 *		alfred.caller_is_service(): whether the calling role is trusted.
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
#include "miscadmin.h"
#include "utils/acl.h"

#include "alfred.h"

PG_FUNCTION_INFO_V1(alfred_ai_daily_limit_sql);
Datum
alfred_ai_daily_limit_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(alfred_ai_daily_limit);
}

/*
 * alfred.caller_is_service(): whether the role that called in (the outer
 * role, even inside SECURITY DEFINER functions) is a superuser or a member
 * of alfred_service.  Functions that take a user_id use it to let trusted
 * agent processes act without an alfred identity.
 */
PG_FUNCTION_INFO_V1(alfred_caller_is_service);
Datum
alfred_caller_is_service(PG_FUNCTION_ARGS)
{
	Oid			outer = GetOuterUserId();
	Oid			service = get_role_oid("alfred_service", true);

	PG_RETURN_BOOL(superuser_arg(outer) ||
				   (OidIsValid(service) && has_privs_of_role(outer, service)));
}
