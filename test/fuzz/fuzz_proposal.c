/*
 * fuzz_proposal.c
 *		libFuzzer target of src/core/proposal.c: the payload checker and the
 *		edit distance.
 *
 * Input: an action type up to the first newline, then two JSON values back
 * to back (the proposed and the edited payload).  Checks that the checker
 * either accepts or names a reason with a terminated key, and that the
 * distance is in [0, 1], zero from a value to itself and symmetric.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proposal.h"

static json_t *
load(const char *buf, size_t len, size_t *used)
{
	json_error_t error;
	json_t	   *v = json_loadb(buf, len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &error);

	*used = v ? (size_t) error.position : len;
	return v;
}

static void
check(const char *action, const json_t *v)
{
	AlfredPayloadError err;

	if (alfred_proposal_check_payload(action, v, &err))
	{
		if (err.status != ALFRED_PAYLOAD_OK)
			abort();
	}
	else if (err.status == ALFRED_PAYLOAD_OK || memchr(err.key, '\0', sizeof(err.key)) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *) data;
	const char *nl = memchr(buf, '\n', size);
	char		action[64];
	size_t		alen,
				used;
	json_t	   *a,
			   *b;

	if (nl == NULL)
		return 0;
	alen = (size_t) (nl - buf) < sizeof(action) - 1 ? (size_t) (nl - buf) : sizeof(action) - 1;
	memcpy(action, buf, alen);
	action[alen] = '\0';
	size -= (size_t) (nl - buf) + 1;
	buf = nl + 1;

	a = load(buf, size, &used);
	if (a == NULL)
		return 0;
	b = load(buf + used, size - used, &used);
	check(action, a);
	if (b != NULL)
	{
		double		ab = alfred_proposal_edit_distance(a, b);
		double		ba = alfred_proposal_edit_distance(b, a);
		json_t	   *copy = json_deep_copy(b);

		check(action, b);
		if (!(ab >= 0 && ab <= 1) || ab - ba > 1e-9 || ba - ab > 1e-9)
			abort();
		if (copy != NULL && alfred_proposal_edit_distance(b, copy) != 0)
			abort();
		json_decref(copy);
		json_decref(b);
	}
	if (alfred_proposal_edit_distance(a, a) != 0)
		abort();
	json_decref(a);
	return 0;
}
