-- The extension installs into schema alfred and its settings are reserved.
SET timezone = 'UTC';
SELECT extname, extversion, extrelocatable, nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'alfred';
SHOW alfred.batch_size;
SET alfred.no_such_setting = 1;
