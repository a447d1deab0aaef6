/*
 * fuzz_calibrate.c
 *		libFuzzer target for the calibration core: the input is a sequence of
 *		events (engaged, dismissed, or just time passing, forwards or a little
 *		backwards) applied to one state; after each the state must stay sane
 *		(finite non-negative counts, global counts at least the per-type ones,
 *		suppression only after a run of dismissals and never longer than 180
 *		days, never suppressed and boosted, a boost only with p_hat >= 0.60)
 *		and every score and incomplete beta value must lie in [0, 1], the
 *		latter non-decreasing in x.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void
check_state(const alfred_cal_state *s)
{
	CHECK(isfinite(s->engaged) && s->engaged >= 0);
	CHECK(isfinite(s->dismissed) && s->dismissed >= 0);
	CHECK(s->global_engaged >= s->engaged * (1 - 1e-12));
	CHECK(s->global_dismissed >= s->dismissed * (1 - 1e-12));
	CHECK(!(s->suppressed && s->boosted));
	if (s->suppressed)
	{
		CHECK(s->consecutive_dismissals >= ALFRED_CAL_STREAK);
		CHECK(s->suppressed_until <= s->counted_at + ALFRED_CAL_SUPPRESS_MAX_DAYS * ALFRED_CAL_USECS_PER_DAY);
	}
	if (s->boosted)
		CHECK(alfred_cal_p_hat(s) >= ALFRED_CAL_UNBOOST_P_HAT);
}

static void
check_beta(double a, double b)
{
	double		prev = 0.0;
	int			i;

	for (i = 0; i <= 16; i++)
	{
		double		v = alfred_cal_beta_inc(i / 16.0, a, b);

		CHECK(v >= 0.0 && v <= 1.0);
		CHECK(v >= prev - 1e-9);
		prev = v;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	alfred_cal_state s;
	int64_t		now = INT64_C(800000000) * 1000000;
	size_t		i;

	alfred_cal_init(&s);
	for (i = 0; i + 4 <= size; i += 4)
	{
		uint32_t	arg = data[i + 1] | (data[i + 2] << 8) | ((uint32_t) data[i + 3] << 16);
		double		base = (arg % 1000 + 1) / 1000.0;
		alfred_cal_override o = (alfred_cal_override) (data[i] >> 6) % 3;
		double		level,
					p;

		switch (data[i] & 3)
		{
			case 0:
				alfred_cal_record(&s, ALFRED_CAL_ENGAGED, now);
				break;
			case 1:
				alfred_cal_record(&s, ALFRED_CAL_DISMISSED, now);
				break;
			case 2:				/* time passes: up to 194 days */
				now += (int64_t) arg * 1000000;
				alfred_cal_advance(&s, now);
				break;
			case 3:				/* an event stamped a little in the past */
				alfred_cal_record(&s, (data[i] & 4) ? ALFRED_CAL_ENGAGED : ALFRED_CAL_DISMISSED,
								  now - (int64_t) (arg % 3600) * 1000000);
				break;
		}
		check_state(&s);
		level = alfred_cal_global_level(s.global_engaged, s.global_dismissed, o);
		CHECK(level >= 0.0 && level <= 1.0);
		p = alfred_cal_score(&s, level, base);
		CHECK(p >= 0.0 && p <= 1.0);
		CHECK(!s.suppressed || p == 0.0);
		CHECK(!alfred_cal_decide(0.0, arg) && alfred_cal_decide(1.0, arg));
		if ((data[i] & 0x3c) == 0x3c)
			check_beta(1.0 + s.engaged + arg % 5000, 1.0 + s.dismissed + (arg >> 12));
	}
	return 0;
}
