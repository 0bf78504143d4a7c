-- 0001: the initial schema, the same logical schema as store/sqlite's.
--
-- Conventions, relied on by the Go code and by SQL views written for BI tools:
--   * Times are Unix nanoseconds (bigint, columns named *_ns), so that every
--     time kant stores comes back to the nanosecond; kant_time(ns) turns one
--     into a timestamptz (microseconds) for people and BI tools, and the
--     job_runs_latest view and the dashboards' views expose timestamptz.
--   * Dates are date.
--   * Durations are double precision seconds.
--   * Absent values (a zero time or date, an empty optional string) are NULL.
--   * Keys and names are text COLLATE "C": ordered and compared by bytes, as
--     every other backend orders them, whatever the database's locale.

CREATE FUNCTION kant_time(ns bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT
    AS $$ SELECT to_timestamp(0) + (ns / 1000) * interval '1 microsecond' $$;

-- job_runs holds every run observation, append-only. An observation is
-- stored once: obs_hash is the first 64 bits of a SHA-256 of everything that
-- kant.Run.SameObservation compares (all fields but observed_at, the run's
-- identity included), and the unique index below makes a repeat a no-op
-- (ON CONFLICT DO NOTHING).
--
-- txid is the writing transaction's id: followers (store.Follower) read
-- the table in (txid, id) order, up to the oldest transaction still running,
-- so that an observation committed late with a low id is never skipped.
CREATE TABLE job_runs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- insert order
    txid          xid8    NOT NULL DEFAULT pg_current_xact_id(),
    source        text    COLLATE "C" NOT NULL,
    job           text    COLLATE "C" NOT NULL,      -- '<source>/<job>'
    run_id        text    COLLATE "C" NOT NULL,
    attempt       integer NOT NULL,
    max_attempts  integer,                           -- attempts the source allows in all; NULL when unknown
    state         text    NOT NULL,                  -- normalized kant.State
    source_state  text,
    logical_date  date,
    started_ns    bigint,
    finished_ns   bigint,
    duration_s    double precision,                  -- finished - started, when both are known
    error_message text,
    observed_ns   bigint  NOT NULL,
    attributes    jsonb,                             -- object of strings
    obs_hash      bigint  NOT NULL                   -- internal: dedup key
);

CREATE UNIQUE INDEX job_runs_observation ON job_runs (job, obs_hash);
CREATE INDEX job_runs_follow ON job_runs (txid, id);

-- run_current points at the newest observation of every run (greatest
-- observed_ns, ties going to the later write). It is internal, maintained in
-- the transaction that inserts the observations, and serves LatestRuns and
-- the job_runs_latest view. at_ns is kant.Run.At():
-- coalesce(started_ns, finished_ns, observed_ns).
CREATE TABLE run_current (
    job          text    COLLATE "C" NOT NULL,
    run_id       text    COLLATE "C" NOT NULL,
    attempt      integer NOT NULL,
    run_row      bigint  NOT NULL,                  -- job_runs.id of the newest observation
    observed_ns  bigint  NOT NULL,
    at_ns        bigint  NOT NULL,
    logical_date date,
    PRIMARY KEY (job, run_id, attempt)
);

CREATE INDEX run_current_window ON run_current (logical_date, at_ns);
CREATE INDEX run_current_at ON run_current (at_ns);

-- jobs lists every job with at least one observation, with the earliest
-- kant.Run.At() and the earliest logical date of any of its observations.
CREATE TABLE jobs (
    job         text   COLLATE "C" NOT NULL PRIMARY KEY,
    source      text   COLLATE "C" NOT NULL,
    first_at_ns bigint NOT NULL,
    first_date  date
);

-- job_runs_latest is the newest observation of every run, times as
-- timestamptz.
CREATE VIEW job_runs_latest AS
SELECT r.id, r.source, c.job, r.run_id, r.attempt, r.max_attempts, r.state, r.source_state,
       c.logical_date, kant_time(r.started_ns) AS started_at, kant_time(r.finished_ns) AS finished_at,
       r.duration_s, r.error_message, kant_time(r.observed_ns) AS observed_at, r.attributes
FROM run_current c
JOIN job_runs r ON r.id = c.run_row;

-- slo_results holds the verdict on every occurrence: one row per
-- (slo, job, expected time). date is the occurrence's business date.
CREATE TABLE slo_results (
    slo             text    COLLATE "C" NOT NULL,
    job             text    COLLATE "C" NOT NULL,
    date            date    NOT NULL,
    expected_ns     bigint  NOT NULL,
    deadline_ns     bigint,
    recover_by_ns   bigint,
    verdict         text    NOT NULL,                -- pending, met, late, missed
    reason          text,                            -- for missed: failed, not_started, running
    succeeded_ns    bigint,
    lateness_s      double precision NOT NULL DEFAULT 0,
    runs            integer NOT NULL DEFAULT 0,
    evaluated_ns    bigint,
    PRIMARY KEY (slo, job, expected_ns)
);

CREATE INDEX slo_results_date ON slo_results (date, slo);
CREATE INDEX slo_results_slo_date ON slo_results (slo, date);

-- sla_daily summarizes one SLO on one business date.
CREATE TABLE sla_daily (
    slo          text    COLLATE "C" NOT NULL,
    date         date    NOT NULL,
    occurrences  integer NOT NULL DEFAULT 0,
    met          integer NOT NULL DEFAULT 0,
    late         integer NOT NULL DEFAULT 0,
    missed       integer NOT NULL DEFAULT 0,
    pending      integer NOT NULL DEFAULT 0,
    slo_met      boolean NOT NULL DEFAULT false,
    sla_met      boolean NOT NULL DEFAULT false,
    final        boolean NOT NULL DEFAULT false,
    evaluated_ns bigint,
    PRIMARY KEY (slo, date)
);

CREATE INDEX sla_daily_date ON sla_daily (date);

-- alerts records every incident notification and how far its delivery got
-- (an outbox): revision counts changes of content, delivered is the revision
-- Slack shows, notes_sent how many thread replies went out. body is a JSON
-- object {"fields": [...], "links": [...], "notes": [...]}.
CREATE TABLE alerts (
    id         text    COLLATE "C" NOT NULL PRIMARY KEY,
    kind       text,
    slo        text    COLLATE "C",
    job        text    COLLATE "C",
    date       date,
    status     text,                                 -- open, resolved
    channel    text,
    message_ts text,
    text       text,
    created_ns bigint,
    updated_ns bigint,
    sent_ns    bigint,                               -- NULL: not delivered yet
    owner      text,
    since_ns   bigint,
    body       jsonb,
    revision   integer NOT NULL DEFAULT 0,
    delivered  integer NOT NULL DEFAULT 0,
    notes_sent integer NOT NULL DEFAULT 0,
    posting    boolean NOT NULL DEFAULT false,
    silenced   text,                                 -- silence ID
    last_error text
);

CREATE INDEX alerts_created ON alerts (created_ns, id);
CREATE INDEX alerts_updated ON alerts (updated_ns);
CREATE INDEX alerts_status ON alerts (status, created_ns, id);

-- silences keep alerts from being sent between start and end, for the SLOs
-- in slos and the jobs matching jobs (JSON arrays; both NULL: everything).
CREATE TABLE silences (
    id         text   COLLATE "C" NOT NULL PRIMARY KEY,
    slos       jsonb,
    jobs       jsonb,
    start_ns   bigint NOT NULL,
    end_ns     bigint NOT NULL,
    reason     text   NOT NULL,
    created_by text,
    created_ns bigint
);

CREATE INDEX silences_end ON silences (end_ns);

-- source_health records the outcome of polling each source.
CREATE TABLE source_health (
    source               text    COLLATE "C" NOT NULL PRIMARY KEY,
    last_success_ns      bigint,
    last_attempt_ns      bigint,
    last_error           text,
    consecutive_failures integer NOT NULL DEFAULT 0
);

-- checkpoints holds, per source and key, where a poller stopped reading.
CREATE TABLE checkpoints (
    source     text   COLLATE "C" NOT NULL,
    key        text   COLLATE "C" NOT NULL,
    value      text   NOT NULL,
    updated_ns bigint NOT NULL,
    PRIMARY KEY (source, key)
);

-- leases elect one leader among the kant serve replicas. generation only
-- grows: it is the fencing token the leader's writes carry (alerts,
-- checkpoints), refused once a newer one exists.
CREATE TABLE leases (
    name       text   COLLATE "C" PRIMARY KEY,
    holder     text   COLLATE "C" NOT NULL,
    generation bigint NOT NULL,
    since_ns   bigint NOT NULL,
    expires_ns bigint NOT NULL
);
