-- 430_conversation_inbox: learned preferences, the chat session lifecycle
-- (a session ends after 24 idle hours or when closed) and idempotent inbox
-- ingestion.

CREATE FUNCTION @extschema@._require_user(user_id uuid)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
	PERFORM @extschema@._require_argument('user_id', user_id);
	IF NOT EXISTS (SELECT FROM @extschema@.users u WHERE u.id = _require_user.user_id) THEN
		RAISE EXCEPTION 'user "%" does not exist', user_id USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;

COMMENT ON FUNCTION @extschema@._require_user(uuid) IS
'Internal: raises 22004 for a NULL user id and 22023 for a user that does not exist (or that the caller cannot see).';

------------------------------------------------------------------------------
-- Learned preferences
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.learn_preference(user_id uuid, key text, value text, confidence real DEFAULT 0.5)
RETURNS @extschema@.learned_preferences
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	learned @extschema@.learned_preferences;
BEGIN
	PERFORM @extschema@._require_user(user_id);
	PERFORM @extschema@._require_argument('key', key);
	PERFORM @extschema@._require_argument('value', value);
	PERFORM @extschema@._require_argument('confidence', confidence);
	IF NOT confidence BETWEEN 0 AND 1 THEN
		RAISE EXCEPTION 'confidence % is out of range', confidence
			USING ERRCODE = 'invalid_parameter_value', DETAIL = 'A confidence is between 0 and 1.';
	END IF;
	IF EXISTS (SELECT FROM @extschema@.user_settings s
			   WHERE s.user_id = learn_preference.user_id AND NOT s.enable_preference_learning) THEN
		SELECT * INTO learned FROM @extschema@.learned_preferences p
		WHERE p.user_id = learn_preference.user_id AND p.key = learn_preference.key;
		RETURN learned;			-- the user turned learning off: nothing changes
	END IF;
	INSERT INTO @extschema@.learned_preferences AS p (user_id, key, value, confidence)
	VALUES (learn_preference.user_id, learn_preference.key, learn_preference.value, learn_preference.confidence)
	ON CONFLICT ON CONSTRAINT learned_preferences_key DO UPDATE SET
		confidence = CASE
			WHEN p.value = EXCLUDED.value THEN least(1, 1 - (1 - p.confidence) * (1 - EXCLUDED.confidence))
			WHEN EXCLUDED.confidence > p.confidence THEN EXCLUDED.confidence
			ELSE p.confidence END,
		learned_at = CASE WHEN p.value <> EXCLUDED.value AND EXCLUDED.confidence > p.confidence
			THEN now() ELSE p.learned_at END,
		value = CASE WHEN p.value <> EXCLUDED.value AND EXCLUDED.confidence > p.confidence
			THEN EXCLUDED.value ELSE p.value END
	RETURNING p.* INTO learned;
	RETURN learned;
END
$$;

COMMENT ON FUNCTION @extschema@.learn_preference(uuid, text, text, real) IS
'Record evidence that the user prefers value for key, with confidence c in [0, 1], and return the preference. Rule: a new key is stored with c; the same value again is independent evidence, so the confidence becomes 1 - (1 - old)(1 - c) (0.5 then 0.5 gives 0.75); a different value replaces the stored one, with confidence c and a new learned_at, only when c is higher than the stored confidence, else nothing changes. Nothing is learned while user_settings.enable_preference_learning is off. 22023 for a confidence out of range or an unknown user, 22004 for NULLs.';

------------------------------------------------------------------------------
-- Chat sessions
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.add_message(
	user_id uuid,
	role text,
	content text,
	metadata jsonb DEFAULT '{}',
	session_id uuid DEFAULT NULL)
RETURNS @extschema@.chat_messages
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	s @extschema@.chat_sessions;
	msg @extschema@.chat_messages;
	new_session boolean := false;
	r text := CASE role WHEN 'user_message' THEN 'user' WHEN 'ai_response' THEN 'assistant'
		WHEN 'system_notification' THEN 'system' ELSE role END;
BEGIN
	PERFORM @extschema@._require_user(user_id);
	-- One writer per user: the ai_contexts row is the lock.
	INSERT INTO @extschema@.ai_contexts AS c (user_id) VALUES (add_message.user_id)
	ON CONFLICT ON CONSTRAINT ai_contexts_pkey DO NOTHING;
	PERFORM FROM @extschema@.ai_contexts c WHERE c.user_id = add_message.user_id FOR UPDATE;

	IF session_id IS NOT NULL THEN
		SELECT * INTO s FROM @extschema@.chat_sessions cs
		WHERE cs.user_id = add_message.user_id AND cs.id = add_message.session_id;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'chat session "%" does not exist', session_id
				USING ERRCODE = 'no_data_found';
		END IF;
		IF NOT s.is_active OR s.last_activity_at < now() - interval '24 hours' THEN
			RAISE EXCEPTION 'chat session "%" has ended', session_id
				USING ERRCODE = 'object_not_in_prerequisite_state',
					DETAIL = 'A session ends when closed or after 24 hours without a message.',
					HINT = 'Add the message without a session_id to start a new session.';
		END IF;
	ELSE
		-- The user's latest active session, unless it idled out.
		UPDATE @extschema@.chat_sessions cs SET is_active = false
		WHERE cs.user_id = add_message.user_id AND cs.is_active
			AND cs.last_activity_at < now() - interval '24 hours';
		SELECT * INTO s FROM @extschema@.chat_sessions cs
		WHERE cs.user_id = add_message.user_id AND cs.is_active
		ORDER BY cs.last_activity_at DESC LIMIT 1;
		IF NOT FOUND THEN
			INSERT INTO @extschema@.chat_sessions (user_id) VALUES (add_message.user_id) RETURNING * INTO s;
			new_session := true;
		END IF;
	END IF;

	INSERT INTO @extschema@.chat_messages (user_id, session_id, role, content, metadata)
	VALUES (add_message.user_id, s.id, r, add_message.content, coalesce(add_message.metadata, '{}'))
	RETURNING * INTO msg;
	UPDATE @extschema@.chat_sessions cs
	SET message_count = cs.message_count + 1, last_activity_at = greatest(cs.last_activity_at, msg.created_at)
	WHERE cs.user_id = s.user_id AND cs.id = s.id;
	UPDATE @extschema@.ai_contexts c
	SET total_messages = c.total_messages + 1,
		total_sessions = c.total_sessions + new_session::int,
		average_session_length = (c.total_messages + 1)::float8 / greatest(c.total_sessions + new_session::int, 1)
	WHERE c.user_id = add_message.user_id;
	RETURN msg;
END
$$;

COMMENT ON FUNCTION @extschema@.add_message(uuid, text, text, jsonb, uuid) IS
'Add a chat message (role user, assistant or system; user_message, ai_response and system_notification are accepted for them) and return it. Without session_id it goes to the user''s active session, which ends after 24 hours without a message: then a new session starts. The session''s message_count and last_activity_at and the user''s ai_contexts totals (total_messages, total_sessions, average_session_length) are kept. 55000 for a given session that has ended, 22023 for an unknown user, P0002 for an unknown session, 23514 for an empty message or another role.';

CREATE FUNCTION @extschema@.close_chat_session(session_id uuid)
RETURNS @extschema@.chat_sessions
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	s @extschema@.chat_sessions;
BEGIN
	PERFORM @extschema@._require_argument('session_id', close_chat_session.session_id);
	UPDATE @extschema@.chat_sessions cs SET is_active = false
	WHERE cs.id = close_chat_session.session_id
	RETURNING * INTO s;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'chat session "%" does not exist', session_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN s;
END
$$;

COMMENT ON FUNCTION @extschema@.close_chat_session(uuid) IS
'End a chat session explicitly; the next add_message without a session starts a new one. P0002 for an unknown session.';

------------------------------------------------------------------------------
-- Inbox
------------------------------------------------------------------------------

-- an item's times are finite and within years 1 to 9999, however they are written
ALTER TABLE @extschema@.items ADD CONSTRAINT items_times_check
	CHECK (@extschema@.check_time('start_datetime', start_datetime) = start_datetime
		   AND @extschema@.check_time('end_datetime', end_datetime) = end_datetime
		   AND @extschema@.check_time('received_datetime', received_datetime) = received_datetime
		   AND @extschema@.check_time('source_updated_at', source_updated_at) = source_updated_at);

CREATE FUNCTION @extschema@.ingest_item(
	user_id uuid,
	source_type text,
	source_provider text,
	source_id text,
	title text DEFAULT NULL,
	body_preview text DEFAULT NULL,
	body_full text DEFAULT NULL,
	sender text DEFAULT NULL,
	recipients jsonb DEFAULT '[]',
	start_datetime timestamptz DEFAULT NULL,
	end_datetime timestamptz DEFAULT NULL,
	received_datetime timestamptz DEFAULT NULL,
	raw_metadata jsonb DEFAULT '{}',
	source_updated_at timestamptz DEFAULT NULL,
	source_account_id uuid DEFAULT NULL)
RETURNS @extschema@.items
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	item @extschema@.items;
BEGIN
	PERFORM @extschema@._require_user(user_id);
	INSERT INTO @extschema@.items AS i (user_id, source_type, source_provider, source_id, title,
		body_preview, body_full, sender, recipients, start_datetime, end_datetime,
		received_datetime, raw_metadata, source_updated_at, source_account_id)
	VALUES (ingest_item.user_id, ingest_item.source_type, ingest_item.source_provider,
		ingest_item.source_id, ingest_item.title, ingest_item.body_preview, ingest_item.body_full,
		ingest_item.sender, coalesce(ingest_item.recipients, '[]'), ingest_item.start_datetime,
		ingest_item.end_datetime, ingest_item.received_datetime, coalesce(ingest_item.raw_metadata, '{}'),
		ingest_item.source_updated_at, ingest_item.source_account_id)
	ON CONFLICT ON CONSTRAINT items_source_key DO UPDATE SET
		source_type = EXCLUDED.source_type, title = EXCLUDED.title,
		body_preview = EXCLUDED.body_preview, body_full = EXCLUDED.body_full,
		sender = EXCLUDED.sender, recipients = EXCLUDED.recipients,
		start_datetime = EXCLUDED.start_datetime, end_datetime = EXCLUDED.end_datetime,
		received_datetime = EXCLUDED.received_datetime, raw_metadata = EXCLUDED.raw_metadata,
		source_updated_at = EXCLUDED.source_updated_at,
		source_account_id = coalesce(EXCLUDED.source_account_id, i.source_account_id)
	WHERE CASE WHEN EXCLUDED.source_updated_at IS NOT NULL
		THEN i.source_updated_at IS NULL OR EXCLUDED.source_updated_at > i.source_updated_at
		ELSE i.source_updated_at IS NULL
			AND (i.source_type, i.title, i.body_preview, i.body_full, i.sender, i.recipients,
				 i.start_datetime, i.end_datetime, i.received_datetime, i.raw_metadata)
			IS DISTINCT FROM
				(EXCLUDED.source_type, EXCLUDED.title, EXCLUDED.body_preview, EXCLUDED.body_full,
				 EXCLUDED.sender, EXCLUDED.recipients, EXCLUDED.start_datetime, EXCLUDED.end_datetime,
				 EXCLUDED.received_datetime, EXCLUDED.raw_metadata) END
	RETURNING i.* INTO item;
	IF NOT FOUND THEN			-- the same or an older version: nothing changes
		SELECT * INTO item FROM @extschema@.items i
		WHERE i.user_id = ingest_item.user_id AND i.source_provider = ingest_item.source_provider
			AND i.source_id = ingest_item.source_id;
	END IF;
	RETURN item;
END
$$;

COMMENT ON FUNCTION @extschema@.ingest_item(uuid, text, text, text, text, text, text, text, jsonb, timestamptz, timestamptz, timestamptz, jsonb, timestamptz, uuid) IS
'Store an e-mail or calendar event from a provider and return the item; idempotent on (user, source_provider, source_id). A second delivery updates the row in place when it is a newer version (source_updated_at later than the stored one), or, for a provider without versions, when its content differs; the same or an older version changes nothing. is_archived (the user''s) is kept. 23514 for an unknown source type or provider, 22008 for a time that is not finite or not within the years 1 to 9999 (named with its value), 22023 for an unknown user.';
