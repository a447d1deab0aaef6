-- The proposal state machine, pair by pair: for every (from, to) of the seven
-- statuses, through the SQL API and through a direct UPDATE, exactly the
-- legal transitions succeed; refusals are 55000, name both statuses and
-- change nothing.
BEGIN;
SELECT plan(98);
SET LOCAL client_min_messages = warning;

CREATE TEMP TABLE legal (f text, t text);
INSERT INTO legal VALUES ('pending', 'approved'), ('pending', 'rejected'), ('pending', 'expired'),
	('approved', 'executing'), ('approved', 'rejected'), ('executing', 'executed'),
	('executing', 'failed'), ('failed', 'approved'), ('failed', 'rejected');
CREATE TEMP TABLE statuses (s text, n int);
INSERT INTO statuses VALUES ('pending', 1), ('approved', 2), ('rejected', 3), ('expired', 4),
	('executing', 5), ('executed', 6), ('failed', 7);

INSERT INTO alfred.users (id, email, password_hash)
VALUES ('a2000000-0000-0000-0000-000000000001', 'tap@example.com', '$2a$06$' || repeat('x', 53));

-- a proposal brought to status st through the API (an outside action, or a task action)
CREATE FUNCTION pg_temp.make(st text, task boolean DEFAULT false) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
	pid uuid := alfred.propose('a2000000-0000-0000-0000-000000000001', 'tap',
							  CASE WHEN task THEN 'create' ELSE 'order_pizza' END,
							  CASE WHEN NOT task THEN '{}'
								   WHEN st = 'failed' THEN '{"title": "x", "project_id": "b2000000-0000-0000-0000-000000000001"}'
								   ELSE '{"title": "x"}' END::jsonb);
BEGIN
	IF st = 'pending' THEN RETURN pid; END IF;
	IF st = 'rejected' THEN PERFORM alfred.reject(pid); RETURN pid; END IF;
	IF st = 'expired' THEN
		UPDATE alfred.proposals p SET expires_at = now() - interval '1 second' WHERE p.id = pid;
		PERFORM alfred.expire_proposals();
		RETURN pid;
	END IF;
	PERFORM alfred.approve(pid);
	IF st = 'approved' THEN RETURN pid; END IF;
	IF task THEN
		PERFORM alfred.execute_proposal(pid);
		RETURN pid;
	END IF;
	PERFORM alfred.start_execution(pid);
	IF st = 'executing' THEN RETURN pid; END IF;
	IF st = 'executed' THEN
		PERFORM alfred.finish_execution(pid, 'success');
	ELSE
		PERFORM alfred.finish_execution(pid, 'failure', error => 'no pizza');
	END IF;
	RETURN pid;
END $$;

CREATE FUNCTION pg_temp.status_of(id uuid) RETURNS text LANGUAGE sql AS
$$ SELECT p.status FROM alfred.proposals p WHERE p.id = status_of.id $$;

-- Tries every API call that leads to status "t" on a proposal in status "f";
-- returns whether one got there.  Only 55000 counts as a refusal, and a
-- refused call must leave the proposal as it was.
CREATE FUNCTION pg_temp.via_api(f text, t text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	pid uuid := pg_temp.make(f);
	call text;
BEGIN
	FOREACH call IN ARRAY CASE t
		WHEN 'approved' THEN ARRAY['approve', 'retry']
		WHEN 'rejected' THEN ARRAY['reject']
		WHEN 'expired' THEN ARRAY['expire']
		WHEN 'executing' THEN ARRAY['start']
		WHEN 'executed' THEN ARRAY['finish_ok']
		WHEN 'failed' THEN ARRAY['finish_error']
		ELSE ARRAY[]::text[] END	-- nothing leads back to pending
	LOOP
		BEGIN
			CASE call
			WHEN 'approve' THEN PERFORM alfred.approve(pid);
			WHEN 'retry' THEN PERFORM alfred.retry_proposal(pid);
			WHEN 'reject' THEN PERFORM alfred.reject(pid);
			WHEN 'expire' THEN
				UPDATE alfred.proposals p SET expires_at = now() - interval '1 second' WHERE p.id = pid;
				PERFORM alfred.expire_proposals();
			WHEN 'start' THEN PERFORM alfred.start_execution(pid);
			WHEN 'finish_ok' THEN PERFORM alfred.finish_execution(pid, 'success');
			WHEN 'finish_error' THEN PERFORM alfred.finish_execution(pid, 'failure', error => 'no pizza');
			END CASE;
		EXCEPTION WHEN object_not_in_prerequisite_state THEN
			NULL;
		END;
		IF pg_temp.status_of(pid) = t THEN
			RETURN true;
		END IF;
		IF pg_temp.status_of(pid) <> f THEN
			RAISE EXCEPTION '% moved % to %', call, f, pg_temp.status_of(pid);
		END IF;
	END LOOP;
	RETURN false;
END $$;

-- A direct UPDATE of the status: 'ok', or the SQLSTATE and message of the refusal.
CREATE FUNCTION pg_temp.via_update(f text, t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	pid uuid := pg_temp.make(f);
BEGIN
	BEGIN
		UPDATE alfred.proposals p SET status = t WHERE p.id = pid;
	EXCEPTION WHEN OTHERS THEN
		IF pg_temp.status_of(pid) <> f THEN
			RETURN 'changed';
		END IF;
		RETURN SQLSTATE || ' ' || SQLERRM;
	END;
	RETURN CASE WHEN pg_temp.status_of(pid) = t THEN 'ok' ELSE 'not moved' END;
END $$;

SELECT results_eq(
	$$ SELECT f.s, t.s FROM statuses f, statuses t
		WHERE alfred.proposal_transition_allowed(f.s, t.s) ORDER BY f.n, t.n $$,
	$$ SELECT l.f, l.t FROM legal l JOIN statuses f ON f.s = l.f JOIN statuses t ON t.s = l.t ORDER BY f.n, t.n $$,
	'the C transition table is the documented machine');

SELECT is(pg_temp.via_api(f.s, t.s), EXISTS (SELECT FROM legal l WHERE l.f = f.s AND l.t = t.s),
		  format('API: %s -> %s is %s', f.s, t.s,
				 CASE WHEN EXISTS (SELECT FROM legal l WHERE l.f = f.s AND l.t = t.s) THEN 'legal' ELSE 'refused' END))
  FROM statuses f, statuses t WHERE f.s <> t.s ORDER BY f.n, t.n;

SELECT is(pg_temp.via_update(f.s, t.s),
		  CASE WHEN EXISTS (SELECT FROM legal l WHERE l.f = f.s AND l.t = t.s) THEN 'ok'
			   ELSE format('55000 invalid proposal transition from "%s" to "%s"', f.s, t.s) END,
		  format('UPDATE: %s -> %s', f.s, t.s))
  FROM statuses f, statuses t WHERE f.s <> t.s ORDER BY f.n, t.n;

SELECT is(pg_temp.via_update(s, s), 'ok', format('UPDATE: %s -> %s (no change) is allowed', s, s))
  FROM statuses ORDER BY n;

-- the built-in executor runs a task action from approved only
SELECT is((SELECT status FROM alfred.execute_proposal(pg_temp.make('approved', true))), 'executed',
		  'execute_proposal: approved -> executed');
CREATE FUNCTION pg_temp.execute_refused(st text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	pid uuid := pg_temp.make(st, true);
BEGIN
	PERFORM alfred.execute_proposal(pid);
	RETURN 'executed from ' || st;
EXCEPTION WHEN object_not_in_prerequisite_state THEN
	RETURN CASE WHEN pg_temp.status_of(pid) = st THEN 'refused' ELSE 'changed' END;
END $$;
SELECT is(pg_temp.execute_refused(s), 'refused', format('execute_proposal refuses a %s task action', s))
  FROM statuses WHERE s IN ('pending', 'rejected', 'expired', 'executed', 'failed') ORDER BY n;

SELECT * FROM finish();
ROLLBACK;
