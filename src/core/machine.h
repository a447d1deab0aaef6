/*-------------------------------------------------------------------------
 *
 * machine.h
 *		Status machines as data: the statuses of a table and the moves
 *		between them (no PostgreSQL dependency).
 *
 * A status column (proposals.status, scheduled_tasks.status) changes only
 * along the transitions of its machine; the backend's guard trigger
 * (src/proposal_guard.c) asks alfred_machine_allowed() before any status
 * change.  The machines themselves live with their domain: the proposal
 * machine in proposal.c, the scheduled task machine in machine.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_MACHINE_H
#define ALFRED_MACHINE_H

#include <stdbool.h>
#include <stddef.h>

#define ALFRED_MACHINE_MAX_STATUS 16

typedef struct AlfredMachine
{
	const char *noun;			/* "proposal", "scheduled task" */
	int			n_status;
	const char *const *names;	/* n_status names */
	/* allowed[from] has bit "to" set when the machine may move from -> to */
	unsigned	allowed[ALFRED_MACHINE_MAX_STATUS];
} AlfredMachine;

/* The status's name; NULL for a value out of range. */
extern const char *alfred_machine_status_name(const AlfredMachine *m, int status);

/* Parses a status name; -1 when it is not one of the machine's. */
extern int	alfred_machine_status_parse(const AlfredMachine *m, const char *name);

/* Whether the machine may move from one status to another (not to itself). */
extern bool alfred_machine_allowed(const AlfredMachine *m, int from, int to);

/* Writes the statuses reachable from "from" as "a, b" (or "none") into buf. */
extern void alfred_machine_next_statuses(const AlfredMachine *m, int from, char *buf, size_t len);

/* Writes every status name as "a, b, c" into buf (for error details). */
extern void alfred_machine_all_statuses(const AlfredMachine *m, char *buf, size_t len);

/*---- The scheduled task machine ----*/

typedef enum AlfredScheduleStatus
{
	ALFRED_SCHEDULE_ACTIVE = 0,
	ALFRED_SCHEDULE_PAUSED,
	ALFRED_SCHEDULE_CANCELLED,
	ALFRED_SCHEDULE_COMPLETED
} AlfredScheduleStatus;

/*
 *	active -> paused | cancelled | completed
 *	paused -> active | cancelled
 *
 * cancelled and completed are final.
 */
extern const AlfredMachine alfred_schedule_machine;

#endif							/* ALFRED_MACHINE_H */
