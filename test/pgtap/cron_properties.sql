-- Properties of cron_next / cron_prev / cron_next_n on thousands of
-- pseudo-random instants (setseed: the same instants every run), across
-- DST zones, with extra instants crowded around known transitions.
--
-- The fire times of an expression in a zone are a set of instants F (DST
-- rules decide which).  cron_next(t) is min{f in F : f > t} and cron_prev(t)
-- max{f in F : f < t}.  What follows from that, and is checked here:
--   next(t) > t, prev(t) < t
--   prev(next(t)) <= t and next(prev(t)) >= t (no fire time is skipped),
--     with equality exactly when t itself is a fire time
--   next(prev(next(t))) = next(t), prev(next(prev(t))) = prev(t)
--   cron_next_n(t, k) = next(t), next(next(t)), ...
-- Not true under DST, so not checked: next(t) - t is the same every day, or
-- the wall-clock time of next(t) always matches the expression (gap slots
-- are shifted).
BEGIN;
SELECT plan(15);

SELECT setseed(0.42);

CREATE TEMP TABLE exprs(e) AS VALUES
	('*/7 9-17 * * MON-FRI'), ('30 2 * * *'), ('0 * * * *'), ('*/30 * * * *'), ('30 1 * * *'),
	('0 0 * * *'), ('0 0 L * *'), ('0 0 15W * *'), ('0 0 * * 5L'), ('0 0 * * 1#2'), ('0 0 13 * 5'),
	('45 0-2 * * SUN'), ('0 0 29 2 *'), ('15 2 * * *'), ('0 12 * * *'), ('0 22-2 * * *');

CREATE TEMP TABLE zones(z) AS VALUES
	('UTC'), ('America/New_York'), ('Australia/Lord_Howe'), ('Antarctica/Troll'), ('America/Sao_Paulo'),
	('Australia/Sydney'), ('America/Havana'), ('Pacific/Apia'), ('Europe/Berlin');

-- known transitions (local wall time of the change)
CREATE TEMP TABLE transitions(z, at) AS VALUES
	('America/New_York', '2018-03-11 02:00'), ('America/New_York', '2018-11-04 02:00'),
	('Australia/Lord_Howe', '2023-10-01 02:00'), ('Australia/Lord_Howe', '2024-04-07 02:00'),
	('Antarctica/Troll', '2024-03-31 01:00'), ('Antarctica/Troll', '2024-10-27 03:00'),
	('America/Sao_Paulo', '2018-11-04 00:00'), ('America/Sao_Paulo', '2019-02-17 00:00'),
	('Australia/Sydney', '2024-04-07 03:00'), ('Australia/Sydney', '2024-10-06 02:00'),
	('America/Havana', '2024-03-10 00:00'), ('America/Havana', '2024-11-03 01:00'),
	('Pacific/Apia', '2011-12-30 00:00'), ('Europe/Berlin', '2024-03-31 02:00'), ('Europe/Berlin', '2024-10-27 03:00');

-- 30 uniform instants per zone in 2010-2030 and 12 per transition within 36 hours of it,
-- some on exact minutes (which are often fire times themselves)
CREATE TEMP TABLE instants AS
SELECT z, CASE WHEN random() < 0.3 THEN date_trunc('minute', t) ELSE t END AS t
  FROM (SELECT z, '2010-01-01 00:00+00'::timestamptz + random() * interval '20 years' AS t
		  FROM zones, generate_series(1, 30)
		UNION ALL
		SELECT z, (at::timestamp AT TIME ZONE z) + (random() - 0.5) * interval '72 hours'
		  FROM transitions, generate_series(1, 12)) s;

CREATE TEMP TABLE cases AS
SELECT e, i.z, i.t,
	   alfred.cron_next(e, i.t, i.z) AS n,
	   alfred.cron_prev(e, i.t, i.z) AS p
  FROM exprs, instants i;

SELECT cmp_ok((SELECT count(*) FROM cases), '>=', 5000::bigint, 'at least 5000 (expression, zone, instant) cases');
SELECT is((SELECT count(*) FROM cases WHERE n IS NULL OR p IS NULL), 0::bigint, 'every case has a next and a previous fire time');
SELECT is((SELECT count(*) FROM cases WHERE NOT n > t), 0::bigint, 'cron_next(t) > t');
SELECT is((SELECT count(*) FROM cases WHERE NOT p < t), 0::bigint, 'cron_prev(t) < t');
SELECT is((SELECT count(*) FROM cases WHERE NOT alfred.cron_prev(e, n, z) <= t), 0::bigint,
		  'cron_prev(cron_next(t)) <= t: no fire time between t and cron_next(t)');
SELECT is((SELECT count(*) FROM cases WHERE NOT alfred.cron_next(e, p, z) >= t), 0::bigint,
		  'cron_next(cron_prev(t)) >= t: no fire time between cron_prev(t) and t');
SELECT is((SELECT count(*) FROM cases
			WHERE (alfred.cron_next(e, p, z) = t) <> (alfred.cron_prev(e, n, z) = t)), 0::bigint,
		  'both round trips return t exactly when t is a fire time');
SELECT is((SELECT count(*) FROM cases WHERE alfred.cron_next(e, alfred.cron_prev(e, n, z), z) <> n), 0::bigint,
		  'cron_next(cron_prev(cron_next(t))) = cron_next(t)');
SELECT is((SELECT count(*) FROM cases WHERE alfred.cron_prev(e, alfred.cron_next(e, p, z), z) <> p), 0::bigint,
		  'cron_prev(cron_next(cron_prev(t))) = cron_prev(t)');
SELECT is((SELECT count(*) FROM cases
			WHERE ARRAY(SELECT alfred.cron_next_n(e, t, z, 3))
				  <> ARRAY[n, alfred.cron_next(e, n, z), alfred.cron_next(e, alfred.cron_next(e, n, z), z)]),
		  0::bigint, 'cron_next_n(t, 3) = next(t), next(next(t)), next(next(next(t)))');
SELECT is((SELECT count(*) FROM cases c
			WHERE (SELECT array_agg(x ORDER BY x) FROM alfred.cron_next_n(e, t, z, 4) x)
				  IS DISTINCT FROM (SELECT array_agg(DISTINCT x ORDER BY x) FROM alfred.cron_next_n(e, t, z, 4) x)),
		  0::bigint, 'cron_next_n is strictly increasing (a time that is two slots fires once)');
-- in zones whose shifts are whole hours, an hourly job runs every real hour
SELECT is((SELECT count(*) FROM cases
			WHERE e = '0 * * * *' AND z NOT IN ('Australia/Lord_Howe', 'Pacific/Apia')
			  AND n - t > interval '1 hour'), 0::bigint,
		  'an hourly job never waits more than an hour (whole-hour zones)');
SELECT is((SELECT count(*) FROM cases
			WHERE e = '*/30 * * * *' AND z <> 'Pacific/Apia' AND n - t > interval '30 minutes'), 0::bigint,
		  'a half-hourly job never waits more than 30 minutes, Lord Howe included');

-- cron_next over many rows takes a memoized fast path; cron_next_n (and
-- the C API) always do the full search: they must agree, for constant and
-- for varying expressions, in every zone
SELECT is((SELECT count(*) FROM cases WHERE n <> (SELECT x FROM alfred.cron_next_n(e, t, z, 1) x)), 0::bigint,
		  'fast path = full search (expression varying per row)');
SELECT is((SELECT count(*) FROM instants i
			WHERE alfred.cron_next('*/7 9-17 * * MON-FRI', i.t, i.z)
				  <> (SELECT x FROM alfred.cron_next_n('*/7 9-17 * * MON-FRI', i.t, i.z, 1) x)
			   OR alfred.cron_next('30 2 * * *', i.t, i.z)
				  <> (SELECT x FROM alfred.cron_next_n('30 2 * * *', i.t, i.z, 1) x)), 0::bigint,
		  'fast path = full search (constant expressions)');

SELECT * FROM finish();
ROLLBACK;
