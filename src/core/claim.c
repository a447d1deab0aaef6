/*-------------------------------------------------------------------------
 *
 * claim.c
 *		Formatting and strict parsing of identity claims (see claim.h).
 *
 * A claim is "v1.<user id>.<expires>.<origin>.<mac>": the user id as 32
 * lowercase hex digits, the expiry in Unix seconds, the global id of the
 * backend that signed it, and HMAC-SHA256 of everything before the last dot
 * as 64 lowercase hex digits.  The parser accepts exactly what the formatter
 * writes and nothing else; it never reads past len and needs no terminator.
 *
 *-------------------------------------------------------------------------
 */
#include "claim.h"

#include <stdio.h>
#include <string.h>

#define PREFIX "v1."
#define PREFIX_LEN 3
#define MAX_DIGITS 19			/* INT64_MAX has 19 digits */

static const char hexdigits[] = "0123456789abcdef";

static void
put_hex(char *out, const uint8_t *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		out[2 * i] = hexdigits[bytes[i] >> 4];
		out[2 * i + 1] = hexdigits[bytes[i] & 0x0F];
	}
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Reads exactly 2n lowercase hex digits at *p (end excluded) into bytes. */
static bool
get_hex(const char **p, const char *end, uint8_t *bytes, size_t n)
{
	if ((size_t) (end - *p) < 2 * n)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		int			hi = hex_value((*p)[2 * i]);
		int			lo = hex_value((*p)[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		bytes[i] = (uint8_t) (hi << 4 | lo);
	}
	*p += 2 * n;
	return true;
}

/* Reads a canonical non-negative int64 at *p, up to the next character that is not a digit. */
static bool
get_number(const char **p, const char *end, int64_t *value)
{
	const char *s = *p;
	uint64_t	v = 0;
	size_t		n = 0;

	while (s + n < end && s[n] >= '0' && s[n] <= '9')
	{
		if (n == MAX_DIGITS)
			return false;
		v = v * 10 + (uint64_t) (s[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0') || v > (uint64_t) INT64_MAX)
		return false;
	*value = (int64_t) v;
	*p = s + n;
	return true;
}

static bool
get_dot(const char **p, const char *end)
{
	if (*p >= end || **p != '.')
		return false;
	(*p)++;
	return true;
}

size_t
alfred_claim_payload(char *buf, size_t size,
					 const uint8_t user_id[ALFRED_CLAIM_UUID_LEN],
					 int64_t expires, int64_t origin)
{
	char		hex[2 * ALFRED_CLAIM_UUID_LEN + 1];
	int			n;

	if (expires < 0 || origin < 0)
		return 0;
	put_hex(hex, user_id, ALFRED_CLAIM_UUID_LEN);
	hex[2 * ALFRED_CLAIM_UUID_LEN] = '\0';
	n = snprintf(buf, size, PREFIX "%s.%lld.%lld", hex, (long long) expires, (long long) origin);
	if (n < 0 || (size_t) n >= size)
		return 0;
	return (size_t) n;
}

size_t
alfred_claim_append_mac(char *buf, size_t size, size_t len,
						const uint8_t mac[ALFRED_CLAIM_MAC_LEN])
{
	size_t		total = len + 1 + 2 * ALFRED_CLAIM_MAC_LEN;

	if (total >= size)
		return 0;
	buf[len] = '.';
	put_hex(buf + len + 1, mac, ALFRED_CLAIM_MAC_LEN);
	buf[total] = '\0';
	return total;
}

bool
alfred_claim_parse(const char *s, size_t len, AlfredClaim *claim)
{
	const char *p = s;
	const char *end = s + len;

	if (s == NULL || len < PREFIX_LEN || len > ALFRED_CLAIM_MAX_LEN ||
		memcmp(s, PREFIX, PREFIX_LEN) != 0)
		return false;
	p += PREFIX_LEN;
	if (!get_hex(&p, end, claim->user_id, ALFRED_CLAIM_UUID_LEN) || !get_dot(&p, end) ||
		!get_number(&p, end, &claim->expires) || !get_dot(&p, end) ||
		!get_number(&p, end, &claim->origin))
		return false;
	claim->signed_len = (size_t) (p - s);
	if (!get_dot(&p, end) || !get_hex(&p, end, claim->mac, ALFRED_CLAIM_MAC_LEN))
		return false;
	return p == end;
}

bool
alfred_claim_mac_equal(const uint8_t a[ALFRED_CLAIM_MAC_LEN],
					   const uint8_t b[ALFRED_CLAIM_MAC_LEN])
{
	volatile uint8_t diff = 0;

	for (size_t i = 0; i < ALFRED_CLAIM_MAC_LEN; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}
