// Package schedules reads the schedule file admins edit, expands its tasks into
// periods and its reminders into events on China's working calendar, and fires
// those events in order over an injected clock.
package schedules

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Kind is what a scheduled message does.
type Kind string

// The kinds of scheduled message.
const (
	// Remind tells the whole group that a deadline is coming.
	Remind Kind = "remind"
	// Nudge @mentions the members of units that have not (fully) reported yet.
	Nudge Kind = "nudge"
	// Rollcall posts who reported, who is late and who has not, after a deadline.
	Rollcall Kind = "rollcall"
	// Announce posts a fixed text at a fixed time.
	Announce Kind = "announce"
)

// Label is the kind as the group names it: 通知, 提醒, 催报, 点名.
func (k Kind) Label() string {
	switch k {
	case Remind:
		return "提醒"
	case Nudge:
		return "催报"
	case Rollcall:
		return "点名"
	case Announce:
		return "通知"
	}
	return string(k)
}

// Material is a kind of thing a unit sends.
type Material string

// The materials a task can require.
const (
	Text  Material = "text"
	Image Material = "image"
	File  Material = "file"
	Video Material = "video"
	// Sheet is a file that is a spreadsheet (.xlsx, .xls, .et, .csv); it also counts as a File.
	Sheet Material = "xlsx"
)

// Noun is the material's Chinese name with its measure word.
func (m Material) Noun() (measure, name string) {
	switch m {
	case Text:
		return "条", "文字"
	case Image:
		return "张", "图片"
	case Video:
		return "个", "视频"
	case Sheet:
		return "个", "统计表"
	default:
		return "个", "文件"
	}
}

// Requirement is one part of a complete report: at least Min items of any of the
// listed materials ("text|file" is either a text or a file).
type Requirement struct {
	Any []Material
	Min int
}

// String says the requirement in Chinese: "至少1张图片", "文字或文件".
func (r Requirement) String() string {
	names := make([]string, len(r.Any))
	for i, m := range r.Any {
		_, names[i] = m.Noun()
	}
	measure, _ := r.Any[0].Noun()
	return fmt.Sprintf("至少%d%s%s", r.Min, measure, strings.Join(names, "或"))
}

// Schedule is a validated schedule file: the campaign's tasks with their periods,
// and every message it will send, in time order.
type Schedule struct {
	// ID is the stable identity of the campaign; names get reworded, the id
	// does not. "" for a file written before campaigns had ids.
	ID       string
	Name     string
	Location *time.Location
	// Start and End bound the campaign: nothing is sent outside them.
	Start, End time.Time
	Quiet      Quiet
	Calendar   *Calendar
	Tasks      []*Task
	// Source is the file's name and Text its contents, for reloads and the dashboard.
	Source string
	Text   string
	events []Event
}

// KeyPrefix is what the campaign's stored keys start with: its id and a
// slash, or "" for a file without an id (which must then be the only campaign).
func (s *Schedule) KeyPrefix() string {
	if s.ID == "" {
		return ""
	}
	return s.ID + "/"
}

// TakesReports reports whether reports at t count for the campaign: from a
// week before its start (a plan sent early) until its end, the last late
// report included. After that it is a past campaign: readable, silent.
func (s *Schedule) TakesReports(t time.Time) bool {
	return !t.Before(s.Start.AddDate(0, 0, -7)) && !t.After(s.End)
}

// LegacyKeys maps the sent-log keys this campaign's events had before to
// today's: schema 2's (task/period/reminder, no campaign, no deadline), and
// those of the file before it had an id.
func (s *Schedule) LegacyKeys() map[string]string {
	out := make(map[string]string, 2*len(s.events))
	for _, e := range s.events {
		if e.legacy != "" && e.legacy != e.Key {
			out[e.legacy] = e.Key
		}
		if bare := strings.TrimPrefix(e.Key, s.KeyPrefix()); bare != e.Key {
			out[bare] = e.Key
		}
	}
	return out
}

// Quiet is the daily span in which no scheduled message is sent, as minutes of the
// day; From > To spans midnight, From == To means none.
type Quiet struct{ From, To int }

// Contains reports whether t's clock time is inside the quiet hours.
func (q Quiet) Contains(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	switch {
	case q.From == q.To:
		return false
	case q.From < q.To:
		return m >= q.From && m < q.To
	default:
		return m >= q.From || m < q.To
	}
}

// Task is something every unit must report, with its deadlines.
type Task struct {
	ID       string
	Name     string
	Keywords []string
	Requires []Requirement
	// Periods are the task's deadlines in order; a task with no deadline
	// (随时报送) has one period spanning the campaign and Anytime set.
	Periods []Period
	Anytime bool
	// Template is the path of the workbook units fill in for this task (the
	// summary's 活动情况统计表), whose tables the export merges; "" for none.
	Template string
	// Key is what the store files the task's reports under: the campaign's id
	// and the task's, so that two campaigns with the same task ids never mix.
	Key string
	// Campaign is the schedule the task belongs to.
	Campaign *Schedule
}

// Period is one deadline of a task. It covers (Opens, Due]; a report after Due
// still counts for it, as late, until LateUntil.
type Period struct {
	N         int
	Opens     time.Time
	Due       time.Time
	LateUntil time.Time
	// Moved says why Due is not where the file put it ("端午节，提前到前一个工作日").
	Moved string
}

// Needs reports whether the task's requirements ask for material m.
func (t *Task) Needs(m Material) bool {
	for _, r := range t.Requires {
		for _, k := range r.Any {
			if k == m {
				return true
			}
		}
	}
	return false
}

// Label is "第2期", or "" for a task with a single period.
func (t *Task) Label(n int) string {
	if len(t.Periods) <= 1 {
		return ""
	}
	return fmt.Sprintf("第%d期", n)
}

// Period returns period n (1-based).
func (t *Task) Period(n int) (Period, bool) {
	if n < 1 || n > len(t.Periods) {
		return Period{}, false
	}
	return t.Periods[n-1], true
}

// PeriodAt returns the period a report at t belongs to if it is on time: the
// first period whose due time is at or after t. ok is false after the last due.
func (t *Task) PeriodAt(at time.Time) (p Period, ok bool) {
	i := sort.Search(len(t.Periods), func(i int) bool { return !t.Periods[i].Due.Before(at) })
	if i == len(t.Periods) {
		return Period{}, false
	}
	return t.Periods[i], true
}

// Event is one message the schedule sends.
type Event struct {
	At   time.Time
	Kind Kind
	// Task and Period are nil and 0 for announcements.
	Task   *Task
	Period int
	// Key names the event for the sent-log: the campaign, the task, the
	// deadline it is for and the reminder, never the wall time it fired, so an
	// edit that moves a reminder does not send it again, a moved deadline gets
	// its reminders, and a second campaign with the same task ids is not
	// taken for the first.
	Key string
	// legacy is the key schema 2 wrote (task/period/reminder), for the migration.
	legacy string
	// Campaign is the schedule the event belongs to.
	Campaign *Schedule
	// Text is the template ({任务} {期次} {截止} {未报数}) or, for an announcement, the text.
	Text string
	// Due is the period's deadline; zero for announcements.
	Due time.Time
}

// Describe is the event as one line of `reportbot check`: time, kind, task,
// period, in the words the group sees (提醒「活动方案」), not the file's ids.
func (e Event) Describe() string {
	when := e.At.Format("2006-01-02 15:04")
	if e.Task == nil {
		return fmt.Sprintf("%s %s %s", when, e.Kind.Label(), firstLine(e.Text, 40))
	}
	return fmt.Sprintf("%s %s 「%s」%s（截止 %s）", when, e.Kind.Label(), e.Task.Name, e.Task.Label(e.Period), FormatDue(e.Due))
}

func firstLine(s string, max int) string {
	s, _, _ = strings.Cut(s, "\n")
	r := []rune(s)
	if len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}

// Events returns the events with after < At <= upto, in firing order.
func (s *Schedule) Events(after, upto time.Time) []Event {
	i := sort.Search(len(s.events), func(i int) bool { return s.events[i].At.After(after) })
	j := sort.Search(len(s.events), func(i int) bool { return s.events[i].At.After(upto) })
	if i >= j {
		return nil
	}
	return append([]Event(nil), s.events[i:j]...)
}

// NextAfter returns the first event strictly after t.
func (s *Schedule) NextAfter(t time.Time) (Event, bool) {
	i := sort.Search(len(s.events), func(i int) bool { return s.events[i].At.After(t) })
	if i == len(s.events) {
		return Event{}, false
	}
	return s.events[i], true
}

// Task finds a task by id, name, keyword, or a part of its name ("方案", "典型做法").
func (s *Schedule) Task(q string) *Task {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil
	}
	for _, t := range s.Tasks {
		if t.ID == q || t.Name == q {
			return t
		}
	}
	for _, t := range s.Tasks {
		for _, k := range t.Keywords {
			if k == q {
				return t
			}
		}
	}
	var found *Task
	for _, t := range s.Tasks {
		if strings.Contains(t.Name, q) {
			if found != nil {
				return nil // ambiguous
			}
			found = t
		}
	}
	return found
}

// Allowed reports whether a scheduled message may be sent at t: on a working day,
// outside the quiet hours.
func (s *Schedule) Allowed(t time.Time) bool {
	return s.Calendar.IsWorkday(t) && !s.Quiet.Contains(t)
}

// NextAllowed returns the first moment at or after t at which a scheduled message may be sent.
func (s *Schedule) NextAllowed(t time.Time) time.Time {
	t = t.In(s.Location)
	for range 800 { // a year of days off and quiet evenings at most
		if s.Allowed(t) {
			return t
		}
		if !s.Calendar.IsWorkday(t) {
			t = atMinute(t.AddDate(0, 0, 1), 0)
			continue
		}
		// In the quiet hours: jump to their end, today or tomorrow.
		end := atMinute(t, s.Quiet.To)
		if !end.After(t) {
			end = atMinute(t.AddDate(0, 0, 1), s.Quiet.To)
		}
		t = end
	}
	return t
}

// PrevAllowed returns the last minute at or before t at which a scheduled message may be sent.
func (s *Schedule) PrevAllowed(t time.Time) time.Time {
	t = t.In(s.Location)
	for range 800 {
		if s.Allowed(t) {
			return t
		}
		if !s.Calendar.IsWorkday(t) {
			t = atMinute(t, 0).Add(-time.Minute) // 23:59 the day before
			continue
		}
		start := atMinute(t, s.Quiet.From)
		if start.After(t) {
			start = atMinute(t.AddDate(0, 0, -1), s.Quiet.From)
		}
		t = start.Add(-time.Minute)
	}
	return t
}

func atMinute(t time.Time, minute int) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, minute/60, minute%60, 0, 0, t.Location())
}

var weekdays = [...]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}

// FormatDue writes a deadline as people say it: "6月11日（周四）12:00".
func FormatDue(t time.Time) string {
	return fmt.Sprintf("%d月%d日（%s）%s", t.Month(), t.Day(), weekdays[t.Weekday()], t.Format("15:04"))
}

// Placeholders are the names a reminder's text may use, in braces.
var Placeholders = []string{"任务", "期次", "截止", "未报数"}

// Fill replaces {任务}-style placeholders in text with vars.
func Fill(text string, vars map[string]string) string {
	for k, v := range vars {
		text = strings.ReplaceAll(text, "{"+k+"}", v)
	}
	return text
}

// Vars are the placeholder values of an event, but for {未报数}, which only the bot knows.
func (e Event) Vars() map[string]string {
	if e.Task == nil {
		return map[string]string{}
	}
	return map[string]string{"任务": e.Task.Name, "期次": e.Task.Label(e.Period), "截止": FormatDue(e.Due)}
}
