package store

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"reportbot/bot"
	"reportbot/schedules"
)

func TestKeepFreelist(t *testing.T) {
	const page = 4096
	for _, tt := range []struct {
		name     string
		skipping bool
		inuse    int
		want     bool
	}{
		{"an empty list", false, 0, true},
		{"one page", true, page, true},
		{"between the bounds, written so far", false, 2 * page, true},
		{"between the bounds, skipped so far", true, 2 * page, false},
		{"at the upper bound", false, freelistSkipPages * page, true},
		{"over it", false, freelistSkipPages*page + 1, false},
		{"far over it", true, 150 * page, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := keepFreelist(tt.skipping, tt.inuse, page); got != tt.want {
				t.Errorf("keepFreelist(%v, %d) = %v, want %v", tt.skipping, tt.inuse, got, tt.want)
			}
		})
	}
}

// freedStore is a store from which 归档 removed a campaign of 40 photos of
// 256 KB (some 2,600 pages, a free list of six pages), with one submission
// of another campaign left; the photos are kept for refilling.
func freedStore(t *testing.T, dir string) (*DB, [][]byte) {
	t.Helper()
	db, err := Open(dir, Options{NoSync: true, MaxBlob: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC)
	var photos [][]byte
	for i := range 40 {
		photo := make([]byte, 256<<10)
		copy(photo, fmt.Sprintf("photo %d", i))
		photos = append(photos, photo)
		s := &bot.Submission{MsgID: fmt.Sprint("jun", i), Unit: "东风社区", Task: "jun/weekly", Period: 1, Member: "张三",
			At: at, Kind: schedules.Image, Blob: sum(photo), Size: int64(len(photo))}
		if _, err := db.AddSubmission(s, photo); err != nil {
			t.Fatal(err)
		}
	}
	kept := &bot.Submission{MsgID: "nov1", Unit: "东风社区", Task: "nov/weekly", Period: 1, Member: "张三", At: at,
		Kind: schedules.Text, Text: "十一月的典型做法"}
	if _, err := db.AddSubmission(kept, nil); err != nil {
		t.Fatal(err)
	}
	if r, err := db.RemoveTasks([]string{"jun/weekly"}); err != nil || r.Media != 40 {
		t.Fatalf("removed %+v, %v; want the 40 photos", r, err)
	}
	// The pages the removal freed are pending until the next commit.
	if _, err := db.FirstSeen("settle", time.Time{}); err != nil {
		t.Fatal(err)
	}
	return db, photos
}

// fileFreelist is the page of the free list that the file's current meta
// names, or noFreelist.
func fileFreelist(t *testing.T, path string) uint64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	read := func(off int64) meta {
		buf := make([]byte, pageHeaderSize+metaSize)
		if _, err := f.ReadAt(buf, off); err != nil {
			t.Fatal(err)
		}
		return readMeta(buf)
	}
	m0 := read(0)
	use := metaInUse(m0, read(int64(m0.pageSize)), int64(m0.pageSize))
	if !use.valid {
		t.Fatalf("no valid meta page in %s", path)
	}
	return use.freelist
}

// wantFreed checks that db, opened again, has the free pages it had before
// (free) less those its list now takes, and passes bbolt's check.
func wantFreed(t *testing.T, db *DB, free int) {
	t.Helper()
	listPages := (free*8)/db.db.Info().PageSize + 1
	if got := db.db.Stats().FreePageN; got < free-listPages {
		t.Errorf("%d pages free, want the %d freed less the list's %d", got, free, listPages)
	}
	if err := db.Check(); err != nil {
		t.Error(err)
	}
}

// TestFreelistSkippedWhileLong: after 归档 freed thousands of pages, small
// commits do not write the whole free list (the file's meta then names none;
// bbolt's page counts cannot show it: a list of many pages counts as one);
// Close writes the list once, so the next open reads it instead of every page.
func TestFreelistSkippedWhileLong(t *testing.T) {
	dir := t.TempDir()
	db, _ := freedStore(t, dir)
	free := db.db.Stats().FreePageN
	listPages := (free*8)/db.db.Info().PageSize + 1
	if listPages <= freelistSkipPages {
		t.Fatalf("only %d pages free: the scenario needs a list of more than %d pages", free, freelistSkipPages)
	}
	for i := range 10 {
		if _, err := db.FirstSeen(fmt.Sprint("chat", i), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, FileName)
	if got := fileFreelist(t, path); got != noFreelist {
		t.Errorf("the file's meta names free-list page %d while %d pages are free; want none", got, free)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	if got := fileFreelist(t, path); got == noFreelist {
		t.Error("closed without its free list: the next open reads every page to rebuild it")
	}
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wantFreed(t, db, free)
}

// TestFreelistRebuiltAfterCrash: a process that dies while the list is not
// being written leaves a file whose next open rebuilds the list, with every
// page free that was and every submission kept.
func TestFreelistRebuiltAfterCrash(t *testing.T) {
	dir := t.TempDir()
	db, _ := freedStore(t, dir)
	if _, err := db.FirstSeen("chat", time.Time{}); err != nil {
		t.Fatal(err)
	}
	free := db.db.Stats().FreePageN
	// The file as a killed process leaves it: every commit is in it (the
	// page cache outlives the process), the free list is not.
	crashed := t.TempDir()
	if err := copyFile(filepath.Join(dir, FileName), filepath.Join(crashed, FileName)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if got := fileFreelist(t, filepath.Join(crashed, FileName)); got != noFreelist {
		t.Fatalf("the copy names free-list page %d; the scenario needs a file without one", got)
	}
	again, err := Open(crashed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	wantFreed(t, again, free) // the list rebuilt, and written by the open
	if s, err := again.Submission("nov1"); err != nil || s == nil || s.Text != "十一月的典型做法" {
		t.Errorf("the kept submission after the crash: %+v, %v", s, err)
	}
	if first, err := again.FirstSeen("chat", time.Time{}); err != nil || first {
		t.Errorf("the message id recorded before the crash: first = %v, %v", first, err)
	}
}

// TestFreelistWrittenAgainOnceReused: as new photos take the freed pages
// back, the list shrinks and is written at each commit again.
func TestFreelistWrittenAgainOnceReused(t *testing.T) {
	dir := t.TempDir()
	db, photos := freedStore(t, dir)
	defer db.Close()
	at := time.Date(2026, 11, 4, 10, 0, 0, 0, time.UTC)
	for i, p := range photos {
		p[len(p)-1] = 1 // other photos, the same size
		s := &bot.Submission{MsgID: fmt.Sprint("nov-photo", i), Unit: "东风社区", Task: "nov/weekly", Period: 1,
			Member: "张三", At: at, Kind: schedules.Image, Blob: sum(p), Size: int64(len(p))}
		if _, err := db.AddSubmission(s, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.FirstSeen("chat", time.Time{}); err != nil {
		t.Fatal(err)
	}
	st := db.db.Stats()
	if st.FreelistInuse > freelistKeepPages*db.db.Info().PageSize {
		t.Fatalf("the new photos left a list of %d bytes; the scenario needs it short again", st.FreelistInuse)
	}
	if got := fileFreelist(t, filepath.Join(dir, FileName)); got == noFreelist {
		t.Error("the list is short again and still not written")
	}
}
