package schedules

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Set is the campaigns in force: one schedule file each, running side by side
// (June's 安全生产月 beside a standing monthly report) or one after another in
// the same data directory. Their events are merged in time order.
type Set struct {
	list   []*Schedule
	events []Event
}

// NewSet puts campaigns together. Each needs its own id when there is more
// than one: the id is what keeps their data apart.
func NewSet(list ...*Schedule) (*Set, error) {
	list = append([]*Schedule(nil), list...)
	sort.SliceStable(list, func(i, j int) bool { return list[i].Start.Before(list[j].Start) })
	ids := map[string]string{}
	for _, s := range list {
		if len(list) > 1 && s.ID == "" {
			id, line, _ := s.ProposeID()
			return nil, fmt.Errorf("%s：有多个活动时，每个日程文件都要写活动代号 id，好把各活动的数据分开。请在第 %d 行前加一行：id = %q", s.Source, line, id)
		}
		if prev, dup := ids[s.ID]; dup {
			return nil, fmt.Errorf("%s：活动代号 id = %q 与 %s 的重复：每个活动的 id 必须不同", s.Source, s.ID, prev)
		}
		ids[s.ID] = s.Source
	}
	set := &Set{list: list}
	for _, s := range list {
		set.events = append(set.events, s.events...)
	}
	// Stable: events of one minute keep their campaign's order, then the file's.
	sort.SliceStable(set.events, func(i, j int) bool { return set.events[i].At.Before(set.events[j].At) })
	return set, nil
}

// Single is a set of one campaign.
func Single(s *Schedule) *Set {
	set, _ := NewSet(s) // one campaign cannot clash with another
	return set
}

// All is every campaign, by start.
func (s *Set) All() []*Schedule { return s.list }

// Open is the campaigns that take reports at t (Schedule.TakesReports).
func (s *Set) Open(t time.Time) []*Schedule {
	var out []*Schedule
	for _, c := range s.list {
		if c.TakesReports(t) {
			out = append(out, c)
		}
	}
	return out
}

// Current is what a question that names no campaign is about: the campaigns
// open at t, else the one that ended last (a past campaign stays readable),
// else the next to start.
func (s *Set) Current(t time.Time) []*Schedule {
	if open := s.Open(t); len(open) > 0 {
		return open
	}
	var last, next *Schedule
	for _, c := range s.list {
		switch {
		case c.End.Before(t) && (last == nil || c.End.After(last.End)):
			last = c
		case c.Start.After(t) && next == nil:
			next = c
		}
	}
	switch {
	case last != nil:
		return []*Schedule{last}
	case next != nil:
		return []*Schedule{next}
	}
	return nil
}

// Tasks is the tasks of the campaigns given, in order.
func Tasks(campaigns []*Schedule) []*Task {
	var out []*Task
	for _, c := range campaigns {
		out = append(out, c.Tasks...)
	}
	return out
}

// Events returns the events of every campaign with after < At <= upto, in firing order.
func (s *Set) Events(after, upto time.Time) []Event {
	i := sort.Search(len(s.events), func(i int) bool { return s.events[i].At.After(after) })
	j := sort.Search(len(s.events), func(i int) bool { return s.events[i].At.After(upto) })
	if i >= j {
		return nil
	}
	return append([]Event(nil), s.events[i:j]...)
}

// NextAfter returns the first event of any campaign strictly after t.
func (s *Set) NextAfter(t time.Time) (Event, bool) {
	i := sort.Search(len(s.events), func(i int) bool { return s.events[i].At.After(t) })
	if i == len(s.events) {
		return Event{}, false
	}
	return s.events[i], true
}

// TaskByKey finds a task by the key the store files it under (Task.Key).
func (s *Set) TaskByKey(key string) *Task {
	for _, c := range s.list {
		if rest, ok := strings.CutPrefix(key, c.KeyPrefix()); ok && !strings.Contains(rest, "/") {
			if t := c.TaskByID(rest); t != nil {
				return t
			}
		}
	}
	return nil
}

// Campaign finds a campaign by id, by name, or by a part of its name that
// only one campaign's name holds ("消防", "安全生产月"); nil if none or several.
func (s *Set) Campaign(q string) *Schedule {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil
	}
	for _, c := range s.list {
		if c.ID == q || c.Name == q {
			return c
		}
	}
	if len([]rune(q)) < 2 {
		return nil
	}
	var found *Schedule
	for _, c := range s.list {
		if strings.Contains(c.Name, q) {
			if found != nil {
				return nil
			}
			found = c
		}
	}
	return found
}

// Named splits a campaign's name off the front of a question ("消防宣传月
// 典型做法 第2期"): the campaign and the rest, or nil and q when q names none.
func (s *Set) Named(q string) (*Schedule, string) {
	q = strings.TrimSpace(q)
	// The longest name that q starts with: a campaign "anquan" must not take
	// the questions about "anquan-2027".
	var named *Schedule
	n := 0
	for _, c := range s.list {
		for _, name := range []string{c.Name, c.ID} {
			if len(name) > n && strings.HasPrefix(q, name) {
				named, n = c, len(name)
			}
		}
	}
	if named != nil {
		return named, strings.TrimSpace(q[n:])
	}
	first, rest, _ := strings.Cut(q, " ")
	if c := s.Campaign(first); c != nil && c.Task(first) == nil {
		return c, strings.TrimSpace(rest)
	}
	return nil, q
}

// RetainSince is the oldest time whose bookkeeping (the sent-log, the ids of
// messages seen) may still matter at now: the earliest start of a campaign
// that takes reports at now, less a week for plans sent early and less
// margin; now less margin when none is open. Anything recorded before it
// belongs to campaigns that no longer take reports, or to none.
func (s *Set) RetainSince(now time.Time, margin time.Duration) time.Time {
	since := now
	for _, c := range s.Open(now) {
		if opens := c.Start.AddDate(0, 0, -7); opens.Before(since) {
			since = opens
		}
	}
	return since.Add(-margin)
}
