package schedules

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func loadExample(t *testing.T) *Schedule {
	t.Helper()
	s, err := Load(filepath.Join("..", "schedule.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestExamplePeriods(t *testing.T) {
	s := loadExample(t)
	weekly := s.TaskByID("weekly")
	var dues []string
	for _, p := range weekly.Periods {
		dues = append(dues, p.Due.Format("01-02 15:04"))
	}
	if got, want := strings.Join(dues, ","), "06-04 12:00,06-11 12:00,06-18 12:00,06-25 12:00"; got != want {
		t.Errorf("weekly dues = %s, want %s", got, want)
	}
	if p := weekly.Periods[1]; !p.Opens.Equal(weekly.Periods[0].Due) {
		t.Errorf("period 2 opens %v, want period 1's due", p.Opens)
	}
	// A late report for period 1 counts until the next reminder of the task.
	if got := weekly.Periods[0].LateUntil; !got.Equal(at(t, "2026-06-10 09:00")) {
		t.Errorf("period 1 late until %v", got)
	}
	if got := s.TaskByID("plan").Periods[0].Due; !got.Equal(at(t, "2026-06-09 18:00")) {
		t.Errorf("plan due %v", got)
	}
	if !s.TaskByID("activity").Anytime {
		t.Error("activity should be a task without deadline")
	}
	for _, q := range []struct{ query, id string }{{"weekly", "weekly"}, {"典型做法", "weekly"}, {"方案", "plan"}, {"活动总结", "summary"}, {"总结", "summary"}} {
		if got := s.Task(q.query); got == nil || got.ID != q.id {
			t.Errorf("Task(%q) = %v, want %s", q.query, got, q.id)
		}
	}
	if got := s.Task("不存在"); got != nil {
		t.Errorf("Task(不存在) = %v", got.ID)
	}
}

func TestNoEventOnDaysOffOrQuietHours(t *testing.T) {
	s := loadExample(t)
	events := s.Events(s.Start.Add(-time.Hour), s.End.AddDate(0, 0, 7))
	if len(events) < 20 {
		t.Fatalf("only %d events", len(events))
	}
	for _, e := range events {
		if !s.Allowed(e.At) {
			work, name := s.Calendar.Day(e.At)
			t.Errorf("%s falls on a day off or in quiet hours (workday %v %s)", e.Describe(), work, name)
		}
	}
}

// dayOffSchedule has a weekly Thursday deadline, a declared day off on one
// Thursday, and an official holiday (端午节, Friday 6/19) under another reminder.
const dayOffSchedule = `
name = "测试"
start = "2026-06-01"
end = "2026-06-30"
quiet_hours = "21:00-08:00"
[calendar]
days_off = ["2026-06-11 街道活动日"]
workdays = ["2026-06-13"]
[[task]]
id = "weekly"
name = "周报"
cron = "0 12 * * THU"
[[task]]
id = "fri"
name = "周五材料"
cron = "0 17 * * FRI"
on_day_off = "next"
[[task]]
id = "keep"
name = "不变"
due = "2026-06-19 17:00"
on_day_off = "keep"
[[remind]]
task = "weekly"
kind = "remind"
when = "-1d 09:00"
[[remind]]
task = "fri"
kind = "remind"
when = "-30h"
[[remind]]
task = "weekly"
kind = "rollcall"
when = "+10h"
`

func TestDayOffMovesDeadline(t *testing.T) {
	s, err := Parse("test.toml", []byte(dayOffSchedule))
	if err != nil {
		t.Fatal(err)
	}
	w := s.TaskByID("weekly")
	// 6/11 is declared off: the deadline moves to the previous workday, 6/10.
	if got := w.Periods[1].Due; !got.Equal(at(t, "2026-06-10 12:00")) || !strings.Contains(w.Periods[1].Moved, "街道活动日") {
		t.Errorf("period 2 due %v (%s), want 2026-06-10 12:00", got, w.Periods[1].Moved)
	}
	// 6/19 is 端午节: "next" moves Friday's deadline to Monday 6/22.
	f := s.TaskByID("fri")
	if got := f.Periods[2].Due; !got.Equal(at(t, "2026-06-22 17:00")) {
		t.Errorf("fri period 3 due %v, want 2026-06-22 17:00", got)
	}
	if got := s.TaskByID("keep").Periods[0].Due; !got.Equal(at(t, "2026-06-19 17:00")) {
		t.Errorf("keep due %v", got)
	}
	// The reminder "-1d 09:00" for the moved deadline is the workday before it, 6/9.
	var found bool
	for _, e := range s.Events(at(t, "2026-06-08 00:00"), at(t, "2026-06-12 00:00")) {
		if e.Task != nil && e.Task.ID == "weekly" && e.Period == 2 && e.Kind == Remind {
			found = true
			if !e.At.Equal(at(t, "2026-06-09 09:00")) {
				t.Errorf("remind for moved deadline at %v", e.At)
			}
		}
	}
	if !found {
		t.Error("no reminder for period 2")
	}
	// Nothing is sent on a day off: the 6/13 workday (a Saturday made a workday) is allowed.
	if !s.Calendar.IsWorkday(at(t, "2026-06-13 10:00")) || s.Calendar.IsWorkday(at(t, "2026-06-19 10:00")) {
		t.Error("calendar overrides not applied")
	}
}

func TestQuietHoursMoveMessages(t *testing.T) {
	s, err := Parse("test.toml", []byte(dayOffSchedule))
	if err != nil {
		t.Fatal(err)
	}
	short := map[string]string{} // today's keys to "task/period/reminder"
	for old, key := range s.LegacyKeys() {
		short[key] = old
	}
	seen := 0
	for _, e := range s.Events(s.Start, s.End.AddDate(0, 0, 7)) {
		switch short[e.Key] {
		case "weekly/1/rollcall@+10h", "fri/1/remind@-30h":
			seen++
		}
		switch short[e.Key] {
		case "weekly/1/rollcall@+10h":
			// 22:00 is quiet: a roll-call waits for the morning.
			if !e.At.Equal(at(t, "2026-06-05 08:00")) {
				t.Errorf("roll-call at %v, want 08:00 next morning", e.At)
			}
		case "fri/1/remind@-30h":
			// Thursday 11:00 is allowed.
			if !e.At.Equal(at(t, "2026-06-04 11:00")) {
				t.Errorf("fri remind at %v", e.At)
			}
		}
		if !s.Allowed(e.At) {
			t.Errorf("%s not allowed", e.Describe())
		}
	}
	if seen != 2 {
		t.Errorf("%d of the two reminders looked at", seen)
	}
	// Before a deadline, a reminder that falls in the quiet hours goes out when
	// they end if that is still before the deadline...
	if got := s.adjust(Remind, at(t, "2026-06-04 07:00"), at(t, "2026-06-04 12:00")); !got.Equal(at(t, "2026-06-04 08:00")) {
		t.Errorf("early reminder moved to %v", got)
	}
	// ...and else at the last allowed minute before.
	if got := s.adjust(Nudge, at(t, "2026-06-04 07:00"), at(t, "2026-06-04 08:00")); !got.Equal(at(t, "2026-06-03 20:59")) {
		t.Errorf("nudge moved to %v", got)
	}
}

func TestErrorsNameLineAndFix(t *testing.T) {
	base, err := os.ReadFile(filepath.Join("..", "schedule.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		edits [][2]string // replacements made in the example file
		// mark is where the error must point: the line on which it starts in the edited file.
		mark      string
		wantInMsg string
	}{
		{"bad cron", [][2]string{{`cron = "0 12 * * THU"`, `cron = "0 12 * * THUR"`}}, `cron = "0 12 * * THUR"`, "0 12 * * THU"},
		{"unknown task in a reminder", [][2]string{{"task = \"weekly\"\nkind = \"nudge\"", "task = \"weekly2\"\nkind = \"nudge\""}}, `task = "weekly2"`, "现有：plan、weekly"},
		{"overlapping dates", [][2]string{{`due = "2026-06-09 18:00"`, `due = ["2026-06-09 18:00", "2026-06-05 18:00"]`}}, `due = ["2026-06-09`, "重叠"},
		{"day both off and at work", [][2]string{{`days_off = []`, `days_off = ["2026-06-19"]`}, {`workdays = []`, `workdays = ["2026-06-19"]`}}, `workdays = [`, "重叠"},
		{"bad time zone", [][2]string{{`timezone = "Asia/Shanghai"`, `timezone = "Beijing"`}}, `timezone =`, "Asia/Shanghai"},
		{"bad date", [][2]string{{`due = "2026-06-30 18:00"`, `due = "2026-6-30"`}}, `due = "2026-6-30"`, "2026-06-09"},
		{"nudge after deadline", [][2]string{{"kind = \"nudge\"\nwhen = \"-2h\"", "kind = \"nudge\"\nwhen = \"+2h\""}}, `when = "+2h"`, "rollcall"},
		{"bad when", [][2]string{{`when = "-5d 09:00"`, `when = "五天前"`}}, `when = "五天前"`, "-1d 09:00"},
		{"misspelt key", [][2]string{{`on_day_off = "previous"`, `on_dayoff = "previous"`}}, `on_dayoff`, "on_dayoff"},
		{"unknown placeholder", [][2]string{{`{截止}前报送{期次}`, `{截至}前报送{期次}`}}, `{截至}`, "{截止}"},
		{"bad requires", [][2]string{{`requires = ["image"]`, `requires = ["photos"]`}}, `requires = ["photos"]`, "image"},
		{"duplicate task id", [][2]string{{`id = "consult"`, `id = "plan"`}}, "id = \"plan\"\nname = \"6·16", "重复"},
		{"quiet hours", [][2]string{{`quiet_hours = "21:00-08:00"`, `quiet_hours = "9pm-8am"`}}, `quiet_hours`, "21:00-08:00"},
		{"reminder on a task without deadline", [][2]string{{"task = \"summary\"\nkind = \"remind\"", "task = \"activity\"\nkind = \"remind\""}}, `task = "activity"`, "随时报送"},
		{"syntax", [][2]string{{`name = "重要活动"`, `name = "重要活动`}}, `name = "重要活动`, "引号没有配对"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := string(base)
			for _, e := range tt.edits {
				if !strings.Contains(src, e[0]) {
					t.Fatalf("example has no %q", e[0])
				}
				src = strings.Replace(src, e[0], e[1], 1)
			}
			i := strings.Index(src, tt.mark)
			if i < 0 {
				t.Fatalf("no %q after the edits", tt.mark)
			}
			want := strings.Count(src[:i], "\n") + 1
			_, err := Parse("schedule.toml", []byte(src))
			if err == nil {
				t.Fatal("no error")
			}
			es, ok := err.(Errors)
			if !ok || len(es) == 0 {
				t.Fatalf("error %T %v", err, err)
			}
			e := es[0]
			if e.Line != want {
				t.Errorf("error at line %d, want %d: %v", e.Line, want, e)
			}
			if !strings.HasPrefix(e.Error(), fmt.Sprintf("schedule.toml:%d: ", e.Line)) || !strings.Contains(e.Msg, tt.wantInMsg) {
				t.Errorf("message %q should name the file and line and contain %q", e.Error(), tt.wantInMsg)
			}
		})
	}
}

func TestWhenForms(t *testing.T) {
	s := loadExample(t)
	b := &builder{file: "x", lines: lineIndex{}}
	due := at(t, "2026-06-08 12:00") // a Monday
	for _, tt := range []struct{ when, want string }{
		{"-2h", "2026-06-08 10:00"},
		{"+30m", "2026-06-08 12:30"},
		{"0", "2026-06-08 12:00"},
		{"-1h30m", "2026-06-08 10:30"},
		{"-1d 09:00", "2026-06-05 09:00"}, // the working day before a Monday is Friday
		{"0d 08:30", "2026-06-08 08:30"},
		{"1d 09:00", "2026-06-09 09:00"},
		{"-1d", "2026-06-05 12:00"},
	} {
		got, ok := b.when("w", tt.when, s, due)
		if !ok || !got.Equal(at(t, tt.want)) {
			t.Errorf("when %q = %v %v, want %s", tt.when, got, ok, tt.want)
		}
	}
	for _, bad := range []string{"", "2h", "-2x", "-1d 25:00", "yesterday"} {
		if bad == "2h" {
			continue // a bare duration is after the deadline: valid
		}
		if _, ok := b.when("w", bad, s, due); ok {
			t.Errorf("when %q accepted", bad)
		}
	}
}

func TestCalendarOfficialHolidays(t *testing.T) {
	c := &Calendar{Official: true}
	for _, tt := range []struct {
		day  string
		work bool
	}{
		{"2026-06-19 10:00", false}, // 端午节
		{"2026-06-18 10:00", true},
		{"2026-06-20 10:00", false},
		{"2026-10-01 10:00", false}, // 国庆节
		{"2026-09-20 10:00", true},  // 调休 Sunday workday
		{"2026-05-09 10:00", true},  // 调休 Saturday workday
	} {
		if got := c.IsWorkday(at(t, tt.day)); got != tt.work {
			t.Errorf("%s workday = %v, want %v", tt.day, got, tt.work)
		}
	}
	plain := &Calendar{}
	if !plain.IsWorkday(at(t, "2026-06-19 10:00")) {
		t.Error("without the official calendar a Friday is a workday")
	}
}
