/*-------------------------------------------------------------------------
 *
 * mcp_core.h
 *		The pure parts of alfred-mcp: the JSON-RPC 2.0 / MCP message layer,
 *		the catalogue of tools, resources and prompts, and the validation
 *		of tool arguments into SQL parameters.  No libpq here: the database
 *		is reached through McpBackend, so all of it is unit-tested
 *		(mcp/test_mcp.c) and fuzzed (mcp/fuzz_mcp.c) without a server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_MCP_CORE_H
#define ALFRED_MCP_CORE_H

#include <stdbool.h>
#include <stddef.h>

#define MCP_ERRLEN 512
#define MCP_MAX_PARAMS 16
#define MCP_MAX_STEPS 4
#define MCP_MAX_LINE (4 * 1024 * 1024)

/* JSON-RPC error codes */
#define MCP_PARSE_ERROR		-32700
#define MCP_INVALID_REQUEST -32600
#define MCP_METHOD_NOT_FOUND -32601
#define MCP_INVALID_PARAMS	-32602
#define MCP_INTERNAL_ERROR	-32603
#define MCP_RESOURCE_NOT_FOUND -32002

/*
 * One database call: SQL statements run in order in one transaction under
 * the server's identity, all with the same text parameters ($1..$n; unused
 * ones are allowed, every parameter is declared text).  The result is the
 * first column of the first row of the last statement (a JSON text).  A
 * statement with none_error set must return a row; otherwise the call fails
 * with that message, in which "%s" stands for parameter $1.
 */
typedef struct McpStep
{
	const char *sql;
	const char *none_error;
} McpStep;

typedef struct McpCall
{
	const McpStep *steps;
	int			nsteps;
	int			nparams;
	const char *params[MCP_MAX_PARAMS];	/* NULL = SQL NULL */
	char	   *owned[MCP_MAX_PARAMS];	/* what to free */
} McpCall;

/*
 * Runs a call.  Returns true with *result (malloc'd JSON text) or false with
 * the database's message in err.
 */
typedef bool (*McpRunFn) (void *arg, const McpCall *call, char **result,
						  char *err, size_t errlen);

typedef struct McpServer
{
	McpRunFn	run;
	void	   *run_arg;
	bool		initialized;
	char		protocol_version[16];
	char		client_name[128];
	/* counters, for the log */
	long		ncalls;
	long		nerrors;
} McpServer;

extern const char *const alfred_mcp_protocol_versions[];

extern void alfred_mcp_server_init(McpServer *s, McpRunFn run, void *run_arg);

/*
 * Handles one line (one JSON-RPC message or batch).  Returns the response
 * line (malloc'd, without a newline) or NULL when nothing is to be sent
 * (notifications, responses).
 */
extern char *alfred_mcp_handle_line(McpServer *s, const char *line, size_t len);

/* Catalogue */
extern int	alfred_mcp_ntools(void);
extern const char *alfred_mcp_tool_name(int i);
extern char *alfred_mcp_tools_json(void);

/*
 * Checks tool arguments (a JSON object text, or NULL for none) against the
 * tool's schema and fills call.  Returns 0, or -1 with a message naming the
 * argument (unknown tool: -2).  On success free the call with
 * alfred_mcp_call_free.
 */
extern int	alfred_mcp_prepare_tool(const char *tool, const char *args_json,
									const char *client_name, McpCall *call,
									char *err, size_t errlen);
extern void alfred_mcp_call_free(McpCall *call);

/*
 * Configuration (mcp_config.c): a file of "key = value" lines, or the
 * environment (ALFRED_CONNINFO, ALFRED_TOKEN, ALFRED_USER_ID).
 */
typedef struct McpConfig
{
	char	   *conninfo;		/* libpq connection string; NULL: libpq defaults */
	char	   *token;			/* session token: set_session(token, true) */
	char	   *user_id;		/* or act_as(user_id, true), for a service role */
	int			statement_timeout_ms;
	bool		debug;
} McpConfig;

extern void alfred_mcp_config_init(McpConfig *cfg);
extern void alfred_mcp_config_free(McpConfig *cfg);
extern int	alfred_mcp_config_parse(const char *text, McpConfig *cfg,
									char *err, size_t errlen);
extern int	alfred_mcp_config_from_env(McpConfig *cfg, const char *conninfo,
									   const char *token, const char *user_id,
									   char *err, size_t errlen);
extern int	alfred_mcp_config_check(const McpConfig *cfg, char *err, size_t errlen);

/* Helpers shared by the pure files. */
extern void alfred_mcp_errf(char *err, size_t errlen, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
extern char *alfred_mcp_strdup(const char *s);

/* Validators shared with the tests. */
extern bool alfred_mcp_valid_uuid(const char *s);
extern bool alfred_mcp_valid_date(const char *s);
extern bool alfred_mcp_valid_timestamp(const char *s);

#endif							/* ALFRED_MCP_CORE_H */
