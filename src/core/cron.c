/*-------------------------------------------------------------------------
 *
 * cron.c
 *		alfred's cron engine core: the parser and the field-by-field search.
 *
 * An expression is five fields (minute hour day-of-month month day-of-week),
 * a macro (@daily ...) or pg_cron's 'N seconds'.  Parsing turns each field
 * into a bitset plus a few special terms of the day fields (L, LW, nW, nL,
 * d#k).  Searching works on wall-clock minutes of a proleptic Gregorian
 * calendar: it finds the first allowed month, then the first matching day
 * of that month (one 31-bit mask per month), then hour, then minute, using
 * bit scans, so no search ever steps minute by minute.
 *
 * Nothing here knows about time zones: src/cron_sql.c maps wall-clock slots
 * to instants.
 *
 *-------------------------------------------------------------------------
 */
#include "cron.h"
#include "calendar.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/*---- Fields ----*/

typedef struct field_spec
{
	const char *name;
	int			min;
	int			max;
} field_spec;

static const field_spec fields[ALFRED_CRON_NFIELDS] = {
	{"minute", 0, 59},
	{"hour", 0, 23},
	{"day-of-month", 1, 31},
	{"month", 1, 12},
	{"day-of-week", 0, 7},
};

static const char *const month_names[12] = {
	"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
	"JUL", "AUG", "SEP", "OCT", "NOV", "DEC"
};

static const char *const day_names[7] = {
	"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"
};

static const struct
{
	const char *name;
	const char *expansion;
}			macros[] = {
	{"@YEARLY", "0 0 1 1 *"},
	{"@ANNUALLY", "0 0 1 1 *"},
	{"@MONTHLY", "0 0 1 * *"},
	{"@WEEKLY", "0 0 * * 0"},
	{"@DAILY", "0 0 * * *"},
	{"@MIDNIGHT", "0 0 * * *"},
	{"@HOURLY", "0 * * * *"},
};

/* Name of a field as error messages write it ("day-of-week"). */
static const char *
field_name(alfred_cron_field field)
{
	if (field < 0 || field >= ALFRED_CRON_NFIELDS)
		return "expression";
	return fields[field].name;
}

/*---- Bit helpers ----*/

static inline int
lowest_bit(uint64_t x)
{
	return __builtin_ctzll(x);
}

static inline int
highest_bit(uint64_t x)
{
	return 63 - __builtin_clzll(x);
}

/* Bits >= n (n may be 0-64). */
static inline uint64_t
bits_from(int n)
{
	return n >= 64 ? 0 : ~UINT64_C(0) << n;
}

/* Bits <= n (n may be -1-63). */
static inline uint64_t
bits_upto(int n)
{
	return n < 0 ? 0 : n >= 63 ? ~UINT64_C(0) : (UINT64_C(2) << n) - 1;
}

/*---- Errors ----*/

static alfred_cron_status
fail(alfred_cron_error *err, alfred_cron_status status, alfred_cron_field field,
	 const char *token, size_t toklen)
{
	if (err)
	{
		memset(err, 0, sizeof(*err));
		err->status = status;
		err->field = field;
		if (toklen >= ALFRED_CRON_TOKEN_LEN)
			toklen = ALFRED_CRON_TOKEN_LEN - 1;
		if (token)
			memcpy(err->token, token, toklen);
		err->token[toklen] = '\0';
		if (field >= 0 && field < ALFRED_CRON_NFIELDS)
		{
			err->min = fields[field].min;
			err->max = fields[field].max;
		}
	}
	return status;
}

char *
alfred_cron_error_message(const alfred_cron_error *err, char *buf, size_t buflen)
{
	const char *f = field_name(err->field);
	const char *t = err->token;

	switch (err->status)
	{
		case ALFRED_CRON_OK:
			snprintf(buf, buflen, "expression is valid");
			break;
		case ALFRED_CRON_EMPTY:
			snprintf(buf, buflen, "expression is empty");
			break;
		case ALFRED_CRON_FIELD_COUNT:
			if (err->nfields == 1)
				snprintf(buf, buflen, "expression has 1 field; alfred takes 5");
			else
				snprintf(buf, buflen, "expression has %d fields; alfred takes 5", err->nfields);
			break;
		case ALFRED_CRON_OUT_OF_RANGE:
			snprintf(buf, buflen, "%s value %s is out of range %d-%d", f, t, err->min, err->max);
			break;
		case ALFRED_CRON_NOT_A_NUMBER:
			snprintf(buf, buflen, "%s \"%s\" is not a number", f, t);
			break;
		case ALFRED_CRON_NOT_A_NAME:
			if (err->field == ALFRED_CRON_MONTH)
				snprintf(buf, buflen, "%s \"%s\" is not a month name", f, t);
			else
				snprintf(buf, buflen, "%s \"%s\" is not a day name", f, t);
			break;
		case ALFRED_CRON_BAD_STEP:
			snprintf(buf, buflen, "%s step %s is out of range 1-%d", f, t, err->max);
			break;
		case ALFRED_CRON_BAD_NTH:
			snprintf(buf, buflen, "%s occurrence %s is out of range 1-5", f, t);
			break;
		case ALFRED_CRON_MALFORMED:
			snprintf(buf, buflen, "%s term \"%s\" is malformed", f, t);
			break;
		case ALFRED_CRON_MISPLACED:
			snprintf(buf, buflen, "%s \"%s\" is only allowed as a whole day-of-month or day-of-week field", f, t);
			break;
		case ALFRED_CRON_BAD_MACRO:
			snprintf(buf, buflen, "macro \"%s\" is not one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly", t);
			break;
		case ALFRED_CRON_BAD_INTERVAL:
			snprintf(buf, buflen, "seconds value %s is out of range 1-59", t);
			break;
		case ALFRED_CRON_TOO_LONG:
			snprintf(buf, buflen, "expression is longer than %d bytes", ALFRED_CRON_MAX_LEN);
			break;
		case ALFRED_CRON_NEVER:
			snprintf(buf, buflen, "expression can never fire: no allowed month has an allowed day of month");
			break;
	}
	return buf;
}

/*---- Parsing ----*/

/* One term of a field's comma-separated list, being read. */
typedef struct term_reader
{
	alfred_cron_field field;
	const char *term;			/* the whole term, for messages */
	size_t		termlen;
	const char *p;				/* cursor */
	const char *end;
	alfred_cron_error *err;
} term_reader;

/* What an atom (a number, a name or a special word) turned out to be. */
typedef enum atom_kind
{
	ATOM_VALUE,					/* a number or a name: value */
	ATOM_STAR,					/* * */
	ATOM_LAST,					/* L or $ in day-of-month */
	ATOM_LAST_WEEKDAY,			/* LW */
	ATOM_NEAREST,				/* nW: value is n */
	ATOM_LAST_OF,				/* nL in day-of-week: value is the weekday */
} atom_kind;

typedef struct atom
{
	atom_kind	kind;
	int			value;
} atom;

static alfred_cron_status
malformed(term_reader *r)
{
	return fail(r->err, ALFRED_CRON_MALFORMED, r->field, r->term, r->termlen);
}

static bool
word_is(const char *s, size_t len, const char *word)
{
	size_t		i;

	if (strlen(word) != len)
		return false;
	for (i = 0; i < len; i++)
		if (toupper((unsigned char) s[i]) != word[i])
			return false;
	return true;
}

static int
name_index(const char *s, size_t len, const char *const *names, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (word_is(s, len, names[i]))
			return i;
	return -1;
}

/* Leading digits of s[0..len) as an int, saturating; returns digit count. */
static size_t
read_digits(const char *s, size_t len, int *value)
{
	size_t		i = 0;
	long		v = 0;

	while (i < len && isdigit((unsigned char) s[i]))
	{
		if (v < 1000000000L)
			v = v * 10 + (s[i] - '0');
		i++;
	}
	*value = (int) v;
	return i;
}

static alfred_cron_status
check_range(term_reader *r, int value, const char *tok, size_t toklen)
{
	if (value < fields[r->field].min || value > fields[r->field].max)
		return fail(r->err, ALFRED_CRON_OUT_OF_RANGE, r->field, tok, toklen);
	return ALFRED_CRON_OK;
}

/*
 * Read a plain value (number, or name in the month and day-of-week fields)
 * from an alphanumeric word.
 */
static alfred_cron_status
word_value(term_reader *r, const char *w, size_t len, int *value)
{
	int			idx;

	if (read_digits(w, len, value) == len)
		return check_range(r, *value, w, len);
	if (r->field == ALFRED_CRON_MONTH &&
		(idx = name_index(w, len, month_names, 12)) >= 0)
	{
		*value = idx + 1;
		return ALFRED_CRON_OK;
	}
	if (r->field == ALFRED_CRON_DOW &&
		(idx = name_index(w, len, day_names, 7)) >= 0)
	{
		*value = idx;
		return ALFRED_CRON_OK;
	}
	if (r->field == ALFRED_CRON_MONTH || r->field == ALFRED_CRON_DOW)
		return fail(r->err, ALFRED_CRON_NOT_A_NAME, r->field, w, len);
	return fail(r->err, ALFRED_CRON_NOT_A_NUMBER, r->field, w, len);
}

/*
 * Read one atom at the cursor.  first says whether it starts the term
 * (special words are only allowed there, except L/$ as a range end).
 */
static alfred_cron_status
read_atom(term_reader *r, bool first, atom *a)
{
	const char *w = r->p;
	size_t		len = 0;
	bool		dom = r->field == ALFRED_CRON_DOM;
	bool		dow = r->field == ALFRED_CRON_DOW;

	if (r->p < r->end && (*r->p == '*' || *r->p == '$'))
	{
		char		c = *r->p++;

		if (c == '$' && dom)
		{
			a->kind = ATOM_LAST;
			return ALFRED_CRON_OK;
		}
		if (c == '*' && first)
		{
			a->kind = ATOM_STAR;
			return ALFRED_CRON_OK;
		}
		return malformed(r);
	}
	while (r->p < r->end && isalnum((unsigned char) *r->p))
		r->p++;
	len = r->p - w;
	if (len == 0)
		return malformed(r);

	a->kind = ATOM_VALUE;
	if (dom && (word_is(w, len, "L") || word_is(w, len, "LW")))
	{
		a->kind = len == 1 ? ATOM_LAST : ATOM_LAST_WEEKDAY;
		return (first || a->kind == ATOM_LAST) ? ALFRED_CRON_OK : malformed(r);
	}
	if (dom && len > 1 && toupper((unsigned char) w[len - 1]) == 'W')
	{
		if (!first || read_digits(w, len - 1, &a->value) != len - 1)
			return first ? fail(r->err, ALFRED_CRON_NOT_A_NUMBER, r->field, w, len) : malformed(r);
		a->kind = ATOM_NEAREST;
		return check_range(r, a->value, w, len - 1);
	}
	if (dow && len > 1 && toupper((unsigned char) w[len - 1]) == 'L' &&
		(read_digits(w, len - 1, &a->value) == len - 1 ||
		 name_index(w, len - 1, day_names, 7) >= 0))
	{
		if (!first)
			return malformed(r);
		a->kind = ATOM_LAST_OF;
		return word_value(r, w, len - 1, &a->value);
	}
	if (dow && word_is(w, len, "L"))
		return malformed(r);
	return word_value(r, w, len, &a->value);
}

/* Set the values lo..hi (wrapping past the field's end) every step. */
static void
set_range(alfred_cron_field field, int lo, int hi, int step, uint64_t *bits)
{
	int			min = fields[field].min;
	int			span = fields[field].max - min + 1;
	int			len;
	int			i;

	if (field == ALFRED_CRON_DOW)
	{
		if (lo <= hi)
		{
			for (i = lo; i <= hi; i += step)
				*bits |= UINT64_C(1) << (i % 7);
			return;
		}
		lo %= 7;
		hi %= 7;
		span = 7;
	}
	len = (hi - lo + span) % span + 1;
	for (i = 0; i < len; i += step)
		*bits |= UINT64_C(1) << (min + (lo - min + i) % span);
}

/* Read "/step" if present. */
static alfred_cron_status
read_step(term_reader *r, int *step)
{
	const char *s;
	int			fmax = fields[r->field].max;

	*step = 1;
	if (r->p >= r->end || *r->p != '/')
		return ALFRED_CRON_OK;
	s = ++r->p;
	while (r->p < r->end && isdigit((unsigned char) *r->p))
		r->p++;
	if (r->p == s)
		return malformed(r);
	read_digits(s, r->p - s, step);
	if (*step < 1 || *step > fmax)
		return fail(r->err, ALFRED_CRON_BAD_STEP, r->field, s, r->p - s);
	return ALFRED_CRON_OK;
}

/* Parse one term into *bits and the special sets of c. */
static alfred_cron_status
parse_term(term_reader *r, alfred_cron *c, uint64_t *bits)
{
	atom		a,
				b;
	int			lo,
				hi,
				step;
	alfred_cron_status st;

	if ((st = read_atom(r, true, &a)) != ALFRED_CRON_OK)
		return st;

	switch (a.kind)
	{
		case ATOM_LAST:
			if (r->p < r->end)
				return malformed(r);
			c->mday_last = true;
			return ALFRED_CRON_OK;
		case ATOM_LAST_WEEKDAY:
			if (r->p < r->end)
				return malformed(r);
			c->mday_last_weekday = true;
			return ALFRED_CRON_OK;
		case ATOM_NEAREST:
			if (r->p < r->end)
				return malformed(r);
			c->mdays_nearest |= UINT32_C(1) << a.value;
			return ALFRED_CRON_OK;
		case ATOM_LAST_OF:
			if (r->p < r->end)
				return malformed(r);
			c->wdays_last |= 1 << (a.value % 7);
			return ALFRED_CRON_OK;
		case ATOM_STAR:
			lo = fields[r->field].min;
			hi = r->field == ALFRED_CRON_DOW ? 6 : fields[r->field].max;
			break;
		case ATOM_VALUE:
			lo = hi = a.value;
			if (r->field == ALFRED_CRON_DOW && r->p < r->end && *r->p == '#')
			{
				const char *k = ++r->p;
				int			nth;

				while (r->p < r->end && isalnum((unsigned char) *r->p))
					r->p++;
				if (r->p == k || r->p < r->end)
					return malformed(r);
				if (read_digits(k, r->p - k, &nth) != (size_t) (r->p - k))
					return malformed(r);
				if (nth < 1 || nth > 5)
					return fail(r->err, ALFRED_CRON_BAD_NTH, r->field, k, r->p - k);
				c->wdays_nth[nth] |= 1 << (a.value % 7);
				return ALFRED_CRON_OK;
			}
			if (r->p < r->end && *r->p == '-')
			{
				r->p++;
				if ((st = read_atom(r, false, &b)) != ALFRED_CRON_OK)
					return st;
				hi = b.kind == ATOM_LAST ? 31 : b.value;
			}
			else if (r->p < r->end && *r->p == '/')
				hi = r->field == ALFRED_CRON_DOW ? 6 : fields[r->field].max;
			break;
		default:
			return malformed(r);
	}
	if ((st = read_step(r, &step)) != ALFRED_CRON_OK)
		return st;
	if (r->p < r->end)
		return malformed(r);
	/* an open range from a DOW value above 6 (7/2) is just that value */
	if (hi < lo && a.kind == ATOM_VALUE && r->field == ALFRED_CRON_DOW && lo == 7 && hi == 6)
		hi = lo;
	set_range(r->field, lo, hi, step, bits);
	return ALFRED_CRON_OK;
}

/* Parse one whitespace-delimited field. */
static alfred_cron_status
parse_field(alfred_cron_field field, const char *s, size_t len, alfred_cron *c,
			uint64_t *bits, bool *star, alfred_cron_error *err)
{
	bool		dayfield = field == ALFRED_CRON_DOM || field == ALFRED_CRON_DOW;
	const char *field_text = s;
	size_t		field_len = len;
	term_reader r;

	*bits = 0;
	*star = (len == 1 && (s[0] == '*' || (s[0] == '?' && dayfield)));
	if (*star)
	{
		r.field = field;
		set_range(field, fields[field].min, field == ALFRED_CRON_DOW ? 6 : fields[field].max, 1, bits);
		return ALFRED_CRON_OK;
	}

	r.field = field;
	r.err = err;
	while (len > 0)
	{
		const char *comma = memchr(s, ',', len);
		size_t		tlen = comma ? (size_t) (comma - s) : len;
		alfred_cron_status st;

		r.term = s;
		r.termlen = tlen;
		r.p = s;
		r.end = s + tlen;
		if (memchr(s, '?', tlen))
			return fail(err, ALFRED_CRON_MISPLACED, field, "?", 1);
		if (tlen == 0)
			return fail(err, ALFRED_CRON_MALFORMED, field, field_text, field_len);
		if ((st = parse_term(&r, c, bits)) != ALFRED_CRON_OK)
			return st;
		if (!comma)
			break;
		len -= tlen + 1;
		s = comma + 1;
		if (len == 0)
			return fail(err, ALFRED_CRON_MALFORMED, field, field_text, field_len);
	}
	return ALFRED_CRON_OK;
}

/* Could the day fields ever match a day of some allowed month? */
static bool
can_fire(const alfred_cron *c)
{
	static const int longest[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			m;

	/*
	 * A restricted day-of-week always fires: every weekday occurs in every
	 * month, and a fifth one falls on February 29 in some leap year.
	 */
	if (c->dom_star || !c->dow_star)
		return true;
	if (c->mday_last || c->mday_last_weekday)
		return true;
	for (m = 1; m <= 12; m++)
	{
		uint32_t	days = (uint32_t) bits_upto(longest[m]) & ~UINT32_C(1);

		if ((c->months & (1 << m)) && ((c->mdays | c->mdays_nearest) & days))
			return true;
	}
	return false;
}

static bool
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* pg_cron's "N seconds" (or "N second"); returns false if s is not that form. */
static bool
parse_interval(const char *s, size_t len, alfred_cron *out, alfred_cron_error *err,
			   alfred_cron_status *st)
{
	int			n;
	size_t		nd = read_digits(s, len, &n);
	size_t		i = nd;

	if (nd == 0)
		return false;
	while (i < len && is_space(s[i]))
		i++;
	if (!word_is(s + i, len - i, "SECONDS") && !word_is(s + i, len - i, "SECOND"))
		return false;
	if (n < 1 || n > 59)
		*st = fail(err, ALFRED_CRON_BAD_INTERVAL, ALFRED_CRON_NOFIELD, s, nd);
	else
	{
		memset(out, 0, sizeof(*out));
		out->interval_seconds = n;
		*st = ALFRED_CRON_OK;
	}
	return true;
}

alfred_cron_status
alfred_cron_parse(const char *expr, alfred_cron *out, alfred_cron_error *err)
{
	const char *s = expr;
	const char *start[ALFRED_CRON_NFIELDS];
	size_t		len[ALFRED_CRON_NFIELDS];
	size_t		total;
	int			n = 0;
	int			f;
	alfred_cron c;
	alfred_cron_status st;
	uint64_t	bits[ALFRED_CRON_NFIELDS];
	bool		star[ALFRED_CRON_NFIELDS];

	total = strnlen(expr, ALFRED_CRON_MAX_LEN + 1);
	if (total > ALFRED_CRON_MAX_LEN)
		return fail(err, ALFRED_CRON_TOO_LONG, ALFRED_CRON_NOFIELD, NULL, 0);
	while (*s && is_space(*s))
		s++;
	total = strlen(s);
	while (total > 0 && is_space(s[total - 1]))
		total--;
	if (total == 0)
		return fail(err, ALFRED_CRON_EMPTY, ALFRED_CRON_NOFIELD, NULL, 0);

	if (s[0] == '@')
	{
		size_t		i;

		for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
			if (word_is(s, total, macros[i].name))
				return alfred_cron_parse(macros[i].expansion, out, err);
		return fail(err, ALFRED_CRON_BAD_MACRO, ALFRED_CRON_NOFIELD, s, total);
	}
	if (parse_interval(s, total, out, err, &st))
		return st;

	/* split into fields */
	{
		const char *p = s;
		const char *e = s + total;

		while (p < e)
		{
			const char *b = p;

			while (p < e && !is_space(*p))
				p++;
			if (n < ALFRED_CRON_NFIELDS)
			{
				start[n] = b;
				len[n] = p - b;
			}
			n++;
			while (p < e && is_space(*p))
				p++;
		}
	}
	if (n != ALFRED_CRON_NFIELDS)
	{
		st = fail(err, ALFRED_CRON_FIELD_COUNT, ALFRED_CRON_NOFIELD, NULL, 0);
		if (err)
			err->nfields = n;
		return st;
	}

	memset(&c, 0, sizeof(c));
	for (f = 0; f < ALFRED_CRON_NFIELDS; f++)
	{
		st = parse_field((alfred_cron_field) f, start[f], len[f], &c, &bits[f], &star[f], err);
		if (st != ALFRED_CRON_OK)
			return st;
	}
	c.minutes = bits[ALFRED_CRON_MINUTE];
	c.hours = (uint32_t) bits[ALFRED_CRON_HOUR];
	c.mdays = (uint32_t) bits[ALFRED_CRON_DOM];
	c.months = (uint16_t) bits[ALFRED_CRON_MONTH];
	c.wdays = (uint8_t) bits[ALFRED_CRON_DOW];
	c.dom_star = star[ALFRED_CRON_DOM];
	c.dow_star = star[ALFRED_CRON_DOW];
	c.all_hours = c.hours == (uint32_t) bits_upto(23);
	c.has_nth_or_last = c.wdays_last != 0;
	for (f = 1; f <= 5; f++)
		c.has_nth_or_last |= c.wdays_nth[f] != 0;
	if (!can_fire(&c))
		return fail(err, ALFRED_CRON_NEVER, ALFRED_CRON_NOFIELD, NULL, 0);
	*out = c;
	return ALFRED_CRON_OK;
}

/*---- Wall-clock time ----*/

void
alfred_cron_time_from_seconds(int64_t secs, alfred_cron_time *t)
{
	int64_t		days = secs / 86400;
	int64_t		rest = secs % 86400;

	if (rest < 0)
	{
		rest += 86400;
		days--;
	}
	alfred_civil_from_days(days, &t->year, &t->month, &t->day);
	t->hour = (int) (rest / 3600);
	t->minute = (int) (rest % 3600 / 60);
}

int64_t
alfred_cron_time_to_seconds(const alfred_cron_time *t)
{
	return alfred_days_from_civil(t->year, t->month, t->day) * 86400
		+ t->hour * 3600 + t->minute * 60;
}

/*---- Matching ----*/

/* Bits 1..31: the days of (year, month) that the day fields allow. */
static uint32_t
day_mask(const alfred_cron *c, int year, int month)
{
	int			dim = alfred_days_in_month(year, month);
	uint32_t	all = (uint32_t) bits_upto(dim) & ~UINT32_C(1);
	uint32_t	dom = 0;
	uint32_t	dow = 0;
	int			w1,
				d,
				k,
				w;

	if (c->dom_star && c->dow_star)
		return all;
	w1 = alfred_weekday(alfred_days_from_civil(year, month, 1));
	if (!c->dom_star)
	{
		dom = c->mdays & all;
		if (c->mday_last)
			dom |= UINT32_C(1) << dim;
		if (c->mday_last_weekday)
		{
			int			wl = (w1 + dim - 1) % 7;

			dom |= UINT32_C(1) << (wl == 6 ? dim - 1 : wl == 0 ? dim - 2 : dim);
		}
		if (c->mdays_nearest & all)
		{
			for (d = 1; d <= dim; d++)
			{
				if (!(c->mdays_nearest & (UINT32_C(1) << d)))
					continue;
				w = (w1 + d - 1) % 7;
				if (w == 6)
					dom |= UINT32_C(1) << (d == 1 ? 3 : d - 1);
				else if (w == 0)
					dom |= UINT32_C(1) << (d == dim ? d - 2 : d + 1);
				else
					dom |= UINT32_C(1) << d;
			}
		}
	}
	if (!c->dow_star)
	{
		/* weekday of day 1 + j is (w1 + j) % 7: rotate the week, repeat it */
		uint32_t	week = ((uint32_t) c->wdays >> w1 | (uint32_t) c->wdays << (7 - w1)) & 0x7F;

		dow = (week | week << 7 | week << 14 | week << 21 | week << 28) << 1 & all;
		if (c->has_nth_or_last)
		{
			for (w = 0; w < 7; w++)
			{
				int			first = 1 + (w - w1 + 7) % 7;

				for (k = 1; k <= 5; k++)
					if ((c->wdays_nth[k] & (1 << w)) && first + 7 * (k - 1) <= dim)
						dow |= UINT32_C(1) << (first + 7 * (k - 1));
				if (c->wdays_last & (1 << w))
					dow |= UINT32_C(1) << (first + 7 * ((dim - first) / 7));
			}
		}
	}
	if (c->dom_star)
		return dow;
	if (c->dow_star)
		return dom;
	return dom | dow;
}

/* Does the day (year, month, day) match the day fields and month field? */
static bool
day_matches(const alfred_cron *c, int year, int month, int day)
{
	if (!(c->months & (1 << month)))
		return false;
	return (day_mask(c, year, month) >> day) & 1;
}

bool
alfred_cron_matches(const alfred_cron *c, const alfred_cron_time *t)
{
	return ((c->minutes >> t->minute) & 1) &&
		((c->hours >> t->hour) & 1) &&
		day_matches(c, t->year, t->month, t->day);
}

/*---- Searching ----*/

/*
 * Each step below either returns or moves the candidate forward (backward)
 * to the start (end) of the next allowed month, day or hour, so the loops
 * end; the year bound ends them when nothing matches.
 */
bool
alfred_cron_next_match(const alfred_cron *c, alfred_cron_time *t, int max_year)
{
	int			y = t->year,
				mo = t->month,
				d = t->day,
				h = t->hour,
				mi = t->minute;
	int			mask_year = 0,
				mask_month = 0;
	uint32_t	mask = 0;

	for (;;)
	{
		uint64_t	m;

		if (y > max_year)
			return false;
		m = c->months & bits_from(mo);
		if (m == 0)
		{
			y++;
			mo = lowest_bit(c->months);
			d = 1, h = 0, mi = 0;
			continue;
		}
		if (lowest_bit(m) != mo)
		{
			mo = lowest_bit(m);
			d = 1, h = 0, mi = 0;
		}
		if (mask_year != y || mask_month != mo)
		{
			mask = day_mask(c, y, mo);
			mask_year = y;
			mask_month = mo;
		}
		m = mask & bits_from(d);
		if (m == 0)
		{
			if (++mo > 12)
				y++, mo = 1;
			d = 1, h = 0, mi = 0;
			continue;
		}
		if (lowest_bit(m) != d)
		{
			d = lowest_bit(m);
			h = 0, mi = 0;
		}
		m = c->hours & bits_from(h);
		if (m == 0)
		{
			d++, h = 0, mi = 0;
			continue;
		}
		if (lowest_bit(m) != h)
		{
			h = lowest_bit(m);
			mi = 0;
		}
		m = c->minutes & bits_from(mi);
		if (m == 0)
		{
			h++, mi = 0;
			if (h == 24)
				d++, h = 0;
			continue;
		}
		t->year = y;
		t->month = mo;
		t->day = d;
		t->hour = h;
		t->minute = lowest_bit(m);
		return true;
	}
}

bool
alfred_cron_prev_match(const alfred_cron *c, alfred_cron_time *t, int min_year)
{
	int			y = t->year,
				mo = t->month,
				d = t->day,
				h = t->hour,
				mi = t->minute;
	int			mask_year = 0,
				mask_month = 0;
	uint32_t	mask = 0;

	for (;;)
	{
		uint64_t	m;

		if (y < min_year)
			return false;
		m = c->months & bits_upto(mo);
		if (m == 0)
		{
			y--;
			mo = highest_bit(c->months);
			d = 31, h = 23, mi = 59;
			continue;
		}
		if (highest_bit(m) != mo)
		{
			mo = highest_bit(m);
			d = 31, h = 23, mi = 59;
		}
		if (mask_year != y || mask_month != mo)
		{
			mask = day_mask(c, y, mo);
			mask_year = y;
			mask_month = mo;
		}
		m = mask & bits_upto(d);
		if (m == 0)
		{
			if (--mo < 1)
				y--, mo = 12;
			d = 31, h = 23, mi = 59;
			continue;
		}
		if (highest_bit(m) != d)
		{
			d = highest_bit(m);
			h = 23, mi = 59;
		}
		m = c->hours & bits_upto(h);
		if (m == 0)
		{
			d--, h = 23, mi = 59;
			continue;
		}
		if (highest_bit(m) != h)
		{
			h = highest_bit(m);
			mi = 59;
		}
		m = c->minutes & bits_upto(mi);
		if (m == 0)
		{
			h--, mi = 59;
			if (h < 0)
				d--, h = 23;
			continue;
		}
		t->year = y;
		t->month = mo;
		t->day = d;
		t->hour = h;
		t->minute = highest_bit(m);
		return true;
	}
}
