package slack_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
	kslack "github.com/kantproject/kant/alert/slack"
)

// Slack's Block Kit limits, in characters.
const (
	slackMaxBlocks      = 50
	slackSectionText    = 3000
	slackFieldText      = 2000
	slackFields         = 10
	slackContextText    = 2000
	slackContextElement = 10
)

// checkText fails unless text is a non-empty, valid UTF-8 text of at most
// max characters.
func checkText(t *testing.T, what, text string, max int) {
	t.Helper()
	switch {
	case !utf8.ValidString(text):
		t.Fatalf("%s is not valid UTF-8: %q", what, text)
	case strings.TrimSpace(text) == "":
		t.Fatalf("%s is empty", what)
	case utf8.RuneCountInString(text) > max:
		t.Fatalf("%s has %d characters, more than Slack's %d", what, utf8.RuneCountInString(text), max)
	}
}

// FuzzBlocks renders messages of any job names, error messages, owners and
// links, with any number of fields, and checks that they are valid Block
// Kit within Slack's limits: at most 50 blocks, each a section or a
// context, every text valid UTF-8 and within its cap, and JSON that reads
// back as the same blocks.
func FuzzBlocks(f *testing.F) {
	f.Add("hegel/export_orders failed", "Error", "java.lang.OutOfMemoryError ```x```", "@data-platform", "Run", "https://kant.example/jobs/x", uint8(3), uint8(2), false)
	f.Add(strings.Repeat("日", 1100), "Job", strings.Repeat("<&>", 1000), "<@U123>", "", "", uint8(60), uint8(30), false)
	f.Add("", "", "", "", "", "", uint8(0), uint8(0), true)
	f.Add("a\xffb", "Last error", strings.Repeat("\xe6\x97", 2000), "@here", "x|y", "h\xff", uint8(12), uint8(1), false)
	labels := []string{"Error", "Also affected", "Last error", "Attainment", "Job", "Date", "Deadline", "Owner"}
	f.Fuzz(func(t *testing.T, text, label, value, owner, linkText, linkURL string, fields, links uint8, reply bool) {
		if len(text)+len(label)+len(value)+len(owner)+len(linkText)+len(linkURL) > 8<<10 {
			t.Skip()
		}
		m := alert.Message{Kind: alert.KindFailed, Status: kant.AlertOpen, Text: text, Owner: owner, Reply: reply}
		for i := range int(fields % 64) { // past 50 blocks, more say nothing new
			l := label
			if i%2 == 1 {
				l = labels[i/2%len(labels)]
			}
			m.Fields = append(m.Fields, kant.AlertField{Label: l, Value: value})
		}
		for range int(links % 16) {
			m.Links = append(m.Links, kant.AlertLink{Text: linkText, URL: linkURL})
		}
		blocks := kslack.Blocks(m)
		if len(blocks) == 0 || len(blocks) > slackMaxBlocks {
			t.Fatalf("%d blocks, want 1 to %d", len(blocks), slackMaxBlocks)
		}
		for i, b := range blocks {
			switch b := b.(type) {
			case *slack.SectionBlock:
				if b.Text == nil && len(b.Fields) == 0 {
					t.Fatalf("block %d: a section with neither text nor fields", i)
				}
				if b.Text != nil {
					checkText(t, "section text", b.Text.Text, slackSectionText)
				}
				if len(b.Fields) > slackFields {
					t.Fatalf("block %d: %d fields, more than Slack's %d", i, len(b.Fields), slackFields)
				}
				for _, fl := range b.Fields {
					checkText(t, "field", fl.Text, slackFieldText)
				}
			case *slack.ContextBlock:
				els := b.ContextElements.Elements
				if len(els) == 0 || len(els) > slackContextElement {
					t.Fatalf("block %d: %d context elements, want 1 to %d", i, len(els), slackContextElement)
				}
				for _, e := range els {
					o, ok := e.(*slack.TextBlockObject)
					if !ok {
						t.Fatalf("block %d: context element %T", i, e)
					}
					checkText(t, "context element", o.Text, slackContextText)
				}
			default:
				t.Fatalf("block %d: %T, want a section or a context", i, b)
			}
		}
		b, err := json.Marshal(slack.Blocks{BlockSet: blocks})
		if err != nil {
			t.Fatal(err)
		}
		var back slack.Blocks
		if err := json.Unmarshal(b, &back); err != nil || len(back.BlockSet) != len(blocks) {
			t.Fatalf("the blocks' JSON reads back as %d blocks, %v:\n%s", len(back.BlockSet), err, b)
		}
		for i := range blocks {
			if back.BlockSet[i].BlockType() != blocks[i].BlockType() {
				t.Fatalf("block %d reads back as %s, was %s", i, back.BlockSet[i].BlockType(), blocks[i].BlockType())
			}
		}
	})
}

func TestBlocksStayWithinSlacksLimits(t *testing.T) {
	many := func(n int, f kant.AlertField) []kant.AlertField {
		out := make([]kant.AlertField, n)
		for i := range out {
			out[i] = f
		}
		return out
	}
	for _, tt := range []struct {
		name string
		m    alert.Message
	}{
		{"sixty errors make at most fifty blocks", alert.Message{Text: "x", Fields: many(60, kant.AlertField{Label: "Error", Value: "boom"})}},
		{"thirty links make a context of at most ten elements", alert.Message{Text: "x", Links: make([]kant.AlertLink, 30)}},
		{"an empty reply is not an empty text", alert.Message{Reply: true}},
		{"a headline that is not UTF-8 is made valid", alert.Message{Text: "a\xffb"}},
		{"an owner of 3000 characters is cut to Slack's context cap", alert.Message{Text: "x", Owner: strings.Repeat("o", 3000)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			blocks := kslack.Blocks(tt.m)
			if len(blocks) > slackMaxBlocks {
				t.Fatalf("%d blocks", len(blocks))
			}
			for _, b := range blocks {
				switch b := b.(type) {
				case *slack.SectionBlock:
					if b.Text != nil {
						checkText(t, "section text", b.Text.Text, slackSectionText)
					}
				case *slack.ContextBlock:
					if n := len(b.ContextElements.Elements); n > slackContextElement {
						t.Fatalf("%d context elements", n)
					}
					for _, e := range b.ContextElements.Elements {
						checkText(t, "context element", e.(*slack.TextBlockObject).Text, slackContextText)
					}
				}
			}
		})
	}
}
