package wechat_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"reportbot/bot"
	"reportbot/wechat"
)

// Polls start failing while a Deliver waits for its pacing slot: no send may
// start (it would leave without an answer and become uncertain).
func TestNoSendBeginsWhenPollsFailDuringPacing(t *testing.T) {
	f := newFake(t)
	net := &outage{next: f.Transport()}
	s := newAdapter(t, f, "", func(o *wechat.Options) {
		o.Transport, o.Interval, o.ReconnectBackoff, o.ReconnectMax = net, 2*time.Second, 50*time.Millisecond, time.Minute
	})
	s.run(t, &recorder{})
	deliver(t, s.adapter, bot.Outgoing{Text: "第一条"})
	var b counter
	done := make(chan error, 1)
	go func() { done <- s.adapter.Deliver(context.Background(), bot.Outgoing{Text: "第二条"}, b.begin) }()
	time.Sleep(100 * time.Millisecond)
	net.set(true)
	// Polls fail now: a fresh Deliver says offline at once.
	waitFor(t, "polls to fail", func() bool {
		var c counter
		err := s.adapter.Deliver(context.Background(), bot.Outgoing{Text: "探测"}, c.begin)
		return errors.Is(err, bot.ErrOffline) && c.n.Load() == 0
	})
	err := <-done
	net.set(false)
	if b.n.Load() != 0 {
		t.Errorf("a send began while polls were failing (the pacing waiter did not look again): %v", err)
	}
}
