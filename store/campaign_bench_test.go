package store

import (
	"fmt"
	"testing"
	"time"

	"reportbot/bot"
	"reportbot/schedules"
)

// BenchmarkAddSubmission stores the June campaign's submissions one by one,
// as the console does (no fsync, no free-page list): 40 units, texts and photos, a new message
// id each. It reports the pages each commit writes, which is what a commit
// costs when nothing waits for the disk.
//
//	go test -run '^$' -bench AddSubmission -benchtime 4000x ./store
func BenchmarkAddSubmission(b *testing.B) {
	s, err := Open(b.TempDir(), Options{NoSync: true, NoFreelistSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	photo := make([]byte, 20_000)
	before := s.db.Stats().TxStats
	i := 0
	for b.Loop() {
		sub := &bot.Submission{MsgID: fmt.Sprintf("msg-%d", i), Unit: fmt.Sprintf("第%d社区", i%40+1), Task: "june/typical",
			Period: i/800 + 1, Member: fmt.Sprintf("第%d社区-联络员", i%40+1), At: at.Add(time.Duration(i) * time.Minute), Kind: schedules.Text,
			Text: fmt.Sprintf("本周典型做法：第%d条，社区组织开展了消防演练和隐患排查。", i)}
		var media []byte
		if i%2 == 1 {
			sub.Kind, sub.Text, sub.Blob, sub.Size, media = schedules.Image, "", "photo", int64(len(photo)), photo
		}
		if _, err := s.AddSubmission(sub, media); err != nil {
			b.Fatal(err)
		}
		i++
	}
	after := s.db.Stats().TxStats
	b.ReportMetric(float64(after.GetWrite()-before.GetWrite())/float64(b.N), "writes/op")
	b.ReportMetric(float64(after.GetPageCount()-before.GetPageCount())/float64(b.N), "pages/op")
	b.ReportMetric(float64(after.GetSplit()-before.GetSplit())/float64(b.N), "splits/op")
}

// A file the console wrote without its free-page list opens as usual: the
// submissions are there, the pages it freed are used again, and the file
// checks out.
func TestNoFreelistSyncReopens(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{NoSync: true, NoFreelistSync: true})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	for i := range 50 {
		sub := &bot.Submission{MsgID: fmt.Sprintf("m%d", i), Unit: "东风社区", Task: "june/typical", Period: 1, Member: "东风社区-张",
			At: at, Kind: schedules.Text, Text: "开展了演练"}
		if _, err := s.AddSubmission(sub, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db := open(t, dir) // checked at the end
	subs, err := db.PeriodSubmissions("june/typical", 1)
	if err != nil || len(subs) != 50 {
		t.Fatalf("%d submissions, %v; want 50", len(subs), err)
	}
	if free := db.db.Stats().FreePageN; free == 0 {
		t.Errorf("no free pages found on reopening: the pages freed by 50 commits are lost")
	}
}
