/*-------------------------------------------------------------------------
 *
 * calibrate_sql.c
 *		SQL wrappers of the proactive calibration model (src/core/calibrate.c).
 *
 * The per-(user, suggestion type) state is a row of alfred.calibration_state;
 * the wrappers read it as a composite value (columns found by name, so the
 * table may gain columns), run the pure model and return a new row of the
 * same type.  The SQL functions of 600_calibration.sql do the writing of
 * tables; suggestion_score, the hot path, reads the user's rows itself with
 * one prepared query.  Everything that decides is here and in the core.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/float.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "alfred.h"
#include "calibrate.h"
#include "plan.h"
#include "row.h"

static SPIPlanPtr score_plan = NULL;

/*---- alfred.calibration_state as a composite value ----*/

typedef enum StateColumn
{
	COL_ENGAGED,
	COL_DISMISSED,
	COL_GLOBAL_ENGAGED,
	COL_GLOBAL_DISMISSED,
	COL_COUNTED_AT,
	COL_LAST_EVENT_AT,
	COL_CONSECUTIVE_ENGAGEMENTS,
	COL_CONSECUTIVE_DISMISSALS,
	COL_SUPPRESSIONS,
	COL_SUPPRESSED_UNTIL,
	COL_BOOSTED,
	NUM_STATE_COLUMNS
} StateColumn;

static const char *const state_column_names[NUM_STATE_COLUMNS] = {
	"engaged", "dismissed", "global_engaged", "global_dismissed", "counted_at",
	"last_event_at", "consecutive_engagements", "consecutive_dismissals",
	"suppressions", "suppressed_until", "boosted"
};

/* A deformed row and where each column of interest sits in it. */
typedef struct StateRow
{
	AlfredRow	row;
	int			index[NUM_STATE_COLUMNS];	/* 0-based attribute index */
} StateRow;

/*
 * The model's state from deformed column values; index[c] is where column c
 * sits in values/nulls.
 */
static void
state_from_values(const Datum *values, const bool *nulls, const int *index,
				  alfred_cal_state *s)
{
#define VAL(c) values[index[c]]
#define NUL(c) nulls[index[c]]
	alfred_cal_init(s);
	s->engaged = NUL(COL_ENGAGED) ? 0.0 : DatumGetFloat8(VAL(COL_ENGAGED));
	s->dismissed = NUL(COL_DISMISSED) ? 0.0 : DatumGetFloat8(VAL(COL_DISMISSED));
	s->global_engaged = NUL(COL_GLOBAL_ENGAGED) ? 0.0 : DatumGetFloat8(VAL(COL_GLOBAL_ENGAGED));
	s->global_dismissed = NUL(COL_GLOBAL_DISMISSED) ? 0.0 : DatumGetFloat8(VAL(COL_GLOBAL_DISMISSED));
	s->has_events = !NUL(COL_COUNTED_AT);
	s->counted_at = s->has_events ? DatumGetTimestampTz(VAL(COL_COUNTED_AT)) : 0;
	s->consecutive_engagements = NUL(COL_CONSECUTIVE_ENGAGEMENTS) ? 0 :
		DatumGetInt32(VAL(COL_CONSECUTIVE_ENGAGEMENTS));
	s->consecutive_dismissals = NUL(COL_CONSECUTIVE_DISMISSALS) ? 0 :
		DatumGetInt32(VAL(COL_CONSECUTIVE_DISMISSALS));
	s->suppressions = NUL(COL_SUPPRESSIONS) ? 0 : DatumGetInt32(VAL(COL_SUPPRESSIONS));
	s->suppressed = !NUL(COL_SUPPRESSED_UNTIL);
	s->suppressed_until = s->suppressed ? DatumGetTimestampTz(VAL(COL_SUPPRESSED_UNTIL)) : 0;
	s->boosted = !NUL(COL_BOOSTED) && DatumGetBool(VAL(COL_BOOSTED));
#undef VAL
#undef NUL
}

/* Deforms a calibration_state row into row and the model's state. */
static void
state_from_row(HeapTupleHeader th, StateRow *row, alfred_cal_state *s)
{
	int			c;

	alfred_row_read(th, &row->row);
	for (c = 0; c < NUM_STATE_COLUMNS; c++)
		row->index[c] = alfred_row_column(&row->row, state_column_names[c]);
	state_from_values(row->row.values, row->row.nulls, row->index, s);
}

static void
set_column(StateRow *row, StateColumn c, Datum value, bool isnull)
{
	row->row.values[row->index[c]] = value;
	row->row.nulls[row->index[c]] = isnull;
}

/* A new calibration_state row: row's other columns with s's values. */
static Datum
state_to_row(StateRow *row, const alfred_cal_state *s)
{
	set_column(row, COL_ENGAGED, Float8GetDatum(s->engaged), false);
	set_column(row, COL_DISMISSED, Float8GetDatum(s->dismissed), false);
	set_column(row, COL_GLOBAL_ENGAGED, Float8GetDatum(s->global_engaged), false);
	set_column(row, COL_GLOBAL_DISMISSED, Float8GetDatum(s->global_dismissed), false);
	set_column(row, COL_COUNTED_AT, TimestampTzGetDatum(s->counted_at), !s->has_events);
	set_column(row, COL_CONSECUTIVE_ENGAGEMENTS, Int32GetDatum(s->consecutive_engagements), false);
	set_column(row, COL_CONSECUTIVE_DISMISSALS, Int32GetDatum(s->consecutive_dismissals), false);
	set_column(row, COL_SUPPRESSIONS, Int32GetDatum(s->suppressions), false);
	set_column(row, COL_SUPPRESSED_UNTIL, TimestampTzGetDatum(s->suppressed_until), !s->suppressed);
	set_column(row, COL_BOOSTED, BoolGetDatum(s->boosted), false);
	return alfred_row_datum(&row->row);
}

/*---- Argument checks (22023) ----*/

static TimestampTz
finite_time(TimestampTz at)
{
	if (TIMESTAMP_NOT_FINITE(at))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("calibration time must be finite"),
				 errdetail("Infinite timestamps cannot be decayed to.")));
	return at;
}

static alfred_cal_action
check_action(FunctionCallInfo fcinfo, int argno)
{
	alfred_cal_action action;
	char	   *s;

	alfred_require_arg(fcinfo, argno, "action");
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (!alfred_cal_parse_action(s, &action))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid engagement action \"%s\"", s),
				 errdetail("The action must be \"engaged\" or \"dismissed\".")));
	return action;
}

static void
check_source(FunctionCallInfo fcinfo, int argno)
{
	alfred_cal_source source;
	char	   *s;

	alfred_require_arg(fcinfo, argno, "source");
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (!alfred_cal_parse_source(s, &source))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid engagement source \"%s\"", s),
				 errdetail("The source must be \"conversation\", \"notification\" or \"schedule\".")));
}

static alfred_cal_override
check_override(FunctionCallInfo fcinfo, int argno)
{
	alfred_cal_override override;
	char	   *s = PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));

	if (!alfred_cal_parse_override(s, &override))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid proactiveness override \"%s\"", s),
				 errdetail("The override must be \"more\", \"less\" or NULL.")));
	return override;
}

static double
check_base(FunctionCallInfo fcinfo, int argno)
{
	double		base;

	alfred_require_arg(fcinfo, argno, "base");
	base = PG_GETARG_FLOAT8(argno);
	if (!(base > 0.0 && base <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("base relevance %s is out of range", float8out_internal(base)),
				 errdetail("The base relevance must be greater than 0 and at most 1.")));
	return base;
}

/*---- SQL functions ----*/

/*
 * calibration_step(state calibration_state, action text, source text,
 * at timestamptz) → calibration_state: the state after one event.
 */
PG_FUNCTION_INFO_V1(alfred_calibration_step);
Datum
alfred_calibration_step(PG_FUNCTION_ARGS)
{
	alfred_cal_action action = check_action(fcinfo, 1);
	StateRow	row;
	alfred_cal_state s;
	TimestampTz at;

	check_source(fcinfo, 2);
	alfred_require_arg(fcinfo, 0, "state");
	alfred_require_arg(fcinfo, 3, "at");
	at = finite_time(PG_GETARG_TIMESTAMPTZ(3));
	state_from_row(PG_GETARG_HEAPTUPLEHEADER(0), &row, &s);
	alfred_cal_record(&s, action, at);
	set_column(&row, COL_LAST_EVENT_AT, TimestampTzGetDatum(at), false);
	PG_RETURN_DATUM(state_to_row(&row, &s));
}

/*
 * calibration_at(state calibration_state, at timestamptz) → calibration_state:
 * the state as of at (decayed counts, ended suppression, lapsed boost).
 */
PG_FUNCTION_INFO_V1(alfred_calibration_at);
Datum
alfred_calibration_at(PG_FUNCTION_ARGS)
{
	StateRow	row;
	alfred_cal_state s;
	TimestampTz at = finite_time(PG_GETARG_TIMESTAMPTZ(1));

	state_from_row(PG_GETARG_HEAPTUPLEHEADER(0), &row, &s);
	alfred_cal_advance(&s, at);
	PG_RETURN_DATUM(state_to_row(&row, &s));
}

/*
 * calibration_score(state calibration_state, level float8, base float8)
 * → float8: p for a state already brought to the time of the question;
 * a NULL state is no history.
 */
PG_FUNCTION_INFO_V1(alfred_calibration_score);
Datum
alfred_calibration_score(PG_FUNCTION_ARGS)
{
	double		base = check_base(fcinfo, 2);
	double		level;
	StateRow	row;
	alfred_cal_state s;

	alfred_require_arg(fcinfo, 1, "level");
	level = PG_GETARG_FLOAT8(1);
	if (PG_ARGISNULL(0))
		PG_RETURN_FLOAT8(alfred_cal_score(NULL, level, base));
	state_from_row(PG_GETARG_HEAPTUPLEHEADER(0), &row, &s);
	PG_RETURN_FLOAT8(alfred_cal_score(&s, level, base));
}

/*
 * proactiveness_level(global_engaged float8, global_dismissed float8,
 * override text) → float8: the global level g; NULL counts are 0.
 */
PG_FUNCTION_INFO_V1(alfred_proactiveness_level);
Datum
alfred_proactiveness_level(PG_FUNCTION_ARGS)
{
	alfred_cal_override override = check_override(fcinfo, 2);
	double		ge = PG_ARGISNULL(0) ? 0.0 : PG_GETARG_FLOAT8(0);
	double		gd = PG_ARGISNULL(1) ? 0.0 : PG_GETARG_FLOAT8(1);

	PG_RETURN_FLOAT8(alfred_cal_global_level(ge, gd, override));
}

/* calibration_uniform(seed bigint) → float8: u in [0, 1) from splitmix64. */
PG_FUNCTION_INFO_V1(alfred_calibration_uniform);
Datum
alfred_calibration_uniform(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(alfred_cal_uniform((uint64) PG_GETARG_INT64(0)));
}

/*
 * pattern_confidence(occurrences int, last_seen_at timestamptz,
 * at timestamptz) → float8.
 */
PG_FUNCTION_INFO_V1(alfred_pattern_confidence);
Datum
alfred_pattern_confidence(PG_FUNCTION_ARGS)
{
	int32		n = PG_GETARG_INT32(0);
	TimestampTz seen = finite_time(PG_GETARG_TIMESTAMPTZ(1));
	TimestampTz at = finite_time(PG_GETARG_TIMESTAMPTZ(2));

	PG_RETURN_FLOAT8(alfred_cal_pattern_confidence(n, at - seen));
}

/*
 * pattern_actionable(acted_on boolean, occurrences int, last_seen_at
 * timestamptz, at timestamptz) → boolean.
 */
PG_FUNCTION_INFO_V1(alfred_pattern_actionable);
Datum
alfred_pattern_actionable(PG_FUNCTION_ARGS)
{
	bool		acted_on = PG_GETARG_BOOL(0);
	int32		n = PG_GETARG_INT32(1);
	TimestampTz seen = finite_time(PG_GETARG_TIMESTAMPTZ(2));
	TimestampTz at = finite_time(PG_GETARG_TIMESTAMPTZ(3));

	PG_RETURN_BOOL(alfred_cal_pattern_actionable(acted_on, n,
												 alfred_cal_pattern_confidence(n, at - seen)));
}

/*---- suggestion_score: the hot path, one query ----*/

/*
 * The user's override, whether the user wants proactive suggestions at all
 * (user_settings.enable_proactive_suggestions, on without a settings row) and
 * every calibration state row of the user, each flagged whether it is the
 * asked type; one row with NULL state columns when the user has none.
 * Columns 4.. are the state columns in StateColumn order.
 * Prepared once per backend; the plan cache replans it if the tables change.
 */
static SPIPlanPtr
prepare_score_plan(Oid fn_oid)
{
	char	   *schema = get_namespace_name(get_func_namespace(fn_oid));
	const char *q = quote_identifier(schema);
	Oid			argtypes[2] = {UUIDOID, TEXTOID};
	StringInfoData sql;
	int			c;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT s.user_override, c.suggestion_type = $2,"
						   " coalesce(u.enable_proactive_suggestions, true)");
	for (c = 0; c < NUM_STATE_COLUMNS; c++)
		appendStringInfo(&sql, ", c.%s", state_column_names[c]);
	appendStringInfo(&sql,
					 " FROM (SELECT) AS one"
					 " LEFT JOIN %s.proactiveness_settings s ON s.user_id = $1"
					 " LEFT JOIN %s.user_settings u ON u.user_id = $1"
					 " LEFT JOIN %s.calibration_state c ON c.user_id = $1", q, q, q);
	return alfred_plan_get(&score_plan, sql.data, 2, argtypes, 0);
}

/*
 * suggestion_score(user_id uuid, suggestion_type text, base float8) → float8:
 * every state row of the user advanced to now() gives the global counts, the
 * asked type's row (if any) its e, d, suppression and boost.  0 when the
 * user turned proactive suggestions off
 * (user_settings.enable_proactive_suggestions).
 */
PG_FUNCTION_INFO_V1(alfred_suggestion_score);
Datum
alfred_suggestion_score(PG_FUNCTION_ARGS)
{
	double		base = check_base(fcinfo, 2);
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	alfred_cal_override override = ALFRED_CAL_OVERRIDE_NONE;
	alfred_cal_state type_state;
	bool		found = false;
	bool		enabled = true;
	double		ge = 0.0,
				gd = 0.0;
	int			index[NUM_STATE_COLUMNS];
	Datum		args[2];
	uint64		i;
	int			c;

	alfred_require_arg(fcinfo, 0, "user_id");
	alfred_require_arg(fcinfo, 1, "suggestion_type");
	if (alfred_text_is_blank(PG_GETARG_TEXT_PP(1)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("suggestion type must not be empty"),
				 errdetail("Name the kind of suggestion, for example \"weather_briefing\".")));
	args[0] = PG_GETARG_DATUM(0);
	args[1] = PointerGetDatum(PG_GETARG_TEXT_PP(1));
	for (c = 0; c < NUM_STATE_COLUMNS; c++)
		index[c] = c + 3;

	SPI_connect();
	if (score_plan == NULL)
		score_plan = prepare_score_plan(fcinfo->flinfo->fn_oid);
	if (SPI_execute_plan(score_plan, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "the score query failed");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		int			natts = SPI_tuptable->tupdesc->natts;
		Datum	   *values = palloc(natts * sizeof(Datum));
		bool	   *nulls = palloc(natts * sizeof(bool));
		alfred_cal_state st;

		heap_deform_tuple(tuple, SPI_tuptable->tupdesc, values, nulls);
		if (i == 0 && !nulls[0] &&
			!alfred_cal_parse_override(TextDatumGetCString(values[0]), &override))
			elog(ERROR, "stored proactiveness override \"%s\" is invalid",
				 TextDatumGetCString(values[0]));
		if (i == 0)
			enabled = DatumGetBool(values[2]);
		if (nulls[1])
			continue;			/* no state rows */
		state_from_values(values, nulls, index, &st);
		alfred_cal_advance(&st, now);
		ge += st.global_engaged;
		gd += st.global_dismissed;
		if (DatumGetBool(values[1]))
		{
			type_state = st;
			found = true;
		}
	}
	SPI_finish();
	if (!enabled)
		PG_RETURN_FLOAT8(0.0);
	PG_RETURN_FLOAT8(alfred_cal_score(found ? &type_state : NULL,
									  alfred_cal_global_level(ge, gd, override), base));
}
