-- 400_habits: streaks (C: src/streak_sql.c, src/core/streak.c), habits.

CREATE FUNCTION @extschema@.streak_of(
	dates date[],
	frequency text,
	days_of_week int[],
	target int,
	today date,
	OUT current_streak int,
	OUT best_streak int,
	OUT state text)
RETURNS record
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_streak_of';

COMMENT ON FUNCTION @extschema@.streak_of(date[], text, int[], int, date) IS
'The streak of a habit as of today from its logged dates (the definition of DESIGN.md "Streaks"): frequency daily, custom (the ISO weekdays in days_of_week, 1 = Monday) or weekly (ISO weeks met with target logs; NULL target = the number of days_of_week, else 1). current_streak counts met periods in a row ending in the open period or the scheduled one before it; state is done, pending, at_risk, lost or none. Dates after today, NULLs and duplicates are ignored.';

-- The streak columns of alfred.habits are the C core's tally: current_streak
-- is the run of met periods ending at last_met_period (the first day of that
-- period: the day, or the ISO week's Monday), best_streak the longest run,
-- period_logs the logs in last_logged's week (weekly habits).  A reader trusts
-- current_streak only while last_met_period is the open period or the one
-- before it; alfred.habit_streak applies that rule, so no nightly job zeroes
-- broken streaks.

CREATE FUNCTION @extschema@.habit_streak(
	habit @extschema@.habits,
	today date,
	OUT current_streak int,
	OUT best_streak int,
	OUT state text)
RETURNS record
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_habit_streak';

COMMENT ON FUNCTION @extschema@.habit_streak(@extschema@.habits, date) IS
'The streak and state of a habit as of today, read in O(1) from its stored tally (the same definition as streak_of): the stored current_streak counts only while its last met period is the open period or the scheduled one before it.';

CREATE FUNCTION @extschema@._habit_append(habit @extschema@.habits, day date)
RETURNS @extschema@.habits
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_habit_append';

COMMENT ON FUNCTION @extschema@._habit_append(@extschema@.habits, date) IS
'Internal to log_habit: the habit with a log on day folded into its streak tally in O(1); NULL when day comes before the latest log (a back-fill, which needs _habit_recompute).';

CREATE FUNCTION @extschema@._habit_recompute(habit @extschema@.habits, days date[], today date)
RETURNS @extschema@.habits
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_habit_recompute';

COMMENT ON FUNCTION @extschema@._habit_recompute(@extschema@.habits, date[], date) IS
'Internal to log_habit, unlog_habit and the schedule trigger: the habit with its streak tally rebuilt from all its logged days as of today (NULL today: every day counts). Raises 22023 for an invalid schedule.';

-- A user's day: one rule, used by user_today and by the habit lists that
-- compute each habit's day inside a query (where, on Citus, no function may
-- read another table: they look the user's clock up first).
CREATE FUNCTION @extschema@._local_day(at timestamptz, timezone text, day_start_hour int)
RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT (($1 AT TIME ZONE $2) - make_interval(hours => coalesce($3, 0)))::date
$$;
COMMENT ON FUNCTION @extschema@._local_day(timestamptz, text, int) IS
'Internal: the day "at" falls on in a time zone whose days start day_start_hour hours after midnight (NULL: 0). NULL for a NULL zone.';

CREATE FUNCTION @extschema@._user_time(user_id uuid, OUT timezone text, OUT day_start_hour int)
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
	SELECT u.timezone, s.day_start_hour INTO _user_time.timezone, _user_time.day_start_hour
	  FROM @extschema@.users u
	  LEFT JOIN @extschema@.user_settings s ON s.user_id = u.id
	 WHERE u.id = _user_time.user_id;
END
$$;
COMMENT ON FUNCTION @extschema@._user_time(uuid) IS
'Internal: a user''s time zone and the hour their day starts (user_settings.day_start_hour, NULL when unset); both NULL for an unknown user.';

CREATE FUNCTION @extschema@.user_today(user_id uuid, day_start_hour int DEFAULT NULL)
RETURNS date
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
-- PL/pgSQL, not SQL: Citus plans no SQL-language function that reads a
-- distributed table with a parameter (this and the functions below).
DECLARE
	clock	record := @extschema@._user_time(user_today.user_id);
BEGIN
	RETURN @extschema@._local_day(now(), clock.timezone,
								  coalesce(user_today.day_start_hour, clock.day_start_hour));
END
$$;

COMMENT ON FUNCTION @extschema@.user_today(uuid, int) IS
'Today for a user: the date of now() in the user''s timezone, day_start_hour hours earlier (NULL: the user''s user_settings.day_start_hour, else 0), so with 4 a log at 02:00 counts for the day before. NULL for an unknown user.';

-- Lookups by id alone (the functions take a habit or task id); with user_id
-- so that the tables can be distributed by it (see alfred.distribute()).
CREATE UNIQUE INDEX habits_id_key ON @extschema@.habits (id, user_id);
CREATE UNIQUE INDEX tasks_id_key ON @extschema@.tasks (id, user_id);

-- Lock a habit and find the user's today for it; unknown ids raise 22023.
CREATE FUNCTION @extschema@._habit_for_update(habit_id uuid, OUT habit @extschema@.habits, OUT today date)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	owner_id uuid;
	r record;
BEGIN
	PERFORM @extschema@._require_argument('habit_id', habit_id);
	SELECT h AS habit,
		@extschema@._local_day(now(), u.timezone, h.day_start_hour) AS today
	INTO r
	FROM @extschema@.habits h JOIN @extschema@.users u ON u.id = h.user_id
	WHERE h.user_id = @extschema@.owner_of('@extschema@.habits', _habit_for_update.habit_id)
	  AND h.id = _habit_for_update.habit_id
	FOR UPDATE OF h;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'habit "%" does not exist', habit_id
			USING ERRCODE = 'no_data_found';
	END IF;
	habit := r.habit;
	today := r.today;
END
$$;

COMMENT ON FUNCTION @extschema@._habit_for_update(uuid) IS
'Internal to log_habit and unlog_habit: the habit row, locked, and the user''s today for it (timezone and day_start_hour); P0002 when the habit does not exist or is not visible.';

CREATE FUNCTION @extschema@._habit_logged_days(habit @extschema@.habits)
RETURNS date[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
	-- In index order, so the C side finds them sorted and skips its sort.
	RETURN ARRAY(SELECT l.logged_date FROM @extschema@.habit_logs l
		WHERE l.user_id = habit.user_id AND l.habit_id = habit.id
		ORDER BY l.logged_date);
END
$$;

COMMENT ON FUNCTION @extschema@._habit_logged_days(@extschema@.habits) IS
'Internal: every date a habit was logged on, in order (the input of a full recompute); plpgsql so that its plan is cached.';

CREATE FUNCTION @extschema@._habit_store(habit @extschema@.habits)
RETURNS @extschema@.habits
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	stored @extschema@.habits;
BEGIN
	UPDATE @extschema@.habits h
	SET current_streak = habit.current_streak,
		best_streak = habit.best_streak,
		total_completions = habit.total_completions,
		last_logged = habit.last_logged,
		last_met_period = habit.last_met_period,
		period_logs = habit.period_logs
	WHERE h.user_id = habit.user_id AND h.id = habit.id
	RETURNING h.* INTO stored;
	RETURN stored;
END
$$;

COMMENT ON FUNCTION @extschema@._habit_store(@extschema@.habits) IS
'Internal: write a habit''s streak tally (the columns the streak core computes) back to its row.';

CREATE FUNCTION @extschema@.log_habit(
	habit_id uuid,
	on_date date DEFAULT NULL,
	notes text DEFAULT NULL,
	duration_minutes int DEFAULT NULL)
RETURNS @extschema@.habits
LANGUAGE plpgsql VOLATILE
AS $$
-- The hot path: one locking read, one insert, one update; no nested calls
-- but the C fold (_habit_append).
#variable_conflict use_column
DECLARE
	owner_id uuid;
	h @extschema@.habits;
	tz text;
	today date;
	day date;
	updated @extschema@.habits;
BEGIN
	PERFORM @extschema@._require_argument('habit_id', habit_id);
	owner_id := @extschema@.owner_of('@extschema@.habits', log_habit.habit_id);
	SELECT * INTO h FROM @extschema@.habits WHERE user_id = owner_id AND id = log_habit.habit_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'habit "%" does not exist', habit_id
			USING ERRCODE = 'no_data_found';
	END IF;
	SELECT timezone INTO tz FROM @extschema@.users WHERE id = h.user_id;
	today := @extschema@._local_day(now(), tz, h.day_start_hour);
	day := coalesce(on_date, today);
	IF day > today THEN
		RAISE EXCEPTION 'habit "%" cannot be logged on "%"', h.name, day
			USING ERRCODE = 'invalid_parameter_value',
				DETAIL = format('That date is after the user''s today, %s.', today);
	END IF;
	IF NOT isfinite(day) THEN
		RAISE EXCEPTION 'habit "%" cannot be logged on "%"', h.name, day
			USING ERRCODE = 'invalid_parameter_value', DETAIL = 'The date must be finite.';
	END IF;

	INSERT INTO @extschema@.habit_logs (user_id, habit_id, logged_date, notes, duration_minutes)
	VALUES (h.user_id, h.id, day, log_habit.notes, log_habit.duration_minutes)
	ON CONFLICT (user_id, habit_id, logged_date) DO NOTHING;
	IF NOT FOUND THEN
		RETURN h;				-- already logged that day: nothing changes
	END IF;

	updated := @extschema@._habit_append(h, day);
	IF updated.id IS NULL THEN		-- a back-fill: recompute from the history
		updated := @extschema@._habit_recompute(h, @extschema@._habit_logged_days(h), today);
	END IF;
	UPDATE @extschema@.habits
	SET current_streak = updated.current_streak,
		best_streak = updated.best_streak,
		total_completions = updated.total_completions,
		last_logged = updated.last_logged,
		last_met_period = updated.last_met_period,
		period_logs = updated.period_logs
	WHERE user_id = h.user_id AND id = h.id
	RETURNING * INTO h;
	RETURN h;
END
$$;

COMMENT ON FUNCTION @extschema@.log_habit(uuid, date, text, int) IS
'Log a habit on on_date (NULL: today in the user''s timezone, shifted by the habit''s day_start_hour) and return the habit with its streak updated: in O(1) when the date comes after every earlier log, by a full recompute for a back-fill. Logging a date twice changes nothing; a date after the user''s today raises 22023; an unknown (or invisible) habit raises P0002.';

CREATE FUNCTION @extschema@.unlog_habit(habit_id uuid, on_date date DEFAULT NULL)
RETURNS @extschema@.habits
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	r record;
	h @extschema@.habits;
	today date;
BEGIN
	SELECT * INTO r FROM @extschema@._habit_for_update(habit_id);
	h := r.habit;
	today := r.today;
	DELETE FROM @extschema@.habit_logs l
	WHERE l.user_id = h.user_id AND l.habit_id = h.id
		AND l.logged_date = coalesce(on_date, today);
	IF NOT FOUND THEN
		RETURN h;				-- nothing logged that day: nothing changes
	END IF;
	RETURN @extschema@._habit_store(
		@extschema@._habit_recompute(h, @extschema@._habit_logged_days(h), today));
END
$$;

COMMENT ON FUNCTION @extschema@.unlog_habit(uuid, date) IS
'Remove the log of a habit on on_date (NULL: the user''s today) and return the habit with its streak recomputed from the remaining history (best_streak can go down). A date without a log changes nothing; an unknown (or invisible) habit raises P0002.';

CREATE FUNCTION @extschema@.recompute_habit(habit_id uuid)
RETURNS @extschema@.habits
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	r record;
	h @extschema@.habits;
	today date;
BEGIN
	SELECT * INTO r FROM @extschema@._habit_for_update(habit_id);
	h := r.habit;
	today := r.today;
	RETURN @extschema@._habit_store(
		@extschema@._habit_recompute(h, @extschema@._habit_logged_days(h), today));
END
$$;

COMMENT ON FUNCTION @extschema@.recompute_habit(uuid) IS
'Rebuild a habit''s streak columns from its logs (after habit_logs rows were written directly, or when health_check reports streak drift) and return the habit. An unknown (or invisible) habit raises P0002.';

-- An insert validates the schedule (22023) and keeps the streak columns it is
-- given, so that a dump restores as it was (its logs come after it; after an
-- import of logs, recompute_habit); a schedule change recomputes them.
CREATE FUNCTION @extschema@._habit_schedule_trigger()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
	-- NEW as a habits row: on Citus the trigger fires on a shard, whose row
	-- type (habits_102008) the functions below do not take.
	h @extschema@.habits := pg_catalog.jsonb_populate_record(NULL::@extschema@.habits, pg_catalog.to_jsonb(NEW));
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM @extschema@.habit_streak(h, '2000-01-01');
		RETURN NEW;
	END IF;
	RETURN @extschema@._habit_recompute(h, @extschema@._habit_logged_days(h),
		@extschema@.user_today(NEW.user_id, NEW.day_start_hour));
END
$$;

COMMENT ON FUNCTION @extschema@._habit_schedule_trigger() IS
'Trigger on habits: validates the schedule of a new habit (22023; its streak columns are kept, so a dump restores as it was); recomputes the streak tally when frequency, days_of_week, target_per_week or day_start_hour change.';

CREATE TRIGGER habits_schedule_insert
	BEFORE INSERT ON @extschema@.habits
	FOR EACH ROW EXECUTE FUNCTION @extschema@._habit_schedule_trigger();

CREATE TRIGGER habits_schedule_update
	BEFORE UPDATE OF frequency, days_of_week, target_per_week, day_start_hour ON @extschema@.habits
	FOR EACH ROW
	WHEN (OLD.frequency IS DISTINCT FROM NEW.frequency
		OR OLD.days_of_week IS DISTINCT FROM NEW.days_of_week
		OR OLD.target_per_week IS DISTINCT FROM NEW.target_per_week
		OR OLD.day_start_hour IS DISTINCT FROM NEW.day_start_hour)
	EXECUTE FUNCTION @extschema@._habit_schedule_trigger();

CREATE FUNCTION @extschema@.habits_at_risk(user_id uuid)
RETURNS TABLE (habit_id uuid, name text, current_streak int, best_streak int, state text, last_logged date)
LANGUAGE plpgsql STABLE
AS $$
-- (PL/pgSQL, the user's timezone first: Citus plans no SQL-language function
-- that reads a distributed table with a parameter, and a query it sends to a
-- shard may call no function that reads another table, like user_today)
#variable_conflict use_column
DECLARE
	clock	record := @extschema@._user_time(habits_at_risk.user_id);
BEGIN
	IF clock.timezone IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY
	SELECT h.id, h.name, s.current_streak, s.best_streak, s.state, h.last_logged
	FROM @extschema@.habits h
	CROSS JOIN LATERAL @extschema@.habit_streak(
		pg_catalog.jsonb_populate_record(NULL::@extschema@.habits, pg_catalog.to_jsonb(h)),
		@extschema@._local_day(now(), clock.timezone, coalesce(h.day_start_hour, clock.day_start_hour))) s
	WHERE h.user_id = habits_at_risk.user_id AND h.active AND s.state = 'at_risk'
	ORDER BY s.current_streak DESC, h.name;
END
$$;

COMMENT ON FUNCTION @extschema@.habits_at_risk(uuid) IS
'The user''s active habits whose streak is at risk today (in the user''s timezone): a daily or custom habit scheduled today, not yet logged, with a streak above 0; a weekly habit that needs a log on every remaining day of the week. Longest streaks first.';
