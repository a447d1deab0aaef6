/*-------------------------------------------------------------------------
 *
 * table_refs.c
 *		Finds the references to given tables in a statement's text.  On a
 *		Citus cluster the scheduler runs its tick's statements against the
 *		local shards of one shard index: it replaces each table the
 *		statements name ("alfred.task_runs") with its shard's name
 *		("alfred.task_runs_102044").  A reference is the schema-qualified
 *		name with no identifier character on either side; after "::" it is a
 *		type (ROW(t.*)::alfred.scheduled_tasks) and stays.
 *
 *-------------------------------------------------------------------------
 */
#include "table_refs.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

static bool
ident_char(char c)
{
	return isalnum((unsigned char) c) || c == '_' || c == '$';
}

long
alfred_next_table_ref(const char *sql, size_t from, const char *schema,
					  const char *const *tables, int ntables, int *which, size_t *len)
{
	size_t		slen = strlen(schema);
	size_t		n = strlen(sql);

	for (size_t p = from; p + slen + 1 < n; p++)
	{
		if (strncmp(sql + p, schema, slen) != 0 || sql[p + slen] != '.')
			continue;
		if (p > 0 && (ident_char(sql[p - 1]) || sql[p - 1] == '.'))
			continue;
		if (p >= 2 && sql[p - 1] == ':' && sql[p - 2] == ':')
			continue;
		for (int i = 0; i < ntables; i++)
		{
			size_t		tlen = strlen(tables[i]);
			size_t		end = p + slen + 1 + tlen;

			if (end <= n && strncmp(sql + p + slen + 1, tables[i], tlen) == 0 &&
				!ident_char(sql[end]))
			{
				*which = i;
				*len = end - p;
				return (long) p;
			}
		}
	}
	return -1;
}
