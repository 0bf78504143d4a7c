-- 0005: every job gets an integer id, and the indexes that every imported
-- observation updates key a job by it rather than by its text: the dedup
-- index of job_runs and the internal run_current. Integer keys are smaller
-- and quicker to compare, which makes bulk imports markedly faster.
--
-- job_runs keeps all its columns and gains job_id; job_runs_latest keeps its
-- columns and their meaning. Tables are rebuilt by copy, drop and create
-- under the same name (never renamed), so that views over them survive.

-- jobs: id is the job's integer key, never reused while the job exists.
CREATE TEMP TABLE jobs_0005 AS SELECT job, source, first_at, first_date FROM jobs;
DROP TABLE jobs;
CREATE TABLE jobs (
    id         INTEGER PRIMARY KEY,
    job        TEXT NOT NULL UNIQUE,
    source     TEXT NOT NULL,
    first_at   TEXT NOT NULL,
    first_date TEXT
);
INSERT INTO jobs (job, source, first_at, first_date)
SELECT job, source, first_at, first_date FROM jobs_0005 ORDER BY job;
DROP TABLE jobs_0005;

-- job_runs.job_id is jobs.id of job_runs.job, for the dedup index.
ALTER TABLE job_runs ADD COLUMN job_id INTEGER NOT NULL DEFAULT 0; -- internal: jobs.id
UPDATE job_runs SET job_id = (SELECT j.id FROM jobs j WHERE j.job = job_runs.job);
DROP INDEX job_runs_observation;
CREATE UNIQUE INDEX job_runs_observation ON job_runs (job_id, obs_hash);

-- run_current is keyed by (job_id, run_key); otherwise as in 0001.
DROP VIEW job_runs_latest;
CREATE TEMP TABLE run_current_0005 AS SELECT * FROM run_current;
DROP TABLE run_current;
CREATE TABLE run_current (
    job_id       INTEGER NOT NULL,       -- jobs.id
    run_key      INTEGER NOT NULL,       -- identifies run_id and attempt
    run_rowid    INTEGER NOT NULL,       -- job_runs.id of the newest observation
    observed_ns  INTEGER NOT NULL,
    at_ns        INTEGER NOT NULL,
    logical_date TEXT,
    PRIMARY KEY (job_id, run_key)
) WITHOUT ROWID;
INSERT INTO run_current (job_id, run_key, run_rowid, observed_ns, at_ns, logical_date)
SELECT j.id, c.run_key, c.run_rowid, c.observed_ns, c.at_ns, c.logical_date
FROM run_current_0005 c JOIN jobs j ON j.job = c.job
ORDER BY j.id, c.run_key;
DROP TABLE run_current_0005;
CREATE INDEX run_current_window ON run_current (logical_date, at_ns);

-- job_runs_latest as in 0001. job comes from jobs and logical_date from
-- run_current, so that filters on them use their indexes.
CREATE VIEW job_runs_latest AS
SELECT r.id, r.source, j.job, r.run_id, r.attempt, r.max_attempts, r.state, r.source_state,
       c.logical_date, r.started_at, r.finished_at, r.duration_s,
       r.error_message, r.observed_at, r.attributes
FROM jobs j
JOIN run_current c ON c.job_id = j.id
JOIN job_runs r ON r.id = c.run_rowid;
