/*
 * test_agent.c
 *		Unit tests of alfred-agent's pure parts (agent_core.c): the
 *		configuration file and its errors, argv splitting, the JSON on a
 *		tool's stdin, output checks and log formatting.  TAP via tap.h.
 */
#include "tap.h"

#include <stdlib.h>

#include <jansson.h>

#include "../agent/agent_core.h"

static char err[AGENT_ERRLEN];

/* Parses text into a fresh config; returns the status, leaves err set. */
static int
parse(const char *text, AgentConfig *cfg)
{
	alfred_agent_config_init(cfg);
	err[0] = '\0';
	return alfred_agent_config_parse(text, cfg, err, sizeof(err));
}

/* Expects text to be rejected with exactly message want. */
static void
bad_config(const char *text, const char *want)
{
	AgentConfig cfg;
	int			rc = parse(text, &cfg);

	is_int(rc, -1, want);
	is_str(err, want, "  its message");
	alfred_agent_config_free(&cfg);
}

static void
test_config(void)
{
	AgentConfig cfg;
	const AgentTool *t;
	int			rc;

	rc = parse("# alfred-agent\n"
			   "conninfo = host=/tmp dbname=alfred\n"
			   "  name = agent-1  \n"
			   "concurrency=8\n"
			   "poll_interval = 500ms\n"
			   "lease = 2min\n"
			   "shutdown_timeout = 0\n"
			   "max_output = 64kB\n"
			   "log_level = debug\n"
			   "\n"
			   "[tool get_weather]\n"
			   "command = /usr/local/bin/get-weather --units 'metric system' # not a comment\n"
			   "timeout = 30s\n"
			   "permanent_exit_codes = 2, 64 65\n"
			   "[ tool  mail.send ]\r\n"
			   "command = send-mail\n", &cfg);
	is_int(rc, 0, "a full configuration parses");
	is_str(err, "", "  without an error");
	is_str(cfg.conninfo, "host=/tmp dbname=alfred", "conninfo keeps its '=' and blanks");
	is_str(cfg.name, "agent-1", "name is trimmed");
	is_int(cfg.concurrency, 8, "concurrency");
	is_int(cfg.poll_interval_ms, 500, "poll_interval in ms");
	is_int(cfg.lease_ms, 120000, "lease in minutes");
	is_int(cfg.shutdown_timeout_ms, 0, "shutdown_timeout may be 0");
	is_int(cfg.max_output, 65536, "max_output in kB");
	ok(cfg.debug, "log_level debug");
	ok(!cfg.claim_all, "claims configured tools by default");
	is_int(cfg.ntools, 2, "two tools");
	t = alfred_agent_find_tool(&cfg, "get_weather");
	ok(t != NULL, "find_tool finds get_weather");
	if (t)
	{
		is_str(t->argv[0], "/usr/local/bin/get-weather", "argv[0]");
		is_str(t->argv[2], "metric system", "a quoted argument stays one word");
		is_str(t->argv[3], "#", "'#' inside a value is not a comment");
		ok(t->argv[7] == NULL, "argv is NULL-terminated after seven words");
		is_int(t->timeout_ms, 30000, "tool timeout");
		is_int(t->npermanent, 3, "three permanent exit codes");
		ok(alfred_agent_is_permanent(t, 64), "64 is permanent");
		ok(!alfred_agent_is_permanent(t, 1), "1 is not");
	}
	t = alfred_agent_find_tool(&cfg, "mail.send");
	ok(t != NULL, "a section header with blanks and CRLF");
	if (t)
	{
		is_int(t->timeout_ms, 60000, "default timeout is 60 s");
		is_int(t->npermanent, 0, "no permanent exit codes by default");
	}
	ok(alfred_agent_find_tool(&cfg, "get") == NULL, "find_tool matches whole names");
	alfred_agent_config_free(&cfg);

	rc = parse("claim = all\n", &cfg);
	is_int(rc, 0, "claim = all needs no tool");
	ok(cfg.claim_all, "  and sets claim_all");
	is_int(cfg.concurrency, 4, "default concurrency 4");
	is_int(cfg.lease_ms, 300000, "default lease 5 min");
	is_int(cfg.poll_interval_ms, 10000, "default poll_interval 10 s");
	is_int(cfg.max_output, 1048576, "default max_output 1 MB");
	ok(cfg.conninfo == NULL, "no conninfo by default");
	alfred_agent_config_free(&cfg);

	bad_config("", "line 1 (end of file): no tools configured (add a [tool NAME] section with a command)");
	bad_config("# only\nlease = 1min\n\n",
			   "line 3 (end of file): no tools configured (add a [tool NAME] section with a command)");
	bad_config("[tool a]\ncommand = x\nbogus = 1\n", "line 3: unknown setting \"bogus\" in tool \"a\"");
	bad_config("colour = blue\n", "line 1: unknown setting \"colour\"");
	bad_config("just words\n", "line 1: expected \"key = value\" or \"[tool NAME]\", found \"just words\"");
	bad_config("= 3\n", "line 1: setting without a name");
	bad_config("concurrency = 0\n", "line 1: concurrency \"0\" is not an integer between 1 and 1024");
	bad_config("concurrency = 4x\n", "line 1: concurrency \"4x\" is not an integer between 1 and 1024");
	bad_config("lease = 5 fortnights\n",
			   "line 1: lease \"5 fortnights\" is not a duration of at least 1000 ms (examples: 500ms, 30s, 5min, 1h)");
	bad_config("lease = 10ms\n",
			   "line 1: lease \"10ms\" is not a duration of at least 1000 ms (examples: 500ms, 30s, 5min, 1h)");
	bad_config("max_output = 0\n",
			   "line 1: max_output \"0\" is not a size between 1 B and 1024 MB (examples: 4096, 64kB, 1MB)");
	bad_config("max_output = 2048MB\n",
			   "line 1: max_output \"2048MB\" is not a size between 1 B and 1024 MB (examples: 4096, 64kB, 1MB)");
	bad_config("claim = some\n", "line 1: claim \"some\" must be \"configured\" or \"all\"");
	bad_config("log_level = loud\n", "line 1: log_level \"loud\" must be \"info\" or \"debug\"");
	bad_config("name =\n", "line 1: name must not be empty");
	bad_config("[tool a\n", "line 1: section header \"[tool a\" lacks its closing \"]\"");
	bad_config("[a]\n", "line 1: section \"[a]\" is not of the form [tool NAME]");
	bad_config("[tool a b]\n",
			   "line 1: tool name \"a b\" is invalid (1-100 letters, digits, \"_\", \".\", \":\" or \"-\")");
	bad_config("[tool a]\ncommand = x\n[tool a]\n", "line 3: tool \"a\" is configured twice");
	bad_config("[tool a]\ntimeout = 1s\n", "line 1: tool \"a\" has no command");
	bad_config("[tool a]\ncommand = x\n\n[tool b]\ntimeout = 1s\n", "line 4: tool \"b\" has no command");
	/* a setting given twice is refused, not "the last one wins" */
	bad_config("lease = 1min\nconcurrency = 2\n lease=2min\n[tool a]\ncommand = x\n",
			   "line 3: setting \"lease\" is given twice (first on line 1)");
	bad_config("[tool a]\ncommand = x\ntimeout = 1s\ncommand = y\n",
			   "line 4: setting \"command\" is given twice (first on line 2)");
	rc = parse("timeout = 1s\n", &cfg);
	is_str(err, "line 1: unknown setting \"timeout\"", "a tool setting before any section is unknown");
	alfred_agent_config_free(&cfg);
	rc = parse("lease = 1min\n[tool a]\ncommand = x\ntimeout = 1s\n[tool b]\ncommand = y\ntimeout = 2s\n", &cfg);
	is_int(rc, 0, "the same setting in two sections is fine");
	is_int(cfg.ntools == 2 ? cfg.tools[0].line * 100 + cfg.tools[1].command_line : -1, 206,
		   "a tool knows the lines of its header and its command");
	alfred_agent_config_free(&cfg);
	bad_config("[tool a]\ncommand =   \n", "line 2: command of tool \"a\" is empty");
	bad_config("[tool a]\ncommand = 'x\n", "line 2: command of tool \"a\": unterminated quote");
	bad_config("[tool a]\ncommand = x\ntimeout = 5ms\n",
			   "line 3: timeout \"5ms\" is not a duration of at least 10 ms (examples: 500ms, 30s, 5min, 1h)");
	bad_config("[tool a]\ncommand = x\npermanent_exit_codes = 2, 256\n",
			   "line 3: permanent_exit_codes of tool \"a\": exit code \"256\" is not an integer between 1 and 255");
	bad_config("[tool a]\ncommand = x\npermanent_exit_codes = two\n",
			   "line 3: permanent_exit_codes of tool \"a\": exit code \"two\" is not an integer between 1 and 255");
	bad_config("lease = 1s\npoll_interval = 2s\n[tool a]\ncommand = x\n",
			   "line 2: poll_interval (2000 ms) must not exceed lease (1000 ms)");
	bad_config("poll_interval = 20min\n\nlease = 10min\n[tool a]\ncommand = x\n",
			   "line 3: poll_interval (1200000 ms) must not exceed lease (600000 ms)");
}

static void
test_words(void)
{
	char	  **w;

	w = alfred_agent_split_words("  a  'b c' \"d \\\"e\\\" \\\\ \\n\" f\\ g ''  h'i'\"j\"", err, sizeof(err));
	ok(w != NULL, "split_words splits");
	if (w)
	{
		is_str(w[0], "a", "plain word");
		is_str(w[1], "b c", "single quotes keep blanks");
		is_str(w[2], "d \"e\" \\ \\n", "double quotes: \\\" and \\\\ escape, other backslashes stay");
		is_str(w[3], "f g", "backslash escapes a blank");
		is_str(w[4], "", "'' is an empty word");
		is_str(w[5], "hij", "adjacent quoted parts join");
		ok(w[6] == NULL, "six words");
	}
	alfred_agent_free_words(w);
	w = alfred_agent_split_words("", err, sizeof(err));
	ok(w != NULL && w[0] == NULL, "empty string: no words");
	alfred_agent_free_words(w);
	ok(alfred_agent_split_words("a \"b", err, sizeof(err)) == NULL, "unterminated double quote");
	is_str(err, "unterminated quote", "  message");
	ok(alfred_agent_split_words("a\\", err, sizeof(err)) == NULL, "trailing backslash");
	is_str(err, "trailing backslash", "  message");
}

static void
test_units(void)
{
	int			ms = -1;
	size_t		bytes = 0;

	ok(alfred_agent_parse_duration("45", &ms) == 0 && ms == 45000, "bare duration is seconds");
	ok(alfred_agent_parse_duration("2h", &ms) == 0 && ms == 7200000, "hours");
	ok(alfred_agent_parse_duration("24h", &ms) == 0 && ms == 86400000, "24h is the maximum");
	ok(alfred_agent_parse_duration("25h", &ms) != 0, "25h is too long");
	ok(alfred_agent_parse_duration("-1s", &ms) != 0, "negative duration");
	ok(alfred_agent_parse_duration("99999999999999999999", &ms) != 0, "overflowing duration");
	ok(alfred_agent_parse_size("1MB", &bytes) == 0 && bytes == 1048576, "MB");
	ok(alfred_agent_parse_size("10 B", &bytes) == 0 && bytes == 10, "B with a blank");
	ok(alfred_agent_parse_size("3GB", &bytes) != 0, "GB is not a unit");
}

static void
test_tools_array(void)
{
	AgentConfig cfg;
	char	   *a;

	parse("[tool a]\ncommand = x\n[tool b.c]\ncommand = y\n", &cfg);
	a = alfred_agent_tools_array(&cfg);
	is_str(a, "{\"a\",\"b.c\"}", "tools as a text[] literal");
	free(a);
	cfg.claim_all = true;
	ok(alfred_agent_tools_array(&cfg) == NULL, "claim = all gives SQL NULL");
	alfred_agent_config_free(&cfg);
}

static void
test_input(void)
{
	AgentRunInput in = {"11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222",
		NULL, "get_weather", "{\"city\": \"Zürich\", \"days\": [1, 2]}", "Weather for \"Zürich\"?", 2};
	char		warn[AGENT_ERRLEN];
	char	   *s = alfred_agent_build_input(&in, warn, sizeof(warn));
	json_t	   *doc;
	char	   *deep;
	int			i;

	is_str(s, "{\"run_id\":\"11111111-1111-1111-1111-111111111111\","
		   "\"task_id\":\"22222222-2222-2222-2222-222222222222\",\"user_id\":null,"
		   "\"tool\":\"get_weather\",\"args\":{\"city\":\"Zürich\",\"days\":[1,2]},"
		   "\"prompt\":\"Weather for \\\"Zürich\\\"?\",\"attempt\":2}\n",
		   "stdin document: args embedded as JSON, prompt escaped, one line");
	is_str(warn, "", "  without a warning");
	free(s);
	in.tool_args = NULL;
	in.prompt = NULL;
	s = alfred_agent_build_input(&in, NULL, 0);
	doc = json_loads(s, 0, NULL);
	ok(doc && json_is_object(json_object_get(doc, "args")) &&
	   json_object_size(json_object_get(doc, "args")) == 0, "NULL args become {}");
	ok(doc && json_is_null(json_object_get(doc, "prompt")), "NULL prompt is null");
	json_decref(doc);
	free(s);
	in.tool_args = "not json";
	s = alfred_agent_build_input(&in, warn, sizeof(warn));
	doc = json_loads(s, 0, NULL);
	is_str(doc ? json_string_value(json_object_get(doc, "args")) : NULL, "not json",
		   "args that are not JSON are passed as a string");
	ok(strncmp(warn, "args passed as a string: ", 25) == 0, "  with a warning to log");
	json_decref(doc);
	free(s);
	/* jsonb nests deeper than jansson parses (2048 levels) */
	deep = malloc(2 * 3000 + 1);
	for (i = 0; i < 3000; i++)
	{
		deep[i] = '[';
		deep[3000 + i] = ']';
	}
	deep[6000] = '\0';
	in.tool_args = deep;
	s = alfred_agent_build_input(&in, warn, sizeof(warn));
	doc = json_loads(s, 0, NULL);
	is_str(doc ? json_string_value(json_object_get(doc, "args")) : NULL, deep,
		   "args nested 3000 deep arrive as their text");
	ok(strstr(warn, "maximum parsing depth") != NULL, "  and the warning says why: %s", warn);
	json_decref(doc);
	free(s);
	free(deep);
}

static void
test_output(void)
{
	char		buf[32];

	is_int(alfred_agent_check_output("{\"t\": \"23°C\"} ☀ 😀", strlen("{\"t\": \"23°C\"} ☀ 😀")), -1, "valid UTF-8 passes");
	is_int(alfred_agent_check_output("ab\0c", 4), 2, "NUL byte at offset 2");
	is_int(alfred_agent_check_output("ab\xff", 3), 2, "0xFF");
	is_int(alfred_agent_check_output("\xc0\xaf", 2), 0, "overlong encoding");
	is_int(alfred_agent_check_output("x\xed\xa0\x80", 4), 1, "UTF-16 surrogate");
	is_int(alfred_agent_check_output("\xf4\x90\x80\x80", 4), 0, "above U+10FFFF");
	is_int(alfred_agent_check_output("ok\xe2\x82", 4), 2, "truncated sequence");
	is_int(alfred_agent_check_output("", 0), -1, "empty output is valid");
	memcpy(buf, "a\xff\xc3\xa9\0b", 6);
	alfred_agent_sanitize(buf, 6);
	ok(memcmp(buf, "a?\xc3\xa9?b", 6) == 0, "sanitize replaces bad bytes and NUL, keeps é");
	is_int(alfred_agent_trim_newlines("x\r\n\n", 4), 1, "trailing newlines trimmed");
	is_int(alfred_agent_trim_newlines("\n", 1), 0, "a lone newline");
	is_int(alfred_agent_trim_newlines("a\nb", 3), 3, "inner newline kept");
}

static void
test_sqlstate(void)
{
	ok(alfred_agent_sqlstate_transient("40001"), "serialization_failure is transient");
	ok(alfred_agent_sqlstate_transient("40P01"), "deadlock_detected is transient");
	ok(alfred_agent_sqlstate_transient("57014"), "query_canceled (statement timeout) is transient");
	ok(alfred_agent_sqlstate_transient("53300"), "too_many_connections is transient");
	ok(alfred_agent_sqlstate_transient("55P03"), "lock_not_available is transient");
	ok(alfred_agent_sqlstate_transient("08006"), "connection_failure is transient");
	ok(!alfred_agent_sqlstate_transient("22P02"), "invalid_text_representation (a bad JSON result) is not");
	ok(!alfred_agent_sqlstate_transient("22P05"), "untranslatable_character is not");
	ok(!alfred_agent_sqlstate_transient("55000"), "object_not_in_prerequisite_state (lost lease) is not");
	ok(!alfred_agent_sqlstate_transient("42883"), "undefined_function is not");
	ok(!alfred_agent_sqlstate_transient(""), "no SQLSTATE is not");
	ok(!alfred_agent_sqlstate_transient(NULL), "NULL is not");
	ok(alfred_agent_connect_error_fatal("connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: "
										"FATAL:  role \"root\" does not exist"), "an unknown role is fatal");
	ok(alfred_agent_connect_error_fatal("FATAL:  database \"nope\" does not exist"), "an unknown database is fatal");
	ok(alfred_agent_connect_error_fatal("FATAL:  password authentication failed for user \"x\""),
	   "a wrong password is fatal");
	ok(alfred_agent_connect_error_fatal("invalid connection option \"colour\""), "a bad conninfo is fatal");
	ok(alfred_agent_connect_error_fatal("missing \"=\" after \"x\" in connection info string"),
	   "a malformed conninfo is fatal");
	ok(!alfred_agent_connect_error_fatal("connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: "
										 "No such file or directory"), "a server that is not up is not");
	ok(!alfred_agent_connect_error_fatal("connection to server at \"localhost\" (::1), port 5432 failed: "
										 "Connection refused"), "a refused connection is not");
	ok(!alfred_agent_connect_error_fatal("FATAL:  the database system is starting up"), "a starting server is not");
	ok(!alfred_agent_connect_error_fatal("FATAL:  sorry, too many clients already"), "a full server is not");
	ok(!alfred_agent_connect_error_fatal(NULL), "NULL is not");
}

static void
test_kv(void)
{
	char		line[64] = "";
	char		small[12] = "";

	alfred_agent_kv(line, sizeof(line), "level", "info");
	alfred_agent_kv(line, sizeof(line), "msg", "a \"b\"\n");
	alfred_agent_kv(line, sizeof(line), "e", "");
	alfred_agent_kv(line, sizeof(line), "x", "k=v");
	is_str(line, "level=info msg=\"a \\\"b\\\"\\n\" e=\"\" x=\"k=v\"", "key=value quoting");
	alfred_agent_kv(small, sizeof(small), "key", "a long value");
	is_int(strlen(small), sizeof(small) - 1, "truncated to the buffer");
	is_str(small, "key=\"a long", "  keeping its start");
}

int
main(void)
{
	test_config();
	test_words();
	test_units();
	test_tools_array();
	test_input();
	test_output();
	test_sqlstate();
	test_kv();
	return done_testing();
}
