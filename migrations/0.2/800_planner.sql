-- 800_planner: the free-slot planner (C: src/planner_sql.c, src/core/planner.c).

CREATE FUNCTION @extschema@.plan_free_slots(
	busy tstzrange[],
	"from" timestamptz,
	"to" timestamptz,
	duration interval,
	timezone text,
	work_blocks jsonb DEFAULT NULL,
	quiet_start time DEFAULT NULL,
	quiet_end time DEFAULT NULL,
	lunch_start time DEFAULT NULL,
	lunch_end time DEFAULT NULL,
	buffer_before interval DEFAULT '0',
	buffer_after interval DEFAULT '0')
RETURNS SETOF tstzrange
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'alfred_plan_free_slots_sql';

COMMENT ON FUNCTION @extschema@.plan_free_slots(tstzrange[], timestamptz, timestamptz, interval, text, jsonb, time, time, time, time, interval, interval) IS
'The free slots between "from" and "to" at least duration long: inside work_blocks ([{"day": "monday", "start": "09:00", "end": "12:00"}], evaluated in timezone; NULL = whole days), outside busy ranges widened by buffer_before/buffer_after, quiet hours and lunch (times of day; quiet hours may wrap past midnight). The engine under find_free_slots.';

CREATE FUNCTION @extschema@.find_free_slots(
	user_id uuid,
	"from" timestamptz,
	"to" timestamptz,
	duration interval DEFAULT NULL,
	buffer_before interval DEFAULT NULL,
	buffer_after interval DEFAULT NULL,
	avoid_lunch boolean DEFAULT NULL)
RETURNS SETOF tstzrange
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tz text;
	st @extschema@.user_settings;
	mp jsonb;
	min_d interval;
	max_d interval;
	bb interval;
	ba interval;
	lunch boolean;
	busy tstzrange[];
	bad text;
BEGIN
	PERFORM @extschema@._require_argument('user_id', user_id);
	PERFORM @extschema@._require_argument('from', "from");
	PERFORM @extschema@._require_argument('to', "to");
	SELECT u.timezone INTO tz FROM @extschema@.users u WHERE u.id = find_free_slots.user_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'user "%" not found', user_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT @extschema@.may_act_for(user_id, false) THEN
		RAISE EXCEPTION 'permission denied to read the calendar of user "%"', user_id
			USING ERRCODE = '42501';
	END IF;
	SELECT * INTO st FROM @extschema@.user_settings s WHERE s.user_id = find_free_slots.user_id;
	mp := coalesce(st.meeting_preferences, '{}');
	SELECT e.key INTO bad FROM jsonb_each(mp) e
	WHERE CASE
		WHEN e.key IN ('min_duration_minutes', 'max_duration_minutes', 'buffer_before_minutes',
		               'buffer_after_minutes') THEN
			CASE WHEN jsonb_typeof(e.value) = 'number'
			     THEN e.value::numeric % 1 <> 0 OR e.value::numeric NOT BETWEEN 0 AND 10080
			     ELSE true END
		WHEN e.key = 'avoid_lunch_hours' THEN jsonb_typeof(e.value) <> 'boolean'
		WHEN e.key IN ('lunch_start', 'lunch_end') THEN
			jsonb_typeof(e.value) <> 'string' OR e.value #>> '{}' !~ '^([01]?[0-9]|2[0-3]):[0-5][0-9]$'
		ELSE false END
	ORDER BY e.key LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'invalid meeting preference "%": %', bad, mp->bad USING ERRCODE = '22023',
			DETAIL = 'Durations and buffers are whole minutes (0 to 10080), avoid_lunch_hours a boolean, lunch_start and lunch_end "HH:MM".';
	END IF;
	min_d := coalesce((mp->>'min_duration_minutes')::int, 15) * interval '1 minute';
	max_d := coalesce((mp->>'max_duration_minutes')::int, 480) * interval '1 minute';
	duration := coalesce(duration, min_d);
	IF duration < min_d OR duration > max_d THEN
		RAISE EXCEPTION 'duration "%" is outside the meeting preferences', duration
			USING ERRCODE = '22023',
			      DETAIL = format('The user''s meetings last from %s to %s.', min_d, max_d);
	END IF;
	bb := coalesce(buffer_before, (mp->>'buffer_before_minutes')::int * interval '1 minute', '0');
	ba := coalesce(buffer_after, (mp->>'buffer_after_minutes')::int * interval '1 minute', '0');
	lunch := coalesce(avoid_lunch, (mp->>'avoid_lunch_hours')::boolean, false);
	SELECT array_agg(tstzrange(i.start_datetime,
	                           coalesce(i.end_datetime, i.start_datetime + interval '1 hour')))
	INTO busy
	FROM @extschema@.items i
	WHERE i.user_id = find_free_slots.user_id AND i.source_type = 'event' AND NOT i.is_archived
	  AND i.start_datetime < "to" + ba
	  AND coalesce(i.end_datetime, i.start_datetime + interval '1 hour') > "from" - bb
	  AND coalesce(i.end_datetime, i.start_datetime + interval '1 hour') > i.start_datetime;
	RETURN QUERY SELECT * FROM @extschema@.plan_free_slots(
		busy, "from", "to", duration, tz, st.preferred_work_blocks,
		st.quiet_hours_start, st.quiet_hours_end,
		CASE WHEN lunch THEN coalesce((mp->>'lunch_start')::time, '12:00') END,
		CASE WHEN lunch THEN coalesce((mp->>'lunch_end')::time, '13:00') END,
		bb, ba);
END
$$;

COMMENT ON FUNCTION @extschema@.find_free_slots(uuid, timestamptz, timestamptz, interval, interval, interval, boolean) IS
'Free time of a user between "from" and "to": slots at least duration long inside their preferred work blocks (in users.timezone; none set = whole days), outside quiet hours and their calendar events (items with source_type event; one without an end lasts an hour) widened by buffers, and outside lunch (12:00-13:00 or meeting_preferences lunch_start/lunch_end) when avoid_lunch. NULL arguments come from meeting_preferences (duration = min_duration_minutes, default 15 minutes); a duration outside min/max_duration_minutes is 22023. P0002 unknown user, 42501 not allowed.';
