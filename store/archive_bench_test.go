package store

import (
	"fmt"
	"testing"
	"time"

	"reportbot/bot"
	"reportbot/schedules"
)

// BenchmarkCommitAfterArchive: a small commit (a message id, what FirstSeen
// writes for every command) right after 归档 removed a campaign of 100 phone
// photos of 3 MB, against the same commit in the same store before the
// removal. bbolt writes its whole free list at each commit: 300 MB freed is
// a list of 600 KB, which the store now leaves out while it is long (see
// keepFreelist). Reported: the p50 of each and after/before, with fsync as
// `run` commits and without (the CPU alone).
//
//	go test -run '^$' -bench CommitAfterArchive -benchtime 200x ./store
func BenchmarkCommitAfterArchive(b *testing.B) {
	for _, c := range []struct {
		name   string
		noSync bool
	}{{"fsync", false}, {"nosync", true}} {
		b.Run(c.name, func(b *testing.B) {
			db, err := Open(b.TempDir(), Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			at := time.Date(2026, 6, 30, 10, 0, 0, 0, time.UTC)
			photo := make([]byte, 3<<20)
			for i := range 100 {
				copy(photo, fmt.Sprintf("photo %d", i))
				s := &bot.Submission{MsgID: fmt.Sprint("jun", i), Unit: fmt.Sprintf("第%d社区", i%40+1), Task: "jun/weekly",
					Period: i%4 + 1, Member: fmt.Sprintf("第%d社区-联络员", i%40+1), At: at, Kind: schedules.Image,
					Blob: sum(photo), Size: int64(len(photo))}
				if _, err := db.AddSubmission(s, photo); err != nil {
					b.Fatal(err)
				}
			}
			// On disk before timing: else the kernel writes the 300 MB back
			// while the first commits are timed.
			if err := db.db.Sync(); err != nil {
				b.Fatal(err)
			}
			db.db.NoSync = c.noSync
			n := 0
			commit := func() time.Duration {
				n++
				start := time.Now()
				if _, err := db.FirstSeen(fmt.Sprint("msg", n), at); err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			for range 200 { // warm-up: the first commits after the photos cost more
				commit()
			}
			var before []time.Duration
			for range 200 {
				before = append(before, commit())
			}
			if r, err := db.RemoveTasks([]string{"jun/weekly"}); err != nil || r.Media != 100 {
				b.Fatalf("removed %+v, %v; want the 100 photos", r, err)
			}
			commit() // the removal's pages are free from here on
			var after []time.Duration
			for b.Loop() {
				after = append(after, commit())
			}
			p0, p1 := quantile(before, 0.5), quantile(after, 0.5)
			b.ReportMetric(ms(p0), "before-p50-ms")
			b.ReportMetric(ms(p1), "after-p50-ms")
			b.ReportMetric(float64(p1)/float64(p0), "after/before")
			b.ReportMetric(float64(db.db.Stats().FreePageN), "free-pages")
		})
	}
}
