package main

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/console"
	"reportbot/export"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// play runs a script through the console over the example files and returns the transcript.
func play(t *testing.T, script string) string {
	t.Helper()
	f, err := loadFiles("", "")
	if err != nil {
		t.Fatal(err)
	}
	return playFiles(t, f, script)
}

func playFiles(t *testing.T, f *files, script string) string {
	t.Helper()
	var out bytes.Buffer
	ctx := context.Background()
	p, err := startConsole(ctx, f, t.TempDir(), &out, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Play(ctx, strings.NewReader(script), "script", console.DirFiles("testdata")); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readFile(t, path)
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d (go test -run %s -update to accept):\ngot:  %s\nwant: %s", path, i+1, t.Name(), gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs in length: got %d lines, want %d (go test -update to accept)", path, len(gl), len(wl))
	}
}

type botMessage struct {
	at   time.Time
	to   string
	text string
}

var headRE = regexp.MustCompile(`^\[(\d{4}-\d\d-\d\d \d\d:\d\d)\] 机器人 -> ([^:]+): (.*)$`)

// botMessages reads the bot's messages back from a transcript.
func botMessages(t *testing.T, transcript string) []botMessage {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	var out []botMessage
	inBot := false
	for _, line := range strings.Split(transcript, "\n") {
		if m := headRE.FindStringSubmatch(line); m != nil {
			at, _ := time.ParseInLocation("2006-01-02 15:04", m[1], loc)
			out = append(out, botMessage{at: at, to: m[2], text: m[3]})
			inBot = true
			continue
		}
		if inBot && (strings.HasPrefix(line, "  ") || line == "") && !strings.HasPrefix(line, "[") {
			out[len(out)-1].text += "\n" + strings.TrimPrefix(line, "  ")
			continue
		}
		inBot = false
	}
	return out
}

func TestJuneCampaign(t *testing.T) {
	start := time.Now()
	transcript := play(t, readFile(t, "testdata/june.txt"))
	t.Logf("June played in %v", time.Since(start))
	golden(t, "june.golden", transcript)

	f, _ := loadFiles("", "")
	s := f.schedule
	scheduled := map[string]bool{}
	for _, m := range botMessages(t, transcript) {
		for _, prefix := range []string{"【通知】", "【提醒】", "【催报】", "【点名】"} {
			if !strings.HasPrefix(m.text, prefix) {
				continue
			}
			day := m.at.Format("01-02")
			scheduled[day+" "+prefix] = true
			// No scheduled message on a day off or in quiet hours.
			if !s.Allowed(m.at) {
				t.Errorf("%s %s sent on a day off or in quiet hours", m.at.Format("01-02 15:04"), prefix)
			}
		}
	}
	for _, want := range []string{
		"06-01 【通知】", "06-16 【通知】", // the opening and the 6/16 announcement
		"06-03 【提醒】", "06-04 【催报】", "06-04 【点名】", // every weekly Thursday: remind the day before, nudge, roll-call
		"06-10 【提醒】", "06-11 【点名】", "06-17 【提醒】", "06-18 【催报】", "06-18 【点名】",
		"06-24 【提醒】", "06-25 【催报】", "06-25 【点名】",
		"06-05 【提醒】", "06-09 【催报】", "06-10 【点名】", // the plan, due 6/9
		"06-15 【提醒】", "06-17 【点名】", // the consultation day
		"06-23 【提醒】", "06-29 【催报】", "07-01 【点名】", // the summary, due 6/30
	} {
		if !scheduled[want] {
			t.Errorf("no %s", want)
		}
	}
	for day := range scheduled {
		for _, off := range []string{"06-19", "06-20", "06-21", "06-06", "06-07", "06-13", "06-14", "06-27", "06-28"} {
			if strings.HasPrefix(day, off) {
				t.Errorf("scheduled message on a day off: %s", day)
			}
		}
	}
	for _, want := range []string{
		"已收到 西湖社区 第1期「本周典型做法、特色项目」（迟报）", // late, partial...
		"已收齐 西湖社区 第1期「本周典型做法、特色项目」（迟报）", // ...then complete
		"@小孙 还不知道您代表哪个单位报送", "已绑定：小孙 代表 城建办 报送。之前发的图片1张已记入",
		"已收到 北岭村 第3期「本周典型做法、特色项目」（迟报）", // receipted at once on a holiday
		"已收到 东风社区「活动总结、图片影像资料、活动情况统计表」：文字1条，图片1张，文件1个",
		"已收到 南山村「活动总结、图片影像资料、活动情况统计表」：文字1条，图片1张，还差至少1个统计表",
		"[2026-06-18 11:00] 机器人 -> 群: 【催报】「本周典型做法、特色项目」第3期", // missed while stopped, sent on start
	} {
		if !strings.Contains(transcript, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
}

// TestRestartSendsNothingTwice plays the same month with restarts at every
// step: the bot's messages are the same as without them.
func TestRestartSendsNothingTwice(t *testing.T) {
	script := readFile(t, "testdata/june.txt")
	plain := play(t, script)
	var b strings.Builder
	for _, line := range strings.Split(script, "\n") {
		b.WriteString(line + "\n")
		if strings.HasPrefix(line, "/time") {
			b.WriteString("/restart\n")
		}
	}
	restarted := play(t, b.String())
	if plain != restarted {
		pl, rl := strings.Split(plain, "\n"), strings.Split(restarted, "\n")
		for i := range pl {
			if i >= len(rl) || pl[i] != rl[i] {
				t.Fatalf("restarts changed the transcript at line %d:\nwithout: %s\nwith:    %s", i+1, pl[i], rl[min(i, len(rl)-1)])
			}
		}
		t.Fatal("restarts added messages")
	}
}

// TestMissedWhileDown: reminders whose deadline is still ahead are sent on
// start; those whose deadline passed are skipped; a roll-call is still sent.
func TestMissedWhileDown(t *testing.T) {
	out := play(t, `
/time 2026-06-03 08:00
/stop
/time 2026-06-04 11:30
/start
/stop
/time 2026-06-11 13:00
/start
`)
	msgs := botMessages(t, out)
	var got []string
	for _, m := range msgs {
		if m.at.Before(time.Date(2026, 6, 3, 0, 0, 0, 0, m.at.Location())) {
			continue // the opening announcement, before the bot stops
		}
		got = append(got, m.at.Format("01-02 15:04")+" "+strings.SplitN(m.text, "」", 2)[0])
	}
	want := []string{
		"06-04 11:30 【提醒】请各单位于6月4日（周四）12:00前报送第1期「本周典型做法、特色项目",
		"06-04 11:30 【催报】「本周典型做法、特色项目",
		"06-11 13:00 【点名】「活动方案",        // the plan's roll-call (6/10) is useful while late reports count
		"06-11 13:00 【点名】「本周典型做法、特色项目", // this week's roll-call; last week's is superseded
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDeclaredHoliday: a day off declared in the schedule file moves the
// Thursday deadline to Wednesday, and nothing scheduled is sent on it.
func TestDeclaredHoliday(t *testing.T) {
	src := strings.Replace(string(exampleSchedule), `days_off = []`, `days_off = ["2026-06-25 街道活动日"]`, 1)
	path := filepath.Join(t.TempDir(), "schedule.toml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := loadFiles("", path)
	if err != nil {
		t.Fatal(err)
	}
	out := playFiles(t, f, "/time 2026-06-22 08:00\n/time 2026-06-26 18:00\n")
	var got []string
	for _, m := range botMessages(t, out) {
		if m.at.Format("01-02") == "06-25" {
			t.Errorf("sent on the declared day off: %s", m.text)
		}
		if m.at.After(time.Date(2026, 6, 22, 8, 0, 0, 0, m.at.Location())) {
			got = append(got, m.at.Format("01-02 15:04")+" "+m.text[:strings.Index(m.text, "」")+len("」")])
		}
	}
	want := []string{
		// "-5d 09:00" counts working days: the day off pulls the summary's reminder back a day.
		"06-22 09:00 【提醒】请各单位于6月30日（周二）18:00前报送「活动总结、图片影像资料、活动情况统计表」",
		"06-23 09:00 【提醒】请各单位于6月24日（周三）12:00前报送第4期「本周典型做法、特色项目」",
		"06-24 10:00 【催报】「本周典型做法、特色项目」",
		"06-24 12:00 【点名】「本周典型做法、特色项目」",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDemoRuns(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"demo"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("demo exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"【提醒】", "已收到 东风社区", "【催报】", "@西湖社区-李四", "【点名】", "未报 ", "迟报"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	// Messages come in time order.
	var last string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "[") {
			ts := line[1:17]
			if ts < last {
				t.Errorf("out of order: %s after %s", ts, last)
			}
			last = ts
		}
	}
}

func TestDemoScriptFile(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.txt")
	os.WriteFile(script, []byte("/time 2026-06-03 09:30\n东风社区-张三: 本周典型做法：东风社区开展消防演练一次。\n"), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"demo", "--script", script, "--data", filepath.Join(dir, "data")}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "已收到 东风社区 第1期") {
		t.Errorf("output:\n%s", stdout.String())
	}
	// A bad line fails with the file and line.
	os.WriteFile(script, []byte("/time 2026-06-03 09:30\n/tiem 2026-06-04\n"), 0o644)
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"demo", "--script", script}, nil, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "s.txt:2:") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// lockedBuffer is a bytes.Buffer written by a command running in another goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDemoWebScriptKeepsServing: with --web the demo keeps the dashboard up
// after its script, as the flag's help says, until it is stopped (Ctrl-C or
// SIGTERM cancel the context); then it returns and the dashboard is gone.
func TestDemoWebScriptKeepsServing(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := strings.NewReplacer(`listen = "127.0.0.1:8080"`, `listen = "`+addr+`"`, `url = "http://127.0.0.1:8080"`, `url = "http://`+addr+`"`).Replace(string(exampleConfig))
	os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o644)
	os.WriteFile(filepath.Join(dir, "schedule.example.toml"), exampleSchedule, 0o644)
	script := filepath.Join(dir, "s.txt")
	os.WriteFile(script, []byte("/time 2026-06-03 09:30\n东风社区-张三: 本周典型做法：东风社区开展消防演练一次。\n"), 0o644)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- demoCmd(ctx, []string{"--web", "--config", filepath.Join(dir, "config.toml"), "--script", script, "--data", filepath.Join(dir, "data")}, nil, &stdout, &stderr)
	}()
	healthy := func() bool {
		res, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "播放完毕") {
		select {
		case err := <-done:
			t.Fatalf("demo --web --script returned when the script ended: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the script did not end: %s", stderr.String())
		}
	}
	// The receipt leaves through the outbox, after the script's last line.
	for !strings.Contains(stdout.String(), "已收到 东风社区 第1期") {
		select {
		case err := <-done:
			t.Fatalf("demo --web --script returned after the script: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no receipt for the script's report:\n%s", stdout.String())
		}
	}
	if !healthy() {
		t.Error("the dashboard does not answer after the script")
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("stopped: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running after the stop")
	}
	if healthy() {
		t.Error("the dashboard still answers after the demo ended")
	}
}

func TestCheck(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "--from", "2026-06-01"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if !strings.HasPrefix(lines[0], "2026-06-01 09:00 通知") {
		t.Errorf("first event line %q", lines[0])
	}
	if !strings.Contains(stderr.String(), "正确") {
		t.Errorf("stderr %q does not say the files are right", stderr.String())
	}
	for _, l := range lines {
		// The group's words for kinds and tasks, not the file's ids: a newcomer reads them.
		if !regexp.MustCompile(`^2026-06-(0\d|1[0-4]) \d\d:\d\d (通知 【通知】|(提醒|催报|点名) 「[^」a-z]+」)`).MatchString(l) {
			t.Errorf("line %q is not a time within 14 days, kind, task name", l)
		}
	}
	stdout.Reset()
	run([]string{"check", "--all"}, nil, &stdout, &stderr)
	if !strings.Contains(stdout.String(), "2026-07-01 09:00 点名 「活动总结、图片影像资料、活动情况统计表」（截止 6月30日（周二）18:00）") {
		t.Errorf("--all lacks the summary roll-call:\n%s", stdout.String())
	}

	// A bad schedule: exit 1, every error with file:line.
	bad := strings.Replace(string(exampleSchedule), `cron = "0 12 * * THU"`, `cron = "0 12 * * THUR"`, 1)
	bad = strings.Replace(bad, "task = \"consult\"\nkind = \"remind\"", "task = \"consul\"\nkind = \"remind\"", 1)
	path := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(path, []byte(bad), 0o644)
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"check", "--schedule", path}, nil, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d", code)
	}
	lineOf := func(substr string) int { return strings.Count(bad[:strings.Index(bad, substr)], "\n") + 1 }
	for _, want := range []string{
		fmt.Sprintf(`bad.toml:%d: cron "0 12 * * THUR" 第5段「周」"THUR" 无法识别`, lineOf(`cron = "0 12 * * THUR"`)),
		fmt.Sprintf(`bad.toml:%d: 提醒里的任务 "consul" 不存在`, lineOf(`task = "consul"`)),
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if n := strings.Count(stderr.String(), "bad.toml:"); n != 2 {
		t.Errorf("%d errors, want 2 (one per mistake):\n%s", n, stderr.String())
	}
}

func TestCheckProposesCampaignID(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	example := string(exampleSchedule)
	withID := write("with-id.toml", strings.Replace(example, "\nname = ", "\nid = \"anquan-2026-06\"\nname = ", 1))
	noName := write("no-name.toml", strings.Replace(example, `name = "2026年安全生产月"`, "", 1))
	tests := []struct {
		name string
		args []string
		want string // "" for no proposal
	}{
		{"built-in example", nil, `建议在 schedule.example.toml 第5行 name 之前加一行：id = "2026-06-anquan"（活动的固定代号，以后改名也不会把数据弄混）`},
		{"a file with an id", []string{"--schedule", withID}, ""},
		{"a file without name", []string{"--schedule", noName}, "建议在 " + noName + ` 第6行 timezone 之前加一行：id = "2026-06-campaign"（活动的固定代号，以后改名也不会把数据弄混）`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(append([]string{"check", "--all"}, tt.args...), nil, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			last := lines[len(lines)-1]
			switch {
			case tt.want == "" && strings.Contains(stderr.String(), "建议"):
				t.Errorf("proposes an id for a file that has one:\n%s", stderr.String())
			case tt.want != "" && last != tt.want:
				t.Errorf("last line of stderr\n%s\nwant\n%s", last, tt.want)
			}
			if !strings.Contains(stdout.String(), "点名 「活动总结") {
				t.Errorf("the messages are not listed:\n%s", stdout.String())
			}
		})
	}
}

func TestExportCLI(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"demo", "--script", "testdata/june.txt", "--data", data}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("demo exit %d: %s", code, stderr.String())
	}
	out := filepath.Join(dir, "out")
	stdout.Reset()
	if code := run([]string{"export", "--data", data, "--task", "典型做法", "--period", "1", "--out", out}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("export exit %d: %s", code, stderr.String())
	}
	for _, name := range []string{"报送统计表.xlsx", "本周典型做法、特色项目-第1期-汇编.docx", "本周典型做法、特色项目-第1期-材料.zip"} {
		if st, err := os.Stat(filepath.Join(out, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
		if !strings.Contains(stdout.String(), name) {
			t.Errorf("stdout does not list %s", name)
		}
	}
	// --all: the workbook, a 汇编 for every task period (one for a task without
	// deadline), and the whole-campaign archive holding the same 汇编.
	all := filepath.Join(dir, "all")
	stdout.Reset()
	if code := run([]string{"export", "--data", data, "--all", "--out", all}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("export --all exit %d: %s", code, stderr.String())
	}
	files, _ := loadFiles("", "")
	campaign, err := exportCampaign(files.schedules.Set(), "", timeNow())
	if err != nil {
		t.Fatal(err)
	}
	archive, err := zip.OpenReader(filepath.Join(all, export.ArchiveName(nil, 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	inArchive := map[string]bool{}
	for _, e := range archive.File {
		inArchive[path.Base(e.Name)] = true
	}
	reports := 0
	for _, task := range campaign.Tasks {
		if task.Anytime && len(task.Periods) != 1 {
			t.Errorf("%s: %d periods without deadline", task.Name, len(task.Periods))
		}
		for _, p := range task.Periods {
			name := export.ReportName(task, p.N)
			reports++
			if st, err := os.Stat(filepath.Join(all, name)); err != nil || st.Size() == 0 {
				t.Errorf("export --all: %s: %v", name, err)
			}
			if !strings.Contains(stdout.String(), name) {
				t.Errorf("export --all: stdout does not list %s", name)
			}
			if !inArchive[name] {
				t.Errorf("export --all: %s is not in the archive", name)
			}
		}
	}
	if written, _ := filepath.Glob(filepath.Join(all, "*-汇编.docx")); len(written) != reports || reports < len(campaign.Tasks) {
		t.Errorf("export --all wrote %d 汇编 for %d task periods: %v", len(written), reports, written)
	}
	// A database file, such as a backup, exports the same way.
	stdout.Reset()
	if code := run([]string{"export", "--db", filepath.Join(data, "reportbot.db"), "--out", filepath.Join(dir, "from-db")}, nil, &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), "报送统计表.xlsx") {
		t.Errorf("export --db: exit %d, %s %s", code, stdout.String(), stderr.String())
	}
	// The admin command in the June script put its files under the data directory.
	if m, _ := filepath.Glob(filepath.Join(data, "exports", "*", "报送统计表.xlsx")); len(m) != 1 {
		t.Errorf("exports in the data directory: %v", m)
	}
	// While the bot runs, the CLI says how to get the export instead of hanging.
	f, _ := loadFiles("", "")
	app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: data,
		Transport: &memChat{now: time.Now}, Now: time.Now, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	stderr.Reset()
	if code := run([]string{"export", "--data", data, "--out", out}, nil, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "私聊机器人发送“导出”") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestLogsCarryNoSessionSecrets(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "info", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = errors.New(`sync check failed: Get "https://webpush.wx.qq.com/cgi-bin/mmwebwx-bin/synccheck?r=1&skey=%40crypt_abc&sid=SECRETSID&uin=12345&deviceid=e123&synckey=1_100%7C2_100": EOF`)
	log.Warn().Err(err).Str("cookie", "webwx_data_ticket=TICKET123; wxsid=SECRETSID").Msg("sync")
	log.Warn().Str("body", `<error><ret>0</ret><skey>@crypt_xyz</skey><wxsid>SECRETSID</wxsid><pass_ticket>PT%2Bx</pass_ticket></error>`).Msg("login")
	// JSON inside an error text is escaped once more in the JSON log line.
	log.Warn().Err(errors.New(`gettoken: {"errcode":0,"access_token":"AT-777","appSecret":"APPS-888"}`)).Msg("token")
	log.Warn().Err(errors.New(`alert: Post "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=WECOMKEY1": EOF`)).Msg("alert")
	out := buf.String()
	for _, secret := range []string{"crypt_abc", "SECRETSID", "12345", "e123", "1_100", "TICKET123", "crypt_xyz", "PT%2Bx", "AT-777", "APPS-888", "WECOMKEY1"} {
		if strings.Contains(out, secret) {
			t.Errorf("log carries %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "sync check failed") {
		t.Errorf("the rest of the message was lost:\n%s", out)
	}
}

// TestConsoleIdentity: in the console, as in WeChat, an admin is known by the
// remark name the bot account gave the contact (here from the config), never
// by a display name anyone can take.
func TestConsoleIdentity(t *testing.T) {
	out := play(t, `/time 2026-06-03 10:00
王科长: 标记 北岭村 典型做法 免报
王科长 -> bot: 标记 北岭村 典型做法 免报
街道应急办-王科 -> bot: 标记 北岭村 典型做法 免报
`)
	msgs := botMessages(t, out)
	if len(msgs) < 3 {
		t.Fatalf("replies %+v", msgs)
	}
	msgs = msgs[len(msgs)-3:] // after the opening announcement and the reminder
	for i, m := range msgs[:2] {
		if !strings.Contains(m.text, "只有管理员") {
			t.Errorf("reply %d to someone named 王科长: %q", i, m.text)
		}
	}
	if !strings.Contains(msgs[2].text, "已标记：北岭村") || msgs[2].to != "街道应急办-王科" {
		t.Errorf("the admin's mark: %+v", msgs[2])
	}
}
