/*-------------------------------------------------------------------------
 *
 * claim.h
 *		The text form of an identity claim: the signed statement "this
 *		transaction acts for user U until time T, for the backend O" that
 *		travels to Citus worker nodes as the setting alfred.claim.  Formatting
 *		and strict parsing only; the HMAC itself is computed by the caller.
 *		No PostgreSQL dependency.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_CLAIM_H
#define ALFRED_CLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ALFRED_CLAIM_UUID_LEN 16
#define ALFRED_CLAIM_MAC_LEN 32		/* HMAC-SHA256 */

/*
 * "v1." 32 hex "." up to 19 digits "." up to 19 digits "." 64 hex: at most
 * 3 + 32 + 1 + 19 + 1 + 19 + 1 + 64 = 140 characters.
 */
#define ALFRED_CLAIM_MAX_LEN 140

typedef struct AlfredClaim
{
	uint8_t		user_id[ALFRED_CLAIM_UUID_LEN];
	int64_t		expires;		/* Unix time, seconds; >= 0 */
	int64_t		origin;			/* the signing backend's global id; >= 0 */
	uint8_t		mac[ALFRED_CLAIM_MAC_LEN];
	size_t		signed_len;		/* the MAC covers the first signed_len bytes */
} AlfredClaim;

/*
 * Writes the signed part "v1.<user id, 32 lowercase hex>.<expires>.<origin>"
 * into buf (NUL-terminated) and returns its length, or 0 when a number is
 * negative or buf (size bytes) is too small.
 */
extern size_t alfred_claim_payload(char *buf, size_t size,
								   const uint8_t user_id[ALFRED_CLAIM_UUID_LEN],
								   int64_t expires, int64_t origin);

/*
 * Appends ".<mac, 64 lowercase hex>" to the len bytes of payload in buf and
 * returns the new length, or 0 when buf (size bytes) is too small.
 */
extern size_t alfred_claim_append_mac(char *buf, size_t size, size_t len,
									  const uint8_t mac[ALFRED_CLAIM_MAC_LEN]);

/*
 * Parses the len bytes at s.  Only the canonical form is accepted (lowercase
 * hex, decimal numbers without sign or leading zeros that fit in int64, no
 * other character), so a claim has one spelling and parsing then formatting
 * gives back the same bytes.  Returns false for anything else.
 */
extern bool alfred_claim_parse(const char *s, size_t len, AlfredClaim *claim);

/* Whether two MACs are equal, in time independent of where they differ. */
extern bool alfred_claim_mac_equal(const uint8_t a[ALFRED_CLAIM_MAC_LEN],
								   const uint8_t b[ALFRED_CLAIM_MAC_LEN]);

#endif							/* ALFRED_CLAIM_H */
