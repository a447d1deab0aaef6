/*-------------------------------------------------------------------------
 *
 * agent_core.c
 *		Pure logic of alfred-agent (no libpq, no processes): the
 *		configuration file, shell-like splitting of a command into argv,
 *		the JSON document a tool reads on stdin, checks of a tool's output
 *		and key=value log formatting.
 *
 * The configuration file is line based:
 *
 *		# comment (a line whose first non-blank character is '#')
 *		conninfo = dbname=alfred
 *		concurrency = 4
 *		[tool get_weather]
 *		command = /usr/local/bin/get-weather --units metric
 *		timeout = 30s
 *		permanent_exit_codes = 2, 64
 *
 * Settings before the first section are global; each [tool NAME] section
 * configures one tool.  Errors name the line and the offending value.
 *
 *-------------------------------------------------------------------------
 */
#include "agent_core.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <jansson.h>

#define MAX_TOOL_NAME 100

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list		ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char *
xstrndup(const char *s, size_t n)
{
	char	   *r = malloc(n + 1);

	if (r == NULL)
		abort();
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

/*---- configuration ----*/

void
alfred_agent_config_init(AgentConfig *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->concurrency = 4;
	cfg->poll_interval_ms = 10000;
	cfg->lease_ms = 300000;
	cfg->shutdown_timeout_ms = 30000;
	cfg->max_output = 1024 * 1024;
}

void
alfred_agent_config_free(AgentConfig *cfg)
{
	int			i;

	for (i = 0; i < cfg->ntools; i++)
	{
		free(cfg->tools[i].name);
		alfred_agent_free_words(cfg->tools[i].argv);
	}
	free(cfg->tools);
	free(cfg->conninfo);
	free(cfg->name);
	alfred_agent_config_init(cfg);
}

const AgentTool *
alfred_agent_find_tool(const AgentConfig *cfg, const char *name)
{
	int			i;

	for (i = 0; i < cfg->ntools; i++)
		if (strcmp(cfg->tools[i].name, name) == 0)
			return &cfg->tools[i];
	return NULL;
}

bool
alfred_agent_is_permanent(const AgentTool *tool, int exit_code)
{
	int			i;

	for (i = 0; i < tool->npermanent; i++)
		if (tool->permanent_codes[i] == exit_code)
			return true;
	return false;
}

typedef struct Unit
{
	const char *name;
	long long	scale;
} Unit;

/*
 * A non-negative integer followed by an optional unit from units (whose
 * first entry, named "", is the default), scaled, at most max.
 */
static int
parse_scaled(const char *s, const Unit *units, long long max, long long *out)
{
	char	   *end;
	long long	n;
	const Unit *u;

	if (!isdigit((unsigned char) *s))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	while (*end == ' ')
		end++;
	for (u = units; u->name; u++)
		if (strcmp(end, u->name) == 0)
		{
			if (n > max / u->scale)
				return -1;
			*out = n * u->scale;
			return 0;
		}
	return -1;
}

/* A duration (ms, s, min, h; seconds when omitted), at most 24 hours. */
int
alfred_agent_parse_duration(const char *s, int *ms)
{
	static const Unit units[] = {{"", 1000}, {"s", 1000}, {"ms", 1}, {"min", 60000},
	{"h", 3600000}, {NULL, 0}};
	long long	v;

	if (parse_scaled(s, units, 86400000LL, &v) != 0)
		return -1;
	*ms = (int) v;
	return 0;
}

/* A size (B, kB, MB; bytes when omitted), at most 1 GB. */
int
alfred_agent_parse_size(const char *s, size_t *bytes)
{
	static const Unit units[] = {{"", 1}, {"B", 1}, {"kB", 1024}, {"KB", 1024},
	{"MB", 1024 * 1024}, {NULL, 0}};
	long long	v;

	if (parse_scaled(s, units, 1LL << 30, &v) != 0)
		return -1;
	*bytes = (size_t) v;
	return 0;
}

static int
parse_int(const char *s, int lo, int hi, int *out)
{
	char	   *end;
	long		n;

	if (!isdigit((unsigned char) *s))
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < lo || n > hi)
		return -1;
	*out = (int) n;
	return 0;
}

static int
parse_exit_codes(const char *s, AgentTool *tool, char *err, size_t errlen)
{
	const char *p = s;

	tool->npermanent = 0;
	while (*p)
	{
		char		num[16];
		size_t		n = 0;
		int			code;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		while (p[n] && p[n] != ' ' && p[n] != ',' && p[n] != '\t')
			n++;
		if (n >= sizeof(num))
			n = sizeof(num) - 1;
		memcpy(num, p, n);
		num[n] = '\0';
		if (parse_int(num, 1, 255, &code) != 0)
		{
			set_err(err, errlen, "exit code \"%s\" is not an integer between 1 and 255", num);
			return -1;
		}
		if (tool->npermanent == (int) (sizeof(tool->permanent_codes) / sizeof(int)))
		{
			set_err(err, errlen, "too many exit codes (at most 32)");
			return -1;
		}
		tool->permanent_codes[tool->npermanent++] = code;
		p += n;
		while (*p && *p != ' ' && *p != ',' && *p != '\t')
			p++;
	}
	return 0;
}

static bool
valid_tool_name(const char *s)
{
	size_t		n = strlen(s);
	size_t		i;

	if (n == 0 || n > MAX_TOOL_NAME)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char) s[i]) && strchr("_.:-", s[i]) == NULL)
			return false;
	return true;
}

static int
set_global(AgentConfig *cfg, const char *key, const char *val,
		   char *err, size_t errlen)
{
	if (strcmp(key, "conninfo") == 0)
	{
		free(cfg->conninfo);
		cfg->conninfo = xstrndup(val, strlen(val));
	}
	else if (strcmp(key, "name") == 0)
	{
		if (*val == '\0')
		{
			set_err(err, errlen, "name must not be empty");
			return -1;
		}
		free(cfg->name);
		cfg->name = xstrndup(val, strlen(val));
	}
	else if (strcmp(key, "concurrency") == 0)
	{
		if (parse_int(val, 1, 1024, &cfg->concurrency) != 0)
		{
			set_err(err, errlen, "concurrency \"%s\" is not an integer between 1 and 1024", val);
			return -1;
		}
	}
	else if (strcmp(key, "poll_interval") == 0 || strcmp(key, "lease") == 0 ||
			 strcmp(key, "shutdown_timeout") == 0)
	{
		int			ms;
		int			min = strcmp(key, "shutdown_timeout") == 0 ? 0 :
			strcmp(key, "lease") == 0 ? 1000 : 10;

		if (alfred_agent_parse_duration(val, &ms) != 0 || ms < min)
		{
			set_err(err, errlen, "%s \"%s\" is not a duration of at least %d ms (examples: 500ms, 30s, 5min, 1h)",
					key, val, min);
			return -1;
		}
		if (key[0] == 'p')
			cfg->poll_interval_ms = ms;
		else if (key[0] == 'l')
			cfg->lease_ms = ms;
		else
			cfg->shutdown_timeout_ms = ms;
	}
	else if (strcmp(key, "max_output") == 0)
	{
		if (alfred_agent_parse_size(val, &cfg->max_output) != 0 || cfg->max_output == 0)
		{
			set_err(err, errlen, "max_output \"%s\" is not a size between 1 B and 1024 MB (examples: 4096, 64kB, 1MB)", val);
			return -1;
		}
	}
	else if (strcmp(key, "claim") == 0)
	{
		if (strcmp(val, "configured") == 0)
			cfg->claim_all = false;
		else if (strcmp(val, "all") == 0)
			cfg->claim_all = true;
		else
		{
			set_err(err, errlen, "claim \"%s\" must be \"configured\" or \"all\"", val);
			return -1;
		}
	}
	else if (strcmp(key, "log_level") == 0)
	{
		if (strcmp(val, "info") == 0)
			cfg->debug = false;
		else if (strcmp(val, "debug") == 0)
			cfg->debug = true;
		else
		{
			set_err(err, errlen, "log_level \"%s\" must be \"info\" or \"debug\"", val);
			return -1;
		}
	}
	else
	{
		set_err(err, errlen, "unknown setting \"%s\"", key);
		return -1;
	}
	return 0;
}

static int
set_tool(AgentTool *tool, const char *key, const char *val,
		 char *err, size_t errlen)
{
	if (strcmp(key, "command") == 0)
	{
		char		werr[AGENT_ERRLEN];
		char	  **argv = alfred_agent_split_words(val, werr, sizeof(werr));

		if (argv == NULL)
		{
			set_err(err, errlen, "command of tool \"%s\": %s", tool->name, werr);
			return -1;
		}
		if (argv[0] == NULL)
		{
			alfred_agent_free_words(argv);
			set_err(err, errlen, "command of tool \"%s\" is empty", tool->name);
			return -1;
		}
		alfred_agent_free_words(tool->argv);
		tool->argv = argv;
	}
	else if (strcmp(key, "timeout") == 0)
	{
		if (alfred_agent_parse_duration(val, &tool->timeout_ms) != 0 || tool->timeout_ms < 10)
		{
			set_err(err, errlen, "timeout \"%s\" is not a duration of at least 10 ms (examples: 500ms, 30s, 5min, 1h)", val);
			return -1;
		}
	}
	else if (strcmp(key, "permanent_exit_codes") == 0)
	{
		char		cerr[AGENT_ERRLEN];

		if (parse_exit_codes(val, tool, cerr, sizeof(cerr)) != 0)
		{
			set_err(err, errlen, "permanent_exit_codes of tool \"%s\": %s", tool->name, cerr);
			return -1;
		}
	}
	else
	{
		set_err(err, errlen, "unknown setting \"%s\" in tool \"%s\"", key, tool->name);
		return -1;
	}
	return 0;
}

/* Parses "[tool NAME]" into a new tool; the line is already trimmed. */
static int
start_section(AgentConfig *cfg, const char *line, char *err, size_t errlen)
{
	size_t		n = strlen(line);
	char	   *inner;
	char	   *name;
	AgentTool  *tool;

	if (line[n - 1] != ']')
	{
		set_err(err, errlen, "section header \"%s\" lacks its closing \"]\"", line);
		return -1;
	}
	inner = xstrndup(line + 1, n - 2);
	name = inner;
	while (*name == ' ' || *name == '\t')
		name++;
	if (strncmp(name, "tool", 4) != 0 || (name[4] != ' ' && name[4] != '\t'))
	{
		set_err(err, errlen, "section \"%s\" is not of the form [tool NAME]", line);
		free(inner);
		return -1;
	}
	name += 4;
	while (*name == ' ' || *name == '\t')
		name++;
	n = strlen(name);
	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		name[--n] = '\0';
	if (!valid_tool_name(name))
	{
		set_err(err, errlen, "tool name \"%s\" is invalid (1-%d letters, digits, \"_\", \".\", \":\" or \"-\")",
				name, MAX_TOOL_NAME);
		free(inner);
		return -1;
	}
	if (alfred_agent_find_tool(cfg, name) != NULL)
	{
		set_err(err, errlen, "tool \"%s\" is configured twice", name);
		free(inner);
		return -1;
	}
	cfg->tools = realloc(cfg->tools, sizeof(AgentTool) * (cfg->ntools + 1));
	if (cfg->tools == NULL)
		abort();
	tool = &cfg->tools[cfg->ntools++];
	memset(tool, 0, sizeof(*tool));
	tool->name = xstrndup(name, strlen(name));
	tool->timeout_ms = 60000;
	free(inner);
	return 0;
}

static char *
trim(char *s)
{
	size_t		n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/*
 * What the parser remembers across lines: the settings seen in the current
 * section (a setting given twice is an error, not "the last one wins") and
 * the lines of the settings checked against each other at the end.
 */
typedef struct ParseState
{
	int			lineno;
	int			nseen;
	char		seen[16][32];	/* settings of the current section */
	int			seen_line[16];
	int			poll_interval_line;
	int			lease_line;
} ParseState;

/* Records key in the current section; -1 with a message if it is there. */
static int
note_setting(ParseState *ps, const char *key, char *err, size_t errlen)
{
	int			i;

	for (i = 0; i < ps->nseen; i++)
		if (strcmp(ps->seen[i], key) == 0)
		{
			set_err(err, errlen, "setting \"%s\" is given twice (first on line %d)",
					key, ps->seen_line[i]);
			return -1;
		}
	/* an unknown or over-long key fails in set_global/set_tool anyway */
	if (ps->nseen < 16 && strlen(key) < sizeof(ps->seen[0]))
	{
		strcpy(ps->seen[ps->nseen], key);
		ps->seen_line[ps->nseen++] = ps->lineno;
	}
	return 0;
}

static int
parse_line(AgentConfig *cfg, ParseState *ps, char *line, char *err, size_t errlen)
{
	char	   *eq;
	char	   *key;
	char	   *val;

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	if (*line == '[')
	{
		if (start_section(cfg, line, err, errlen) != 0)
			return -1;
		cfg->tools[cfg->ntools - 1].line = ps->lineno;
		ps->nseen = 0;
		return 0;
	}
	eq = strchr(line, '=');
	if (eq == NULL)
	{
		set_err(err, errlen, "expected \"key = value\" or \"[tool NAME]\", found \"%s\"", line);
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (*key == '\0')
	{
		set_err(err, errlen, "setting without a name");
		return -1;
	}
	if (note_setting(ps, key, err, errlen) != 0)
		return -1;
	if (cfg->ntools == 0)
	{
		if (strcmp(key, "poll_interval") == 0)
			ps->poll_interval_line = ps->lineno;
		else if (strcmp(key, "lease") == 0)
			ps->lease_line = ps->lineno;
		return set_global(cfg, key, val, err, errlen);
	}
	if (strcmp(key, "command") == 0)
		cfg->tools[cfg->ntools - 1].command_line = ps->lineno;
	return set_tool(&cfg->tools[cfg->ntools - 1], key, val, err, errlen);
}

/*
 * Parses a whole configuration file into cfg (which the caller has
 * initialized).  Returns 0, or -1 with "line N: ..." in err: every error
 * names the line at fault (the end of the file for a file without tools).
 */
int
alfred_agent_config_parse(const char *text, AgentConfig *cfg,
						  char *err, size_t errlen)
{
	const char *p = text;
	ParseState	ps;
	int			i;

	memset(&ps, 0, sizeof(ps));
	while (*p)
	{
		const char *nl = strchr(p, '\n');
		size_t		n = nl ? (size_t) (nl - p) : strlen(p);
		char	   *line = xstrndup(p, n);
		char		lerr[AGENT_ERRLEN];
		int			rc;

		ps.lineno++;
		rc = parse_line(cfg, &ps, line, lerr, sizeof(lerr));
		free(line);
		if (rc != 0)
		{
			set_err(err, errlen, "line %d: %s", ps.lineno, lerr);
			return -1;
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	for (i = 0; i < cfg->ntools; i++)
		if (cfg->tools[i].argv == NULL)
		{
			set_err(err, errlen, "line %d: tool \"%s\" has no command",
					cfg->tools[i].line, cfg->tools[i].name);
			return -1;
		}
	if (cfg->ntools == 0 && !cfg->claim_all)
	{
		set_err(err, errlen, "line %d (end of file): no tools configured (add a [tool NAME] section with a command)",
				ps.lineno > 0 ? ps.lineno : 1);
		return -1;
	}
	if (cfg->poll_interval_ms > cfg->lease_ms)
	{
		/* one of them was set (the defaults fit): name the later one */
		set_err(err, errlen, "line %d: poll_interval (%d ms) must not exceed lease (%d ms)",
				ps.poll_interval_line > ps.lease_line ? ps.poll_interval_line : ps.lease_line,
				cfg->poll_interval_ms, cfg->lease_ms);
		return -1;
	}
	return 0;
}

/*---- argv ----*/

void
alfred_agent_free_words(char **words)
{
	char	  **w;

	if (words == NULL)
		return;
	for (w = words; *w; w++)
		free(*w);
	free(words);
}

/*
 * Splits a command line into words the way a POSIX shell does, without
 * any expansion: blanks separate words, '...' is literal, "..." allows
 * \" and \\, and a backslash outside quotes escapes the next character.
 * Returns a NULL-terminated malloc'd array, or NULL with a message.
 */
char **
alfred_agent_split_words(const char *s, char *err, size_t errlen)
{
	size_t		len = strlen(s);
	char	  **words = calloc(len / 2 + 2, sizeof(char *));
	char	   *word = malloc(len + 1);
	int			nwords = 0;
	const char *p = s;

	if (words == NULL || word == NULL)
		abort();
	for (;;)
	{
		size_t		n = 0;
		bool		inword = false;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		while (*p && *p != ' ' && *p != '\t')
		{
			inword = true;
			if (*p == '\'')
			{
				const char *q = strchr(p + 1, '\'');

				if (q == NULL)
					goto unterminated;
				memcpy(word + n, p + 1, q - p - 1);
				n += q - p - 1;
				p = q + 1;
			}
			else if (*p == '"')
			{
				p++;
				while (*p && *p != '"')
				{
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
						p++;
					word[n++] = *p++;
				}
				if (*p != '"')
					goto unterminated;
				p++;
			}
			else if (*p == '\\')
			{
				if (p[1] == '\0')
				{
					set_err(err, errlen, "trailing backslash");
					goto fail;
				}
				word[n++] = p[1];
				p += 2;
			}
			else
				word[n++] = *p++;
		}
		if (inword)
			words[nwords++] = xstrndup(word, n);
	}
	free(word);
	return words;

unterminated:
	set_err(err, errlen, "unterminated quote");
fail:
	free(word);
	alfred_agent_free_words(words);
	return NULL;
}

/*---- SQL and JSON ----*/

/*
 * The tools argument of claim_runs as a text[] literal ({"a","b"}), or NULL
 * (SQL NULL: every tool) when the agent claims all runs.  malloc'd.
 */
char *
alfred_agent_tools_array(const AgentConfig *cfg)
{
	size_t		cap = 3;
	char	   *out;
	char	   *o;
	int			i;

	if (cfg->claim_all)
		return NULL;
	for (i = 0; i < cfg->ntools; i++)
		cap += 2 * strlen(cfg->tools[i].name) + 3;
	out = malloc(cap);
	if (out == NULL)
		abort();
	o = out;
	*o++ = '{';
	for (i = 0; i < cfg->ntools; i++)
	{
		const char *c;

		if (i > 0)
			*o++ = ',';
		*o++ = '"';
		for (c = cfg->tools[i].name; *c; c++)
		{
			if (*c == '"' || *c == '\\')
				*o++ = '\\';
			*o++ = *c;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

static json_t *
nullable_string(const char *s)
{
	return s ? json_string(s) : json_null();
}

/*
 * The document a tool reads on stdin: one line of JSON with the run's id,
 * task, user, tool name, arguments (the jsonb itself, {} when NULL), the
 * rendered prompt and the attempt number.  malloc'd, ends with a newline.
 * Arguments that the JSON library cannot parse (nested deeper than its
 * limit, say) are passed as a JSON string of their text, and warn (if not
 * NULL) says why; otherwise warn is set to "".
 */
char *
alfred_agent_build_input(const AgentRunInput *run, char *warn, size_t warnlen)
{
	json_t	   *doc = json_object();
	json_t	   *args = NULL;
	json_error_t jerr;
	char	   *text;
	char	   *out;
	size_t		n;

	set_err(warn, warnlen, "%s", "");
	if (run->tool_args != NULL)
	{
		args = json_loads(run->tool_args, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
		if (args == NULL)
		{
			set_err(warn, warnlen, "args passed as a string: %s at position %d",
					jerr.text, jerr.position);
			args = json_string(run->tool_args);
		}
	}
	if (args == NULL)
		args = json_object();
	json_object_set_new(doc, "run_id", nullable_string(run->run_id));
	json_object_set_new(doc, "task_id", nullable_string(run->task_id));
	json_object_set_new(doc, "user_id", nullable_string(run->user_id));
	json_object_set_new(doc, "tool", nullable_string(run->tool_name));
	json_object_set_new(doc, "args", args);
	json_object_set_new(doc, "prompt", nullable_string(run->prompt));
	json_object_set_new(doc, "attempt", json_integer(run->attempt));
	text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (text == NULL)
		abort();
	n = strlen(text);
	out = realloc(text, n + 2);
	if (out == NULL)
		abort();
	out[n] = '\n';
	out[n + 1] = '\0';
	return out;
}

/*---- database errors ----*/

/*
 * Whether a statement that failed with sqlstate may succeed when tried
 * again as it is: serialization failures and deadlocks (class 40),
 * insufficient resources (53), operator intervention such as a statement
 * timeout or a shutdown (57), lock_not_available (55P03), connection
 * exceptions (08) and system errors (58).  Anything else (a refused value,
 * a lost lease) fails the same way every time.
 */
bool
alfred_agent_sqlstate_transient(const char *sqlstate)
{
	static const char *const classes[] = {"40", "53", "57", "08", "58", NULL};
	const char *const *c;

	if (sqlstate == NULL || strlen(sqlstate) != 5)
		return false;
	if (strcmp(sqlstate, "55P03") == 0)
		return true;
	for (c = classes; *c; c++)
		if (strncmp(sqlstate, *c, 2) == 0)
			return true;
	return false;
}

/*
 * Whether a connection attempt that failed with message fails the same way
 * every time: the server refused who we are or where we go (authentication,
 * an unknown role or database, pg_hba.conf, a role that may not log in), or
 * libpq refused the connection string.  A server that is down, starting,
 * shutting down or full is transient.  libpq offers no SQLSTATE for a failed
 * connection, so this reads the message (the server's messages in English).
 */
bool
alfred_agent_connect_error_fatal(const char *message)
{
	static const char *const fatal[] = {
		"authentication failed", "no password supplied", "password is required",
		"does not exist", "pg_hba.conf", "is not permitted to log in",
		"permission denied", "invalid connection option", "invalid URI",
		"missing \"=\"", "unterminated quoted string", "invalid sslmode",
		"invalid value for parameter", "invalid integer value", NULL};
	const char *const *f;

	if (message == NULL)
		return false;
	for (f = fatal; *f; f++)
		if (strstr(message, *f) != NULL)
			return true;
	return false;
}

/*---- output checks ----*/

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid. */
static int
utf8_seq_len(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];
	int			n;
	unsigned int cp;
	int			i;

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
	{
		n = 2;
		cp = c & 0x1F;
	}
	else if (c >= 0xE0 && c <= 0xEF)
	{
		n = 3;
		cp = c & 0x0F;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		n = 4;
		cp = c & 0x07;
	}
	else
		return 0;
	if ((size_t) n > left)
		return 0;
	for (i = 1; i < n; i++)
	{
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		(cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return 0;
	return n;
}

/*
 * -1 when buf is text PostgreSQL accepts (valid UTF-8, no NUL byte), else
 * the offset of the first offending byte.
 */
long
alfred_agent_check_output(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *) buf;
	size_t		i = 0;

	while (i < len)
	{
		int			n = utf8_seq_len(p + i, len - i);

		if (n == 0)
			return (long) i;
		i += n;
	}
	return -1;
}

/* Replaces every byte that is not valid UTF-8 (and NUL) with '?', in place. */
void
alfred_agent_sanitize(char *buf, size_t len)
{
	unsigned char *p = (unsigned char *) buf;
	size_t		i = 0;

	while (i < len)
	{
		int			n = utf8_seq_len(p + i, len - i);

		if (n == 0)
		{
			p[i] = '?';
			n = 1;
		}
		i += n;
	}
}

/* Length of buf without its trailing newlines (\n or \r\n). */
size_t
alfred_agent_trim_newlines(const char *buf, size_t len)
{
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	return len;
}

/*---- logging ----*/

/*
 * Appends " key=value" to dst (NUL-terminated, truncated at dstlen).  The
 * value is quoted when empty or when it holds blanks, quotes, '=' or
 * control characters; inside quotes \" \\ \n \r \t are escaped.
 */
void
alfred_agent_kv(char *dst, size_t dstlen, const char *key, const char *value)
{
	size_t		n = strlen(dst);
	bool		quote = (value[0] == '\0');
	const unsigned char *v;

#define PUT(ch) do { if (n + 1 < dstlen) dst[n++] = (ch); } while (0)
	for (v = (const unsigned char *) value; *v && !quote; v++)
		if (*v <= ' ' || *v == '"' || *v == '=' || *v == '\\' || *v == 0x7f)
			quote = true;
	if (n > 0)
		PUT(' ');
	for (; *key; key++)
		PUT(*key);
	PUT('=');
	if (quote)
		PUT('"');
	for (v = (const unsigned char *) value; *v; v++)
	{
		if (*v == '"' || *v == '\\')
		{
			PUT('\\');
			PUT(*v);
		}
		else if (*v == '\n')
		{
			PUT('\\');
			PUT('n');
		}
		else if (*v == '\r')
		{
			PUT('\\');
			PUT('r');
		}
		else if (*v == '\t')
		{
			PUT('\\');
			PUT('t');
		}
		else if (*v < ' ' || *v == 0x7f)
			PUT('?');
		else
			PUT(*v);
	}
	if (quote)
		PUT('"');
#undef PUT
	if (dstlen > 0)
		dst[n < dstlen ? n : dstlen - 1] = '\0';
}

void
alfred_agent_vlog(const char *level, const char *event, va_list ap)
{
	char		line[4096] = "";
	char		ts[64];
	struct timeval tv;
	struct tm	tm;
	const char *key;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (tv.tv_usec / 1000));
	alfred_agent_kv(line, sizeof(line), "ts", ts);
	alfred_agent_kv(line, sizeof(line), "level", level);
	alfred_agent_kv(line, sizeof(line), "event", event);
	while ((key = va_arg(ap, const char *)) != NULL)
	{
		const char *value = va_arg(ap, const char *);

		alfred_agent_kv(line, sizeof(line), key, value ? value : "");
	}
	fprintf(stderr, "%s\n", line);
}

char *
alfred_agent_read_file(const char *path, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "r");
	char	   *buf;
	size_t		len = 0,
				cap = 4096,
				n;

	if (f == NULL)
	{
		snprintf(err, errlen, "could not open configuration file \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(cap);
	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0)
	{
		len += n;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	if (buf == NULL)
		abort();
	if (ferror(f) || memchr(buf, '\0', len) != NULL)
	{
		snprintf(err, errlen, "could not read configuration file \"%s\": %s", path,
				 ferror(f) ? strerror(errno) : "it contains a NUL byte");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

