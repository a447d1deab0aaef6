/*-------------------------------------------------------------------------
 *
 * streak_sql.c
 *		SQL wrappers of the streak core (src/core/streak.c).
 *
 * alfred.streak_of is the pure definition over an array of dates.  The
 * other wrappers work on a whole alfred.habits row, whose streak columns
 * (current_streak, best_streak, total_completions, last_logged,
 * last_met_period, period_logs) are the core's tally: alfred.habit_streak
 * reads the streak as of a day, alfred._habit_append folds a new latest log
 * in O(1) and alfred._habit_recompute rebuilds the tally from a history.
 * log_habit and unlog_habit (SQL) call them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "alfred.h"
#include "row.h"
#include "streak.h"

/*---- Argument checks ----*/

/* The date argument argname (NULL: an element of the logged dates), finite. */
static int32_t
check_day(DateADT d, const char *argname)
{
	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 argname ?
				 errmsg("argument \"%s\" must be a finite date", argname) :
				 errmsg("a logged date must be a finite date")));
	return (int32_t) d;
}

static void
raise_schedule_error(AlfredStreakStatus status, const char *frequency)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid habit schedule \"%s\"", frequency),
			 errdetail("%s", alfred_streak_status_message(status))));
}

/* Weekdays from an int2[] / int4[] array or a jsonb array of numbers. */
static int
weekdays_of(Datum value, Oid type, int *out)
{
	int			n = 0;

	if (type == JSONBOID)
	{
		Jsonb	   *jb = DatumGetJsonbP(value);
		JsonbIterator *it;
		JsonbValue	v;
		JsonbIteratorToken tok;

		if (!JB_ROOT_IS_ARRAY(jb) || JB_ROOT_IS_SCALAR(jb))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("days_of_week must be an array of ISO weekdays")));
		it = JsonbIteratorInit(&jb->root);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (tok != WJB_ELEM)
				continue;
			if (v.type != jbvNumeric)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("days_of_week must be an array of ISO weekdays")));
			if (n < 64)
				out[n++] = DatumGetInt32(DirectFunctionCall1(numeric_int4,
															 NumericGetDatum(v.val.numeric)));
		}
		return n;
	}
	else
	{
		ArrayType  *arr = DatumGetArrayTypeP(value);
		Datum	   *elems;
		bool	   *nulls;
		int			count,
					i;
		Oid			elemtype = ARR_ELEMTYPE(arr);
		int16		typlen;
		bool		typbyval;
		char		typalign;

		get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
		deconstruct_array(arr, elemtype, typlen, typbyval, typalign, &elems, &nulls, &count);
		for (i = 0; i < count && n < 64; i++)
		{
			if (nulls[i])
				continue;
			out[n++] = elemtype == INT2OID ? DatumGetInt16(elems[i]) : DatumGetInt32(elems[i]);
		}
		return n;
	}
}

static void
make_schedule(AlfredStreakSchedule *sched, const char *frequency,
			  bool wd_null, Datum wd, Oid wd_type, bool target_null, int32 target)
{
	int			weekdays[64];
	int			n = wd_null ? 0 : weekdays_of(wd, wd_type, weekdays);
	AlfredStreakStatus status;

	status = alfred_streak_schedule(sched, frequency, weekdays, n, target_null ? 0 : target);
	if (status != ALFRED_STREAK_OK)
		raise_schedule_error(status, frequency);
}

/* Sorted, duplicate-free day numbers from a date[] (NULL elements skipped). */
static int
days_of(ArrayType *arr, int32_t **days)
{
	Datum	   *elems;
	bool	   *nulls;
	int			count,
				i,
				n = 0;

	deconstruct_array(arr, DATEOID, sizeof(DateADT), true, TYPALIGN_INT, &elems, &nulls, &count);
	*days = palloc(sizeof(int32_t) * (count + 1));
	for (i = 0; i < count; i++)
		if (!nulls[i])
			(*days)[n++] = check_day(DatumGetDateADT(elems[i]), NULL);
	return alfred_streak_sort_days(*days, n);
}

static Datum
result_datum(FunctionCallInfo fcinfo, const AlfredStreakResult *r)
{
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Int32GetDatum(r->current);
	values[1] = Int32GetDatum(r->best);
	values[2] = CStringGetTextDatum(alfred_streak_state_name(r->state));
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/*---- alfred.streak_of ----*/

PG_FUNCTION_INFO_V1(alfred_streak_of);
Datum
alfred_streak_of(PG_FUNCTION_ARGS)
{
	AlfredStreakSchedule sched;
	AlfredStreakTally tally;
	AlfredStreakResult result;
	int32_t    *days = NULL;
	int			n = 0;
	char	   *frequency;
	int32_t		today;

	alfred_require_arg(fcinfo, 1, "frequency");
	alfred_require_arg(fcinfo, 4, "today");
	frequency = text_to_cstring(PG_GETARG_TEXT_PP(1));
	today = check_day(PG_GETARG_DATEADT(4), "today");
	make_schedule(&sched, frequency, PG_ARGISNULL(2), PG_ARGISNULL(2) ? 0 : PG_GETARG_DATUM(2),
				  INT4ARRAYOID, PG_ARGISNULL(3), PG_ARGISNULL(3) ? 0 : PG_GETARG_INT32(3));
	if (!PG_ARGISNULL(0))
		n = days_of(PG_GETARG_ARRAYTYPE_P(0), &days);

	alfred_streak_recompute(&sched, days, n, today, &tally);
	alfred_streak_result(&sched, &tally, today, &result);
	PG_RETURN_DATUM(result_datum(fcinfo, &result));
}

/*---- A habit row as schedule and tally ----*/

typedef struct HabitRow
{
	AlfredRow	row;
	AlfredStreakSchedule sched;
	AlfredStreakTally tally;
} HabitRow;

static int32
int_col(HabitRow *h, const char *name)
{
	int			i = alfred_row_column(&h->row, name);

	return h->row.nulls[i] ? 0 : DatumGetInt32(h->row.values[i]);
}

static int32_t
day_col(HabitRow *h, const char *name)
{
	int			i = alfred_row_column(&h->row, name);

	return h->row.nulls[i] ? ALFRED_STREAK_NO_DAY : (int32_t) DatumGetDateADT(h->row.values[i]);
}

static void
set_int(HabitRow *h, const char *name, int32 v)
{
	int			i = alfred_row_column(&h->row, name);

	h->row.values[i] = Int32GetDatum(v);
	h->row.nulls[i] = false;
}

static void
set_day(HabitRow *h, const char *name, int32_t day)
{
	int			i = alfred_row_column(&h->row, name);

	h->row.nulls[i] = day == ALFRED_STREAK_NO_DAY;
	h->row.values[i] = DateADTGetDatum((DateADT) day);
}

static void
habit_read(HeapTupleHeader row, HabitRow *h)
{
	const Datum *values;
	const bool *nulls;
	int			f,
				w,
				t;
	char	   *frequency;

	alfred_row_read(row, &h->row);
	values = h->row.values;
	nulls = h->row.nulls;
	f = alfred_row_column(&h->row, "frequency");
	w = alfred_row_column(&h->row, "days_of_week");
	t = alfred_row_column(&h->row, "target_per_week");
	frequency = nulls[f] ? "daily" : TextDatumGetCString(values[f]);
	make_schedule(&h->sched, frequency, nulls[w], values[w],
				  TupleDescAttr(h->row.desc, w)->atttypid,
				  nulls[t], nulls[t] ? 0 : DatumGetInt32(values[t]));

	h->tally.last_logged = day_col(h, "last_logged");
	h->tally.last_met = day_col(h, "last_met_period");
	h->tally.run = int_col(h, "current_streak");
	h->tally.best = int_col(h, "best_streak");
	h->tally.period_logs = int_col(h, "period_logs");
	h->tally.total = int_col(h, "total_completions");
}

static Datum
habit_datum(HabitRow *h)
{
	set_day(h, "last_logged", h->tally.last_logged);
	set_day(h, "last_met_period", h->tally.last_met);
	set_int(h, "current_streak", h->tally.run);
	set_int(h, "best_streak", h->tally.best);
	set_int(h, "period_logs", h->tally.period_logs);
	set_int(h, "total_completions", h->tally.total);
	return alfred_row_datum(&h->row);
}

/*---- alfred.habit_streak(habit, today) ----*/

PG_FUNCTION_INFO_V1(alfred_habit_streak);
Datum
alfred_habit_streak(PG_FUNCTION_ARGS)
{
	HabitRow	h;
	AlfredStreakResult result;
	int32_t		today = check_day(PG_GETARG_DATEADT(1), "today");

	habit_read(PG_GETARG_HEAPTUPLEHEADER(0), &h);
	alfred_streak_result(&h.sched, &h.tally, today, &result);
	PG_RETURN_DATUM(result_datum(fcinfo, &result));
}

/*
 * alfred._habit_append(habit, day): the habit with a new latest log on day
 * folded in, the habit unchanged when day is already its latest log, or
 * NULL when day comes before the latest log (the caller recomputes).
 */
PG_FUNCTION_INFO_V1(alfred_habit_append);
Datum
alfred_habit_append(PG_FUNCTION_ARGS)
{
	HabitRow	h;
	int32_t		day = check_day(PG_GETARG_DATEADT(1), "day");

	habit_read(PG_GETARG_HEAPTUPLEHEADER(0), &h);
	if (alfred_streak_append(&h.sched, &h.tally, day) == ALFRED_STREAK_BACKFILL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(habit_datum(&h));
}

/*
 * alfred._habit_recompute(habit, days, today): the habit's tally rebuilt
 * from its logged days as of today (NULL: every day counts).
 */
PG_FUNCTION_INFO_V1(alfred_habit_recompute);
Datum
alfred_habit_recompute(PG_FUNCTION_ARGS)
{
	HabitRow	h;
	int32_t    *days = NULL;
	int			n = 0;
	int32_t		today = INT32_MAX;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (!PG_ARGISNULL(2))
		today = check_day(PG_GETARG_DATEADT(2), "today");
	habit_read(PG_GETARG_HEAPTUPLEHEADER(0), &h);
	if (!PG_ARGISNULL(1))
		n = days_of(PG_GETARG_ARRAYTYPE_P(1), &days);
	alfred_streak_recompute(&h.sched, days, n, today, &h.tally);
	PG_RETURN_DATUM(habit_datum(&h));
}
