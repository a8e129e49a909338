package schedules

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCombine(t *testing.T) {
	a, b, c := &Schedule{ID: "a"}, &Schedule{ID: "b"}, &Schedule{ID: "c"}
	base := at(t, "2026-06-25 10:00")
	// ev is an event of campaign s at base plus offset; its key is the name used in want.
	ev := func(s *Schedule, kind Kind, offset time.Duration, n int) Event {
		return Event{At: base.Add(offset), Kind: kind, Campaign: s, Key: fmt.Sprintf("%s.%s%d", s.ID, kind, n)}
	}
	const sec, min = time.Second, time.Minute
	tests := []struct {
		name   string
		events []Event
		want   string // groups by "|", keys in a group by ","
	}{
		{"none", nil, ""},
		{"one", []Event{ev(a, Nudge, 0, 1)}, "a.nudge1"},
		{"reminders of two campaigns", []Event{ev(a, Remind, 0, 1), ev(b, Remind, 0, 1)}, "a.remind1,b.remind1"},
		{"in the same minute, seconds apart", []Event{ev(a, Remind, 0, 1), ev(b, Remind, 59*sec, 1)}, "a.remind1,b.remind1"},
		{"a minute apart", []Event{ev(a, Remind, 59*sec, 1), ev(b, Remind, 60*sec, 1)}, "a.remind1|b.remind1"},
		{"a nudge and a roll-call both @", []Event{ev(a, Rollcall, 0, 1), ev(b, Nudge, 0, 1)}, "a.rollcall1,b.nudge1"},
		{"a reminder and a nudge go different ways", []Event{ev(a, Remind, 0, 1), ev(b, Nudge, 0, 1)}, "a.remind1|b.nudge1"},
		{"announcements never", []Event{ev(a, Announce, 0, 1), ev(b, Announce, 0, 1)}, "a.announce1|b.announce1"},
		{"one campaign keeps its messages", []Event{ev(a, Nudge, 0, 1), ev(a, Nudge, 0, 2), ev(a, Rollcall, 0, 3)}, "a.nudge1|a.nudge2|a.rollcall3"},
		// A campaign's events that coincide with another's go in the same message.
		{"two of one campaign with another's", []Event{ev(a, Nudge, 0, 1), ev(a, Nudge, 0, 2), ev(b, Nudge, 0, 1)},
			"a.nudge1,a.nudge2,b.nudge1"},
		{"three campaigns", []Event{ev(a, Nudge, 0, 1), ev(b, Remind, 0, 1), ev(c, Nudge, 0, 1), ev(b, Nudge, 0, 2)},
			"a.nudge1,c.nudge1|b.remind1|b.nudge2"},
		{"two minutes", []Event{ev(a, Remind, 0, 1), ev(b, Remind, 0, 1), ev(a, Nudge, min, 2), ev(b, Nudge, min, 2)},
			"a.remind1,b.remind1|a.nudge2,b.nudge2"},
		{"the other campaign's later kind waits", []Event{ev(a, Remind, 0, 1), ev(a, Nudge, 0, 2), ev(b, Remind, 0, 1), ev(b, Nudge, 0, 2)},
			"a.remind1,b.remind1|a.nudge2,b.nudge2"},
		// b's reminder came before its nudge: the nudge may not jump it to join a's.
		{"no jumping a campaign's own earlier event", []Event{ev(a, Nudge, 0, 1), ev(b, Remind, 0, 1), ev(b, Nudge, 0, 2)},
			"a.nudge1|b.remind1|b.nudge2"},
		{"nor the first campaign's", []Event{ev(a, Nudge, 0, 1), ev(a, Remind, 0, 2), ev(a, Nudge, 0, 3), ev(b, Nudge, 0, 1)},
			"a.nudge1,b.nudge1|a.remind2|a.nudge3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups := Combine(tt.events)
			var got []string
			for _, g := range groups {
				var keys []string
				for _, e := range g {
					keys = append(keys, e.Key)
				}
				got = append(got, strings.Join(keys, ","))
			}
			if s := strings.Join(got, "|"); s != tt.want {
				t.Errorf("Combine\n got %s\nwant %s", s, tt.want)
			}
			checkCombined(t, tt.events, groups)
		})
	}
}

// checkCombined checks what holds for any events: each goes out once, a
// campaign's in their order, and a group of several spans campaigns within a
// minute and goes one way.
func checkCombined(t *testing.T, events []Event, groups [][]Event) {
	t.Helper()
	order := map[*Schedule][]string{}
	for _, e := range events {
		order[e.Campaign] = append(order[e.Campaign], e.Key)
	}
	out := map[*Schedule][]string{}
	for _, g := range groups {
		for _, e := range g {
			out[e.Campaign] = append(out[e.Campaign], e.Key)
			if len(g) > 1 && (e.Kind.way() == "" || e.Kind.way() != g[0].Kind.way() || e.At.Truncate(time.Minute) != g[0].At.Truncate(time.Minute)) {
				t.Errorf("%s grouped with %s", e.Key, g[0].Key)
			}
		}
		if len(g) > 1 && !spansCampaigns(g) {
			t.Errorf("a group of one campaign: %v", g)
		}
	}
	for s, want := range order {
		if !slices.Equal(out[s], want) {
			t.Errorf("campaign %s: events go out as %q, were %q", s.ID, out[s], want)
		}
	}
}

// TestCombineRealEvents: June's campaign and the monthly report of
// schedules.example/ over the week they both have deadlines.
func TestCombineRealEvents(t *testing.T) {
	set := newSet(t, june(t), monthly(t))
	groups := Combine(set.Events(at(t, "2026-06-24 00:00"), at(t, "2026-06-26 23:00")))
	var got []string
	for _, g := range groups {
		var parts []string
		for _, e := range g {
			parts = append(parts, e.At.Format("01-02 15:04")+" "+e.Task.Key+" "+string(e.Kind))
		}
		got = append(got, strings.Join(parts, " + "))
	}
	want := []string{
		"06-24 09:00 2026-yinhuan-monthly/yinhuan remind + 06-24 09:00 2026-06-anquan/weekly remind",
		"06-25 10:00 2026-yinhuan-monthly/yinhuan nudge + 06-25 10:00 2026-06-anquan/weekly nudge",
		"06-25 12:00 2026-06-anquan/weekly rollcall",
		"06-26 10:00 2026-yinhuan-monthly/yinhuan rollcall",
	}
	if !slices.Equal(got, want) {
		t.Errorf("groups\n got %q\nwant %q", got, want)
	}
}

// TestRunnerFiresCombined: the runner hands coinciding events of two
// campaigns to Fire together, and each campaign's others alone.
func TestRunnerFiresCombined(t *testing.T) {
	set := newSet(t, june(t), monthly(t))
	log := newMemLog()
	log.cursor = at(t, "2026-06-24 08:00")
	now := at(t, "2026-06-24 08:00")
	var calls [][]string
	r := &Runner{
		Campaigns: func() *Set { return set },
		Log:       log,
		Now:       func() time.Time { return now },
		Fire: func(_ context.Context, events ...Event) error {
			var keys []string
			for _, e := range events {
				log.MarkSent(e.Key, now, "")
				keys = append(keys, e.Key)
			}
			calls = append(calls, keys)
			return nil
		},
	}
	ctx := context.Background()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"2026-06-24 09:00", "2026-06-25 12:00"} {
		now = at(t, step)
		if err := r.RunDue(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	want := [][]string{
		{"2026-yinhuan-monthly/yinhuan/2026-06-25 18:00/remind@-1d 09:00", "2026-06-anquan/weekly/2026-06-25 12:00/remind@-1d 09:00"},
		{"2026-yinhuan-monthly/yinhuan/2026-06-25 18:00/nudge@0d 10:00", "2026-06-anquan/weekly/2026-06-25 12:00/nudge@-2h"},
		{"2026-06-anquan/weekly/2026-06-25 12:00/rollcall@0"},
	}
	if !slices.EqualFunc(calls, want, slices.Equal) {
		t.Errorf("Fire calls\n got %q\nwant %q", calls, want)
	}
}
