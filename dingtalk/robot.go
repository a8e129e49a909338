package dingtalk

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"reportbot/bot"
)

const (
	// robotPerMinute is the custom robot's limit: the 21st message in a
	// minute is refused and the robot is throttled for robotThrottle.
	robotPerMinute = 20
	robotThrottle  = 10 * time.Minute
)

// ErrSessionExpired is a sessionWebhook DingTalk no longer knows (errcode
// 300001, "session 不存在"): the message did not go, and another route can
// take it.
var ErrSessionExpired = errors.New("dingtalk: the sessionWebhook has expired")

// errNoWebhook is a webhook URL the server does not know (HTTP 404 or 410):
// an expired session to SessionReply, a wrong address to a Robot.
var errNoWebhook = errors.New("no such webhook")

// SessionReply posts a text to a message's sessionWebhook with real @ (at.atUserIds), checking the body's errcode: 300001 (or any errcode saying the session is gone) returns ErrSessionExpired, which the adapter treats as "use another route".
// The error is bot.Retryable wrapping ErrSessionExpired (errors.Is finds it);
// other failures are classified like every send. hc nil means a client with
// a 15 s timeout.
func SessionReply(ctx context.Context, hc *http.Client, webhook, text string, atUserIDs []string) error {
	const what = "dingtalk sessionWebhook"
	code, msg, err := postWebhook(ctx, hc, what, webhook, text, atUserIDs)
	if errors.Is(err, errNoWebhook) {
		return bot.Retryable(fmt.Errorf("%w: %w", ErrSessionExpired, err), 0)
	}
	if err != nil {
		return err
	}
	if code == 300001 || sessionGone(msg) {
		return bot.Retryable(fmt.Errorf("%w (errcode %d: %s)", ErrSessionExpired, code, msg), 0)
	}
	return robotError(what, code, msg)
}

// sessionGone recognises an expiry by its message, as the code that says so
// is not documented and may change.
func sessionGone(msg string) bool {
	m := strings.ToLower(msg)
	if !strings.Contains(m, "session") {
		return false
	}
	for _, s := range []string{"不存在", "过期", "失效", "expired", "not exist", "invalid"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// Robot is a group's 自定义机器人 webhook with 加签: the only way a proactive message can really @ people.
// Use it by pointer: it keeps the count of its recent sends.
type Robot struct {
	Webhook, Secret string
	HTTP            *http.Client     // default: 15 s timeout
	Now             func() time.Time // default time.Now

	mu      sync.Mutex
	sent    []time.Time // the sends of the last minute, oldest first
	blocked time.Time   // DingTalk throttles the robot until then
}

// Send posts a text with at.atUserIds, signed (timestamp ms + "\n" + secret, HMAC-SHA256, base64, URL-encoded, appended as &timestamp=&sign=). It keeps to 20 messages per rolling minute itself: a send that would be the 21st returns bot.Retryable with the wait until a slot frees (never sends it), and errcode 130101 from the server also gives Retryable with a 10-minute wait.
// After a 130101 it sends nothing until those 10 minutes have passed, since
// DingTalk would refuse it anyway. Without a Secret it does not sign (a
// robot secured by keyword or IP).
func (r *Robot) Send(ctx context.Context, text string, atUserIDs []string) error {
	const what = "dingtalk custom robot"
	if r.Webhook == "" {
		return bot.Refused(errors.New(what + ": no webhook: 在 [dingtalk] 里填上群自定义机器人的 webhook"))
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	t := now()
	if wait := r.take(t); wait > 0 {
		return bot.Retryable(fmt.Errorf("%s: keeping to %d messages a minute", what, robotPerMinute), wait)
	}
	hook := r.Webhook
	if r.Secret != "" {
		sep := "&"
		if !strings.Contains(hook, "?") {
			sep = "?"
		}
		ts := strconv.FormatInt(t.UnixMilli(), 10)
		hook += sep + "timestamp=" + ts + "&sign=" + url.QueryEscape(sign(ts, r.Secret))
	}
	code, msg, err := postWebhook(ctx, r.HTTP, what, hook, text, atUserIDs)
	if errors.Is(err, errNoWebhook) {
		return bot.Refused(fmt.Errorf("%w: 检查 [dingtalk] 里自定义机器人的 webhook", err))
	}
	if err != nil {
		return err
	}
	if code == 130101 || code == 410100 {
		r.mu.Lock()
		r.blocked = t.Add(robotThrottle)
		r.mu.Unlock()
	}
	return robotError(what, code, msg)
}

// Wait is how long until the robot may send again (0: now). It books nothing:
// the caller checks before it commits to a send.
func (r *Robot) Wait() time.Duration {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.wait(now())
}

// take books a slot for a send at t, or says how long until one frees.
func (r *Robot) take(t time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if wait := r.wait(t); wait > 0 {
		return wait
	}
	// Booked before the send: DingTalk counts a send that failed on its
	// side, or whose answer was lost, all the same.
	r.sent = append(r.sent, t)
	return 0
}

// wait forgets sends older than a minute and says how long until a slot frees.
func (r *Robot) wait(t time.Time) time.Duration {
	if t.Before(r.blocked) {
		return r.blocked.Sub(t)
	}
	i := 0
	for i < len(r.sent) && !t.Before(r.sent[i].Add(time.Minute)) {
		i++
	}
	r.sent = r.sent[i:]
	if len(r.sent) >= robotPerMinute {
		return r.sent[0].Add(time.Minute).Sub(t)
	}
	return 0
}

// sign is DingTalk's 加签: base64(HMAC-SHA256(secret, timestamp+"\n"+secret)).
func sign(timestamp, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// postWebhook posts a text with its @s to a robot webhook (session or
// custom) and returns the answer's errcode and errmsg, or a classified
// error when there is none to read (errNoWebhook, unclassified, for the
// caller to judge).
func postWebhook(ctx context.Context, hc *http.Client, what, hook, text string, atUserIDs []string) (int, string, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	body := map[string]any{
		"msgtype": "text",
		"text":    map[string]string{"content": text},
	}
	if len(atUserIDs) > 0 {
		body["at"] = map[string]any{"atUserIds": atUserIDs, "isAtAll": false}
	}
	data, err := json.Marshal(body)
	if err != nil {
		return 0, "", bot.Refused(fmt.Errorf("%s: %w", what, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook, bytes.NewReader(data))
	if err != nil {
		return 0, "", bot.Refused(fmt.Errorf("%s: %w", what, redactErr(err)))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, reply, wrote, err := exchange(hc, req)
	if err != nil {
		return 0, "", unanswered(what, err, wrote)
	}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		return 0, "", bot.Retryable(fmt.Errorf("%s: HTTP 429: %s", what, snippet(reply)), retryAfter(resp, apiError{}))
	case s == http.StatusRequestTimeout:
		return 0, "", bot.Retryable(fmt.Errorf("%s: HTTP 408", what), 0)
	case s == http.StatusNotFound || s == http.StatusGone:
		return 0, "", fmt.Errorf("%s: HTTP %d: %s: %w", what, s, snippet(reply), errNoWebhook)
	case s/100 == 4:
		return 0, "", bot.Refused(fmt.Errorf("%s: HTTP %d: %s", what, s, snippet(reply)))
	case s/100 != 2:
		return 0, "", bot.Uncertain(fmt.Errorf("%s: HTTP %d: %s", what, s, snippet(reply)))
	}
	var r struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(reply, &r); err != nil || r.ErrCode == nil {
		return 0, "", bot.Uncertain(fmt.Errorf("%s: HTTP %d with an unreadable answer: %s", what, resp.StatusCode, snippet(reply)))
	}
	return *r.ErrCode, r.ErrMsg, nil
}

// robotError classifies a robot webhook's errcode, with advice for the
// admin where the code makes it clear.
func robotError(what string, code int, msg string) error {
	if code == 0 {
		return nil
	}
	desc := fmt.Sprintf("%s: errcode %d: %s", what, code, msg)
	m := strings.ToLower(msg)
	switch {
	case code == 130101 || code == 410100:
		return bot.Retryable(fmt.Errorf("%s: DingTalk throttles the robot for 10 minutes", desc), robotThrottle)
	case code == -1:
		return bot.Retryable(errors.New(desc), 0) // 系统繁忙: DingTalk took nothing
	case code == 310000 && strings.Contains(m, "sign"):
		return bot.Refused(fmt.Errorf("%s: 加签不对：检查 [dingtalk] 里自定义机器人的加签密钥（SEC 开头），并确认服务器时间准确", desc))
	case code == 310000 && strings.Contains(m, "keyword"):
		return bot.Refused(fmt.Errorf("%s: 消息不含自定义关键词：在群的机器人安全设置里改用加签", desc))
	case code == 310000 && strings.Contains(m, "ip"):
		return bot.Refused(fmt.Errorf("%s: 服务器的 IP 不在自定义机器人的 IP 白名单里：在群的机器人安全设置里加上它", desc))
	case code == 300001 || code == 300005 || code == 400101 || code == 400106 || strings.Contains(m, "token is not exist"):
		return bot.Refused(fmt.Errorf("%s: 自定义机器人不存在或已被删除：检查 [dingtalk] 里的 webhook", desc))
	case code == 400013:
		return bot.Refused(fmt.Errorf("%s: 群已解散", desc))
	case code == 400102:
		return bot.Refused(fmt.Errorf("%s: 自定义机器人已停用：在群设置→机器人里启用它", desc))
	case code >= 430101 && code <= 430104:
		return bot.Refused(fmt.Errorf("%s: 钉钉认为消息内容不合适（外链、文字或图片），改一下内容", desc))
	}
	return bot.Refused(errors.New(desc))
}
