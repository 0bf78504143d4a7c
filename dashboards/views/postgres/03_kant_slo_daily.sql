-- kant_slo_daily: one row per SLO and date: its occurrences by verdict,
-- whether the day met the SLO and the SLA, and the share of occurrences met.
CREATE OR REPLACE VIEW kant_slo_daily AS
SELECT slo, date, occurrences, met, late, missed, pending, slo_met, sla_met, final,
  CASE WHEN occurrences = 0 THEN NULL ELSE CAST(met AS double precision) / occurrences END AS met_share
FROM sla_daily;
