/*-------------------------------------------------------------------------
 *
 * proposal_guard.c
 *		The guard triggers of status machines: a row's status changes only
 *		along its machine's transitions (src/core/machine.h), and the
 *		columns that record the machine's history change only with it.
 *		Two tables use it: alfred.proposals (the machine of
 *		src/core/proposal.c) and alfred.scheduled_tasks (the machine of
 *		src/core/machine.c).
 *
 * BEFORE UPDATE, FOR EACH ROW.  A status change that the machine does not
 * allow raises 55000 naming both statuses, so neither the SQL API nor a
 * DBA in psql can corrupt a row's state.  For proposals, entering a status
 * stamps its timestamp (approved_at, rejected_at, executed_at, ...) with the
 * clock and entering executing counts an attempt; callers cannot write those
 * columns, nor change the proposal's action and payload after it was made.
 * A scheduled task keeps its id and created_at.  Columns the table does not
 * have are skipped.  updated_at is the schema's
 * touch_updated_at trigger's, and user_id its tenant_key_immutable's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/datum.h"
#include "utils/timestamp.h"

#include "alfred.h"
#include "machine.h"
#include "proposal.h"
#include "row.h"

/* How the machine treats one column. */
typedef enum ColumnRule
{
	STAMP,						/* set to the clock when entering an owner status */
	COUNT,						/* incremented when entering an owner status */
	DECISION,					/* the caller's value, when entering an owner status */
	FROZEN						/* never changes */
} ColumnRule;

#define ST(s) (1u << ALFRED_PROPOSAL_##s)

typedef struct MachineColumn
{
	const char *name;
	ColumnRule	rule;
	unsigned	owners;			/* statuses (bit set) whose entry writes it */
	unsigned	clears;			/* statuses whose entry sets it to NULL */
	const char *owners_text;	/* for the error detail */
} MachineColumn;

static const MachineColumn proposal_columns[] = {
	{"approved_at", STAMP, ST(APPROVED), 0, "approved"},
	{"rejected_at", STAMP, ST(REJECTED), 0, "rejected"},
	{"expired_at", STAMP, ST(EXPIRED), 0, "expired"},
	{"started_at", STAMP, ST(EXECUTING), 0, "executing"},
	{"executed_at", STAMP, ST(EXECUTED), 0, "executed"},
	{"failed_at", STAMP, ST(FAILED), 0, "failed"},
	{"attempts", COUNT, ST(EXECUTING), 0, "executing"},
	/*
	 * Rejecting an approved proposal keeps approved_by: both decisions are
	 * part of its history, so a proposal may carry both.
	 */
	{"approved_by", DECISION, ST(APPROVED), 0, "approved"},
	{"rejected_by", DECISION, ST(REJECTED), 0, "rejected"},
	{"edited_payload", DECISION, ST(APPROVED), 0, "approved"},
	/* user_id has the schema's tenant_key_immutable trigger */
	{"id", FROZEN, 0, 0, NULL},
	{"action_type", FROZEN, 0, 0, NULL},
	{"payload", FROZEN, 0, 0, NULL},
	{"created_at", FROZEN, 0, 0, NULL},
};

/* A scheduled task: its status moves along the machine; id and created_at never change. */
static const MachineColumn schedule_columns[] = {
	/* user_id has the schema's tenant_key_immutable trigger */
	{"id", FROZEN, 0, 0, NULL},
	{"created_at", FROZEN, 0, 0, NULL},
};

/*
 * The errors of one guarded table, each written out whole (marked for
 * translation), not assembled from the machine's noun.
 */
typedef struct GuardMessages
{
	const char *invalid_status;	/* status */
	const char *invalid_transition; /* from, to */
	const char *transition_detail;	/* id, from, the statuses it can move to */
	const char *frozen;			/* column */
	const char *frozen_detail;	/* id, column */
	const char *owned;			/* column */
	const char *owned_detail;	/* id, the statuses that set it */
} GuardMessages;

/* A table guarded by a machine. */
typedef struct GuardedTable
{
	const AlfredMachine *machine;
	const GuardMessages *messages;
	const MachineColumn *columns;
	int			ncolumns;
} GuardedTable;

#define MAX_MACHINE_COLUMNS 32

static const GuardMessages proposal_messages = {
	gettext_noop("invalid proposal status \"%s\""),
	gettext_noop("invalid proposal transition from \"%s\" to \"%s\""),
	gettext_noop("Proposal %s is %s; it can move to: %s."),
	gettext_noop("column \"%s\" of a proposal cannot change"),
	gettext_noop("Proposal %s keeps the %s it was made with."),
	gettext_noop("column \"%s\" of a proposal is set by its state machine"),
	gettext_noop("Proposal %s: only a change of status to %s sets it."),
};

static const GuardMessages schedule_messages = {
	gettext_noop("invalid scheduled task status \"%s\""),
	gettext_noop("invalid scheduled task transition from \"%s\" to \"%s\""),
	gettext_noop("Scheduled task %s is %s; it can move to: %s."),
	gettext_noop("column \"%s\" of a scheduled task cannot change"),
	gettext_noop("Scheduled task %s keeps the %s it was made with."),
	gettext_noop("column \"%s\" of a scheduled task is set by its state machine"),
	gettext_noop("Scheduled task %s: only a change of status to %s sets it."),
};

static const GuardedTable proposals_table = {
	&alfred_proposal_machine, &proposal_messages,
	proposal_columns, lengthof(proposal_columns)
};

static const GuardedTable schedule_table = {
	&alfred_schedule_machine, &schedule_messages,
	schedule_columns, lengthof(schedule_columns)
};

/*
 * The row's status as the machine's number; 23514 for a value outside it,
 * and for NULL the not-null violation the column's constraint would raise
 * after this BEFORE trigger.
 */
static int
row_status(const GuardedTable *g, Relation rel, HeapTuple tuple, int attnum)
{
	const AlfredMachine *m = g->machine;
	char	   *name = SPI_getvalue(tuple, RelationGetDescr(rel), attnum);
	int			status;
	char		all[256];

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
						"status", RelationGetRelationName(rel))));
	status = alfred_machine_status_parse(m, name);
	if (status < 0)
	{
		alfred_machine_all_statuses(m, all, sizeof(all));
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg(g->messages->invalid_status, name),
				 errdetail("A status is one of %s.", all)));
	}
	return status;
}

static void
check_transition(const GuardedTable *g, int from, int to, const char *id)
{
	const AlfredMachine *m = g->machine;
	char		next[256];

	if (from == to || alfred_machine_allowed(m, from, to))
		return;
	alfred_machine_next_statuses(m, from, next, sizeof(next));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg(g->messages->invalid_transition,
					alfred_machine_status_name(m, from), alfred_machine_status_name(m, to)),
			 errdetail(g->messages->transition_detail,
					   id, alfred_machine_status_name(m, from), next)));
}

static bool
column_changed(HeapTuple oldtup, HeapTuple newtup, TupleDesc tupdesc, int attnum)
{
	Form_pg_attribute att = TupleDescAttr(tupdesc, attnum - 1);
	bool		oldnull,
				newnull;
	Datum		oldval = heap_getattr(oldtup, attnum, tupdesc, &oldnull);
	Datum		newval = heap_getattr(newtup, attnum, tupdesc, &newnull);

	if (oldnull || newnull)
		return oldnull != newnull;
	return !datumIsEqual(oldval, newval, att->attbyval, att->attlen);
}

static void
report_machine_column(const GuardedTable *g, const MachineColumn *col, const char *id)
{
	if (col->rule == FROZEN)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg(g->messages->frozen, col->name),
				 errdetail(g->messages->frozen_detail, id, col->name)));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg(g->messages->owned, col->name),
			 errdetail(g->messages->owned_detail, id, col->owners_text)));
}

static Datum guard_row(FunctionCallInfo fcinfo, const GuardedTable *g);

PG_FUNCTION_INFO_V1(alfred_proposals_guard);
Datum
alfred_proposals_guard(PG_FUNCTION_ARGS)
{
	return guard_row(fcinfo, &proposals_table);
}

PG_FUNCTION_INFO_V1(alfred_scheduled_tasks_guard);
Datum
alfred_scheduled_tasks_guard(PG_FUNCTION_ARGS)
{
	return guard_row(fcinfo, &schedule_table);
}

static Datum
guard_row(FunctionCallInfo fcinfo, const GuardedTable *g)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	oldtup,
				newtup;
	int			status_att;
	int			from,
				to;
	char	   *id;
	int			ncols = 0;
	int			colnums[MAX_MACHINE_COLUMNS];
	Datum		values[MAX_MACHINE_COLUMNS];
	bool		nulls[MAX_MACHINE_COLUMNS];
	Datum		now = TimestampTzGetDatum(GetCurrentTimestamp());

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		elog(ERROR, "the %s guard must fire BEFORE UPDATE FOR EACH ROW", g->machine->noun);
	Assert(g->ncolumns <= MAX_MACHINE_COLUMNS);

	tupdesc = trigdata->tg_relation->rd_att;
	oldtup = trigdata->tg_trigtuple;
	newtup = trigdata->tg_newtuple;
	status_att = alfred_attnum(tupdesc, "status");
	id = SPI_getvalue(oldtup, tupdesc, SPI_fnumber(tupdesc, "id"));
	from = row_status(g, trigdata->tg_relation, oldtup, status_att);
	to = row_status(g, trigdata->tg_relation, newtup, status_att);
	check_transition(g, from, to, id ? id : "(unknown)");

	for (int i = 0; i < g->ncolumns; i++)
	{
		const MachineColumn *col = &g->columns[i];
		int			attnum = SPI_fnumber(tupdesc, col->name);
		bool		entering = from != to;

		if (attnum <= 0)
			continue;
		if (entering && (col->owners & (1u << to)) && col->rule == STAMP)
		{
			if (TupleDescAttr(tupdesc, attnum - 1)->atttypid != TIMESTAMPTZOID)
				elog(ERROR, "column \"%s\" of a %s is not timestamptz", col->name, g->machine->noun);
			colnums[ncols] = attnum;
			values[ncols] = now;
			nulls[ncols++] = false;
		}
		else if (entering && (col->owners & (1u << to)) && col->rule == COUNT)
		{
			bool		isnull;
			Datum		old = heap_getattr(oldtup, attnum, tupdesc, &isnull);

			if (TupleDescAttr(tupdesc, attnum - 1)->atttypid != INT4OID)
				elog(ERROR, "column \"%s\" of a %s is not integer", col->name, g->machine->noun);
			colnums[ncols] = attnum;
			values[ncols] = Int32GetDatum(isnull ? 1 : DatumGetInt32(old) + 1);
			nulls[ncols++] = false;
		}
		else if (entering && (col->owners & (1u << to)))
			continue;			/* a decision column takes the caller's value */
		else if (entering && (col->clears & (1u << to)))
		{
			colnums[ncols] = attnum;
			values[ncols] = (Datum) 0;
			nulls[ncols++] = true;
		}
		else if (column_changed(oldtup, newtup, tupdesc, attnum))
			report_machine_column(g, col, id ? id : "(unknown)");
	}

	if (ncols > 0)
		newtup = heap_modify_tuple_by_cols(newtup, tupdesc, ncols, colnums, values, nulls);
	return PointerGetDatum(newtup);
}
