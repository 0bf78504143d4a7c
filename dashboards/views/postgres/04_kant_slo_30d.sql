-- kant_slo_30d: per SLO and date, attainment over the 30 days ending that
-- date: final days with occurrences, how many met the SLO and the SLA, and
-- their shares. A day counts once it is final (every occurrence decided).
CREATE OR REPLACE VIEW kant_slo_30d AS
SELECT slo, date,
  COUNT(*) OVER w AS days,
  SUM(CASE WHEN slo_met THEN 1 ELSE 0 END) OVER w AS slo_days_met,
  SUM(CASE WHEN sla_met THEN 1 ELSE 0 END) OVER w AS sla_days_met,
  CAST(SUM(CASE WHEN slo_met THEN 1 ELSE 0 END) OVER w AS double precision) / COUNT(*) OVER w AS slo_attainment,
  CAST(SUM(CASE WHEN sla_met THEN 1 ELSE 0 END) OVER w AS double precision) / COUNT(*) OVER w AS sla_attainment
FROM (
  SELECT slo, date, slo_met, sla_met, date - DATE '1970-01-01' AS day_number
  FROM sla_daily
  WHERE occurrences > 0 AND final
) AS d
WINDOW w AS (PARTITION BY slo ORDER BY day_number RANGE BETWEEN 29 PRECEDING AND CURRENT ROW);
