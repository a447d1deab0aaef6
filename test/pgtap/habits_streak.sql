-- Incremental (log_habit's O(1) path) and full recompute (streak_of over the
-- logged dates) agree on random histories of every kind of schedule, with
-- back-fills and removals mixed in.
BEGIN;
SELECT plan(6);


SELECT alfred.create_user('tap-streak@example.com', 'secret-streak', timezone => 'Europe/Paris');

CREATE TEMP TABLE checks (kind text, agree boolean, tally_agree boolean, path text);

DO $$
DECLARE
	uid uuid := (SELECT id FROM alfred.users WHERE email = 'tap-streak@example.com');
	today date := alfred.user_today(uid);
	freqs text[] := '{daily,custom,weekly}';
	h alfred.habits;
	hid uuid;
	f text;
	dows int[];
	target int;
	day date;
	op int;
	before_last date;
	i int;
	k int;
BEGIN
	PERFORM setseed(0.4242);
	FOR i IN 1..150 LOOP
		f := freqs[1 + (i % 3)];
		dows := ARRAY(SELECT d FROM generate_series(1, 7) d WHERE random() < 0.5);
		IF cardinality(dows) = 0 THEN dows := '{3}'; END IF;
		target := CASE WHEN random() < 0.3 THEN NULL ELSE 1 + floor(random() * 7)::int END;
		INSERT INTO alfred.habits (user_id, name, frequency, days_of_week, target_per_week)
		VALUES (uid, 'h' || i, f, dows, target) RETURNING id INTO hid;
		day := today - 120 - floor(random() * 30)::int;
		FOR k IN 1..40 LOOP
			op := floor(random() * 10)::int;
			SELECT last_logged INTO before_last FROM alfred.habits WHERE id = hid;
			IF op < 7 THEN			-- the next log, in order (the O(1) path)
				day := least(today, day + 1 + floor(random() * 3)::int);
				h := alfred.log_habit(hid, day);
			ELSIF op < 9 THEN		-- a back-fill
				h := alfred.log_habit(hid, day - 1 - floor(random() * 20)::int);
			ELSE					-- a removal
				h := alfred.unlog_habit(hid, (SELECT logged_date FROM alfred.habit_logs
					WHERE habit_id = hid ORDER BY random() LIMIT 1));
			END IF;
			INSERT INTO checks
			SELECT f,
				alfred.habit_streak(h, today)::text =
					alfred.streak_of(alfred._habit_logged_days(h), f, dows, target, today)::text,
				row(h.*)::text = row((alfred._habit_recompute(h, alfred._habit_logged_days(h), today)).*)::text,
				CASE WHEN op < 7 AND (before_last IS NULL OR day > before_last) THEN 'append' ELSE 'other' END;
		END LOOP;
	END LOOP;
END
$$;

SELECT cmp_ok((SELECT count(*) FROM checks WHERE path = 'append')::int, '>', 3000,
	'many logs took the O(1) path');
SELECT is((SELECT count(*) FROM checks WHERE NOT agree AND kind = 'daily')::int, 0,
	'daily: stored streak agrees with streak_of over the logs');
SELECT is((SELECT count(*) FROM checks WHERE NOT agree AND kind = 'custom')::int, 0,
	'custom: stored streak agrees with streak_of over the logs');
SELECT is((SELECT count(*) FROM checks WHERE NOT agree AND kind = 'weekly')::int, 0,
	'weekly: stored streak agrees with streak_of over the logs');
SELECT is((SELECT count(*) FROM checks WHERE NOT tally_agree)::int, 0,
	'every stored tally equals a full recompute');
SELECT is((SELECT count(*) FROM alfred.habits h WHERE h.total_completions <>
		(SELECT count(*) FROM alfred.habit_logs l WHERE l.habit_id = h.id))::int, 0,
	'total_completions counts the logs');

SELECT * FROM finish();
ROLLBACK;
