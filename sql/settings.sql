-- Each domain defines its own settings in its own init (worker, scheduler,
-- scheduler limits, identity, quota, integrations); _PG_init calls the inits
-- and reserves the "alfred" prefix once, at the end.  A value set before the
-- library is loaded (here in this session, before the first call of an
-- alfred C function when alfred is not preloaded) is therefore kept for the
-- settings of every domain, and an unknown alfred.* name is refused.
SET alfred.tool_timeout = '3s';			-- scheduler.c
SET alfred.max_tool_args = '100B';		-- scheduler_guard.c
SET alfred.password_cost = 5;			-- identity.c
SET alfred.ai_daily_limit = 7;			-- quota_sql.c
SET alfred.mcp_silence_timeout = '2min';	-- integrations.c
SELECT alfred.cron_valid('* * * * *') AS loaded;
SELECT name, setting, unit, context FROM pg_settings
 WHERE name LIKE 'alfred.%' AND context <> 'postmaster' ORDER BY name;
SELECT alfred.ai_daily_limit();
SET alfred.no_such_setting = 1;
RESET alfred.tool_timeout;
RESET alfred.max_tool_args;
RESET alfred.password_cost;
RESET alfred.ai_daily_limit;
RESET alfred.mcp_silence_timeout;
