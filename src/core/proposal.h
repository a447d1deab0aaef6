/*-------------------------------------------------------------------------
 *
 * proposal.h
 *		The proposal state machine, payload checks and edit distance: the
 *		pure logic behind alfred.proposals (no PostgreSQL dependency).
 *
 * A proposal is an action an agent wants to take on the user's behalf.  Its
 * status moves only along the transitions of the table in proposal.c; the
 * backend's guard trigger asks alfred_proposal_transition_allowed() before
 * any status change.  Payloads are checked per action type
 * (alfred_proposal_check_payload) and a human's edit of a payload is
 * measured by alfred_proposal_edit_distance().
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_PROPOSAL_H
#define ALFRED_PROPOSAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "machine.h"

/*---- Statuses and transitions ----*/

typedef enum AlfredProposalStatus
{
	ALFRED_PROPOSAL_PENDING = 0,
	ALFRED_PROPOSAL_APPROVED,
	ALFRED_PROPOSAL_REJECTED,
	ALFRED_PROPOSAL_EXPIRED,
	ALFRED_PROPOSAL_EXECUTING,
	ALFRED_PROPOSAL_EXECUTED,
	ALFRED_PROPOSAL_FAILED
} AlfredProposalStatus;

#define ALFRED_PROPOSAL_N_STATUS 7

/* The machine, for the guard trigger (machine.h). */
extern const AlfredMachine alfred_proposal_machine;

/* The status's name ("pending" ...); NULL for a value out of range. */
extern const char *alfred_proposal_status_name(int status);

/* Parse a status name; returns -1 when the name is not a status. */
extern int	alfred_proposal_status_parse(const char *name);

/* Whether the machine may move a proposal from one status to another. */
extern bool alfred_proposal_transition_allowed(int from, int to);

/*
 * Writes the statuses reachable from "from" as "a, b" into buf (or "none");
 * for error details.
 */
extern void alfred_proposal_next_statuses(int from, char *buf, size_t len);

/*---- Payload checks ----*/

typedef enum AlfredPayloadStatus
{
	ALFRED_PAYLOAD_OK = 0,
	ALFRED_PAYLOAD_NOT_OBJECT,	/* the payload (or a nested one) is not an object */
	ALFRED_PAYLOAD_MISSING_KEY, /* a required key is absent */
	ALFRED_PAYLOAD_WRONG_TYPE,	/* a key's value has the wrong type or form */
	ALFRED_PAYLOAD_UNKNOWN_KEY, /* a key the action type does not know */
	ALFRED_PAYLOAD_TOO_DEEP		/* nested deeper than ALFRED_PAYLOAD_MAX_DEPTH */
} AlfredPayloadStatus;

#define ALFRED_PAYLOAD_MAX_DEPTH 32

typedef struct AlfredPayloadError
{
	AlfredPayloadStatus status;
	char		key[128];		/* the offending key, dotted path ("filters.limit") */
	const char *expected;		/* what the value must be ("a non-empty string") */
	const char *allowed;		/* the allowed keys, for UNKNOWN_KEY */
} AlfredPayloadError;

/*
 * Whether the action type is one of the task actions that alfred executes
 * itself (create, update, complete, delete, query).
 */
extern bool alfred_proposal_is_task_action(const char *action_type);

/*
 * Whether the action type has a payload shape that alfred checks (the task
 * actions, the e-mail draft and the calendar event actions).  Other action types
 * accept any object.
 */
extern bool alfred_proposal_is_known_action(const char *action_type);

/*
 * Checks payload against the shape of action_type.  Returns true when it
 * conforms; otherwise false with err filled in.
 */
extern bool alfred_proposal_check_payload(const char *action_type,
										  const json_t *payload,
										  AlfredPayloadError *err);

/*---- Edit distance ----*/

/*
 * A distance at or above this is an edited_heavily signal; above zero and
 * below it, edited_lightly; zero, approved (nothing changed).
 */
#define ALFRED_PROPOSAL_HEAVY_EDIT 0.25

/*
 * Normalized edit distance between two JSON values, in [0, 1]: 0 when they
 * are equal (numbers by value, objects regardless of key order), 1 when
 * nothing of one survives in the other.  Definition in proposal.c.
 */
extern double alfred_proposal_edit_distance(const json_t *a, const json_t *b);

/* The signal for an approval with the given edit distance. */
extern const char *alfred_proposal_edit_signal(double distance);

#endif							/* ALFRED_PROPOSAL_H */
