/*
 * test_harness.c
 *		Checks that the unit-test harness itself reports results (TAP).
 */
#include "tap.h"

int
main(void)
{
	is_int(1 + 1, 2, "integers compare");
	is_str("alfred", "alfred", "strings compare");
	is_double(0.1 + 0.2, 0.3, 1e-12, "doubles compare within epsilon");
	return done_testing();
}
