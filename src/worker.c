/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The alfred scheduler background worker (placeholder until the
 *		scheduler lands: registers nothing).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "alfred.h"

void
alfred_worker_init(void)
{
}
