-- 800_quota: per-user daily AI quota, counted in the user's calendar day,
-- so that no user can run up unbounded AI costs.

CREATE TABLE @extschema@.ai_usage (
	user_id uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
	day date NOT NULL,
	used integer NOT NULL DEFAULT 0 CHECK (used >= 0),
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, day)
);

COMMENT ON TABLE @extschema@.ai_usage IS
'AI requests spent per user and day (the user''s own calendar day, in users.timezone); written only by consume_ai_quota, read by the user.';

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON @extschema@.ai_usage
	FOR EACH ROW EXECUTE FUNCTION @extschema@.touch_updated_at();

-- users read their rows (admins and observers all); nobody writes them but consume_ai_quota
SELECT @extschema@.enable_tenant_rls('@extschema@.ai_usage', commands => '{}');

CREATE FUNCTION @extschema@.ai_daily_limit()
RETURNS integer
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'alfred_ai_daily_limit_sql';

COMMENT ON FUNCTION @extschema@.ai_daily_limit() IS
'The setting alfred.ai_daily_limit: AI requests a user may make per day unless user_settings.ai_daily_limit says otherwise.';

CREATE FUNCTION @extschema@.consume_ai_quota(user_id uuid, cost integer DEFAULT 1)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tz text;
	daily_limit integer;
	enabled boolean;
	today date;
BEGIN
	PERFORM @extschema@._require_argument('user_id', user_id);
	PERFORM @extschema@._require_argument('cost', cost);
	IF cost <= 0 THEN
		RAISE EXCEPTION 'invalid cost %', cost USING ERRCODE = '22023',
			DETAIL = 'A request costs one unit or more.';
	END IF;
	SELECT u.timezone, coalesce(s.ai_daily_limit, @extschema@.ai_daily_limit()),
	       coalesce(s.ai_features_enabled, true)
	INTO tz, daily_limit, enabled
	FROM @extschema@.users u
	LEFT JOIN @extschema@.user_settings s ON s.user_id = u.id
	WHERE u.id = consume_ai_quota.user_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'user "%" not found', user_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT @extschema@.may_act_for(user_id) THEN
		RAISE EXCEPTION 'permission denied to spend the AI quota of user "%"', user_id
			USING ERRCODE = '42501', DETAIL = 'Users spend their own quota; observers only read.';
	END IF;
	IF NOT enabled OR cost > daily_limit THEN
		RETURN false;
	END IF;
	today := (now() AT TIME ZONE tz)::date;
	-- one statement: the row lock of the upsert serializes concurrent callers,
	-- and the WHERE is re-checked against the latest count, so no double spend
	INSERT INTO @extschema@.ai_usage AS a (user_id, day, used)
	VALUES (consume_ai_quota.user_id, today, cost)
	ON CONFLICT ON CONSTRAINT ai_usage_pkey DO UPDATE
		SET used = a.used + EXCLUDED.used
		WHERE a.used + EXCLUDED.used <= daily_limit;
	RETURN FOUND;
END
$$;

COMMENT ON FUNCTION @extschema@.consume_ai_quota(uuid, integer) IS
'Spend cost units of the user''s AI quota for their current day (users.timezone): true and counted when it fits the daily limit (user_settings.ai_daily_limit, else alfred.ai_daily_limit), false and nothing spent when it does not or AI features are off. Concurrent calls never overspend. 22023 cost not positive, P0002 unknown user, 42501 not allowed to act for the user.';

CREATE FUNCTION @extschema@.ai_quota(user_id uuid)
RETURNS TABLE (day date, daily_limit integer, used integer, remaining integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
-- (PL/pgSQL, who may act checked first: Citus plans no SQL-language function
-- that reads a distributed table with a parameter, and may_act_for() may not
-- run inside a query it sends to a shard)
#variable_conflict use_column
BEGIN
	IF NOT @extschema@.may_act_for(ai_quota.user_id, false) THEN
		RETURN;
	END IF;
	RETURN QUERY
	SELECT d.day, d.lim, coalesce(a.used, 0), greatest(d.lim - coalesce(a.used, 0), 0)
	FROM (SELECT (now() AT TIME ZONE u.timezone)::date AS day,
	             coalesce(s.ai_daily_limit, @extschema@.ai_daily_limit()) AS lim
	      FROM @extschema@.users u
	      LEFT JOIN @extschema@.user_settings s ON s.user_id = u.id
	      WHERE u.id = ai_quota.user_id) d
	LEFT JOIN @extschema@.ai_usage a ON a.user_id = ai_quota.user_id AND a.day = d.day;
END
$$;

COMMENT ON FUNCTION @extschema@.ai_quota(uuid) IS
'The user''s AI quota today (their time zone): limit, used and remaining. No row when the user is unknown or the caller may not read their data.';

-- A user's quota override is the DBA's, an admin's or a service's to set: a tenant who could
-- write it would lift their own limit.
CREATE FUNCTION @extschema@.user_settings_quota_guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.ai_daily_limit IS DISTINCT FROM (CASE WHEN TG_OP = 'UPDATE' THEN OLD.ai_daily_limit END)
	   AND NOT @extschema@.caller_is_service()
	   AND @extschema@.current_user_role() IS DISTINCT FROM 'admin' THEN
		RAISE EXCEPTION 'permission denied to set the AI quota of user "%"', NEW.user_id
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('ai_daily_limit would become %s.', coalesce(NEW.ai_daily_limit::text, 'NULL')),
				  HINT = 'An admin, a member of alfred_service or a superuser sets user_settings.ai_daily_limit.';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.user_settings_quota_guard() IS
'Trigger: only admins, alfred_service members and superusers set or change user_settings.ai_daily_limit (42501), so a user cannot raise their own AI quota, by UPDATE or by deleting and re-inserting their settings row.';

CREATE TRIGGER user_settings_quota_guard
	BEFORE INSERT OR UPDATE OF ai_daily_limit ON @extschema@.user_settings
	FOR EACH ROW EXECUTE FUNCTION @extschema@.user_settings_quota_guard();
