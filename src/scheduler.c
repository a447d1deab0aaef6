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
 * Each run is recorded by one statement (a CTE writing the notification,
 * the run and the task), prepared once per backend.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "alfred.h"
#include "alfred_json.h"
#include "cron_sql.h"
#include "scheduler.h"

bool		alfred_scheduler_in_worker = false;

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
static SPIPlanPtr claim_retries_plan = NULL;
static SPIPlanPtr record_plan = NULL;
static SPIPlanPtr next_due_plan = NULL;

static SPIPlanPtr
prepare(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, argtypes);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		*plan = p;
	}
	return *plan;
}

#define CLAIM_COLUMNS \
	"t.user_id, t.id, t.name, t.tool_name, t.tool_args, t.schedule_cron, t.timezone, " \
	"t.max_retries, tl.kind = 'external', tl.fn::oid, t.prompt_template, " \
	"CASE WHEN tl.kind = 'external' AND t.prompt_template <> '' " \
	"     THEN alfred.task_prompt_context(t) END "

static const char *claim_tasks_sql =
"SELECT " CLAIM_COLUMNS ", t.next_run_at "
"  FROM alfred.scheduled_tasks t "
"  JOIN alfred.tools tl ON tl.name = t.tool_name "
" WHERE t.status = 'active' AND t.next_run_at <= $1 "
" ORDER BY t.next_run_at "
" LIMIT $2 "
"   FOR UPDATE OF t SKIP LOCKED";

static const char *claim_retries_sql =
"SELECT " CLAIM_COLUMNS ", r.due_at, r.id, r.attempt + 1, r.missed_slots "
"  FROM alfred.task_runs r "
"  JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id "
"  JOIN alfred.tools tl ON tl.name = t.tool_name "
" WHERE r.status = 'retrying' AND r.next_attempt_at <= $1 "
"   AND tl.kind = 'sql' AND t.status = 'active' "
" ORDER BY r.next_attempt_at "
" LIMIT $2 "
"   FOR UPDATE OF r SKIP LOCKED";

/*
 * Records one attempt: $1 user, $2 task, $3 run id (NULL: a new run),
 * $4 status, $5 result, $6 error, $7 started_at, $8 duration_ms,
 * $9 attempt, $10 due_at, $11 missed, $12 next_attempt_at, $13 prompt,
 * $14 advance the task (a new slot), $15 its next_run_at, $16 final
 * (counts and notification), $17 task name.  The notification is
 * alfred.run_notification's, shared with the agent API.
 */
static const char *record_sql =
"WITH ids AS ( "
"  SELECT coalesce($3, gen_random_uuid()) AS run_id "
"), note AS ( "
"  SELECT alfred.run_notification($1, $2, run_id, $17, $4, $5, $6, "
"                                 $7 + make_interval(secs => $8 / 1000.0)) AS id "
"    FROM ids WHERE $16 "
"), run AS ( "
"  INSERT INTO alfred.task_runs AS tr (user_id, id, task_id, status, attempt, due_at, started_at, "
"         finished_at, duration_ms, missed_slots, prompt, result, error, notification_id, "
"         next_attempt_at) "
"  SELECT $1, ids.run_id, $2, $4, $9, $10, $7, "
"         CASE WHEN $4 IN ('succeeded', 'failed') "
"              THEN $7 + make_interval(secs => $8 / 1000.0) END, "
"         CASE WHEN $4 = 'queued' THEN NULL ELSE $8 END, $11, $13, $5, $6, "
"         (SELECT id FROM note), $12 "
"    FROM ids "
"  ON CONFLICT (user_id, id) DO UPDATE SET status = excluded.status, attempt = excluded.attempt, "
"         started_at = excluded.started_at, finished_at = excluded.finished_at, "
"         duration_ms = excluded.duration_ms, result = excluded.result, error = excluded.error, "
"         notification_id = excluded.notification_id, next_attempt_at = excluded.next_attempt_at "
"  RETURNING id, notification_id "
"), task AS ( "
"  UPDATE alfred.scheduled_tasks SET "
"         next_run_at = CASE WHEN $14 THEN $15 ELSE next_run_at END, "
"         status = CASE WHEN $16 AND task_type = 'one_time' THEN 'completed' ELSE status END, "
"         last_run_at = CASE WHEN $14 THEN $7 ELSE last_run_at END, "
"         run_count = run_count + CASE WHEN $16 AND $4 = 'succeeded' THEN 1 ELSE 0 END, "
"         fail_count = fail_count + CASE WHEN $16 AND $4 = 'failed' THEN 1 ELSE 0 END "
"   WHERE user_id = $1 AND id = $2 "
") "
"SELECT id, notification_id FROM run";

static const char *next_due_sql =
"SELECT least((SELECT min(next_run_at) FROM alfred.scheduled_tasks "
"               WHERE status = 'active' AND next_run_at IS NOT NULL), "
"             (SELECT min(r.next_attempt_at) FROM alfred.task_runs r "
"                JOIN alfred.scheduled_tasks t ON t.user_id = r.user_id AND t.id = r.task_id "
"                JOIN alfred.tools tl ON tl.name = t.tool_name "
"               WHERE r.status = 'retrying' AND tl.kind = 'sql' AND t.status = 'active'))";

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

/* Columns 1..12 are CLAIM_COLUMNS; 13 is the due time; 14.. the retry's. */
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
	if (retry)
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
	TimestampTz slot;

	*missed = 0;
	if (run->cron == NULL)
		return 0;
	slot = alfred_cron_next_timestamptz(run->cron, run->due, run->timezone);
	while (slot <= now && *missed < MAX_MISSED_COUNT)
	{
		(*missed)++;
		slot = alfred_cron_next_timestamptz(run->cron, slot, run->timezone);
	}
	if (slot <= now)
		slot = alfred_cron_next_timestamptz(run->cron, now, run->timezone);
	return TIMESTAMP_IS_NOEND(slot) ? 0 : slot;	/* 0: no slot ever again */
}

/*
 * Exponential backoff with jitter: base × 2^attempt, plus up to a quarter
 * more, the jitter derived from the run id so a tick is reproducible.
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
	return now + (TimestampTz) (delay * 1000.0);
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

/* Renders the prompt of an external run; a template error fails the run. */
static void
queue_external(const DueRun *run, TimestampTz now, bool real_clock, Outcome *out)
{
	MemoryContext caller_context = CurrentMemoryContext;

	out->started_at = real_clock ? GetCurrentTimestamp() : now;
	out->status = "queued";
	if (!run->has_context)
		return;
	PG_TRY();
	{
		out->prompt = alfred_render_template(run->prompt_template,
											 strlen(run->prompt_template),
											 DatumGetJsonbP(run->context));
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller_context);
		edata = CopyErrorData();
		FlushErrorState();
		out->status = "failed";
		out->error = psprintf("%s: %s", edata->message, edata->detail ? edata->detail : "");
	}
	PG_END_TRY();
}

/*---- recording ----*/

static void
record(const DueRun *run, const Outcome *out, bool advance, TimestampTz next_run_at,
	   int missed, bool final)
{
	Oid			types[17] = {UUIDOID, UUIDOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID,
							 TIMESTAMPTZOID, INT4OID, INT4OID, TIMESTAMPTZOID, INT4OID,
							 TIMESTAMPTZOID, TEXTOID, BOOLOID, TIMESTAMPTZOID, BOOLOID, TEXTOID};
	Datum		values[17];
	char		nulls[17];
	int			rc;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = run->user_id;
	values[1] = run->task_id;
	values[2] = run->run_id;
	nulls[2] = run->run_id == (Datum) 0 ? 'n' : ' ';
	values[3] = CStringGetTextDatum(out->status);
	values[4] = out->result ? CStringGetTextDatum(out->result) : (Datum) 0;
	nulls[4] = out->result ? ' ' : 'n';
	values[5] = out->error ? CStringGetTextDatum(out->error) : (Datum) 0;
	nulls[5] = out->error ? ' ' : 'n';
	values[6] = TimestampTzGetDatum(out->started_at);
	values[7] = Int32GetDatum(out->duration_ms);
	values[8] = Int32GetDatum(run->attempt);
	values[9] = TimestampTzGetDatum(run->due);
	values[10] = Int32GetDatum(missed);
	values[11] = TimestampTzGetDatum(out->next_attempt_at);
	nulls[11] = out->next_attempt_at ? ' ' : 'n';
	values[12] = out->prompt ? CStringGetTextDatum(out->prompt) : (Datum) 0;
	nulls[12] = out->prompt ? ' ' : 'n';
	values[13] = BoolGetDatum(advance);
	values[14] = TimestampTzGetDatum(next_run_at);
	nulls[14] = next_run_at ? ' ' : 'n';
	values[15] = BoolGetDatum(final);
	values[16] = CStringGetTextDatum(run->name);

	rc = SPI_execute_plan(prepare(&record_plan, record_sql, 17, types), values, nulls, false, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "recording a run of task \"%s\" failed: %s", run->name, SPI_result_code_string(rc));
	if (final)
	{
		bool		isnull;
		Datum		note = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

		if (!isnull)
			Async_Notify("alfred_notifications",
						 psprintf("{\"user_id\":\"%s\",\"notification_id\":\"%s\"}",
								  DatumGetCString(DirectFunctionCall1(uuid_out, run->user_id)),
								  DatumGetCString(DirectFunctionCall1(uuid_out, note))));
	}
	else if (strcmp(out->status, "queued") == 0)
		Async_Notify("alfred_runs",
					 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
}

/* Runs (or queues) one claimed row and records it. */
static void
execute(DueRun *run, TimestampTz now, bool real_clock, bool retry)
{
	Outcome		out = {0};
	TimestampTz next_run_at = 0;
	int			missed = run->missed;
	bool		final;

	if (!retry)
		next_run_at = next_slot(run, now, &missed);
	if (run->external)
		queue_external(run, now, real_clock, &out);
	else
		run_sql_tool(run, now, real_clock, &out);

	if (strcmp(out.status, "retrying") == 0)
	{
		if (run->run_id == (Datum) 0)
			run->run_id = DirectFunctionCall1(gen_random_uuid, (Datum) 0);
		out.next_attempt_at = retry_time(out.started_at, run->attempt - 1, run->run_id);
	}
	else if (strcmp(out.status, "queued") == 0)
		out.next_attempt_at = out.started_at;	/* claimable from now, in order */
	final = strcmp(out.status, "succeeded") == 0 || strcmp(out.status, "failed") == 0;
	run->missed = missed;
	record(run, &out, !retry, next_run_at, missed, final);
}

static int
claim_and_execute(SPIPlanPtr plan, TimestampTz now, int max, bool real_clock, bool retry)
{
	Datum		values[2] = {TimestampTzGetDatum(now), Int32GetDatum(max)};
	SPITupleTable *claimed;
	uint64		n;
	int			rc;

	rc = SPI_execute_plan(plan, values, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "claiming due tasks failed: %s", SPI_result_code_string(rc));
	claimed = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		DueRun		run;

		CHECK_FOR_INTERRUPTS();
		read_claimed(claimed->vals[i], claimed->tupdesc, retry, &run);
		execute(&run, now, real_clock, retry);
	}
	SPI_freetuptable(claimed);
	return (int) n;
}

int
alfred_scheduler_tick(TimestampTz now, int max)
{
	Oid			types[2] = {TIMESTAMPTZOID, INT4OID};
	bool		real_clock = alfred_scheduler_in_worker;
	int			done;

	done = claim_and_execute(prepare(&claim_retries_plan, claim_retries_sql, 2, types),
							 now, max, real_clock, true);
	if (done < max)
		done += claim_and_execute(prepare(&claim_tasks_plan, claim_tasks_sql, 2, types),
								  now, max - done, real_clock, false);
	return done;
}

TimestampTz
alfred_scheduler_next_due(void)
{
	bool		isnull;
	Datum		d;
	int			rc = SPI_execute_plan(prepare(&next_due_plan, next_due_sql, 0, NULL),
									  NULL, NULL, true, 1);

	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "finding the next due task failed: %s", SPI_result_code_string(rc));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetTimestampTz(d);
}

void
alfred_scheduler_settle_crashed(TimestampTz now)
{
	int			rc = SPI_execute("UPDATE alfred.task_runs SET status = 'failed', "
								 " error = 'the scheduler stopped while the run was in progress', "
								 " finished_at = greatest(started_at, now()) "
								 " WHERE status = 'running' AND lease_until IS NULL",
								 false, 0);

	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "settling interrupted runs failed: %s", SPI_result_code_string(rc));
}

/*---- alfred.run_due_tasks ----*/

PG_FUNCTION_INFO_V1(alfred_run_due_tasks);
Datum
alfred_run_due_tasks(PG_FUNCTION_ARGS)
{
	TimestampTz now = PG_ARGISNULL(0) ? GetCurrentTransactionStartTimestamp()
		: PG_GETARG_TIMESTAMPTZ(0);
	int			max = PG_ARGISNULL(1) ? INT_MAX : PG_GETARG_INT32(1);
	int			total = 0;

	if (max < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max must not be negative"),
				 errdetail("max was %d.", max)));
	SPI_connect();
	while (total < max)
	{
		int			batch = Min(max - total, alfred_batch_size);
		int			done = alfred_scheduler_tick(now, batch);

		total += done;
		if (done < batch)
			break;
	}
	SPI_finish();
	PG_RETURN_INT32(total);
}
