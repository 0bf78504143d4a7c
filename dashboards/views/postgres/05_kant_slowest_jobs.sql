-- kant_slowest_jobs: every job ranked by its mean run duration over the 30
-- days ending at the newest date in kant_job_daily (rank 1: slowest).
CREATE OR REPLACE VIEW kant_slowest_jobs AS
SELECT job, source, runs, timed_runs, avg_duration_s, max_duration_s,
  RANK() OVER (ORDER BY avg_duration_s DESC) AS slowest_rank
FROM (
  SELECT job, source, CAST(SUM(runs) AS bigint) AS runs, CAST(SUM(timed_runs) AS bigint) AS timed_runs,
    SUM(total_duration_s) / SUM(timed_runs) AS avg_duration_s,
    MAX(max_duration_s) AS max_duration_s
  FROM kant_job_daily
  WHERE date > (SELECT MAX(date) FROM kant_job_daily) - 30
  GROUP BY job, source
  HAVING SUM(timed_runs) > 0
) AS j;
