-- kant_failing_jobs: every job that failed over the 30 days ending at the
-- newest date in kant_job_daily, ranked by its share of failed runs, then
-- by failures (rank 1: fails most).
CREATE OR REPLACE VIEW `PROJECT.DATASET.kant_failing_jobs` AS
SELECT job, source, runs, failed, succeeded, failure_rate,
  RANK() OVER (ORDER BY failure_rate DESC, failed DESC) AS failing_rank
FROM (
  SELECT job, source, SUM(runs) AS runs, SUM(failed) AS failed, SUM(succeeded) AS succeeded,
    CAST(SUM(failed) AS FLOAT64) / SUM(runs) AS failure_rate
  FROM `PROJECT.DATASET.kant_job_daily`
  WHERE UNIX_DATE(date) > (SELECT MAX(UNIX_DATE(date)) FROM `PROJECT.DATASET.kant_job_daily`) - 30
  GROUP BY job, source
  HAVING SUM(failed) > 0
) AS j;
