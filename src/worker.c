/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The alfred scheduler background workers: registration, shared
 *		memory, the main loop, the commit-time wake-up and worker_status.
 *
 * Each of alfred.workers workers owns a slot in shared memory holding its
 * latch (pgprocno), state, counters and the time it next wakes up.  A worker
 * first connects to no database and waits, quietly, until alfred.database
 * exists; then it exits with status 1 so that the postmaster restarts it at
 * once, and the new incarnation connects to that database.  There it waits
 * for the alfred extension, then loops: one cycle runs due tasks in batches
 * (scheduler.c, the same code as alfred.run_due_tasks) and sleeps on its
 * latch until the earliest next_run_at, at most alfred.max_naptime.  On a
 * Citus cluster a cycle runs the batches of the shards placed on the node,
 * round-robin, and an idle worker looks at its placements every second.
 *
 * A trigger on scheduled_tasks notes the earliest next_run_at a transaction
 * inserts or moves; a commit callback then sets the latch of every worker
 * that would otherwise sleep past it, so the worker never wakes before the
 * row is visible and never polls.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "alfred.h"
#include "row.h"
#include "scheduler.h"

PGDLLEXPORT void alfred_worker_main(Datum main_arg);

/*---- GUC variables ----*/
static char *alfred_database = NULL;
static int	alfred_workers = 2;
static bool alfred_enabled = true;
static int	alfred_max_naptime = 60000;

/*---- shared state ----*/

typedef enum WorkerState
{
	WORKER_STOPPED = 0,
	WORKER_STARTING,
	WORKER_WAITING_DATABASE,
	WORKER_WAITING_EXTENSION,
	WORKER_DISABLED,
	WORKER_IDLE,
	WORKER_RUNNING
} WorkerState;

static const char *const state_names[] = {
	"stopped", "starting", "waiting for database", "waiting for extension",
	"disabled", "idle", "running"
};

typedef struct WorkerSlot
{
	pid_t		pid;
	int			pgprocno;
	WorkerState state;
	TimestampTz started_at;
	TimestampTz last_tick;
	TimestampTz next_wakeup;	/* 0 while a cycle runs: wake on any change */
	int64		ticks;
	int64		runs_done;
	int64		errors;
	bool		database_seen;	/* the last incarnation saw alfred.database */
	char		last_error[128];
} WorkerSlot;

typedef struct AlfredShared
{
	slock_t		mutex;
	int			nslots;
	WorkerSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} AlfredShared;

static AlfredShared *shared = NULL;
static WorkerSlot *my_slot = NULL;

static long sleep_until(TimestampTz next, TimestampTz now);
static void wake_workers(TimestampTz due);

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Earliest next_run_at this transaction made visible (0: none). */
static TimestampTz pending_wake = 0;

/*
 * The same, of a transaction this backend prepared (two-phase commit: Citus
 * commits a transaction that wrote on several nodes with PREPARE TRANSACTION
 * and, on the same connection, COMMIT PREPARED).  Its rows become visible at
 * COMMIT PREPARED, whose own transaction's commit then wakes the workers.
 */
static TimestampTz prepared_wake = 0;
static bool xact_callback_registered = false;

/* How often a worker with no database to connect to looks again. */
#define DATABASE_POLL_MS 1000
/* Due rows that another worker holds locked: look again after this long. */
#define LOCKED_PAUSE_MS 10
/*
 * Pause after an unexpected error, so a persistent one cannot spin: from
 * ERROR_PAUSE_MIN_MS, doubling while errors repeat, up to ERROR_PAUSE_MS.
 */
#define ERROR_PAUSE_MIN_MS 100
#define ERROR_PAUSE_MS 2000
/*
 * On a Citus cluster, how often an idle worker reads which shards are placed
 * on its node: a shard the rebalancer moved here is served within this long
 * (its rows arrive by logical replication, which fires no wake-up trigger).
 */
#define SHARD_RECHECK_MS 1000

static Size
shared_size(void)
{
	return add_size(offsetof(AlfredShared, slots),
					mul_size(Max(alfred_workers, 1), sizeof(WorkerSlot)));
}

static void
shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_size());
}

static void
shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("alfred scheduler", shared_size(), &found);
	if (!found)
	{
		memset(shared, 0, shared_size());
		SpinLockInit(&shared->mutex);
		shared->nslots = alfred_workers;
		for (int i = 0; i < alfred_workers; i++)
			shared->slots[i].pgprocno = -1;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * The settings the worker reads after each reload.  Defined whether or not
 * alfred is preloaded, so that they can be set (and are reserved) anywhere.
 */
static void
define_reloadable_gucs(void)
{
	DefineCustomBoolVariable("alfred.enabled",
							 "Whether the alfred scheduler executes due tasks.",
							 NULL,
							 &alfred_enabled,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("alfred.max_naptime",
							"Longest time the scheduler sleeps between checks.",
							"The scheduler wakes earlier when a task falls due or is scheduled.",
							&alfred_max_naptime,
							60000, 10, 3600000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
}

/* The settings that size shared memory and start the workers. */
static void
define_postmaster_gucs(void)
{
	DefineCustomStringVariable("alfred.database",
							   "Database in which the alfred scheduler runs.",
							   "The scheduler waits until this database exists and has the alfred extension.",
							   &alfred_database,
							   "postgres",
							   PGC_POSTMASTER,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("alfred.workers",
							"Number of alfred scheduler workers.",
							"Zero disables the scheduler.",
							&alfred_workers,
							2, 0, 32,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);
}

/*
 * Called from _PG_init: defines the worker's settings and, only while
 * shared_preload_libraries are loaded, the postmaster settings, the shared
 * memory and the workers themselves.
 */
void
alfred_worker_init(void)
{
	BackgroundWorker worker;

	define_reloadable_gucs();
	if (!process_shared_preload_libraries_in_progress)
		return;
	define_postmaster_gucs();

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = shmem_startup;

	for (int i = 0; i < alfred_workers; i++)
	{
		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = 1;
		snprintf(worker.bgw_library_name, BGW_MAXLEN, "alfred");
		snprintf(worker.bgw_function_name, BGW_MAXLEN, "alfred_worker_main");
		snprintf(worker.bgw_name, BGW_MAXLEN, "alfred scheduler %d", i);
		snprintf(worker.bgw_type, BGW_MAXLEN, "alfred scheduler");
		worker.bgw_main_arg = Int32GetDatum(i);
		RegisterBackgroundWorker(&worker);
	}
}

/*---- slot updates (this worker's own slot) ----*/

static void
set_state(WorkerState state)
{
	SpinLockAcquire(&shared->mutex);
	my_slot->state = state;
	SpinLockRelease(&shared->mutex);
}

static void
set_next_wakeup(TimestampTz t)
{
	SpinLockAcquire(&shared->mutex);
	my_slot->next_wakeup = t;
	SpinLockRelease(&shared->mutex);
}

static void
record_batch(int64 runs, TimestampTz tick)
{
	SpinLockAcquire(&shared->mutex);
	my_slot->runs_done += runs;
	my_slot->last_tick = tick;
	SpinLockRelease(&shared->mutex);
}

static void
record_cycle(void)
{
	SpinLockAcquire(&shared->mutex);
	my_slot->ticks++;
	SpinLockRelease(&shared->mutex);
}

static void
record_error(const char *message)
{
	SpinLockAcquire(&shared->mutex);
	my_slot->errors++;
	strlcpy(my_slot->last_error, message ? message : "", sizeof(my_slot->last_error));
	SpinLockRelease(&shared->mutex);
}

static void
set_database_seen(void)
{
	SpinLockAcquire(&shared->mutex);
	my_slot->database_seen = true;
	SpinLockRelease(&shared->mutex);
}

static bool
take_database_seen(void)
{
	bool		seen;

	SpinLockAcquire(&shared->mutex);
	seen = my_slot->database_seen;
	my_slot->database_seen = false;
	SpinLockRelease(&shared->mutex);
	return seen;
}

static void
release_slot(int code, Datum arg)
{
	(void) code;
	(void) arg;
	SpinLockAcquire(&shared->mutex);
	my_slot->pid = 0;
	my_slot->pgprocno = -1;
	my_slot->state = WORKER_STOPPED;
	my_slot->next_wakeup = 0;
	SpinLockRelease(&shared->mutex);
}

static void
attach_slot(int index)
{
	if (shared == NULL || index < 0 || index >= shared->nslots)
		elog(ERROR, "alfred scheduler slot %d is not in shared memory", index);
	my_slot = &shared->slots[index];
	SpinLockAcquire(&shared->mutex);
	my_slot->pid = MyProcPid;
	my_slot->pgprocno = MyProc->pgprocno;
	my_slot->state = WORKER_STARTING;
	my_slot->started_at = GetCurrentTimestamp();
	my_slot->next_wakeup = 0;
	my_slot->last_tick = 0;
	my_slot->ticks = 0;
	my_slot->runs_done = 0;
	my_slot->errors = 0;
	my_slot->last_error[0] = '\0';
	SpinLockRelease(&shared->mutex);
	before_shmem_exit(release_slot, (Datum) 0);
}

/*---- waking workers at commit ----*/

static void
wake_xact_callback(XactEvent event, void *arg)
{
	TimestampTz due = pending_wake;

	(void) arg;

	if (event == XACT_EVENT_PREPARE)
	{
		if (due != 0 && (prepared_wake == 0 || due < prepared_wake))
			prepared_wake = due;
		pending_wake = 0;
		return;
	}
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	pending_wake = 0;
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_PARALLEL_COMMIT)
		return;
	/* a prepared transaction's (a commit after it may be its COMMIT PREPARED) */
	if (prepared_wake != 0 && (due == 0 || prepared_wake < due))
		due = prepared_wake;
	prepared_wake = 0;
	if (due == 0 || shared == NULL)
		return;
	wake_workers(due);
}

/*
 * Sets the latch of every worker that would sleep past `due` (or is in the
 * middle of a cycle, whose result may predate the caller's commit).
 */
static void
wake_workers(TimestampTz due)
{
	if (shared == NULL)
		return;
	for (int i = 0; i < shared->nslots; i++)
	{
		WorkerSlot *slot = &shared->slots[i];
		int			pgprocno;
		bool		wake;

		SpinLockAcquire(&shared->mutex);
		pgprocno = slot->pgprocno;
		wake = slot->pid != 0 && pgprocno >= 0 && slot != my_slot &&
			(slot->next_wakeup == 0 || slot->next_wakeup > due);
		SpinLockRelease(&shared->mutex);
		if (wake)
			SetLatch(&ProcGlobal->allProcs[pgprocno].procLatch);
	}
}

/*
 * AFTER INSERT OR UPDATE row trigger on scheduled_tasks (its WHEN clause
 * keeps it to active rows with a next_run_at): remembers the earliest
 * next_run_at so that the commit wakes the workers.
 */
PG_FUNCTION_INFO_V1(alfred_scheduled_task_wake);
Datum
alfred_scheduled_task_wake(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	HeapTuple	tuple;
	TupleDesc	desc;
	int			attnum;
	bool		isnull;
	Datum		value;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "alfred_scheduled_task_wake: not called as a row trigger");

	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	desc = trigdata->tg_relation->rd_att;
	if (shared != NULL && my_slot == NULL)
	{
		attnum = alfred_attnum(desc, "next_run_at");
		value = heap_getattr(tuple, attnum, desc, &isnull);
		if (!isnull && (pending_wake == 0 || DatumGetTimestampTz(value) < pending_wake))
		{
			pending_wake = DatumGetTimestampTz(value);
			if (!xact_callback_registered)
			{
				RegisterXactCallback(wake_xact_callback, NULL);
				xact_callback_registered = true;
			}
		}
	}
	return PointerGetDatum(tuple);
}

/*---- the worker ----*/

/*
 * Whether alfred.database exists.  Connected to no database, only a heap
 * scan of pg_database works (as in the autovacuum launcher): its indexes
 * need pg_class until the shared relcache init file exists.
 */
static bool
database_exists(void)
{
	bool		exists = false;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (!exists && (tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tuple);

		exists = strcmp(NameStr(db->datname), alfred_database) == 0 &&
			db->datconnlimit != DATCONNLIMIT_INVALID_DB;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return exists;
}

/*
 * Waits, without logging, until alfred.database exists; then exits with
 * status 1 so that the postmaster starts a worker that connects to it.
 */
static void
wait_for_database(void)
{
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	set_state(WORKER_WAITING_DATABASE);
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (database_exists())
		{
			set_database_seen();
			proc_exit(1);		/* restarted at once, and connects */
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 DATABASE_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

static void
begin_batch(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "alfred scheduler: running due tasks");
}

static void
end_batch(int done, TimestampTz now)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	record_batch(done, now);
	CHECK_FOR_INTERRUPTS();
}

/*
 * True the first time this worker enters the shard, when the runs a crash
 * left 'running' in it are settled (the shards seen: TopMemoryContext).
 */
static bool
take_unsettled_shard(int64 shardid)
{
	static List *settled = NIL;
	ListCell   *lc;
	MemoryContext old;
	int64	   *id;

	foreach(lc, settled)
		if (*(int64 *) lfirst(lc) == shardid)
			return false;
	old = MemoryContextSwitchTo(TopMemoryContext);
	id = palloc(sizeof(int64));
	*id = shardid;
	settled = lappend(settled, id);
	MemoryContextSwitchTo(old);
	return true;
}

/*
 * The cycle on a Citus cluster: the shards of scheduled_tasks placed on
 * this node (shards), round-robin, one batch of one shard per transaction,
 * until every shard's batch comes back short.  *next receives the earliest
 * due time of the drained shards; returns the runs done in the last round
 * (alfred.batch_size or more: the cycle stopped with work left).
 */
static int
run_shards(List *shards, MemoryContext cycle_context, TimestampTz *next, TimestampTz *last)
{
	List	   *left;
	int			round_done = 0;

	static uint32 rotation = 0;

	/* the lists live in the cycle's context (a transaction's ends with it) */
	MemoryContextSwitchTo(cycle_context);
	left = list_copy(shards);
	/* each cycle starts at the next shard: one that keeps failing cannot starve the others */
	if (list_length(left) > 1)
	{
		int			first = rotation++ % list_length(left);

		left = list_concat(list_copy_tail(left, first), list_truncate(list_copy(left), first));
	}

	while (left != NIL && alfred_enabled && !ConfigReloadPending)
	{
		List	   *more = NIL;
		ListCell   *lc;

		round_done = 0;
		foreach(lc, left)
		{
			int64		shardid = *(int64 *) lfirst(lc);
			TimestampTz now;
			int			done = 0;

			begin_batch();
			now = GetCurrentTimestamp();
			*last = now;
			if (alfred_scheduler_enter_shard(shardid))
			{
				if (take_unsettled_shard(shardid))
					alfred_scheduler_settle_crashed();
				done = alfred_scheduler_tick(now, alfred_batch_size);
				if (done >= alfred_batch_size)
				{
					MemoryContext old = MemoryContextSwitchTo(cycle_context);

					more = lappend(more, lfirst(lc));
					MemoryContextSwitchTo(old);
				}
				else
				{
					TimestampTz due = alfred_scheduler_next_due();

					if (due != 0 && (*next == 0 || due < *next))
						*next = due;
				}
				alfred_scheduler_leave_shard();
			}
			end_batch(done, now);
			MemoryContextSwitchTo(cycle_context);
			round_done = Max(round_done, done);
		}
		list_free(left);
		left = more;
	}
	return left != NIL ? alfred_batch_size : round_done;
}

/*
 * One cycle: batches of due tasks, each in its own transaction, until a
 * batch comes back short; returns how long to sleep (ms).  On a Citus
 * cluster the batches are those of the shards placed on this node.
 */
static long
run_cycle(void)
{
	static bool settled = false;
	TimestampTz now;
	TimestampTz next = 0;
	int			done;
	bool		ready;
	bool		sharded = false;
	List	   *shards = NIL;
	MemoryContext cycle_context = CurrentMemoryContext;

	set_next_wakeup(0);
	do
	{
		begin_batch();
		ready = OidIsValid(get_extension_oid("alfred", true));
		now = GetCurrentTimestamp();
		done = 0;
		if (ready)
		{
			set_state(WORKER_RUNNING);
			sharded = alfred_scheduler_sharded();
			if (sharded)
				shards = alfred_scheduler_local_shards(cycle_context);
			else
			{
				if (!settled)
				{
					alfred_scheduler_settle_crashed();
					settled = true;
				}
				done = alfred_scheduler_tick(now, alfred_batch_size);
				if (done < alfred_batch_size)
					next = alfred_scheduler_next_due();
			}
		}
		end_batch(done, now);
	} while (ready && !sharded && done >= alfred_batch_size && alfred_enabled && !ConfigReloadPending);

	if (sharded)
		done = run_shards(shards, cycle_context, &next, &now);

	record_cycle();
	if (!ready)
	{
		set_state(WORKER_WAITING_EXTENSION);
		set_next_wakeup(TimestampTzPlusMilliseconds(now, alfred_max_naptime));
		return alfred_max_naptime;
	}
	set_state(WORKER_IDLE);
	if (done >= alfred_batch_size)
		return 0;				/* more to do, after reloading settings */
	if (done == 0 && next != 0 && next <= now)
		next = TimestampTzPlusMilliseconds(now, LOCKED_PAUSE_MS);
	/* a shard moved here (by the rebalancer) is found within SHARD_RECHECK_MS */
	if (sharded && (next == 0 || next > TimestampTzPlusMilliseconds(now, SHARD_RECHECK_MS)))
		next = TimestampTzPlusMilliseconds(now, SHARD_RECHECK_MS);
	return sleep_until(next, now);
}

/* Milliseconds from now until next (0 = nothing due), at most max_naptime. */
static long
sleep_until(TimestampTz next, TimestampTz now)
{
	long		ms = alfred_max_naptime;
	TimestampTz limit = TimestampTzPlusMilliseconds(now, alfred_max_naptime);

	if (next != 0 && next < limit)
	{
		ms = (long) ((next - now + 999) / 1000);
		if (ms < 0)
			ms = 0;
		limit = next;
	}
	set_next_wakeup(limit);
	return ms;
}

/*
 * The error net, as PostgresMain and the autovacuum launcher have it: forget
 * the error context callbacks of the frames the error unwound (they point
 * into dead stack), log, abort the transaction (which also releases SPI, the
 * snapshots, locks and buffers), flush the error state and free the cycle's
 * memory; then the loop goes on.  Any number of errors can be caught this
 * way: nothing of the failed cycle survives it.
 */
static void
recover_from_error(MemoryContext cycle_context)
{
	ErrorData  *edata;

	error_context_stack = NULL;
	HOLD_INTERRUPTS();
	alfred_scheduler_leave_shard();
	disable_all_timeouts(false);
	QueryCancelPending = false;
	EmitErrorReport();
	MemoryContextSwitchTo(cycle_context);
	edata = CopyErrorData();
	AbortCurrentTransaction();
	MemoryContextSwitchTo(TopMemoryContext);
	FlushErrorState();
	record_error(edata->message);
	MemoryContextReset(cycle_context);
	pgstat_report_activity(STATE_IDLE, NULL);
	RESUME_INTERRUPTS();
}

/*
 * Sleeps ms on the latch, honouring SIGHUP and shutdown at once; a latch set
 * (a commit waking the workers) ends the sleep early only when `wakeable`:
 * after an error the full pause is kept, so a busy application cannot turn
 * a persistent failure into a spin.
 */
static void
pause_ms(long ms, bool wakeable)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left = (long) ((end - GetCurrentTimestamp() + 999) / 1000);

		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (wakeable)
			break;
	}
}

static void
worker_loop(void)
{
	MemoryContext cycle_context;
	sigjmp_buf	local_sigjmp_buf;
	volatile long timeout = 0;
	volatile long error_pause = 0;	/* 0: the last cycle succeeded */

	cycle_context = AllocSetContextCreate(TopMemoryContext, "alfred scheduler cycle",
										  ALLOCSET_DEFAULT_SIZES);
	if (sigsetjmp(local_sigjmp_buf, 1) != 0)
	{
		recover_from_error(cycle_context);
		/* back off: 100 ms, doubling up to ERROR_PAUSE_MS while it keeps failing */
		error_pause = error_pause == 0 ? ERROR_PAUSE_MIN_MS
			: Min(error_pause * 2, ERROR_PAUSE_MS);
		set_next_wakeup(TimestampTzPlusMilliseconds(GetCurrentTimestamp(), error_pause));
		pause_ms(error_pause, false);
		timeout = 0;
	}
	PG_exception_stack = &local_sigjmp_buf;

	for (;;)
	{
		if (timeout != 0)
			pause_ms(timeout, true);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextSwitchTo(cycle_context);
		if (alfred_enabled)
			timeout = run_cycle();
		else
		{
			set_state(WORKER_DISABLED);
			timeout = sleep_until(0, GetCurrentTimestamp());
		}
		error_pause = 0;
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(cycle_context);
	}
}

void
alfred_worker_main(Datum main_arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	attach_slot(DatumGetInt32(main_arg));
	alfred_scheduler_in_worker = true;

	if (alfred_database == NULL || alfred_database[0] == '\0')
	{
		set_state(WORKER_DISABLED);
		for (;;)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}

	/*
	 * Connecting to a database that does not exist is a FATAL error, and the
	 * postmaster would restart us every second to fail again: unless the
	 * previous incarnation saw the database, wait for it without connecting.
	 * The flag is cleared first, so a failed connection leads back here.
	 */
	if (!take_database_seen())
		wait_for_database();
	BackgroundWorkerInitializeConnection(alfred_database, NULL, 0);
	set_database_seen();
	pgstat_report_appname("alfred scheduler");

	worker_loop();
}

/*---- alfred.worker_status ----*/

PG_FUNCTION_INFO_V1(alfred_worker_status);
Datum
alfred_worker_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	if (shared == NULL)
		return (Datum) 0;
	for (int i = 0; i < shared->nslots; i++)
	{
		WorkerSlot	slot;
		Datum		values[10];
		bool		nulls[10] = {0};

		SpinLockAcquire(&shared->mutex);
		slot = shared->slots[i];
		SpinLockRelease(&shared->mutex);

		values[0] = Int32GetDatum(i);
		values[1] = Int32GetDatum(slot.pid);
		nulls[1] = slot.pid == 0;
		values[2] = CStringGetTextDatum(state_names[slot.state]);
		values[3] = TimestampTzGetDatum(slot.started_at);
		nulls[3] = slot.started_at == 0;
		values[4] = TimestampTzGetDatum(slot.last_tick);
		nulls[4] = slot.last_tick == 0;
		values[5] = TimestampTzGetDatum(slot.next_wakeup);
		nulls[5] = slot.next_wakeup == 0;
		values[6] = Int64GetDatum(slot.ticks);
		values[7] = Int64GetDatum(slot.runs_done);
		values[8] = Int64GetDatum(slot.errors);
		values[9] = CStringGetTextDatum(slot.last_error);
		nulls[9] = slot.last_error[0] == '\0';
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
