/*-------------------------------------------------------------------------
 *
 * calibrate.c
 *		The proactive calibration model of DESIGN.md: time-decayed counts of
 *		engaged and dismissed suggestions per (user, suggestion type), the
 *		suppression and boost rules, the user's global proactiveness level,
 *		the score p = P(X >= t) for X ~ Beta(1 + e, 1 + d), the deterministic
 *		yes/no draw from splitmix64, and the confidence of observed patterns.
 *
 * Vocabulary.  An engagement event's action is "engaged" (the user acted on
 * the suggestion, accepted it or replied to it) or "dismissed" (the user
 * closed, declined or ignored it); these two values are the only ones
 * accepted.  Its source is "conversation", "notification" or
 * "schedule".  Anything else is rejected by the parse functions.
 *
 * Decay.  A count c observed at time t0 weighs c * 0.5^((t - t0) / h) at
 * time t, with h = 14 days for the per-type counts e and d and 30 days for
 * the global counts.  Counts are kept as of the last event and advanced
 * lazily (alfred_cal_advance), so reading at any time needs no job.  An event
 * older than the state (clock skew between sessions) is counted at the
 * state's time rather than decaying the state backwards.
 *
 * Suppression.  A dismissal that makes at least 3 consecutive dismissals with
 * p_hat <= 0.25 suppresses the type until that dismissal + 30 days *
 * 2^(suppressions - 1), at most 180 days; a further dismissal while
 * suppressed moves the end to its own time + the same length.  An
 * engagement lifts the suppression and resets the backoff.  A suppression
 * that has run out is simply over (the next dismissal, still consecutive,
 * suppresses again with twice the length).
 *
 * Boost.  An engagement that makes at least 3 consecutive engagements with
 * p_hat >= 0.75 boosts the type; a boosted type is un-boosted as soon as
 * p_hat < 0.60, after a dismissal or because the counts decayed towards
 * the prior (a boost lapses after about a month without events).
 *
 *-------------------------------------------------------------------------
 */
#include "calibrate.h"

#include <float.h>
#include <math.h>
#include <string.h>

/*---- Vocabulary ----*/

bool
alfred_cal_parse_action(const char *s, alfred_cal_action *out)
{
	if (s == NULL)
		return false;
	if (strcmp(s, "engaged") == 0)
		*out = ALFRED_CAL_ENGAGED;
	else if (strcmp(s, "dismissed") == 0)
		*out = ALFRED_CAL_DISMISSED;
	else
		return false;
	return true;
}

bool
alfred_cal_parse_source(const char *s, alfred_cal_source *out)
{
	if (s == NULL)
		return false;
	if (strcmp(s, "conversation") == 0)
		*out = ALFRED_CAL_CONVERSATION;
	else if (strcmp(s, "notification") == 0)
		*out = ALFRED_CAL_NOTIFICATION;
	else if (strcmp(s, "schedule") == 0)
		*out = ALFRED_CAL_SCHEDULE;
	else
		return false;
	return true;
}

/* NULL means no override. */
bool
alfred_cal_parse_override(const char *s, alfred_cal_override *out)
{
	if (s == NULL)
		*out = ALFRED_CAL_OVERRIDE_NONE;
	else if (strcmp(s, "more") == 0)
		*out = ALFRED_CAL_OVERRIDE_MORE;
	else if (strcmp(s, "less") == 0)
		*out = ALFRED_CAL_OVERRIDE_LESS;
	else
		return false;
	return true;
}

/*---- The model ----*/

void
alfred_cal_init(alfred_cal_state *s)
{
	memset(s, 0, sizeof(*s));
}

double
alfred_cal_decay(double count, int64_t elapsed_us, double half_life_days)
{
	if (elapsed_us <= 0)
		return count;
	return count * exp2(-((double) elapsed_us / (double) ALFRED_CAL_USECS_PER_DAY) / half_life_days);
}

/* p_hat = (1 + e) / (2 + e + d): the mean of Beta(1 + e, 1 + d). */
double
alfred_cal_p_hat(const alfred_cal_state *s)
{
	return (1.0 + s->engaged) / (2.0 + s->engaged + s->dismissed);
}

/*
 * Bring a state to time now: decay the counts, end a suppression whose time
 * has come, drop a boost whose p_hat has fallen below the un-boost line.
 */
void
alfred_cal_advance(alfred_cal_state *s, int64_t now)
{
	if (!s->has_events)
		return;
	if (now > s->counted_at)
	{
		int64_t		dt = now - s->counted_at;

		s->engaged = alfred_cal_decay(s->engaged, dt, ALFRED_CAL_TYPE_HALF_LIFE_DAYS);
		s->dismissed = alfred_cal_decay(s->dismissed, dt, ALFRED_CAL_TYPE_HALF_LIFE_DAYS);
		s->global_engaged = alfred_cal_decay(s->global_engaged, dt, ALFRED_CAL_GLOBAL_HALF_LIFE_DAYS);
		s->global_dismissed = alfred_cal_decay(s->global_dismissed, dt, ALFRED_CAL_GLOBAL_HALF_LIFE_DAYS);
		s->counted_at = now;
	}
	if (s->suppressed && now >= s->suppressed_until)
		s->suppressed = false;
	if (s->boosted && alfred_cal_p_hat(s) < ALFRED_CAL_UNBOOST_P_HAT)
		s->boosted = false;
}

/* 30 days * 2^(suppressions - 1), at most 180 days, in microseconds. */
int64_t
alfred_cal_suppression_length(int32_t suppressions)
{
	int64_t		days = ALFRED_CAL_SUPPRESS_DAYS;
	int32_t		i;

	for (i = 1; i < suppressions && days < ALFRED_CAL_SUPPRESS_MAX_DAYS; i++)
		days *= 2;
	if (days > ALFRED_CAL_SUPPRESS_MAX_DAYS)
		days = ALFRED_CAL_SUPPRESS_MAX_DAYS;
	return days * ALFRED_CAL_USECS_PER_DAY;
}

static int32_t
increment(int32_t n)
{
	return n < INT32_MAX ? n + 1 : n;
}

static void
record_engaged(alfred_cal_state *s)
{
	s->engaged += 1.0;
	s->global_engaged += 1.0;
	s->consecutive_engagements = increment(s->consecutive_engagements);
	s->consecutive_dismissals = 0;
	s->suppressed = false;
	s->suppressions = 0;
	if (s->consecutive_engagements >= ALFRED_CAL_STREAK &&
		alfred_cal_p_hat(s) >= ALFRED_CAL_BOOST_P_HAT)
		s->boosted = true;
}

static void
record_dismissed(alfred_cal_state *s, int64_t at)
{
	s->dismissed += 1.0;
	s->global_dismissed += 1.0;
	s->consecutive_dismissals = increment(s->consecutive_dismissals);
	s->consecutive_engagements = 0;
	if (s->consecutive_dismissals >= ALFRED_CAL_STREAK &&
		alfred_cal_p_hat(s) <= ALFRED_CAL_SUPPRESS_P_HAT)
	{
		if (!s->suppressed)
			s->suppressions = increment(s->suppressions);
		s->suppressed = true;
		s->suppressed_until = at + alfred_cal_suppression_length(s->suppressions);
	}
}

/* Apply one event at time now (see the file header for the rules). */
void
alfred_cal_record(alfred_cal_state *s, alfred_cal_action action, int64_t now)
{
	alfred_cal_advance(s, now);
	if (!s->has_events)
	{
		s->has_events = true;
		s->counted_at = now;
	}
	if (action == ALFRED_CAL_ENGAGED)
		record_engaged(s);
	else
		record_dismissed(s, s->counted_at);
	if (s->boosted && alfred_cal_p_hat(s) < ALFRED_CAL_UNBOOST_P_HAT)
		s->boosted = false;
}

/*
 * g = clamp(lo, hi, (3.5 + Ge) / (5 + Ge + Gd)): 0.7 with no events, in
 * [0.2, 0.9], [0.6, 1.0] for 'more', [0.0, 0.4] for 'less'.
 */
double
alfred_cal_global_level(double global_engaged, double global_dismissed,
						alfred_cal_override override)
{
	double		ge = fmax(global_engaged, 0.0);
	double		gd = fmax(global_dismissed, 0.0);
	double		level = (3.5 + ge) / (5.0 + ge + gd);
	double		lo = 0.2,
				hi = 0.9;

	if (override == ALFRED_CAL_OVERRIDE_MORE)
	{
		lo = 0.6;
		hi = 1.0;
	}
	else if (override == ALFRED_CAL_OVERRIDE_LESS)
	{
		lo = 0.0;
		hi = 0.4;
	}
	return fmin(hi, fmax(lo, level));
}

/* t = (1 - g) / (base * (boosted ? 1.25 : 1)); base is in (0, 1]. */
double
alfred_cal_threshold(double level, double base, bool boosted)
{
	return (1.0 - level) / (base * (boosted ? ALFRED_CAL_BOOST_FACTOR : 1.0));
}

/*
 * p = P(X >= t), X ~ Beta(1 + e, 1 + d), for a state already advanced to the
 * time of the question; 0 when suppressed.  s may be NULL (no history).
 * P(X >= t) = 1 - I_t(a, b) = I_(1-t)(b, a), which keeps precision near 1.
 */
double
alfred_cal_score(const alfred_cal_state *s, double level, double base)
{
	alfred_cal_state fresh;
	double		t;

	if (s == NULL)
	{
		alfred_cal_init(&fresh);
		s = &fresh;
	}
	if (s->suppressed)
		return 0.0;
	t = alfred_cal_threshold(level, base, s->boosted);
	if (t >= 1.0)
		return 0.0;
	if (t <= 0.0)
		return 1.0;
	return alfred_cal_beta_inc(1.0 - t, 1.0 + s->dismissed, 1.0 + s->engaged);
}

/*---- Numerics ----*/

#define BETA_MAX_ITERATIONS 100000
#define BETA_TINY 1e-300

static double
guard(double v)
{
	return fabs(v) < BETA_TINY ? BETA_TINY : v;
}

/*
 * The continued fraction of I_x(a, b) (modified Lentz), converging fast for
 * x < (a + 1) / (a + b + 2); Numerical Recipes' betacf.
 */
static double
beta_fraction(double x, double a, double b)
{
	double		c = 1.0;
	double		d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
	double		h = d;
	int			m;

	for (m = 1; m <= BETA_MAX_ITERATIONS; m++)
	{
		double		m2 = 2.0 * m;
		double		aa = m * (b - m) * x / ((a - 1.0 + m2) * (a + m2));
		double		delta;

		d = 1.0 / guard(1.0 + aa * d);
		c = guard(1.0 + aa / c);
		h *= d * c;
		aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2));
		d = 1.0 / guard(1.0 + aa * d);
		c = guard(1.0 + aa / c);
		delta = d * c;
		h *= delta;
		if (fabs(delta - 1.0) < 4.0 * DBL_EPSILON)
			break;
	}
	return h;
}

/* The regularized incomplete beta function I_x(a, b), a, b > 0. */
double
alfred_cal_beta_inc(double x, double a, double b)
{
	double		front;

	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
	if (x < (a + 1.0) / (a + b + 2.0))
		return front * beta_fraction(x, a, b) / a;
	return 1.0 - front * beta_fraction(1.0 - x, b, a) / b;
}

/* The first output of a splitmix64 generator seeded with seed (Steele et al.). */
uint64_t
alfred_cal_splitmix64(uint64_t seed)
{
	uint64_t	z = seed + UINT64_C(0x9e3779b97f4a7c15);

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* u in [0, 1): the top 53 bits of splitmix64(seed) / 2^53. */
double
alfred_cal_uniform(uint64_t seed)
{
	return (double) (alfred_cal_splitmix64(seed) >> 11) * (1.0 / 9007199254740992.0);
}

bool
alfred_cal_decide(double p, uint64_t seed)
{
	return alfred_cal_uniform(seed) < p;
}

/*---- Observed patterns ----*/

/* n / (n + 2) * 0.5^(days since last seen / 30). */
double
alfred_cal_pattern_confidence(int64_t occurrences, int64_t since_last_seen_us)
{
	double		n;

	if (occurrences <= 0)
		return 0.0;
	n = (double) occurrences;
	return alfred_cal_decay(n / (n + 2.0), since_last_seen_us,
							ALFRED_CAL_PATTERN_HALF_LIFE_DAYS);
}

bool
alfred_cal_pattern_actionable(bool acted_on, int64_t occurrences, double confidence)
{
	return !acted_on &&
		occurrences >= ALFRED_CAL_PATTERN_MIN_OCCURRENCES &&
		confidence >= ALFRED_CAL_PATTERN_MIN_CONFIDENCE;
}
