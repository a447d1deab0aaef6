/*-------------------------------------------------------------------------
 *
 * scheduler.h
 *		The scheduler's tick, shared by alfred.run_due_tasks and the
 *		background worker, and the scheduler's settings that the worker
 *		reads too.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_SCHEDULER_H
#define ALFRED_SCHEDULER_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/palloc.h"

/* alfred.batch_size: due tasks a worker claims per transaction (scheduler.c) */
extern int	alfred_batch_size;

/* True in the scheduler worker (its own changes do not wake it). */
extern bool alfred_scheduler_in_worker;

/*
 * Runs at most max due tasks (and due retries) as of now, inside the
 * caller's transaction, SPI connected and a snapshot pushed; returns how
 * many runs it executed or queued.
 */
extern int	alfred_scheduler_tick(TimestampTz now, int max);

/* Earliest time something becomes due (0 when nothing is scheduled). */
extern TimestampTz alfred_scheduler_next_due(void);

/* True while the scheduler's own statement records runs (scheduler_guard.c). */
extern bool alfred_scheduler_recording;

/* Settles runs left 'running' by a crash (the worker calls it at start). */
extern void alfred_scheduler_settle_crashed(void);

/*
 * On a Citus cluster (scheduled_tasks distributed by user_id), each node
 * ticks the shards placed on it: alfred_scheduler_enter_shard makes the
 * tick, next_due and settle_crashed run in one local shard (false when it
 * is no longer placed here) until alfred_scheduler_leave_shard.
 */
extern bool alfred_scheduler_sharded(void);
extern List *alfred_scheduler_local_shards(MemoryContext mcxt);
extern bool alfred_scheduler_enter_shard(int64 shardid);
extern void alfred_scheduler_leave_shard(void);

#endif							/* ALFRED_SCHEDULER_H */
