-- Privileges and how they are copied (sync_grants, the Citus part of
-- grant_usage) on a single node: without Citus sync_grants() changes nothing
-- and grant_usage grants what it always did; the machinery it uses on a
-- cluster (_grants, _relation_grants, _apply_grants) reads a node's
-- privileges by role name, columns included, and makes a node's copies
-- exactly a document's (revoking what is not in it, granting what is),
-- changing only what differs; a bad document is 22023 and changes nothing;
-- the copying functions are the extension owner's only.
BEGIN;
SELECT plan(18);
SET LOCAL client_min_messages = warning;

CREATE ROLE tap_grants_app;
CREATE ROLE tap_grants_other;
SELECT alfred.grant_usage('tap_grants_app');

-- Without Citus: nothing to copy.
SELECT is(alfred.sync_grants(), 0, 'sync_grants() changes nothing without Citus');
SELECT ok(has_column_privilege('tap_grants_app', 'alfred.users', 'email', 'SELECT')
		  AND NOT has_column_privilege('tap_grants_app', 'alfred.users', 'password_hash', 'SELECT')
		  AND has_column_privilege('tap_grants_app', 'alfred.users', 'display_name', 'UPDATE')
		  AND NOT has_column_privilege('tap_grants_app', 'alfred.users', 'role', 'UPDATE')
		  AND NOT has_table_privilege('tap_grants_app', 'alfred.users', 'DELETE'),
		  'grant_usage grants users'' columns but password_hash, updates of profile columns only');

-- What a node's privileges look like.
SELECT alfred._grants() AS doc \gset
SELECT ok(:'doc'::jsonb->'schema' @> '[["tap_grants_app", "USAGE", false, null]]',
		  'the document has the schema''s USAGE by role name');
SELECT ok((:'doc'::jsonb->'relations'->'alfred.users') @> '[["tap_grants_app", "SELECT", false, "email"]]'
		  AND NOT (:'doc'::jsonb->'relations'->'alfred.users') @> '[["tap_grants_app", "SELECT", false, "password_hash"]]'
		  AND NOT (:'doc'::jsonb->'relations'->'alfred.users') @> '[["tap_grants_app", "SELECT", false, null]]',
		  'and users'' column privileges, password_hash not among them, no table-wide SELECT');
SELECT ok((:'doc'::jsonb->'relations'->'alfred.tasks') @> '[["tap_grants_app", "DELETE", false, null]]',
		  'and a table''s table-level privileges');
SELECT is((SELECT count(*) FROM jsonb_object_keys(:'doc'::jsonb->'relations') k
			WHERE k::regclass::oid NOT IN (SELECT d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
											WHERE e.extname = 'alfred' AND d.deptype = 'e')),
		  0::bigint, 'every relation in it is the extension''s');
SELECT is(alfred._relation_grants('alfred.users'), :'doc'::jsonb->'relations'->'alfred.users',
		  '_relation_grants() reads the same');

-- Applying the node's own document changes nothing.
SELECT is(alfred._apply_grants(:'doc', true), 0, 'applying a node''s own privileges changes nothing');

-- A document that differs: another role reads one column of users and the
-- schema; the app no longer deletes tasks.
SELECT jsonb_set(jsonb_set(jsonb_set(:'doc'::jsonb,
		'{relations,alfred.users}', (:'doc'::jsonb->'relations'->'alfred.users') || '[["tap_grants_other", "SELECT", false, "email"]]'),
		'{relations,alfred.tasks}', (SELECT jsonb_agg(i) FROM jsonb_array_elements(:'doc'::jsonb->'relations'->'alfred.tasks') i
									  WHERE i <> '["tap_grants_app", "DELETE", false, null]')),
		'{schema}', (:'doc'::jsonb->'schema') || '[["tap_grants_other", "USAGE", false, null]]') AS changed \gset
SELECT is(alfred._apply_grants(:'changed', true), 3, 'a document that differs in the schema and two tables changes those 3');
SELECT ok(has_column_privilege('tap_grants_other', 'alfred.users', 'email', 'SELECT')
		  AND NOT has_column_privilege('tap_grants_other', 'alfred.users', 'password_hash', 'SELECT')
		  AND has_schema_privilege('tap_grants_other', 'alfred', 'USAGE'),
		  'the other role reads users.email, not password_hash, and uses the schema');
SELECT ok(NOT has_table_privilege('tap_grants_app', 'alfred.tasks', 'DELETE')
		  AND has_table_privilege('tap_grants_app', 'alfred.tasks', 'UPDATE'),
		  'the app lost DELETE on tasks and kept the rest');
SELECT is(alfred._apply_grants(:'changed', true), 0, 'applying it again changes nothing');
SELECT is(alfred._apply_grants(:'doc', true), 3, 'and the first document restores the privileges');
SELECT is(alfred._grants(), :'doc'::jsonb, 'exactly as they were');

-- Bad documents change nothing.
SELECT throws_ok($$SELECT alfred._apply_grants('[]', true)$$, '22023', 'invalid privileges document',
				 'a document that is not an object: 22023');
SELECT throws_ok(format('SELECT alfred._apply_grants(%L, true)',
						jsonb_set(:'doc'::jsonb, '{schema}', '[["tap_grants_other", "ALL ON SCHEMA public TO tap_grants_other; --", false, null]]')),
				 '22023', 'invalid privilege "ALL ON SCHEMA public TO tap_grants_other; --" in privileges document',
				 'a privilege that is not a privilege''s name: 22023');
SELECT ok(NOT has_schema_privilege('tap_grants_other', 'alfred', 'USAGE'), 'and nothing changed');

-- The owner's functions.
SET LOCAL ROLE tap_grants_app;
SELECT throws_ok($$SELECT alfred.sync_grants()$$, '42501', NULL, 'sync_grants() is the extension owner''s (42501)');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
