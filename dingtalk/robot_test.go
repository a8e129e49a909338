package dingtalk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"reportbot/bot"
)

const (
	hookToken   = "hook-" + secretMark
	robotSecret = "SECrobot-" + secretMark
)

// fakeRobot is a custom robot's webhook (and a sessionWebhook: the same
// body and answer) that checks 加签 as DingTalk does.
type fakeRobot struct {
	t    *testing.T
	srv  *httptest.Server
	hits atomic.Int32

	mu    sync.Mutex
	body  map[string]any
	query map[string]string
	signs []string // the signs seen, to look for in error texts
	// reply answers after the checks; nil is {"errcode":0,"errmsg":"ok"}.
	reply http.HandlerFunc
}

func newFakeRobot(t *testing.T) *fakeRobot {
	f := &fakeRobot{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRobot) serve(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("robot body: %v", err)
	}
	q := r.URL.Query()
	f.mu.Lock()
	f.body = body
	f.query = map[string]string{}
	for k := range q {
		f.query[k] = q.Get(k)
	}
	f.signs = append(f.signs, q.Get("sign"))
	h := f.reply
	f.mu.Unlock()
	if r.URL.Path == "/robot/send" {
		if q.Get("access_token") != hookToken {
			fmt.Fprint(w, `{"errcode":300001,"errmsg":"token is not exist"}`)
			return
		}
		if ts := q.Get("timestamp"); ts != "" || q.Get("sign") != "" {
			// Recomputed here the way DingTalk's docs describe it, not
			// with the code under test.
			mac := hmac.New(sha256.New, []byte(robotSecret))
			mac.Write([]byte(ts + "\n" + robotSecret))
			if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); q.Get("sign") != want {
				fmt.Fprint(w, `{"errcode":310000,"errmsg":"sign not match"}`)
				return
			}
		}
	}
	if h == nil {
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
		return
	}
	h(w, r)
}

func (f *fakeRobot) setReply(h http.HandlerFunc) {
	f.mu.Lock()
	f.reply = h
	f.mu.Unlock()
}

func (f *fakeRobot) last() (map[string]any, map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.body, f.query
}

// noRobotSecret also looks for the signs the fake saw.
func (f *fakeRobot) noRobotSecret(t *testing.T, err error) {
	t.Helper()
	f.mu.Lock()
	signs := append([]string(nil), f.signs...)
	f.mu.Unlock()
	var more []string
	for _, s := range signs {
		if s != "" {
			more = append(more, s)
		}
	}
	noSecret(t, err, more...)
}

func (f *fakeRobot) robot(c *clock) *Robot {
	return &Robot{
		Webhook: f.srv.URL + "/robot/send?access_token=" + hookToken,
		Secret:  robotSecret,
		HTTP:    &http.Client{Timeout: 5 * time.Second},
		Now:     c.Now,
	}
}

func atUserIDs(body map[string]any) string {
	at, _ := body["at"].(map[string]any)
	return fmt.Sprint(at["atUserIds"])
}

func TestRobotSend(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(r *Robot, f *fakeRobot)
		wantErr bool
		signed  bool
	}{
		{name: "signed", signed: true},
		{name: "wrong secret", edit: func(r *Robot, f *fakeRobot) { r.Secret = "SECother-" + secretMark }, wantErr: true},
		{name: "no secret: not signed", edit: func(r *Robot, f *fakeRobot) { r.Secret = "" }},
		{name: "webhook without a query", edit: func(r *Robot, f *fakeRobot) { r.Webhook = f.srv.URL + "/hook" }, signed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRobot(t)
			r := f.robot(newClock())
			if tt.edit != nil {
				tt.edit(r, f)
			}
			err := r.Send(t.Context(), "@张三 请交报表", []string{"zhangsan"})
			if tt.wantErr {
				checkOutcome(t, err, bot.RefusedOutcome, 0)
				if !strings.Contains(err.Error(), "加签") {
					t.Errorf("want advice on the secret: %v", err)
				}
				f.noRobotSecret(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body, q := f.last()
			if body["msgtype"] != "text" || fmt.Sprint(body["text"]) != "map[content:@张三 请交报表]" || atUserIDs(body) != "[zhangsan]" {
				t.Errorf("body %v", body)
			}
			if _, ok := q["sign"]; ok != tt.signed {
				t.Errorf("query %v, signed %v", q, tt.signed)
			}
			if tt.signed && q["timestamp"] != fmt.Sprint(newClock().Now().UnixMilli()) {
				t.Errorf("timestamp %q", q["timestamp"])
			}
		})
	}
}

func TestRobotRateLimit(t *testing.T) {
	f := newFakeRobot(t)
	c := newClock()
	r := f.robot(c)
	for i := range robotPerMinute {
		if err := r.Send(t.Context(), fmt.Sprint(i), nil); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		c.add(time.Second)
	}
	steps := []struct {
		name     string
		advance  time.Duration // from the previous step
		wait     time.Duration // 0: sent
		wantHits int32
	}{
		// The sends went at 0 s … 19 s; the clock is at 20 s.
		{"21st within the minute", 10 * time.Second, 30 * time.Second, 20},
		{"the first slot frees at 60 s", 30 * time.Second, 0, 21},
		{"full again until 61 s", 500 * time.Millisecond, 500 * time.Millisecond, 21},
		{"the second slot frees", 500 * time.Millisecond, 0, 22},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			c.add(s.advance)
			err := r.Send(t.Context(), "x", nil)
			if s.wait == 0 {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				checkOutcome(t, err, bot.NotSent, s.wait)
			}
			if got := f.hits.Load(); got != s.wantHits {
				t.Errorf("server hit %d times, want %d", got, s.wantHits)
			}
		})
	}
}

func TestRobotThrottledByServer(t *testing.T) {
	f := newFakeRobot(t)
	c := newClock()
	r := f.robot(c)
	f.setReply(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`)
	})
	checkOutcome(t, r.Send(t.Context(), "x", nil), bot.NotSent, 10*time.Minute)
	f.setReply(nil)
	c.add(time.Minute)
	checkOutcome(t, r.Send(t.Context(), "x", nil), bot.NotSent, 9*time.Minute)
	if got := f.hits.Load(); got != 1 {
		t.Errorf("a send during DingTalk's throttle reached it (%d hits)", got)
	}
	c.add(9 * time.Minute)
	if err := r.Send(t.Context(), "x", nil); err != nil {
		t.Errorf("after the throttle: %v", err)
	}
}

func TestRobotErrors(t *testing.T) {
	tests := []struct {
		name   string
		reply  http.HandlerFunc
		edit   func(r *Robot, f *fakeRobot)
		want   bot.Outcome
		wait   time.Duration
		advice string
	}{
		{name: "keywords", reply: errcode(310000, "keywords not in content"), want: bot.RefusedOutcome, advice: "关键词"},
		{name: "ip", reply: errcode(310000, "ip X.X.X.X not in whitelist"), want: bot.RefusedOutcome, advice: "白名单"},
		{name: "unknown robot", edit: func(r *Robot, f *fakeRobot) {
			r.Webhook = f.srv.URL + "/robot/send?access_token=gone-" + secretMark
		}, want: bot.RefusedOutcome, advice: "webhook"},
		{name: "content", reply: errcode(430102, "含有不合适的文本"), want: bot.RefusedOutcome, advice: "内容"},
		{name: "busy", reply: errcode(-1, "系统繁忙"), want: bot.NotSent},
		{name: "404", reply: status(404, "not found"), want: bot.RefusedOutcome, advice: "webhook"},
		{name: "429", reply: status(429, ""), want: bot.NotSent, wait: time.Minute},
		{name: "502", reply: status(502, "<html>502</html>"), want: bot.UncertainOutcome},
		{name: "bad JSON", reply: status(200, "<html>ok</html>"), want: bot.UncertainOutcome},
		{name: "stall after the request", reply: stall, edit: func(r *Robot, f *fakeRobot) {
			r.HTTP = &http.Client{Timeout: 150 * time.Millisecond}
		}, want: bot.UncertainOutcome},
		{name: "reset after the request", reply: reset, want: bot.UncertainOutcome},
		{name: "refused dial", edit: func(r *Robot, f *fakeRobot) {
			r.Webhook = "http://" + closedAddr(t) + "/robot/send?access_token=" + hookToken
		}, want: bot.NotSent},
		{name: "no webhook", edit: func(r *Robot, f *fakeRobot) { r.Webhook = "" }, want: bot.RefusedOutcome, advice: "webhook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRobot(t)
			f.reply = tt.reply
			r := f.robot(newClock())
			if tt.edit != nil {
				tt.edit(r, f)
			}
			err := r.Send(t.Context(), "x", []string{"u1"})
			checkOutcome(t, err, tt.want, tt.wait)
			if !strings.Contains(err.Error(), tt.advice) {
				t.Errorf("error %q lacks %q", err, tt.advice)
			}
			f.noRobotSecret(t, err)
		})
	}
}

func TestSessionReply(t *testing.T) {
	tests := []struct {
		name    string
		reply   http.HandlerFunc
		ok      bool
		expired bool
		want    bot.Outcome
		wait    time.Duration
	}{
		{name: "ok", ok: true},
		{name: "300001", reply: errcode(300001, "session 不存在"), expired: true},
		{name: "other code saying the session is gone", reply: errcode(300099, "session expired"), expired: true},
		{name: "404", reply: status(404, ""), expired: true},
		{name: "throttled", reply: errcode(130101, "send too fast"), want: bot.NotSent, wait: 10 * time.Minute},
		{name: "other errcode", reply: errcode(400105, "不支持的消息类型"), want: bot.RefusedOutcome},
		{name: "502", reply: status(502, "<html/>"), want: bot.UncertainOutcome},
		{name: "bad JSON", reply: status(200, "ok"), want: bot.UncertainOutcome},
		{name: "stall", reply: stall, want: bot.UncertainOutcome},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRobot(t)
			f.reply = tt.reply
			hook := f.srv.URL + "/robot/sendBySession?session=sess-" + secretMark
			hc := &http.Client{Timeout: 150 * time.Millisecond}
			err := SessionReply(t.Context(), hc, hook, "@manager4512 已收到", []string{"manager4512"})
			body, _ := f.last()
			if atUserIDs(body) != "[manager4512]" || fmt.Sprint(body["text"]) != "map[content:@manager4512 已收到]" {
				t.Errorf("body %v", body)
			}
			switch {
			case tt.ok:
				if err != nil {
					t.Fatal(err)
				}
			case tt.expired:
				if !errors.Is(err, ErrSessionExpired) {
					t.Fatalf("err %v, want ErrSessionExpired", err)
				}
				checkOutcome(t, err, bot.NotSent, 0)
			default:
				if errors.Is(err, ErrSessionExpired) {
					t.Errorf("not an expiry: %v", err)
				}
				checkOutcome(t, err, tt.want, tt.wait)
			}
		})
	}
	t.Run("refused dial", func(t *testing.T) {
		err := SessionReply(t.Context(), nil, "http://"+closedAddr(t)+"/robot/sendBySession?session=sess-"+secretMark, "x", nil)
		checkOutcome(t, err, bot.NotSent, 0)
	})
}

func errcode(code int, msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `{"errcode":%d,"errmsg":%q}`, code, msg)
	}
}

func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
}

// stall answers nothing until the client gives up.
func stall(_ http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(3 * time.Second):
	}
}

// reset drops the connection after reading the request.
func reset(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}
