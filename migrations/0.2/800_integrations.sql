-- 800_integrations: health of MCP servers and watchers.

CREATE FUNCTION @extschema@.mcp_heartbeat(name text, capabilities text[] DEFAULT NULL)
RETURNS @extschema@.mcp_servers
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s @extschema@.mcp_servers;
BEGIN
	PERFORM @extschema@._require_argument('name', mcp_heartbeat.name);
	IF NOT (@extschema@.caller_is_service() OR EXISTS (
		SELECT FROM @extschema@.users u WHERE u.id = @extschema@.current_user_id() AND u.role = 'admin')) THEN
		RAISE EXCEPTION 'permission denied to report a heartbeat for mcp server "%"', name
			USING ERRCODE = '42501',
			      DETAIL = 'Only admins, superusers and members of alfred_service report heartbeats.';
	END IF;
	SELECT * INTO s FROM @extschema@.mcp_servers m WHERE m.name = mcp_heartbeat.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'mcp server "%" not found', name USING ERRCODE = 'P0002',
			HINT = 'Register the server in alfred.mcp_servers first.';
	END IF;
	IF NOT s.is_active THEN
		RAISE EXCEPTION 'mcp server "%" is disabled', name USING ERRCODE = '55000',
			DETAIL = 'Set is_active to true to take its heartbeats again.';
	END IF;
	UPDATE @extschema@.mcp_servers m
	SET status = 'active', last_heartbeat = now(),
	    capabilities = coalesce(mcp_heartbeat.capabilities, m.capabilities)
	WHERE m.id = s.id
	RETURNING * INTO s;
	RETURN s;
END
$$;

COMMENT ON FUNCTION @extschema@.mcp_heartbeat(text, text[]) IS
'An MCP server reports it is alive: status becomes active, last_heartbeat now, and capabilities are replaced when given. For admins and trusted services (42501 otherwise); P0002 for an unknown server, 55000 for a disabled one.';

CREATE FUNCTION @extschema@.check_integrations(silent_after interval DEFAULT NULL,
                                               now timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n integer;
BEGIN
	-- it marks every MCP server: global state, for admins and trusted services
	IF NOT (@extschema@.caller_is_service() OR @extschema@.current_user_role() = 'admin') THEN
		RAISE EXCEPTION 'permission denied to check integrations'
			USING ERRCODE = '42501',
			      DETAIL = 'check_integrations marks every MCP server; only admins, superusers and members of alfred_service run it.';
	END IF;
	PERFORM @extschema@._require_argument('now', check_integrations.now);
	-- the setting exists once the library is loaded (always, when preloaded)
	silent_after := coalesce(silent_after,
	                         current_setting('alfred.mcp_silence_timeout', true)::interval,
	                         interval '5 minutes');
	IF silent_after <= interval '0' THEN
		RAISE EXCEPTION 'invalid silence limit "%"', silent_after USING ERRCODE = '22023',
			DETAIL = 'A server is marked as failed after a positive interval without heartbeat.';
	END IF;
	UPDATE @extschema@.mcp_servers
	SET status = 'error'
	WHERE is_active AND status = 'active'
	  AND (last_heartbeat IS NULL OR last_heartbeat < check_integrations.now - silent_after);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

COMMENT ON FUNCTION @extschema@.check_integrations(interval, timestamptz) IS
'Maintenance: marks active MCP servers with no heartbeat for longer than silent_after (default: the setting alfred.mcp_silence_timeout, 5 minutes) before now as error; returns how many. Called by run_maintenance. Admins, superusers and alfred_service members only (42501).';

CREATE FUNCTION @extschema@.watcher_report(watcher_id uuid, ok boolean, error text DEFAULT NULL)
RETURNS @extschema@.watchers
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	owner_id uuid;
	w @extschema@.watchers;
BEGIN
	PERFORM @extschema@._require_argument('watcher_id', watcher_id);
	PERFORM @extschema@._require_argument('ok', ok);
	IF NOT ok AND coalesce(@extschema@.is_blank(error), true) THEN
		RAISE EXCEPTION 'a failed watcher run needs an error message' USING ERRCODE = '22023',
			DETAIL = 'Pass the error text as "error" when "ok" is false.';
	END IF;
	owner_id := @extschema@.owner_of('@extschema@.watchers', watcher_id);
	SELECT * INTO w FROM @extschema@.watchers x WHERE x.user_id = owner_id AND x.id = watcher_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'watcher "%" not found', watcher_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT @extschema@.may_act_for(w.user_id) THEN
		RAISE EXCEPTION 'permission denied to report on watcher "%"', watcher_id
			USING ERRCODE = '42501',
			      DETAIL = 'Only the watcher''s owner, admins and trusted services report its runs.';
	END IF;
	IF NOT w.is_active THEN
		RAISE EXCEPTION 'watcher "%" is disabled', watcher_id USING ERRCODE = '55000';
	END IF;
	UPDATE @extschema@.watchers x
	SET last_run_at = now(),
	    error_count = CASE WHEN ok THEN 0 ELSE x.error_count + 1 END,
	    last_error = CASE WHEN ok THEN x.last_error ELSE error END
	WHERE x.user_id = w.user_id AND x.id = w.id
	RETURNING * INTO w;
	RETURN w;
END
$$;

COMMENT ON FUNCTION @extschema@.watcher_report(uuid, boolean, text) IS
'A watcher reports a run: last_run_at becomes now; a failure (ok false, error required: 22023) counts in error_count and sets last_error; a success resets error_count to 0 and keeps last_error as history. P0002 unknown watcher, 42501 not the owner, 55000 disabled.';

CREATE VIEW @extschema@.unhealthy_integrations WITH (security_invoker = true) AS
SELECT 'mcp_server'::text AS kind, m.id, NULL::uuid AS user_id, m.name,
       'no heartbeat'::text AS problem, m.last_heartbeat AS last_seen, NULL::text AS last_error,
       NULL::integer AS error_count
FROM @extschema@.mcp_servers m
WHERE m.is_active AND m.status = 'error'
UNION ALL
SELECT 'watcher', w.id, w.user_id, w.name, 'failing', w.last_run_at, w.last_error, w.error_count
FROM @extschema@.watchers w
WHERE w.is_active AND w.error_count > 0;

COMMENT ON VIEW @extschema@.unhealthy_integrations IS
'Enabled integrations that need attention: MCP servers marked error (silent, see check_integrations) and watchers whose last runs failed (error_count consecutive failures).';
