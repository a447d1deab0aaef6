/*-------------------------------------------------------------------------
 *
 * mcp_core.c
 *		The message layer of alfred-mcp: JSON-RPC 2.0 requests,
 *		notifications and batches, the MCP lifecycle (initialize with
 *		version negotiation, ping), tools/list, tools/call, resources/list,
 *		resources/read, prompts/list and prompts/get, and the validation of
 *		tool arguments into SQL parameters.
 *
 * Pure: the database is reached through the server's McpRunFn, which runs
 * one McpCall (a few statements) in one transaction.  Protocol mistakes
 * (malformed JSON, an unknown method, arguments that do not fit the tool's
 * schema) are JSON-RPC errors; an error raised by alfred is a tool result
 * with isError and the database's message, so the model can read it.
 *
 *-------------------------------------------------------------------------
 */
#include "mcp_core.h"
#include "mcp_catalog.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define SERVER_NAME "alfred-mcp"
#ifndef MCP_VERSION
#define MCP_VERSION "0.2"
#endif

/* Newest first: the answer to a client that asks for an unknown version. */
const char *const alfred_mcp_protocol_versions[] = {"2025-06-18", "2025-03-26", "2024-11-05", NULL};

static const char *const instructions =
"alfred is this person's memory, task list, habit tracker and proactive engine. "
"Start with the today tool (or the alfred://briefing resource). Keep what you learn with "
"remember_preference and remember_learning, and recall it before answering questions that depend "
"on the person's tastes. Never perform a risky or irreversible action yourself: propose_action "
"asks the person, who approves it in their app. Before volunteering a suggestion, ask "
"should_suggest, and afterwards report the person's reaction with record_engagement.";

/* A message into err (printf-style); shared by the pure files of alfred-mcp. */
void
alfred_mcp_errf(char *err, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

char *
alfred_mcp_strdup(const char *s)
{
	char	   *r = strdup(s);

	if (r == NULL)
		abort();
	return r;
}

#define set_err alfred_mcp_errf
#define xstrdup alfred_mcp_strdup

/*---- value checks ----*/

static bool
digits(const char *s, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char) s[i]))
			return false;
	return true;
}

bool
alfred_mcp_valid_uuid(const char *s)
{
	int			i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++)
	{
		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (s[i] != '-')
				return false;
		}
		else if (!isxdigit((unsigned char) s[i]))
			return false;
	}
	return true;
}

/* YYYY-MM-DD with a plausible month and day (the database checks the rest). */
bool
alfred_mcp_valid_date(const char *s)
{
	int			m,
				d;

	if (strlen(s) < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
		s[7] != '-' || !digits(s + 8, 2))
		return false;
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	return m >= 1 && m <= 12 && d >= 1 && d <= 31 && s[10] == '\0';
}

/*
 * ISO 8601: a date, optionally "T" or " " and HH:MM[:SS[.fraction]], then
 * optionally "Z" or an offset +HH[:MM].  Infinite or free-form values
 * ("now", "epoch") are refused here, so what reaches the database is a time.
 */
bool
alfred_mcp_valid_timestamp(const char *s)
{
	char		date[11];
	const char *p;

	if (strlen(s) < 10 || strlen(s) > 40)
		return false;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (!alfred_mcp_valid_date(date))
		return false;
	p = s + 10;
	if (*p == '\0')
		return true;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return false;
	p++;
	if (!digits(p, 2) || p[2] != ':' || !digits(p + 3, 2))
		return false;
	p += 5;
	if (*p == ':')
	{
		if (!digits(p + 1, 2))
			return false;
		p += 3;
		if (*p == '.')
		{
			p++;
			if (!isdigit((unsigned char) *p))
				return false;
			while (isdigit((unsigned char) *p))
				p++;
		}
	}
	if (*p == 'Z' || *p == 'z')
		return p[1] == '\0';
	if (*p == '+' || *p == '-')
	{
		p++;
		if (!digits(p, 2))
			return false;
		p += 2;
		if (*p == ':')
			p++;
		if (*p == '\0')
			return true;
		return digits(p, 2) && p[2] == '\0';
	}
	return *p == '\0';
}

/*---- tool arguments ----*/

static const McpTool *
find_tool(const char *name)
{
	int			i;

	for (i = 0; i < alfred_mcp_ntools_; i++)
		if (strcmp(alfred_mcp_tools[i].name, name) == 0)
			return &alfred_mcp_tools[i];
	return NULL;
}

int
alfred_mcp_ntools(void)
{
	return alfred_mcp_ntools_;
}

const char *
alfred_mcp_tool_name(int i)
{
	return i >= 0 && i < alfred_mcp_ntools_ ? alfred_mcp_tools[i].name : NULL;
}

static const char *
type_phrase(McpArgType t)
{
	switch (t)
	{
		case MCP_STRING:
			return "a string";
		case MCP_INT:
			return "an integer";
		case MCP_NUMBER:
			return "a number";
		case MCP_BOOL:
			return "a boolean";
		case MCP_OBJECT:
			return "an object";
		case MCP_UUID:
			return "a UUID";
		case MCP_DATE:
			return "a date (YYYY-MM-DD)";
		case MCP_TIMESTAMP:
			return "an ISO 8601 date and time (2026-12-24T09:00:00+01:00)";
		case MCP_ENUM:
			return "one of the listed values";
		case MCP_STRING_ARRAY:
			return "an array of strings";
		case MCP_UUID_ARRAY:
			return "an array of UUIDs";
	}
	return "valid";
}

/* A PostgreSQL array literal of strings: {"a","b\"c"}. */
static char *
array_literal(json_t *arr, bool uuids, const char *name, char *err, size_t errlen)
{
	size_t		i,
				cap = 3,
				len;
	json_t	   *v;
	char	   *out,
			   *p;

	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v) || (uuids && !alfred_mcp_valid_uuid(json_string_value(v))))
		{
			set_err(err, errlen, "argument \"%s\" must be %s: element %zu is not %s", name,
					uuids ? "an array of UUIDs" : "an array of strings", i,
					uuids ? "a UUID" : "a string");
			return NULL;
		}
		cap += 3 + 2 * json_string_length(v);
	}
	out = p = malloc(cap);
	if (out == NULL)
		abort();
	*p++ = '{';
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);

		if (i > 0)
			*p++ = ',';
		*p++ = '"';
		len = json_string_length(v);
		for (size_t k = 0; k < len; k++)
		{
			if (s[k] == '"' || s[k] == '\\')
				*p++ = '\\';
			*p++ = s[k];
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return out;
}

/* One argument's value as the text of its SQL parameter, or NULL with err. */
static char *
arg_text(const McpArg *a, json_t *v, char *err, size_t errlen)
{
	char		buf[64];
	const char *s;
	const char *const *e;

	switch (a->type)
	{
		case MCP_STRING:
			if (!json_is_string(v))
				break;
			return xstrdup(json_string_value(v));
		case MCP_UUID:
			if (!json_is_string(v) || !alfred_mcp_valid_uuid(json_string_value(v)))
				break;
			return xstrdup(json_string_value(v));
		case MCP_DATE:
			if (!json_is_string(v) || !alfred_mcp_valid_date(json_string_value(v)))
				break;
			return xstrdup(json_string_value(v));
		case MCP_TIMESTAMP:
			if (!json_is_string(v) || !alfred_mcp_valid_timestamp(json_string_value(v)))
				break;
			return xstrdup(json_string_value(v));
		case MCP_ENUM:
			if (!json_is_string(v))
				break;
			s = json_string_value(v);
			for (e = a->values; *e; e++)
				if (strcmp(*e, s) == 0)
					return xstrdup(s);
			{
				char		list[256] = "";

				for (e = a->values; *e; e++)
					snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
							 e == a->values ? "" : ", ", *e);
				set_err(err, errlen, "argument \"%s\" must be one of: %s", a->name, list);
				return NULL;
			}
		case MCP_INT:
			if (!json_is_integer(v) && !(json_is_real(v) && json_real_value(v) == floor(json_real_value(v))))
				break;
			{
				double		n = json_number_value(v);

				if ((a->min < a->max && (n < a->min || n > a->max)) || fabs(n) > 2147483647.0)
				{
					set_err(err, errlen, "argument \"%s\" must be between %.0f and %.0f", a->name,
							a->min < a->max ? a->min : -2147483647.0,
							a->min < a->max ? a->max : 2147483647.0);
					return NULL;
				}
				snprintf(buf, sizeof(buf), "%.0f", n);
				return xstrdup(buf);
			}
		case MCP_NUMBER:
			if (!json_is_number(v))
				break;
			{
				double		n = json_number_value(v);

				if (!isfinite(n) || (a->min < a->max && (n < a->min || n > a->max)))
				{
					set_err(err, errlen, "argument \"%s\" must be between %g and %g", a->name, a->min, a->max);
					return NULL;
				}
				snprintf(buf, sizeof(buf), "%.17g", n);
				return xstrdup(buf);
			}
		case MCP_BOOL:
			if (!json_is_boolean(v))
				break;
			return xstrdup(json_is_true(v) ? "true" : "false");
		case MCP_OBJECT:
			if (!json_is_object(v))
				break;
			{
				char	   *r = json_dumps(v, JSON_COMPACT);

				if (r == NULL)
					abort();
				return r;
			}
		case MCP_STRING_ARRAY:
		case MCP_UUID_ARRAY:
			if (!json_is_array(v))
				break;
			return array_literal(v, a->type == MCP_UUID_ARRAY, a->name, err, errlen);
	}
	set_err(err, errlen, "argument \"%s\" must be %s", a->name, type_phrase(a->type));
	return NULL;
}

void
alfred_mcp_call_free(McpCall *call)
{
	int			i;

	for (i = 0; i < MCP_MAX_PARAMS; i++)
		free(call->owned[i]);
	memset(call, 0, sizeof(*call));
}

static void
call_init(McpCall *call, const McpStep *steps, int nsteps)
{
	memset(call, 0, sizeof(*call));
	call->steps = steps;
	call->nsteps = nsteps;
}

/* Checks a parsed arguments object (NULL: none) and fills call. */
static int
prepare_tool(const McpTool *tool, json_t *args, const char *client_name,
			 McpCall *call, char *err, size_t errlen)
{
	const char *key;
	json_t	   *v;
	int			i;

	call_init(call, tool->steps, tool->nsteps);
	if (args != NULL && !json_is_object(args))
	{
		set_err(err, errlen, "arguments of tool \"%s\" must be an object", tool->name);
		return -1;
	}
	if (args != NULL)
		json_object_foreach(args, key, v)
		{
			for (i = 0; i < tool->nargs; i++)
				if (strcmp(tool->args[i].name, key) == 0)
					break;
			if (i == tool->nargs)
			{
				set_err(err, errlen, "tool \"%s\" has no argument \"%s\"", tool->name, key);
				return -1;
			}
		}
	for (i = 0; i < tool->nargs; i++)
	{
		const McpArg *a = &tool->args[i];

		v = args ? json_object_get(args, a->name) : NULL;
		if (v == NULL || json_is_null(v))
		{
			if (a->required)
			{
				set_err(err, errlen, "tool \"%s\" needs argument \"%s\"", tool->name, a->name);
				alfred_mcp_call_free(call);
				return -1;
			}
			continue;
		}
		call->owned[i] = arg_text(a, v, err, errlen);
		if (call->owned[i] == NULL)
		{
			alfred_mcp_call_free(call);
			return -1;
		}
		call->params[i] = call->owned[i];
	}
	call->owned[tool->nargs] = xstrdup(client_name ? client_name : "");
	call->params[tool->nargs] = call->owned[tool->nargs];
	call->nparams = tool->nargs + 1;
	return 0;
}

int
alfred_mcp_prepare_tool(const char *name, const char *args_json,
						const char *client_name, McpCall *call,
						char *err, size_t errlen)
{
	const McpTool *tool = find_tool(name);
	json_t	   *args = NULL;
	json_error_t jerr;
	int			rc;

	if (tool == NULL)
	{
		set_err(err, errlen, "unknown tool \"%s\"", name);
		return -2;
	}
	if (args_json != NULL)
	{
		args = json_loads(args_json, JSON_REJECT_DUPLICATES, &jerr);
		if (args == NULL)
		{
			set_err(err, errlen, "arguments are not JSON: %s", jerr.text);
			return -1;
		}
	}
	rc = prepare_tool(tool, args, client_name, call, err, errlen);
	json_decref(args);
	return rc;
}

/*---- the catalogue as JSON ----*/

static json_t *
arg_schema(const McpArg *a)
{
	json_t	   *p = json_object();
	const char *const *e;

	switch (a->type)
	{
		case MCP_STRING:
		case MCP_ENUM:
			json_object_set_new(p, "type", json_string("string"));
			break;
		case MCP_UUID:
			json_object_set_new(p, "type", json_string("string"));
			json_object_set_new(p, "format", json_string("uuid"));
			break;
		case MCP_DATE:
			json_object_set_new(p, "type", json_string("string"));
			json_object_set_new(p, "format", json_string("date"));
			break;
		case MCP_TIMESTAMP:
			json_object_set_new(p, "type", json_string("string"));
			json_object_set_new(p, "format", json_string("date-time"));
			break;
		case MCP_INT:
			json_object_set_new(p, "type", json_string("integer"));
			break;
		case MCP_NUMBER:
			json_object_set_new(p, "type", json_string("number"));
			break;
		case MCP_BOOL:
			json_object_set_new(p, "type", json_string("boolean"));
			break;
		case MCP_OBJECT:
			json_object_set_new(p, "type", json_string("object"));
			break;
		case MCP_STRING_ARRAY:
		case MCP_UUID_ARRAY:
			json_object_set_new(p, "type", json_string("array"));
			json_object_set_new(p, "items", a->type == MCP_UUID_ARRAY
								? json_pack("{s:s, s:s}", "type", "string", "format", "uuid")
								: json_pack("{s:s}", "type", "string"));
			break;
	}
	json_object_set_new(p, "description", json_string(a->description));
	if (a->type == MCP_ENUM)
	{
		json_t	   *vals = json_array();

		for (e = a->values; *e; e++)
			json_array_append_new(vals, json_string(*e));
		json_object_set_new(p, "enum", vals);
	}
	if ((a->type == MCP_INT || a->type == MCP_NUMBER) && a->min < a->max)
	{
		json_object_set_new(p, "minimum", a->type == MCP_INT ? json_integer((json_int_t) a->min) : json_real(a->min));
		json_object_set_new(p, "maximum", a->type == MCP_INT ? json_integer((json_int_t) a->max) : json_real(a->max));
	}
	return p;
}

static json_t *
tool_json(const McpTool *t)
{
	json_t	   *props = json_object();
	json_t	   *required = json_array();
	json_t	   *schema;
	int			i;

	for (i = 0; i < t->nargs; i++)
	{
		json_object_set_new(props, t->args[i].name, arg_schema(&t->args[i]));
		if (t->args[i].required)
			json_array_append_new(required, json_string(t->args[i].name));
	}
	schema = json_pack("{s:s, s:o, s:b}", "type", "object", "properties", props,
					   "additionalProperties", 0);
	if (json_array_size(required) > 0)
		json_object_set_new(schema, "required", required);
	else
		json_decref(required);
	return json_pack("{s:s, s:s, s:s, s:o, s:{s:s, s:b, s:b, s:b}}",
					 "name", t->name, "title", t->title, "description", t->description,
					 "inputSchema", schema,
					 "annotations", "title", t->title, "readOnlyHint", t->read_only,
					 "destructiveHint", 0, "openWorldHint", 0);
}

static json_t *
tools_array(void)
{
	json_t	   *arr = json_array();
	int			i;

	for (i = 0; i < alfred_mcp_ntools_; i++)
		json_array_append_new(arr, tool_json(&alfred_mcp_tools[i]));
	return arr;
}

char *
alfred_mcp_tools_json(void)
{
	json_t	   *arr = tools_array();
	char	   *s = json_dumps(arr, JSON_COMPACT);

	json_decref(arr);
	return s;
}

/*---- JSON-RPC ----*/

static json_t *
error_response(json_t *id, int code, const char *message)
{
	return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0",
					 "id", id ? id : json_null(), "error", "code", code, "message", message);
}

static json_t *
result_response(json_t *id, json_t *result)
{
	return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}

/* Runs a call through the backend.  Returns its text or NULL with err. */
static char *
run_call(McpServer *s, const McpCall *call, char *err, size_t errlen)
{
	char	   *result = NULL;

	err[0] = '\0';
	if (!s->run(s->run_arg, call, &result, err, errlen))
	{
		free(result);
		if (err[0] == '\0')
			set_err(err, errlen, "the database call failed");
		return NULL;
	}
	return result ? result : xstrdup("null");
}

static json_t *
do_initialize(McpServer *s, json_t *id, json_t *params)
{
	json_t	   *v = json_object_get(params, "protocolVersion");
	json_t	   *client = json_object_get(params, "clientInfo");
	const char *chosen = alfred_mcp_protocol_versions[0];
	int			i;

	if (!json_is_string(v))
		return error_response(id, MCP_INVALID_PARAMS, "initialize needs params.protocolVersion (a string)");
	for (i = 0; alfred_mcp_protocol_versions[i]; i++)
		if (strcmp(alfred_mcp_protocol_versions[i], json_string_value(v)) == 0)
			chosen = alfred_mcp_protocol_versions[i];
	snprintf(s->protocol_version, sizeof(s->protocol_version), "%s", chosen);
	if (json_is_string(json_object_get(client, "name")))
		snprintf(s->client_name, sizeof(s->client_name), "%s",
				 json_string_value(json_object_get(client, "name")));
	s->initialized = true;
	return result_response(id, json_pack("{s:s, s:{s:{s:b}, s:{s:b, s:b}, s:{s:b}}, s:{s:s, s:s, s:s}, s:s}",
										 "protocolVersion", chosen,
										 "capabilities",
										 "tools", "listChanged", 0,
										 "resources", "subscribe", 0, "listChanged", 0,
										 "prompts", "listChanged", 0,
										 "serverInfo", "name", SERVER_NAME, "title", "alfred",
										 "version", MCP_VERSION,
										 "instructions", instructions));
}

static json_t *
do_tools_call(McpServer *s, json_t *id, json_t *params)
{
	json_t	   *name = json_object_get(params, "name");
	json_t	   *args = json_object_get(params, "arguments");
	const McpTool *tool;
	McpCall		call;
	char		err[MCP_ERRLEN];
	char	   *text;
	json_t	   *result;

	if (!json_is_string(name))
		return error_response(id, MCP_INVALID_PARAMS, "tools/call needs params.name (a string)");
	tool = find_tool(json_string_value(name));
	if (tool == NULL)
	{
		set_err(err, sizeof(err), "unknown tool \"%s\"", json_string_value(name));
		return error_response(id, MCP_INVALID_PARAMS, err);
	}
	if (json_is_null(args))
		args = NULL;
	if (prepare_tool(tool, args, s->client_name, &call, err, sizeof(err)) != 0)
		return error_response(id, MCP_INVALID_PARAMS, err);
	s->ncalls++;
	text = run_call(s, &call, err, sizeof(err));
	alfred_mcp_call_free(&call);
	if (text == NULL)
	{
		s->nerrors++;
		return result_response(id, json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text",
											 "text", err, "isError", 1));
	}
	result = json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text", text, "isError", 0);
	free(text);
	return result_response(id, result);
}

static json_t *
do_resources_list(json_t *id)
{
	json_t	   *arr = json_array();
	int			i;

	for (i = 0; i < alfred_mcp_nresources; i++)
	{
		const McpResource *r = &alfred_mcp_resources[i];

		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "uri", r->uri, "name", r->name,
											 "title", r->title, "description", r->description,
											 "mimeType", "application/json"));
	}
	return result_response(id, json_pack("{s:o}", "resources", arr));
}

static json_t *
do_resources_read(McpServer *s, json_t *id, json_t *params)
{
	json_t	   *uri = json_object_get(params, "uri");
	const McpResource *r = NULL;
	McpCall		call;
	char		err[MCP_ERRLEN];
	char	   *text;
	json_t	   *result;
	int			i;

	if (!json_is_string(uri))
		return error_response(id, MCP_INVALID_PARAMS, "resources/read needs params.uri (a string)");
	for (i = 0; i < alfred_mcp_nresources; i++)
		if (strcmp(alfred_mcp_resources[i].uri, json_string_value(uri)) == 0)
			r = &alfred_mcp_resources[i];
	if (r == NULL)
	{
		set_err(err, sizeof(err), "resource \"%s\" not found", json_string_value(uri));
		return error_response(id, MCP_RESOURCE_NOT_FOUND, err);
	}
	call_init(&call, r->steps, r->nsteps);
	text = run_call(s, &call, err, sizeof(err));
	if (text == NULL)
		return error_response(id, MCP_INTERNAL_ERROR, err);
	result = json_pack("{s:[{s:s, s:s, s:s}]}", "contents", "uri", r->uri,
					   "mimeType", "application/json", "text", text);
	free(text);
	return result_response(id, result);
}

static json_t *
do_prompts_list(json_t *id)
{
	return result_response(id, json_pack("{s:[{s:s, s:s, s:s, s:[{s:s, s:s, s:b}]}]}", "prompts",
										 "name", "daily-review", "title", "Daily review",
										 "description", "Review the person's day with them, built from today's briefing: "
										 "what to do first, habits at risk, neglected projects, next steps.",
										 "arguments", "name", "focus",
										 "description", "Something to pay special attention to (optional).",
										 "required", 0));
}

static json_t *
do_prompts_get(McpServer *s, json_t *id, json_t *params)
{
	json_t	   *name = json_object_get(params, "name");
	json_t	   *args = json_object_get(params, "arguments");
	json_t	   *focus = json_object_get(args, "focus");
	McpCall		call;
	char		err[MCP_ERRLEN];
	char	   *briefing,
			   *text;
	size_t		len;
	json_t	   *result;

	if (!json_is_string(name))
		return error_response(id, MCP_INVALID_PARAMS, "prompts/get needs params.name (a string)");
	if (strcmp(json_string_value(name), "daily-review") != 0)
	{
		set_err(err, sizeof(err), "unknown prompt \"%s\"", json_string_value(name));
		return error_response(id, MCP_INVALID_PARAMS, err);
	}
	if (args != NULL && !json_is_null(args) && !json_is_object(args))
		return error_response(id, MCP_INVALID_PARAMS, "prompt arguments must be an object");
	if (focus != NULL && !json_is_null(focus) && !json_is_string(focus))
		return error_response(id, MCP_INVALID_PARAMS, "prompt argument \"focus\" must be a string");
	call_init(&call, &alfred_mcp_briefing_step, 1);
	briefing = run_call(s, &call, err, sizeof(err));
	if (briefing == NULL)
		return error_response(id, MCP_INTERNAL_ERROR, err);
	len = strlen(briefing) + 1024 + (json_is_string(focus) ? json_string_length(focus) : 0);
	text = malloc(len);
	if (text == NULL)
		abort();
	snprintf(text, len,
			 "Here is my briefing from alfred for today (JSON):\n\n%s\n\n"
			 "Review my day with me. Start from the summary; name the overdue and priority tasks I should "
			 "do first and why; mention habits whose streak is at risk and projects that need attention. "
			 "Suggest at most three concrete next steps. To change my tasks use alfred's tools; for "
			 "anything done on my behalf outside alfred, use propose_action so that I approve it first.%s%s",
			 briefing, json_is_string(focus) ? "\n\nFocus on: " : "",
			 json_is_string(focus) ? json_string_value(focus) : "");
	result = json_pack("{s:s, s:[{s:s, s:{s:s, s:s}}]}",
					   "description", "Daily review built from today's briefing",
					   "messages", "role", "user", "content", "type", "text", "text", text);
	free(text);
	free(briefing);
	return result_response(id, result);
}

/*
 * One message.  Returns the response, or NULL for a notification or a
 * response from the client.
 */
static json_t *
handle_message(McpServer *s, json_t *msg)
{
	json_t	   *id,
			   *method,
			   *params,
			   *version;
	const char *m;

	if (!json_is_object(msg))
		return error_response(NULL, MCP_INVALID_REQUEST, "a message must be a JSON object");
	id = json_object_get(msg, "id");
	method = json_object_get(msg, "method");
	version = json_object_get(msg, "jsonrpc");
	params = json_object_get(msg, "params");
	if (id != NULL && !json_is_string(id) && !json_is_integer(id))
		return error_response(NULL, MCP_INVALID_REQUEST, "id must be a string or an integer");
	if (!json_is_string(version) || strcmp(json_string_value(version), "2.0") != 0)
		return error_response(id, MCP_INVALID_REQUEST, "jsonrpc must be \"2.0\"");
	if (method == NULL && id != NULL &&
		(json_object_get(msg, "result") != NULL || json_object_get(msg, "error") != NULL))
		return NULL;			/* a response to a request we never send */
	if (!json_is_string(method))
		return error_response(id, MCP_INVALID_REQUEST, "method must be a string");
	if (params != NULL && !json_is_object(params) && !json_is_array(params))
		return error_response(id, MCP_INVALID_REQUEST, "params must be an object or an array");
	if (id == NULL)
		return NULL;			/* notifications: initialized, cancelled, ... */
	if (params != NULL && !json_is_object(params))
		return error_response(id, MCP_INVALID_PARAMS, "params must be an object");
	m = json_string_value(method);
	if (strcmp(m, "initialize") == 0)
		return do_initialize(s, id, params);
	if (strcmp(m, "ping") == 0)
		return result_response(id, json_object());
	if (!s->initialized)
	{
		char		err[MCP_ERRLEN];

		if (strncmp(m, "tools/", 6) != 0 && strncmp(m, "resources/", 10) != 0 &&
			strncmp(m, "prompts/", 8) != 0)
		{
			set_err(err, sizeof(err), "method \"%s\" not found", m);
			return error_response(id, MCP_METHOD_NOT_FOUND, err);
		}
		return error_response(id, MCP_INVALID_REQUEST, "the server is not initialized: send initialize first");
	}
	if (strcmp(m, "tools/list") == 0)
		return result_response(id, json_pack("{s:o}", "tools", tools_array()));
	if (strcmp(m, "tools/call") == 0)
		return do_tools_call(s, id, params);
	if (strcmp(m, "resources/list") == 0)
		return do_resources_list(id);
	if (strcmp(m, "resources/templates/list") == 0)
		return result_response(id, json_pack("{s:[]}", "resourceTemplates"));
	if (strcmp(m, "resources/read") == 0)
		return do_resources_read(s, id, params);
	if (strcmp(m, "prompts/list") == 0)
		return do_prompts_list(id);
	if (strcmp(m, "prompts/get") == 0)
		return do_prompts_get(s, id, params);
	{
		char		err[MCP_ERRLEN];

		set_err(err, sizeof(err), "method \"%s\" not found", m);
		return error_response(id, MCP_METHOD_NOT_FOUND, err);
	}
}

static char *
dump(json_t *v)
{
	char	   *s = json_dumps(v, JSON_COMPACT);

	json_decref(v);
	if (s == NULL)
		abort();
	return s;
}

char *
alfred_mcp_handle_line(McpServer *s, const char *line, size_t len)
{
	json_error_t jerr;
	json_t	   *msg,
			   *out;

	while (len > 0 && isspace((unsigned char) line[len - 1]))
		len--;
	while (len > 0 && isspace((unsigned char) *line))
	{
		line++;
		len--;
	}
	if (len == 0)
		return NULL;			/* blank lines between messages */
	if (len > MCP_MAX_LINE)
		return dump(error_response(NULL, MCP_PARSE_ERROR, "message too large"));
	msg = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (msg == NULL)
	{
		char		err[MCP_ERRLEN];

		set_err(err, sizeof(err), "parse error: %s", jerr.text);
		return dump(error_response(NULL, MCP_PARSE_ERROR, err));
	}
	if (json_is_array(msg))
	{
		size_t		i;
		json_t	   *m;

		if (json_array_size(msg) == 0)
		{
			json_decref(msg);
			return dump(error_response(NULL, MCP_INVALID_REQUEST, "an empty batch"));
		}
		out = json_array();
		json_array_foreach(msg, i, m)
		{
			json_t	   *r = handle_message(s, m);

			if (r != NULL)
				json_array_append_new(out, r);
		}
		json_decref(msg);
		if (json_array_size(out) == 0)
		{
			json_decref(out);
			return NULL;
		}
		return dump(out);
	}
	out = handle_message(s, msg);
	json_decref(msg);
	return out ? dump(out) : NULL;
}

void
alfred_mcp_server_init(McpServer *s, McpRunFn run, void *run_arg)
{
	memset(s, 0, sizeof(*s));
	s->run = run;
	s->run_arg = run_arg;
}
