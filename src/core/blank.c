/*-------------------------------------------------------------------------
 *
 * blank.c
 *		Whether a text looks blank.  A name, title or message made only of
 *		tabs, newlines, no-break spaces, ideographic spaces or zero-width
 *		characters is as empty as '' to the person who reads it, so alfred
 *		refuses them all wherever it refuses empty text.
 *
 * Blank characters: Unicode's White_Space property (the ASCII controls
 * TAB, LF, VT, FF, CR, space, NEL U+0085, NO-BREAK SPACE U+00A0, OGHAM
 * SPACE MARK U+1680, the spaces U+2000-U+200A, the line and paragraph
 * separators U+2028/U+2029, NARROW NO-BREAK SPACE U+202F, MEDIUM
 * MATHEMATICAL SPACE U+205F, IDEOGRAPHIC SPACE U+3000), plus characters that
 * are drawn as nothing: MONGOLIAN VOWEL SEPARATOR U+180E, ZERO WIDTH SPACE,
 * NON-JOINER and JOINER U+200B-U+200D, WORD JOINER U+2060, ZERO WIDTH
 * NO-BREAK SPACE (BOM) U+FEFF, the Hangul fillers U+115F, U+1160, U+3164,
 * U+FFA0 and BRAILLE PATTERN BLANK U+2800.
 *
 *-------------------------------------------------------------------------
 */
#include "blank.h"

bool
alfred_is_blank_char(uint32_t c)
{
	if (c < 0x80)
		return c == ' ' || (c >= 0x09 && c <= 0x0D);
	switch (c)
	{
		case 0x0085:
		case 0x00A0:
		case 0x115F:
		case 0x1160:
		case 0x1680:
		case 0x180E:
		case 0x2028:
		case 0x2029:
		case 0x202F:
		case 0x205F:
		case 0x2060:
		case 0x2800:
		case 0x3000:
		case 0x3164:
		case 0xFEFF:
		case 0xFFA0:
			return true;
		default:
			return c >= 0x2000 && c <= 0x200D;
	}
}

/*
 * Decodes the character at s[*i] and advances *i; false for malformed or
 * truncated UTF-8 (which is never blank).
 */
static bool
next_char(const unsigned char *s, size_t len, size_t *i, uint32_t *c)
{
	unsigned char b = s[*i];
	int			n;

	if (b < 0x80)
	{
		*c = b;
		(*i)++;
		return true;
	}
	if (b >= 0xC2 && b <= 0xDF)
		n = 1, *c = b & 0x1F;
	else if (b >= 0xE0 && b <= 0xEF)
		n = 2, *c = b & 0x0F;
	else if (b >= 0xF0 && b <= 0xF4)
		n = 3, *c = b & 0x07;
	else
		return false;
	if (len - *i <= (size_t) n)
		return false;
	for (int k = 1; k <= n; k++)
	{
		if ((s[*i + k] & 0xC0) != 0x80)
			return false;
		*c = (*c << 6) | (s[*i + k] & 0x3F);
	}
	/* overlong forms, surrogates, past U+10FFFF */
	if ((n == 2 && *c < 0x800) || (n == 3 && *c < 0x10000) ||
		(*c >= 0xD800 && *c <= 0xDFFF) || *c > 0x10FFFF)
		return false;
	*i += n + 1;
	return true;
}

bool
alfred_utf8_is_blank(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *) s;
	size_t		i = 0;

	while (i < len)
	{
		uint32_t	c;

		if (!next_char(u, len, &i, &c) || !alfred_is_blank_char(c))
			return false;
	}
	return true;
}
