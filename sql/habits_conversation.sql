-- learn_preference's rule, the chat session lifecycle of add_message and
-- idempotent ingest_item, with their refusals.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
	RETURN regexp_replace(st || ': ' || msg,
		'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g');
END $$;
SELECT alfred.create_user('habits-chat@example.com', 'secret-chat') AS u \gset
SELECT alfred.create_user('habits-quiet@example.com', 'secret-quiet') AS quiet \gset

-- Preferences: evidence for the same value adds up; a different value wins
-- only with a higher confidence.
SELECT key, value, confidence FROM alfred.learn_preference(:'u', 'communication_style', 'concise', 0.5);
SELECT key, value, confidence FROM alfred.learn_preference(:'u', 'communication_style', 'concise', 0.5);
SELECT key, value, confidence FROM alfred.learn_preference(:'u', 'communication_style', 'detailed', 0.6);
SELECT key, value, confidence FROM alfred.learn_preference(:'u', 'communication_style', 'detailed', 0.9);
SELECT key, value, confidence FROM alfred.learn_preference(:'u', 'communication_style', 'detailed');
SELECT key, value, confidence FROM alfred.learn_preference(:'u', 'communication_style', 'detailed', 1);
SELECT key, value, confidence FROM alfred.learn_preference(:'u', 'work_start_time', '09:00', 0);
SELECT count(*) AS preferences FROM alfred.learned_preferences WHERE user_id = :'u';
-- With learning switched off nothing is learned.
UPDATE alfred.user_settings SET enable_preference_learning = false WHERE user_id = :'quiet';
SELECT learn_preference IS NULL AS nothing FROM alfred.learn_preference(:'quiet', 'k', 'v', 0.9) learn_preference;
SELECT count(*) AS preferences FROM alfred.learned_preferences WHERE user_id = :'quiet';

-- Chat: the first message opens a session, the next ones join it.
SELECT role, content FROM alfred.add_message(:'u', 'user', 'Hi Alfred');
SELECT role, content FROM alfred.add_message(:'u', 'ai_response', 'Good morning.', '{"tokens": 3}');
SELECT id AS s1 FROM alfred.chat_sessions WHERE user_id = :'u' \gset
SELECT is_active, message_count FROM alfred.chat_sessions WHERE user_id = :'u';
-- After 24 idle hours the session ends and a new one starts.
UPDATE alfred.chat_sessions SET started_at = now() - interval '2 days', last_activity_at = now() - interval '25 hours'
WHERE id = :'s1';
SELECT session_id = :'s1' AS same_session FROM alfred.add_message(:'u', 'user', 'Back again');
SELECT id = :'s1' AS first, is_active, message_count FROM alfred.chat_sessions WHERE user_id = :'u' ORDER BY started_at;
-- An explicit close ends the session too; a message to it is refused.
SELECT id AS s2 FROM alfred.chat_sessions WHERE user_id = :'u' AND is_active \gset
SELECT is_active FROM alfred.close_chat_session(:'s2');
SELECT pg_temp.err(format('SELECT alfred.add_message(%L, %L, %L, session_id => %L)', :'u', 'user', 'hello?', :'s2'));
SELECT role FROM alfred.add_message(:'u', 'system_notification', 'New session');
SELECT id AS s3 FROM alfred.chat_sessions WHERE user_id = :'u' AND is_active \gset
SELECT session_id = :'s3' AS joined_s3, :'s3' <> :'s2' AS s3_is_new
FROM alfred.add_message(:'u', 'assistant', 'Continuing', session_id => :'s3');
SELECT count(*) AS sessions, sum(message_count) AS messages FROM alfred.chat_sessions WHERE user_id = :'u';
SELECT total_messages, total_sessions, average_session_length FROM alfred.ai_contexts WHERE user_id = :'u';

-- Inbox: the same delivery twice is one row; a newer version updates it in
-- place, an older one changes nothing; the user's archive flag survives.
SELECT source_id, title, source_updated_at FROM alfred.ingest_item(:'u', 'email', 'gmail', 'msg-1',
	title => 'Invoice', sender => 'billing@example.com', received_datetime => '2030-01-02 09:00Z',
	source_updated_at => '2030-01-02 09:00Z');
SELECT id AS item, updated_at AS first_update FROM alfred.items WHERE user_id = :'u' \gset
SELECT title, updated_at = :'first_update' AS untouched FROM alfred.ingest_item(:'u', 'email', 'gmail', 'msg-1',
	title => 'Invoice', sender => 'billing@example.com', received_datetime => '2030-01-02 09:00Z',
	source_updated_at => '2030-01-02 09:00Z');
UPDATE alfred.items SET is_archived = true WHERE id = :'item';
SELECT title, is_archived, source_updated_at FROM alfred.ingest_item(:'u', 'email', 'gmail', 'msg-1',
	title => 'Invoice (corrected)', source_updated_at => '2030-01-03 10:00Z');
SELECT title, source_updated_at FROM alfred.ingest_item(:'u', 'email', 'gmail', 'msg-1',
	title => 'Invoice (stale copy)', source_updated_at => '2030-01-02 12:00Z');
SELECT title FROM alfred.ingest_item(:'u', 'email', 'gmail', 'msg-1', title => 'Invoice (no version)');
-- A provider without versions: the content decides.
SELECT title FROM alfred.ingest_item(:'u', 'event', 'google_calendar', 'evt-1', title => 'Standup',
	start_datetime => '2030-01-02 09:00Z', end_datetime => '2030-01-02 09:15Z');
SELECT title, start_datetime FROM alfred.ingest_item(:'u', 'event', 'google_calendar', 'evt-1', title => 'Standup',
	start_datetime => '2030-01-02 09:30Z', end_datetime => '2030-01-02 09:45Z');
SELECT source_provider, source_id, title, is_archived FROM alfred.items WHERE user_id = :'u' ORDER BY source_id;
-- The same provider id for another user is another item.
SELECT (alfred.ingest_item(:'quiet', 'email', 'gmail', 'msg-1', title => 'Other')).title;
SELECT count(*) AS items FROM alfred.items WHERE source_id = 'msg-1';

-- Refusals change nothing: 22023, 22004, 23514, 55000, 22008.
SELECT pg_temp.err(format('SELECT alfred.learn_preference(%L, %L, %L, 1.5)', :'u', 'k', 'v'));
SELECT pg_temp.err(format('SELECT alfred.learn_preference(%L, NULL, %L)', :'u', 'v'));
SELECT pg_temp.err($$SELECT alfred.learn_preference('00000000-0000-0000-0000-000000000000', 'k', 'v')$$);
SELECT pg_temp.err($$SELECT alfred.learn_preference(NULL, 'k', 'v')$$);
SELECT pg_temp.err(format('SELECT alfred.add_message(%L, %L, %L)', :'u', 'robot', 'beep'));
SELECT pg_temp.err(format('SELECT alfred.add_message(%L, %L, %L)', :'u', 'user', '   '));
SELECT pg_temp.err(format('SELECT alfred.add_message(%L, %L, %L, session_id => %L)', :'u', 'user', 'x', '00000000-0000-0000-0000-000000000000'));
SELECT pg_temp.err(format('SELECT alfred.add_message(%L, %L, %L, session_id => %L)', :'quiet', 'user', 'x', :'s1'));
SELECT pg_temp.err($$SELECT alfred.add_message('00000000-0000-0000-0000-000000000000', 'user', 'x')$$);
SELECT pg_temp.err($$SELECT alfred.close_chat_session('00000000-0000-0000-0000-000000000000')$$);
SELECT pg_temp.err(format('SELECT alfred.ingest_item(%L, %L, %L, %L)', :'u', 'fax', 'gmail', 'f-1'));
SELECT pg_temp.err(format('SELECT alfred.ingest_item(%L, %L, %L, %L)', :'u', 'email', 'yahoo', 'y-1'));
SELECT pg_temp.err($$SELECT alfred.ingest_item('00000000-0000-0000-0000-000000000000', 'email', 'gmail', 'x')$$);
SELECT pg_temp.err(format('SELECT alfred.ingest_item(%L, %L, %L, %L, start_datetime => %L)', :'u', 'event', 'google_calendar', 'evt-inf', 'infinity'));
SELECT pg_temp.err(format('UPDATE alfred.items SET received_datetime = %L WHERE user_id = %L', '-infinity', :'u'));
SELECT (SELECT count(*) FROM alfred.chat_messages WHERE user_id = :'u') AS messages,
	(SELECT total_messages FROM alfred.ai_contexts WHERE user_id = :'u') AS total_messages,
	(SELECT count(*) FROM alfred.items WHERE user_id = :'u') AS items;

DELETE FROM alfred.users WHERE id IN (:'u', :'quiet');
