/*
 * fuzz_cron.c
 *		libFuzzer target for the cron core: any bytes are parsed; an error
 *		must come with a message, and a valid expression must find matches
 *		that really match, forward and backward, from a start time taken
 *		from the input, without looping.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		expr[ALFRED_CRON_MAX_LEN + 2];
	char		msg[256];
	alfred_cron c;
	alfred_cron_error err;
	alfred_cron_time t,
				u;
	uint32_t	seed = 0;
	size_t		i;

	if (size > ALFRED_CRON_MAX_LEN + 1)
		size = ALFRED_CRON_MAX_LEN + 1;
	memcpy(expr, data, size);
	expr[size] = '\0';
	for (i = 0; i < size; i++)
		seed = seed * 31 + data[i];

	if (alfred_cron_parse(expr, &c, &err) != ALFRED_CRON_OK)
	{
		alfred_cron_error_message(&err, msg, sizeof(msg));
		if (err.status == ALFRED_CRON_OK || msg[0] == '\0')
			abort();
		return 0;
	}
	if (c.interval_seconds != 0)
	{
		if (c.interval_seconds < 1 || c.interval_seconds > 59)
			abort();
		return 0;
	}
	if (c.minutes == 0 || c.hours == 0 || c.months == 0)
		abort();

	/* a start time from the input: years 1 BC to 3000 */
	alfred_cron_time_from_seconds((int64_t) (seed % 95617584000u) - 62167219200LL, &t);
	u = t;
	if (alfred_cron_next_match(&c, &u, t.year + 500))
	{
		if (!alfred_cron_matches(&c, &u) ||
			alfred_cron_time_to_seconds(&u) < alfred_cron_time_to_seconds(&t))
			abort();
	}
	else
		abort();				/* valid expressions fire within 500 years */
	u = t;
	if (alfred_cron_prev_match(&c, &u, t.year - 500))
	{
		if (!alfred_cron_matches(&c, &u) ||
			alfred_cron_time_to_seconds(&u) > alfred_cron_time_to_seconds(&t))
			abort();
	}
	else
		abort();
	return 0;
}
