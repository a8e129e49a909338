package schedules

import (
	"fmt"
	"strings"
	"testing"
)

// standing is a schedule file with one task; task holds its keys after id and
// name, and reminders follow it.
func standing(start, end, task string, reminders ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name = \"常态化报送\"\nstart = %q\nend = %q\n\n[[task]]\nid = \"t\"\nname = \"隐患排查情况\"\n%s\n", start, end, task)
	for _, r := range reminders {
		fmt.Fprintf(&b, "\n[[remind]]\ntask = \"t\"\n%s\n", r)
	}
	return b.String()
}

func dueDays(ps []Period) string {
	days := make([]string, len(ps))
	for i, p := range ps {
		days[i] = p.Due.Format("01-02")
	}
	return strings.Join(days, ",")
}

func TestStandingTasks(t *testing.T) {
	const (
		monthly = "cron = \"0 18 25 * *\"\n"
		weekday = "cron = \"0 17 * * MON-FRI\"\n"
		june    = "06-01,06-02,06-03,06-04,06-05,06-08,06-09,06-10,06-11,06-12,06-15,06-16,06-17,06-18,"
	)
	tests := []struct {
		name       string
		start, end string
		task       string
		clock      string
		want       string // the deadlines' days, in order
		// moved is a period whose deadline on_day_off moved, with why.
		moved    int
		movedWhy string
		// remind is when the "remind" reminder goes, in working days from each
		// deadline, at 09:00; remindDay is its day for period 1.
		remind    int
		remindDay string
	}{
		{"monthly, previous", "2026-01-01", "2026-12-31", monthly, "18:00",
			"01-23,02-25,03-25,04-24,05-25,06-25,07-24,08-25,09-24,10-23,11-25,12-25",
			9, "中秋节，提前到前一个工作日", -1, "01-22"},
		{"monthly, next", "2026-01-01", "2026-12-31", monthly + "on_day_off = \"next\"\n", "18:00",
			"01-26,02-25,03-25,04-27,05-25,06-25,07-27,08-25,09-28,10-26,11-25,12-25",
			1, "周日，顺延到下一个工作日", -1, "01-23"},
		{"monthly, keep", "2026-01-01", "2026-12-31", monthly + "on_day_off = \"keep\"\n", "18:00",
			"01-25,02-25,03-25,04-25,05-25,06-25,07-25,08-25,09-25,10-25,11-25,12-25",
			0, "", -1, "01-23"},
		{"monthly, a declared day off", "2026-01-01", "2026-12-31", monthly + "on_day_off = \"next\"\n", "18:00",
			"01-26,02-25,03-25,04-27,05-25,06-26,07-27,08-25,09-28,10-26,11-25,12-25",
			6, "街道活动日，顺延到下一个工作日", -1, "01-23"},
		// 端午节 (Friday 6/19) has no deadline of its own, whichever way it would move.
		{"working days over 端午节, previous", "2026-06-01", "2026-06-30", weekday, "17:00",
			june + "06-22,06-23,06-24,06-25,06-26,06-29,06-30", 0, "", 0, "06-01"},
		{"working days over 端午节, next", "2026-06-01", "2026-06-30", weekday + "on_day_off = \"next\"\n", "17:00",
			june + "06-22,06-23,06-24,06-25,06-26,06-29,06-30", 0, "", 0, "06-01"},
		{"working days over 端午节, keep", "2026-06-01", "2026-06-30", weekday + "on_day_off = \"keep\"\n", "17:00",
			june + "06-19,06-22,06-23,06-24,06-25,06-26,06-29,06-30", 0, "", 0, "06-01"},
		{"working days over 中秋节 and 国庆节, next", "2026-09-21", "2026-10-16", weekday + "on_day_off = \"next\"\n", "17:00",
			"09-21,09-22,09-23,09-24,09-28,09-29,09-30,10-08,10-09,10-12,10-13,10-14,10-15,10-16", 0, "", 0, "09-21"},
		{"every day, keep", "2026-06-01", "2026-06-07", "cron = \"0 17 * * *\"\non_day_off = \"keep\"\n", "17:00",
			"06-01,06-02,06-03,06-04,06-05,06-06,06-07", 0, "", 0, "06-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			when := fmt.Sprintf("%dd 09:00", tt.remind)
			src := standing(tt.start, tt.end, tt.task,
				fmt.Sprintf("kind = \"remind\"\nwhen = %q", when), "kind = \"nudge\"\nwhen = \"-2h\"", "kind = \"rollcall\"\nwhen = \"0\"")
			if strings.Contains(tt.name, "declared") {
				src = strings.Replace(src, "\n[[task]]", "[calendar]\ndays_off = [\"2026-06-25 街道活动日\"]\n\n[[task]]", 1)
			}
			s, err := Parse("standing.toml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			task := s.TaskByID("t")
			if got := dueDays(task.Periods); got != tt.want {
				t.Errorf("deadlines\n got %s\nwant %s", got, tt.want)
			}
			opens := s.Start
			for i, p := range task.Periods {
				if p.N != i+1 || !p.Opens.Equal(opens) || p.Due.Format("15:04") != tt.clock {
					t.Errorf("period %d: N %d, opens %v, due %v", i+1, p.N, p.Opens, p.Due)
				}
				if !strings.Contains(tt.task, "keep") && !s.Calendar.IsWorkday(p.Due) {
					t.Errorf("period %d due on a day off: %v", p.N, p.Due)
				}
				opens = p.Due
			}
			if tt.moved > 0 {
				if got := task.Periods[tt.moved-1].Moved; got != tt.movedWhy {
					t.Errorf("period %d moved %q, want %q", tt.moved, got, tt.movedWhy)
				}
			}
			if got, want := task.Label(len(task.Periods)), fmt.Sprintf("第%d期", len(task.Periods)); got != want {
				t.Errorf("label %q, want %q", got, want)
			}
			// Each period gets each reminder once, on a working day outside the quiet hours.
			counts := map[Kind]int{}
			for _, e := range s.Events(s.Start.AddDate(0, 0, -30), s.End.AddDate(0, 0, 30)) {
				counts[e.Kind]++
				if !s.Allowed(e.At) {
					t.Errorf("%s not on a working day outside quiet hours", e.Describe())
				}
				if p, _ := task.Period(e.Period); e.Kind == Remind && s.Calendar.IsWorkday(p.Due) &&
					!e.At.Equal(atMinute(s.Calendar.AddWorkdays(p.Due, tt.remind), 9*60)) {
					t.Errorf("%s: want 09:00 %d working days from the deadline", e.Describe(), tt.remind)
				}
				if e.Period == 1 && e.Kind == Remind && e.At.Format("01-02 15:04") != tt.remindDay+" 09:00" {
					t.Errorf("first reminder at %v, want %s 09:00", e.At, tt.remindDay)
				}
			}
			n := len(task.Periods)
			if counts[Remind] != n || counts[Nudge] != n || counts[Rollcall] != n {
				t.Errorf("%v events for %d periods", counts, n)
			}
		})
	}
}

func TestDeadlinesThatCollide(t *testing.T) {
	tests := []struct {
		name   string
		task   string
		mark   string // the line the error must point at
		inMsgs []string
	}{
		{"every day, previous", "cron = \"0 17 * * *\"\n", "cron =", []string{
			`cron "0 17 * * *" 在周末也有截止：第6期 6月6日（周六）17:00 是周末，按 on_day_off = "previous" 提前到前一个工作日 6月5日（周五）17:00，与第5期的截止重合。`,
			`只在工作日报送：写 cron = "0 17 * * MON-FRI"（节假日当天不设截止）；周末也要报送：写 on_day_off = "keep"（截止时间不变，提醒仍只在工作日发）`}},
		{"every day, next", "cron = \"0 17 * * *\"\non_day_off = \"next\"\n", "cron =", []string{
			`第7期 6月7日（周日）17:00 是周末，按 on_day_off = "next" 顺延到下一个工作日 6月8日（周一）17:00，与第6期的截止重合。`,
			`cron = "0 17 * * MON-FRI"`}},
		{"twice a day", "cron = \"0 9,17 * * *\"\n", "cron =", []string{`第11期 6月6日（周六）09:00`, `cron = "0 9,17 * * MON-FRI"`}},
		{"every hour", "cron = \"0 * * * *\"\n", "cron =", []string{`一天里有00:00、01:00、02:00……多个截止时间：报送任务每天最多两期`, `"0 17 * * *" 表示每天17:00`}},
		{"four fields", "cron = \"17 * * *\"\n", "cron =", []string{`cron "17 * * *" 写了4段：写成5段「分 时 日 月 周」`}},
		{"weekdays by number", "cron = \"0 17 * * 0-6\"\n", "cron =", []string{`「周」一段只含工作日的 cron，如 "0 17 * * MON-FRI"`}},
		{"fixed dates", "due = [\"2026-06-18\", \"2026-06-19\"]\n", "due =", []string{
			`第2期 6月19日（周五）18:00 是端午节，按 on_day_off = "previous" 提前到前一个工作日 6月18日（周四）18:00，与第1期的截止 6月18日（周四）18:00 重合或先后颠倒：请改日期，或写 on_day_off = "keep" 让放假日的截止时间不变`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := standing("2026-06-01", "2026-06-30", tt.task)
			_, err := Parse("daily.toml", []byte(src))
			es, ok := err.(Errors)
			if !ok || len(es) != 1 {
				t.Fatalf("want one error, got %v", err)
			}
			want := strings.Count(src[:strings.Index(src, tt.mark)], "\n") + 1
			if es[0].Line != want {
				t.Errorf("error at line %d, want %d", es[0].Line, want)
			}
			for _, s := range tt.inMsgs {
				if !strings.Contains(es[0].Msg, s) {
					t.Errorf("message\n%s\nlacks\n%s", es[0].Msg, s)
				}
			}
		})
	}
}
