package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
	"reportbot/console"
	"reportbot/schedules"
	"reportbot/store"
)

// yearCampaign is one half of the simulated year: a weekly safety check of
// three photos, due on Fridays at 17:00, reminded, nudged and rolled-called.
const yearCampaign = `id = "%s"
name = "%s"
timezone = "Asia/Shanghai"
start = "%s"
end = "%s"
quiet_hours = "21:00-08:00"

[calendar]
official = true

[[task]]
id = "weekly"
name = "每周安全检查"
keywords = ["安全检查"]
requires = ["image:3"]
cron = "0 17 * * FRI"
on_day_off = "next"

[[remind]]
task = "weekly"
kind = "remind"
when = "-1d 09:00"

[[remind]]
task = "weekly"
kind = "nudge"
when = "0d 10:00"

[[remind]]
task = "weekly"
kind = "rollcall"
when = "1d 09:00"
`

// yearUnits is how many units report in the simulated year.
const yearUnits = 40

// yearRow is the store measured on the first of a month, after that day's maintenance.
type yearRow struct {
	month                  string
	seen, sent, other      int   // keys of the bookkeeping buckets
	book                   int64 // their bytes
	progress               int   // tallies and marks: a key per unit and period, kept after 归档
	progressBytes          int64
	subs                   int // submissions (with their indexes: SubmissionBuckets)
	subsBytes              int64
	media                  int // media items (MediaBuckets' keys)
	mediaBytes             int64
	file, compacted        int64
	messagesSoFar, prunedN int
}

// TestYearOfTraffic runs a year on a fake clock: 40 units, two half-year
// campaigns with a weekly task of 3 photos each, two units that never
// report (so every nudge and roll-call names someone), an admin asking 未报
// each week, the daily maintenance at 04:00, and each campaign archived
// (归档, 确认归档) a month after it ends. It measures the store on the first of
// every month and asserts that the bot's bookkeeping stays bounded however
// long it runs: the ids of messages seen and the sent-log hold at most one
// campaign plus the margin, not the year, and once the campaigns are
// archived the database (a compacted copy) is small again. Run with -v for
// the table (RELIABILITY.md has it).
func TestYearOfTraffic(t *testing.T) {
	if testing.Short() || raceDetector {
		t.Skip("a simulated year, 20 s alone: run without -short and -race (.ci/run does)")
	}
	loc := shanghai(t)
	dir := t.TempDir()
	folder := filepath.Join(dir, "schedules")
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][4]string{
		{"2026-h1", "2026年上半年每周安全检查", "2026-01-01", "2026-06-30"},
		{"2026-h2", "2026年下半年每周安全检查", "2026-07-01", "2026-12-31"},
	} {
		if err := os.WriteFile(filepath.Join(folder, c[0]+".toml"), fmt.Appendf(nil, yearCampaign, c[0], c[1], c[2], c[3]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The example's settings with 40 units, each recognised by its name in
	// the member's display name.
	head, _, _ := strings.Cut(string(exampleConfig), "\n[[unit]]")
	_, tail, _ := strings.Cut(string(exampleConfig), "\n[console]")
	var units strings.Builder
	for i := range yearUnits {
		fmt.Fprintf(&units, "[[unit]]\nname = \"第%02d社区\"\n\n", i+1)
	}
	configPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(configPath, []byte(head+"\n"+units.String()+"[console]"+tail), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := loadFiles(configPath, folder)
	if err != nil {
		t.Fatal(err)
	}
	clock := console.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, loc))
	chat := &memChat{now: clock.Now}
	app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: data,
		Transport: chat, Now: clock.Now, SetClock: clock.Set, Logger: zerolog.Nop(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	ctx := context.Background()
	advance := func(to time.Time) {
		t.Helper()
		if err := app.Advance(ctx, to); err != nil {
			t.Fatal(err)
		}
	}
	seq, pruned := 0, 0
	post := func(who, remark string, m bot.Message) {
		t.Helper()
		seq++
		m.ID, m.At, m.Sender = fmt.Sprintf("m%d", seq), clock.Now(), bot.Member{ID: who, Name: who, Verified: remark}
		if err := app.Deliver(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// Each photo is distinct (stored apart): one noisy PNG with a number
	// after its end, which decoders do not read.
	rng := rand.New(rand.NewPCG(1, 2))
	noise := image.NewGray(image.Rect(0, 0, 24, 24))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
	}
	var base bytes.Buffer
	if err := png.Encode(&base, noise); err != nil {
		t.Fatal(err)
	}
	photo := func() []byte { return fmt.Appendf(bytes.Clone(base.Bytes()), "%d", seq) }
	const admin, remark = "街道应急办-王科", "王科长"
	var rows []yearRow
	end := time.Date(2027, 2, 1, 0, 0, 0, 0, loc)
	for day := clock.Now(); day.Before(end); day = day.AddDate(0, 0, 1) {
		at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
		advance(at(4, 0))
		p, err := app.Maintain(clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		pruned += p.Seen + p.Sent
		if day.Day() == 1 {
			rows = append(rows, measure(t, app.Store, day.Format("2006-01"), seq, pruned))
		}
		if day.Weekday() == time.Wednesday && len(app.campaigns.Load().Open(day)) > 0 {
			advance(at(10, 0))
			for u := range yearUnits - 2 { // 第39社区 and 第40社区 never report
				for range 3 {
					img := photo()
					post(fmt.Sprintf("第%02d社区-检查员", u+1), "", bot.Message{Kind: schedules.Image, Size: int64(len(img)),
						Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(img)), nil }})
				}
				advance(clock.Now().Add(time.Minute))
			}
			advance(at(15, 0))
			post(admin, remark, bot.Message{Kind: schedules.Text, Text: "未报", Private: true})
		}
		// A month after each campaign ends, the admin archives it.
		for _, when := range []struct {
			on   string
			name string
		}{{"2026-08-03", "2026年上半年每周安全检查"}, {"2027-01-11", "2026年下半年每周安全检查"}} {
			if day.Format(time.DateOnly) == when.on {
				advance(at(9, 0))
				post(admin, remark, bot.Message{Kind: schedules.Text, Text: "归档 " + when.name, Private: true})
				post(admin, remark, bot.Message{Kind: schedules.Text, Text: "确认归档 " + when.name, Private: true})
				if got := chat.all(); !strings.Contains(got[len(got)-1], "已归档") {
					t.Fatalf("归档 %s: %q", when.name, got[len(got)-1])
				}
			}
		}
		advance(at(23, 59))
	}
	rows = append(rows, measure(t, app.Store, "2027-02", seq, pruned))
	t.Logf("| 1st of | seen ids | sent-log | other bookkeeping keys | bookkeeping KB | progress keys (KB) | submissions (KB) | media (KB) | file MB | compacted MB | messages so far | pruned so far |")
	t.Logf("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		t.Logf("| %s | %d | %d | %d | %d | %d (%d) | %d (%d) | %d (%d) | %.0f | %.2f | %d | %d |", r.month, r.seen, r.sent, r.other,
			r.book>>10, r.progress, r.progressBytes>>10, r.subs, r.subsBytes>>10, r.media, r.mediaBytes>>10,
			float64(r.file)/(1<<20), float64(r.compacted)/(1<<20), r.messagesSoFar, r.prunedN)
	}

	// The bounds. One campaign is 26 weeks of 38 units × 3 photos; its ids
	// are kept while it is open and for the margin after, with the next
	// campaign's first weeks: 26+5+1 weeks of ids at most, never the year.
	// Its sent-log is 3 events a week (and the same weeks); its receipts a
	// key per unit and week until it is archived. The progress (tallies) is
	// a key per unit and week, kept after 归档: the year's whole is the bound.
	// The database: photos here are 600-byte stand-ins, so the compacted
	// size is mostly the submissions' records; a real year's photos add
	// their own size until 归档.
	const (
		weeks        = 26 + 5 + 1
		maxSeen      = weeks * (yearUnits - 2) * 3
		maxSent      = 200
		maxOther     = weeks*yearUnits + 200
		maxBookBytes = 512 << 10
		maxProgress  = 53 * yearUnits
		maxCompacted = 6 << 20
		endCompacted = 512 << 10
	)
	for _, r := range rows {
		if r.seen > maxSeen || r.sent > maxSent || r.other > maxOther || r.book > maxBookBytes || r.progress > maxProgress || r.compacted > maxCompacted {
			t.Errorf("%s: %d ids seen (bound %d), %d sent-log entries (%d), %d other keys (%d), %d bytes of bookkeeping (%d), %d progress keys (%d), compacted %d bytes (%d)",
				r.month, r.seen, maxSeen, r.sent, maxSent, r.other, maxOther, r.book, maxBookBytes, r.progress, maxProgress, r.compacted, maxCompacted)
		}
	}
	last := rows[len(rows)-1]
	// Not vacuous: the year's messages are more than the bound holds, and the
	// daily pass pruned. (A report's id is its submission's mark, kept with it
	// until 归档; the seen bucket holds the rest, commands and chat.)
	if seq <= maxSeen || pruned == 0 {
		t.Errorf("%d messages, %d keys pruned: the year did not outgrow the bound", seq, pruned)
	}
	// Both campaigns archived, none open: the ids of the last 30 days only,
	// no submission, no photo, and a small file once compacted.
	if last.seen > 10 || last.subs != 0 || last.media != 0 || last.compacted > endCompacted {
		t.Errorf("at the end: %d ids, %d submissions, %d media, compacted %d bytes; want ≤10, 0, 0, ≤%d",
			last.seen, last.subs, last.media, last.compacted, endCompacted)
	}
	archives, _ := filepath.Glob(filepath.Join(data, ArchiveDir, "*.zip"))
	if len(archives) != 2 {
		t.Errorf("archives %q, want one per campaign", archives)
	}
}

// measure reads the store's buckets and the size of a compacted copy of it
// (the pages it uses, which is what a compacted file holds).
func measure(t *testing.T, db *store.DB, month string, messages, pruned int) yearRow {
	t.Helper()
	usage, err := db.Usage()
	if err != nil {
		t.Fatal(err)
	}
	r := yearRow{month: month, file: db.Size(), messagesSoFar: messages, prunedN: pruned}
	for _, u := range usage {
		switch {
		case slices.Contains(store.MediaBuckets, u.Name):
			if u.Name == "media_ids" || u.Name == "blobs" {
				r.media += u.Keys
			}
			r.mediaBytes += u.Bytes
		case slices.Contains(store.SubmissionBuckets, u.Name):
			if u.Name == "submissions" {
				r.subs = u.Keys
			}
			r.subsBytes += u.Bytes
		case u.Name == "tallies" || u.Name == "marks":
			r.progress, r.progressBytes = r.progress+u.Keys, r.progressBytes+u.Bytes
		case u.Name == "seen_msgs":
			r.seen, r.book = u.Keys, r.book+u.Bytes
		case u.Name == "sent_log":
			r.sent, r.book = u.Keys, r.book+u.Bytes
		default:
			r.other, r.book = r.other+u.Keys, r.book+u.Bytes
		}
	}
	r.compacted = compactedSize(t, db)
	return r
}

// compactedSize copies the live store (a read transaction, as a backup
// does) and compacts the copy: the size the data takes, free pages left out.
func compactedSize(t *testing.T, db *store.DB) int64 {
	t.Helper()
	dir := t.TempDir()
	copyPath := filepath.Join(dir, "copy.db")
	out, err := os.Create(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.WriteTo(out); err != nil {
		t.Fatal(err)
	}
	out.Close()
	src, err := bolt.Open(copyPath, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := bolt.Open(filepath.Join(dir, "compact.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if err := bolt.Compact(dst, src, 1<<20); err != nil {
		t.Fatal(err)
	}
	// The pages in use: the file itself is grown in steps (to 8 MB and
	// past), so its length says more about bbolt's growth than the data.
	var size int64
	if err := dst.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	return size
}
