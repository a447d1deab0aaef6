/*
 * fuzz_streak.c
 *		libFuzzer target for the streak core (src/core/streak.c).
 *
 * The input is decoded into a schedule (kind, weekdays, target) and a
 * history of days built from gaps, with duplicates and back-fills mixed in.
 * The O(1) append must agree with the full recompute after every log, a
 * duplicate must change nothing, a back-fill must be refused, and every
 * result read on the day of the last log or later must be the same from
 * either tally and keep 0 <= current <= best.  The sorter gets the raw bytes
 * as days too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "streak.h"

#define MAX_DAYS 256

static int
same_tally(const AlfredStreakTally *a, const AlfredStreakTally *b)
{
	return a->last_logged == b->last_logged && a->last_met == b->last_met &&
		a->run == b->run && a->best == b->best &&
		a->period_logs == b->period_logs && a->total == b->total;
}

static void
check_sort(const uint8_t *data, size_t size)
{
	int32_t		days[MAX_DAYS];
	int			n = 0,
				i;

	for (; size >= 2 && n < MAX_DAYS; data += 2, size -= 2)
		days[n++] = (int32_t) (int16_t) (data[0] << 8 | data[1]);
	n = alfred_streak_sort_days(days, n);
	for (i = 1; i < n; i++)
		if (days[i - 1] >= days[i])
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *freq[] = {"daily", "custom", "weekly"};
	AlfredStreakSchedule sched;
	AlfredStreakTally incr,
				whole;
	int32_t		days[MAX_DAYS];
	int			weekdays[7];
	int			nweekdays = 0,
				n = 0,
				d;
	int32_t		day;
	size_t		i;

	check_sort(data, size);
	if (size < 4)
		return 0;
	for (d = 1; d <= 7; d++)
		if ((data[1] >> (d - 1)) & 1)
			weekdays[nweekdays++] = d;
	if (alfred_streak_schedule(&sched, freq[data[0] % 3], weekdays, nweekdays, data[2] % 9) != ALFRED_STREAK_OK)
		return 0;
	day = (int32_t) (data[3] * 997) - 100000;

	alfred_streak_tally_init(&incr);
	for (i = 4; i < size && n < MAX_DAYS; i++)
	{
		AlfredStreakTally before = incr;
		AlfredStreakResult a,
					b;
		int32_t		today;

		if (data[i] >= 0xF0 && n > 0)
		{
			/* a duplicate of, or a day before, the latest log */
			int32_t		old = days[(data[i] & 0x0F) % n];
			int			rc = alfred_streak_append(&sched, &incr, old);

			if (rc != (old == days[n - 1] ? ALFRED_STREAK_DUPLICATE : ALFRED_STREAK_BACKFILL) ||
				!same_tally(&before, &incr))
				abort();
			continue;
		}
		day += 1 + data[i] % 16;
		days[n++] = day;
		if (alfred_streak_append(&sched, &incr, day) != ALFRED_STREAK_APPENDED)
			abort();
		today = day + (data[i] >> 4);
		alfred_streak_recompute(&sched, days, n, today, &whole);
		if (!same_tally(&incr, &whole))
			abort();
		alfred_streak_result(&sched, &incr, today, &a);
		alfred_streak_result(&sched, &whole, today, &b);
		if (a.current != b.current || a.best != b.best || a.state != b.state)
			abort();
		if (a.current < 0 || a.current > a.best || a.best > incr.total)
			abort();
	}
	return 0;
}
