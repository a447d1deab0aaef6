/*
 * test_machine.c
 *		Unit tests of src/core/machine.c: the generic status machine (names,
 *		parsing, transitions, the lists in error details) and the scheduled
 *		task machine, every pair of statuses.
 */
#include "machine.h"
#include "tap.h"

static void
test_schedule_machine(void)
{
	const AlfredMachine *m = &alfred_schedule_machine;
	static const char *const legal[] = {
		"active>paused", "active>cancelled", "active>completed",
		"paused>active", "paused>cancelled"
	};
	int			n_legal = 0;
	int			wrong = 0;

	is_int(m->n_status, 4, "a scheduled task has four statuses");
	for (int from = 0; from < m->n_status; from++)
		for (int to = 0; to < m->n_status; to++)
		{
			char		pair[64];
			bool		want = false;

			snprintf(pair, sizeof(pair), "%s>%s", alfred_machine_status_name(m, from),
					 alfred_machine_status_name(m, to));
			for (size_t i = 0; i < sizeof(legal) / sizeof(legal[0]); i++)
				want = want || strcmp(pair, legal[i]) == 0;
			n_legal += alfred_machine_allowed(m, from, to);
			if (want != alfred_machine_allowed(m, from, to))
			{
				printf("# %s: got %d\n", pair, alfred_machine_allowed(m, from, to));
				wrong++;
			}
		}
	is_int(wrong, 0, "every pair of statuses is allowed exactly as the table says");
	is_int(n_legal, 5, "five moves in all");
	ok(!alfred_machine_allowed(m, ALFRED_SCHEDULE_CANCELLED, ALFRED_SCHEDULE_ACTIVE),
	   "a cancelled task cannot become active again");
	ok(!alfred_machine_allowed(m, ALFRED_SCHEDULE_ACTIVE, ALFRED_SCHEDULE_ACTIVE),
	   "staying in a status is not a transition");
}

static void
test_generic(void)
{
	const AlfredMachine *m = &alfred_schedule_machine;
	char		buf[64];

	is_int(alfred_machine_status_parse(m, "paused"), ALFRED_SCHEDULE_PAUSED, "parse a status");
	is_int(alfred_machine_status_parse(m, "sleeping"), -1, "an unknown status is -1");
	is_int(alfred_machine_status_parse(m, NULL), -1, "NULL is -1");
	ok(alfred_machine_status_name(m, 4) == NULL && alfred_machine_status_name(m, -1) == NULL,
	   "no name out of range");
	ok(!alfred_machine_allowed(m, -1, 0) && !alfred_machine_allowed(m, 0, 99),
	   "out-of-range statuses are never allowed");

	alfred_machine_next_statuses(m, ALFRED_SCHEDULE_ACTIVE, buf, sizeof(buf));
	is_str(buf, "paused, cancelled, completed", "the moves from active, for error details");
	alfred_machine_next_statuses(m, ALFRED_SCHEDULE_COMPLETED, buf, sizeof(buf));
	is_str(buf, "none", "a final status lists none");
	alfred_machine_all_statuses(m, buf, sizeof(buf));
	is_str(buf, "active, paused, cancelled, completed", "every status");
	alfred_machine_next_statuses(m, ALFRED_SCHEDULE_ACTIVE, buf, 15);
	is_str(buf, "paused", "a short buffer keeps whole names only");
}

int
main(void)
{
	test_schedule_machine();
	test_generic();
	return done_testing();
}
