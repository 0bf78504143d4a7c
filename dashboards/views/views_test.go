package views

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/dashboards/views/viewstest"
	"github.com/kantproject/kant/store/sqlite"
)

// openWithData writes the known data set through a real store/sqlite store
// and returns the database file opened plainly, as a BI tool would.
func openWithData(t *testing.T) *sql.DB {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kant.db")
	var vs []sqlite.View
	for _, v := range SQLite() {
		vs = append(vs, sqlite.View{Name: v.Name, SQL: v.SQL})
	}
	s, err := sqlite.Open(ctx, sqlite.Config{Path: path, Views: vs})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range viewstest.Runs() {
		if _, err := s.WriteRuns(ctx, []kant.Run{r}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WriteEvaluation(ctx, viewstest.Evaluation()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rows reads a view as viewstest.Want spells it: columns, then rows.
func rows(t *testing.T, db *sql.DB, view string) []string {
	t.Helper()
	r, err := db.Query(fmt.Sprintf(viewstest.Query[view], view))
	if err != nil {
		t.Fatalf("query %s: %v", view, err)
	}
	defer r.Close()
	cols, _ := r.Columns()
	out := []string{strings.Join(cols, " | ")}
	for r.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, viewstest.Row(vals))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEverySQLiteViewReturnsTheKnownRows(t *testing.T) {
	db := openWithData(t)
	for _, v := range SQLite() {
		t.Run(v.Name, func(t *testing.T) {
			want, ok := viewstest.Want[v.Name]
			if !ok {
				t.Fatalf("no expected rows for view %s", v.Name)
			}
			if got := rows(t, db, v.Name); !slices.Equal(got, want) {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestOpeningTheStoreAgainReplacesTheViews(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kant.db")
	var vs []sqlite.View
	for _, v := range SQLite() {
		vs = append(vs, sqlite.View{Name: v.Name, SQL: v.SQL})
	}
	for range 2 {
		s, err := sqlite.Open(context.Background(), sqlite.Config{Path: path, Views: vs})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name LIKE 'kant_%'`).Scan(&n); err != nil || n != len(SQLite()) {
		t.Errorf("%d kant_ views (%v), want %d", n, err, len(SQLite()))
	}
}

func TestBothDialectsHaveTheSameViewsWithTheSameColumns(t *testing.T) {
	lite, big := SQLite(), BigQuery()
	if len(lite) != len(big) || len(lite) != len(viewstest.Want) {
		t.Fatalf("%d SQLite views, %d BigQuery views, %d expected", len(lite), len(big), len(viewstest.Want))
	}
	for i := range lite {
		if lite[i].Name != big[i].Name {
			t.Errorf("view %d: %s in SQLite, %s in BigQuery", i, lite[i].Name, big[i].Name)
		}
		if !strings.HasPrefix(big[i].SQL, "--") || !strings.Contains(big[i].SQL, "CREATE OR REPLACE VIEW `PROJECT.DATASET."+big[i].Name+"`") {
			t.Errorf("BigQuery %s does not create `PROJECT.DATASET.%s`", big[i].Name, big[i].Name)
		}
		if strings.Contains(big[i].Query, "CREATE") || strings.HasSuffix(big[i].Query, ";") || !strings.HasPrefix(big[i].Query, "SELECT") {
			t.Errorf("BigQuery %s query is not a bare SELECT: %.60q", big[i].Name, big[i].Query)
		}
	}
	for _, v := range BigQueryFor("my-project", "kant") {
		if strings.Contains(v.SQL, "PROJECT.DATASET") || !strings.Contains(v.Query, "`my-project.kant.") {
			t.Errorf("BigQueryFor left a placeholder in %s", v.Name)
		}
	}
}
