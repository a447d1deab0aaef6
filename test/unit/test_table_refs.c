/*
 * test_table_refs.c
 *		Unit tests of src/core/table_refs.c: the table references the
 *		scheduler renames to a Citus shard's tables, and what it leaves
 *		(longer names, other schemas, casts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table_refs.h"
#include "tap.h"

static const char *const tables[] = {"scheduled_tasks", "task_runs", "users", "user_settings", "tools"};

/* sql with every reference replaced by "<table>_7" (static buffer). */
static const char *
renamed(const char *sql)
{
	static char out[1024];
	size_t		o = 0;
	size_t		from = 0;
	long		at;
	int			which;
	size_t		len;

	while ((at = alfred_next_table_ref(sql, from, "alfred", tables, 5, &which, &len)) >= 0)
	{
		memcpy(out + o, sql + from, (size_t) at - from);
		o += (size_t) at - from;
		o += (size_t) sprintf(out + o, "alfred.%s_7", tables[which]);
		from = (size_t) at + len;
	}
	strcpy(out + o, sql + from);
	return out;
}

int
main(void)
{
	int			which = -1;
	size_t		len = 0;

	is_int((int) alfred_next_table_ref("SELECT 1", 0, "alfred", tables, 5, &which, &len), -1,
		   "no reference: -1");
	is_int((int) alfred_next_table_ref("FROM alfred.users u", 0, "alfred", tables, 5, &which, &len), 5,
		   "a reference's offset");
	is_int(which, 2, "which table");
	is_int((int) len, 12, "and its length");

	is_str(renamed("SELECT * FROM alfred.users u JOIN alfred.user_settings s ON s.user_id = u.id"),
		   "SELECT * FROM alfred.users_7 u JOIN alfred.user_settings_7 s ON s.user_id = u.id",
		   "a table whose name starts another's: each its own");
	is_str(renamed("alfred.tools tl WHERE alfred.tool_policy_error(t.tool_name) IS NULL"),
		   "alfred.tools_7 tl WHERE alfred.tool_policy_error(t.tool_name) IS NULL",
		   "a function whose name starts like a table's stays");
	is_str(renamed("alfred.task_prompt_context(ROW(t.*)::alfred.scheduled_tasks) FROM alfred.scheduled_tasks t"),
		   "alfred.task_prompt_context(ROW(t.*)::alfred.scheduled_tasks) FROM alfred.scheduled_tasks_7 t",
		   "a type in a cast stays, the table is renamed");
	is_str(renamed("FROM myalfred.users, other.alfred.users, alfred.users2, alfred.users$x"),
		   "FROM myalfred.users, other.alfred.users, alfred.users2, alfred.users$x",
		   "longer identifiers on either side stay");
	is_str(renamed("INSERT INTO alfred.task_runs AS tr (id) SELECT 1\nFROM alfred.task_runs,alfred.tools"),
		   "INSERT INTO alfred.task_runs_7 AS tr (id) SELECT 1\nFROM alfred.task_runs_7,alfred.tools_7",
		   "references next to punctuation and line ends");
	is_str(renamed("alfred.users"), "alfred.users_7", "a reference that is the whole text");
	is_str(renamed("x alfred."), "x alfred.", "a schema with nothing after it");
	is_int((int) alfred_next_table_ref("alfred.users alfred.tools", 1, "alfred", tables, 5, &which, &len), 13,
		   "the search starts at from");
	return done_testing();
}
