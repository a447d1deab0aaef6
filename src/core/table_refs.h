/*-------------------------------------------------------------------------
 *
 * table_refs.h
 *		Finds the references to given tables in the text of a statement, so
 *		that the scheduler can run its statements against a Citus shard's
 *		local tables.  No PostgreSQL dependency.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_TABLE_REFS_H
#define ALFRED_TABLE_REFS_H

#include <stddef.h>

/*
 * The first reference at or after offset `from` of sql to one of the tables
 * "<schema>.<tables[i]>" (written exactly so, not inside a longer
 * identifier, and not after "::": a type in a cast is not a table).  Returns
 * its offset and sets *which to i and *len to its length; -1 when there is
 * none.  The statements given have no quoted identifiers or string literals
 * that name the tables.
 */
extern long alfred_next_table_ref(const char *sql, size_t from, const char *schema,
								  const char *const *tables, int ntables,
								  int *which, size_t *len);

#endif							/* ALFRED_TABLE_REFS_H */
