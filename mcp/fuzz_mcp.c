/*
 * fuzz_mcp.c
 *		libFuzzer target for alfred-mcp's message layer (mcp_core.c): each
 *		input is a session, split at newlines into messages, handled by one
 *		server whose stub database answers or fails by turns.  Besides "no
 *		crash, no leak, no undefined behaviour" it checks invariants: a
 *		response is one line of JSON (an object, or a non-empty array for a
 *		batch) with jsonrpc "2.0", and a tool call that reaches the database
 *		has passed its argument checks (parameters within the catalogue's
 *		count).
 *
 *		make -C mcp fuzz [FUZZ_TIME=60]
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mcp_core.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int	turn;

static bool
stub_run(void *arg, const McpCall *call, char **result, char *err, size_t errlen)
{
	(void) arg;
	if (call->nsteps < 1 || call->nsteps > MCP_MAX_STEPS || call->nparams > MCP_MAX_PARAMS)
		abort();
	if (turn++ % 2)
	{
		snprintf(err, errlen, "stub failure");
		return false;
	}
	*result = strdup("{\"stub\": [1, \"\\n\"]}");
	return true;
}

static void
check_response(const char *out)
{
	json_t	   *r = json_loads(out, JSON_DECODE_ANY, NULL);

	if (r == NULL || strchr(out, '\n') != NULL)
		abort();
	if (json_is_array(r))
	{
		if (json_array_size(r) == 0)
			abort();
	}
	else if (!json_is_object(r) ||
			 strcmp(json_string_value(json_object_get(r, "jsonrpc")) ? json_string_value(json_object_get(r, "jsonrpc")) : "", "2.0") != 0)
		abort();
	json_decref(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	McpServer	s;
	size_t		start = 0,
				i;

	alfred_mcp_server_init(&s, stub_run, NULL);
	for (i = 0; i <= size; i++)
	{
		if (i == size || data[i] == '\n')
		{
			char	   *out = alfred_mcp_handle_line(&s, (const char *) data + start, i - start);

			if (out != NULL)
			{
				check_response(out);
				free(out);
			}
			start = i + 1;
		}
	}
	return 0;
}
