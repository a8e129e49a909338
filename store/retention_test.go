package store

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"reportbot/bot"
	"reportbot/schedules"
)

func TestPrune(t *testing.T) {
	day := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	cutoff := day.AddDate(0, 0, -30)
	tests := []struct {
		name      string
		recorded  time.Time
		queued    bool // an outbox item still names the sent-log key
		wantKept  bool
		wantSeen  int
		wantSent  int
		writeSent func(db *DB, key string, at time.Time) error
	}{
		{name: "older than the cutoff", recorded: cutoff.Add(-time.Second), wantSeen: 1, wantSent: 1},
		{name: "at the cutoff", recorded: cutoff, wantKept: true},
		{name: "recent", recorded: day, wantKept: true},
		// The outbox records how the event ended on the key: it must still be there.
		{name: "old but still queued", recorded: cutoff.AddDate(0, 0, -1), queued: true, wantKept: true, wantSeen: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := open(t, "")
			if _, err := db.FirstSeen("m1", tt.recorded); err != nil {
				t.Fatal(err)
			}
			if tt.queued {
				if _, err := db.Enqueue([]string{"k1"}, []bot.Outgoing{{Text: "提醒"}}, tt.recorded); err != nil {
					t.Fatal(err)
				}
			} else if _, err := db.MarkSent("k1", tt.recorded, ""); err != nil {
				t.Fatal(err)
			}
			p, err := db.Prune(cutoff, cutoff)
			if err != nil {
				t.Fatal(err)
			}
			if p.Seen != tt.wantSeen || p.Sent != tt.wantSent {
				t.Errorf("pruned %+v, want seen %d sent %d", p, tt.wantSeen, tt.wantSent)
			}
			sent, _ := db.IsSent("k1")
			if sent != tt.wantKept {
				t.Errorf("sent-log entry kept = %v, want %v", sent, tt.wantKept)
			}
		})
	}
}

// TestPruneInBatches: more keys than one transaction looks at, old and new
// interleaved in key order, all walked, only the old deleted.
func TestPruneInBatches(t *testing.T) {
	db := open(t, "")
	now := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	const n = 3*pruneBatch + 7
	for i := range n {
		at := now
		if i%2 == 0 {
			at = now.AddDate(0, -3, 0)
		}
		if _, err := db.FirstSeen(fmt.Sprintf("msg-%05d", i), at); err != nil {
			t.Fatal(err)
		}
		if _, err := db.MarkSent(fmt.Sprintf("key-%05d", i), at, ""); err != nil {
			t.Fatal(err)
		}
	}
	before := lastTx(t, db)
	p, err := db.Prune(now.AddDate(0, -1, 0), now.AddDate(0, -1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if want := (n + 1) / 2; p.Seen != want || p.Sent != want {
		t.Errorf("pruned %+v, want %d of each", p, want)
	}
	// Two buckets of n keys, pruneBatch a transaction: no transaction held them all.
	if txs := lastTx(t, db) - before; txs < 2*(n/pruneBatch) {
		t.Errorf("%d transactions for %d keys: a batch is bigger than %d keys", txs, 2*n, pruneBatch)
	}
	for i := range n {
		seen, _ := db.Seen(fmt.Sprintf("msg-%05d", i))
		sent, _ := db.IsSent(fmt.Sprintf("key-%05d", i))
		if want := i%2 == 1; seen != want || sent != want {
			t.Fatalf("key %d: seen %v sent %v, want %v", i, seen, sent, want)
		}
	}
}

func TestRemoveTasks(t *testing.T) {
	db := open(t, "")
	at := time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC)
	add := func(id, task string, media string) {
		t.Helper()
		s := &bot.Submission{MsgID: id, Unit: "东风社区", Task: task, Period: 1, Member: "张三", At: at, Kind: schedules.Text, Text: "文字" + id}
		var blob []byte
		if media != "" {
			blob = []byte(media)
			s.Kind, s.Blob, s.Size = schedules.Image, sum(blob), int64(len(blob))
		}
		if _, err := db.AddSubmission(s, blob); err != nil {
			t.Fatal(err)
		}
	}
	add("1", "jun/weekly", "only June's photo")
	add("2", "jun/weekly", "a photo both campaigns have")
	add("3", "jun/plan", "")
	add("4", "jun2/weekly", "") // a campaign whose id starts like June's
	add("5", "nov/weekly", "a photo both campaigns have")
	if err := db.PutThumb(sum([]byte("only June's photo")), []byte("thumb")); err != nil {
		t.Fatal(err)
	}
	for _, task := range []string{"jun/weekly", "nov/weekly"} {
		if err := db.SetReceipt(task, 1, "东风社区", 2); err != nil {
			t.Fatal(err)
		}
	}
	r, err := db.RemoveTasks([]string{"jun/weekly", "jun/plan"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Submissions != 3 || r.Media != 1 || r.Bytes != int64(len("only June's photo")) {
		t.Errorf("removed %+v, want 3 submissions and 1 medium of %d bytes", r, len("only June's photo"))
	}
	for _, tt := range []struct {
		task string
		want []string
	}{{"jun/weekly", nil}, {"jun/plan", nil}, {"jun2/weekly", []string{"4:jun2/weekly"}}, {"nov/weekly", []string{"5:nov/weekly"}}} {
		if got := subs(t, db, tt.task, 1); !slices.Equal(got, tt.want) {
			t.Errorf("%s after removal: %v, want %v", tt.task, got, tt.want)
		}
	}
	for _, tt := range []struct {
		media string
		want  bool
	}{{"only June's photo", false}, {"a photo both campaigns have", true}} {
		if ok, _ := db.HasBlob(sum([]byte(tt.media))); ok != tt.want {
			t.Errorf("media %q kept = %v, want %v", tt.media, ok, tt.want)
		}
	}
	if th, _ := db.Thumb(sum([]byte("only June's photo"))); th != nil {
		t.Error("the thumbnail of a removed photo stayed")
	}
	if s, _ := db.Submission("1"); s != nil {
		t.Error("message 1 still finds its submission")
	}
	if s, _ := db.LastSubmission("张三"); s == nil || s.MsgID != "5" {
		t.Errorf("last submission of 张三 = %+v, want message 5", s)
	}
	for _, tt := range []struct {
		task string
		want int
	}{{"jun/weekly", 0}, {"nov/weekly", 2}} {
		if got, _ := db.Receipt(tt.task, 1, "东风社区"); got != tt.want {
			t.Errorf("receipt of %s = %d, want %d", tt.task, got, tt.want)
		}
	}
	// The progress stays readable: the tallies are kept.
	if tally, _ := db.UnitTally("jun/weekly", 1, "东风社区"); tally.Items != 2 {
		t.Errorf("tally after removal = %+v, want the 2 images still counted", tally)
	}
	if again, err := db.RemoveTasks([]string{"jun/weekly"}); err != nil || again != (Removed{}) {
		t.Errorf("a second removal = %+v, %v; want nothing", again, err)
	}
}

func TestUsage(t *testing.T) {
	db := open(t, "")
	for i := range 10 {
		if _, err := db.FirstSeen(fmt.Sprint(i), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	usage, err := db.Usage()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(usage, func(u BucketUsage) bool { return u.Name == string(bucketSeen) })
	if i < 0 || usage[i].Keys != 10 || usage[i].Bytes == 0 {
		t.Errorf("usage of seen_msgs = %+v, want 10 keys in some bytes", usage)
	}
}
