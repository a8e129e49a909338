package store

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
	"reportbot/schedules"
)

const june = "2026-06-anquan/"

// filer adds submissions at a fixed time, each sent by "<unit>-人".
type filer struct {
	t  *testing.T
	db *DB
	at time.Time
}

func (f filer) add(id, unit, task string, period int, kind schedules.Material) {
	f.t.Helper()
	s := &bot.Submission{MsgID: id, Unit: unit, Task: task, Period: period, Member: unit + "-人", At: f.at, Kind: kind}
	if _, err := f.db.AddSubmission(s, nil); err != nil {
		f.t.Fatal(err)
	}
}

// subs lists a period's submissions as "msgid:task".
func subs(t *testing.T, db *DB, task string, period int) []string {
	t.Helper()
	all, err := db.PeriodSubmissions(task, period)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range all {
		out = append(out, s.MsgID+":"+s.Task)
	}
	return out
}

func note(t *testing.T, db *DB, key string) string {
	t.Helper()
	n, err := db.SentNote(key)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func bare(t *testing.T, db *DB) []string {
	t.Helper()
	got, err := db.BareTasks()
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestAdopt files the bare data of one task (weekly) under June's campaign;
// another task's (plan) and one whose id merely starts the same (weekly2)
// stay where they are.
func TestAdopt(t *testing.T) {
	db := open(t, "")
	at := time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC)
	f := filer{t, db, at}
	f.add("1", "东风社区", "weekly", 1, schedules.Text)
	f.add("2", "东风社区", "weekly", 1, schedules.Image)
	f.add("3", "西湖社区", "weekly", 2, schedules.Text)
	f.add("4", "东风社区", "plan", 1, schedules.Text)
	f.add("5", "南山村", "weekly2", 1, schedules.Text)
	f.add("6", "南山村", june+"weekly", 1, schedules.Text) // filed under the campaign already
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.SetMark("weekly", 1, "北岭村", bot.Mark{Status: bot.Exempt, By: "王科长"}))
	must(db.SetMark("plan", 1, "北岭村", bot.Mark{Status: bot.Exempt, By: "王科长"}))
	must(db.SetReceipt("weekly", 1, "东风社区", bot.ReceiptPartial))
	must(db.SetReceipt("plan", 1, "东风社区", bot.ReceiptComplete))
	const (
		oldRemind = "weekly/1/remind@-1d 09:00"
		newRemind = june + "weekly/2026-06-04 12:00/remind@-1d 09:00"
		oldNudge  = "weekly/1/nudge@-2h"
		newNudge  = june + "weekly/2026-06-04 12:00/nudge@-2h"
		planNudge = "plan/1/nudge@0d 09:00"
		planSkip  = "plan/1/remind@-2d 09:00"
	)
	if _, err := db.MarkSent(oldRemind, at, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MarkSent(planSkip, at, "skipped: deadline passed"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		key  string
		text string
	}{{oldNudge, "催报"}, {planNudge, "方案催报"}, {"", "回复"}} {
		var keys []string
		if q.key != "" {
			keys = []string{q.key}
		}
		if _, err := db.Enqueue(keys, []bot.Outgoing{{Text: q.text}}, at); err != nil {
			t.Fatal(err)
		}
	}

	if got, want := bare(t, db), []string{"plan", "weekly", "weekly2"}; !slices.Equal(got, want) {
		t.Fatalf("BareTasks before = %q, want %q", got, want)
	}
	before := lastTx(t, db)
	moved, err := db.Adopt(Adoption{Prefix: june, Tasks: map[string]bool{"weekly": true},
		SentKeys: map[string]string{oldRemind: newRemind, oldNudge: newNudge}})
	if err != nil {
		t.Fatal(err)
	}
	if n := lastTx(t, db) - before; n != 1 {
		t.Errorf("Adopt committed %d write transactions, want 1", n)
	}
	// 3 index entries, 2 tallies, a mark, a receipt, 2 sent-log keys, an outbox item.
	if moved != 10 {
		t.Errorf("moved %d entries, want 10", moved)
	}
	if got, want := bare(t, db), []string{"plan", "weekly2"}; !slices.Equal(got, want) {
		t.Errorf("BareTasks after = %q, want %q", got, want)
	}

	periods := []struct {
		task   string
		period int
		want   []string
	}{
		{june + "weekly", 1, []string{"1:" + june + "weekly", "2:" + june + "weekly", "6:" + june + "weekly"}},
		{june + "weekly", 2, []string{"3:" + june + "weekly"}},
		{"weekly", 1, nil},
		{"weekly", 2, nil},
		{"plan", 1, []string{"4:plan"}},
		{june + "plan", 1, nil},
		{"weekly2", 1, []string{"5:weekly2"}},
	}
	for _, p := range periods {
		if got := subs(t, db, p.task, p.period); !slices.Equal(got, p.want) {
			t.Errorf("PeriodSubmissions(%s, %d) = %q, want %q", p.task, p.period, got, p.want)
		}
	}
	if us, _ := db.UnitSubmissions(june+"weekly", 1, "东风社区"); len(us) != 2 {
		t.Errorf("东风社区's weekly 1 under the campaign: %d submissions, want 2", len(us))
	}
	if last, _ := db.LastSubmission("西湖社区-人"); last == nil || last.Task != june+"weekly" {
		t.Errorf("西湖社区's last submission = %+v, want it filed under the campaign", last)
	}

	tallies := tallyMap(t, db, june+"weekly", 1)
	if len(tallies) != 2 || tallies["东风社区"].Items != 2 || tallies["东风社区"].All.Of(schedules.Image) != 1 || tallies["南山村"].Items != 1 {
		t.Errorf("tallies under the campaign = %+v", tallies)
	}
	if old := tallyMap(t, db, "weekly", 1); len(old) != 0 {
		t.Errorf("bare tallies left: %+v", old)
	}
	if plan := tallyMap(t, db, "plan", 1); plan["东风社区"].Items != 1 {
		t.Errorf("plan's tallies = %+v", plan)
	}
	if m, _ := db.Marks(june+"weekly", 1); m["北岭村"].Status != bot.Exempt || len(m) != 1 {
		t.Errorf("marks under the campaign = %+v", m)
	}
	if m, _ := db.Marks("weekly", 1); len(m) != 0 {
		t.Errorf("bare marks left: %+v", m)
	}
	if m, _ := db.Marks("plan", 1); m["北岭村"].Status != bot.Exempt {
		t.Errorf("plan's marks = %+v", m)
	}
	for _, r := range []struct {
		task string
		want int
	}{{june + "weekly", bot.ReceiptPartial}, {"weekly", bot.ReceiptNone}, {"plan", bot.ReceiptComplete}} {
		if got, _ := db.Receipt(r.task, 1, "东风社区"); got != r.want {
			t.Errorf("Receipt(%s) = %d, want %d", r.task, got, r.want)
		}
	}

	for key, want := range map[string]string{oldRemind: "", newRemind: "sent", oldNudge: "", newNudge: "queued",
		planNudge: "queued", planSkip: "skipped: deadline passed"} {
		if got := note(t, db, key); got != want {
			t.Errorf("SentNote(%s) = %q, want %q", key, got, want)
		}
	}
	items, err := db.Outbox()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.Msg.Text+"="+strings.Join(it.Keys, ","))
	}
	if want := []string{"催报=" + newNudge, "方案催报=" + planNudge, "回复="}; !slices.Equal(got, want) {
		t.Errorf("outbox %q, want %q", got, want)
	}
	if err := db.Done(items[0].Seq, at, "", nil); err != nil {
		t.Fatal(err)
	}
	if n := note(t, db, newNudge); n != "sent" {
		t.Errorf("the adopted item's key after Done: %q", n)
	}
	if n := note(t, db, oldNudge); n != "" {
		t.Errorf("Done wrote the old key: %q", n)
	}

	// A recall after the move counts out of the campaign's tally: the
	// submission names its new task.
	if _, err := db.Withdraw("1"); err != nil {
		t.Fatal(err)
	}
	if tl, _ := db.UnitTally(june+"weekly", 1, "东风社区"); tl.Items != 1 || tl.All.Of(schedules.Text) != 0 {
		t.Errorf("东风社区's tally after a recall = %+v", tl)
	}

	// Nothing is left to move a second time.
	if moved, err := db.Adopt(Adoption{Prefix: june, Tasks: map[string]bool{"weekly": true},
		SentKeys: map[string]string{oldRemind: newRemind, oldNudge: newNudge}}); err != nil || moved != 0 {
		t.Errorf("a second Adopt moved %d, %v", moved, err)
	}
}

// TestAdoptWithoutPrefix: a campaign without an id keeps its data where it
// is; only the sent-log's schema-2 keys take today's names.
func TestAdoptWithoutPrefix(t *testing.T) {
	db := open(t, "")
	at := time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC)
	filer{t, db, at}.add("1", "东风社区", "weekly", 1, schedules.Text)
	if _, err := db.MarkSent("weekly/1/rollcall@0", at, ""); err != nil {
		t.Fatal(err)
	}
	moved, err := db.Adopt(Adoption{Tasks: map[string]bool{"weekly": true},
		SentKeys: map[string]string{"weekly/1/rollcall@0": "weekly/2026-06-04 12:00/rollcall@0"}})
	if err != nil || moved != 1 {
		t.Errorf("Adopt = %d, %v; want 1 sent-log key", moved, err)
	}
	if got := subs(t, db, "weekly", 1); !slices.Equal(got, []string{"1:weekly"}) {
		t.Errorf("weekly 1 = %q", got)
	}
	if got := bare(t, db); !slices.Equal(got, []string{"weekly"}) {
		t.Errorf("BareTasks = %q", got)
	}
	if n := note(t, db, "weekly/2026-06-04 12:00/rollcall@0"); n != "sent" {
		t.Errorf("renamed key: %q", n)
	}
}

// TestAdoptOntoTheCampaignsOwn: bare data of a unit that has some under the
// campaign already (a file whose id was taken out and put back, or a report
// filed under the old set while the new one was being swapped in). The
// campaign's own mark and receipt win; the tally counts both units'
// submissions, which both now file under the campaign.
func TestAdoptOntoTheCampaignsOwn(t *testing.T) {
	db := open(t, "")
	at := time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC)
	f := filer{t, db, at}
	f.add("1", "东风社区", "weekly", 1, schedules.Text)
	f.add("2", "东风社区", june+"weekly", 1, schedules.Image)
	for task, m := range map[string]bot.Mark{"weekly": {Status: bot.Exempt, By: "甲"}, june + "weekly": {Status: bot.Reported, By: "乙"}} {
		if err := db.SetMark(task, 1, "东风社区", m); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetReceipt("weekly", 1, "东风社区", bot.ReceiptComplete); err != nil {
		t.Fatal(err)
	}
	if err := db.SetReceipt(june+"weekly", 1, "东风社区", bot.ReceiptPartial); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Adopt(Adoption{Prefix: june, Tasks: map[string]bool{"weekly": true}}); err != nil {
		t.Fatal(err)
	}
	all, _ := db.PeriodSubmissions(june+"weekly", 1)
	var want bot.Tally
	for _, s := range all {
		want.Add(s, 1)
	}
	if len(all) != 2 {
		t.Fatalf("%d submissions under the campaign, want 2", len(all))
	}
	got, _ := db.UnitTally(june+"weekly", 1, "东风社区")
	got.Last, want.Last = got.Last.UTC(), want.Last.UTC()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tally %+v, want %+v (counted from the submissions)", got, want)
	}
	if m, _ := db.Marks(june+"weekly", 1); m["东风社区"].By != "乙" {
		t.Errorf("mark %+v, want the campaign's own", m["东风社区"])
	}
	if r, _ := db.Receipt(june+"weekly", 1, "东风社区"); r != bot.ReceiptPartial {
		t.Errorf("receipt %d, want the campaign's own", r)
	}
	if got := bare(t, db); len(got) != 0 {
		t.Errorf("BareTasks = %q", got)
	}
}

func TestEnqueueKeys(t *testing.T) {
	at := time.Date(2026, 6, 25, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		sent      []string // in the sent-log before
		keys      []string
		first     bool
		queued    []string // the item's keys; nil for no item
		noItem    bool
		notes     map[string]string // after Enqueue
		afterDone map[string]string
	}{
		{"two fresh keys", nil, []string{"a", "b"}, true, []string{"a", "b"}, false,
			map[string]string{"a": "queued", "b": "queued"}, map[string]string{"a": "sent", "b": "sent"}},
		{"both sent already", []string{"a", "b"}, []string{"a", "b"}, false, nil, true,
			map[string]string{"a": "sent", "b": "sent"}, nil},
		{"one of two sent", []string{"a"}, []string{"a", "b"}, true, []string{"b"}, false,
			map[string]string{"a": "sent", "b": "queued"}, map[string]string{"a": "sent", "b": "sent"}},
		{"a key twice", nil, []string{"a", "a"}, true, []string{"a"}, false,
			map[string]string{"a": "queued"}, map[string]string{"a": "sent"}},
		{"no key", nil, nil, true, nil, false, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := open(t, "")
			for _, k := range tt.sent {
				if _, err := db.MarkSent(k, at.Add(-time.Hour), ""); err != nil {
					t.Fatal(err)
				}
			}
			first, err := db.Enqueue(tt.keys, []bot.Outgoing{{Purpose: bot.Nudge, Text: "催报"}}, at)
			if err != nil {
				t.Fatal(err)
			}
			if first != tt.first {
				t.Errorf("Enqueue = %v, want %v", first, tt.first)
			}
			items, _ := db.Outbox()
			if tt.noItem {
				if len(items) != 0 {
					t.Fatalf("queued %+v", items)
				}
			} else if len(items) != 1 || !slices.Equal(items[0].Keys, tt.queued) || items[0].Msg.Text != "催报" {
				t.Fatalf("outbox %+v, want one item with keys %q", items, tt.queued)
			}
			for k, want := range tt.notes {
				if got := note(t, db, k); got != want {
					t.Errorf("after Enqueue, %s is %q, want %q", k, got, want)
				}
			}
			for _, it := range items {
				if err := db.Done(it.Seq, at, "", nil); err != nil {
					t.Fatal(err)
				}
			}
			for k, want := range tt.afterDone {
				if got := note(t, db, k); got != want {
					t.Errorf("after Done, %s is %q, want %q", k, got, want)
				}
			}
		})
	}
}

// A combined message split in two parts: its keys are sent with the last part.
func TestDoneWaitsForEveryPartOfEveryKey(t *testing.T) {
	db := open(t, "")
	at := time.Date(2026, 6, 25, 10, 0, 0, 0, time.UTC)
	if _, err := db.Enqueue([]string{"a", "b"}, []bot.Outgoing{{Text: "一"}, {Text: "二"}}, at); err != nil {
		t.Fatal(err)
	}
	items, _ := db.Outbox()
	if len(items) != 2 || !slices.Equal(items[0].Keys, []string{"a", "b"}) || !slices.Equal(items[1].Keys, []string{"a", "b"}) {
		t.Fatalf("outbox %+v", items)
	}
	if err := db.Done(items[0].Seq, at, "", nil); err != nil {
		t.Fatal(err)
	}
	if a, b := note(t, db, "a"), note(t, db, "b"); a != "queued" || b != "queued" {
		t.Errorf("after the first part: %q, %q; want both queued", a, b)
	}
	if err := db.Done(items[1].Seq, at, "uncertain", nil); err != nil {
		t.Fatal(err)
	}
	if a, b := note(t, db, "a"), note(t, db, "b"); a != "uncertain" || b != "uncertain" {
		t.Errorf("after the last part: %q, %q; want both uncertain", a, b)
	}
}

func TestDecodeItem(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		keys    []string
		wantErr bool
	}{
		{"schema 2: one Key", `{"Seq":7,"Key":"weekly/1/nudge@-2h","Msg":{"Purpose":"nudge","To":{},"Text":"催报"},"Queued":"2026-06-04T10:00:00Z","State":"sending"}`,
			[]string{"weekly/1/nudge@-2h"}, false},
		{"schema 3: Keys", `{"Seq":7,"Keys":["a","b"],"Msg":{"Text":"催报"},"State":"sending"}`, []string{"a", "b"}, false},
		{"both: Keys win", `{"Seq":7,"Key":"old","Keys":["a"],"Msg":{"Text":"催报"},"State":"sending"}`, []string{"a"}, false},
		{"an answer", `{"Seq":7,"Msg":{"Text":"催报"},"State":"sending"}`, nil, false},
		{"not JSON", `{"Seq":`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, err := decodeItem([]byte(tt.json))
			if tt.wantErr {
				if err == nil {
					t.Errorf("decoded %+v", it)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if it.Seq != 7 || it.Msg.Text != "催报" || it.State != bot.Sending || !slices.Equal(it.Keys, tt.keys) {
				t.Errorf("decoded %+v, want seq 7, keys %q", it, tt.keys)
			}
		})
	}
}

// TestSchema2OutboxItem: an item a schema-2 reportbot left in the outbox is
// read, renamed by Adopt, and closed under its new key.
func TestSchema2OutboxItem(t *testing.T) {
	db := open(t, "")
	const old, renamed = "weekly/1/nudge@-2h", june + "weekly/2026-06-04 12:00/nudge@-2h"
	raw := `{"Seq":7,"Key":"` + old + `","Msg":{"Purpose":"nudge","To":{},"Text":"催报"},"Queued":"2026-06-04T10:00:00Z","State":"queued"}`
	err := db.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketSent).Put([]byte(old), []byte(`{"at":"2026-06-04T10:00:00Z","note":"queued"}`)); err != nil {
			return err
		}
		b := tx.Bucket(bucketOutbox)
		if err := b.SetSequence(7); err != nil {
			return err
		}
		return b.Put(u64(7), []byte(raw))
	})
	if err != nil {
		t.Fatal(err)
	}
	items, err := db.Outbox()
	if err != nil || len(items) != 1 || !slices.Equal(items[0].Keys, []string{old}) || items[0].Msg.Purpose != bot.Nudge {
		t.Fatalf("Outbox = %+v, %v", items, err)
	}
	if moved, err := db.Adopt(Adoption{Prefix: june, Tasks: map[string]bool{"weekly": true}, SentKeys: map[string]string{old: renamed}}); err != nil || moved != 2 {
		t.Fatalf("Adopt = %d, %v; want the sent-log key and the item", moved, err)
	}
	var stored map[string]any
	db.db.View(func(tx *bolt.Tx) error { return json.Unmarshal(tx.Bucket(bucketOutbox).Get(u64(7)), &stored) })
	if _, ok := stored["Key"]; ok || !reflect.DeepEqual(stored["Keys"], []any{renamed}) {
		t.Errorf("stored item after Adopt: %v", stored)
	}
	if err := db.Done(7, time.Date(2026, 6, 4, 10, 1, 0, 0, time.UTC), "", nil); err != nil {
		t.Fatal(err)
	}
	if n := note(t, db, renamed); n != "sent" {
		t.Errorf("SentNote(%s) = %q, want sent", renamed, n)
	}
	if n := note(t, db, old); n != "" {
		t.Errorf("SentNote(%s) = %q, want gone", old, n)
	}
}
