package fakebq

import (
	"database/sql"
	"net/http"
	"strconv"
	"strings"
)

// MERGE is emulated, as SQLite has none, by the statements that do what
// BigQuery's MERGE does, in one SQLite transaction:
//
//	MERGE [INTO] `p.d.t` [AS] T USING (query) | `p.d.s` [AS] S ON cond
//	  WHEN MATCHED [AND c] THEN UPDATE SET col = e, … | DELETE
//	  WHEN NOT MATCHED [BY TARGET] [AND c] THEN INSERT (cols) VALUES (e, …)
//
// The source rows are copied to a temporary table; the pairs of target and
// source rows that satisfy ON are listed once, before any change, with the
// first WHEN MATCHED clause whose condition holds for each pair (clauses
// are tried in order, as BigQuery does); a target row paired with more than
// one source row is BigQuery's runtime error. Then each matched clause
// updates or deletes its target rows, and each NOT MATCHED clause inserts
// the source rows that paired with no target row and satisfy it (and no
// earlier NOT MATCHED clause). The number of affected rows is what
// BigQuery counts: rows updated, deleted and inserted. Both aliases are
// required (kant always writes them); WHEN NOT MATCHED BY SOURCE and
// INSERT ROW are not emulated.

// mergeStmt is a parsed MERGE, its parts still GoogleSQL.
type mergeStmt struct {
	target, targetAlias string
	source, sourceAlias string
	on                  string
	clauses             []mergeClause
}

type mergeClause struct {
	matched bool
	cond    string // "" is TRUE
	action  string // UPDATE, DELETE, INSERT
	set     string // UPDATE: the assignments
	cols    string // INSERT: the column list, parentheses included
	values  string // INSERT: the value list, parentheses included
}

// word is a keyword found at the top level of a statement.
type word struct {
	text       string // upper case
	start, end int
}

// topWords returns the words of code outside parentheses, backquoted names
// and CASE … END, in order. code has its string literals stripped.
func topWords(code string) []word {
	var out []word
	depth, cases := 0, 0
	for i := 0; i < len(code); {
		c := code[i]
		switch {
		case c == '`':
			j := strings.IndexByte(code[i+1:], '`')
			if j < 0 {
				return out
			}
			i += j + 2
		case c == '(':
			depth++
			i++
		case c == ')':
			depth--
			i++
		case isWordByte(c):
			j := i
			for j < len(code) && isWordByte(code[j]) {
				j++
			}
			w := strings.ToUpper(code[i:j])
			if depth == 0 {
				switch {
				case w == "CASE":
					cases++
				case w == "END" && cases > 0:
					cases--
				case cases == 0:
					out = append(out, word{w, i, j})
				}
			}
			i = j
		default:
			i++
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c == '@' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// parseMerge parses a MERGE statement.
func parseMerge(st string) (*mergeStmt, *apiError) {
	invalid := func(format string, args ...any) (*mergeStmt, *apiError) {
		return nil, errorf(http.StatusBadRequest, "invalidQuery", "fakebq: MERGE: "+format, args...)
	}
	code, lits := stripStrings(st)
	part := func(from, to int) string { return strings.TrimSpace(restoreStrings(code[from:to], lits)) }
	ws := topWords(code)
	find := func(from int, text string) int {
		for i := from; i < len(ws); i++ {
			if ws[i].text == text {
				return i
			}
		}
		return -1
	}
	if len(ws) == 0 || ws[0].text != "MERGE" {
		return invalid("not a MERGE")
	}
	m := &mergeStmt{}
	// The target: a backquoted name after MERGE [INTO], then [AS] alias.
	rest := ws[0].end
	if len(ws) > 1 && ws[1].text == "INTO" {
		rest = ws[1].end
	}
	using := find(1, "USING")
	on := find(1, "ON")
	if using < 0 || on < using {
		return invalid("USING … ON … is required")
	}
	var ok bool
	if m.target, m.targetAlias, ok = splitAlias(part(rest, ws[using].start)); !ok {
		return invalid("the target needs an alias (MERGE `p.d.t` AS t …)")
	}
	if m.source, m.sourceAlias, ok = splitAlias(part(ws[using].end, ws[on].start)); !ok {
		return invalid("the source needs an alias (USING (…) AS s …)")
	}
	var whens []int
	for i := on + 1; i < len(ws); i++ {
		if ws[i].text == "WHEN" {
			whens = append(whens, i)
		}
	}
	if len(whens) == 0 {
		return invalid("no WHEN clause")
	}
	m.on = part(ws[on].end, ws[whens[0]].start)
	for k, wi := range whens {
		end := len(code)
		last := len(ws)
		if k+1 < len(whens) {
			end, last = ws[whens[k+1]].start, whens[k+1]
		}
		var c mergeClause
		i := wi + 1
		switch {
		case i < last && ws[i].text == "MATCHED":
			c.matched = true
			i++
		case i+1 < last && ws[i].text == "NOT" && ws[i+1].text == "MATCHED":
			i += 2
			if i+1 < last && ws[i].text == "BY" && ws[i+1].text == "SOURCE" {
				return invalid("WHEN NOT MATCHED BY SOURCE is not emulated")
			}
			if i+1 < last && ws[i].text == "BY" && ws[i+1].text == "TARGET" {
				i += 2
			}
		default:
			return invalid("WHEN [NOT] MATCHED expected")
		}
		then := find(i, "THEN")
		if then < 0 || then >= last {
			return invalid("THEN expected")
		}
		if then > i {
			if ws[i].text != "AND" {
				return invalid("AND or THEN expected after MATCHED")
			}
			c.cond = part(ws[i].end, ws[then].start)
		}
		if then+1 >= last {
			return invalid("an action is expected after THEN")
		}
		act := ws[then+1]
		c.action = act.text
		switch act.text {
		case "UPDATE":
			if !c.matched || then+2 >= last || ws[then+2].text != "SET" {
				return invalid("UPDATE SET is allowed only WHEN MATCHED")
			}
			c.set = part(ws[then+2].end, end)
		case "DELETE":
			if !c.matched {
				return invalid("DELETE is allowed only WHEN MATCHED")
			}
			if part(act.end, end) != "" {
				return invalid("DELETE takes nothing after it")
			}
		case "INSERT":
			if c.matched {
				return invalid("INSERT is allowed only WHEN NOT MATCHED")
			}
			values := find(then+2, "VALUES")
			if then+2 < last && ws[then+2].text == "ROW" {
				return invalid("INSERT ROW is not emulated")
			}
			if values < 0 || values >= last {
				return invalid("INSERT (columns) VALUES (…) expected")
			}
			c.cols, c.values = part(act.end, ws[values].start), part(ws[values].end, end)
			if !strings.HasPrefix(c.cols, "(") || !strings.HasPrefix(c.values, "(") {
				return invalid("INSERT (columns) VALUES (…) expected")
			}
		default:
			return invalid("UPDATE, DELETE or INSERT expected after THEN, not %s", act.text)
		}
		m.clauses = append(m.clauses, c)
	}
	return m, nil
}

// splitAlias splits "name [AS] alias".
func splitAlias(s string) (name, alias string, ok bool) {
	i := strings.LastIndexAny(s, " \t\r\n")
	if i < 0 {
		return s, "", false
	}
	name, alias = strings.TrimSpace(s[:i]), s[i+1:]
	if !isIdent(alias) || strings.EqualFold(alias, "AS") {
		return s, "", false
	}
	// An optional AS before the alias.
	if n := len(name); n >= 3 && strings.EqualFold(name[n-2:], "AS") && strings.ContainsAny(name[n-3:n-2], " \t\r\n)`") {
		name = strings.TrimSpace(name[:n-2])
	}
	return name, alias, name != ""
}

func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= '0' && c <= '9' && i > 0 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

// execer is a transaction or the database.
type execer interface {
	Exec(query string, args ...any) (sql.Result, error)
	Query(query string, args ...any) (*sql.Rows, error)
}

// merge runs a MERGE statement and returns the rows it affected. s.mu is
// held; ex is the script's transaction, or the database when there is none
// (the MERGE then gets one of its own).
func (s *Server) merge(ex execer, st string, params map[string]any) (int64, *apiError) {
	m, perr := parseMerge(st)
	if perr != nil {
		return 0, perr
	}
	if tx, ok := ex.(*sql.DB); ok {
		t, err := tx.Begin()
		if err != nil {
			return 0, errorf(http.StatusInternalServerError, "internalError", "fakebq: %v", err)
		}
		n, aerr := s.runMerge(t, m, params)
		if aerr != nil {
			t.Rollback()
			return 0, aerr
		}
		if err := t.Commit(); err != nil {
			return 0, errorf(http.StatusInternalServerError, "internalError", "fakebq: %v", err)
		}
		return n, nil
	}
	return s.runMerge(ex, m, params)
}

const (
	mergeSource = "_fakebq_merge_source"
	mergePairs  = "_fakebq_merge_pairs"
)

func (s *Server) runMerge(ex execer, m *mergeStmt, params map[string]any) (int64, *apiError) {
	run := func(gsql string) (sql.Result, *apiError) {
		q, err := s.translate(gsql, params)
		if err != nil {
			return nil, err
		}
		out, xerr := ex.Exec(q, bindArgs(q, params)...)
		if xerr != nil {
			return nil, errorf(http.StatusBadRequest, "invalidQuery", "%v (in MERGE, as %s)", xerr, q)
		}
		return out, nil
	}
	defer ex.Exec("DROP TABLE IF EXISTS temp." + mergeSource)
	defer ex.Exec("DROP TABLE IF EXISTS temp." + mergePairs)
	source := m.source
	if !strings.HasPrefix(source, "(") {
		source = "(SELECT * FROM " + source + ")"
	}
	if _, err := run("CREATE TEMP TABLE " + mergeSource + " AS SELECT * FROM " + source + " AS " + m.sourceAlias); err != nil {
		return 0, err
	}
	// Each pair of rows that satisfies ON, with the first matched clause
	// that applies to it (0: none).
	which := "0"
	if cases := matchedCases(m.clauses); cases != "" {
		which = "CASE " + cases + " ELSE 0 END"
	}
	if _, err := run("CREATE TEMP TABLE " + mergePairs + " AS SELECT " + m.targetAlias + ".rowid AS trow, " +
		m.sourceAlias + ".rowid AS srow, " + which + " AS clause FROM " + m.target + " AS " + m.targetAlias +
		" JOIN " + mergeSource + " AS " + m.sourceAlias + " ON (" + m.on + ")"); err != nil {
		return 0, err
	}
	rows, err := ex.Query("SELECT 1 FROM " + mergePairs + " WHERE clause > 0 GROUP BY trow HAVING count(*) > 1 LIMIT 1")
	if err != nil {
		return 0, errorf(http.StatusInternalServerError, "internalError", "fakebq: %v", err)
	}
	dup := rows.Next()
	rows.Close()
	if dup {
		return 0, errorf(http.StatusBadRequest, "invalidQuery", "UPDATE/MERGE must match at most one source row for each target row")
	}
	var affected int64
	count := func(r sql.Result) {
		n, _ := r.RowsAffected()
		affected += n
	}
	var notMatched []string // earlier NOT MATCHED conditions
	for k, c := range m.clauses {
		var out sql.Result
		var aerr *apiError
		switch c.action {
		case "UPDATE":
			out, aerr = run("UPDATE " + m.target + " AS " + m.targetAlias + " SET " + c.set + " FROM " + mergeSource + " AS " +
				m.sourceAlias + ", " + mergePairs + " AS _p WHERE _p.trow = " + m.targetAlias + ".rowid AND _p.srow = " +
				m.sourceAlias + ".rowid AND _p.clause = " + itoa(k+1))
		case "DELETE":
			out, aerr = run("DELETE FROM " + m.target + " WHERE rowid IN (SELECT trow FROM " + mergePairs + " WHERE clause = " + itoa(k+1) + ")")
		case "INSERT":
			where := m.sourceAlias + ".rowid NOT IN (SELECT srow FROM " + mergePairs + ")"
			for _, prev := range notMatched {
				where += " AND NOT COALESCE((" + prev + "), FALSE)"
			}
			cond := c.cond
			if cond == "" {
				cond = "TRUE"
			}
			notMatched = append(notMatched, cond)
			values := strings.TrimSuffix(strings.TrimPrefix(c.values, "("), ")")
			out, aerr = run("INSERT INTO " + m.target + " " + c.cols + " SELECT " + values + " FROM " + mergeSource +
				" AS " + m.sourceAlias + " WHERE " + where + " AND COALESCE((" + cond + "), FALSE)")
		}
		if aerr != nil {
			return 0, aerr
		}
		count(out)
	}
	return affected, nil
}

// matchedCases returns "WHEN c THEN k …" for the matched clauses, k being
// the clause's number from 1.
func matchedCases(clauses []mergeClause) string {
	var b strings.Builder
	for k, c := range clauses {
		if !c.matched {
			continue
		}
		cond := c.cond
		if cond == "" {
			cond = "TRUE"
		}
		b.WriteString("WHEN COALESCE((" + cond + "), FALSE) THEN " + itoa(k+1) + " ")
	}
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }
