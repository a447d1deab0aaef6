/*
 * test_blank.c
 *		Unit tests of src/core/blank.c: each kind of blank character, text
 *		with something visible, and malformed UTF-8 (never blank).
 */
#include "blank.h"
#include "tap.h"

#define BLANK(lit, name) ok(alfred_utf8_is_blank(lit, sizeof(lit) - 1), "blank: %s", name)
#define NOT_BLANK(lit, name) ok(!alfred_utf8_is_blank(lit, sizeof(lit) - 1), "not blank: %s", name)

int
main(void)
{
	static const uint32_t blanks[] = {
		0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x115F, 0x1160, 0x1680, 0x180E,
		0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009,
		0x200A, 0x200B, 0x200C, 0x200D, 0x2028, 0x2029, 0x202F, 0x205F, 0x2060, 0x2800,
		0x3000, 0x3164, 0xFEFF, 0xFFA0
	};
	int			nblank = 0;
	int			nvisible = 0;

	for (size_t i = 0; i < sizeof(blanks) / sizeof(blanks[0]); i++)
		nblank += alfred_is_blank_char(blanks[i]);
	is_int(nblank, (int) (sizeof(blanks) / sizeof(blanks[0])), "every listed blank character is blank");
	for (uint32_t c = 0; c <= 0x10FFFF; c++)
		nvisible += !alfred_is_blank_char(c);
	is_int(nvisible, 0x110000 - (int) (sizeof(blanks) / sizeof(blanks[0])), "and no other code point is");

	BLANK("", "the empty string");
	BLANK("   ", "spaces");
	BLANK("\t\n\r\v\f", "tab, newline, carriage return, vertical tab, form feed");
	BLANK("\xC2\xA0", "NO-BREAK SPACE U+00A0");
	BLANK("\xC2\x85", "NEXT LINE U+0085");
	BLANK("\xE3\x80\x80", "IDEOGRAPHIC SPACE U+3000");
	BLANK("\xE2\x80\x83\xE2\x80\x89", "EM SPACE and THIN SPACE");
	BLANK("\xE2\x80\x8B", "ZERO WIDTH SPACE U+200B");
	BLANK("\xEF\xBB\xBF", "BOM U+FEFF");
	BLANK("\xE2\x80\xA8\xE2\x80\xA9", "LINE and PARAGRAPH SEPARATOR");
	BLANK(" \xC2\xA0\t\xE2\x80\xAF\xE3\x85\xA4\n", "a mix, with a Hangul filler");

	NOT_BLANK("a", "a letter");
	NOT_BLANK(" \xC2\xA0x\xC2\xA0 ", "a letter between no-break spaces");
	NOT_BLANK("\xC3\xA9", "e with acute U+00E9");
	NOT_BLANK("\xE5\xAD\x97", "a CJK ideograph");
	NOT_BLANK("\xF0\x9F\x98\x80", "an emoji (4 bytes)");
	NOT_BLANK(" \x00 ", "NUL between spaces");
	NOT_BLANK("\xA0", "a lone continuation byte");
	NOT_BLANK("\xC2", "a truncated sequence");
	NOT_BLANK("\xE3\x80", "a truncated 3-byte sequence");
	NOT_BLANK("\xC0\xA0", "an overlong space");
	NOT_BLANK("\xE0\x80\xA0", "an overlong space in three bytes");
	NOT_BLANK("\xED\xA0\x80", "a surrogate");
	NOT_BLANK("\xE3\x20\x80", "a bad continuation byte");
	NOT_BLANK("\xF5\x80\x80\x80", "a lead byte past U+10FFFF");
	return done_testing();
}
