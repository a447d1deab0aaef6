-- The extension installs into schema alfred and its settings are reserved.
SET timezone = 'UTC';
SELECT extname, extversion, extrelocatable, nspname
  FROM pg_extension e
  JOIN pg_depend d ON d.refobjid = e.oid AND d.refclassid = 'pg_extension'::regclass
				  AND d.classid = 'pg_namespace'::regclass AND d.deptype = 'e'
  JOIN pg_namespace n ON n.oid = d.objid
 WHERE extname = 'alfred';
-- Whether or not alfred is preloaded: the first call of one of its C
-- functions loads the library, which defines the settings.
SELECT alfred.cron_valid('* * * * *') AS library_loaded;
SHOW alfred.batch_size;
SET alfred.no_such_setting = 1;
