package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/schedules"
	"reportbot/store"
)

// recordChat keeps what the bot sends.
type recordChat struct {
	mu   sync.Mutex
	msgs []bot.Outgoing
}

func (c *recordChat) Send(_ context.Context, m bot.Outgoing) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
	return nil
}

func (c *recordChat) SendFile(_ context.Context, to bot.Member, path string) error {
	return c.Send(context.Background(), bot.Outgoing{To: to, Text: "[文件] " + filepath.Base(path)})
}

// harness is the bot over the example config and schedule, a real store and a fake clock.
type harness struct {
	t     testing.TB
	bot   *bot.Bot
	db    *store.DB
	chat  *recordChat
	now   time.Time
	sched *schedules.Schedule
	n     int
	last  map[string]string
	// rule records the report rule's reasons (its debug log lines), for the
	// corpus test to show why a line was decided wrong.
	rule ruleLog
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	s, err := schedules.Load(filepath.Join("..", "schedule.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return newHarnessOver(t, s)
}

// newHarnessOver is the harness over several campaigns; sched is the first given.
func newHarnessOver(t testing.TB, list ...*schedules.Schedule) *harness {
	t.Helper()
	cfg, err := bot.LoadConfig(filepath.Join("..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Bot.MaxMediaMB = 1
	return newHarnessWith(t, cfg, list...)
}

// newHarnessWith is the harness over another config.
func newHarnessWith(t testing.TB, cfg *bot.Config, list ...*schedules.Schedule) *harness {
	t.Helper()
	set, err := schedules.NewSet(list...)
	if err != nil {
		t.Fatal(err)
	}
	s := list[0]
	db, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Check(); err != nil {
			t.Error(err)
		}
		db.Close()
	})
	h := &harness{t: t, db: db, chat: &recordChat{}, sched: s, last: map[string]string{}}
	h.bot, err = bot.New(bot.Options{Config: cfg, Campaigns: func() *schedules.Set { return set }, Store: db,
		Chat: h.chat, Now: func() time.Time { return h.now }, Logger: zerolog.New(&h.rule).Level(zerolog.DebugLevel)})
	if err != nil {
		t.Fatal(err)
	}
	h.at("2026-06-01 09:00")
	return h
}

func (h *harness) at(s string) {
	h.t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, h.sched.Location)
	if err != nil {
		h.t.Fatal(err)
	}
	h.now = v
}

func (h *harness) deliver(m bot.Message) {
	h.t.Helper()
	h.n++
	if m.ID == "" {
		m.ID = fmt.Sprint("m", h.n)
	}
	m.At = h.now
	h.last[m.Sender.Name] = m.ID
	if err := h.bot.Handle(context.Background(), m); err != nil {
		h.t.Fatal(err)
	}
}

// say posts a group text.
func (h *harness) say(from, text string) {
	h.t.Helper()
	h.deliver(bot.Message{Sender: bot.Member{Name: from}, Kind: schedules.Text, Text: text, Size: -1})
}

// private sends a private text; remark is the name the bot account gave the sender.
func (h *harness) private(from, remark, text string) {
	h.t.Helper()
	h.deliver(bot.Message{Sender: bot.Member{Name: from, Verified: remark}, Private: true, Kind: schedules.Text, Text: text, Size: -1})
}

func (h *harness) media(from string, kind schedules.Material, name string, data []byte) {
	h.t.Helper()
	h.deliver(bot.Message{Sender: bot.Member{Name: from}, Kind: kind, FileName: name, Size: int64(len(data)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }})
}

func (h *harness) image(from string, data []byte) { h.media(from, schedules.Image, "photo.jpg", data) }

// receipts sends the owed receipts, as the clock would after the receipt delay.
func (h *harness) receipts() {
	h.t.Helper()
	if err := h.bot.Flush(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// sent returns and forgets what the bot sent, one text per message.
func (h *harness) sent() []string {
	h.chat.mu.Lock()
	defer h.chat.mu.Unlock()
	var out []string
	for _, m := range h.chat.msgs {
		out = append(out, m.Text)
	}
	h.chat.msgs = nil
	return out
}

// one expects exactly one message containing all of want.
func (h *harness) one(want ...string) string {
	h.t.Helper()
	got := h.sent()
	if len(got) != 1 {
		h.t.Fatalf("sent %d messages, want 1: %q", len(got), got)
	}
	for _, w := range want {
		if !strings.Contains(got[0], w) {
			h.t.Errorf("message %q lacks %q", got[0], w)
		}
	}
	return got[0]
}

func (h *harness) none() {
	h.t.Helper()
	if got := h.sent(); len(got) != 0 {
		h.t.Fatalf("sent %q, want nothing", got)
	}
}

// subs lists a period's live submissions as "unit:kind[:late]".
func (h *harness) subs(task string, period int) []string {
	h.t.Helper()
	all, err := h.db.PeriodSubmissions(task, period)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, s := range all {
		if s.Withdrawn {
			continue
		}
		v := s.Unit + ":" + string(s.Kind)
		if s.Late {
			v += ":late"
		}
		out = append(out, v)
	}
	return out
}

// fire sends the event named by its short key, "task/period/reminder".
func (h *harness) fire(short string) string {
	h.t.Helper()
	key := h.sched.LegacyKeys()[short]
	for _, e := range h.sched.Events(h.sched.Start.Add(-time.Hour), h.sched.End.AddDate(0, 0, 8)) {
		if e.Key == key {
			h.now = e.At
			if err := h.bot.Fire(context.Background(), e); err != nil {
				h.t.Fatal(err)
			}
			return strings.Join(h.sent(), "\n")
		}
	}
	h.t.Fatalf("no event %s", short)
	return ""
}

const longText = "本周我社区组织开展消防疏散演练，居民一百二十人参加。"

// Photos: real (tiny) PNGs, since the bot refuses images it cannot read.
var (
	photo  = tinyPNG(1)
	photo2 = tinyPNG(2)
	photo3 = tinyPNG(3)
)

func tinyPNG(shade uint8) string {
	img := image.NewGray(image.Rect(0, 0, 4, 3))
	for i := range img.Pix {
		img.Pix[i] = shade
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.String()
}

// ruleLog keeps the reason of the report rule's latest decision.
type ruleLog struct {
	mu  sync.Mutex
	why string
}

func (l *ruleLog) Write(p []byte) (int, error) {
	var line struct{ Message, Why string }
	if json.Unmarshal(p, &line) == nil && line.Message == "report rule" {
		l.mu.Lock()
		l.why = line.Why
		l.mu.Unlock()
	}
	return len(p), nil
}

// last is the reason of the latest decision, and forgets it.
func (l *ruleLog) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	why := l.why
	l.why = ""
	return why
}
