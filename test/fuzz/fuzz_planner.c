/*
 * fuzz_planner.c
 *		libFuzzer target for the free-slot planner (src/core/planner.c).
 *
 * The input is decoded into a planner spec over at most two days in a
 * fixed-offset zone, at minute granularity.  Every result must be sorted,
 * disjoint, inside the range, at least the duration long, and equal to the
 * maximal free runs that a minute-by-minute oracle finds.  The clock and
 * weekday parsers get the raw bytes too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "planner.h"

#define MIN ((int64_t) 60000000)
#define DAY (1440 * MIN)

typedef struct reader
{
	const uint8_t *p;
	size_t		n;
} reader;

static unsigned
next(reader *r, unsigned mod)
{
	unsigned	v;

	if (r->n < 2)
		return 0;
	v = (unsigned) r->p[0] << 8 | r->p[1];
	r->p += 2;
	r->n -= 2;
	return mod ? v % mod : v;
}

static int64_t
zone(void *arg, int y, int m, int d, int minute)
{
	return alfred_days_from_civil(y, m, d) * DAY + (minute - *(int *) arg) * MIN;
}

static int
in_daily(alfred_plan_daily w, int mod)
{
	if (w.start_minute < 0 || w.start_minute == w.end_minute)
		return 0;
	if (w.start_minute < w.end_minute)
		return mod >= w.start_minute && mod < w.end_minute;
	return mod >= w.start_minute || mod < w.end_minute;
}

static int
oracle_free(const alfred_plan_spec *s, int offset, int64_t m)
{
	int64_t		local = m + offset;
	long		day = (long) (local >= 0 ? local / 1440 : (local - 1439) / 1440);
	int			mod = (int) (local - (int64_t) day * 1440);
	int			in_block = s->nblocks == 0;

	for (int b = 0; b < s->nblocks; b++)
		if (s->blocks[b].weekday == alfred_iso_weekday(day) &&
			mod >= s->blocks[b].start_minute && mod < s->blocks[b].end_minute)
			in_block = 1;
	if (!in_block || in_daily(s->quiet, mod) || in_daily(s->lunch, mod))
		return 0;
	for (int i = 0; i < s->nbusy; i++)
		if (m * MIN >= s->busy[i].start - s->buffer_before &&
			m * MIN < s->busy[i].end + s->buffer_after)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	reader		r = {data, size};
	alfred_plan_block blocks[8];
	alfred_interval busy[16];
	alfred_interval *scratch,
			   *out;
	alfred_plan_spec s;
	int			offset,
				m;
	int64_t		from,
				to,
				mm;
	long		n,
				k = 0;
	int			y,
				mo,
				d;

	alfred_plan_parse_clock((const char *) data, size < 8 ? size : 8, &m);
	alfred_plan_parse_weekday((const char *) data, size < 12 ? size : 12);

	memset(&s, 0, sizeof(s));
	offset = (int) next(&r, 1681) - 840;	/* UTC-14 .. UTC+14 */
	from = alfred_days_from_civil(2026, 3, 1) * 1440 + next(&r, 7 * 1440);
	to = from + 1 + next(&r, 2 * 1440);
	s.range = (alfred_interval) {from * MIN, to * MIN};
	s.duration = (1 + next(&r, 240)) * MIN;
	s.buffer_before = next(&r, 60) * MIN;
	s.buffer_after = next(&r, 60) * MIN;
	s.nblocks = (int) next(&r, 9);
	for (int b = 0; b < s.nblocks; b++)
	{
		blocks[b].weekday = 1 + (int) next(&r, 7);
		blocks[b].start_minute = (int) next(&r, 1440);
		blocks[b].end_minute = blocks[b].start_minute + 1 +
			(int) next(&r, (unsigned) (1440 - blocks[b].start_minute));
	}
	s.blocks = blocks;
	s.quiet.start_minute = (int) next(&r, 1441) - 1;
	s.quiet.end_minute = (int) next(&r, 1441);
	s.lunch.start_minute = (int) next(&r, 1441) - 1;
	s.lunch.end_minute = (int) next(&r, 1441);
	s.nbusy = (int) next(&r, 17);
	for (int i = 0; i < s.nbusy; i++)
	{
		int64_t		st = from - 120 + next(&r, (unsigned) (to - from + 240));

		busy[i] = (alfred_interval) {st * MIN, (st + (int) next(&r, 300) - 20) * MIN};
	}
	s.busy = busy;
	alfred_civil_from_days((long) ((from + offset) / 1440) - 1, &y, &mo, &d);
	s.first_year = y;
	s.first_month = mo;
	s.first_day = d;
	s.ndays = 5;
	s.local_to_instant = zone;
	s.arg = &offset;

	scratch = malloc(sizeof(alfred_interval) * alfred_plan_scratch_size(&s));
	out = malloc(sizeof(alfred_interval) * alfred_plan_scratch_size(&s));
	n = alfred_plan_free_slots(&s, scratch, out);
	if (n < 0)
		abort();				/* every decoded spec is valid */
	for (long i = 0; i < n; i++)
	{
		if (out[i].end - out[i].start < s.duration || out[i].start < s.range.start ||
			out[i].end > s.range.end || (i > 0 && out[i].start <= out[i - 1].end))
			abort();
	}
	/* the oracle's maximal free runs, in order */
	for (mm = from; mm < to;)
	{
		int64_t		start;

		if (!oracle_free(&s, offset, mm))
		{
			mm++;
			continue;
		}
		start = mm;
		while (mm < to && oracle_free(&s, offset, mm))
			mm++;
		if ((mm - start) * MIN < s.duration)
			continue;
		if (k >= n || out[k].start != start * MIN || out[k].end != mm * MIN)
			abort();
		k++;
	}
	if (k != n)
		abort();
	free(scratch);
	free(out);
	return 0;
}
