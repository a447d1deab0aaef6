/*-------------------------------------------------------------------------
 *
 * alfred.h
 *		Declarations shared by the backend side of alfred: configuration
 *		variables and the init entry points that _PG_init calls.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_H
#define ALFRED_H

#include "datatype/timestamp.h"
#include "utils/uuid.h"

/*---- GUC variables (defined in alfred.c) ----*/
extern char *alfred_database;
extern int	alfred_workers;
extern bool alfred_enabled;
extern int	alfred_batch_size;
extern int	alfred_max_naptime;
extern int	alfred_retry_base_delay;
extern int	alfred_password_cost;
extern int	alfred_tool_timeout;
extern int	alfred_user_time_budget;
extern bool alfred_fair_claim;
extern int	alfred_ai_daily_limit;
extern int	alfred_mcp_silence_timeout;
extern char *alfred_claim;
extern int	alfred_claim_lifetime;
extern int	alfred_max_active_tasks;
extern int	alfred_min_task_interval;
extern int	alfred_max_tool_args;

/*---- Per-domain initialisation, called from _PG_init ----*/
extern void alfred_json_init(void);
extern void alfred_worker_init(void);
extern void alfred_identity_init(void);
extern void alfred_scheduler_guard_init(void);

/*---- Times taken from callers (timecheck.c) ----*/
extern bool alfred_time_in_range(TimestampTz t);
extern void alfred_check_time(const char *name, TimestampTz t);
extern TimestampTz alfred_timestamptz_plus_saturating(TimestampTz t, int64 usec);

/*---- Identity (identity.c) ----*/
extern bool alfred_current_user_id(pg_uuid_t *user_id);
extern void alfred_identity_swap(bool *valid, pg_uuid_t *user_id);

/*---- Text (text_sql.c) ----*/
extern bool alfred_text_is_blank(text *t);

#endif							/* ALFRED_H */
