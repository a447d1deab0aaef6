/*-------------------------------------------------------------------------
 *
 * planner_sql.c
 *		SQL interface of the free-slot planner: alfred.plan_free_slots().
 *
 * Unpacks busy ranges, work blocks (jsonb, read directly), quiet hours and
 * lunch, hands them to the pure planner (src/core/planner.c) and returns
 * the free slots as tstzrange rows.  Local wall-clock times become instants
 * through PostgreSQL's own timezone library (pg_tzset,
 * DetermineTimeZoneOffset, tm2timestamp), so work blocks on a DST change
 * day are as long as the clocks say.  alfred.find_free_slots (SQL, in the
 * install script) reads a user's settings and events and calls this.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/rangetypes.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "alfred.h"
#include "calendar.h"
#include "planner.h"
#include "timezone.h"

/* Most work blocks a user may define (seven days, several blocks each). */
#define MAX_WORK_BLOCKS 256

static int64_t
interval_usecs(const Interval *iv)
{
	return iv->time + (int64_t) iv->day * USECS_PER_DAY +
		(int64_t) iv->month * DAYS_PER_MONTH * USECS_PER_DAY;
}

/* local_to_instant for the planner: arg is a pg_tz. */
static int64_t
pg_local_to_instant(void *arg, int year, int month, int day, int minute)
{
	pg_tz	   *tzp = (pg_tz *) arg;
	struct pg_tm tm;
	int			tz;
	TimestampTz result;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year;
	tm.tm_mon = month;
	tm.tm_mday = day;
	tm.tm_hour = minute / 60;
	tm.tm_min = minute % 60;
	tz = DetermineTimeZoneOffset(&tm, tzp);
	if (tm2timestamp(&tm, 0, &tz, &result) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return result;
}

static void
local_date(TimestampTz t, pg_tz *tzp, int *year, int *month, int *day)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (timestamp2tm(t, &tz, &tm, &fsec, NULL, tzp) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	*year = tm.tm_year;
	*month = tm.tm_mon;
	*day = tm.tm_mday;
}

/*---- work blocks: [{"day": "monday", "start": "09:00", "end": "12:00"}, ...] ----*/

static void
bad_block(JsonbValue *element, const char *detail)
{
	Jsonb	   *j = JsonbValueToJsonb(element);

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid work block \"%s\"",
					JsonbToCString(NULL, &j->root, VARSIZE(j))),
			 errdetail("%s", detail)));
}

static JsonbValue *
block_field(JsonbValue *element, const char *key)
{
	JsonbValue *v = getKeyJsonValueFromContainer(element->val.binary.data, key,
												 strlen(key), NULL);

	if (v == NULL || v->type != jbvString)
		bad_block(element, "A work block is an object with string fields \"day\", \"start\" and \"end\".");
	return v;
}

static int
parse_work_blocks(Jsonb *blocks, alfred_plan_block *out)
{
	int			n;

	if (!JB_ROOT_IS_ARRAY(blocks) || JB_ROOT_IS_SCALAR(blocks))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("work blocks must be a JSON array"),
				 errdetail("Write them as [{\"day\": \"monday\", \"start\": \"09:00\", \"end\": \"12:00\"}].")));
	n = JB_ROOT_COUNT(blocks);
	if (n > MAX_WORK_BLOCKS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("too many work blocks"),
				 errdetail("At most %d work blocks are allowed, got %d.", MAX_WORK_BLOCKS, n)));
	for (int i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(&blocks->root, i);
		JsonbValue *day,
				   *start,
				   *end;

		if (e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
			bad_block(e, "A work block is an object with string fields \"day\", \"start\" and \"end\".");
		day = block_field(e, "day");
		start = block_field(e, "start");
		end = block_field(e, "end");
		out[i].weekday = alfred_plan_parse_weekday(day->val.string.val, day->val.string.len);
		if (out[i].weekday == 0)
			bad_block(e, "The day must be a weekday name such as \"monday\" or \"mon\".");
		if (!alfred_plan_parse_clock(start->val.string.val, start->val.string.len,
									 &out[i].start_minute) ||
			!alfred_plan_parse_clock(end->val.string.val, end->val.string.len,
									 &out[i].end_minute))
			bad_block(e, "Start and end must be clock times between \"00:00\" and \"24:00\".");
		if (out[i].start_minute >= out[i].end_minute)
			bad_block(e, "A work block must end after it starts.");
	}
	return n;
}

/*---- busy ranges ----*/

static int
unpack_busy(ArrayType *arr, alfred_interval **out)
{
	TypeCacheEntry *typcache = lookup_type_cache(ARR_ELEMTYPE(arr), TYPECACHE_RANGE_INFO);
	Datum	   *elems;
	bool	   *nulls;
	int			nelems,
				n = 0;

	deconstruct_array(arr, ARR_ELEMTYPE(arr), typcache->typlen, typcache->typbyval,
					  typcache->typalign, &elems, &nulls, &nelems);
	*out = palloc(sizeof(alfred_interval) * Max(nelems, 1));
	for (int i = 0; i < nelems; i++)
	{
		RangeBound	lower,
					upper;
		bool		empty;

		if (nulls[i])
			continue;
		range_deserialize(typcache, DatumGetRangeTypeP(elems[i]), &lower, &upper, &empty);
		if (empty)
			continue;
		(*out)[n].start = lower.infinite ? PG_INT64_MIN : DatumGetTimestampTz(lower.val);
		(*out)[n].end = upper.infinite ? PG_INT64_MAX : DatumGetTimestampTz(upper.val);
		n++;
	}
	return n;
}

static alfred_plan_daily
daily_window(FunctionCallInfo fcinfo, int start_arg, int end_arg)
{
	alfred_plan_daily w = {-1, 0};

	if (PG_ARGISNULL(start_arg) || PG_ARGISNULL(end_arg))
		return w;
	w.start_minute = (int) (PG_GETARG_TIMEADT(start_arg) / USECS_PER_MINUTE);
	w.end_minute = (int) (PG_GETARG_TIMEADT(end_arg) / USECS_PER_MINUTE);
	return w;
}

static void
emit_slots(FunctionCallInfo fcinfo, const alfred_interval *slots, long n)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TypeCacheEntry *typcache = lookup_type_cache(TSTZRANGEOID, TYPECACHE_RANGE_INFO);

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	for (long i = 0; i < n; i++)
	{
		RangeBound	lower = {TimestampTzGetDatum(slots[i].start), false, true, true};
		RangeBound	upper = {TimestampTzGetDatum(slots[i].end), false, false, false};
		Datum		value = RangeTypePGetDatum(make_range(typcache, &lower, &upper, false));
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
}

/*
 * alfred.plan_free_slots(busy tstzrange[], "from", "to", duration, timezone,
 *     work_blocks jsonb, quiet_start time, quiet_end time, lunch_start time,
 *     lunch_end time, buffer_before interval, buffer_after interval)
 */
PG_FUNCTION_INFO_V1(alfred_plan_free_slots_sql);
Datum
alfred_plan_free_slots_sql(PG_FUNCTION_ARGS)
{
	alfred_plan_spec spec;
	alfred_plan_block blocks[MAX_WORK_BLOCKS];
	alfred_interval *busy = NULL;
	alfred_interval *scratch,
			   *slots;
	char	   *zone;
	pg_tz	   *tzp;
	int			y,
				m,
				d;
	long		n;
	alfred_plan_status status;

	alfred_require_arg(fcinfo, 1, "from");
	alfred_require_arg(fcinfo, 2, "to");
	alfred_require_arg(fcinfo, 3, "duration");
	alfred_require_arg(fcinfo, 4, "timezone");
	memset(&spec, 0, sizeof(spec));
	spec.range.start = PG_GETARG_TIMESTAMPTZ(1);
	spec.range.end = PG_GETARG_TIMESTAMPTZ(2);
	if (TIMESTAMP_NOT_FINITE(spec.range.start) || TIMESTAMP_NOT_FINITE(spec.range.end))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"from\" and \"to\" must be finite")));
	spec.duration = interval_usecs(PG_GETARG_INTERVAL_P(3));
	zone = text_to_cstring(PG_GETARG_TEXT_PP(4));
	tzp = alfred_zone_or_error(zone);
	if (!PG_ARGISNULL(0))
		spec.nbusy = unpack_busy(PG_GETARG_ARRAYTYPE_P(0), &busy);
	spec.busy = busy;
	if (!PG_ARGISNULL(5))
		spec.nblocks = parse_work_blocks(PG_GETARG_JSONB_P(5), blocks);
	spec.blocks = blocks;
	spec.quiet = daily_window(fcinfo, 6, 7);
	spec.lunch = daily_window(fcinfo, 8, 9);
	spec.buffer_before = PG_ARGISNULL(10) ? 0 : interval_usecs(PG_GETARG_INTERVAL_P(10));
	spec.buffer_after = PG_ARGISNULL(11) ? 0 : interval_usecs(PG_GETARG_INTERVAL_P(11));

	/* expand the weekly rules from the local day before "from" (quiet hours wrap) */
	if (spec.range.end > spec.range.start)
	{
		int			ty,
					tm,
					td;

		local_date(spec.range.start, tzp, &y, &m, &d);
		local_date(spec.range.end, tzp, &ty, &tm, &td);
		spec.ndays = (int) Min(alfred_days_from_civil(ty, tm, td) -
							   alfred_days_from_civil(y, m, d) + 3, PG_INT32_MAX);
		alfred_civil_from_days(alfred_days_from_civil(y, m, d) - 1,
							   &spec.first_year, &spec.first_month, &spec.first_day);
	}
	spec.local_to_instant = pg_local_to_instant;
	spec.arg = tzp;

	status = alfred_plan_check(&spec);
	if (status != ALFRED_PLAN_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid free-slot request"),
				 errdetail("%s", alfred_plan_strerror(status))));
	scratch = palloc(sizeof(alfred_interval) * alfred_plan_scratch_size(&spec));
	slots = palloc(sizeof(alfred_interval) * alfred_plan_scratch_size(&spec));
	n = alfred_plan_free_slots(&spec, scratch, slots);
	emit_slots(fcinfo, slots, n);
	return (Datum) 0;
}
