package wechat

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
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

// ordered is a handler whose messages with IDs starting "?" are questions
// (bot.Orderer); it records the order handlers start and finish in.
type ordered struct {
	mu     sync.Mutex
	events []string
	// hold keeps a message's handling going until the channel is closed.
	hold map[string]chan struct{}
}

func (o *ordered) WaitsForEarlier(m bot.Message) bool { return m.ID[0] == '?' }

func (o *ordered) Handle(_ context.Context, m bot.Message) error {
	o.note("start " + m.ID)
	if c := o.hold[m.ID]; c != nil {
		<-c
	}
	o.note("done " + m.ID)
	return nil
}

func (o *ordered) note(e string) {
	o.mu.Lock()
	o.events = append(o.events, e)
	o.mu.Unlock()
}

func (o *ordered) log() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.events)
}

// A question waits for every message received before it, of any sender;
// messages after it that are not questions do not wait for it; a mark
// (afterAll) runs once all before it are handled.
func TestInboxQuestionWaitsForEarlier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		report := make(chan struct{})
		h := &ordered{hold: map[string]chan struct{}{"report": report}}
		q := &inbox{}
		q.init()
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() { q.run(ctx, h, zerolog.Nop()); close(stopped) }()

		var marked atomic.Bool
		q.put(bot.Message{ID: "report", Sender: bot.Member{Name: "东风社区-张三"}})
		q.put(bot.Message{ID: "?who", Sender: bot.Member{Name: "街道应急办-王科"}})
		q.afterAll(func() { marked.Store(true) })
		q.put(bot.Message{ID: "later", Sender: bot.Member{Name: "西湖社区-李四"}})
		synctest.Wait()
		// Different senders' messages start in no set order.
		if got, want := slices.Sorted(slices.Values(h.log())), []string{"done later", "start later", "start report"}; !slices.Equal(got, want) {
			t.Errorf("while the report is handled: %v, want %v (the question waits, the later report does not)", got, want)
		}
		if marked.Load() {
			t.Error("the mark ran before the messages before it were handled")
		}
		close(report)
		synctest.Wait()
		if got, want := h.log()[3:], []string{"done report", "start ?who", "done ?who"}; !slices.Equal(got, want) {
			t.Errorf("after the report: %v, want %v", got, want)
		}
		if !marked.Load() {
			t.Error("the mark did not run once everything before it was handled")
		}
		cancel()
		<-stopped
	})
}
