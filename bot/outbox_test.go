package bot_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
)

// downChat fails every send while down, as a chat whose session dropped.
type downChat struct {
	recordChat
	mu   sync.Mutex
	down bool
}

func (c *downChat) Send(ctx context.Context, m bot.Outgoing) error {
	c.mu.Lock()
	down := c.down
	c.mu.Unlock()
	if down {
		return errors.New("session down")
	}
	return c.recordChat.Send(ctx, m)
}

func (c *downChat) setDown(v bool) { c.mu.Lock(); c.down = v; c.mu.Unlock() }

func TestOutboxSurvivesRestartInOrder(t *testing.T) {
	h := newHarness(t)
	chat := &downChat{down: true}
	now := h.now
	out := &bot.Outbox{Store: h.db, Chat: chat, Now: func() time.Time { return now }, MaxAge: time.Hour, Logger: zerolog.Nop()}
	ctx := context.Background()
	for _, text := range []string{"一", "二", "三"} {
		if err := out.Send(ctx, bot.Outgoing{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Flush(ctx); err == nil {
		t.Fatal("flush with the chat down reported no error")
	}
	// A restart: a new outbox over the same store, the chat back.
	chat.setDown(false)
	out = &bot.Outbox{Store: h.db, Chat: chat, Now: func() time.Time { return now }, MaxAge: time.Hour, Logger: zerolog.Nop()}
	if err := out.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if err := out.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range chat.msgs {
		got = append(got, m.Text)
	}
	if strings.Join(got, ",") != "一,二,三" || out.Pending() != 0 {
		t.Errorf("delivered %v, %d pending", got, out.Pending())
	}
}

func TestOutboxDropsStaleWithALogLine(t *testing.T) {
	h := newHarness(t)
	chat := &downChat{down: true}
	now := h.now
	var logs bytes.Buffer
	out := &bot.Outbox{Store: h.db, Chat: chat, Now: func() time.Time { return now }, MaxAge: 6 * time.Hour, Logger: zerolog.New(&logs)}
	ctx := context.Background()
	out.SendOnce(ctx, "weekly/1/nudge@-2h", []bot.Outgoing{{Text: "【催报】过时的催报"}})
	out.Send(ctx, bot.Outgoing{Text: "已收到 东风社区"})
	now = now.Add(7 * time.Hour) // the chat was down all that time
	chat.setDown(false)
	out.Send(ctx, bot.Outgoing{Text: "新的回复"})
	if err := out.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(chat.msgs) != 1 || chat.msgs[0].Text != "新的回复" {
		t.Errorf("delivered %+v, want only the fresh message", chat.msgs)
	}
	if n := strings.Count(logs.String(), "owed message too old: dropped"); n != 2 {
		t.Errorf("%d drop log lines, want 2:\n%s", n, logs.String())
	}
	// The stale nudge counts as handled: a restart does not send it again.
	if sent, _ := h.db.IsSent("weekly/1/nudge@-2h"); !sent {
		t.Error("the dropped event is not in the sent-log")
	}
	if note, _ := h.db.SentNote("weekly/1/nudge@-2h"); !strings.Contains(note, "dropped") {
		t.Errorf("sent-log note %q", note)
	}
}
