/*
 * fuzz_claim.c
 *		libFuzzer target for the claim parser (src/core/claim.c).
 *
 * Any bytes: the parser reads within them only; what it accepts is
 * canonical, so formatting the parsed fields gives back exactly the input,
 * and the MAC covers exactly the bytes before the last dot.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	AlfredClaim claim;
	char	   *copy = malloc(size ? size : 1);
	char		buf[ALFRED_CLAIM_MAX_LEN + 1];
	size_t		n;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);	/* an exact-size heap copy, so ASan sees overreads */
	if (alfred_claim_parse(copy, size, &claim))
	{
		n = alfred_claim_payload(buf, sizeof(buf), claim.user_id, claim.expires, claim.origin);
		if (n != claim.signed_len || memcmp(buf, copy, n) != 0)
			abort();
		n = alfred_claim_append_mac(buf, sizeof(buf), n, claim.mac);
		if (n != size || memcmp(buf, copy, size) != 0)
			abort();
	}
	free(copy);
	return 0;
}
