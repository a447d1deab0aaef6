/*-------------------------------------------------------------------------
 *
 * integrations.c
 *		The settings of alfred's integrations (MCP servers and watchers).
 *
 * alfred.mcp_silence_timeout is how long an MCP server may go without a
 * heartbeat; alfred.check_integrations() (migrations/0.2/800_integrations.sql)
 * reads it with current_setting when not given an interval.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "alfred.h"

/*---- GUC variables (read by SQL only) ----*/
static int	alfred_mcp_silence_timeout = 300000;

/* Called from _PG_init. */
void
alfred_integrations_init(void)
{
	DefineCustomIntVariable("alfred.mcp_silence_timeout",
							"How long an MCP server may go without a heartbeat before maintenance marks it as failed.",
							"alfred.check_integrations() (run by run_maintenance) uses it unless given an interval.",
							&alfred_mcp_silence_timeout,
							300000, 1000, PG_INT32_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
}
