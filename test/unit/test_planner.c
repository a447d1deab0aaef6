/*
 * test_planner.c
 *		Unit tests of the free-slot planner (src/core/planner.c).
 */
#include "tap.h"
#include "calendar.h"
#include "planner.h"

#include <stdlib.h>

#define MIN ((int64_t) 60 * 1000000)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

/* A zone at a fixed offset (minutes east of UTC); instants count from 1970. */
static int64_t
fixed_zone(void *arg, int y, int m, int d, int minute)
{
	int			offset = *(int *) arg;

	return alfred_days_from_civil(y, m, d) * DAY + (minute - offset) * MIN;
}

/*
 * A zone at UTC-5 that springs forward to UTC-4 at 02:00 local on
 * 2026-03-08 (as America/New_York does).
 */
static int64_t
dst_zone(void *arg, int y, int m, int d, int minute)
{
	long		days = alfred_days_from_civil(y, m, d);
	long		change = alfred_days_from_civil(2026, 3, 8);
	int			offset = (days > change || (days == change && minute >= 120)) ? -240 : -300;

	(void) arg;
	return days * DAY + (minute - offset) * MIN;
}

static int64_t
at(int y, int m, int d, int hour, int minute)
{
	return alfred_days_from_civil(y, m, d) * DAY + hour * HOUR + minute * MIN;
}

static long
plan(const alfred_plan_spec *spec, alfred_interval *out)
{
	alfred_interval scratch[512];

	if (alfred_plan_scratch_size(spec) > 512)
		return -100;
	return alfred_plan_free_slots(spec, scratch, out);
}

static alfred_plan_spec
utc_spec(int64_t from, int64_t to, int64_t duration, int *offset)
{
	alfred_plan_spec s = {0};
	int			y,
				m,
				d;

	s.range = (alfred_interval) {from, to};
	s.duration = duration;
	s.quiet.start_minute = -1;
	s.lunch.start_minute = -1;
	alfred_civil_from_days(from / DAY - 1, &y, &m, &d);
	s.first_year = y;
	s.first_month = m;
	s.first_day = d;
	s.ndays = (int) ((to - from) / DAY) + 3;
	s.local_to_instant = fixed_zone;
	s.arg = offset;
	return s;
}

static void
test_calendar(void)
{
	int			y,
				m,
				d;

	is_int(alfred_days_from_civil(1970, 1, 1), 0, "epoch is day 0");
	is_int(alfred_days_from_civil(2000, 3, 1), 11017, "2000-03-01 is day 11017");
	alfred_civil_from_days(alfred_days_from_civil(2024, 2, 29) + 1, &y, &m, &d);
	ok(y == 2024 && m == 3 && d == 1, "the day after 2024-02-29 is 2024-03-01");
	is_int(alfred_iso_weekday(alfred_days_from_civil(2026, 11, 23)), 1, "2026-11-23 is a Monday");
	is_int(alfred_iso_weekday(alfred_days_from_civil(2026, 11, 29)), 7, "2026-11-29 is a Sunday");
	is_int(alfred_iso_weekday(alfred_days_from_civil(1969, 12, 31)), 3, "1969-12-31 was a Wednesday");
}

static void
test_intervals(void)
{
	alfred_interval iv[] = {{50, 60}, {10, 20}, {15, 30}, {30, 35}, {40, 40}};
	alfred_interval a[] = {{0, 100}};
	alfred_interval out[8];
	size_t		n = alfred_interval_normalize(iv, 5);

	is_int(n, 2, "normalize merges overlapping and touching intervals, drops empty ones");
	ok(iv[0].start == 10 && iv[0].end == 35 && iv[1].start == 50 && iv[1].end == 60,
	   "normalized: [10,35) [50,60)");
	n = alfred_interval_subtract(a, 1, iv, 2, out);
	is_int(n, 3, "subtracting two holes leaves three pieces");
	ok(out[0].start == 0 && out[0].end == 10 && out[1].start == 35 && out[1].end == 50 &&
	   out[2].start == 60 && out[2].end == 100, "pieces are [0,10) [35,50) [60,100)");
	n = alfred_interval_subtract(iv, 2, a, 1, out);
	is_int(n, 0, "subtracting a covering interval leaves nothing");
}

static void
test_work_blocks_and_events(void)
{
	int			utc = 0;
	/* Monday 2026-11-23 */
	alfred_plan_block blocks[] = {{1, 9 * 60, 12 * 60}, {1, 14 * 60, 17 * 60}};
	alfred_interval busy[] = {
		{at(2026, 11, 23, 10, 0), at(2026, 11, 23, 10, 30)},
		{at(2026, 11, 23, 10, 15), at(2026, 11, 23, 11, 0)},	/* overlaps */
		{at(2026, 11, 23, 16, 0), at(2026, 11, 23, 18, 0)},
	};
	alfred_interval out[64];
	alfred_plan_spec s = utc_spec(at(2026, 11, 23, 0, 0), at(2026, 11, 24, 0, 0), 30 * MIN, &utc);
	long		n;

	s.blocks = blocks;
	s.nblocks = 2;
	s.busy = busy;
	s.nbusy = 3;
	n = plan(&s, out);
	is_int(n, 3, "two work blocks and overlapping events leave three slots");
	ok(out[0].start == at(2026, 11, 23, 9, 0) && out[0].end == at(2026, 11, 23, 10, 0),
	   "09:00-10:00 before the first event");
	ok(out[1].start == at(2026, 11, 23, 11, 0) && out[1].end == at(2026, 11, 23, 12, 0),
	   "11:00-12:00 after the overlapping events");
	ok(out[2].start == at(2026, 11, 23, 14, 0) && out[2].end == at(2026, 11, 23, 16, 0),
	   "14:00-16:00 in the afternoon block");

	s.buffer_before = 15 * MIN;
	s.buffer_after = 15 * MIN;
	n = plan(&s, out);
	is_int(n, 3, "with 15-minute buffers still three slots");
	ok(out[0].end == at(2026, 11, 23, 9, 45) && out[1].start == at(2026, 11, 23, 11, 15) &&
	   out[2].end == at(2026, 11, 23, 15, 45), "buffers shrink the slots on both sides");

	s.duration = 60 * MIN;
	n = plan(&s, out);
	is_int(n, 1, "a 60-minute duration keeps only the long afternoon slot");
	ok(out[0].start == at(2026, 11, 23, 14, 0), "it starts at 14:00");

	s.duration = 30 * MIN;
	s.range.start = at(2026, 11, 23, 9, 20);
	n = plan(&s, out);
	ok(n == 2 && out[0].start == at(2026, 11, 23, 11, 15),
	   "the range clips a slot below the duration away");
}

static void
test_quiet_lunch_and_offsets(void)
{
	int			cet = 60;
	alfred_interval out[64];
	alfred_plan_spec s = utc_spec(at(2026, 11, 23, 0, 0), at(2026, 11, 24, 0, 0), 30 * MIN, &cet);
	long		n;

	/* no work blocks: the whole local day; quiet 22:00-07:00 wraps */
	s.quiet = (alfred_plan_daily) {22 * 60, 7 * 60};
	s.lunch = (alfred_plan_daily) {12 * 60, 13 * 60};
	n = plan(&s, out);
	is_int(n, 2, "a day without work blocks, minus quiet hours and lunch: two slots");
	ok(out[0].start == at(2026, 11, 23, 6, 0) && out[0].end == at(2026, 11, 23, 11, 0),
	   "07:00-12:00 local is 06:00-11:00 UTC");
	ok(out[1].start == at(2026, 11, 23, 12, 0) && out[1].end == at(2026, 11, 23, 21, 0),
	   "13:00-22:00 local is 12:00-21:00 UTC");
}

static void
test_dst(void)
{
	/* Sunday 2026-03-08 springs forward; Saturday and Sunday blocks 00:00-06:00 */
	alfred_plan_block blocks[] = {{6, 0, 360}, {7, 0, 360}};
	alfred_interval out[64];
	alfred_plan_spec s = {0};
	long		n;

	s.range = (alfred_interval) {at(2026, 3, 7, 0, 0), at(2026, 3, 9, 12, 0)};
	s.duration = MIN;
	s.blocks = blocks;
	s.nblocks = 2;
	s.quiet.start_minute = -1;
	s.lunch.start_minute = -1;
	s.first_year = 2026;
	s.first_month = 3;
	s.first_day = 6;
	s.ndays = 4;
	s.local_to_instant = dst_zone;
	n = plan(&s, out);
	is_int(n, 2, "two weekend work blocks");
	is_int((out[0].end - out[0].start) / MIN, 360, "Saturday's block is six hours long");
	is_int((out[1].end - out[1].start) / MIN, 300, "Sunday's block loses the skipped hour");
	ok(out[1].start == at(2026, 3, 8, 5, 0) && out[1].end == at(2026, 3, 8, 10, 0),
	   "Sunday 00:00 EST to 06:00 EDT is 05:00-10:00 UTC");
}

static void
test_parsing(void)
{
	int			m = -1;

	ok(alfred_plan_parse_clock("09:30", 5, &m) && m == 570, "09:30 is minute 570");
	ok(alfred_plan_parse_clock("9:05", 4, &m) && m == 545, "9:05 is minute 545");
	ok(alfred_plan_parse_clock("24:00", 5, &m) && m == 1440, "24:00 is minute 1440");
	ok(!alfred_plan_parse_clock("24:01", 5, &m), "24:01 is refused");
	ok(!alfred_plan_parse_clock("09:60", 5, &m), "09:60 is refused");
	ok(!alfred_plan_parse_clock("0930", 4, &m), "a clock without a colon is refused");
	ok(!alfred_plan_parse_clock("09:3x", 5, &m), "a clock with a letter is refused");
	is_int(alfred_plan_parse_weekday("Monday", 6), 1, "Monday is weekday 1");
	is_int(alfred_plan_parse_weekday("sun", 3), 7, "sun is weekday 7");
	is_int(alfred_plan_parse_weekday("thurs", 5), 0, "thurs is not a weekday name");
	is_int(alfred_plan_parse_weekday("funday", 6), 0, "funday is not a weekday");
}

static void
test_refusals(void)
{
	int			utc = 0;
	alfred_plan_block bad_block[] = {{8, 0, 60}};
	alfred_plan_block backwards[] = {{1, 600, 540}};
	alfred_interval out[8];
	alfred_plan_spec s = utc_spec(at(2026, 1, 1, 0, 0), at(2026, 1, 2, 0, 0), MIN, &utc);
	alfred_plan_spec t;

	t = s;
	t.range.end = t.range.start;
	is_int(plan(&t, out), -ALFRED_PLAN_BAD_RANGE, "an empty range is refused");
	t = s;
	t.duration = 0;
	is_int(plan(&t, out), -ALFRED_PLAN_BAD_DURATION, "a zero duration is refused");
	t = s;
	t.buffer_after = -1;
	is_int(plan(&t, out), -ALFRED_PLAN_BAD_BUFFER, "a negative buffer is refused");
	t = s;
	t.blocks = bad_block;
	t.nblocks = 1;
	is_int(plan(&t, out), -ALFRED_PLAN_BAD_BLOCK, "weekday 8 is refused");
	t.blocks = backwards;
	is_int(plan(&t, out), -ALFRED_PLAN_BAD_BLOCK, "a block ending before it starts is refused");
	t = s;
	t.quiet = (alfred_plan_daily) {1440, 60};
	is_int(plan(&t, out), -ALFRED_PLAN_BAD_DAILY, "quiet hours starting at 24:00 are refused");
	t = s;
	t.ndays = 100000;
	is_int(alfred_plan_check(&t), ALFRED_PLAN_BAD_DAYS, "too many days are refused");
	is_str(alfred_plan_strerror(ALFRED_PLAN_BAD_RANGE), "The range must end after it starts.",
		   "status texts are readable");
	is_str(alfred_plan_strerror((alfred_plan_status) 99), "Unknown planner status.",
		   "an unknown status has a text too");
}

/*---- random specs against a minute-by-minute oracle ----*/

static unsigned long long rng_state = 42;

static int
rnd(int n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (int) ((rng_state >> 33) % (unsigned long long) n);
}

static int
in_daily(alfred_plan_daily w, int minute_of_day)
{
	if (w.start_minute < 0 || w.start_minute == w.end_minute)
		return 0;
	if (w.start_minute < w.end_minute)
		return minute_of_day >= w.start_minute && minute_of_day < w.end_minute;
	return minute_of_day >= w.start_minute || minute_of_day < w.end_minute;
}

/* Whether minute m (since 1970, UTC zone) is free under spec. */
static int
oracle_free(const alfred_plan_spec *s, int64_t m)
{
	long		day = (long) (m / 1440);
	int			mod = (int) (m % 1440);
	int			wd = alfred_iso_weekday(day);
	int			in_block = s->nblocks == 0;

	if (m * MIN < s->range.start || m * MIN >= s->range.end)
		return 0;
	for (int b = 0; b < s->nblocks; b++)
		if (s->blocks[b].weekday == wd && mod >= s->blocks[b].start_minute &&
			mod < s->blocks[b].end_minute)
			in_block = 1;
	if (!in_block || in_daily(s->quiet, mod) || in_daily(s->lunch, mod))
		return 0;
	for (int i = 0; i < s->nbusy; i++)
		if (m * MIN >= s->busy[i].start - s->buffer_before &&
			m * MIN < s->busy[i].end + s->buffer_after)
			return 0;
	return 1;
}

static void
test_against_oracle(void)
{
	int			utc = 0;
	int			mismatches = 0;
	int			total_slots = 0;

	for (int iter = 0; iter < 300; iter++)
	{
		alfred_plan_block blocks[6];
		alfred_interval busy[20];
		alfred_interval out[512];
		alfred_interval want[512];
		int64_t		day0 = alfred_days_from_civil(2026, 1, 5) + rnd(7);
		int64_t		from = (day0 * 1440 + rnd(1440));
		int64_t		to = from + 1 + rnd(3 * 1440);
		alfred_plan_spec s = utc_spec(from * MIN, to * MIN, (1 + rnd(120)) * MIN, &utc);
		long		n;
		int			nwant = 0;

		s.nblocks = rnd(7);
		for (int b = 0; b < s.nblocks; b++)
		{
			blocks[b].weekday = 1 + rnd(7);
			blocks[b].start_minute = rnd(1439);
			blocks[b].end_minute = blocks[b].start_minute + 1 +
				rnd(1440 - blocks[b].start_minute);
		}
		s.blocks = blocks;
		if (rnd(2))
			s.quiet = (alfred_plan_daily) {rnd(1440), rnd(1441)};
		if (rnd(2))
			s.lunch = (alfred_plan_daily) {rnd(1440), rnd(1441)};
		s.nbusy = rnd(21);
		for (int i = 0; i < s.nbusy; i++)
		{
			int64_t		st = from - 120 + rnd((int) (to - from) + 240);

			busy[i] = (alfred_interval) {st * MIN, (st + rnd(180)) * MIN};
		}
		s.busy = busy;
		s.buffer_before = rnd(30) * MIN;
		s.buffer_after = rnd(30) * MIN;

		/* maximal free runs of minutes, at least duration long */
		for (int64_t m = from; m < to;)
		{
			int64_t		start;

			if (!oracle_free(&s, m))
			{
				m++;
				continue;
			}
			start = m;
			while (m < to && oracle_free(&s, m))
				m++;
			if ((m - start) * MIN >= s.duration)
				want[nwant++] = (alfred_interval) {start * MIN, m * MIN};
		}
		n = plan(&s, out);
		if (n != nwant)
			mismatches++;
		else
			for (int i = 0; i < nwant; i++)
				if (out[i].start != want[i].start || out[i].end != want[i].end)
				{
					mismatches++;
					break;
				}
		total_slots += nwant;
	}
	is_int(mismatches, 0, "300 random specs agree with a minute-by-minute oracle");
	ok(total_slots > 100, "the random specs produce slots (%d)", total_slots);
}

int
main(void)
{
	test_calendar();
	test_intervals();
	test_work_blocks_and_events();
	test_quiet_lunch_and_offsets();
	test_dst();
	test_parsing();
	test_refusals();
	test_against_oracle();
	return done_testing();
}
