/*-------------------------------------------------------------------------
 *
 * machine.c
 *		Status machines as data (see machine.h), and the machine of
 *		scheduled tasks.
 *
 * Pure C: the backend's guard trigger and the proposal core use these;
 * test/unit/test_machine.c exercises them directly.
 *
 *-------------------------------------------------------------------------
 */
#include "machine.h"

#include <stdio.h>
#include <string.h>

const char *
alfred_machine_status_name(const AlfredMachine *m, int status)
{
	if (status < 0 || status >= m->n_status)
		return NULL;
	return m->names[status];
}

int
alfred_machine_status_parse(const AlfredMachine *m, const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < m->n_status; i++)
		if (strcmp(name, m->names[i]) == 0)
			return i;
	return -1;
}

bool
alfred_machine_allowed(const AlfredMachine *m, int from, int to)
{
	if (from < 0 || from >= m->n_status || to < 0 || to >= m->n_status)
		return false;
	return (m->allowed[from] >> to) & 1u;
}

/* Appends the names of the statuses in the bit set to buf, whole names only. */
static void
list_statuses(const AlfredMachine *m, unsigned set, char *buf, size_t len)
{
	size_t		used = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (int s = 0; s < m->n_status; s++)
	{
		int			n;

		if (!((set >> s) & 1u))
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", m->names[s]);
		if (n < 0 || (size_t) n >= len - used)
		{
			buf[used] = '\0';
			return;
		}
		used += n;
	}
	if (used == 0)
		snprintf(buf, len, "none");
}

void
alfred_machine_next_statuses(const AlfredMachine *m, int from, char *buf, size_t len)
{
	list_statuses(m, (from < 0 || from >= m->n_status) ? 0 : m->allowed[from], buf, len);
}

void
alfred_machine_all_statuses(const AlfredMachine *m, char *buf, size_t len)
{
	list_statuses(m, (1u << m->n_status) - 1, buf, len);
}

/*---- Scheduled tasks ----*/

static const char *const schedule_names[] = {"active", "paused", "cancelled", "completed"};

#define S(x) (1u << ALFRED_SCHEDULE_##x)

const AlfredMachine alfred_schedule_machine = {
	.noun = "scheduled task",
	.n_status = 4,
	.names = schedule_names,
	.allowed = {
		[ALFRED_SCHEDULE_ACTIVE] = S(PAUSED) | S(CANCELLED) | S(COMPLETED),
		[ALFRED_SCHEDULE_PAUSED] = S(ACTIVE) | S(CANCELLED),
	},
};

#undef S
