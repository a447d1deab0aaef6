/*-------------------------------------------------------------------------
 *
 * alfred_json.h
 *		jansson inside the backend (json.c) and the template renderer's
 *		backend entry point (template_sql.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_JSON_H
#define ALFRED_JSON_H

#include "utils/jsonb.h"

/* jansson's json_t, declared without jansson.h (which clashes with builtins.h) */
struct json_t;

extern struct json_t *alfred_jsonb_to_json(Jsonb *jb);
extern char *alfred_try_render_template(const char *tmpl, size_t len, Jsonb *context,
										char **message, char **detail);

#endif							/* ALFRED_JSON_H */
