package views

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/dashboards/views/viewstest"
	"github.com/kantproject/kant/store/postgres"
	"github.com/kantproject/kant/store/postgres/pgtest"
)

func postgresViews() []postgres.View {
	var vs []postgres.View
	for _, v := range Postgres() {
		vs = append(vs, postgres.View{Name: v.Name, SQL: v.SQL})
	}
	return vs
}

// openPostgresWithData writes the known data set through a real
// store/postgres store and returns a plain connection to its database, as
// a BI tool would have.
func openPostgresWithData(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.Start(t)
	s, err := postgres.Open(ctx, postgres.Config{DSN: dsn, Views: postgresViews()})
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
	s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// pgRows reads a view as viewstest.Want spells it. A date column is
// written YYYY-MM-DD, as the other dialects return it.
func pgRows(t *testing.T, conn *pgx.Conn, view string) []string {
	t.Helper()
	r, err := conn.Query(context.Background(), fmt.Sprintf(viewstest.Query[view], view))
	if err != nil {
		t.Fatalf("query %s: %v", view, err)
	}
	defer r.Close()
	var cols []string
	for _, f := range r.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	out := []string{strings.Join(cols, " | ")}
	for r.Next() {
		vals, err := r.Values()
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range r.FieldDescriptions() {
			if d, ok := vals[i].(time.Time); ok && f.DataTypeOID == pgtype.DateOID {
				vals[i] = d.Format(time.DateOnly)
			}
		}
		out = append(out, viewstest.Row(vals))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEveryPostgresViewReturnsTheKnownRows(t *testing.T) {
	conn := openPostgresWithData(t)
	for _, v := range Postgres() {
		t.Run(v.Name, func(t *testing.T) {
			want, ok := viewstest.Want[v.Name]
			if !ok {
				t.Fatalf("no expected rows for view %s", v.Name)
			}
			if got := pgRows(t, conn, v.Name); !slices.Equal(got, want) {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestOpeningThePostgresStoreAgainReplacesTheViews(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Start(t)
	for range 2 {
		s, err := postgres.Open(ctx, postgres.Config{DSN: dsn, Views: postgresViews()})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_views WHERE viewname LIKE 'kant\_%'`).Scan(&n); err != nil || n != len(Postgres()) {
		t.Errorf("%d kant_ views (%v), want %d", n, err, len(Postgres()))
	}
}

func TestPostgresHasTheSQLiteViewsInOrder(t *testing.T) {
	lite, pg := SQLite(), Postgres()
	if len(lite) != len(pg) {
		t.Fatalf("%d SQLite views, %d PostgreSQL views", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Name != pg[i].Name {
			t.Errorf("view %d: %s in SQLite, %s in PostgreSQL", i, lite[i].Name, pg[i].Name)
		}
	}
}
