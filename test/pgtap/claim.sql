-- Identity claims (alfred.claim) on a single node, as the documented
-- application role: the signed claim that carries identity to Citus worker
-- nodes gives exactly its user when it verifies, and a forged, altered,
-- expired, wrongly keyed or replayed (another backend's) claim gives nothing
-- but 28000; the key and the signing function are the extension owner's
-- only; the backend's own identity wins over a claim.  Also: no row-level
-- security policy contains a subquery (Citus refuses them), and a query that
-- relies on row-level security alone still uses the (user_id, …) index.
BEGIN;
SELECT plan(37);
SET LOCAL alfred.password_cost = 4;
SET LOCAL client_min_messages = warning;

CREATE ROLE tap_claim_app;
SELECT alfred.grant_usage('tap_claim_app');

SELECT alfred.create_user('ann@claim.test', 'ann password') AS ann \gset
SELECT alfred.create_user('bob@claim.test', 'bob password') AS bob \gset
SELECT alfred.create_user('olga@claim.test', 'olga password', role => 'observer') AS olga \gset
SELECT alfred.create_user('sam@claim.test', 'sam password') AS sam \gset
UPDATE alfred.users SET status = 'suspended' WHERE id = :'sam';
SELECT alfred.login('bob@claim.test', 'bob password') AS bob_token \gset
CREATE FUNCTION pg_temp.explain_rls() RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) SELECT title FROM alfred.tasks WHERE status = ''pending''';
END
$$;
INSERT INTO alfred.tasks (user_id, title) VALUES (:'ann', 'ann one'), (:'ann', 'ann two'), (:'bob', 'bob one'),
	(:'sam', 'sam one');

-- Claims, signed by the extension owner (here the superuser running the test).
SELECT extract(epoch FROM now())::bigint + 3600 AS later, pg_backend_pid() AS me \gset
SELECT alfred.sign_claim(:'ann', now() + interval '1 hour') AS ann_claim,
	   alfred.sign_claim(:'olga', now() + interval '1 hour') AS olga_claim,
	   alfred.sign_claim(:'sam', now() + interval '1 hour') AS sam_claim,
	   alfred.sign_claim(:'ann', now() - interval '1 second') AS expired_claim,
	   alfred.sign_claim(:'ann', now() + interval '1 hour', pg_backend_pid() + 1) AS other_backend_claim \gset
-- The same format and MAC computed with pgcrypto: standard HMAC-SHA256 over the part before the last dot.
SELECT format('v1.%s.%s.%s', replace(:'ann', '-', ''), :later, :me) AS ann_payload \gset
SELECT :'ann_payload' || '.' || encode(hmac(convert_to(:'ann_payload', 'UTF8'), k.key, 'sha256'), 'hex') AS pgcrypto_claim,
	   :'ann_payload' || '.' || encode(hmac(convert_to(:'ann_payload', 'UTF8'), 'not the key', 'sha256'), 'hex') AS wrong_key_claim
  FROM alfred.claim_key k \gset
-- Ann's MAC on Bob's id, and on a later expiry.
SELECT regexp_replace(:'ann_claim', '^v1\.[0-9a-f]{32}', 'v1.' || replace(:'bob', '-', '')) AS altered_user,
	   regexp_replace(:'ann_claim', '^(v1\.[0-9a-f]{32})\.([0-9]+)', '\1.9\2') AS altered_expiry \gset

SELECT matches(:'ann_claim'::text, '^v1\.[0-9a-f]{32}\.[0-9]+\.[0-9]+\.[0-9a-f]{64}$',
			   'sign_claim: v1.<user>.<expires>.<origin>.<HMAC-SHA256>');

------------------------------------------------------------------------------
-- As the application role
------------------------------------------------------------------------------
SET LOCAL ROLE tap_claim_app;
SELECT is(alfred.current_user_id(), NULL::uuid, 'app: no identity, no claim');

SET LOCAL alfred.claim = :'ann_claim';
SELECT is(alfred.current_user_id(), :'ann'::uuid, 'a claim signed with the cluster key gives its user');
SELECT is(alfred.current_user_role(), 'user', 'and the user''s role');
SELECT is(alfred.readable_user_ids(), ARRAY[:'ann']::uuid[], 'who reads their own rows');
SELECT is((SELECT array_agg(title ORDER BY title) FROM alfred.tasks), ARRAY['ann one', 'ann two'],
		  'row-level security follows the claim: ann''s tasks only');
SELECT lives_ok($$INSERT INTO alfred.tasks (user_id, title) VALUES (alfred.current_user_id(), 'ann three')$$,
				'and she writes her own rows');
SELECT throws_ok(format($$INSERT INTO alfred.tasks (user_id, title) VALUES (%L, 'into bob')$$, :'bob'),
				 '42501', NULL, 'but not another user''s');

SET LOCAL alfred.claim = :'pgcrypto_claim';
SELECT is(alfred.current_user_id(), :'ann'::uuid, 'a claim built with pgcrypto''s hmac() and the key verifies too');

SET LOCAL alfred.claim = :'olga_claim';
SELECT is(alfred.current_user_role(), 'observer', 'an observer''s claim: observer');
SELECT is((SELECT count(*) FROM alfred.tasks WHERE title LIKE '% one'), 3::bigint, 'who reads everyone''s rows');

SET LOCAL alfred.claim = :'sam_claim';
SELECT is(alfred.current_user_id(), :'sam'::uuid, 'a suspended user''s claim names the user');
SELECT is(alfred.current_user_role(), NULL::text, 'but gives no role');
SELECT is((SELECT count(*) FROM alfred.tasks), 0::bigint, 'and reads nothing');

-- Forged, altered, expired, wrongly keyed, replayed.
SET LOCAL alfred.claim = :'wrong_key_claim';
SELECT throws_ok('SELECT alfred.current_user_id()', '28000', 'invalid identity claim',
				 'a claim signed with another key: 28000');
SELECT throws_ok('SELECT count(*) FROM alfred.tasks', '28000', 'invalid identity claim',
				 'and a query under row-level security fails the same way');
SET LOCAL alfred.claim = :'altered_user';
SELECT throws_ok('SELECT alfred.current_user_id()', '28000', 'invalid identity claim',
				 'ann''s claim with bob''s id: 28000');
SET LOCAL alfred.claim = :'altered_expiry';
SELECT throws_ok('SELECT alfred.current_user_id()', '28000', 'invalid identity claim',
				 'ann''s claim with a later expiry: 28000');
SET LOCAL alfred.claim = :'expired_claim';
SELECT throws_like('SELECT alfred.current_user_id()', 'identity claim expired at "%"',
				   'an expired claim (valid MAC): refused');
SELECT throws_ok('SELECT alfred.readable_user_ids()', '28000', NULL, 'with 28000');
SET LOCAL alfred.claim = :'other_backend_claim';
SELECT throws_ok('SELECT alfred.current_user_id()', '28000', 'invalid identity claim',
				 'a valid claim issued to another backend (a replay in another session): 28000');
SELECT set_config('alfred.claim', format('v1.%s.%s.%s.%s', replace(:'ann', '-', ''), :later, :me, repeat('0', 64)), true);
SELECT throws_ok('SELECT alfred.current_user_id()', '28000', 'invalid identity claim',
				 'a claim forged by the app role with SET (no key): 28000');
SET LOCAL alfred.claim = 'ann';
SELECT throws_ok('SELECT alfred.current_user_id()', '28000', 'invalid identity claim',
				 'a setting that is not a claim at all: 28000');
SELECT throws_ok($$SET LOCAL alfred.user_id = 'x'$$, '42602', NULL,
				 'there is no alfred.user_id setting to forge');

-- The backend's own identity wins; an empty claim is no identity.
SET LOCAL alfred.claim = :'ann_claim';
SELECT is(alfred.set_session(:'bob_token'), :'bob'::uuid, 'set_session with a claim present');
SELECT is(alfred.current_user_id(), :'bob'::uuid, 'the backend''s own identity wins over the claim');
SELECT is(current_setting('alfred.claim'), :'ann_claim'::text, 'without Citus set_session issues no claim');
SELECT alfred.reset_identity(local => true);
SELECT is(alfred.current_user_id(), :'ann'::uuid, 'after reset_identity the claim speaks again');
SET LOCAL alfred.claim = '';
SELECT is(alfred.current_user_id(), NULL::uuid, 'an empty claim is no identity');
SELECT is((SELECT count(*) FROM alfred.tasks), 0::bigint, 'and reads nothing');

-- The key and the signer are the extension owner's.
SELECT throws_ok('SELECT key FROM alfred.claim_key', '42501', NULL, 'app: the claim key is unreadable');
SELECT throws_ok(format('SELECT alfred.sign_claim(%L, now() + interval ''1 hour'')', :'ann'), '42501', NULL,
				 'app: sign_claim is not executable');
SELECT throws_ok('SELECT alfred.sync_claim_key()', '42501', NULL, 'app: sync_claim_key is not executable');
SELECT throws_ok('SELECT alfred.rotate_claim_key()', '42501', NULL, 'app: rotate_claim_key is not executable');

------------------------------------------------------------------------------
-- Policies for Citus, and still index conditions
------------------------------------------------------------------------------
RESET ROLE;
SELECT is((SELECT count(*) FROM pg_policies WHERE schemaname = 'alfred'
			AND (coalesce(qual, '') ~* '\mselect\M' OR coalesce(with_check, '') ~* '\mselect\M')), 0::bigint,
		  'no row-level security policy contains a subquery');
SELECT ok((SELECT count(*) FROM pg_policies WHERE schemaname = 'alfred') > 100, 'of the more than 100 policies');

INSERT INTO alfred.tasks (user_id, title, status)
	SELECT u.id, 'filler ' || g, 'completed' FROM alfred.users u, generate_series(1, 2000) g;
ANALYZE alfred.tasks;
SET LOCAL ROLE tap_claim_app;
SELECT alfred.set_session(:'bob_token');
SELECT matches(
	(SELECT string_agg(line, E'\n') FROM pg_temp.explain_rls() AS p (line)),
	'Index Cond: \(user_id = ANY \(alfred\.readable_user_ids\(\)\)\)',
	'a query relying on row-level security alone uses the (user_id, …) index');

SELECT * FROM finish();
ROLLBACK;
