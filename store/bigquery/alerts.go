package bigquery

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

// PutAlert inserts or replaces the alert with a.ID, in one MERGE.
func (s *Store) PutAlert(ctx context.Context, a kant.Alert) error {
	return s.putAlert(ctx, a, nil)
}

// alertColumns are the alerts table's columns and the GoogleSQL that reads
// each from a row x of the @alert parameter.
var alertColumns = []struct{ name, expr string }{
	{"id", "JSON_VALUE(x, '$.id')"}, {"kind", "JSON_VALUE(x, '$.kind')"}, {"slo", "JSON_VALUE(x, '$.slo')"},
	{"job", "JSON_VALUE(x, '$.job')"}, {"date", "PARSE_DATE('%Y-%m-%d', JSON_VALUE(x, '$.date'))"},
	{"status", "JSON_VALUE(x, '$.status')"}, {"channel", "JSON_VALUE(x, '$.channel')"},
	{"message_ts", "JSON_VALUE(x, '$.message_ts')"}, {"text", "JSON_VALUE(x, '$.text')"},
	{"created_at", "TIMESTAMP_MICROS(CAST(JSON_VALUE(x, '$.created_us') AS INT64))"},
	{"updated_at", "TIMESTAMP_MICROS(CAST(JSON_VALUE(x, '$.updated_us') AS INT64))"},
	{"sent_at", "TIMESTAMP_MICROS(CAST(JSON_VALUE(x, '$.sent_us') AS INT64))"},
	{"since", "TIMESTAMP_MICROS(CAST(JSON_VALUE(x, '$.since_us') AS INT64))"},
	{"created_ns", "CAST(JSON_VALUE(x, '$.created_ns') AS INT64)"}, {"updated_ns", "CAST(JSON_VALUE(x, '$.updated_ns') AS INT64)"},
	{"sent_ns", "CAST(JSON_VALUE(x, '$.sent_ns') AS INT64)"}, {"since_ns", "CAST(JSON_VALUE(x, '$.since_ns') AS INT64)"},
	{"owner", "JSON_VALUE(x, '$.owner')"}, {"body", "JSON_VALUE(x, '$.body')"},
	{"revision", "CAST(JSON_VALUE(x, '$.revision') AS INT64)"}, {"delivered", "CAST(JSON_VALUE(x, '$.delivered') AS INT64)"},
	{"notes_sent", "CAST(JSON_VALUE(x, '$.notes_sent') AS INT64)"}, {"posting", "CAST(JSON_VALUE(x, '$.posting') AS BOOL)"},
	{"silenced", "JSON_VALUE(x, '$.silenced')"}, {"last_error", "JSON_VALUE(x, '$.last_error')"},
}

// putAlert writes a with one MERGE: the row is updated when the ID is
// stored, inserted otherwise. With a fence, the MERGE's source is empty
// when the lease has a newer generation, so that the check and the write
// are one statement, and the script reports the rows it changed.
func (s *Store) putAlert(ctx context.Context, a kant.Alert, f *kant.Fence) error {
	if err := backend.CheckAlert(a); err != nil {
		return fmt.Errorf("bigquery put alert %q: %w", a.ID, err)
	}
	var body any
	if b, err := backend.EncodeAlertBody(a); err != nil {
		return fmt.Errorf("bigquery put alert %q: %w", a.ID, err)
	} else if b != "" {
		body = b
	}
	rp, err := rowsParam("alert", []map[string]any{{
		"id": a.ID, "kind": text(a.Kind), "slo": text(a.SLO), "job": text(string(a.Job)),
		"date": dateValue(a.Date), "status": text(a.Status), "channel": text(a.Channel),
		"message_ts": text(a.MessageTS), "text": text(a.Text),
		"created_us": us(a.CreatedAt), "updated_us": us(a.UpdatedAt), "sent_us": us(a.SentAt), "since_us": us(a.Since),
		"created_ns": ns(a.CreatedAt), "updated_ns": ns(a.UpdatedAt), "sent_ns": ns(a.SentAt), "since_ns": ns(a.Since),
		"owner": text(a.Owner), "body": body, "revision": a.Revision, "delivered": a.Delivered,
		"notes_sent": a.NotesSent, "posting": a.Posting, "silenced": text(a.Silenced), "last_error": text(a.LastError),
	}})
	if err != nil {
		return fmt.Errorf("bigquery put alert %q: %w", a.ID, err)
	}
	var sel, set, cols, vals []string
	for _, c := range alertColumns {
		sel = append(sel, c.expr+" AS "+c.name)
		if c.name != "id" {
			set = append(set, c.name+" = a."+c.name)
		}
		cols = append(cols, c.name)
		vals = append(vals, "a."+c.name)
	}
	params := []bigquery.QueryParameter{rp}
	source := "SELECT " + strings.Join(sel, ",\n  ") + "\n  FROM UNNEST(JSON_QUERY_ARRAY(@alert)) AS x"
	if f != nil {
		source += "\n  WHERE " + s.fenceCondition()
		params = append(params, fenceParams(*f)...)
	}
	q := `MERGE ` + s.table("alerts") + ` AS t
USING (` + source + `) AS a
ON t.id = a.id
WHEN MATCHED THEN UPDATE SET ` + strings.Join(set, ", ") + `
WHEN NOT MATCHED THEN INSERT (` + strings.Join(cols, ", ") + `)
  VALUES (` + strings.Join(vals, ", ") + `)`
	if f != nil {
		q += ";\n" + s.fenceResult()
	}
	rows, err := s.query(ctx, q, params)
	if err != nil {
		return fmt.Errorf("bigquery put alert %q: %w", a.ID, err)
	}
	if f != nil {
		if err := fenceOutcome(rows, *f); err != nil {
			return fmt.Errorf("bigquery put alert %q: %w", a.ID, err)
		}
	}
	return nil
}

// Alerts returns the alerts matching f, oldest first (by creation time, then
// ID).
func (s *Store) Alerts(ctx context.Context, f kant.AlertFilter) ([]kant.Alert, error) {
	q := `SELECT id, kind, slo, job, date, status, channel, message_ts, text, created_ns, updated_ns, sent_ns,
  since_ns, owner, body, revision, delivered, notes_sent, posting, silenced, last_error
FROM ` + s.table("alerts") + ` WHERE TRUE`
	var p params
	if f.OpenOnly {
		q += ` AND status = 'open'`
	}
	if !f.UpdatedFrom.IsZero() {
		q += ` AND updated_ns >= ` + p.add(backend.ClampNs(f.UpdatedFrom))
	}
	q += ` ORDER BY created_ns, id`
	rows, err := s.query(ctx, q, p.list)
	if err != nil {
		return nil, fmt.Errorf("bigquery alerts: %w", err)
	}
	out := make([]kant.Alert, 0, len(rows))
	for _, row := range rows {
		var d decoder
		a := kant.Alert{
			ID: asString(row[0]), Kind: asString(row[1]), SLO: asString(row[2]), Job: kant.JobKey(asString(row[3])),
			Date: d.date(row[4]), Status: asString(row[5]), Channel: asString(row[6]), MessageTS: asString(row[7]),
			Text: asString(row[8]), CreatedAt: asTime(row[9]), UpdatedAt: asTime(row[10]), SentAt: asTime(row[11]),
			Since: asTime(row[12]), Owner: asString(row[13]),
			Revision: int(asInt(row[15])), Delivered: int(asInt(row[16])), NotesSent: int(asInt(row[17])),
			Posting: asBool(row[18]), Silenced: asString(row[19]), LastError: asString(row[20]),
		}
		if d.err != nil {
			return nil, fmt.Errorf("bigquery alert %s: %w", a.ID, d.err)
		}
		if body := asString(row[14]); body != "" {
			if err := backend.DecodeAlertBody(body, &a); err != nil {
				return nil, fmt.Errorf("bigquery alert %s: body: %w", a.ID, err)
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// PutSilence inserts or replaces the silence with si.ID, in one transaction.
func (s *Store) PutSilence(ctx context.Context, si kant.Silence) error {
	if err := si.Validate(); err != nil {
		return fmt.Errorf("bigquery put silence: %w", err)
	}
	for _, err := range []error{backend.CheckTime("start", si.Start), backend.CheckTime("end", si.End), backend.CheckTime("created_at", si.CreatedAt)} {
		if err != nil {
			return fmt.Errorf("bigquery put silence %s: %w", si.ID, err)
		}
	}
	rp, err := rowsParam("silence", []map[string]any{{
		"id": si.ID, "slos": jsonList(si.SLOs), "jobs": jsonList(si.Jobs), "reason": si.Reason,
		"created_by": text(si.CreatedBy),
		"start_us":   us(si.Start), "end_us": us(si.End), "created_us": us(si.CreatedAt),
		"start_ns": ns(si.Start), "end_ns": ns(si.End), "created_ns": ns(si.CreatedAt),
	}})
	if err != nil {
		return fmt.Errorf("bigquery put silence %s: %w", si.ID, err)
	}
	t := s.table("silences")
	q := `BEGIN TRANSACTION;
DELETE FROM ` + t + ` WHERE id = @id;
INSERT INTO ` + t + ` (id, slos, jobs, start_at, end_at, reason, created_by, created_at, start_ns, end_ns, created_ns)
SELECT JSON_VALUE(x, '$.id'), JSON_VALUE(x, '$.slos'), JSON_VALUE(x, '$.jobs'),
  TIMESTAMP_MICROS(CAST(JSON_VALUE(x, '$.start_us') AS INT64)),
  TIMESTAMP_MICROS(CAST(JSON_VALUE(x, '$.end_us') AS INT64)),
  JSON_VALUE(x, '$.reason'), JSON_VALUE(x, '$.created_by'),
  TIMESTAMP_MICROS(CAST(JSON_VALUE(x, '$.created_us') AS INT64)),
  CAST(JSON_VALUE(x, '$.start_ns') AS INT64), CAST(JSON_VALUE(x, '$.end_ns') AS INT64),
  CAST(JSON_VALUE(x, '$.created_ns') AS INT64)
FROM UNNEST(JSON_QUERY_ARRAY(@silence)) AS x;
COMMIT TRANSACTION;`
	if _, err := s.query(ctx, q, []bigquery.QueryParameter{rp, param("id", si.ID)}); err != nil {
		return fmt.Errorf("bigquery put silence %s: %w", si.ID, err)
	}
	return nil
}

// DeleteSilence removes the silence with that ID (ENOTFOUND when none). The
// script's last statement reports how many rows the DELETE removed.
func (s *Store) DeleteSilence(ctx context.Context, id string) error {
	rows, err := s.query(ctx, "DELETE FROM "+s.table("silences")+" WHERE id = @id;\nSELECT @@row_count AS n;",
		[]bigquery.QueryParameter{param("id", id)})
	if err != nil {
		return fmt.Errorf("bigquery delete silence %s: %w", id, err)
	}
	if len(rows) != 1 || asInt(rows[0][0]) == 0 {
		return fmt.Errorf("bigquery delete silence: %w", kant.Errorf(kant.ENOTFOUND, "silence %q not found", id))
	}
	return nil
}

// Silences returns the silences ending after endsAfter (all when zero),
// ordered by start, then ID.
func (s *Store) Silences(ctx context.Context, endsAfter time.Time) ([]kant.Silence, error) {
	q := `SELECT id, slos, jobs, start_ns, end_ns, reason, created_by, created_ns FROM ` + s.table("silences")
	var p params
	if !endsAfter.IsZero() {
		q += ` WHERE end_ns > ` + p.add(backend.ClampNs(endsAfter))
	}
	q += ` ORDER BY start_ns, id`
	rows, err := s.query(ctx, q, p.list)
	if err != nil {
		return nil, fmt.Errorf("bigquery silences: %w", err)
	}
	out := make([]kant.Silence, 0, len(rows))
	for _, row := range rows {
		si := kant.Silence{
			ID: asString(row[0]), Start: asTime(row[3]), End: asTime(row[4]), Reason: asString(row[5]),
			CreatedBy: asString(row[6]), CreatedAt: asTime(row[7]),
		}
		for _, l := range []struct {
			col bigquery.Value
			dst *[]string
		}{{row[1], &si.SLOs}, {row[2], &si.Jobs}} {
			if v := asString(l.col); v != "" {
				if err := json.Unmarshal([]byte(v), l.dst); err != nil {
					return nil, fmt.Errorf("bigquery silence %s: %w", si.ID, err)
				}
			}
		}
		out = append(out, si)
	}
	return out, nil
}

// jsonList returns l as a JSON array, or nil when it is empty.
func jsonList(l []string) any {
	if len(l) == 0 {
		return nil
	}
	b, _ := json.Marshal(l)
	return string(b)
}
