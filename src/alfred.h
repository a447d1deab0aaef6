/*-------------------------------------------------------------------------
 *
 * alfred.h
 *		Declarations shared by the backend side of alfred: the init entry
 *		points that _PG_init calls (each defines its domain's settings) and
 *		small helpers used across files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_H
#define ALFRED_H

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/uuid.h"

/*---- Per-domain initialisation, called from _PG_init ----*/
extern void alfred_json_init(void);
extern void alfred_worker_init(void);
extern void alfred_identity_init(void);
extern void alfred_scheduler_init(void);
extern void alfred_scheduler_guard_init(void);
extern void alfred_quota_init(void);
extern void alfred_integrations_init(void);

/*---- Required arguments (arguments.c): NULL raises 22004 ----*/
extern void alfred_require_arg(FunctionCallInfo fcinfo, int argno, const char *name);

/*---- Times taken from callers (timecheck.c) ----*/
extern bool alfred_time_in_range(TimestampTz t);
extern void alfred_check_time(const char *name, TimestampTz t);
extern TimestampTz alfred_timestamptz_plus_saturating(TimestampTz t, int64 usec);

/*---- Identity (identity.c) ----*/
extern void alfred_identity_swap(bool *valid, pg_uuid_t *user_id);
extern Oid	alfred_tables_owner(void);

/*---- Text (text_sql.c) ----*/
extern bool alfred_text_is_blank(text *t);

#endif							/* ALFRED_H */
