-- The documentation rule, enforced: every function, table and view the extension owns in
-- schema alfred has a COMMENT, and every function names its input arguments.  A failure
-- lists the offenders by name ("have: {...}").  README.md's SQL reference is checked by
-- test/integration/readme.sh.
--
-- Columns: every column of the main user-facing tables (users, tasks, habits, proposals,
-- scheduled_tasks) has a COMMENT saying what it holds; the other tables' columns are
-- described by their table's comment where needed (and docs/seed-map.md).
--
-- Argument names: an input argument (mode IN, INOUT or VARIADIC) must have a non-empty
-- name, so callers can use named notation and \df shows what each one is.  No exception is
-- needed today; trigger functions are exempt (they take no declared arguments and cannot
-- be called directly), and so would be functions whose signature a caller outside alfred
-- dictates positionally (type support or operator functions), were alfred to have any.
BEGIN;
SELECT plan(12);

-- What the extension owns in schema alfred.
CREATE TEMP VIEW alfred_objects AS
SELECT CASE WHEN d.classid = 'pg_proc'::regclass THEN 'function'
			WHEN c.relkind IN ('r', 'p') THEN 'table'
			WHEN c.relkind IN ('v', 'm') THEN 'view'
			WHEN c.relkind = 'S' THEN 'sequence'
			WHEN d.classid = 'pg_type'::regclass THEN 'type'
		END AS kind,
	   CASE WHEN d.classid = 'pg_proc'::regclass THEN d.objid::regprocedure::text
			WHEN d.classid = 'pg_class'::regclass THEN d.objid::regclass::text
			ELSE d.objid::regtype::text
		END AS name,
	   obj_description(d.objid, d.classid::regclass::name) AS comment,
	   d.classid, d.objid
  FROM pg_depend d
  JOIN pg_extension e ON e.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
  LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
  LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
  LEFT JOIN pg_type t ON d.classid = 'pg_type'::regclass AND t.oid = d.objid
 WHERE e.extname = 'alfred' AND d.deptype = 'e'
   AND coalesce(p.pronamespace, c.relnamespace, t.typnamespace) = 'alfred'::regnamespace;

-- Functions with an input argument that has no name.
CREATE TEMP VIEW alfred_unnamed_args AS
SELECT p.oid::regprocedure::text AS name
  FROM pg_proc p
  JOIN alfred_objects o ON o.classid = 'pg_proc'::regclass AND o.objid = p.oid
 WHERE p.prorettype <> 'trigger'::regtype
   AND EXISTS (SELECT FROM generate_series(1, coalesce(array_length(p.proallargtypes, 1), p.pronargs)) AS i
				WHERE coalesce(p.proargmodes[i], 'i') IN ('i', 'b', 'v')
				  AND coalesce(p.proargnames[i], '') = '');

-- Columns of the main user-facing tables without a comment.
CREATE TEMP VIEW alfred_main_columns AS
SELECT c.relname, a.attname, col_description(c.oid, a.attnum) AS comment
  FROM pg_class c
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'alfred'::regnamespace
   AND c.relname IN ('users', 'tasks', 'habits', 'proposals', 'scheduled_tasks');

CREATE TEMP VIEW alfred_offenders AS
SELECT kind, coalesce(array_agg(name ORDER BY name) FILTER (WHERE comment IS NULL), '{}') AS uncommented
  FROM alfred_objects GROUP BY kind;

-- The catalog query sees what it should, so an empty list below means something.
SELECT cmp_ok((SELECT count(*) FROM alfred_objects WHERE kind = 'function'), '>', 100::bigint,
			  'the extension''s functions are found');
SELECT cmp_ok((SELECT count(*) FROM alfred_objects WHERE kind = 'table'), '>', 30::bigint,
			  'the extension''s tables are found');

SELECT is(coalesce((SELECT uncommented FROM alfred_offenders WHERE kind = 'function'), '{}'), '{}',
		  'every function has a COMMENT');
SELECT is(coalesce((SELECT uncommented FROM alfred_offenders WHERE kind = 'table'), '{}'), '{}',
		  'every table has a COMMENT');
SELECT is(coalesce((SELECT uncommented FROM alfred_offenders WHERE kind = 'view'), '{}'), '{}',
		  'every view has a COMMENT');
SELECT is((SELECT coalesce(array_agg(kind || ' ' || name ORDER BY name), '{}') FROM alfred_objects
			WHERE kind NOT IN ('function', 'table', 'view') AND comment IS NULL), '{}',
		  'every other object (sequence, type) has a COMMENT');
SELECT is((SELECT coalesce(array_agg(name ORDER BY name), '{}') FROM alfred_unnamed_args), '{}',
		  'every function names its input arguments');

SELECT is((SELECT count(DISTINCT relname) FROM alfred_main_columns), 5::bigint,
		  'the main user-facing tables are found');
SELECT is((SELECT coalesce(array_agg(relname || '.' || attname ORDER BY relname, attname), '{}')
			 FROM alfred_main_columns WHERE comment IS NULL), '{}',
		  'every column of users, tasks, habits, proposals and scheduled_tasks has a COMMENT');

-- The checks catch an offender: a column without a comment, a member function without a
-- comment or argument names.
COMMENT ON COLUMN alfred.tasks.title IS NULL;
SELECT is((SELECT array_agg(relname || '.' || attname) FROM alfred_main_columns WHERE comment IS NULL),
		  '{tasks.title}', 'a column without a comment is reported');
CREATE FUNCTION alfred.audit_probe(int, label text) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1';
ALTER EXTENSION alfred ADD FUNCTION alfred.audit_probe(int, text);
SELECT is((SELECT 'alfred.audit_probe(integer,text)' = ANY (uncommented) FROM alfred_offenders
			WHERE kind = 'function'), true, 'a function without a comment is reported');
SELECT is((SELECT array_agg(name) FROM alfred_unnamed_args), '{"alfred.audit_probe(integer,text)"}',
		  'a function with an unnamed argument is reported');

SELECT * FROM finish();
ROLLBACK;
