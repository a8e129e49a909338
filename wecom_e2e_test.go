package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/alert/alerttest"
	"reportbot/console"
	"reportbot/wecom"
	"reportbot/wecom/wecomtest"
)

// The 企业微信 members of the example group, by userid (callbacks carry no
// names): the config names each unit's member by it, and the admin too.
var (
	wcZhang = wecomtest.Sender{UserID: "zhangsan"}
	wcLi    = wecomtest.Sender{UserID: "lisi"}
	wcLiu   = wecomtest.Sender{UserID: "liuyang"}
	wcAdmin = wecomtest.Sender{UserID: "admin01"}
	wcOther = wecomtest.Sender{UserID: "user099"}
)

type wcE2E struct {
	fake   *wecomtest.Server
	app    *App
	tr     *wecom.Adapter
	clock  *console.Clock
	alerts *alerttest.Recorder
	stop   func()
}

// startWecomE2E runs the App over the example files on a fake 企业微信, as
// reportbot run wires it; the domain's clock is fake, the 企业微信 side real.
func startWecomE2E(t *testing.T, dir string) *wcE2E {
	t.Helper()
	f, clock := e2eFiles(t, "2026-06-03 08:00")
	f.config.Bot.Admins = []string{"admin01"}
	ids := map[string]string{"东风社区": "zhangsan", "西湖社区": "lisi", "南山村": "wangwu", "安监站": "liuyang"}
	for i, u := range f.config.Units {
		if id, ok := ids[u.Name]; ok {
			f.config.Units[i].Members = []string{id}
		}
	}
	fake := wecomtest.New(wecomtest.Config{})
	t.Cleanup(fake.Close)
	c := wecom.Config{BotID: fake.Config().BotID, Secret: fake.Config().Secret, WSURL: fake.WSURL(), APIHost: fake.URL(), WebhookKey: fake.Config().WebhookKey}
	if p := c.Check("test"); len(p) > 0 {
		t.Fatal(p)
	}
	l := &late{name: "wecom"}
	e := &wcE2E{fake: fake, clock: clock, alerts: &alerttest.Recorder{}}
	e.tr = wecom.New(wecom.Options{Config: c, Admins: f.config.Bot.Admins, Known: configuredIDs(f.config), State: l, OnOnline: l.wake,
		Alert: e.alerts, MinBackoff: 20 * time.Millisecond, Logger: zerolog.Nop()})
	var err error
	e.app, err = OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: dir,
		Transport: e.tr, Hint: e.tr.Hint(), Now: e.clock.Now, SetClock: e.clock.Set, Logger: zerolog.Nop(), Async: true})
	if err != nil {
		t.Fatal(err)
	}
	l.attach(e.app)
	e.stop = runE2E(t, e.app, e.tr)
	if !fake.WaitSubscribed(1, 10*time.Second) {
		t.Fatal("the adapter never subscribed")
	}
	return e
}

// push sends cb and waits until the adapter has handed all of it to the
// bot: a report stored is not yet a receipt planned, and a clock moved in
// between would plan it later.
func (e *wcE2E) push(t *testing.T, cb wecomtest.Callback) wecomtest.Pushed {
	t.Helper()
	before := e.tr.Status().LastMessage
	p := e.fake.MustPush(cb)
	eventually(t, "the message handled", func() bool { return !e.tr.Status().LastMessage.Equal(before) })
	return p
}

func (e *wcE2E) advance(t *testing.T, to string) {
	t.Helper()
	advanceApp(t, e.app, e.clock.Now().Location(), to)
}

// waitSent waits for a message on ch containing substr, and returns it.
func (e *wcE2E) waitSent(t *testing.T, ch wecomtest.Channel, substr string) wecomtest.Message {
	t.Helper()
	return messageWith(t, "a "+string(ch)+" message with "+substr, func() []wecomtest.Message { return e.fake.Messages(ch) }, wcText, substr)
}

func (e *wcE2E) count(substr string, chs ...wecomtest.Channel) int {
	n := 0
	for _, ch := range chs {
		n += countWith(e.fake.Messages(ch), wcText, substr)
	}
	return n
}

func wcText(m wecomtest.Message) string { return m.Text }

func (e *wcE2E) stored(t *testing.T, task string, period int) int {
	t.Helper()
	return submissions(t, e.app, task, period)
}

func TestWecomCampaign(t *testing.T) {
	e := startWecomE2E(t, t.TempDir())
	f := e.fake
	group := f.Config().ChatID

	// The reminder falls due before anyone has @-ed the robot in the group: it
	// waits, the admins hear how to fix it, and it goes once the group is known.
	e.advance(t, "2026-06-03 09:00")
	eventually(t, "the admins told", func() bool { return e.alerts.Count("@机器人说一句话") == 1 })
	f.MustPush(f.GroupText(wcLi, "任务"))
	reminder := e.waitSent(t, wecomtest.Push, "【提醒】")
	if reminder.ChatID != group || reminder.ChatType != 2 || reminder.MsgType != "markdown" || !strings.Contains(reminder.Text, wecom.Hint) {
		t.Errorf("reminder %+v", reminder)
	}

	// An @ text with two photos is one report, receipted once by a reply to it.
	e.advance(t, "2026-06-04 09:00")
	mixed := f.Mixed(wcZhang, "本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。", photoBytes(1), photoBytes(2))
	p := e.push(t, mixed)
	eventually(t, "the report", func() bool { return e.stored(t, "weekly", 1) == 3 })
	f.MustPush(wecomtest.Again(mixed, p)) // delivered again: stored once, no second receipt
	e.push(t, f.GroupText(wcLi, "收到"))    // handled after the redelivery (in order)
	e.advance(t, "2026-06-04 09:02")
	receipt := e.waitSent(t, wecomtest.Reply, "已收到 东风社区 第1期")
	if receipt.ReqID != p.ReqID {
		t.Errorf("the receipt answers %s, not the report %s", receipt.ReqID, p.ReqID)
	}
	if n := e.stored(t, "weekly", 1); n != 3 {
		t.Errorf("%d submissions after the redelivery", n)
	}

	// A file sent 1:1 counts, receipted 1:1.
	e.push(t, f.Media(wcLiu, "file", "安监站活动方案.docx", readTestdata(t, "南山村活动方案.docx")))
	eventually(t, "the plan", func() bool { return e.stored(t, "plan", 1) == 1 })
	e.advance(t, "2026-06-04 09:05")
	if private := e.waitSent(t, wecomtest.Reply, "已收到 安监站"); private.ChatID != "liuyang" {
		t.Errorf("the 1:1 report was receipted in %s", private.ChatID)
	}

	// 未报 lists the units still owing; the nudge @s them through the webhook.
	f.MustPush(f.GroupText(wcZhang, "未报 典型做法"))
	missing := e.waitSent(t, wecomtest.Reply, "第1期（截止")
	if line := missingLine(missing.Text); !strings.Contains(line, "西湖社区") || strings.Contains(line, "东风社区") {
		t.Errorf("未报 answer:\n%s", missing.Text)
	}
	e.advance(t, "2026-06-04 10:00")
	nudge := e.waitSent(t, wecomtest.Webhook, "【催报】")
	if !strings.Contains(strings.Join(nudge.Mentioned, ","), "lisi") {
		t.Errorf("nudge through the webhook @ %v:\n%s", nudge.Mentioned, nudge.Text)
	}

	// The admin, known by userid, marks a unit; another member cannot.
	f.MustPush(f.PrivateText(wcOther, "标记 北岭村 典型做法 免报"))
	e.waitSent(t, wecomtest.Reply, "只有管理员可以使用")
	f.MustPush(f.PrivateText(wcAdmin, "标记 北岭村 典型做法 免报"))
	eventually(t, "the mark", func() bool {
		marks, _ := e.app.Store.Marks("weekly", 1)
		return marks["北岭村"].Status == "exempt"
	})

	// A report, then the connection drops: its receipt, owed across the
	// reconnect, is not sent as a reply with the old req_id but pushed; what
	// fell due meanwhile goes once.
	e.push(t, f.GroupText(wcLi, "本周典型做法：西湖社区入户检查燃气安全，发放宣传单三百份。"))
	eventually(t, "the late report", func() bool { return e.stored(t, "weekly", 1) == 4 })
	f.Drop()
	e.advance(t, "2026-06-04 12:00")
	roll := e.waitSent(t, wecomtest.Webhook, "【点名】")
	if !f.WaitSubscribed(2, 15*time.Second) {
		t.Fatal("no reconnect")
	}
	e.advance(t, "2026-06-04 12:05")
	late := e.waitSent(t, wecomtest.Push, "已收到 西湖社区")
	if late.ChatID != group {
		t.Errorf("late receipt to %s", late.ChatID)
	}
	if refused := f.Refused(wecomtest.Reply); len(refused) != 0 {
		t.Errorf("replies refused (a stale req_id tried?): %+v", refused)
	}
	time.Sleep(200 * time.Millisecond)
	for _, s := range []string{"【提醒】", "【催报】", "【点名】", "已收到 西湖社区"} {
		if n := e.count(s, wecomtest.Push, wecomtest.Webhook, wecomtest.Reply); n != 1 {
			t.Errorf("%s sent %d times", s, n)
		}
	}
	if !strings.Contains(roll.Text, "免报") {
		t.Errorf("roll-call does not show the mark:\n%s", roll.Text)
	}

	// The rest of June: every scheduled message goes out once, nothing is left owed.
	for at := e.clock.Now(); at.Before(time.Date(2026, 7, 3, 20, 0, 0, 0, at.Location())); {
		at = at.Add(time.Hour)
		if err := e.app.Advance(context.Background(), at); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the outbox emptied", func() bool { return e.app.Outbox.Pending() == 0 })
	}
	seen := map[string]int{}
	for _, ch := range []wecomtest.Channel{wecomtest.Push, wecomtest.Webhook} {
		for _, m := range f.Messages(ch) {
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
	if scheduled != 21 { // as on 钉钉: every event but the first day's announcement
		t.Errorf("%d scheduled messages through June", scheduled)
	}

	// Another instance subscribes as the same bot: ours is kicked, says so
	// once, and does not reconnect (which would kick the other in turn).
	subscribes := f.Subscribes()
	if err := f.KickBySecondConnection(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the admins told of the kick", func() bool { return e.alerts.Count("另一个程序") == 1 })
	time.Sleep(300 * time.Millisecond)
	if n := f.Subscribes(); n != subscribes+1 {
		t.Errorf("%d subscribes after the kick, want only the other instance's", n-subscribes)
	}
	if st := e.tr.Status(); st.Online || !strings.Contains(st.State, "不再重连") {
		t.Errorf("status %+v", st)
	}
}

// A tenant whose userids arrive encrypted: the admins hear it once, the
// member binds with 绑定, and their report counts for the unit.
func TestWecomEncryptedUserIDs(t *testing.T) {
	e := startWecomE2E(t, t.TempDir())
	f := e.fake
	enc := wecomtest.Sender{UserID: "woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA"}
	e.advance(t, "2026-06-04 09:00")
	e.push(t, f.GroupText(enc, "绑定 西湖社区"))
	e.waitSent(t, wecomtest.Reply, "已绑定")
	e.push(t, f.GroupText(enc, "本周典型做法：西湖社区入户检查燃气安全，发放宣传单三百份。"))
	eventually(t, "the report", func() bool { return e.stored(t, "weekly", 1) == 1 })
	e.advance(t, "2026-06-04 09:02")
	e.waitSent(t, wecomtest.Reply, "已收到 西湖社区")
	if n := e.alerts.Count("加密"); n != 1 {
		t.Errorf("admins told %d times", n)
	}
}

// reportbot run on 企业微信: the secret from the environment; a secret the
// server refuses ends the process with what to check, and appears nowhere.
func TestRunWecomRefusedCredentials(t *testing.T) {
	fake := wecomtest.New(wecomtest.Config{})
	defer fake.Close()
	t.Setenv(wecom.SecretEnv, "not-the-secret")
	path := writeConfig(t, "不用")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(src), `transport = "wechat"`, `transport = "wecom"`, 1)
	s = strings.Replace(s, "bot_id = \"\"\n", fmt.Sprintf("bot_id = %q\nws_url = %q\napi_host = %q\n", fake.Config().BotID, fake.WSURL(), fake.URL()), 1)
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", "--config", path, "--log-level", "debug"}, nil, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d; stderr %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "bot_id 和 secret") || strings.Contains(stderr.String()+stdout.String(), "not-the-secret") {
		t.Errorf("stderr %q", stderr.String())
	}
	if fake.Subscribes() != 1 {
		t.Errorf("%d subscribes: a refused secret is not tried again", fake.Subscribes())
	}
}
