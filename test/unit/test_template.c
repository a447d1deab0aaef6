/*
 * test_template.c
 *		Unit tests of the prompt template renderer (src/core/template.c).
 */
#include <stdlib.h>

#include "tap.h"
#include "template.h"

static json_t *context;

/* Renders tmpl; returns the text, or "ERR<status>: <message>" (static buffer). */
static const char *
render(const char *tmpl)
{
	static char result[512];
	char	   *out;
	alfred_template_error err;
	alfred_template_status status;

	status = alfred_template_render_alloc(tmpl, context, &out, &err);
	if (status != ALFRED_TEMPLATE_OK)
		snprintf(result, sizeof(result), "ERR%d: %s", (int) status, err.message);
	else
	{
		snprintf(result, sizeof(result), "%s", out);
		free(out);
	}
	return result;
}

static void
test_substitution(void)
{
	is_str(render("Hello {{user.name}}!"), "Hello Ada!", "dotted path");
	is_str(render("{{ user.name }}"), "Ada", "whitespace inside braces");
	is_str(render("{{{user.name}}}"), "Ada", "triple braces are the same (no escaping)");
	is_str(render("no placeholders"), "no placeholders", "plain text is copied");
	is_str(render(""), "", "empty template");
	is_str(render("{{user.name}}{{task.name}}"), "AdaWeather", "adjacent placeholders");
	is_str(render("{{args.city}} / {{args.units}}"), "Paris / metric", "several keys");
	is_str(render("<b>{{args.html}}</b>"), "<b><i>&</i></b>", "strings are not escaped");
	is_str(render("{{args.list.1}}"), "b", "numeric segment indexes an array");
	is_str(render("{{args.deep.a-b.c_d}}"), "x", "dash and underscore in keys");
	is_str(render("{{user.unicode}}"), "caf\xc3\xa9", "UTF-8 copied as is");
}

static void
test_json_values(void)
{
	is_str(render("n={{args.count}}"), "n=3", "integer as JSON");
	is_str(render("{{args.ratio}}"), "0.5", "real as JSON");
	is_str(render("{{args.tenth}}"), "0.1", "real with 15 significant digits");
	is_str(render("{{args.flag}}"), "true", "boolean as JSON");
	is_str(render("{{args.nothing}}"), "null", "null as JSON");
	is_str(render("{{args.list}}"), "[\"a\",\"b\"]", "array as compact JSON");
	is_str(render("{{args.obj}}"), "{\"a\":1,\"b\":2}", "object as compact JSON, sorted keys");
}

static void
test_escapes(void)
{
	is_str(render("\\{{user.name}}"), "{{user.name}}", "backslash makes {{ literal");
	is_str(render("a\\b"), "a\\b", "other backslashes are kept");
	is_str(render("{ user }"), "{ user }", "single braces are text");
	is_str(render("}} alone"), "}} alone", "closing braces alone are text");
	is_str(render("trailing {"), "trailing {", "trailing brace");
	is_str(render("trailing \\"), "trailing \\", "trailing backslash");
}

static void
test_errors(void)
{
	alfred_template_error err;
	char	   *out = (char *) 1;

	is_int(alfred_template_render_alloc("Hi {{user.nickname}}", context, &out, &err),
		   ALFRED_TEMPLATE_MISSING, "missing key is an error");
	is_str(err.path, "user.nickname", "error names the path");
	is_str(err.message, "missing key \"user.nickname\" at offset 3", "missing key message");
	ok(out == NULL, "no output on error");
	is_str(render("{{user.name.first}}"), "ERR2: missing key \"user.name.first\" at offset 0",
		   "path through a string");
	is_str(render("{{args.list.5}}"), "ERR2: missing key \"args.list.5\" at offset 0",
		   "array index out of range");
	is_str(render("{{args.list.x}}"), "ERR2: missing key \"args.list.x\" at offset 0",
		   "non-numeric index into an array");
	is_str(render("{{nothing}}"), "ERR2: missing key \"nothing\" at offset 0", "top-level missing");
	is_str(render("abc {{user.name"), "ERR1: unterminated placeholder at offset 4", "unterminated");
	is_str(render("{{user.name}"), "ERR1: unterminated placeholder at offset 0", "one closing brace");
	is_str(render("{{{user.name}}"), "ERR1: unterminated placeholder at offset 0",
		   "triple open needs triple close");
	is_str(render("{{}}"), "ERR1: invalid placeholder path \"\" at offset 0", "empty path");
	is_str(render("{{user..name}}"), "ERR1: invalid placeholder path \"user..name\" at offset 0",
		   "empty segment");
	is_str(render("{{.user}}"), "ERR1: invalid placeholder path \".user\" at offset 0", "leading dot");
	is_str(render("{{user name}}"), "ERR1: invalid placeholder path \"user name\" at offset 0",
		   "space inside a path");
}

static int
failing_sink(const char *buf, size_t len, void *arg)
{
	int		   *calls = arg;

	(void) buf;
	(void) len;
	return ++*calls > 1 ? -1 : 0;
}

static void
test_sink_failure(void)
{
	int			calls = 0;

	is_int(alfred_template_render("a{{user.name}}b", 15, context, failing_sink, &calls, NULL),
		   ALFRED_TEMPLATE_OUTPUT, "a failing sink stops rendering");
	is_int(calls, 2, "no call after the failure");
}

int
main(void)
{
	json_error_t jerr;

	context = json_loads("{\"user\": {\"name\": \"Ada\", \"unicode\": \"caf\xc3\xa9\"},"
						 " \"task\": {\"name\": \"Weather\"},"
						 " \"args\": {\"city\": \"Paris\", \"units\": \"metric\", \"count\": 3,"
						 "  \"ratio\": 0.5, \"tenth\": 0.1, \"flag\": true, \"nothing\": null, \"list\": [\"a\", \"b\"],"
						 "  \"obj\": {\"b\": 2, \"a\": 1}, \"html\": \"<i>&</i>\","
						 "  \"deep\": {\"a-b\": {\"c_d\": \"x\"}}}}", 0, &jerr);
	ok(context != NULL, "context parses");
	test_substitution();
	test_json_values();
	test_escapes();
	test_errors();
	test_sink_failure();
	json_decref(context);
	return done_testing();
}
