/*-------------------------------------------------------------------------
 *
 * json.c
 *		jansson inside the backend: allocation through palloc and a direct
 *		jsonb → json_t conversion for the pure cores that take json_t trees.
 *
 * alfred_json_init (from _PG_init) makes jansson allocate with palloc in
 * CurrentMemoryContext, so an ERROR thrown while a tree is alive leaks
 * nothing: the tree goes away with its memory context.  The conversion walks
 * the jsonb iterator and never goes through text.
 *
 * jansson's json_object() clashes with the SQL function of the same name
 * declared in utils/builtins.h (fmgrprotos.h): files that include jansson
 * must not include builtins.h.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <jansson.h>

#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "alfred.h"
#include "alfred_json.h"

static void *
json_palloc(size_t size)
{
	return palloc(size);
}

static void
json_pfree(void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

void
alfred_json_init(void)
{
	json_set_alloc_funcs(json_palloc, json_pfree);
}

/* A jsonb numeric as a JSON integer when it is one that fits, else a real. */
static json_t *
numeric_to_json(Numeric num)
{
	char	   *text = numeric_normalize(num);
	char	   *end;
	long long	ival;

	if (strchr(text, '.') == NULL && strchr(text, 'e') == NULL)
	{
		errno = 0;
		ival = strtoll(text, &end, 10);
		if (errno == 0 && *end == '\0')
			return json_integer((json_int_t) ival);
	}
	return json_real(strtod(text, NULL));
}

static json_t *
scalar_to_json(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return json_null();
		case jbvString:
			return json_stringn(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return numeric_to_json(v->val.numeric);
		case jbvBool:
			return json_boolean(v->val.boolean);
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
	return NULL;
}

/* Adds child to the container on top of the stack (key when it is an object). */
static void
attach(json_t *parent, const char *key, size_t keylen, json_t *child)
{
	if (json_is_object(parent))
		json_object_setn_new_nocheck(parent, key, keylen, child);
	else
		json_array_append_new(parent, child);
}

/*
 * Converts a jsonb document into a new jansson tree (palloc'd, see
 * alfred_json_init).  The caller owns the reference.
 */
json_t *
alfred_jsonb_to_json(Jsonb *jb)
{
	JsonbIterator *it = JsonbIteratorInit(&jb->root);
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			cap = 8;
	json_t	  **stack = palloc(cap * sizeof(json_t *));
	JsonbValue *keys = palloc(cap * sizeof(JsonbValue));
	int			depth = 0;
	json_t	   *root = NULL;

	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		json_t	   *node = NULL;

		switch (tok)
		{
			case WJB_BEGIN_ARRAY:
				node = v.val.array.rawScalar ? NULL : json_array();
				break;
			case WJB_BEGIN_OBJECT:
				node = json_object();
				break;
			case WJB_KEY:
				keys[depth - 1] = v;
				continue;
			case WJB_VALUE:
			case WJB_ELEM:
				if (v.type == jbvBinary)
					continue;	/* not produced with skipNested = false */
				node = scalar_to_json(&v);
				if (depth == 0 || stack[depth - 1] == NULL)
				{
					root = node;	/* a raw scalar document */
					continue;
				}
				attach(stack[depth - 1], keys[depth - 1].val.string.val,
					   keys[depth - 1].val.string.len, node);
				continue;
			case WJB_END_ARRAY:
			case WJB_END_OBJECT:
				node = stack[--depth];
				if (node == NULL)
					continue;
				if (depth == 0)
					root = node;
				else
					attach(stack[depth - 1], keys[depth - 1].val.string.val,
						   keys[depth - 1].val.string.len, node);
				continue;
			default:
				continue;
		}
		if (depth == cap)
		{
			cap *= 2;
			stack = repalloc(stack, cap * sizeof(json_t *));
			keys = repalloc(keys, cap * sizeof(JsonbValue));
		}
		stack[depth++] = node;
	}
	pfree(stack);
	pfree(keys);
	return root;
}
