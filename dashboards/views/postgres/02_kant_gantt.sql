-- kant_gantt: one row per occurrence (SLO, job, expected time) with its
-- runs' first start and its success (or last finish) against the expected
-- time and the deadline: the data behind a Gantt chart. start_delay_s is
-- how long after the expected time the first run started; slack_s how long
-- before the deadline it finished (negative: late).
CREATE OR REPLACE VIEW kant_gantt AS
SELECT s.slo, s.job, s.date, kant_time(s.expected_ns) AS expected_at, kant_time(s.deadline_ns) AS deadline,
  kant_time(s.recover_by_ns) AS recover_by,
  d.first_started_at AS started_at,
  COALESCE(kant_time(s.succeeded_ns), d.last_finished_at) AS finished_at,
  s.verdict, s.reason, s.lateness_s, COALESCE(d.runs, 0) AS runs,
  CAST(EXTRACT(EPOCH FROM d.first_started_at - kant_time(s.expected_ns)) AS double precision) AS start_delay_s,
  CAST(EXTRACT(EPOCH FROM kant_time(s.deadline_ns) - COALESCE(kant_time(s.succeeded_ns), d.last_finished_at)) AS double precision) AS slack_s
FROM slo_results AS s
LEFT JOIN kant_job_daily AS d ON d.job = s.job AND d.date = s.date;
