/*-------------------------------------------------------------------------
 *
 * mcp_catalog.h
 *		The tools, resources and prompt alfred-mcp offers (mcp_catalog.c):
 *		declarative tables read by the message layer (mcp_core.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_MCP_CATALOG_H
#define ALFRED_MCP_CATALOG_H

#include "mcp_core.h"

typedef enum McpArgType
{
	MCP_STRING,
	MCP_INT,
	MCP_NUMBER,
	MCP_BOOL,
	MCP_OBJECT,
	MCP_UUID,
	MCP_DATE,
	MCP_TIMESTAMP,
	MCP_ENUM,
	MCP_STRING_ARRAY,
	MCP_UUID_ARRAY
} McpArgType;

/* One argument of a tool; it becomes SQL parameter $(position + 1). */
typedef struct McpArg
{
	const char *name;
	McpArgType	type;
	bool		required;
	const char *description;
	const char *const *values;	/* MCP_ENUM: NULL-terminated */
	double		min;			/* MCP_INT, MCP_NUMBER: range, when min < max */
	double		max;
} McpArg;

typedef struct McpTool
{
	const char *name;
	const char *title;
	const char *description;
	const McpArg *args;
	int			nargs;
	const McpStep *steps;
	int			nsteps;
	bool		read_only;
} McpTool;

typedef struct McpResource
{
	const char *uri;
	const char *name;
	const char *title;
	const char *description;
	const McpStep *steps;
	int			nsteps;
} McpResource;

extern const McpTool alfred_mcp_tools[];
extern const int alfred_mcp_ntools_;
extern const McpResource alfred_mcp_resources[];
extern const int alfred_mcp_nresources;
extern const McpStep alfred_mcp_briefing_step;

#endif							/* ALFRED_MCP_CATALOG_H */
