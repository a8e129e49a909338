package store

import (
	"fmt"
	"testing"
	"time"

	"reportbot/bot"
	"reportbot/schedules"
)

// BenchmarkAddSubmission stores the June campaign's submissions one by one,
// as the console does (no fsync): 40 units, texts and photos, a new message
// id each. It reports the pages each commit writes, which is what a commit
// costs when nothing waits for the disk.
//
//	go test -run '^$' -bench AddSubmission -benchtime 4000x ./store
func BenchmarkAddSubmission(b *testing.B) {
	s, err := Open(b.TempDir(), Options{NoSync: true})
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
