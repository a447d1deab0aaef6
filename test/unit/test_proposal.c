/*
 * test_proposal.c
 *		Unit tests of src/core/proposal.c: the transition table, the payload
 *		checks of every known action type and the edit distance with both
 *		sides of the light/heavy threshold.
 */
#include "proposal.h"
#include "tap.h"

#include <stdlib.h>

static json_t *
j(const char *text)
{
	json_error_t error;
	json_t	   *v = json_loads(text, JSON_DECODE_ANY, &error);

	if (v == NULL)
	{
		printf("# bad test JSON %s: %s\n", text, error.text);
		exit(2);
	}
	return v;
}

/*---- transitions ----*/

static void
test_transitions(void)
{
	static const char *const legal[] = {
		"pending>approved", "pending>rejected", "pending>expired",
		"approved>executing", "approved>rejected",
		"executing>executed", "executing>failed",
		"failed>approved", "failed>rejected", NULL
	};
	int			n_legal = 0;
	int			mismatches = 0;
	char		buf[128];

	for (int from = 0; from < ALFRED_PROPOSAL_N_STATUS; from++)
		for (int to = 0; to < ALFRED_PROPOSAL_N_STATUS; to++)
		{
			char		pair[64];
			bool		want = false;

			snprintf(pair, sizeof(pair), "%s>%s", alfred_proposal_status_name(from),
					 alfred_proposal_status_name(to));
			for (int i = 0; legal[i]; i++)
				want |= strcmp(legal[i], pair) == 0;
			n_legal += alfred_proposal_transition_allowed(from, to);
			if (want != alfred_proposal_transition_allowed(from, to))
			{
				printf("# %s: table says %d\n", pair, !want);
				mismatches++;
			}
		}
	is_int(mismatches, 0, "all 49 (from, to) pairs match the documented machine");
	is_int(n_legal, 9, "exactly 9 transitions are legal");

	ok(!alfred_proposal_transition_allowed(-1, 0), "from out of range is refused");
	ok(!alfred_proposal_transition_allowed(0, 7), "to out of range is refused");
	is_int(alfred_proposal_status_parse("executing"), ALFRED_PROPOSAL_EXECUTING, "parse executing");
	is_int(alfred_proposal_status_parse("Pending"), -1, "parse is case-sensitive");
	is_int(alfred_proposal_status_parse(NULL), -1, "parse NULL");
	ok(alfred_proposal_status_name(7) == NULL, "name of 7 is NULL");

	alfred_proposal_next_statuses(ALFRED_PROPOSAL_PENDING, buf, sizeof(buf));
	is_str(buf, "approved, rejected, expired", "next statuses of pending");
	alfred_proposal_next_statuses(ALFRED_PROPOSAL_EXECUTED, buf, sizeof(buf));
	is_str(buf, "none", "executed is final");
	alfred_proposal_next_statuses(ALFRED_PROPOSAL_FAILED, buf, sizeof(buf));
	is_str(buf, "approved, rejected", "a failed proposal is retried or rejected");
	ok(!alfred_proposal_transition_allowed(ALFRED_PROPOSAL_EXECUTING, ALFRED_PROPOSAL_REJECTED),
	   "an executing proposal cannot be rejected (its action may be half done)");
	alfred_proposal_next_statuses(ALFRED_PROPOSAL_PENDING, buf, 12);
	is_str(buf, "approved", "a short buffer keeps whole names");
}

/*---- payload checks ----*/

static void
check(const char *action, const char *payload, AlfredPayloadStatus want_status,
	  const char *want_key, const char *name)
{
	AlfredPayloadError err;
	json_t	   *p = j(payload);
	bool		good = alfred_proposal_check_payload(action, p, &err);

	if (want_status == ALFRED_PAYLOAD_OK)
		ok(good && err.status == ALFRED_PAYLOAD_OK, "%s", name);
	else
	{
		ok(!good && err.status == want_status && strcmp(err.key, want_key) == 0,
		   "%s", name);
		if (good || err.status != want_status || strcmp(err.key, want_key) != 0)
			printf("#   got status %d key '%s'\n", err.status, err.key);
	}
	json_decref(p);
}

#define UUID1 "\"7d4f1c9e-2b3a-4c5d-8e6f-0a1b2c3d4e5f\""

static void
test_task_payloads(void)
{
	AlfredPayloadError err;
	json_t	   *p;

	ok(alfred_proposal_is_task_action("complete"), "complete is a task action");
	ok(!alfred_proposal_is_task_action("create_email_draft"), "an email draft is not");
	ok(alfred_proposal_is_known_action("create_email_draft"), "but it is known");
	ok(!alfred_proposal_is_known_action("order_pizza"), "order_pizza is not known");
	ok(!alfred_proposal_is_task_action(NULL), "NULL is no action");

	check("create", "{\"title\": \"Buy milk\"}", ALFRED_PAYLOAD_OK, "", "create with a title");
	check("create", "{\"title\": \"Buy milk\", \"description\": null, \"priority\": \"urgent\","
		  " \"due_date\": \"2025-06-02\", \"tags\": [\"home\"], \"project_id\": " UUID1 "}",
		  ALFRED_PAYLOAD_OK, "", "create with every optional key");
	check("create", "{\"description\": \"x\"}", ALFRED_PAYLOAD_MISSING_KEY, "title",
		  "create without title names title");
	check("create", "{\"title\": \"\"}", ALFRED_PAYLOAD_WRONG_TYPE, "title", "empty title");
	check("create", "{\"title\": 5}", ALFRED_PAYLOAD_WRONG_TYPE, "title", "numeric title");
	check("create", "{\"title\": \"a\", \"titel\": \"b\"}", ALFRED_PAYLOAD_UNKNOWN_KEY, "titel",
		  "a misspelt key is named");
	check("create", "{\"title\": \"a\", \"priority\": \"asap\"}", ALFRED_PAYLOAD_WRONG_TYPE,
		  "priority", "unknown priority");
	check("create", "{\"title\": \"a\", \"due_date\": \"2025-02-29\"}", ALFRED_PAYLOAD_WRONG_TYPE,
		  "due_date", "2025-02-29 does not exist");
	check("create", "{\"title\": \"a\", \"due_date\": \"2024-02-29T23:59:59.5+05:30\"}",
		  ALFRED_PAYLOAD_OK, "", "a leap day with fraction and offset");
	check("create", "{\"title\": \"a\", \"due_date\": \"2024-02-29T24:00\"}",
		  ALFRED_PAYLOAD_WRONG_TYPE, "due_date", "hour 24 is refused");
	check("create", "{\"title\": \"a\", \"tags\": [\"x\", 1]}", ALFRED_PAYLOAD_WRONG_TYPE, "tags",
		  "tags must all be strings");
	check("create", "{\"title\": \"a\", \"project_id\": \"not-a-uuid\"}", ALFRED_PAYLOAD_WRONG_TYPE,
		  "project_id", "project_id must be a uuid");

	check("update", "{\"task_id\": " UUID1 ", \"title\": \"b\"}", ALFRED_PAYLOAD_OK, "", "update");
	check("update", "{\"title\": \"b\"}", ALFRED_PAYLOAD_MISSING_KEY, "task_id", "update without task_id");
	check("update", "{\"task_id\": \"7d4f1c9e2b3a4c5d8e6f0a1b2c3d4e5f\"}", ALFRED_PAYLOAD_WRONG_TYPE,
		  "task_id", "a uuid without dashes is refused");
	check("update", "{\"task_id\": \"7D4F1C9E-2B3A-4C5D-8E6F-0A1B2C3D4E5F\"}", ALFRED_PAYLOAD_OK, "",
		  "an upper-case uuid is accepted");
	check("delete", "{\"task_id\": " UUID1 "}", ALFRED_PAYLOAD_OK, "", "delete");
	check("delete", "{}", ALFRED_PAYLOAD_MISSING_KEY, "task_id", "delete without task_id");
	check("complete", "{\"task_id\": " UUID1 ", \"completed\": true}", ALFRED_PAYLOAD_OK, "", "complete");
	check("complete", "{\"task_id\": " UUID1 "}", ALFRED_PAYLOAD_MISSING_KEY, "completed",
		  "complete requires completed (seed 001)");
	check("complete", "{\"task_id\": " UUID1 ", \"completed\": \"yes\"}", ALFRED_PAYLOAD_WRONG_TYPE,
		  "completed", "completed must be a boolean");

	check("query", "{}", ALFRED_PAYLOAD_OK, "", "query without filters");
	check("query", "{\"filters\": {\"completed\": false, \"status\": [\"pending\", \"blocked\"],"
		  " \"limit\": 10, \"search\": \"milk\", \"due_before\": \"2025-06-30\"}}",
		  ALFRED_PAYLOAD_OK, "", "query with filters");
	check("query", "{\"filters\": {\"colour\": \"red\"}}", ALFRED_PAYLOAD_UNKNOWN_KEY,
		  "filters.colour", "an unknown filter is named with its path");
	check("query", "{\"filters\": {\"limit\": 0}}", ALFRED_PAYLOAD_WRONG_TYPE, "filters.limit",
		  "limit 0 is refused");
	check("query", "{\"filters\": {\"limit\": 1001}}", ALFRED_PAYLOAD_WRONG_TYPE, "filters.limit",
		  "limit 1001 is refused");
	check("query", "{\"filters\": {\"status\": []}}", ALFRED_PAYLOAD_WRONG_TYPE, "filters.status",
		  "an empty status list is refused");
	check("query", "{\"filters\": [1]}", ALFRED_PAYLOAD_WRONG_TYPE, "filters", "filters must be an object");

	check("create", "[]", ALFRED_PAYLOAD_NOT_OBJECT, "", "an array payload is refused");
	check("order_pizza", "\"pepperoni\"", ALFRED_PAYLOAD_NOT_OBJECT, "", "so is a string, for any action");
	check("order_pizza", "{\"size\": \"large\", \"anything\": [1, {\"a\": null}]}", ALFRED_PAYLOAD_OK, "",
		  "an unknown action accepts any object");

	/* {"x": [[...]]}: the object is level 1; 32 levels are fine, 33 are not */
	for (int arrays = 31; arrays <= 32; arrays++)
	{
		char		deep[100] = "";

		for (int i = 0; i < arrays; i++)
			strcat(deep, "[");
		for (int i = 0; i < arrays; i++)
			strcat(deep, "]");
		p = json_pack("{so}", "x", j(deep));
		if (arrays == 31)
			ok(alfred_proposal_check_payload("order_pizza", p, &err), "32 levels are allowed");
		else
			ok(!alfred_proposal_check_payload("order_pizza", p, &err) &&
			   err.status == ALFRED_PAYLOAD_TOO_DEEP, "33 levels of nesting are too deep");
		json_decref(p);
	}

	p = j("{\"title\": \"a\", \"titel\": 1}");
	alfred_proposal_check_payload("create", p, &err);
	is_str(err.allowed, "title, description, priority, due_date, tags, project_id",
		   "an unknown key reports the allowed keys");
	json_decref(p);
	p = j("{\"task_id\": " UUID1 "}");
	alfred_proposal_check_payload("complete", p, &err);
	is_str(err.expected, "a boolean", "a missing key reports what it must be");
	json_decref(p);
}

static void
test_seed_002_payloads(void)
{
	check("create_email_draft", "{\"to\": [\"recipient@example.com\"], \"cc\": [],"
		  " \"subject\": \"Re: Your request\", \"body\": \"Email content...\", \"provider\": \"gmail\"}",
		  ALFRED_PAYLOAD_OK, "", "seed 002's email draft example");
	check("create_email_draft", "{\"to\": [], \"subject\": \"s\", \"body\": \"b\"}",
		  ALFRED_PAYLOAD_WRONG_TYPE, "to", "a draft needs a recipient");
	check("create_email_draft", "{\"to\": [\"nobody\"], \"subject\": \"s\", \"body\": \"b\"}",
		  ALFRED_PAYLOAD_WRONG_TYPE, "to", "recipients must be addresses");
	check("create_email_draft", "{\"to\": [\"a@b\"], \"subject\": \"\"}",
		  ALFRED_PAYLOAD_MISSING_KEY, "body", "a draft needs a body (an empty subject is fine)");
	check("create_calendar_event", "{\"title\": \"Study Session - CS101\", \"start\": \"2025-11-15T14:00:00Z\","
		  " \"end\": \"2025-11-15T16:00:00Z\", \"location\": \"Library\","
		  " \"description\": \"Prepare for midterm\", \"provider\": \"google_calendar\"}",
		  ALFRED_PAYLOAD_OK, "", "seed 002's calendar event example");
	check("create_calendar_event", "{\"title\": \"t\", \"start\": \"2025-11-15T16:00:00Z\","
		  " \"end\": \"2025-11-15T17:00:00+02:00\"}",
		  ALFRED_PAYLOAD_WRONG_TYPE, "end", "an end before the start (offsets applied) is refused");
	check("create_calendar_event", "{\"title\": \"t\", \"start\": \"2025-11-15T16:00\","
		  " \"end\": \"2025-11-15T15:00:00Z\"}",
		  ALFRED_PAYLOAD_OK, "", "a local start and a UTC end are not compared");
	check("create_calendar_event", "{\"title\": \"t\", \"start\": \"2025-11-15T16:00\"}",
		  ALFRED_PAYLOAD_MISSING_KEY, "end", "an event needs an end");
	check("update_calendar_event", "{\"event_id\": \"abc\", \"start\": \"2025-11-15\"}",
		  ALFRED_PAYLOAD_OK, "", "update an event");
	check("delete_calendar_event", "{\"provider\": \"outlook\"}",
		  ALFRED_PAYLOAD_MISSING_KEY, "event_id", "delete an event needs its id");
	check("create_reminder_event", "{\"title\": \"Pay rent\", \"start\": \"2025-12-01T09:00:00-05:00\"}",
		  ALFRED_PAYLOAD_OK, "", "a reminder");
	check("create_reminder_event", "{\"title\": \"Pay rent\", \"start\": \"tomorrow\"}",
		  ALFRED_PAYLOAD_WRONG_TYPE, "start", "a reminder's start must be a timestamp");
}

/*---- edit distance ----*/

static double
dist(const char *a, const char *b)
{
	json_t	   *ja = j(a),
			   *jb = j(b);
	double		d = alfred_proposal_edit_distance(ja, jb);

	json_decref(ja);
	json_decref(jb);
	return d;
}

/* {"body": 100 x "a"} against the same body with the first n letters changed */
static double
body_edit(int n)
{
	char		a[200],
				b[200];

	snprintf(a, sizeof(a), "{\"body\": \"%0100d\"}", 0);
	snprintf(b, sizeof(b), "{\"body\": \"%0100d\"}", 0);
	for (int i = 0; i < n; i++)
		b[10 + i] = 'x';
	return dist(a, b);
}

static void
test_distance(void)
{
	is_double(dist("{\"a\": 1, \"b\": [1, 2]}", "{\"b\": [1, 2.0], \"a\": 1}"), 0, 0,
			  "key order and 2 = 2.0 do not count");
	is_double(dist("\"abc\"", "\"xyz\""), 1, 0, "a full rewrite of a string is 1");
	is_double(dist("\"kitten\"", "\"sitting\""), 3.0 / 7, 1e-12, "kitten/sitting: 3 edits of 7");
	is_double(dist("\"na\xc3\xafve\"", "\"naive\""), 1.0 / 5, 1e-12,
			  "code points, not bytes: one edit of 5");
	is_double(dist("{\"to\": \"a\"}", "{\"cc\": \"a\"}"), 1, 0, "a renamed key changes everything");
	is_double(dist("{\"a\": \"xxxx\", \"b\": \"yyyy\"}", "{\"a\": \"xxxx\"}"), 0.5, 1e-12,
			  "dropping half of the content is 0.5");
	is_double(dist("[\"a\", \"b\", \"c\", \"d\"]", "[\"z\", \"a\", \"b\", \"c\", \"d\"]"), 1.0 / 5,
			  1e-12, "arrays align: inserting one element in front costs one");
	is_double(dist("{\"n\": 5}", "{\"n\": \"5\"}"), 1, 0, "a number turned string is replaced");
	is_double(dist("true", "false"), 1, 0, "booleans differ by 1");
	is_double(dist("null", "null"), 0, 0, "null equals null");
	is_double(dist("{}", "[]"), 1, 0, "an empty object is not an empty array");
	is_double(dist("{}", "{}"), 0, 0, "two empty objects are equal");
	is_double(dist("[[1, 2], [3]]", "[[1, 2], [4]]"), 1.0 / 3, 1e-12, "nested arrays");
	is_double(dist("\"\"", "\"abc\""), 1, 0, "empty to abc");
	is_double(dist("{\"a\": \"xx\", \"b\": \"yy\"}", "{\"a\": \"yy\", \"b\": \"xx\"}"), 1, 0,
			  "swapping values is a full change");

	/* the threshold, from both sides */
	is_double(body_edit(24), 0.24, 1e-12, "24 of 100 letters changed is 0.24");
	is_str(alfred_proposal_edit_signal(body_edit(24)), "edited_lightly", "0.24 is a light edit");
	is_double(body_edit(25), 0.25, 1e-12, "25 of 100 letters changed is 0.25");
	is_str(alfred_proposal_edit_signal(body_edit(25)), "edited_heavily", "0.25 is a heavy edit");
	is_str(alfred_proposal_edit_signal(body_edit(1)), "edited_lightly", "one letter is light");
	is_str(alfred_proposal_edit_signal(body_edit(0)), "approved", "no change is a plain approval");
	is_str(alfred_proposal_edit_signal(1), "edited_heavily", "a rewrite is heavy");

	/* a realistic draft: a typo fix vs. a new body */
	{
		const char *draft = "{\"to\": [\"ann@example.com\"], \"subject\": \"Re: lunch\","
			" \"body\": \"Thursday at noon works for me. See you there!\"}";

		ok(dist(draft, "{\"to\": [\"ann@example.com\"], \"subject\": \"Re: lunch\","
				" \"body\": \"Thursday at noon works for me. See you there.\"}") < ALFRED_PROPOSAL_HEAVY_EDIT,
		   "a punctuation fix in a draft is light");
		ok(dist(draft, "{\"to\": [\"ann@example.com\", \"bob@example.com\"], \"subject\": \"Re: lunch\","
				" \"body\": \"Sorry, I cannot make it this week.\"}") >= ALFRED_PROPOSAL_HEAVY_EDIT,
		   "a new body and recipient is heavy");
	}

	/* the cell budget (16 M) of one distance: exact within it, the upper bound beyond */
	{
		char	   *ab = malloc(5001),
				   *ba = malloc(5001);
		json_t	   *ja,
				   *jb;

		/* "abab..." vs "baba...": no common prefix or suffix, exact distance 2 */
		for (int i = 0; i < 5000; i++)
		{
			ab[i] = "ab"[i % 2];
			ba[i] = "ba"[i % 2];
		}
		ab[2000] = ba[2000] = '\0';
		ja = json_string(ab);
		jb = json_string(ba);
		is_double(alfred_proposal_edit_distance(ja, jb), 2.0 / 2000, 1e-12,
				  "2000 x 2000 letters (4 M cells) are aligned exactly");
		json_decref(ja);
		json_decref(jb);

		ab[2000] = 'a';
		ba[2000] = 'b';
		ab[5000] = ba[5000] = '\0';
		ja = json_string(ab);
		jb = json_string(ba);
		is_double(alfred_proposal_edit_distance(ja, jb), 1, 0,
				  "5000 x 5000 letters (25 M cells) cost the upper bound");
		json_decref(ja);
		json_decref(jb);

		/* five such 2000-letter pairs: four fit in the budget, the fifth does not */
		ab[2000] = ba[2000] = '\0';
		ja = json_object();
		jb = json_object();
		for (int k = 0; k < 5; k++)
		{
			char		key[16];

			snprintf(key, sizeof(key), "k%d", k);
			json_object_set_new(ja, key, json_string(ab));
			json_object_set_new(jb, key, json_string(ba));
		}
		is_double(alfred_proposal_edit_distance(ja, jb), (4 * 2 + 2000) / 10000.0, 1e-12,
				  "the budget is shared by all the alignments of one distance");
		json_decref(ja);
		json_decref(jb);

		/* a long string with one change is trimmed to it and costs no cells */
		memset(ab, 'a', 5000);
		memcpy(ba, ab, 5000);
		ba[2500] = 'b';
		ab[5000] = ba[5000] = '\0';
		ja = json_string(ab);
		jb = json_string(ba);
		is_double(alfred_proposal_edit_distance(ja, jb), 1.0 / 5000, 1e-12,
				  "a long string with one change is trimmed to it, not bounded");
		json_decref(ja);
		json_decref(jb);
		free(ab);
		free(ba);
	}

	/* arrays: many long elements compared pairwise stay within the budget */
	{
		json_t	   *ja = json_array(),
				   *jb = json_array();
		char	   *s = malloc(1001);

		for (int i = 0; i < 100; i++)
		{
			for (int c = 0; c < 1000; c++)
				s[c] = (char) ('a' + (i * 7 + c * 13) % 26);
			s[1000] = '\0';
			json_array_append_new(ja, json_string(s));
			s[0] = 'A';
			s[999] = 'Z';
			json_array_append_new(jb, json_string(s));
		}
		ok(alfred_proposal_edit_distance(ja, jb) >= 0.002 &&
		   alfred_proposal_edit_distance(ja, jb) <= 1,
		   "100 x 100 elements of 1000 letters each finish (bounded) in range");
		json_decref(ja);
		json_decref(jb);
		free(s);
	}
}

int
main(void)
{
	test_transitions();
	test_task_payloads();
	test_seed_002_payloads();
	test_distance();
	return done_testing();
}
