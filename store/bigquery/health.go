package bigquery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"cloud.google.com/go/bigquery"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/store/internal/backend"
)

// RecordPoll records the outcome of one poll of source at time at, in one
// transaction: the source's row is updated, or inserted when it has none.
func (s *Store) RecordPoll(ctx context.Context, source string, at time.Time, pollErr string) error {
	switch {
	case source == "":
		return fmt.Errorf("bigquery record poll: %w", kant.Errorf(kant.EINVALID, "source: required"))
	case at.IsZero():
		return fmt.Errorf("bigquery record poll %s: %w", source, kant.Errorf(kant.EINVALID, "time: required"))
	}
	if err := backend.CheckTime("time", at); err != nil {
		return fmt.Errorf("bigquery record poll %s: %w", source, err)
	}
	t := s.table("source_health")
	p := []bigquery.QueryParameter{param("source", source), param("at_us", at.UnixMicro()), param("at_ns", at.UnixNano())}
	var q string
	if pollErr == "" {
		q = `BEGIN TRANSACTION;
UPDATE ` + t + ` SET last_success = TIMESTAMP_MICROS(@at_us), last_attempt = TIMESTAMP_MICROS(@at_us),
  last_error = NULL, consecutive_failures = 0, last_success_ns = @at_ns, last_attempt_ns = @at_ns
WHERE source = @source;
INSERT INTO ` + t + ` (source, last_success, last_attempt, consecutive_failures, last_success_ns, last_attempt_ns)
SELECT @source, TIMESTAMP_MICROS(@at_us), TIMESTAMP_MICROS(@at_us), 0, @at_ns, @at_ns FROM (SELECT 1 AS one) AS o
WHERE NOT EXISTS (SELECT 1 FROM ` + t + ` WHERE source = @source);
COMMIT TRANSACTION;`
	} else {
		p = append(p, param("error", pollErr))
		q = `BEGIN TRANSACTION;
UPDATE ` + t + ` SET last_attempt = TIMESTAMP_MICROS(@at_us), last_error = @error,
  consecutive_failures = consecutive_failures + 1, last_attempt_ns = @at_ns
WHERE source = @source;
INSERT INTO ` + t + ` (source, last_attempt, last_error, consecutive_failures, last_attempt_ns)
SELECT @source, TIMESTAMP_MICROS(@at_us), @error, 1, @at_ns FROM (SELECT 1 AS one) AS o
WHERE NOT EXISTS (SELECT 1 FROM ` + t + ` WHERE source = @source);
COMMIT TRANSACTION;`
	}
	if _, err := s.query(ctx, q, p); err != nil {
		return fmt.Errorf("bigquery record poll %s: %w", source, err)
	}
	return nil
}

// SourceHealth returns the health of every source that has been polled,
// ordered by source name.
func (s *Store) SourceHealth(ctx context.Context) ([]kant.SourceHealth, error) {
	rows, err := s.query(ctx, `SELECT source, last_success_ns, last_attempt_ns, last_error, consecutive_failures
FROM `+s.table("source_health")+` ORDER BY source`, nil)
	if err != nil {
		return nil, fmt.Errorf("bigquery source health: %w", err)
	}
	out := make([]kant.SourceHealth, 0, len(rows))
	for _, row := range rows {
		out = append(out, kant.SourceHealth{
			Source:              asString(row[0]),
			LastSuccess:         asTime(row[1]),
			LastAttempt:         asTime(row[2]),
			LastError:           asString(row[3]),
			ConsecutiveFailures: int(asInt(row[4])),
		})
	}
	return out, nil
}

// Checkpoint returns the newest checkpoint saved for (source, key), or ""
// when there is none.
func (s *Store) Checkpoint(ctx context.Context, source, key string) (string, error) {
	rows, err := s.query(ctx, "SELECT value FROM "+s.table("checkpoints")+
		" WHERE source = @source AND key = @key ORDER BY seq DESC LIMIT 1",
		[]bigquery.QueryParameter{param("source", source), param("key", key)})
	if err != nil {
		return "", fmt.Errorf("bigquery checkpoint %s %s: %w", source, key, err)
	}
	if len(rows) == 0 {
		return "", nil
	}
	return asString(rows[0][0]), nil
}

// checkpointRow is one checkpoint for insertAll.
type checkpointRow struct {
	vals map[string]bigquery.Value
	id   string
}

func (r checkpointRow) Save() (map[string]bigquery.Value, string, error) { return r.vals, r.id, nil }

// SetCheckpoint saves value as the checkpoint of (source, key): it appends
// a row that reads take as the newest.
func (s *Store) SetCheckpoint(ctx context.Context, source, key, value string) error {
	return s.setCheckpoint(ctx, source, key, value, nil)
}

// setCheckpoint appends a checkpoint row: streamed with insertAll, or, with
// a fence, by one INSERT … SELECT whose condition is the fence (a streaming
// insert cannot be conditional). INSERT DML may meet the rows streamed
// before; only UPDATE, DELETE and MERGE may not.
func (s *Store) setCheckpoint(ctx context.Context, source, key, value string, f *kant.Fence) error {
	if source == "" || key == "" {
		return fmt.Errorf("bigquery set checkpoint: %w", kant.Errorf(kant.EINVALID, "source and key are required"))
	}
	now := s.now()
	seq := s.nextSeq(1)
	if f != nil {
		p := append([]bigquery.QueryParameter{param("source", source), param("key", key), param("value", value),
			param("at_us", now.UnixMicro()), param("seq", seq)}, fenceParams(*f)...)
		rows, err := s.query(ctx, `INSERT INTO `+s.table("checkpoints")+` (source, key, value, updated_at, seq)
SELECT @source, @key, @value, TIMESTAMP_MICROS(@at_us), @seq FROM (SELECT 1 AS one) AS o
WHERE `+s.fenceCondition()+`;
`+s.fenceResult(), p)
		if err == nil {
			err = fenceOutcome(rows, *f)
		}
		if err != nil {
			return fmt.Errorf("bigquery set checkpoint %s %s: %w", source, key, err)
		}
		return nil
	}
	sum := sha256.Sum256([]byte(source + "\x00" + key + "\x00" + strconv.FormatInt(seq, 10)))
	row := checkpointRow{id: hex.EncodeToString(sum[:16]), vals: map[string]bigquery.Value{
		"source": source, "key": key, "value": value, "updated_at": tsText(now), "seq": strconv.FormatInt(seq, 10),
	}}
	ins := s.client.Dataset(s.dataset).Table("checkpoints").Inserter()
	err := s.retry(ctx, "insert checkpoint", func(ctx context.Context) error {
		return ins.Put(ctx, []bigquery.ValueSaver{row})
	})
	if err != nil {
		return fmt.Errorf("bigquery set checkpoint %s %s: %w", source, key, err)
	}
	return nil
}
