package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"reportbot/bot"
)

// window is one rate limit: at most max sends in any span of per.
type window struct {
	max int
	per time.Duration
}

// limiter keeps to rate limits by counting its own sends: the platform counts
// a send whether or not its answer got back, so a slot is booked before.
type limiter struct {
	windows []window
	mu      sync.Mutex
	sent    map[string][]time.Time // conversation -> send times, oldest first
}

func newLimiter(w ...window) *limiter { return &limiter{windows: w, sent: map[string][]time.Time{}} }

// wait is how long until key may send at now (0: now); it books nothing.
func (l *limiter) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waitLocked(key, now)
}

func (l *limiter) waitLocked(key string, now time.Time) time.Duration {
	longest := time.Duration(0)
	for _, w := range l.windows {
		longest = max(longest, w.per)
	}
	times := l.sent[key]
	i := 0
	for i < len(times) && !now.Before(times[i].Add(longest)) {
		i++
	}
	times = times[i:]
	l.sent[key] = times
	var wait time.Duration
	for _, w := range l.windows {
		var in []time.Time
		for _, t := range times {
			if now.Before(t.Add(w.per)) {
				in = append(in, t)
			}
		}
		if len(in) >= w.max {
			wait = max(wait, in[len(in)-w.max].Add(w.per).Sub(now))
		}
	}
	return wait
}

// take books a send to key at now, or says how long until one may go.
func (l *limiter) take(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if wait := l.waitLocked(key, now); wait > 0 {
		return wait
	}
	l.sent[key] = append(l.sent[key], now)
	return 0
}

// webhook is the group's 群机器人 (消息推送): send-only, 20 messages a minute,
// and the only way to really @ people in a 企业微信 group.
type webhook struct {
	host, key string
	hc        *http.Client
	now       func() time.Time
	limit     *limiter
}

const webhookPerMinute = 20

// text posts a text with mentioned_list (userids); ids may be empty.
func (w *webhook) text(ctx context.Context, content string, ids []string) error {
	body := map[string]any{"content": content}
	if len(ids) > 0 {
		body["mentioned_list"] = ids
	}
	return w.post(ctx, map[string]any{"msgtype": "text", "text": body})
}

func (w *webhook) file(ctx context.Context, mediaID string) error {
	return w.post(ctx, map[string]any{"msgtype": "file", "file": map[string]string{"media_id": mediaID}})
}

func (w *webhook) endpoint(path string, q url.Values) string {
	q.Set("key", w.key)
	return w.host + path + "?" + q.Encode()
}

// post sends one message: the rate limit is the caller's to check first (wait).
func (w *webhook) post(ctx context.Context, msg any) error {
	const what = "wecom webhook"
	if d := w.limit.take("webhook", w.now()); d > 0 {
		return bot.Retryable(fmt.Errorf("%s: keeping to %d messages a minute", what, webhookPerMinute), d)
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return bot.Refused(fmt.Errorf("%s: %w", what, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.endpoint("/cgi-bin/webhook/send", url.Values{}), bytes.NewReader(data))
	if err != nil {
		return bot.Refused(fmt.Errorf("%s: %s", what, redact(err.Error())))
	}
	req.Header.Set("Content-Type", "application/json")
	code, msgText, err := w.do(req)
	if err != nil {
		return err
	}
	return webhookError(what, code, msgText)
}

// upload puts a file on the webhook's side for a file message.
func (w *webhook) upload(ctx context.Context, name string, data []byte) (string, error) {
	const what = "wecom webhook upload"
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part, err := mw.CreateFormFile("media", name)
	if err == nil {
		_, err = part.Write(data)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return "", bot.Refused(fmt.Errorf("%s: %w", what, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.endpoint("/cgi-bin/webhook/upload_media", url.Values{"type": {"file"}}), &buf)
	if err != nil {
		return "", bot.Refused(fmt.Errorf("%s: %s", what, redact(err.Error())))
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var r struct {
		MediaID string `json:"media_id"`
	}
	code, msg, err := w.doInto(req, &r)
	if err != nil {
		return "", err
	}
	if err := webhookError(what, code, msg); err != nil {
		return "", err
	}
	return r.MediaID, nil
}

func (w *webhook) do(req *http.Request) (int, string, error) { return w.doInto(req, nil) }

// doInto sends req and reads errcode and errmsg (and into, if not nil). A
// failure with no answer to read is classified: the request may have
// arrived, so it is uncertain, unless the connection never opened.
func (w *webhook) doInto(req *http.Request, into any) (int, string, error) {
	what := "wecom webhook"
	resp, err := w.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && isDialError(ue.Err) {
			return 0, "", bot.Retryable(fmt.Errorf("%s: %s", what, redact(err.Error())), 0)
		}
		return 0, "", bot.Uncertain(fmt.Errorf("%s: %s", what, redact(err.Error())))
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		return 0, "", bot.Retryable(fmt.Errorf("%s: HTTP 429", what), time.Minute)
	case s/100 == 4:
		return 0, "", bot.Refused(fmt.Errorf("%s: HTTP %d: 检查 [wecom] webhook_key 和 api_host", what, s))
	case s/100 != 2:
		return 0, "", bot.Uncertain(fmt.Errorf("%s: HTTP %d", what, s))
	}
	var r struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(reply, &r); err != nil || r.ErrCode == nil {
		return 0, "", bot.Uncertain(fmt.Errorf("%s: an unreadable answer: %.200s", what, reply))
	}
	if into != nil {
		_ = json.Unmarshal(reply, into)
	}
	return *r.ErrCode, r.ErrMsg, nil
}

// isDialError reports whether err happened before the request left: the
// connection was never made.
func isDialError(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// webhookError classifies the 群机器人's errcode.
func webhookError(what string, code int, msg string) error {
	if code == 0 {
		return nil
	}
	desc := fmt.Errorf("%s: errcode %d: %s", what, code, redact(msg))
	switch code {
	case codeFreq:
		return bot.Retryable(fmt.Errorf("%w: 群机器人每分钟最多20条", desc), time.Minute)
	case -1:
		return bot.Retryable(desc, 0)
	case 93000, 93004, 93008:
		return bot.Refused(fmt.Errorf("%w: 群机器人的 key 不对或机器人已被移出群：在群设置→消息推送里复制 key，写到 [wecom] webhook_key", desc))
	}
	return bot.Refused(desc)
}
