/*
 * test_calibrate.c
 *		Unit tests of the proactive calibration model (src/core/calibrate.c)
 *		against hand-computed values.  Reference values for non-integer
 *		Beta parameters were computed with mpmath at 40 digits; integer ones
 *		use the closed form P(X >= t) = sum_{j<a} C(n, j) t^j (1-t)^(n-j),
 *		n = a + b - 1, computed independently below.
 */
#include "calibrate.h"
#include "tap.h"

#include <math.h>
#include <stdint.h>

#define DAY ALFRED_CAL_USECS_PER_DAY
#define T0 (INT64_C(820000000) * INT64_C(1000000))	/* any fixed instant */

/* P(X >= t) for X ~ Beta(a, b), integer a and b, by the binomial sum. */
static double
binomial_tail(int a, int b, double t)
{
	int			n = a + b - 1;
	double		sum = 0.0;
	int			j;

	for (j = 0; j < a; j++)
		sum += exp(lgamma(n + 1.0) - lgamma(j + 1.0) - lgamma(n - j + 1.0) +
				   j * log(t) + (n - j) * log1p(-t));
	return sum;
}

static void
record_n(alfred_cal_state *s, alfred_cal_action action, int n, int64_t at)
{
	while (n-- > 0)
		alfred_cal_record(s, action, at);
}

static double
score_at(alfred_cal_state s, int64_t at, double base)
{
	alfred_cal_advance(&s, at);
	return alfred_cal_score(&s, alfred_cal_global_level(s.global_engaged, s.global_dismissed,
														ALFRED_CAL_OVERRIDE_NONE), base);
}

static void
test_vocabulary(void)
{
	alfred_cal_action a = ALFRED_CAL_DISMISSED;
	alfred_cal_source src = ALFRED_CAL_CONVERSATION;
	alfred_cal_override o = ALFRED_CAL_OVERRIDE_MORE;

	ok(alfred_cal_parse_action("engaged", &a) && a == ALFRED_CAL_ENGAGED, "engaged is engaged");
	ok(alfred_cal_parse_action("dismissed", &a) && a == ALFRED_CAL_DISMISSED, "dismissed is dismissed");
	ok(!alfred_cal_parse_action("ignored", &a), "an unknown action is rejected");
	ok(!alfred_cal_parse_action("Engaged", &a), "actions are case-sensitive, as the CHECK constraint");
	ok(!alfred_cal_parse_action(NULL, &a), "a NULL action is rejected");
	ok(alfred_cal_parse_source("conversation", &src) && src == ALFRED_CAL_CONVERSATION, "conversation");
	ok(alfred_cal_parse_source("notification", &src) && src == ALFRED_CAL_NOTIFICATION, "notification");
	ok(alfred_cal_parse_source("schedule", &src) && src == ALFRED_CAL_SCHEDULE, "schedule");
	ok(!alfred_cal_parse_source("email", &src), "an unknown source is rejected");
	ok(!alfred_cal_parse_source(NULL, &src), "a NULL source is rejected");
	ok(alfred_cal_parse_override(NULL, &o) && o == ALFRED_CAL_OVERRIDE_NONE, "NULL override is none");
	ok(alfred_cal_parse_override("more", &o) && o == ALFRED_CAL_OVERRIDE_MORE, "more");
	ok(alfred_cal_parse_override("less", &o) && o == ALFRED_CAL_OVERRIDE_LESS, "less");
	ok(!alfred_cal_parse_override("none", &o), "an unknown override is rejected");
}

static void
test_beta(void)
{
	is_double(alfred_cal_beta_inc(0.0, 2.0, 3.0), 0.0, 0.0, "I_0 = 0");
	is_double(alfred_cal_beta_inc(1.0, 2.0, 3.0), 1.0, 0.0, "I_1 = 1");
	is_double(alfred_cal_beta_inc(0.375, 1.0, 1.0), 0.375, 1e-15, "Beta(1,1) is uniform");
	is_double(alfred_cal_beta_inc(0.3, 3.0, 1.0), 0.027, 1e-14, "I_x(3,1) = x^3");
	is_double(alfred_cal_beta_inc(0.3, 1.0, 4.0), 1.0 - pow(0.7, 4), 1e-14, "I_x(1,4) = 1-(1-x)^4");
	is_double(alfred_cal_beta_inc(0.25, 2.0, 2.0), 3 * 0.0625 - 2 * 0.015625, 1e-14,
			  "I_x(2,2) = 3x^2 - 2x^3");
	is_double(alfred_cal_beta_inc(0.5, 1001.0, 1001.0), 0.5, 1e-10, "symmetric large counts: 1/2");
	is_double(1.0 - alfred_cal_beta_inc(0.75, 3001.0, 1001.0), binomial_tail(3001, 1001, 0.75), 1e-10,
			  "Beta(3001,1001) tail agrees with the binomial sum");
	is_double(1.0 - alfred_cal_beta_inc(0.75, 3001.0, 1001.0), 0.49514498221074702, 1e-10,
			  "Beta(3001,1001) tail at 0.75 (mpmath)");
	is_double(1.0 - alfred_cal_beta_inc(0.8, 20001.0, 5001.0), 0.49747694190886735, 1e-10,
			  "Beta(20001,5001) tail at 0.8 (mpmath)");
	is_double(1.0 - alfred_cal_beta_inc(0.495, 20001.0, 20001.0), 0.97725459203572322, 1e-10,
			  "Beta(20001,20001) tail at 0.495 (mpmath)");
	is_double(1.0 - alfred_cal_beta_inc(0.4, 3.5, 2.25), 0.84788751241072190, 1e-10,
			  "decayed counts: Beta(3.5,2.25) tail at 0.4 (mpmath)");
	is_double(1.0 - alfred_cal_beta_inc(0.1, 1.5, 8.3), 0.61495234456322618, 1e-10,
			  "decayed counts: Beta(1.5,8.3) tail at 0.1 (mpmath)");
	is_double(alfred_cal_beta_inc(0.3, 7.0, 2.0) + alfred_cal_beta_inc(0.7, 2.0, 7.0), 1.0, 1e-14,
			  "I_x(a,b) + I_(1-x)(b,a) = 1");
}

static void
test_example_and_edges(void)
{
	alfred_cal_state s;
	double		g = alfred_cal_global_level(0.0, 0.0, ALFRED_CAL_OVERRIDE_NONE);

	alfred_cal_init(&s);
	is_double(g, 0.7, 1e-15, "no events: global level 0.7");
	is_double(alfred_cal_threshold(g, 0.8, false), 0.375, 1e-15, "design example: t = 0.375");
	is_double(alfred_cal_score(&s, g, 0.8), 0.625, 1e-15, "design example: p = 0.625");
	is_double(alfred_cal_score(NULL, g, 0.8), 0.625, 1e-15, "NULL state is no history");
	is_double(alfred_cal_score(&s, 1.0, 0.5), 1.0, 0.0, "t <= 0 (level 1): p = 1");
	is_double(alfred_cal_score(&s, 0.0, 1.0), 0.0, 0.0, "t = 1 exactly: p = 0");
	is_double(alfred_cal_score(&s, 0.4, 0.5), 0.0, 0.0, "t > 1 (1.2): p = 0");
	is_double(alfred_cal_score(&s, 0.7, 1.0), 0.7, 1e-15, "no history, base 1: p = g");
}

static void
test_global_level(void)
{
	is_double(alfred_cal_global_level(2.0, 0.0, ALFRED_CAL_OVERRIDE_NONE), 5.5 / 7.0, 1e-15,
			  "two engagements: 5.5/7");
	is_double(alfred_cal_global_level(0.0, 100.0, ALFRED_CAL_OVERRIDE_NONE), 0.2, 0.0, "lower bound 0.2");
	is_double(alfred_cal_global_level(100.0, 0.0, ALFRED_CAL_OVERRIDE_NONE), 0.9, 0.0, "upper bound 0.9");
	is_double(alfred_cal_global_level(0.0, 0.0, ALFRED_CAL_OVERRIDE_MORE), 0.7, 1e-15, "more: 0.7 inside [0.6,1]");
	is_double(alfred_cal_global_level(0.0, 100.0, ALFRED_CAL_OVERRIDE_MORE), 0.6, 0.0, "more: at least 0.6");
	is_double(alfred_cal_global_level(1e6, 0.0, ALFRED_CAL_OVERRIDE_MORE), (3.5 + 1e6) / (5 + 1e6), 1e-15,
			  "more: up to 1.0");
	is_double(alfred_cal_global_level(0.0, 0.0, ALFRED_CAL_OVERRIDE_LESS), 0.4, 0.0, "less: at most 0.4");
	is_double(alfred_cal_global_level(0.0, 100.0, ALFRED_CAL_OVERRIDE_LESS), 3.5 / 105.0, 1e-15,
			  "less: down to 0.0");
}

static void
test_counts_and_decay(void)
{
	alfred_cal_state s;

	alfred_cal_init(&s);
	record_n(&s, ALFRED_CAL_ENGAGED, 2, T0);
	is_double(s.engaged, 2.0, 0.0, "two engagements at once: e = 2");
	is_int(s.consecutive_engagements, 2, "two consecutive engagements");
	ok(!s.boosted, "two engagements do not boost");
	/* g = 5.5/7, t = 1 - g = 3/14, p = 1 - t^3 */
	is_double(score_at(s, T0, 1.0), 1.0 - pow(3.0 / 14.0, 3), 1e-14, "e=2, d=0, base 1: p = 1 - (3/14)^3");
	is_double(score_at(s, T0, 1.0), 0.99016034985422741, 1e-14, "... = 0.9901603498542274");

	alfred_cal_advance(&s, T0 + 14 * DAY);
	is_double(s.engaged, 1.0, 1e-14, "one half-life later: e halves");
	is_double(s.global_engaged, 2.0 * pow(0.5, 14.0 / 30.0), 1e-14, "global counts use 30 days");
	is_double(alfred_cal_decay(8.0, 3 * 30 * DAY, 30.0), 1.0, 1e-14, "three half-lives: 1/8");
	is_double(alfred_cal_decay(8.0, -DAY, 30.0), 8.0, 0.0, "no decay backwards in time");

	alfred_cal_record(&s, ALFRED_CAL_DISMISSED, T0 + 7 * DAY);
	ok(s.counted_at == T0 + 14 * DAY, "a late event does not move the state back");
	is_double(s.dismissed, 1.0, 0.0, "a late event still counts");

	alfred_cal_advance(&s, T0 + 14 * DAY + 3650 * DAY);
	ok(s.engaged < 1e-70 && s.dismissed < 1e-70, "ten years later the counts are gone");
	is_double(alfred_cal_p_hat(&s), 0.5, 1e-15, "... and p_hat is the prior's 0.5");
	is_double(score_at(s, s.counted_at, 0.8), 0.625, 1e-12, "... and the score is the example's again");
}

static void
test_suppression(void)
{
	alfred_cal_state s;

	alfred_cal_init(&s);
	record_n(&s, ALFRED_CAL_DISMISSED, 2, T0);
	ok(!s.suppressed, "two dismissals do not suppress");
	alfred_cal_record(&s, ALFRED_CAL_DISMISSED, T0);
	is_double(alfred_cal_p_hat(&s), 0.2, 1e-15, "three dismissals: p_hat = 1/5");
	ok(s.suppressed, "three dismissals with p_hat 0.2 suppress");
	is_int(s.suppressions, 1, "first suppression");
	ok(s.suppressed_until == T0 + 30 * DAY, "for 30 days");
	is_double(score_at(s, T0 + 30 * DAY - 1, 1.0), 0.0, 0.0, "suppressed: score 0");
	ok(score_at(s, T0 + 30 * DAY, 1.0) > 0.0, "the suppression ends by itself after 30 days");

	/* a second suppression lasts twice as long */
	alfred_cal_record(&s, ALFRED_CAL_DISMISSED, T0 + 30 * DAY);
	ok(!s.suppressed, "after 30 days one more dismissal is not enough (d = 3*0.5^(30/14)+1)");
	alfred_cal_record(&s, ALFRED_CAL_DISMISSED, T0 + 30 * DAY);
	ok(s.suppressed && s.suppressions == 2, "a second one suppresses again");
	ok(s.suppressed_until == T0 + 90 * DAY, "for 60 days");
	alfred_cal_record(&s, ALFRED_CAL_DISMISSED, T0 + 40 * DAY);
	ok(s.suppressed_until == T0 + 100 * DAY && s.suppressions == 2,
	   "a dismissal while suppressed restarts the same length from itself");

	ok(alfred_cal_suppression_length(1) == 30 * DAY, "backoff 1: 30 days");
	ok(alfred_cal_suppression_length(3) == 120 * DAY, "backoff 3: 120 days");
	ok(alfred_cal_suppression_length(4) == 180 * DAY, "backoff 4: capped at 180 days");
	ok(alfred_cal_suppression_length(INT32_MAX) == 180 * DAY, "backoff stays capped");

	alfred_cal_record(&s, ALFRED_CAL_ENGAGED, T0 + 41 * DAY);
	ok(!s.suppressed, "an engagement lifts the suppression");
	is_int(s.suppressions, 0, "... and resets the backoff");
	is_int(s.consecutive_dismissals, 0, "... and the run of dismissals");

	/* p_hat <= 0.25 is inclusive: e = 1, d = 5 gives exactly 2/8 */
	alfred_cal_init(&s);
	alfred_cal_record(&s, ALFRED_CAL_ENGAGED, T0);
	record_n(&s, ALFRED_CAL_DISMISSED, 4, T0);
	ok(!s.suppressed, "e=1, d=4: p_hat 2/7 does not suppress");
	alfred_cal_record(&s, ALFRED_CAL_DISMISSED, T0);
	ok(s.suppressed, "e=1, d=5: p_hat exactly 0.25 suppresses");
}

static void
test_boost(void)
{
	alfred_cal_state s;

	alfred_cal_init(&s);
	record_n(&s, ALFRED_CAL_ENGAGED, 3, T0);
	is_double(alfred_cal_p_hat(&s), 0.8, 1e-15, "three engagements: p_hat = 4/5");
	ok(s.boosted, "three engagements boost");
	is_double(alfred_cal_threshold(0.7, 1.0, true), 0.24, 1e-15, "boosted threshold 0.3/1.25");
	is_double(alfred_cal_score(&s, 0.7, 1.0), 1.0 - pow(0.24, 4), 1e-14, "boosted e=3: p = 1 - 0.24^4");
	alfred_cal_record(&s, ALFRED_CAL_DISMISSED, T0);
	ok(s.boosted, "one dismissal: p_hat 4/6 keeps the boost");
	alfred_cal_record(&s, ALFRED_CAL_DISMISSED, T0);
	ok(!s.boosted, "two dismissals: p_hat 4/7 < 0.60 un-boosts");
	alfred_cal_record(&s, ALFRED_CAL_ENGAGED, T0);
	ok(!s.boosted, "one engagement is not a run of three");

	/* a boost lapses when decay brings p_hat under 0.6: (1+3f)/(2+3f) < 0.6 iff f < 1/6 */
	alfred_cal_init(&s);
	record_n(&s, ALFRED_CAL_ENGAGED, 3, T0);
	alfred_cal_advance(&s, T0 + 36 * DAY);
	ok(s.boosted, "36 days later still boosted (14*log2(6) = 36.19 days)");
	alfred_cal_advance(&s, T0 + 37 * DAY);
	ok(!s.boosted, "37 days later the boost has lapsed");

	/* three engagements after dismissals: p_hat (1+3)/(2+3+2) = 0.571 < 0.75 */
	alfred_cal_init(&s);
	record_n(&s, ALFRED_CAL_DISMISSED, 2, T0);
	record_n(&s, ALFRED_CAL_ENGAGED, 3, T0);
	ok(!s.boosted, "three engagements after two dismissals: p_hat 4/7 does not boost");
	record_n(&s, ALFRED_CAL_ENGAGED, 4, T0);
	ok(!s.boosted, "seven engagements: p_hat 8/11 does not boost");
	alfred_cal_record(&s, ALFRED_CAL_ENGAGED, T0);
	ok(s.boosted, "eight engagements: p_hat exactly 9/12 = 0.75 boosts");
}

static void
test_draw(void)
{
	ok(alfred_cal_splitmix64(0) == UINT64_C(0xe220a8397b1dcdaf), "splitmix64(0) reference value");
	ok(alfred_cal_splitmix64(1234567) == UINT64_C(6457827717110365317), "splitmix64(1234567) reference value");
	is_double(alfred_cal_uniform(0), (double) (UINT64_C(0xe220a8397b1dcdaf) >> 11) / 9007199254740992.0, 0.0,
			  "u = top 53 bits / 2^53");
	ok(alfred_cal_uniform(0) > 0.88 && alfred_cal_uniform(0) < 0.89, "u(0) = 0.8833...");
	ok(!alfred_cal_decide(0.0, 0), "p = 0 never says yes");
	ok(alfred_cal_decide(1.0, 0), "p = 1 always says yes");
	ok(alfred_cal_decide(0.9, 0) && !alfred_cal_decide(0.88, 0), "yes iff u < p");
}

static void
test_patterns(void)
{
	is_double(alfred_cal_pattern_confidence(3, 0), 0.6, 1e-15, "n=3 just seen: 3/5");
	is_double(alfred_cal_pattern_confidence(3, 30 * DAY), 0.3, 1e-15, "n=3 a month ago: half");
	is_double(alfred_cal_pattern_confidence(0, 0), 0.0, 0.0, "no occurrences: 0");
	is_double(alfred_cal_pattern_confidence(3, 7 * DAY), 0.51040029657051342, 1e-14, "n=3, 7 days: 0.5104");
	ok(alfred_cal_pattern_actionable(false, 3, alfred_cal_pattern_confidence(3, 7 * DAY)),
	   "n=3, 7 days: actionable");
	ok(!alfred_cal_pattern_actionable(false, 3, alfred_cal_pattern_confidence(3, 8 * DAY)),
	   "n=3, 8 days (0.4987): not actionable");
	ok(!alfred_cal_pattern_actionable(false, 2, 0.9), "n=2: not actionable");
	ok(!alfred_cal_pattern_actionable(true, 10, 0.9), "acted on: not actionable");
	ok(alfred_cal_pattern_actionable(false, 3, 0.5), "confidence exactly 0.5 is actionable");
}

int
main(void)
{
	test_vocabulary();
	test_beta();
	test_example_and_edges();
	test_global_level();
	test_counts_and_decay();
	test_suppression();
	test_boost();
	test_draw();
	test_patterns();
	return done_testing();
}
