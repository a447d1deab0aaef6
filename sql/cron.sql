-- Cron syntax and semantics in UTC (DST zones are in cron_dst, errors in cron_errors).
-- 2024-01-01 is a Monday; 2024 is a leap year.
SET timezone = 'UTC';

-- The next fire times of each expression after 2024-01-01 00:00 UTC
-- (strictly after, so a slot at exactly 00:00 is not included).
CREATE FUNCTION pg_temp.fires(e text, after timestamptz DEFAULT '2024-01-01 00:00+00', n int DEFAULT 6)
RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(to_char(x, CASE WHEN e ILIKE '%second%' THEN 'Dy YYYY-MM-DD HH24:MI:SS.US' ELSE 'Dy YYYY-MM-DD HH24:MI' END), ', ' ORDER BY x)
	  FROM alfred.cron_next_n(e, after, 'UTC', n) x
$$;

-- lists, ranges, steps
SELECT e, pg_temp.fires(e) FROM (VALUES
	('* * * * *'),
	('*/15 * * * *'),
	('10-50/10 * * * *'),
	('5/15 * * * *'),
	('0,30 9 * * *'),
	('0 9,12-13 * * *'),
	('0 */6 * * *'),
	('59 23 31 12 *'),
	('0 0 31 * *')
) v(e);

-- wrapping ranges: hours 22-2, FRI-MON, month DEC-FEB, day-of-month 30-2, steps across the wrap
SELECT e, pg_temp.fires(e) FROM (VALUES
	('0 22-2 * * *'),
	('0 22-2/2 * * *'),
	('0 0 * * FRI-MON'),
	('0 0 * * SAT-SUN'),
	('0 0 1 DEC-FEB *'),
	('0 0 30-2 * *'),
	('50-10/10 0 * * *')
) v(e);

-- names in any case, day of week 0-7 (0 and 7 are Sunday), ? in day fields
SELECT e, pg_temp.fires(e) FROM (VALUES
	('0 0 1 jan,Jul *'),
	('0 0 1 FEB-apr *'),
	('0 0 * * mOn'),
	('0 0 * * 0'),
	('0 0 * * 7'),
	('0 0 * * 5-7'),
	('0 0 * * 7-1'),
	('0 0 * * 0-7'),
	('0 0 ? * 1'),
	('0 0 1 * ?'),
	('0 0 ? * ?')
) v(e);

-- macros
SELECT e, pg_temp.fires(e, n => 3) FROM (VALUES
	('@yearly'), ('@annually'), ('@monthly'), ('@weekly'), ('@daily'), ('@midnight'), ('@hourly'),
	('@DAILY'), ('  @hourly  ')
) v(e);

-- L (last day, also as a range end), $ (pg_cron's last day), nW, LW
SELECT e, pg_temp.fires(e) FROM (VALUES
	('0 0 L * *'),
	('0 0 $ * *'),
	('0 0 29-L * *'),
	('0 0 29-$ * *'),
	('0 0 1-L/10 * *'),
	('0 0 LW * *'),
	('0 0 L,15 * *')
) v(e);
-- nW: the weekday nearest day n, never crossing into another month.
-- 2024-06-15 is a Saturday (-> Fri 14), 2024-09-15 a Sunday (-> Mon 16),
-- 2024-06-01 a Saturday (-> Mon 3, not Fri May 31), 2024-03-31 a Sunday (-> Fri 29, not Mon Apr 1).
SELECT e, pg_temp.fires(e, n => 9) FROM (VALUES
	('0 0 15W * *'),
	('0 0 1W * *'),
	('0 0 31W * *'),
	('0 0 1W,15W * *')
) v(e);

-- nL (last such weekday), d#k (k-th such weekday, also in lists)
SELECT e, pg_temp.fires(e) FROM (VALUES
	('0 0 * * 5L'),
	('0 0 * * FRIL'),
	('0 0 * * 0L'),
	('0 0 * * 7L'),
	('0 0 * * 1#2'),
	('0 0 * * MON#2'),
	('0 0 * * 1#1,5#3'),
	('0 0 * * 1#5'),
	('0 0 * 2 1#5'),
	('0 0 * * 2,5L')
) v(e);

-- day-of-month and day-of-week both restricted: a day matches if either does
-- (*/2 counts as restricted; # and nL are day-of-week terms)
SELECT e, pg_temp.fires(e, n => 8) FROM (VALUES
	('0 0 13 * 5'),
	('0 0 */2 * 1'),
	('0 0 1 * 1#3'),
	('0 0 L * 5L'),
	('0 0 15W * SUN'),
	('0 0 * * 5'),
	('0 0 13 * *'),
	('0 0 13 * ?'),
	('0 0 ? * 5')
) v(e);

-- rare dates: February 29, the fifth Monday of February
SELECT e, pg_temp.fires(e, n => 4) FROM (VALUES
	('0 0 29 2 *'),
	('0 0 * 2 1#5'),
	('0 0 L 2 *')
) v(e);

-- pg_cron's 'N seconds': counted from after, not from a grid
SELECT e, pg_temp.fires(e, '2024-01-01 00:00:10.5+00', 3) FROM (VALUES
	('1 second'), ('5 seconds'), ('59 seconds'), ('30SECONDS'), (' 10 Seconds ')
) v(e);
SELECT alfred.cron_prev('30 seconds', '2024-01-01 00:00:10.5+00');

-- strictly after / before, to the microsecond
SELECT alfred.cron_next('*/15 * * * *', '2024-01-01 00:14:59.999999+00') AS just_before,
       alfred.cron_next('*/15 * * * *', '2024-01-01 00:15:00+00') AS exactly,
       alfred.cron_next('*/15 * * * *', '2024-01-01 00:15:00.000001+00') AS just_after;
SELECT alfred.cron_prev('*/15 * * * *', '2024-01-01 00:15:00.000001+00') AS just_after,
       alfred.cron_prev('*/15 * * * *', '2024-01-01 00:15:00+00') AS exactly,
       alfred.cron_prev('*/15 * * * *', '2024-01-01 00:14:59.999999+00') AS just_before;

-- cron_prev: the last fire time before 2024-01-01 00:00
SELECT e, alfred.cron_prev(e, '2024-01-01 00:00+00') FROM (VALUES
	('* * * * *'), ('*/15 * * * *'), ('0 22-2 * * *'), ('0 0 L * *'), ('0 0 LW * *'),
	('0 0 15W * *'), ('0 0 * * 5L'), ('0 0 * * 1#2'), ('0 0 13 * 5'), ('0 0 29 2 *'),
	('@weekly'), ('0 0 * 2 1#5')
) v(e);

-- default time zone is UTC whatever TimeZone says; named arguments
SET timezone = 'Asia/Tokyo';
SELECT alfred.cron_next('0 9 * * *', '2024-01-01 00:00+00') AS default_utc,
       alfred.cron_next(expr => '0 9 * * *', after => '2024-01-01 00:00+00', tz => 'Asia/Tokyo') AS tokyo,
       alfred.cron_prev(expr => '0 9 * * *', before => '2024-01-01 00:00+00') AS prev_utc;
SET timezone = 'UTC';

-- NULL in, NULL out; infinite times have no next or previous fire time
SELECT alfred.cron_next(NULL, '2024-01-01+00') IS NULL AS null_expr,
       alfred.cron_next('* * * * *', NULL) IS NULL AS null_after,
       alfred.cron_next('* * * * *', '2024-01-01+00', NULL) IS NULL AS null_tz,
       alfred.cron_prev(NULL, '2024-01-01+00') IS NULL AS prev_null,
       alfred.cron_valid(NULL) IS NULL AS valid_null,
       (SELECT count(*) FROM alfred.cron_next_n('* * * * *', '2024-01-01+00', 'UTC', NULL)) AS n_null,
       alfred.cron_next('* * * * *', 'infinity') IS NULL AS next_infinity,
       alfred.cron_prev('* * * * *', '-infinity') IS NULL AS prev_minus_infinity;

-- the ends of the timestamp range
SELECT alfred.cron_next('0 0 1 1 *', '294276-06-01 00:00+00') AS past_the_end,
       alfred.cron_next('59 23 31 12 *', '294276-06-01 00:00+00') AS last_slot,
       alfred.cron_prev('0 0 1 1 *', '4714-12-01 00:00+00 BC') AS before_the_start,
       alfred.cron_prev('0 0 1 1 *', '4712-06-01 00:00+00 BC') AS first_slot;

-- cron_next_n: n = 0 gives nothing; equals cron_next applied n times
SELECT count(*) FROM alfred.cron_next_n('* * * * *', '2024-01-01+00', 'UTC', 0);
SELECT array_agg(x) = ARRAY[
	alfred.cron_next('0 9 * * MON-FRI', '2024-01-05 12:00+00'),
	alfred.cron_next('0 9 * * MON-FRI', alfred.cron_next('0 9 * * MON-FRI', '2024-01-05 12:00+00'))]
  FROM alfred.cron_next_n('0 9 * * MON-FRI', '2024-01-05 12:00+00', 'UTC', 2) x;

-- cron_valid
SELECT e, alfred.cron_valid(e) FROM (VALUES
	('* * * * *'), ('@daily'), ('5 seconds'), ('0 0 L * *'), ('0 0 * * 5L'), ('0 0 * * 1#2'),
	('61 * * * *'), ('* * * * * *'), (''), ('0 0 30 2 *'), ('60 seconds'), ('@reboot')
) v(e);

-- one expression over many rows, and several expressions in one call site (the cache is keyed by the text)
SELECT count(DISTINCT alfred.cron_next('*/7 9-17 * * MON-FRI', t, 'Europe/Berlin'))
  FROM generate_series('2024-01-01 00:00+00'::timestamptz, '2024-01-07 23:59+00', '1 minute') t;
SELECT e, alfred.cron_next(e, '2024-01-01 00:00+00', z)
  FROM (VALUES ('0 9 * * *', 'UTC'), ('0 9 * * *', 'Europe/Berlin'), ('0 9 * * *', 'UTC'),
               ('30 9 * * *', 'Europe/Berlin'), ('0 9 * * *', 'Europe/Berlin')) v(e, z);
