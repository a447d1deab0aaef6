/*-------------------------------------------------------------------------
 *
 * timezone.h
 *		The one rule for time zone names (timezone.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_TIMEZONE_H
#define ALFRED_TIMEZONE_H

#include "pgtime.h"

extern pg_tz *alfred_zone_lookup(const char *name);
extern pg_tz *alfred_zone_or_error(const char *name);

#endif							/* ALFRED_TIMEZONE_H */
