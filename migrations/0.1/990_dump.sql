-- 990 dump: pg_dump must keep the data of every alfred table.
--
-- Tables created by an extension script are members of the extension, and
-- pg_dump skips the contents of member tables unless they are registered with
-- pg_extension_config_dump().  This last part registers every table (and
-- system_logs partition) that the parts before it created.  Partitions that
-- create_log_partitions() adds later are not members and are dumped as usual.

DO $$
DECLARE
	rel regclass;
BEGIN
	FOR rel IN
		SELECT c.oid::regclass FROM pg_catalog.pg_class c
		 WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'r'
		 ORDER BY c.relname
	LOOP
		PERFORM pg_catalog.pg_extension_config_dump(rel, '');
	END LOOP;
END
$$;
