/*-------------------------------------------------------------------------
 *
 * plan.h
 *		Statements prepared once per backend and kept for its life.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_PLAN_H
#define ALFRED_PLAN_H

#include "executor/spi.h"

extern SPIPlanPtr alfred_plan_get(SPIPlanPtr *cache, const char *sql, int nargs,
								  Oid *argtypes, int cursor_options);

#endif							/* ALFRED_PLAN_H */
