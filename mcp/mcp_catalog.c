/*-------------------------------------------------------------------------
 *
 * mcp_catalog.c
 *		What alfred-mcp offers a model: each tool's description, its
 *		arguments (from which both the JSON Schema of tools/list and the
 *		validation of tools/call are derived, so the two cannot disagree)
 *		and the SQL that runs it; the resources and the daily-review
 *		prompt.
 *
 * Every statement runs in a transaction in which the server has become the
 * person it acts for (set_session or act_as), so alfred.current_user_id() is
 * that person, row-level security applies and the API functions check
 * their rules.  Arguments arrive as text parameters in the order of the
 * tool's argument list ($1, $2, ...); the parameter after the last argument
 * is the MCP client's name.  No SQL is ever built from argument text.
 *
 *-------------------------------------------------------------------------
 */
#include "mcp_catalog.h"

#include <stddef.h>

#define ME "alfred.current_user_id()"
#define OPEN_STATUSES "('pending', 'in_progress', 'blocked')"

/* The tasks a person may see as theirs: their own and those assigned to them. */
#define TASK_COLUMNS \
	"SELECT t.id, t.title, t.description, t.priority, t.status, t.due_date, t.recurrence, " \
	"t.tags, t.project_id, t.estimated_duration, t.completed_at, t.created_at, " \
	"ARRAY(SELECT d.depends_on_task_id FROM alfred.task_dependencies d " \
	"WHERE d.user_id = t.user_id AND d.task_id = t.id) AS depends_on " \
	"FROM alfred.tasks t WHERE (t.user_id = " ME " OR t.assigned_to = " ME ") "
#define AS_ARRAY(q) "SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]')::text FROM (" q ") x"
#define ONE_TASK(idexpr) "SELECT to_jsonb(x)::text FROM (" TASK_COLUMNS "AND t.id = " idexpr ") x"

static const char *const priorities[] = {"low", "medium", "high", "urgent", "critical", NULL};
static const char *const list_statuses[] = {"open", "pending", "in_progress", "blocked",
"completed", "cancelled", "failed", "all", NULL};
static const char *const update_statuses[] = {"pending", "in_progress", "blocked", "cancelled", NULL};
static const char *const risks[] = {"low", "medium", "high", NULL};
static const char *const actions[] = {"engaged", "dismissed", NULL};
static const char *const sources[] = {"conversation", "notification", "schedule", NULL};

/*---- today ----*/

static const McpStep today_steps[] = {
	{"SELECT alfred.today(" ME ")::text", NULL},
};

/*---- tasks ----*/

static const McpArg list_tasks_args[] = {
	{"status", MCP_ENUM, false, "Which tasks: \"open\" (pending, in progress or blocked; the default), one status, or \"all\".", list_statuses, 0, 0},
	{"due_before", MCP_TIMESTAMP, false, "Only tasks due before this time (ISO 8601; without an offset it is in the person's time zone).", NULL, 0, 0},
	{"tag", MCP_STRING, false, "Only tasks with this tag.", NULL, 0, 0},
	{"limit", MCP_INT, false, "At most this many tasks (default 50).", NULL, 1, 200},
};
static const McpStep list_tasks_steps[] = {
	{AS_ARRAY(TASK_COLUMNS
			  "AND CASE coalesce($1, 'open') WHEN 'open' THEN t.status IN " OPEN_STATUSES
			  " WHEN 'all' THEN true ELSE t.status = $1 END "
			  "AND ($2::timestamptz IS NULL OR t.due_date < $2::timestamptz) "
			  "AND ($3 IS NULL OR $3 = ANY (t.tags)) "
			  "ORDER BY alfred.priority_rank(t.priority), t.due_date NULLS LAST, t.created_at "
			  "LIMIT coalesce($4::int, 50)"), NULL},
};

static const McpArg search_tasks_args[] = {
	{"query", MCP_STRING, true, "Words to look for in titles and descriptions (web-search syntax: \"quoted phrase\", -exclude, or).", NULL, 0, 0},
	{"include_done", MCP_BOOL, false, "Also search completed, cancelled and failed tasks (default false).", NULL, 0, 0},
	{"limit", MCP_INT, false, "At most this many tasks (default 20).", NULL, 1, 200},
};
#define TASK_TEXT "(t.title || ' ' || coalesce(t.description, ''))"
static const McpStep search_tasks_steps[] = {
	{AS_ARRAY(TASK_COLUMNS
			  "AND (coalesce($2::boolean, false) OR t.status IN " OPEN_STATUSES ") "
			  "AND (to_tsvector('english', " TASK_TEXT ") @@ websearch_to_tsquery('english', $1) "
			  "OR strpos(lower(" TASK_TEXT "), lower($1)) > 0) "
			  "ORDER BY ts_rank(to_tsvector('english', " TASK_TEXT "), websearch_to_tsquery('english', $1)) DESC, "
			  "t.created_at DESC LIMIT coalesce($3::int, 20)"), NULL},
};

static const McpArg add_task_args[] = {
	{"title", MCP_STRING, true, "What is to be done, short.", NULL, 0, 0},
	{"description", MCP_STRING, false, "Details.", NULL, 0, 0},
	{"priority", MCP_ENUM, false, "Default \"medium\".", priorities, 0, 0},
	{"due_date", MCP_TIMESTAMP, false, "When it is due (ISO 8601; without an offset it is in the person's time zone).", NULL, 0, 0},
	{"recurrence", MCP_STRING, false, "For a repeating task: \"daily\", \"weekly\", \"monthly\" or a 5-field cron expression; completing it creates the next occurrence. Needs due_date.", NULL, 0, 0},
	{"tags", MCP_STRING_ARRAY, false, "Labels.", NULL, 0, 0},
	{"depends_on", MCP_UUID_ARRAY, false, "Ids of tasks that must be finished before this one can be completed.", NULL, 0, 0},
	{"project_id", MCP_UUID, false, "The project it belongs to.", NULL, 0, 0},
	{"estimated_minutes", MCP_INT, false, "Estimated duration in minutes.", NULL, 1, 525600},
};
static const McpStep add_task_steps[] = {
	{"WITH t AS (INSERT INTO alfred.tasks (user_id, title, description, priority, due_date, recurrence, "
		"tags, project_id, estimated_duration, source, created_by) "
		"VALUES (" ME ", $1, $2, coalesce($3, 'medium'), $4::timestamptz, $5, coalesce($6::text[], '{}'), "
		"$8::uuid, $9::int, 'conversation', " ME ") RETURNING id) "
	"SELECT set_config('alfred_mcp.id', t.id::text, true) FROM t", NULL},
	{"SELECT alfred.add_task_dependency(current_setting('alfred_mcp.id')::uuid, d) "
	"FROM unnest(coalesce($7::uuid[], '{}')) d", NULL},
	{ONE_TASK("current_setting('alfred_mcp.id')::uuid"), NULL},
};

static const McpArg update_task_args[] = {
	{"task_id", MCP_UUID, true, "The task to change.", NULL, 0, 0},
	{"title", MCP_STRING, false, "New title.", NULL, 0, 0},
	{"description", MCP_STRING, false, "New description.", NULL, 0, 0},
	{"priority", MCP_ENUM, false, "New priority.", priorities, 0, 0},
	{"status", MCP_ENUM, false, "New status (use complete_task to complete a task).", update_statuses, 0, 0},
	{"due_date", MCP_TIMESTAMP, false, "New due time (ISO 8601).", NULL, 0, 0},
	{"recurrence", MCP_STRING, false, "New recurrence: \"daily\", \"weekly\", \"monthly\" or a cron expression.", NULL, 0, 0},
	{"tags", MCP_STRING_ARRAY, false, "Replaces the tags.", NULL, 0, 0},
	{"add_depends_on", MCP_UUID_ARRAY, false, "Ids of tasks this one must wait for, added to its dependencies.", NULL, 0, 0},
};
static const McpStep update_task_steps[] = {
	{"UPDATE alfred.tasks t SET title = coalesce($2, t.title), description = coalesce($3, t.description), "
		"priority = coalesce($4, t.priority), status = coalesce($5, t.status), "
		"due_date = coalesce($6::timestamptz, t.due_date), recurrence = coalesce($7, t.recurrence), "
		"tags = coalesce($8::text[], t.tags) "
		"WHERE t.id = $1::uuid AND (t.user_id = " ME " OR t.assigned_to = " ME ") RETURNING t.id",
	"no task \"%s\""},
	{"SELECT alfred.add_task_dependency($1::uuid, d) FROM unnest(coalesce($9::uuid[], '{}')) d", NULL},
	{ONE_TASK("$1::uuid"), NULL},
};

static const McpArg task_id_arg[] = {
	{"task_id", MCP_UUID, true, "The task's id (from list_tasks, search_tasks or today).", NULL, 0, 0},
};
static const McpStep complete_task_steps[] = {
	{"SELECT to_jsonb(c)::text FROM alfred.complete_task($1::uuid) c", NULL},
};

/*---- habits ----*/

static const McpArg log_habit_args[] = {
	{"habit_id", MCP_UUID, true, "The habit's id (from list_habits or today).", NULL, 0, 0},
	{"on_date", MCP_DATE, false, "The day it was done (YYYY-MM-DD; default: the person's today; never a future day).", NULL, 0, 0},
	{"notes", MCP_STRING, false, "A note.", NULL, 0, 0},
	{"duration_minutes", MCP_INT, false, "How long it took.", NULL, 0, 1440},
};
static const McpStep log_habit_steps[] = {
	{"SELECT jsonb_build_object('habit_id', h.id, 'name', h.name, 'current_streak', s.current_streak, "
		"'best_streak', s.best_streak, 'state', s.state, 'total_completions', h.total_completions)::text "
		"FROM alfred.log_habit($1::uuid, $2::date, $3, $4::int) h "
		"CROSS JOIN LATERAL alfred.habit_streak(h, alfred.user_today(h.user_id, h.day_start_hour)) s", NULL},
};
static const McpStep list_habits_steps[] = {
	{AS_ARRAY("SELECT * FROM alfred.habits_today(" ME ")"), NULL},
};
static const McpStep habits_at_risk_steps[] = {
	{AS_ARRAY("SELECT * FROM alfred.habits_at_risk(" ME ")"), NULL},
};

/*---- memory ----*/

static const McpArg remember_preference_args[] = {
	{"key", MCP_STRING, true, "What the preference is about, stable and short (\"coffee\", \"meeting_time\").", NULL, 0, 0},
	{"value", MCP_STRING, true, "What the person prefers.", NULL, 0, 0},
	{"confidence", MCP_NUMBER, false, "How sure you are, 0 to 1 (default 0.5). The same value again raises the confidence; a different value replaces it only when more confident.", NULL, 0, 1},
};
static const McpStep remember_preference_steps[] = {
	{"SELECT CASE WHEN p.id IS NULL "
		"THEN '{\"learned\": false, \"reason\": \"preference learning is off for this person\"}'::jsonb "
		"ELSE to_jsonb(p) - 'user_id' END::text "
	"FROM alfred.learn_preference(" ME ", $1, $2, coalesce($3::real, 0.5)) p", NULL},
};

static const McpArg remember_learning_args[] = {
	{"topic", MCP_STRING, true, "What it is about.", NULL, 0, 0},
	{"content", MCP_STRING, true, "The fact or knowledge to keep.", NULL, 0, 0},
	{"original_query", MCP_STRING, false, "The question that led to it.", NULL, 0, 0},
};
static const McpStep remember_learning_steps[] = {
	{"WITH l AS (INSERT INTO alfred.learnings (user_id, topic, content, original_query) "
		"VALUES (" ME ", $1, $2, $3) RETURNING id, topic, content, original_query, created_at) "
	"SELECT to_jsonb(l)::text FROM l", NULL},
};

static const McpArg recall_args[] = {
	{"query", MCP_STRING, false, "Words to look for; omit to get everything (newest learnings first).", NULL, 0, 0},
	{"limit", MCP_INT, false, "At most this many learnings (default 20).", NULL, 1, 200},
};
#define LEARNING_TEXT "(l.topic || ' ' || l.content)"
static const McpStep recall_steps[] = {
	{"SELECT jsonb_build_object("
		"'preferences', (SELECT coalesce(jsonb_agg(jsonb_build_object('key', p.key, 'value', p.value, "
		"'confidence', p.confidence, 'learned_at', p.learned_at) ORDER BY p.confidence DESC, p.key), '[]') "
		"FROM alfred.learned_preferences p WHERE p.user_id = " ME " "
		"AND ($1 IS NULL OR strpos(lower(p.key || ' ' || p.value), lower($1)) > 0)), "
		"'learnings', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM ("
		"SELECT l.id, l.topic, l.content, l.created_at FROM alfred.learnings l WHERE l.user_id = " ME " "
		"AND ($1 IS NULL OR to_tsvector('english', " LEARNING_TEXT ") @@ websearch_to_tsquery('english', $1) "
		"OR strpos(lower(" LEARNING_TEXT "), lower($1)) > 0) "
		"ORDER BY l.created_at DESC LIMIT coalesce($2::int, 20)) x))::text", NULL},
};

/*---- the proactive engine ----*/

static const McpArg schedule_task_args[] = {
	{"name", MCP_STRING, true, "A name the person will recognise in notifications.", NULL, 0, 0},
	{"tool_name", MCP_STRING, true, "The registered tool to run (e.g. \"daily_briefing\", \"habit_reminder\", \"overdue_tasks\", or an external tool the deployment registered).", NULL, 0, 0},
	{"tool_args", MCP_OBJECT, false, "Arguments of the tool.", NULL, 0, 0},
	{"cron", MCP_STRING, false, "For a recurring task: a 5-field cron expression in the task's time zone (\"0 7 * * MON-FRI\"). Give cron or at, not both.", NULL, 0, 0},
	{"at", MCP_TIMESTAMP, false, "For a one-time task: when (ISO 8601, in the future).", NULL, 0, 0},
	{"timezone", MCP_STRING, false, "IANA time zone of the schedule (default: the person's).", NULL, 0, 0},
	{"prompt_template", MCP_STRING, false, "Text given to the tool, with {{user.name}}, {{args.x}} placeholders.", NULL, 0, 0},
	{"description", MCP_STRING, false, "Why the task exists.", NULL, 0, 0},
};
#define SCHEDULED_COLUMNS \
	"SELECT s.id, s.name, s.description, s.tool_name, s.tool_args, s.schedule_cron, s.scheduled_at, " \
	"s.timezone, s.status, s.source, s.next_run_at, s.last_run_at, s.run_count, s.fail_count " \
	"FROM alfred.scheduled_tasks s "
static const McpStep schedule_task_steps[] = {
	{"SELECT set_config('alfred_mcp.id', alfred.schedule_task(" ME ", $1, $2, coalesce($3::jsonb, '{}'), "
	"$4, $5::timestamptz, $6, coalesce($7, ''), $8, 'agent')::text, true)", NULL},
	{"SELECT to_jsonb(x)::text FROM (" SCHEDULED_COLUMNS
	"WHERE s.id = current_setting('alfred_mcp.id')::uuid) x", NULL},
};

static const McpArg list_scheduled_args[] = {
	{"include_finished", MCP_BOOL, false, "Also list cancelled and completed tasks (default false).", NULL, 0, 0},
};
static const McpStep list_scheduled_steps[] = {
	{AS_ARRAY(SCHEDULED_COLUMNS "WHERE s.user_id = " ME " "
			  "AND (coalesce($1::boolean, false) OR s.status NOT IN ('cancelled', 'completed')) "
			  "ORDER BY s.next_run_at NULLS LAST, s.created_at"), NULL},
};

static const McpArg scheduled_id_arg[] = {
	{"task_id", MCP_UUID, true, "The scheduled task's id (from list_scheduled_tasks or schedule_task).", NULL, 0, 0},
};
#define SCHEDULED_BY_ID \
	"SELECT to_jsonb(x)::text FROM (" SCHEDULED_COLUMNS "WHERE s.id = $1::uuid) x"
static const McpStep pause_steps[] = {{"SELECT alfred.pause_task($1::uuid)", NULL}, {SCHEDULED_BY_ID, NULL}};
static const McpStep resume_steps[] = {{"SELECT alfred.resume_task($1::uuid)", NULL}, {SCHEDULED_BY_ID, NULL}};
static const McpStep cancel_steps[] = {{"SELECT alfred.cancel_task($1::uuid)", NULL}, {SCHEDULED_BY_ID, NULL}};

static const McpArg propose_args[] = {
	{"action_type", MCP_STRING, true, "What kind of action: \"create\", \"update\", \"complete\", \"delete\" or \"query\" for a task action; \"create_email_draft\", \"create_calendar_event\", \"update_calendar_event\", \"delete_calendar_event\", \"create_reminder_event\"; or any lower_snake_case name.", NULL, 0, 0},
	{"payload", MCP_OBJECT, true, "The action's details, checked for the action type (e.g. create: {\"title\": ..., \"due_date\": ...}; create_email_draft: {\"to\": ..., \"subject\": ..., \"body\": ...}).", NULL, 0, 0},
	{"risk_level", MCP_ENUM, false, "How much harm a mistake would do (default \"low\"). High-risk proposals may be rejected automatically by the person's settings.", risks, 0, 0},
	{"explanation", MCP_STRING, false, "Why you propose it, in words the person reads when deciding.", NULL, 0, 0},
	{"warning_text", MCP_STRING, false, "What could go wrong.", NULL, 0, 0},
	{"expires_at", MCP_TIMESTAMP, false, "After this time the proposal lapses unanswered (ISO 8601).", NULL, 0, 0},
	{"confidence", MCP_NUMBER, false, "How sure you are that the person wants it, 0 to 1.", NULL, 0, 1},
	{"task_id", MCP_UUID, false, "The task it concerns.", NULL, 0, 0},
};
static const McpStep propose_steps[] = {
	{"SELECT set_config('alfred_mcp.id', alfred.propose(" ME ", 'alfred-mcp', $1, $2::jsonb, coalesce($3, 'low'), "
	"$4, $5, $6::timestamptz, task_id => $8::uuid, confidence => $7::float8, requested_by => $9)::text, true)", NULL},
	{"SELECT jsonb_build_object('proposal_id', p.id, 'status', p.status, 'action_type', p.action_type, "
		"'risk_level', p.risk_level, 'expires_at', p.expires_at, 'result', p.result, 'note', "
		"CASE p.status WHEN 'pending' THEN 'Waiting for the person''s approval; nothing has been done yet.' "
		"WHEN 'rejected' THEN 'Rejected at once by the person''s settings: ' || coalesce(p.rejection_reason, '') "
		"ELSE 'A read-only query: its result is in result.' END)::text "
	"FROM alfred.proposals p WHERE p.user_id = " ME " AND p.id = current_setting('alfred_mcp.id')::uuid", NULL},
};

static const McpArg engagement_args[] = {
	{"suggestion_type", MCP_STRING, true, "The kind of suggestion (\"habit_reminder\", \"task_nudge\", ...), the same name you use with should_suggest.", NULL, 0, 0},
	{"action", MCP_ENUM, true, "\"engaged\": the person acted on, accepted or replied to it; \"dismissed\": closed, declined or ignored it.", actions, 0, 0},
	{"source", MCP_ENUM, false, "Where the suggestion was made (default \"conversation\").", sources, 0, 0},
	{"context", MCP_OBJECT, false, "Anything worth keeping about the moment.", NULL, 0, 0},
};
static const McpStep engagement_steps[] = {
	{"SELECT (to_jsonb(p) - 'user_id')::text FROM alfred.record_engagement(" ME ", $1, $2, "
	"coalesce($3, 'conversation'), coalesce($4::jsonb, '{}')) p", NULL},
};

static const McpArg should_suggest_args[] = {
	{"suggestion_type", MCP_STRING, true, "The kind of suggestion you are about to make.", NULL, 0, 0},
	{"base", MCP_NUMBER, false, "How relevant the suggestion is right now, above 0 up to 1 (default 1).", NULL, 0, 1},
};
static const McpStep should_suggest_steps[] = {
	{"SELECT jsonb_build_object('suggest', alfred.should_suggest(u, $1, coalesce($2::float8, 1.0)), "
	"'score', alfred.suggestion_score(u, $1, coalesce($2::float8, 1.0)))::text "
	"FROM (SELECT " ME " AS u) me", NULL},
};

#define N(a) ((int) (sizeof(a) / sizeof((a)[0])))
#define TOOL(name, title, desc, args, steps, ro) {name, title, desc, args, N(args), steps, N(steps), ro}
#define TOOL0(name, title, desc, steps, ro) {name, title, desc, NULL, 0, steps, N(steps), ro}

const McpTool alfred_mcp_tools[] = {
	TOOL0("today", "Today's briefing",
		  "The person's day at a glance: priority and overdue tasks, habits (done, at risk), neglected projects, "
		  "this week's numbers, due notifications and a one-line summary, in their time zone. "
		  "Call it first in a conversation about plans, or when asked \"what's on today?\".",
		  today_steps, true),
	TOOL("list_tasks", "List tasks",
		 "The person's tasks, most important first (priority, then due time), with their dependencies. "
		 "Use it to answer \"what do I have to do\" or to find a task's id.",
		 list_tasks_args, list_tasks_steps, true),
	TOOL("search_tasks", "Search tasks",
		 "Finds tasks by words in their title or description. Use it when the person refers to a task by "
		 "name (\"the dentist thing\") and you need its id.",
		 search_tasks_args, search_tasks_steps, true),
	TOOL("add_task", "Add a task",
		 "Creates a task for the person, optionally recurring and depending on other tasks. "
		 "Use it when the person asks you to remember something to do.",
		 add_task_args, add_task_steps, false),
	TOOL("update_task", "Update a task",
		 "Changes a task's title, description, priority, status, due time, recurrence or tags, or adds "
		 "dependencies. Omitted fields stay as they are.",
		 update_task_args, update_task_steps, false),
	TOOL("complete_task", "Complete a task",
		 "Marks a task completed. A recurring task then gets its next occurrence. Fails, naming it, while a "
		 "task it depends on is unfinished.",
		 task_id_arg, complete_task_steps, false),
	TOOL("log_habit", "Log a habit",
		 "Records that the person did a habit (today by default) and returns the streak. "
		 "Logging the same day twice changes nothing.",
		 log_habit_args, log_habit_steps, false),
	TOOL0("list_habits", "List habits",
		  "The person's active habits with today's state: scheduled today, done today, streaks.",
		  list_habits_steps, true),
	TOOL0("habits_at_risk", "Streaks at risk",
		  "Habits scheduled today, not yet logged, whose streak would break: longest streak first. "
		  "Use it before nudging the person about a habit.",
		  habits_at_risk_steps, true),
	TOOL("remember_preference", "Remember a preference",
		 "Stores what the person prefers (one value per key, with a confidence) so any assistant knows it "
		 "next time. Use it when the person states or shows a preference.",
		 remember_preference_args, remember_preference_steps, false),
	TOOL("remember_learning", "Remember a learning",
		 "Stores a piece of knowledge gathered for the person (a fact, an answer, a detail about their life) "
		 "under a topic.",
		 remember_learning_args, remember_learning_steps, false),
	TOOL("recall", "Recall preferences and learnings",
		 "Looks up what is known about the person: learned preferences and stored learnings, optionally "
		 "matching words. Use it before answering anything that depends on their tastes or history.",
		 recall_args, recall_steps, true),
	TOOL("schedule_task", "Schedule a proactive task",
		 "Schedules a tool to run for the person once (at) or on a cron schedule in their time zone, "
		 "e.g. a morning briefing or a reminder. Runs are executed by alfred's scheduler.",
		 schedule_task_args, schedule_task_steps, false),
	TOOL("list_scheduled_tasks", "List scheduled tasks",
		 "The person's scheduled (proactive) tasks with their next run. Use it to find a task to pause or cancel.",
		 list_scheduled_args, list_scheduled_steps, true),
	TOOL("pause_scheduled_task", "Pause a scheduled task",
		 "Stops a scheduled task from running until it is resumed.",
		 scheduled_id_arg, pause_steps, false),
	TOOL("resume_scheduled_task", "Resume a scheduled task",
		 "Resumes a paused scheduled task from its next slot.",
		 scheduled_id_arg, resume_steps, false),
	TOOL("cancel_scheduled_task", "Cancel a scheduled task",
		 "Cancels a scheduled task for good, with its pending runs.",
		 scheduled_id_arg, cancel_steps, false),
	TOOL("propose_action", "Propose an action for approval",
		 "Asks the person to approve an action you would take on their behalf (send an e-mail, create a "
		 "calendar event, change or delete a task...). Nothing is executed: the proposal waits until the person "
		 "approves it in their app. Use it for anything risky or irreversible instead of doing it yourself.",
		 propose_args, propose_steps, false),
	TOOL("record_engagement", "Report engagement with a suggestion",
		 "Tells alfred whether the person engaged with or dismissed a suggestion you made, so it learns how "
		 "proactive to be. Call it after every proactive suggestion.",
		 engagement_args, engagement_steps, false),
	TOOL("should_suggest", "Is now a good time to suggest?",
		 "Asks whether to make a proactive suggestion of a kind now, from what the person engaged with or "
		 "dismissed before and their proactiveness setting. Returns suggest (true/false) and the score. "
		 "Ask before volunteering a suggestion the person did not ask for.",
		 should_suggest_args, should_suggest_steps, true),
};
const int	alfred_mcp_ntools_ = N(alfred_mcp_tools);

/*---- resources ----*/

static const McpStep profile_steps[] = {
	{"SELECT jsonb_build_object('user', (SELECT jsonb_build_object('id', u.id, 'email', u.email, "
		"'username', u.username, 'display_name', u.display_name, 'first_name', u.first_name, "
		"'last_name', u.last_name, 'timezone', u.timezone, 'location_city', u.location_city, "
		"'location_country', u.location_country, 'profile', u.profile, 'role', u.role) "
		"FROM alfred.users u WHERE u.id = " ME "), "
	"'settings', (SELECT to_jsonb(s) - 'user_id' FROM alfred.user_settings s WHERE s.user_id = " ME "))::text",
	NULL},
};
static const McpStep preferences_steps[] = {
	{"SELECT jsonb_build_object('learned_preferences', (SELECT coalesce(jsonb_agg(jsonb_build_object("
		"'key', p.key, 'value', p.value, 'confidence', p.confidence, 'learned_at', p.learned_at) "
		"ORDER BY p.confidence DESC, p.key), '[]') FROM alfred.learned_preferences p WHERE p.user_id = " ME "), "
	"'proactiveness', (SELECT to_jsonb(x) - 'user_id' FROM alfred.proactiveness(" ME ") x))::text", NULL},
};

const McpResource alfred_mcp_resources[] = {
	{"alfred://briefing", "briefing", "Today's briefing",
		"The person's day: priority and overdue tasks, habits, projects, notifications and a summary (alfred.today).",
	today_steps, N(today_steps)},
	{"alfred://profile", "profile", "Profile",
		"Who the person is: name, time zone, location, free-form profile and their settings (tone, quiet hours, work blocks).",
	profile_steps, N(profile_steps)},
	{"alfred://preferences", "preferences", "Preferences",
		"What alfred has learned the person prefers, with confidences, and how proactive to be.",
	preferences_steps, N(preferences_steps)},
};
const int	alfred_mcp_nresources = N(alfred_mcp_resources);

const McpStep alfred_mcp_briefing_step = {"SELECT alfred.today(" ME ")::text", NULL};
