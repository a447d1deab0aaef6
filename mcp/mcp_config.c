/*-------------------------------------------------------------------------
 *
 * mcp_config.c
 *		alfred-mcp's configuration: a file in alfred-agent's syntax
 *
 *		# comment
 *		conninfo = dbname=alfred host=/var/run/postgresql
 *		token = 3f5c...            (a session token from alfred.login)
 *		user_id = 8d1e...          (or: act for this user, as an alfred_service role)
 *		statement_timeout = 30s
 *		log_level = info
 *
 *		or, without a file, the environment: ALFRED_CONNINFO, ALFRED_TOKEN,
 *		ALFRED_USER_ID (how desktop MCP clients pass settings).  Exactly one
 *		identity, token or user_id, is required.  Errors name the line and
 *		the value.
 *
 *-------------------------------------------------------------------------
 */
#include "mcp_core.h"
#include "../agent/agent_core.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define set_err alfred_mcp_errf
#define xstrdup alfred_mcp_strdup

void
alfred_mcp_config_init(McpConfig *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->statement_timeout_ms = 30000;
}

void
alfred_mcp_config_free(McpConfig *cfg)
{
	free(cfg->conninfo);
	free(cfg->token);
	free(cfg->user_id);
	alfred_mcp_config_init(cfg);
}

static void
replace(char **dst, const char *value)
{
	free(*dst);
	*dst = xstrdup(value);
}

static int
set_option(McpConfig *cfg, const char *key, const char *value, int lineno,
		   char *err, size_t errlen)
{
	if (strcmp(key, "conninfo") == 0)
		replace(&cfg->conninfo, value);
	else if (strcmp(key, "token") == 0)
		replace(&cfg->token, value);
	else if (strcmp(key, "user_id") == 0)
		replace(&cfg->user_id, value);
	else if (strcmp(key, "statement_timeout") == 0)
	{
		if (alfred_agent_parse_duration(value, &cfg->statement_timeout_ms) != 0)
		{
			set_err(err, errlen, "line %d: invalid duration \"%s\" for \"statement_timeout\"", lineno, value);
			return -1;
		}
	}
	else if (strcmp(key, "log_level") == 0)
	{
		if (strcmp(value, "info") != 0 && strcmp(value, "debug") != 0)
		{
			set_err(err, errlen, "line %d: invalid log_level \"%s\" (info or debug)", lineno, value);
			return -1;
		}
		cfg->debug = strcmp(value, "debug") == 0;
	}
	else
	{
		set_err(err, errlen, "line %d: unknown setting \"%s\"", lineno, key);
		return -1;
	}
	return 0;
}

int
alfred_mcp_config_parse(const char *text, McpConfig *cfg, char *err, size_t errlen)
{
	const char *p = text;
	int			lineno = 0;

	while (*p)
	{
		const char *eol = strchr(p, '\n');
		size_t		len = eol ? (size_t) (eol - p) : strlen(p);
		char	   *line = malloc(len + 1);
		char	   *s,
				   *eq,
				   *end;
		int			rc = 0;

		if (line == NULL)
			abort();
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (eol ? 1 : 0);
		lineno++;
		for (s = line; isspace((unsigned char) *s); s++)
			;
		end = s + strlen(s);
		while (end > s && isspace((unsigned char) end[-1]))
			*--end = '\0';
		if (*s == '\0' || *s == '#')
		{
			free(line);
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL)
		{
			set_err(err, errlen, "line %d: expected \"key = value\", got \"%s\"", lineno, s);
			free(line);
			return -1;
		}
		end = eq;
		while (end > s && isspace((unsigned char) end[-1]))
			end--;
		*end = '\0';
		for (eq++; isspace((unsigned char) *eq); eq++)
			;
		rc = set_option(cfg, s, eq, lineno, err, errlen);
		free(line);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int
alfred_mcp_config_from_env(McpConfig *cfg, const char *conninfo, const char *token,
						   const char *user_id, char *err, size_t errlen)
{
	(void) err;
	(void) errlen;
	if (conninfo && *conninfo)
		replace(&cfg->conninfo, conninfo);
	if (token && *token)
		replace(&cfg->token, token);
	if (user_id && *user_id)
		replace(&cfg->user_id, user_id);
	return 0;
}

/* The configuration is usable: exactly one identity, and a well-formed one. */
int
alfred_mcp_config_check(const McpConfig *cfg, char *err, size_t errlen)
{
	if (cfg->token && cfg->user_id)
	{
		set_err(err, errlen, "both a token and a user_id are set: give one identity");
		return -1;
	}
	if (!cfg->token && !cfg->user_id)
	{
		set_err(err, errlen, "no identity: set a session token (token, ALFRED_TOKEN) or, for a service role, a user (user_id, ALFRED_USER_ID)");
		return -1;
	}
	if (cfg->user_id && !alfred_mcp_valid_uuid(cfg->user_id))
	{
		set_err(err, errlen, "user_id \"%s\" is not a UUID", cfg->user_id);
		return -1;
	}
	if (cfg->token && strlen(cfg->token) > 1024)
	{
		set_err(err, errlen, "token is too long (%zu characters)", strlen(cfg->token));
		return -1;
	}
	return 0;
}
