// Package slack delivers kant alerts to Slack: with a bot token through
// chat.postMessage and chat.update (one message per incident, replies in its
// thread), or through an incoming webhook (posts only). Messages are Block
// Kit with a plain-text fallback. Errors are classed for alert.Engine:
// rate limits (429 or "ratelimited", with Retry-After), 5xx, and network
// errors are retryable; anything else is not. The token and webhook URL
// never appear in errors or logs.
//
// It imports kant, alert and github.com/slack-go/slack; nothing else of
// kant's.
package slack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/kantproject/kant/alert"
)

// Config configures a Notifier. Exactly one of Token and WebhookURL is
// required.
type Config struct {
	Token      string // bot token (xoxb-…): post, update, threads
	WebhookURL string // incoming webhook: post only
	// APIURL is the Web API base, e.g. https://slack.com/api/ (the default)
	// or a GovSlack or proxy address.
	APIURL string
	// HTTPClient makes the requests; default a client with a 30s timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger // default discards
}

// Notifier sends alert messages to Slack. It implements alert.Notifier.
type Notifier struct {
	api     *slack.Client
	webhook string
	http    *http.Client
	log     *slog.Logger

	mu       sync.Mutex
	channels map[string]string // "#name" → channel ID, for Find
}

var (
	_ alert.Notifier = (*Notifier)(nil)
	_ alert.Finder   = (*Notifier)(nil)
)

// New validates cfg and returns a Notifier.
func New(cfg Config) (*Notifier, error) {
	switch {
	case cfg.Token == "" && cfg.WebhookURL == "":
		return nil, errors.New("slack: a token or a webhook URL is required")
	case cfg.Token != "" && cfg.WebhookURL != "":
		return nil, errors.New("slack: a token and a webhook URL are both set; choose one")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{webhook: cfg.WebhookURL, http: cfg.HTTPClient, log: cfg.Logger.With("component", "slack")}
	if cfg.WebhookURL != "" {
		if u, err := url.Parse(cfg.WebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, errors.New("slack: webhook URL must be an http(s) URL")
		}
		return n, nil
	}
	opts := []slack.Option{slack.OptionHTTPClient(cfg.HTTPClient), slack.OptionLog(log.New(io.Discard, "", 0))}
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("slack: api_url %q must be an http(s) URL", cfg.APIURL)
		}
		opts = append(opts, slack.OptionAPIURL(strings.TrimRight(cfg.APIURL, "/")+"/"))
	}
	n.api = slack.New(cfg.Token, opts...)
	return n, nil
}

// Post sends m as a new message. With a token it returns the channel ID and
// the message ts; with a webhook both are "".
func (n *Notifier) Post(ctx context.Context, m alert.Message) (string, string, error) {
	blocks := Blocks(m)
	if n.api == nil {
		err := slack.PostWebhookCustomHTTPContext(ctx, n.webhook, n.http, &slack.WebhookMessage{
			Text: Fallback(m), Blocks: &slack.Blocks{BlockSet: blocks}})
		if err != nil {
			return "", "", classify("slack webhook post "+m.AlertID, redact(err, n.webhook))
		}
		return "", "", nil
	}
	channel, ts, err := n.api.PostMessageContext(ctx, m.Channel,
		slack.MsgOptionText(Fallback(m), false), slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionMetadata(metadata(m)))
	if err != nil {
		return "", "", classify("slack post "+m.AlertID, err)
	}
	return channel, ts, nil
}

// Update replaces message ts in channel with m.
func (n *Notifier) Update(ctx context.Context, channel, ts string, m alert.Message) error {
	if n.api == nil {
		return &alert.Error{Err: errors.New("slack webhook: cannot update a message")}
	}
	_, _, _, err := n.api.UpdateMessageContext(ctx, channel, ts,
		slack.MsgOptionText(Fallback(m), false), slack.MsgOptionBlocks(Blocks(m)...),
		slack.MsgOptionMetadata(metadata(m)))
	if err != nil {
		return classify("slack update "+m.AlertID, err)
	}
	return nil
}

// Reply posts m in the thread of message ts in channel.
func (n *Notifier) Reply(ctx context.Context, channel, ts string, m alert.Message) error {
	if n.api == nil {
		return &alert.Error{Err: errors.New("slack webhook: cannot reply in a thread")}
	}
	_, _, err := n.api.PostMessageContext(ctx, channel, slack.MsgOptionTS(ts),
		slack.MsgOptionText(Fallback(m), false), slack.MsgOptionBlocks(Blocks(m)...))
	if err != nil {
		return classify("slack reply "+m.AlertID, err)
	}
	return nil
}

// Find looks in channel's history since the given time for the top-level
// message kant posted for alertID (by its message metadata), reading at most
// five pages. It needs a channel ID (C…, G…) and the channels:history scope:
// a channel given by name, or a webhook, finds nothing.
func (n *Notifier) Find(ctx context.Context, channel, alertID string, since time.Time) (string, string, error) {
	if n.api == nil || channel == "" {
		return "", "", nil
	}
	if strings.HasPrefix(channel, "#") {
		id, err := n.channelID(ctx, channel)
		if err != nil || id == "" {
			return "", "", err
		}
		channel = id
	}
	p := &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: 200, IncludeAllMetadata: true,
		Oldest: fmt.Sprintf("%d.000000", since.Unix())}
	for range 5 {
		res, err := n.api.GetConversationHistoryContext(ctx, p)
		if err != nil {
			return "", "", classifySearch("slack find "+alertID, err)
		}
		for _, m := range res.Messages {
			if m.Metadata.EventType == metadataType && m.Metadata.EventPayload["alert_id"] == alertID &&
				(m.ThreadTimestamp == "" || m.ThreadTimestamp == m.Timestamp) {
				return channel, m.Timestamp, nil
			}
		}
		if !res.HasMore || res.ResponseMetaData.NextCursor == "" {
			break
		}
		p.Cursor = res.ResponseMetaData.NextCursor
	}
	return "", "", nil
}

// Check reports whether Slack accepts the bot token (auth.test), for kant
// check: which bot in which workspace. A webhook cannot be checked without
// posting; Check says so.
func (n *Notifier) Check(ctx context.Context) (string, error) {
	if n.api == nil {
		return "incoming webhook (not checked: that would post a message)", nil
	}
	res, err := n.api.AuthTestContext(ctx)
	if err != nil {
		return "", classify("slack auth.test", err)
	}
	return fmt.Sprintf("bot %s in workspace %s", res.User, res.Team), nil
}

// maxChannelPages bounds the conversations.list pages read to resolve a
// channel name (1,000 channels a page).
const maxChannelPages = 20

// channelID resolves a channel name ("#data-alerts") to its ID through
// conversations.list (scope channels:read, and groups:read for private
// channels), remembering what it found; "" when no channel has the name.
func (n *Notifier) channelID(ctx context.Context, name string) (string, error) {
	n.mu.Lock()
	id, ok := n.channels[name]
	n.mu.Unlock()
	if ok {
		return id, nil
	}
	p := &slack.GetConversationsParameters{Types: []string{"public_channel", "private_channel"}, ExcludeArchived: true, Limit: 1000}
	found := map[string]string{}
	for range maxChannelPages {
		chans, cursor, err := n.api.GetConversationsContext(ctx, p)
		if err != nil {
			return "", classifySearch("slack resolve "+name, err)
		}
		for _, c := range chans {
			found["#"+c.Name] = c.ID
		}
		if cursor == "" {
			break
		}
		p.Cursor = cursor
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.channels == nil {
		n.channels = map[string]string{}
	}
	for k, v := range found {
		n.channels[k] = v
	}
	if found[name] == "" {
		n.log.Warn("slack: cannot resolve channel name to look for an interrupted post; it may be posted again",
			"channel", name)
	}
	return found[name], nil
}

const metadataType = "kant_alert"

// metadata tags a message with the alert ID, so that it can be found again
// (conversations.history with include_all_metadata).
func metadata(m alert.Message) slack.SlackMetadata {
	return slack.SlackMetadata{EventType: metadataType, EventPayload: map[string]any{"alert_id": m.AlertID}}
}

// retryableErrors are Slack error codes worth retrying.
var retryableErrors = map[string]bool{
	"ratelimited": true, "rate_limited": true, "internal_error": true, "fatal_error": true,
	"service_unavailable": true, "request_timeout": true,
}

// pauseErrors are Slack error codes that fail every message until someone
// fixes the token or the app's scopes: delivery pauses (retryable, with
// PauseAfterAuthError) instead of giving up every alert in the meantime.
var pauseErrors = map[string]bool{
	"invalid_auth": true, "not_authed": true, "token_revoked": true, "token_expired": true,
	"account_inactive": true, "missing_scope": true, "no_permission": true, "team_access_not_granted": true,
	"ekm_access_denied": true, "org_login_required": true,
}

// PauseAfterAuthError is how long delivery waits after an error of the
// token or its scopes before trying again.
const PauseAfterAuthError = 5 * time.Minute

// classifySearch classifies an error of looking for an interrupted post. A
// token or scope problem there (no channels:history, say) is not worth
// waiting for: the alert is posted again rather than held back.
func classifySearch(op string, err error) error {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && pauseErrors[se.Err] {
		return &alert.Error{Err: fmt.Errorf("%s: %w", op, err)}
	}
	return classify(op, err)
}

// classify wraps err as an *alert.Error saying whether a retry may help.
func classify(op string, err error) error {
	e := &alert.Error{Err: fmt.Errorf("%s: %w", op, err)}
	var (
		rl   *slack.RateLimitedError
		sc   slack.StatusCodeError
		se   slack.SlackErrorResponse
		nerr net.Error
	)
	switch {
	case errors.As(err, &rl):
		e.Retryable, e.RetryAfter = true, rl.RetryAfter
	case errors.As(err, &sc):
		e.Retryable = sc.Code == http.StatusTooManyRequests || sc.Code >= 500
	case errors.As(err, &se) && pauseErrors[se.Err]:
		e.Retryable, e.RetryAfter = true, PauseAfterAuthError
	case errors.As(err, &se):
		e.Retryable = retryableErrors[se.Err]
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr):
		e.Retryable = true
	case errors.Is(err, context.Canceled):
	default:
		var ue *url.Error
		e.Retryable = errors.As(err, &ue) // a transport failure
	}
	return e
}

// redact replaces the secret webhook URL in err's text.
func redact(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redacted{msg: strings.ReplaceAll(err.Error(), secret, "<webhook>"), err: err}
}

// redacted keeps err's chain for errors.As but not its text.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }
