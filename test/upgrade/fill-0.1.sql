-- Data for the upgrade test: a little of everything, through alfred 0.1's own API
-- (only functions that exist in 0.1).  Run in a database with alfred 0.1.
SET alfred.password_cost = 4;
SET timezone = 'UTC';
SELECT alfred.create_user('upgrade-ann@example.com', 'correct horse', 'ann', 'Ann', 'Europe/Paris') AS ann \gset
SELECT alfred.create_user('upgrade-root@example.com', 'correct horse', 'root', role => 'admin') AS root \gset
SELECT alfred.login('upgrade-ann@example.com', 'correct horse') IS NOT NULL AS logged_in;
INSERT INTO alfred.projects (user_id, name) VALUES (:'ann', 'Garden') RETURNING id AS project \gset
INSERT INTO alfred.project_updates (user_id, project_id, content) VALUES (:'ann', :'project', 'Seeds ordered');
INSERT INTO alfred.tasks (user_id, title, project_id, priority, due_date)
VALUES (:'ann', 'Dig beds', :'project', 'high', '2030-04-01 10:00+00'),
       (:'ann', 'Water', :'project', 'low', NULL);
INSERT INTO alfred.habits (user_id, name) VALUES (:'ann', 'Walk') RETURNING id AS habit \gset
SELECT alfred.log_habit(:'habit', current_date - 1) IS NOT NULL AS logged;
SELECT alfred.add_message(:'ann', 'user', 'Hello alfred') IS NOT NULL AS said;
SELECT alfred.learn_preference(:'ann', 'tone', 'brief', 0.6) IS NOT NULL AS learned;
SELECT alfred.ingest_item(:'ann', 'email', 'gmail', 'msg-1', 'Lunch?') IS NOT NULL AS ingested;
-- 0.1 took infinite item times; 0.2's CHECK does not (the update makes them NULL)
SELECT alfred.ingest_item(:'ann', 'event', 'google_calendar', 'evt-1', 'Forever', start_datetime => '-infinity',
	end_datetime => 'infinity', received_datetime => 'infinity') IS NOT NULL AS ingested;
SELECT alfred.propose(:'ann', 'planner', 'create_task', '{"title": "Buy seeds"}') AS proposal \gset
SELECT alfred.approve(:'proposal') IS NOT NULL AS approved;
SELECT alfred.record_engagement(:'ann', 'morning_briefing', 'engaged', 'notification') IS NOT NULL AS engaged;
SELECT alfred.schedule_task(:'ann', 'Morning brief', 'daily_briefing', cron => '0 7 * * *') IS NOT NULL AS scheduled;
-- 0.1 took an infinite time; 0.2's CHECK does not (the update makes next_run_at NULL)
SELECT alfred.schedule_task(:'ann', 'Never', 'daily_briefing', at => 'infinity') IS NOT NULL AS scheduled;
SELECT alfred.connect_account(:'ann', 'gmail', 'ya29.token', key => 'upgrade test key!') IS NOT NULL AS connected;
INSERT INTO alfred.system_logs (level, module, message) VALUES ('info', 'upgrade', 'filled');
