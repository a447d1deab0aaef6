-- Conversation memory thresholds (seed 001): a session over 50 messages is
-- flagged for a summary, lifetime counts crossing 100, 500 and 1000 are noted;
-- alfred.set_context_summary and alfred.set_conversation_summary clear them.
SET timezone = 'UTC';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN st || ': ' || msg || coalesce(' / ' || nullif(det, ''), '');
END $$;
BEGIN;
INSERT INTO alfred.users (id, email, password_hash, role, status) VALUES
	('00000000-0000-0000-0010-0000000000a1', 'ana.rest@example.com', '$2a$06$x', 'user', 'active'),
	('00000000-0000-0000-0010-0000000000b0', 'bob.rest@example.com', '$2a$06$x', 'user', 'active');
INSERT INTO alfred.chat_sessions (user_id, id) VALUES
	('00000000-0000-0000-0010-0000000000a1', '00000000-0000-0000-0010-00000000c001');
INSERT INTO alfred.ai_contexts (user_id) VALUES ('00000000-0000-0000-0010-0000000000a1');

-- 50 messages: not yet; the 51st flags the session
UPDATE alfred.chat_sessions SET message_count = 50;
SELECT message_count, needs_summary FROM alfred.chat_sessions;
UPDATE alfred.chat_sessions SET message_count = message_count + 1;
SELECT message_count, needs_summary FROM alfred.chat_sessions;
SELECT kind, session_id, messages, summarized_at FROM alfred.summaries_due;

-- the summary clears the flag until 50 more messages arrive
SELECT message_count, needs_summary, context_summary
FROM alfred.set_context_summary('00000000-0000-0000-0010-00000000c001', 'Ana plans the Q3 report.');
UPDATE alfred.chat_sessions SET message_count = 101;
SELECT needs_summary FROM alfred.chat_sessions;
UPDATE alfred.chat_sessions SET message_count = 102;
SELECT needs_summary FROM alfred.chat_sessions;

-- lifetime thresholds: 99 nothing, 100 due, summarized, 499 nothing, 500 due, 1000 due
UPDATE alfred.ai_contexts SET total_messages = 99;
SELECT total_messages, summary_threshold, summarized_threshold FROM alfred.ai_contexts;
UPDATE alfred.ai_contexts SET total_messages = 100;
SELECT kind, user_id, messages, summarized_at FROM alfred.summaries_due WHERE kind = 'lifetime';
SELECT total_messages, summary_threshold, summarized_threshold, conversation_summary
FROM alfred.set_conversation_summary('00000000-0000-0000-0010-0000000000a1', 'Ana: reports, running.');
UPDATE alfred.ai_contexts SET total_messages = 499;
SELECT count(*) AS lifetime_due FROM alfred.summaries_due WHERE kind = 'lifetime';
UPDATE alfred.ai_contexts SET total_messages = 500;
SELECT messages, summarized_at FROM alfred.summaries_due WHERE kind = 'lifetime';
UPDATE alfred.ai_contexts SET total_messages = 1200;
SELECT messages, summarized_at FROM alfred.summaries_due WHERE kind = 'lifetime';
-- a user without an ai_contexts row gets one
SELECT user_id, total_messages, summarized_threshold, conversation_summary
FROM alfred.set_conversation_summary('00000000-0000-0000-0010-0000000000b0', 'Bob: new.');

-- end to end through alfred.add_message, which keeps the counters
SELECT count(alfred.add_message('00000000-0000-0000-0010-0000000000b0', 'user', 'message ' || i))
FROM generate_series(1, 50) i;
SELECT message_count, needs_summary FROM alfred.chat_sessions
WHERE user_id = '00000000-0000-0000-0010-0000000000b0';
SELECT (alfred.add_message('00000000-0000-0000-0010-0000000000b0', 'assistant', 'the 51st')).role;
SELECT message_count, needs_summary FROM alfred.chat_sessions
WHERE user_id = '00000000-0000-0000-0010-0000000000b0';
SELECT count(alfred.add_message('00000000-0000-0000-0010-0000000000b0', 'user', 'more ' || i))
FROM generate_series(1, 49) i;
SELECT total_messages, summary_threshold, summarized_threshold FROM alfred.ai_contexts
WHERE user_id = '00000000-0000-0000-0010-0000000000b0';
SELECT kind, messages FROM alfred.summaries_due
WHERE user_id = '00000000-0000-0000-0010-0000000000b0' ORDER BY kind;

-- refusals
SELECT pg_temp.err($$SELECT alfred.set_context_summary('00000000-0000-0000-0010-00000000c001', ' ')$$);
SELECT pg_temp.err($$SELECT alfred.set_context_summary('00000000-0000-0000-0010-00000000ffff', 'x')$$);
SELECT pg_temp.err($$SELECT alfred.set_conversation_summary('00000000-0000-0000-0010-0000000000a1', NULL)$$);
SELECT pg_temp.err($$SELECT alfred.set_conversation_summary('00000000-0000-0000-0010-00000000ffff', 'x')$$);
CREATE ROLE regress_rest_app;
SELECT alfred.grant_usage('regress_rest_app');
SET ROLE regress_rest_app;
RESET ROLE;
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000b0', local => false) IS NOT NULL AS bob;
SET ROLE regress_rest_app;
SELECT pg_temp.err($$SELECT alfred.set_context_summary('00000000-0000-0000-0010-00000000c001', 'x')$$);
SELECT pg_temp.err($$SELECT alfred.set_conversation_summary('00000000-0000-0000-0010-0000000000a1', 'x')$$);
RESET ROLE;
SELECT context_summary FROM alfred.chat_sessions;
ROLLBACK;
