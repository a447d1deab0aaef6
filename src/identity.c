/*-------------------------------------------------------------------------
 *
 * identity.c
 *		Who is the alfred user of this backend: alfred.current_user_id(),
 *		alfred.set_session(), alfred.act_as() and alfred.reset_identity().
 *
 * Row-level security on every user-owned table compares user_id with
 * alfred.current_user_id().  The identity it returns lives in backend-local
 * memory, not in a configuration setting, so no SET or set_config() can
 * forge it: it is established only by presenting a valid session token
 * (set_session) or, for trusted service roles, by naming a user (act_as).
 *
 * Scoping follows SET / SET LOCAL: a plain change lasts for the session
 * once its transaction commits; a change with local => true ends with the
 * transaction; an aborted transaction restores the identity it began with.
 * DISCARD ALL (a pooler's reset query) clears the identity.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "alfred.h"

/* The role whose members may call act_as (created by the DBA, never by alfred). */
#define SERVICE_ROLE "alfred_service"

typedef struct Identity
{
	bool		valid;
	pg_uuid_t	user_id;
} Identity;

/*---- Backend-local state ----*/
static Identity current_identity;	/* what current_user_id() returns */
static Identity commit_identity;	/* what the session keeps at commit */
static Identity start_identity; /* what it had when the transaction began */
static bool xact_changed = false;	/* changed in the current transaction? */

static ProcessUtility_hook_type prev_process_utility = NULL;

static void
change_identity(const Identity *to, bool local)
{
	if (!xact_changed)
	{
		start_identity = current_identity;
		commit_identity = current_identity;
		xact_changed = true;
	}
	current_identity = *to;
	if (!local)
		commit_identity = *to;
}

static void
identity_xact_callback(XactEvent event, void *arg)
{
	if (!xact_changed)
		return;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			current_identity = commit_identity;
			xact_changed = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			current_identity = start_identity;
			xact_changed = false;
			break;
		default:
			break;
	}
}

/* DISCARD ALL, a connection pooler's reset query, also forgets the identity. */
static void
identity_process_utility(PlannedStmt *pstmt, const char *queryString,
						 bool readOnlyTree, ProcessUtilityContext context,
						 ParamListInfo params, QueryEnvironment *queryEnv,
						 DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (IsA(parsetree, DiscardStmt) &&
		((DiscardStmt *) parsetree)->target == DISCARD_ALL)
	{
		Identity	none = {false};

		current_identity = none;
		commit_identity = none;
		start_identity = none;
	}
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context,
							 params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

void
alfred_identity_init(void)
{
	RegisterXactCallback(identity_xact_callback, NULL);
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = identity_process_utility;
}

/*
 * The alfred user of this backend, or NULL.  Other C code (the scheduler
 * worker) may call it too.
 */
bool
alfred_current_user_id(pg_uuid_t *user_id)
{
	if (current_identity.valid && user_id)
		*user_id = current_identity.user_id;
	return current_identity.valid;
}

/*
 * Exchanges the backend's identity with (*valid, *user_id): the scheduler
 * runs a tool as the task's user and swaps back afterwards, on success and
 * on error alike.  No lookup: the caller vouches for the user.
 */
void
alfred_identity_swap(bool *valid, pg_uuid_t *user_id)
{
	Identity	previous = current_identity;

	current_identity.valid = *valid;
	if (*valid)
		current_identity.user_id = *user_id;
	*valid = previous.valid;
	if (previous.valid)
		*user_id = previous.user_id;
}

static Datum
uuid_datum(const pg_uuid_t *uuid)
{
	pg_uuid_t  *copy = palloc(sizeof(pg_uuid_t));

	memcpy(copy, uuid, sizeof(pg_uuid_t));
	return UUIDPGetDatum(copy);
}

/*
 * Run "SELECT <function>($1)" for one of the SECURITY DEFINER lookups in
 * schema alfred and return its uuid result (false when NULL).  The lookups
 * read sessions and users as the extension owner, whatever the caller may see.
 */
static bool
lookup_user(const char *function, Oid argtype, Datum arg, pg_uuid_t *result)
{
	char	   *sql = psprintf("SELECT alfred.%s($1)", function);
	bool		isnull = true;
	int			rc;

	SPI_connect();
	rc = SPI_execute_with_args(sql, 1, &argtype, &arg, NULL, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "alfred: lookup %s failed: %s", function, SPI_result_code_string(rc));
	else
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			memcpy(result, DatumGetUUIDP(d), sizeof(pg_uuid_t));
	}
	SPI_finish();
	return !isnull;
}

static bool
may_act_as(void)
{
	Oid			service;

	if (superuser())
		return true;
	service = get_role_oid(SERVICE_ROLE, true);
	return OidIsValid(service) && has_privs_of_role(GetUserId(), service);
}

PG_FUNCTION_INFO_V1(alfred_current_user_id_sql);
Datum
alfred_current_user_id_sql(PG_FUNCTION_ARGS)
{
	if (!current_identity.valid)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(uuid_datum(&current_identity.user_id));
}

PG_FUNCTION_INFO_V1(alfred_set_session);
Datum
alfred_set_session(PG_FUNCTION_ARGS)
{
	bool		local = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	Identity	id = {true};

	if (PG_ARGISNULL(0) ||
		!lookup_user("identity_of_token", TEXTOID, PG_GETARG_DATUM(0), &id.user_id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("invalid or expired session token"),
				 errdetail("The token is unknown, was revoked, has expired, or its user is not active."),
				 errhint("Log in again with alfred.login().")));
	change_identity(&id, local);
	PG_RETURN_DATUM(uuid_datum(&id.user_id));
}

PG_FUNCTION_INFO_V1(alfred_act_as);
Datum
alfred_act_as(PG_FUNCTION_ARGS)
{
	bool		local = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	Identity	id = {true};

	if (!may_act_as())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to act as another user"),
				 errdetail("Only superusers and members of role \"%s\" may call act_as.", SERVICE_ROLE)));
	if (PG_ARGISNULL(0) ||
		!lookup_user("identity_of_user", UUIDOID, PG_GETARG_DATUM(0), &id.user_id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no active user with id \"%s\"",
						PG_ARGISNULL(0) ? "(null)" :
						DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(0)))),
				 errdetail("act_as needs the id of an existing user whose status is active.")));
	change_identity(&id, local);
	PG_RETURN_DATUM(uuid_datum(&id.user_id));
}

PG_FUNCTION_INFO_V1(alfred_reset_identity);
Datum
alfred_reset_identity(PG_FUNCTION_ARGS)
{
	bool		local = PG_ARGISNULL(0) ? false : PG_GETARG_BOOL(0);
	Identity	none = {false};

	change_identity(&none, local);
	PG_RETURN_VOID();
}

/*
 * Whether the role that called into alfred (the role set by SET ROLE or
 * login, unaffected by SECURITY DEFINER) is a superuser or a member of
 * alfred_service.  SECURITY DEFINER functions such as create_user use it to
 * decide what their caller may do.
 */
PG_FUNCTION_INFO_V1(alfred_caller_is_service);
Datum
alfred_caller_is_service(PG_FUNCTION_ARGS)
{
	Oid			caller = GetOuterUserId();
	Oid			service = get_role_oid(SERVICE_ROLE, true);

	PG_RETURN_BOOL(superuser_arg(caller) ||
				   (OidIsValid(service) && has_privs_of_role(caller, service)));
}
