package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/console"
	"reportbot/store"
)

// printChat writes what the group (or the admins) would get, one line per
// message: "SENT <first line>" or "ADMIN <text on one line>".
type printChat struct{ mu sync.Mutex }

func (c *printChat) Deliver(_ context.Context, m bot.Outgoing, begin func() error) error {
	if err := begin(); err != nil {
		return err
	}
	if m.File != "" {
		m.Text = "[文件] " + m.File
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.ToAdmins {
		_, err := fmt.Fprintf(os.Stdout, "ADMIN %s\n", strings.ReplaceAll(m.Text, "\n", " | "))
		return err
	}
	first, _, _ := strings.Cut(m.Text, "\n")
	_, err := fmt.Fprintf(os.Stdout, "SENT %s\n", first)
	return err
}

// outboxChild plays the June campaign from where the store's cursor stands,
// an hour at a time, and prints DONE at the end. With REPORTBOT_KILL_AT=step:n
// it kills itself at the n-th time an outbox item reaches that step.
func outboxChild(dir, killAt string) error {
	f, err := loadFiles("", "")
	if err != nil {
		return err
	}
	start := f.schedule.Start
	if db, err := store.Open(dir, store.Options{}); err == nil {
		if c, err := db.Cursor(); err == nil && !c.IsZero() {
			start = c
		}
		db.Close()
	}
	step, nth := "", 0
	if s, n, ok := strings.Cut(killAt, ":"); ok {
		step = s
		nth, _ = strconv.Atoi(n)
	}
	seen := 0
	clock := console.NewClock(start)
	app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: dir,
		Transport: &printChat{}, Now: clock.Now, SetClock: clock.Set, Logger: zerolog.Nop(),
		Trace: func(s string, _ bot.OutboxItem) {
			if s == step {
				if seen++; seen == nth {
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
					select {} // the signal is on its way
				}
			}
		}})
	if err != nil {
		return err
	}
	for t := start; t.Before(f.schedule.End.AddDate(0, 0, 2)); t = t.Add(time.Hour) {
		if err := app.Advance(context.Background(), t); err != nil {
			return err
		}
	}
	fmt.Println("DONE")
	return app.Close()
}

// runOutboxChild runs one child to its end (or death) and returns its lines;
// kill, if positive, is when the parent kills it.
func runOutboxChild(t *testing.T, dir, killAt string, kill time.Duration) []string {
	t.Helper()
	cmd, out, stderr := startChild(t, "REPORTBOT_OUTBOX_CHILD="+dir, "REPORTBOT_KILL_AT="+killAt)
	if kill > 0 {
		timer := time.AfterFunc(kill, func() { cmd.Process.Kill() })
		defer timer.Stop()
	}
	var lines []string
	for l := range out {
		lines = append(lines, l)
	}
	if err := cmd.Wait(); err != nil && !strings.Contains(err.Error(), "killed") {
		t.Fatalf("child: %v: %s", err, stderr.String())
	}
	return lines
}

// outcome counts each message sent, and keeps the admins' notices.
func outcome(lines []string) (sent map[string]int, notices []string, done bool) {
	sent = map[string]int{}
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "SENT "):
			sent[strings.TrimPrefix(l, "SENT ")]++
		case strings.HasPrefix(l, "ADMIN "):
			notices = append(notices, strings.TrimPrefix(l, "ADMIN "))
		case l == "DONE":
			done = true
		}
	}
	return sent, notices, done
}

// TestOutboxKilledAtEachStep stops the bot at each step of the sending
// protocol and checks that no message is ever sent twice, and that the only
// message that can go missing, one caught between "sending" and "done", is
// named to the admins.
func TestOutboxKilledAtEachStep(t *testing.T) {
	want, _, done := outcome(runOutboxChild(t, t.TempDir(), "", 0))
	if !done || len(want) < 20 {
		t.Fatalf("reference run: %d messages, done %v", len(want), done)
	}
	for _, tt := range []struct {
		step string
		// then, if set, kills the restart too, at this step of closing the uncertain item.
		then     string
		missing  int // messages never sent
		notified int // notices to the admins
	}{
		{"queued", "", 0, 0},    // intent recorded, nothing sent yet: sent after the restart
		{"sending", "", 1, 1},   // marked sending, not delivered: not sent again, the admins told
		{"delivered", "", 0, 1}, // delivered, not yet recorded: not sent again, the admins told
		{"done", "", 0, 0},      // recorded: nothing to do
		// The restart dies as it closes the uncertain item: before that transaction the
		// item is still there (closed by the next start), after it the notice is queued.
		{"sending", "closing", 1, 1},
		{"sending", "closed", 1, 1},
	} {
		t.Run(tt.step+"/"+tt.then, func(t *testing.T) {
			dir := t.TempDir()
			lines := runOutboxChild(t, dir, tt.step+":5", 0)
			if _, _, done := outcome(lines); done {
				t.Fatal("the child was not killed")
			}
			if tt.then != "" {
				more := runOutboxChild(t, dir, tt.then+":1", 0)
				if _, _, done := outcome(more); done {
					t.Fatal("the restart was not killed")
				}
				lines = append(lines, more...)
			}
			lines = append(lines, runOutboxChild(t, dir, "", 0)...)
			got, notices, done := outcome(lines)
			if !done {
				t.Fatal("the second run did not finish")
			}
			var missing []string
			for line := range want {
				switch got[line] {
				case 1:
				case 0:
					missing = append(missing, line)
				default:
					t.Errorf("sent %d times: %s", got[line], line)
				}
			}
			if len(missing) != tt.missing || len(notices) != tt.notified {
				t.Fatalf("missing %q, notices %q", missing, notices)
			}
			for _, m := range missing {
				if !strings.Contains(notices[0], m) {
					t.Errorf("the notice %q does not name the missing %q", notices[0], m)
				}
			}
		})
	}
}

// TestOutboxRandomKills kills the bot at random moments through June.
func TestOutboxRandomKills(t *testing.T) {
	kills := 30
	if testing.Short() {
		kills = 5
	}
	want, _, _ := outcome(runOutboxChild(t, t.TempDir(), "", 0))
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	var lines []string
	for k := 0; k < kills; k++ {
		lines = append(lines, runOutboxChild(t, dir, "", time.Duration(5+r.IntN(60))*time.Millisecond)...)
	}
	lines = append(lines, runOutboxChild(t, dir, "", 0)...)
	got, notices, done := outcome(lines)
	if !done {
		t.Fatal("the last run did not finish")
	}
	all := strings.Join(notices, "\n")
	missing := 0
	for line := range want {
		switch {
		case got[line] > 1:
			t.Errorf("sent %d times: %s", got[line], line)
		case got[line] == 0:
			missing++
			if !strings.Contains(all, line) {
				t.Errorf("lost without telling the admins: %s", line)
			}
		}
	}
	t.Logf("%d kills: %d messages, %d missing and named to the admins, %d notices", kills, len(want), missing, len(notices))
}
