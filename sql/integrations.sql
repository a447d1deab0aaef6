-- Integrations health: alfred.mcp_heartbeat, alfred.check_integrations,
-- alfred.watcher_report and the view alfred.unhealthy_integrations.
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
	('00000000-0000-0000-0010-0000000000b0', 'bob.rest@example.com', '$2a$06$x', 'user', 'active'),
	('00000000-0000-0000-0010-0000000000d0', 'adam.rest@example.com', '$2a$06$x', 'admin', 'active');
INSERT INTO alfred.mcp_servers (id, name, server_type, command, status, last_heartbeat, capabilities, is_active) VALUES
	('00000000-0000-0000-0010-00000000c001', 'calendar', 'stdio', 'mcp-calendar', 'inactive', NULL, '{read}', true),
	('00000000-0000-0000-0010-00000000c002', 'mail', 'stdio', 'mcp-mail', 'active', now() - interval '1 hour', '{}', true),
	('00000000-0000-0000-0010-00000000c003', 'old', 'stdio', 'mcp-old', 'inactive', NULL, '{}', false);
INSERT INTO alfred.watchers (user_id, id, name, watcher_type) VALUES
	('00000000-0000-0000-0010-0000000000a1', '00000000-0000-0000-0010-00000000e001', 'inbox', 'email'),
	('00000000-0000-0000-0010-0000000000a1', '00000000-0000-0000-0010-00000000e002', 'disabled', 'email');
UPDATE alfred.watchers SET is_active = false WHERE id = '00000000-0000-0000-0010-00000000e002';

-- a heartbeat makes a server active and records its capabilities (kept when NULL)
SELECT name, status, last_heartbeat = now() AS just_now, capabilities
FROM alfred.mcp_heartbeat('calendar', ARRAY['read', 'write']);
SELECT name, status, capabilities FROM alfred.mcp_heartbeat('calendar');
SELECT pg_temp.err($$SELECT alfred.mcp_heartbeat('nosuch')$$);
SELECT pg_temp.err($$SELECT alfred.mcp_heartbeat('old')$$);

-- maintenance marks the server silent for an hour as error, not the fresh one
SELECT alfred.check_integrations('10 minutes') AS marked;
SELECT name, status FROM alfred.mcp_servers ORDER BY name;
SELECT alfred.check_integrations() AS marked_again;
SELECT pg_temp.err($$SELECT alfred.check_integrations('0')$$);
SELECT pg_temp.err($$SELECT alfred.check_integrations(now => NULL)$$);
-- without an interval, the setting alfred.mcp_silence_timeout decides
SET LOCAL alfred.mcp_silence_timeout = '2h';
SELECT alfred.check_integrations(now => now() + interval '1 hour') AS within_setting;
RESET alfred.mcp_silence_timeout;
-- seen from two hours later, the fresh server is silent too (run_maintenance passes its now)
SELECT alfred.check_integrations(now => now() + interval '2 hours') AS marked_later;
SELECT name, status FROM alfred.mcp_servers ORDER BY name;
UPDATE alfred.mcp_servers SET status = 'active' WHERE name = 'calendar';

-- watcher runs: failures count up and keep the last error, success resets the count
SELECT name, last_run_at = now() AS ran, error_count, last_error
FROM alfred.watcher_report('00000000-0000-0000-0010-00000000e001', false, 'IMAP login failed');
SELECT name, error_count, last_error
FROM alfred.watcher_report('00000000-0000-0000-0010-00000000e001', false, 'IMAP timeout');
SELECT kind, name, user_id, problem, last_error, error_count
FROM alfred.unhealthy_integrations ORDER BY kind, name;
SELECT name, error_count, last_error
FROM alfred.watcher_report('00000000-0000-0000-0010-00000000e001', true);
SELECT kind, name FROM alfred.unhealthy_integrations ORDER BY kind, name;

-- a heartbeat heals the server
SELECT status FROM alfred.mcp_heartbeat('mail');
SELECT count(*) AS unhealthy FROM alfred.unhealthy_integrations;

-- refusals
SELECT pg_temp.err($$SELECT alfred.watcher_report('00000000-0000-0000-0010-00000000e001', false)$$);
SELECT pg_temp.err($$SELECT alfred.watcher_report('00000000-0000-0000-0010-00000000e001', false, '  ')$$);
SELECT pg_temp.err($$SELECT alfred.watcher_report('00000000-0000-0000-0010-00000000ffff', true)$$);
SELECT pg_temp.err($$SELECT alfred.watcher_report('00000000-0000-0000-0010-00000000e002', true)$$);
SELECT pg_temp.err($$SELECT alfred.watcher_report(NULL, true)$$);
CREATE ROLE regress_rest_app;
SELECT alfred.grant_usage('regress_rest_app');
SET ROLE regress_rest_app;
-- bob may not report on ana's watcher, nor send heartbeats; the admin may
RESET ROLE;
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000b0', local => false) IS NOT NULL AS bob;
SET ROLE regress_rest_app;
SELECT pg_temp.err($$SELECT alfred.watcher_report('00000000-0000-0000-0010-00000000e001', true)$$);
SELECT pg_temp.err($$SELECT alfred.mcp_heartbeat('mail')$$);
RESET ROLE;
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000a1', local => false) IS NOT NULL AS ana;
SET ROLE regress_rest_app;
SELECT error_count FROM alfred.watcher_report('00000000-0000-0000-0010-00000000e001', false, 'boom');
RESET ROLE;
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000d0', local => false) IS NOT NULL AS adam;
SET ROLE regress_rest_app;
SELECT status FROM alfred.mcp_heartbeat('mail');
RESET ROLE;
ROLLBACK;
