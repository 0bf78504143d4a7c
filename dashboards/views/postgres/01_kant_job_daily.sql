-- kant_job_daily: one row per job and date. The date is the run's logical
-- (occurrence) date, or the UTC date it started (finished, was seen) when it
-- has none. Counts are of runs (a retry is a run of its own), from each
-- run's newest observation.
CREATE OR REPLACE VIEW kant_job_daily AS
SELECT job, source, run_date AS date,
  COUNT(*) AS runs,
  SUM(CASE WHEN state = 'succeeded' THEN 1 ELSE 0 END) AS succeeded,
  SUM(CASE WHEN state IN ('failed', 'timeout', 'stopped', 'upstream_failed') THEN 1 ELSE 0 END) AS failed,
  MIN(started_at) AS first_started_at,
  MAX(finished_at) AS last_finished_at,
  COUNT(duration_s) AS timed_runs,
  SUM(duration_s) AS total_duration_s,
  MAX(duration_s) AS max_duration_s
FROM (
  SELECT job, source, state, started_at, finished_at, duration_s,
    COALESCE(logical_date, (COALESCE(started_at, finished_at, observed_at) AT TIME ZONE 'UTC')::date) AS run_date
  FROM job_runs_latest
) AS r
GROUP BY job, source, run_date;
