/*-------------------------------------------------------------------------
 *
 * blank.h
 *		Whether a text looks blank: the one definition behind alfred.is_blank()
 *		and every check that refuses empty names, titles and messages.  No
 *		PostgreSQL dependency.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_BLANK_H
#define ALFRED_BLANK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether a code point shows nothing: white space, or an invisible filler. */
extern bool alfred_is_blank_char(uint32_t c);

/*
 * Whether s (len bytes of UTF-8) has no character but blank ones; the empty
 * string is blank, and malformed UTF-8 is not.
 */
extern bool alfred_utf8_is_blank(const char *s, size_t len);

#endif							/* ALFRED_BLANK_H */
