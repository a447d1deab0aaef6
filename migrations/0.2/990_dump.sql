-- 990 dump: pg_dump must keep the data of every alfred table.
--
-- Tables created by an extension script are members of the extension, and
-- pg_dump skips the contents of member tables unless they are registered with
-- pg_extension_config_dump().  This last part registers every table (and
-- system_logs partition) that the parts before it created.  Partitions that
-- create_log_partitions() adds later are not members and are dumped as usual.
--
-- Rows the install script itself inserted (built-in tools, retention
-- periods) are left out of the dump by a filter on their primary keys: a
-- restore runs CREATE EXTENSION, which inserts them again.

DO $$
DECLARE
	rel			regclass;
	has_rows	boolean;
	key			text;
	installed	text;
BEGIN
	FOR rel IN
		SELECT c.oid::regclass FROM pg_catalog.pg_class c
		 WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'r'
		   AND c.relname <> 'claim_key'	-- one installation's secret: a restore makes its own (110_identity.sql)
		 ORDER BY c.relname
	LOOP
		EXECUTE format('SELECT EXISTS (SELECT FROM %s)', rel) INTO has_rows;
		IF NOT has_rows THEN
			PERFORM pg_catalog.pg_extension_config_dump(rel, '');
			CONTINUE;
		END IF;
		SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.ord) INTO STRICT key
		  FROM pg_catalog.pg_index i
		 CROSS JOIN LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k (attnum, ord)
		  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
		 WHERE i.indrelid = rel AND i.indisprimary;
		IF key IS NULL THEN
			RAISE EXCEPTION 'table "%" has rows at install time but no primary key', rel
				USING ERRCODE = 'object_not_in_prerequisite_state';
		END IF;
		EXECUTE format('SELECT pg_catalog.string_agg(pg_catalog.quote_literal(ROW(%s, NULL)::text), '', '') FROM %s',
					   key, rel) INTO installed;
		PERFORM pg_catalog.pg_extension_config_dump(rel,
			format('WHERE ROW(%s, NULL)::text NOT IN (%s)', key, installed));
	END LOOP;
END
$$;
