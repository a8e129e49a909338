package bot_test

import (
	"strings"
	"testing"
	"time"

	"reportbot/bot"
)

// TestTroubleHysteresis plays sequences of failures (F) and successes (.)
// at given minutes and checks which of them the admins hear about.
func TestTroubleHysteresis(t *testing.T) {
	type event struct {
		minute int
		fail   bool
		untold bool // the announcement of this event could not be sent
	}
	f := func(m int) event { return event{m, true, false} }
	ok := func(m int) event { return event{m, false, false} }
	lostF := func(m int) event { return event{m, true, true} }
	lostOK := func(m int) event { return event{m, false, true} }
	tests := []struct {
		name   string
		events []event
		// told marks the events announced: S for a start, E for an end, - for none.
		told string
	}{
		{"all well", []event{ok(0), ok(1), ok(30)}, "---"},
		{"one failure, then quiet", []event{f(0), ok(11)}, "SE"},
		{"a lucky success does not end it", []event{f(0), ok(0), f(1), ok(1), f(2)}, "S----"},
		{"failures every minute for eight minutes, then quiet",
			[]event{f(0), ok(1), f(2), ok(3), f(4), ok(5), f(6), ok(7), f(8), ok(9), ok(17), ok(18), ok(19)}, "S----------E-"},
		{"the quiet period counts from the last failure", []event{f(0), f(9), ok(10), ok(18), ok(19)}, "S---E"},
		{"exactly the quiet period ends it", []event{f(0), ok(10)}, "SE"},
		{"a new trouble after the end is told again", []event{f(0), ok(10), f(11), f(12), ok(30)}, "SES-E"},
		{"successes alone never announce", []event{ok(0), ok(100)}, "--"},
		{"a start that could not be told is told at the next failure", []event{lostF(0), ok(1), f(2), f(3)}, "S-S-"},
		{"an end that could not be told is told at the next success", []event{f(0), lostOK(10), ok(11), ok(12)}, "SEE-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &bot.Trouble{Quiet: 10 * time.Minute}
			start := time.Date(2026, 6, 4, 9, 0, 0, 0, time.UTC)
			var told strings.Builder
			for _, e := range tt.events {
				at := start.Add(time.Duration(e.minute) * time.Minute)
				switch {
				case e.fail && tr.Fail(at):
					told.WriteByte('S')
				case !e.fail && tr.OK(at):
					told.WriteByte('E')
				default:
					told.WriteByte('-')
					continue
				}
				if e.untold {
					tr.Untold()
				}
			}
			if told.String() != tt.told {
				t.Errorf("told %s, want %s", told.String(), tt.told)
			}
		})
	}
}

func TestTroubleSummary(t *testing.T) {
	tr := &bot.Trouble{Quiet: time.Minute}
	at := time.Date(2026, 6, 4, 9, 0, 0, 0, time.UTC)
	for i := range 5 {
		tr.Fail(at.Add(time.Duration(i) * time.Second))
	}
	if !tr.Down() {
		t.Fatal("not down after failures")
	}
	since, n := tr.Summary()
	if !since.Equal(at) || n != 5 {
		t.Errorf("summary %v %d, want %v 5", since, n, at)
	}
	if !tr.OK(at.Add(2 * time.Minute)) {
		t.Fatal("not over after a quiet minute")
	}
	tr.Fail(at.Add(time.Hour))
	if since, n := tr.Summary(); !since.Equal(at.Add(time.Hour)) || n != 1 {
		t.Errorf("a new trouble: %v %d, want it counted afresh", since, n)
	}
}
