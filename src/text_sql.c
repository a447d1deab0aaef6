/*-------------------------------------------------------------------------
 *
 * text_sql.c
 *		alfred.is_blank(value text): whether a text looks blank (nothing but
 *		white space and invisible characters, src/core/blank.c).
 *
 * Every CHECK constraint and function that refuses empty text asks it, so
 * a title of tabs or no-break spaces is refused wherever '' is.  Text in a
 * database encoding other than UTF-8 is converted first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"

#include "alfred.h"
#include "blank.h"

bool
alfred_text_is_blank(text *t)
{
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);
	char	   *utf8;
	bool		blank;

	if (len == 0 || GetDatabaseEncoding() == PG_UTF8 ||
		GetDatabaseEncoding() == PG_SQL_ASCII)
		return alfred_utf8_is_blank(s, len);
	utf8 = pg_server_to_any(s, len, PG_UTF8);
	if (utf8 == s)
		return alfred_utf8_is_blank(s, len);
	blank = alfred_utf8_is_blank(utf8, strlen(utf8));
	pfree(utf8);
	return blank;
}

PG_FUNCTION_INFO_V1(alfred_is_blank);
Datum
alfred_is_blank(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(alfred_text_is_blank(PG_GETARG_TEXT_PP(0)));
}
