/*
 * fuzz_template.c
 *		libFuzzer target for the prompt template renderer (src/core/template.c).
 *
 * The input is "CONTEXT\nTEMPLATE": when the first line parses as JSON it is
 * the context, else a fixed context is used and the whole input is the
 * template.  Rendering must either succeed or fail with a status and a
 * message, never read out of bounds; a successful render of a template
 * without braces or backslashes is the template itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

static json_t *fixed_context;

static int
discard(const char *buf, size_t len, void *arg)
{
	size_t	   *total = arg;

	(void) buf;
	*total += len;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *input = (const char *) data;
	const char *newline = memchr(input, '\n', size);
	json_t	   *context = NULL;
	const char *tmpl = input;
	size_t		len = size;
	size_t		total = 0;
	alfred_template_error err;
	alfred_template_status status;

	if (fixed_context == NULL)
		fixed_context = json_loads("{\"user\": {\"name\": \"Ada\", \"tags\": [1, \"x\", null]},"
								   " \"args\": {\"city\": \"Paris\", \"n\": 2.5}}", 0, NULL);
	if (newline != NULL)
		context = json_loadb(input, (size_t) (newline - input), JSON_DECODE_ANY, NULL);
	if (context != NULL)
	{
		tmpl = newline + 1;
		len = size - (size_t) (newline + 1 - input);
	}
	status = alfred_template_render(tmpl, len, context ? context : fixed_context,
									discard, &total, &err);
	if (status != ALFRED_TEMPLATE_OK && err.message[0] == '\0')
		abort();				/* every failure explains itself */
	if (status == ALFRED_TEMPLATE_OK && memchr(tmpl, '{', len) == NULL &&
		memchr(tmpl, '\\', len) == NULL && total != len)
		abort();				/* plain text is copied as is */
	json_decref(context);
	return 0;
}
