/*-------------------------------------------------------------------------
 *
 * alfred.c
 *		Entry point of the alfred extension: the module magic, _PG_init and
 *		the configuration variables (GUCs) shared by every part of alfred.
 *
 * _PG_init only defines settings and calls each domain's init.  Settings
 * that need a postmaster restart (alfred.database, alfred.workers) and the
 * scheduler worker exist only when alfred is in shared_preload_libraries;
 * the SQL functions work without preloading.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "alfred.h"

PG_MODULE_MAGIC;

/*---- GUC variables ----*/
char	   *alfred_database = NULL;
int			alfred_workers = 2;
bool		alfred_enabled = true;
int			alfred_batch_size = 100;
int			alfred_max_naptime = 60000;
int			alfred_retry_base_delay = 1000;
int			alfred_password_cost = 10;
static char *alfred_token_key = NULL;
int			alfred_tool_timeout = 60000;
int			alfred_user_time_budget = 100;
bool		alfred_fair_claim = true;
int			alfred_ai_daily_limit = 100;
int			alfred_mcp_silence_timeout = 300000;
char	   *alfred_claim = NULL;
int			alfred_claim_lifetime = 3600;

void		_PG_init(void);

static void
define_postmaster_gucs(void)
{
	DefineCustomStringVariable("alfred.database",
							   "Database in which the alfred scheduler runs.",
							   "The scheduler waits until this database exists and has the alfred extension.",
							   &alfred_database,
							   "postgres",
							   PGC_POSTMASTER,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("alfred.workers",
							"Number of alfred scheduler workers.",
							"Zero disables the scheduler.",
							&alfred_workers,
							2, 0, 32,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);
}

static void
define_reloadable_gucs(void)
{
	DefineCustomBoolVariable("alfred.enabled",
							 "Whether the alfred scheduler executes due tasks.",
							 NULL,
							 &alfred_enabled,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("alfred.batch_size",
							"Maximum number of due tasks a worker claims per transaction.",
							NULL,
							&alfred_batch_size,
							100, 1, 10000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("alfred.max_naptime",
							"Longest time the scheduler sleeps between checks.",
							"The scheduler wakes earlier when a task falls due or is scheduled.",
							&alfred_max_naptime,
							60000, 10, 3600000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("alfred.retry_base_delay",
							"Base delay of the exponential backoff between retries of a failed run.",
							NULL,
							&alfred_retry_base_delay,
							1000, 1, 86400000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

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

	DefineCustomIntVariable("alfred.tool_timeout",
							"Longest time an in-database tool of a scheduled task may run.",
							"A tool that runs longer is cancelled and its run fails. Zero disables the limit.",
							&alfred_tool_timeout,
							60000, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("alfred.user_time_budget",
							"Worker time one user's in-database tools may take in one scheduler batch.",
							"When a user's tools have taken this long, their other claimed tasks are left due for the next batch "
							"and the other users' tasks in the batch run first. Zero disables the budget.",
							&alfred_user_time_budget,
							100, 0, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("alfred.fair_claim",
							 "Whether the scheduler claims due tasks round-robin across users.",
							 "Off claims them in next_run_at order, as alfred 0.1 did (for benchmarks).",
							 &alfred_fair_claim,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("alfred.ai_daily_limit",
							"AI requests a user may make per day (their own day, in their time zone).",
							"user_settings.ai_daily_limit replaces it for one user; consume_ai_quota enforces it.",
							&alfred_ai_daily_limit,
							100, 0, PG_INT32_MAX,
							PGC_SUSET,
							0,
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

	DefineCustomIntVariable("alfred.mcp_silence_timeout",
							"How long an MCP server may go without a heartbeat before maintenance marks it as failed.",
							"alfred.check_integrations() (run by run_maintenance) uses it unless given an interval.",
							&alfred_mcp_silence_timeout,
							300000, 1000, PG_INT32_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
}

void
_PG_init(void)
{
	if (IsBinaryUpgrade)
		return;

	if (process_shared_preload_libraries_in_progress)
		define_postmaster_gucs();
	define_reloadable_gucs();

	MarkGUCPrefixReserved("alfred");
	alfred_json_init();
	alfred_identity_init();
	alfred_scheduler_guard_init();

	if (process_shared_preload_libraries_in_progress)
		alfred_worker_init();
}
