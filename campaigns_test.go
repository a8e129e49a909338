package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/console"
	"reportbot/schedules"
)

// juneFile is the example June campaign with an id, as schedules.example/ has it.
func juneFile(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("schedules.example", "2026-06-anquan.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// novemberFile is the June campaign moved to November under a new name and
// id, its task ids unchanged: what an office does for 消防宣传月.
func novemberFile(t *testing.T) string {
	t.Helper()
	return readFile(t, filepath.Join("testdata", "campaigns", "2026-11-xiaofang.toml"))
}

// campaignRig runs the bot over a folder of schedule files and a data
// directory, on a fake clock, keeping what it says.
type campaignRig struct {
	t      *testing.T
	folder string
	data   string
	clock  *console.Clock
	chat   *memChat
	app    *App
	seq    int
}

func newCampaignRig(t *testing.T, files map[string]string) *campaignRig {
	t.Helper()
	r := &campaignRig{t: t, folder: filepath.Join(t.TempDir(), "schedules"), data: filepath.Join(t.TempDir(), "data")}
	if err := os.MkdirAll(r.folder, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		r.write(name, text)
	}
	return r
}

func (r *campaignRig) write(name, text string) {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.folder, name), []byte(text), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *campaignRig) at(s string) time.Time {
	r.t.Helper()
	at, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai(r.t))
	if err != nil {
		r.t.Fatal(err)
	}
	return at
}

func shanghai(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// open starts the bot at the time given (a restart when it ran before).
func (r *campaignRig) open(at string) {
	r.t.Helper()
	f, err := loadFiles("", r.folder)
	if err != nil {
		r.t.Fatal(err)
	}
	r.clock = console.NewClock(r.at(at))
	if r.chat == nil {
		r.chat = &memChat{}
	}
	r.chat.now = r.clock.Now
	r.app, err = OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, Reload: true, DataDir: r.data,
		Transport: r.chat, Now: r.clock.Now, SetClock: r.clock.Set, Logger: zerolog.Nop()})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.app.Advance(context.Background(), r.clock.Now()); err != nil {
		r.t.Fatal(err)
	}
}

func (r *campaignRig) close() {
	r.t.Helper()
	if err := r.app.Close(); err != nil {
		r.t.Fatal(err)
	}
}

func (r *campaignRig) advance(to string) {
	r.t.Helper()
	if err := r.app.Advance(context.Background(), r.at(to)); err != nil {
		r.t.Fatal(err)
	}
}

// say has a member post a text in the group; who is a display name, or
// "name=remark" for an admin.
func (r *campaignRig) say(who, text string) {
	r.t.Helper()
	r.post(who, bot.Message{Kind: schedules.Text, Text: text})
}

// photo has a member post a photo.
func (r *campaignRig) photo(who string) {
	r.t.Helper()
	r.seq++
	img := crashPNG(r.seq)
	r.post(who, bot.Message{Kind: schedules.Image, Size: int64(len(img)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(img)), nil }})
}

func (r *campaignRig) post(who string, m bot.Message) {
	r.t.Helper()
	r.seq++
	name, remark, _ := strings.Cut(who, "=")
	m.ID, m.At, m.Sender = fmt.Sprintf("m%d", r.seq), r.clock.Now(), bot.Member{ID: name, Name: name, Verified: remark}
	if err := r.app.Deliver(context.Background(), m); err != nil {
		r.t.Fatal(err)
	}
	// Receipts wait out their delay, as in the group.
	r.clock.Set(r.clock.Now().Add(time.Minute))
	if err := r.app.Advance(context.Background(), r.clock.Now()); err != nil {
		r.t.Fatal(err)
	}
}

// said is what the bot sent since the last call, a message a string.
func (r *campaignRig) said() []string {
	all := r.chat.all()
	r.chat.mu.Lock()
	r.chat.sent = nil
	r.chat.mu.Unlock()
	return all
}

const admin = "街道应急办-王科=王科长"

// count is how many of msgs contain every one of want.
func count(msgs []string, want ...string) int {
	n := 0
	for _, m := range msgs {
		all := true
		for _, w := range want {
			all = all && strings.Contains(m, w)
		}
		if all {
			n++
		}
	}
	return n
}

// TestJuneThenNovember runs two campaigns with the same task ids one after
// the other in one data directory, with a restart in November: every November
// message goes out once, and nothing of June counts for November, while June
// stays there to ask about.
func TestJuneThenNovember(t *testing.T) {
	r := newCampaignRig(t, map[string]string{"june.toml": juneFile(t)})
	r.open("2026-05-31 20:00")
	r.advance("2026-06-04 09:00")
	r.say("东风社区-张三", "本周典型做法：组织燃气安全入户检查")
	r.photo("东风社区-张三")
	r.advance("2026-07-05 09:00")
	r.close()

	// November's file joins June's in the folder.
	r.write("november.toml", novemberFile(t))
	r.open("2026-10-31 20:00")
	r.said()
	r.advance("2026-11-05 09:00")
	sent := r.said()
	r.say(admin, "未报 典型做法")
	got := r.said()
	if n := count(got, "「本周典型做法、特色项目」第1期", "未报 6：东风社区"); n != 1 {
		t.Errorf("未报 典型做法 on 11/5 (东风社区's June report must not count):\n%s", strings.Join(got, "\n"))
	}
	r.advance("2026-11-12 09:00")
	r.close()
	sent = append(sent, r.said()...)
	r.open("2026-11-12 09:00") // a restart changes nothing
	r.advance("2026-12-05 09:00")
	sent = append(sent, r.said()...)

	nov := r.app.campaigns.Load().Campaign("2026-11-xiaofang")
	for _, e := range nov.Events(nov.Start.AddDate(0, 0, -8), nov.End.AddDate(0, 0, 8)) {
		note, err := r.app.Store.SentNote(e.Key)
		if err != nil || note != "sent" {
			t.Errorf("%s: sent-log %q %v", e.Describe(), note, err)
		}
		what := map[schedules.Kind]string{schedules.Announce: "【通知】", schedules.Remind: "【提醒】", schedules.Nudge: "【催报】", schedules.Rollcall: "【点名】"}[e.Kind]
		want := []string{e.At.Format("01-02 15:04"), what}
		if e.Task != nil {
			want = append(want, schedules.FormatDue(e.Due))
		}
		if n := count(sent, want...); n != 1 {
			t.Errorf("%s: sent %d times", e.Describe(), n)
		}
	}
	if n := count(sent, "6月"); n != 0 {
		t.Errorf("June spoke in November: %d messages", n)
	}
	// The first weekly roll-call of November names 东风社区 as not reported.
	if n := count(sent, "【点名】", "11月5日", "未报 6：东风社区"); n != 1 {
		t.Errorf("November's first roll-call:\n%s", strings.Join(sent, "\n"))
	}

	// June stays readable, by name.
	r.say(admin, "进度 2026年安全生产月 典型做法 第1期")
	got = r.said()
	if n := count(got, "【2026年安全生产月】", "第1期", "已报 1：东风社区"); n != 1 {
		t.Errorf("asking about June in December:\n%s", strings.Join(got, "\n"))
	}
	// Between campaigns: nothing is open, the past ones are asked about by
	// name, and an admin's 提醒 of a past one is refused.
	r.say(admin, "未报")
	r.say(admin, "提醒 2026年安全生产月 典型做法")
	got = r.said()
	if count(got, "现在没有正在进行的报送活动", "进度 2026年消防宣传月") != 1 || count(got, "「2026年安全生产月」已于7月3日结束，不再催报") != 1 || len(got) != 2 {
		t.Errorf("in December:\n%s", strings.Join(got, "\n"))
	}
	r.close()
}

// TestJuneWithAStandingMonthlyReport runs schedules.example/: June's campaign
// and a monthly report side by side. Reminders of both that fall in the same
// minute come as one message that records both keys; a report naming the
// monthly task counts there; a photo without a keyword goes to the nearest
// deadline the unit owes, whichever campaign it is in; receipts name the
// campaign.
func TestJuneWithAStandingMonthlyReport(t *testing.T) {
	files := map[string]string{}
	for _, name := range []string{"2026-06-anquan.toml", "yinhuan-monthly.toml"} {
		data, err := os.ReadFile(filepath.Join("schedules.example", name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(data)
	}
	r := newCampaignRig(t, files)
	r.open("2026-06-01 08:00")
	defer r.close()
	set := r.app.campaigns.Load()
	june, monthly := set.Campaign("2026-06-anquan"), set.Campaign("2026-yinhuan-monthly")

	r.advance("2026-06-24 09:00")
	sent := r.said()
	// 6/24 09:00: June's weekly reminder and the monthly one, as one message.
	at := count(sent, "06-24 09:00")
	if n := count(sent, "06-24 09:00", "【2026年安全生产月】", "【2026年每月隐患排查】", "6月25日（周四）12:00", "6月25日（周四）18:00"); n != 1 || at != 1 {
		t.Errorf("6/24 09:00: %d combined of %d messages:\n%s", n, at, strings.Join(sent, "\n"))
	}
	for _, c := range []*schedules.Schedule{june, monthly} {
		for _, e := range c.Events(r.at("2026-06-24 08:59"), r.at("2026-06-24 09:00")) {
			if note, _ := r.app.Store.SentNote(e.Key); note != "sent" {
				t.Errorf("%s: sent-log %q", e.Key, note)
			}
		}
	}
	// Each campaign's own reminders still arrive alone.
	if n := count(sent, "06-03 09:00", "【提醒】", "6月4日（周四）12:00"); n != 1 {
		t.Errorf("June's first weekly reminder: %d", n)
	}
	if n := count(sent, "05-22") + count(sent, "【2026年每月隐患排查】", "5月25日"); n != 0 {
		t.Errorf("the monthly report spoke before the bot started: %d", n)
	}

	// A report with the monthly task's keyword counts there, and the receipt names its campaign.
	r.say("西湖社区-李四", "6月隐患排查情况：排查商铺32家，整改隐患5处")
	got := r.said()
	if n := count(got, "【2026年每月隐患排查】已收到 西湖社区 第6期「每月隐患排查情况」"); n != 1 {
		t.Errorf("the monthly report's receipt:\n%s", strings.Join(got, "\n"))
	}
	yinhuan := monthly.TaskByID("yinhuan")
	if subs, _ := r.app.Store.PeriodSubmissions(yinhuan.Key, 6); len(subs) != 1 || subs[0].Unit != "西湖社区" {
		t.Errorf("monthly period 6: %+v", subs)
	}
	// A photo without a keyword: on 6/24 the weekly deadline (6/25 12:00) is
	// the nearest; on 6/25 at 16:00 the monthly one (18:00) is.
	r.photo("南山村-王五")
	weekly := june.TaskByID("weekly")
	if subs, _ := r.app.Store.PeriodSubmissions(weekly.Key, 4); len(subs) != 1 || subs[0].Unit != "南山村" {
		t.Errorf("weekly period 4: %+v", subs)
	}
	r.advance("2026-06-25 16:00")
	sent = r.said()
	// 6/25 10:00: both nudges, which @ people, as one message.
	if n := count(sent, "06-25 10:00", "【2026年安全生产月】", "【2026年每月隐患排查】", "【催报】", "@北岭村-赵六"); n != 1 || count(sent, "06-25 10:00") != 1 {
		t.Errorf("6/25 10:00:\n%s", strings.Join(sent, "\n"))
	}
	for _, m := range sent {
		if strings.HasPrefix(m, "06-25 10:00") && strings.Count(m, "@北岭村-赵六") != 1 {
			t.Errorf("a member owing in both campaigns is @mentioned once:\n%s", m)
		}
	}
	r.photo("北岭村-赵六")
	if subs, _ := r.app.Store.UnitSubmissions(yinhuan.Key, 6, "北岭村"); len(subs) != 1 {
		t.Errorf("monthly period 6 of 北岭村 after its photo: %+v", subs)
	}
	got = r.said()
	if n := count(got, "【2026年每月隐患排查】", "北岭村"); n != 1 {
		t.Errorf("北岭村's receipt:\n%s", strings.Join(got, "\n"))
	}

	// 进度 names each campaign's tasks under its name.
	r.say(admin, "进度")
	got = r.said()
	if n := count(got, "【2026年安全生产月】「活动总结", "【2026年每月隐患排查】「每月隐患排查情况」第6期"); n != 1 {
		t.Errorf("进度:\n%s", strings.Join(got, "\n"))
	}
}

// TestReusedFileWithoutID: June ran from a file without an id; the admins
// then rewrite that file for November, still without an id. The bot refuses
// to start rather than count June's reports for November, and says which line
// to add; with the id November starts clean, and June's data goes to June as
// soon as June's file is back with an id of its own.
func TestReusedFileWithoutID(t *testing.T) {
	noID := func(s string) string {
		return regexp.MustCompile(`(?m)^id = "2026-.*\n`).ReplaceAllString(s, "")
	}
	r := newCampaignRig(t, map[string]string{"campaign.toml": noID(juneFile(t))})
	r.open("2026-06-04 09:00")
	r.say("东风社区-张三", "本周典型做法：组织燃气安全入户检查")
	r.close()

	r.write("campaign.toml", noID(novemberFile(t)))
	f, err := loadFiles("", r.folder)
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: r.data,
		Transport: &memChat{now: time.Now}, Now: func() time.Time { return r.at("2026-11-01 08:00") }, Logger: zerolog.Nop()})
	if err == nil || !strings.Contains(err.Error(), "「2026年安全生产月」（2026-06-01 至 2026-07-03）的数据") ||
		!strings.Contains(err.Error(), `id = "2026-11-xiaofang"`) {
		t.Fatalf("a second campaign without an id over June's data: %v", err)
	}

	r.write("campaign.toml", novemberFile(t))
	r.open("2026-11-05 09:00")
	r.said()
	r.say(admin, "未报 典型做法")
	if got := r.said(); count(got, "未报 6：东风社区") != 1 {
		t.Errorf("November counted June's report:\n%s", strings.Join(got, "\n"))
	}
	if bare, _ := r.app.Store.BareTasks(); len(bare) != 1 || bare[0] != "weekly" {
		t.Errorf("June's data must stay where it is: bare %v", bare)
	}
	r.close()

	r.write("june.toml", juneFile(t))
	r.open("2026-11-05 10:00")
	defer r.close()
	r.say(admin, "进度 2026年安全生产月 典型做法 第1期")
	if got := r.said(); count(got, "【2026年安全生产月】", "部分 1：东风社区") != 1 {
		t.Errorf("June's data after June's file came back:\n%s", strings.Join(got, "\n"))
	}
}

// TestOneCampaignEditedBadly: a bad edit of one campaign's file keeps that
// campaign's last good version and leaves the other alone; a good edit of the
// other takes effect.
func TestOneCampaignEditedBadly(t *testing.T) {
	monthly, err := os.ReadFile(filepath.Join("schedules.example", "yinhuan-monthly.toml"))
	if err != nil {
		t.Fatal(err)
	}
	r := newCampaignRig(t, map[string]string{"june.toml": juneFile(t), "monthly.toml": string(monthly)})
	r.open("2026-06-01 10:00")
	defer r.close()
	r.said()
	ctx := context.Background()
	due := func(id, task string) string {
		return r.app.campaigns.Load().Campaign(id).TaskByID(task).Periods[0].Due.Format("01-02 15:04")
	}

	r.write("monthly.toml", strings.Replace(string(monthly), `cron = "0 18 25 * *"`, `cron = "0 18 32 * *"`, 1))
	r.app.ScheduleChanged(ctx, filepath.Join(r.folder, "monthly.toml"))
	got := r.said()
	if count(got, "管理员: ", "日程文件的改动有错误", "monthly.toml:") != 1 || due("2026-yinhuan-monthly", "yinhuan") != "01-23 18:00" {
		t.Errorf("bad edit: %q; monthly due %s", got, due("2026-yinhuan-monthly", "yinhuan"))
	}

	r.write("june.toml", strings.Replace(juneFile(t), `cron = "0 12 * * THU"`, `cron = "0 12 * * WED"`, 1))
	r.app.ScheduleChanged(ctx, filepath.Join(r.folder, "june.toml"))
	got = r.said()
	if count(got, "管理员: ", "日程文件已更新", "「2026年安全生产月」日程已重新载入") != 1 || due("2026-06-anquan", "weekly") != "06-03 12:00" ||
		due("2026-yinhuan-monthly", "yinhuan") != "01-23 18:00" {
		t.Errorf("good edit: %q; weekly due %s", got, due("2026-06-anquan", "weekly"))
	}

	// 重载 reads every file: the bad one still keeps its last good version.
	r.say(admin, "重载")
	got = r.said()
	if count(got, "日程文件有错误", "monthly.toml:", "其余的日程已重新载入") != 1 {
		t.Errorf("重载 with one bad file: %q", got)
	}
}

// TestCheckExplain: reportbot check --explain says whether a line counts and why.
func TestCheckExplain(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--explain", "本周典型做法：开展燃气安全入户检查86户", "--from", "2026-06-03"},
			"东风社区的成员：算报送。提到任务「本周典型做法、特色项目」，说了做的事；记到「本周典型做法、特色项目」"},
		{[]string{"--explain", "你们的活动方案什么时候交？", "--from", "2026-06-03"}, "东风社区的成员：不算报送。是问句（有问号）"},
		{[]string{"--explain", "请各单位于周四前报送典型做法", "--sender", "王科长"}, "王科长（管理员）：不算报送。管理员或不属于任何单位的人说的话"},
		{[]string{"--explain", "照片是今天楼道杂物清理的现场", "--sender", "西湖社区-李四", "--follows"}, "西湖社区-李四：算报送。紧跟着本人刚发的材料"},
	} {
		t.Run(tt.args[1], func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(append([]string{"check"}, tt.args...), nil, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.want) {
				t.Errorf("got %q, want %q", stdout.String(), tt.want)
			}
		})
	}
}
