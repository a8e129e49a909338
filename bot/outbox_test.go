package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/store"
)

// fakeTransport is a platform that can be offline, pace its sends, refuse a
// message, or take a message and then never answer (the client times out).
type fakeTransport struct {
	mu      sync.Mutex
	online  bool
	pace    time.Duration
	refuse  map[string]bool // texts the platform refuses
	timeout map[string]bool // texts the server takes but answers too late
	got     []bot.Outgoing  // what arrived at the platform
	calls   int
}

func (f *fakeTransport) setOnline(v bool) { f.mu.Lock(); f.online = v; f.mu.Unlock() }

func (f *fakeTransport) Deliver(ctx context.Context, m bot.Outgoing, begin func() error) error {
	f.mu.Lock()
	f.calls++
	online, pace := f.online, f.pace
	f.mu.Unlock()
	if !online {
		return bot.Retryable(bot.ErrOffline, 0)
	}
	if pace > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pace):
		}
	}
	if err := begin(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse[m.Text] {
		return bot.Refused(errors.New("content refused"))
	}
	f.got = append(f.got, m)
	if f.timeout[m.Text] {
		return errors.New("read response: i/o timeout") // unclassified after begin: may have arrived
	}
	return nil
}

func (f *fakeTransport) texts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.got {
		out = append(out, m.Text)
	}
	return out
}

func openStore(t *testing.T, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// restartOutbox is a start over the store in dir: recovery, then the loop,
// both ended (and the store closed) with the test.
func restartOutbox(t *testing.T, dir string, tr bot.Deliverer) *bot.Outbox {
	t.Helper()
	db := openStore(t, dir)
	out := newOutbox(db, tr, time.Now, zerolog.Nop())
	ctx, stop := context.WithCancel(context.Background())
	if err := out.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { out.Run(ctx); close(done) }()
	t.Cleanup(func() { stop(); <-done; db.Close() })
	return out
}

func newOutbox(db *store.DB, tr bot.Deliverer, now func() time.Time, log zerolog.Logger) *bot.Outbox {
	return &bot.Outbox{Store: db, Transport: tr, Now: now, MaxAge: 6 * time.Hour, Logger: log}
}

// Offline, five messages queued, a stop, a start, online again: all five once, in order.
func TestOutboxOfflineStopStartOnline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		db := openStore(t, dir)
		tr := &fakeTransport{}
		out := newOutbox(db, tr, time.Now, zerolog.Nop())
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { out.Run(ctx); close(done) }()
		want := []string{"一", "二", "三", "四", "五"}
		for _, text := range want {
			if err := out.Send(ctx, bot.Outgoing{Text: text}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(3 * time.Minute) // tried again and again while offline
		stop()
		<-done
		db.Close()

		out = restartOutbox(t, dir, tr)
		time.Sleep(time.Minute)
		tr.setOnline(true)
		time.Sleep(time.Minute) // the next try, at most maxRetryWait later
		if got := strings.Join(tr.texts(), ","); got != strings.Join(want, ",") || out.Pending() != 0 {
			t.Errorf("arrived %q, %d pending; want %q once each", got, out.Pending(), want)
		}
	})
}

// An outage of ten minutes uses up no message's tries: everything owed arrives once afterwards.
func TestOutboxTenMinuteOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := openStore(t, t.TempDir())
		defer db.Close()
		tr := &fakeTransport{online: true}
		var logs bytes.Buffer
		out := newOutbox(db, tr, time.Now, zerolog.New(&logs))
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		go out.Run(ctx)
		out.Send(ctx, bot.Outgoing{Text: "之前"})
		time.Sleep(time.Second)
		tr.setOnline(false)
		for i := range 6 {
			out.Send(ctx, bot.Outgoing{Purpose: bot.Receipt, Text: fmt.Sprint("回执", i)})
			time.Sleep(100 * time.Second)
		}
		tr.setOnline(true)
		time.Sleep(time.Minute)
		got := strings.Join(tr.texts(), ",")
		if got != "之前,回执0,回执1,回执2,回执3,回执4,回执5" || out.Pending() != 0 {
			t.Errorf("arrived %q, %d pending", got, out.Pending())
		}
		if strings.Contains(logs.String(), "dropped") {
			t.Errorf("a message was dropped during the outage:\n%s", logs.String())
		}
		if tr.calls < 10 {
			t.Errorf("only %d tries in ten minutes: the outbox should keep trying", tr.calls)
		}
	})
}

// A stop while a message waits for its pacing slot returns it to the queue: the next start sends it.
func TestOutboxStopWhilePacingLosesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		db := openStore(t, dir)
		tr := &fakeTransport{online: true, pace: 2 * time.Second}
		out := newOutbox(db, tr, time.Now, zerolog.Nop())
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { out.Run(ctx); close(done) }()
		for i := range 6 {
			out.Send(ctx, bot.Outgoing{Text: fmt.Sprint("回复", i)})
		}
		time.Sleep(5 * time.Second) // two sent, the third waiting for its slot
		stop()
		<-done
		items, err := db.Outbox()
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.State != bot.Queued {
				t.Errorf("item %q left %s by an ordinary stop", it.Msg.Text, it.State)
			}
		}
		db.Close()

		out = restartOutbox(t, dir, tr)
		time.Sleep(time.Minute)
		if got := strings.Join(tr.texts(), ","); got != "回复0,回复1,回复2,回复3,回复4,回复5" || out.Pending() != 0 {
			t.Errorf("arrived %q, %d pending", got, out.Pending())
		}
	})
}

// A send that timed out after the server took it is not sent again; the admins are told at once.
func TestOutboxUncertainSendNotRepeated(t *testing.T) {
	db := openStore(t, t.TempDir())
	defer db.Close()
	tr := &fakeTransport{online: true, timeout: map[string]bool{"【点名】第1期": true}}
	out := newOutbox(db, tr, time.Now, zerolog.Nop())
	ctx := context.Background()
	out.SendOnce(ctx, []string{"weekly/1/rollcall"}, []bot.Outgoing{{Purpose: bot.Rollcall, Text: "【点名】第1期"}})
	out.Send(ctx, bot.Outgoing{Text: "之后"})
	for range 3 {
		if err := out.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := tr.texts()
	if len(got) != 3 || got[0] != "【点名】第1期" || got[1] != "之后" || !strings.Contains(got[2], "不确定发出去没有") {
		t.Errorf("arrived %q; want the roll-call once, the next message, then the admins' notice", got)
	}
	if note, _ := db.SentNote("weekly/1/rollcall"); !strings.HasPrefix(note, "uncertain") {
		t.Errorf("sent-log note %q", note)
	}
}

// A refused message is tried MaxRefusals times, then given up with a word to the admins.
func TestOutboxRefusedThenDropped(t *testing.T) {
	db := openStore(t, t.TempDir())
	defer db.Close()
	tr := &fakeTransport{online: true, refuse: map[string]bool{"违规内容": true}}
	out := newOutbox(db, tr, time.Now, zerolog.Nop())
	ctx := context.Background()
	out.Send(ctx, bot.Outgoing{Text: "违规内容"})
	out.Send(ctx, bot.Outgoing{Text: "之后"})
	for i := range bot.MaxRefusals {
		err := out.Flush(ctx)
		if i < bot.MaxRefusals-1 && err == nil {
			t.Fatalf("refusal %d: flush reported nothing", i+1)
		}
	}
	if err := out.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := tr.texts()
	if len(got) != 2 || got[0] != "之后" || !strings.Contains(got[1], "一再拒收") || out.Pending() != 0 {
		t.Errorf("arrived %q, %d pending", got, out.Pending())
	}
}

// Messages older than outbox_max_age are dropped with a log line; a dropped
// roll-call or receipt is named to the admins, in the same transaction.
func TestOutboxDropsStaleWithALogLine(t *testing.T) {
	h := newHarness(t)
	tr := &fakeTransport{}
	now := h.now
	var logs bytes.Buffer
	out := newOutbox(h.db, tr, func() time.Time { return now }, zerolog.New(&logs))
	ctx := context.Background()
	out.SendOnce(ctx, []string{"weekly/1/nudge@-2h"}, []bot.Outgoing{{Purpose: bot.Nudge, Text: "【催报】过时的催报"}})
	out.Send(ctx, bot.Outgoing{Purpose: bot.Receipt, Text: "已收到 东风社区"})
	now = now.Add(7 * time.Hour) // offline all that time
	tr.setOnline(true)
	out.Send(ctx, bot.Outgoing{Text: "新的回复"})
	if err := out.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := tr.texts()
	if len(got) != 2 || got[0] != "新的回复" || !strings.Contains(got[1], "积压太久") || !strings.Contains(got[1], "已收到 东风社区") {
		t.Errorf("arrived %q; want the fresh message and one notice about the receipt", got)
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

// Messages owed by an older reportbot named members by display name only; they still decode.
func TestOutgoingReadsOlderMembers(t *testing.T) {
	var m bot.Outgoing
	if err := jsonUnmarshal(`{"To":"东风社区-张三","Text":"x","Mentions":["南山村-王五"]}`, &m); err != nil {
		t.Fatal(err)
	}
	if m.To.Name != "东风社区-张三" || len(m.Mentions) != 1 || m.Mentions[0].Name != "南山村-王五" {
		t.Errorf("decoded %+v", m)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// A message caught mid-send is closed and the admins' notice about it queued
// by the same store call; a notice to the admins caught so is not reported.
func TestOutboxRecoverNamesTheUncertainMessage(t *testing.T) {
	h := newHarness(t)
	now := h.now
	const key = "weekly/1/nudge@-2h"
	if _, err := h.db.Enqueue([]string{key}, []bot.Outgoing{{Text: "【催报】东风社区"}}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.Enqueue(nil, []bot.Outgoing{{ToAdmins: true, Text: "给管理员"}}, now); err != nil {
		t.Fatal(err)
	}
	items, err := h.db.Outbox()
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := h.db.SetSending(it.Seq); err != nil { // the bot stopped here
			t.Fatal(err)
		}
	}
	out := &bot.Outbox{Store: h.db, Transport: &fakeTransport{}, Now: func() time.Time { return now }, Logger: zerolog.Nop()}
	if err := out.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	left, err := h.db.Outbox()
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || !left[0].Msg.ToAdmins || !strings.Contains(left[0].Msg.Text, "【催报】东风社区") || left[0].State != bot.Queued {
		t.Fatalf("outbox after Recover: %+v, want only the admins' notice naming the nudge", left)
	}
	if note, _ := h.db.SentNote(key); !strings.Contains(note, "uncertain") {
		t.Errorf("sent-log note %q", note)
	}
}

// flakyDone fails the first Done with a "then" (closing an uncertain item).
type flakyDone struct {
	*store.DB
	failed bool
}

func (f *flakyDone) Done(seq uint64, at time.Time, note string, then []bot.Outgoing) error {
	if !f.failed && note != "sent" {
		f.failed = true
		return errors.New("disk full")
	}
	return f.DB.Done(seq, at, note, then)
}

// An uncertain send whose closing transaction fails once (a full disk) is not
// sent again by the next flush: it is closed as uncertain, the admins told.
func TestOutboxFailedCloseNeverResends(t *testing.T) {
	db := openStore(t, t.TempDir())
	defer db.Close()
	tr := &fakeTransport{online: true, timeout: map[string]bool{"【点名】第1期": true}}
	out := &bot.Outbox{Store: &flakyDone{DB: db}, Transport: tr, Now: time.Now, MaxAge: 6 * time.Hour, Logger: zerolog.Nop()}
	ctx := context.Background()
	out.SendOnce(ctx, []string{"weekly/1/rollcall"}, []bot.Outgoing{{Purpose: bot.Rollcall, Text: "【点名】第1期"}})
	for range 3 {
		out.Flush(ctx) // the first fails to close the item
	}
	n := 0
	for _, s := range tr.texts() {
		if s == "【点名】第1期" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the uncertain roll-call arrived %d times: %q", n, tr.texts())
	}
}

// heldTransport has no way to the group yet: group messages are held, the
// others go.
type heldTransport struct{ fakeTransport }

func (h *heldTransport) Deliver(ctx context.Context, m bot.Outgoing, begin func() error) error {
	if m.To.IsZero() && !m.ToAdmins {
		return bot.Held(errors.New("the group is not known yet"), time.Minute)
	}
	return h.fakeTransport.Deliver(ctx, m, begin)
}

// A message held for want of its route does not hold up those behind it that
// go another way; it goes, in its order among its kind, once the route is there.
func TestOutboxHeldMessageLetsOthersPass(t *testing.T) {
	db := openStore(t, t.TempDir())
	defer db.Close()
	tr := &heldTransport{fakeTransport{online: true}}
	out := newOutbox(db, tr, time.Now, zerolog.Nop())
	ctx := context.Background()
	out.Send(ctx, bot.Outgoing{Purpose: bot.Reminder, Text: "【提醒】一"})
	out.Send(ctx, bot.Outgoing{To: bot.Member{ID: "u1", Name: "张三"}, Text: "私聊回复"})
	out.Send(ctx, bot.Outgoing{Purpose: bot.Reminder, Text: "【提醒】二"})
	out.Send(ctx, bot.Outgoing{ToAdmins: true, Text: "给管理员"})
	if err := out.Flush(ctx); err == nil {
		t.Error("flush with held messages reported nothing to retry")
	}
	if got := strings.Join(tr.texts(), ","); got != "私聊回复,给管理员" || out.Pending() != 2 {
		t.Errorf("arrived %q, %d pending; want the private answer and the notice, the reminders held", got, out.Pending())
	}
	items, _ := db.Outbox()
	for _, it := range items {
		if it.State != bot.Queued {
			t.Errorf("held item %q is %s", it.Msg.Text, it.State)
		}
	}
	// The route is there: the reminders go, in their order.
	plain := newOutbox(db, &tr.fakeTransport, time.Now, zerolog.Nop())
	if err := plain.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tr.texts(), ","); got != "私聊回复,给管理员,【提醒】一,【提醒】二" {
		t.Errorf("arrived %q", got)
	}
}

// fullStore is a store on a full disk when full is set: nothing can be queued.
type fullStore struct {
	*store.DB
	full bool
}

func (f *fullStore) Enqueue(keys []string, msgs []bot.Outgoing, at time.Time) (bool, error) {
	if f.full {
		return false, errors.New("write reportbot.db: no space left on device")
	}
	return f.DB.Enqueue(keys, msgs, at)
}

// TestOutboxKeepsWhatTheStoreCannotQueue: on a full disk a reply (the
// member's "暂存失败", the admins' alert) is kept in memory and delivered
// after what the store holds, once, also when the platform is offline at
// first; a scheduled event is not kept so (its sent-log record is what keeps
// it from going out twice), and says why.
func TestOutboxKeepsWhatTheStoreCannotQueue(t *testing.T) {
	db := openStore(t, t.TempDir())
	defer db.Close()
	fs := &fullStore{DB: db}
	tr := &fakeTransport{}
	out := &bot.Outbox{Store: fs, Transport: tr, Now: time.Now, MaxAge: 6 * time.Hour, Logger: zerolog.Nop()}
	ctx := context.Background()
	if err := out.Send(ctx, bot.Outgoing{Text: "已收到 东风社区"}); err != nil { // stored: the disk is not full yet
		t.Fatal(err)
	}
	fs.full = true
	for _, text := range []string{"@张三 暂存失败，请稍后重发。", "【reportbot】数据库写不进去"} {
		if err := out.Send(ctx, bot.Outgoing{Text: text}); err != nil {
			t.Fatalf("Send(%q) on a full disk: %v, want it kept", text, err)
		}
	}
	if _, err := out.SendOnce(ctx, []string{"weekly/1/nudge"}, []bot.Outgoing{{Text: "【催报】"}}); err == nil {
		t.Error("a scheduled event the store cannot record was taken")
	}
	if err := out.Flush(ctx); err == nil {
		t.Error("offline: the flush reports nothing to try again")
	}
	if n := out.Pending(); n != 3 {
		t.Errorf("%d messages pending, want 3 (one stored, two in memory)", n)
	}
	tr.setOnline(true)
	for range 2 {
		if err := out.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"已收到 东风社区", "@张三 暂存失败，请稍后重发。", "【reportbot】数据库写不进去"}
	if got := tr.texts(); !slices.Equal(got, want) {
		t.Errorf("delivered %q, want %q: the stored one first, each once", got, want)
	}
	if n := out.Pending(); n != 0 {
		t.Errorf("%d messages still pending", n)
	}
}
