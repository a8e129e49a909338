package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/console"
	"reportbot/wechat"
	"reportbot/wechat/wxtest"
)

const e2eGroup = "XX街道安全生产工作群"

// newFakeWeChat is a fake server whose group has the example config's members,
// the admin as a friend with the remark name the config names, and an impostor
// who set their display name to the admin's.
func newFakeWeChat(t *testing.T) *wxtest.Server {
	t.Helper()
	f := wxtest.New(e2eGroup)
	f.Others = []string{"家庭群"}
	f.Members = []wxtest.Contact{
		{ID: "zhangsan", NickName: "张三", DisplayName: "东风社区-张三"},
		{ID: "lisi", NickName: "李四", DisplayName: "西湖社区-李四"},
		{ID: "wangwu", NickName: "王五", DisplayName: "南山村-王五"},
		{ID: "zhaoliu", NickName: "赵六", DisplayName: "北岭村-赵六"},
		{ID: "liuyang", NickName: "刘洋", DisplayName: ""},
		{ID: "chenjing", NickName: "陈静", DisplayName: "陈静"},
		{ID: "wangke", NickName: "王科", DisplayName: "街道应急办-王科"},
		{ID: "impostor", NickName: "小号", DisplayName: "街道应急办-王科"},
	}
	f.Friends = []wxtest.Contact{{ID: "wangke", NickName: "王科", RemarkName: "王科长"}}
	t.Cleanup(f.Close)
	return f
}

type e2e struct {
	fake  *wxtest.Server
	app   *App
	chat  *wechat.Adapter
	stop  func()
	clock *console.Clock
}

// startE2E runs the bot over the example files in the fake group. The domain's
// clock is fake (Advance moves it); the WeChat side runs in real time.
func startE2E(t *testing.T) *e2e {
	return startE2EAt(t, t.TempDir(), "2026-06-03 08:00")
}

// startE2EAt runs the bot over the data directory dir from the time at; stop
// ends it (the test's cleanup does, if the test did not).
func startE2EAt(t *testing.T, dir, at string) *e2e {
	t.Helper()
	f, clock := e2eFiles(t, at)
	e := &e2e{fake: newFakeWeChat(t), clock: clock}
	wiring := &late{name: "wechat"} // as newTransport wires it for reportbot run
	e.chat = wechat.New(wechat.Options{Group: e2eGroup, DataDir: dir, Transport: e.fake.Transport(),
		Interval: 5 * time.Millisecond, MediaBackoff: 5 * time.Millisecond, ReconnectBackoff: 10 * time.Millisecond, Logger: zerolog.Nop(),
		OnOnline: wiring.wake})
	var err error
	e.app, err = OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: dir,
		Transport: e.chat, Now: e.clock.Now, SetClock: e.clock.Set, Logger: zerolog.Nop(), Async: true})
	if err != nil {
		t.Fatal(err)
	}
	wiring.attach(e.app)
	if err := e.chat.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.stop = runE2E(t, e.app, e.chat)
	return e
}

func (e *e2e) advance(t *testing.T, to string) {
	t.Helper()
	advanceApp(t, e.app, e.clock.Now().Location(), to)
}

// eventually waits for cond, which reads what the bot did.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// messageWith waits until msgs holds a message whose text contains substr,
// and returns it: the 钉钉 and 企业微信 fakes' messages alike.
func messageWith[M any](t *testing.T, what string, msgs func() []M, text func(M) string, substr string) M {
	t.Helper()
	var found M
	eventually(t, what, func() bool {
		for _, m := range msgs() {
			if strings.Contains(text(m), substr) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// countWith is how many of msgs have a text containing substr.
func countWith[M any](msgs []M, text func(M) string, substr string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(text(m), substr) {
			n++
		}
	}
	return n
}

// receiptOwed waits until stored() is n and the receipt is planned: the bot
// stores a submission before it plans the receipt, so a clock moved on
// between the two would pass the receipt's time before it is planned, and
// nothing would send it.
func receiptOwed(t *testing.T, app *App, what string, stored func() int, n int) {
	t.Helper()
	eventually(t, what, func() bool {
		_, owed := app.Bot.NextWake()
		return stored() == n && owed
	})
}

func (e *e2e) stored(t *testing.T, task string, period int) int {
	t.Helper()
	subs, err := e.app.Store.PeriodSubmissions(task, period)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range subs {
		if !s.Withdrawn {
			n++
		}
	}
	return n
}

// sentTexts are the texts the fake group and friends got, as "to: content".
func (e *e2e) sentTexts() []string {
	var out []string
	for _, s := range e.fake.SentMessages() {
		out = append(out, s.To+": "+s.Content)
	}
	return out
}

func (e *e2e) waitSent(t *testing.T, substr string) string {
	t.Helper()
	var found string
	eventually(t, "a message with "+substr, func() bool {
		for _, s := range e.sentTexts() {
			if strings.Contains(s, substr) {
				found = s
				return true
			}
		}
		return false
	})
	return found
}

func TestWeChatReportFileAndRecall(t *testing.T) {
	e := startE2E(t)
	e.advance(t, "2026-06-03 10:00")
	e.fake.Text("zhangsan", "本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。", false)
	e.fake.Image("zhangsan", photoBytes(1))
	e.fake.Image("zhangsan", photoBytes(2))
	receiptOwed(t, e.app, "three submissions", func() int { return e.stored(t, "weekly", 1) }, 3)
	e.advance(t, "2026-06-03 10:05")
	got := e.waitSent(t, "已收到 东风社区")
	if got != "group:"+e2eGroup+": 已收到 东风社区 第1期「本周典型做法、特色项目」：文字1条，图片2张（发错了回复“不算”）" {
		t.Errorf("receipt %q", got)
	}
	// A Word file counts for the plan (its name says 方案) and is stored.
	e.fake.File("wangwu", "南山村活动方案.docx", []byte("PK\x03\x04 word"))
	eventually(t, "the file", func() bool { return e.stored(t, "plan", 1) == 1 })
	subs, _ := e.app.Store.PeriodSubmissions("plan", 1)
	if blob, _ := e.app.Store.Blob(subs[0].Blob); string(blob) != "PK\x03\x04 word" || subs[0].FileName != "南山村活动方案.docx" {
		t.Errorf("stored file %q as %q", blob, subs[0].FileName)
	}
	// A recall withdraws.
	photo := e.fake.Image("lisi", photoBytes(3))
	eventually(t, "the photo", func() bool { return e.stored(t, "weekly", 1) == 4 })
	e.fake.Recall("lisi", photo)
	eventually(t, "the recall", func() bool { return e.stored(t, "weekly", 1) == 3 })
	// Exactly one receipt for 东风社区 over all that.
	n := 0
	for _, s := range e.sentTexts() {
		n += strings.Count(s, "东风社区 第1期")
	}
	if n != 1 {
		t.Errorf("%d receipts for 东风社区: %q", n, e.sentTexts())
	}
}

func TestWeChatHugeImageRefusedBeforeDownload(t *testing.T) {
	e := startE2E(t)
	e.advance(t, "2026-06-03 10:00")
	e.fake.AnnouncedImage("zhangsan", 2<<30) // WeChat says 2 GB; the fake has no data to send
	reply := e.waitSent(t, "超过了")
	if !strings.Contains(reply, "@东风社区-张三") || !strings.Contains(reply, "2048.0MB") {
		t.Errorf("reply %q", reply)
	}
	if n := e.stored(t, "weekly", 1); n != 0 {
		t.Errorf("%d stored", n)
	}
}

func TestWeChatScheduledMessagesMention(t *testing.T) {
	e := startE2E(t)
	e.advance(t, "2026-06-03 09:30")
	e.waitSent(t, "【提醒】请各单位于6月4日（周四）12:00前报送第1期")
	e.fake.Text("zhangsan", "本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。", false)
	e.fake.Image("zhangsan", photoBytes(4))
	eventually(t, "the report", func() bool { return e.stored(t, "weekly", 1) == 2 })
	e.advance(t, "2026-06-04 12:30")
	nudge := e.waitSent(t, "【催报】")
	roll := e.waitSent(t, "【点名】")
	for _, msg := range []string{nudge, roll} {
		if !strings.Contains(msg, "@西湖社区-李四\u2005") || !strings.Contains(msg, "@刘洋\u2005") || strings.Contains(msg, "@东风社区-张三") {
			t.Errorf("mentions in %q", msg)
		}
	}
	if !strings.Contains(roll, "已报 1：东风社区") {
		t.Errorf("roll-call %q", roll)
	}
}

func TestWeChatAdminPrivateCommandAndImpostor(t *testing.T) {
	e := startE2E(t)
	e.advance(t, "2026-06-03 10:00")
	// The impostor renamed themselves to the admin's display name: refused.
	e.fake.Text("impostor", "标记 北岭村 典型做法 免报", false)
	refusal := e.waitSent(t, "抱歉")
	if !strings.HasPrefix(refusal, "group:") {
		t.Errorf("refusal %q", refusal)
	}
	marks, _ := e.app.Store.Marks("weekly", 1)
	if len(marks) != 0 {
		t.Fatalf("the impostor's mark was stored: %v", marks)
	}
	// The admin, privately, recognised by the remark name the account gave them.
	e.fake.PrivateText("wangke", "标记 北岭村 典型做法 免报")
	reply := e.waitSent(t, "已标记")
	if !strings.HasPrefix(reply, "friend:王科: ") {
		t.Errorf("reply %q, want it private", reply)
	}
	marks, _ = e.app.Store.Marks("weekly", 1)
	if marks["北岭村"].Status != "exempt" || marks["北岭村"].By != "王科长" {
		t.Errorf("marks %v", marks)
	}
}

func TestWeChatExpiryOwedMessagesAndReplay(t *testing.T) {
	e := startE2E(t)
	e.advance(t, "2026-06-04 09:00")
	report := e.fake.Text("zhangsan", "本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。", false)
	receiptOwed(t, e.app, "the report", func() int { return e.stored(t, "weekly", 1) }, 1)
	e.advance(t, "2026-06-04 09:02")
	e.waitSent(t, "已收到 东风社区")
	before := len(e.sentTexts())

	// The session expires; the nudge and roll-call fall due while it is down
	// (a slow server keeps the re-login going for a while).
	e.fake.Slow(150 * time.Millisecond)
	e.fake.Expire(1101)
	eventually(t, "the disconnect", func() bool { return !e.chat.Status().Online })
	e.advance(t, "2026-06-04 12:30")
	e.fake.Slow(0)
	roll := e.waitSent(t, "【点名】")
	after := e.sentTexts()[before:]
	if len(after) != 2 || !strings.Contains(after[0], "【催报】") || after[1] != roll {
		t.Errorf("owed messages after the re-login: %q, want the nudge then the roll-call, once each", after)
	}
	if logins := e.fake.Logins(); len(logins) != 2 || logins[1] != "push" {
		t.Errorf("logins %v", logins)
	}
	// The server replays the report after the re-login: not stored twice, no second receipt.
	e.fake.Replay("zhangsan", report, "本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。")
	e.fake.Text("lisi", "收到", false) // a later message, to know the replay was handled
	time.Sleep(300 * time.Millisecond)
	e.advance(t, "2026-06-04 12:40")
	if n := e.stored(t, "weekly", 1); n != 1 {
		t.Errorf("%d submissions after the replay", n)
	}
	if got := e.sentTexts(); len(got) != before+2 {
		t.Errorf("sent after the replay: %q", got[before+2:])
	}
}

// photoBytes is a small real PNG, different for each n.
func photoBytes(n uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, 8, 6))
	for i := range img.Pix {
		img.Pix[i] = n * 40
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func writeConfig(t *testing.T, group string) string {
	t.Helper()
	dir := t.TempDir()
	src := strings.Replace(string(exampleConfig), `group = "XX街道安全生产工作群"`, `group = "`+group+`"`, 1)
	src = strings.Replace(src, `schedule = "schedule.example.toml"`, `schedule = "schedule.toml"`, 1)
	src = strings.Replace(src, `listen = "127.0.0.1:8080"`, `listen = "127.0.0.1:0"`, 1) // a free port: tests never collide
	os.WriteFile(filepath.Join(dir, "schedule.toml"), exampleSchedule, 0o644)
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunGroupNotFoundListsGroups(t *testing.T) {
	fake := newFakeWeChat(t)
	wechatTransport = fake.Transport()
	defer func() { wechatTransport = nil }()
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", "--config", writeConfig(t, "不存在的群"), "--log-level", "error"}, nil, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"没有找到群「不存在的群」", "「" + e2eGroup + "」「家庭群」", "保存到通讯录"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if !strings.Contains(stdout.String(), "扫描") {
		t.Errorf("no QR code on stdout: %q", stdout.String())
	}
}

func TestRunRefusedLogin(t *testing.T) {
	fake := newFakeWeChat(t)
	fake.RefuseLogin(true)
	wechatTransport = fake.Transport()
	defer func() { wechatTransport = nil }()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", "--config", writeConfig(t, e2eGroup), "--log-level", "error"}, nil, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stderr.String(), "微信拒绝这个账号登录网页版") || !strings.Contains(stderr.String(), "实名") {
		t.Errorf("stderr %q", stderr.String())
	}
}

func TestRunWithoutConfigSaysWhatToDo(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", "--config", filepath.Join(t.TempDir(), "config.toml")}, nil, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stderr.String(), "cp config.example.toml") {
		t.Errorf("stderr %q", stderr.String())
	}
}

// A network outage (every connection reset) while a receipt and a nudge fall
// due: nothing is sent into it, nothing uses up its tries, and once polls get
// through again both arrive once, in the same session, with no word to the admins.
func TestWeChatNetworkOutageOwedArriveOnce(t *testing.T) {
	e := startE2E(t)
	e.advance(t, "2026-06-04 09:00")
	e.fake.Text("zhangsan", "本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。", false)
	eventually(t, "the report", func() bool { return e.stored(t, "weekly", 1) == 1 })
	before := len(e.sentTexts())

	e.fake.ResetFor(3 * time.Second)
	eventually(t, "the outage", func() bool { return e.fake.Resets() > 2 })
	e.advance(t, "2026-06-04 09:02") // the receipt falls due
	e.advance(t, "2026-06-04 10:00") // and the nudge
	e.waitSent(t, "【催报】")
	e.waitSent(t, "已收到 东风社区")
	time.Sleep(200 * time.Millisecond) // anything sent twice would have come by now
	after := e.sentTexts()[before:]
	count := func(substr string) int {
		n := 0
		for _, s := range after {
			if strings.Contains(s, substr) {
				n++
			}
		}
		return n
	}
	if count("已收到 东风社区") != 1 || count("【催报】") != 1 || count("不确定") != 0 || len(after) != 2 {
		t.Errorf("sent after the outage: %q; want the receipt and the nudge once each, nothing to the admins", after)
	}
	if logins := e.fake.Logins(); len(logins) != 1 {
		t.Errorf("logins %v: a 3-second outage should keep the session", logins)
	}
}

// runE2E runs a transport and the outbox over app as reportbot run does, and
// returns how to stop them: once, joining both before the store is checked
// and closed (the test's cleanup stops them if the test did not).
func runE2E(t *testing.T, app *App, tr bot.Transport) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx, app.Bot) }()
	outboxDone := make(chan struct{})
	go func() { app.Outbox.Run(ctx); close(outboxDone) }() // what App.Run does for reportbot run
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
			<-outboxDone // Check must not run while anything writes
			app.prints.close()
			if err := app.Store.Check(); err != nil {
				t.Error(err)
			}
			app.Close()
		})
	}
	t.Cleanup(stop)
	return stop
}

// e2eFiles are the built-in example files, with a fake clock at "2006-01-02 15:04".
func e2eFiles(t *testing.T, at string) (*files, *console.Clock) {
	t.Helper()
	f, err := loadFiles("", "")
	if err != nil {
		t.Fatal(err)
	}
	start, err := time.ParseInLocation("2006-01-02 15:04", at, f.schedule.Location)
	if err != nil {
		t.Fatal(err)
	}
	return f, console.NewClock(start)
}

// advanceApp moves the domain's fake clock to "2006-01-02 15:04", firing what falls due.
func advanceApp(t *testing.T, app *App, loc *time.Location, to string) {
	t.Helper()
	at, err := time.ParseInLocation("2006-01-02 15:04", to, loc)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Advance(context.Background(), at); err != nil {
		t.Fatal(err)
	}
}
