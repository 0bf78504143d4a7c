-- kant_gantt: one row per occurrence (SLO, job, expected time) with its
-- runs' first start and its success (or last finish) against the expected
-- time and the deadline: the data behind a Gantt chart. start_delay_s is
-- how long after the expected time the first run started; slack_s how long
-- before the deadline it finished (negative: late).
CREATE OR REPLACE VIEW `PROJECT.DATASET.kant_gantt` AS
SELECT s.slo, s.job, s.date, s.expected_at, s.deadline, s.recover_by,
  d.first_started_at AS started_at,
  COALESCE(s.succeeded_at, d.last_finished_at) AS finished_at,
  s.verdict, s.reason, s.lateness_s, COALESCE(d.runs, 0) AS runs,
  TIMESTAMP_DIFF(d.first_started_at, s.expected_at, MILLISECOND) / 1000 AS start_delay_s,
  TIMESTAMP_DIFF(s.deadline, COALESCE(s.succeeded_at, d.last_finished_at), MILLISECOND) / 1000 AS slack_s
FROM `PROJECT.DATASET.slo_results` AS s
LEFT JOIN `PROJECT.DATASET.kant_job_daily` AS d ON d.job = s.job AND d.date = s.date;
