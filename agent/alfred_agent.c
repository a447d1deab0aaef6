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

#include <dirent.h>
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

#ifndef ALFRED_VERSION			/* the Makefile passes alfred.control's default_version */
#define ALFRED_VERSION "unknown"
#endif
#define KILL_GRACE_MS 2000		/* SIGTERM to SIGKILL of a timed-out command */
#define STDERR_KEEP 2000		/* bytes of a command's stderr kept for errors */
#define RECONNECT_MIN_MS 250
#define RECONNECT_MAX_MS 30000
#define REPORT_GRACE_MS 10000	/* after shutdown, time left to report outcomes */
#define RETRY_MIN_MS 1000		/* a report or renewal refused for a transient cause */
#define RETRY_MAX_MS 30000
#define NEVER INT64_MAX
#define SHEPHERD_EXEC_FAILED 1	/* messages of a shepherd (see shepherd) */
#define SHEPHERD_EXITED 2

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
	char	   *lease_token;	/* from claim_runs; NULL when it has none */
	int			attempt;
	AgentTool	tool;			/* a copy; name and argv only until spawn */
	pid_t		pid;			/* the run's shepherd (see spawn); 0 once reaped */
	bool		have_status;	/* the command has exited ... */
	int			wait_status;	/* ... with this status */
	int			in_fd;			/* -1 when closed */
	int			out_fd;
	int			err_fd;
	int			st_fd;			/* the shepherd's reports (see shepherd) */
	char	   *command;		/* argv[0], for errors */
	int			exec_errno;		/* the command could not be executed */
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
	int			renew_delay;	/* after a renewal failed for a transient cause */
	/* the outcome, once state = RUN_REPORT */
	int64_t		report_at;		/* next attempt to report it */
	int			report_delay;
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
static bool ever_connected;	/* a fatal connection error at start exits */
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
	va_list		ap;

	if (strcmp(level, "debug") == 0 && !cfg.debug)
		return;
	va_start(ap, event);
	alfred_agent_vlog(level, event, ap);
	va_end(ap);
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

/*
 * Opens a connection: UTF8 as the client encoding whatever the database's
 * (a command reads and writes UTF-8, and a value the database cannot store
 * is then refused, not silently changed), after the connection string so
 * that it wins over it and over PGCLIENTENCODING.
 */
static PGconn *
open_connection(void)
{
	const char *keys[] = {"dbname", "fallback_application_name", "client_encoding", NULL};
	const char *vals[] = {cfg.conninfo ? cfg.conninfo : "", "alfred-agent", "UTF8", NULL};

	return PQconnectdbParams(keys, vals, 1);
}

static void
try_connect(void)
{
	char		ms[32];
	Run		   *r;

	conn = open_connection();
	if (PQstatus(conn) == CONNECTION_BAD && !ever_connected &&
		alfred_agent_connect_error_fatal(PQerrorMessage(conn)))
	{
		/* retrying cannot help: say why once and stop */
		log_event("error", "connect_failed", "error", pq_message(),
				  "detail", "a fatal connection error at start: giving up", NULL);
		PQfinish(conn);
		exit(2);
	}
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
	ever_connected = true;
	want_claim = true;
	/*
	 * Renew every lease at once: one that ran out while we were away but
	 * that nobody else took is still ours (renew_leases), and must be taken
	 * back before our own claim could see the run as free.
	 */
	for (r = runs; r; r = r->next)
		r->renew_at = 0;
	log_event("info", "connected", "worker", worker_name,
			  "server_pid", itoa_buf(ms, sizeof(ms), PQbackendPID(conn)), NULL);
}

/*
 * Runs one statement.  Returns its result when it succeeded; otherwise NULL,
 * with conn set to NULL if the connection is gone (so the caller can tell a
 * lost connection from an error of the statement, whose message is copied
 * to err and whose SQLSTATE to sqlstate, "" when there is none).
 */
static PGresult *
exec_sql(const char *sql, int nparams, const char *const *params,
		 char *err, size_t errlen, char *sqlstate)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	const char *state,
			   *primary,
			   *detail;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	/* the server's message without "ERROR:  ", with its detail if any */
	primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	if (primary == NULL)
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
	else if (detail != NULL)
		snprintf(err, errlen, "%s (%s)", primary, detail);
	else
		snprintf(err, errlen, "%s", primary);
	err[strcspn(err, "\n")] = '\0';
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	snprintf(sqlstate, 6, "%s", state ? state : "");
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

/*
 * Ends a run's command and everything it started: SIGTERM asks the shepherd
 * to pass SIGTERM to the whole tree, SIGUSR1 to SIGKILL it (see shepherd).
 */
static void
stop_tree(Run *r, bool hard)
{
	if (r->pid > 0)
		kill(r->pid, hard ? SIGUSR1 : SIGTERM);
}

/*
 * The processes below the calling one, found through /proc (a process that
 * called setsid has left the command's process group, not its tree; one
 * whose parent died is reparented to the shepherd, the subreaper).  Fills
 * out (at most max) and returns their number.
 */
static int
descendants(pid_t *out, int max)
{
	static pid_t pids[32768],
				ppids[32768];
	int			n = 0,
				nout = 0,
				i,
				j;
	DIR		   *d = opendir("/proc");
	struct dirent *e;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < (int) (sizeof(pids) / sizeof(pids[0])))
	{
		char		path[300],
					buf[512];
		char	   *p;
		FILE	   *f;
		size_t		len;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = '\0';
		/* "pid (comm) state ppid ...": comm may hold blanks and parentheses */
		if ((p = strrchr(buf, ')')) == NULL)
			continue;
		pids[n] = atoi(e->d_name);
		ppids[n++] = (pid_t) strtol(p + 4, NULL, 10);
	}
	closedir(d);
	/* breadth first from ourselves: out grows while we walk it */
	for (j = -1; j < nout; j++)
	{
		pid_t		parent = j < 0 ? getpid() : out[j];

		for (i = 0; i < n && nout < max; i++)
			if (ppids[i] == parent)
				out[nout++] = pids[i];
	}
	return nout;
}

static void
signal_tree(pid_t cmd, int sig)
{
	pid_t		pids[4096];
	int			n = descendants(pids, 4096),
				i;

	kill(-cmd, sig);
	for (i = 0; i < n; i++)
		kill(pids[i], sig);
}

/*
 * SIGKILLs everything below the shepherd until nothing is left (a process
 * forked meanwhile is reparented to us and found in the next round), then
 * exits.  Gives up after about 5 s (something unkillable).
 */
static void
kill_tree_and_exit(pid_t cmd)
{
	int			round;

	/* nothing left (the usual case at the end of a run): no /proc scan */
	if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
		_exit(0);
	for (round = 0; round < 500; round++)
	{
		pid_t		pid;

		signal_tree(cmd, SIGKILL);
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (pid < 0 && errno == ECHILD)
			break;
		usleep(10000);
	}
	_exit(0);
}

/* The command's side of the fork: never returns. */
static void
exec_command(Run *r, pid_t shepherd_pid, int in_fd, int out_fd, int err_fd, int report_fd)
{
	sigset_t	none;
	char		attempt[16];
	int			e;

	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	/* the command does not outlive its shepherd, whatever kills it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != shepherd_pid)
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

/* Closes every descriptor of the shepherd but the ones in keep. */
static void
close_other_fds(const int *keep, int nkeep)
{
	DIR		   *d = opendir("/proc/self/fd");
	struct dirent *e;
	int			fds[1024];
	int			n = 0,
				i,
				j;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && n < 1024)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
			fds[n++] = atoi(e->d_name);
	closedir(d);
	for (i = 0; i < n; i++)
	{
		bool		kept = fds[i] <= 2;

		for (j = 0; j < nkeep && !kept; j++)
			kept = fds[i] == keep[j];
		if (!kept)
			close(fds[i]);
	}
}

/*
 * The shepherd: one small process per run between the agent and the
 * command, so that a command and everything it started end with the run,
 * whatever the agent's fate.  It is a child subreaper (every orphan of the
 * command's tree, even one that called setsid, is reparented to it), it
 * dies with the agent (PR_SET_PDEATHSIG), and it lives as long as anything
 * of the tree does.  It tells the agent on st_fd (messages of two ints:
 * SHEPHERD_EXEC_FAILED and the errno, or SHEPHERD_EXITED and the wait
 * status; the end of the file, at the shepherd's exit, tells that the tree
 * is gone) whether the command could be executed and how it ended, passes
 * SIGTERM on to the whole tree and, on SIGUSR1 (the agent's hard kill, or
 * the agent's death), SIGKILLs the whole tree and exits.  It never execs:
 * a fork of the agent that closed everything but its pipes.  The agent does
 * not wait for it: a slow start of one command delays no other.
 */
static void
shepherd(Run *r, int in_fd, int out_fd, int err_fd, int st_fd)
{
	sigset_t	set;
	int			keep[4] = {in_fd, out_fd, err_fd, st_fd};
	int			rep[2];
	int			msg[2];
	pid_t		cmd;
	ssize_t		n;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	setpgid(0, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_PDEATHSIG, SIGUSR1);
	if (getppid() != agent_pid)
		_exit(1);
	close_other_fds(keep, 4);
	msg[0] = SHEPHERD_EXEC_FAILED;
	if (pipe2(rep, O_CLOEXEC) < 0)
	{
		msg[1] = errno;
		if (write(st_fd, msg, sizeof(msg)) < 0)
			_exit(1);
		_exit(1);
	}
	cmd = fork();
	if (cmd == 0)
		exec_command(r, getppid(), in_fd, out_fd, err_fd, rep[1]);
	if (cmd < 0)
	{
		msg[1] = errno;
		if (write(st_fd, msg, sizeof(msg)) < 0)
			_exit(1);
		_exit(1);
	}
	/* the shepherd holds none of the command's pipes open */
	close(in_fd);
	close(out_fd);
	close(err_fd);
	close(rep[1]);
	/* the report pipe closes on a successful exec, or carries its errno */
	do
		n = read(rep[0], &msg[1], sizeof(msg[1]));
	while (n < 0 && errno == EINTR);
	close(rep[0]);
	if (n == sizeof(msg[1]) && write(st_fd, msg, sizeof(msg)) < 0)
		kill_tree_and_exit(cmd);
	msg[0] = SHEPHERD_EXITED;
	for (;;)
	{
		int			sig = sigwaitinfo(&set, NULL);

		if (sig == SIGCHLD)
		{
			pid_t		pid;

			while ((pid = waitpid(-1, &msg[1], WNOHANG)) > 0)
				if (pid == cmd && write(st_fd, msg, sizeof(msg)) < 0)
					kill_tree_and_exit(cmd);	/* the agent is gone */
			if (pid < 0 && errno == ECHILD)
				_exit(0);		/* the whole tree is gone */
		}
		else if (sig == SIGTERM)
			signal_tree(cmd, SIGTERM);
		else if (sig == SIGUSR1)
			kill_tree_and_exit(cmd);
		/* SIGINT, SIGHUP (a terminal's): the agent decides */
	}
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
 * Starts the command of a claimed run, under its shepherd (see there).  Any
 * failure to start it becomes the run's outcome (the run is then reported,
 * never left hanging).
 */
static void
spawn(Run *r)
{
	int			in[2],
				out[2],
				err[2],
				st[2];

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
		pipe2(err, O_CLOEXEC) < 0 || pipe2(st, O_CLOEXEC) < 0)
	{
		set_outcome(r, false, true, "could not create pipes: %s", strerror(errno));
		return;
	}
	r->command = xstrdup(r->tool.argv[0]);
	r->pid = fork();
	if (r->pid == 0)
	{
		close(in[1]);
		close(out[0]);
		close(err[0]);
		close(st[0]);
		shepherd(r, in[0], out[1], err[1], st[1]);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	close(st[1]);
	if (r->pid < 0)
	{
		int			e = errno;

		close(in[1]);
		close(out[0]);
		close(err[0]);
		close(st[0]);
		r->pid = 0;
		set_outcome(r, false, true, "could not fork: %s", strerror(e));
		return;
	}
	r->in_fd = in[1];
	r->out_fd = out[0];
	r->err_fd = err[0];
	r->st_fd = st[0];
	set_nonblock(r->in_fd);
	set_nonblock(r->out_fd);
	set_nonblock(r->err_fd);
	set_nonblock(r->st_fd);
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
			stop_tree(r, true);
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

/*
 * The shepherd's pipe: the command's wait status, then the end of the file
 * when the shepherd exits (the whole tree is gone).  A shepherd that died
 * without a word (killed itself) counts as a command killed by SIGKILL.
 */
static void
read_status(Run *r)
{
	int			msg[2];
	ssize_t		n;

	while (r->st_fd >= 0)
	{
		n = read(r->st_fd, msg, sizeof(msg));
		if (n == sizeof(msg) && msg[0] == SHEPHERD_EXEC_FAILED)
		{
			r->exec_errno = msg[1];
			continue;
		}
		if (n == sizeof(msg))
		{
			r->have_status = true;
			r->wait_status = msg[1];
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		close_fd(&r->st_fd);
		if (!r->have_status)
		{
			r->have_status = true;
			r->wait_status = SIGKILL;	/* as waitpid reports a SIGKILL */
		}
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
	close_fd(&r->st_fd);
	/* what the command left behind (closed stdout, still running) ends now */
	stop_tree(r, true);
	nactive--;
	if (backlog)
		want_claim = true;
	if (r->exec_errno != 0)
		set_outcome(r, false, false, "cannot execute \"%s\": %s", r->command, strerror(r->exec_errno));
	else if (r->interrupted)
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
	close_fd(&r->in_fd);
	close_fd(&r->out_fd);
	close_fd(&r->err_fd);
	close_fd(&r->st_fd);
	free(r->run_id);
	free(r->tool_name);
	free(r->lease_token);
	free(r->command);
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
				/* the shepherd: the whole tree is gone (its pipe says so too) */
				r->pid = 0;
				break;
			}
	}
}

/*---- claiming and reporting ----*/

/* The value of column name in row, NULL when it is NULL or absent. */
static const char *
column(PGresult *res, int row, const char *name)
{
	int			col = PQfnumber(res, name);

	if (col < 0 || PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

static void
start_run(PGresult *res, int row)
{
	Run		   *r = calloc(1, sizeof(Run));
	const AgentTool *tool;
	AgentRunInput in;
	const char *attempt_text = column(res, row, "attempt");
	const char *token = column(res, row, "lease_token");
	char		attempt[16];
	char		warn[AGENT_ERRLEN];

	if (r == NULL)
		abort();
	in.run_id = column(res, row, "run_id");
	in.task_id = column(res, row, "task_id");
	in.user_id = column(res, row, "user_id");
	in.tool_name = column(res, row, "tool_name");
	in.tool_args = column(res, row, "tool_args");
	in.prompt = column(res, row, "prompt");
	in.attempt = attempt_text ? atoi(attempt_text) : 1;
	r->run_id = xstrdup(in.run_id ? in.run_id : "");
	r->tool_name = xstrdup(in.tool_name ? in.tool_name : "");
	r->lease_token = token ? xstrdup(token) : NULL;
	r->attempt = in.attempt;
	r->in_fd = r->out_fd = r->err_fd = r->st_fd = -1;
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
	r->input = alfred_agent_build_input(&in, warn, sizeof(warn));
	r->input_len = strlen(r->input);
	if (warn[0] != '\0')
		log_event("warning", "args_not_parsed", "run_id", r->run_id, "tool", r->tool_name,
				  "detail", warn, NULL);
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
				err[1024],
				state[6];
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
	/* columns by name: claim_runs may return more (lease_token) */
	res = exec_sql("SELECT * FROM alfred.claim_runs($1::text, $2::text[], $3::int, $4::interval)",
				   4, params, err, sizeof(err), state);
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

/* The next delay of a backoff: RETRY_MIN_MS doubling up to RETRY_MAX_MS. */
static int
next_delay(int *delay)
{
	*delay = *delay ? *delay * 2 : RETRY_MIN_MS;
	if (*delay > RETRY_MAX_MS)
		*delay = RETRY_MAX_MS;
	return *delay;
}

/*
 * Reports one decided run (complete_run or fail_run, with the lease token
 * when claim_runs gave one).  Returns true when the run is done with
 * (reported, or refused for good), false to try again later.
 *
 * A report the database refuses is never dropped silently, and never
 * leads to the command running again: a transient cause (deadlock,
 * statement timeout, ...) is retried with backoff; a result that cannot be
 * recorded (say, text that looks like JSON but is not) becomes a permanent
 * failure of the run with the database's error; a lost lease or an ended
 * run (55000, P0002) means the run is not ours to report any more.
 */
static bool
report_run(Run *r, int64_t now)
{
	const char *params[4];
	char		err[1024],
				state[6],
				ms[32];
	PGresult   *res;

	params[0] = r->run_id;
	params[1] = r->message;
	params[2] = r->transient ? "true" : "false";
	params[3] = r->lease_token;
	if (r->ok)
	{
		params[2] = r->lease_token;
		res = exec_sql(r->lease_token
					   ? "SELECT alfred.complete_run($1::uuid, $2::text, lease_token => $3::uuid)"
					   : "SELECT alfred.complete_run($1::uuid, $2::text)",
					   r->lease_token ? 3 : 2, params, err, sizeof(err), state);
	}
	else
		res = exec_sql(r->lease_token
					   ? "SELECT alfred.fail_run($1::uuid, $2::text, $3::boolean, lease_token => $4::uuid)"
					   : "SELECT alfred.fail_run($1::uuid, $2::text, $3::boolean)",
					   r->lease_token ? 4 : 3, params, err, sizeof(err), state);
	if (res == NULL && conn == NULL)
		return false;			/* after the reconnection */
	itoa_buf(ms, sizeof(ms), r->started ? now - r->started : 0);
	if (res != NULL)
	{
		PQclear(res);
		if (r->ok)
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
		return true;
	}
	if (alfred_agent_sqlstate_transient(state))
	{
		char		delay[16];

		r->report_at = now + next_delay(&r->report_delay);
		log_event("warning", "report_retry", "run_id", r->run_id, "tool", r->tool_name,
				  "sqlstate", state, "error", err,
				  "retry_ms", itoa_buf(delay, sizeof(delay), r->report_delay), NULL);
		return false;
	}
	if (r->ok && strcmp(state, "55000") != 0 && strcmp(state, "P0002") != 0)
	{
		char		msg[1200];

		/* the command ran; its result cannot be stored: fail, do not re-run */
		log_event("error", "result_refused", "run_id", r->run_id, "tool", r->tool_name,
				  "sqlstate", state, "error", err, NULL);
		snprintf(msg, sizeof(msg), "the result could not be recorded: %s", err);
		alfred_agent_sanitize(msg, strlen(msg));
		free(r->message);
		r->message = xstrdup(msg);
		r->ok = false;
		r->transient = false;
		r->report_at = now;
		r->report_delay = 0;
		return false;
	}
	log_event("error", "report_refused", "run_id", r->run_id, "tool", r->tool_name,
			  "sqlstate", state, "error", err,
			  "detail", strcmp(state, "55000") == 0 || strcmp(state, "P0002") == 0
			  ? "the run is no longer this agent's to report" : "the outcome is dropped", NULL);
	return true;
}

/* Reports every decided run that is due; stops at a lost connection. */
static void
report_runs(void)
{
	Run		   *r,
			   *next;
	int64_t		now = now_ms();

	for (r = runs; r && conn; r = next)
	{
		next = r->next;
		if (r->state != RUN_REPORT || now < r->report_at)
			continue;
		if (report_run(r, now))
			free_run(r);
		else if (conn != NULL && r->report_at <= now)
			next = r;			/* turned into a failure: report that now */
	}
}

/*
 * Renews the lease of each running command at half-time (and of all of
 * them right after a reconnection).  A lease that ran out while the
 * database was unreachable but that nobody else took is renewed like any
 * other; only when the database says the run is no longer ours (55000:
 * another worker holds it, or it ended; P0002: it is gone) is the command
 * stopped.  Other errors are retried with backoff.
 */
static void
renew_leases(int64_t now)
{
	Run		   *r;

	for (r = runs; r && conn; r = r->next)
	{
		const char *params[4];
		char		lease[32],
					err[1024],
					state[6];
		PGresult   *res;

		if (r->state != RUN_ACTIVE || r->lease_lost || now < r->renew_at)
			continue;
		snprintf(lease, sizeof(lease), "%d milliseconds", cfg.lease_ms);
		params[0] = r->run_id;
		params[1] = worker_name;
		params[2] = lease;
		params[3] = r->lease_token;
		res = exec_sql(r->lease_token
					   ? "SELECT alfred.extend_lease($1::uuid, $2::text, $3::interval, lease_token => $4::uuid)"
					   : "SELECT alfred.extend_lease($1::uuid, $2::text, $3::interval)",
					   r->lease_token ? 4 : 3, params, err, sizeof(err), state);
		if (res != NULL)
		{
			PQclear(res);
			r->renew_at = now + cfg.lease_ms / 2;
			r->renew_delay = 0;
			log_event("debug", "lease_extended", "run_id", r->run_id, NULL);
		}
		else if (conn != NULL &&
				 (strcmp(state, "55000") == 0 || strcmp(state, "P0002") == 0))
		{
			/* someone else owns the run now: stop working on it */
			r->lease_lost = true;
			stop_tree(r, true);
			log_event("warning", "lease_lost", "run_id", r->run_id, "tool", r->tool_name,
					  "error", err, NULL);
		}
		else if (conn != NULL)
		{
			char		delay[16];

			r->renew_at = now + next_delay(&r->renew_delay);
			log_event("warning", "lease_extend_failed", "run_id", r->run_id, "tool", r->tool_name,
					  "sqlstate", state, "error", err,
					  "retry_ms", itoa_buf(delay, sizeof(delay), r->renew_delay), NULL);
		}
	}
}

/*---- configuration ----*/

/* Whether path is a regular file we may execute (a directory is not). */
static bool
executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Whether argv[0] names an executable file (searching PATH for a bare name). */
static bool
executable(const char *cmd)
{
	const char *path = getenv("PATH");
	char		buf[PATH_MAX];

	if (strchr(cmd, '/') != NULL)
		return executable_file(cmd);
	while (path && *path)
	{
		size_t		n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int) n, n ? path : ".", cmd);
		if (executable_file(buf))
			return true;
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

/*
 * Reads, parses and checks the configuration file into out (initialized
 * here).  Returns 0, or -1 with a message naming the file.
 */
static int
load_config(const char *path, AgentConfig *out, char *err, size_t errlen)
{
	char		perr[AGENT_ERRLEN];
	char	   *text = alfred_agent_read_file(path, err, errlen);
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
			snprintf(err, errlen, "invalid configuration file \"%s\": line %d: command \"%s\" of tool \"%s\" is not an executable file",
					 path, out->tools[i].command_line, out->tools[i].argv[0], out->tools[i].name);
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
		/*
		 * Timeouts apply until the run is decided, not until the command
		 * exits: a descendant may still hold its stdout open.
		 */
		if (r->pid > 0 && !r->timed_out && !r->interrupted &&
			(now >= r->deadline || now >= shutdown_deadline))
		{
			if (now >= r->deadline)
				r->timed_out = true;
			else
				r->interrupted = true;
			stop_tree(r, false);
			r->kill_at = now + KILL_GRACE_MS;
		}
		if (r->pid > 0 && now >= r->kill_at)
		{
			stop_tree(r, true);
			r->kill_at = NEVER;
		}
		if (r->have_status && r->out_fd < 0 && r->err_fd < 0)
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
			wake = min64(wake, r->report_at);
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
		if (r->st_fd >= 0)
			ADD_FD(r, r->st_fd, POLLIN);
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
		else if (fds[i].fd == r->st_fd)
			read_status(r);
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
		size_t		need = 2 + 4 * (size_t) (nactive > cfg.concurrency ? nactive : cfg.concurrency);

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

/*
 * --check: the configuration was read; now connect and find alfred's agent
 * API.  Prints what was found; returns the exit status (0, or 2 with the
 * cause on stderr).
 */
static int
check_connection(void)
{
	PGresult   *res;
	int			rc = 0;

	printf("configuration ok: %d tool(s)%s\n", cfg.ntools,
		   cfg.claim_all ? ", claims every tool's runs" : "");
	fflush(stdout);
	conn = open_connection();
	if (PQstatus(conn) != CONNECTION_OK)
	{
		fprintf(stderr, "alfred-agent: could not connect: %s\n", pq_message());
		PQfinish(conn);
		return 2;
	}
	res = PQexec(conn, "SELECT p IS NOT NULL, p IS NOT NULL AND has_function_privilege(p, 'EXECUTE'),"
				 "       (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'alfred')"
				 "  FROM to_regprocedure('alfred.claim_runs(text, text[], integer, interval)') p");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		fprintf(stderr, "alfred-agent: could not check the database: %s", PQresultErrorMessage(res));
		rc = 2;
	}
	else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
	{
		fprintf(stderr, "alfred-agent: database \"%s\" has no alfred.claim_runs (is extension alfred installed?)\n",
				PQdb(conn));
		rc = 2;
	}
	else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
	{
		fprintf(stderr, "alfred-agent: role \"%s\" may not execute alfred.claim_runs\n", PQuser(conn));
		rc = 2;
	}
	else
		printf("connection ok: database \"%s\" as role \"%s\"%s%s\n", PQdb(conn), PQuser(conn),
			   PQgetisnull(res, 0, 2) ? "" : ", alfred ", PQgetvalue(res, 0, 2));
	PQclear(res);
	PQfinish(conn);
	conn = NULL;
	return rc;
}

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
			"      --check           check the configuration and the connection, and exit\n"
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
				printf("alfred-agent %s\n", ALFRED_VERSION);
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
		return check_connection();
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
