package config_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kantproject/kant/config"
)

// maxFuzzConfig bounds the files the fuzz targets try: real configs are a
// few KB, and YAML's cost grows faster than its size.
const maxFuzzConfig = 8 << 10

// addConfigSeeds adds the example configs of testdata to f.
func addConfigSeeds(f *testing.F) [][]byte {
	paths, _ := filepath.Glob("testdata/*.yaml")
	var seeds [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	seeds = append(seeds, []byte(""), []byte("listen: [1]\n"), []byte("store:\n  postgres:\n"),
		[]byte("slos:\n  - name: a\n    jobs: [x/*]\n    schedule: \"0 1 * * *\"\n    deadline: \"06:00\"\n    tolerance: 106751d23h59m\n"),
		[]byte("a: \x01\n"), []byte("\xff"), []byte("--- \n--- \n"), []byte("tokens: {write: [&a x, *a]}\n"))
	return seeds
}

// FuzzParse checks that every config is either accepted or rejected with
// problems that each name a line of the file, sorted by line, and that
// parsing is deterministic.
func FuzzParse(f *testing.F) {
	for _, s := range addConfigSeeds(f) {
		f.Add(s)
	}
	vars := env(map[string]string{"KANT_WRITE_TOKEN": "write-token", "SLACK_BOT_TOKEN": "xoxb-1",
		"AIRFLOW_PASSWORD": "pw", "KANT_READ_TOKEN": "read-token"})
	f.Fuzz(func(t *testing.T, doc []byte) {
		if len(doc) > maxFuzzConfig {
			t.Skip()
		}
		c, err := config.Parse("kant.yaml", bytes.NewReader(doc), vars)
		if err == nil {
			if c == nil {
				t.Fatal("Parse returned neither a config nor an error")
			}
			c2, err := config.Parse("kant.yaml", bytes.NewReader(doc), vars)
			if err != nil || c2.Summary() != c.Summary() {
				t.Fatalf("a second Parse differs: %v\n%s\n---\n%s", err, c.Summary(), c2.Summary())
			}
			return
		}
		if c != nil {
			t.Fatalf("Parse returned a config and an error: %v", err)
		}
		var errs *config.Errors
		if !errors.As(err, &errs) || errs.Len() == 0 {
			t.Fatalf("Parse error %v (%T) is not a list of problems", err, err)
		}
		lines := yamlLines(doc)
		prev := 0
		for _, p := range errs.Problems {
			if p.Line < 1 || p.Line > lines {
				t.Fatalf("problem %q names line %d of a %d-line file\n%q", p, p.Line, lines, doc)
			}
			if p.Line < prev {
				t.Fatalf("problems not sorted by line:\n%v", err)
			}
			prev = p.Line
			if p.File != "kant.yaml" || p.Message == "" {
				t.Fatalf("problem %#v names no file or says nothing", p)
			}
		}
	})
}

// secretPlaces are the keys that hold secrets, each with ${SECRET} in it,
// in a config that parses when the secret is good.
var secretPlaces = []string{
	"tokens:\n  write: [\"${SECRET}\"]\n",
	"tokens:\n  read: [\"${SECRET}\"]\n",
	"store:\n  postgres: {dsn: \"postgres://kant:${SECRET}@db/kant\"}\n", // a DSN is shown without its password
	"store:\n  postgres: {dsn: \"host=db password=${SECRET} dbname=kant\"}\n",
	"alerts:\n  slack: {token: \"${SECRET}\", channel: \"#a\"}\n",
	"alerts:\n  slack: {webhook_url: \"${SECRET}\"}\n",
	"sources:\n  - {name: p, type: airflow, url: \"https://a.example\", auth: bearer, username: u, password: \"${SECRET}\"}\n",
	"sources:\n  - {name: p, type: airflow, url: \"https://a.example\", auth: bearer, token: \"${SECRET}\"}\n",
	"tokens:\n  write: ${SECRET}\n",
	"tokens:\n  write: [{t: \"${SECRET}\"}]\n",
}

// oddVerbs prints a config with verbs fmt cannot apply to all its fields.
var oddVerbs = "%d %x %q"

// FuzzSecretsNeverInErrors puts any value of an environment variable in
// any key that holds a secret, next to any other mistakes, and checks that
// neither the problems nor the accepted config's summary or printed forms
// ever show it.
func FuzzSecretsNeverInErrors(f *testing.F) {
	for i := range secretPlaces {
		f.Add("xoxb-s3cr3t-value", uint8(i), "")
		f.Add("https://hooks.slack.com/services/T/B/s3cr3t", uint8(i), "listen: [1]\n")
		f.Add("s3cr3t: {value} \"with\" [yaml]\n#chars", uint8(i), "frobnicate: 1\n")
		f.Add("postgres://kant:s3cr3t@db/kant", uint8(i), "slos: []\n")
	}
	f.Fuzz(func(t *testing.T, secret string, place uint8, rest string) {
		if len(secret) < 6 || len(secret)+len(rest) > maxFuzzConfig || strings.Contains(rest, "$") {
			t.Skip() // short values may be any word of a message
		}
		doc := secretPlaces[int(place)%len(secretPlaces)] + rest
		if strings.Contains(doc, secret) {
			t.Skip()
		}
		c, err := config.Parse("kant.yaml", strings.NewReader(doc), env(map[string]string{"SECRET": secret}))
		var shown []string
		if err != nil {
			shown = append(shown, err.Error())
		} else {
			shown = append(shown, c.Summary(), fmtAll(c), fmtAll(*c), fmt.Sprintf(oddVerbs, c, *c, *c))
		}
		quoted := strconv.Quote(secret)
		quoted = quoted[1 : len(quoted)-1]
		hex := fmt.Sprintf("%x", secret)
		for _, s := range shown {
			if strings.Contains(s, secret) || strings.Contains(s, quoted) || strings.Contains(s, hex) {
				t.Fatalf("the secret %q shows in:\n%s\nconfig:\n%s", secret, s, doc)
			}
		}
	})
}

// yamlLines counts the lines of doc as YAML does: "\n", "\r\n", a lone
// "\r", U+0085, U+2028 and U+2029 each end a line.
func yamlLines(doc []byte) int {
	s := strings.ReplaceAll(string(doc), "\r\n", "\n")
	n := 1
	for _, r := range s {
		switch r {
		case '\n', '\r', 0x85, 0x2028, 0x2029:
			n++
		}
	}
	return n
}
