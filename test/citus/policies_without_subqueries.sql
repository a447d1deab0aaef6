-- Until the identity of issue 14 (policies without subqueries, branch claim)
-- is merged: drop the policies Citus refuses (a subquery in USING or WITH
-- CHECK), so that the rest of alfred can be distributed and tested.  A no-op
-- once no policy has a subquery.
DO $$
DECLARE
	p	record;
BEGIN
	FOR p IN
		SELECT pol.polname, pol.polrelid::regclass AS tbl
		  FROM pg_policy pol
		 WHERE pol.polrelid::regclass::text LIKE 'alfred.%'
		   AND (coalesce(pg_get_expr(pol.polqual, pol.polrelid), '') ~* '\mselect\M'
				OR coalesce(pg_get_expr(pol.polwithcheck, pol.polrelid), '') ~* '\mselect\M')
	LOOP
		EXECUTE format('DROP POLICY %I ON %s', p.polname, p.tbl);
	END LOOP;
END
$$;
