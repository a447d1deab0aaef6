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
