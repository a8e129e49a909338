package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/console"
	"reportbot/dingtalk"
	"reportbot/dingtalk/dingtalktest"
)

// The 钉钉 members of the example group: 东风社区 and 西湖社区 are recognised by
// the unit's name in their nick; 南山村's member is written in the config by
// staffId; the admin by staffId too; an impostor took the admin's nick.
var (
	dtZhang    = dingtalktest.Sender{StaffID: "user001", Nick: "东风社区-张三"}
	dtLi       = dingtalktest.Sender{StaffID: "user002", Nick: "西湖社区-李四"}
	dtWang     = dingtalktest.Sender{StaffID: "user003", Nick: "王五"}
	dtLiu      = dingtalktest.Sender{StaffID: "user005", Nick: "刘洋"}
	dtAdmin    = dingtalktest.Sender{StaffID: "admin01", Nick: "王科长"}
	dtImpostor = dingtalktest.Sender{StaffID: "user099", Nick: "王科长"}
)

type dtE2E struct {
	fake  *dingtalktest.Server
	app   *App
	tr    *dingtalk.Adapter
	clock *console.Clock
	stop  func()
}

// startDingtalkE2E runs the App over the example files on a fake 钉钉 with the
// real Stream SDK, as reportbot run wires it. The domain's clock is fake
// (Advance moves it); the 钉钉 side runs in real time.
func startDingtalkE2E(t *testing.T, dir string) *dtE2E {
	return startDingtalkE2EAt(t, dir, "2026-06-03 08:00")
}

// startDingtalkE2EAt runs the App over dir from the time at; stop ends it.
func startDingtalkE2EAt(t *testing.T, dir, at string) *dtE2E {
	t.Helper()
	f, clock := e2eFiles(t, at)
	f.config.Bot.Admins = []string{"admin01"}
	for i := range f.config.Units {
		if f.config.Units[i].Name == "南山村" {
			f.config.Units[i].Members = []string{"user003"}
		}
	}
	fake := dingtalktest.New(dingtalktest.Config{})
	t.Cleanup(fake.Close)
	c := dingtalk.Config{ClientID: "dingapp", ClientSecret: "appsecret", APIURL: fake.URL(), OapiURL: fake.URL(), GatewayURL: fake.URL(),
		Webhook: fake.RobotURL(), WebhookSecret: fake.Config().RobotSecret}
	if p := c.Check("test"); len(p) > 0 {
		t.Fatal(p)
	}
	l := &late{name: "dingtalk"}
	e := &dtE2E{fake: fake, clock: clock}
	e.tr = dingtalk.New(dingtalk.Options{Config: c, Admins: f.config.Bot.Admins, State: l, OnOnline: l.wake, Logger: zerolog.Nop()})
	var err error
	e.app, err = OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: dir,
		Transport: e.tr, Hint: e.tr.Hint(), Now: e.clock.Now, SetClock: e.clock.Set, Logger: zerolog.Nop(), Async: true})
	if err != nil {
		t.Fatal(err)
	}
	l.attach(e.app)
	e.stop = runE2E(t, e.app, e.tr)
	if !fake.WaitDials(1, 10*time.Second) {
		t.Fatal("the adapter never connected")
	}
	return e
}

func (e *dtE2E) advance(t *testing.T, to string) {
	t.Helper()
	advanceApp(t, e.app, e.clock.Now().Location(), to)
}

// advanceSettled moves the clock an hour at a time, waiting each time until
// the outbox has sent what fell due: the domain's clock is fake while the
// outbox sends in real time, and a jump of weeks would age what it owes past
// outbox_max_age.
func (e *dtE2E) advanceSettled(t *testing.T, to string) {
	t.Helper()
	end, err := time.ParseInLocation("2006-01-02 15:04", to, e.clock.Now().Location())
	if err != nil {
		t.Fatal(err)
	}
	for at := e.clock.Now(); at.Before(end); {
		if at = at.Add(time.Hour); at.After(end) {
			at = end
		}
		if err := e.app.Advance(context.Background(), at); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the outbox emptied", func() bool { return e.app.Outbox.Pending() == 0 })
	}
}

// waitSent waits for a message on ch containing substr, and returns it.
func (e *dtE2E) waitSent(t *testing.T, ch dingtalktest.Channel, substr string) dingtalktest.Message {
	t.Helper()
	return messageWith(t, "a "+string(ch)+" message with "+substr, func() []dingtalktest.Message { return e.fake.Messages(ch) }, dtText, substr)
}

func (e *dtE2E) count(ch dingtalktest.Channel, substr string) int {
	return countWith(e.fake.Messages(ch), dtText, substr)
}

func dtText(m dingtalktest.Message) string { return m.Text }

func (e *dtE2E) stored(t *testing.T, task string, period int) int {
	t.Helper()
	return submissions(t, e.app, task, period)
}

// submissions is how many submissions the period holds, withdrawn ones too.
func submissions(t *testing.T, app *App, task string, period int) int {
	t.Helper()
	subs, err := app.Store.PeriodSubmissions(task, period)
	if err != nil {
		t.Fatal(err)
	}
	return len(subs)
}

func TestDingtalkCampaign(t *testing.T) {
	e := startDingtalkE2E(t, t.TempDir())

	// The reminder falls due before anyone has @-ed the robot in the group: it
	// waits, the admin hears how to fix it, and it goes once the group is known.
	e.advance(t, "2026-06-03 09:00")
	e.waitSent(t, dingtalktest.Private, "@机器人说一句话")
	e.fake.Push(e.fake.GroupText(dtLi, "任务"))
	reminder := e.waitSent(t, dingtalktest.Group, "【提醒】")
	if !strings.Contains(reminder.Text, dingtalk.Hint) {
		t.Errorf("the reminder does not tell members to @ the robot:\n%s", reminder.Text)
	}

	// An @ text with two photos is one report, receipted with a real @ of its sender.
	e.advance(t, "2026-06-04 09:00")
	p := e.fake.Push(e.fake.RichText(dtZhang, "本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。", photoBytes(1), photoBytes(2)))
	receiptOwed(t, e.app, "the report", func() int { return e.stored(t, "weekly", 1) }, 3)
	e.advance(t, "2026-06-04 09:02")
	receipt := e.waitSent(t, dingtalktest.Session, "已收到 东风社区 第1期")
	if strings.Join(receipt.AtUserIDs, ",") != "user001" || !strings.HasPrefix(receipt.Text, "@user001 ") {
		t.Errorf("receipt %q at %v: want a real @ of the reporter", receipt.Text, receipt.AtUserIDs)
	}
	// The server delivers the frame again: stored once, no second receipt.
	e.fake.Redeliver(p.MessageID)
	e.fake.Push(e.fake.GroupText(dtLi, "收到")) // a later message, to know the redelivery was handled
	time.Sleep(300 * time.Millisecond)
	e.advance(t, "2026-06-04 09:05")
	if n := e.stored(t, "weekly", 1); n != 3 {
		t.Errorf("%d submissions after the redelivery", n)
	}

	// A file quoted with an @ counts; so does a file sent 1:1, receipted 1:1.
	e.fake.Push(e.fake.QuotedFile(dtWang, "活动方案", "南山村活动方案.docx", readTestdata(t, "南山村活动方案.docx")))
	e.fake.Push(e.fake.File(dtLiu, "安监站活动方案.docx", readTestdata(t, "南山村活动方案.docx")))
	receiptOwed(t, e.app, "the plans", func() int { return e.stored(t, "plan", 1) }, 2)
	e.advance(t, "2026-06-04 09:07")
	e.waitSent(t, dingtalktest.Session, "已收到 南山村")
	private := e.waitSent(t, dingtalktest.Session, "已收到 安监站")
	if strings.Contains(private.To, e.fake.Config().Group.ID) {
		t.Errorf("the 1:1 report was receipted in the group")
	}

	// 未报 lists the units still owing; the nudge @s them through the custom robot.
	e.fake.Push(e.fake.GroupText(dtZhang, "未报 典型做法"))
	missing := e.waitSent(t, dingtalktest.Session, "第1期（截止")
	if line := missingLine(missing.Text); !strings.Contains(line, "西湖社区") || strings.Contains(line, "东风社区") {
		t.Errorf("未报 answer:\n%s", missing.Text)
	}
	e.advance(t, "2026-06-04 10:00")
	nudge := e.waitSent(t, dingtalktest.Robot, "【催报】")
	if nudge.Error != "" || !strings.Contains(strings.Join(nudge.AtUserIDs, ","), "user002") {
		t.Errorf("nudge through the robot: error %q, at %v:\n%s", nudge.Error, nudge.AtUserIDs, nudge.Text)
	}

	// The admin, known by staffId, marks a unit; someone who took the admin's nick cannot.
	e.fake.Push(e.fake.PrivateText(dtImpostor, "标记 北岭村 典型做法 免报"))
	e.waitSent(t, dingtalktest.Session, "只有管理员可以使用")
	e.fake.Push(e.fake.PrivateText(dtAdmin, "标记 北岭村 典型做法 免报"))
	e.waitSent(t, dingtalktest.Session, "北岭村")
	eventually(t, "the mark", func() bool {
		marks, _ := e.app.Store.Marks("weekly", 1)
		return marks["北岭村"].Status == "exempt"
	})

	// A dropped connection comes back; what fell due meanwhile arrives once.
	e.fake.Drop()
	e.advance(t, "2026-06-04 12:00")
	roll := e.waitSent(t, dingtalktest.Robot, "【点名】")
	if !e.fake.WaitDials(2, 15*time.Second) {
		t.Fatal("no reconnect")
	}
	e.fake.Push(e.fake.GroupText(dtLi, "本周典型做法：西湖社区入户检查燃气安全，发放宣传单三百份。"))
	receiptOwed(t, e.app, "the late report", func() int { return e.stored(t, "weekly", 1) }, 4)
	e.advance(t, "2026-06-04 12:05")
	e.waitSent(t, dingtalktest.Session, "已收到 西湖社区")
	time.Sleep(200 * time.Millisecond)
	for _, s := range []string{"【提醒】", "【催报】", "【点名】"} {
		if n := e.count(dingtalktest.Group, s) + e.count(dingtalktest.Robot, s); n != 1 {
			t.Errorf("%s sent %d times", s, n)
		}
	}
	if !strings.Contains(roll.Text, "免报") {
		t.Errorf("roll-call does not show the mark:\n%s", roll.Text)
	}

	// The rest of June: every scheduled message goes out once, nothing is left owed.
	e.advanceSettled(t, "2026-07-03 20:00")
	seen := map[string]int{}
	for _, ch := range []dingtalktest.Channel{dingtalktest.Group, dingtalktest.Robot} {
		for _, m := range e.fake.Messages(ch) {
			seen[m.Text]++
		}
	}
	scheduled := 0
	for text, n := range seen {
		if n > 1 {
			t.Errorf("sent %d times: %s", n, text)
		}
		if strings.HasPrefix(text, "【") {
			scheduled++
		}
	}
	if scheduled != 21 { // every event check --all lists but the first day's announcement (before the start)
		t.Errorf("only %d scheduled messages through June", scheduled)
	}
}

// The 自定义机器人 takes at most 20 messages a minute: more roll-call parts
// than that wait for their slot instead of being refused by 钉钉.
func TestDingtalkRobotRateLimit(t *testing.T) {
	e := startDingtalkE2E(t, t.TempDir())
	e.fake.Push(e.fake.GroupText(dtLi, "任务"))
	eventually(t, "the group", func() bool { return e.tr.Status().LastMessage.After(time.Time{}) })
	for i := range 22 {
		e.app.Bot.Chat.Send(context.Background(), rollcallPart(i))
	}
	eventually(t, "20 roll-call parts", func() bool { return len(e.fake.Messages(dingtalktest.Robot)) >= 20 })
	time.Sleep(300 * time.Millisecond)
	if got := e.fake.Messages(dingtalktest.Robot); len(got) != 20 || len(e.fake.Refused(dingtalktest.Robot)) != 0 {
		t.Errorf("%d robot messages in the first minute, %d refused; want 20 and none", len(got), len(e.fake.Refused(dingtalktest.Robot)))
	}
	if e.app.Outbox.Pending() != 2 {
		t.Errorf("%d pending, want the 2 over the limit", e.app.Outbox.Pending())
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	return []byte(readFile(t, filepath.Join("testdata", name)))
}

func rollcallPart(i int) bot.Outgoing {
	return bot.Outgoing{Purpose: bot.Rollcall, Text: fmt.Sprintf("【点名】第%d部分", i+1)}
}

// missingLine is the "未报 N：…" line of a status answer.
func missingLine(text string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "未报 ") {
			return l
		}
	}
	return ""
}

// A sessionWebhook can end long before the expiry 钉钉 gives (30 s has been
// seen, answering errcode 300001): the receipt, which waits receipt_delay,
// then takes the custom robot, still with a real @ of the reporter.
func TestDingtalkReceiptAfterSessionExpired(t *testing.T) {
	e := startDingtalkE2E(t, t.TempDir())
	e.advance(t, "2026-06-04 09:00")
	e.fake.Push(e.fake.RichText(dtZhang, "本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。", photoBytes(1)))
	receiptOwed(t, e.app, "the report", func() int { return e.stored(t, "weekly", 1) }, 2)
	e.fake.ExpireSessions() // within the minute the receipt waits
	e.advance(t, "2026-06-04 09:02")
	receipt := e.waitSent(t, dingtalktest.Robot, "已收到 东风社区 第1期")
	if receipt.Error != "" || strings.Join(receipt.AtUserIDs, ",") != "user001" {
		t.Errorf("receipt through the robot: error %q, at %v", receipt.Error, receipt.AtUserIDs)
	}
	if n := e.count(dingtalktest.Session, "已收到"); n != 0 {
		t.Errorf("%d receipts went to the expired session", n)
	}
	if refused := e.fake.Refused(dingtalktest.Session); len(refused) != 1 || refused[0].Error != "300001" {
		t.Errorf("the expired session's answer: %+v; want one 300001, then the robot", refused)
	}
}

// writeDingtalkConfig is the example config on 钉钉, pointed at the fake.
func writeDingtalkConfig(t *testing.T, fake *dingtalktest.Server) string {
	t.Helper()
	path := writeConfig(t, "不用")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(src), `transport = "wechat"`, `transport = "dingtalk"`, 1)
	s = strings.Replace(s, "client_id = \"\"\n", fmt.Sprintf("client_id = \"dingapp\"\napi_url = %q\noapi_url = %q\ngateway_url = %q\n", fake.URL(), fake.URL(), fake.URL()), 1)
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// reportbot run on 钉钉: the secret from the environment; wrong credentials end
// the process with what to check, and the secret appears nowhere.
func TestRunDingtalkRefusedCredentials(t *testing.T) {
	fake := dingtalktest.New(dingtalktest.Config{})
	defer fake.Close()
	t.Setenv(dingtalk.SecretEnv, "not-the-secret")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", "--config", writeDingtalkConfig(t, fake), "--log-level", "debug"}, nil, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d; stderr %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "client_id 和 client_secret") || strings.Contains(stderr.String()+stdout.String(), "not-the-secret") {
		t.Errorf("stderr %q", stderr.String())
	}
}
