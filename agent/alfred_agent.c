/*-------------------------------------------------------------------------
 *
 * alfred_agent.c
 *		alfred-agent: the reference external worker of alfred.  It executes
 *		the runs of `external` tools that the scheduler queues, one command
 *		per tool, and reports each outcome back.
 *
 * One process, one thread, one poll() loop over: the database connection
 * (LISTEN alfred_runs), a self-pipe that signal handlers write to, and the
 * stdin/stdout/stderr pipes of the commands it runs.  Runs are claimed with
 * alfred.claim_runs (a lease, at most as many as there are free slots),
 * each command runs in its own process group with the run as JSON on its
 * stdin, and its stdout becomes the result (alfred.complete_run); failures
 * go to alfred.fail_run, transient unless the tool declares the exit code
 * permanent.  Leases of long runs are renewed with alfred.extend_lease;
 * a lost lease kills the command (someone else owns the run now).
 *
 * The agent keeps going through everything a run can do (hang, crash,
 * print garbage) and through server restarts: outcomes that cannot be
 * reported yet wait for the reconnection.  SIGTERM stops claiming, lets
 * running commands finish for shutdown_timeout, then kills and releases
 * them (fail_run, transient); a second SIGTERM does that at once.  SIGHUP
 * reads the configuration file again.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE			/* pipe2 */
#include "agent_core.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define AGENT_VERSION "0.1"
#define KILL_GRACE_MS 2000		/* SIGTERM to SIGKILL of a timed-out command */
#define STDERR_KEEP 2000		/* bytes of a command's stderr kept for errors */
#define RECONNECT_MIN_MS 250
#define RECONNECT_MAX_MS 30000
#define REPORT_GRACE_MS 10000	/* after shutdown, time left to report outcomes */
#define NEVER INT64_MAX

typedef enum RunState
{
	RUN_ACTIVE,					/* command running or its pipes still open */
	RUN_REPORT					/* outcome known, not yet reported */
} RunState;

typedef struct Run
{
	struct Run *next;
	RunState	state;
	char	   *run_id;
	char	   *tool_name;
	int			attempt;
	AgentTool	tool;			/* a copy; name and argv only until spawn */
	pid_t		pid;			/* 0 once reaped */
	int			wait_status;
	int			in_fd;			/* -1 when closed */
	int			out_fd;
	int			err_fd;
	char	   *input;
	size_t		input_len;
	size_t		input_off;
	char	   *out;
	size_t		out_len;
	size_t		out_cap;
	char		err[2 * STDERR_KEEP];
	size_t		err_len;
	int64_t		started;
	int64_t		deadline;		/* timeout of the command */
	int64_t		kill_at;		/* SIGKILL after SIGTERM */
	int64_t		renew_at;		/* next extend_lease */
	bool		timed_out;
	bool		too_large;
	bool		interrupted;	/* killed by shutdown */
	bool		lease_lost;
	/* the outcome, once state = RUN_REPORT */
	bool		ok;
	bool		transient;
	char	   *message;		/* result when ok, else the error */
} Run;

static AgentConfig cfg;
static const char *config_path;
static char worker_name[300];
static char *tools_array;
static PGconn *conn;
static int64_t reconnect_at;
static int	reconnect_delay;
static Run *runs;
static int	nactive;
static bool want_claim;
static bool backlog;			/* the last claim filled every free slot */
static int64_t next_poll;
static bool shutting_down;
static int64_t shutdown_deadline = NEVER;
static long n_completed;
static long n_failed;

static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_chld;
static volatile sig_atomic_t got_hup;
static int	sigpipe_fds[2] = {-1, -1};
static pid_t agent_pid;

/*---- time and logging ----*/

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * One log line on stderr: ts=... level=... event=... followed by key/value
 * pairs (const char *, NULL-terminated list).
 */
static void
log_event(const char *level, const char *event,...)
{
	char		line[4096] = "";
	char		ts[64];
	struct timeval tv;
	struct tm	tm;
	va_list		ap;
	const char *key;

	if (strcmp(level, "debug") == 0 && !cfg.debug)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (tv.tv_usec / 1000));
	alfred_agent_kv(line, sizeof(line), "ts", ts);
	alfred_agent_kv(line, sizeof(line), "level", level);
	alfred_agent_kv(line, sizeof(line), "event", event);
	va_start(ap, event);
	while ((key = va_arg(ap, const char *)) != NULL)
	{
		const char *value = va_arg(ap, const char *);

		alfred_agent_kv(line, sizeof(line), key, value ? value : "");
	}
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

static const char *
itoa_buf(char *buf, size_t len, long long v)
{
	snprintf(buf, len, "%lld", v);
	return buf;
}

/* libpq's messages end with a newline; log them without it. */
static const char *
pq_message(void)
{
	static char msg[1024];
	size_t		n;

	snprintf(msg, sizeof(msg), "%s", conn ? PQerrorMessage(conn) : "no connection");
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	return msg;
}

static void
fatal(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));

static void
fatal(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "alfred-agent: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

static char *
xstrdup(const char *s)
{
	char	   *r = strdup(s);

	if (r == NULL)
		abort();
	return r;
}

/* The configured tool names for a log line: "a,b", or "*" for claim = all. */
static const char *
tool_names(void)
{
	static char buf[1024];
	int			i;

	buf[0] = '\0';
	if (cfg.claim_all)
		return "*";
	for (i = 0; i < cfg.ntools; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
				 i ? "," : "", cfg.tools[i].name);
	return buf;
}

/*---- the database connection ----*/

static void
disconnect(void)
{
	if (conn == NULL)
		return;
	log_event("error", "connection_lost", "error", pq_message(), NULL);
	PQfinish(conn);
	conn = NULL;
	reconnect_delay = RECONNECT_MIN_MS;
	reconnect_at = now_ms() + reconnect_delay;
}

static bool
simple_command(const char *sql)
{
	PGresult   *res = PQexec(conn, sql);
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		log_event("error", "connect_failed", "sql", sql,
				  "error", PQresultErrorMessage(res), NULL);
	PQclear(res);
	return ok;
}

/* Messages the server sends outside a query (a shutdown notice, say). */
static void
log_notice(void *arg, const char *message)
{
	char		msg[1024];

	(void) arg;
	snprintf(msg, sizeof(msg), "%s", message);
	msg[strcspn(msg, "\n")] = '\0';
	log_event("warning", "server_message", "message", msg, NULL);
}

static void
try_connect(void)
{
	const char *keys[] = {"dbname", "fallback_application_name", NULL};
	const char *vals[] = {cfg.conninfo ? cfg.conninfo : "", "alfred-agent", NULL};
	char		ms[32];

	conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) != CONNECTION_OK ||
		!simple_command("LISTEN alfred_runs") ||
		!simple_command("SET statement_timeout = '60s'"))
	{
		reconnect_delay = reconnect_delay ? reconnect_delay * 2 : RECONNECT_MIN_MS;
		if (reconnect_delay > RECONNECT_MAX_MS)
			reconnect_delay = RECONNECT_MAX_MS;
		log_event("error", "connect_failed", "error", pq_message(),
				  "retry_ms", itoa_buf(ms, sizeof(ms), reconnect_delay), NULL);
		PQfinish(conn);
		conn = NULL;
		reconnect_at = now_ms() + reconnect_delay;
		return;
	}
	PQsetNoticeProcessor(conn, log_notice, NULL);
	reconnect_delay = 0;
	want_claim = true;
	log_event("info", "connected", "worker", worker_name,
			  "server_pid", itoa_buf(ms, sizeof(ms), PQbackendPID(conn)), NULL);
}

/*
 * Runs one statement.  Returns its result when it succeeded; otherwise NULL,
 * with conn set to NULL if the connection is gone (so the caller can tell a
 * lost connection from an error of the statement, whose message is copied
 * to err).
 */
static PGresult *
exec_sql(const char *sql, int nparams, const char *const *params,
		 char *err, size_t errlen)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	snprintf(err, errlen, "%s", PQresultErrorMessage(res));
	err[strcspn(err, "\n")] = '\0';
	PQclear(res);
	if (PQstatus(conn) == CONNECTION_BAD)
		disconnect();
	return NULL;
}

static void
drain_notifications(void)
{
	PGnotify   *n;

	while ((n = PQnotifies(conn)) != NULL)
	{
		want_claim = true;
		PQfreemem(n);
	}
}

/*---- running a command ----*/

static void
set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
kill_group(Run *r, int sig)
{
	if (r->pid > 0)
		kill(-r->pid, sig);
}

/* The child side of fork: never returns. */
static void
exec_command(Run *r, int in_fd, int out_fd, int err_fd, int report_fd)
{
	sigset_t	none;
	char		attempt[16];
	int			e;

	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	/* a command does not outlive an agent killed with -9 (its run comes back) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != agent_pid)
		_exit(127);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(127);
	snprintf(attempt, sizeof(attempt), "%d", r->attempt);
	setenv("ALFRED_RUN_ID", r->run_id, 1);
	setenv("ALFRED_TOOL", r->tool_name, 1);
	setenv("ALFRED_ATTEMPT", attempt, 1);
	execvp(r->tool.argv[0], r->tool.argv);
	e = errno;
	if (write(report_fd, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

static void
set_outcome(Run *r, bool ok, bool transient, const char *fmt,...)
	__attribute__((format(printf, 4, 5)));

static void
set_outcome(Run *r, bool ok, bool transient, const char *fmt,...)
{
	va_list		ap;
	char		buf[4096];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	r->ok = ok;
	r->transient = transient;
	r->message = xstrdup(buf);
	r->state = RUN_REPORT;
}

/*
 * Starts the command of a claimed run.  Any failure to start it becomes the
 * run's outcome (the run is then reported, never left hanging).
 */
static void
spawn(Run *r)
{
	int			in[2],
				out[2],
				err[2],
				rep[2];
	int			e = 0;
	ssize_t		n;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
		pipe2(err, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0)
	{
		set_outcome(r, false, true, "could not create pipes: %s", strerror(errno));
		return;
	}
	r->pid = fork();
	if (r->pid == 0)
		exec_command(r, in[0], out[1], err[1], rep[1]);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	close(rep[1]);
	if (r->pid < 0)
	{
		e = errno;
		close(in[1]);
		close(out[0]);
		close(err[0]);
		close(rep[0]);
		r->pid = 0;
		set_outcome(r, false, true, "could not fork: %s", strerror(e));
		return;
	}
	setpgid(r->pid, r->pid);
	/* The report pipe closes on a successful exec, or carries its errno. */
	do
		n = read(rep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(rep[0]);
	if (n == sizeof(e))
	{
		int			st;

		waitpid(r->pid, &st, 0);
		r->pid = 0;
		close(in[1]);
		close(out[0]);
		close(err[0]);
		set_outcome(r, false, false, "cannot execute \"%s\": %s",
					r->tool.argv[0], strerror(e));
		return;
	}
	r->in_fd = in[1];
	r->out_fd = out[0];
	r->err_fd = err[0];
	set_nonblock(r->in_fd);
	set_nonblock(r->out_fd);
	set_nonblock(r->err_fd);
	r->started = now_ms();
	r->deadline = r->started + r->tool.timeout_ms;
	r->kill_at = NEVER;
	r->renew_at = r->started + cfg.lease_ms / 2;
	nactive++;
}

static void
write_input(Run *r)
{
	while (r->in_fd >= 0 && r->input_off < r->input_len)
	{
		ssize_t		n = write(r->in_fd, r->input + r->input_off,
							  r->input_len - r->input_off);

		if (n < 0)
		{
			if (errno == EAGAIN || errno == EINTR)
				return;
			close_fd(&r->in_fd);	/* EPIPE: the command does not read it */
			return;
		}
		r->input_off += n;
	}
	close_fd(&r->in_fd);
}

/*
 * Reads what a pipe has now: the number of bytes, or 0 when there is
 * nothing to read yet or at the end (the fd is then closed).
 */
static ssize_t
read_pipe(int *fd, char *buf, size_t len)
{
	ssize_t		n = read(*fd, buf, len);

	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	close_fd(fd);
	return 0;
}

static void
read_stdout(Run *r)
{
	char		buf[65536];
	ssize_t		n;

	while (r->out_fd >= 0 && (n = read_pipe(&r->out_fd, buf, sizeof(buf))) > 0)
	{
		if (r->out_len + n > cfg.max_output)
		{
			r->too_large = true;
			kill_group(r, SIGKILL);
			close_fd(&r->out_fd);
			return;
		}
		if (r->out_len + n > r->out_cap)
		{
			r->out_cap = (r->out_len + n) * 2;
			r->out = realloc(r->out, r->out_cap);
			if (r->out == NULL)
				abort();
		}
		memcpy(r->out + r->out_len, buf, n);
		r->out_len += n;
	}
}

/* Keeps the last STDERR_KEEP bytes of the command's stderr. */
static void
read_stderr(Run *r)
{
	char		buf[8192];
	ssize_t		n;

	while (r->err_fd >= 0 && (n = read_pipe(&r->err_fd, buf, sizeof(buf))) > 0)
	{
		if ((size_t) n > STDERR_KEEP)
		{
			memcpy(r->err, buf + n - STDERR_KEEP, STDERR_KEEP);
			r->err_len = STDERR_KEEP;
		}
		else
		{
			if (r->err_len + n > sizeof(r->err))
			{
				size_t		keep = STDERR_KEEP - n;

				memmove(r->err, r->err + r->err_len - keep, keep);
				r->err_len = keep;
			}
			memcpy(r->err + r->err_len, buf, n);
			r->err_len += n;
		}
	}
}

/* The command's stderr, made printable, for an error message. */
static const char *
stderr_tail(Run *r)
{
	size_t		n = alfred_agent_trim_newlines(r->err, r->err_len);

	if (n >= sizeof(r->err))
		n = sizeof(r->err) - 1;
	alfred_agent_sanitize(r->err, n);
	r->err[n] = '\0';
	return n > 0 ? r->err : "(no output on stderr)";
}

/* The command is gone and its pipes are closed: decide the outcome. */
static void
decide(Run *r)
{
	int			st = r->wait_status;

	close_fd(&r->in_fd);
	nactive--;
	if (backlog)
		want_claim = true;
	if (r->interrupted)
		set_outcome(r, false, true, "interrupted: alfred-agent shut down before the command finished");
	else if (r->timed_out)
		set_outcome(r, false, true, "timed out after %d ms", r->tool.timeout_ms);
	else if (r->too_large)
		set_outcome(r, false, false, "output exceeds max_output (%zu bytes)", cfg.max_output);
	else if (WIFSIGNALED(st))
		set_outcome(r, false, true, "terminated by signal %d: %s", WTERMSIG(st), stderr_tail(r));
	else if (WEXITSTATUS(st) != 0)
		set_outcome(r, false, !alfred_agent_is_permanent(&r->tool, WEXITSTATUS(st)),
					"exit code %d: %s", WEXITSTATUS(st), stderr_tail(r));
	else
	{
		size_t		len = alfred_agent_trim_newlines(r->out, r->out_len);
		long		bad = alfred_agent_check_output(r->out, len);

		if (bad >= 0)
			set_outcome(r, false, false, "output is not UTF-8 text (invalid byte at offset %ld)", bad);
		else
		{
			r->ok = true;
			r->message = malloc(len + 1);
			if (r->message == NULL)
				abort();
			if (len > 0)
				memcpy(r->message, r->out, len);
			r->message[len] = '\0';
			r->state = RUN_REPORT;
		}
	}
}

static void
free_run(Run *r)
{
	Run		  **p;

	for (p = &runs; *p; p = &(*p)->next)
		if (*p == r)
		{
			*p = r->next;
			break;
		}
	free(r->run_id);
	free(r->tool_name);
	free(r->input);
	free(r->out);
	free(r->message);
	free(r);
}

static void
reap_children(void)
{
	pid_t		pid;
	int			st;
	Run		   *r;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
	{
		for (r = runs; r; r = r->next)
			if (r->pid == pid)
			{
				/* whatever the command left behind in its group goes too */
				kill(-pid, SIGKILL);
				r->pid = 0;
				r->wait_status = st;
				break;
			}
	}
}

/*---- claiming and reporting ----*/

static void
start_run(PGresult *res, int row)
{
	Run		   *r = calloc(1, sizeof(Run));
	const AgentTool *tool;
	AgentRunInput in;
	char		attempt[16];

	if (r == NULL)
		abort();
	in.run_id = PQgetvalue(res, row, 0);
	in.task_id = PQgetisnull(res, row, 1) ? NULL : PQgetvalue(res, row, 1);
	in.user_id = PQgetisnull(res, row, 2) ? NULL : PQgetvalue(res, row, 2);
	in.tool_name = PQgetvalue(res, row, 3);
	in.tool_args = PQgetisnull(res, row, 4) ? NULL : PQgetvalue(res, row, 4);
	in.prompt = PQgetisnull(res, row, 5) ? NULL : PQgetvalue(res, row, 5);
	in.attempt = PQgetisnull(res, row, 6) ? 1 : atoi(PQgetvalue(res, row, 6));
	r->run_id = xstrdup(in.run_id);
	r->tool_name = xstrdup(in.tool_name);
	r->attempt = in.attempt;
	r->in_fd = r->out_fd = r->err_fd = -1;
	r->state = RUN_ACTIVE;
	r->next = runs;
	runs = r;
	log_event("info", "run_claimed", "run_id", r->run_id, "tool", r->tool_name,
			  "attempt", itoa_buf(attempt, sizeof(attempt), r->attempt), NULL);
	tool = alfred_agent_find_tool(&cfg, r->tool_name);
	if (tool == NULL)
	{
		set_outcome(r, false, false, "no command is configured for tool \"%s\" in alfred-agent \"%s\"",
					r->tool_name, worker_name);
		return;
	}
	r->tool = *tool;
	r->input = alfred_agent_build_input(&in);
	r->input_len = strlen(r->input);
	spawn(r);
	/* the configuration may be reloaded while the command runs */
	r->tool.name = NULL;
	r->tool.argv = NULL;
	if (r->state == RUN_ACTIVE)
		write_input(r);
}

static void
claim(void)
{
	int			free_slots = cfg.concurrency - nactive;
	char		max[16],
				lease[32],
				err[1024];
	const char *params[4];
	PGresult   *res;
	int			i,
				n;

	want_claim = false;
	next_poll = now_ms() + cfg.poll_interval_ms;
	snprintf(max, sizeof(max), "%d", free_slots);
	snprintf(lease, sizeof(lease), "%d milliseconds", cfg.lease_ms);
	params[0] = worker_name;
	params[1] = tools_array;
	params[2] = max;
	params[3] = lease;
	res = exec_sql("SELECT run_id, task_id, user_id, tool_name, tool_args, prompt, attempt"
				   "  FROM alfred.claim_runs($1::text, $2::text[], $3::int, $4::interval)",
				   4, params, err, sizeof(err));
	if (res == NULL)
	{
		if (conn != NULL)
			log_event("error", "claim_failed", "error", err, NULL);
		backlog = false;
		return;
	}
	n = PQntuples(res);
	backlog = (n == free_slots);
	if (backlog)
		want_claim = true;
	for (i = 0; i < n; i++)
		start_run(res, i);
	PQclear(res);
	log_event("debug", "claimed", "runs", itoa_buf(max, sizeof(max), n), NULL);
}

/* Reports every decided run; stops at a lost connection (retried later). */
static void
report_runs(void)
{
	Run		   *r,
			   *next;

	for (r = runs; r && conn; r = next)
	{
		const char *params[3];
		char		err[1024];
		char		ms[32];
		PGresult   *res;

		next = r->next;
		if (r->state != RUN_REPORT)
			continue;
		params[0] = r->run_id;
		params[1] = r->message;
		params[2] = r->transient ? "true" : "false";
		if (r->ok)
			res = exec_sql("SELECT alfred.complete_run($1::uuid, $2::text)", 2, params, err, sizeof(err));
		else
			res = exec_sql("SELECT alfred.fail_run($1::uuid, $2::text, $3::boolean)", 3, params, err, sizeof(err));
		if (res == NULL && conn == NULL)
			return;
		itoa_buf(ms, sizeof(ms), r->started ? now_ms() - r->started : 0);
		if (res == NULL)
			log_event("error", "report_failed", "run_id", r->run_id, "tool", r->tool_name,
					  "error", err, NULL);
		else if (r->ok)
		{
			n_completed++;
			log_event("info", "run_completed", "run_id", r->run_id, "tool", r->tool_name,
					  "ms", ms, NULL);
		}
		else
		{
			n_failed++;
			log_event("warning", "run_failed", "run_id", r->run_id, "tool", r->tool_name,
					  "ms", ms, "transient", r->transient ? "true" : "false",
					  "error", r->message, NULL);
		}
		PQclear(res);
		free_run(r);
	}
}

static void
renew_leases(int64_t now)
{
	Run		   *r;

	for (r = runs; r && conn; r = r->next)
	{
		const char *params[3];
		char		lease[32],
					err[1024];
		PGresult   *res;

		if (r->state != RUN_ACTIVE || r->lease_lost || now < r->renew_at)
			continue;
		snprintf(lease, sizeof(lease), "%d milliseconds", cfg.lease_ms);
		params[0] = r->run_id;
		params[1] = worker_name;
		params[2] = lease;
		res = exec_sql("SELECT alfred.extend_lease($1::uuid, $2::text, $3::interval)",
					   3, params, err, sizeof(err));
		if (res != NULL)
		{
			PQclear(res);
			r->renew_at = now + cfg.lease_ms / 2;
			log_event("debug", "lease_extended", "run_id", r->run_id, NULL);
		}
		else if (conn != NULL)
		{
			/* someone else owns the run now: stop working on it */
			r->lease_lost = true;
			kill_group(r, SIGKILL);
			log_event("warning", "lease_lost", "run_id", r->run_id, "tool", r->tool_name,
					  "error", err, NULL);
		}
	}
}

/*---- configuration ----*/

/* Whether argv[0] names an executable (searching PATH for a bare name). */
static bool
executable(const char *cmd)
{
	const char *path = getenv("PATH");
	char		buf[PATH_MAX];

	if (strchr(cmd, '/') != NULL)
		return access(cmd, X_OK) == 0;
	while (path && *path)
	{
		size_t		n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int) n, n ? path : ".", cmd);
		if (access(buf, X_OK) == 0)
			return true;
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

/* The whole file as a string, or NULL with a message. */
static char *
read_file(const char *path, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "r");
	char	   *buf;
	size_t		len = 0,
				cap = 4096,
				n;

	if (f == NULL)
	{
		snprintf(err, errlen, "could not open configuration file \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(cap);
	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0)
	{
		len += n;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	if (buf == NULL)
		abort();
	if (ferror(f) || memchr(buf, '\0', len) != NULL)
	{
		snprintf(err, errlen, "could not read configuration file \"%s\": %s", path,
				 ferror(f) ? strerror(errno) : "it contains a NUL byte");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/*
 * Reads, parses and checks the configuration file into out (initialized
 * here).  Returns 0, or -1 with a message naming the file.
 */
static int
load_config(const char *path, AgentConfig *out, char *err, size_t errlen)
{
	char		perr[AGENT_ERRLEN];
	char	   *text = read_file(path, err, errlen);
	int			i;

	alfred_agent_config_init(out);
	if (text == NULL)
		return -1;
	if (alfred_agent_config_parse(text, out, perr, sizeof(perr)) != 0)
	{
		snprintf(err, errlen, "invalid configuration file \"%s\": %s", path, perr);
		free(text);
		return -1;
	}
	free(text);
	for (i = 0; i < out->ntools; i++)
		if (!executable(out->tools[i].argv[0]))
		{
			snprintf(err, errlen, "invalid configuration file \"%s\": command \"%s\" of tool \"%s\" is not an executable file",
					 path, out->tools[i].argv[0], out->tools[i].name);
			return -1;
		}
	return 0;
}

/*
 * SIGHUP: reads the configuration file again.  Tools, limits and timings
 * change for the runs claimed from now on; conninfo and name keep their
 * values (leases are held under the name).  A bad file changes nothing.
 */
static void
reload_config(void)
{
	AgentConfig next;
	char		err[AGENT_ERRLEN + PATH_MAX];

	if (load_config(config_path, &next, err, sizeof(err)) != 0)
	{
		alfred_agent_config_free(&next);
		log_event("error", "reload_failed", "error", err,
				  "detail", "the previous configuration stays in force", NULL);
		return;
	}
	free(next.conninfo);
	free(next.name);
	next.conninfo = cfg.conninfo;
	next.name = cfg.name;
	cfg.conninfo = cfg.name = NULL;
	alfred_agent_config_free(&cfg);
	cfg = next;
	free(tools_array);
	tools_array = alfred_agent_tools_array(&cfg);
	want_claim = true;
	log_event("info", "reloaded", "tools", tool_names(), NULL);
}

/*---- the loop ----*/

static void
check_timers(int64_t now)
{
	Run		   *r,
			   *next;

	for (r = runs; r; r = next)
	{
		next = r->next;
		if (r->state != RUN_ACTIVE)
			continue;
		if (r->pid > 0 && !r->timed_out && !r->interrupted &&
			(now >= r->deadline || now >= shutdown_deadline))
		{
			if (now >= r->deadline)
				r->timed_out = true;
			else
				r->interrupted = true;
			kill_group(r, SIGTERM);
			r->kill_at = now + KILL_GRACE_MS;
		}
		if (r->pid > 0 && now >= r->kill_at)
		{
			kill_group(r, SIGKILL);
			r->kill_at = NEVER;
		}
		if (r->pid == 0 && r->out_fd < 0 && r->err_fd < 0)
		{
			decide(r);
			if (r->lease_lost)
			{
				log_event("info", "run_abandoned", "run_id", r->run_id, NULL);
				free_run(r);
			}
		}
	}
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int
poll_timeout(int64_t now)
{
	int64_t		wake = now + 60000;
	Run		   *r;

	if (conn == NULL)
		wake = min64(wake, reconnect_at);
	else if (!shutting_down && nactive < cfg.concurrency)
		wake = min64(wake, want_claim ? now : next_poll);
	if (shutting_down)
	{
		if (shutdown_deadline > now)
			wake = min64(wake, shutdown_deadline);
		wake = min64(wake, shutdown_deadline + KILL_GRACE_MS + REPORT_GRACE_MS);
	}
	for (r = runs; r; r = r->next)
	{
		if (r->state == RUN_REPORT && conn != NULL)
			return 0;
		if (r->state != RUN_ACTIVE || r->pid == 0)
			continue;
		if (!r->timed_out && !r->interrupted)
			wake = min64(wake, r->deadline);
		wake = min64(wake, r->kill_at);
		if (conn != NULL && !r->lease_lost)
			wake = min64(wake, r->renew_at);
	}
	return wake <= now ? 0 : (int) (wake - now);
}

static void
on_signal(int sig)
{
	int			save = errno;

	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term++;
	if (write(sigpipe_fds[1], "x", 1) < 0)
	{
		/* the pipe is full: the loop is awake anyway */
	}
	errno = save;
}

static void
setup_signals(void)
{
	struct sigaction sa;

	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
		fatal("could not create a pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* orphans of killed commands are reparented to us, and reaped */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
}

static void
handle_signals(int64_t now)
{
	char		buf[64];

	while (read(sigpipe_fds[0], buf, sizeof(buf)) > 0)
		;
	if (got_chld)
	{
		got_chld = 0;
		reap_children();
	}
	if (got_hup)
	{
		got_hup = 0;
		reload_config();
	}
	if (got_term && !shutting_down)
	{
		char		n[16];

		shutting_down = true;
		shutdown_deadline = now + cfg.shutdown_timeout_ms;
		log_event("info", "shutting_down", "active_runs", itoa_buf(n, sizeof(n), nactive), NULL);
	}
	if (got_term > 1 && shutdown_deadline > now)
	{
		shutdown_deadline = now;
		log_event("info", "shutting_down_now", NULL);
	}
}

/*
 * Everything that needs the database, in this order: (re)connect, report
 * decided runs, renew leases (before claiming, so that a run of ours whose
 * lease ran out during a reconnection is not claimed again), claim.
 */
static void
database_work(int64_t now)
{
	if (conn == NULL && now >= reconnect_at)
		try_connect();
	if (conn != NULL)
	{
		drain_notifications();
		report_runs();
	}
	if (conn != NULL)
		renew_leases(now);
	if (conn != NULL && !shutting_down && now >= next_poll)
		want_claim = true;
	if (conn != NULL && !shutting_down && want_claim && nactive < cfg.concurrency)
		claim();
	/* the statements above may have brought notifications along */
	if (conn != NULL)
		drain_notifications();
}

/* The pollfds: the signal pipe, the connection, every open pipe of a run. */
static int
fill_pollfds(struct pollfd *fds, Run **owner)
{
	int			nfds = 0;
	Run		   *r;

#define ADD_FD(run, f, ev) do { owner[nfds] = (run); fds[nfds].fd = (f); \
		fds[nfds].events = (ev); fds[nfds++].revents = 0; } while (0)
	ADD_FD(NULL, sigpipe_fds[0], POLLIN);
	if (conn != NULL)
		ADD_FD(NULL, PQsocket(conn), POLLIN);
	for (r = runs; r; r = r->next)
	{
		if (r->in_fd >= 0)
			ADD_FD(r, r->in_fd, POLLOUT);
		if (r->out_fd >= 0)
			ADD_FD(r, r->out_fd, POLLIN);
		if (r->err_fd >= 0)
			ADD_FD(r, r->err_fd, POLLIN);
	}
#undef ADD_FD
	return nfds;
}

static void
handle_events(struct pollfd *fds, Run **owner, int nfds)
{
	int			i;

	for (i = 1; i < nfds; i++)
	{
		Run		   *r = owner[i];

		if (fds[i].revents == 0)
			continue;
		if (r == NULL)
		{
			if (conn != NULL &&
				(!PQconsumeInput(conn) || PQstatus(conn) == CONNECTION_BAD))
				disconnect();
		}
		else if (fds[i].fd == r->in_fd)
			write_input(r);
		else if (fds[i].fd == r->out_fd)
			read_stdout(r);
		else if (fds[i].fd == r->err_fd)
			read_stderr(r);
	}
}

/*
 * The main loop.  Returns the exit status: 0 after a clean shutdown, 1 if
 * outcomes could not be reported before giving up.
 */
static int
run_loop(void)
{
	size_t		maxfds = 0;
	struct pollfd *fds = NULL;
	Run		  **owner = NULL;
	int			rc = 0;

	for (;;)
	{
		int64_t		now = now_ms();
		int			nfds;
		size_t		need = 2 + 3 * (size_t) (nactive > cfg.concurrency ? nactive : cfg.concurrency);

		database_work(now);
		if (shutting_down && runs == NULL)
			break;
		if (shutting_down && now >= shutdown_deadline + KILL_GRACE_MS + REPORT_GRACE_MS)
		{
			char		n[16];
			int			left = 0;
			Run		   *r;

			for (r = runs; r; r = r->next)
				left++;
			log_event("error", "unreported_runs", "runs", itoa_buf(n, sizeof(n), left),
					  "detail", "their leases will expire and the runs will be retried", NULL);
			rc = 1;
			break;
		}
		if (conn != NULL && !shutting_down && want_claim && nactive < cfg.concurrency)
			continue;			/* more to claim at once */

		if (need > maxfds)		/* concurrency may grow on reload */
		{
			maxfds = need;
			fds = realloc(fds, maxfds * sizeof(struct pollfd));
			owner = realloc(owner, maxfds * sizeof(Run *));
			if (fds == NULL || owner == NULL)
				abort();
		}
		nfds = fill_pollfds(fds, owner);
		if (poll(fds, nfds, poll_timeout(now)) < 0 && errno != EINTR)
		{
			log_event("error", "poll_failed", "error", strerror(errno), NULL);
			rc = 1;
			break;
		}
		now = now_ms();
		handle_signals(now);
		handle_events(fds, owner, nfds);
		check_timers(now);
	}
	free(fds);
	free(owner);
	return rc;
}

/*---- start-up ----*/

static void
usage(FILE *f)
{
	fprintf(f,
			"alfred-agent runs the external tools of alfred's scheduled tasks.\n\n"
			"Usage:\n"
			"  alfred-agent -c FILE [-d CONNINFO] [-n NAME] [--check]\n\n"
			"Options:\n"
			"  -c, --config=FILE     configuration file (tools and settings)\n"
			"  -d, --dbname=CONNINFO libpq connection string (overrides conninfo)\n"
			"  -n, --name=NAME       worker name in claim_runs (default host:pid)\n"
			"      --check           check the configuration and exit\n"
			"  -V, --version         print the version and exit\n"
			"  -h, --help            show this help and exit\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"dbname", required_argument, NULL, 'd'},
		{"name", required_argument, NULL, 'n'},
		{"check", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *conninfo = NULL;
	const char *name = NULL;
	bool		check_only = false;
	char		err[AGENT_ERRLEN + PATH_MAX];
	char		num[3][32];
	int			c,
				rc;

	while ((c = getopt_long(argc, argv, "c:d:n:Vh", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'c':
				config_path = optarg;
				break;
			case 'd':
				conninfo = optarg;
				break;
			case 'n':
				name = optarg;
				break;
			case 'k':
				check_only = true;
				break;
			case 'V':
				printf("alfred-agent %s\n", AGENT_VERSION);
				return 0;
			case 'h':
				usage(stdout);
				return 0;
			default:
				usage(stderr);
				return 2;
		}
	}
	if (optind < argc)
		fatal("unexpected argument \"%s\"", argv[optind]);
	if (config_path == NULL)
		fatal("no configuration file given (use -c FILE)");

	if (load_config(config_path, &cfg, err, sizeof(err)) != 0)
		fatal("%s", err);
	if (conninfo != NULL)
	{
		free(cfg.conninfo);
		cfg.conninfo = xstrdup(conninfo);
	}
	if (name != NULL)
	{
		free(cfg.name);
		cfg.name = xstrdup(name);
	}
	if (cfg.name != NULL)
		snprintf(worker_name, sizeof(worker_name), "%s", cfg.name);
	else
	{
		char		host[256] = "localhost";

		gethostname(host, sizeof(host) - 1);
		snprintf(worker_name, sizeof(worker_name), "%s:%d", host, (int) getpid());
	}
	if (check_only)
	{
		printf("configuration ok: %d tool(s)%s\n", cfg.ntools,
			   cfg.claim_all ? ", claims every tool's runs" : "");
		return 0;
	}
	tools_array = alfred_agent_tools_array(&cfg);

	agent_pid = getpid();
	setvbuf(stderr, NULL, _IOLBF, 0);
	setup_signals();
	log_event("info", "started", "worker", worker_name,
			  "tools", tool_names(),
			  "concurrency", itoa_buf(num[0], sizeof(num[0]), cfg.concurrency),
			  "lease_ms", itoa_buf(num[1], sizeof(num[1]), cfg.lease_ms),
			  "poll_interval_ms", itoa_buf(num[2], sizeof(num[2]), cfg.poll_interval_ms),
			  NULL);
	rc = run_loop();
	if (conn != NULL)
		PQfinish(conn);
	itoa_buf(num[0], sizeof(num[0]), n_completed);
	itoa_buf(num[1], sizeof(num[1]), n_failed);
	log_event("info", "stopped", "completed", num[0], "failed", num[1], NULL);
	free(tools_array);
	alfred_agent_config_free(&cfg);
	return rc;
}
