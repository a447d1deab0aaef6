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
