-- The cron functions' contract: signatures, argument names, volatility,
-- strictness and comments.
BEGIN;
SELECT plan(17);

SELECT has_function('alfred', 'cron_next', ARRAY['text', 'timestamp with time zone', 'text']);
SELECT has_function('alfred', 'cron_next_n', ARRAY['text', 'timestamp with time zone', 'text', 'integer']);
SELECT has_function('alfred', 'cron_prev', ARRAY['text', 'timestamp with time zone', 'text']);
SELECT has_function('alfred', 'cron_valid', ARRAY['text']);

SELECT function_returns('alfred', 'cron_next', ARRAY['text', 'timestamp with time zone', 'text'], 'timestamp with time zone');
SELECT function_returns('alfred', 'cron_next_n', ARRAY['text', 'timestamp with time zone', 'text', 'integer'], 'setof timestamp with time zone');
SELECT function_returns('alfred', 'cron_valid', ARRAY['text'], 'boolean');

-- the time zone database can change under a running server: not IMMUTABLE
SELECT volatility_is('alfred', 'cron_next', ARRAY['text', 'timestamp with time zone', 'text'], 'stable');
SELECT volatility_is('alfred', 'cron_prev', ARRAY['text', 'timestamp with time zone', 'text'], 'stable');
SELECT volatility_is('alfred', 'cron_next_n', ARRAY['text', 'timestamp with time zone', 'text', 'integer'], 'stable');
SELECT volatility_is('alfred', 'cron_valid', ARRAY['text'], 'immutable');

SELECT is_strict('alfred', 'cron_next', ARRAY['text', 'timestamp with time zone', 'text']);
SELECT is_strict('alfred', 'cron_valid', ARRAY['text']);

SELECT is((SELECT array_agg(proname::text || '(' || array_to_string(proargnames, ',') || ')' ORDER BY proname)
			 FROM pg_proc WHERE pronamespace = 'alfred'::regnamespace AND proname LIKE 'cron\_%'),
		  ARRAY['cron_next(expr,after,tz)', 'cron_next_n(expr,after,tz,n)', 'cron_prev(expr,before,tz)', 'cron_valid(expr)'],
		  'named arguments');
SELECT is((SELECT count(*) FROM pg_proc
			WHERE pronamespace = 'alfred'::regnamespace AND proname LIKE 'cron\_%'
			  AND obj_description(oid, 'pg_proc') IS NULL), 0::bigint,
		  'every cron function has a comment');
SELECT is((SELECT count(*) FROM pg_proc
			WHERE pronamespace = 'alfred'::regnamespace AND proname LIKE 'cron\_%' AND proparallel <> 's'), 0::bigint,
		  'every cron function is parallel safe');
SELECT throws_ok($$SELECT alfred.cron_next('61 * * * *', now())$$, '22023',
				 'minute value 61 is out of range 0-59', 'invalid input raises 22023');

SELECT * FROM finish();
ROLLBACK;
