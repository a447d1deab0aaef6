/*-------------------------------------------------------------------------
 *
 * planner.h
 *		Free-slot planning on plain intervals (no PostgreSQL dependency).
 *
 * Times are absolute instants in microseconds (any epoch; the backend uses
 * PostgreSQL's TimestampTz).  Weekly rules (work blocks, quiet hours, lunch)
 * are wall-clock minutes of a local day; the caller supplies a function that
 * turns a local date and minute into an instant, so the timezone rules
 * (daylight saving time) stay with the caller.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_PLANNER_H
#define ALFRED_PLANNER_H

#include <stddef.h>
#include <stdint.h>

#define ALFRED_PLAN_MINUTES_PER_DAY 1440

typedef struct alfred_interval
{
	int64_t		start;			/* inclusive */
	int64_t		end;			/* exclusive */
} alfred_interval;

/* A weekly wall-clock window: ISO weekday 1 (Monday) .. 7 (Sunday). */
typedef struct alfred_plan_block
{
	int			weekday;
	int			start_minute;	/* 0 .. 1439 */
	int			end_minute;		/* start_minute + 1 .. 1440 */
} alfred_plan_block;

/* A daily wall-clock window; start > end wraps past midnight. */
typedef struct alfred_plan_daily
{
	int			start_minute;	/* 0 .. 1439, or -1 when unset */
	int			end_minute;		/* 0 .. 1440 */
} alfred_plan_daily;

/* Instant of local date (year, month, day) at minute 0 .. 1439. */
typedef int64_t (*alfred_plan_local_fn) (void *arg, int year, int month, int day,
										 int minute);

typedef struct alfred_plan_spec
{
	alfred_interval range;		/* only time inside it is free */
	int64_t		duration;		/* a slot is at least this long (> 0) */
	int64_t		buffer_before;	/* kept free before each busy interval */
	int64_t		buffer_after;	/* kept free after each busy interval */
	const alfred_plan_block *blocks;	/* work blocks; none = the whole day */
	int			nblocks;
	alfred_plan_daily quiet;	/* never free */
	alfred_plan_daily lunch;	/* never free (unset when lunch is allowed) */
	const alfred_interval *busy;	/* in any order, may overlap */
	int			nbusy;
	/* local dates to expand the weekly rules over: first one and count */
	int			first_year;
	int			first_month;
	int			first_day;
	int			ndays;
	alfred_plan_local_fn local_to_instant;
	void	   *arg;
} alfred_plan_spec;

typedef enum alfred_plan_status
{
	ALFRED_PLAN_OK = 0,
	ALFRED_PLAN_BAD_RANGE,
	ALFRED_PLAN_BAD_DURATION,
	ALFRED_PLAN_BAD_BUFFER,
	ALFRED_PLAN_BAD_BLOCK,
	ALFRED_PLAN_BAD_DAILY,
	ALFRED_PLAN_BAD_DAYS
} alfred_plan_status;

extern const char *alfred_plan_strerror(alfred_plan_status status);
extern alfred_plan_status alfred_plan_check(const alfred_plan_spec *spec);

/*
 * Number of intervals of scratch space alfred_plan_free_slots needs; the
 * output never holds more than this either.
 */
extern size_t alfred_plan_scratch_size(const alfred_plan_spec *spec);

/*
 * The free slots of spec, in time order, into out (scratch_size entries);
 * scratch is a work area of the same size.  Returns the number of slots, or
 * -status when spec is invalid.
 */
extern long alfred_plan_free_slots(const alfred_plan_spec *spec,
								   alfred_interval *scratch, alfred_interval *out);

/*---- parsing of work blocks and calendar primitives ----*/
extern size_t alfred_interval_normalize(alfred_interval *iv, size_t n);
extern size_t alfred_interval_subtract(const alfred_interval *a, size_t na,
									   const alfred_interval *b, size_t nb,
									   alfred_interval *out);
extern int	alfred_plan_parse_clock(const char *s, size_t len, int *minute);
extern int	alfred_plan_parse_weekday(const char *s, size_t len);

#endif							/* ALFRED_PLANNER_H */
