/*-------------------------------------------------------------------------
 *
 * template.c
 *		Renders prompt templates with `{{path}}` placeholders from a jansson
 *		context object (syntax in template.h).
 *
 * One pass over the template: literal text goes to the sink in runs, each
 * placeholder is parsed, its path resolved segment by segment, and the value
 * written (strings raw, everything else as JSON).  Nothing is allocated
 * except by jansson when it encodes a non-string value.
 *
 *-------------------------------------------------------------------------
 */
#include "template.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

static alfred_template_status
fail(alfred_template_error *err, alfred_template_status status, size_t offset,
	 const char *fmt,...)
	__attribute__((format(printf, 4, 5)));

static alfred_template_status
fail(alfred_template_error *err, alfred_template_status status, size_t offset,
	 const char *fmt,...)
{
	va_list		ap;

	if (err)
	{
		err->offset = offset;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return status;
}

static int
is_path_char(char c)
{
	return isalnum((unsigned char) c) || c == '_' || c == '-';
}

/* Parses a decimal array index; -1 when the segment is not all digits. */
static long
segment_index(const char *seg, size_t len)
{
	long		n = 0;

	if (len == 0 || len > 9)
		return -1;
	for (size_t i = 0; i < len; i++)
	{
		if (!isdigit((unsigned char) seg[i]))
			return -1;
		n = n * 10 + (seg[i] - '0');
	}
	return n;
}

/* Looks up one segment in an object (by key) or an array (by index). */
static json_t *
lookup_segment(const json_t *node, const char *seg, size_t len)
{
	if (json_is_object(node))
		return json_object_getn(node, seg, len);
	if (json_is_array(node))
	{
		long		i = segment_index(seg, len);

		return i < 0 ? NULL : json_array_get(node, (size_t) i);
	}
	return NULL;
}

/*
 * Resolves the dotted path path[0..len) in the context.  The path has been
 * checked for syntax already.
 */
static const json_t *
resolve(const json_t *context, const char *path, size_t len)
{
	const json_t *node = context;
	size_t		start = 0;

	while (node && start <= len)
	{
		size_t		end = start;

		while (end < len && path[end] != '.')
			end++;
		node = lookup_segment(node, path + start, end - start);
		start = end + 1;
	}
	return node;
}

/* Checks path syntax: segments of path characters separated by single dots. */
static int
valid_path(const char *path, size_t len)
{
	int			seg_len = 0;

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
	{
		if (path[i] == '.')
		{
			if (seg_len == 0)
				return 0;
			seg_len = 0;
		}
		else if (is_path_char(path[i]))
			seg_len++;
		else
			return 0;
	}
	return seg_len > 0;
}

static alfred_template_status
emit_value(const json_t *value, alfred_template_sink sink, void *arg)
{
	int			rc;

	if (json_is_string(value))
		rc = sink(json_string_value(value), json_string_length(value), arg);
	else
		rc = json_dump_callback(value, sink, arg, JSON_FLAGS);
	return rc == 0 ? ALFRED_TEMPLATE_OK : ALFRED_TEMPLATE_OUTPUT;
}

/*
 * Renders the placeholder that starts at tmpl[*pos] ("{{"), advancing *pos
 * past its closing braces.
 */
static alfred_template_status
render_placeholder(const char *tmpl, size_t len, size_t *pos,
				   const json_t *context, alfred_template_sink sink, void *arg,
				   alfred_template_error *err)
{
	size_t		start = *pos;
	size_t		i = start + 2;
	int			triple = (i < len && tmpl[i] == '{');
	size_t		path_start,
				path_end;
	const json_t *value;

	if (triple)
		i++;
	while (i < len && isspace((unsigned char) tmpl[i]))
		i++;
	path_start = i;
	while (i < len && tmpl[i] != '}')
		i++;
	if (i + 1 >= len || tmpl[i + 1] != '}' || (triple && (i + 2 >= len || tmpl[i + 2] != '}')))
		return fail(err, ALFRED_TEMPLATE_SYNTAX, start,
					"unterminated placeholder at offset %zu", start);
	path_end = i;
	while (path_end > path_start && isspace((unsigned char) tmpl[path_end - 1]))
		path_end--;
	if (!valid_path(tmpl + path_start, path_end - path_start))
		return fail(err, ALFRED_TEMPLATE_SYNTAX, start,
					"invalid placeholder path \"%.*s\" at offset %zu",
					(int) (path_end - path_start > 100 ? 100 : path_end - path_start),
					tmpl + path_start, start);
	*pos = i + (triple ? 3 : 2);

	value = resolve(context, tmpl + path_start, path_end - path_start);
	if (value == NULL)
	{
		if (err)
			snprintf(err->path, sizeof(err->path), "%.*s",
					 (int) (path_end - path_start), tmpl + path_start);
		return fail(err, ALFRED_TEMPLATE_MISSING, start,
					"missing key \"%.*s\" at offset %zu",
					(int) (path_end - path_start > 100 ? 100 : path_end - path_start),
					tmpl + path_start, start);
	}
	return emit_value(value, sink, arg);
}

alfred_template_status
alfred_template_render(const char *tmpl, size_t len, const json_t *context,
					   alfred_template_sink sink, void *arg,
					   alfred_template_error *err)
{
	size_t		pos = 0;
	size_t		lit = 0;		/* start of the pending literal run */

	if (err)
		memset(err, 0, sizeof(*err));
	while (pos < len)
	{
		int			escaped = (tmpl[pos] == '\\' && pos + 2 < len &&
							   tmpl[pos + 1] == '{' && tmpl[pos + 2] == '{');
		int			open = (tmpl[pos] == '{' && pos + 1 < len && tmpl[pos + 1] == '{');
		alfred_template_status status;

		if (!escaped && !open)
		{
			pos++;
			continue;
		}
		if (pos > lit && sink(tmpl + lit, pos - lit, arg) != 0)
			return ALFRED_TEMPLATE_OUTPUT;
		if (escaped)
		{
			if (sink("{{", 2, arg) != 0)
				return ALFRED_TEMPLATE_OUTPUT;
			pos += 3;
		}
		else
		{
			status = render_placeholder(tmpl, len, &pos, context, sink, arg, err);
			if (status != ALFRED_TEMPLATE_OK)
				return status;
		}
		lit = pos;
	}
	if (pos > lit && sink(tmpl + lit, pos - lit, arg) != 0)
		return ALFRED_TEMPLATE_OUTPUT;
	return ALFRED_TEMPLATE_OK;
}

/*---- malloc'd output for callers outside a server ----*/

typedef struct buffer
{
	char	   *data;
	size_t		len;
	size_t		cap;
} buffer;

static int
buffer_append(const char *buf, size_t len, void *arg)
{
	buffer	   *b = arg;

	if (b->len + len + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 64;
		char	   *data;

		while (cap < b->len + len + 1)
			cap *= 2;
		data = realloc(b->data, cap);
		if (data == NULL)
			return -1;
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->len, buf, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

alfred_template_status
alfred_template_render_alloc(const char *tmpl, const json_t *context,
							 char **out, alfred_template_error *err)
{
	buffer		b = {NULL, 0, 0};
	alfred_template_status status;

	*out = NULL;
	status = alfred_template_render(tmpl, strlen(tmpl), context,
									buffer_append, &b, err);
	if (status == ALFRED_TEMPLATE_OK && buffer_append("", 0, &b) != 0)
		status = ALFRED_TEMPLATE_OUTPUT;
	if (status != ALFRED_TEMPLATE_OK)
	{
		free(b.data);
		return status;
	}
	*out = b.data;
	return status;
}
