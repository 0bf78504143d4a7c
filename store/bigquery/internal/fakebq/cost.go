package fakebq

import (
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// What a query costs, counted as BigQuery's on-demand pricing bills it, so
// that tests can measure what kant reads. For each statement of a query
// (the statements of a script are billed one by one, as BigQuery's child
// jobs are):
//
//   - the base tables it reads: those it names, and those of the views it
//     names (a view's outermost select list is taken as passing columns
//     through, so a query is billed for the columns it uses of a view, as
//     BigQuery prunes them);
//   - the partitions it reads of a time-partitioned table: all of them,
//     unless the statement compares the partitioning column itself (not
//     an _ns copy) with a parameter or TIMESTAMP_MICROS(parameter) by >=,
//     >, <=, < or =, outside an OR. A filter given to a view does not prune
//     the table under it (kant's view ranks rows with a window function,
//     which BigQuery does not push such a filter through). Clustering's
//     block pruning is not counted: the figures are an upper bound there;
//   - the columns it reads: those whose name appears in the statement
//     outside string literals and parameter names; every column of the
//     table a DELETE, UPDATE or MERGE changes (BigQuery bills DML for the
//     whole of the rows it scans of its target); none of the table an
//     INSERT writes into;
//   - bytes: per value, STRING 2 + its UTF-8 length, BOOL 1, every other
//     type 8, NULL 0 (BigQuery's data size calculation), summed over the
//     columns read in the partitions read. Rows scanned are the rows of
//     those partitions, 0 when no column is read (COUNT(*) is answered
//     from metadata).
//
// Billed bytes apply BigQuery's minimum of 10 MiB per table a statement
// reads any bytes of.

// MinBilled is what BigQuery bills at least, per table read, of a statement
// that reads anything.
const MinBilled = 10 << 20

// QueryStat is the cost of one jobs.query call.
type QueryStat struct {
	SQL          string
	Statements   int   // statements run, BEGIN and COMMIT not counted
	RowsScanned  int64 // rows of the partitions read, summed over statements and tables
	BytesScanned int64 // bytes of the columns read in those partitions
	BytesBilled  int64 // BytesScanned with the 10 MiB minimum per table read
	// PerStatement is the same for each statement, in order.
	PerStatement []StatementStat
}

// StatementStat is the cost of one statement of a query.
type StatementStat struct {
	RowsScanned, BytesScanned int64
	Tables                    []TableStat // the tables it read bytes of
}

// TableStat is what a statement read of one table.
type TableStat struct {
	Table       string // dataset.table
	Rows, Bytes int64
}

// Billed returns what BigQuery bills for the statement were each table
// scale(table) times as large: the bytes, at least MinBilled per table
// read.
func (st StatementStat) Billed(scale func(table string) float64) float64 {
	var b float64
	for _, t := range st.Tables {
		b += float64(t.Bytes) * scale(t.Table)
	}
	if b == 0 {
		return 0
	}
	return max(b, float64(len(st.Tables))*MinBilled)
}

// Same is the scale of Billed for the tables as they are.
func Same(string) float64 { return 1 }

// QueryStats returns the cost of every query answered so far, in order.
func (s *Server) QueryStats() []QueryStat {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]QueryStat(nil), s.stats...)
}

// ResetQueryStats forgets the queries counted so far.
func (s *Server) ResetQueryStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = nil
}

type querier interface {
	QueryRow(query string, args ...any) *sql.Row
}

var (
	reInsertTarget = regexp.MustCompile(`(?is)^\s*INSERT\s+(?:INTO\s+)?` + "`[A-Za-z0-9_-]+\\.[A-Za-z0-9_]+\\.[A-Za-z0-9_]+`")
	reWord         = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	bound          = `(@\w+|TIMESTAMP_MICROS\(\s*@\w+\s*\))`
)

// statementCost returns what one statement reads: rows, bytes, and the
// tables it reads bytes of. s.mu is held; q runs in the statement's
// transaction, if any, before the statement.
func (s *Server) statementCost(st string, params map[string]any, q querier) (StatementStat, error) {
	var out StatementStat
	code, _ := stripStrings(st)
	code = reParam.ReplaceAllStringFunc(code, func(m string) string {
		if strings.HasPrefix(m, "@@") {
			return " "
		}
		return m // kept for partition bounds; not read as a column below
	})
	target := ""
	if m := reDMLTarget.FindStringSubmatch(code); m != nil {
		target = m[2] + "." + m[3]
	}
	direct := code
	if loc := reInsertTarget.FindStringIndex(code); loc != nil {
		direct = code[loc[1]:] // the table written into is not read
	}
	type ref struct {
		text   string // where its columns are looked for
		prunes bool   // whether its partition filters count
	}
	refs := map[string]*ref{}
	order := []string{}
	// visit finds the tables named in from; their columns are looked for
	// in text (from, and the queries that read the view from is).
	var visit func(from, text string, prunes bool, depth int)
	visit = func(from, text string, prunes bool, depth int) {
		for _, m := range reTable.FindAllStringSubmatch(from, -1) {
			d := s.datasets[m[2]]
			if d == nil || d.tables[m[3]] == nil {
				continue
			}
			t := d.tables[m[3]]
			if t.meta.Type == "VIEW" {
				if t.meta.View != nil && depth < 8 {
					vq, _ := stripStrings(t.meta.View.Query)
					vq = dropSelectList(vq)
					visit(vq, vq+"\n"+text, false, depth+1)
				}
				continue
			}
			key := m[2] + "." + m[3]
			if r := refs[key]; r != nil {
				r.text += "\n" + text
				r.prunes = r.prunes && prunes
				continue
			}
			refs[key] = &ref{text: text, prunes: prunes}
			order = append(order, key)
		}
	}
	visit(direct, direct, true, 0)
	if target != "" && refs[target] == nil {
		refs[target] = &ref{text: code, prunes: true}
		order = append(order, target)
	}
	for _, key := range order {
		r := refs[key]
		ds, tb, _ := strings.Cut(key, ".")
		t := s.datasets[ds].tables[tb]
		words := map[string]bool{}
		for _, w := range reWord.FindAllString(reParam.ReplaceAllString(r.text, " "), -1) {
			words[strings.ToLower(w)] = true
		}
		var sizes []string
		for _, f := range t.meta.Schema.Fields {
			if key != target && !words[strings.ToLower(f.Name)] {
				continue
			}
			c := `"` + f.Name + `"`
			switch canonicalType[f.Type] {
			case "STRING":
				sizes = append(sizes, "COALESCE(SUM(2 + length(CAST("+c+" AS BLOB))), 0)")
			case "BOOLEAN":
				sizes = append(sizes, "COUNT("+c+")")
			default:
				sizes = append(sizes, "8 * COUNT("+c+")")
			}
		}
		if len(sizes) == 0 {
			continue
		}
		where := "TRUE"
		if r.prunes {
			where = s.partitionFilter(t, r.text, params)
		}
		var n, b int64
		if err := q.QueryRow("SELECT COUNT(*), "+strings.Join(sizes, " + ")+" FROM "+quoteTable(ds, tb)+" WHERE "+where).Scan(&n, &b); err != nil {
			return StatementStat{}, fmt.Errorf("fakebq: cost of %s: %w", key, err)
		}
		out.RowsScanned += n
		out.BytesScanned += b
		out.Tables = append(out.Tables, TableStat{Table: key, Rows: n, Bytes: b})
	}
	return out, nil
}

// dropSelectList removes the outermost select list of a view's query,
// whose columns it passes through.
func dropSelectList(q string) string {
	upper := strings.ToUpper(q)
	i := strings.Index(upper, "SELECT")
	if i < 0 {
		return q
	}
	depth := 0
	for j := i + len("SELECT"); j+4 <= len(q); j++ {
		switch q[j] {
		case '(':
			depth++
		case ')':
			depth--
		}
		if depth == 0 && upper[j:j+4] == "FROM" && (j == 0 || !isWord(q[j-1])) && (j+4 == len(q) || !isWord(q[j+4])) {
			return q[:i] + "SELECT " + q[j:]
		}
	}
	return q
}

func isWord(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// partitionFilter returns the SQLite condition selecting the partitions of
// t that text's filters on its partitioning column leave to be read.
func (s *Server) partitionFilter(t *table, text string, params map[string]any) string {
	p := t.meta.TimePartitioning
	if p == nil || p.Field == "" {
		return "TRUE"
	}
	f := fieldOf(t.meta.Schema, p.Field)
	if f == nil {
		return "TRUE"
	}
	re := regexp.MustCompile(`(?i)(?:\b\w+\.)?\b` + regexp.QuoteMeta(p.Field) + `\s*(>=|>|<=|<|=)\s*` + bound)
	var lo, hi any
	for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
		if inOr(text, m[0]) {
			continue
		}
		op := text[m[2]:m[3]]
		name := strings.TrimSpace(text[m[4]:m[5]])
		if i := strings.Index(name, "@"); i >= 0 {
			name = strings.TrimRight(strings.TrimSpace(name[i+1:]), ") ")
		}
		v, ok := params[name]
		if !ok || v == nil {
			continue
		}
		if op == ">=" || op == ">" || op == "=" {
			lo = later(lo, v)
		}
		if op == "<=" || op == "<" || op == "=" {
			hi = earlier(hi, v)
		}
	}
	col := `"` + f.Name + `"`
	var conds []string
	if lo != nil {
		if start, ok := partitionStart(canonicalType[f.Type], p.Type, lo, false); ok {
			conds = append(conds, col+" >= "+start)
		}
	}
	if hi != nil {
		if end, ok := partitionStart(canonicalType[f.Type], p.Type, hi, true); ok {
			conds = append(conds, col+" < "+end)
		}
	}
	if len(conds) == 0 {
		return "TRUE"
	}
	return strings.Join(conds, " AND ")
}

// inOr reports whether the condition at pos is inside a parenthesized
// group (or the statement) that joins conditions with OR at its own level.
func inOr(text string, pos int) bool {
	depth := 0
	start := 0
	for i := pos - 1; i >= 0; i-- {
		if text[i] == ')' {
			depth++
		} else if text[i] == '(' {
			if depth == 0 {
				start = i + 1
				break
			}
			depth--
		}
	}
	depth = 0
	upper := strings.ToUpper(text)
	for i := start; i+2 <= len(text); i++ {
		switch text[i] {
		case '(':
			depth++
		case ')':
			if depth == 0 {
				return false
			}
			depth--
		}
		if depth == 0 && upper[i:i+2] == "OR" && (i == 0 || !isWord(text[i-1])) && (i+2 == len(text) || !isWord(text[i+2])) {
			return true
		}
	}
	return false
}

func later(a, b any) any {
	if a == nil || less(a, b) {
		return b
	}
	return a
}

func earlier(a, b any) any {
	if a == nil || less(b, a) {
		return b
	}
	return a
}

func less(a, b any) bool {
	switch x := a.(type) {
	case int64:
		y, ok := b.(int64)
		return ok && x < y
	case string:
		y, ok := b.(string)
		return ok && x < y
	}
	return false
}

// partitionStart returns, as SQLite text, where the partition holding v
// begins, or with next where the following one begins. TIMESTAMPs are
// stored as Unix microseconds, DATEs as YYYY-MM-DD.
func partitionStart(colType, unit string, v any, next bool) (string, bool) {
	var t time.Time
	switch x := v.(type) {
	case int64:
		t = time.UnixMicro(x).UTC()
	case string:
		d, err := time.Parse(time.DateOnly, x)
		if err != nil {
			return "", false
		}
		t = d
	default:
		return "", false
	}
	switch unit {
	case "HOUR":
		t = t.Truncate(time.Hour)
		if next {
			t = t.Add(time.Hour)
		}
	case "MONTH":
		t = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		if next {
			t = t.AddDate(0, 1, 0)
		}
	case "YEAR":
		t = time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		if next {
			t = t.AddDate(1, 0, 0)
		}
	default: // DAY
		t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		if next {
			t = t.AddDate(0, 0, 1)
		}
	}
	if colType == "DATE" {
		return "'" + t.Format(time.DateOnly) + "'", true
	}
	return fmt.Sprint(t.UnixMicro()), true
}
