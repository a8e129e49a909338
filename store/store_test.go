package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
	"reportbot/schedules"
)

// open opens a store in a fresh directory and checks its consistency when the test ends.
func open(t *testing.T, dir string) *DB {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	db, err := Open(dir, Options{MaxBlob: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Check(); err != nil {
			t.Errorf("check: %v", err)
		}
		db.Close()
	})
	return db
}

// tallyMap is a period's tallies by unit.
func tallyMap(tb testing.TB, db *DB, task string, period int) map[string]bot.Tally {
	tb.Helper()
	out := map[string]bot.Tally{}
	if err := db.EachTally(task, period, func(unit []byte, t *bot.Tally) { out[string(unit)] = *t }); err != nil {
		tb.Fatal(err)
	}
	return out
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestSubmissionsByPeriod(t *testing.T) {
	db := open(t, "")
	at := time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC)
	add := func(id, unit, task string, period int, kind schedules.Material, media []byte) bool {
		t.Helper()
		s := &bot.Submission{MsgID: id, Unit: unit, Task: task, Period: period, Member: unit + "-人", At: at, Kind: kind}
		if media != nil {
			s.Blob, s.Size = sum(media), int64(len(media))
		}
		dup, err := db.AddSubmission(s, media)
		if err != nil {
			t.Fatal(err)
		}
		return dup
	}
	img := []byte("\x89PNG fake image")
	add("1", "东风社区", "weekly", 1, schedules.Text, nil)
	add("2", "东风社区", "weekly", 1, schedules.Image, img)
	add("3", "西湖社区", "weekly", 1, schedules.Image, img) // the same image from another unit
	add("4", "东风社区", "weekly", 2, schedules.Text, nil)
	add("5", "东风社区", "weekly2", 1, schedules.Text, nil) // a task whose id starts like another's
	if !add("2", "东风社区", "weekly", 1, schedules.Image, img) {
		t.Error("a replayed message id was stored twice")
	}
	subs, err := db.PeriodSubmissions("weekly", 1)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range subs {
		ids = append(ids, s.MsgID)
	}
	if got := strings.Join(ids, ","); got != "1,2,3" {
		t.Errorf("weekly/1 = %s, want 1,2,3", got)
	}
	if n, _ := db.BlobCount(); n != 1 {
		t.Errorf("%d blobs, want the image stored once", n)
	}
	if b, _ := db.Blob(sum(img)); string(b) != string(img) {
		t.Error("blob content differs")
	}
	last, err := db.LastSubmission("东风社区-人")
	if err != nil || last == nil || last.MsgID != "5" {
		t.Errorf("last = %+v, %v", last, err)
	}
	w, err := db.Withdraw("2")
	if err != nil || w == nil || !w.Withdrawn {
		t.Fatalf("withdraw = %+v, %v", w, err)
	}
	subs, _ = db.PeriodSubmissions("weekly", 1)
	if !subs[1].Withdrawn {
		t.Error("withdrawn flag not stored")
	}
	if w, err := db.Withdraw("unknown"); w != nil || err != nil {
		t.Errorf("withdraw unknown = %v, %v", w, err)
	}
}

func TestTooLarge(t *testing.T) {
	db := open(t, "")
	big := make([]byte, 2<<20)
	_, err := db.AddSubmission(&bot.Submission{MsgID: "x", Blob: sum(big), Kind: schedules.Image}, big)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
}

func TestBindingsMarksReceiptsSentLog(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.Bind(bot.Member{Name: "张三"}, "东风社区"))
	must(db.Bind(bot.Member{Name: "小李"}, "东风社区"))
	must(db.Bind(bot.Member{Name: "王五"}, "南山村"))
	must(db.SetMark("weekly", 2, "北岭村", bot.Mark{Status: bot.Exempt, By: "王科长"}))
	must(db.SetReceipt("weekly", 2, "东风社区", bot.ReceiptPartial))
	first, err := db.MarkSent("weekly/1/nudge@-2h", time.Now(), "")
	must(err)
	if !first {
		t.Error("first MarkSent reported a duplicate")
	}
	cursor := time.Date(2026, 6, 4, 12, 0, 0, 0, time.UTC)
	must(db.SetCursor(cursor))
	must(db.Close())

	// Everything survives a reopen.
	db = open(t, dir)
	if u, _ := db.Binding(bot.Member{Name: "张三"}); u != "东风社区" {
		t.Errorf("binding = %q", u)
	}
	if ms, _ := db.BoundMembers("东风社区"); len(ms) != 2 || ms[0].Name != "小李" || ms[1].Name != "张三" {
		t.Errorf("members = %v", ms)
	}
	marks, _ := db.Marks("weekly", 2)
	if marks["北岭村"].Status != bot.Exempt || len(marks) != 1 {
		t.Errorf("marks = %v", marks)
	}
	if l, _ := db.Receipt("weekly", 2, "东风社区"); l != bot.ReceiptPartial {
		t.Errorf("receipt = %d", l)
	}
	if first, _ := db.MarkSent("weekly/1/nudge@-2h", time.Now(), ""); first {
		t.Error("a sent reminder was marked sent again after reopen")
	}
	if ok, _ := db.IsSent("weekly/1/nudge@-2h"); !ok {
		t.Error("IsSent = false")
	}
	if c, _ := db.Cursor(); !c.Equal(cursor) {
		t.Errorf("cursor = %v", c)
	}
}

func TestSecondProcessFailsFast(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	start := time.Now()
	_, err := Open(dir, Options{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "--data") {
		t.Errorf("error %q should say what to do", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("Open hung")
	}
}

func TestSchemaVersion(t *testing.T) {
	dir := t.TempDir()
	raw, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucketIfNotExists(bucketMeta)
		return b.Put(keySchema, []byte("99"))
	})
	raw.Close()
	_, err = Open(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer reportbot") {
		t.Errorf("err = %v, want a newer-schema error", err)
	}
	raw, err = bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSubs) != nil {
			t.Error("a newer reportbot's file was written to")
		}
		return nil
	})
	// A file of the previous layout is read as it is and marked with this
	// one, so that the reportbot that wrote it refuses it from now on.
	raw.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte("1")) })
	raw.Close()
	db := open(t, dir)
	db.db.View(func(tx *bolt.Tx) error {
		if v := string(tx.Bucket(bucketMeta).Get(keySchema)); v != strconv.Itoa(SchemaVersion) {
			t.Errorf("schema %q after opening a version 1 file, want %d", v, SchemaVersion)
		}
		return nil
	})
}

func TestFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	open(t, dir)
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v", st.Mode().Perm())
	}
	st, _ = os.Stat(filepath.Join(dir, FileName))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("db mode %v", st.Mode().Perm())
	}
}

func TestTalliesInStepAndRebuilt(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC)
	add := func(id string, kind schedules.Material, name string, late bool) {
		t.Helper()
		if _, err := db.AddSubmission(&bot.Submission{MsgID: id, Unit: "东风社区", Task: "summary", Period: 1, Member: "张三", At: at, Kind: kind, FileName: name, Late: late}, nil); err != nil {
			t.Fatal(err)
		}
	}
	add("1", schedules.Text, "", false)
	add("2", schedules.File, "统计表.xlsx", true)
	add("3", schedules.Image, "", false)
	db.Withdraw("3")
	db.Withdraw("3") // twice: counted out once
	want := func(db *DB) {
		t.Helper()
		tl, err := db.UnitTally("summary", 1, "东风社区")
		if err != nil {
			t.Fatal(err)
		}
		if tl.Items != 2 || tl.LateItems != 1 || tl.All.Of(schedules.Text) != 1 || tl.All.Of(schedules.File) != 1 ||
			tl.All.Of(schedules.Sheet) != 1 || tl.All.Of(schedules.Image) != 0 || tl.OnTime.Of(schedules.File) != 0 {
			t.Errorf("tally %+v", tl)
		}
		all := tallyMap(t, db, "summary", 1)
		if all["东风社区"].Items != 2 {
			t.Errorf("tallies %+v", all)
		}
	}
	want(db)
	// A tally of late items only is stored without its empty on-time counts; adding to it works.
	db.AddSubmission(&bot.Submission{MsgID: "late1", Unit: "西湖社区", Task: "summary", Period: 1, Member: "李四", At: at, Kind: schedules.Text, Late: true}, nil)
	if _, err := db.AddSubmission(&bot.Submission{MsgID: "late2", Unit: "西湖社区", Task: "summary", Period: 1, Member: "李四", At: at, Kind: schedules.Image}, nil); err != nil {
		t.Fatal(err)
	}
	if tl, _ := db.UnitTally("summary", 1, "西湖社区"); tl.Items != 2 || tl.OnTime.Of(schedules.Image) != 1 {
		t.Errorf("tally after late-only %+v", tl)
	}
	// A database from before the tallies: they are counted when it opens.
	db.db.Update(func(tx *bolt.Tx) error {
		tx.Bucket(bucketMeta).Delete(keyTallied)
		return tx.DeleteBucket(bucketTallies)
	})
	db.Close()
	db = open(t, dir)
	want(db)
}

// TestStatusesInConfigOrder: the tallies come in the order of the units'
// names, the statuses go in the config's; a unit without a tally is missing,
// and a tally of a unit no longer in the config is left out.
func TestStatusesInConfigOrder(t *testing.T) {
	db := open(t, "")
	at := time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC)
	for i, sub := range []struct {
		unit string
		kind schedules.Material
	}{{"西湖社区", schedules.Text}, {"东风社区", schedules.Text}, {"东风社区", schedules.Image}, {"已撤并社区", schedules.Text}} {
		s := &bot.Submission{MsgID: fmt.Sprint(i), Unit: sub.unit, Task: "weekly", Period: 1, Member: sub.unit + "-人", At: at, Kind: sub.kind}
		if _, err := db.AddSubmission(s, nil); err != nil {
			t.Fatal(err)
		}
	}
	task := &schedules.Task{ID: "weekly", Key: "weekly", Requires: []schedules.Requirement{
		{Any: []schedules.Material{schedules.Text}, Min: 1}, {Any: []schedules.Material{schedules.Image}, Min: 1}}}
	units := []bot.Unit{{Name: "南山村"}, {Name: "西湖社区"}, {Name: "东风社区"}}
	reports, err := bot.Statuses(db, units, task, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range reports {
		got = append(got, fmt.Sprintf("%s %s %d", r.Unit, r.Status, r.Counts.Of(schedules.Text)+r.Counts.Of(schedules.Image)))
	}
	want := []string{"南山村 missing 0", "西湖社区 partial 1", "东风社区 reported 2"}
	if !slices.Equal(got, want) {
		t.Errorf("statuses %q, want %q", got, want)
	}
}

func TestTallyForms(t *testing.T) {
	db := open(t, "")
	at := time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC)
	in := bot.Tally{Items: 3, LateItems: 1, Last: at}
	in.All.Set(schedules.Text, 1)
	in.All.Set(schedules.File, 2)
	in.All.Set(schedules.Sheet, 1)
	in.OnTime.Set(schedules.Text, 1)
	in.OnTime.Set(schedules.File, 1)
	var out bot.Tally
	if err := decodeTally(encodeTally(in), &out); err != nil || out.Items != 3 || out.LateItems != 1 || !out.Last.Equal(at) ||
		out.All.Of(schedules.File) != 2 || out.All.Of(schedules.Sheet) != 1 || out.OnTime.Of(schedules.File) != 1 || out.OnTime.Of(schedules.Image) != 0 {
		t.Errorf("binary round trip: %+v %v", out, err)
	}
	// A tally stored in the earlier JSON form still reads.
	old := []byte(`{"all":{"text":1,"file":2,"xlsx":1},"on_time":{"text":1,"file":1},"items":3,"late":1,"last":"2026-06-04T10:00:00Z"}`)
	db.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTallies).Put(unitKey("weekly", 1, "东风社区"), old)
	})
	if got, err := db.UnitTally("weekly", 1, "东风社区"); err != nil || got.Items != 3 || got.All.Of(schedules.File) != 2 {
		t.Errorf("JSON tally: %+v %v", got, err)
	}
	if err := decodeTally([]byte{9, 9}, &out); err == nil {
		t.Error("an unknown form decoded")
	}
}

// Members posting at the same moment are committed together; each message is
// stored once, whoever else sent the same id or the same photo at that moment.
func TestConcurrentSubmissions(t *testing.T) {
	db := open(t, "")
	at := time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC)
	img := []byte("\x89PNG shared photo")
	var wg sync.WaitGroup
	dups := make([]int, 32)
	for g := range 32 {
		wg.Go(func() {
			for i := range 20 {
				unit := fmt.Sprintf("第%d社区", g%8)
				// Each id is sent by four goroutines at once: a replay racing the original.
				s := &bot.Submission{MsgID: fmt.Sprintf("%s-%d", unit, i), Unit: unit, Task: "weekly", Period: 1,
					Member: unit + "-人", At: at, Kind: schedules.Text, Text: "典型做法"}
				var media []byte
				if i%5 == 0 {
					s.Kind, s.Blob, media = schedules.Image, sum(img), img
				}
				dup, err := db.AddSubmission(s, media)
				if err != nil {
					t.Error(err)
					return
				}
				if dup {
					dups[g]++
				}
			}
		})
	}
	wg.Wait()
	subs, err := db.PeriodSubmissions("weekly", 1)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range dups {
		total += n
	}
	if len(subs) != 8*20 || total != 3*8*20 {
		t.Errorf("%d stored and %d duplicates, want %d and %d", len(subs), total, 8*20, 3*8*20)
	}
	tallies := tallyMap(t, db, "weekly", 1)
	for unit, tl := range tallies {
		if tl.Items != 20 || tl.All.Of(schedules.Image) != 4 {
			t.Errorf("%s: %+v", unit, tl)
		}
	}
	if n, _ := db.BlobCount(); n != 1 {
		t.Errorf("%d media stored, want 1", n)
	}
}

// Media stored before the media bucket (keyed by their hash) still read, and
// are not stored again.
func TestMediaStoredTheEarlierWay(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	old := []byte("\x89PNG stored in 2025")
	db.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketBlobs).Put([]byte(sum(old)), old) })
	if ok, err := db.HasBlob(sum(old)); !ok || err != nil {
		t.Errorf("HasBlob = %v, %v", ok, err)
	}
	var buf bytes.Buffer
	if err := db.WriteBlob(sum(old), &buf); err != nil || buf.String() != string(old) {
		t.Errorf("WriteBlob = %q, %v", buf.String(), err)
	}
	s := &bot.Submission{MsgID: "1", Unit: "东风社区", Task: "weekly", Period: 1, Kind: schedules.Image, Blob: sum(old), At: time.Now()}
	if _, err := db.AddSubmission(s, old); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.BlobCount(); n != 1 {
		t.Errorf("%d media, want the old one only", n)
	}
	if b, _ := db.Blob(sum(old)); !bytes.Equal(b, old) {
		t.Errorf("Blob = %q", b)
	}
}

// Bindings are kept by the member's stable id with their display name beside
// it; a binding an older reportbot kept under the display name is still found,
// and moves to the id when the member binds again.
func TestBindingByStableID(t *testing.T) {
	db := open(t, "")
	// As an older reportbot wrote it: display name -> unit, no name beside it.
	if err := db.Bind(bot.Member{Name: "东风社区-张三"}, "东风社区"); err != nil {
		t.Fatal(err)
	}
	zhang := bot.Member{ID: "张三备注", Name: "东风社区-张三", Verified: "张三备注"}
	for _, tt := range []struct {
		name string
		who  bot.Member
		want string
	}{
		{"older binding found by display name", zhang, "东风社区"},
		{"unknown member", bot.Member{ID: "staff-1", Name: "小李"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := db.Binding(tt.who); err != nil || got != tt.want {
				t.Errorf("Binding = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if err := db.Bind(zhang, "西湖社区"); err != nil {
		t.Fatal(err)
	}
	renamed := zhang
	renamed.Name = "西湖社区-老张" // renamed in the group: the id still finds the binding
	if got, _ := db.Binding(renamed); got != "西湖社区" {
		t.Errorf("after a rename: %q", got)
	}
	if got, _ := db.Binding(bot.Member{Name: "东风社区-张三"}); got != "" {
		t.Errorf("the older key by display name was kept: %q", got)
	}
	ms, err := db.BoundMembers("西湖社区")
	if err != nil || len(ms) != 1 || ms[0].ID != "张三备注" || ms[0].Name != "东风社区-张三" {
		t.Errorf("BoundMembers = %+v, %v", ms, err)
	}
}
