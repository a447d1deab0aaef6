-- AI quotas: alfred.consume_ai_quota against alfred.ai_daily_limit or the
-- user's override, counted in the user's own day; alfred.ai_quota.
-- (Concurrent callers: specs/quota.spec.)
SET timezone = 'UTC';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN st || ': ' || msg || coalesce(' / ' || nullif(det, ''), '');
END $$;
BEGIN;
INSERT INTO alfred.users (id, email, password_hash, role, status, timezone) VALUES
	('00000000-0000-0000-0010-0000000000a1', 'ana.rest@example.com', '$2a$06$x', 'user', 'active', 'Pacific/Auckland'),
	('00000000-0000-0000-0010-0000000000b0', 'bob.rest@example.com', '$2a$06$x', 'user', 'active', 'America/Los_Angeles'),
	('00000000-0000-0000-0010-0000000000c0', 'olga.rest@example.com', '$2a$06$x', 'observer', 'active', 'UTC');
INSERT INTO alfred.user_settings (user_id, ai_daily_limit) VALUES
	('00000000-0000-0000-0010-0000000000b0', 5);
SET LOCAL alfred.ai_daily_limit = 3;
SELECT alfred.ai_daily_limit();

-- ana has the default of 3: two single requests and one of cost 1 fit, then no more
SELECT alfred.consume_ai_quota('00000000-0000-0000-0010-0000000000a1') AS first,
       alfred.consume_ai_quota('00000000-0000-0000-0010-0000000000a1') AS second,
       alfred.consume_ai_quota('00000000-0000-0000-0010-0000000000a1', 2) AS too_big,
       alfred.consume_ai_quota('00000000-0000-0000-0010-0000000000a1', 1) AS third,
       alfred.consume_ai_quota('00000000-0000-0000-0010-0000000000a1') AS fourth;
-- bob's override of 5: a request of 6 never fits and spends nothing
SELECT alfred.consume_ai_quota('00000000-0000-0000-0010-0000000000b0', 6) AS six,
       alfred.consume_ai_quota('00000000-0000-0000-0010-0000000000b0', 5) AS five;
-- each is counted on the user's own calendar day
SELECT u.email, a.day = (now() AT TIME ZONE u.timezone)::date AS users_today, a.used
FROM alfred.ai_usage a JOIN alfred.users u ON u.id = a.user_id ORDER BY u.email;
SELECT day = (now() AT TIME ZONE 'Pacific/Auckland')::date AS today, daily_limit, used, remaining
FROM alfred.ai_quota('00000000-0000-0000-0010-0000000000a1');
-- yesterday's use does not count today
UPDATE alfred.ai_usage SET day = day - 1 WHERE user_id = '00000000-0000-0000-0010-0000000000a1';
SELECT alfred.consume_ai_quota('00000000-0000-0000-0010-0000000000a1', 3) AS new_day;
-- AI features switched off: nothing is spent
INSERT INTO alfred.user_settings (user_id, ai_features_enabled) VALUES
	('00000000-0000-0000-0010-0000000000c0', false);
SELECT alfred.consume_ai_quota('00000000-0000-0000-0010-0000000000c0') AS disabled;

-- refusals
SELECT pg_temp.err($$SELECT alfred.consume_ai_quota('00000000-0000-0000-0010-0000000000a1', 0)$$);
SELECT pg_temp.err($$SELECT alfred.consume_ai_quota('00000000-0000-0000-0010-0000000000a1', -2)$$);
SELECT pg_temp.err($$SELECT alfred.consume_ai_quota('00000000-0000-0000-0010-00000000ffff')$$);
SELECT pg_temp.err($$SELECT alfred.consume_ai_quota(NULL)$$);
CREATE ROLE regress_rest_app;
SELECT alfred.grant_usage('regress_rest_app');
SET ROLE regress_rest_app;
SELECT pg_temp.err($$SET alfred.ai_daily_limit = 1000$$);
RESET ROLE;
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000b0', local => false) IS NOT NULL AS bob;
SET ROLE regress_rest_app;
SELECT pg_temp.err($$SELECT alfred.consume_ai_quota('00000000-0000-0000-0010-0000000000a1')$$);
-- the table is read-only to users
SELECT pg_temp.err($$UPDATE alfred.ai_usage SET used = 0$$);
SELECT count(*) AS bobs_rows FROM alfred.ai_usage;
RESET ROLE;
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000c0', local => false) IS NOT NULL AS olga;
SET ROLE regress_rest_app;
SELECT pg_temp.err($$SELECT alfred.consume_ai_quota('00000000-0000-0000-0010-0000000000c0')$$);
SELECT count(*) AS observers_read_all FROM alfred.ai_quota('00000000-0000-0000-0010-0000000000a1');
RESET ROLE;
ROLLBACK;
