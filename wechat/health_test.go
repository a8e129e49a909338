package wechat

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/eatmoreapple/openwechat"
	"github.com/rs/zerolog"
)

// step is one thing that happens on the sync goroutine.
type step struct {
	failFor time.Duration // polls fail for this long
	retcode string        // else a synccheck answers this retcode
	sel     openwechat.Selector
}

func failFor(d time.Duration) step { return step{failFor: d} }
func poll(sel openwechat.Selector) step {
	return step{retcode: "0", sel: sel}
}

// The sync error handler waits longer after each failed poll and gives the
// session up once polls have failed for ReconnectMax with no good poll in
// between. Runs in a synctest bubble: the waits cost no real time.
func TestSyncErrors(t *testing.T) {
	const limit = 10 * time.Second
	down := errors.New("network is unreachable")
	for _, c := range []struct {
		name   string
		script []step
		giveUp bool
	}{
		{"failing for good", []step{failFor(time.Minute)}, true},
		{"two outages with a good poll between", []step{failFor(8 * time.Second), poll(openwechat.SelectorNormal), failFor(8 * time.Second)}, false},
		{"messages announced and fetched", []step{failFor(8 * time.Second), poll(openwechat.SelectorNewMsg), poll(openwechat.SelectorNewMsg), failFor(8 * time.Second)}, false},
		{"messages announced, the fetch fails", []step{failFor(8 * time.Second), poll(openwechat.SelectorNewMsg), failFor(8 * time.Second)}, true},
		{"a synccheck with an error code", []step{failFor(8 * time.Second), {retcode: "1"}, failFor(8 * time.Second)}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a := New(Options{ReconnectBackoff: time.Second, ReconnectMax: limit, Logger: zerolog.Nop()})
				s := a.newBot(context.Background())
				defer s.stop()
				handle := a.syncErrors(s)
				start := time.Now()
				var waits []time.Duration
				var gaveUp error
			script:
				for _, st := range c.script {
					if st.failFor == 0 {
						s.health.polled(openwechat.SyncCheckResponse{RetCode: st.retcode, Selector: st.sel})
						continue
					}
					for from := time.Now(); time.Since(from) < st.failFor; {
						before := time.Now()
						if gaveUp = handle(down); gaveUp != nil {
							break script
						}
						waits = append(waits, time.Since(before))
					}
				}
				if (gaveUp != nil) != c.giveUp {
					t.Fatalf("gave up: %v, want %v (waits %v)", gaveUp, c.giveUp, waits)
				}
				if gaveUp == nil {
					return
				}
				if took := time.Since(start); took <= limit || took > limit+limit/4+time.Second {
					t.Errorf("gave up after %v, want soon after %v", took, limit)
				}
				if !errors.Is(gaveUp, down) || !s.isEnding() {
					t.Errorf("gave up with %v, session ending %v", gaveUp, s.isEnding())
				}
			})
		})
	}
	t.Run("backoff", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := New(Options{ReconnectBackoff: time.Second, ReconnectMax: limit, Logger: zerolog.Nop()})
			s := a.newBot(context.Background())
			defer s.stop()
			handle := a.syncErrors(s)
			var waits []time.Duration
			for range 7 {
				before := time.Now()
				if err := handle(down); err != nil {
					t.Fatal(err)
				}
				waits = append(waits, time.Since(before))
			}
			want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
				800 * time.Millisecond, 1600 * time.Millisecond, 2500 * time.Millisecond, 2500 * time.Millisecond}
			if !slices.Equal(waits, want) {
				t.Errorf("waits %v, want %v", waits, want)
			}
		})
	})
	t.Run("session expired", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := New(Options{Logger: zerolog.Nop()})
			s := a.newBot(context.Background())
			defer s.stop()
			start := time.Now()
			err := a.syncErrors(s)(openwechat.Ret(1101))
			var ret openwechat.Ret
			if !errors.As(err, &ret) || ret != 1101 || time.Since(start) != 0 || !s.isEnding() {
				t.Errorf("err %v after %v, ending %v: want 1101 at once, the session retired", err, time.Since(start), s.isEnding())
			}
		})
	})
	t.Run("stopped", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := New(Options{Logger: zerolog.Nop()})
			s := a.newBot(context.Background())
			s.stop()
			start := time.Now()
			if err := a.syncErrors(s)(context.Canceled); err != nil || time.Since(start) != 0 {
				t.Errorf("err %v after %v: a stopped session's loop ends at once", err, time.Since(start))
			}
		})
	})
}
