/*
 * test_mcp.c
 *		Unit tests of alfred-mcp's pure parts: the JSON-RPC / MCP message
 *		layer (mcp_core.c) against a stub database, the catalogue's
 *		consistency (every argument reaches the SQL, no statement reads a
 *		parameter that does not exist), tool argument validation and the
 *		configuration (mcp_config.c).  TAP via tap.h.
 */
#include "tap.h"

#include <ctype.h>
#include <stdlib.h>

#include <jansson.h>

#include "mcp_core.h"
#include "mcp_catalog.h"

/*---- a stub database ----*/

static int	stub_calls;
static const char *stub_error;	/* non-NULL: the call fails with it */
static const char *stub_result = "{\"ok\": true}";
static McpCall last_call;
static char last_params[MCP_MAX_PARAMS][256];
static bool last_null[MCP_MAX_PARAMS];

static bool
stub_run(void *arg, const McpCall *call, char **result, char *err, size_t errlen)
{
	int			i;

	(void) arg;
	stub_calls++;
	last_call = *call;
	for (i = 0; i < call->nparams; i++)
	{
		last_null[i] = call->params[i] == NULL;
		snprintf(last_params[i], sizeof(last_params[i]), "%s", call->params[i] ? call->params[i] : "");
	}
	if (stub_error)
	{
		snprintf(err, errlen, "%s", stub_error);
		return false;
	}
	*result = strdup(stub_result);
	return true;
}

static McpServer server;

/* Sends one line, returns the parsed response (NULL when none). */
static json_t *
send_line(const char *line)
{
	char	   *out = alfred_mcp_handle_line(&server, line, strlen(line));
	json_t	   *r;

	if (out == NULL)
		return NULL;
	r = json_loads(out, 0, NULL);
	if (r == NULL || strchr(out, '\n') != NULL)
	{
		printf("# unparsable or multi-line response: %s\n", out);
		abort();
	}
	free(out);
	return r;
}

static int
error_code(json_t *r)
{
	json_t	   *e = json_object_get(r, "error");

	return e ? (int) json_integer_value(json_object_get(e, "code")) : 0;
}

static const char *
error_message(json_t *r)
{
	return json_string_value(json_object_get(json_object_get(r, "error"), "message"));
}

static json_t *
result_of(json_t *r)
{
	return json_object_get(r, "result");
}

/* Expects line to give error code want (and message want_msg if given). */
static void
expect_error(const char *line, int want, const char *want_msg, const char *name)
{
	json_t	   *r = send_line(line);

	is_int(error_code(r), want, name);
	if (want_msg)
		is_str(error_message(r), want_msg, "  its message");
	json_decref(r);
}

static void
init_server(void)
{
	alfred_mcp_server_init(&server, stub_run, NULL);
}

static void
initialize(void)
{
	json_decref(send_line("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
						  "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
						  "\"clientInfo\":{\"name\":\"unit\",\"version\":\"1\"}}}"));
}

/*---- lifecycle ----*/

static void
test_lifecycle(void)
{
	static const char *const asked[] = {"2025-06-18", "2025-03-26", "2024-11-05", "1999-01-01", "x"};
	static const char *const got[] = {"2025-06-18", "2025-03-26", "2024-11-05", "2025-06-18", "2025-06-18"};
	char		line[256];
	json_t	   *r;
	int			i;

	init_server();
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", MCP_INVALID_REQUEST,
				 "the server is not initialized: send initialize first", "tools/list before initialize is refused");
	r = send_line("{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
	ok(json_is_object(result_of(r)) && json_object_size(result_of(r)) == 0 &&
	   json_is_string(json_object_get(r, "id")), "ping works before initialize and answers {} with the id");
	json_decref(r);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}", MCP_INVALID_PARAMS,
				 "initialize needs params.protocolVersion (a string)", "initialize without protocolVersion");
	for (i = 0; i < 5; i++)
	{
		init_server();
		snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"initialize\",\"params\":"
				 "{\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"c\",\"version\":\"1\"}}}",
				 asked[i]);
		r = send_line(line);
		is_str(json_string_value(json_object_get(result_of(r), "protocolVersion")), got[i],
			   "version negotiation: the client's if supported, else the latest");
		json_decref(r);
	}
	r = send_line("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\"}}");
	ok(json_is_object(json_object_get(json_object_get(result_of(r), "capabilities"), "tools")) &&
	   json_is_object(json_object_get(json_object_get(result_of(r), "capabilities"), "resources")) &&
	   json_is_object(json_object_get(json_object_get(result_of(r), "capabilities"), "prompts")) &&
	   strcmp(json_string_value(json_object_get(json_object_get(result_of(r), "serverInfo"), "name")), "alfred-mcp") == 0,
	   "initialize declares tools, resources and prompts and names the server");
	json_decref(r);
	ok(send_line("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}") == NULL,
	   "notifications/initialized gets no response");
	ok(send_line("{\"jsonrpc\":\"2.0\",\"method\":\"no/such/notification\",\"params\":{}}") == NULL,
	   "an unknown notification is ignored");
	ok(send_line("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}") == NULL, "a response from the client is ignored");
	ok(send_line(" \t  \r\n") == NULL, "a blank line is skipped");
	ok(alfred_mcp_handle_line(&server, "\n", 1) == NULL, "an empty line gets no response");
}

/*---- protocol errors ----*/

static void
test_errors(void)
{
	json_t	   *r;
	char		big[128];

	init_server();
	initialize();
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,", MCP_PARSE_ERROR, NULL, "truncated JSON is a parse error");
	r = send_line("not json");
	ok(json_is_null(json_object_get(r, "id")) && error_code(r) == MCP_PARSE_ERROR, "a parse error has id null");
	json_decref(r);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"method\":\"x\"}", MCP_PARSE_ERROR, NULL,
				 "duplicate keys are a parse error");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}", MCP_PARSE_ERROR, NULL, "invalid UTF-8 is a parse error");
	expect_error("42", MCP_INVALID_REQUEST, "a message must be a JSON object", "a number is an invalid request");
	expect_error("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", MCP_INVALID_REQUEST, "jsonrpc must be \"2.0\"",
				 "jsonrpc 1.0 is refused");
	expect_error("{\"id\":1,\"method\":\"ping\"}", MCP_INVALID_REQUEST, NULL, "a message without jsonrpc is refused");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", MCP_INVALID_REQUEST,
				 "id must be a string or an integer", "an object id is refused");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", MCP_INVALID_REQUEST, NULL, "a fractional id is refused");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", MCP_INVALID_REQUEST, "method must be a string",
				 "a numeric method is refused");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":3}", MCP_INVALID_REQUEST, NULL,
				 "params that are neither object nor array are refused");
	r = send_line("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"tools/nope\"}");
	is_int(error_code(r), MCP_METHOD_NOT_FOUND, "an unknown method is -32601");
	is_str(json_string_value(json_object_get(r, "id")), "abc", "  with the request's id");
	is_str(error_message(r), "method \"tools/nope\" not found", "  naming the method");
	json_decref(r);
	snprintf(big, sizeof(big), "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"ping\"}", 9007199254740993LL);
	r = send_line(big);
	ok(json_integer_value(json_object_get(r, "id")) == 9007199254740993LL, "a large integer id is echoed exactly");
	json_decref(r);

	r = send_line("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"method\":\"n\"},"
				  "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"x\"}]");
	ok(json_is_array(r) && json_array_size(r) == 2 && error_code(json_array_get(r, 1)) == MCP_METHOD_NOT_FOUND,
	   "a batch gets an array of the responses to its requests");
	json_decref(r);
	expect_error("[]", MCP_INVALID_REQUEST, "an empty batch", "an empty batch is refused");
	ok(send_line("[{\"jsonrpc\":\"2.0\",\"method\":\"n\"}]") == NULL, "a batch of notifications gets no response");
}

/*---- tools ----*/

/* The highest $n in sql, and marks each one seen. */
static int
max_param(const char *sql, bool *seen)
{
	int			max = 0;
	const char *p;

	for (p = sql; *p; p++)
		if (*p == '$' && isdigit((unsigned char) p[1]))
		{
			int			n = atoi(p + 1);

			if (n < MCP_MAX_PARAMS + 1)
				seen[n] = true;
			if (n > max)
				max = n;
		}
	return max;
}

static void
test_catalog(void)
{
	json_t	   *r,
			   *tools,
			   *t;
	size_t		i;
	int			k,
				bad_range = 0,
				unused = 0,
				bad_schema = 0;

	for (k = 0; k < alfred_mcp_ntools_; k++)
	{
		const McpTool *tool = &alfred_mcp_tools[k];
		bool		seen[MCP_MAX_PARAMS + 1] = {false};
		int			s,
					a;

		for (s = 0; s < tool->nsteps; s++)
			if (max_param(tool->steps[s].sql, seen) > tool->nargs + 1)
			{
				printf("# %s: statement %d reads a parameter beyond its %d arguments\n", tool->name, s, tool->nargs);
				bad_range++;
			}
		for (a = 0; a < tool->nargs; a++)
			if (!seen[a + 1])
			{
				printf("# %s: argument %s is never used\n", tool->name, tool->args[a].name);
				unused++;
			}
		if (tool->nargs + 1 > MCP_MAX_PARAMS)
			bad_range++;
	}
	is_int(bad_range, 0, "no tool's SQL reads a parameter that does not exist");
	is_int(unused, 0, "every tool argument reaches the SQL");
	for (k = 0; k < alfred_mcp_nresources; k++)
	{
		bool		seen[MCP_MAX_PARAMS + 1] = {false};

		if (max_param(alfred_mcp_resources[k].steps[0].sql, seen) != 0)
			bad_range++;
	}
	is_int(bad_range, 0, "resources take no parameters");

	init_server();
	initialize();
	r = send_line("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{}}");
	tools = json_object_get(result_of(r), "tools");
	is_int(json_array_size(tools), alfred_mcp_ntools(), "tools/list lists every tool");
	json_array_foreach(tools, i, t)
	{
		json_t	   *schema = json_object_get(t, "inputSchema");
		json_t	   *props = json_object_get(schema, "properties");
		json_t	   *req = json_object_get(schema, "required");
		json_t	   *v;
		size_t		j;

		if (!json_is_string(json_object_get(t, "name")) || strlen(json_string_value(json_object_get(t, "description"))) < 40 ||
			strcmp(json_string_value(json_object_get(schema, "type")), "object") != 0 ||
			!json_is_false(json_object_get(schema, "additionalProperties")) || !json_is_object(props))
			bad_schema++;
		json_array_foreach(req, j, v)
			if (json_object_get(props, json_string_value(v)) == NULL)
			bad_schema++;
	}
	is_int(bad_schema, 0, "each tool has a description, an object schema without extra properties, and its required names are properties");
	ok(strcmp(alfred_mcp_tool_name(0), "today") == 0 && alfred_mcp_tool_name(-1) == NULL &&
	   alfred_mcp_tool_name(alfred_mcp_ntools()) == NULL, "alfred_mcp_tool_name is bounded");
	json_decref(r);
	{
		char	   *s = alfred_mcp_tools_json();

		ok(s != NULL && s[0] == '[', "alfred_mcp_tools_json is an array");
		free(s);
	}
}

/* prepare: add_task's arguments into parameters. */
static int
prep(const char *tool, const char *args, McpCall *call, char *err)
{
	err[0] = '\0';
	return alfred_mcp_prepare_tool(tool, args, "client", call, err, MCP_ERRLEN);
}

static void
bad_args(const char *tool, const char *args, const char *want)
{
	McpCall		call;
	char		err[MCP_ERRLEN];
	int			rc = prep(tool, args, &call, err);

	is_int(rc, -1, want);
	is_str(err, want, "  its message");
}

static void
test_arguments(void)
{
	McpCall		call;
	char		err[MCP_ERRLEN];

	is_int(prep("add_task", "{\"title\":\"Buy milk\"}", &call, err), 0, "add_task with a title");
	ok(call.nparams == 10 && strcmp(call.params[0], "Buy milk") == 0 && call.params[1] == NULL &&
	   call.params[8] == NULL && strcmp(call.params[9], "client") == 0,
	   "  $1 is the title, omitted arguments are NULL, the last parameter is the client's name");
	alfred_mcp_call_free(&call);
	is_int(prep("add_task", "{\"title\":\"T\",\"priority\":\"high\",\"due_date\":\"2026-12-24T09:00\","
				"\"tags\":[\"a b\",\"q\\\"uote\",\"back\\\\slash\",\"{}\"],\"estimated_minutes\":30.0,"
				"\"depends_on\":[\"0b9e3c1a-1111-4222-8333-444455556666\"]}", &call, err), 0,
		   "add_task with every kind of argument");
	is_str(call.params[2], "high", "  enum value");
	is_str(call.params[3], "2026-12-24T09:00", "  timestamp as given");
	is_str(call.params[5], "{\"a b\",\"q\\\"uote\",\"back\\\\slash\",\"{}\"}", "  tags as a quoted array literal");
	is_str(call.params[6], "{\"0b9e3c1a-1111-4222-8333-444455556666\"}", "  uuid array literal");
	is_str(call.params[8], "30", "  an integral number is an integer");
	alfred_mcp_call_free(&call);
	is_int(prep("today", NULL, &call, err), 0, "today takes no arguments");
	is_int(call.nparams, 1, "  only the client's name");
	alfred_mcp_call_free(&call);
	is_int(prep("today", "{}", &call, err), 0, "today with {}");
	alfred_mcp_call_free(&call);
	is_int(prep("record_engagement", "{\"suggestion_type\":\"t\",\"action\":\"engaged\",\"context\":{\"a\":[1,2]}}",
				&call, err), 0, "record_engagement with a context object");
	is_str(call.params[3], "{\"a\":[1,2]}", "  the object as compact JSON");
	alfred_mcp_call_free(&call);
	is_int(prep("list_scheduled_tasks", "{\"include_finished\":true}", &call, err), 0, "a boolean");
	is_str(call.params[0], "true", "  as true");
	alfred_mcp_call_free(&call);
	is_int(prep("should_suggest", "{\"suggestion_type\":\"t\",\"base\":0.25}", &call, err), 0, "a number");
	is_str(call.params[1], "0.25", "  as text");
	alfred_mcp_call_free(&call);
	is_int(prep("log_habit", "{\"habit_id\":\"0B9E3C1A-1111-4222-8333-444455556666\",\"on_date\":\"2026-02-28\",\"notes\":null}",
				&call, err), 0, "upper-case uuid, a date, a null optional");
	ok(call.params[2] == NULL, "  null is SQL NULL");
	alfred_mcp_call_free(&call);

	is_int(prep("no_such_tool", "{}", &call, err), -2, "an unknown tool");
	is_str(err, "unknown tool \"no_such_tool\"", "  its message");
	bad_args("add_task", "{}", "tool \"add_task\" needs argument \"title\"");
	bad_args("add_task", "{\"title\":null}", "tool \"add_task\" needs argument \"title\"");
	bad_args("add_task", "{\"title\":\"x\",\"colour\":\"red\"}", "tool \"add_task\" has no argument \"colour\"");
	bad_args("add_task", "[1]", "arguments of tool \"add_task\" must be an object");
	bad_args("add_task", "{\"title\":5}", "argument \"title\" must be a string");
	bad_args("add_task", "{\"title\":\"x\",\"priority\":\"asap\"}",
			 "argument \"priority\" must be one of: low, medium, high, urgent, critical");
	bad_args("add_task", "{\"title\":\"x\",\"due_date\":\"tomorrow\"}",
			 "argument \"due_date\" must be an ISO 8601 date and time (2026-12-24T09:00:00+01:00)");
	bad_args("add_task", "{\"title\":\"x\",\"tags\":\"a\"}", "argument \"tags\" must be an array of strings");
	bad_args("add_task", "{\"title\":\"x\",\"tags\":[\"a\",1]}",
			 "argument \"tags\" must be an array of strings: element 1 is not a string");
	bad_args("add_task", "{\"title\":\"x\",\"depends_on\":[\"nope\"]}",
			 "argument \"depends_on\" must be an array of UUIDs: element 0 is not a UUID");
	bad_args("add_task", "{\"title\":\"x\",\"estimated_minutes\":0}", "argument \"estimated_minutes\" must be between 1 and 525600");
	bad_args("add_task", "{\"title\":\"x\",\"estimated_minutes\":2.5}", "argument \"estimated_minutes\" must be an integer");
	bad_args("add_task", "{\"title\":\"x\",\"estimated_minutes\":\"5\"}", "argument \"estimated_minutes\" must be an integer");
	bad_args("list_tasks", "{\"limit\":1e300}", "argument \"limit\" must be between 1 and 200");
	bad_args("complete_task", "{\"task_id\":\"1234\"}", "argument \"task_id\" must be a UUID");
	bad_args("complete_task", "{\"task_id\":\"0b9e3c1a-1111-4222-8333-44445555666g\"}", "argument \"task_id\" must be a UUID");
	bad_args("log_habit", "{\"habit_id\":\"0b9e3c1a-1111-4222-8333-444455556666\",\"on_date\":\"2026-13-01\"}",
			 "argument \"on_date\" must be a date (YYYY-MM-DD)");
	bad_args("should_suggest", "{\"suggestion_type\":\"t\",\"base\":1.5}", "argument \"base\" must be between 0 and 1");
	bad_args("list_scheduled_tasks", "{\"include_finished\":\"yes\"}", "argument \"include_finished\" must be a boolean");
	bad_args("record_engagement", "{\"suggestion_type\":\"t\",\"action\":\"engaged\",\"context\":[]}",
			 "argument \"context\" must be an object");
	bad_args("add_task", "{\"title\":\"x\",\"title\":\"y\"}", "arguments are not JSON: duplicate object key near '\"title\"'");
}

static void
test_timestamps(void)
{
	static const char *const good[] = {"2026-12-24", "2026-12-24T09:00", "2026-12-24t09:00:30",
		"2026-12-24 09:00:00.123456+01:00", "2026-12-24T09:00Z", "2026-12-24T09:00:00-0530", "2026-12-24T09:00+01", NULL};
	static const char *const bad[] = {"now", "infinity", "epoch", "2026-12-24T", "2026-13-01T00:00", "2026-12-32",
		"2026-12-24T9:00", "2026-12-24T09:00+1", "2026-12-24T09:00:00.", "2026-12-24T09:00 UTC", "26-12-24",
		"2026-12-24T09:00Z junk", "", NULL};
	int			i,
				fails = 0;

	for (i = 0; good[i]; i++)
		if (!alfred_mcp_valid_timestamp(good[i]))
		{
			printf("# refused: %s\n", good[i]);
			fails++;
		}
	is_int(fails, 0, "ISO 8601 dates and times are accepted");
	for (i = 0, fails = 0; bad[i]; i++)
		if (alfred_mcp_valid_timestamp(bad[i]))
		{
			printf("# accepted: %s\n", bad[i]);
			fails++;
		}
	is_int(fails, 0, "free-form and malformed times (now, infinity, 9:00) are refused");
	ok(alfred_mcp_valid_date("2026-02-28") && !alfred_mcp_valid_date("2026-02-28T00:00") &&
	   !alfred_mcp_valid_date("2026-00-10"), "dates");
	ok(alfred_mcp_valid_uuid("00000000-0000-0000-0000-000000000000") &&
	   !alfred_mcp_valid_uuid("00000000000000000000000000000000") &&
	   !alfred_mcp_valid_uuid("00000000-0000-0000-0000-0000000000000"), "uuids");
}

static void
test_calls(void)
{
	json_t	   *r,
			   *res;
	int			before;

	init_server();
	initialize();
	stub_error = NULL;
	stub_result = "[{\"id\": 1}]";
	before = stub_calls;
	r = send_line("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"list_tasks\","
				  "\"arguments\":{\"status\":\"all\",\"limit\":3}}}");
	res = result_of(r);
	ok(stub_calls == before + 1 && json_is_false(json_object_get(res, "isError")), "tools/call runs the tool once");
	is_str(json_string_value(json_object_get(json_array_get(json_object_get(res, "content"), 0), "text")),
		   "[{\"id\": 1}]", "  its result is the text content");
	is_str(last_params[0], "all", "  with the arguments as parameters");
	is_str(last_params[4], "unit", "  and the client's name from initialize");
	ok(last_null[1] && last_null[2], "  omitted arguments are NULL");
	json_decref(r);

	stub_error = "invalid or expired session token";
	r = send_line("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":\"today\"}}");
	res = result_of(r);
	ok(json_is_true(json_object_get(res, "isError")) && error_code(r) == 0,
	   "a database error is a tool result with isError, not a protocol error");
	is_str(json_string_value(json_object_get(json_array_get(json_object_get(res, "content"), 0), "text")),
		   "invalid or expired session token", "  carrying the database's message");
	json_decref(r);
	before = stub_calls;
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}",
				 MCP_INVALID_PARAMS, "unknown tool \"nope\"", "an unknown tool is -32602");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"complete_task\",\"arguments\":{}}}",
				 MCP_INVALID_PARAMS, "tool \"complete_task\" needs argument \"task_id\"", "missing arguments are -32602");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"arguments\":{}}}",
				 MCP_INVALID_PARAMS, "tools/call needs params.name (a string)", "tools/call without a name");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":[1]}",
				 MCP_INVALID_PARAMS, "params must be an object", "positional params are -32602");
	is_int(stub_calls, before, "  none of them reached the database");

	stub_error = NULL;
	stub_result = "{\"date\": \"2026-12-03\"}";
	r = send_line("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"resources/list\"}");
	is_int(json_array_size(json_object_get(result_of(r), "resources")), 3, "three resources");
	json_decref(r);
	r = send_line("{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"resources/read\",\"params\":{\"uri\":\"alfred://briefing\"}}");
	res = json_array_get(json_object_get(result_of(r), "contents"), 0);
	ok(strcmp(json_string_value(json_object_get(res, "text")), "{\"date\": \"2026-12-03\"}") == 0 &&
	   strcmp(json_string_value(json_object_get(res, "uri")), "alfred://briefing") == 0,
	   "resources/read returns the resource's text with its uri");
	json_decref(r);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"resources/read\",\"params\":{\"uri\":\"alfred://secrets\"}}",
				 MCP_RESOURCE_NOT_FOUND, "resource \"alfred://secrets\" not found", "an unknown resource is -32002");
	stub_error = "permission denied";
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"resources/read\",\"params\":{\"uri\":\"alfred://profile\"}}",
				 MCP_INTERNAL_ERROR, "permission denied", "a database error reading a resource is an error with its message");
	stub_error = NULL;
	r = send_line("{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"prompts/list\"}");
	is_str(json_string_value(json_object_get(json_array_get(json_object_get(result_of(r), "prompts"), 0), "name")),
		   "daily-review", "prompts/list offers daily-review");
	json_decref(r);
	r = send_line("{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"prompts/get\",\"params\":{\"name\":\"daily-review\","
				  "\"arguments\":{\"focus\":\"the garden\"}}}");
	res = json_object_get(json_object_get(json_array_get(json_object_get(result_of(r), "messages"), 0), "content"), "text");
	ok(res && strstr(json_string_value(res), "{\"date\": \"2026-12-03\"}") &&
	   strstr(json_string_value(res), "Focus on: the garden"), "the daily-review prompt embeds today's briefing and the focus");
	json_decref(r);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"prompts/get\",\"params\":{\"name\":\"weekly\"}}",
				 MCP_INVALID_PARAMS, "unknown prompt \"weekly\"", "an unknown prompt is -32602");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"prompts/get\",\"params\":{\"name\":\"daily-review\",\"arguments\":{\"focus\":1}}}",
				 MCP_INVALID_PARAMS, "prompt argument \"focus\" must be a string", "a non-string prompt argument");
}

/*---- configuration ----*/

static void
test_config(void)
{
	McpConfig	cfg;
	char		err[MCP_ERRLEN];

	alfred_mcp_config_init(&cfg);
	is_int(alfred_mcp_config_parse("# alfred-mcp\n  conninfo = host=/tmp dbname=alfred  \n"
								   "token=abc\r\nstatement_timeout = 5s\nlog_level = debug\n\n", &cfg, err, sizeof(err)),
		   0, "a configuration file");
	ok(strcmp(cfg.conninfo, "host=/tmp dbname=alfred") == 0 && strcmp(cfg.token, "abc") == 0 &&
	   cfg.statement_timeout_ms == 5000 && cfg.debug, "  its values, trimmed");
	is_int(alfred_mcp_config_check(&cfg, err, sizeof(err)), 0, "  with one identity it is usable");
	alfred_mcp_config_free(&cfg);

	is_int(alfred_mcp_config_parse("tokn = x\n", &cfg, err, sizeof(err)), -1, "an unknown setting");
	is_str(err, "line 1: unknown setting \"tokn\"", "  named with its line");
	is_int(alfred_mcp_config_parse("\nstatement_timeout = soon\n", &cfg, err, sizeof(err)), -1, "a bad duration");
	is_str(err, "line 2: invalid duration \"soon\" for \"statement_timeout\"", "  named");
	is_int(alfred_mcp_config_parse("log_level = loud\n", &cfg, err, sizeof(err)), -1, "a bad log level");
	is_int(alfred_mcp_config_parse("just words\n", &cfg, err, sizeof(err)), -1, "a line without =");
	alfred_mcp_config_free(&cfg);

	is_int(alfred_mcp_config_check(&cfg, err, sizeof(err)), -1, "no identity is refused");
	alfred_mcp_config_from_env(&cfg, "dbname=x", "tok", "0b9e3c1a-1111-4222-8333-444455556666", err, sizeof(err));
	is_int(alfred_mcp_config_check(&cfg, err, sizeof(err)), -1, "a token and a user_id are refused");
	is_str(err, "both a token and a user_id are set: give one identity", "  with a message");
	alfred_mcp_config_free(&cfg);
	alfred_mcp_config_from_env(&cfg, "", "", "ada", err, sizeof(err));
	is_int(alfred_mcp_config_check(&cfg, err, sizeof(err)), -1, "a user_id that is not a UUID");
	ok(cfg.conninfo == NULL && cfg.token == NULL, "empty environment variables count as unset");
	alfred_mcp_config_free(&cfg);
}

int
main(void)
{
	test_lifecycle();
	test_errors();
	test_catalog();
	test_arguments();
	test_timestamps();
	test_calls();
	test_config();
	return done_testing();
}
