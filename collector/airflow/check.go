package airflow

import (
	"context"
	"fmt"
	"net/http"

	"github.com/kantproject/kant/collector"
)

// Check reports whether the source is reachable and readable: what
// `kant check` shows per source. It reads the Airflow version (which also
// decides the API version when it is not configured), lists the DAGs, and
// reads one task instance or DAG run of the matching DAGs; it stores and
// records nothing.
func (p *Poller) Check(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, collector.DefaultCycleTimeout)
	defer cancel()
	api, version, err := p.detect(ctx)
	if err != nil {
		return "", fmt.Errorf("cannot reach Airflow: %w", err)
	}
	if p.cfg.API != "" && p.cfg.API != api {
		return "", fmt.Errorf("airflow %s answers API %s, but the source says api: %s", version, api, p.cfg.API)
	}
	report := fmt.Sprintf("Airflow %s, API %s", version, api)
	dags, err := p.listDAGs(ctx, api)
	if dags == nil {
		return report, fmt.Errorf("cannot list DAGs: %w", err)
	}
	report += fmt.Sprintf("; lists %d matching DAG(s)", len(dags))
	if err != nil {
		report += fmt.Sprintf(" (%v)", err)
	}
	if len(dags) == 0 {
		return report + "; no DAG to read runs of", nil
	}
	path, what := "/dags/~/dagRuns/~/taskInstances/list", "task instances"
	if p.cfg.Level == LevelDAG {
		path, what = "/dags/~/dagRuns/list", "DAG runs"
	}
	body := map[string]any{"dag_ids": dags[:min(len(dags), dagChunk)], "page_limit": 1, "page_offset": 0}
	var coll struct {
		Total int `json:"total_entries"`
	}
	if err := p.call(ctx, request{method: http.MethodPost, api: api, path: path, body: body}, &coll); err != nil {
		return report, fmt.Errorf("cannot read %s: %w", what, err)
	}
	return fmt.Sprintf("%s; reads %s (%d in all)", report, what, coll.Total), nil
}
