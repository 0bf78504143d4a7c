-- 0001: the initial schema.
--
-- Conventions, relied on by the Go code and by SQL views written for BI tools:
--   * Times are UTC RFC 3339 text with exactly nine fractional digits,
--     e.g. '2026-06-01T01:00:00.000000000Z', so that text order is time order
--     and SQLite's date functions (julianday, datetime, unixepoch) accept them.
--   * Dates are 'YYYY-MM-DD' text.
--   * Durations are REAL seconds.
--   * Absent values (a zero time or date, an empty optional string) are NULL.
--   * Booleans are INTEGER 0 or 1.

-- job_runs holds every run observation, append-only. An observation is
-- stored once: obs_hash is the first 64 bits of a SHA-256 of everything that
-- kant.Run.SameObservation compares (all fields but observed_at, the run's
-- identity included), and the unique index below makes a repeat a no-op
-- (INSERT OR IGNORE). The index is on (job, obs_hash) rather than on the run's
-- whole identity: the hash covers run_id and attempt already, and the smaller
-- index makes bulk imports markedly faster.
CREATE TABLE job_runs (
    id            INTEGER PRIMARY KEY,   -- insert order
    source        TEXT    NOT NULL,
    job           TEXT    NOT NULL,      -- '<source>/<job>'
    run_id        TEXT    NOT NULL,
    attempt       INTEGER NOT NULL,
    max_attempts  INTEGER,               -- attempts the source allows in all; NULL when unknown
    state         TEXT    NOT NULL,      -- normalized kant.State
    source_state  TEXT,
    logical_date  TEXT,                  -- 'YYYY-MM-DD'
    started_at    TEXT,
    finished_at   TEXT,
    duration_s    REAL,                  -- finished_at - started_at, when both are known
    error_message TEXT,
    observed_at   TEXT    NOT NULL,
    attributes    TEXT,                  -- JSON object of strings, keys sorted
    obs_hash      INTEGER NOT NULL       -- internal: dedup key
);

CREATE UNIQUE INDEX job_runs_observation ON job_runs (job, obs_hash);

-- run_current points at the newest observation of every run (greatest
-- observed_at, ties going to the later insert). It is internal, maintained in
-- the transaction that inserts the observations, and serves LatestRuns and
-- the job_runs_latest view. A run is keyed by its job and run_key, the first
-- 64 bits of a SHA-256 of its run_id and attempt; its times are Unix
-- nanoseconds: both are smaller and quicker to index than text. at_ns is the
-- time of coalesce(started_at, finished_at, observed_at): kant.Run.At().
CREATE TABLE run_current (
    job          TEXT    NOT NULL,
    run_key      INTEGER NOT NULL,       -- identifies run_id and attempt
    run_rowid    INTEGER NOT NULL,       -- job_runs.id of the newest observation
    observed_ns  INTEGER NOT NULL,
    at_ns        INTEGER NOT NULL,
    logical_date TEXT,
    PRIMARY KEY (job, run_key)
) WITHOUT ROWID;

CREATE INDEX run_current_window ON run_current (logical_date, at_ns);

-- jobs lists every job with at least one observation, with the earliest
-- kant.Run.At() and the earliest logical date of any of its observations.
-- It is derived from job_runs, maintained in the transaction that inserts the
-- observations.
CREATE TABLE jobs (
    job        TEXT NOT NULL PRIMARY KEY,
    source     TEXT NOT NULL,
    first_at   TEXT NOT NULL,
    first_date TEXT
);

-- job_runs_latest is the newest observation of every run: the row of job_runs
-- that run_current points at (greatest observed_at, ties to the greater id).
-- job and logical_date come from run_current, so that filters on them use its
-- indexes.
CREATE VIEW job_runs_latest AS
SELECT r.id, r.source, c.job, r.run_id, r.attempt, r.max_attempts, r.state, r.source_state,
       c.logical_date, r.started_at, r.finished_at, r.duration_s,
       r.error_message, r.observed_at, r.attributes
FROM run_current c
JOIN job_runs r ON r.id = c.run_rowid;

-- slo_results holds the verdict on every occurrence: one row per
-- (slo, job, expected_at). date is the occurrence's business date.
CREATE TABLE slo_results (
    slo          TEXT    NOT NULL,
    job          TEXT    NOT NULL,
    date         TEXT    NOT NULL,
    expected_at  TEXT    NOT NULL,
    deadline     TEXT,
    recover_by   TEXT,
    verdict      TEXT    NOT NULL,       -- pending, met, late, missed
    reason       TEXT,                   -- for missed: failed, not_started, running
    succeeded_at TEXT,
    lateness_s   REAL    NOT NULL DEFAULT 0,
    runs         INTEGER NOT NULL DEFAULT 0,
    evaluated_at TEXT,
    PRIMARY KEY (slo, job, expected_at)
);

CREATE INDEX slo_results_date ON slo_results (date, slo);
CREATE INDEX slo_results_slo_date ON slo_results (slo, date);

-- sla_daily summarizes one SLO on one business date.
CREATE TABLE sla_daily (
    slo          TEXT    NOT NULL,
    date         TEXT    NOT NULL,
    occurrences  INTEGER NOT NULL DEFAULT 0,
    met          INTEGER NOT NULL DEFAULT 0,
    late         INTEGER NOT NULL DEFAULT 0,
    missed       INTEGER NOT NULL DEFAULT 0,
    pending      INTEGER NOT NULL DEFAULT 0,
    slo_met      INTEGER NOT NULL DEFAULT 0,  -- boolean
    sla_met      INTEGER NOT NULL DEFAULT 0,  -- boolean
    final        INTEGER NOT NULL DEFAULT 0,  -- boolean
    evaluated_at TEXT,
    PRIMARY KEY (slo, date)
);

CREATE INDEX sla_daily_date ON sla_daily (date);

-- alerts records every incident notification: what was sent, where, and its
-- state, so that a restart neither repeats nor forgets it.
CREATE TABLE alerts (
    id         TEXT NOT NULL PRIMARY KEY,
    kind       TEXT,
    slo        TEXT,
    job        TEXT,
    date       TEXT,
    status     TEXT,                     -- open, resolved
    channel    TEXT,
    message_ts TEXT,
    text       TEXT,
    created_at TEXT,
    updated_at TEXT,
    sent_at    TEXT                      -- NULL: not delivered yet
);

CREATE INDEX alerts_created_at ON alerts (created_at, id);

-- source_health records the outcome of polling each source.
CREATE TABLE source_health (
    source               TEXT    NOT NULL PRIMARY KEY,
    last_success         TEXT,
    last_attempt         TEXT,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0
);
