-- File attachments: alfred.attach_file (SHA-256 checksum, size, mime type)
-- and alfred.expire_attachments (removes expired rows, returns their paths).
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
	('00000000-0000-0000-0010-0000000000c0', 'olga.rest@example.com', '$2a$06$x', 'observer', 'active');
INSERT INTO alfred.tasks (user_id, id, title) VALUES
	('00000000-0000-0000-0010-0000000000a1', '00000000-0000-0000-0010-00000000a001', 'ana''s report'),
	('00000000-0000-0000-0010-0000000000b0', '00000000-0000-0000-0010-00000000b001', 'bob''s slides');

-- a file on a task, and one that expires; checksums are stored lower case
SELECT alfred.attach_file('00000000-0000-0000-0010-0000000000a1', 's3://files/ana/report.pdf',
	'report.pdf', 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855', 1024,
	'Application/PDF', task_id => '00000000-0000-0000-0010-00000000a001',
	original_filename => 'Quarterly Report.pdf') IS NOT NULL AS attached;
SELECT alfred.attach_file('00000000-0000-0000-0010-0000000000a1', 's3://files/ana/tmp.png',
	'tmp.png', repeat('ab', 32), 0, 'image/png', expires_at => now() + interval '1 day',
	is_encrypted => true) IS NOT NULL AS attached;
SELECT alfred.attach_file('00000000-0000-0000-0010-0000000000b0', 's3://files/bob/old.txt',
	'old.txt', repeat('0', 64), 3, 'text/plain', expires_at => now() + interval '1 hour') IS NOT NULL AS attached;
SELECT user_id, filename, original_filename, mime_type, file_size, storage_path, task_id,
       expires_at - now() AS expires_in, is_encrypted, hash_checksum
FROM alfred.file_attachments ORDER BY storage_path;

-- refusals: each names the offending value, and adds nothing
SELECT pg_temp.err($$SELECT alfred.attach_file('00000000-0000-0000-0010-0000000000a1', 'p', 'f', 'abc123', 1, 'text/plain')$$);
SELECT pg_temp.err($$SELECT alfred.attach_file('00000000-0000-0000-0010-0000000000a1', 'p', 'f', repeat('g', 64), 1, 'text/plain')$$);
SELECT pg_temp.err($$SELECT alfred.attach_file('00000000-0000-0000-0010-0000000000a1', 'p', 'f', repeat('a', 65), 1, 'text/plain')$$);
SELECT pg_temp.err($$SELECT alfred.attach_file('00000000-0000-0000-0010-0000000000a1', 'p', 'f', repeat('a', 64), -1, 'text/plain')$$);
SELECT pg_temp.err($$SELECT alfred.attach_file('00000000-0000-0000-0010-0000000000a1', 'p', 'f', repeat('a', 64), 1, 'pdf')$$);
SELECT pg_temp.err($$SELECT alfred.attach_file('00000000-0000-0000-0010-0000000000a1', ' ', 'f', repeat('a', 64), 1, 'text/plain')$$);
SELECT pg_temp.err($$SELECT alfred.attach_file('00000000-0000-0000-0010-0000000000a1', 'p', 'f', repeat('a', 64), 1, 'text/plain', expires_at => '2020-01-01 00:00Z')$$);
SELECT pg_temp.err($$SELECT alfred.attach_file('00000000-0000-0000-0010-0000000000a1', 'p', 'f', repeat('a', 64), 1, 'text/plain', task_id => '00000000-0000-0000-0010-00000000b001')$$);
SELECT pg_temp.err($$SELECT alfred.attach_file('00000000-0000-0000-0010-0000000000a1', 'p', 'f', NULL, 1, 'text/plain')$$);
CREATE ROLE regress_rest_app;
SELECT alfred.grant_usage('regress_rest_app');
SET ROLE regress_rest_app;
RESET ROLE;
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000c0', local => false) IS NOT NULL AS olga;
SET ROLE regress_rest_app;
SELECT pg_temp.err($$SELECT alfred.attach_file('00000000-0000-0000-0010-0000000000c0', 'p', 'f', repeat('a', 64), 1, 'text/plain')$$);
RESET ROLE;
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000b0', local => false) IS NOT NULL AS bob;
SET ROLE regress_rest_app;
SELECT pg_temp.err($$SELECT alfred.attach_file('00000000-0000-0000-0010-0000000000a1', 'p', 'f', repeat('a', 64), 1, 'text/plain')$$);
RESET ROLE;
SELECT count(*) AS attachments FROM alfred.file_attachments;

-- two days later the expired rows go, and their paths are returned; bob,
-- acting for himself, removes only his own
SELECT count(*) AS not_yet FROM alfred.expire_attachments();
RESET ROLE;
SELECT alfred.act_as('00000000-0000-0000-0010-0000000000b0', local => false) IS NOT NULL AS bob;
SET ROLE regress_rest_app;
SELECT user_id, storage_path FROM alfred.expire_attachments(now() + interval '2 days');
RESET ROLE;
SELECT alfred.reset_identity();
SELECT user_id, storage_path FROM alfred.expire_attachments(now() + interval '2 days') ORDER BY storage_path;
SELECT count(*) AS expired_again FROM alfred.expire_attachments(now() + interval '2 days');
SELECT storage_path FROM alfred.file_attachments;
-- run_maintenance does the same and reports the paths
SELECT alfred.attach_file('00000000-0000-0000-0010-0000000000a1', 's3://files/ana/later.txt',
	'later.txt', repeat('1', 64), 5, 'text/plain', expires_at => now() + interval '1 day') IS NOT NULL AS attached;
SELECT r->'attachments_expired' AS attachments_expired
FROM alfred.run_maintenance(now() + interval '2 days') r;
ROLLBACK;
