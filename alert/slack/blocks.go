package slack

import (
	"strings"

	"github.com/slack-go/slack"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/alert"
)

// Slack's limits on Block Kit: characters of a section's text, of a
// field's and of a context element's, fields in a section, elements in a
// context block, blocks in a message. Texts are cut in bytes, which are
// never fewer than characters.
const (
	maxSectionText  = 3000
	maxFieldText    = 2000
	maxFields       = 10
	maxContextText  = 2000
	maxContextElems = 10
	maxBlocks       = 50
)

// longFields are shown as their own sections, not in the two-column grid.
var longFields = map[string]bool{"Error": true, "Also affected": true, "Last error": true,
	"Attainment": true, "Late and failed": true, "Closest to their deadline": true}

// Blocks returns m as Block Kit: the headline, a grid of short fields, a
// section per long field (errors in a code block), and a context line with
// the owner and links. A reply is its note alone.
func Blocks(m alert.Message) []slack.Block {
	if m.Reply {
		return []slack.Block{section(escape(m.Text))}
	}
	blocks := []slack.Block{section(emoji(m) + " *" + escape(m.Text) + "*")}
	var grid []*slack.TextBlockObject
	var long []slack.Block
	for _, f := range m.Fields {
		switch {
		case f.Label == "Owner":
			continue // in the context line, as a mention
		case longFields[f.Label]:
			v := escape(f.Value)
			if f.Label == "Error" || f.Label == "Last error" {
				v = "```" + strings.ReplaceAll(v, "```", "'''") + "```"
			}
			long = append(long, section("*"+escape(f.Label)+"*\n"+v))
		case len(grid) < maxFields:
			grid = append(grid, mrkdwn(clip("*"+escape(f.Label)+"*\n"+escape(f.Value), maxFieldText)))
		}
	}
	if len(grid) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(nil, grid, nil))
	}
	// The headline, the grid and the context line leave the rest of the
	// message's blocks to the long fields.
	if room := maxBlocks - len(blocks) - 1; len(long) > room {
		long = long[:room]
	}
	blocks = append(blocks, long...)
	var ctx []slack.MixedElement
	if m.Owner != "" {
		ctx = append(ctx, mrkdwn(clip("Owner: "+mention(m.Owner), maxContextText)))
	}
	for _, l := range m.Links {
		if len(ctx) == maxContextElems {
			break
		}
		ctx = append(ctx, mrkdwn(clip("<"+valid(l.URL)+"|"+escape(l.Text)+">", maxContextText)))
	}
	if len(ctx) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", ctx...))
	}
	return blocks
}

// Fallback is the notification text of m: the headline and the owner.
func Fallback(m alert.Message) string {
	if m.Reply || m.Owner == "" {
		return m.Text
	}
	return m.Text + " " + mention(m.Owner)
}

func section(text string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(clip(text, maxSectionText)), nil, nil)
}

func mrkdwn(text string) *slack.TextBlockObject {
	if strings.TrimSpace(text) == "" {
		text = "-" // Slack refuses a text object without text
	}
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, false)
}

func emoji(m alert.Message) string {
	switch {
	case m.Kind == alert.KindDigest:
		return ":bar_chart:"
	case m.Kind == alert.KindLate:
		return ":large_yellow_circle:"
	case m.Kind == alert.KindRerun:
		return ":repeat:"
	case m.Status == kant.AlertResolved:
		return ":large_green_circle:"
	case m.Kind == alert.KindStale || m.Kind == alert.KindBudget || m.Kind == alert.KindFlapping || m.Kind == alert.KindAtRisk:
		return ":warning:"
	}
	return ":red_circle:"
}

// mention turns an owner into a Slack mention where it can: "@here",
// "@channel" and "@everyone" become special mentions, "<@U…>" and
// "<!subteam^…>" are kept; a plain "@name" is shown as it is (Slack
// resolves user group handles only given their ID).
func mention(owner string) string {
	switch owner {
	case "@here", "@channel", "@everyone":
		return "<!" + owner[1:] + ">"
	}
	if strings.HasPrefix(owner, "<@") || strings.HasPrefix(owner, "<!") {
		return valid(owner)
	}
	return escape(owner)
}

// escape escapes Slack's control characters in mrkdwn, and makes s valid
// UTF-8.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(valid(s))
}

// valid replaces each run of bytes of s that are not UTF-8 by U+FFFD.
func valid(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
