/*-------------------------------------------------------------------------
 *
 * cron.h
 *		alfred's cron engine core: parse a five-field cron expression into
 *		bitsets and search civil (wall-clock) date-times for matches.
 *
 * Pure C99, no PostgreSQL headers.  Time zones are the caller's business:
 * this file only knows a proleptic Gregorian calendar of wall-clock minutes.
 * The SQL layer (src/cron_sql.c) maps wall-clock slots to instants with
 * PostgreSQL's time zone library and applies the DST rules.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_CORE_CRON_H
#define ALFRED_CORE_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fields of a cron expression, in the order they are written. */
typedef enum alfred_cron_field
{
	ALFRED_CRON_MINUTE = 0,
	ALFRED_CRON_HOUR,
	ALFRED_CRON_DOM,
	ALFRED_CRON_MONTH,
	ALFRED_CRON_DOW,
	ALFRED_CRON_NFIELDS,
	ALFRED_CRON_NOFIELD = -1
} alfred_cron_field;

/* A parsed expression.  Bit n of a set means value n is allowed. */
typedef struct alfred_cron
{
	uint64_t	minutes;		/* bits 0-59 */
	uint32_t	hours;			/* bits 0-23 */
	uint32_t	mdays;			/* bits 1-31: plain days of month */
	uint32_t	mdays_nearest;	/* bits 1-31: nW, nearest weekday to day n */
	uint16_t	months;			/* bits 1-12 */
	uint8_t		wdays;			/* bits 0-6, Sunday = 0 */
	uint8_t		wdays_last;		/* bits 0-6: nL, last such weekday of the month */
	uint8_t		wdays_nth[6];	/* [k] bits 0-6: d#k, k-th such weekday (k 1-5) */
	bool		mday_last;		/* L or $: last day of the month */
	bool		mday_last_weekday;	/* LW: last weekday (Mon-Fri) of the month */
	bool		dom_star;		/* day-of-month is * or ? */
	bool		dow_star;		/* day-of-week is * or ? */
	bool		all_hours;		/* every hour allowed: fires in both passes of a DST fold */
	bool		has_nth_or_last;	/* some d#k or nL term */
	int			interval_seconds;	/* pg_cron's 'N seconds' form (1-59); 0 otherwise */
} alfred_cron;

/* Outcome of parsing. */
typedef enum alfred_cron_status
{
	ALFRED_CRON_OK = 0,
	ALFRED_CRON_EMPTY,			/* nothing but white space */
	ALFRED_CRON_FIELD_COUNT,	/* not five fields: nfields */
	ALFRED_CRON_OUT_OF_RANGE,	/* field value token outside min-max */
	ALFRED_CRON_NOT_A_NUMBER,	/* field token is not a number */
	ALFRED_CRON_NOT_A_NAME,		/* field token is not a month/day name */
	ALFRED_CRON_BAD_STEP,		/* field step token outside min-max */
	ALFRED_CRON_BAD_NTH,		/* d#k with k (token) outside 1-5 */
	ALFRED_CRON_MALFORMED,		/* field term token cannot be read */
	ALFRED_CRON_MISPLACED,		/* token (?, L, W, #) not allowed in field */
	ALFRED_CRON_BAD_MACRO,		/* @token is not a known macro */
	ALFRED_CRON_BAD_INTERVAL,	/* 'N seconds' with N (token) outside 1-59 */
	ALFRED_CRON_TOO_LONG,		/* expression longer than ALFRED_CRON_MAX_LEN */
	ALFRED_CRON_NEVER			/* valid syntax, but no day can ever match */
} alfred_cron_status;

#define ALFRED_CRON_MAX_LEN 1024
#define ALFRED_CRON_TOKEN_LEN 32

/* Everything needed to explain a failed parse. */
typedef struct alfred_cron_error
{
	alfred_cron_status status;
	alfred_cron_field field;	/* ALFRED_CRON_NOFIELD if not about one field */
	char		token[ALFRED_CRON_TOKEN_LEN];	/* offending text, truncated */
	int			min;			/* allowed range, for the range errors */
	int			max;
	int			nfields;		/* for ALFRED_CRON_FIELD_COUNT */
} alfred_cron_error;

/* A wall-clock minute in the proleptic Gregorian calendar. */
typedef struct alfred_cron_time
{
	int			year;			/* astronomical: 0 is 1 BC */
	int			month;			/* 1-12 */
	int			day;			/* 1-31 */
	int			hour;			/* 0-23 */
	int			minute;			/* 0-59 */
} alfred_cron_time;

/*
 * Parse expr (NUL-terminated).  On success fills *out and returns
 * ALFRED_CRON_OK; otherwise fills *err (if not NULL) and returns its status.
 */
extern alfred_cron_status alfred_cron_parse(const char *expr, alfred_cron *out,
											alfred_cron_error *err);

/*
 * Write a one-line, lower-case message for err into buf (always
 * NUL-terminated), e.g. "minute value 61 is out of range 0-59".
 * Returns buf.
 */
extern char *alfred_cron_error_message(const alfred_cron_error *err, char *buf,
									   size_t buflen);

/* Does the wall-clock minute *t match every field? */
extern bool alfred_cron_matches(const alfred_cron *c, const alfred_cron_time *t);

/*
 * Searches.  *t must be a valid date-time.  next_match moves *t to the first
 * matching minute at or after *t, with year <= max_year; prev_match to the
 * last matching minute at or before *t, with year >= min_year.  They jump
 * month by month, day by day and hour by hour, never minute by minute.
 * Return false (leaving *t unspecified) when there is none in the bound.
 */
extern bool alfred_cron_next_match(const alfred_cron *c, alfred_cron_time *t, int max_year);
extern bool alfred_cron_prev_match(const alfred_cron *c, alfred_cron_time *t, int min_year);

/*
 * Wall-clock seconds since 1970-01-01 00:00 (as if the zone were UTC) to a
 * minute and back; the conversion to a minute floors.
 */
extern void alfred_cron_time_from_seconds(int64_t secs, alfred_cron_time *t);
extern int64_t alfred_cron_time_to_seconds(const alfred_cron_time *t);

#endif							/* ALFRED_CORE_CRON_H */
