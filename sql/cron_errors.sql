-- Invalid cron input: SQLSTATE 22023, a message naming the field and the value,
-- the same verdict from cron_valid, and no partial result.
SET timezone = 'UTC';

CREATE FUNCTION pg_temp.err(e text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM alfred.cron_next(e, '2024-01-01 00:00+00');
	RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

SELECT e, alfred.cron_valid(e) AS valid, pg_temp.err(e) FROM (VALUES
	-- field count and trailing garbage
	(''), ('   '), ('*'), ('* * * *'), ('* * * * * *'), ('0 0 0 * * * 2024'), ('* * * * *x'),
	('* * * * * #'), ('5x * * * *'), ('* * * * 1,'),
	-- out of range
	('60 * * * *'), ('61 * * * *'), ('* 24 * * *'), ('* * 0 * *'), ('* * 32 * *'),
	('* * * 0 *'), ('* * * 13 *'), ('* * * * 8'), ('0-60 * * * *'), ('* 20-24 * * *'),
	('99999999999 * * * *'), ('* * 32W * *'), ('* * 0W * *'), ('* * * * 8L'), ('* * * * 8#1'),
	-- names
	('* * * * FRX'), ('* * * JANX *'), ('* * * * MON-FRX'), ('* * * FOO-DEC *'), ('* * * * MONDAY'),
	('MON * * * *'), ('* JAN * * *'), ('* * JAN * *'), ('* * * MON *'), ('* * * * JAN'),
	-- steps
	('*/0 * * * *'), ('*/60 * * * *'), ('* */24 * * *'), ('* * */32 * *'), ('* * * */13 *'),
	('* * * * */8'), ('*/x * * * *'), ('*/ * * * *'), ('1-5/0 * * * *'), ('5/60 * * * *'),
	-- malformed terms
	('1,,2 * * * *'), (',1 * * * *'), ('1- * * * *'), ('-1 * * * *'), ('1-2-3 * * * *'),
	('*-5 * * * *'), ('1-* * * * *'), ('**/2 * * * *'), ('1/2/3 * * * *'), ('$ * * * *'),
	-- ? only as a whole day field
	('? * * * *'), ('* ? * * *'), ('* * * ? *'), ('* * ?,1 * *'), ('* * * * ?/2'),
	-- L, W, #, nL in the wrong place or form
	('L * * * *'), ('* * * * L'), ('* * L-5 * *'), ('* * LW-5 * *'), ('* * 1-LW * *'),
	('* * 15W-20 * *'), ('* * 1-15W * *'), ('* * W * *'), ('* * XW * *'), ('* * L/2 * *'),
	('* * * * 5L-6'), ('* * * * 1-5L'), ('* * * * 1#6'), ('* * * * 1#0'), ('* * * * 1#'),
	('* * * * 1#x'), ('* * * * 1#2#3'), ('* * * * 1#2/2'), ('* * 1#2 * *'), ('* * * * 1-2#2'),
	-- macros and intervals
	('@reboot'), ('@every 5m'), ('@'), ('@daily 0'), ('0 seconds'), ('60 seconds'),
	('5 minutes'), ('5 secs'),
	-- can never fire
	('0 0 30 2 *'), ('0 0 31 2 *'), ('0 0 31 4,6,9,11 *'), ('0 0 30-31 2 *'), ('0 0 31W 2 *')
) v(e);

-- things that look odd but are valid
SELECT e, alfred.cron_valid(e) AS valid, pg_temp.err(e) FROM (VALUES
	('0 0 29 2 *'), ('0 0 30 2 1'), ('0 0 30 2 ?') , ('0 0 L 2 *'), ('0 0 * 2 1#5'),
	('*/59 * * * *'), ('* */23 * * *'), ('* * */31 * *'), ('* * * */12 *'), ('* * * * */7'),
	('00 09 01 01 *'), (E'0\t0\t*\t*\t*'), (E'\n0 0 * * *\n')
) v(e);

-- the full error report: message, detail and hint
SELECT alfred.cron_next('61 * * * *', '2024-01-01 00:00+00');
SELECT alfred.cron_prev('* * * * * *', '2024-01-01 00:00+00');
SELECT alfred.cron_next('* * * * FRX', '2024-01-01 00:00+00', 'Europe/Berlin');
SELECT * FROM alfred.cron_next_n('0 0 30 2 *', '2024-01-01 00:00+00', 'UTC', 3);

-- unknown time zones and bad n
SELECT alfred.cron_next('* * * * *', '2024-01-01 00:00+00', 'Mars/Olympus_Mons');
SELECT alfred.cron_prev('* * * * *', '2024-01-01 00:00+00', '');
SELECT * FROM alfred.cron_next_n('* * * * *', '2024-01-01 00:00+00', 'Nowhere', 1);
SELECT * FROM alfred.cron_next_n('* * * * *', '2024-01-01 00:00+00', 'UTC', -1);
SELECT alfred.cron_next('* * * * *', '2024-01-01 00:00+00', repeat('x', 300));
-- time zone names are case-insensitive, as in PostgreSQL
SELECT alfred.cron_next('0 9 * * *', '2024-01-01 00:00+00', 'europe/berlin');

-- an overlong expression
SELECT alfred.cron_valid(repeat('1,', 600) || '1 * * * *');
SELECT alfred.cron_next(repeat('1,', 600) || '1 * * * *', '2024-01-01 00:00+00');

-- an error in one row stops the statement; an error for one expression does not
-- poison the cached parse of another in the same call site
SELECT e, alfred.cron_next(e, '2024-01-01 00:00+00') FROM (VALUES ('0 9 * * *'), ('bad'), ('0 9 * * *')) v(e);
SELECT e, alfred.cron_valid(e) FROM (VALUES ('0 9 * * *'), ('bad'), ('0 9 * * *')) v(e);
