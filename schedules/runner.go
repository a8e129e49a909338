package schedules

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// SentLog remembers which events went out, so that each is sent exactly once
// across restarts (DESIGN rule 4), and how far the runner has got.
type SentLog interface {
	// MarkSent records key as done at at; note is empty for a sent message or says
	// why it was skipped. It reports false, recording nothing, if key was already done.
	MarkSent(key string, at time.Time, note string) (first bool, err error)
	// IsSent reports whether key was already done.
	IsSent(key string) (bool, error)
	// Cursor is the time up to which every event has been handled; zero at first start.
	Cursor() (time.Time, error)
	// SetCursor moves the cursor.
	SetCursor(t time.Time) error
}

// Runner fires the campaigns' events in order over an injected clock.
//
// The console drives it with RunDue as its fake clock advances; the real bot
// calls Run, which sleeps until the next event. Fire records each event in the
// sent-log as it queues its messages, so it goes out once; events missed while
// the bot was down are fired on Start if still useful, and skipped with a log
// line otherwise.
type Runner struct {
	// Campaigns returns the campaigns in force (they change on reload).
	Campaigns func() *Set
	Log       SentLog
	// Fire sends one event, or several of different campaigns as one message
	// (see Combine); an error is logged and the events count as handled.
	Fire   func(ctx context.Context, events ...Event) error
	Now    func() time.Time
	Logger zerolog.Logger

	mu      sync.Mutex
	cursor  time.Time
	pending []Event // missed events re-timed by Start, in At order
	wake    chan struct{}
	// rescheduled is set by Reschedule until the cursor is next stored: the
	// stored one is then brought up to date even when nothing was due, so
	// that a restart does not take events a new schedule has before it for missed.
	rescheduled bool
}

// Start reads the cursor and plans the events missed since it. On the very first
// start nothing counts as missed.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.wake == nil {
		r.wake = make(chan struct{}, 1)
	}
	now := r.Now()
	cursor, err := r.Log.Cursor()
	if err != nil {
		return fmt.Errorf("read scheduler cursor: %w", err)
	}
	if cursor.IsZero() || cursor.After(now) {
		r.cursor = now
		return r.Log.SetCursor(now)
	}
	r.cursor = now
	r.pending = nil
	for _, e := range r.Campaigns().Events(cursor, now) {
		done, err := r.Log.IsSent(e.Key)
		if err != nil {
			return fmt.Errorf("read sent-log: %w", err)
		}
		if done {
			continue
		}
		at := e.Campaign.NextAllowed(now)
		if why := stale(e, at); why != "" {
			r.Logger.Info().Str("key", e.Key).Time("due_at", e.At).Str("why", why).Msg("skip missed scheduled message")
			if _, err := r.Log.MarkSent(e.Key, now, "skipped: "+why); err != nil {
				return fmt.Errorf("record skipped %s: %w", e.Key, err)
			}
			continue
		}
		r.Logger.Info().Str("key", e.Key).Time("due_at", e.At).Time("send_at", at).Msg("send missed scheduled message late")
		late := e
		late.At = at
		r.pending = append(r.pending, late)
	}
	return nil
}

// stale says why a missed event is no longer worth sending at t, or "".
func stale(e Event, t time.Time) string {
	switch e.Kind {
	case Remind, Nudge:
		if !t.Before(e.Due) {
			return "deadline passed"
		}
	case Rollcall:
		if p, ok := e.Task.Period(e.Period); ok && !t.Before(p.LateUntil) {
			return "superseded by the next period"
		}
	case Announce:
		if t.In(e.At.Location()).Format(time.DateOnly) != e.At.Format(time.DateOnly) {
			return "announcement day passed"
		}
	}
	return ""
}

// Next returns when the next event is due.
func (r *Runner) Next() (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var next time.Time
	if e, ok := r.Campaigns().NextAfter(r.cursor); ok {
		next = e.At
	}
	if len(r.pending) > 0 && (next.IsZero() || r.pending[0].At.Before(next)) {
		next = r.pending[0].At
	}
	return next, !next.IsZero()
}

// RunDue fires, in order, every event due at or before now that has not been fired.
func (r *Runner) RunDue(ctx context.Context, now time.Time) error {
	r.mu.Lock()
	events := r.Campaigns().Events(r.cursor, now)
	var keep []Event
	for _, p := range r.pending {
		if p.At.After(now) {
			keep = append(keep, p)
		} else {
			events = append(events, p)
		}
	}
	r.pending = keep
	sort.SliceStable(events, func(i, j int) bool { return events[i].At.Before(events[j].At) })
	r.mu.Unlock()

	var todo []Event
	for _, e := range events {
		done, err := r.Log.IsSent(e.Key)
		if err != nil {
			return fmt.Errorf("read sent-log: %w", err)
		}
		if !done {
			todo = append(todo, e)
		}
	}
	for _, group := range Combine(todo) {
		if err := r.Fire(ctx, group...); err != nil {
			r.Logger.Error().Err(err).Str("key", group[0].Key).Int("combined", len(group)).Msg("scheduled message failed")
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if !now.After(r.cursor) {
		return nil
	}
	r.cursor = now
	if len(r.pending) > 0 {
		// Missed events still wait: the stored cursor stays where Start found it,
		// so that a restart in between finds them again instead of forgetting them.
		return nil
	}
	if len(events) == 0 && !r.rescheduled {
		// Nothing was due: the stored cursor may stay behind, since a restart
		// finds no event between it and now either. Stored at every wake-up,
		// it cost the console a commit per receipt.
		return nil
	}
	r.rescheduled = false
	return r.Log.SetCursor(now)
}

// Changed signals that the schedule changed, for loops that sleep until Next.
func (r *Runner) Changed() <-chan struct{} { return r.wake }

// Reschedule wakes Run after the schedule changed.
func (r *Runner) Reschedule() {
	r.mu.Lock()
	r.rescheduled = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run fires events as their time comes until ctx ends. Call Start first.
func (r *Runner) Run(ctx context.Context) error {
	for {
		if err := r.RunDue(ctx, r.Now()); err != nil {
			r.Logger.Error().Err(err).Msg("scheduler")
		}
		wait := time.Hour // re-check now and then: the wall clock may jump
		if next, ok := r.Next(); ok {
			if d := next.Sub(r.Now()); d < wait {
				wait = max(d, 0)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-r.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// Combine groups events, in order, into what goes out as one message: events
// of different campaigns due in the same minute that go the same way
// (reminders with reminders; nudges and roll-calls, which @ people, with each
// other) are one group, so the group gets one message and not a burst. Events
// of a single campaign keep their own messages, as they always had, and each
// campaign's events go out in their order.
func Combine(events []Event) [][]Event {
	var out [][]Event
	used := make([]bool, len(events))
	for i, e := range events {
		if used[i] {
			continue
		}
		group, at := []Event{e}, []int{i}
		if way := e.Kind.way(); way != "" {
			// A campaign with an event still waiting that does not join keeps
			// its later ones back too: each campaign's events go in their order.
			held := map[*Schedule]bool{}
			for j := i + 1; j < len(events); j++ {
				f := events[j]
				if used[j] || held[f.Campaign] {
					continue
				}
				if f.At.Truncate(time.Minute).Equal(e.At.Truncate(time.Minute)) && f.Kind.way() == way {
					group, at = append(group, f), append(at, j)
				} else {
					held[f.Campaign] = true
				}
			}
		}
		if !spansCampaigns(group) {
			group = group[:1] // the others keep their own place
		}
		for _, j := range at[:len(group)] {
			used[j] = true
		}
		out = append(out, group)
	}
	return out
}

// way is how a kind of message goes to the group, for combining: the
// reminders to all; nudges and roll-calls @ the owing units. "" never combines.
func (k Kind) way() string {
	switch k {
	case Remind:
		return "all"
	case Nudge, Rollcall:
		return "at"
	}
	return ""
}

func spansCampaigns(group []Event) bool {
	for _, e := range group[1:] {
		if e.Campaign != group[0].Campaign {
			return true
		}
	}
	return false
}
