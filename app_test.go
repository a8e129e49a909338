package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/schedules"
	"reportbot/store"
)

// memChat keeps what the bot sends, with the (bubble) time it was sent.
type memChat struct {
	mu   sync.Mutex
	now  func() time.Time
	sent []string
}

func (c *memChat) Deliver(_ context.Context, m bot.Outgoing, begin func() error) error {
	if err := begin(); err != nil {
		return err
	}
	if m.File != "" {
		m.Text = "[文件] " + m.File
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	prefix := c.now().Format("01-02 15:04:05 ")
	if m.ToAdmins {
		prefix = "管理员: "
	}
	c.sent = append(c.sent, prefix+m.Text)
	return nil
}

func (c *memChat) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.sent...)
}

// TestRunLoopRealTime runs the real-time loop in a synctest bubble over two
// days of June: reminders fire at their times, and a receipt follows a report
// by the receipt delay without waiting for the next scheduled event.
// inBubble runs fn in a synctest bubble over the example files and a fresh
// data directory, with now starting at at ("2006-01-02 15:04", the
// campaign's zone) and moving with the bubble's time: the real-time loop
// (App.Run) sleeps in fake time.
func inBubble(t *testing.T, at string, fn func(t *testing.T, f *files, dir string, now func() time.Time)) {
	t.Helper()
	f, err := loadFiles("", "")
	if err != nil {
		t.Fatal(err)
	}
	start, err := time.ParseInLocation("2006-01-02 15:04", at, f.schedule.Location)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		origin := time.Now()
		fn(t, f, dir, func() time.Time { return start.Add(time.Since(origin)) })
	})
}

func TestRunLoopRealTime(t *testing.T) {
	inBubble(t, "2026-06-03 08:00", func(t *testing.T, f *files, dir string, now func() time.Time) {
		chat := &memChat{now: now}
		app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: dir,
			Transport: chat, Now: now, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- app.Run(ctx) }()

		time.Sleep(2 * time.Hour) // 10:00
		if err := app.Deliver(ctx, bot.Message{ID: "1", Sender: bot.Member{Name: "东风社区-张三"}, Kind: schedules.Text,
			Text: "本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Hour) // to 6/4 16:00
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		app.Close()
		// One daily backup, at 03:00 on 6/4.
		if list, _ := store.Backups(filepath.Join(dir, store.BackupDir)); len(list) != 1 || filepath.Base(list[0]) != "reportbot-20260604-030000.db" {
			t.Errorf("backups %v", list)
		}
		got := strings.Join(chat.all(), "\n")
		for _, want := range []string{
			"06-03 09:00:00 【提醒】",
			"06-03 10:01:00 已收到 东风社区 第1期", // one receipt delay after the report
			"06-04 10:00:00 【催报】",
			"06-04 12:00:00 【点名】",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("lacks %q in:\n%s", want, got)
			}
		}
	})
}

func TestBackupCommandAndRestore(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	var stdout, stderr bytes.Buffer
	script := filepath.Join(dir, "s.txt")
	os.WriteFile(script, []byte("/time 2026-06-03 10:00\n"+
		"东风社区-张三: 本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。\n"+
		"东风社区-张三: 备份\n"+
		"街道应急办-王科 -> bot: 备份\n"+
		"/time 2026-06-03 11:00\n"+
		"西湖社区-李四: 本周典型做法：西湖社区走访独居老人二十三户，检查燃气软管。\n"), 0o644)
	if code := run([]string{"demo", "--script", script, "--data", data}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("demo: %s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "抱歉，“备份”只有管理员可以使用") || !strings.Contains(stdout.String(), "-> 街道应急办-王科: 已备份：") {
		t.Fatalf("transcript:\n%s", stdout.String())
	}
	list, _ := store.Backups(filepath.Join(data, store.BackupDir))
	if len(list) != 1 {
		t.Fatalf("backups %v", list)
	}
	stdout.Reset()
	if code := run([]string{"restore", "--data", data, filepath.Base(list[0])}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("restore: %s", stderr.String())
	}
	db, err := store.Open(data, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	subs, _ := db.PeriodSubmissions("weekly", 1)
	if len(subs) != 1 || subs[0].Unit != "东风社区" {
		t.Errorf("after the restore: %+v (the later report of 西湖社区 should be gone)", subs)
	}
}

// TestScheduleHotReload edits the schedule file under a running App: a good
// edit takes effect and the admins are told; a bad one changes nothing but
// tells them the error and its line; a file removed and recreated by rename
// (as editors save) is picked up.
func TestScheduleHotReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "schedule.toml")
	if err := os.WriteFile(path, exampleSchedule, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := loadFiles("", path)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 6, 1, 10, 0, 0, 0, f.schedule.Location) }
	chat := &memChat{now: now}
	app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, Reload: true,
		DataDir: filepath.Join(dir, "data"), Transport: chat, Now: now, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go watchSchedules(ctx, f.schedules, 50*time.Millisecond, func(p string) { app.ScheduleChanged(ctx, p) })
	time.Sleep(100 * time.Millisecond) // the watch is in place

	firstDue := func() string {
		return app.campaigns.Load().All()[0].TaskByID("weekly").Periods[0].Due.Format("01-02")
	}
	waitAdmins := func(n int) []string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var got []string
			for _, m := range chat.all() {
				if strings.HasPrefix(m, "管理员: ") {
					got = append(got, m)
				}
			}
			if len(got) >= n {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("admins were told %d things, want %d: %q", len(got), n, got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	good := strings.Replace(string(exampleSchedule), `cron = "0 12 * * THU"`, `cron = "0 12 * * WED"`, 1)
	os.WriteFile(path, []byte(good), 0o644)
	msgs := waitAdmins(1)
	if !strings.Contains(msgs[0], "日程文件已更新") || !strings.Contains(msgs[0], "接下来") || firstDue() != "06-03" {
		t.Errorf("good edit: %q, first weekly due %s", msgs[0], firstDue())
	}

	bad := strings.Replace(good, `cron = "0 12 * * WED"`, `cron = "0 12 * * WEDS"`, 1)
	os.WriteFile(path, []byte(bad), 0o644)
	msgs = waitAdmins(2)
	line := strings.Count(bad[:strings.Index(bad, "WEDS")], "\n") + 1
	if !strings.Contains(msgs[1], "有错误") || !strings.Contains(msgs[1], fmt.Sprintf("schedule.toml:%d:", line)) || firstDue() != "06-03" {
		t.Errorf("bad edit: %q (want line %d), first weekly due %s", msgs[1], line, firstDue())
	}

	os.Remove(path)
	time.Sleep(200 * time.Millisecond)
	tmp := filepath.Join(dir, ".schedule.toml.swp")
	os.WriteFile(tmp, exampleSchedule, 0o644)
	os.Rename(tmp, path)
	msgs = waitAdmins(3)
	if !strings.Contains(msgs[2], "日程文件已更新") || firstDue() != "06-04" {
		t.Errorf("recreated: %q, first weekly due %s", msgs[2], firstDue())
	}
}

// TestDashboardCampaigns runs the dashboard over a folder of two campaigns
// with the same task ids, in November: a report the bot files shows in its
// campaign only, a mark in June goes under June's key, and the editor saves
// June's file alone, refusing an id November already has before writing.
func TestDashboardCampaigns(t *testing.T) {
	dir := t.TempDir()
	sched := filepath.Join(dir, "schedules")
	os.Mkdir(sched, 0o755)
	example := string(exampleSchedule)
	withID := func(text, id string) string {
		return strings.Replace(text, "\nname = ", "\nid = \""+id+"\"\nname = ", 1)
	}
	juneText := withID(example, "anquan-2026-06")
	novText := withID(strings.NewReplacer("2026-06-", "2026-11-", "2026-07-03", "2026-12-03",
		`name = "2026年安全生产月"`, `name = "2026年11月隐患排查"`).Replace(example), "anquan-2026-11")
	junePath, novPath := filepath.Join(sched, "june.toml"), filepath.Join(sched, "november.toml")
	os.WriteFile(junePath, []byte(juneText), 0o644)
	os.WriteFile(novPath, []byte(novText), 0o644)
	f, err := loadFiles("", sched)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 4, 10, 0, 0, 0, f.schedule.Location) }
	ctx := context.Background()
	app, err := OpenApp(ctx, AppOptions{Config: f.config, Files: f.schedules, Reload: true,
		DataDir: filepath.Join(dir, "data"), Transport: &memChat{now: now}, Now: now, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	srv, err := app.Dashboard(f.config, "http://bot.example", consoleStatus)
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, target string, cookie *http.Cookie, form url.Values) *httptest.ResponseRecorder {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		r := httptest.NewRequest(method, target, body)
		if form != nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if cookie != nil {
			r.AddCookie(cookie)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		return w
	}
	link, err := srv.SignInLink("王科长")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link)
	cookie := do("GET", u.RequestURI(), nil, nil).Result().Cookies()[0]
	page := do("GET", "/", cookie, nil).Body.String()
	_, csrf, _ := strings.Cut(page, `name="csrf" value="`)
	csrf, _, _ = strings.Cut(csrf, `"`)

	if err := app.Deliver(ctx, bot.Message{ID: "1", Sender: bot.Member{Name: "东风社区-张三"}, Kind: schedules.Text,
		Text: "本周典型做法：东风社区开展燃气隐患排查。"}); err != nil {
		t.Fatal(err)
	}
	dongfeng := `<a href="/cell/weekly/1/` + url.PathEscape("东风社区")
	for _, tt := range []struct {
		path string
		want bool
	}{{"/", true}, {"/?campaign=anquan-2026-11", true}, {"/?campaign=anquan-2026-06", false}} {
		body := do("GET", tt.path, cookie, nil).Body.String()
		// The cell's class says partial, and now when it is the current period.
		if got := strings.Contains(body, `<td class="partial">`+dongfeng) || strings.Contains(body, `<td class="partial now">`+dongfeng); got != tt.want {
			t.Errorf("GET %s shows 东风社区's report: %v, want %v", tt.path, got, tt.want)
		}
	}

	mark := url.Values{"csrf": {csrf}, "task": {"weekly"}, "period": {"1"}, "unit": {"南山村"}, "status": {"exempt"}}
	if w := do("POST", "/mark?campaign=anquan-2026-06", cookie, mark); w.Code != http.StatusSeeOther {
		t.Fatalf("mark: %d", w.Code)
	}
	if marks, _ := app.Store.Marks("anquan-2026-06/weekly", 1); marks["南山村"].Status != bot.Exempt {
		t.Errorf("June's marks: %v", marks)
	}
	if marks, _ := app.Store.Marks("anquan-2026-11/weekly", 1); len(marks) != 0 {
		t.Errorf("November's marks: %v", marks)
	}

	clash := strings.Replace(juneText, `id = "anquan-2026-06"`, `id = "anquan-2026-11"`, 1)
	if w := do("POST", "/schedule?campaign=anquan-2026-06", cookie, url.Values{"csrf": {csrf}, "text": {clash}}); w.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(w.Body.String(), "重复") {
		t.Errorf("June with November's id: %d", w.Code)
	}
	if readFile(t, junePath) != juneText {
		t.Error("June's file was written with November's id")
	}
	edited := strings.Replace(juneText, `cron = "0 12 * * THU"`, `cron = "0 12 * * WED"`, 1)
	w := do("POST", "/schedule?campaign=anquan-2026-06", cookie, url.Values{"csrf": {csrf}, "text": {edited}})
	if back := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.HasPrefix(back, "/schedule?campaign=anquan-2026-06&") {
		t.Errorf("save June: %d, back to %q", w.Code, back)
	}
	if readFile(t, junePath) != edited || readFile(t, novPath) != novText {
		t.Error("the edit did not go to June's file alone")
	}
	for id, want := range map[string]time.Weekday{"anquan-2026-06": time.Wednesday, "anquan-2026-11": time.Thursday} {
		if got := app.campaigns.Load().Campaign(id).TaskByID("weekly").Periods[0].Due.Weekday(); got != want {
			t.Errorf("%s's weekly is due on %v, want %v", id, got, want)
		}
	}
}
