package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/schedules"
)

// On a platform that cannot tell when its backlog is in (钉钉 redelivers what
// it could not hand over), the nudge missed while the bot was down waits out
// the grace period: a report redelivered within it is counted.
func TestRunCatchUpWaitsGracePeriod(t *testing.T) {
	inBubble(t, "2026-06-04 09:00", func(t *testing.T, f *files, dir string, now func() time.Time) {
		chat := &memChat{now: now}
		open := func() *App {
			app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: dir,
				Transport: chat, Now: now, Logger: zerolog.Nop(), SettleWait: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			return app
		}
		open().Close() // 09:00: the scheduler's cursor
		time.Sleep(90 * time.Minute)

		app := open() // 10:30: the 10:00 nudge was missed
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- app.Run(ctx) }()
		time.Sleep(3 * time.Second)
		for _, m := range []bot.Message{
			{ID: "1", Sender: bot.Member{Name: "东风社区-张三"}, Kind: schedules.Text, Text: "本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。"},
			{ID: "2", Sender: bot.Member{Name: "东风社区-张三"}, Kind: schedules.Image, Size: -1,
				Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(photoBytes(1))), nil }},
		} {
			if err := app.Deliver(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if got := chat.all(); len(got) != 0 {
			t.Errorf("sent within the grace period: %q", got)
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		app.Close()
		var nudge string
		for _, s := range chat.all() {
			if strings.Contains(s, "【催报】") {
				nudge = s
			}
		}
		if !strings.HasPrefix(nudge, "06-04 10:30:10 【催报】") || strings.Contains(nudge, "东风社区") || !strings.Contains(nudge, "@西湖社区-李四") {
			t.Errorf("the nudge caught up after the grace period: %q, in:\n%s", nudge, strings.Join(chat.all(), "\n"))
		}
	})
}

// [bot] catch_up_wait: 10 s unless set, and refused outside 1 s to 10 min.
func TestParseSettingsCatchUpWait(t *testing.T) {
	for _, c := range []struct {
		name, line string
		want       time.Duration
		err        string
	}{
		{"default", "", 10 * time.Second, ""},
		{"example", `catch_up_wait = "10s"`, 10 * time.Second, ""},
		{"set", `catch_up_wait = "30s"`, 30 * time.Second, ""},
		{"negative", `catch_up_wait = "-1s"`, 0, "catch_up_wait"},
		{"too long", `catch_up_wait = "1h"`, 0, "1s 到 10m"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(string(exampleConfig), `catch_up_wait = "10s"`, c.line, 1)
			s, err := parseSettings("config.toml", []byte(src))
			switch {
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Errorf("error %v, want one with %q", err, c.err)
			case c.err == "" && err != nil:
				t.Fatal(err)
			case c.err == "" && s.CatchUpWait != c.want:
				t.Errorf("CatchUpWait %v, want %v", s.CatchUpWait, c.want)
			}
		})
	}
}
