/*
 * test_claim.c
 *		Unit tests of src/core/claim.c: a claim formats and parses back to the
 *		same fields and bytes, and every non-canonical or damaged spelling is
 *		refused (wrong version, case, sign, leading zeros, overflow, missing or
 *		extra parts, truncation, trailing bytes, embedded NUL).
 */
#include <stdint.h>
#include <string.h>

#include "claim.h"
#include "tap.h"

static const uint8_t uid[ALFRED_CLAIM_UUID_LEN] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10
};

#define UID_HEX "0123456789abcdeffedcba9876543210"
#define MAC_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static bool
parses(const char *s)
{
	AlfredClaim c;

	return alfred_claim_parse(s, strlen(s), &c);
}

int
main(void)
{
	char		buf[ALFRED_CLAIM_MAX_LEN + 1];
	uint8_t		mac[ALFRED_CLAIM_MAC_LEN];
	uint8_t		other[ALFRED_CLAIM_MAC_LEN];
	AlfredClaim c;
	size_t		n;

	for (int i = 0; i < ALFRED_CLAIM_MAC_LEN; i++)
		mac[i] = (uint8_t) ((i % 16) * 0x11);

	n = alfred_claim_payload(buf, sizeof(buf), uid, 1700000000, 10000012345);
	is_str(buf, "v1." UID_HEX ".1700000000.10000012345", "payload: version, user id, expiry, origin");
	is_int(n, strlen(buf), "payload length returned");
	n = alfred_claim_append_mac(buf, sizeof(buf), n, mac);
	is_str(buf, "v1." UID_HEX ".1700000000.10000012345." MAC_HEX, "claim: payload and MAC");
	is_int(n, strlen(buf), "claim length returned");

	ok(alfred_claim_parse(buf, n, &c), "a formatted claim parses");
	ok(memcmp(c.user_id, uid, sizeof(uid)) == 0, "user id round-trips");
	is_int(c.expires, 1700000000, "expiry round-trips");
	is_int(c.origin, 10000012345, "origin round-trips");
	ok(memcmp(c.mac, mac, sizeof(mac)) == 0, "MAC round-trips");
	is_int(c.signed_len, strlen("v1." UID_HEX ".1700000000.10000012345"), "the MAC covers the payload only");

	/* Extremes. */
	n = alfred_claim_payload(buf, sizeof(buf), uid, INT64_MAX, INT64_MAX);
	n = alfred_claim_append_mac(buf, sizeof(buf), n, mac);
	is_int(n, ALFRED_CLAIM_MAX_LEN, "the longest claim is ALFRED_CLAIM_MAX_LEN");
	ok(alfred_claim_parse(buf, n, &c) && c.expires == INT64_MAX && c.origin == INT64_MAX,
	   "INT64_MAX round-trips");
	ok(parses("v1." UID_HEX ".0.0." MAC_HEX), "zeros are canonical");
	is_int(alfred_claim_payload(buf, sizeof(buf), uid, -1, 0), 0, "a negative expiry is refused");
	is_int(alfred_claim_payload(buf, sizeof(buf), uid, 0, -5), 0, "a negative origin is refused");
	is_int(alfred_claim_payload(buf, 20, uid, 1, 1), 0, "a short buffer is refused (payload)");
	n = alfred_claim_payload(buf, sizeof(buf), uid, 1, 1);
	is_int(alfred_claim_append_mac(buf, n + 10, n, mac), 0, "a short buffer is refused (MAC)");

	/* Non-canonical and damaged spellings. */
	ok(!parses(""), "empty");
	ok(!parses("v1"), "version only");
	ok(!parses("v2." UID_HEX ".1.1." MAC_HEX), "another version");
	ok(!parses("V1." UID_HEX ".1.1." MAC_HEX), "upper-case version");
	ok(!parses("v1.0123456789ABCDEFFEDCBA9876543210.1.1." MAC_HEX), "upper-case user id");
	ok(!parses("v1.01234567-89ab-cdef-fedc-ba9876543210.1.1." MAC_HEX), "user id with dashes");
	ok(!parses("v1." UID_HEX "0.1.1." MAC_HEX), "user id too long");
	ok(!parses("v1.0123456789abcdeffedcba987654321.1.1." MAC_HEX), "user id too short");
	ok(!parses("v1." UID_HEX ".01.1." MAC_HEX), "expiry with a leading zero");
	ok(!parses("v1." UID_HEX ".+1.1." MAC_HEX), "expiry with a sign");
	ok(!parses("v1." UID_HEX ".-1.1." MAC_HEX), "negative expiry");
	ok(!parses("v1." UID_HEX "..1." MAC_HEX), "empty expiry");
	ok(!parses("v1." UID_HEX ".9223372036854775808.1." MAC_HEX), "expiry above INT64_MAX");
	ok(!parses("v1." UID_HEX ".18446744073709551617.1." MAC_HEX), "expiry that wraps uint64");
	ok(!parses("v1." UID_HEX ".1.1e3." MAC_HEX), "origin in exponent form");
	ok(!parses("v1." UID_HEX ".1." MAC_HEX), "origin missing");
	ok(!parses("v1." UID_HEX ".1.1"), "MAC missing");
	ok(!parses("v1." UID_HEX ".1.1."), "MAC empty");
	ok(!parses("v1." UID_HEX ".1.1." MAC_HEX "0"), "MAC too long");
	ok(!parses("v1." UID_HEX ".1.1.00112233445566778899aabbccddeeff00112233445566778899aabbccddeef"),
	   "MAC too short");
	ok(!parses("v1." UID_HEX ".1.1.00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff"),
	   "upper-case MAC");
	ok(!parses("v1." UID_HEX ".1.1." MAC_HEX " "), "trailing space");
	ok(!parses(" v1." UID_HEX ".1.1." MAC_HEX), "leading space");
	ok(!parses("v1." UID_HEX ".1.1.1." MAC_HEX), "an extra part");
	{
		char		nul[] = "v1." UID_HEX ".1.1." MAC_HEX;

		nul[40] = '\0';
		ok(!alfred_claim_parse(nul, sizeof(nul) - 1, &c), "embedded NUL");
		ok(!alfred_claim_parse(nul, 0, &c), "length 0");
		ok(!alfred_claim_parse(NULL, 10, &c), "NULL");
	}

	memcpy(other, mac, sizeof(mac));
	ok(alfred_claim_mac_equal(mac, other), "equal MACs compare equal");
	other[ALFRED_CLAIM_MAC_LEN - 1] ^= 1;
	ok(!alfred_claim_mac_equal(mac, other), "a MAC differing in the last bit differs");
	other[ALFRED_CLAIM_MAC_LEN - 1] ^= 1;
	other[0] ^= 0x80;
	ok(!alfred_claim_mac_equal(mac, other), "a MAC differing in the first bit differs");

	return done_testing();
}
