-- kant_failing_jobs: every job that failed over the 30 days ending at the
-- newest date in kant_job_daily, ranked by its share of failed runs, then
-- by failures (rank 1: fails most).
CREATE OR REPLACE VIEW kant_failing_jobs AS
SELECT job, source, runs, failed, succeeded, failure_rate,
  RANK() OVER (ORDER BY failure_rate DESC, failed DESC) AS failing_rank
FROM (
  SELECT job, source, CAST(SUM(runs) AS bigint) AS runs, CAST(SUM(failed) AS bigint) AS failed,
    CAST(SUM(succeeded) AS bigint) AS succeeded,
    CAST(SUM(failed) AS double precision) / SUM(runs) AS failure_rate
  FROM kant_job_daily
  WHERE date > (SELECT MAX(date) FROM kant_job_daily) - 30
  GROUP BY job, source
  HAVING SUM(failed) > 0
) AS j;
