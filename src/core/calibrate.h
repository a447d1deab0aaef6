/*-------------------------------------------------------------------------
 *
 * calibrate.h
 *		Proactive calibration: how likely the assistant should be to make a
 *		suggestion of some type, learnt from what the user engages with or
 *		dismisses.  Pure C (no PostgreSQL), unit-tested by
 *		test/unit/test_calibrate.c.
 *
 * Times are int64 microseconds on any fixed epoch (the backend passes
 * TimestampTz values unchanged).  A state is a plain struct; the functions
 * take it by pointer and never allocate.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_CALIBRATE_H
#define ALFRED_CALIBRATE_H

#include <stdbool.h>
#include <stdint.h>

/*---- Constants of the algorithm (DESIGN.md, "Proactive calibration") ----*/
#define ALFRED_CAL_USECS_PER_DAY		INT64_C(86400000000)
#define ALFRED_CAL_TYPE_HALF_LIFE_DAYS	14.0	/* per-type e and d */
#define ALFRED_CAL_GLOBAL_HALF_LIFE_DAYS 30.0	/* global Ge and Gd */
#define ALFRED_CAL_STREAK				3	/* consecutive events to suppress/boost */
#define ALFRED_CAL_SUPPRESS_P_HAT		0.25	/* suppress when p_hat <= this */
#define ALFRED_CAL_BOOST_P_HAT			0.75	/* boost when p_hat >= this */
#define ALFRED_CAL_UNBOOST_P_HAT		0.60	/* un-boost when p_hat < this */
#define ALFRED_CAL_SUPPRESS_DAYS		30	/* first suppression */
#define ALFRED_CAL_SUPPRESS_MAX_DAYS	180 /* longest suppression */
#define ALFRED_CAL_BOOST_FACTOR			1.25
#define ALFRED_CAL_DEFAULT_LEVEL		0.7 /* global level with no events */
#define ALFRED_CAL_PATTERN_HALF_LIFE_DAYS 30.0
#define ALFRED_CAL_PATTERN_MIN_OCCURRENCES 3
#define ALFRED_CAL_PATTERN_MIN_CONFIDENCE 0.5

/* What the user did with a suggestion (engagement_events.action). */
typedef enum alfred_cal_action
{
	ALFRED_CAL_ENGAGED,
	ALFRED_CAL_DISMISSED
} alfred_cal_action;

/* Where the suggestion was delivered (engagement_events.source). */
typedef enum alfred_cal_source
{
	ALFRED_CAL_CONVERSATION,
	ALFRED_CAL_NOTIFICATION,
	ALFRED_CAL_SCHEDULE
} alfred_cal_source;

/* The user's explicit instruction (proactiveness_settings.user_override). */
typedef enum alfred_cal_override
{
	ALFRED_CAL_OVERRIDE_NONE,
	ALFRED_CAL_OVERRIDE_MORE,
	ALFRED_CAL_OVERRIDE_LESS
} alfred_cal_override;

/*
 * Calibration state of one (user, suggestion type).  engaged/dismissed are
 * the per-type decayed counts e and d (14-day half-life);
 * global_engaged/global_dismissed are this type's share of the user's global
 * counts Ge and Gd (30-day half-life), so that the global counts are the sum
 * over the user's types.  All four are as of counted_at.
 */
typedef struct alfred_cal_state
{
	double		engaged;
	double		dismissed;
	double		global_engaged;
	double		global_dismissed;
	bool		has_events;		/* false: no event yet, counted_at unused */
	int64_t		counted_at;
	int32_t		consecutive_engagements;
	int32_t		consecutive_dismissals;
	int32_t		suppressions;	/* suppressions since the last engagement */
	bool		suppressed;		/* suppressed_until is set */
	int64_t		suppressed_until;
	bool		boosted;
} alfred_cal_state;

/*---- Parsing of the SQL vocabulary; false for an unknown word ----*/
extern bool alfred_cal_parse_action(const char *s, alfred_cal_action *out);
extern bool alfred_cal_parse_source(const char *s, alfred_cal_source *out);
extern bool alfred_cal_parse_override(const char *s, alfred_cal_override *out);

/*---- The model ----*/
extern void alfred_cal_init(alfred_cal_state *s);
extern double alfred_cal_decay(double count, int64_t elapsed_us, double half_life_days);
extern double alfred_cal_p_hat(const alfred_cal_state *s);
extern void alfred_cal_advance(alfred_cal_state *s, int64_t now);
extern void alfred_cal_record(alfred_cal_state *s, alfred_cal_action action, int64_t now);
extern int64_t alfred_cal_suppression_length(int32_t suppressions);
extern double alfred_cal_global_level(double global_engaged, double global_dismissed,
									  alfred_cal_override override);
extern double alfred_cal_threshold(double level, double base, bool boosted);
extern double alfred_cal_score(const alfred_cal_state *s, double level, double base);

/*---- Numerics ----*/
extern double alfred_cal_beta_inc(double x, double a, double b);
extern uint64_t alfred_cal_splitmix64(uint64_t seed);
extern double alfred_cal_uniform(uint64_t seed);
extern bool alfred_cal_decide(double p, uint64_t seed);

/*---- Observed patterns ----*/
extern double alfred_cal_pattern_confidence(int64_t occurrences, int64_t since_last_seen_us);
extern bool alfred_cal_pattern_actionable(bool acted_on, int64_t occurrences, double confidence);

#endif							/* ALFRED_CALIBRATE_H */
