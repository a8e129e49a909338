package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/schedules"
	"reportbot/store"
)

var crashKills = flag.Int("crash-kills", 0, "how many times TestCrashSafety kills the child (default 50, 10 with -short)")

func TestMain(m *testing.M) {
	if args := os.Getenv("REPORTBOT_MAIN_ARGS"); args != "" {
		// The command line itself, in a process of its own (damaged_test.go).
		os.Exit(run(strings.Split(args, "\n"), os.Stdin, os.Stdout, os.Stderr))
	}
	if dir := os.Getenv("REPORTBOT_OUTBOX_CHILD"); dir != "" {
		if err := outboxChild(dir, os.Getenv("REPORTBOT_KILL_AT")); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	if dir := os.Getenv("REPORTBOT_CRASH_CHILD"); dir != "" {
		start, _ := strconv.Atoi(os.Getenv("REPORTBOT_CRASH_START"))
		senders, _ := strconv.Atoi(os.Getenv("REPORTBOT_CRASH_SENDERS"))
		if err := crashChild(dir, start, max(senders, 1)); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type discardChat struct{}

func (discardChat) Deliver(_ context.Context, _ bot.Outgoing, begin func() error) error {
	return begin()
}

// crashChild ingests messages until it is killed, printing "ACK <id>" for each
// only after the bot has handled it, that is after the store committed it.
// With several senders, each posts its own messages at the same time, so the
// store commits them together (group commit).
func crashChild(dir string, start, senders int) error {
	f, err := loadFiles("", "")
	if err != nil {
		return err
	}
	at := time.Date(2026, 6, 4, 9, 0, 0, 0, f.schedule.Location)
	app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: dir,
		Transport: discardChat{}, Now: func() time.Time { return at }, Logger: zerolog.Nop()})
	if err != nil {
		return err
	}
	members := []string{"东风社区-张三", "西湖社区-李四", "南山村-王五", "北岭村-赵六", "刘洋", "陈静"}
	var out sync.Mutex
	errs := make(chan error, senders)
	for s := range senders {
		go func() {
			for i := start + s; ; i += senders {
				m := bot.Message{ID: fmt.Sprint("crash-", i), Sender: bot.Member{Name: members[i%len(members)]}, Size: -1}
				if i%2 == 0 {
					m.Kind, m.Text = schedules.Text, fmt.Sprintf("本周典型做法：第%d条，开展了安全检查和宣传活动。", i)
				} else {
					data := crashPNG(i)
					m.Kind, m.FileName, m.Size = schedules.Image, "p.png", int64(len(data))
					m.Open = func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
				}
				if err := app.Deliver(context.Background(), m); err != nil {
					errs <- err
					return
				}
				out.Lock()
				_, err := fmt.Fprintf(os.Stdout, "ACK %s\n", m.ID)
				out.Unlock()
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	return <-errs
}

func crashPNG(i int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	img.Set(i%16, (i/16)%16, color.RGBA{uint8(i), uint8(i >> 8), uint8(i >> 16), 255})
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// startChild runs this test binary again as a child with env added (TestMain
// sends it to the child's code) and streams its stdout lines; the channel
// closes when the child's output ends.
func startChild(t *testing.T, env ...string) (*exec.Cmd, <-chan string, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return cmd, lines, stderr
}

// TestCrashSafety kills the child with SIGKILL at random moments: every
// message it acknowledged is in the store exactly once, and the store opens
// and checks clean every time.
func TestCrashSafety(t *testing.T) { crashSafety(t, 1) }

// TestCrashSafetyGroupCommit is TestCrashSafety with 8 members posting at
// once: their submissions share commits, and each is acknowledged only
// after the commit that holds it, never on the strength of another's.
func TestCrashSafetyGroupCommit(t *testing.T) { crashSafety(t, 8) }

func crashSafety(t *testing.T, senders int) {
	kills := 50
	if testing.Short() {
		kills = 10
	}
	if *crashKills > 0 {
		kills = *crashKills
	}
	dir := t.TempDir()
	acked := map[string]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	for k := 0; k < kills; k++ {
		cmd, lines, stderr := startChild(t, "REPORTBOT_CRASH_CHILD="+dir, fmt.Sprintf("REPORTBOT_CRASH_START=%d", k*100000),
			fmt.Sprintf("REPORTBOT_CRASH_SENDERS=%d", senders))
		// Kill at a random moment after the child has started acknowledging.
		first, ok := <-lines
		if !ok {
			cmd.Wait()
			t.Fatalf("kill %d: the child acknowledged nothing: %s", k, stderr.String())
		}
		acked[strings.TrimPrefix(first, "ACK ")] = true
		deadline := time.After(time.Duration(r.IntN(60)) * time.Millisecond)
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break read
				}
				acked[strings.TrimPrefix(l, "ACK ")] = true
			case <-deadline:
				cmd.Process.Kill() // SIGKILL: no deferred code, no flush
				deadline = nil
			}
		}
		cmd.Wait()

		db, err := store.Open(dir, store.Options{})
		if err != nil {
			t.Fatalf("after kill %d the store does not open: %v", k, err)
		}
		if err := db.Check(); err != nil {
			t.Fatalf("after kill %d: %v", k, err)
		}
		seen := map[string]int{}
		for p := 1; p <= 4; p++ {
			subs, err := db.PeriodSubmissions("weekly", p)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range subs {
				seen[s.MsgID]++
			}
		}
		db.Close()
		for id := range acked {
			if seen[id] != 1 {
				t.Fatalf("after kill %d: acknowledged message %s stored %d times", k, id, seen[id])
			}
		}
	}
	t.Logf("%d kills, %d acknowledged messages verified", kills, len(acked))
}
