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
 * On a Citus cluster the policies run on the worker nodes, in backends that
 * never saw set_session.  There the identity comes from a claim: when the
 * citus extension exists, set_session, act_as and reset_identity also issue
 * SET LOCAL alfred.claim = 'v1.<user>.<expires>.<origin>.<HMAC-SHA256>'
 * (src/core/claim.c) through SPI, which Citus passes on to every node the
 * transaction touches.  A backend without an identity of its own believes a
 * claim only if its MAC verifies with the cluster key (alfred.claim_key,
 * readable by the extension owner only), it has not expired and it was
 * issued to the backend this one works for (Citus names it in
 * application_name); anything else in alfred.claim is an error (28000).
 * Citus passes on only SET LOCAL, so on Citus identity is transaction-local.
 * The role lookups read the local placement of the reference table
 * alfred.users when there is one, since a query on a shard may not start a
 * distributed query.
 *
 * The credential settings live here too: alfred.password_cost (bcrypt cost
 * of new password hashes), alfred.token_key (the key of connected accounts'
 * OAuth tokens), alfred.claim and alfred.claim_lifetime.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/extension.h"
#include "common/hmac.h"
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
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/guc.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "alfred.h"
#include "claim.h"
#include "plan.h"

/* The role whose members may call act_as (created by the DBA, never by alfred). */
#define SERVICE_ROLE "alfred_service"

/* How Citus names the backend a worker node's connection works for. */
#define CITUS_GPID_PREFIX "citus_internal gpid="

typedef struct Identity
{
	bool		valid;
	pg_uuid_t	user_id;
} Identity;

static const Identity *identity(void);
/*---- GUC variables ----*/
static int	alfred_password_cost = 10;
static char *alfred_token_key = NULL;
static char *alfred_claim = NULL;
static int	alfred_claim_lifetime = 3600;

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

	DefineCustomStringVariable("alfred.claim",
							   "Signed identity claim that carries the alfred user to Citus worker nodes.",
							   "Set by set_session and act_as with SET LOCAL; believed only if signed with the cluster key, "
							   "unexpired and issued to this backend (or the one a Citus connection works for).",
							   &alfred_claim,
							   "",
							   PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("alfred.claim_lifetime",
							"How long an identity claim issued by set_session or act_as stays valid.",
							"A transaction that outlives it loses its identity on the Citus worker nodes.",
							&alfred_claim_lifetime,
							3600, 1, 7 * 24 * 3600,
							PGC_SUSET,
							GUC_UNIT_S,
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
	LOOKUP_CLAIM_KEY,			/* the cluster's claim key */
	LOOKUP_USERS_SHARD,			/* $1 oid: shard ids of alfred.users (Citus) */
	LOOKUP_GPID,				/* this backend's Citus global id */
	NUM_LOOKUPS
} Lookup;

/*
 * %s in the role lookups is the users relation: alfred.users, or its local
 * placement on a Citus node (see users_relation).
 */
static const char *const lookup_sql[NUM_LOOKUPS] = {
	"SELECT u.id FROM alfred.users u"
	" WHERE u.id OPERATOR(pg_catalog.=) $1 AND u.status OPERATOR(pg_catalog.=) 'active'",
	"SELECT u.role FROM %s u"
	" WHERE u.id OPERATOR(pg_catalog.=) $1 AND u.status OPERATOR(pg_catalog.=) 'active'",
	"SELECT pg_catalog.array_agg(u.id) FROM %s u",
	"SELECT s.user_id, s.id,"
	"       s.last_accessed_at OPERATOR(pg_catalog.<)"
	"         (pg_catalog.now() OPERATOR(pg_catalog.-) '1 minute'::pg_catalog.interval)"
	"  FROM alfred.sessions s JOIN alfred.users u ON u.id OPERATOR(pg_catalog.=) s.user_id"
	" WHERE s.token_hash OPERATOR(pg_catalog.=) pg_catalog.sha256(pg_catalog.convert_to($1, 'UTF8'))"
	"   AND NOT s.is_revoked AND s.expires_at OPERATOR(pg_catalog.>) pg_catalog.now()"
	"   AND u.status OPERATOR(pg_catalog.=) 'active'",
	"UPDATE alfred.sessions s SET last_accessed_at = pg_catalog.now()"
	" WHERE s.user_id OPERATOR(pg_catalog.=) $1 AND s.id OPERATOR(pg_catalog.=) $2",
	"SELECT k.key FROM alfred.claim_key k",
	"SELECT s.shardid FROM pg_catalog.pg_dist_shard s WHERE s.logicalrelid OPERATOR(pg_catalog.=) $1",
	"SELECT pg_catalog.citus_backend_gpid()",
};
static const int lookup_nargs[NUM_LOOKUPS] = {1, 1, 0, 1, 2, 0, 1, 0};
static const Oid lookup_argtypes[NUM_LOOKUPS][2] = {
	{UUIDOID}, {UUIDOID}, {InvalidOid}, {TEXTOID}, {UUIDOID, UUIDOID}, {InvalidOid},
	{REGCLASSOID}, {InvalidOid}
};
static SPIPlanPtr lookup_plans[NUM_LOOKUPS];
static Oid	lookup_users_rel = InvalidOid;	/* what the role lookups' plans read */

static Oid
alfred_namespace(void)
{
	return get_namespace_oid("alfred", false);
}

static Oid
users_rel(void)
{
	Oid			rel = get_relname_relid("users", alfred_namespace());

	if (!OidIsValid(rel))
		elog(ERROR, "table \"alfred.users\" does not exist");
	return rel;
}

/*
 * The role that owns alfred's tables (the extension's owner): the rights the
 * role lookups, the scheduler's shard locks and run_due_tasks' tick run with.
 */
Oid
alfred_tables_owner(void)
{
	Oid			rel = users_rel();
	HeapTuple	tuple;
	Oid			owner;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", rel);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/* Whether this database has the citus extension (then identity travels as a claim). */
static bool
citus_installed(void)
{
	return OidIsValid(get_extension_oid("citus", true));
}

static bool
reads_users(Lookup which)
{
	return which == LOOKUP_ROLE || which == LOOKUP_ALL_USERS;
}

/*
 * Runs a lookup; the caller is between SPI_connect and SPI_finish and reads
 * SPI_tuptable.  Returns the number of rows.  users is the relation the role
 * lookups read (InvalidOid for the others).
 */
static uint64
run_lookup_on(Lookup which, Datum *args, Oid users)
{
	Oid			save_userid;
	int			save_sec;
	int			rc;

	if (reads_users(which) && users != lookup_users_rel)
	{
		/* The placement changed (or is first used): plan the role lookups again. */
		for (int i = 0; i < NUM_LOOKUPS; i++)
			if (reads_users((Lookup) i) && lookup_plans[i] != NULL)
			{
				SPI_freeplan(lookup_plans[i]);
				lookup_plans[i] = NULL;
			}
		lookup_users_rel = users;
	}
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(alfred_tables_owner(),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	if (lookup_plans[which] == NULL)
	{
		const char *sql = lookup_sql[which];

		if (reads_users(which))
			sql = psprintf(sql, quote_qualified_identifier("alfred", get_rel_name(users)));
		(void) alfred_plan_get(&lookup_plans[which], sql, lookup_nargs[which],
							   (Oid *) lookup_argtypes[which], 0);
	}
	/*
	 * The role lookups serve the policies and read the statement's snapshot;
	 * set_session and act_as are volatile and see rows written just before
	 * them in the same statement (set_session(login(...))).
	 */
	rc = SPI_execute_plan(lookup_plans[which], args, NULL,
						  reads_users(which) || which == LOOKUP_CLAIM_KEY, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rc < 0)
		elog(ERROR, "lookup failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

static uint64
run_lookup(Lookup which, Datum *args)
{
	return run_lookup_on(which, args, InvalidOid);
}

/*
 * The relation the role lookups read.  On a Citus node that holds a
 * placement of the reference table alfred.users, the placement itself: a
 * policy evaluated in a query on a shard may not query a Citus table, and a
 * local placement holds every row.  Elsewhere alfred.users.  Looked up once
 * per transaction (the caller is connected to SPI).
 */
static Oid
users_relation(void)
{
	static LocalTransactionId cached_lxid = InvalidLocalTransactionId;
	static Oid	cached_rel = InvalidOid;
	Oid			users;

	if (cached_lxid == MyProc->lxid && OidIsValid(cached_rel))
		return cached_rel;
	users = users_rel();
	cached_rel = users;
	if (citus_installed())
	{
		Datum		arg = ObjectIdGetDatum(users);

		if (run_lookup(LOOKUP_USERS_SHARD, &arg) == 1)
		{
			bool		isnull;
			int64		shard = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
															SPI_tuptable->tupdesc, 1, &isnull));
			Oid			placement = get_relname_relid(psprintf("users_" INT64_FORMAT, shard),
													  alfred_namespace());

			if (!isnull && OidIsValid(placement))
				cached_rel = placement;
		}
	}
	cached_lxid = MyProc->lxid;
	return cached_rel;
}

static uint64
run_users_lookup(Lookup which, Datum *args)
{
	return run_lookup_on(which, args, users_relation());
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

/*---- Claims: the identity as it travels to Citus worker nodes ----*/

/* The cluster key, read once per transaction as the owner of alfred's tables. */
#define CLAIM_KEY_MIN 32
#define CLAIM_KEY_MAX 128

static struct
{
	LocalTransactionId lxid;
	int			len;
	uint8		key[CLAIM_KEY_MAX];
}			key_cache;

static void
claim_key(const uint8 **key, int *len)
{
	if (key_cache.len == 0 || key_cache.lxid != MyProc->lxid)
	{
		key_cache.len = 0;
		SPI_connect();
		if (run_lookup(LOOKUP_CLAIM_KEY, NULL) == 1)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
			{
				bytea	   *b = DatumGetByteaPP(d);
				int			n = VARSIZE_ANY_EXHDR(b);

				if (n >= CLAIM_KEY_MIN && n <= CLAIM_KEY_MAX)
				{
					memcpy(key_cache.key, VARDATA_ANY(b), n);
					key_cache.len = n;
				}
			}
		}
		SPI_finish();
		if (key_cache.len == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"alfred.claim_key\" holds no usable key"),
					 errdetail("It needs exactly one key of %d to %d bytes.", CLAIM_KEY_MIN, CLAIM_KEY_MAX),
					 errhint("Run SELECT alfred.rotate_claim_key() as the extension owner.")));
		key_cache.lxid = MyProc->lxid;
	}
	*key = key_cache.key;
	*len = key_cache.len;
}

static void
claim_mac(const char *payload, size_t len, uint8 mac[ALFRED_CLAIM_MAC_LEN])
{
	const uint8 *key;
	int			keylen;
	pg_hmac_ctx *ctx;

	claim_key(&key, &keylen);
	ctx = pg_hmac_create(PG_SHA256);
	if (ctx == NULL)
		elog(ERROR, "out of memory");
	if (pg_hmac_init(ctx, key, keylen) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) payload, len) < 0 ||
		pg_hmac_final(ctx, mac, ALFRED_CLAIM_MAC_LEN) < 0)
	{
		const char *why = pg_hmac_error(ctx);

		pg_hmac_free(ctx);
		elog(ERROR, "could not compute HMAC-SHA256: %s", why);
	}
	pg_hmac_free(ctx);
}

/*
 * The id of this backend that claims name as their origin: Citus's global
 * process id (node and pid) where Citus is installed, else the pid.
 */
static int64
own_origin(void)
{
	static LocalTransactionId cached_lxid = InvalidLocalTransactionId;
	static int64 cached = 0;
	bool		isnull = true;

	if (cached_lxid == MyProc->lxid)
		return cached;
	cached = MyProcPid;
	if (citus_installed())
	{
		SPI_connect();
		if (run_lookup(LOOKUP_GPID, NULL) == 1)
		{
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
				cached = DatumGetInt64(d);
		}
		SPI_finish();
	}
	cached_lxid = MyProc->lxid;
	return cached;
}

/*
 * Whether a claim issued to backend origin may be believed here: in that
 * backend itself, or in a Citus connection that works for it (Citus sets
 * application_name to "citus_internal gpid=<origin>").
 */
static bool
origin_matches(int64 origin)
{
	size_t		prefix = strlen(CITUS_GPID_PREFIX);

	if (application_name != NULL && strncmp(application_name, CITUS_GPID_PREFIX, prefix) == 0)
	{
		const char *digits = application_name + prefix;
		char	   *end;
		long long	gpid;

		errno = 0;
		gpid = strtoll(digits, &end, 10);
		if (errno == 0 && end != digits && *end == '\0' && gpid == origin)
			return true;
	}
	return origin == own_origin();
}

static int64
unix_seconds(TimestampTz t)
{
	return (int64) timestamptz_to_time_t(t);
}

/* Writes the signed claim for user_id, valid until expires, into buf. */
static void
make_claim(char buf[ALFRED_CLAIM_MAX_LEN + 1], const pg_uuid_t *user_id,
		   int64 expires, int64 origin)
{
	uint8		mac[ALFRED_CLAIM_MAC_LEN];
	size_t		n;

	n = alfred_claim_payload(buf, ALFRED_CLAIM_MAX_LEN + 1, user_id->data, expires, origin);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot sign a claim with expiry \"" INT64_FORMAT "\" and origin \"" INT64_FORMAT "\"",
						expires, origin),
				 errdetail("Both are non-negative.")));
	claim_mac(buf, n, mac);
	alfred_claim_append_mac(buf, ALFRED_CLAIM_MAX_LEN + 1, n, mac);
}

/*
 * The identity alfred.claim vouches for, verified once per transaction and
 * claim, its expiry checked at every statement.  An empty setting is no
 * identity; anything else that does not verify is an error.
 */
static struct
{
	bool		valid;
	LocalTransactionId lxid;
	char		text[ALFRED_CLAIM_MAX_LEN + 1];
	int64		expires;
	Identity	identity;
}			claim_cache;

static const Identity *
claimed_identity(void)
{
	static const Identity none = {false};
	const char *text = alfred_claim;
	size_t		len;
	AlfredClaim claim;
	uint8		mac[ALFRED_CLAIM_MAC_LEN];

	if (text == NULL || text[0] == '\0')
		return &none;
	len = strlen(text);
	if (!(claim_cache.valid && claim_cache.lxid == MyProc->lxid &&
		  strcmp(claim_cache.text, text) == 0))
	{
		claim_cache.valid = false;
		if (!alfred_claim_parse(text, len, &claim))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
					 errmsg("invalid identity claim"),
					 errdetail("The setting \"alfred.claim\" is not a claim in alfred's format.")));
		claim_mac(text, claim.signed_len, mac);
		if (!alfred_claim_mac_equal(mac, claim.mac) || !origin_matches(claim.origin))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
					 errmsg("invalid identity claim"),
					 errdetail("The claim in \"alfred.claim\" was altered, signed with another key, or issued to another session."),
					 errhint("Identity comes from alfred.set_session() or alfred.act_as(). If this is a Citus worker node, "
							 "run SELECT alfred.sync_claim_key() on the coordinator.")));
		memcpy(claim_cache.text, text, len + 1);
		claim_cache.expires = claim.expires;
		claim_cache.identity.valid = true;
		memcpy(claim_cache.identity.user_id.data, claim.user_id, UUID_LEN);
		claim_cache.lxid = MyProc->lxid;
		claim_cache.valid = true;
	}
	if (unix_seconds(GetCurrentStatementStartTimestamp()) >= claim_cache.expires)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("identity claim expired at \"%s\"",
						timestamptz_to_str(time_t_to_timestamptz((pg_time_t) claim_cache.expires))),
				 errdetail("A claim lasts alfred.claim_lifetime seconds from set_session or act_as."),
				 errhint("Begin a new transaction and call alfred.set_session() or alfred.act_as() again.")));
	return &claim_cache.identity;
}

/* The identity in force: this backend's own, else a verified claim's. */
static const Identity *
identity(void)
{
	if (current_identity.valid)
		return &current_identity;
	return claimed_identity();
}

/*
 * On a Citus cluster, readies the transaction for an identity, before the
 * token or user is looked up: SET LOCAL statements are passed on to the
 * worker nodes, and statements on several shards run over one connection
 * per node.  The lookup of a token by its hash alone reads every shard of
 * sessions; in parallel, that would keep the transaction from writing a
 * reference table afterwards (users: a profile, a password), which Citus
 * allows only after sequential access.  Nothing to do without Citus.
 */
static void
prepare_citus_transaction(void)
{
	if (!citus_installed())
		return;
	SPI_connect();
	if (SPI_execute("SET LOCAL citus.propagate_set_commands = 'local'", false, 0) < 0 ||
		SPI_execute("SET LOCAL citus.multi_shard_modify_mode = 'sequential'", false, 0) < 0)
		elog(ERROR, "could not prepare the transaction for an identity claim");
	SPI_finish();
}

/*
 * On a Citus cluster, sends the new identity along with the transaction:
 * SET LOCAL through SPI goes through Citus's utility hook, which passes it
 * on to the nodes the transaction uses now and later (and undoes it with a
 * rolled-back savepoint).  Nothing to do without Citus.
 */
static void
publish_identity(const Identity *id)
{
	char		claim[ALFRED_CLAIM_MAX_LEN + 1] = "";

	if (!citus_installed())
		return;
	if (id->valid)
		make_claim(claim, &id->user_id,
				   unix_seconds(GetCurrentStatementStartTimestamp()) + alfred_claim_lifetime,
				   own_origin());
	SPI_connect();
	if (SPI_execute("SET LOCAL citus.propagate_set_commands = 'local'", false, 0) < 0 ||
		SPI_execute(psprintf("SET LOCAL alfred.claim = '%s'", claim), false, 0) < 0)
		elog(ERROR, "could not set alfred.claim");
	SPI_finish();
}

/* Citus passes on SET LOCAL only: an identity for the whole session would not reach the workers. */
static void
refuse_session_scope_on_citus(bool local, const char *function)
{
	if (!local && citus_installed())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s with local => false is not supported on a Citus cluster", function),
				 errdetail("Citus passes only transaction-local settings on to the worker nodes, "
						   "so an identity kept for the session would not reach them."),
				 errhint("Call %s with local => true at the start of each transaction.", function)));
}

/*
 * The current user's role, looked up at most once per command: the cache is
 * keyed by the transaction, the statement (so a user suspended by another
 * session reads nothing from the next statement on, on a Citus worker node
 * as on one node), the command counter (which moves on after any write, so
 * a change of role is seen by the next command of the same statement) and
 * the identity.
 */
typedef struct RoleCache
{
	bool		valid;
	LocalTransactionId lxid;
	CommandId	cid;
	TimestampTz statement;
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
	TimestampTz statement = GetCurrentStatementStartTimestamp();
	const Identity *me = identity();

	if (!me->valid)
		return NULL;
	if (!role_cache.valid || role_cache.lxid != lxid || role_cache.cid != cid ||
		role_cache.statement != statement ||
		memcmp(&role_cache.user_id, &me->user_id, sizeof(pg_uuid_t)) != 0)
	{
		Datum		arg = UUIDPGetDatum(&me->user_id);

		role_cache.valid = false;
		role_cache.has_role = false;
		SPI_connect();
		if (run_users_lookup(LOOKUP_ROLE, &arg) == 1)
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
		role_cache.statement = statement;
		role_cache.user_id = me->user_id;
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

/* Every user id (for admins and observers), in CurrentMemoryContext. */
static Datum
all_user_ids(void)
{
	Datum		result = 0;
	bool		isnull = true;

	SPI_connect();
	if (run_users_lookup(LOOKUP_ALL_USERS, NULL) == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			result = SPI_datumTransfer(d, false, -1);
	}
	SPI_finish();
	return isnull ? uuid_array(NULL, 0) : result;
}

/*
 * The arrays readable_user_ids() and writable_user_ids() return.  The
 * policies call them directly (no subquery, which Citus refuses), so in a
 * filter they run once per row: they hand out arrays kept for the
 * transaction instead of building one per call.  An array is never freed
 * before the transaction ends, because a scan of an outer statement may
 * still hold it; a later command that finds the same users reuses it.
 */
static MemoryContext ids_context = NULL;
static LocalTransactionId ids_lxid = InvalidLocalTransactionId;
static Datum empty_ids = 0;
static Datum self_ids = 0;
static pg_uuid_t self_ids_user;
static Datum all_ids = 0;
static CommandId all_ids_cid;
static TimestampTz all_ids_statement;

static void
ids_for_this_transaction(void)
{
	if (ids_context == NULL)
		ids_context = AllocSetContextCreate(TopMemoryContext, "alfred user id arrays",
											ALLOCSET_SMALL_SIZES);
	if (ids_lxid != MyProc->lxid)
	{
		MemoryContextReset(ids_context);
		self_ids = all_ids = 0;
		ids_lxid = MyProc->lxid;
	}
}

static Datum
no_ids(void)
{
	if (empty_ids == 0)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		empty_ids = uuid_array(NULL, 0);
		MemoryContextSwitchTo(old);
	}
	return empty_ids;
}

static Datum
only_ids(const pg_uuid_t *user_id)
{
	ids_for_this_transaction();
	if (self_ids == 0 || memcmp(&self_ids_user, user_id, sizeof(pg_uuid_t)) != 0)
	{
		MemoryContext old = MemoryContextSwitchTo(ids_context);

		self_ids = uuid_array(user_id, 1);
		self_ids_user = *user_id;
		MemoryContextSwitchTo(old);
	}
	return self_ids;
}

/* Every user id, read once per command like the role. */
static Datum
every_ids(void)
{
	CommandId	cid = GetCurrentCommandId(false);
	TimestampTz statement = GetCurrentStatementStartTimestamp();

	ids_for_this_transaction();
	if (all_ids == 0 || all_ids_cid != cid || all_ids_statement != statement)
	{
		Datum		fresh = all_user_ids();

		if (all_ids == 0 || !datumIsEqual(fresh, all_ids, false, -1))
		{
			MemoryContext old = MemoryContextSwitchTo(ids_context);

			all_ids = datumCopy(fresh, false, -1);
			MemoryContextSwitchTo(old);
		}
		all_ids_cid = cid;
		all_ids_statement = statement;
	}
	return all_ids;
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
	const Identity *me = identity();

	if (!me->valid)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(uuid_datum(&me->user_id));
}

PG_FUNCTION_INFO_V1(alfred_set_session);
Datum
alfred_set_session(PG_FUNCTION_ARGS)
{
	bool		local = PG_ARGISNULL(1) ? true : PG_GETARG_BOOL(1);
	Identity	id = {.valid = true};

	refuse_session_scope_on_citus(local, "set_session");
	prepare_citus_transaction();
	if (PG_ARGISNULL(0) ||
		!user_of_token(PG_GETARG_DATUM(0), &id.user_id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("invalid or expired session token"),
				 errdetail("The token is unknown, was revoked, has expired, or its user is not active."),
				 errhint("Log in again with alfred.login().")));
	change_identity(&id, local);
	publish_identity(&id);
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
	refuse_session_scope_on_citus(local, "act_as");
	alfred_require_arg(fcinfo, 0, "user_id");
	prepare_citus_transaction();
	memcpy(&id.user_id, PG_GETARG_UUID_P(0), sizeof(pg_uuid_t));
	if (!user_is_active(PG_GETARG_DATUM(0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no active user with id \"%s\"",
						DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(0)))),
				 errdetail("act_as needs the id of an existing user whose status is active.")));
	change_identity(&id, local);
	publish_identity(&id);
	PG_RETURN_DATUM(uuid_datum(&id.user_id));
}

PG_FUNCTION_INFO_V1(alfred_reset_identity);
Datum
alfred_reset_identity(PG_FUNCTION_ARGS)
{
	bool		local = PG_ARGISNULL(0) ? false : PG_GETARG_BOOL(0);
	Identity	none = {false};

	change_identity(&none, local);
	publish_identity(&none);
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
		PG_RETURN_DATUM(every_ids());
	/* No role: no identity, or a user who is no longer active reads nothing. */
	if (role != NULL)
		PG_RETURN_DATUM(only_ids(&identity()->user_id));
	PG_RETURN_DATUM(no_ids());
}

PG_FUNCTION_INFO_V1(alfred_writable_user_ids);
Datum
alfred_writable_user_ids(PG_FUNCTION_ARGS)
{
	const char *role = current_role();

	if (role != NULL && strcmp(role, "admin") == 0)
		PG_RETURN_DATUM(every_ids());
	if (role != NULL && strcmp(role, "user") == 0)
		PG_RETURN_DATUM(only_ids(&identity()->user_id));
	PG_RETURN_DATUM(no_ids());
}

/*
 * A signed claim for user_id, valid until expires_at, for backend origin
 * (this backend when NULL).  Only for the owner of alfred's tables (who can
 * read the key anyway) and superusers: tests and tools that check the
 * verification; set_session and act_as issue claims by themselves.
 */
PG_FUNCTION_INFO_V1(alfred_sign_claim);
Datum
alfred_sign_claim(PG_FUNCTION_ARGS)
{
	char		claim[ALFRED_CLAIM_MAX_LEN + 1];
	int64		origin;

	if (!has_privs_of_role(GetUserId(), alfred_tables_owner()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to sign an identity claim"),
				 errdetail("Only the owner of alfred's tables and superusers may sign claims.")));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("user_id and expires_at must not be NULL")));
	if (TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(1)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid claim expiry \"%s\"", timestamptz_to_str(PG_GETARG_TIMESTAMPTZ(1))),
				 errdetail("A claim expires at a finite time.")));
	origin = PG_ARGISNULL(2) ? own_origin() : PG_GETARG_INT64(2);
	make_claim(claim, PG_GETARG_UUID_P(0), unix_seconds(PG_GETARG_TIMESTAMPTZ(1)), origin);
	PG_RETURN_TEXT_P(cstring_to_text(claim));
}
