/*
 * test_cron_zone.c
 *		Unit tests of src/core/cron_zone.c, the DST search of the cron engine,
 *		without a server: synthetic zones given by transition tables (a New
 *		York-like zone with its gaps and folds, an Apia-like zone that skips a
 *		whole day, a fixed half-hour offset) and a brute-force oracle built
 *		straight from DESIGN.md "Time semantics" — every matching wall-clock
 *		minute, mapped to the instants that show it — against which next and
 *		prev (search and fast path) must agree from random instants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "cron.h"
#include "cron_zone.h"
#include "tap.h"

#define DAY ((int64_t) ALFRED_SECS_PER_DAY)
#define MAXTR 512

/* A zone: offset `first_off` before the first transition, then tr_off[i] from tr_at[i]. */
typedef struct test_zone
{
	long		first_off;
	int			ntr;
	int64_t		tr_at[MAXTR];
	long		tr_off[MAXTR];
} test_zone;

static int	callbacks = 0;

static long
offset_at(const test_zone *z, int64_t t)
{
	long		off = z->first_off;
	int			i;

	for (i = 0; i < z->ntr && z->tr_at[i] <= t; i++)
		off = z->tr_off[i];
	return off;
}

/* pg_next_dst_boundary's contract over the table. */
static int
zone_offsets(void *arg, int64_t t, long *before_off, int64_t *boundary, long *after_off)
{
	const test_zone *z = arg;
	int			i;

	callbacks++;
	*before_off = offset_at(z, t);
	for (i = 0; i < z->ntr; i++)
		if (z->tr_at[i] > t)
		{
			*boundary = z->tr_at[i];
			*after_off = z->tr_off[i];
			return 1;
		}
	return 0;
}

static void
add_transition(test_zone *z, int64_t at, long off)
{
	z->tr_at[z->ntr] = at;
	z->tr_off[z->ntr] = off;
	z->ntr++;
}

/* The n-th (1-based) Sunday of a month, as a day number; n = 0 for none. */
static int64_t
nth_sunday(int y, int m, int n)
{
	int64_t		d = alfred_days_from_civil(y, m, 1);

	while (alfred_weekday(d) != 0)
		d++;
	return d + 7 * (n - 1);
}

/* New York since 2007: EST -5, EDT -4 from the 2nd Sunday of March 02:00 to the 1st of November 02:00. */
static void
new_york(test_zone *z)
{
	int			y;

	memset(z, 0, sizeof(*z));
	z->first_off = -5 * 3600;
	for (y = 2005; y <= 2040; y++)
	{
		add_transition(z, nth_sunday(y, 3, 2) * DAY + 2 * 3600 + 5 * 3600, -4 * 3600);
		add_transition(z, nth_sunday(y, 11, 1) * DAY + 2 * 3600 + 4 * 3600, -5 * 3600);
	}
}

/* Apia: -10 until 2011-12-29 24:00 local, then +14: 2011-12-30 does not exist. */
static void
apia(test_zone *z)
{
	memset(z, 0, sizeof(*z));
	z->first_off = -10 * 3600;
	add_transition(z, alfred_days_from_civil(2011, 12, 30) * DAY + 10 * 3600, 14 * 3600);
}

static void
india(test_zone *z)
{
	memset(z, 0, sizeof(*z));
	z->first_off = 5 * 3600 + 1800;
}

/*---- The oracle ----*/

static int64_t *fires;
static int	nfires;
static int	capfires;

static void
add_fire(int64_t u)
{
	if (nfires == capfires)
	{
		capfires = capfires ? capfires * 2 : 1024;
		fires = realloc(fires, capfires * sizeof(*fires));
	}
	fires[nfires++] = u;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a,
				y = *(const int64_t *) b;

	return (x > y) - (x < y);
}

/* The instants whose wall time in z is W, ascending; how many (0-2). */
static int
instants_of(const test_zone *z, int64_t W, int64_t *u)
{
	long		offs[MAXTR + 1];
	int			noffs = 0,
				n = 0,
				i,
				j;

	offs[noffs++] = z->first_off;
	for (i = 0; i < z->ntr; i++)
		offs[noffs++] = z->tr_off[i];
	for (i = 0; i < noffs; i++)
	{
		int64_t		cand = W - offs[i];
		int			dup = 0;

		for (j = 0; j < n; j++)
			dup |= u[j] == cand;
		if (!dup && offset_at(z, cand) == offs[i])
			u[n++] = cand;
	}
	if (n == 2 && u[0] > u[1])
	{
		int64_t		t = u[0];

		u[0] = u[1];
		u[1] = t;
	}
	return n;
}

/* The offset before the transition whose gap holds wall time W. */
static long
gap_offset_before(const test_zone *z, int64_t W)
{
	long		prev = z->first_off;
	int			i;

	for (i = 0; i < z->ntr; i++)
	{
		if (z->tr_off[i] > prev && W >= z->tr_at[i] + prev && W < z->tr_at[i] + z->tr_off[i])
			return prev;
		prev = z->tr_off[i];
	}
	abort();					/* W is in no gap: the oracle is wrong */
}

/* Does some instant show a wall time within the calendar day of W? */
static int
day_exists(const test_zone *z, int64_t W)
{
	int64_t		day = alfred_floor_div(W, DAY) * DAY,
				m,
				u[4];

	for (m = 0; m < DAY; m += 60)
		if (instants_of(z, day + m, u) > 0)
			return 1;
	return 0;
}

/* Every fire time of c whose wall time lies in [from, to), by DESIGN.md's rules. */
static void
oracle(const alfred_cron *c, const test_zone *z, int64_t from, int64_t to)
{
	int64_t		W;
	int			i,
				out = 0;

	nfires = 0;
	for (W = from; W < to; W += 60)
	{
		alfred_cron_time t;
		int64_t		u[4];
		int			n;

		alfred_cron_time_from_seconds(W, &t);
		if (!alfred_cron_matches(c, &t))
			continue;
		n = instants_of(z, W, u);
		if (n == 0)
		{
			/* a gap: the instant PostgreSQL gives, W - offset before the gap */
			if (day_exists(z, W))
				add_fire(W - gap_offset_before(z, W));
		}
		else
		{
			add_fire(u[0]);
			if (n == 2 && c->all_hours)
				add_fire(u[1]);
		}
	}
	qsort(fires, nfires, sizeof(*fires), cmp64);
	for (i = 0; i < nfires; i++)
		if (out == 0 || fires[out - 1] != fires[i])
			fires[out++] = fires[i];
	nfires = out;
}

/*---- Checks ----*/

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* First oracle fire >= a, or INT64_MAX; last oracle fire <= b, or INT64_MIN. */
static int64_t
oracle_next(int64_t a)
{
	int			lo = 0,
				hi = nfires;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (fires[mid] < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nfires ? fires[lo] : INT64_MAX;
}

static int64_t
oracle_prev(int64_t b)
{
	int			lo = 0,
				hi = nfires;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (fires[mid] <= b)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 ? fires[lo - 1] : INT64_MIN;
}

/*
 * From `queries` random instants of [from + margin, to - margin] (plus every
 * transition's neighbourhood), next and prev by the search, and next by the
 * fast path of a compiled handle, agree with the oracle.
 */
static void
check_zone(const char *zname, test_zone *z, const char *expr, int from_year, int to_year, int queries)
{
	alfred_cron c;
	alfred_cron_error err;
	alfred_cron_zone zone;
	alfred_cron_compiled *cc = calloc(1, sizeof(*cc));
	int64_t		from = alfred_days_from_civil(from_year, 1, 1) * DAY,
				to = alfred_days_from_civil(to_year, 1, 1) * DAY,
				margin = 62 * DAY;
	int			bad_next = 0,
				bad_prev = 0,
				bad_fast = 0,
				i;

	if (alfred_cron_parse(expr, &c, &err) != ALFRED_CRON_OK)
	{
		ok(0, "%s: parse %s", zname, expr);
		return;
	}
	oracle(&c, z, from - DAY, to + DAY);
	alfred_cron_zone_init(&zone, zone_offsets, z, INT64_MIN / 4, INT64_MAX / 4);
	alfred_cron_compiled_set(cc, &c);
	alfred_cron_zone_init(&cc->zone, zone_offsets, z, INT64_MIN / 4, INT64_MAX / 4);
	for (i = 0; i < queries + 2 * 7 * z->ntr; i++)
	{
		int64_t		a,
					got,
					want;

		if (i < queries)
			a = from + margin + (int64_t) (next_random() % (uint64_t) (to - from - 2 * margin));
		else
		{
			/* every transition, from a week before to a week after, in 6-hour steps */
			int			k = (i - queries) / 14;

			if (z->tr_at[k] < from + margin || z->tr_at[k] > to - margin)
				continue;
			a = z->tr_at[k] + ((i - queries) % 14 - 7) * DAY / 2 + (int64_t) (next_random() % 3600);
		}
		want = oracle_next(a);
		if (want <= to - margin / 2 &&
			(alfred_cron_next_instant(&c, &zone, a, &got) != ALFRED_CRON_FOUND || got != want))
		{
			if (bad_next++ < 3)
				printf("# %s %s: next from %lld: got %lld, want %lld\n", zname, expr,
					   (long long) a, (long long) got, (long long) want);
		}
		if (want <= to - margin / 2 &&
			(alfred_cron_compiled_next(cc, a, &got) != ALFRED_CRON_FOUND || got != want))
			bad_fast++;
		want = oracle_prev(a);
		if (want >= from + margin / 2 &&
			(alfred_cron_prev_instant(&c, &zone, a, &got) != ALFRED_CRON_FOUND || got != want))
		{
			if (bad_prev++ < 3)
				printf("# %s %s: prev from %lld: got %lld, want %lld\n", zname, expr,
					   (long long) a, (long long) got, (long long) want);
		}
	}
	ok(bad_next == 0 && bad_prev == 0 && bad_fast == 0,
	   "%s '%s': next, prev and the compiled fast path agree with the oracle (%d fires)",
	   zname, expr, nfires);
	free(cc);
}

static const char *const exprs[] = {
	"30 2 * * *",				/* in the spring gap, in the autumn fold */
	"0 * * * *",				/* every hour: both passes of a fold */
	"*/30 * * * *",
	"30 1 * * *",				/* the fold, hour restricted: first pass only */
	"0 0 * * *",
	"59 23 * * *",
	"15 2 * 3 SUN",
	"*/7 9-17 * * MON-FRI",
	"0 0 L * *",
	"0 2 * * 0",
	"0 12 30 12 *",				/* on Apia's missing day */
	"45 */2 * * *",
};

int
main(void)
{
	test_zone	ny,
				ap,
				in;
	size_t		i;

	new_york(&ny);
	apia(&ap);
	india(&in);
	for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++)
	{
		check_zone("new_york", &ny, exprs[i], 2017, 2020, 300);
		check_zone("apia", &ap, exprs[i], 2011, 2013, 200);
		check_zone("india", &in, exprs[i], 2019, 2020, 100);
	}

	/* DESIGN.md's examples, exactly */
	{
		alfred_cron c;
		alfred_cron_zone zone;
		int64_t		got;

		alfred_cron_zone_init(&zone, zone_offsets, &ny, INT64_MIN / 4, INT64_MAX / 4);
		alfred_cron_parse("30 2 * * *", &c, NULL);
		alfred_cron_next_instant(&c, &zone, alfred_days_from_civil(2018, 3, 11) * DAY, &got);
		is_int(got, alfred_days_from_civil(2018, 3, 11) * DAY + 7 * 3600 + 30 * 60,
			   "New York 2018-03-11 02:30 (a gap) fires at 07:30 UTC = 03:30 EDT");
		alfred_cron_parse("30 1 * * *", &c, NULL);
		alfred_cron_next_instant(&c, &zone, alfred_days_from_civil(2018, 11, 4) * DAY, &got);
		is_int(got, alfred_days_from_civil(2018, 11, 4) * DAY + 5 * 3600 + 30 * 60,
			   "New York 2018-11-04 01:30 (a fold) fires at the first pass, 05:30 UTC");
		alfred_cron_next_instant(&c, &zone, got + 1, &got);
		is_int(got, alfred_days_from_civil(2018, 11, 5) * DAY + 6 * 3600 + 30 * 60,
			   "... and not at the second pass: next is the 5th, 06:30 UTC");
		alfred_cron_parse("0 * * * *", &c, NULL);
		alfred_cron_next_instant(&c, &zone, alfred_days_from_civil(2018, 11, 4) * DAY + 5 * 3600 + 1, &got);
		is_int(got, alfred_days_from_civil(2018, 11, 4) * DAY + 6 * 3600,
			   "an hourly job fires in the second pass of the fold too (01:00 EST)");

		alfred_cron_zone_init(&zone, zone_offsets, &ap, INT64_MIN / 4, INT64_MAX / 4);
		alfred_cron_parse("0 12 * * *", &c, NULL);
		alfred_cron_next_instant(&c, &zone, alfred_days_from_civil(2011, 12, 29) * DAY + 23 * 3600, &got);
		is_int(got, alfred_days_from_civil(2011, 12, 30) * DAY + 22 * 3600,
			   "Apia: 2011-12-30 fires nothing; the next noon is 12-31 12:00 +14 = 12-30 22:00 UTC");
	}

	/* the zone's limits and a zone that cannot tell */
	{
		alfred_cron c;
		alfred_cron_zone zone;
		int64_t		got;

		alfred_cron_parse("0 0 1 1 *", &c, NULL);
		alfred_cron_zone_init(&zone, zone_offsets, &in, INT64_MIN / 4, 1000 * DAY);
		is_int(alfred_cron_next_instant(&c, &zone, 900 * DAY, &got), ALFRED_CRON_NOT_FOUND,
			   "no fire time before the zone's upper limit: not found");
		alfred_cron_zone_init(&zone, zone_offsets, &in, 400 * DAY, INT64_MAX / 4);
		is_int(alfred_cron_prev_instant(&c, &zone, 500 * DAY, &got), ALFRED_CRON_NOT_FOUND,
			   "no fire time after the zone's lower limit: not found");
	}

	/* windows are remembered: a million evaluations ask the zone a handful of times */
	{
		alfred_cron c;
		alfred_cron_compiled *cc = calloc(1, sizeof(*cc));
		int64_t		a = alfred_days_from_civil(2019, 6, 1) * DAY,
					got;
		int			n;

		alfred_cron_parse("*/7 9-17 * * MON-FRI", &c, NULL);
		alfred_cron_compiled_set(cc, &c);
		alfred_cron_zone_init(&cc->zone, zone_offsets, &ny, INT64_MIN / 4, INT64_MAX / 4);
		callbacks = 0;
		for (n = 0; n < 1000000; n++)
			alfred_cron_compiled_next(cc, a + (n % 100000) * 60, &got);
		ok(callbacks < 20, "a million next times within one window ask the zone %d times", callbacks);
		free(cc);
	}
	free(fires);
	return done_testing();
}
