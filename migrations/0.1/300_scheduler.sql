-- 300_scheduler.sql: prompt templates, the tool registry, scheduled tasks'
-- SQL API, the tick (run_due_tasks), the agent API for external runs and the
-- worker_status view.  C in src/template_sql.c, src/scheduler*.c, src/worker*.c.

CREATE FUNCTION @extschema@.render_template(template text, context jsonb)
RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_render_template_sql';
COMMENT ON FUNCTION @extschema@.render_template(text, jsonb) IS
'Fills {{dotted.path}} placeholders of template from the context object: strings as is, other values as JSON text; \{{ is a literal {{; a missing key raises 22023 naming it';
