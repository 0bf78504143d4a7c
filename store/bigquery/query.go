package bigquery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"

	"github.com/kantproject/kant"
)

// param returns a named query parameter.
func param(name string, v any) bigquery.QueryParameter {
	return bigquery.QueryParameter{Name: name, Value: v}
}

// query runs sql (a SELECT, or a script) and returns every row of its
// result. Transient failures are retried (see retry).
func (s *Store) query(ctx context.Context, sql string, params []bigquery.QueryParameter) ([][]bigquery.Value, error) {
	if strings.HasPrefix(sql, "BEGIN TRANSACTION") {
		// BigQuery aborts one of two transactions that touch the same table
		// at once ("concurrent update"): this process runs its own one at a
		// time, and an abort by another replica is retried (Retryable).
		s.txMu.Lock()
		defer s.txMu.Unlock()
	}
	var out [][]bigquery.Value
	err := s.retry(ctx, "query", func(ctx context.Context) error {
		out = out[:0]
		q := s.client.Query(sql)
		q.Parameters = params
		q.Location = s.location
		it, err := q.Read(ctx)
		if err != nil {
			return err
		}
		for {
			var row []bigquery.Value
			err := it.Next(&row)
			if errors.Is(err, iterator.Done) {
				return nil
			}
			if err != nil {
				return err
			}
			out = append(out, row)
		}
	})
	return out, err
}

// retry runs fn until it succeeds, fails with an error a retry cannot help,
// or has been tried s.attempts times, waiting 1s, 2s, 4s… (at most 30s)
// between attempts. It never retries once ctx is done.
func (s *Store) retry(ctx context.Context, what string, fn func(context.Context) error) error {
	wait := time.Second
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !Retryable(err) || attempt >= s.attempts {
			return err
		}
		s.logger.Warn("retrying BigQuery call", "what", what, "attempt", attempt, "wait", wait, "err", err)
		if err := s.sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// Retryable reports whether a failed BigQuery call may succeed if made
// again: a 5xx or 429 answer, a rate or quota limit, rows that were stopped
// only because others in the request failed transiently.
func Retryable(err error) bool {
	var pm bigquery.PutMultiError
	if errors.As(err, &pm) {
		transient := false
		for _, rowErr := range pm {
			for _, e := range rowErr.Errors {
				var be *bigquery.Error
				if !errors.As(e, &be) {
					return false
				}
				switch be.Reason {
				case "backendError", "internalError", "timeout":
					transient = true
				case "stopped":
				default:
					return false // an invalid row stays invalid
				}
			}
		}
		return transient
	}
	var be *bigquery.Error
	if errors.As(err, &be) {
		// A query job's own error.
		switch be.Reason {
		case "backendError", "internalError", "rateLimitExceeded", "quotaExceeded", "jobRateLimitExceeded", "timeout":
			return true
		}
		if concurrentUpdate(be.Message) {
			return true
		}
	}
	var g *googleapi.Error
	if errors.As(err, &g) {
		if g.Code >= 500 || g.Code == http.StatusTooManyRequests || concurrentUpdate(g.Message) {
			return true
		}
		for _, e := range g.Errors {
			switch e.Reason {
			case "backendError", "internalError", "rateLimitExceeded", "quotaExceeded", "jobRateLimitExceeded":
				return true
			}
		}
	}
	return false
}

// concurrentUpdate reports whether msg is BigQuery aborting a transaction
// or DML statement for a concurrent change of the same table.
func concurrentUpdate(msg string) bool {
	return strings.Contains(msg, "aborted due to concurrent update") || strings.Contains(msg, "Could not serialize access")
}

// Values written to BigQuery: times as TIMESTAMP text (microseconds) and
// Unix nanoseconds, dates as YYYY-MM-DD, absent values as nil (NULL).

// tsText returns t as a TIMESTAMP value that insertAll accepts, or nil.
func tsText(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02 15:04:05.999999") + " UTC"
}

// ns returns t in Unix nanoseconds as an INT64 value, or nil.
func ns(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

// us returns t in Unix microseconds, or nil.
func us(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return strconv.FormatInt(t.UnixMicro(), 10)
}

// dateValue returns d as a DATE value, or nil.
func dateValue(d kant.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String()
}

func text(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Values read from BigQuery.

func asInt(v bigquery.Value) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}

func asString(v bigquery.Value) string {
	s, _ := v.(string)
	return s
}

func asFloat(v bigquery.Value) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	}
	return 0
}

func asBool(v bigquery.Value) bool {
	b, _ := v.(bool)
	return b
}

// asTime reads a column of Unix nanoseconds.
func asTime(v bigquery.Value) time.Time {
	if v == nil {
		return time.Time{}
	}
	return time.Unix(0, asInt(v)).UTC()
}

// decoder reads DATE and JSON columns, keeping the first error.
type decoder struct{ err error }

func (d *decoder) date(v bigquery.Value) kant.Date {
	switch x := v.(type) {
	case nil:
		return kant.Date{}
	case civil.Date:
		return kant.Date{Year: x.Year, Month: x.Month, Day: x.Day}
	case string:
		dt, err := kant.ParseDate(x)
		if err != nil && d.err == nil {
			d.err = fmt.Errorf("bad date %q", x)
		}
		return dt
	}
	if d.err == nil {
		d.err = fmt.Errorf("bad date value %T", v)
	}
	return kant.Date{}
}

func (d *decoder) attributes(v bigquery.Value) map[string]string {
	s, _ := v.(string)
	if s == "" {
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil && d.err == nil {
		d.err = fmt.Errorf("bad attributes %q: %w", s, err)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func duration(seconds float64) time.Duration {
	return time.Duration(math.Round(seconds * float64(time.Second)))
}

// rowsParam encodes rows for a DML statement that reads them with
// UNNEST(JSON_QUERY_ARRAY(@name)): one STRING parameter however many rows,
// so that no statement meets BigQuery's limit on parameters.
func rowsParam(name string, rows []map[string]any) (bigquery.QueryParameter, error) {
	if rows == nil {
		rows = []map[string]any{}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return bigquery.QueryParameter{}, err
	}
	return param(name, string(b)), nil
}
