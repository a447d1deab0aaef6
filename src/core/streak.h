/*-------------------------------------------------------------------------
 *
 * streak.h
 *		Habit streaks: the pure definition (full recompute from a history of
 *		logged days) and the O(1) incremental update for a log that comes
 *		after every earlier one.  No PostgreSQL dependency.
 *
 * Days are day numbers: days since 2000-01-01 (day 0, a Saturday), which is
 * also PostgreSQL's DateADT, so a date crosses the fmgr boundary unchanged.
 * A period is named by its first day: the day itself for daily and custom
 * habits, the ISO week's Monday for weekly habits.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_STREAK_H
#define ALFRED_STREAK_H

#include <stdint.h>

/* "No day": smaller than every real day number. */
#define ALFRED_STREAK_NO_DAY INT32_MIN

typedef enum AlfredStreakKind
{
	ALFRED_STREAK_DAILY,
	ALFRED_STREAK_CUSTOM,		/* the ISO weekdays in a mask are scheduled */
	ALFRED_STREAK_WEEKLY		/* ISO weeks, met with target logs */
} AlfredStreakKind;

typedef enum AlfredStreakStatus
{
	ALFRED_STREAK_OK = 0,
	ALFRED_STREAK_BAD_FREQUENCY,	/* not daily, custom or weekly */
	ALFRED_STREAK_BAD_WEEKDAY,	/* a weekday outside 1..7 */
	ALFRED_STREAK_NO_WEEKDAYS,	/* custom habit with no weekday */
	ALFRED_STREAK_BAD_TARGET	/* weekly target outside 1..7 */
} AlfredStreakStatus;

typedef enum AlfredStreakState
{
	ALFRED_STREAK_NONE,
	ALFRED_STREAK_DONE,
	ALFRED_STREAK_PENDING,
	ALFRED_STREAK_AT_RISK,
	ALFRED_STREAK_LOST
} AlfredStreakState;

typedef struct AlfredStreakSchedule
{
	AlfredStreakKind kind;
	unsigned	weekdays;		/* bit d set: ISO weekday d (1 = Mon) scheduled */
	int			target;			/* weekly: logs that meet a week */
} AlfredStreakSchedule;

/*
 * What a habit keeps between logs.  run is the length of the run of met
 * periods that ends at last_met; it is the current streak only while
 * last_met is the open period or the scheduled one just before it.
 */
typedef struct AlfredStreakTally
{
	int32_t		last_logged;	/* latest logged day, or NO_DAY */
	int32_t		last_met;		/* first day of the latest met period, or NO_DAY */
	int32_t		run;
	int32_t		best;
	int32_t		period_logs;	/* weekly: logs in last_logged's week */
	int32_t		total;			/* logged days, scheduled or not */
} AlfredStreakTally;

typedef struct AlfredStreakResult
{
	int32_t		current;
	int32_t		best;
	AlfredStreakState state;
} AlfredStreakResult;

extern AlfredStreakStatus alfred_streak_schedule(AlfredStreakSchedule *sched,
												 const char *frequency,
												 const int *weekdays, int nweekdays,
												 int target);
extern const char *alfred_streak_status_message(AlfredStreakStatus status);
extern const char *alfred_streak_state_name(AlfredStreakState state);

extern int	alfred_streak_isodow(int32_t day);
extern int32_t alfred_streak_week_start(int32_t day);

extern void alfred_streak_tally_init(AlfredStreakTally *tally);
extern int	alfred_streak_sort_days(int32_t *days, int n);
extern void alfred_streak_recompute(const AlfredStreakSchedule *sched,
									const int32_t *days, int n, int32_t today,
									AlfredStreakTally *tally);
extern int	alfred_streak_append(const AlfredStreakSchedule *sched,
								 AlfredStreakTally *tally, int32_t day);
extern void alfred_streak_result(const AlfredStreakSchedule *sched,
								 const AlfredStreakTally *tally, int32_t today,
								 AlfredStreakResult *result);

/* Return values of alfred_streak_append. */
#define ALFRED_STREAK_APPENDED 0	/* tally updated in O(1) */
#define ALFRED_STREAK_DUPLICATE 1	/* day already logged: nothing changes */
#define ALFRED_STREAK_BACKFILL 2	/* day before the latest log: recompute */

#endif							/* ALFRED_STREAK_H */
