/*-------------------------------------------------------------------------
 *
 * alfred_mcp.c
 *		alfred-mcp: a Model Context Protocol server over stdio that gives an
 *		LLM client one person's alfred (tasks, habits, briefing, memory,
 *		proactive engine, proposals) within that person's rights.
 *
 * It reads JSON-RPC messages, one per line, on stdin and writes responses,
 * one per line, on stdout; logs go to stderr.  The message layer is pure
 * (mcp_core.c); this file owns the process: configuration, the libpq
 * connection and the database side of each call, which is one transaction:
 *
 *		BEGIN;
 *		SELECT ... FROM alfred.set_session(token, true)   -- or act_as(user_id, true)
 *		<the call's statements>
 *		COMMIT;
 *
 * so row-level security and the API's own checks apply to every call, and
 * an expired token or a suspended user ends access at the next call with
 * the database's message.  The session's TimeZone is the person's for the
 * transaction, so times without an offset are theirs.  EOF on stdin ends
 * the server (exit 0).
 *
 *-------------------------------------------------------------------------
 */
#include "mcp_core.h"
#include "mcp_catalog.h"
#include "../agent/agent_core.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define MCP_PROGRAM_VERSION "0.2"
#define TEXTOID 25

static McpConfig cfg;
static PGconn *conn;
static bool checking;			/* --check: only the verdict, no log lines */

static void result_message(PGresult *res, char *err, size_t errlen);

/*---- logging ----*/

/* One key=value line on stderr (pairs of const char *, NULL-terminated). */
static void
log_event(const char *level, const char *event,...)
{
	va_list		ap;

	if (checking || (strcmp(level, "debug") == 0 && !cfg.debug))
		return;
	va_start(ap, event);
	alfred_agent_vlog(level, event, ap);
	va_end(ap);
}

static void
fatal(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));

static void
fatal(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "alfred-mcp: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

/* libpq's connection message without its trailing newline. */
static void
conn_message(char *err, size_t errlen)
{
	size_t		n;

	snprintf(err, errlen, "could not connect to the database: %s",
			 conn ? PQerrorMessage(conn) : "out of memory");
	n = strlen(err);
	while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
		err[--n] = '\0';
}

/*---- the database ----*/

/*
 * Refuses a role that bypasses row-level security (a superuser, BYPASSRLS,
 * or a member of the role that owns alfred's tables): the person's rights
 * would then rest on alfred-mcp's own filters instead of the database's
 * policies.
 */
static bool
check_role(char *err, size_t errlen)
{
	PGresult   *res = PQexec(conn,
							 "SELECT current_user, r.rolsuper OR r.rolbypassrls "
							 "OR pg_has_role(current_user, c.relowner, 'MEMBER') "
							 "FROM pg_roles r, pg_class c "
							 "WHERE r.rolname = current_user AND c.oid = 'alfred.tasks'::regclass");
	bool		ok = false;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		result_message(res, err, errlen);
	else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0)
		snprintf(err, errlen, "role \"%s\" bypasses row-level security: connect alfred-mcp as an application role (see README, \"App roles and row-level security\")",
				 PQgetvalue(res, 0, 0));
	else
		ok = true;
	PQclear(res);
	return ok;
}

static bool
ensure_connection(char *err, size_t errlen)
{
	const char *keys[] = {"dbname", "fallback_application_name", NULL};
	const char *vals[] = {cfg.conninfo ? cfg.conninfo : "", "alfred-mcp", NULL};
	char		sql[64];
	PGresult   *res;

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
		return true;
	if (conn != NULL)
		PQfinish(conn);
	conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) != CONNECTION_OK)
	{
		conn_message(err, errlen);
		log_event("error", "connect_failed", "error", err, NULL);
		PQfinish(conn);
		conn = NULL;
		return false;
	}
	snprintf(sql, sizeof(sql), "SET statement_timeout = %d", cfg.statement_timeout_ms);
	res = PQexec(conn, sql);
	PQclear(res);
	if (!check_role(err, errlen))
	{
		log_event("error", "connect_refused", "error", err, NULL);
		PQfinish(conn);
		conn = NULL;
		return false;
	}
	log_event("debug", "connected", NULL);
	return true;
}

/* The message of a failed statement: primary message, then its detail. */
static void
result_message(PGresult *res, char *err, size_t errlen)
{
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

	if (primary == NULL)
	{
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
		err[strcspn(err, "\n")] = '\0';
		if (err[0] == '\0' && conn)
		{
			snprintf(err, errlen, "%s", PQerrorMessage(conn));
			err[strcspn(err, "\n")] = '\0';
		}
	}
	else if (detail != NULL)
		snprintf(err, errlen, "%s (%s)", primary, detail);
	else
		snprintf(err, errlen, "%s", primary);
}

/* Runs sql; true when it succeeded (*out keeps the result if out != NULL). */
static bool
exec_step(const char *sql, int nparams, const char *const *params,
		  PGresult **out, char *err, size_t errlen)
{
	Oid			types[MCP_MAX_PARAMS] = {0};
	PGresult   *res;
	ExecStatusType st;
	int			i;

	for (i = 0; i < nparams; i++)
		types[i] = TEXTOID;
	res = PQexecParams(conn, sql, nparams, types, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
	{
		if (out)
			*out = res;
		else
			PQclear(res);
		return true;
	}
	result_message(res, err, errlen);
	PQclear(res);
	return false;
}

static const char *identity_by_token =
"SELECT i.id::text, u.email, set_config('TimeZone', u.timezone, true) "
"FROM alfred.set_session($1, true) AS i(id) LEFT JOIN alfred.users u ON u.id = i.id";
static const char *identity_by_user =
"SELECT i.id::text, u.email, set_config('TimeZone', u.timezone, true) "
"FROM alfred.act_as($1::uuid, true) AS i(id) LEFT JOIN alfred.users u ON u.id = i.id";

/* Become the configured person for the current transaction. */
static bool
become_person(PGresult **who, char *err, size_t errlen)
{
	const char *param[1];

	param[0] = cfg.token ? cfg.token : cfg.user_id;
	return exec_step(cfg.token ? identity_by_token : identity_by_user, 1, param, who, err, errlen);
}

static void
end_transaction(bool commit)
{
	PGresult   *res = PQexec(conn, commit ? "COMMIT" : "ROLLBACK");

	PQclear(res);
}

/* McpRunFn: one call, one transaction. */
static bool
run_call(void *arg, const McpCall *call, char **result, char *err, size_t errlen)
{
	PGresult   *res = NULL;
	bool		ok;
	int			i;

	(void) arg;
	if (!ensure_connection(err, errlen))
		return false;
	if (!exec_step("BEGIN", 0, NULL, NULL, err, errlen))
	{
		if (PQstatus(conn) == CONNECTION_OK)
			return false;
		/*
		 * The connection died while idle (a server restart, an idle timeout):
		 * nothing of this call ran yet, so connect again and go on.
		 */
		log_event("info", "reconnecting", "error", err, NULL);
		PQfinish(conn);
		conn = NULL;
		if (!ensure_connection(err, errlen))
			return false;
		if (!exec_step("BEGIN", 0, NULL, NULL, err, errlen))
			return false;
	}
	ok = become_person(NULL, err, errlen);
	for (i = 0; ok && i < call->nsteps; i++)
	{
		const McpStep *step = &call->steps[i];

		PQclear(res);
		res = NULL;
		ok = exec_step(step->sql, call->nparams, call->params, &res, err, errlen);
		if (ok && step->none_error && PQntuples(res) == 0)
		{
			snprintf(err, errlen, step->none_error, call->nparams > 0 && call->params[0] ? call->params[0] : "");
			ok = false;
		}
	}
	if (ok && res != NULL && PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
		*result = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (PQstatus(conn) != CONNECTION_OK)
	{
		if (ok)
			snprintf(err, errlen, "connection to the database lost");
		log_event("error", "connection_lost", "error", err, NULL);
		PQfinish(conn);
		conn = NULL;
		free(*result);
		*result = NULL;
		return false;
	}
	if (ok)
	{
		res = PQexec(conn, "COMMIT");
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			result_message(res, err, errlen);
			ok = false;
			free(*result);
			*result = NULL;
		}
		PQclear(res);
	}
	else
	{
		end_transaction(false);
		log_event("debug", "call_failed", "error", err, NULL);
	}
	return ok;
}

/*---- stdin ----*/

/*
 * Reads one line of at most MCP_MAX_LINE bytes into *buf.  Returns its
 * length, -1 at EOF, or -2 when the line was longer (it is skipped).
 */
static long
read_line(char **buf, size_t *cap)
{
	size_t		len = 0;
	bool		too_long = false;
	int			c;

	while ((c = getchar()) != EOF)
	{
		if (c == '\n')
			break;
		if (too_long)
			continue;
		if (len + 2 > *cap)
		{
			*cap = *cap ? *cap * 2 : 65536;
			*buf = realloc(*buf, *cap);
			if (*buf == NULL)
				abort();
		}
		(*buf)[len++] = (char) c;
		if (len > MCP_MAX_LINE)
			too_long = true;
	}
	if (c == EOF && len == 0 && !too_long)
		return -1;
	if (too_long)
		return -2;
	if (*buf == NULL)
	{
		*cap = 65536;
		*buf = malloc(*cap);
		if (*buf == NULL)
			abort();
	}
	(*buf)[len] = '\0';
	return (long) len;
}

static int
serve(void)
{
	McpServer	server;
	char	   *line = NULL;
	size_t		cap = 0;
	long		len;
	char		n1[32],
				n2[32];

	alfred_mcp_server_init(&server, run_call, NULL);
	while ((len = read_line(&line, &cap)) != -1)
	{
		char	   *out;

		if (len == -2)
			out = strdup("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"message too large\"}}");
		else
			out = alfred_mcp_handle_line(&server, line, (size_t) len);
		if (out != NULL)
		{
			bool		ok = fputs(out, stdout) >= 0 && putchar('\n') != EOF && fflush(stdout) == 0;

			free(out);
			if (!ok)
			{
				log_event("error", "stdout_closed", "error", strerror(errno), NULL);
				break;
			}
		}
	}
	free(line);
	snprintf(n1, sizeof(n1), "%ld", server.ncalls);
	snprintf(n2, sizeof(n2), "%ld", server.nerrors);
	log_event("info", "stopped", "tool_calls", n1, "tool_errors", n2, NULL);
	return 0;
}

/*---- configuration ----*/

/* --check: the configuration is valid and the identity works. */
static int
check(const char *source)
{
	char		err[MCP_ERRLEN];
	PGresult   *who = NULL;

	if (!ensure_connection(err, sizeof(err)))
		fatal("%s", err);
	if (!exec_step("BEGIN", 0, NULL, NULL, err, sizeof(err)) || !become_person(&who, err, sizeof(err)))
		fatal("%s: identity refused: %s", source, err);
	printf("configuration ok (%s): acting for %s (%s) as %s\n", source,
		   PQgetisnull(who, 0, 1) ? "?" : PQgetvalue(who, 0, 1), PQgetvalue(who, 0, 0),
		   cfg.token ? "the session token's user" : "a service role");
	PQclear(who);
	end_transaction(false);
	PQfinish(conn);
	return 0;
}

/*
 * --sql TOOL: the statements one call of TOOL runs, identity by token first,
 * one per line (for benchmarks and for reading what a tool does).
 */
static int
print_sql(const char *name)
{
	int			i,
				k;

	for (i = 0; i < alfred_mcp_ntools_; i++)
		if (strcmp(alfred_mcp_tools[i].name, name) == 0)
		{
			printf("BEGIN;\n%s;\n", identity_by_token);
			for (k = 0; k < alfred_mcp_tools[i].nsteps; k++)
				printf("%s;\n", alfred_mcp_tools[i].steps[k].sql);
			printf("COMMIT;\n");
			return 0;
		}
	fatal("unknown tool \"%s\"", name);
}

static void
usage(FILE *f)
{
	fprintf(f,
			"alfred-mcp is a Model Context Protocol server (stdio) for one person's alfred.\n\n"
			"Usage:\n"
			"  alfred-mcp [-c FILE] [-d CONNINFO] [--check]\n\n"
			"Options:\n"
			"  -c, --config=FILE     configuration file (conninfo, token or user_id, ...);\n"
			"                        without it the environment: ALFRED_CONNINFO, ALFRED_TOKEN,\n"
			"                        ALFRED_USER_ID\n"
			"  -d, --dbname=CONNINFO libpq connection string (overrides conninfo)\n"
			"      --check           check the configuration and the identity, then exit\n"
			"      --sql=TOOL        print the SQL statements of one call of TOOL and exit\n"
			"  -V, --version         print the version and exit\n"
			"  -h, --help            show this help and exit\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"dbname", required_argument, NULL, 'd'},
		{"check", no_argument, NULL, 'k'},
		{"sql", required_argument, NULL, 's'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *config_path = NULL;
	const char *conninfo = NULL;
	bool		check_only = false;
	char		err[MCP_ERRLEN + PATH_MAX];
	char		perr[MCP_ERRLEN];
	int			c;

	while ((c = getopt_long(argc, argv, "c:d:Vh", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'c':
				config_path = optarg;
				break;
			case 'd':
				conninfo = optarg;
				break;
			case 'k':
				check_only = true;
				break;
			case 's':
				return print_sql(optarg);
			case 'V':
				printf("alfred-mcp %s\n", MCP_PROGRAM_VERSION);
				return 0;
			case 'h':
				usage(stdout);
				return 0;
			default:
				usage(stderr);
				return 2;
		}
	}
	if (optind < argc)
		fatal("unexpected argument \"%s\"", argv[optind]);

	alfred_mcp_config_init(&cfg);
	if (config_path != NULL)
	{
		char	   *text = alfred_agent_read_file(config_path, err, sizeof(err));

		if (text == NULL)
			fatal("%s", err);
		if (alfred_mcp_config_parse(text, &cfg, perr, sizeof(perr)) != 0)
			fatal("invalid configuration file \"%s\": %s", config_path, perr);
		free(text);
	}
	else
		alfred_mcp_config_from_env(&cfg, getenv("ALFRED_CONNINFO"), getenv("ALFRED_TOKEN"),
								   getenv("ALFRED_USER_ID"), perr, sizeof(perr));
	if (conninfo != NULL)
		alfred_mcp_config_from_env(&cfg, conninfo, NULL, NULL, perr, sizeof(perr));
	if (alfred_mcp_config_check(&cfg, perr, sizeof(perr)) != 0)
	{
		if (config_path != NULL)
			fatal("invalid configuration file \"%s\": %s", config_path, perr);
		fatal("%s", perr);
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stderr, NULL, _IOLBF, 0);
	checking = check_only;
	if (check_only)
		return check(config_path ? config_path : "environment");
	log_event("info", "started", "version", MCP_PROGRAM_VERSION,
			  "identity", cfg.token ? "token" : "act_as", "user_id", cfg.user_id, NULL);
	c = serve();
	if (conn != NULL)
		PQfinish(conn);
	alfred_mcp_config_free(&cfg);
	return c;
}
