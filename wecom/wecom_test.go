package wecom

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/alert/alerttest"
	"reportbot/bot"
	"reportbot/schedules"
	"reportbot/wecom/wecomtest"
)

func TestDecrypt(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	plain := bytes.Repeat([]byte("周报"), 40) // 240 bytes: padded with 16 bytes of 16
	enc := wecomtest.Encrypt(key, plain)
	std := base64.StdEncoding.EncodeToString(key)
	for _, tt := range []struct {
		name, key string
		data      []byte
		want      []byte
		err       string
	}{
		{"padded key", std, enc, plain, ""},
		{"key without its =", strings.TrimRight(std, "="), enc, plain, ""},
		{"a 32-byte block of padding", std, wecomtest.Encrypt(key, bytes.Repeat([]byte{1}, 64)), bytes.Repeat([]byte{1}, 64), ""},
		{"short key", base64.StdEncoding.EncodeToString(key[:16]), enc, nil, "32 bytes"},
		{"not whole blocks", std, enc[:len(enc)-1], nil, "whole AES blocks"},
		{"wrong key", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)), enc, nil, "padding"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decrypt(tt.key, tt.data)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Errorf("got %d bytes, err %v", len(got), err)
			}
		})
	}
}

func TestNextBackoff(t *testing.T) {
	var got []time.Duration
	for w := time.Second; len(got) < 7; w = nextBackoff(w, 30*time.Second) {
		got = append(got, w)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("waits %v", got)
		}
	}
}

func TestTrimAtAndShapes(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"@报送机器人 今日已完成", "今日已完成"},
		{"@报送机器人\u2005今日已完成", "今日已完成"},
		{"@报送机器人", ""},
		{"今日已完成", "今日已完成"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			if got := trimAt(tt.in); got != tt.want {
				t.Errorf("trimAt = %q", got)
			}
		})
	}
	for _, tt := range []struct {
		id   string
		want bool
	}{
		{"zhangsan", false},
		{"woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA", true},
		{"wmAJ2GCAAAXtWyujaWJHDDGi0mACHAAAxx", true},
		{"wo12", false},
		{"王五的超长名字abcdefghijklmnopqrstuvwxyz12", false},
	} {
		t.Run(tt.id, func(t *testing.T) {
			if got := looksEncrypted(tt.id); got != tt.want {
				t.Errorf("looksEncrypted = %v", got)
			}
		})
	}
}

// handler records what the adapter hands the domain.
type handler struct {
	mu   sync.Mutex
	msgs []bot.Message
}

func (h *handler) Handle(_ context.Context, m bot.Message) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, m)
	return nil
}

func (h *handler) got() []bot.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bot.Message(nil), h.msgs...)
}

type memState struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *memState) Get(k string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[k], nil
}
func (s *memState) Put(k, v string) error { s.mu.Lock(); defer s.mu.Unlock(); s.m[k] = v; return nil }

type rig struct {
	fake   *wecomtest.Server
	a      *Adapter
	h      *handler
	alerts *alerttest.Recorder
	state  *memState
	done   chan error
	cancel context.CancelFunc
}

func start(t *testing.T, cfg wecomtest.Config, edit func(*Options)) *rig {
	t.Helper()
	fake := wecomtest.New(cfg)
	t.Cleanup(fake.Close)
	c := Config{BotID: fake.Config().BotID, Secret: fake.Config().Secret, WSURL: fake.WSURL(), APIHost: fake.URL(), WebhookKey: fake.Config().WebhookKey}
	if p := c.Check("test"); len(p) > 0 {
		t.Fatal(p)
	}
	r := &rig{fake: fake, h: &handler{}, alerts: &alerttest.Recorder{}, state: &memState{m: map[string]string{}}, done: make(chan error, 1)}
	o := Options{Config: c, Admins: []string{"admin01"}, Known: []string{"admin01", "zhangsan", "lisi"}, State: r.state, Alert: r.alerts,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Logger: zerolog.Nop()}
	if edit != nil {
		edit(&o)
	}
	r.a = New(o)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.a.Run(ctx, r.h) }()
	t.Cleanup(func() { cancel(); <-r.done })
	if !fake.WaitSubscribed(1, 10*time.Second) {
		t.Fatal("never subscribed")
	}
	return r
}

func wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func deliver(t *testing.T, a *Adapter, m bot.Outgoing) error {
	t.Helper()
	return a.Deliver(context.Background(), m, func() error { return nil })
}

var (
	zhang = wecomtest.Sender{UserID: "zhangsan"}
	li    = wecomtest.Sender{UserID: "lisi"}
)

// Inbound: each kind of callback becomes the domain's messages, the sender by
// userid, pictures after the text, media decrypted, a redelivery dropped.
func TestInbound(t *testing.T) {
	r := start(t, wecomtest.Config{}, nil)
	f := r.fake
	doc := []byte("南山村活动方案：五月份开展三次活动。")
	p := f.MustPush(f.Mixed(zhang, "本周典型做法：东风社区开展消防演练。", []byte("photo-1-bytes"), []byte("photo-2-bytes")))
	f.MustPush(wecomtest.Again(f.Mixed(zhang, "本周典型做法：东风社区开展消防演练。"), p))
	f.MustPush(f.Media(li, "file", "南山村活动方案.docx", doc))
	f.MustPush(f.Voice(li, "今天的活动已完成"))
	f.MustPush(f.Event(li, "enter_chat"))
	f.MustPush(f.GroupText(li, "未报"))
	wait(t, "six messages", func() bool { return len(r.h.got()) >= 6 })
	got := r.h.got()
	type want struct {
		kind     schedules.Material
		private  bool
		text     string
		data     string
		fileName string
	}
	for i, w := range []want{
		{schedules.Text, false, "本周典型做法：东风社区开展消防演练。", "", ""},
		{schedules.Image, false, "", "photo-1-bytes", ""},
		{schedules.Image, false, "", "photo-2-bytes", ""},
		{schedules.File, true, "", string(doc), "南山村活动方案.docx"},
		{schedules.Text, true, "今天的活动已完成", "", ""},
		{schedules.Text, false, "未报", "", ""},
	} {
		m := got[i]
		if m.Kind != w.kind || m.Private != w.private || m.Text != w.text || m.FileName != w.fileName || !m.ToBot {
			t.Errorf("message %d: %+v", i, m)
		}
		if w.data != "" {
			rc, err := m.Open(context.Background())
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			var b bytes.Buffer
			_, _ = b.ReadFrom(rc)
			if b.String() != w.data {
				t.Errorf("message %d: data %q", i, b.String())
			}
		}
	}
	if len(got) != 6 || got[0].Sender.Verified != "zhangsan" || got[0].ID != p.MsgID+"#0" {
		t.Errorf("%d messages; first %+v", len(got), got[0])
	}
	if r.a.Status().Platform != "企业微信" || !r.a.Status().Online {
		t.Errorf("status %+v", r.a.Status())
	}
	if r.state.m[stateChatID] != f.Config().ChatID {
		t.Errorf("chatid not kept: %v", r.state.m)
	}
}

// A receipt replies to the reporter's message on the live connection; after
// a reconnect the old req_id is not tried, the receipt is pushed instead.
func TestStaleReqIDNotReused(t *testing.T) {
	r := start(t, wecomtest.Config{}, nil)
	f := r.fake
	f.MustPush(f.GroupText(zhang, "本周典型做法：东风社区。"))
	wait(t, "the report", func() bool { return len(r.h.got()) == 1 })
	receipt := bot.Outgoing{Purpose: bot.Receipt, Text: "已收到 东风社区", Mentions: []bot.Member{{ID: "zhangsan", Name: "zhangsan", Verified: "zhangsan"}}}
	if err := deliver(t, r.a, receipt); err != nil {
		t.Fatal(err)
	}
	f.Drop()
	if !f.WaitSubscribed(2, 10*time.Second) {
		t.Fatal("no reconnect")
	}
	wait(t, "online", func() bool { return r.a.client.Session() == 2 })
	if err := deliver(t, r.a, receipt); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Messages(wecomtest.Reply)); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
	if p := f.Messages(wecomtest.Push); len(p) != 1 || p[0].ChatID != f.Config().ChatID || p[0].ChatType != 2 {
		t.Errorf("pushes %+v", p)
	}
	if refused := f.Refused(wecomtest.Reply); len(refused) != 0 {
		t.Errorf("a stale req_id was tried: %+v", refused)
	}
}

// A second connection kicks ours: the client stops, never dials again, and
// the admins hear it once.
func TestKickedStopsReconnecting(t *testing.T) {
	fake := wecomtest.New(wecomtest.Config{})
	defer fake.Close()
	c := NewClient(ClientOptions{URL: fake.WSURL(), BotID: "aibtest", Secret: "wecomsecret", MinBackoff: time.Millisecond, Logger: zerolog.Nop()})
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	if !fake.WaitSubscribed(1, 10*time.Second) {
		t.Fatal("never subscribed")
	}
	if err := fake.KickBySecondConnection(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrKicked) {
		t.Fatalf("Run returned %v", err)
	}
	if fake.Dials() != 2 { // ours and the second instance's
		t.Errorf("%d dials: the kicked client reconnected", fake.Dials())
	}

	r := start(t, wecomtest.Config{}, nil)
	if err := r.fake.KickBySecondConnection(); err != nil {
		t.Fatal(err)
	}
	wait(t, "the alert", func() bool { return r.alerts.Count("另一个程序") == 1 })
	if st := r.a.Status(); st.Online || !strings.Contains(st.State, "不再重连") {
		t.Errorf("status %+v", st)
	}
}

func TestConnectionFailures(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(*wecomtest.Server)
		opts  func(*ClientOptions)
		// wantErr: Run ends with it; else the client subscribes again.
		wantErr error
	}{
		{"subscribe throttled, then accepted", func(s *wecomtest.Server) { s.FailSubscribes(45009, 45009) }, nil, nil},
		{"wrong secret", nil, func(o *ClientOptions) { o.Secret = "nope" }, ErrCredentials},
		{"pings unanswered", func(s *wecomtest.Server) { s.IgnorePings(true) }, func(o *ClientOptions) { o.PingEvery = 5 * time.Millisecond }, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := wecomtest.New(wecomtest.Config{})
			defer fake.Close()
			if tt.setup != nil {
				tt.setup(fake)
			}
			o := ClientOptions{URL: fake.WSURL(), BotID: "aibtest", Secret: "wecomsecret", MinBackoff: time.Millisecond, Logger: zerolog.Nop()}
			if tt.opts != nil {
				tt.opts(&o)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- NewClient(o).Run(ctx) }()
			if tt.wantErr != nil {
				if err := <-done; !errors.Is(err, tt.wantErr) {
					t.Errorf("Run returned %v", err)
				}
				return
			}
			n := 1
			if tt.name == "pings unanswered" {
				n = 2
			}
			if !fake.WaitSubscribed(n, 10*time.Second) {
				t.Errorf("not subscribed %d times (%d subscribes)", n, fake.Subscribes())
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run returned %v", err)
			}
		})
	}
}

// A tenant that refuses proactive group pushes: the reminder goes through
// the webhook in the same delivery, later ones straight there, the admins
// hear it once, and the choice survives a restart.
func TestGroupPushRefusedTakesWebhook(t *testing.T) {
	r := start(t, wecomtest.Config{}, nil)
	f := r.fake
	f.RefuseGroupPushes(true)
	f.MustPush(f.GroupText(li, "任务"))
	wait(t, "the group", func() bool { return len(r.h.got()) == 1 })
	for _, text := range []string{"【提醒】第一条", "【提醒】第二条"} {
		if err := deliver(t, r.a, bot.Outgoing{Purpose: bot.Reminder, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	if hook := f.Messages(wecomtest.Webhook); len(hook) != 2 || hook[0].Text != "【提醒】第一条" {
		t.Errorf("webhook %+v", hook)
	}
	if n := len(f.Refused(wecomtest.Push)); n != 2 { // the reminder, and the admin's 1:1 (admin01 never wrote to the bot)
		t.Errorf("%d refused pushes", n)
	}
	if n := r.alerts.Count("群机器人"); n != 1 {
		t.Errorf("admins told %d times", n)
	}
	if r.state.m[statePushRefused] != "1" {
		t.Errorf("not kept: %v", r.state.m)
	}

	// Without a webhook the reminder waits and the admins learn what to configure.
	r2 := start(t, wecomtest.Config{}, func(o *Options) { o.Config.WebhookKey = "" })
	r2.fake.RefuseGroupPushes(true)
	r2.fake.MustPush(r2.fake.GroupText(li, "任务"))
	wait(t, "the group", func() bool { return len(r2.h.got()) == 1 })
	err := deliver(t, r2.a, bot.Outgoing{Purpose: bot.Reminder, Text: "【提醒】"})
	var de *bot.DeliveryError
	if !errors.As(err, &de) || !de.Held {
		t.Errorf("err %v, want held", err)
	}
	if r2.alerts.Count("webhook_key") != 1 {
		t.Errorf("alerts %v", r2.alerts.All())
	}
}

// Nudges go through the webhook with a real @ (mentioned_list), within its
// 20 a minute; the bot's own pushes keep to 30 a minute per conversation.
func TestMentionsAndLimits(t *testing.T) {
	now := time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC)
	r := start(t, wecomtest.Config{}, func(o *Options) { o.Now = func() time.Time { return now } })
	f := r.fake
	f.MustPush(f.GroupText(li, "任务"))
	wait(t, "the group", func() bool { return len(r.h.got()) == 1 })
	nudge := bot.Outgoing{Purpose: bot.Nudge, Text: "【催报】@lisi 请报送", Mentions: []bot.Member{{ID: "lisi", Name: "lisi"}, {ID: "王五", Name: "王五"}}}
	for i := range 21 {
		err := deliver(t, r.a, nudge)
		if i < 20 && err != nil {
			t.Fatal(err)
		}
		if i == 20 {
			if outcome, wait := bot.OutcomeOf(err, false); outcome != bot.NotSent || wait <= 0 {
				t.Errorf("21st webhook send: %v", err)
			}
		}
	}
	hook := f.Messages(wecomtest.Webhook)
	if len(hook) != 20 || strings.Join(hook[0].Mentioned, ",") != "lisi" || len(f.Refused(wecomtest.Webhook)) != 0 {
		t.Errorf("%d webhook messages, first @ %v", len(hook), hook[0].Mentioned)
	}
	for i := range 31 {
		err := deliver(t, r.a, bot.Outgoing{Purpose: bot.Reminder, Text: "【提醒】"})
		if i == 30 {
			if outcome, _ := bot.OutcomeOf(err, false); err == nil || outcome != bot.NotSent {
				t.Errorf("31st push: %v", err)
			}
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if n, refused := len(f.Messages(wecomtest.Push)), len(f.Refused(wecomtest.Push)); n != 30 || refused != 0 {
		t.Errorf("%d pushes, %d refused", n, refused)
	}
}

// Encrypted userids: the admins hear once, and nudges stop naming ids in
// mentioned_list.
func TestEncryptedUserIDs(t *testing.T) {
	r := start(t, wecomtest.Config{}, nil)
	f := r.fake
	enc := wecomtest.Sender{UserID: "woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA"}
	f.MustPush(f.GroupText(enc, "任务"))
	f.MustPush(f.GroupText(enc, "帮助"))
	wait(t, "two messages", func() bool { return len(r.h.got()) == 2 })
	if n := r.alerts.Count("加密"); n != 1 {
		t.Errorf("told %d times: %v", n, r.alerts.All())
	}
	if err := deliver(t, r.a, bot.Outgoing{Purpose: bot.Nudge, Text: "【催报】@东风社区", Mentions: []bot.Member{{ID: enc.UserID, Name: "东风社区"}}}); err != nil {
		t.Fatal(err)
	}
	if hook := f.Messages(wecomtest.Webhook); len(hook) != 1 || len(hook[0].Mentioned) != 0 {
		t.Errorf("webhook %+v", hook)
	}
}

// An export goes 1:1 as a file, uploaded in chunks over the connection.
func TestFileToMember(t *testing.T) {
	r := start(t, wecomtest.Config{}, nil)
	f := r.fake
	f.MustPush(f.PrivateText(li, "导出"))
	wait(t, "the command", func() bool { return len(r.h.got()) == 1 })
	path := t.TempDir() + "/汇总.xlsx"
	data := bytes.Repeat([]byte("表"), 300<<10) // 900 KiB: two chunks
	if err := writeFile(path, data); err != nil {
		t.Fatal(err)
	}
	if err := deliver(t, r.a, bot.Outgoing{Purpose: bot.FileFor, To: bot.Member{ID: "lisi", Name: "lisi", Verified: "lisi"}, File: path}); err != nil {
		t.Fatal(err)
	}
	p := f.Messages(wecomtest.Push)
	if len(p) != 1 || p[0].ChatID != "lisi" || p[0].ChatType != 1 || p[0].FileName != "汇总.xlsx" || !bytes.Equal(p[0].Data, data) {
		t.Errorf("pushes %d", len(p))
	}
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }
