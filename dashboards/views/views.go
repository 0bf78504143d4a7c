// Package views holds the SQL views kant offers BI tools (Looker Studio,
// Tableau, Grafana, Metabase) over its tables: per-job daily runs, the
// occurrence-against-deadline rows behind a Gantt chart, SLO and SLA
// attainment per day and over 30 days, and the slowest and most-failing
// jobs. Each view exists in three dialects, SQLite (sqlite/*.sql, over the
// embedded store), PostgreSQL (postgres/*.sql, over store/postgres) and
// BigQuery (bigquery/*.sql, over store/bigquery's dataset), with the same
// columns and the same rows for the same data;
// README.md shows how to point BI tools at them.
//
// The package owns the view files and their order (each file is named
// NN_view_name.sql; later views may read earlier ones). It imports only the
// standard library: the stores apply the views, or a person runs the files.
package views

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
)

//go:embed sqlite/*.sql bigquery/*.sql postgres/*.sql
var files embed.FS

// View is one view: its name, the whole statement that creates it (what a
// person runs), and the query alone (what a view definition API takes).
type View struct {
	Name  string
	SQL   string
	Query string
}

// Placeholder is what the BigQuery files write for the project and dataset
// of kant's tables: `PROJECT.DATASET.job_runs`.
const Placeholder = "PROJECT.DATASET"

var header = regexp.MustCompile("(?is)^\\s*CREATE\\s+(?:OR\\s+REPLACE\\s+)?VIEW\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?`?([A-Za-z0-9_.-]+)`?\\s+AS\\s+")

// load reads the views of one dialect, in file order.
func load(dir string) []View {
	entries, err := fs.ReadDir(files, dir)
	if err != nil {
		panic(err) // the files are embedded: a missing directory is a build mistake
	}
	var out []View
	for _, e := range entries {
		b, err := files.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			panic(err)
		}
		text := string(b)
		stmt := stripComments(text)
		m := header.FindStringSubmatchIndex(stmt)
		if m == nil {
			panic(fmt.Sprintf("views: %s/%s does not start with CREATE VIEW", dir, e.Name()))
		}
		name := stmt[m[2]:m[3]]
		name = name[strings.LastIndexByte(name, '.')+1:]
		out = append(out, View{
			Name:  name,
			SQL:   strings.TrimSpace(text),
			Query: strings.TrimSuffix(strings.TrimSpace(stmt[m[1]:]), ";"),
		})
	}
	return out // fs.ReadDir returns the files sorted by name
}

// stripComments removes whole-line "--" comments.
func stripComments(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// SQLite returns the SQLite views, in the order they must be created.
func SQLite() []View { return load("sqlite") }

// Postgres returns the PostgreSQL views, in the order they must be created.
// Their times are timestamptz and their dates date.
func Postgres() []View { return load("postgres") }

// BigQuery returns the BigQuery views, in the order they must be created,
// with tables named `PROJECT.DATASET.table` (see Placeholder).
func BigQuery() []View { return load("bigquery") }

// BigQueryFor returns the BigQuery views over the tables of project and
// dataset.
func BigQueryFor(project, dataset string) []View {
	vs := BigQuery()
	for i := range vs {
		vs[i].SQL = strings.ReplaceAll(vs[i].SQL, Placeholder, project+"."+dataset)
		vs[i].Query = strings.ReplaceAll(vs[i].Query, Placeholder, project+"."+dataset)
	}
	return vs
}
