package main

import (
	"fmt"
	"strings"
	"testing"

	"reportbot/bot"
	"reportbot/dingtalk/dingtalktest"
)

// report is one member's report in the switch scenario, the same on either platform.
type report struct {
	at, unit, text string
	photo          uint8  // a photo after the text (0: none)
	file           string // a file instead of a text
}

var switchScenario = []report{
	{at: "2026-06-04 09:00", unit: "东风社区", text: "本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。", photo: 1},
	{at: "2026-06-04 09:30", unit: "西湖社区", text: "本周典型做法：西湖社区入户检查燃气安全，发放宣传单三百份。"},
	{at: "2026-06-08 10:00", unit: "南山村", file: "南山村活动方案.docx"},
	// 6/10: the WeChat account is banned; the office moves to 钉钉.
	{at: "2026-06-11 09:00", unit: "东风社区", text: "本周典型做法：东风社区组织电动车充电安全排查，整改隐患五处。", photo: 2},
	{at: "2026-06-11 10:00", unit: "安监站", file: "安监站活动方案.docx"},
	{at: "2026-06-11 11:00", unit: "西湖社区", text: "本周典型做法：西湖社区开展燃气安全宣传进楼道活动。", photo: 3},
}

const switchAt = "2026-06-10 09:00"

// platformRun plays reports on one platform and stops.
type platformRun interface {
	play(t *testing.T, r report)
	advance(t *testing.T, to string)
	statuses(t *testing.T) string
	stopNow()
}

type wechatRun struct{ e *e2e }

var wechatIDs = map[string]string{"东风社区": "zhangsan", "西湖社区": "lisi", "南山村": "wangwu", "安监站": "liuyang"}

func (w wechatRun) play(t *testing.T, r report) {
	t.Helper()
	w.e.advance(t, r.at)
	id := wechatIDs[r.unit]
	before := w.e.sent(t)
	if r.file != "" {
		w.e.fake.File(id, r.file, []byte(readFile(t, "testdata/南山村活动方案.docx")))
	} else {
		w.e.fake.Text(id, r.text, false)
		if r.photo > 0 {
			w.e.fake.Image(id, photoBytes(r.photo))
		}
	}
	want := before + 1
	if r.photo > 0 {
		want++
	}
	eventually(t, "the report stored", func() bool { return w.e.sent(t) == want })
}
func (w wechatRun) advance(t *testing.T, to string) { w.e.advance(t, to) }
func (w wechatRun) statuses(t *testing.T) string    { return statusTable(t, w.e.app) }
func (w wechatRun) stopNow()                        { w.e.stop() }

type dingtalkRun struct{ e *dtE2E }

var dingtalkSenders = map[string]dingtalktest.Sender{"东风社区": dtZhang, "西湖社区": dtLi, "南山村": dtWang, "安监站": dtLiu}

func (d dingtalkRun) play(t *testing.T, r report) {
	t.Helper()
	d.e.advance(t, r.at)
	from := dingtalkSenders[r.unit]
	before := allStored(t, d.e.app)
	want := before + 1
	switch {
	case r.file != "":
		d.e.fake.Push(d.e.fake.File(from, r.file, []byte(readFile(t, "testdata/南山村活动方案.docx"))))
	case r.photo > 0:
		d.e.fake.Push(d.e.fake.RichText(from, r.text, photoBytes(r.photo))) // on 钉钉 the photo comes with the @ text
		want++
	default:
		d.e.fake.Push(d.e.fake.GroupText(from, r.text))
	}
	eventually(t, "the report stored", func() bool { return allStored(t, d.e.app) == want })
}
func (d dingtalkRun) advance(t *testing.T, to string) { d.e.advance(t, to) }
func (d dingtalkRun) statuses(t *testing.T) string    { return statusTable(t, d.e.app) }
func (d dingtalkRun) stopNow()                        { d.e.stop() }

// sent counts what the WeChat run stored, by every task and period.
func (e *e2e) sent(t *testing.T) int { return allStored(t, e.app) }

func allStored(t *testing.T, app *App) int {
	t.Helper()
	n := 0
	s := app.campaigns.Load().All()[0]
	for _, task := range s.Tasks {
		for _, p := range task.Periods {
			subs, err := app.Store.PeriodSubmissions(task.ID, p.N)
			if err != nil {
				t.Fatal(err)
			}
			n += len(subs)
		}
	}
	return n
}

// statusTable is every unit's status for every task and period, one line each.
func statusTable(t *testing.T, app *App) string {
	t.Helper()
	var lines []string
	s := app.campaigns.Load().All()[0]
	for _, task := range s.Tasks {
		for _, p := range task.Periods {
			reps, err := bot.Statuses(app.Store, app.Bot.Config.Units, task, p.N)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range reps {
				lines = append(lines, fmt.Sprintf("%s/%d %s %s %s", task.ID, p.N, r.Unit, r.Status, r.CountsText()))
			}
		}
	}
	return strings.Join(lines, "\n")
}

// A June that starts on web WeChat and moves to 钉钉 on 6/10, in the same data
// directory, ends with the same statuses as one run on either platform.
func TestSwitchPlatformMidCampaign(t *testing.T) {
	end := "2026-06-12 09:00"
	runAll := func(t *testing.T, r platformRun) string {
		for _, rep := range switchScenario {
			r.play(t, rep)
		}
		r.advance(t, end)
		return r.statuses(t)
	}
	onWeChat := runAll(t, wechatRun{startE2E(t)})
	onDingtalk := runAll(t, dingtalkRun{startDingtalkE2E(t, t.TempDir())})

	dir := t.TempDir()
	var first platformRun = wechatRun{startE2EAt(t, dir, "2026-06-03 08:00")}
	var second platformRun
	for _, rep := range switchScenario {
		if second == nil && rep.at > switchAt {
			first.advance(t, switchAt)
			first.stopNow()
			second = dingtalkRun{startDingtalkE2EAt(t, dir, switchAt)}
		}
		if second != nil {
			second.play(t, rep)
		} else {
			first.play(t, rep)
		}
	}
	second.advance(t, end)
	switched := second.statuses(t)

	if onWeChat != onDingtalk {
		t.Errorf("WeChat and 钉钉 differ:\n%s\n---\n%s", onWeChat, onDingtalk)
	}
	if switched != onWeChat {
		t.Errorf("after the switch:\n%s\n--- want (one platform):\n%s", switched, onWeChat)
	}
	if !strings.Contains(switched, "weekly/2 东风社区 reported") || !strings.Contains(switched, "plan/1 南山村 reported") {
		t.Errorf("the scenario did not report what it should:\n%s", switched)
	}
}
