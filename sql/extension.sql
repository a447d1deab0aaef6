-- The extension installs into schema alfred and its settings are reserved.
SET timezone = 'UTC';
SELECT extname, extversion, extrelocatable, nspname
  FROM pg_extension e
  JOIN pg_depend d ON d.refobjid = e.oid AND d.refclassid = 'pg_extension'::regclass
				  AND d.classid = 'pg_namespace'::regclass AND d.deptype = 'e'
  JOIN pg_namespace n ON n.oid = d.objid
 WHERE extname = 'alfred';
SHOW alfred.batch_size;
SET alfred.no_such_setting = 1;
