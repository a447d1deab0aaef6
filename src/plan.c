/*-------------------------------------------------------------------------
 *
 * plan.c
 *		Statements prepared once per backend and kept for its life.
 *
 * A statement that a backend runs again and again (the scheduler's
 * claims and batch record, identity's lookups, suggestion_score's query)
 * is parsed and analysed once, on first use, and kept with SPI_keepplan;
 * the plan cache replans it when the objects it uses change.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"

#include "plan.h"

/*
 * The statement cached in *cache, prepared from sql (nargs parameters of
 * argtypes, cursor_options as for SPI_prepare_cursor: 0, or for example
 * CURSOR_OPT_CUSTOM_PLAN to plan it at each execution) and kept on first
 * use.  The caller is connected to SPI; *cache is a static of its file.
 */
SPIPlanPtr
alfred_plan_get(SPIPlanPtr *cache, const char *sql, int nargs, Oid *argtypes,
				int cursor_options)
{
	if (*cache == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes, cursor_options);

		if (plan == NULL)
			elog(ERROR, "could not prepare statement: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep a prepared statement");
		*cache = plan;
	}
	return *cache;
}
