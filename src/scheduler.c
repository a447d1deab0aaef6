/*-------------------------------------------------------------------------
 *
 * scheduler.c
 *		One tick of the scheduler: claim due tasks and due retries, run
 *		in-database tools in subtransactions, queue external runs, record
 *		every run, advance next_run_at and write the notifications.
 *
 * alfred.run_due_tasks(now, max) and the background worker call the same
 * alfred_scheduler_tick.  A tick claims at most `max` rows with FOR UPDATE
 * SKIP LOCKED through the partial index on next_run_at (so several workers
 * never run a task twice, and the cost is that of the due rows only).  An
 * sql tool runs in a subtransaction of the caller's transaction, which also
 * records the run, moves the task on and writes the notification: the tool's
 * effects and their record commit together, or neither does.  A failing tool
 * rolls back only its subtransaction.
 *
 * Fairness: a tick claims due tasks round-robin across users, by each
 * user's earliest due task (claim_tasks_sql), so that no user's backlog is
 * ahead of another user's first due task; retries take at most half of a
 * tick while tasks are due.  In the worker, a user whose sql tools have
 * taken alfred.user_time_budget of one tick has their remaining claimed rows
 * left due (not run, not recorded; the next tick claims them again, one
 * per round like everyone's).
 *
 * Each batch is recorded by one statement (a CTE writing the notifications,
 * the runs and the tasks).  The hot-path statements are prepared once per
 * backend but planned at each execution (custom plans, for the table sizes
 * of the moment) with sequential and bitmap scans, hash and merge joins disabled
 * (execute_hot): a generic plan cached while the tables were nearly empty,
 * or a plan built from statistics gathered then, would otherwise read the
 * whole table in every batch.  What remains are index nested loops whose
 * cost is that of the batch, whatever ANALYZE saw.
 *
 * On a Citus cluster the same statements run once per shard of
 * scheduled_tasks placed on the node, against its local colocated shards
 * (see "shards" below).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lock.h"
#include "storage/lockdefs.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "alfred.h"
#include "alfred_json.h"
#include "cron_sql.h"
#include "plan.h"
#include "row.h"
#include "scheduler.h"
#include "table_refs.h"

bool		alfred_scheduler_in_worker = false;

/*---- GUC variables ----*/
int			alfred_batch_size = 100;
static int	alfred_retry_base_delay = 1000;
static int	alfred_tool_timeout = 60000;
static int	alfred_user_time_budget = 100;
static bool alfred_fair_claim = true;

/* At most this many missed slots are counted after a long downtime. */
#define MAX_MISSED_COUNT 10000
/* Backoff exponent cap: base × 2^16 at most. */
#define MAX_BACKOFF_EXPONENT 16

/* One claimed row: a due task, or a due retry of one of its runs. */
typedef struct DueRun
{
	Datum		user_id;
	Datum		task_id;
	Datum		run_id;			/* retry: the run; new run: (Datum) 0 */
	char	   *name;
	char	   *tool_name;
	Datum		tool_args;
	char	   *cron;			/* NULL for a one-time task */
	char	   *timezone;
	TimestampTz due;			/* the slot (or retry time) that fell due */
	int			max_retries;
	int			attempt;		/* this attempt's number, from 1 */
	int			missed;			/* slots skipped after downtime */
	bool		external;
	Oid			fn;
	char	   *prompt_template;
	Datum		context;		/* jsonb, external tools with a template */
	bool		has_context;
	char	   *policy_error;	/* the tool's policy refuses this task's user */
	bool		capped;			/* fair claim: the user's quota was full */
} DueRun;

/* What happened to one attempt. */
typedef struct Outcome
{
	const char *status;			/* succeeded, failed, retrying, queued */
	char	   *result;
	char	   *error;
	char	   *prompt;
	TimestampTz started_at;
	int			duration_ms;
	TimestampTz next_attempt_at;
} Outcome;

/*---- prepared statements ----*/

static SPIPlanPtr claim_tasks_plan = NULL;
static SPIPlanPtr claim_tasks_in_order_plan = NULL;
static SPIPlanPtr more_due_plan = NULL;
static SPIPlanPtr claim_retries_plan = NULL;
static SPIPlanPtr record_plan = NULL;
static SPIPlanPtr next_due_plan = NULL;

static void scheduler_lock(LOCKMODE mode);
static SPIPlanPtr *shard_plan_slot(SPIPlanPtr *plan);
static char *shard_sql(const char *sql);

/*
 * Custom plans: planned at each execution for the table sizes of the moment.
 * A generic plan cached while scheduled_tasks was nearly empty reads the
 * whole table in every batch once it has grown; the planning costs less than
 * the noise of a batch (docs/benchmarks.md).  In a shard (Citus), the
 * statement's copy that names the shard's tables.
 */
static SPIPlanPtr
prepare(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes)
{
	plan = shard_plan_slot(plan);
	if (*plan != NULL)
		return *plan;
	return alfred_plan_get(plan, shard_sql(sql), nargs, argtypes, CURSOR_OPT_CUSTOM_PLAN);
}

/*
 * Executes a hot-path statement with sequential scans, bitmap scans, hash
 * joins and merge joins disabled while it is planned and runs, so that its
 * plan is made of ordered index scans and nested loops whatever the
 * statistics say (a bitmap scan reads every due row of a user, in no order,
 * to take the first hundred).  Anything
 * planned while it runs (triggers, foreign-key checks) sees them too.
 */
static int
execute_hot(SPIPlanPtr plan, Datum *args, bool read_only, long count)
{
	int			nestlevel = NewGUCNestLevel();
	int			rc;

	(void) set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("enable_bitmapscan", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("enable_hashjoin", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("enable_mergejoin", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	rc = SPI_execute_plan(plan, args, NULL, read_only, count);
	AtEOXact_GUC(true, nestlevel);
	return rc;
}

/* (ROW(t.*): in a shard of a Citus cluster, t's row type is the shard's own) */
#define CLAIM_COLUMNS \
	"t.user_id, t.id, t.name, t.tool_name, t.tool_args, t.schedule_cron, t.timezone, " \
	"t.max_retries, tl.kind = 'external' AS external, tl.fn::oid AS fn, t.prompt_template, " \
	"CASE WHEN tl.kind = 'external' AND t.prompt_template <> '' " \
	"     THEN alfred.task_prompt_context(ROW(t.*)::alfred.scheduled_tasks) END AS context "

/*
 * The tool's policy, checked again at run time (it may have been tightened,
 * or the user demoted, since the task was scheduled): read by name.
 */
#define POLICY_COLUMN \
	", CASE WHEN tl.admin_only THEN alfred.tool_policy_error(t.tool_name, t.user_id) END " \
	"  AS policy_error "

/*
 * The key of scheduled_tasks_user_due_idx after user_id: next_run_at, in an
 * expression that the time-ordered scheduled_tasks_due_idx cannot serve, so
 * that no statistics can make a user's claim walk every user's due rows.
 */
#define DUE_KEY(t) "coalesce(" t ".next_run_at, 'infinity'::timestamptz)"

/*
 * The fair claim ($1 now, $2 max, $3 users to leave out): the users with a
 * due task, found by a loose scan of scheduled_tasks_user_due_idx (one index
 * probe per user with an active task), the $2 with the earliest due tasks;
 * each user gets a quota (max split evenly, the earliest users one more),
 * filled from the same index in next_run_at order with FOR UPDATE SKIP
 * LOCKED; the rows come back round-robin: every user's first task, then
 * every user's second, ...  The column rn = k says the user's quota was
 * full (they may have more due: the tick claims another round).
 */
static const char *claim_tasks_sql =
"WITH RECURSIVE u (user_id, first) AS ( "
"  (SELECT s.user_id, " DUE_KEY("s") " FROM alfred.scheduled_tasks s "
"    WHERE s.status = 'active' AND s.next_run_at IS NOT NULL "
"    ORDER BY s.user_id, " DUE_KEY("s") " LIMIT 1) "
"  UNION ALL "
"  SELECT n.user_id, n.first FROM u CROSS JOIN LATERAL "
"   (SELECT s.user_id, " DUE_KEY("s") " AS first FROM alfred.scheduled_tasks s "
"     WHERE s.status = 'active' AND s.next_run_at IS NOT NULL AND s.user_id > u.user_id "
"     ORDER BY s.user_id, " DUE_KEY("s") " LIMIT 1) n "
"), due AS ( "
"  SELECT d.user_id, d.first, row_number() OVER (ORDER BY d.first, d.user_id) AS i, "
"         count(*) OVER () AS users "
"    FROM (SELECT user_id, first FROM u WHERE first <= $1 AND user_id <> ALL ($3) "
"           ORDER BY first, user_id LIMIT $2) d "
"), c AS ( "
"  SELECT q.first, q.k, c.*, row_number() OVER (PARTITION BY q.user_id ORDER BY c.next_run_at) AS rn "
"    FROM (SELECT due.user_id, due.first, "
"                 ($2 / users + CASE WHEN i <= $2 % users THEN 1 ELSE 0 END)::int AS k FROM due) q "
"    CROSS JOIN LATERAL "
"   (SELECT " CLAIM_COLUMNS ", t.next_run_at " POLICY_COLUMN
"      FROM alfred.scheduled_tasks t "
"      JOIN alfred.tools tl ON tl.name = t.tool_name "
"     WHERE t.user_id = q.user_id AND t.status = 'active' AND t.next_run_at IS NOT NULL "
"       AND " DUE_KEY("t") " <= $1 "
"     ORDER BY " DUE_KEY("t") " "
"     LIMIT q.k "
"       FOR UPDATE OF t SKIP LOCKED) c "
") "
"SELECT user_id, id, name, tool_name, tool_args, schedule_cron, timezone, max_retries, "
"       external, fn, prompt_template, context, next_run_at, rn = k, policy_error "
"  FROM c ORDER BY rn, first, user_id";

/*
 * Whether more than $2 tasks are due ($1 now): at most $2 + 1 entries of
 * scheduled_tasks_due_idx.  When they all fit in the batch, the claim in
 * next_run_at order takes every user's due tasks, and the fair claim's loose
 * scan over every user with an active task is not needed.
 */
static const char *more_due_sql =
"SELECT count(*) > $2 FROM (SELECT FROM alfred.scheduled_tasks t "
"                            WHERE t.status = 'active' AND t.next_run_at <= $1 "
"                            LIMIT $2 + 1) d";

/*
 * Due tasks in next_run_at order: the claim when they all fit in the batch,
 * and the only one with alfred.fair_claim = off (the claim before fairness).
 */
static const char *claim_tasks_in_order_sql =
"SELECT " CLAIM_COLUMNS ", t.next_run_at, false " POLICY_COLUMN
"  FROM alfred.scheduled_tasks t "
"  JOIN alfred.tools tl ON tl.name = t.tool_name "
" WHERE t.status = 'active' AND t.next_run_at <= $1 "
" ORDER BY t.next_run_at "
" LIMIT $2 "
"   FOR UPDATE OF t SKIP LOCKED";

/*
 * Due retries: driven by the claimable runs (task_runs_claimable_idx), each
 * joined to its task and tool by key in a LATERAL subquery that the planner
 * cannot turn around (its LIMIT keeps it from being pulled up): statistics of
 * a near-empty task_runs would otherwise make it scan scheduled_tasks.
 */
static const char *claim_retries_sql =
"SELECT " CLAIM_COLUMNS ", r.due_at, r.id, r.attempt + 1, r.missed_slots " POLICY_COLUMN
"  FROM alfred.task_runs r "
"  CROSS JOIN LATERAL (SELECT t.* FROM alfred.scheduled_tasks t "
"                       WHERE t.user_id = r.user_id AND t.id = r.task_id AND t.status = 'active' "
"                       LIMIT 1) t "
"  CROSS JOIN LATERAL (SELECT tl.* FROM alfred.tools tl "
"                       WHERE tl.name = t.tool_name AND tl.kind = 'sql' LIMIT 1) tl "
" WHERE r.status = 'retrying' AND r.next_attempt_at <= $1 AND r.user_id <> ALL ($3) "
" ORDER BY r.next_attempt_at "
" LIMIT $2 "
"   FOR UPDATE OF r SKIP LOCKED";

/*
 * Records a batch of attempts in one statement: $1..$17 are parallel arrays
 * (user, task, run id, status, result, error, started_at, duration_ms,
 * attempt, due_at, missed slots, next_attempt_at, prompt, advance the task
 * to a new slot, its next_run_at, final (counts and notification), task
 * name); a final run's notification id is drawn up front, so that no step
 * joins two lists of the batch, and the user's row and settings are looked
 * up by key in LATERAL subqueries (whose LIMIT the planner cannot pull up).
 * What a notification says is alfred.run_notification_content's, the rule
 * alfred.run_notification applies for the agent API too; the planner inlines
 * that sql function into this statement.  A batch makes one statement of
 * what would be hundreds.
 */
static const char *record_sql =
"WITH o AS ( "
"  SELECT x.*, CASE WHEN x.final THEN gen_random_uuid() END AS note_id FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], "
"         $7::timestamptz[], $8::int[], $9::int[], $10::timestamptz[], $11::int[], "
"         $12::timestamptz[], $13::text[], $14::bool[], $15::timestamptz[], $16::bool[], $17::text[]) "
"    AS x(user_id, task_id, run_id, status, result, error, started_at, duration_ms, attempt, "
"         due_at, missed, next_attempt_at, prompt, advance, next_run_at, final, name) "
"), p AS ( "
"  SELECT o.*, o.started_at + make_interval(secs => o.duration_ms / 1000.0) AS at, u.timezone, "
"         s.quiet_hours_start, s.quiet_hours_end "
"    FROM o CROSS JOIN LATERAL (SELECT u.timezone FROM alfred.users u WHERE u.id = o.user_id LIMIT 1) u "
"    LEFT JOIN LATERAL (SELECT s.quiet_hours_start, s.quiet_hours_end FROM alfred.user_settings s "
"                        WHERE s.user_id = o.user_id LIMIT 1) s ON true "
"   WHERE o.final "
"), note AS ( "
"  INSERT INTO alfred.notifications (id, user_id, type, title, message, priority, scheduled_for, data) "
"  SELECT p.note_id, p.user_id, n.type, n.title, n.message, n.priority, n.scheduled_for, n.data "
"    FROM p CROSS JOIN LATERAL alfred.run_notification_content(p.task_id, p.run_id, p.name, "
"         p.status, p.result, p.error, p.at, p.timezone, p.quiet_hours_start, p.quiet_hours_end) n "
"), run AS ( "
"  INSERT INTO alfred.task_runs AS tr (user_id, id, task_id, status, attempt, due_at, started_at, "
"         finished_at, duration_ms, missed_slots, prompt, result, error, notification_id, "
"         next_attempt_at) "
"  SELECT o.user_id, o.run_id, o.task_id, o.status, o.attempt, o.due_at, o.started_at, "
"         CASE WHEN o.final THEN o.started_at + make_interval(secs => o.duration_ms / 1000.0) END, "
"         CASE WHEN o.status = 'queued' THEN NULL ELSE o.duration_ms END, o.missed, o.prompt, "
"         o.result, o.error, o.note_id, o.next_attempt_at "
"    FROM o "
"  ON CONFLICT (user_id, id) DO UPDATE SET status = excluded.status, attempt = excluded.attempt, "
"         started_at = excluded.started_at, finished_at = excluded.finished_at, "
"         duration_ms = excluded.duration_ms, result = excluded.result, error = excluded.error, "
"         notification_id = excluded.notification_id, next_attempt_at = excluded.next_attempt_at "
"  RETURNING tr.id, tr.user_id, tr.status, tr.notification_id "
"), task AS ( "
"  UPDATE alfred.scheduled_tasks t SET "
"         next_run_at = CASE WHEN a.advance THEN a.next_run_at ELSE t.next_run_at END, "
"         status = CASE WHEN a.final AND t.task_type = 'one_time' THEN 'completed' "
"                       WHEN a.advance AND a.next_run_at IS NULL AND t.task_type = 'recurring' "
"                       THEN 'paused' ELSE t.status END, "
"         last_run_at = CASE WHEN a.advance THEN a.started_at ELSE t.last_run_at END, "
"         run_count = t.run_count + a.ok, fail_count = t.fail_count + a.failed "
"    FROM (SELECT user_id, task_id, bool_or(advance) AS advance, "
"                 max(next_run_at) FILTER (WHERE advance) AS next_run_at, "
"                 max(started_at) FILTER (WHERE advance) AS started_at, bool_or(final) AS final, "
"                 count(*) FILTER (WHERE final AND status = 'succeeded')::int AS ok, "
"                 count(*) FILTER (WHERE final AND status = 'failed')::int AS failed "
"            FROM o GROUP BY user_id, task_id) a "
"   WHERE t.user_id = a.user_id AND t.id = a.task_id "
") "
"SELECT id, user_id, status, notification_id FROM run";

static const char *next_due_sql =
"SELECT least((SELECT min(next_run_at) FROM alfred.scheduled_tasks "
"               WHERE status = 'active' AND next_run_at IS NOT NULL), "
"             (SELECT r.next_attempt_at FROM alfred.task_runs r "
"               WHERE r.status = 'retrying' AND r.next_attempt_at IS NOT NULL "
"                 AND EXISTS (SELECT FROM alfred.scheduled_tasks t "
"                               JOIN alfred.tools tl ON tl.name = t.tool_name "
"                              WHERE t.user_id = r.user_id AND t.id = r.task_id "
"                                AND tl.kind = 'sql' AND t.status = 'active' "
"                              OFFSET 0) "
"               ORDER BY r.next_attempt_at LIMIT 1))";

/*---- reading claimed rows ----*/

static char *
text_column(HeapTuple tuple, TupleDesc desc, int col)
{
	return SPI_getvalue(tuple, desc, col);
}

static Datum
datum_column(HeapTuple tuple, TupleDesc desc, int col, bool *isnull)
{
	bool		null;
	Datum		d = SPI_getbinval(tuple, desc, col, &null);

	if (isnull)
		*isnull = null;
	if (null)
		return (Datum) 0;
	return SPI_datumTransfer(d, TupleDescAttr(desc, col - 1)->attbyval,
							 TupleDescAttr(desc, col - 1)->attlen);
}

/* Columns 1..12 are CLAIM_COLUMNS; 13 is the due time; 14.. the retry's, or the task's quota flag. */
static void
read_claimed(HeapTuple tuple, TupleDesc desc, bool retry, DueRun *run)
{
	bool		isnull;

	memset(run, 0, sizeof(*run));
	run->attempt = 1;
	run->user_id = datum_column(tuple, desc, 1, NULL);
	run->task_id = datum_column(tuple, desc, 2, NULL);
	run->name = text_column(tuple, desc, 3);
	run->tool_name = text_column(tuple, desc, 4);
	run->tool_args = datum_column(tuple, desc, 5, NULL);
	run->cron = text_column(tuple, desc, 6);
	run->timezone = text_column(tuple, desc, 7);
	run->max_retries = DatumGetInt32(datum_column(tuple, desc, 8, NULL));
	run->external = DatumGetBool(datum_column(tuple, desc, 9, NULL));
	run->fn = DatumGetObjectId(datum_column(tuple, desc, 10, &isnull));
	run->prompt_template = text_column(tuple, desc, 11);
	run->context = datum_column(tuple, desc, 12, &isnull);
	run->has_context = !isnull;
	run->due = DatumGetTimestampTz(datum_column(tuple, desc, 13, NULL));
	run->policy_error = text_column(tuple, desc, alfred_attnum(desc, "policy_error"));
	if (!retry)
		run->capped = DatumGetBool(datum_column(tuple, desc, 14, NULL));
	else
	{
		run->run_id = datum_column(tuple, desc, 14, NULL);
		run->attempt = DatumGetInt32(datum_column(tuple, desc, 15, NULL));
		run->missed = DatumGetInt32(datum_column(tuple, desc, 16, NULL));
	}
}

/*---- schedules ----*/

/*
 * The task's next slot after now (0 for a one-time task), and into
 * *missed the number of slots strictly between due and now that were
 * skipped: after downtime a task runs once, not once per missed slot.
 */
static TimestampTz
next_slot(const DueRun *run, TimestampTz now, int *missed)
{
	alfred_cron_compiled *cc;
	TimestampTz slot;

	*missed = 0;
	if (run->cron == NULL)
		return 0;
	/* parsed and resolved once, however many slots were missed */
	cc = alfred_cron_compile(run->cron, run->timezone);
	slot = alfred_cron_compiled_next_timestamptz(cc, run->due);
	while (slot <= now && *missed < MAX_MISSED_COUNT)
	{
		(*missed)++;
		slot = alfred_cron_compiled_next_timestamptz(cc, slot);
	}
	if (slot <= now)
		slot = alfred_cron_compiled_next_timestamptz(cc, now);
	pfree(cc);
	/* 0: no slot ever again (none before the year 10000, where alfred's times end) */
	return alfred_time_in_range(slot) ? slot : 0;
}

/*
 * Exponential backoff with jitter: base × 2^attempt, plus up to a quarter
 * more, the jitter derived from the run id so a tick is reproducible.  The
 * sum saturates at the last finite timestamp instead of overflowing.
 */
static TimestampTz
retry_time(TimestampTz now, int attempt, Datum run_seed)
{
	const unsigned char *bytes = DatumGetUUIDP(run_seed)->data;
	uint32		hash = 2166136261u;
	double		delay;

	for (int i = 0; i < UUID_LEN; i++)
		hash = (hash ^ bytes[i]) * 16777619u;
	hash = (hash ^ (uint32) attempt) * 16777619u;
	delay = (double) alfred_retry_base_delay * (double) (1 << Min(attempt, MAX_BACKOFF_EXPONENT));
	delay += delay * 0.25 * ((double) (hash % 10000) / 10000.0);
	return alfred_timestamptz_plus_saturating(now, (int64) (delay * 1000.0));
}

/*---- running an sql tool ----*/

static int
elapsed_ms(TimestampTz start)
{
	return (int) ((GetCurrentTimestamp() - start) / 1000);
}

/*
 * Calls the tool (user_id, args) → jsonb in a subtransaction, as the task's
 * user and under alfred.tool_timeout.  On error only the subtransaction
 * rolls back; *error receives the message.
 */
/* The identity a tool runs with, swapped in and out (palloc'd: survives longjmp). */
typedef struct ToolIdentity
{
	bool		valid;
	pg_uuid_t	user_id;
	bool		swapped;		/* the task's user is current */
	bool		armed;			/* the tool timeout is running */
} ToolIdentity;

static void
enter_tool(ToolIdentity *id)
{
	alfred_identity_swap(&id->valid, &id->user_id);
	id->swapped = true;
	if (alfred_tool_timeout > 0 && !get_timeout_active(STATEMENT_TIMEOUT))
	{
		enable_timeout_after(STATEMENT_TIMEOUT, alfred_tool_timeout);
		id->armed = true;
	}
}

static void
leave_tool(ToolIdentity *id)
{
	if (id->armed)
		disable_timeout(STATEMENT_TIMEOUT, false);
	id->armed = false;
	if (id->swapped)
		alfred_identity_swap(&id->valid, &id->user_id);
	id->swapped = false;
}

static char *
invoke_tool(const DueRun *run)
{
	LOCAL_FCINFO(fcinfo, 2);
	FmgrInfo	flinfo;
	Datum		value;
	Jsonb	   *jb;

	fmgr_info(run->fn, &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, 2, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = run->user_id;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = run->tool_args;
	fcinfo->args[1].isnull = false;
	value = FunctionCallInvoke(fcinfo);
	if (fcinfo->isnull)
		return NULL;
	jb = DatumGetJsonbP(value);
	return JsonbToCString(NULL, &jb->root, VARSIZE(jb));
}

static char *
call_tool(const DueRun *run, char **error)
{
	MemoryContext caller_context = CurrentMemoryContext;
	ResourceOwner caller_owner = CurrentResourceOwner;
	ToolIdentity *id = palloc0(sizeof(ToolIdentity));
	char	   *volatile result = NULL;

	id->valid = true;
	id->user_id = *DatumGetUUIDP(run->user_id);
	*error = NULL;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller_context);
	PG_TRY();
	{
		enter_tool(id);
		result = invoke_tool(run);
		leave_tool(id);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller_context);
		CurrentResourceOwner = caller_owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		leave_tool(id);
		MemoryContextSwitchTo(caller_context);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller_context);
		CurrentResourceOwner = caller_owner;
		*error = edata->message;
		result = NULL;
	}
	PG_END_TRY();
	pfree(id);
	return result;
}

static void
run_sql_tool(const DueRun *run, TimestampTz now, bool real_clock, Outcome *out)
{
	TimestampTz clock_start = GetCurrentTimestamp();

	out->started_at = real_clock ? clock_start : now;
	out->result = call_tool(run, &out->error);
	out->duration_ms = elapsed_ms(clock_start);
	if (out->error == NULL)
		out->status = "succeeded";
	else if (run->attempt <= run->max_retries)
		out->status = "retrying";
	else
		out->status = "failed";
}

/*
 * Renders the prompt of an external run; a template error fails the run.
 * The renderer reports the error instead of raising it: nothing is caught
 * here, so no subtransaction is needed.
 */
/* not inlined: gcc's -Wstring-compare then misreads the status strings in execute() */
static pg_noinline void
queue_external(const DueRun *run, TimestampTz now, bool real_clock, Outcome *out)
{
	char	   *message;
	char	   *detail;

	out->started_at = real_clock ? GetCurrentTimestamp() : now;
	out->status = "queued";
	if (!run->has_context)
		return;
	out->prompt = alfred_try_render_template(run->prompt_template,
											 strlen(run->prompt_template),
											 DatumGetJsonbP(run->context),
											 &message, &detail);
	if (out->prompt == NULL)
	{
		out->status = "failed";
		out->error = psprintf("%s: %s", message, detail);
	}
}

/*---- recording ----*/

#define RECORD_COLUMNS 17

static const Oid record_types[RECORD_COLUMNS] = {
	UUIDOID, UUIDOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT4OID, INT4OID,
	TIMESTAMPTZOID, INT4OID, TIMESTAMPTZOID, TEXTOID, BOOLOID, TIMESTAMPTZOID, BOOLOID, TEXTOID
};

/* The outcomes of one claimed batch, column by column. */
typedef struct Batch
{
	int			n;
	int			cap;
	Datum	   *values[RECORD_COLUMNS];
	bool	   *nulls[RECORD_COLUMNS];
} Batch;

static void
batch_init(Batch *b, int cap)
{
	b->n = 0;
	b->cap = Max(cap, 1);
	for (int c = 0; c < RECORD_COLUMNS; c++)
	{
		b->values[c] = palloc(b->cap * sizeof(Datum));
		b->nulls[c] = palloc(b->cap * sizeof(bool));
	}
}

static inline void
put(Batch *b, int col, Datum value, bool isnull)
{
	b->values[col][b->n] = isnull ? (Datum) 0 : value;
	b->nulls[col][b->n] = isnull;
}

static inline void
put_text(Batch *b, int col, const char *s)
{
	put(b, col, s ? CStringGetTextDatum(s) : (Datum) 0, s == NULL);
}

static void
batch_add(Batch *b, const DueRun *run, const Outcome *out, bool advance,
		  TimestampTz next_run_at, bool final)
{
	Assert(b->n < b->cap);
	put(b, 0, run->user_id, false);
	put(b, 1, run->task_id, false);
	put(b, 2, run->run_id, false);
	put(b, 3, CStringGetTextDatum(out->status), false);
	put_text(b, 4, out->result);
	put_text(b, 5, out->error);
	put(b, 6, TimestampTzGetDatum(out->started_at), false);
	put(b, 7, Int32GetDatum(out->duration_ms), false);
	put(b, 8, Int32GetDatum(run->attempt), false);
	put(b, 9, TimestampTzGetDatum(run->due), false);
	put(b, 10, Int32GetDatum(run->missed), false);
	put(b, 11, TimestampTzGetDatum(out->next_attempt_at), out->next_attempt_at == 0);
	put_text(b, 12, out->prompt);
	put(b, 13, BoolGetDatum(advance), false);
	put(b, 14, TimestampTzGetDatum(next_run_at), next_run_at == 0);
	put(b, 15, BoolGetDatum(final), false);
	put(b, 16, CStringGetTextDatum(run->name), false);
	b->n++;
}

static Datum
column_array(const Batch *b, int col)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {b->n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(record_types[col], &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(b->values[col], b->nulls[col], 1, dims, lbs,
											  record_types[col], typlen, typbyval, typalign));
}

static char *
uuid_text(Datum uuid)
{
	return DatumGetCString(DirectFunctionCall1(uuid_out, uuid));
}

/* Writes the batch (runs, notifications, tasks) and queues the NOTIFYs. */
static void
batch_record(const Batch *b)
{
	Oid			types[RECORD_COLUMNS];
	Datum		args[RECORD_COLUMNS];
	int			rc;

	if (b->n == 0)
		return;
	for (int c = 0; c < RECORD_COLUMNS; c++)
	{
		types[c] = get_array_type(record_types[c]);
		args[c] = column_array(b, c);
	}
	/* the task_runs guard lets the scheduler's own statement through */
	alfred_scheduler_recording = true;
	PG_TRY();
	{
		rc = execute_hot(prepare(&record_plan, record_sql, RECORD_COLUMNS, types),
						 args, false, 0);
	}
	PG_FINALLY();
	{
		alfred_scheduler_recording = false;
	}
	PG_END_TRY();
	if (rc != SPI_OK_SELECT || SPI_processed != (uint64) b->n)
		elog(ERROR, "recording %d runs failed: %s", b->n, SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		note = SPI_getbinval(tuple, desc, 4, &isnull);
		char	   *status = SPI_getvalue(tuple, desc, 3);

		if (!isnull)
			Async_Notify("alfred_notifications",
						 psprintf("{\"user_id\":\"%s\",\"notification_id\":\"%s\"}",
								  SPI_getvalue(tuple, desc, 2), uuid_text(note)));
		else if (strcmp(status, "queued") == 0)
			Async_Notify("alfred_runs", SPI_getvalue(tuple, desc, 1));
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * next_slot, unless the task's cron expression or time zone (which someone
 * may have broken with a direct UPDATE) cannot be evaluated: then false,
 * with out->error saying why, so that one bad task cannot stop every other
 * task's tick.  Both are checked by functions that report instead of
 * raising: nothing is caught here, so no subtransaction is needed.
 */
static bool
next_slot_or_error(const DueRun *run, TimestampTz now, TimestampTz *next_run_at,
				   int *missed, Outcome *out)
{
	char	   *message = NULL;

	if (run->cron != NULL &&
		(!alfred_cron_check(run->cron, &message) ||
		 !alfred_cron_zone_check(run->timezone, &message)))
	{
		out->error = psprintf("cannot compute the next run of \"%s\": %s", run->name, message);
		return false;
	}
	*next_run_at = next_slot(run, now, missed);
	return true;
}

/* Runs (or queues) one claimed row and adds its outcome to the batch. */
static void
execute(DueRun *run, TimestampTz now, bool real_clock, bool retry, Batch *batch)
{
	Outcome		out = {0};
	TimestampTz next_run_at = 0;
	int			missed = run->missed;
	bool		final;

	if (run->run_id == (Datum) 0)
		run->run_id = DirectFunctionCall1(gen_random_uuid, (Datum) 0);
	if (run->policy_error != NULL)
	{
		/* nothing runs; a recurring task is paused, a one-time one ends */
		out.status = "failed";
		out.error = run->policy_error;
		out.started_at = real_clock ? GetCurrentTimestamp() : now;
		run->missed = 0;
		batch_add(batch, run, &out, !retry, 0, true);
		return;
	}
	if (!retry && !next_slot_or_error(run, now, &next_run_at, &missed, &out))
	{
		/* a schedule that cannot be evaluated fails its run and pauses the task */
		out.status = "failed";
		out.started_at = real_clock ? GetCurrentTimestamp() : now;
		run->missed = 0;
		batch_add(batch, run, &out, true, 0, true);
		return;
	}
	run->missed = missed;
	if (run->external)
		queue_external(run, now, real_clock, &out);
	else
		run_sql_tool(run, now, real_clock, &out);

	if (strcmp(out.status, "retrying") == 0)
		out.next_attempt_at = retry_time(out.started_at, run->attempt - 1, run->run_id);
	else if (strcmp(out.status, "queued") == 0)
		out.next_attempt_at = out.started_at;	/* claimable from now, in order */
	final = strcmp(out.status, "succeeded") == 0 || strcmp(out.status, "failed") == 0;
	batch_add(batch, run, &out, !retry, next_run_at, final);
}

/*---- one tick: claims, fairness, the per-user time budget ----*/

/* Worker time a user's sql tools took in this tick. */
typedef struct UserTime
{
	pg_uuid_t	user_id;		/* hash key */
	int64		used_us;
	bool		over;			/* over alfred.user_time_budget: left out */
} UserTime;

typedef struct Tick
{
	TimestampTz now;
	bool		real_clock;
	bool		budgeted;		/* the worker: alfred.user_time_budget applies */
	HTAB	   *users;			/* UserTime by user, created on first use */
	List	   *over;			/* user ids (Datum) over the budget */
	bool		more;			/* the last claim filled some user's quota */
} Tick;

static UserTime *
user_time(Tick *tick, Datum user_id)
{
	bool		found;
	UserTime   *ut;

	if (tick->users == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(pg_uuid_t);
		ctl.entrysize = sizeof(UserTime);
		ctl.hcxt = CurrentMemoryContext;
		tick->users = hash_create("alfred tick users", 64, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	ut = hash_search(tick->users, DatumGetUUIDP(user_id), HASH_ENTER, &found);
	if (!found)
	{
		ut->used_us = 0;
		ut->over = false;
	}
	return ut;
}

/* The users over the budget, as the uuid[] the fair claim leaves out. */
static Datum
over_budget_array(const Tick *tick)
{
	int			n = list_length(tick->over);
	Datum	   *ids = palloc((n + 1) * sizeof(Datum));
	int			i = 0;
	ListCell   *lc;

	foreach(lc, tick->over)
		ids[i++] = (Datum) lfirst(lc);
	return PointerGetDatum(construct_array(ids, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
}

/*
 * Claims with plan ($1 now, $2 max, $3 users left out), runs what it claimed
 * in the order claimed and records the batch; returns how many ran.  In the
 * worker, a user whose sql tools took alfred.user_time_budget in this tick
 * is left out from then on: their remaining claimed rows stay due.
 */
static int
claim_and_execute(Tick *tick, SPIPlanPtr plan, int max, bool retry)
{
	Datum		values[3];
	SPITupleTable *claimed;
	uint64		n;
	int			rc;
	int			ran = 0;
	Batch		batch;

	values[0] = TimestampTzGetDatum(tick->now);
	values[1] = Int32GetDatum(max);
	values[2] = over_budget_array(tick);
	rc = execute_hot(plan, values, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "claiming due tasks failed: %s", SPI_result_code_string(rc));
	claimed = SPI_tuptable;
	n = SPI_processed;
	batch_init(&batch, (int) n);
	tick->more = false;
	for (uint64 i = 0; i < n; i++)
	{
		DueRun		run;
		UserTime   *ut = NULL;
		TimestampTz start = 0;

		CHECK_FOR_INTERRUPTS();
		read_claimed(claimed->vals[i], claimed->tupdesc, retry, &run);
		if (tick->budgeted && !run.external)
		{
			ut = user_time(tick, run.user_id);
			if (ut->over)
				continue;		/* stays due: claimed again by a later tick */
			start = GetCurrentTimestamp();
		}
		execute(&run, tick->now, tick->real_clock, retry, &batch);
		ran++;
		if (ut != NULL)
		{
			ut->used_us += GetCurrentTimestamp() - start;
			if (ut->used_us >= (int64) alfred_user_time_budget * 1000)
			{
				ut->over = true;
				tick->over = lappend(tick->over, (void *) run.user_id);
			}
		}
		if (run.capped && (ut == NULL || !ut->over))
			tick->more = true;
	}
	SPI_freetuptable(claimed);
	batch_record(&batch);
	return ran;
}

/* Whether more than max tasks are due as of now (more_due_sql). */
static bool
more_due(TimestampTz now, int max)
{
	Oid			types[2] = {TIMESTAMPTZOID, INT4OID};
	Datum		values[2] = {TimestampTzGetDatum(now), Int32GetDatum(max)};
	bool		isnull;
	bool		more;
	int			rc;

	rc = execute_hot(prepare(&more_due_plan, more_due_sql, 2, types), values, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "counting due tasks failed: %s", SPI_result_code_string(rc));
	more = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return more;
}

/*
 * One tick: due retries (at most half of max while tasks are due), then due
 * tasks in rounds until max ran or no user has more (fairly across users
 * when more are due than the round can take, else all of them in
 * next_run_at order), then retries again with what is left.
 */
int
alfred_scheduler_tick(TimestampTz now, int max)
{
	Oid			types[3] = {TIMESTAMPTZOID, INT4OID, UUIDARRAYOID};
	SPIPlanPtr	retries = prepare(&claim_retries_plan, claim_retries_sql, 3, types);
	SPIPlanPtr	tasks;
	SPIPlanPtr	in_order;
	Tick		tick = {0};
	int			done;
	int			retries_max = max - max / 2;

	scheduler_lock(ShareLock);
	tick.now = now;
	tick.real_clock = alfred_scheduler_in_worker;
	tick.budgeted = alfred_scheduler_in_worker && alfred_user_time_budget > 0;
	in_order = prepare(&claim_tasks_in_order_plan, claim_tasks_in_order_sql, 3, types);
	if (alfred_fair_claim)
		tasks = prepare(&claim_tasks_plan, claim_tasks_sql, 3, types);
	else
	{
		tasks = in_order;
		retries_max = max;
	}

	done = claim_and_execute(&tick, retries, retries_max, true);
	while (done < max)
	{
		int			ran;

		ran = claim_and_execute(&tick, tasks != in_order && more_due(now, max - done) ? tasks : in_order,
								max - done, false);

		done += ran;
		if (!tick.more || ran == 0)
			break;
	}
	if (done < max && retries_max < max)
		done += claim_and_execute(&tick, retries, max - done, true);
	return done;
}

TimestampTz
alfred_scheduler_next_due(void)
{
	bool		isnull;
	Datum		d;
	int			rc = execute_hot(prepare(&next_due_plan, next_due_sql, 0, NULL),
								 NULL, true, 1);

	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "finding the next due task failed: %s", SPI_result_code_string(rc));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetTimestampTz(d);
}

void
alfred_scheduler_settle_crashed(void)
{
	static SPIPlanPtr settle_plan = NULL;
	int			rc;

	scheduler_lock(ShareLock);
	rc = SPI_execute_plan(prepare(&settle_plan,
								  "UPDATE alfred.task_runs SET status = 'failed', "
								  " error = 'the scheduler stopped while the run was in progress', "
								  " finished_at = greatest(started_at, now()) "
								  " WHERE status = 'running' AND lease_until IS NULL",
								  0, NULL),
						  NULL, NULL, false, 0);

	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "settling interrupted runs failed: %s", SPI_result_code_string(rc));
}

/*---- shards: the tick where a Citus cluster placed them ----*/

/*
 * On a Citus cluster (alfred.scheduled_tasks distributed by user_id), a
 * statement that claims rows FOR UPDATE SKIP LOCKED across every user cannot
 * be distributed.  Instead each node ticks the shard placements of
 * scheduled_tasks that Citus placed on it, one shard at a time: the same
 * statements, with every table of the batch named by its local shard of the
 * same shard index (colocated: the same users' rows), or by its local
 * placement for a reference table.  They are plain tables on this node, so
 * FOR UPDATE SKIP LOCKED, the recording CTE and the commit work as on a
 * single node, and no statement leaves the node.
 *
 * Which shards are local is read from Citus's catalogs (pg_dist_shard,
 * pg_dist_placement, pg_dist_local_group), not from a distributed query.  A
 * shard move (citus_move_shard_placement, the rebalancer) blocks writes by
 * taking its shards' metadata lock in ExclusiveLock mode on every node
 * before its last catch-up and holds it until the placement metadata says
 * where the shard now lives.  A tick of a shard takes the same lock in
 * ShareLock mode, as Citus's own writes do, and only then reads whether the
 * placement is still on this node: a tick either ends (and commits, and is
 * replicated) before the move's last catch-up, or starts after it and finds
 * the shard gone.  So a task is claimed by one node only, and a moved shard
 * is served by its new node from that node's next cycle.
 *
 * That holds only if a tick's commit is in the WAL the move replicates: the
 * move's last catch-up waits for the source node's WAL *write* position,
 * read just after it got the lock.  With synchronous_commit = off a commit
 * record can still sit in the WAL buffers then (until the WAL writer's next
 * round), the new node never receives that batch, and runs it again.  So a
 * tick in a shard always commits synchronously (to the local WAL at least):
 * its commit is written before its lock is released.  Only transactions
 * that wrote anything flush; an idle shard's tick costs nothing.
 */

/* The tables the tick's statements name, as "alfred.<name>" (SHARDED_TABLES). */
static const char *const sharded_tables[] = {
	"scheduled_tasks", "task_runs", "notifications", "user_settings", "users", "tools"
};

#define SHARDED_TABLES lengthof(sharded_tables)
/* Statements of a tick, each with its own copy per shard. */
#define SHARD_PLANS 16

/* One local shard of scheduled_tasks: its colocated tables' names and plans. */
typedef struct ShardScope
{
	int64		shardid;		/* hash key: scheduled_tasks' shard */
	char	   *names[SHARDED_TABLES];	/* qualified local names, TopMemoryContext */
	int			nplans;
	SPIPlanPtr *keys[SHARD_PLANS];	/* the single-node plan slot it stands for */
	SPIPlanPtr	plans[SHARD_PLANS];
} ShardScope;

/* The shard the tick runs in (NULL: every row, no Citus). */
static ShardScope *current_shard = NULL;
static HTAB *shard_scopes = NULL;

/* In a shard, the shard's own plan slot for the statement of *plan. */
static SPIPlanPtr *
shard_plan_slot(SPIPlanPtr *plan)
{
	ShardScope *s = current_shard;

	if (s == NULL)
		return plan;
	for (int i = 0; i < s->nplans; i++)
		if (s->keys[i] == plan)
			return &s->plans[i];
	if (s->nplans >= SHARD_PLANS)
		elog(ERROR, "too many scheduler statements for shard " INT64_FORMAT, s->shardid);
	s->keys[s->nplans] = plan;
	s->plans[s->nplans] = NULL;
	return &s->plans[s->nplans++];
}

/*
 * In a shard, sql with each table of sharded_tables replaced by its local
 * shard's name (table_refs.c says what a reference is).
 */
static char *
shard_sql(const char *sql)
{
	StringInfoData out;
	size_t		from = 0;
	long		at;
	int			which;
	size_t		len;

	if (current_shard == NULL)
		return (char *) sql;
	initStringInfo(&out);
	while ((at = alfred_next_table_ref(sql, from, "alfred", sharded_tables, SHARDED_TABLES,
									   &which, &len)) >= 0)
	{
		appendBinaryStringInfo(&out, sql + from, (int) (at - from));
		appendStringInfoString(&out, current_shard->names[which]);
		from = (size_t) at + len;
	}
	appendStringInfoString(&out, sql + from);
	return out.data;
}

/* The value of a one-row, one-column catalog query (NULL: no row or NULL). */
static char *
catalog_value(const char *sql, int nargs, Oid *types, Datum *values)
{
	char	   *value = NULL;
	int			rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 1);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading Citus's catalogs failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
		value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	SPI_freetuptable(SPI_tuptable);
	return value;
}

/*
 * Whether alfred.scheduled_tasks is a hash-distributed Citus table here
 * (Citus's catalog says so; on a node without Citus, false).  Every tick's
 * caller asks alfred_scheduler_sharded first, which also leaves any shard an
 * error left current; alfred.scheduler_is_sharded() (claim_runs) only asks.
 */
static bool
scheduled_tasks_distributed(void)
{
	char	   *v;

	v = catalog_value("SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL "
					  "   AND to_regclass('pg_catalog.pg_dist_local_group') IS NOT NULL",
					  0, NULL, NULL);
	if (v == NULL || strcmp(v, "t") != 0)
		return false;
	v = catalog_value("SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p "
					  "                WHERE p.logicalrelid = 'alfred.scheduled_tasks'::regclass "
					  "                  AND p.partmethod = 'h')",
					  0, NULL, NULL);
	return v != NULL && strcmp(v, "t") == 0;
}

bool
alfred_scheduler_sharded(void)
{
	/* every caller starts here: out of the shard an error may have left */
	current_shard = NULL;
	/*
	 * Under the scheduler's lock (held to the transaction's end): the answer
	 * holds for this transaction's tick, as distribute() cannot run between
	 * them (a tick planned for a plain table met a distributed one).
	 */
	scheduler_lock(ShareLock);

	/*
	 * And with the table locked, as PostgreSQL reads a table's catalog
	 * entries.  On a worker node, distribute() replaces the table with Citus's
	 * shell in a prepared transaction whose COMMIT PREPARED makes the new
	 * catalogs visible a moment (tens of milliseconds, dropping files) before
	 * it sends the invalidations that Citus's metadata cache in this backend
	 * waits for: read in that moment, the catalogs said "distributed" and the
	 * cache, in the next transaction, "not distributed".  The commit holds the
	 * tables it replaced until its invalidations are sent.
	 */
	(void) RangeVarGetRelidExtended(makeRangeVar("alfred", "scheduled_tasks", -1),
									AccessShareLock, RVR_MISSING_OK, NULL, NULL);
	return scheduled_tasks_distributed();
}

/*
 * The scheduler's lock (an advisory lock of this database): every tick holds
 * it shared for its transaction, and alfred.distribute() takes it exclusively
 * first, so that no tick holds locks on tables distribute() alters: the two
 * would otherwise deadlock, each holding a table the other waits for.
 */
#define SCHEDULER_LOCK_KEY1 0x616c6672	/* "alfr" */
#define SCHEDULER_LOCK_KEY2 1

static void
scheduler_lock(LOCKMODE mode)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, SCHEDULER_LOCK_KEY1, SCHEDULER_LOCK_KEY2, 2);
	(void) LockAcquire(&tag, mode, false, false);
}

PG_FUNCTION_INFO_V1(alfred_lock_scheduler);
Datum
alfred_lock_scheduler(PG_FUNCTION_ARGS)
{
	scheduler_lock(ExclusiveLock);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(alfred_scheduler_is_sharded);
Datum
alfred_scheduler_is_sharded(PG_FUNCTION_ARGS)
{
	bool		sharded;

	SPI_connect();
	sharded = scheduled_tasks_distributed();
	SPI_finish();
	PG_RETURN_BOOL(sharded);
}

/*
 * The shards of scheduled_tasks placed on this node, in hash order: a list
 * of int64 allocated in mcxt.
 */
List *
alfred_scheduler_local_shards(MemoryContext mcxt)
{
	List	   *shards = NIL;
	int			rc;

	rc = SPI_execute("SELECT s.shardid FROM pg_catalog.pg_dist_shard s "
					 "  JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid "
					 " WHERE s.logicalrelid = 'alfred.scheduled_tasks'::regclass "
					 "   AND p.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g) "
					 " ORDER BY s.shardminvalue::int",
					 false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading the local shards failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		MemoryContext old = MemoryContextSwitchTo(mcxt);
		int64	   *id = palloc(sizeof(int64));

		*id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		shards = lappend(shards, id);
		MemoryContextSwitchTo(old);
	}
	SPI_freetuptable(SPI_tuptable);
	return shards;
}

/*
 * The local names of sharded_tables for the shard: the colocated shard of
 * the same hash range for a distributed table, the local placement for a
 * reference table, the table itself when Citus does not know it.  No rows
 * when the shard is not (or no longer) placed here.
 */
static const char *resolve_sql =
"WITH here AS (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g), "
"a AS (SELECT s.shardminvalue, pt.colocationid FROM pg_catalog.pg_dist_shard s "
"        JOIN pg_catalog.pg_dist_partition pt ON pt.logicalrelid = s.logicalrelid "
"       WHERE s.shardid = $1 AND EXISTS (SELECT FROM pg_catalog.pg_dist_placement p, here "
"                                          WHERE p.shardid = s.shardid AND p.groupid = here.groupid)) "
"SELECT n.name, CASE "
"         WHEN pt.logicalrelid IS NULL THEN r.rel::text "
"         WHEN pt.partmethod = 'h' AND pt.colocationid <> a.colocationid THEN NULL "
"         ELSE (SELECT pg_catalog.shard_name(pt.logicalrelid, s.shardid) "
"                 FROM pg_catalog.pg_dist_shard s "
"                 JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid, here "
"                WHERE s.logicalrelid = pt.logicalrelid AND p.groupid = here.groupid "
"                  AND (pt.partmethod <> 'h' OR s.shardminvalue = a.shardminvalue) LIMIT 1) "
"       END "
"  FROM a CROSS JOIN unnest($2::text[]) WITH ORDINALITY AS n (name, i) "
"  CROSS JOIN LATERAL (SELECT ('alfred.' || n.name)::regclass AS rel) r "
"  LEFT JOIN pg_catalog.pg_dist_partition pt ON pt.logicalrelid = r.rel "
" ORDER BY n.i";

/*
 * Makes the tick run in the local shard shardid of scheduled_tasks (with its
 * colocated shards) until alfred_scheduler_leave_shard: takes the shard's
 * metadata lock in ShareLock mode for the rest of the transaction (see
 * above), then reads its placement.  False, and nothing to tick, when the
 * shard is no longer placed on this node.
 */
bool
alfred_scheduler_enter_shard(int64 shardid)
{
	Datum		tables[SHARDED_TABLES];
	Oid			types[2] = {INT8OID, TEXTARRAYOID};
	Datum		values[2];
	Datum		lockargs[1];
	Oid			locktypes[1] = {INT8OID};
	ShardScope *scope;
	bool		found;
	int			rc;

	current_shard = NULL;
	/* as the tables' owner: Citus lets only owners lock shard metadata */
	{
		Oid			save_userid;
		int			save_sec;

		GetUserIdAndSecContext(&save_userid, &save_sec);
		SetUserIdAndSecContext(alfred_tables_owner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
		lockargs[0] = Int64GetDatum(shardid);
		rc = SPI_execute_with_args(psprintf("SELECT pg_catalog.lock_shard_metadata(%d, ARRAY[$1])",
											ShareLock),
								   1, locktypes, lockargs, NULL, false, 1);
		SetUserIdAndSecContext(save_userid, save_sec);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "locking shard " INT64_FORMAT " failed: %s", shardid,
				 SPI_result_code_string(rc));
	}

	for (int i = 0; i < (int) SHARDED_TABLES; i++)
		tables[i] = CStringGetTextDatum(sharded_tables[i]);
	values[0] = Int64GetDatum(shardid);
	values[1] = PointerGetDatum(construct_array(tables, SHARDED_TABLES, TEXTOID, -1, false, TYPALIGN_INT));
	rc = SPI_execute_with_args(resolve_sql, 2, types, values, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading the placement of shard " INT64_FORMAT " failed: %s", shardid,
			 SPI_result_code_string(rc));
	if (SPI_processed == 0)
	{
		SPI_freetuptable(SPI_tuptable);
		return false;			/* moved away: its new node serves it */
	}
	if (SPI_processed != SHARDED_TABLES)
		elog(ERROR, "shard " INT64_FORMAT " resolved to %d tables", shardid, (int) SPI_processed);

	if (shard_scopes == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(ShardScope);
		ctl.hcxt = TopMemoryContext;
		shard_scopes = hash_create("alfred scheduler shards", 64, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	scope = hash_search(shard_scopes, &shardid, HASH_ENTER, &found);
	if (!found)
	{
		memset(scope->names, 0, sizeof(scope->names));
		scope->nplans = 0;
	}
	for (int i = 0; i < (int) SHARDED_TABLES; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

		if (name == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("table \"alfred.%s\" is not colocated with \"alfred.scheduled_tasks\"",
							sharded_tables[i]),
					 errdetail("The scheduler ticks each shard of scheduled_tasks on its node with the shards of the same users of every table it writes."),
					 errhint("Distribute it by user_id in the colocation group of scheduled_tasks, or make it a reference table.")));
		if (scope->names[i] == NULL || strcmp(scope->names[i], name) != 0)
		{
			/* a new name (the shard came back, split): plan again */
			if (scope->names[i] != NULL)
				pfree(scope->names[i]);
			scope->names[i] = MemoryContextStrdup(TopMemoryContext, name);
			for (int j = 0; j < scope->nplans; j++)
				if (scope->plans[j] != NULL)
					SPI_freeplan(scope->plans[j]);
			scope->nplans = 0;
		}
	}
	SPI_freetuptable(SPI_tuptable);
	ForceSyncCommit();			/* written before the lock goes (see above) */
	current_shard = scope;
	return true;
}

/* Back to every row (the shard's lock is held until the transaction ends). */
void
alfred_scheduler_leave_shard(void)
{
	current_shard = NULL;
}

/*---- alfred.run_due_tasks ----*/

/*
 * A tick with a "now" of the caller's choosing runs and moves every user's
 * tasks: a test and operations tool, for superusers, members of
 * alfred_service and alfred admins only (42501 for anyone else).
 */
static void
require_tick_privilege(void)
{
	bool		isnull;
	Datum		allowed;
	int			rc = SPI_execute("SELECT alfred.caller_is_service() "
								 "    OR alfred.current_user_role() IS NOT DISTINCT FROM 'admin'",
								 true, 1);

	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "checking the caller of run_due_tasks failed: %s", SPI_result_code_string(rc));
	allowed = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	SPI_freetuptable(SPI_tuptable);
	if (isnull || !DatumGetBool(allowed))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to run a scheduler tick"),
				 errdetail("run_due_tasks runs every user's due tasks as of a time of the caller's choosing."),
				 errhint("Only superusers, members of role alfred_service and alfred admins may call it; the background worker ticks on its own.")));
}

/* Ticks in batches of alfred.batch_size until max ran or a batch comes back short. */
static int
tick_until(TimestampTz now, int max)
{
	int			total = 0;

	while (total < max)
	{
		int			batch = Min(max - total, alfred_batch_size);
		int			done = alfred_scheduler_tick(now, batch);

		total += done;
		if (done < batch)
			break;
	}
	return total;
}

PG_FUNCTION_INFO_V1(alfred_run_due_tasks);
Datum
alfred_run_due_tasks(PG_FUNCTION_ARGS)
{
	TimestampTz now = PG_ARGISNULL(0) ? GetCurrentTransactionStartTimestamp()
		: PG_GETARG_TIMESTAMPTZ(0);
	int			max = PG_ARGISNULL(1) ? INT_MAX : PG_GETARG_INT32(1);
	int			total = 0;
	Oid			save_userid;
	int			save_sec;

	if (max < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max must not be negative"),
				 errdetail("max was %d.", max)));
	alfred_check_time("now", now);
	SPI_connect();
	require_tick_privilege();

	/*
	 * The tick runs as the background worker's does, with the rights of
	 * alfred's tables' owner: every user's due tasks.  A service role has no
	 * alfred identity, and row-level security would show it none.  Who may
	 * call this was checked above, as the caller.
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(alfred_tables_owner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	if (!alfred_scheduler_sharded())
		total = tick_until(now, max);
	else
	{
		/* on a Citus cluster: the shards placed on this node, one after another */
		List	   *shards = alfred_scheduler_local_shards(CurrentMemoryContext);
		ListCell   *lc;

		foreach(lc, shards)
		{
			if (total >= max)
				break;
			if (!alfred_scheduler_enter_shard(*(int64 *) lfirst(lc)))
				continue;
			total += tick_until(now, max - total);
			alfred_scheduler_leave_shard();
		}
	}
	SetUserIdAndSecContext(save_userid, save_sec);
	SPI_finish();
	PG_RETURN_INT32(total);
}

/*---- settings ----*/

/* Called from _PG_init: the settings of a tick, reloadable. */
void
alfred_scheduler_init(void)
{
	DefineCustomIntVariable("alfred.batch_size",
							"Maximum number of due tasks a worker claims per transaction.",
							NULL,
							&alfred_batch_size,
							100, 1, 10000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("alfred.retry_base_delay",
							"Base delay of the exponential backoff between retries of a failed run.",
							NULL,
							&alfred_retry_base_delay,
							1000, 1, 86400000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
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
}
