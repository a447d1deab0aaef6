/*-------------------------------------------------------------------------
 *
 * proposal_sql.c
 *		SQL wrappers of the proposal core (src/core/proposal.c): the payload
 *		check, the edit distance and signal, and the transition table.
 *
 *	alfred.check_proposal_payload(action_type, payload, edited) → void
 *	alfred.proposal_edit_distance(proposed, edited) → float8
 *	alfred.proposal_edit_signal(distance) → text
 *	alfred.proposal_transition_allowed(from_status, to_status) → boolean
 *
 * The guard trigger that enforces the transitions is in proposal_guard.c.
 * This file includes jansson, so not utils/builtins.h (see json.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/jsonb.h"

#include "alfred.h"
#include "alfred_json.h"
#include "proposal.h"

/* A text argument as a palloc'd C string (text_to_cstring is in builtins.h). */
static char *
arg_cstring(text *t)
{
	return pnstrdup(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

static const char *
jsonb_kind(Jsonb *jb)
{
	if (JB_ROOT_IS_SCALAR(jb))
		return "scalar";
	return JB_ROOT_IS_ARRAY(jb) ? "array" : "object";
}

/*
 * Raises the 22023 error that describes err; "edited" names the payload an
 * approval edited.  Each message is written out whole, for translation.
 */
static void
report_payload_error(const char *action, bool edited, Jsonb *payload,
					 const AlfredPayloadError *err)
{
	switch (err->status)
	{
		case ALFRED_PAYLOAD_OK:
			return;
		case ALFRED_PAYLOAD_NOT_OBJECT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 edited ?
					 errmsg("edited payload of action \"%s\" must be a JSON object", action) :
					 errmsg("payload of action \"%s\" must be a JSON object", action),
					 errdetail("It is a JSON %s.", jsonb_kind(payload))));
			break;
		case ALFRED_PAYLOAD_TOO_DEEP:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 edited ?
					 errmsg("edited payload of action \"%s\" is nested too deeply", action) :
					 errmsg("payload of action \"%s\" is nested too deeply", action),
					 errdetail("A payload may nest at most %d levels.",
							   ALFRED_PAYLOAD_MAX_DEPTH)));
			break;
		case ALFRED_PAYLOAD_MISSING_KEY:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 edited ?
					 errmsg("edited payload of action \"%s\" is missing key \"%s\"", action, err->key) :
					 errmsg("payload of action \"%s\" is missing key \"%s\"", action, err->key),
					 errdetail("Key \"%s\" must be %s.", err->key, err->expected)));
			break;
		case ALFRED_PAYLOAD_WRONG_TYPE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 edited ?
					 errmsg("edited payload key \"%s\" of action \"%s\" is invalid", err->key, action) :
					 errmsg("payload key \"%s\" of action \"%s\" is invalid", err->key, action),
					 errdetail("It must be %s.", err->expected)));
			break;
		case ALFRED_PAYLOAD_UNKNOWN_KEY:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 edited ?
					 errmsg("edited payload key \"%s\" is not allowed for action \"%s\"", err->key, action) :
					 errmsg("payload key \"%s\" is not allowed for action \"%s\"", err->key, action),
					 errdetail("Allowed keys: %s.", err->allowed)));
			break;
	}
}

/*
 * alfred.check_proposal_payload(action_type text, payload jsonb,
 *								 edited boolean DEFAULT false) → void
 *
 * Raises 22023 naming the missing, unknown or invalid key when payload does
 * not fit action_type's shape; "edited" only changes the wording.
 */
PG_FUNCTION_INFO_V1(alfred_check_proposal_payload);
Datum
alfred_check_proposal_payload(PG_FUNCTION_ARGS)
{
	bool		edited = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	char	   *action;
	Jsonb	   *payload;
	json_t	   *tree;
	AlfredPayloadError err;

	alfred_require_arg(fcinfo, 0, "action_type");
	if (VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(0)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("action_type must not be empty")));
	action = arg_cstring(PG_GETARG_TEXT_PP(0));
	alfred_require_arg(fcinfo, 1, "payload");
	payload = PG_GETARG_JSONB_P(1);
	tree = alfred_jsonb_to_json(payload);
	if (!alfred_proposal_check_payload(action, tree, &err))
		report_payload_error(action, edited, payload, &err);
	json_decref(tree);
	PG_RETURN_VOID();
}

/* alfred.proposal_edit_distance(proposed jsonb, edited jsonb) → float8 */
PG_FUNCTION_INFO_V1(alfred_proposal_edit_distance_sql);
Datum
alfred_proposal_edit_distance_sql(PG_FUNCTION_ARGS)
{
	json_t	   *a = alfred_jsonb_to_json(PG_GETARG_JSONB_P(0));
	json_t	   *b = alfred_jsonb_to_json(PG_GETARG_JSONB_P(1));
	double		d = alfred_proposal_edit_distance(a, b);

	json_decref(a);
	json_decref(b);
	PG_RETURN_FLOAT8(d);
}

/* alfred.proposal_edit_signal(distance float8) → text */
PG_FUNCTION_INFO_V1(alfred_proposal_edit_signal_sql);
Datum
alfred_proposal_edit_signal_sql(PG_FUNCTION_ARGS)
{
	double		d = PG_GETARG_FLOAT8(0);
	const char *signal;
	size_t		len;
	text	   *result;

	if (isnan(d) || d < 0 || d > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("edit distance %g is out of range 0-1", d)));
	signal = alfred_proposal_edit_signal(d);
	len = strlen(signal);
	result = palloc(VARHDRSZ + len);
	SET_VARSIZE(result, VARHDRSZ + len);
	memcpy(VARDATA(result), signal, len);
	PG_RETURN_TEXT_P(result);
}

/* A status name argument as the core's number; 22023 when it is not one. */
static int
status_arg(text *t)
{
	char	   *name = arg_cstring(t);
	int			status = alfred_proposal_status_parse(name);

	if (status < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid proposal status \"%s\"", name),
				 errdetail("A status is one of pending, approved, rejected, expired, executing, executed, failed.")));
	return status;
}

/* alfred.proposal_transition_allowed(from_status text, to_status text) → boolean */
PG_FUNCTION_INFO_V1(alfred_proposal_transition_allowed_sql);
Datum
alfred_proposal_transition_allowed_sql(PG_FUNCTION_ARGS)
{
	int			from = status_arg(PG_GETARG_TEXT_PP(0));
	int			to = status_arg(PG_GETARG_TEXT_PP(1));

	PG_RETURN_BOOL(alfred_proposal_transition_allowed(from, to));
}
