package store

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
)

// lastTx is the id of the last committed write transaction: each commit adds one.
func lastTx(t *testing.T, db *DB) int {
	t.Helper()
	var id int
	if err := db.db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

func texts(items []bot.OutboxItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Msg.Text)
	}
	return out
}

// Done with follow-ups closes the item and queues them, in order and after
// everything already queued, in a single commit: a crash cannot close the item
// and lose what was to follow it.
func TestDoneQueuesFollowUpsInOneTransaction(t *testing.T) {
	db := open(t, "")
	queued := time.Date(2026, 6, 4, 9, 0, 0, 0, time.UTC)
	at := queued.Add(time.Hour)
	const key = "weekly/1/nudge@-2h"
	if _, err := db.Enqueue([]string{key}, []bot.Outgoing{{Text: "催报一"}, {Text: "催报二"}}, queued); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Enqueue(nil, []bot.Outgoing{{Text: "回复"}}, queued); err != nil {
		t.Fatal(err)
	}
	items, err := db.Outbox()
	if err != nil {
		t.Fatal(err)
	}
	closed := items[0]
	then := []bot.Outgoing{{ToAdmins: true, Text: "通知一"}, {ToAdmins: true, Text: "通知二"}}

	before := lastTx(t, db)
	if err := db.Done(closed.Seq, at, "uncertain", then); err != nil {
		t.Fatal(err)
	}
	if n := lastTx(t, db) - before; n != 1 {
		t.Errorf("Done committed %d write transactions, want 1", n)
	}

	items, err = db.Outbox()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := texts(items), []string{"催报二", "回复", "通知一", "通知二"}; !slices.Equal(got, want) {
		t.Fatalf("outbox %q, want %q", got, want)
	}
	for _, it := range items {
		if it.Seq == closed.Seq {
			t.Errorf("the closed item %d is still queued", closed.Seq)
		}
	}
	for i, it := range items[2:] {
		if len(it.Keys) != 0 || !it.Queued.Equal(at) || it.State != bot.Queued || !reflect.DeepEqual(it.Msg, then[i]) {
			t.Errorf("follow-up %d = %+v, want %+v with no key, queued at %v", i, it, then[i], at)
		}
	}
	// Another part of the event is still queued: the sent-log waits for it.
	if note, _ := db.SentNote(key); note != "queued" {
		t.Errorf("sent-log note %q, want queued", note)
	}

	// A second Done of the same item changes nothing and repeats no follow-up.
	if err := db.Done(closed.Seq, at, "uncertain", then); err != nil {
		t.Fatal(err)
	}
	if again, _ := db.Outbox(); len(again) != len(items) {
		t.Errorf("a repeated Done left %q queued", texts(again))
	}

	// The event's last part closes it, and the follow-ups are ordinary items.
	if err := db.Done(items[0].Seq, at, "sent", nil); err != nil {
		t.Fatal(err)
	}
	if note, _ := db.SentNote(key); note != "sent" {
		t.Errorf("sent-log note %q, want sent", note)
	}
	for _, it := range items[1:] {
		if err := db.Done(it.Seq, at, "sent", nil); err != nil {
			t.Fatal(err)
		}
	}
	if rest, _ := db.Outbox(); len(rest) != 0 {
		t.Errorf("outbox %q after closing everything", texts(rest))
	}
}

// offlineChat is a transport without a connection: nothing leaves.
type offlineChat struct{}

func (offlineChat) Deliver(context.Context, bot.Outgoing, func() error) error { return bot.ErrOffline }

// A receipt sent through the outbox is queued, all its parts, and its level
// recorded in one commit: a restart after it finds the receipt owed by the
// outbox and recorded, so it neither loses it nor owes it twice. The
// transport being offline changes nothing of that.
func TestReceiptQueuedWithItsLevel(t *testing.T) {
	db := open(t, "")
	at := time.Date(2026, 6, 4, 9, 0, 0, 0, time.UTC)
	o := &bot.Outbox{Store: db, Transport: offlineChat{}, Now: func() time.Time { return at }, Sync: true, Logger: zerolog.Nop()}
	before := lastTx(t, db)
	mark := bot.ReceiptMark{Task: "june/typical", Period: 2, Unit: "东风社区", Level: bot.ReceiptComplete}
	ok, err := o.SendReceipt(context.Background(), []bot.Outgoing{{Purpose: bot.Receipt, Text: "已收到 一"}, {Purpose: bot.Receipt, Text: "二"}}, mark)
	if !ok || !errors.Is(err, bot.ErrOffline) {
		t.Fatalf("SendReceipt = %v, %v; want true and the transport's offline error", ok, err)
	}
	if n := lastTx(t, db) - before; n != 1 {
		t.Errorf("%d commits, want 1", n)
	}
	if level, err := db.Receipt(mark.Task, mark.Period, mark.Unit); err != nil || level != bot.ReceiptComplete {
		t.Errorf("receipt level %d, %v; want %d", level, err, bot.ReceiptComplete)
	}
	items, err := db.Outbox()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := texts(items), []string{"已收到 一", "二"}; !slices.Equal(got, want) {
		t.Errorf("queued %q, want %q", got, want)
	}
}

// A stored submission's message id is its mark as seen: a replay is seen,
// is not first seen, and is not kept again as pending material.
func TestSubmissionIdIsSeen(t *testing.T) {
	db := open(t, "")
	at := time.Date(2026, 6, 4, 9, 0, 0, 0, time.UTC)
	sub := &bot.Submission{MsgID: "m1", Unit: "东风社区", Task: "june/typical", Period: 1, Member: "东风社区-张", At: at, Kind: "text", Text: "开展了演练"}
	if _, err := db.AddSubmission(sub, nil); err != nil {
		t.Fatal(err)
	}
	if seen, err := db.Seen("m1"); err != nil || !seen {
		t.Errorf("Seen = %v, %v; want true", seen, err)
	}
	if first, err := db.FirstSeen("m1", at); err != nil || first {
		t.Errorf("FirstSeen = %v, %v; want false", first, err)
	}
	again := *sub
	if dup, err := db.AddPending("东风社区-张", &again, nil); err != nil || !dup {
		t.Errorf("AddPending = %v, %v; want a duplicate", dup, err)
	}
	if seen, err := db.Seen("m2"); err != nil || seen {
		t.Errorf("Seen(m2) = %v, %v; want false", seen, err)
	}
}
