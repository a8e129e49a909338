package wechat

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
)

// handlerFunc adapts a function to Handler.
type handlerFunc func(context.Context, bot.Message) error

func (f handlerFunc) Handle(ctx context.Context, m bot.Message) error { return f(ctx, m) }

func runInbox(t *testing.T, h bot.Handler) *inbox {
	t.Helper()
	q := &inbox{}
	q.init()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { q.run(ctx, h, zerolog.Nop()); close(stopped) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Error("the inbox did not stop")
		}
	})
	return q
}

func TestInboxKeepsEachSendersOrder(t *testing.T) {
	var mu sync.Mutex
	got := map[string][]string{}
	inFlight := map[string]int{}
	running, most := 0, 0
	all := make(chan struct{}, 1000)
	q := runInbox(t, handlerFunc(func(_ context.Context, m bot.Message) error {
		mu.Lock()
		inFlight[m.Sender.Name]++
		running++
		most = max(most, running)
		if inFlight[m.Sender.Name] > 1 {
			t.Errorf("two messages of %s handled at once", m.Sender.Name)
		}
		mu.Unlock()
		time.Sleep(time.Duration(len(m.ID)%3) * time.Millisecond)
		mu.Lock()
		got[m.Sender.Name] = append(got[m.Sender.Name], m.ID)
		inFlight[m.Sender.Name]--
		running--
		mu.Unlock()
		all <- struct{}{}
		return nil
	}))
	const senders, each = 40, 20
	for i := range each {
		for s := range senders {
			q.put(bot.Message{ID: fmt.Sprintf("%d-%d", s, i), Sender: bot.Member{Name: fmt.Sprint("成员", s)}})
		}
	}
	for range senders * each {
		select {
		case <-all:
		case <-time.After(10 * time.Second):
			t.Fatal("messages not handled")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for s := range senders {
		var want []string
		for i := range each {
			want = append(want, fmt.Sprintf("%d-%d", s, i))
		}
		if from := fmt.Sprint("成员", s); !slices.Equal(got[from], want) {
			t.Errorf("%s: %v", from, got[from])
		}
	}
	if most > inboxWorkers {
		t.Errorf("%d messages handled at once, at most %d allowed", most, inboxWorkers)
	}
}

// A member whose photo takes long to download holds up nobody else.
func TestInboxSlowSenderHoldsUpNobody(t *testing.T) {
	otherDone := make(chan struct{})
	handled := make(chan string, 3)
	q := runInbox(t, handlerFunc(func(_ context.Context, m bot.Message) error {
		if m.ID == "slow" {
			select {
			case <-otherDone:
			case <-time.After(10 * time.Second):
				t.Error("the other member's message waited for the slow one")
			}
		}
		if m.ID == "other" {
			close(otherDone)
		}
		handled <- m.ID
		return nil
	}))
	q.put(bot.Message{ID: "slow", Sender: bot.Member{Name: "东风社区-张三"}})
	q.put(bot.Message{ID: "after-slow", Sender: bot.Member{Name: "东风社区-张三"}})
	q.put(bot.Message{ID: "other", Sender: bot.Member{Name: "西湖社区-李四"}})
	var order []string
	for range 3 {
		order = append(order, <-handled)
	}
	if !slices.Equal(order, []string{"other", "slow", "after-slow"}) {
		t.Errorf("handled in the order %v", order)
	}
}
