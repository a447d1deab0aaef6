/*-------------------------------------------------------------------------
 *
 * alfred.c
 *		Entry point of the alfred extension: the module magic and _PG_init.
 *
 * _PG_init only calls each domain's init; each domain defines its own
 * settings (GUCs) there, next to the code that reads them.  Settings that
 * need a postmaster restart (alfred.database, alfred.workers) and the
 * scheduler worker exist only when alfred is in shared_preload_libraries
 * (alfred_worker_init checks); the SQL functions work without preloading.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "alfred.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	if (IsBinaryUpgrade)
		return;

	alfred_json_init();
	alfred_identity_init();
	alfred_scheduler_init();
	alfred_scheduler_guard_init();
	alfred_quota_init();
	alfred_integrations_init();
	alfred_worker_init();

	MarkGUCPrefixReserved("alfred");
}
