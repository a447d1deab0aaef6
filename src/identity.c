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
 * Scoping follows SET LOCAL / SET: by default (local => true) a change ends
 * with its transaction, so a transaction-pooled server connection never
 * hands an identity to the next client; with local => false it lasts for the
 * session once its transaction commits.  An aborted transaction restores the
 * identity it began with, and so does a rolled-back savepoint or PL/pgSQL
 * exception block (the identity before the subtransaction's first change is
 * kept on a small stack, like the GUC machinery's nesting levels).
 * DISCARD ALL (a pooler's reset query) clears the identity.
 *
 * The credential settings live here too: alfred.password_cost (bcrypt cost
 * of new password hashes) and alfred.token_key (the key of connected
 * accounts' OAuth tokens).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/proc.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/guc.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

#include "alfred.h"

/* The role whose members may call act_as (created by the DBA, never by alfred). */
#define SERVICE_ROLE "alfred_service"

typedef struct Identity
{
	bool		valid;
	pg_uuid_t	user_id;
} Identity;

/*---- GUC variables (read by SQL only) ----*/
static int	alfred_password_cost = 10;
static char *alfred_token_key = NULL;

/*---- Backend-local state ----*/
static Identity current_identity;	/* what current_user_id() returns */
static Identity commit_identity;	/* what the session keeps at commit */
static Identity start_identity; /* what it had when the transaction began */
static bool xact_changed = false;	/* changed in the current transaction? */

/*
 * The identity as it was when an open subtransaction first changed it, one
 * entry per such subtransaction, innermost last (subids increase).  Entries
 * are pushed lazily by change_identity, restored by a subtransaction abort,
 * and handed to the parent by a subtransaction commit (dropped when the
 * parent already has one, or is the top-level transaction: start_identity
 * covers that).
 */
typedef struct SavedIdentity
{
	SubTransactionId subid;
	Identity	current;
	Identity	commit;
} SavedIdentity;

static SavedIdentity *saved = NULL;
static int	saved_depth = 0;
static int	saved_size = 0;

/* The whole state while the scheduler runs a tool as its user. */
static struct
{
	bool		active;
	Identity	current;
	Identity	commit;
	Identity	start;
	bool		xact_changed;
	int			saved_depth;
}			swapped;

static ProcessUtility_hook_type prev_process_utility = NULL;

/* Saves the identity for a rollback of the current subtransaction, once. */
static void
remember_for_subxact(void)
{
	SubTransactionId subid = GetCurrentSubTransactionId();

	if (GetCurrentTransactionNestLevel() <= 1)
		return;
	if (saved_depth > 0 && saved[saved_depth - 1].subid == subid)
		return;
	if (saved_depth == saved_size)
	{
		int			size = Max(8, saved_size * 2);

		if (saved == NULL)
			saved = MemoryContextAlloc(TopMemoryContext, size * sizeof(SavedIdentity));
		else
			saved = repalloc(saved, size * sizeof(SavedIdentity));
		saved_size = size;
	}
	saved[saved_depth].subid = subid;
	saved[saved_depth].current = current_identity;
	saved[saved_depth].commit = commit_identity;
	saved_depth++;
}

static void
change_identity(const Identity *to, bool local)
{
	if (!xact_changed)
	{
		start_identity = current_identity;
		commit_identity = current_identity;
		xact_changed = true;
	}
	remember_for_subxact();
	current_identity = *to;
	if (!local)
		commit_identity = *to;
}

static void
identity_xact_callback(XactEvent event, void *arg)
{
	(void) arg;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_ABORT)
		saved_depth = 0;
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

/*
 * ROLLBACK TO SAVEPOINT and a failing exception block restore the identity
 * the subtransaction began with; RELEASE hands the saved identity to the
 * parent.
 */
static void
identity_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	(void) arg;
	switch (event)
	{
		case SUBXACT_EVENT_ABORT_SUB:
			while (saved_depth > 0 && saved[saved_depth - 1].subid >= mySubid)
			{
				saved_depth--;
				current_identity = saved[saved_depth].current;
				commit_identity = saved[saved_depth].commit;
			}
			break;
		case SUBXACT_EVENT_COMMIT_SUB:
			if (saved_depth > 0 && saved[saved_depth - 1].subid == mySubid)
			{
				if (parentSubid == TopSubTransactionId ||
					(saved_depth > 1 && saved[saved_depth - 2].subid == parentSubid))
					saved_depth--;
				else
					saved[saved_depth - 1].subid = parentSubid;
			}
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

/*
 * Called from _PG_init: the credential settings (read by the SQL functions
 * with current_setting; calling any identity function loads this library
 * first), and the hooks that keep the backend's alfred user.
 */
void
alfred_identity_init(void)
{
	DefineCustomIntVariable("alfred.password_cost",
							"bcrypt cost (log2 of rounds) of new password hashes.",
							"Each step doubles the work of hashing and checking a password.",
							&alfred_password_cost,
							10, 4, 16,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("alfred.token_key",
							   "Key that encrypts the OAuth tokens of connected accounts.",
							   "Superuser-only; set it in postgresql.conf or with ALTER SYSTEM, never in a table.",
							   &alfred_token_key,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);

	RegisterXactCallback(identity_xact_callback, NULL);
	RegisterSubXactCallback(identity_subxact_callback, NULL);
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = identity_process_utility;
}

/*
 * Exchanges the backend's identity with (*valid, *user_id): the scheduler
 * runs a tool as the task's user and swaps back afterwards, on success and
 * on error alike.  No lookup: the caller vouches for the user.  Calls come
 * in pairs: the first saves the whole identity state, the second restores
 * it, so whatever the tool did to the identity (set_session, act_as with
 * either scope) ends with the tool, and a later rollback of the tool's
 * subtransaction has nothing left to restore.
 */
void
alfred_identity_swap(bool *valid, pg_uuid_t *user_id)
{
	Identity	previous = current_identity;

	if (!swapped.active)
	{
		swapped.current = current_identity;
		swapped.commit = commit_identity;
		swapped.start = start_identity;
		swapped.xact_changed = xact_changed;
		swapped.saved_depth = saved_depth;
		swapped.active = true;
		current_identity.valid = *valid;
		if (*valid)
			current_identity.user_id = *user_id;
	}
	else
	{
		current_identity = swapped.current;
		commit_identity = swapped.commit;
		start_identity = swapped.start;
		xact_changed = swapped.xact_changed;
		saved_depth = Min(saved_depth, swapped.saved_depth);
		swapped.active = false;
	}
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

/*---- Lookups in alfred.users and alfred.sessions ----*/

/*
 * The lookups run as the owner of alfred.users, whom row-level security does
 * not restrict (they must see every row whatever the caller may see: the
 * policies themselves call them), through plans prepared once per backend.  Every name in them is schema-qualified,
 * operators included, because they run with the caller's search_path.
 */
typedef enum Lookup
{
	LOOKUP_ACTIVE_USER,			/* $1 uuid: id if the user is active */
	LOOKUP_ROLE,				/* $1 uuid: role of the active user */
	LOOKUP_ALL_USERS,			/* every user id, as uuid[] */
	LOOKUP_TOKEN,				/* $1 text: user, session id, stale? */
	LOOKUP_TOUCH_SESSION,		/* $1 user, $2 session: last_accessed_at = now() */
	NUM_LOOKUPS
} Lookup;

static const char *const lookup_sql[NUM_LOOKUPS] = {
	"SELECT u.id FROM alfred.users u"
	" WHERE u.id OPERATOR(pg_catalog.=) $1 AND u.status OPERATOR(pg_catalog.=) 'active'",
	"SELECT u.role FROM alfred.users u"
	" WHERE u.id OPERATOR(pg_catalog.=) $1 AND u.status OPERATOR(pg_catalog.=) 'active'",
	"SELECT pg_catalog.array_agg(u.id) FROM alfred.users u",
	"SELECT s.user_id, s.id,"
	"       s.last_accessed_at OPERATOR(pg_catalog.<)"
	"         (pg_catalog.now() OPERATOR(pg_catalog.-) '1 minute'::pg_catalog.interval)"
	"  FROM alfred.sessions s JOIN alfred.users u ON u.id OPERATOR(pg_catalog.=) s.user_id"
	" WHERE s.token_hash OPERATOR(pg_catalog.=) pg_catalog.sha256(pg_catalog.convert_to($1, 'UTF8'))"
	"   AND NOT s.is_revoked AND s.expires_at OPERATOR(pg_catalog.>) pg_catalog.now()"
	"   AND u.status OPERATOR(pg_catalog.=) 'active'",
	"UPDATE alfred.sessions s SET last_accessed_at = pg_catalog.now()"
	" WHERE s.user_id OPERATOR(pg_catalog.=) $1 AND s.id OPERATOR(pg_catalog.=) $2",
};
static const int lookup_nargs[NUM_LOOKUPS] = {1, 1, 0, 1, 2};
static const Oid lookup_argtypes[NUM_LOOKUPS][2] = {
	{UUIDOID}, {UUIDOID}, {InvalidOid}, {TEXTOID}, {UUIDOID, UUIDOID}
};
static SPIPlanPtr lookup_plans[NUM_LOOKUPS];

static Oid
users_owner(void)
{
	Oid			rel = get_relname_relid("users", get_namespace_oid("alfred", false));
	HeapTuple	tuple;
	Oid			owner;

	if (!OidIsValid(rel))
		elog(ERROR, "table \"alfred.users\" does not exist");
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", rel);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * Runs a lookup; the caller is between SPI_connect and SPI_finish and reads
 * SPI_tuptable.  Returns the number of rows.
 */
static uint64
run_lookup(Lookup which, Datum *args)
{
	Oid			save_userid;
	int			save_sec;
	int			rc;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(users_owner(),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	if (lookup_plans[which] == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(lookup_sql[which], lookup_nargs[which],
									   (Oid *) lookup_argtypes[which]);

		if (plan == NULL)
			elog(ERROR, "could not prepare lookup: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		lookup_plans[which] = plan;
	}
	/*
	 * The role lookups serve the policies and read the statement's snapshot;
	 * set_session and act_as are volatile and see rows written just before
	 * them in the same statement (set_session(login(...))).
	 */
	rc = SPI_execute_plan(lookup_plans[which], args, NULL,
						  which == LOOKUP_ROLE || which == LOOKUP_ALL_USERS, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rc < 0)
		elog(ERROR, "lookup failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/* The user id of a live session token of an active user (and note its use). */
static bool
user_of_token(Datum token, pg_uuid_t *result)
{
	bool		found = false;

	SPI_connect();
	if (run_lookup(LOOKUP_TOKEN, &token) == 1)
	{
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		touch[2];

		touch[0] = SPI_getbinval(row, desc, 1, &isnull);
		touch[1] = SPI_getbinval(row, desc, 2, &isnull);
		memcpy(result, DatumGetUUIDP(touch[0]), sizeof(pg_uuid_t));
		found = true;
		/* Record use at most once a minute, never in a read-only transaction. */
		if (DatumGetBool(SPI_getbinval(row, desc, 3, &isnull)) && !isnull && !XactReadOnly)
			run_lookup(LOOKUP_TOUCH_SESSION, touch);
	}
	SPI_finish();
	return found;
}

static bool
user_is_active(Datum user_id)
{
	bool		found;

	SPI_connect();
	found = run_lookup(LOOKUP_ACTIVE_USER, &user_id) == 1;
	SPI_finish();
	return found;
}

/*
 * The current user's role, looked up at most once per command: the cache is
 * keyed by the transaction, the command counter (which moves on after any
 * write, so a change of role is seen by the next statement of the same
 * transaction) and the identity.
 */
typedef struct RoleCache
{
	bool		valid;
	LocalTransactionId lxid;
	CommandId	cid;
	pg_uuid_t	user_id;
	bool		has_role;
	char		role[16];
} RoleCache;

static RoleCache role_cache;

static const char *
current_role(void)
{
	LocalTransactionId lxid = MyProc->lxid;
	CommandId	cid = GetCurrentCommandId(false);

	if (!current_identity.valid)
		return NULL;
	if (!role_cache.valid || role_cache.lxid != lxid || role_cache.cid != cid ||
		memcmp(&role_cache.user_id, &current_identity.user_id, sizeof(pg_uuid_t)) != 0)
	{
		Datum		arg = UUIDPGetDatum(&current_identity.user_id);

		role_cache.valid = false;
		role_cache.has_role = false;
		SPI_connect();
		if (run_lookup(LOOKUP_ROLE, &arg) == 1)
		{
			char	   *role = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

			if (role != NULL && strlen(role) < sizeof(role_cache.role))
			{
				strcpy(role_cache.role, role);
				role_cache.has_role = true;
			}
		}
		SPI_finish();
		role_cache.lxid = lxid;
		role_cache.cid = cid;
		role_cache.user_id = current_identity.user_id;
		role_cache.valid = true;
	}
	return role_cache.has_role ? role_cache.role : NULL;
}

static Datum
uuid_array(const pg_uuid_t *ids, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		elems[i] = UUIDPGetDatum(&ids[i]);
	return PointerGetDatum(construct_array(elems, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
}

/* Every user id (for admins and observers). */
static Datum
all_user_ids(void)
{
	Datum		result = 0;
	bool		isnull = true;

	SPI_connect();
	if (run_lookup(LOOKUP_ALL_USERS, NULL) == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			result = SPI_datumTransfer(d, false, -1);
	}
	SPI_finish();
	return isnull ? uuid_array(NULL, 0) : result;
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
	bool		local = PG_ARGISNULL(1) ? true : PG_GETARG_BOOL(1);
	Identity	id = {.valid = true};

	if (PG_ARGISNULL(0) ||
		!user_of_token(PG_GETARG_DATUM(0), &id.user_id))
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
	bool		local = PG_ARGISNULL(1) ? true : PG_GETARG_BOOL(1);
	Identity	id = {.valid = true};

	if (!may_act_as())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to act as another user"),
				 errdetail("Only superusers and members of role \"%s\" may call act_as.", SERVICE_ROLE)));
	alfred_require_arg(fcinfo, 0, "user_id");
	memcpy(&id.user_id, PG_GETARG_UUID_P(0), sizeof(pg_uuid_t));
	if (!user_is_active(PG_GETARG_DATUM(0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no active user with id \"%s\"",
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

/*---- The current user's role, and whose rows they may read and write ----*/

PG_FUNCTION_INFO_V1(alfred_current_user_role);
Datum
alfred_current_user_role(PG_FUNCTION_ARGS)
{
	const char *role = current_role();

	if (role == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(role));
}

PG_FUNCTION_INFO_V1(alfred_readable_user_ids);
Datum
alfred_readable_user_ids(PG_FUNCTION_ARGS)
{
	const char *role = current_role();

	if (role != NULL && (strcmp(role, "admin") == 0 || strcmp(role, "observer") == 0))
		PG_RETURN_DATUM(all_user_ids());
	/* No role: no identity, or a user who is no longer active reads nothing. */
	if (role != NULL)
		PG_RETURN_DATUM(uuid_array(&current_identity.user_id, 1));
	PG_RETURN_DATUM(uuid_array(NULL, 0));
}

PG_FUNCTION_INFO_V1(alfred_writable_user_ids);
Datum
alfred_writable_user_ids(PG_FUNCTION_ARGS)
{
	const char *role = current_role();

	if (role != NULL && strcmp(role, "admin") == 0)
		PG_RETURN_DATUM(all_user_ids());
	if (role != NULL && strcmp(role, "user") == 0)
		PG_RETURN_DATUM(uuid_array(&current_identity.user_id, 1));
	PG_RETURN_DATUM(uuid_array(NULL, 0));
}
