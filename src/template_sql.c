/*-------------------------------------------------------------------------
 *
 * template_sql.c
 *		SQL wrapper of the prompt template renderer:
 *		alfred.render_template(template text, context jsonb) → text.
 *
 * The context jsonb is converted to a jansson tree directly (json.c) and
 * the renderer streams into a StringInfo; a status code from the core
 * becomes an ereport here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#include "alfred.h"
#include "alfred_json.h"
#include "template.h"

static int
append_to_stringinfo(const char *buf, size_t len, void *arg)
{
	appendBinaryStringInfo((StringInfo) arg, buf, (int) len);
	return 0;
}

/*
 * Renders tmpl with the context.  Returns the text (palloc'd in the current
 * context), or NULL with *message and *detail set to what the error of
 * alfred.render_template would say: the scheduler records that as the run's
 * error without catching anything.
 */
char *
alfred_try_render_template(const char *tmpl, size_t len, Jsonb *context,
						   char **message, char **detail)
{
	json_t	   *ctx = alfred_jsonb_to_json(context);
	StringInfoData out;
	alfred_template_error err;
	alfred_template_status status;

	initStringInfo(&out);
	status = alfred_template_render(tmpl, len, ctx, append_to_stringinfo, &out, &err);
	json_decref(ctx);
	if (status == ALFRED_TEMPLATE_OK)
		return out.data;
	pfree(out.data);
	if (status == ALFRED_TEMPLATE_MISSING)
	{
		*message = psprintf("template key \"%s\" is missing from the context", err.path);
		*detail = psprintf("The placeholder at offset %zu does not resolve.", err.offset);
	}
	else
	{
		*message = pstrdup("invalid template");
		*detail = psprintf("The template has an %s.", err.message);
	}
	return NULL;
}

/* Renders tmpl with the context; raises 22023 on a missing key or a malformed placeholder. */
static char *
render_template(const char *tmpl, size_t len, Jsonb *context)
{
	char	   *message;
	char	   *detail;
	char	   *rendered = alfred_try_render_template(tmpl, len, context, &message, &detail);

	if (rendered == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", message),
				 errdetail("%s", detail)));
	return rendered;
}

PG_FUNCTION_INFO_V1(alfred_render_template_sql);
Datum
alfred_render_template_sql(PG_FUNCTION_ARGS)
{
	text	   *tmpl = PG_GETARG_TEXT_PP(0);
	Jsonb	   *context = PG_GETARG_JSONB_P(1);
	char	   *rendered = render_template(VARDATA_ANY(tmpl),
												  VARSIZE_ANY_EXHDR(tmpl), context);
	size_t		len = strlen(rendered);
	text	   *result = palloc(VARHDRSZ + len);

	/* cstring_to_text lives in utils/builtins.h, which clashes with jansson */
	SET_VARSIZE(result, VARHDRSZ + len);
	memcpy(VARDATA(result), rendered, len);
	PG_RETURN_TEXT_P(result);
}
