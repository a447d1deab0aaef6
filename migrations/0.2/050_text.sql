-- 050 text: what counts as blank text, defined once (src/core/blank.c) and
-- used by every CHECK constraint and function that refuses empty names,
-- titles and messages, so text of tabs, newlines, no-break or ideographic
-- spaces or zero-width characters is refused wherever '' is.

CREATE FUNCTION @extschema@.is_blank(value text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'alfred_is_blank'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.is_blank(text) IS
'Whether a text shows nothing: it is empty or has only white space (Unicode White_Space: tabs, newlines, no-break, ideographic and other spaces) and invisible characters (zero-width spaces and joiners, BOM, Hangul fillers, braille blank). NULL for NULL. Every check that refuses blank text uses it.';

