/*-------------------------------------------------------------------------
 *
 * scheduler_guard.c
 *		What tenants may do to the scheduler's tables and how much: the
 *		per-user limits on scheduled tasks (settings), and the guard
 *		trigger of alfred.task_runs.
 *
 * A run records what the scheduler or an agent did; a tenant must not be
 * able to forge it.  task_runs_guard (BEFORE INSERT OR UPDATE) lets a row be
 * written by the scheduler's own recording statement (a backend-local flag
 * set by src/scheduler.c around it), by a trusted role (a superuser or a
 * member of alfred_service: the worker, agents through claim_runs,
 * complete_run and fail_run, a DBA, pg_restore), and with the rights of
 * the table's owner (alfred's SECURITY DEFINER functions, and foreign key
 * actions such as ON DELETE SET NULL of notification_id).  Anyone else may only cancel a run that has not ended (cancel_task): no
 * new runs, no results, no other change.  The rule depends on who writes,
 * not on the bodies of the functions that write.
 *
 * The limits (alfred.max_active_tasks, alfred.min_task_interval,
 * alfred.max_tool_args) are read by the scheduled_tasks_policy trigger of
 * migrations/0.2/300_scheduler.sql.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/rel.h"

#include "alfred.h"
#include "scheduler.h"

/*---- GUC variables ----*/
static int	alfred_max_active_tasks = 1000;
static int	alfred_min_task_interval = 60;
static int	alfred_max_tool_args = 65536;

/* True while the scheduler's own statement records a batch of runs. */
bool		alfred_scheduler_recording = false;

void
alfred_scheduler_guard_init(void)
{
	DefineCustomIntVariable("alfred.max_active_tasks",
							"Active scheduled tasks a user may have.",
							"Enforced when a task is scheduled or becomes active again, by any write. Zero disables the limit.",
							&alfred_max_active_tasks,
							1000, 0, PG_INT32_MAX,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("alfred.min_task_interval",
							"Shortest time between two runs of a user's recurring scheduled task.",
							"A cron expression whose fire times come closer than this is refused. Zero disables the limit.",
							&alfred_min_task_interval,
							60, 0, PG_INT32_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("alfred.max_tool_args",
							"Largest tool_args of a user's scheduled task, as JSON text.",
							"Zero disables the limit.",
							&alfred_max_tool_args,
							65536, 0, PG_INT32_MAX,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);
}

/*---- The task_runs guard ----*/

extern Datum alfred_caller_is_service(PG_FUNCTION_ARGS);

static bool
caller_is_service(void)
{
	LOCAL_FCINFO(fcinfo, 0);

	InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
	return DatumGetBool(alfred_caller_is_service(fcinfo));
}

/* Columns a cancellation (cancel_task) writes besides status. */
static const char *const cancel_columns[] = {
	"status", "lease_until", "next_attempt_at", "finished_at", "duration_ms", "updated_at"
};

static bool
is_cancel_column(const char *name)
{
	for (size_t i = 0; i < lengthof(cancel_columns); i++)
		if (strcmp(name, cancel_columns[i]) == 0)
			return true;
	return false;
}

/* The first column other than updated_at (or the cancel columns) that changed, or NULL. */
static const char *
changed_column(HeapTuple oldtup, HeapTuple newtup, TupleDesc desc, bool cancelling)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		oldnull,
					newnull;
		Datum		oldval,
					newval;

		if (att->attisdropped || strcmp(NameStr(att->attname), "updated_at") == 0 ||
			(cancelling && is_cancel_column(NameStr(att->attname))))
			continue;
		oldval = heap_getattr(oldtup, i + 1, desc, &oldnull);
		newval = heap_getattr(newtup, i + 1, desc, &newnull);
		if (oldnull != newnull ||
			(!oldnull && !datumIsEqual(oldval, newval, att->attbyval, att->attlen)))
			return NameStr(att->attname);
	}
	return NULL;
}

PG_FUNCTION_INFO_V1(alfred_task_runs_guard);
Datum
alfred_task_runs_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	newtup;
	char	   *task;
	const char *column;
	bool		cancelling;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		elog(ERROR, "alfred_task_runs_guard must fire BEFORE INSERT OR UPDATE FOR EACH ROW");

	desc = trigdata->tg_relation->rd_att;
	newtup = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple
		: trigdata->tg_trigtuple;
	if (alfred_scheduler_recording || caller_is_service() ||
		has_privs_of_role(GetUserId(), trigdata->tg_relation->rd_rel->relowner))
		return PointerGetDatum(newtup);

	task = SPI_getvalue(newtup, desc, SPI_fnumber(desc, "task_id"));
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 task ?
				 errmsg("permission denied to record a run of scheduled task \"%s\"", task) :
				 errmsg("permission denied to record a run without a scheduled task"),
				 errdetail("Runs are recorded by the scheduler and by agents (claim_runs, complete_run, fail_run)."),
				 errhint("Use alfred.run_task_now() to make a task due now.")));

	{
		int			status_att = SPI_fnumber(desc, "status");
		char	   *from = SPI_getvalue(trigdata->tg_trigtuple, desc, status_att);
		char	   *to = SPI_getvalue(newtup, desc, status_att);

		cancelling = from && to && strcmp(from, to) != 0 && strcmp(to, "cancelled") == 0 &&
			(strcmp(from, "queued") == 0 || strcmp(from, "running") == 0 ||
			 strcmp(from, "retrying") == 0);
		column = changed_column(trigdata->tg_trigtuple, newtup, desc, cancelling);
		if (column == NULL && !cancelling && from && to && strcmp(from, to) != 0)
			column = "status";
	}
	if (column != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 task ?
				 errmsg("permission denied to change column \"%s\" of a run of scheduled task \"%s\"",
						column, task) :
				 errmsg("permission denied to change column \"%s\" of a run without a scheduled task",
						column),
				 errdetail("A run's outcome is written by the scheduler and by agents (complete_run, fail_run); its user may only cancel it (cancel_task)."),
				 errhint("Use alfred.cancel_task() to stop a task and its runs.")));
	return PointerGetDatum(newtup);
}
