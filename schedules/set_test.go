package schedules

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// parseFile parses the schedule file at path under its base name, with the
// edits made (pairs of old, new).
func parseFile(t *testing.T, path string, edits ...string) *Schedule {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(filepath.Base(path), []byte(strings.NewReplacer(edits...).Replace(string(b))))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func june(t *testing.T, edits ...string) *Schedule {
	t.Helper()
	return parseFile(t, filepath.Join("..", "schedules.example", "2026-06-anquan.toml"), edits...)
}

func monthly(t *testing.T, edits ...string) *Schedule {
	t.Helper()
	return parseFile(t, filepath.Join("..", "schedules.example", "yinhuan-monthly.toml"), edits...)
}

// november is June's campaign moved to November under another id and name,
// with the same task ids (testdata/campaigns): the case that made task keys
// carry the campaign.
func november(t *testing.T, edits ...string) *Schedule {
	t.Helper()
	return parseFile(t, filepath.Join("..", "testdata", "campaigns", "2026-11-xiaofang.toml"), edits...)
}

func newSet(t *testing.T, list ...*Schedule) *Set {
	t.Helper()
	set, err := NewSet(list...)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// ids names campaigns by id, or by name for a file without one.
func ids(list []*Schedule) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.ID
		if s.ID == "" {
			out[i] = s.Name
		}
	}
	return out
}

func TestNewSet(t *testing.T) {
	tests := []struct {
		name    string
		list    func(t *testing.T) []*Schedule
		want    []string // ids by start
		wantErr string
	}{
		{"one campaign needs no id", func(t *testing.T) []*Schedule { return []*Schedule{loadExample(t)} },
			[]string{"2026年安全生产月"}, ""},
		{"sorted by start", func(t *testing.T) []*Schedule { return []*Schedule{november(t), june(t), monthly(t)} },
			[]string{"2026-yinhuan-monthly", "2026-06-anquan", "2026-11-xiaofang"}, ""},
		// The earlier of two id-less files is named, with where its id goes.
		{"two without id", func(t *testing.T) []*Schedule {
			return []*Schedule{loadExample(t), monthly(t, `id = "2026-yinhuan-monthly"`, "")}
		}, nil, `yinhuan-monthly.toml：有多个活动时，每个日程文件都要写活动代号 id，好把各活动的数据分开。请在第 5 行前加一行：id = "2026-01-yinhuan"`},
		// Whichever the order, the file without an id is the one named.
		{"one of two without id", func(t *testing.T) []*Schedule { return []*Schedule{monthly(t), loadExample(t)} },
			nil, filepath.Join("..", "schedule.example.toml") + `：有多个活动时，每个日程文件都要写活动代号 id，好把各活动的数据分开。请在第 5 行前加一行：id = "2026-06-anquan"`},
		{"duplicate ids", func(t *testing.T) []*Schedule {
			return []*Schedule{november(t, `id = "2026-11-xiaofang"`, `id = "2026-06-anquan"`), june(t)}
		}, nil, `2026-11-xiaofang.toml：活动代号 id = "2026-06-anquan" 与 2026-06-anquan.toml 的重复：每个活动的 id 必须不同`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := NewSet(tt.list(t)...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error\n got %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(set.All()); !slices.Equal(got, tt.want) {
				t.Errorf("campaigns %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSetEvents: the campaigns' events as one list in time order, each naming
// its campaign; in a minute both use, the earlier-starting campaign's first.
func TestSetEvents(t *testing.T) {
	jun, mon := june(t), monthly(t)
	set := newSet(t, jun, mon)
	from, to := at(t, "2026-05-20 00:00"), at(t, "2026-07-10 00:00")
	all := set.Events(from, to)
	owner := map[string]*Schedule{}
	for _, c := range []*Schedule{jun, mon} {
		for _, e := range c.Events(from, to) {
			owner[e.Key] = c
		}
	}
	if len(all) != len(owner) || len(all) < 20 {
		t.Fatalf("%d merged events, want the campaigns' %d", len(all), len(owner))
	}
	for i, e := range all {
		if i > 0 && e.At.Before(all[i-1].At) {
			t.Errorf("%s after %s", e.Describe(), all[i-1].Describe())
		}
		if e.Campaign != owner[e.Key] {
			t.Errorf("%s: campaign %v, want %s", e.Key, e.Campaign.ID, owner[e.Key].ID)
		}
		if e.Task != nil && e.Task.Campaign != e.Campaign {
			t.Errorf("%s: task of campaign %s", e.Key, e.Task.Campaign.ID)
		}
	}

	keys := func(events []Event) []string {
		var out []string
		for _, e := range events {
			out = append(out, e.Key)
		}
		return out
	}
	tests := []struct {
		name        string
		after, upto string
		want        []string
	}{
		{"a minute of both", "2026-06-24 08:59", "2026-06-24 09:00", []string{
			"2026-yinhuan-monthly/yinhuan/2026-06-25 18:00/remind@-1d 09:00",
			"2026-06-anquan/weekly/2026-06-25 12:00/remind@-1d 09:00"}},
		{"after is left out, upto kept", "2026-06-24 09:00", "2026-06-25 12:00", []string{
			"2026-yinhuan-monthly/yinhuan/2026-06-25 18:00/nudge@0d 10:00",
			"2026-06-anquan/weekly/2026-06-25 12:00/nudge@-2h",
			"2026-06-anquan/weekly/2026-06-25 12:00/rollcall@0"}},
		{"the monthly one alone in May", "2026-05-21 00:00", "2026-05-27 00:00", []string{
			"2026-yinhuan-monthly/yinhuan/2026-05-25 18:00/remind@-1d 09:00",
			"2026-yinhuan-monthly/yinhuan/2026-05-25 18:00/nudge@0d 10:00",
			"2026-yinhuan-monthly/yinhuan/2026-05-25 18:00/rollcall@1d 10:00"}},
		{"nothing", "2026-06-24 09:00", "2026-06-24 09:59", nil},
		{"reversed", "2026-06-25 12:00", "2026-06-24 08:00", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keys(set.Events(at(t, tt.after), at(t, tt.upto))); !slices.Equal(got, tt.want) {
				t.Errorf("Events\n got %q\nwant %q", got, tt.want)
			}
		})
	}

	for _, tt := range []struct{ after, want string }{
		{"2026-06-24 08:00", "2026-yinhuan-monthly/yinhuan/2026-06-25 18:00/remind@-1d 09:00"},
		{"2026-06-25 10:00", "2026-06-anquan/weekly/2026-06-25 12:00/rollcall@0"}, // strictly after
		{"2026-06-25 12:00", "2026-yinhuan-monthly/yinhuan/2026-06-25 18:00/rollcall@1d 10:00"},
	} {
		if e, ok := set.NextAfter(at(t, tt.after)); !ok || e.Key != tt.want {
			t.Errorf("NextAfter(%s) = %s, %v; want %s", tt.after, e.Key, ok, tt.want)
		}
	}
	if e, ok := set.NextAfter(at(t, "2027-01-01 00:00")); ok {
		t.Errorf("NextAfter the last campaign = %s", e.Key)
	}
}

func TestTaskKeys(t *testing.T) {
	jun, nov, plain := june(t), november(t), loadExample(t)
	for _, c := range []*Schedule{jun, nov, plain} {
		for _, task := range c.Tasks {
			if task.Campaign != c || task.Key != c.KeyPrefix()+task.ID {
				t.Errorf("%s: task %s has key %q and campaign %p, want %q and %p", c.Source, task.ID, task.Key, task.Campaign, c.KeyPrefix()+task.ID, c)
			}
		}
	}
	if jun.KeyPrefix() != "2026-06-anquan/" || plain.KeyPrefix() != "" {
		t.Errorf("prefixes %q, %q", jun.KeyPrefix(), plain.KeyPrefix())
	}

	both := newSet(t, nov, jun)
	single := Single(plain)
	tests := []struct {
		name string
		set  *Set
		key  string
		want *Task
	}{
		{"June's weekly", both, "2026-06-anquan/weekly", jun.TaskByID("weekly")},
		{"November's weekly", both, "2026-11-xiaofang/weekly", nov.TaskByID("weekly")},
		{"a bare id under campaigns with ids", both, "weekly", nil},
		{"an unknown task", both, "2026-06-anquan/nope", nil},
		{"an unknown campaign", both, "2026-07-other/weekly", nil},
		{"a deeper key", both, "2026-06-anquan/weekly/1", nil},
		{"a campaign's prefix alone", both, "2026-06-anquan/", nil},
		{"the id-less campaign's bare id", single, "weekly", plain.TaskByID("weekly")},
		{"a prefix under an id-less campaign", single, "2026-06-anquan/weekly", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.set.TaskByKey(tt.key); got != tt.want {
				t.Errorf("TaskByKey(%q) = %v, want %v", tt.key, got, tt.want)
			}
		})
	}
}

func TestCurrent(t *testing.T) {
	jun, nov, mon := june(t), november(t), monthly(t)
	tests := []struct {
		name string
		list []*Schedule
		at   string
		open []string
		want []string
	}{
		{"in June", []*Schedule{jun, nov}, "2026-06-15 10:00", []string{"2026-06-anquan"}, []string{"2026-06-anquan"}},
		{"June's last minute", []*Schedule{jun, nov}, "2026-07-03 23:59", []string{"2026-06-anquan"}, []string{"2026-06-anquan"}},
		{"between: the last ended", []*Schedule{jun, nov}, "2026-08-15 10:00", nil, []string{"2026-06-anquan"}},
		{"a week before November: open for plans", []*Schedule{jun, nov}, "2026-10-25 10:00", []string{"2026-11-xiaofang"}, []string{"2026-11-xiaofang"}},
		{"after both: the last ended", []*Schedule{nov, jun}, "2027-02-01 10:00", nil, []string{"2026-11-xiaofang"}},
		{"before both: the next", []*Schedule{nov, jun}, "2026-04-01 10:00", nil, []string{"2026-06-anquan"}},
		{"side by side", []*Schedule{jun, mon}, "2026-06-15 10:00", []string{"2026-yinhuan-monthly", "2026-06-anquan"}, []string{"2026-yinhuan-monthly", "2026-06-anquan"}},
		{"the standing one alone", []*Schedule{jun, mon}, "2026-08-15 10:00", []string{"2026-yinhuan-monthly"}, []string{"2026-yinhuan-monthly"}},
		// The monthly report ends after June's campaign: it is the last ended.
		{"after both, the later end", []*Schedule{mon, jun}, "2027-01-05 10:00", nil, []string{"2026-yinhuan-monthly"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := newSet(t, tt.list...)
			now := at(t, tt.at)
			if got := ids(set.Open(now)); !slices.Equal(got, tt.open) {
				t.Errorf("Open = %q, want %q", got, tt.open)
			}
			if got := ids(set.Current(now)); !slices.Equal(got, tt.want) {
				t.Errorf("Current = %q, want %q", got, tt.want)
			}
		})
	}
	if got := Tasks(newSet(t, jun, mon).All()); len(got) != len(jun.Tasks)+len(mon.Tasks) || got[0] != mon.Tasks[0] || got[1] != jun.Tasks[0] {
		t.Errorf("Tasks of both: %d tasks, first %s then %s", len(got), got[0].Key, got[1].Key)
	}
}

func TestTakesReports(t *testing.T) {
	jun := june(t)
	for _, tt := range []struct {
		at   string
		want bool
	}{
		{"2026-05-24 23:59", false},
		{"2026-05-25 00:00", true}, // a week before the start: plans sent early count
		{"2026-06-15 10:00", true},
		{"2026-07-03 23:59", true}, // the end, the last late report included
		{"2026-07-04 00:00", false},
	} {
		if got := jun.TakesReports(at(t, tt.at)); got != tt.want {
			t.Errorf("TakesReports(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestCampaignAndNamed(t *testing.T) {
	jun, nov, mon := june(t), november(t), monthly(t)
	set := newSet(t, jun, nov, mon)
	campaigns := []struct {
		q    string
		want *Schedule
	}{
		{"2026-06-anquan", jun},
		{"2026年每月隐患排查", mon},
		{"  2026年消防宣传月 ", nov},
		{"消防", nov},
		{"安全生产月", jun},
		{"隐患排查", mon},
		{"2026年", nil},  // in every name
		{"典型做法", nil},   // in a task's name, in no campaign's
		{"防", nil},      // one rune is too little to go by
		{"anquan", nil}, // ids are whole words
		{"", nil},
		{"不存在的活动", nil},
	}
	for _, tt := range campaigns {
		t.Run("Campaign "+tt.q, func(t *testing.T) {
			if got := set.Campaign(tt.q); got != tt.want {
				t.Errorf("Campaign(%q) = %v, want %v", tt.q, name(got), name(tt.want))
			}
		})
	}

	named := []struct {
		q    string
		want *Schedule
		rest string
	}{
		{"2026年消防宣传月 典型做法", nov, "典型做法"},
		{"2026年消防宣传月典型做法", nov, "典型做法"},
		{"2026-06-anquan weekly", jun, "weekly"},
		{"消防 典型做法 ", nov, "典型做法"},
		{"安全生产月", jun, ""},
		{"典型做法", nil, "典型做法"},
		{"2026年 典型做法", nil, "2026年 典型做法"},
		// A word that names a campaign and one of its tasks is the task.
		{"隐患排查", nil, "隐患排查"},
		{" 总结 ", nil, "总结"},
	}
	for _, tt := range named {
		t.Run("Named "+tt.q, func(t *testing.T) {
			got, rest := set.Named(tt.q)
			if got != tt.want || rest != tt.rest {
				t.Errorf("Named(%q) = %v, %q; want %v, %q", tt.q, name(got), rest, name(tt.want), tt.rest)
			}
		})
	}
}

// TestNamedPrefersTheLongestName: a campaign whose id or name starts another
// campaign's must not take the other's questions.
func TestNamedPrefersTheLongestName(t *testing.T) {
	old := june(t, `id = "2026-06-anquan"`, `id = "anquan"`)
	next := november(t, `id = "2026-11-xiaofang"`, `id = "anquan-2027"`, `name = "2026年消防宣传月"`, `name = "2026年安全生产月（补报）"`)
	set := newSet(t, old, next)
	for _, tt := range []struct {
		q    string
		want *Schedule
		rest string
	}{
		{"anquan weekly", old, "weekly"},
		{"anquan-2027 weekly", next, "weekly"},
		{"2026年安全生产月 典型做法", old, "典型做法"},
		{"2026年安全生产月（补报） 典型做法", next, "典型做法"},
	} {
		got, rest := set.Named(tt.q)
		if got != tt.want || rest != tt.rest {
			t.Errorf("Named(%q) = %v, %q; want %v, %q", tt.q, name(got), rest, name(tt.want), tt.rest)
		}
	}
}

func name(s *Schedule) string {
	if s == nil {
		return "nil"
	}
	return s.Name
}

func TestLegacyKeys(t *testing.T) {
	jun, plain := june(t), loadExample(t)
	tests := []struct {
		name string
		s    *Schedule
		old  string
		want string // "" for none
	}{
		{"schema 2 reminder", jun, "weekly/1/remind@-1d 09:00", "2026-06-anquan/weekly/2026-06-04 12:00/remind@-1d 09:00"},
		{"schema 2, a later period", jun, "weekly/4/rollcall@0", "2026-06-anquan/weekly/2026-06-25 12:00/rollcall@0"},
		{"schema 2 announcement", jun, "announce@2026-06-16 08:30", "2026-06-anquan/announce@2026-06-16 08:30"},
		{"the file before its id", jun, "plan/2026-06-09 18:00/nudge@0d 09:00", "2026-06-anquan/plan/2026-06-09 18:00/nudge@0d 09:00"},
		{"today's key stays", jun, "2026-06-anquan/plan/2026-06-09 18:00/nudge@0d 09:00", ""},
		{"no such period", jun, "weekly/5/remind@-1d 09:00", ""},
		{"id-less: schema 2 reminder", plain, "weekly/1/remind@-1d 09:00", "weekly/2026-06-04 12:00/remind@-1d 09:00"},
		{"id-less: today's key stays", plain, "weekly/2026-06-04 12:00/remind@-1d 09:00", ""},
		{"id-less: announcements kept their key", plain, "announce@2026-06-01 09:00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.LegacyKeys()[tt.old]; got != tt.want {
				t.Errorf("LegacyKeys()[%q] = %q, want %q", tt.old, got, tt.want)
			}
		})
	}
	// Every event is reachable from its schema-2 key, and only events' keys are targets.
	for _, s := range []*Schedule{jun, plain} {
		keys := map[string]bool{}
		for _, e := range s.events {
			keys[e.Key] = true
		}
		targets := map[string]bool{}
		for from, to := range s.LegacyKeys() {
			if !keys[to] || from == to {
				t.Errorf("%s: %q -> %q", s.Source, from, to)
			}
			targets[to] = true
		}
		for _, e := range s.events {
			if e.Kind != Announce || s.ID != "" {
				if !targets[e.Key] {
					t.Errorf("%s: no old key maps to %s", s.Source, e.Key)
				}
			}
		}
	}
}

func TestRetainSince(t *testing.T) {
	jun, nov, mon := june(t), november(t), monthly(t)
	const margin = 30 * 24 * time.Hour
	tests := []struct {
		name string
		list []*Schedule
		at   string
		want string
	}{
		// Open since a week before June 1st (plans sent early), less the margin.
		{"in June", []*Schedule{jun, nov}, "2026-06-15 10:00", "2026-04-25 00:00"},
		{"June's last minute", []*Schedule{jun, nov}, "2026-07-03 23:59", "2026-04-25 00:00"},
		// Between campaigns nothing is open: only the margin is kept.
		{"between", []*Schedule{jun, nov}, "2026-08-15 10:00", "2026-07-16 10:00"},
		{"November open, June forgotten", []*Schedule{jun, nov}, "2026-11-20 10:00", "2026-09-25 00:00"},
		// The standing campaign runs all year: its start holds for both.
		{"side by side", []*Schedule{jun, mon}, "2026-06-15 10:00", "2025-11-25 00:00"},
		{"after both", []*Schedule{nov, jun}, "2027-02-01 10:00", "2027-01-02 10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newSet(t, tt.list...).RetainSince(at(t, tt.at), margin)
			if want := at(t, tt.want); !got.Equal(want) {
				t.Errorf("RetainSince = %s, want %s", got, want)
			}
		})
	}
}
