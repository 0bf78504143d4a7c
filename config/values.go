package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ParseDuration parses a Go duration ("30s", "5m", "1h30m") optionally
// preceded by a whole number of days ("7d", "1d12h").
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("bad duration %q: want a number and a unit (s, m, h or d), like 30s, 5m or 7d", s)
	rest := s
	var days time.Duration
	neg := strings.HasPrefix(s, "-")
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n > int64(1<<63-1)/int64(24*time.Hour) || n < -int64(1<<63-1)/int64(24*time.Hour) {
			return 0, bad
		}
		days = time.Duration(n) * 24 * time.Hour
		rest = s[i+1:]
		if rest == "" {
			return days, nil
		}
		if rest[0] == '-' || rest[0] == '+' {
			return 0, bad
		}
	}
	dur, err := time.ParseDuration(rest)
	if err != nil {
		return 0, bad
	}
	if neg && rest != s {
		dur = -dur // "-1d2h" is minus a day and two hours
	}
	total := days + dur
	if (days > 0 && dur > 0 && total < 0) || (days < 0 && dur < 0 && total >= 0) {
		return 0, fmt.Errorf("bad duration %q: longer than %s", s, formatDuration(1<<63-1))
	}
	return total, nil
}

// formatDuration writes d the way it would be written in the file: "7d",
// "1d12h", "30s", "1h30m".
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	const day = 24 * time.Hour
	if d >= day {
		fmt.Fprintf(&b, "%dd", d/day)
		d %= day
	}
	if d > 0 {
		s := d.String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		b.WriteString(s)
	}
	return b.String()
}

// withValue phrases a parse error of value as `what "value": reason`. The
// slo parsers start their messages with their own `name "value": `, which
// is replaced so that the key path and the message do not stutter.
func withValue(what, value string, err error) string {
	msg, q := err.Error(), strconv.Quote(value)
	if i := strings.Index(msg, q+": "); i >= 0 {
		msg = msg[i+len(q)+2:]
	}
	return fmt.Sprintf("%s %s: %s", what, q, msg)
}

// resolve follows YAML aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names the kind of a node for type errors. It never shows the
// node's value.
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch {
	case isNull(n):
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	}
	return "a string"
}

// str reads a scalar as a string, expanding ${ENV} and ${FILE:/path} in
// string scalars. ok is
// false (and a problem recorded) when n is not a scalar or expansion failed.
// Messages show the variable's name, never its value.
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "want a string, got %s", describe(n))
		return "", false
	}
	if n.Tag != "!!str" {
		return n.Value, true
	}
	s, err := expand(n.Value, d.getenv)
	if err != nil {
		d.errorf(n, path, "%s", err)
		return "", false
	}
	return s, true
}

// secret is str for values that must never be shown. str never shows a
// value in its messages; secret exists so that call sites say so.
func (d *decoder) secret(n *yaml.Node, path string) (string, bool) { return d.str(n, path) }

// seq returns the items of a list node; ok is false (and a problem
// recorded) when n is not a list. A null node is an empty list.
func (d *decoder) seq(n *yaml.Node, path string) (items []*yaml.Node, ok bool) {
	n = resolve(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list, got %s", describe(n))
		return nil, false
	}
	return n.Content, true
}

// mapping is a YAML mapping being decoded: its keys, in order, with the
// nodes of their keys and values.
type mapping struct {
	d     *decoder
	node  *yaml.Node
	path  string
	order []string
	key   map[string]*yaml.Node
	val   map[string]*yaml.Node
	// suggested holds the known keys that an unknown key was taken to be a
	// misspelling of, so that they are not also reported missing.
	suggested map[string]bool
}

// mapping checks that n is a mapping with distinct string keys and returns
// it; nil (and a problem) when n is not a mapping. A null node is an empty
// mapping.
func (d *decoder) mapping(n *yaml.Node, path string) *mapping {
	n = resolve(n)
	m := &mapping{d: d, node: n, path: path, key: map[string]*yaml.Node{}, val: map[string]*yaml.Node{}, suggested: map[string]bool{}}
	if isNull(n) {
		return m
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping, got %s", describe(n))
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "keys must be strings, got %s", describe(k))
			continue
		}
		if k.Tag == "!!merge" {
			d.errorf(k, path, "merge keys (<<) are not supported")
			continue
		}
		if first, dup := m.key[k.Value]; dup {
			d.errorf(k, join(path, k.Value), "duplicate key (first at line %d)", first.Line)
			continue
		}
		m.order = append(m.order, k.Value)
		m.key[k.Value] = k
		m.val[k.Value] = v
	}
	return m
}

// only reports every key of m that is not in known, suggesting the closest
// known key when one is near.
func (m *mapping) only(known ...string) {
	for _, k := range m.order {
		if slices.Contains(known, k) {
			continue
		}
		if s := closest(k, known); s != "" && !m.has(s) {
			m.suggested[s] = true
			m.d.errorf(m.key[k], m.path, "unknown key %q (did you mean %q?)", k, s)
		} else {
			m.d.errorf(m.key[k], m.path, "unknown key %q (known: %s)", k, strings.Join(known, ", "))
		}
	}
}

// require reports each key that m lacks, unless an unknown key was taken
// to be its misspelling.
func (m *mapping) require(keys ...string) {
	for _, k := range keys {
		switch {
		case m.suggested[k]:
		case !m.has(k):
			m.d.errorf(m.node, m.path, "missing required key %q", k)
		case isNull(m.val[k]):
			m.d.errorf(m.key[k], join(m.path, k), "required, got nothing")
		}
	}
}

// has reports whether key is present, even with a null value.
func (m *mapping) has(key string) bool {
	_, ok := m.key[key]
	return ok
}

// get returns the value of key and its path; a nil node when key is absent
// or null.
func (m *mapping) get(key string) (*yaml.Node, string) {
	v := m.val[key]
	if isNull(v) {
		return nil, join(m.path, key)
	}
	return v, join(m.path, key)
}

// block returns the value of key and its path like get, but a null value
// as its node: a block that must be a mapping even when empty ("postgres:"
// alone), so that what it lacks is reported at its line.
func (m *mapping) block(key string) (*yaml.Node, string) {
	return m.val[key], join(m.path, key)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// closest returns the candidate nearest to s by edit distance when it is
// near enough to be a likely misspelling, or "".
func closest(s string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		dist := editDistance(strings.ToLower(s), strings.ToLower(c))
		if best == "" || dist < bestDist {
			best, bestDist = c, dist
		}
	}
	limit := min(2, max(1, len(s)/3))
	if best == "" || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// characters each cost 1, so "hegle" is 1 from "hegel".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j] is the distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// expand replaces ${NAME} and ${NAME:-default} in s with values from getenv,
// and ${FILE:/path} with the contents of the file at that absolute path
// (a mounted secret), less its trailing line breaks. "$${" is a literal
// "${"; any other "$" is kept. A variable that is unset or empty with no
// default is an error naming it, as is a file that cannot be read or is
// empty. Errors never show s, a variable's value or a file's contents.
func expand(s string, getenv func(string) string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", errors.New("unterminated ${ (write $${ for a literal ${)")
		}
		expr := s[i+2 : i+end]
		s = s[i+end+1:]
		if path, ok := strings.CutPrefix(expr, "FILE:"); ok && strings.HasPrefix(path, "/") {
			v, err := readSecretFile(path)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			continue
		}
		name, def, hasDef := strings.Cut(expr, ":-")
		if !validEnvName(name) {
			return "", errors.New("bad environment variable name in ${...}: want letters, digits and _")
		}
		v := getenv(name)
		if v == "" {
			if !hasDef {
				return "", fmt.Errorf("environment variable %s is not set (write ${%s:-default} for a default)", name, name)
			}
			v = def
		}
		b.WriteString(v)
	}
}

// maxSecretFile bounds what ${FILE:/path} reads: a secret, not a data set.
const maxSecretFile = 1 << 20

// readSecretFile reads the file that ${FILE:path} names, as mounted from a
// Kubernetes Secret or a Docker secret, without its trailing line breaks.
// Its errors name the path, never the contents.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read ${FILE:%s}: %w", path, pathErr(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("cannot read ${FILE:%s}: %w", path, pathErr(err))
	}
	if len(data) > maxSecretFile {
		return "", fmt.Errorf("${FILE:%s} is larger than 1 MiB", path)
	}
	v := strings.TrimRight(string(data), "\r\n")
	if v == "" {
		return "", fmt.Errorf("${FILE:%s} is empty", path)
	}
	return v, nil
}

// pathErr drops the operation and path that *fs.PathError repeats.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// boolean reads true or false. A quoted value (as from ${ENV}) is accepted.
func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return false, false
	}
	switch strings.TrimSpace(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	d.errorf(n, path, "want true or false, got %q", s)
	return false, false
}

// strs reads a list of strings. When ifEmpty is set, an empty list is a
// problem with that message.
func (d *decoder) strs(n *yaml.Node, path, ifEmpty string) []string {
	items, ok := d.seq(n, path)
	if ok && len(items) == 0 && ifEmpty != "" {
		d.errorf(n, path, "%s", ifEmpty)
	}
	var out []string
	for i, item := range items {
		if s, ok := d.str(item, fmt.Sprintf("%s[%d]", path, i)); ok {
			out = append(out, s)
		}
	}
	return out
}
