package wechat_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

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

// recorder is a Handler that keeps what it gets, reading media at once.
type recorder struct {
	mu    sync.Mutex
	msgs  []bot.Message
	media map[string][]byte
	errs  map[string]error
}

func (r *recorder) Handle(_ context.Context, m bot.Message) error {
	var data []byte
	var err error
	if m.Open != nil {
		var rc io.ReadCloser
		if rc, err = m.Open(); err == nil {
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

type alerts struct {
	mu   sync.Mutex
	sent []string
}

func (a *alerts) Alert(_ context.Context, text string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sent = append(a.sent, text)
	return nil
}

func (a *alerts) all() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.sent...)
}

type setup struct {
	fake    *wxtest.Server
	adapter *wechat.Adapter
	alerts  *alerts
	qr      *bytes.Buffer
	dir     string
}

// newAdapter makes an adapter against the fake with quick test timings; more
// changes the options further.
func newAdapter(t *testing.T, f *wxtest.Server, dir string, more ...func(*wechat.Options)) *setup {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s := &setup{fake: f, alerts: &alerts{}, qr: &bytes.Buffer{}, dir: dir}
	o := wechat.Options{Group: group, DataDir: dir, Transport: f.Transport(), QR: s.qr,
		Alert: s.alerts, Interval: 20 * time.Millisecond, MediaBackoff: 10 * time.Millisecond,
		ReconnectBackoff: 20 * time.Millisecond, Logger: zerolog.Nop()}
	for _, m := range more {
		m(&o)
	}
	s.adapter = wechat.New(o)
	return s
}

// run logs in and runs the adapter until the test ends.
func (s *setup) run(t *testing.T, h wechat.Handler) {
	t.Helper()
	if err := s.adapter.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.adapter.Run(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func TestQRLoginFindsGroup(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "")
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
	if !s.adapter.Connected() {
		t.Error("not connected")
	}
}

func TestQRImageWrittenWhileWaiting(t *testing.T) {
	f := newFake(t)
	f.Slow(300 * time.Millisecond) // the scan takes a while: the PNG is there meanwhile
	s := newAdapter(t, f, "")
	done := make(chan error)
	go func() { done <- s.adapter.Login(context.Background()) }()
	png := filepath.Join(s.dir, wechat.QRFile)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(png); err == nil && bytes.HasPrefix(b, []byte("\x89PNG")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no QR code PNG while waiting for the scan")
		}
		time.Sleep(20 * time.Millisecond)
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
	check(text, m.From == "东风社区-张三" && m.Text == "本周典型做法：开展消防演练" && !m.ToBot && !m.Private && m.Remark == "", "group text")
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
	check(priv, m.Private && m.From == "街道应急办-王科" && m.Remark == "王科长", "private message from an admin")
	// One sender's messages are handled in the order they came.
	var ids []string
	for _, m := range got {
		if m.From == "东风社区-张三" {
			ids = append(ids, m.ID)
		}
	}
	if want := []string{text, at, img, file, video, recall}; !slices.Equal(ids, want) {
		t.Errorf("order %v, want %v", ids, want)
	}
}

func TestImpostorHasNoRemark(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "")
	rec := &recorder{}
	s.run(t, rec)
	real := f.Text("wangke", "标记 东风社区 典型做法 免报", false)
	fake := f.Text("fake", "标记 东风社区 典型做法 免报", false)
	got := rec.wait(t, 2)
	for _, m := range got {
		if m.From != "街道应急办-王科" {
			t.Errorf("display name %q", m.From)
		}
		if m.ID == real && m.Remark != "王科长" || m.ID == fake && m.Remark != "" {
			t.Errorf("message %s from %s has remark %q", m.ID, m.From, m.Remark)
		}
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

func TestOutboundMentionsPrivateAndFiles(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "")
	s.run(t, &recorder{})
	ctx := context.Background()
	s.adapter.Send(ctx, bot.Outgoing{Text: "【催报】\n东风社区：@东风社区-张三 @张三丰", Mentions: []string{"东风社区-张三", "张三丰"}})
	s.adapter.Send(ctx, bot.Outgoing{To: "街道应急办-王科", Text: "已标记"})
	s.adapter.Send(ctx, bot.Outgoing{To: "东风社区-张三", Text: "还不知道您是哪个单位的"})
	path := filepath.Join(t.TempDir(), "活动情况统计表.xlsx")
	os.WriteFile(path, []byte("PK xlsx"), 0o600)
	if err := s.adapter.SendFile(ctx, "街道应急办-王科", path); err != nil {
		t.Fatal(err)
	}
	if err := s.adapter.SendFile(ctx, "", filepath.Join(t.TempDir(), "missing.xlsx")); err == nil {
		t.Error("a missing file was queued")
	}
	sent := f.WaitSent(4, 10*time.Second)
	if len(sent) != 4 {
		t.Fatalf("sent %v", sent)
	}
	if sent[0].To != "group:"+group || sent[0].Content != "【催报】\n东风社区：@东风社区-张三\u2005@张三丰\u2005" {
		t.Errorf("mentions: %+v", sent[0])
	}
	if sent[1].To != "friend:王科" || sent[1].Content != "已标记" {
		t.Errorf("private to a friend: %+v", sent[1])
	}
	if sent[2].To != "group:"+group || sent[2].Content != "@东风社区-张三\u2005还不知道您是哪个单位的" {
		t.Errorf("private to a non-friend goes to the group, addressed: %+v", sent[2])
	}
	if sent[3].Kind != "file" || sent[3].To != "friend:王科" || sent[3].FileName != "活动情况统计表.xlsx" {
		t.Errorf("file: %+v", sent[3])
	}
}

func TestThrottlingSlowsTheQueue(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "")
	s.run(t, &recorder{})
	f.Throttle(2)
	for i := 0; i < 3; i++ {
		s.adapter.Send(context.Background(), bot.Outgoing{Text: "消息" + string(rune('A'+i))})
	}
	sent := f.WaitSent(3, 10*time.Second)
	if len(sent) != 3 || sent[0].Content != "消息A" || sent[2].Content != "消息C" {
		t.Fatalf("sent %+v", sent)
	}
	// After two 1205 answers the interval is 4× the base (20ms): 80ms.
	if got := s.adapter.Interval(); got < 40*time.Millisecond {
		t.Errorf("interval after throttling %v, want slower than the base 20ms", got)
	}
	if gap := sent[1].At.Sub(sent[0].At); gap < 40*time.Millisecond {
		t.Errorf("gap after throttling %v", gap)
	}
}

func TestExpiryReconnectsWithoutLosingOrRepeating(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "")
	rec := &recorder{}
	s.run(t, rec)
	f.Text("zhangsan", "第一条", false)
	rec.wait(t, 1)
	f.Expire(1101)
	ctx := context.Background()
	for _, text := range []string{"一", "二", "三"} {
		s.adapter.Send(ctx, bot.Outgoing{Text: text})
	}
	sent := f.WaitSent(3, 10*time.Second)
	var got []string
	for _, m := range sent {
		got = append(got, m.Content)
	}
	if strings.Join(got, ",") != "一,二,三" {
		t.Errorf("sent %v, want each once, in order", got)
	}
	logins := f.Logins()
	if len(logins) < 2 || logins[1] != "push" {
		t.Errorf("logins %v, want a push login after the expiry", logins)
	}
	if len(s.alerts.all()) != 0 {
		t.Errorf("alerted though no scan was needed: %v", s.alerts.all())
	}
	// Messages keep coming in after the re-login, with the new ids.
	f.Text("zhangsan", "第二条", false)
	if m := rec.wait(t, 2)[1]; m.From != "东风社区-张三" || m.Text != "第二条" {
		t.Errorf("after re-login: %+v", m)
	}
}

func TestExpiryNeedingAScanAlertsTheAdmins(t *testing.T) {
	f := newFake(t)
	s := newAdapter(t, f, "")
	s.run(t, &recorder{})
	f.DisablePushLogin(true)
	f.Expire(1102)
	deadline := time.Now().Add(10 * time.Second)
	for len(f.Logins()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := f.Logins(); len(got) < 2 || got[len(got)-1] != "qr" {
		t.Fatalf("logins %v, want a QR login after hot and push failed", got)
	}
	for time.Now().Before(deadline) && len(s.alerts.all()) < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	al := s.alerts.all()
	if len(al) != 2 || !strings.Contains(al[0], "扫码") || !strings.Contains(al[0], wechat.QRFile) || !strings.Contains(al[1], "已重新登录") {
		t.Errorf("alerts %q", al)
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
	second.adapter.SendFile(context.Background(), "", path)
	sent := f.WaitSent(1, 10*time.Second)
	if len(sent) != 1 || sent[0].FileName != "汇编.docx" {
		t.Errorf("upload after hot login: %+v (the data ticket cookie must reach file.wx.qq.com)", sent)
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
	if got := s.alerts.all(); len(got) != 0 {
		t.Errorf("a network outage alerted the admins to scan: %q", got)
	}
}

func TestFriendRequestsFromMembers(t *testing.T) {
	f := newFake(t)
	rec := &recorder{}
	newAdapter(t, f, "", func(o *wechat.Options) { o.AcceptFriends = true }).run(t, rec)

	f.FriendRequest(wxtest.Contact{ID: "stranger", NickName: "陌生人"})
	f.FriendRequest(wxtest.Contact{ID: "zhangsan", NickName: "张三"})
	deadline := time.Now().Add(10 * time.Second)
	for !f.IsFriend("zhangsan") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !f.IsFriend("zhangsan") || f.IsFriend("stranger") {
		t.Fatalf("friends: member %v, stranger %v", f.IsFriend("zhangsan"), f.IsFriend("stranger"))
	}
	// The new friend's private messages come with their group display name.
	f.PrivateText("zhangsan", "我报了吗")
	if m := rec.wait(t, 1)[0]; !m.Private || m.From != "东风社区-张三" || m.Remark != "" {
		t.Errorf("private message from the new friend: %+v", m)
	}
}

func TestToAdminsGoesToEachAdminFriend(t *testing.T) {
	f := newFake(t)
	f.Friends = append(f.Friends, wxtest.Contact{ID: "zhangsan", NickName: "张三", RemarkName: "张三（东风）"})
	s := newAdapter(t, f, "", func(o *wechat.Options) { o.Admins = []string{"王科长", "不是好友的管理员"} })
	s.run(t, &recorder{})
	s.adapter.Send(context.Background(), bot.Outgoing{ToAdmins: true, Text: "日程文件有错误"})
	f.WaitSent(1, 10*time.Second)
	time.Sleep(100 * time.Millisecond) // anything more would come now
	sent := f.SentMessages()
	if len(sent) != 1 || sent[0].To != "friend:王科" || sent[0].Content != "日程文件有错误" {
		t.Errorf("sent %+v, want one private message to the admin who is a friend", sent)
	}
	if got := s.alerts.all(); len(got) != 0 {
		t.Errorf("alerted %q though an admin was reachable", got)
	}
}
