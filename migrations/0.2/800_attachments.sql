-- 800_attachments: file attachments with checksums and expiry.

CREATE FUNCTION @extschema@.attach_file(
	user_id uuid,
	storage_path text,
	filename text,
	checksum text,
	file_size bigint,
	mime_type text,
	task_id uuid DEFAULT NULL,
	original_filename text DEFAULT NULL,
	expires_at timestamptz DEFAULT NULL,
	is_encrypted boolean DEFAULT false)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	new_id uuid;
BEGIN
	PERFORM @extschema@._require_argument('user_id', user_id);
	PERFORM @extschema@._require_argument('storage_path', storage_path);
	PERFORM @extschema@._require_argument('filename', filename);
	PERFORM @extschema@._require_argument('checksum', checksum);
	PERFORM @extschema@._require_argument('file_size', file_size);
	PERFORM @extschema@._require_argument('mime_type', mime_type);
	IF NOT @extschema@.may_act_for(user_id) THEN
		RAISE EXCEPTION 'permission denied to attach files for user "%"', user_id
			USING ERRCODE = '42501', DETAIL = 'Users attach files for themselves; observers only read.';
	END IF;
	IF checksum !~ '^[0-9A-Fa-f]{64}$' THEN
		RAISE EXCEPTION 'invalid checksum "%"', checksum USING ERRCODE = '22023',
			DETAIL = 'The checksum must be a SHA-256 digest written as 64 hexadecimal digits.';
	END IF;
	IF file_size < 0 THEN
		RAISE EXCEPTION 'invalid file size %', file_size USING ERRCODE = '22023',
			DETAIL = 'A file size is a number of bytes, zero or more.';
	END IF;
	IF mime_type !~ '^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$' THEN
		RAISE EXCEPTION 'invalid mime type "%"', mime_type USING ERRCODE = '22023',
			DETAIL = 'A mime type is written type/subtype, such as "application/pdf".';
	END IF;
	IF @extschema@.is_blank(storage_path) OR @extschema@.is_blank(filename) THEN
		RAISE EXCEPTION 'storage path and file name must not be empty' USING ERRCODE = '22023';
	END IF;
	IF expires_at <= now() THEN
		RAISE EXCEPTION 'expiry "%" is not in the future', expires_at USING ERRCODE = '22023';
	END IF;
	IF task_id IS NOT NULL AND NOT EXISTS (
		SELECT FROM @extschema@.tasks t WHERE t.user_id = attach_file.user_id AND t.id = task_id) THEN
		RAISE EXCEPTION 'task "%" not found', task_id USING ERRCODE = 'P0002',
			DETAIL = 'A file is attached to a task of the same user.';
	END IF;
	INSERT INTO @extschema@.file_attachments AS f
		(user_id, filename, original_filename, mime_type, file_size, storage_path, task_id,
		 expires_at, is_encrypted, hash_checksum)
	VALUES (user_id, filename, coalesce(original_filename, filename), lower(mime_type), file_size,
	        storage_path, task_id, expires_at, coalesce(is_encrypted, false), lower(checksum))
	RETURNING f.id INTO new_id;
	RETURN new_id;
END
$$;

COMMENT ON FUNCTION @extschema@.attach_file(uuid, text, text, text, bigint, text, uuid, text, timestamptz, boolean) IS
'Record a stored file of a user (optionally on one of their tasks) with its SHA-256 checksum (64 hex digits, stored lower case), size in bytes and mime type; returns its id. 22023 for a bad checksum, size, mime type or expiry, P0002 for an unknown task, 42501 when the caller may not act for the user.';

CREATE FUNCTION @extschema@.expire_attachments(now timestamptz DEFAULT now())
RETURNS TABLE (user_id uuid, attachment_id uuid, storage_path text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
-- (PL/pgSQL, who may act checked here: on Citus a query over the attachments
-- runs on the shards, where may_act_for() may not query the users)
#variable_conflict use_column
DECLARE
	service	boolean := @extschema@.caller_is_service();
	r		record;
BEGIN
	FOR r IN
		SELECT f.user_id AS owner, f.id FROM @extschema@.file_attachments f
		 WHERE f.expires_at <= expire_attachments.now
		 ORDER BY f.user_id, f.id
	LOOP
		CONTINUE WHEN NOT (service OR @extschema@.may_act_for(r.owner));
		DELETE FROM @extschema@.file_attachments f
		 WHERE f.user_id = r.owner AND f.id = r.id
		RETURNING f.user_id, f.id, f.storage_path INTO expire_attachments.user_id, attachment_id, expire_attachments.storage_path;
		IF FOUND THEN
			RETURN NEXT;
		END IF;
	END LOOP;
END
$$;

COMMENT ON FUNCTION @extschema@.expire_attachments(timestamptz) IS
'Maintenance: deletes the attachment rows whose expires_at is not after now and returns their storage paths, for the caller to delete the files. A trusted service removes everyone''s; a user only their own.';
