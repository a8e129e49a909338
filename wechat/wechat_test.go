package wechat_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/alert/alerttest"
	"reportbot/bot"
	"reportbot/schedules"
	"reportbot/wechat"
	"reportbot/wechat/wxtest"
)

const group = "XX街道安全生产工作群"

func newFake(t *testing.T) *wxtest.Server {
	t.Helper()
	f := wxtest.New(group)
	f.Others = []string{"家庭群", "同学群"}
	f.Members = []wxtest.Contact{
		{ID: "zhangsan", NickName: "张三", DisplayName: "东风社区-张三"},
		{ID: "wangke", NickName: "王科", DisplayName: "街道应急办-王科", RemarkName: "王科长"},
		{ID: "fake", NickName: "冒充者", DisplayName: "街道应急办-王科"},
	}
	f.Friends = []wxtest.Contact{{ID: "wangke", NickName: "王科", RemarkName: "王科长"}}
	t.Cleanup(f.Close)
	return f
}

// handlerFunc adapts a function to bot.Handler.
type handlerFunc func(context.Context, bot.Message) error

func (f handlerFunc) Handle(ctx context.Context, m bot.Message) error { return f(ctx, m) }

// recorder is a Handler that keeps what it gets, reading media at once.
type recorder struct {
	mu    sync.Mutex
	msgs  []bot.Message
	media map[string][]byte
	errs  map[string]error
}

func (r *recorder) Handle(ctx context.Context, m bot.Message) error {
	var data []byte
	var err error
	if m.Open != nil {
		var rc io.ReadCloser
		if rc, err = m.Open(ctx); err == nil {
			data, err = io.ReadAll(rc)
			rc.Close()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	if r.media == nil {
		r.media, r.errs = map[string][]byte{}, map[string]error{}
	}
	r.media[m.ID], r.errs[m.ID] = data, err
	return nil
}

func (r *recorder) wait(t *testing.T, n int) []bot.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		got := append([]bot.Message(nil), r.msgs...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("received %d messages, want %d", len(r.msgs), n)
	return nil
}

type setup struct {
	fake    *wxtest.Server
	adapter *wechat.Adapter
	alerts  *alerttest.Recorder
	qr      *bytes.Buffer
	dir     string
	online  atomic.Int32 // OnOnline calls
}

// newAdapter makes an adapter against the fake with quick test timings; more
// changes the options further.
func newAdapter(t *testing.T, f *wxtest.Server, dir string, more ...func(*wechat.Options)) *setup {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s := &setup{fake: f, alerts: &alerttest.Recorder{}, qr: &bytes.Buffer{}, dir: dir}
	o := wechat.Options{Group: group, DataDir: dir, Transport: f.Transport(), QR: s.qr,
		Alert: s.alerts, Interval: 20 * time.Millisecond, MediaBackoff: 10 * time.Millisecond,
		ReconnectBackoff: 20 * time.Millisecond, HTTPTimeout: 5 * time.Second, Logger: zerolog.Nop(),
		OnOnline: func() { s.online.Add(1) }}
	for _, m := range more {
		m(&o)
	}
	s.adapter = wechat.New(o)
	return s
}

// start runs the adapter (which logs in itself unless Login did) until the
// test ends; Run must then return nil, promptly.
func (s *setup) start(t *testing.T, h bot.Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.adapter.Run(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its ctx ended")
		}
	})
}

// run logs in, then runs the adapter until the test ends.
func (s *setup) run(t *testing.T, h bot.Handler) {
	t.Helper()
	if err := s.adapter.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.start(t, h)
}

func nop() error { return nil }

// counter is a begin func that counts its calls.
type counter struct{ n atomic.Int32 }

func (c *counter) begin() error { c.n.Add(1); return nil }

// deliver hands m to the adapter as the outbox would: again after a failure
// that left it unsent, until it is delivered.
func deliver(t *testing.T, a *wechat.Adapter, m bot.Outgoing) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := a.Deliver(context.Background(), m, nop)
		if err == nil {
			return
		}
		// began: an error the adapter left unclassified counts as uncertain.
		outcome, wait := bot.OutcomeOf(err, true)
		if outcome != bot.NotSent || time.Now().After(deadline) {
			t.Fatalf("deliver %q: %v", m.Text, err)
		}
		time.Sleep(max(wait, 10*time.Millisecond))
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestQRLoginFindsGroup(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "")
	if st := s.adapter.Status(); st.Online || st.State != "未连接，正在登录" || st.Platform != "微信" {
		t.Errorf("status before the login: %+v", st)
	}
	if err := s.adapter.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.Logins(); len(got) != 1 || got[0] != "qr" {
		t.Errorf("logins %v, want one QR login", got)
	}
	if !strings.Contains(s.qr.String(), "扫描") || !strings.Contains(s.qr.String(), "▀") {
		t.Errorf("no QR code drawn on the terminal: %q", s.qr.String())
	}
	st, err := os.Stat(filepath.Join(s.dir, wechat.SessionFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("session file: %v %v", st, err)
	}
	status := s.adapter.Status()
	if !status.Online || status.State != "已连接" || status.LoginQR != nil || status.Since.IsZero() {
		t.Errorf("status after the login: %+v", status)
	}
	if s.online.Load() != 1 {
		t.Errorf("OnOnline called %d times, want 1", s.online.Load())
	}
	if s.adapter.Hint() != "" {
		t.Errorf("hint %q: the bot sees every group message", s.adapter.Hint())
	}
}

func TestQRImageWrittenWhileWaiting(t *testing.T) {
	f := newFake(t)
	f.Slow(300 * time.Millisecond) // the scan takes a while: the PNG is there meanwhile
	s := newAdapter(t, f, "")
	done := make(chan error)
	go func() { done <- s.adapter.Login(context.Background()) }()
	png := filepath.Join(s.dir, wechat.QRFile)
	waitFor(t, "the QR code PNG", func() bool {
		b, err := os.ReadFile(png)
		return err == nil && bytes.HasPrefix(b, []byte("\x89PNG"))
	})
	if st := s.adapter.Status(); st.State != "等待扫码" || !bytes.HasPrefix(st.LoginQR, []byte("\x89PNG")) {
		t.Errorf("status while waiting for the scan: %q, %d bytes of QR", st.State, len(st.LoginQR))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(png); !os.IsNotExist(err) {
		t.Error("the QR code PNG is left after the login")
	}
}

func TestGroupNotFound(t *testing.T) {
	f := newFake(t)
	f.Group = "另一个群"
	s := newAdapter(t, f, "")
	err := s.adapter.Login(context.Background())
	var nf *wechat.GroupNotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"没有找到群「" + group + "」", "「另一个群」「同学群」「家庭群」", "保存到通讯录"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

func TestRefusedLogin(t *testing.T) {
	f := newFake(t)
	f.RefuseLogin(true)
	s := newAdapter(t, f, "")
	err := s.adapter.Login(context.Background())
	if !errors.Is(err, wechat.ErrLoginRefused) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"实名", "微信支付", "https://wx.qq.com"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q: %v", want, err)
		}
	}
}

func TestRunLogsInItself(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "")
	rec := &recorder{}
	s.start(t, rec)
	f.Text("zhangsan", "本周典型做法", false)
	if m := rec.wait(t, 1)[0]; m.Text != "本周典型做法" {
		t.Errorf("received %+v", m)
	}
	if got := f.Logins(); len(got) != 1 || got[0] != "qr" {
		t.Errorf("logins %v, want one QR login", got)
	}
}

func TestInboundKinds(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "")
	rec := &recorder{}
	s.run(t, rec)
	text := f.Text("zhangsan", "本周典型做法：开展消防演练", false)
	at := f.Text("zhangsan", "未报", true)
	img := f.Image("zhangsan", []byte("\xff\xd8 jpeg data"))
	file := f.File("zhangsan", "东风社区活动方案.docx", []byte("PK docx"))
	video := f.Video("zhangsan", []byte("mp4 data"))
	recall := f.Recall("zhangsan", text)
	priv := f.PrivateText("wangke", "标记 东风社区 典型做法 免报")
	got := rec.wait(t, 7)
	byID := map[string]bot.Message{}
	for _, m := range got {
		byID[m.ID] = m
	}
	check := func(id string, ok bool, what string) {
		t.Helper()
		if !ok {
			t.Errorf("%s: %+v", what, byID[id])
		}
	}
	m := byID[text]
	check(text, m.Sender.Name == "东风社区-张三" && m.Text == "本周典型做法：开展消防演练" && !m.ToBot && !m.Private, "group text")
	m = byID[at]
	check(at, m.ToBot && m.Text == "未报", "text @ the bot")
	m = byID[img]
	check(img, m.Kind == schedules.Image && m.Size == 12 && string(rec.media[img]) == "\xff\xd8 jpeg data", "picture")
	m = byID[file]
	check(file, m.Kind == schedules.File && m.FileName == "东风社区活动方案.docx" && m.Size == 7 && string(rec.media[file]) == "PK docx", "file")
	m = byID[video]
	check(video, m.Kind == schedules.Video && string(rec.media[video]) == "mp4 data", "video")
	m = byID[recall]
	check(recall, m.Recalls == text, "recall")
	m = byID[priv]
	check(priv, m.Private && m.Text == "标记 东风社区 典型做法 免报", "private message from an admin")
	if st := s.adapter.Status(); st.LastMessage.IsZero() {
		t.Error("the status has no last message")
	}
	// One sender's messages are handled in the order they came.
	var ids []string
	for _, m := range got {
		if m.Sender.Name == "东风社区-张三" {
			ids = append(ids, m.ID)
		}
	}
	if want := []string{text, at, img, file, video, recall}; !slices.Equal(ids, want) {
		t.Errorf("order %v, want %v", ids, want)
	}
}

// The sender's remark name, which only the bot's owner can set, is their
// verified identity and their id; an impostor with the same display name
// has neither.
func TestInboundSender(t *testing.T) {
	f := newFake(t)
	f.Members = append(f.Members, wxtest.Contact{ID: "lisi", NickName: "李四"})
	s := newAdapter(t, f, "")
	rec := &recorder{}
	s.run(t, rec)
	for _, c := range []struct {
		name string
		send func() string
		want bot.Member
		priv bool
	}{
		{"member, not a friend", func() string { return f.Text("zhangsan", "一", false) },
			bot.Member{ID: "东风社区-张三", Name: "东风社区-张三"}, false},
		{"admin, a friend with a remark", func() string { return f.Text("wangke", "二", false) },
			bot.Member{ID: "王科长", Name: "街道应急办-王科", Verified: "王科长"}, false},
		{"impostor with the admin's display name", func() string { return f.Text("fake", "三", false) },
			bot.Member{ID: "街道应急办-王科", Name: "街道应急办-王科"}, false},
		{"member without a display name", func() string { return f.Text("lisi", "四", false) },
			bot.Member{ID: "李四", Name: "李四"}, false},
		{"admin in private", func() string { return f.PrivateText("wangke", "五") },
			bot.Member{ID: "王科长", Name: "街道应急办-王科", Verified: "王科长"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := c.send()
			var got *bot.Message
			waitFor(t, "the message", func() bool {
				rec.mu.Lock()
				defer rec.mu.Unlock()
				for _, m := range rec.msgs {
					if m.ID == id {
						got = &m
					}
				}
				return got != nil
			})
			if got.Sender != c.want || got.Private != c.priv {
				t.Errorf("sender %+v private %v, want %+v %v", got.Sender, got.Private, c.want, c.priv)
			}
		})
	}
}

func TestZeroByteImagesRetried(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "")
	rec := &recorder{}
	s.run(t, rec)
	flaky := f.Image("zhangsan", []byte("\xff\xd8 image"))
	f.ZeroBytes(flaky, 2) // the third try works
	broken := f.Image("zhangsan", []byte("\xff\xd8 never"))
	f.ZeroBytes(broken, 99)
	rec.wait(t, 2)
	if string(rec.media[flaky]) != "\xff\xd8 image" || rec.errs[flaky] != nil {
		t.Errorf("flaky image: %q %v", rec.media[flaky], rec.errs[flaky])
	}
	if err := rec.errs[broken]; err == nil || !strings.Contains(err.Error(), "0字节") {
		t.Errorf("broken image error = %v", err)
	}
}

// A stop ends a media download and its waits between tries at once.
func TestMediaDownloadStopsWithCtx(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "", func(o *wechat.Options) { o.MediaBackoff = time.Hour })
	type result struct {
		err  error
		took time.Duration
	}
	res := make(chan result, 1)
	s.run(t, handlerFunc(func(ctx context.Context, m bot.Message) error {
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		rc, err := m.Open(ctx)
		if err == nil {
			rc.Close()
		}
		res <- result{err, time.Since(start)}
		return nil
	}))
	id := f.Image("zhangsan", []byte("\xff\xd8 never"))
	f.ZeroBytes(id, 99)
	select {
	case r := <-res:
		if !errors.Is(r.err, context.DeadlineExceeded) || r.took > 5*time.Second {
			t.Errorf("Open returned %v after %v, want the ctx's deadline at once", r.err, r.took)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the download did not stop with its ctx")
	}
}

func TestOutboundRecipientsMentionsAndFiles(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "")
	s.run(t, &recorder{})
	dir := t.TempDir()
	xlsx := filepath.Join(dir, "活动情况统计表.xlsx")
	os.WriteFile(xlsx, []byte("PK xlsx"), 0o600)
	jpg := filepath.Join(dir, "现场.jpg")
	os.WriteFile(jpg, []byte("\xff\xd8 jpeg"), 0o600)
	zhangsan := bot.Member{ID: "东风社区-张三", Name: "东风社区-张三"}
	admin := bot.Member{ID: "王科长", Name: "街道应急办-王科", Verified: "王科长"}
	for _, c := range []struct {
		name string
		m    bot.Outgoing
		want wxtest.Sent // the zero value: nothing sent, the message refused
	}{
		{"mentions", bot.Outgoing{Text: "【催报】\n东风社区：@东风社区-张三 @张三丰", Mentions: []bot.Member{zhangsan, {Name: "张三丰"}}},
			wxtest.Sent{Kind: "text", To: "group:" + group, Content: "【催报】\n东风社区：@东风社区-张三\u2005@张三丰\u2005"}},
		{"private to a friend by remark", bot.Outgoing{To: admin, Text: "已标记"},
			wxtest.Sent{Kind: "text", To: "friend:王科", Content: "已标记"}},
		{"private to a friend by display name", bot.Outgoing{To: bot.Member{Name: "街道应急办-王科"}, Text: "已标记"},
			wxtest.Sent{Kind: "text", To: "friend:王科", Content: "已标记"}},
		{"a remark no friend has: not the friend with that display name", bot.Outgoing{To: bot.Member{Name: "街道应急办-王科", Verified: "别人"}, Text: "导出好了"},
			wxtest.Sent{Kind: "text", To: "group:" + group, Content: "@街道应急办-王科\u2005导出好了"}},
		{"private to a non-friend goes to the group, addressed", bot.Outgoing{To: zhangsan, Text: "还不知道您是哪个单位的"},
			wxtest.Sent{Kind: "text", To: "group:" + group, Content: "@东风社区-张三\u2005还不知道您是哪个单位的"}},
		{"file to a friend", bot.Outgoing{Purpose: bot.FileFor, To: admin, File: xlsx},
			wxtest.Sent{Kind: "file", To: "friend:王科", FileName: "活动情况统计表.xlsx"}},
		{"image to the group", bot.Outgoing{File: jpg},
			wxtest.Sent{Kind: "image", To: "group:" + group, FileName: "现场.jpg"}},
		{"file to a non-friend", bot.Outgoing{Purpose: bot.FileFor, To: zhangsan, File: xlsx}, wxtest.Sent{}},
		{"missing file", bot.Outgoing{File: filepath.Join(dir, "missing.xlsx")}, wxtest.Sent{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(f.SentMessages())
			var b counter
			err := s.adapter.Deliver(context.Background(), c.m, b.begin)
			sent := f.SentMessages()[before:]
			if c.want == (wxtest.Sent{}) {
				if o, _ := bot.OutcomeOf(err, true); err == nil || o != bot.RefusedOutcome || b.n.Load() != 0 || len(sent) != 0 {
					t.Errorf("err %v, begin called %d times, sent %+v: want refused before begin", err, b.n.Load(), sent)
				}
				return
			}
			if err != nil || b.n.Load() != 1 {
				t.Fatalf("err %v, begin called %d times", err, b.n.Load())
			}
			if len(sent) != 1 {
				t.Fatalf("sent %+v", sent)
			}
			got := sent[0]
			got.At = time.Time{}
			if got.FileName != "" {
				// openwechat uploads under the file's whole path; people see its base name.
				got.FileName = filepath.Base(got.FileName)
			}
			if c.want.Kind != "text" {
				got.Content = ""
			}
			if got != c.want {
				t.Errorf("sent %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestThrottlingSlowsDown(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "")
	s.run(t, &recorder{})
	f.Throttle(2)
	var waits []time.Duration
	for range 3 {
		err := s.adapter.Deliver(context.Background(), bot.Outgoing{Text: "消息A"}, nop)
		if err == nil {
			break
		}
		o, wait := bot.OutcomeOf(err, true)
		if o != bot.NotSent {
			t.Fatalf("throttled send: %v", err)
		}
		waits = append(waits, wait)
	}
	// 1205 twice: the base interval (20ms) doubled, then doubled again, and
	// each time the outbox is told to wait that long.
	if want := []time.Duration{40 * time.Millisecond, 80 * time.Millisecond}; !slices.Equal(waits, want) {
		t.Errorf("waits asked for %v, want %v", waits, want)
	}
	deliver(t, s.adapter, bot.Outgoing{Text: "消息B"})
	sent := f.SentMessages()
	if len(sent) != 2 || sent[0].Content != "消息A" || sent[1].Content != "消息B" {
		t.Fatalf("sent %+v", sent)
	}
	// One success takes back only a quarter of the slow-down: still 65ms.
	if gap := sent[1].At.Sub(sent[0].At); gap < 40*time.Millisecond {
		t.Errorf("gap after throttling %v", gap)
	}
	if f.Attempts() != 4 {
		t.Errorf("%d send requests, want 4: each Deliver tries once", f.Attempts())
	}
}

// refuseSends sends the requests that deliver texts to a port where nothing
// listens: the connection is refused before a byte of them leaves.
type refuseSends struct {
	next http.RoundTripper
	addr string
}

func (r refuseSends) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/webwxsendmsg") {
		return r.next.RoundTrip(req)
	}
	c := req.Clone(req.Context())
	c.URL.Scheme, c.URL.Host = "http", r.addr
	return http.DefaultTransport.RoundTrip(c)
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Each failure is classified by what WeChat may have done with the message;
// none is retried by the adapter.
func TestDeliverClassifiesFailures(t *testing.T) {
	for _, c := range []struct {
		name     string
		fault    wxtest.Fault
		refuse   bool // the connection is refused instead
		outcome  bot.Outcome
		wait     bool // a RetryAfter is asked for
		attempts int  // send requests the server saw
		taken    int  // messages the server kept
	}{
		{"too often (1205)", wxtest.Fault{Ret: 1205}, false, bot.NotSent, true, 1, 0},
		{"session expired (1101)", wxtest.Fault{Ret: 1101}, false, bot.NotSent, false, 1, 0},
		{"refused (Ret 1)", wxtest.Fault{Ret: 1}, false, bot.RefusedOutcome, false, 1, 0},
		{"refused (Ret -1)", wxtest.Fault{Ret: -1}, false, bot.RefusedOutcome, false, 1, 0},
		{"connection refused", wxtest.Fault{}, true, bot.NotSent, false, 0, 0},
		{"taken, then no answer", wxtest.Fault{Take: true, Stall: true}, false, bot.UncertainOutcome, false, 1, 1},
		{"taken, then reset", wxtest.Fault{Take: true, Reset: true}, false, bot.UncertainOutcome, false, 1, 1},
		{"reset before taking: the client cannot tell", wxtest.Fault{Reset: true}, false, bot.UncertainOutcome, false, 1, 0},
		{"taken, then an answer that is not WeChat's", wxtest.Fault{Take: true, Garble: true}, false, bot.UncertainOutcome, false, 1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t)
			s := newAdapter(t, f, "", func(o *wechat.Options) {
				o.HTTPTimeout = time.Second
				if c.refuse {
					o.Transport = refuseSends{next: f.Transport(), addr: closedPort(t)}
				}
			})
			s.run(t, &recorder{})
			f.FailSends(1, c.fault)
			var b counter
			err := s.adapter.Deliver(context.Background(), bot.Outgoing{Text: "第2期典型做法提醒"}, b.begin)
			o, wait := bot.OutcomeOf(err, true)
			if err == nil || o != c.outcome || (wait > 0) != c.wait {
				t.Errorf("err %v: outcome %v, wait %v; want outcome %v, wait %v", err, o, wait, c.outcome, c.wait)
			}
			if b.n.Load() != 1 {
				t.Errorf("begin called %d times, want once", b.n.Load())
			}
			if got := f.Attempts(); got != c.attempts {
				t.Errorf("%d send requests, want %d", got, c.attempts)
			}
			if got := len(f.SentMessages()); got != c.taken {
				t.Errorf("the server kept %d messages, want %d", got, c.taken)
			}
		})
	}
}

// A send whose answer never comes is finished (not abandoned) when the
// outbox's ctx ends after begin, and is uncertain: the server got it once.
func TestStalledSendIsUncertainAndNotRepeated(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "", func(o *wechat.Options) { o.HTTPTimeout = 500 * time.Millisecond })
	s.run(t, &recorder{})
	f.FailSends(1, wxtest.Fault{Take: true, Stall: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	err := s.adapter.Deliver(ctx, bot.Outgoing{Text: "【点名】第2期"}, func() error {
		cancel() // a stop comes just as the message leaves
		return nil
	})
	var de *bot.DeliveryError
	if !errors.As(err, &de) || de.Outcome != bot.UncertainOutcome {
		t.Fatalf("err = %v, want an uncertain outcome", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want the HTTP client's timeout, not the ctx's cancellation", err)
	}
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Errorf("Deliver returned after %v, before the HTTP timeout", took)
	}
	if sent := f.SentMessages(); len(sent) != 1 || sent[0].Content != "【点名】第2期" || f.Attempts() != 1 {
		t.Errorf("the server got %+v in %d requests, want the message once", sent, f.Attempts())
	}
	// The session is fine: the next message goes out.
	deliver(t, s.adapter, bot.Outgoing{Text: "下一条"})
}

// Stopping Run while a send is in flight lets that send finish first:
// cancelling the session would abort the request half-way.
func TestRunWaitsForTheSendInFlight(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "", func(o *wechat.Options) { o.HTTPTimeout = 500 * time.Millisecond })
	if err := s.adapter.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type ended struct {
		at  time.Time
		err error
	}
	runDone, sendDone := make(chan ended, 1), make(chan ended, 1)
	go func() { err := s.adapter.Run(ctx, &recorder{}); runDone <- ended{time.Now(), err} }()
	f.FailSends(1, wxtest.Fault{Take: true, Stall: true})
	go func() {
		err := s.adapter.Deliver(context.Background(), bot.Outgoing{Text: "提醒"}, nop)
		sendDone <- ended{time.Now(), err}
	}()
	waitFor(t, "the server to take the message", func() bool { return len(f.SentMessages()) == 1 })
	cancel()
	var run, send ended
	for _, ch := range []chan ended{runDone, sendDone} {
		select {
		case e := <-ch:
			if ch == runDone {
				run = e
			} else {
				send = e
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run or Deliver did not return")
		}
	}
	if run.err != nil {
		t.Errorf("Run: %v", run.err)
	}
	if o, _ := bot.OutcomeOf(send.err, true); o != bot.UncertainOutcome || errors.Is(send.err, context.Canceled) {
		t.Errorf("Deliver: %v, want uncertain by the HTTP timeout", send.err)
	}
	if run.at.Before(send.at) {
		t.Error("Run returned before the send in flight finished")
	}
}

func TestDeliverOffline(t *testing.T) {
	f := newFake(t)
	for _, c := range []struct {
		name    string
		prepare func(t *testing.T, s *setup)
	}{
		{"never logged in", func(*testing.T, *setup) {}},
		{"after Run ended", func(t *testing.T, s *setup) {
			if err := s.adapter.Login(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := s.adapter.Run(ctx, &recorder{}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newAdapter(t, f, "")
			c.prepare(t, s)
			var b counter
			start := time.Now()
			err := s.adapter.Deliver(context.Background(), bot.Outgoing{Text: "提醒"}, b.begin)
			if o, _ := bot.OutcomeOf(err, true); o != bot.NotSent || !errors.Is(err, bot.ErrOffline) {
				t.Errorf("err = %v, want a retryable offline error", err)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("Deliver waited %v", took)
			}
			if b.n.Load() != 0 {
				t.Error("begin called while offline")
			}
			if st := s.adapter.Status(); st.Online {
				t.Errorf("status %+v", st)
			}
		})
	}
}

func TestPacingWait(t *testing.T) {
	t.Run("ctx ends", func(t *testing.T) {
		f := newFake(t)
		s := newAdapter(t, f, "", func(o *wechat.Options) { o.Interval = time.Hour })
		s.run(t, &recorder{})
		deliver(t, s.adapter, bot.Outgoing{Text: "第一条"}) // the first goes at once
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		var b counter
		err := s.adapter.Deliver(ctx, bot.Outgoing{Text: "第二条"}, b.begin)
		if !errors.Is(err, context.DeadlineExceeded) || b.n.Load() != 0 || f.Attempts() != 1 {
			t.Errorf("err %v, begin called %d times, %d sends: want the ctx's error before begin", err, b.n.Load(), f.Attempts())
		}
	})
	t.Run("the session ends", func(t *testing.T) {
		f := newFake(t)
		s := newAdapter(t, f, "", func(o *wechat.Options) { o.Interval = time.Hour })
		if err := s.adapter.Login(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		runDone := make(chan error, 1)
		go func() { runDone <- s.adapter.Run(ctx, &recorder{}) }()
		deliver(t, s.adapter, bot.Outgoing{Text: "第一条"})
		var b counter
		sendDone := make(chan error, 1)
		go func() { sendDone <- s.adapter.Deliver(context.Background(), bot.Outgoing{Text: "第二条"}, b.begin) }()
		time.Sleep(50 * time.Millisecond) // waiting for its slot, an hour away
		cancel()
		for _, ch := range []chan error{runDone, sendDone} {
			select {
			case err := <-ch:
				if ch == sendDone && !errors.Is(err, bot.ErrOffline) {
					t.Errorf("Deliver: %v, want offline", err)
				}
				if ch == runDone && err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a Deliver waiting for its slot held up the stop")
			}
		}
		if b.n.Load() != 0 {
			t.Error("begin called")
		}
	})
}

func TestExpiryReconnectsWithoutLosingOrRepeating(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "")
	rec := &recorder{}
	s.run(t, rec)
	f.Text("zhangsan", "第一条", false)
	rec.wait(t, 1)
	f.Expire(1101)
	for _, text := range []string{"一", "二", "三"} {
		deliver(t, s.adapter, bot.Outgoing{Text: text})
	}
	var got []string
	for _, m := range f.SentMessages() {
		got = append(got, m.Content)
	}
	if strings.Join(got, ",") != "一,二,三" {
		t.Errorf("sent %v, want each once, in order", got)
	}
	logins := f.Logins()
	if len(logins) < 2 || logins[1] != "push" {
		t.Errorf("logins %v, want a push login after the expiry", logins)
	}
	if s.online.Load() != 2 {
		t.Errorf("OnOnline called %d times, want 2 (login, re-login)", s.online.Load())
	}
	if len(s.alerts.All()) != 0 {
		t.Errorf("alerted though no scan was needed: %v", s.alerts.All())
	}
	// Messages keep coming in after the re-login, with the new ids.
	f.Text("zhangsan", "第二条", false)
	if m := rec.wait(t, 2)[1]; m.Sender.Name != "东风社区-张三" || m.Text != "第二条" {
		t.Errorf("after re-login: %+v", m)
	}
}

func TestExpiryNeedingAScanAlertsTheAdmins(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "", func(o *wechat.Options) { o.AlertQuiet = 100 * time.Millisecond })
	s.run(t, &recorder{})
	f.DisablePushLogin(true)
	f.Expire(1102)
	waitFor(t, "a second login", func() bool { return len(f.Logins()) >= 2 })
	if got := f.Logins(); got[len(got)-1] != "qr" {
		t.Fatalf("logins %v, want a QR login after hot and push failed", got)
	}
	waitFor(t, "two alerts", func() bool { return len(s.alerts.All()) >= 2 })
	al := s.alerts.All()
	if len(al) != 2 || !strings.Contains(al[0], "扫码") || !strings.Contains(al[0], wechat.QRFile) || !strings.Contains(al[1], "已重新登录") {
		t.Errorf("alerts %q", al)
	}
}

// A session that WeChat kicks again right after each scan is one trouble:
// the admins hear once that a scan is needed, not once per scan, and not
// that it is back while it keeps dropping.
func TestSessionDroppingAfterEachScanAlertsOnce(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "", func(o *wechat.Options) { o.AlertQuiet = time.Hour })
	s.run(t, &recorder{})
	f.DisablePushLogin(true)
	for i := range 3 {
		f.Expire(1102)
		waitFor(t, "a QR login", func() bool { return len(f.Logins()) >= 2+i })
	}
	if got := f.Logins(); strings.Join(got[1:], ",") != "qr,qr,qr" {
		t.Fatalf("logins %v, want three scans after the first login", got)
	}
	if al := s.alerts.All(); len(al) != 1 || !strings.Contains(al[0], "扫码") {
		t.Errorf("alerts %q, want one: that a scan is needed", al)
	}
}

// A re-login that WeChat refuses ends Run with ErrLoginRefused, whatever
// ended the session.
func TestRefusedReloginEndsRun(t *testing.T) {
	for _, ret := range []int{1100, 1101, 1102} {
		t.Run(strconv.Itoa(ret), func(t *testing.T) {
			f := newFake(t)
			s := newAdapter(t, f, "")
			if err := s.adapter.Login(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- s.adapter.Run(ctx, &recorder{}) }()
			f.RefuseLogin(true)
			f.Expire(ret)
			select {
			case err := <-done:
				if !errors.Is(err, wechat.ErrLoginRefused) {
					t.Fatalf("Run returned %v, want ErrLoginRefused", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after WeChat refused the re-login")
			}
			if al := s.alerts.All(); len(al) != 1 || !strings.Contains(al[0], "拒绝") {
				t.Errorf("alerts %q", al)
			}
			if st := s.adapter.Status(); st.Online || !strings.Contains(st.LastError, "拒绝") {
				t.Errorf("status %+v", st)
			}
		})
	}
}

func TestHotLoginAfterRestartCanUpload(t *testing.T) {
	f := newFake(t)
	dir := t.TempDir()
	first := newAdapter(t, f, dir)
	if err := first.adapter.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A restart: a new adapter over the same data directory; push login is off,
	// so the stored session is reused as it is (hot login).
	f.DisablePushLogin(true)
	second := newAdapter(t, f, dir)
	second.run(t, &recorder{})
	if got := f.Logins(); len(got) != 2 || got[1] != "hot" {
		t.Fatalf("logins %v, want qr then hot", got)
	}
	path := filepath.Join(t.TempDir(), "汇编.docx")
	os.WriteFile(path, []byte("PK docx"), 0o600)
	if err := second.adapter.Deliver(context.Background(), bot.Outgoing{File: path}, nop); err != nil {
		t.Fatalf("upload after hot login: %v (the data ticket cookie must reach file.wx.qq.com)", err)
	}
	if sent := f.SentMessages(); len(sent) != 1 || sent[0].FileName != "汇编.docx" {
		t.Errorf("sent %+v", sent)
	}
}

// outage fails every request while down, counting them, as a network cut would.
type outage struct {
	next  http.RoundTripper
	mu    sync.Mutex
	down  bool
	tries int
}

func (o *outage) RoundTrip(r *http.Request) (*http.Response, error) {
	o.mu.Lock()
	down := o.down
	if down {
		o.tries++
	}
	o.mu.Unlock()
	if down {
		return nil, errors.New("network is unreachable")
	}
	return o.next.RoundTrip(r)
}

func (o *outage) set(down bool) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.down = down
	return o.tries
}

func TestNetworkOutageBacksOffAndRecovers(t *testing.T) {
	f := newFake(t)
	net := &outage{next: f.Transport()}
	rec := &recorder{}
	s := newAdapter(t, f, "", func(o *wechat.Options) {
		o.Transport, o.ReconnectBackoff, o.ReconnectMax = net, 50*time.Millisecond, 300*time.Millisecond
	})
	s.run(t, rec)

	net.set(true)
	time.Sleep(time.Second)
	tries := net.set(false)
	// Without backoff a second of outage is thousands of polls.
	if tries > 40 {
		t.Errorf("%d requests in one second of outage", tries)
	}
	f.Text("zhangsan", "网络恢复后的消息", false)
	if m := rec.wait(t, 1)[0]; m.Text != "网络恢复后的消息" {
		t.Errorf("after the outage: %+v", m)
	}
	if got := s.alerts.All(); len(got) != 0 {
		t.Errorf("a network outage alerted the admins to scan: %q", got)
	}
}

// Two short outages, each shorter than ReconnectMax but longer together,
// with good polls between them, keep the session: the count of failures
// starts again after every poll that works.
func TestShortOutagesKeepTheSession(t *testing.T) {
	f := newFake(t)
	rec := &recorder{}
	s := newAdapter(t, f, "", func(o *wechat.Options) {
		o.ReconnectBackoff, o.ReconnectMax = 20*time.Millisecond, time.Second
	})
	s.run(t, rec)
	polledTwice := func() {
		p := f.Polls()
		waitFor(t, "two good polls", func() bool { return f.Polls() >= p+2 })
	}
	polledTwice()
	for i := range 2 {
		resets := f.Resets()
		f.ResetFor(600 * time.Millisecond)
		time.Sleep(600 * time.Millisecond)
		if f.Resets() == resets {
			t.Fatalf("outage %d: no request was reset", i+1)
		}
		polledTwice()
	}
	if got := f.Logins(); len(got) != 1 {
		t.Errorf("logins %v: the session was given up after short outages", got)
	}
	f.Text("zhangsan", "之后的消息", false)
	if m := rec.wait(t, 1)[0]; m.Text != "之后的消息" {
		t.Errorf("after the outages: %+v", m)
	}
}

func TestFriendRequestsFromMembers(t *testing.T) {
	f := newFake(t)
	rec := &recorder{}
	newAdapter(t, f, "", func(o *wechat.Options) { o.AcceptFriends = true }).run(t, rec)

	f.FriendRequest(wxtest.Contact{ID: "stranger", NickName: "陌生人"})
	f.FriendRequest(wxtest.Contact{ID: "zhangsan", NickName: "张三"})
	waitFor(t, "the member to become a friend", func() bool { return f.IsFriend("zhangsan") })
	if f.IsFriend("stranger") {
		t.Fatal("a stranger became a friend")
	}
	// The new friend's private messages come with their group display name.
	f.PrivateText("zhangsan", "我报了吗")
	want := bot.Member{ID: "东风社区-张三", Name: "东风社区-张三"}
	if m := rec.wait(t, 1)[0]; !m.Private || m.Sender != want {
		t.Errorf("private message from the new friend: %+v", m)
	}
}

func TestToAdmins(t *testing.T) {
	for _, c := range []struct {
		name   string
		admins []string
		fault  wxtest.Fault
		faults int
		want   []string // recipients of what was kept
		alert  bool
		err    bot.Outcome // when no admin got it
	}{
		{"each admin who is a friend", []string{"王科长", "不是好友的管理员", "张三（东风）"}, wxtest.Fault{}, 0,
			[]string{"friend:王科", "friend:张三"}, false, 0},
		{"one admin refuses: delivered to the other", []string{"王科长", "张三（东风）"}, wxtest.Fault{Ret: 1}, 1,
			[]string{"friend:张三"}, false, 0},
		{"every admin refuses", []string{"王科长", "张三（东风）"}, wxtest.Fault{Ret: 1}, 2,
			nil, false, bot.RefusedOutcome},
		{"throttled for both: try again", []string{"王科长", "张三（东风）"}, wxtest.Fault{Ret: 1205}, 2,
			nil, false, bot.NotSent},
		{"no admin is a friend: the webhook", []string{"不是好友的管理员"}, wxtest.Fault{}, 0,
			nil, true, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t)
			f.Friends = append(f.Friends, wxtest.Contact{ID: "zhangsan", NickName: "张三", RemarkName: "张三（东风）"})
			s := newAdapter(t, f, "", func(o *wechat.Options) { o.Admins = c.admins })
			s.run(t, &recorder{})
			f.FailSends(c.faults, c.fault)
			var b counter
			err := s.adapter.Deliver(context.Background(), bot.Outgoing{Purpose: bot.AdminNotice, ToAdmins: true, Text: "日程文件有错误"}, b.begin)
			delivered := c.want != nil || c.alert
			if o, _ := bot.OutcomeOf(err, true); delivered && err != nil || !delivered && (err == nil || o != c.err) {
				t.Errorf("err = %v", err)
			}
			if b.n.Load() != 1 {
				t.Errorf("begin called %d times, want once", b.n.Load())
			}
			var to []string
			for _, m := range f.SentMessages() {
				if m.Content != "日程文件有错误" {
					t.Errorf("sent %q", m.Content)
				}
				to = append(to, m.To)
			}
			if !slices.Equal(to, c.want) {
				t.Errorf("sent to %v, want %v", to, c.want)
			}
			if al := s.alerts.All(); c.alert != (len(al) == 1 && al[0] == "日程文件有错误") || !c.alert && len(al) > 0 {
				t.Errorf("alerts %q", al)
			}
		})
	}
}
