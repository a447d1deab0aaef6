// mcp_test.mjs: drives alfred-mcp with the official MCP TypeScript SDK
// (Client + StdioClientTransport), as a desktop LLM client would, and prints
// TAP lines without numbers or plan (test/integration/mcp.sh counts them).
//
// Environment (set by test/integration/mcp.sh):
//   ALFRED_MCP        the alfred-mcp binary (the installed link on PATH)
//   MCP_CONNINFO      libpq connection string of the app role (RLS applies)
//   MCP_SERVICE_CONNINFO  connection string of a member of alfred_service
//   ANN_TOKEN, BOB_TOKEN, CARL_TOKEN, DAN_TOKEN  session tokens
//   ANN_ID, ANN_HABIT  ids made by the set-up
//   README            README.md, whose "Connecting an LLM client" must be true
//   PSQL              psql command line (superuser) used to expire a token,
//                     suspend a user and look at the database
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const env = process.env;
let failures = 0;

function ok(cond, name, diag) {
  console.log(`${cond ? 'ok' : 'not ok'} - ${name}`);
  if (!cond) {
    failures++;
    if (diag !== undefined) console.log(`#   ${JSON.stringify(diag)}`.split('\n').join('\n# '));
  }
}

function sql(q) {
  const [cmd, ...args] = env.PSQL.split(' ');
  return execFileSync(cmd, [...args, '-c', q], { encoding: 'utf8' }).trim();
}

async function connect(name, extraEnv) {
  const transport = new StdioClientTransport({
    command: env.ALFRED_MCP,
    args: [],
    env: extraEnv,
    stderr: 'pipe',
  });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return client;
}

const asToken = (token) => ({ ALFRED_CONNINFO: env.MCP_CONNINFO, ALFRED_TOKEN: token });

// A tool's result: { error: bool, text, json }
async function call(client, name, args = {}) {
  const r = await client.callTool({ name, arguments: args });
  const text = r.content?.[0]?.text ?? '';
  let json = null;
  try { json = JSON.parse(text); } catch { /* an error message */ }
  return { error: r.isError === true, text, json };
}

async function protocolError(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return e;
  }
}

const EXPECTED_TOOLS = ['today', 'list_tasks', 'search_tasks', 'add_task', 'update_task', 'complete_task',
  'log_habit', 'list_habits', 'habits_at_risk', 'remember_preference', 'remember_learning', 'recall',
  'schedule_task', 'list_scheduled_tasks', 'pause_scheduled_task', 'resume_scheduled_task',
  'cancel_scheduled_task', 'propose_action', 'record_engagement', 'should_suggest'];

async function annSession() {
  const ann = await connect('mcp-test', asToken(env.ANN_TOKEN));
  ok(ann.getServerVersion()?.name === 'alfred-mcp', 'initialize through the SDK: the server is alfred-mcp');
  ok(typeof ann.getInstructions() === 'string' && ann.getInstructions().includes('propose_action'),
    'the server gives the model instructions');

  const { tools } = await ann.listTools();
  const names = tools.map((t) => t.name).sort();
  ok(JSON.stringify(names) === JSON.stringify([...EXPECTED_TOOLS].sort()), 'tools/list lists the 20 tools', names);
  ok(tools.every((t) => t.inputSchema.type === 'object' && t.description.length > 40),
    'every tool has an object input schema and a description');
  const called = new Set();
  const c = async (name, args) => { called.add(name); return call(ann, name, args); };

  let r = await c('today');
  ok(!r.error && r.json?.timezone === 'Europe/Zurich' && typeof r.json?.summary === 'string',
    'today: the briefing in the person\'s time zone', r);

  const paint = await c('add_task', { title: 'Buy paint', tags: ['home'], priority: 'high', due_date: '2030-05-01T09:00' });
  ok(!paint.error && paint.json?.title === 'Buy paint' && paint.json.due_date === '2030-05-01T09:00:00+02:00',
    'add_task: a due time without an offset is in the person\'s time zone', paint);
  const fence = await c('add_task', {
    title: 'Paint the fence', description: 'the garden fence, two coats', recurrence: 'weekly',
    due_date: '2030-05-04T10:00:00+02:00', depends_on: [paint.json.id],
  });
  ok(!fence.error && JSON.stringify(fence.json?.depends_on) === JSON.stringify([paint.json.id]) &&
    fence.json.recurrence === 'weekly', 'add_task: recurrence and a dependency', fence);
  r = await c('add_task', { title: 'Loop', depends_on: ['00000000-0000-0000-0000-000000000001'] });
  ok(r.error && /does not exist|not found/.test(r.text), 'add_task: an unknown dependency is a tool error', r);
  ok(sql("SELECT count(*) FROM alfred.tasks WHERE title = 'Loop'") === '0',
    '  and the failed call left no task behind (one transaction)');

  r = await c('list_tasks');
  ok(!r.error && r.json.length === 2 && r.json[0].title === 'Buy paint', 'list_tasks: open tasks, most important first', r);
  r = await c('search_tasks', { query: 'garden' });
  ok(!r.error && r.json.length === 1 && r.json[0].id === fence.json.id, 'search_tasks finds a task by a word of its description', r);
  r = await c('update_task', { task_id: fence.json.id, priority: 'urgent', tags: ['home', 'outside'] });
  ok(!r.error && r.json.priority === 'urgent' && r.json.tags.length === 2 && r.json.title === 'Paint the fence',
    'update_task changes what is given and keeps the rest', r);
  const e0 = await protocolError(ann.callTool({ name: 'update_task', arguments: { task_id: fence.json.id, status: 'completed' } }));
  ok(e0 && e0.code === -32602 && e0.message.includes('must be one of'), 'update_task cannot complete a task (complete_task does): -32602', String(e0));

  r = await c('complete_task', { task_id: fence.json.id });
  ok(r.error && r.text.includes('Buy paint'), 'complete_task: an unfinished dependency is a tool error naming it', r);
  r = await c('complete_task', { task_id: paint.json.id });
  ok(!r.error && r.json.status === 'completed', 'complete_task completes the dependency', r);
  r = await c('complete_task', { task_id: fence.json.id });
  ok(!r.error && r.json.status === 'completed', 'then the dependent task', r);
  r = await c('list_tasks', { status: 'pending' });
  ok(!r.error && r.json.length === 1 && r.json[0].title === 'Paint the fence' && r.json[0].due_date.startsWith('2030-05-11'),
    'the recurring task has its next occurrence a week later', r);

  r = await c('list_habits');
  ok(!r.error && r.json.length === 1 && r.json[0].name === 'Stretch', 'list_habits', r);
  r = await c('habits_at_risk');
  ok(!r.error && r.json.length === 1 && r.json[0].habit_id === env.ANN_HABIT, 'habits_at_risk: yesterday\'s streak is at risk today', r);
  r = await c('log_habit', { habit_id: env.ANN_HABIT, notes: 'ten minutes' });
  ok(!r.error && r.json.current_streak === 2 && r.json.state === 'done', 'log_habit: the streak goes on', r);
  r = await c('log_habit', { habit_id: env.ANN_HABIT, on_date: '2099-01-01' });
  ok(r.error && r.text.includes('2099-01-01'), 'log_habit: a future day is a tool error naming it', r);

  r = await c('remember_preference', { key: 'coffee', value: 'black, no sugar', confidence: 0.6 });
  ok(!r.error && r.json.key === 'coffee', 'remember_preference', r);
  r = await c('remember_learning', { topic: 'garden', content: 'The fence is 20 m long and needs 3 litres of paint.' });
  ok(!r.error && r.json.topic === 'garden', 'remember_learning', r);
  r = await c('recall', { query: 'coffee' });
  ok(!r.error && r.json.preferences.length === 1 && r.json.preferences[0].value === 'black, no sugar' &&
    r.json.learnings.length === 0, 'recall finds the preference by a word', r);
  r = await c('recall', { query: 'paint' });
  ok(!r.error && r.json.learnings.length === 1 && r.json.preferences.length === 0, 'recall finds the learning', r);

  const sched = await c('schedule_task', { name: 'Morning briefing', tool_name: 'daily_briefing', cron: '0 7 * * *' });
  ok(!sched.error && sched.json.status === 'active' && sched.json.source === 'agent' && sched.json.timezone === 'Europe/Zurich' &&
    sched.json.next_run_at.includes('T07:00:00+01:00'), 'schedule_task: 07:00 in the person\'s zone, marked as the agent\'s', sched);
  r = await c('schedule_task', { name: 'Never', tool_name: 'daily_briefing', cron: '0 7 31 2 *' });
  ok(r.error && r.text.includes('can never fire'), 'schedule_task: alfred\'s validation message comes back as a tool error', r);
  r = await c('list_scheduled_tasks');
  ok(!r.error && r.json.length === 1 && r.json[0].id === sched.json.id, 'list_scheduled_tasks', r);
  r = await c('pause_scheduled_task', { task_id: sched.json.id });
  ok(!r.error && r.json.status === 'paused' && r.json.next_run_at === null, 'pause_scheduled_task', r);
  r = await c('resume_scheduled_task', { task_id: sched.json.id });
  ok(!r.error && r.json.status === 'active' && r.json.next_run_at !== null, 'resume_scheduled_task', r);
  r = await c('cancel_scheduled_task', { task_id: sched.json.id });
  ok(!r.error && r.json.status === 'cancelled', 'cancel_scheduled_task', r);
  r = await c('pause_scheduled_task', { task_id: sched.json.id });
  ok(r.error && r.text.includes('cannot pause a cancelled task'), 'pausing a cancelled task is a tool error', r);

  r = await c('propose_action', {
    action_type: 'create_email_draft', risk_level: 'medium',
    payload: { to: ['painter@example.com'], subject: 'Fence', body: 'Could you paint my fence?' },
    explanation: 'You asked me to find a painter.',
  });
  ok(!r.error && r.json.status === 'pending' && r.json.note.includes('approval'), 'propose_action: pending, nothing executed', r);
  env.PROPOSAL = r.json?.proposal_id;
  r = await c('propose_action', { action_type: 'create_email_draft', payload: { subject: 'x' } });
  ok(r.error && r.text.includes('"to"'), 'propose_action: a payload that does not fit is a tool error naming the key', r);

  r = await c('record_engagement', { suggestion_type: 'habit_reminder', action: 'engaged' });
  ok(!r.error && typeof r.json.global_level === 'number', 'record_engagement returns the calibrated settings', r);
  r = await c('should_suggest', { suggestion_type: 'habit_reminder', base: 0.8 });
  ok(!r.error && typeof r.json.suggest === 'boolean' && r.json.score > 0 && r.json.score <= 1, 'should_suggest: a decision and its score', r);
  r = await c('should_suggest', { suggestion_type: ' ', base: 0.8 });
  ok(r.error, 'should_suggest: a blank suggestion type is a tool error', r);

  ok(EXPECTED_TOOLS.every((t) => called.has(t)), 'every tool was called', EXPECTED_TOOLS.filter((t) => !called.has(t)));

  const { resources } = await ann.listResources();
  ok(resources.map((x) => x.uri).sort().join(' ') === 'alfred://briefing alfred://preferences alfred://profile',
    'resources/list: briefing, profile, preferences', resources);
  const read = async (uri) => JSON.parse((await ann.readResource({ uri })).contents[0].text);
  let j = await read('alfred://briefing');
  ok(j.habits?.[0]?.completed_today === true, 'resource briefing: today with the habit logged', j);
  j = await read('alfred://profile');
  ok(j.user.email === 'ann@example.com' && j.user.password_hash === undefined && j.settings.ai_tone === 'professional',
    'resource profile: the person and their settings, no password hash', j);
  j = await read('alfred://preferences');
  ok(j.learned_preferences[0].key === 'coffee' && typeof j.proactiveness.global_level === 'number',
    'resource preferences: learned preferences and proactiveness', j);

  const { prompts } = await ann.listPrompts();
  ok(prompts.length === 1 && prompts[0].name === 'daily-review', 'prompts/list: daily-review', prompts);
  const p = await ann.getPrompt({ name: 'daily-review', arguments: { focus: 'the garden' } });
  const ptext = p.messages[0].content.text;
  ok(p.messages[0].role === 'user' && ptext.includes('"summary"') && ptext.includes('Focus on: the garden'),
    'prompts/get daily-review: built from today\'s briefing', ptext.slice(0, 200));

  // Protocol errors through the SDK
  let e = await protocolError(ann.callTool({ name: 'no_such_tool', arguments: {} }));
  ok(e && e.code === -32602 && e.message.includes('no_such_tool'), 'an unknown tool is a protocol error -32602', String(e));
  e = await protocolError(ann.callTool({ name: 'complete_task', arguments: { task_id: 'not-a-uuid' } }));
  ok(e && e.code === -32602 && e.message.includes('"task_id" must be a UUID'), 'an argument that does not fit the schema is -32602', String(e));
  e = await protocolError(ann.callTool({ name: 'add_task', arguments: { title: 'x', colour: 'red' } }));
  ok(e && e.code === -32602, 'an unknown argument is -32602', String(e));
  e = await protocolError(ann.readResource({ uri: 'alfred://passwords' }));
  ok(e && e.code === -32002, 'an unknown resource is -32002', String(e));
  e = await protocolError(ann.getPrompt({ name: 'weekly-review' }));
  ok(e && e.code === -32602, 'an unknown prompt is -32602', String(e));
  ok((await ann.ping()) !== undefined, 'ping');
  await ann.close();
  return { paint: paint.json.id, fence: fence.json.id, sched: sched.json.id };
}

async function bobSession(annIds) {
  const bob = await connect('mcp-test-bob', asToken(env.BOB_TOKEN));
  let r = await call(bob, 'list_tasks', { status: 'all' });
  ok(!r.error && r.json.length === 0, 'bob: list_tasks sees none of ann\'s tasks', r);
  r = await call(bob, 'search_tasks', { query: 'fence', include_done: true });
  ok(!r.error && r.json.length === 0, 'bob: search_tasks finds none of them', r);
  r = await call(bob, 'update_task', { task_id: annIds.paint, title: 'hijacked' });
  ok(r.error && r.text.includes('no task'), 'bob: update_task on ann\'s task: no such task', r);
  r = await call(bob, 'complete_task', { task_id: annIds.fence });
  ok(r.error, 'bob: complete_task on ann\'s task fails', r);
  r = await call(bob, 'add_task', { title: 'mine', depends_on: [annIds.paint] });
  ok(r.error, 'bob: a dependency on ann\'s task is refused', r);
  r = await call(bob, 'log_habit', { habit_id: env.ANN_HABIT });
  ok(r.error, 'bob: log_habit on ann\'s habit fails', r);
  r = await call(bob, 'resume_scheduled_task', { task_id: annIds.sched });
  ok(r.error, 'bob: resume_scheduled_task on ann\'s task fails', r);
  sql("UPDATE alfred.user_settings SET enable_preference_learning = false WHERE user_id = (SELECT id FROM alfred.users WHERE email = 'bob@example.com')");
  r = await call(bob, 'remember_preference', { key: 'tea', value: 'green' });
  ok(!r.error && r.json.learned === false && r.json.reason.includes('off'),
    'bob: with preference learning off, remember_preference says nothing was learned', r);
  r = await call(bob, 'recall');
  ok(!r.error && r.json.preferences.length === 0 && r.json.learnings.length === 0, 'bob: recall knows nothing of ann', r);
  r = await call(bob, 'list_scheduled_tasks', { include_finished: true });
  ok(!r.error && r.json.length === 0, 'bob: no scheduled tasks of ann', r);
  const prof = JSON.parse((await bob.readResource({ uri: 'alfred://profile' })).contents[0].text);
  ok(prof.user.email === 'bob@example.com', 'bob: the profile resource is bob\'s', prof);
  const brief = JSON.parse((await bob.readResource({ uri: 'alfred://briefing' })).contents[0].text);
  ok(brief.habits.length === 0 && brief.timezone === 'America/New_York', 'bob: the briefing is bob\'s', brief);
  await bob.close();
}

async function endOfAccess() {
  const carl = await connect('mcp-test-carl', asToken(env.CARL_TOKEN));
  let r = await call(carl, 'today');
  ok(!r.error, 'carl: a live token works');
  sql("UPDATE alfred.sessions SET created_at = now() - interval '1 hour', expires_at = now() - interval '1 second' WHERE user_id = (SELECT id FROM alfred.users WHERE email = 'carl@example.com')");
  r = await call(carl, 'today');
  ok(r.error && r.text.startsWith('invalid or expired session token'), 'carl: once the token expires, the next call is a tool error saying so', r);
  r = await call(carl, 'add_task', { title: 'after expiry' });
  ok(r.error, 'carl: and nothing can be written', r);
  const e = await protocolError(carl.readResource({ uri: 'alfred://profile' }));
  ok(e && e.message.includes('invalid or expired session token'), 'carl: reading a resource fails with the message', String(e));
  await carl.close();

  const dan = await connect('mcp-test-dan', asToken(env.DAN_TOKEN));
  r = await call(dan, 'add_task', { title: 'before suspension' });
  ok(!r.error, 'dan: an active user works');
  sql("UPDATE alfred.users SET status = 'suspended' WHERE email = 'dan@example.com'");
  r = await call(dan, 'list_tasks');
  ok(r.error && r.text.startsWith('invalid or expired session token'), 'dan: once suspended, the next call is a tool error', r);
  await dan.close();
}

async function serviceMode() {
  const svc = await connect('mcp-test-svc', { ALFRED_CONNINFO: env.MCP_SERVICE_CONNINFO, ALFRED_USER_ID: env.ANN_ID });
  let r = await call(svc, 'list_tasks', { status: 'all' });
  ok(!r.error && r.json.length === 3, 'service mode: a member of alfred_service acts for the configured user', r);
  await svc.close();
  const app = await connect('mcp-test-app', { ALFRED_CONNINFO: env.MCP_CONNINFO, ALFRED_USER_ID: env.ANN_ID });
  r = await call(app, 'list_tasks');
  ok(r.error && r.text.startsWith('permission denied to act as another user'), 'service mode: a plain app role may not act as a user', r);
  await app.close();
}

// Raw lines, below the SDK: malformed JSON, a bad request, EOF ends the server.
async function rawProtocol() {
  const child = spawn(env.ALFRED_MCP, [], {
    env: { ...process.env, ALFRED_CONNINFO: env.MCP_CONNINFO, ALFRED_TOKEN: env.ANN_TOKEN },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  child.stdin.write('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}\n');
  child.stdin.write('{this is not json\n');
  child.stdin.write('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"today","arguments":[]}}\n');
  child.stdin.write('{"jsonrpc":"2.0","id":3,"method":"resources/subscribe","params":{"uri":"alfred://briefing"}}\n');
  child.stdin.write('{"jsonrpc":"2.0","id":4}\n');
  child.stdin.end();
  const code = await exited;
  const lines = out.trim().split('\n').map((l) => JSON.parse(l));
  ok(lines.length === 5, 'raw: one response line per request', out);
  ok(lines[0].result?.protocolVersion === '2024-11-05', 'raw: an older protocol version is accepted as asked', lines[0]);
  ok(lines[1].error?.code === -32700 && lines[1].id === null, 'raw: malformed JSON is -32700 with id null', lines[1]);
  ok(lines[2].error?.code === -32602, 'raw: arguments that are not an object are -32602', lines[2]);
  ok(lines[3].error?.code === -32601, 'raw: an unsupported method is -32601', lines[3]);
  ok(lines[4].error?.code === -32600 && lines[4].id === 4, 'raw: a request without a method is -32600', lines[4]);
  ok(code === 0, 'raw: EOF on stdin ends the server with status 0', code);
}

// README's "Connecting an LLM client": its client configuration starts the
// server (with this test's values for the placeholders), its tables name
// exactly the tools and resources the server offers.
async function readme() {
  const text = readFileSync(env.README, 'utf8');
  const section = text.split('\n## Connecting an LLM client\n')[1].split('\n## ')[0];
  const config = JSON.parse(section.split('```json\n')[1].split('```')[0]).mcpServers.alfred;
  ok(config.command === 'alfred-mcp' && Object.keys(config.env).sort().join(' ') === 'ALFRED_CONNINFO ALFRED_TOKEN',
    'README: the client configuration runs alfred-mcp with ALFRED_CONNINFO and ALFRED_TOKEN', config);
  const transport = new StdioClientTransport({
    command: config.command,	// found on PATH, as a client would
    args: config.args,
    env: { PATH: env.MCP_PATH, ALFRED_CONNINFO: env.MCP_CONNINFO, ALFRED_TOKEN: env.ANN_TOKEN },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'readme', version: '1.0.0' });
  await client.connect(transport);
  const r = await call(client, 'today');
  ok(!r.error && r.json.timezone === 'Europe/Zurich', 'README: that configuration works', r);
  const tools = (await client.listTools()).tools.map((t) => t.name).sort();
  const resources = (await client.listResources()).resources.map((x) => x.uri).sort();
  await client.close();
  const tables = section.split('**Tools**')[1];
  const documented = [...tables.split('**Resources**')[0].matchAll(/^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \|/gm)]
    .flatMap((m) => m[1].split(', ').map((x) => x.replace(/`/g, ''))).sort();
  ok(JSON.stringify(documented) === JSON.stringify(tools), 'README: the tools table names exactly the server\'s tools',
    { documented, tools });
  const docres = [...tables.split('**Resources**')[1].matchAll(/^\| `(alfred:\/\/[a-z]+)` \|/gm)].map((m) => m[1]).sort();
  ok(JSON.stringify(docres) === JSON.stringify(resources), 'README: the resources table names exactly the server\'s resources',
    { docres, resources });
}

try {
  await readme();
  const annIds = await annSession();
  await bobSession(annIds);
  await endOfAccess();
  await serviceMode();
  await rawProtocol();
  ok(true, 'the test script ran to its end');
} catch (e) {
  ok(false, `the test script ran to its end: ${e.stack}`);
}
process.exit(failures ? 1 : 0);
