/*-------------------------------------------------------------------------
 *
 * proposal.c
 *		The proposal state machine, the payload shapes of the action types
 *		alfred knows, and the normalized edit distance between a proposed
 *		payload and the one a human approved.
 *
 * Pure C (C99, libc and jansson): the backend's guard trigger and SQL
 * functions (src/proposal_sql.c) call these, and test/unit/test_proposal.c
 * and test/fuzz exercise them directly.
 *
 *-------------------------------------------------------------------------
 */
#include "proposal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*---- Statuses and transitions ----*/

static const char *const status_names[ALFRED_PROPOSAL_N_STATUS] = {
	"pending", "approved", "rejected", "expired", "executing", "executed", "failed"
};

/*
 * The machine (machine.h): a proposal may move
 *
 *	pending   -> approved | rejected | expired
 *	approved  -> executing | rejected
 *	executing -> executed | failed
 *	failed    -> approved | rejected		(retry, or give up)
 *
 * rejected, expired and executed are final.  A proposal can be rejected at
 * every stage where its action has not happened and is not happening:
 * pending, approved and failed.  An executing proposal cannot be rejected: its action may already
 * be half done at the provider, a rejection would not undo it, and the
 * executor's report (executed or failed) must still land.  Once it failed,
 * the user may reject it instead of retrying.
 */
#define ST(x) (1u << ALFRED_PROPOSAL_##x)

const AlfredMachine alfred_proposal_machine = {
	.noun = "proposal",
	.n_status = ALFRED_PROPOSAL_N_STATUS,
	.names = status_names,
	.allowed = {
		[ALFRED_PROPOSAL_PENDING] = ST(APPROVED) | ST(REJECTED) | ST(EXPIRED),
		[ALFRED_PROPOSAL_APPROVED] = ST(EXECUTING) | ST(REJECTED),
		[ALFRED_PROPOSAL_EXECUTING] = ST(EXECUTED) | ST(FAILED),
		[ALFRED_PROPOSAL_FAILED] = ST(APPROVED) | ST(REJECTED),
	},
};

#undef ST

const char *
alfred_proposal_status_name(int status)
{
	return alfred_machine_status_name(&alfred_proposal_machine, status);
}

int
alfred_proposal_status_parse(const char *name)
{
	return alfred_machine_status_parse(&alfred_proposal_machine, name);
}

bool
alfred_proposal_transition_allowed(int from, int to)
{
	return alfred_machine_allowed(&alfred_proposal_machine, from, to);
}

void
alfred_proposal_next_statuses(int from, char *buf, size_t len)
{
	alfred_machine_next_statuses(&alfred_proposal_machine, from, buf, len);
}

/*---- Payload shapes ----*/

/* What a payload key's value must be. */
typedef enum KeyType
{
	KT_STRING,					/* any string */
	KT_TEXT,					/* a non-empty string */
	KT_TEXT_OR_NULL,			/* a string or null */
	KT_UUID,					/* a uuid in its text form */
	KT_UUID_OR_NULL,
	KT_BOOLEAN,
	KT_TIMESTAMP,				/* ISO 8601 date or date-time */
	KT_TIMESTAMP_OR_NULL,
	KT_STRINGS,					/* an array of strings */
	KT_EMAILS,					/* an array of email addresses */
	KT_EMAILS_NONEMPTY,
	KT_PRIORITY,				/* a task priority */
	KT_STATUSES,				/* a task status or an array of them */
	KT_LIMIT,					/* an integer from 1 to 1000 */
	KT_FILTERS					/* the object of query filters */
} KeyType;

static const char *const key_type_expected[] = {
	[KT_STRING] = "a string",
	[KT_TEXT] = "a non-empty string",
	[KT_TEXT_OR_NULL] = "a string or null",
	[KT_UUID] = "a uuid string",
	[KT_UUID_OR_NULL] = "a uuid string or null",
	[KT_BOOLEAN] = "a boolean",
	[KT_TIMESTAMP] = "an ISO 8601 date or date-time string",
	[KT_TIMESTAMP_OR_NULL] = "an ISO 8601 date or date-time string or null",
	[KT_STRINGS] = "an array of strings",
	[KT_EMAILS] = "an array of email addresses",
	[KT_EMAILS_NONEMPTY] = "a non-empty array of email addresses",
	[KT_PRIORITY] = "one of low, medium, high, urgent, critical",
	[KT_STATUSES] = "a task status or an array of task statuses (pending, in_progress, blocked, completed, cancelled, failed)",
	[KT_LIMIT] = "an integer from 1 to 1000",
	[KT_FILTERS] = "an object",
};

typedef struct KeySpec
{
	const char *name;
	KeyType		type;
	bool		required;
} KeySpec;

typedef struct ActionSpec
{
	const char *action_type;
	bool		task_action;
	const KeySpec *keys;
	const char *allowed;		/* the key names, for error details */
} ActionSpec;

#define END_KEYS {NULL, KT_STRING, false}

#define TASK_FIELDS \
	{"description", KT_TEXT_OR_NULL, false}, \
	{"priority", KT_PRIORITY, false}, \
	{"due_date", KT_TIMESTAMP_OR_NULL, false}, \
	{"tags", KT_STRINGS, false}, \
	{"project_id", KT_UUID_OR_NULL, false}

/* The task actions: payloads name alfred's task columns. */
static const KeySpec create_keys[] = {
	{"title", KT_TEXT, true}, TASK_FIELDS, END_KEYS
};
static const KeySpec update_keys[] = {
	{"task_id", KT_UUID, true}, {"title", KT_TEXT, false}, TASK_FIELDS, END_KEYS
};
static const KeySpec delete_keys[] = {
	{"task_id", KT_UUID, true}, END_KEYS
};
static const KeySpec complete_keys[] = {
	{"task_id", KT_UUID, true}, {"completed", KT_BOOLEAN, true}, END_KEYS
};
static const KeySpec query_keys[] = {
	{"task_id", KT_UUID, false}, {"filters", KT_FILTERS, false}, END_KEYS
};
static const KeySpec filter_keys[] = {
	{"completed", KT_BOOLEAN, false},
	{"status", KT_STATUSES, false},
	{"priority", KT_PRIORITY, false},
	{"due_before", KT_TIMESTAMP, false},
	{"due_after", KT_TIMESTAMP, false},
	{"search", KT_TEXT, false},
	{"tag", KT_TEXT, false},
	{"project_id", KT_UUID, false},
	{"limit", KT_LIMIT, false},
	END_KEYS
};
#define FILTER_KEYS_ALLOWED "completed, status, priority, due_before, due_after, search, tag, project_id, limit"

/*
 * The e-mail and calendar actions: alfred checks their payloads, an executor
 * outside alfred runs them.
 */
static const KeySpec email_draft_keys[] = {
	{"to", KT_EMAILS_NONEMPTY, true},
	{"cc", KT_EMAILS, false},
	{"bcc", KT_EMAILS, false},
	{"subject", KT_STRING, true},
	{"body", KT_STRING, true},
	{"provider", KT_TEXT, false},
	{"in_reply_to", KT_TEXT, false},
	{"thread_id", KT_TEXT, false},
	END_KEYS
};

#define EVENT_FIELDS \
	{"location", KT_TEXT_OR_NULL, false}, \
	{"description", KT_TEXT_OR_NULL, false}, \
	{"attendees", KT_EMAILS, false}, \
	{"provider", KT_TEXT, false}

static const KeySpec create_event_keys[] = {
	{"title", KT_TEXT, true}, {"start", KT_TIMESTAMP, true}, {"end", KT_TIMESTAMP, true},
	EVENT_FIELDS, END_KEYS
};
static const KeySpec update_event_keys[] = {
	{"event_id", KT_TEXT, true}, {"title", KT_TEXT, false},
	{"start", KT_TIMESTAMP, false}, {"end", KT_TIMESTAMP, false},
	EVENT_FIELDS, END_KEYS
};
static const KeySpec delete_event_keys[] = {
	{"event_id", KT_TEXT, true}, {"provider", KT_TEXT, false}, END_KEYS
};
static const KeySpec reminder_keys[] = {
	{"title", KT_TEXT, true}, {"start", KT_TIMESTAMP, true}, {"end", KT_TIMESTAMP, false},
	{"description", KT_TEXT_OR_NULL, false}, {"provider", KT_TEXT, false}, END_KEYS
};

static const ActionSpec action_specs[] = {
	{"create", true, create_keys,
	"title, description, priority, due_date, tags, project_id"},
	{"update", true, update_keys,
	"task_id, title, description, priority, due_date, tags, project_id"},
	{"complete", true, complete_keys, "task_id, completed"},
	{"delete", true, delete_keys, "task_id"},
	{"query", true, query_keys, "task_id, filters"},
	{"create_email_draft", false, email_draft_keys,
	"to, cc, bcc, subject, body, provider, in_reply_to, thread_id"},
	{"create_calendar_event", false, create_event_keys,
	"title, start, end, location, description, attendees, provider"},
	{"update_calendar_event", false, update_event_keys,
	"event_id, title, start, end, location, description, attendees, provider"},
	{"delete_calendar_event", false, delete_event_keys, "event_id, provider"},
	{"create_reminder_event", false, reminder_keys,
	"title, start, end, description, provider"},
};

#define N_ACTION_SPECS (sizeof(action_specs) / sizeof(action_specs[0]))

static const ActionSpec *
find_action(const char *action_type)
{
	if (action_type == NULL)
		return NULL;
	for (size_t i = 0; i < N_ACTION_SPECS; i++)
		if (strcmp(action_specs[i].action_type, action_type) == 0)
			return &action_specs[i];
	return NULL;
}

bool
alfred_proposal_is_task_action(const char *action_type)
{
	const ActionSpec *spec = find_action(action_type);

	return spec != NULL && spec->task_action;
}

bool
alfred_proposal_is_known_action(const char *action_type)
{
	return find_action(action_type) != NULL;
}

/*---- Value forms ----*/

static bool
is_uuid(const char *s)
{
	/* 8-4-4-4-12 hex digits, the form uuid_out writes (any case). */
	static const int dash_at[] = {8, 13, 18, 23};
	int			d = 0;

	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++)
	{
		if (d < 4 && i == dash_at[d])
		{
			if (s[i] != '-')
				return false;
			d++;
		}
		else if (!((s[i] >= '0' && s[i] <= '9') ||
				   (s[i] >= 'a' && s[i] <= 'f') ||
				   (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	}
	return true;
}

/* Reads exactly n decimal digits at *s; advances *s. */
static bool
read_digits(const char **s, int n, int *out)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		char		c = (*s)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*s += n;
	*out = v;
	return true;
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static long
days_from_civil(int y, int m, int d)
{
	long		era;
	long		yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * Parses an ISO 8601 date ("2025-11-15") or date-time
 * ("2025-11-15T14:00", "2025-11-15 14:00:00.5+01:00", "...Z").  On success
 * sets *epoch to seconds since 1970 (of the UTC instant when the text has an
 * offset, of the wall time when it has none) and *has_offset.
 */
static bool
parse_timestamp(const char *s, double *epoch, bool *has_offset)
{
	int			y,
				mo,
				d,
				h = 0,
				mi = 0,
				sec = 0;
	double		frac = 0;
	int			offset = 0;

	*has_offset = false;
	if (!read_digits(&s, 4, &y) || *s++ != '-' || !read_digits(&s, 2, &mo) ||
		*s++ != '-' || !read_digits(&s, 2, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return false;
	if (*s == 'T' || *s == 't' || *s == ' ')
	{
		s++;
		if (!read_digits(&s, 2, &h) || *s++ != ':' || !read_digits(&s, 2, &mi))
			return false;
		if (*s == ':')
		{
			s++;
			if (!read_digits(&s, 2, &sec))
				return false;
			if (*s == '.')
			{
				double		scale = 0.1;

				s++;
				if (*s < '0' || *s > '9')
					return false;
				for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
					frac += (*s - '0') * scale;
			}
		}
		if (h > 23 || mi > 59 || sec > 59)
			return false;
		if (*s == 'Z' || *s == 'z')
		{
			s++;
			*has_offset = true;
		}
		else if (*s == '+' || *s == '-')
		{
			int			sign = *s++ == '-' ? -1 : 1;
			int			oh,
						om = 0;

			if (!read_digits(&s, 2, &oh))
				return false;
			if (*s == ':')
				s++;
			if (*s != '\0' && !read_digits(&s, 2, &om))
				return false;
			if (oh > 15 || om > 59)
				return false;
			offset = sign * (oh * 3600 + om * 60);
			*has_offset = true;
		}
	}
	if (*s != '\0')
		return false;
	*epoch = (double) days_from_civil(y, mo, d) * 86400.0 +
		h * 3600 + mi * 60 + sec + frac - offset;
	return true;
}

static bool
is_email(const char *s)
{
	const char *at = strchr(s, '@');

	/* something@something, one @, no spaces: not RFC 5322, only a sanity check */
	return at != NULL && at != s && at[1] != '\0' && strchr(at + 1, '@') == NULL &&
		strpbrk(s, " \t\r\n<>,;") == NULL;
}

static bool
is_one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static const char *const priorities[] = {"low", "medium", "high", "urgent", "critical", NULL};
static const char *const task_statuses[] = {
	"pending", "in_progress", "blocked", "completed", "cancelled", "failed", NULL
};

static bool
is_string_array(const json_t *v, bool (*pred) (const char *), bool nonempty)
{
	size_t		i;
	json_t	   *e;

	if (!json_is_array(v) || (nonempty && json_array_size(v) == 0))
		return false;
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e) || (pred && !pred(json_string_value(e))))
			return false;
	}
	return true;
}

static bool
is_task_status(const char *s)
{
	return is_one_of(s, task_statuses);
}

/* Whether v has the form type asks for (KT_FILTERS: only that it is an object). */
static bool
value_conforms(const json_t *v, KeyType type)
{
	double		epoch;
	bool		has_offset;

	switch (type)
	{
		case KT_STRING:
			return json_is_string(v);
		case KT_TEXT:
			return json_is_string(v) && json_string_length(v) > 0;
		case KT_TEXT_OR_NULL:
			return json_is_string(v) || json_is_null(v);
		case KT_UUID_OR_NULL:
			if (json_is_null(v))
				return true;
			/* FALLTHROUGH */
		case KT_UUID:
			return json_is_string(v) && is_uuid(json_string_value(v));
		case KT_BOOLEAN:
			return json_is_boolean(v);
		case KT_TIMESTAMP_OR_NULL:
			if (json_is_null(v))
				return true;
			/* FALLTHROUGH */
		case KT_TIMESTAMP:
			return json_is_string(v) &&
				parse_timestamp(json_string_value(v), &epoch, &has_offset);
		case KT_STRINGS:
			return is_string_array(v, NULL, false);
		case KT_EMAILS:
			return is_string_array(v, is_email, false);
		case KT_EMAILS_NONEMPTY:
			return is_string_array(v, is_email, true);
		case KT_PRIORITY:
			return json_is_string(v) && is_one_of(json_string_value(v), priorities);
		case KT_STATUSES:
			if (json_is_string(v))
				return is_task_status(json_string_value(v));
			return is_string_array(v, is_task_status, true);
		case KT_LIMIT:
			return json_is_integer(v) && json_integer_value(v) >= 1 &&
				json_integer_value(v) <= 1000;
		case KT_FILTERS:
			return json_is_object(v);
	}
	return false;
}

/*---- The checker ----*/

static bool
fail(AlfredPayloadError *err, AlfredPayloadStatus status, const char *prefix,
	 const char *key, const char *expected, const char *allowed)
{
	err->status = status;
	snprintf(err->key, sizeof(err->key), "%s%s", prefix, key ? key : "");
	err->expected = expected;
	err->allowed = allowed;
	return false;
}

/* Whether any value inside v is nested deeper than the limit. */
static bool
too_deep(const json_t *v, int depth)
{
	const char *k;
	json_t	   *e;
	size_t		i;

	if (depth > ALFRED_PAYLOAD_MAX_DEPTH)
		return true;
	if (json_is_object(v))
	{
		json_object_foreach((json_t *) v, k, e)
		{
			if (too_deep(e, depth + 1))
				return true;
		}
	}
	else if (json_is_array(v))
	{
		json_array_foreach(v, i, e)
		{
			if (too_deep(e, depth + 1))
				return true;
		}
	}
	return false;
}

static const KeySpec *
find_key(const KeySpec *keys, const char *name)
{
	for (; keys->name; keys++)
		if (strcmp(keys->name, name) == 0)
			return keys;
	return NULL;
}

/* Checks one object against a key list; prefix names where it sits. */
static bool
check_object(const json_t *obj, const KeySpec *keys, const char *allowed,
			 const char *prefix, AlfredPayloadError *err)
{
	const char *name;
	json_t	   *v;

	/* required keys first, in the order the spec lists them */
	for (const KeySpec *k = keys; k->name; k++)
	{
		if (k->required && json_object_get(obj, k->name) == NULL)
			return fail(err, ALFRED_PAYLOAD_MISSING_KEY, prefix, k->name,
						key_type_expected[k->type], allowed);
	}
	json_object_foreach((json_t *) obj, name, v)
	{
		const KeySpec *k = find_key(keys, name);

		if (k == NULL)
			return fail(err, ALFRED_PAYLOAD_UNKNOWN_KEY, prefix, name, NULL, allowed);
		if (!value_conforms(v, k->type))
			return fail(err, ALFRED_PAYLOAD_WRONG_TYPE, prefix, name,
						key_type_expected[k->type], allowed);
		if (k->type == KT_FILTERS &&
			!check_object(v, filter_keys, FILTER_KEYS_ALLOWED, "filters.", err))
			return false;
	}
	return true;
}

/* An event's end must come after its start when both are comparable. */
static bool
check_event_times(const json_t *payload, AlfredPayloadError *err)
{
	const json_t *start = json_object_get(payload, "start");
	const json_t *end = json_object_get(payload, "end");
	double		s,
				e;
	bool		s_off,
				e_off;

	if (start == NULL || end == NULL)
		return true;
	parse_timestamp(json_string_value(start), &s, &s_off);
	parse_timestamp(json_string_value(end), &e, &e_off);
	if (s_off == e_off && e <= s)
		return fail(err, ALFRED_PAYLOAD_WRONG_TYPE, "", "end",
					"a time after \"start\"", NULL);
	return true;
}

bool
alfred_proposal_check_payload(const char *action_type, const json_t *payload,
							  AlfredPayloadError *err)
{
	const ActionSpec *spec = find_action(action_type);

	memset(err, 0, sizeof(*err));
	if (!json_is_object(payload))
		return fail(err, ALFRED_PAYLOAD_NOT_OBJECT, "", NULL, "an object", NULL);
	if (too_deep(payload, 1))
		return fail(err, ALFRED_PAYLOAD_TOO_DEEP, "", NULL, NULL, NULL);
	if (spec == NULL)
		return true;
	if (!check_object(payload, spec->keys, spec->allowed, "", err))
		return false;
	return check_event_times(payload, err);
}

/*---- Edit distance ----
 *
 * Definition.  Every JSON value has a weight W, the amount of content in it:
 * a string weighs its length in Unicode code points (at least 1), a number,
 * boolean or null 1, an object or array the sum of its members' weights (at
 * least 1).  The edit cost C(a, b) of turning a into b:
 *
 *	- values of different kinds (string, number, boolean, null, object,
 *	  array): max(W(a), W(b)), everything is replaced;
 *	- strings: the Levenshtein distance over code points;
 *	- numbers (compared by value, 1 = 1.0), booleans, nulls: 0 if equal, else 1;
 *	- objects: for each key in both, C of the two values; for a key in only
 *	  one, the weight of its value (so renaming a key costs both values);
 *	- arrays: the Levenshtein alignment of the elements, where substituting
 *	  x by y costs C(x, y) and inserting or deleting x costs W(x).
 *
 * The normalized distance is min(1, C(a, b) / max(W(a), W(b))): the share of
 * the larger payload's content that the edit changed.  Fixing a typo in an
 * email body is close to 0; rewriting it is close to 1.  An approval with a
 * distance of 0 is "approved", below ALFRED_PROPOSAL_HEAVY_EDIT (0.25, a
 * quarter of the content) "edited_lightly", else "edited_heavily".
 *
 * Bounds, so that no input can make it slow or deep: values nested deeper
 * than DIST_MAX_DEPTH (1024) weigh 1 and cost 1.  The dynamic-programming
 * tables of one distance (string and array alignments together) may use at
 * most DIST_MAX_CELLS (16 M) cells, about 50 ms, and decoding a string
 * costs its length; common prefixes and suffixes are skipped first and cost
 * no cells.  Once an alignment would exceed what is left, it and every later
 * comparison cost the upper bound max(W(a), W(b)) (a full replacement), so
 * the distance can only come out higher than exact, and only for edits that
 * change thousands of characters in long texts or long arrays.
 */

#define DIST_MAX_CELLS (16.0 * 1024 * 1024)
#define DIST_MAX_DEPTH 1024

/* The cells of dynamic-programming tables one distance may still use. */
typedef struct Budget
{
	double		cells;
} Budget;

/*
 * Takes n cells from the budget.  When too few are left it returns false and
 * empties the budget, so that every later comparison takes its O(1) or linear
 * upper bound instead of starting work it cannot finish.
 */
static bool
spend(Budget *budget, double n)
{
	if (n > budget->cells)
	{
		budget->cells = 0;
		return false;
	}
	budget->cells -= n;
	return true;
}

/* Decodes UTF-8 into code points; returns the count (invalid bytes count as one each). */
static size_t
utf8_decode(const char *s, size_t len, uint32_t *out)
{
	size_t		n = 0;

	for (size_t i = 0; i < len;)
	{
		unsigned char c = (unsigned char) s[i];
		int			extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
		uint32_t	cp = extra == 0 ? c : c & (0x3F >> extra);
		int			k;

		for (k = 1; k <= extra && i + k < len && (s[i + k] & 0xC0) == 0x80; k++)
			cp = (cp << 6) | (s[i + k] & 0x3F);
		if (k <= extra)			/* truncated sequence: take the lead byte alone */
		{
			cp = c;
			k = 1;
		}
		if (out)
			out[n] = cp;
		n++;
		i += k;
	}
	return n;
}

static size_t
utf8_length(const json_t *s)
{
	return utf8_decode(json_string_value(s), json_string_length(s), NULL);
}

static double
weight(const json_t *v, int depth)
{
	double		w = 0;
	const char *k;
	json_t	   *e;
	size_t		i;

	if (depth > DIST_MAX_DEPTH)
		return 1;
	switch (json_typeof(v))
	{
		case JSON_STRING:
			w = (double) utf8_length(v);
			break;
		case JSON_OBJECT:
			json_object_foreach((json_t *) v, k, e)
				w += weight(e, depth + 1);
			break;
		case JSON_ARRAY:
			json_array_foreach(v, i, e)
				w += weight(e, depth + 1);
			break;
		default:
			w = 1;
	}
	return w < 1 ? 1 : w;
}

static double
max2(double x, double y)
{
	return x > y ? x : y;
}

static double
min3(double x, double y, double z)
{
	double		m = x < y ? x : y;

	return m < z ? m : z;
}

/* Levenshtein distance of two code point sequences (two rows of the table). */
static double
levenshtein(const uint32_t *a, size_t n, const uint32_t *b, size_t m, Budget *budget)
{
	size_t	   *row;
	size_t		result;

	while (n > 0 && m > 0 && a[0] == b[0])
		a++, b++, n--, m--;
	while (n > 0 && m > 0 && a[n - 1] == b[m - 1])
		n--, m--;
	if (n == 0 || m == 0)
		return (double) (n + m);
	if (!spend(budget, (double) n * (double) m) ||
		(row = malloc((m + 1) * sizeof(size_t))) == NULL)
		return max2((double) n, (double) m);
	for (size_t j = 0; j <= m; j++)
		row[j] = j;
	for (size_t i = 1; i <= n; i++)
	{
		size_t		diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= m; j++)
		{
			size_t		up = row[j];
			size_t		best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	result = row[m];
	free(row);
	return (double) result;
}

static double
string_cost(const json_t *a, const json_t *b, Budget *budget)
{
	size_t		la = json_string_length(a),
				lb = json_string_length(b);
	uint32_t   *ca,
			   *cb;
	double		cost;

	if (la == lb && memcmp(json_string_value(a), json_string_value(b), la) == 0)
		return 0;
	if (!spend(budget, (double) la + (double) lb))	/* decoding is linear work too */
		return max2((double) utf8_length(a), (double) utf8_length(b));
	ca = malloc((la + 1) * sizeof(uint32_t));
	cb = malloc((lb + 1) * sizeof(uint32_t));
	if (ca == NULL || cb == NULL)
		cost = max2((double) utf8_length(a), (double) utf8_length(b));
	else
		cost = levenshtein(ca, utf8_decode(json_string_value(a), la, ca),
						   cb, utf8_decode(json_string_value(b), lb, cb), budget);
	free(ca);
	free(cb);
	return cost;
}

static bool
numbers_equal(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b))
		return json_integer_value(a) == json_integer_value(b);
	return json_number_value(a) == json_number_value(b);
}

/* The kind of a value: integers and reals are numbers, true and false booleans. */
static int
kind(const json_t *v)
{
	switch (json_typeof(v))
	{
		case JSON_INTEGER:
		case JSON_REAL:
			return JSON_REAL;
		case JSON_TRUE:
		case JSON_FALSE:
			return JSON_TRUE;
		default:
			return json_typeof(v);
	}
}

static double cost(const json_t *a, const json_t *b, int depth, Budget *budget);

static double
object_cost(const json_t *a, const json_t *b, int depth, Budget *budget)
{
	double		c = 0;
	const char *k;
	json_t	   *va;
	json_t	   *vb;

	json_object_foreach((json_t *) a, k, va)
	{
		vb = json_object_get(b, k);
		c += vb ? cost(va, vb, depth + 1, budget) : weight(va, depth + 1);
	}
	json_object_foreach((json_t *) b, k, vb)
	{
		if (json_object_get(a, k) == NULL)
			c += weight(vb, depth + 1);
	}
	return c;
}

static double
array_cost(const json_t *a, const json_t *b, int depth, Budget *budget)
{
	size_t		n = json_array_size(a),
				m = json_array_size(b),
				lo = 0;
	double	   *row = NULL,
			   *wb = NULL;
	double		result;

	/* skip equal leading and trailing elements (cost, unlike json_equal, is depth-bounded) */
	while (lo < n && lo < m &&
		   cost(json_array_get(a, lo), json_array_get(b, lo), depth + 1, budget) == 0)
		lo++;
	while (n > lo && m > lo &&
		   cost(json_array_get(a, n - 1), json_array_get(b, m - 1), depth + 1, budget) == 0)
		n--, m--;
	if (n == lo || m == lo)
	{
		result = 0;
		for (size_t i = lo; i < n; i++)
			result += weight(json_array_get(a, i), depth + 1);
		for (size_t j = lo; j < m; j++)
			result += weight(json_array_get(b, j), depth + 1);
		return result;
	}

	if (!spend(budget, (double) (n - lo) * (double) (m - lo)) ||
		(row = malloc((m - lo + 1) * sizeof(double))) == NULL ||
		(wb = malloc((m - lo) * sizeof(double))) == NULL)
	{
		free(row);
		return max2(weight(a, depth), weight(b, depth));
	}
	row[0] = 0;
	for (size_t j = lo; j < m; j++)
	{
		wb[j - lo] = weight(json_array_get(b, j), depth + 1);
		row[j - lo + 1] = row[j - lo] + wb[j - lo];
	}
	for (size_t i = lo; i < n; i++)
	{
		const json_t *x = json_array_get(a, i);
		double		wx = weight(x, depth + 1);
		double		diag = row[0];

		row[0] += wx;
		for (size_t j = lo; j < m; j++)
		{
			double		up = row[j - lo + 1];

			double		sub = budget->cells > 0 ?
				cost(x, json_array_get(b, j), depth + 1, budget) : max2(wx, wb[j - lo]);

			row[j - lo + 1] = min3(diag + sub,
								   up + wx,
								   row[j - lo] + wb[j - lo]);
			diag = up;
		}
	}
	result = row[m - lo];
	free(row);
	free(wb);
	return result;
}

static double
cost(const json_t *a, const json_t *b, int depth, Budget *budget)
{
	/* below DIST_MAX_DEPTH values count as one unit each, changed or not */
	if (kind(a) != kind(b) || depth > DIST_MAX_DEPTH)
		return max2(weight(a, depth), weight(b, depth));
	switch (json_typeof(a))
	{
		case JSON_STRING:
			return string_cost(a, b, budget);
		case JSON_OBJECT:
			return object_cost(a, b, depth, budget);
		case JSON_ARRAY:
			return array_cost(a, b, depth, budget);
		case JSON_INTEGER:
		case JSON_REAL:
			return numbers_equal(a, b) ? 0 : 1;
		case JSON_TRUE:
		case JSON_FALSE:
			return json_typeof(a) == json_typeof(b) ? 0 : 1;
		default:
			return 0;			/* null */
	}
}

double
alfred_proposal_edit_distance(const json_t *a, const json_t *b)
{
	Budget		budget = {DIST_MAX_CELLS};
	double		wa = weight(a, 0),
				wb = weight(b, 0);
	double		d = cost(a, b, 0, &budget) / max2(wa, wb);

	return d > 1 ? 1 : d;
}

const char *
alfred_proposal_edit_signal(double distance)
{
	if (distance <= 0)
		return "approved";
	if (distance < ALFRED_PROPOSAL_HEAVY_EDIT)
		return "edited_lightly";
	return "edited_heavily";
}
