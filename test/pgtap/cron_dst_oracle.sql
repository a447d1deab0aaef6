-- DST semantics against an independent oracle written in SQL from the rules
-- of DESIGN.md "Time semantics", using only PostgreSQL's own conversions:
-- every real minute within 30 hours of 15 transitions is a candidate; it fires
-- when its wall time matches, unless the hour field is restricted and that
-- wall time already happened earlier (a fold's second pass).  A wall time
-- that does not exist fires at the instant PostgreSQL gives it
-- (W::timestamp AT TIME ZONE z), unless no minute of its calendar day exists.
-- The oracle's fire times must equal cron_next_n's, minute for minute.
BEGIN;
SELECT plan(2);

CREATE TEMP TABLE transitions(z, at) AS VALUES
	('America/New_York', '2018-03-11 02:00'), ('America/New_York', '2018-11-04 02:00'),
	('Australia/Lord_Howe', '2023-10-01 02:00'), ('Australia/Lord_Howe', '2024-04-07 02:00'),
	('Antarctica/Troll', '2024-03-31 01:00'), ('Antarctica/Troll', '2024-10-27 03:00'),
	('America/Sao_Paulo', '2018-11-04 00:00'), ('America/Sao_Paulo', '2019-02-17 00:00'),
	('Australia/Sydney', '2024-04-07 03:00'), ('Australia/Sydney', '2024-10-06 02:00'),
	('America/Havana', '2024-03-10 00:00'), ('America/Havana', '2024-11-03 01:00'),
	('Pacific/Apia', '2011-12-30 00:00'), ('Europe/Berlin', '2024-03-31 02:00'), ('Europe/Berlin', '2024-10-27 03:00');

-- expressions of the form "minutes hours * * *", with their sets spelled out
CREATE TEMP TABLE oexprs(e, mins, hrs) AS VALUES
	('30 2 * * *', '{30}'::int[], '{2}'::int[]),
	('15 2 * * *', '{15}', '{2}'),
	('30 1 * * *', '{30}', '{1}'),
	('0 0 * * *', '{0}', '{0}'),
	('30 23 * * *', '{30}', '{23}'),
	('45 0-2 * * *', '{45}', '{0,1,2}'),
	('0 1-4 * * *', '{0}', '{1,2,3,4}'),
	('0 * * * *', '{0}', (SELECT array_agg(h) FROM generate_series(0, 23) h)),
	('*/30 * * * *', '{0,30}', (SELECT array_agg(h) FROM generate_series(0, 23) h)),
	('*/15 * * * *', '{0,15,30,45}', (SELECT array_agg(h) FROM generate_series(0, 23) h));

CREATE TEMP TABLE spans AS
SELECT z, at, (at::timestamp AT TIME ZONE z) - interval '30 hours' AS lo,
			  (at::timestamp AT TIME ZONE z) + interval '30 hours' AS hi
  FROM transitions;

-- every real minute of each span (and 3 hours either side), with its wall time
CREATE TEMP TABLE grid AS
SELECT s.z, s.at, u, u AT TIME ZONE s.z AS wall
  FROM spans s, generate_series(s.lo - interval '3 hours', s.hi + interval '3 hours', interval '1 minute') u;
CREATE INDEX ON grid (z, at, wall);

CREATE TEMP TABLE oracle AS
-- existing wall times: the first pass always, a repeat only when every hour is allowed
SELECT g.z, g.at, o.e, g.u AS fire
  FROM grid g, oexprs o
 WHERE extract(minute FROM g.wall)::int = ANY (o.mins) AND extract(hour FROM g.wall)::int = ANY (o.hrs)
   AND (cardinality(o.hrs) = 24
		OR NOT EXISTS (SELECT 1 FROM grid g2 WHERE g2.z = g.z AND g2.at = g.at AND g2.wall = g.wall AND g2.u < g.u))
UNION
-- wall times that do not exist, on days that do
SELECT s.z, s.at, o.e, w AT TIME ZONE s.z
  FROM spans s, oexprs o,
	   generate_series(date_trunc('hour', s.lo AT TIME ZONE s.z), s.hi AT TIME ZONE s.z, interval '1 minute') w
 WHERE extract(minute FROM w)::int = ANY (o.mins) AND extract(hour FROM w)::int = ANY (o.hrs)
   AND NOT EXISTS (SELECT 1 FROM grid g WHERE g.z = s.z AND g.at = s.at AND g.wall = w)
   AND EXISTS (SELECT 1 FROM grid g WHERE g.z = s.z AND g.at = s.at
				  AND g.wall >= w::date AND g.wall < w::date + 1);

CREATE TEMP TABLE compared AS
SELECT s.z, s.at, o.e,
	   ARRAY(SELECT fire FROM oracle x WHERE x.z = s.z AND x.at = s.at AND x.e = o.e
				AND fire > s.lo AND fire < s.hi ORDER BY fire) AS want,
	   ARRAY(SELECT x FROM alfred.cron_next_n(o.e, s.lo, s.z, 300) x WHERE x < s.hi ORDER BY x) AS got
  FROM spans s, oexprs o;

SELECT cmp_ok((SELECT sum(cardinality(want)) FROM compared), '>', 3000::bigint,
			  'the oracle produced thousands of fire times around 15 transitions');
SELECT is((SELECT string_agg(format('%s %s %s: want %s got %s', z, at, e, want, got), E'\n')
			 FROM compared WHERE want <> got), NULL,
		  'cron_next_n equals the oracle for every expression and transition');

SELECT * FROM finish();
ROLLBACK;
