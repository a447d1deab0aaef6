-- DST and skipped days (DESIGN.md, "Time semantics").  Each section pins
-- TimeZone to the zone under test, so results show their UTC offset.
--  gap:  a slot whose wall time does not exist fires once, at the instant
--        PostgreSQL gives that wall time (shifted by the gap);
--  fold: restricted hour -> once, at the first pass; hour * -> both passes;
--  a calendar day the zone skipped fires nothing.

CREATE FUNCTION pg_temp.fires(e text, after timestamptz, tz text, n int)
RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(x::text, ', ' ORDER BY x) FROM alfred.cron_next_n(e, after, tz, n) x
$$;
-- the same n fire times, found backwards with cron_prev from just after the last one
CREATE FUNCTION pg_temp.prevs(e text, after timestamptz, tz text, n int)
RETURNS text LANGUAGE sql AS $$
	WITH RECURSIVE p(x, i) AS (
		SELECT alfred.cron_prev(e, (SELECT max(y) FROM alfred.cron_next_n(e, after, tz, n) y) + interval '1 microsecond', tz), 1
		UNION ALL
		SELECT alfred.cron_prev(e, x, tz), i + 1 FROM p WHERE i < n)
	SELECT string_agg(x::text, ', ' ORDER BY x) FROM p
$$;

-- America/New_York: 2018-03-11 02:00 EST -> 03:00 EDT; 2018-11-04 02:00 EDT -> 01:00 EST
SET timezone = 'America/New_York';
SELECT '2018-03-11 02:30'::timestamptz AS postgres_says;
SELECT e, pg_temp.fires(e, '2018-03-10 12:00', 'America/New_York', 3) AS spring,
       pg_temp.fires(e, '2018-03-10 12:00', 'America/New_York', 3) = pg_temp.prevs(e, '2018-03-10 12:00', 'America/New_York', 3) AS prev_agrees
  FROM (VALUES ('30 2 * * *'), ('30 3 * * *'), ('0 2 * * *'), ('59 2 * * *'), ('0 2,3 * * *'), ('30 2-3 * * *')) v(e);
SELECT e, pg_temp.fires(e, '2018-03-11 01:00', 'America/New_York', 6) AS spring,
       pg_temp.fires(e, '2018-03-11 01:00', 'America/New_York', 6) = pg_temp.prevs(e, '2018-03-11 01:00', 'America/New_York', 6) AS prev_agrees
  FROM (VALUES ('*/30 * * * *'), ('0 * * * *'), ('15,45 1-3 * * *')) v(e);
SELECT e, pg_temp.fires(e, '2018-11-03 12:00', 'America/New_York', 3) AS fall,
       pg_temp.fires(e, '2018-11-03 12:00', 'America/New_York', 3) = pg_temp.prevs(e, '2018-11-03 12:00', 'America/New_York', 3) AS prev_agrees
  FROM (VALUES ('30 1 * * *'), ('0 1 * * *'), ('59 1 * * *'), ('30 1-2 * * *'), ('0 2 * * *')) v(e);
SELECT e, pg_temp.fires(e, '2018-11-04 00:00', 'America/New_York', 6) AS fall,
       pg_temp.fires(e, '2018-11-04 00:00', 'America/New_York', 6) = pg_temp.prevs(e, '2018-11-04 00:00', 'America/New_York', 6) AS prev_agrees
  FROM (VALUES ('*/30 * * * *'), ('0 * * * *'), ('0 0-23 * * *'), ('30 */1 * * *'), ('45 0-2 * * *')) v(e);
-- after a time inside the fold: restricted hour does not fire again in the second pass
SELECT alfred.cron_next('50 1 * * *', '2018-11-04 01:40-05', 'America/New_York') AS restricted,
       alfred.cron_next('50 * * * *', '2018-11-04 01:40-05', 'America/New_York') AS every_hour,
       alfred.cron_prev('50 1 * * *', '2018-11-04 01:55-05', 'America/New_York') AS prev_restricted,
       alfred.cron_prev('50 * * * *', '2018-11-04 01:55-05', 'America/New_York') AS prev_every_hour;

-- Australia/Lord_Howe: a 30-minute shift.  2023-10-01 02:00 +10:30 -> 02:30 +11;
-- 2024-04-07 02:00 +11 -> 01:30 +10:30
SET timezone = 'Australia/Lord_Howe';
SELECT '2023-10-01 02:15'::timestamptz AS postgres_says;
SELECT e, pg_temp.fires(e, '2023-10-01 01:00', 'Australia/Lord_Howe', 5) AS spring,
       pg_temp.fires(e, '2023-10-01 01:00', 'Australia/Lord_Howe', 5) = pg_temp.prevs(e, '2023-10-01 01:00', 'Australia/Lord_Howe', 5) AS prev_agrees
  FROM (VALUES ('0 2 * * *'), ('15 2 * * *'), ('*/15 * * * *'), ('0 * * * *')) v(e);
SELECT e, pg_temp.fires(e, '2024-04-07 01:00', 'Australia/Lord_Howe', 5) AS fall,
       pg_temp.fires(e, '2024-04-07 01:00', 'Australia/Lord_Howe', 5) = pg_temp.prevs(e, '2024-04-07 01:00', 'Australia/Lord_Howe', 5) AS prev_agrees
  FROM (VALUES ('45 1 * * *'), ('*/15 * * * *'), ('*/15 1 * * *'), ('0 * * * *')) v(e);

-- Antarctica/Troll: a 2-hour shift.  2024-03-31 01:00 +00 -> 03:00 +02;
-- 2024-10-27 03:00 +02 -> 01:00 +00
SET timezone = 'Antarctica/Troll';
SELECT '2024-03-31 01:30'::timestamptz AS postgres_says, '2024-03-31 02:30'::timestamptz AS postgres_says;
SELECT e, pg_temp.fires(e, '2024-03-30 12:00', 'Antarctica/Troll', 4) AS spring,
       pg_temp.fires(e, '2024-03-30 12:00', 'Antarctica/Troll', 4) = pg_temp.prevs(e, '2024-03-30 12:00', 'Antarctica/Troll', 4) AS prev_agrees
  FROM (VALUES ('30 1 * * *'), ('30 2 * * *'), ('0 1-4 * * *'), ('0 * * * *')) v(e);
SELECT e, pg_temp.fires(e, '2024-10-27 00:00', 'Antarctica/Troll', 5) AS fall,
       pg_temp.fires(e, '2024-10-27 00:00', 'Antarctica/Troll', 5) = pg_temp.prevs(e, '2024-10-27 00:00', 'Antarctica/Troll', 5) AS prev_agrees
  FROM (VALUES ('30 2 * * *'), ('0 1-2 * * *'), ('0 * * * *')) v(e);

-- America/Sao_Paulo, historic southern DST changing at midnight:
-- 2018-11-04 00:00 -03 -> 01:00 -02; 2019-02-17 00:00 -02 -> 2019-02-16 23:00 -03.
-- Brazil dropped DST in 2019: November 2019 has no shift.
SET timezone = 'America/Sao_Paulo';
SELECT '2018-11-04 00:00'::timestamptz AS postgres_says;
SELECT e, pg_temp.fires(e, '2018-11-03 12:00', 'America/Sao_Paulo', 3) AS spring,
       pg_temp.fires(e, '2018-11-03 12:00', 'America/Sao_Paulo', 3) = pg_temp.prevs(e, '2018-11-03 12:00', 'America/Sao_Paulo', 3) AS prev_agrees
  FROM (VALUES ('0 0 * * *'), ('30 0 * * *'), ('0 0 4 11 *'), ('0 * * * *')) v(e);
SELECT e, pg_temp.fires(e, '2019-02-16 22:00', 'America/Sao_Paulo', 4) AS fall,
       pg_temp.fires(e, '2019-02-16 22:00', 'America/Sao_Paulo', 4) = pg_temp.prevs(e, '2019-02-16 22:00', 'America/Sao_Paulo', 4) AS prev_agrees
  FROM (VALUES ('30 23 * * *'), ('0 * * * *'), ('0 0 * * *')) v(e);
SELECT pg_temp.fires('0 0 * * *', '2019-11-02 12:00', 'America/Sao_Paulo', 3) AS no_dst_2019;

-- Australia/Sydney: 2024-04-07 03:00 +11 -> 02:00 +10; 2024-10-06 02:00 +10 -> 03:00 +11
SET timezone = 'Australia/Sydney';
SELECT e, pg_temp.fires(e, '2024-04-06 12:00', 'Australia/Sydney', 3) AS autumn,
       pg_temp.fires(e, '2024-10-05 12:00', 'Australia/Sydney', 3) AS spring,
       pg_temp.fires(e, '2024-10-05 12:00', 'Australia/Sydney', 3) = pg_temp.prevs(e, '2024-10-05 12:00', 'Australia/Sydney', 3)
       AND pg_temp.fires(e, '2024-04-06 12:00', 'Australia/Sydney', 3) = pg_temp.prevs(e, '2024-04-06 12:00', 'Australia/Sydney', 3) AS prev_agrees
  FROM (VALUES ('30 2 * * *'), ('0 2 * * SUN'), ('0 9 * * *')) v(e);

-- America/Havana: DST at midnight.  2024-03-10 00:00 -05 -> 01:00 -04;
-- 2024-11-03 01:00 -04 -> 00:00 -05
SET timezone = 'America/Havana';
SELECT '2024-03-10 00:00'::timestamptz AS postgres_says;
SELECT e, pg_temp.fires(e, '2024-03-09 12:00', 'America/Havana', 3) AS spring,
       pg_temp.fires(e, '2024-11-02 12:00', 'America/Havana', 4) AS fall,
       pg_temp.fires(e, '2024-11-02 12:00', 'America/Havana', 4) = pg_temp.prevs(e, '2024-11-02 12:00', 'America/Havana', 4)
       AND pg_temp.fires(e, '2024-03-09 12:00', 'America/Havana', 3) = pg_temp.prevs(e, '2024-03-09 12:00', 'America/Havana', 3) AS prev_agrees
  FROM (VALUES ('0 0 * * *'), ('30 0 * * *'), ('0 0 10 3 *'), ('0 * * * *')) v(e);

-- Pacific/Apia skipped 2011-12-30 (2011-12-29 23:59:59 -10 -> 2011-12-31 00:00 +14):
-- that day fires nothing
SET timezone = 'Pacific/Apia';
SELECT e, pg_temp.fires(e, '2011-12-28 12:00', 'Pacific/Apia', 4) AS around_the_skip,
       pg_temp.fires(e, '2011-12-28 12:00', 'Pacific/Apia', 4) = pg_temp.prevs(e, '2011-12-28 12:00', 'Pacific/Apia', 4) AS prev_agrees
  FROM (VALUES ('0 12 * * *'), ('0 0 * * *'), ('0 0 30 12 *'), ('0 0 29-31 12 *'), ('0 0 * * FRI'), ('59 23 * * *')) v(e);
SELECT pg_temp.fires('* * * * *', '2011-12-29 23:57:30', 'Pacific/Apia', 4) AS every_minute,
       alfred.cron_prev('* * * * *', '2011-12-31 00:00', 'Pacific/Apia') AS prev_every_minute,
       alfred.cron_prev('0 0 30 12 *', '2012-01-01', 'Pacific/Apia') AS prev_dec_30;

-- UTC has no DST: hourly over a year is 8784 distinct hours in 2024
SET timezone = 'UTC';
SELECT count(*) FROM alfred.cron_next_n('0 * * * *', '2023-12-31 23:00+00', 'UTC', 8784) x WHERE x < '2025-01-01';
-- a New York year of '0 * * * *' holds every real hour, DST days included: 8784 in the leap year 2024
-- (23 on the spring day, 25 on the fall day)
SELECT count(*), count(DISTINCT x) FROM alfred.cron_next_n('0 * * * *', '2023-12-31 23:00-05', 'America/New_York', 9000) x WHERE x <= '2024-12-31 23:00-05';
-- and '30 2 * * *' fires on all 366 days of 2024 in New York (the spring day at 03:30), once each
SELECT count(*), count(DISTINCT (x AT TIME ZONE 'America/New_York')::date) FROM alfred.cron_next_n('30 2 * * *', '2024-01-01 00:00-05', 'America/New_York', 400) x WHERE x < '2025-01-01 00:00-05';
