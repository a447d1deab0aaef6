/*-------------------------------------------------------------------------
 *
 * agent_core.h
 *		The pure parts of alfred-agent: configuration parsing, argv
 *		splitting, the JSON a tool reads on stdin, output checks, log lines
 *		and reading the configuration file.  No libpq and no process
 *		handling here, so all of it is unit-tested by agent/test_agent.c;
 *		alfred-mcp (mcp/) shares it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_AGENT_CORE_H
#define ALFRED_AGENT_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define AGENT_ERRLEN 256

/* One [tool NAME] section: the command that executes runs of that tool. */
typedef struct AgentTool
{
	char	   *name;
	char	  **argv;			/* NULL-terminated */
	int			timeout_ms;
	int			npermanent;
	int			permanent_codes[32];	/* exit codes that mean "do not retry" */
	int			line;			/* of its [tool NAME] header */
	int			command_line;	/* of its command setting */
} AgentTool;

typedef struct AgentConfig
{
	char	   *conninfo;		/* libpq connection string */
	char	   *name;			/* worker name given to claim_runs; NULL = host:pid */
	int			concurrency;	/* commands running at once */
	int			poll_interval_ms;	/* claim even without a notification */
	int			lease_ms;		/* lease asked of claim_runs and extend_lease */
	int			shutdown_timeout_ms;	/* after SIGTERM, wait this long for runs */
	size_t		max_output;		/* bytes of stdout accepted as a result */
	bool		claim_all;		/* claim every tool's runs, fail unknown ones */
	bool		debug;			/* log_level = debug */
	int			ntools;
	AgentTool  *tools;
} AgentConfig;

/* Input of one run, as claim_runs returns it (text columns; NULL allowed). */
typedef struct AgentRunInput
{
	const char *run_id;
	const char *task_id;
	const char *user_id;
	const char *tool_name;
	const char *tool_args;		/* jsonb as text */
	const char *prompt;
	int			attempt;
} AgentRunInput;

extern void alfred_agent_config_init(AgentConfig *cfg);
extern void alfred_agent_config_free(AgentConfig *cfg);
extern int	alfred_agent_config_parse(const char *text, AgentConfig *cfg,
									  char *err, size_t errlen);
extern const AgentTool *alfred_agent_find_tool(const AgentConfig *cfg,
											   const char *name);
extern bool alfred_agent_is_permanent(const AgentTool *tool, int exit_code);

extern char **alfred_agent_split_words(const char *s, char *err, size_t errlen);
extern void alfred_agent_free_words(char **words);
extern int	alfred_agent_parse_duration(const char *s, int *ms);
extern int	alfred_agent_parse_size(const char *s, size_t *bytes);

extern char *alfred_agent_tools_array(const AgentConfig *cfg);
extern char *alfred_agent_build_input(const AgentRunInput *run,
									  char *warn, size_t warnlen);
extern bool alfred_agent_sqlstate_transient(const char *sqlstate);
extern bool alfred_agent_connect_error_fatal(const char *message);

extern long alfred_agent_check_output(const char *buf, size_t len);
extern void alfred_agent_sanitize(char *buf, size_t len);
extern size_t alfred_agent_trim_newlines(const char *buf, size_t len);

extern void alfred_agent_kv(char *dst, size_t dstlen, const char *key,
							const char *value);

/*
 * One log line of alfred-agent and alfred-mcp on stderr: ts, level, event,
 * then the NULL-terminated key, value pairs of ap (a NULL value is empty).
 */
extern void alfred_agent_vlog(const char *level, const char *event, va_list ap);

/* The whole configuration file as a malloc'd string, or NULL with a message. */
extern char *alfred_agent_read_file(const char *path, char *err, size_t errlen);

#endif							/* ALFRED_AGENT_CORE_H */
