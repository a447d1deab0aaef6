/*-------------------------------------------------------------------------
 *
 * template.h
 *		Prompt templates: `{{user.name}}`-style placeholders filled from a
 *		JSON context (pure C, no PostgreSQL; jansson json_t).
 *
 * Syntax
 *	{{ path }}		a dotted path into the context object; segments are
 *					letters, digits, '_' and '-'; a segment made of digits
 *					indexes an array.  Whitespace inside the braces is ignored.
 *	{{{ path }}}	the same (Mustache's "unescaped" form): alfred never
 *					escapes, because prompts are plain text, not HTML.
 *	\{{				a literal "{{" (the backslash is dropped); any other
 *					backslash is copied as is.
 * A string value is copied as is; any other value (number, boolean, null,
 * object, array) is written as compact JSON text with sorted keys (reals with
 * 15 significant digits, so 0.1 prints as 0.1; integers exactly up to 64 bits).  A path
 * that does not resolve is an error that names it, never an empty string.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_TEMPLATE_H
#define ALFRED_TEMPLATE_H

#include <stddef.h>
#include <jansson.h>

typedef enum alfred_template_status
{
	ALFRED_TEMPLATE_OK = 0,
	ALFRED_TEMPLATE_SYNTAX,			/* unterminated or malformed placeholder */
	ALFRED_TEMPLATE_MISSING,		/* a path does not resolve in the context */
	ALFRED_TEMPLATE_OUTPUT			/* the output sink failed (out of memory) */
} alfred_template_status;

/*
 * Output sink: called with consecutive pieces of the rendered text; returns
 * 0 on success, -1 to abort.  Same signature as jansson's
 * json_dump_callback_t, so JSON values stream straight into it.
 */
typedef int (*alfred_template_sink) (const char *buf, size_t len, void *arg);

/* Where and why rendering failed (filled when the status is not OK). */
typedef struct alfred_template_error
{
	size_t		offset;			/* byte offset of the placeholder */
	char		path[128];		/* the path that did not resolve (MISSING) */
	char		message[192];	/* one lower-case sentence without period */
} alfred_template_error;

extern alfred_template_status alfred_template_render(const char *tmpl, size_t len,
													 const json_t *context,
													 alfred_template_sink sink, void *arg,
													 alfred_template_error *err);

/* Convenience for callers outside a server: a malloc'd, NUL-terminated result. */
extern alfred_template_status alfred_template_render_alloc(const char *tmpl,
														   const json_t *context,
														   char **out,
														   alfred_template_error *err);

#endif							/* ALFRED_TEMPLATE_H */
