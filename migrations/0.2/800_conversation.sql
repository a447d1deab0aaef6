-- 800_conversation: conversation memory thresholds (a session over
-- 50 messages is summarized; the lifetime summary is regenerated when total
-- messages cross 100, 500 and 1000).  The flags are generated columns of
-- chat_sessions (needs_summary) and ai_contexts (summary_threshold >
-- summarized_threshold), so they hold however the counters are maintained.

CREATE FUNCTION @extschema@.set_context_summary(session_id uuid, summary text)
RETURNS @extschema@.chat_sessions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	owner_id uuid;
	s @extschema@.chat_sessions;
BEGIN
	PERFORM @extschema@._require_argument('session_id', session_id);
	PERFORM @extschema@._require_argument('summary', summary);
	IF @extschema@.is_blank(summary) THEN
		RAISE EXCEPTION 'a context summary must not be empty' USING ERRCODE = '22023';
	END IF;
	owner_id := @extschema@.owner_of('@extschema@.chat_sessions', session_id);
	SELECT * INTO s FROM @extschema@.chat_sessions c WHERE c.user_id = owner_id AND c.id = session_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'chat session "%" not found', session_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT @extschema@.may_act_for(s.user_id) THEN
		RAISE EXCEPTION 'permission denied to summarize chat session "%"', session_id
			USING ERRCODE = '42501', DETAIL = 'Only the session''s owner, admins and trusted services summarize it.';
	END IF;
	UPDATE @extschema@.chat_sessions c
	SET context_summary = summary, summarized_message_count = c.message_count
	WHERE c.user_id = s.user_id AND c.id = s.id
	RETURNING * INTO s;
	RETURN s;
END
$$;

COMMENT ON FUNCTION @extschema@.set_context_summary(uuid, text) IS
'Store the compressed context of a chat session and clear its needs_summary flag (set again once 50 more messages arrive). 22023 empty summary, P0002 unknown session, 42501 not allowed.';

CREATE FUNCTION @extschema@.set_conversation_summary(user_id uuid, summary text)
RETURNS @extschema@.ai_contexts
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c @extschema@.ai_contexts;
BEGIN
	PERFORM @extschema@._require_argument('user_id', user_id);
	PERFORM @extschema@._require_argument('summary', summary);
	IF @extschema@.is_blank(summary) THEN
		RAISE EXCEPTION 'a conversation summary must not be empty' USING ERRCODE = '22023';
	END IF;
	IF NOT EXISTS (SELECT FROM @extschema@.users u WHERE u.id = set_conversation_summary.user_id) THEN
		RAISE EXCEPTION 'user "%" not found', user_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT @extschema@.may_act_for(user_id) THEN
		RAISE EXCEPTION 'permission denied to summarize the conversations of user "%"', user_id
			USING ERRCODE = '42501';
	END IF;
	INSERT INTO @extschema@.ai_contexts AS x (user_id, conversation_summary)
	VALUES (user_id, summary)
	ON CONFLICT ON CONSTRAINT ai_contexts_pkey DO UPDATE
		SET conversation_summary = EXCLUDED.conversation_summary,
		    summarized_threshold = x.summary_threshold
	RETURNING * INTO c;
	RETURN c;
END
$$;

COMMENT ON FUNCTION @extschema@.set_conversation_summary(uuid, text) IS
'Store the user''s lifetime conversation summary (ai_contexts) and mark the last crossed threshold (100, 500, 1000 messages) as summarized, so summaries_due no longer lists the user. 22023 empty summary, P0002 unknown user, 42501 not allowed.';

CREATE VIEW @extschema@.summaries_due WITH (security_invoker = true) AS
SELECT 'session'::text AS kind, s.user_id, s.id AS session_id, s.message_count AS messages,
       s.summarized_message_count AS summarized_at
FROM @extschema@.chat_sessions s
WHERE s.needs_summary
UNION ALL
SELECT 'lifetime', c.user_id, NULL, c.total_messages, c.summarized_threshold
FROM @extschema@.ai_contexts c
WHERE c.summary_threshold > c.summarized_threshold;

COMMENT ON VIEW @extschema@.summaries_due IS
'What an agent should summarize: chat sessions over 50 messages since their last summary (set_context_summary), and users whose lifetime message count crossed 100, 500 or 1000 since their last conversation summary (set_conversation_summary).';
