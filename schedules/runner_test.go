package schedules

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"
)

// memLog is an in-memory SentLog.
type memLog struct {
	mu     sync.Mutex
	sent   map[string]string
	cursor time.Time
}

func newMemLog() *memLog { return &memLog{sent: map[string]string{}} }

func (l *memLog) MarkSent(key string, at time.Time, note string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.sent[key]; ok {
		return false, nil
	}
	l.sent[key] = note
	return true, nil
}

func (l *memLog) IsSent(key string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.sent[key]
	return ok, nil
}

func (l *memLog) Cursor() (time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cursor, nil
}

func (l *memLog) SetCursor(t time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cursor = t
	return nil
}

type fired struct {
	key string
	at  time.Time
}

func newRunner(s *Schedule, log SentLog, now func() time.Time, got *[]fired) *Runner {
	var mu sync.Mutex
	return &Runner{
		Campaigns: func() *Set { return Single(s) },
		Log:       log,
		Now:       now,
		Logger:    zerolog.Nop(),
		Fire: func(_ context.Context, events ...Event) error {
			mu.Lock()
			defer mu.Unlock()
			for _, e := range events {
				if first, _ := log.MarkSent(e.Key, now(), ""); first {
					*got = append(*got, fired{e.Key, now()})
				}
			}
			return nil
		},
	}
}

func TestRunnerFiresInOrderOnce(t *testing.T) {
	s := loadExample(t)
	log := newMemLog()
	now := at(t, "2026-06-01 08:00")
	var got []fired
	r := newRunner(s, log, func() time.Time { return now }, &got)
	ctx := context.Background()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"2026-06-03 09:00", "2026-06-04 11:00", "2026-06-04 11:00", "2026-06-04 12:00"} {
		now = at(t, step)
		if err := r.RunDue(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"announce@2026-06-01 09:00", "weekly/2026-06-04 12:00/remind@-1d 09:00", "weekly/2026-06-04 12:00/nudge@-2h", "weekly/2026-06-04 12:00/rollcall@0"}
	if len(got) != len(want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	for i := range want {
		if got[i].key != want[i] {
			t.Errorf("event %d = %s, want %s", i, got[i].key, want[i])
		}
	}
	// A second runner over the same log (a restart) sends nothing again.
	got = nil
	r2 := newRunner(s, log, func() time.Time { return now }, &got)
	if err := r2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r2.RunDue(ctx, now); err != nil {
		t.Fatal(err)
	}
	if next, _ := r2.Next(); !next.Equal(at(t, "2026-06-05 09:00")) {
		t.Errorf("next after restart = %v", next)
	}
	if len(got) != 0 {
		t.Errorf("restart fired %v", got)
	}
}

func TestRunnerCatchUp(t *testing.T) {
	s := loadExample(t)
	log := newMemLog()
	log.cursor = at(t, "2026-06-03 08:00") // down since Wednesday 08:00
	now := at(t, "2026-06-04 10:30")       // back on Thursday 10:30
	var got []fired
	r := newRunner(s, log, func() time.Time { return now }, &got)
	ctx := context.Background()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.RunDue(ctx, now); err != nil {
		t.Fatal(err)
	}
	// Both the Wednesday reminder and the 10:00 nudge are still useful: the deadline is at 12:00.
	if len(got) != 2 || got[0].key != "weekly/2026-06-04 12:00/remind@-1d 09:00" || got[1].key != "weekly/2026-06-04 12:00/nudge@-2h" {
		t.Fatalf("catch-up fired %v", got)
	}

	// Down again from Thursday 11:00 to 22:30: the nudge's deadline passed; the
	// roll-call is still useful but waits for the quiet hours to end.
	log2 := newMemLog()
	log2.cursor = at(t, "2026-06-04 09:30")
	now = at(t, "2026-06-04 22:30")
	got = nil
	r = newRunner(s, log2, func() time.Time { return now }, &got)
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.RunDue(ctx, now); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("sent in quiet hours: %v", got)
	}
	if note := log2.sent["weekly/2026-06-04 12:00/nudge@-2h"]; note == "" {
		t.Errorf("stale nudge not recorded as skipped: %q", note)
	}
	// A restart before the morning still finds the waiting roll-call.
	got = nil
	r = newRunner(s, log2, func() time.Time { return now }, &got)
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	now = at(t, "2026-06-05 08:00")
	if err := r.RunDue(ctx, now); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].key != "weekly/2026-06-04 12:00/rollcall@0" {
		t.Fatalf("morning fired %v", got)
	}
}

// TestRunLoop runs the sleeping loop over a whole June in a synctest bubble:
// every event fires at its own time, once.
func TestRunLoop(t *testing.T) {
	s := loadExample(t)
	synctest.Test(t, func(t *testing.T) {
		origin := time.Now()
		june := s.Start.Add(-time.Hour)
		now := func() time.Time { return june.Add(time.Since(origin)) }
		var got []fired
		r := newRunner(s, newMemLog(), now, &got)
		ctx, cancel := context.WithCancel(context.Background())
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- r.Run(ctx) }()
		time.Sleep(s.End.AddDate(0, 0, 8).Sub(june))
		cancel()
		<-done
		want := s.Events(june, s.End.AddDate(0, 0, 8))
		if len(got) != len(want) {
			t.Fatalf("fired %d events, want %d", len(got), len(want))
		}
		for i, e := range want {
			if got[i].key != e.Key || !got[i].at.Equal(e.At) {
				t.Errorf("event %d: fired %s at %v, want %s at %v", i, got[i].key, got[i].at, e.Key, e.At)
			}
		}
	})
}

// TestRunnerStoresCursorWhenSomethingWasDue: the cursor is written when events
// were due (or the schedule changed), not at every wake-up; a restart over a
// cursor left behind fires nothing twice and misses nothing.
func TestRunnerStoresCursorWhenSomethingWasDue(t *testing.T) {
	s := loadExample(t)
	log := newMemLog()
	now := at(t, "2026-06-03 08:00")
	var got []fired
	r := newRunner(s, log, func() time.Time { return now }, &got)
	ctx := context.Background()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ now, stored string }{
		{"2026-06-03 08:30", "2026-06-03 08:00"}, // nothing due: left behind
		{"2026-06-03 09:30", "2026-06-03 09:30"}, // the reminder
		{"2026-06-03 20:00", "2026-06-03 09:30"},
	} {
		now = at(t, step.now)
		if err := r.RunDue(ctx, now); err != nil {
			t.Fatal(err)
		}
		if c, _ := log.Cursor(); !c.Equal(at(t, step.stored)) {
			t.Errorf("at %s: stored cursor %v, want %s", step.now, c, step.stored)
		}
	}
	if len(got) != 1 || got[0].key != "weekly/2026-06-04 12:00/remind@-1d 09:00" {
		t.Fatalf("fired %v, want the reminder", got)
	}
	// A restart: nothing again, and the nudge in its time, once.
	got = nil
	now = at(t, "2026-06-03 21:00")
	r2 := newRunner(s, log, func() time.Time { return now }, &got)
	if err := r2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"2026-06-03 21:00", "2026-06-04 10:30", "2026-06-04 10:45"} {
		now = at(t, step)
		if err := r2.RunDue(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0].key != "weekly/2026-06-04 12:00/nudge@-2h" {
		t.Errorf("after the restart fired %v, want the nudge once", got)
	}
	// A changed schedule is stored at the next wake-up, due or not.
	r2.Reschedule()
	now = at(t, "2026-06-04 11:00")
	if err := r2.RunDue(ctx, now); err != nil {
		t.Fatal(err)
	}
	if c, _ := log.Cursor(); !c.Equal(now) {
		t.Errorf("after Reschedule: stored cursor %v, want %v", c, now)
	}
}
