/*
 * fuzz_cron_zone.c
 *		libFuzzer target for the DST search (src/core/cron_zone.c): any bytes
 *		are an expression; its fire times in a zone with a gap, a fold and a
 *		skipped day (offsets chosen by the input), from a start instant taken
 *		from the input, must be consistent: next(a) >= a, a fire time is its
 *		own prev and next, nothing fires strictly between a and next(a) by
 *		prev, and the compiled fast path agrees with the search.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "cron.h"
#include "cron_zone.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Offsets in force from each transition; the first is in force before them. */
typedef struct fuzz_zone
{
	int64_t		at[3];
	long		off[4];
} fuzz_zone;

static int
fuzz_offsets(void *arg, int64_t t, long *before_off, int64_t *boundary, long *after_off)
{
	const fuzz_zone *z = arg;
	int			i;

	for (i = 0; i < 3 && z->at[i] <= t; i++)
		;
	*before_off = z->off[i];
	if (i == 3)
		return 0;
	*boundary = z->at[i];
	*after_off = z->off[i + 1];
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		expr[ALFRED_CRON_MAX_LEN + 2];
	alfred_cron c;
	fuzz_zone	z;
	alfred_cron_zone zone;
	static alfred_cron_compiled cc;
	uint64_t	seed = 0;
	int64_t		base = alfred_days_from_civil(2030, 3, 1) * ALFRED_SECS_PER_DAY,
				a,
				n,
				p,
				f;
	size_t		i;

	if (size > ALFRED_CRON_MAX_LEN + 1)
		size = ALFRED_CRON_MAX_LEN + 1;
	memcpy(expr, data, size);
	expr[size] = '\0';
	for (i = 0; i < size; i++)
		seed = seed * 131 + data[i];
	if (alfred_cron_parse(expr, &c, NULL) != ALFRED_CRON_OK || c.interval_seconds)
		return 0;

	/* a gap of 1-3 hours, a fold of 1-3 hours, then a skipped day */
	z.off[0] = (long) (seed % 27 - 13) * 1800;
	z.off[1] = z.off[0] + (long) (1 + seed / 27 % 6) * 1800;
	z.at[0] = base + (int64_t) (seed / 200 % 30) * ALFRED_SECS_PER_DAY + 7200;
	z.off[2] = z.off[1] - (long) (1 + seed / 7000 % 6) * 1800;
	z.at[1] = z.at[0] + 60 * ALFRED_SECS_PER_DAY;
	z.off[3] = z.off[2] + ALFRED_SECS_PER_DAY;
	z.at[2] = z.at[1] + 60 * ALFRED_SECS_PER_DAY - z.off[2];
	alfred_cron_zone_init(&zone, fuzz_offsets, &z, base - 3000 * ALFRED_SECS_PER_DAY,
						  base + 3000 * ALFRED_SECS_PER_DAY);
	alfred_cron_compiled_set(&cc, &c);
	cc.zone = zone;

	a = base + (int64_t) (seed >> 20) % (200 * ALFRED_SECS_PER_DAY);
	if (alfred_cron_next_instant(&c, &zone, a, &n) != ALFRED_CRON_FOUND)
		return 0;				/* nothing within the limits (e.g. 30 Feb never, limits) */
	if (n < a)
		abort();
	if (alfred_cron_compiled_next(&cc, a, &f) != ALFRED_CRON_FOUND || f != n)
		abort();
	if (alfred_cron_next_instant(&c, &zone, n, &f) != ALFRED_CRON_FOUND || f != n)
		abort();				/* a fire time is its own next */
	if (alfred_cron_prev_instant(&c, &zone, n, &p) != ALFRED_CRON_FOUND || p != n)
		abort();				/* ... and its own prev */
	if (n > a && alfred_cron_prev_instant(&c, &zone, n - 1, &p) == ALFRED_CRON_FOUND && p >= a)
		abort();				/* nothing fires in [a, n) */
	return 0;
}
