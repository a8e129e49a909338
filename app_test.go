package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/schedules"
)

// memChat keeps what the bot sends, with the (bubble) time it was sent.
type memChat struct {
	mu   sync.Mutex
	now  func() time.Time
	sent []string
}

func (c *memChat) Send(_ context.Context, m bot.Outgoing) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, c.now().Format("01-02 15:04:05 ")+m.Text)
	return nil
}

func (c *memChat) SendFile(ctx context.Context, to, path string) error {
	return c.Send(ctx, bot.Outgoing{To: to, Text: "[文件] " + path})
}

func (c *memChat) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.sent...)
}

// TestRunLoopRealTime runs the real-time loop in a synctest bubble over two
// days of June: reminders fire at their times, and a receipt follows a report
// by the receipt delay without waiting for the next scheduled event.
func TestRunLoopRealTime(t *testing.T) {
	f, err := loadFiles("", "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		origin := time.Now()
		start := time.Date(2026, 6, 3, 8, 0, 0, 0, f.schedule.Location)
		now := func() time.Time { return start.Add(time.Since(origin)) }
		chat := &memChat{now: now}
		app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Schedule: f.schedule, DataDir: dir,
			Chat: chat, Now: now, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- app.Run(ctx) }()

		time.Sleep(2 * time.Hour) // 10:00
		if err := app.Deliver(ctx, bot.Message{ID: "1", From: "东风社区-张三", Kind: schedules.Text,
			Text: "本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Hour) // to 6/4 16:00
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		app.Close()
		got := strings.Join(chat.all(), "\n")
		for _, want := range []string{
			"06-03 09:00:00 【提醒】",
			"06-03 10:01:00 已收到 东风社区 第1期", // one receipt delay after the report
			"06-04 10:00:00 【催报】",
			"06-04 12:00:00 【点名】",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("lacks %q in:\n%s", want, got)
			}
		}
	})
}
