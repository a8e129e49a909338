package dingtalk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/alert/alerttest"
	"reportbot/bot"
	"reportbot/dingtalk"
	"reportbot/dingtalk/dingtalktest"
)

// inbox is a bot.Handler that keeps what it is given.
type inbox struct {
	mu   sync.Mutex
	msgs []bot.Message
}

func (in *inbox) Handle(_ context.Context, m bot.Message) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.msgs = append(in.msgs, m)
	return nil
}

func (in *inbox) wait(t *testing.T, n int) []bot.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		in.mu.Lock()
		got := append([]bot.Message(nil), in.msgs...)
		in.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages handled, want %d", len(got), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// memState is a bot.StateStore in memory.
type memState struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *memState) Get(k string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[k], nil
}

func (s *memState) Put(k, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = v
	return nil
}

type setup struct {
	fake  *dingtalktest.Server
	a     *dingtalk.Adapter
	in    *inbox
	state *memState
	alert *alerttest.Recorder
	stop  func()
}

var zhang = dingtalktest.Sender{StaffID: "user001", Nick: "东风社区-张三"}

// start runs an adapter against a fake 钉钉; cfg tweaks the adapter's config.
func start(t *testing.T, withRobot bool, cfg func(*dingtalk.Config)) *setup {
	t.Helper()
	fake := dingtalktest.New(dingtalktest.Config{})
	t.Cleanup(fake.Close)
	c := dingtalk.Config{ClientID: "dingapp", ClientSecret: "appsecret", APIURL: fake.URL(), OapiURL: fake.URL(), GatewayURL: fake.URL()}
	if withRobot {
		c.Webhook, c.WebhookSecret = fake.RobotURL(), fake.Config().RobotSecret
	}
	if cfg != nil {
		cfg(&c)
	}
	if p := c.Check("test"); len(p) > 0 {
		t.Fatal(p)
	}
	s := &setup{fake: fake, in: &inbox{}, state: &memState{m: map[string]string{}}, alert: &alerttest.Recorder{}}
	s.a = dingtalk.New(dingtalk.Options{Config: c, Admins: []string{"admin01", "王科长"}, State: s.state, Alert: s.alert,
		Logger: zerolog.Nop(), StartBackoff: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.a.Run(ctx, s.in) }()
	s.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(func() {
		if s.stop != nil {
			s.stop()
		}
	})
	if !fake.WaitDials(1, 10*time.Second) {
		t.Fatal("the adapter never connected")
	}
	return s
}

func begun(n *int) func() error { return func() error { *n++; return nil } }

func TestInboundThroughTheRealSDK(t *testing.T) {
	s := start(t, false, nil)
	p := s.fake.Push(s.fake.GroupText(zhang, "本周典型做法：消防演练"))
	if ack, ok := s.fake.WaitAck(p.MessageID, 5*time.Second); !ok || ack.Code != 200 {
		t.Fatalf("ack %+v %v", ack, ok)
	}
	photo := []byte("\x89PNG fake photo")
	s.fake.Push(s.fake.RichText(zhang, "入户检查", photo))
	s.fake.Push(s.fake.QuotedFile(zhang, "活动方案", "东风社区活动方案.docx", []byte("docx bytes")))
	// Frames are handled as they come, each callback's messages in order; the
	// three callbacks may overtake each other.
	byText := map[string]bot.Message{}
	var image, file bot.Message
	for _, m := range s.in.wait(t, 5) {
		switch m.Kind {
		case "text":
			byText[m.Text] = m
		case "image":
			image = m
		case "file":
			file = m
		}
	}
	if m := byText["本周典型做法：消防演练"]; m.Sender.Verified != "user001" || !m.ToBot || m.Private {
		t.Errorf("the text: %+v", m)
	}
	if byText["入户检查"].ID != image.ID[:len(image.ID)-1]+"0" || file.FileName != "东风社区活动方案.docx" {
		t.Errorf("richText %q then %q; quoted file %q", byText["入户检查"].ID, image.ID, file.FileName)
	}
	rc, err := image.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != string(photo) {
		t.Errorf("downloaded %q", b)
	}
	// The group is learned from its first message and kept.
	if v, _ := s.state.Get("conversation"); v != s.fake.Config().Group.ID {
		t.Errorf("conversation kept %q", v)
	}
	if st := s.a.Status(); !st.Online || st.Platform != "钉钉" || st.LastMessage.IsZero() {
		t.Errorf("status %+v", st)
	}
}

func TestRoutes(t *testing.T) {
	for _, tt := range []struct {
		name      string
		robot     bool
		expire    bool // the group's sessionWebhook has expired
		msg       bot.Outgoing
		channel   dingtalktest.Channel
		text      string   // the text as sent contains this
		atUserIDs []string // nil: none
	}{
		{"answer through the session webhook", false, false,
			bot.Outgoing{Purpose: bot.Answer, Text: "未报 1：南山村"}, dingtalktest.Session, "未报 1：南山村", nil},
		{"receipt addressed to the reporter", false, false,
			bot.Outgoing{Purpose: bot.Receipt, Text: "已收到 东风社区", Mentions: []bot.Member{{ID: "user001", Name: "东风社区-张三", Verified: "user001"}}},
			dingtalktest.Session, "@user001 已收到 东风社区", []string{"user001"}},
		{"receipt after the webhook expired: the custom robot", true, true,
			bot.Outgoing{Purpose: bot.Receipt, Text: "已收到 东风社区", Mentions: []bot.Member{{ID: "user001", Name: "东风社区-张三", Verified: "user001"}}},
			dingtalktest.Robot, "@user001 已收到 东风社区", []string{"user001"}},
		{"receipt after the webhook expired, no robot: the group API", false, true,
			bot.Outgoing{Purpose: bot.Receipt, Text: "已收到 东风社区"}, dingtalktest.Group, "已收到 东风社区", nil},
		{"reminder: the group API", true, false,
			bot.Outgoing{Purpose: bot.Reminder, Text: "【提醒】明天截止"}, dingtalktest.Group, "【提醒】明天截止", nil},
		{"roll-call: the custom robot with real @", true, false,
			bot.Outgoing{Purpose: bot.Rollcall, Text: "【点名】\n东风社区：@东风社区-张三", Mentions: []bot.Member{{ID: "东风社区-张三", Name: "东风社区-张三"}}},
			dingtalktest.Robot, "东风社区：@user001", []string{"user001"}},
		{"roll-call without a robot: names in the text", false, false,
			bot.Outgoing{Purpose: bot.Rollcall, Text: "【点名】\n东风社区：@东风社区-张三", Mentions: []bot.Member{{ID: "东风社区-张三", Name: "东风社区-张三"}}},
			dingtalktest.Group, "东风社区：@东风社区-张三", nil},
		{"private answer", false, false,
			bot.Outgoing{Purpose: bot.Answer, To: bot.Member{ID: "user001", Name: "东风社区-张三", Verified: "user001"}, Text: "已绑定"},
			dingtalktest.Session, "已绑定", nil},
		{"admins: 1:1 to their staffIds", false, false,
			bot.Outgoing{Purpose: bot.AdminNotice, ToAdmins: true, Text: "日程已更新"}, dingtalktest.Private, "日程已更新", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, tt.robot, nil)
			s.fake.Push(s.fake.GroupText(zhang, "任务"))
			s.fake.Push(s.fake.PrivateText(zhang, "绑定 东风社区"))
			s.in.wait(t, 2)
			if tt.expire {
				s.fake.ExpireSessions()
			}
			before := len(s.fake.Messages(tt.channel))
			n := 0
			if err := s.a.Deliver(context.Background(), tt.msg, begun(&n)); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("begin called %d times", n)
			}
			sent := s.fake.Messages(tt.channel)[before:]
			if len(sent) != 1 {
				t.Fatalf("%d messages on %s: %+v", len(sent), tt.channel, sent)
			}
			if m := sent[0]; !strings.Contains(m.Text, tt.text) || strings.Join(m.AtUserIDs, ",") != strings.Join(tt.atUserIDs, ",") || m.Error != "" {
				t.Errorf("sent %q at %v (error %q); want %q at %v", m.Text, m.AtUserIDs, m.Error, tt.text, tt.atUserIDs)
			}
			if tt.channel == dingtalktest.Private && strings.Join(sent[0].UserIDs, ",") != "admin01" {
				t.Errorf("1:1 to %v, want the admin written as a staffId", sent[0].UserIDs)
			}
		})
	}
}

func TestFileToAMember(t *testing.T) {
	s := start(t, false, nil)
	path := filepath.Join(t.TempDir(), "报送统计表.xlsx")
	if err := os.WriteFile(path, []byte("xlsx bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := s.a.Deliver(context.Background(), bot.Outgoing{Purpose: bot.FileFor, To: bot.Member{ID: "admin01", Name: "王科长", Verified: "admin01"}, File: path}, begun(&n))
	if err != nil {
		t.Fatal(err)
	}
	ups := s.fake.Uploads()
	sent := s.fake.Messages(dingtalktest.Private)
	if len(ups) != 1 || ups[0].FileName != "报送统计表.xlsx" || len(sent) != 1 || sent[0].MediaID != ups[0].MediaID || sent[0].FileName != "报送统计表.xlsx" {
		t.Errorf("uploads %+v, sent %+v", ups, sent)
	}
}

// Until the group is known, group messages wait in the outbox (retryable, not
// begun) and the admins hear once how to fix it.
func TestGroupUnknownWaits(t *testing.T) {
	s := start(t, false, nil)
	for range 2 {
		n := 0
		err := s.a.Deliver(context.Background(), bot.Outgoing{Purpose: bot.Reminder, Text: "【提醒】"}, begun(&n))
		if o, _ := bot.OutcomeOf(err, false); err == nil || o != bot.NotSent || n != 0 {
			t.Fatalf("err %v outcome %v begun %d", err, o, n)
		}
	}
	told := s.fake.Messages(dingtalktest.Private)
	if len(told) != 1 || !strings.Contains(told[0].Text, "@机器人说一句话") {
		t.Errorf("admins told %+v", told)
	}
	s.fake.Push(s.fake.GroupText(zhang, "任务"))
	s.in.wait(t, 1)
	n := 0
	if err := s.a.Deliver(context.Background(), bot.Outgoing{Purpose: bot.Reminder, Text: "【提醒】"}, begun(&n)); err != nil {
		t.Fatal(err)
	}
}

func TestReconnectsAfterADrop(t *testing.T) {
	s := start(t, false, nil)
	s.fake.Drop()
	if !s.fake.WaitDials(2, 15*time.Second) {
		t.Fatal("no reconnect")
	}
	s.fake.Push(s.fake.GroupText(zhang, "本周典型做法：重连以后"))
	if got := s.in.wait(t, 1); got[0].Text != "本周典型做法：重连以后" {
		t.Errorf("got %+v", got)
	}
}

func TestRefusedCredentialsEndRun(t *testing.T) {
	fake := dingtalktest.New(dingtalktest.Config{})
	defer fake.Close()
	a := dingtalk.New(dingtalk.Options{Config: dingtalk.Config{ClientID: "dingapp", ClientSecret: "wrong",
		APIURL: fake.URL(), OapiURL: fake.URL(), GatewayURL: fake.URL()}, Logger: zerolog.Nop()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := a.Run(ctx, &inbox{})
	if !errors.Is(err, dingtalk.ErrCredentials) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("Run = %v; want ErrCredentials without the secret", err)
	}
}

// The SDK never retries a first Start that failed: the adapter does, while the
// failure is the gateway's or the network's, and connects once it can.
func TestFirstStartRetried(t *testing.T) {
	fake := dingtalktest.New(dingtalktest.Config{})
	defer fake.Close()
	fake.RefuseOpens(2)
	a := dingtalk.New(dingtalk.Options{Config: dingtalk.Config{ClientID: "dingapp", ClientSecret: "appsecret",
		APIURL: fake.URL(), OapiURL: fake.URL(), GatewayURL: fake.URL()}, Logger: zerolog.Nop(), StartBackoff: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, &inbox{}) }()
	if !fake.WaitDials(1, 10*time.Second) {
		t.Fatalf("never connected after %d open calls", fake.OpenCalls())
	}
	if n := fake.OpenCalls(); n != 3 {
		t.Errorf("%d open calls, want 2 refused and 1 taken", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

// A stop that comes once a message has begun to leave does not cut its request
// short: it arrives, and the outbox hears it was delivered.
func TestSendInFlightFinishesAfterAStop(t *testing.T) {
	s := start(t, false, nil)
	s.fake.Push(s.fake.GroupText(zhang, "任务"))
	s.in.wait(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	err := s.a.Deliver(ctx, bot.Outgoing{Purpose: bot.Reminder, Text: "【提醒】停机时正在发"}, func() error { cancel(); return nil })
	if err != nil {
		t.Fatalf("Deliver = %v", err)
	}
	if sent := s.fake.Messages(dingtalktest.Group); len(sent) != 1 || sent[0].Text != "【提醒】停机时正在发" {
		t.Errorf("sent %+v", sent)
	}
}

type slowInbox struct {
	mu  sync.Mutex
	got []string
}

func (s *slowInbox) Handle(ctx context.Context, m bot.Message) error {
	time.Sleep(100 * time.Millisecond) // a store commit, a download
	s.mu.Lock()
	s.got = append(s.got, m.Text)
	s.mu.Unlock()
	return nil
}

// Frames are acknowledged as they arrive; a stop must not drop those acked but
// not yet handled: 钉钉 will never deliver them again.
func TestStopHandlesAcknowledgedFrames(t *testing.T) {
	fake := dingtalktest.New(dingtalktest.Config{})
	defer fake.Close()
	c := dingtalk.Config{ClientID: "dingapp", ClientSecret: "appsecret", APIURL: fake.URL(), OapiURL: fake.URL(), GatewayURL: fake.URL()}
	a := dingtalk.New(dingtalk.Options{Config: c, State: &memState{m: map[string]string{}}, Logger: zerolog.Nop(), StartBackoff: 20 * time.Millisecond})
	in := &slowInbox{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, in) }()
	if !fake.WaitDials(1, 10*time.Second) {
		t.Fatal("no dial")
	}
	var ps []dingtalktest.Pushed
	for i := range 5 {
		ps = append(ps, fake.Push(fake.GroupText(zhang, fmt.Sprintf("报送%d", i))))
	}
	for _, p := range ps {
		if ack, ok := fake.WaitAck(p.MessageID, 5*time.Second); !ok || ack.Code != 200 {
			t.Fatalf("ack %+v %v", ack, ok)
		}
	}
	cancel()
	<-done
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.got) != 5 {
		t.Errorf("5 frames acknowledged, %d handled before Run returned: %q", len(in.got), in.got)
	}
}

// Admins written by name, not staffId, cannot be reached 1:1 on 钉钉: their
// notices go through the alert webhook instead of nowhere.
func TestAdminNoticeWithoutStaffIDsGoesToTheAlert(t *testing.T) {
	al := &alerttest.Recorder{}
	a := dingtalk.New(dingtalk.Options{Config: dingtalk.Config{ClientID: "dingapp", ClientSecret: "s"}, Admins: []string{"王科长"},
		Alert: al, Logger: zerolog.Nop()})
	n := 0
	if err := a.Deliver(context.Background(), bot.Outgoing{Purpose: bot.AdminNotice, ToAdmins: true, Text: "日程已更新"}, begun(&n)); err != nil {
		t.Fatal(err)
	}
	if got := al.All(); n != 1 || len(got) != 1 || got[0] != "日程已更新" {
		t.Errorf("begun %d, alerts %q", n, got)
	}
}
