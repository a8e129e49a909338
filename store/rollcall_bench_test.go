package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
	"reportbot/schedules"
)

// The roll-call command benchmark: an admin sends 未报 into the group and the
// answer is composed and queued in the durable outbox, as under `reportbot
// run`. The fixture is a year of weekly reports of 1,000 units; in the
// period asked about a third of the units sent nothing, a third only a text
// (still owing a photo) and the rest everything, so the answer names 667
// units and is cut at bot.MaxAnswerParts messages.

const (
	rcUnits  = 1000
	rcPeriod = 40 // the period asked about; the history fills 1..39
)

// rcSizes are the fixture sizes, in submissions: the answer must not grow
// with the history.
var rcSizes = []struct {
	name string
	subs int
}{{"10k", 10_000}, {"100k", 100_000}, {"1M", 1_000_000}}

var (
	rcMu      sync.Mutex
	rcDirs    = map[int]string{} // fixture size -> data directory, built once per process
	rcRoot    string
	rcRuns    int // benchmark runs so far, for fresh message ids
	rcProcess = time.Now().UnixNano()
)

const rcConfigHead = "[bot]\nname = \"报送机器人\"\ngroup = \"测试群\"\nadmins = [\"王科长\"]\n"

// rcSchedulePath is the campaign the fixtures were built for; the root
// package's start-up and memory benchmarks read it too.
const rcSchedulePath = "testdata/weekly-2026.toml"

// rcBot is the bot as `run` wires it over the store in dir: the store opened
// with fsync (opts), the answers queued in the outbox for Run to deliver.
func rcBot(b testing.TB, dir string, opts Options) (*bot.Bot, *DB, *schedules.Task, time.Time) {
	var cfg strings.Builder
	cfg.WriteString(rcConfigHead)
	for i := range rcUnits {
		fmt.Fprintf(&cfg, "[[unit]]\nname = \"第%d社区\"\n", i)
	}
	config, err := bot.ParseConfig("config.toml", []byte(cfg.String()))
	if err != nil {
		b.Fatal(err)
	}
	sched, err := schedules.Load(rcSchedulePath)
	if err != nil {
		b.Fatal(err)
	}
	set := schedules.Single(sched)
	task := sched.Tasks[0]
	p, ok := task.Period(rcPeriod)
	if !ok {
		b.Fatalf("the schedule has no period %d", rcPeriod)
	}
	// An hour after the deadline: the roll-call's moment, when 未报 is asked most.
	now := p.Due.Add(time.Hour)
	opts.MaxBlob = config.MaxMedia()
	db, err := Open(dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	outbox := &bot.Outbox{Store: db, Now: func() time.Time { return now }, MaxAge: config.Bot.OutboxMaxAge.Duration,
		Logger: zerolog.Nop()}
	bt, err := bot.New(bot.Options{Config: config, Campaigns: func() *schedules.Set { return set }, Store: db, Chat: outbox,
		Now: func() time.Time { return now }, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	return bt, db, task, now
}

// rcFixture is the data directory holding a store of n submissions, built at
// the first call of the process in big transactions without fsync (1M in
// 15–40 s) and removed by TestMain; with REPORTBOT_ROLLCALL_DIR=DIR they are
// kept in DIR and built only once, so that versions can be compared
// interleaved without rebuilding them.
func rcFixture(b *testing.B, n int) string {
	rcMu.Lock()
	defer rcMu.Unlock()
	if dir, ok := rcDirs[n]; ok {
		return dir
	}
	keep := os.Getenv("REPORTBOT_ROLLCALL_DIR")
	if rcRoot == "" && keep == "" {
		var err error
		if rcRoot, err = os.MkdirTemp("", "reportbot-rollcall-"); err != nil {
			b.Fatal(err)
		}
	}
	root := cmp.Or(keep, rcRoot)
	dir := filepath.Join(root, fmt.Sprint(n))
	built := filepath.Join(root, fmt.Sprintf("%d.built", n))
	if _, err := os.Stat(built); err == nil {
		rcDirs[n] = dir // kept from an earlier run
		return dir
	}
	if err := os.RemoveAll(dir); err != nil { // a build cut short
		b.Fatal(err)
	}
	start := time.Now()
	if err := buildRollcallStore(dir, n); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(built, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	b.Logf("fixture of %d submissions built in %v", n, time.Since(start).Round(time.Millisecond))
	rcDirs[n] = dir
	return dir
}

// rcSub is the i-th submission of a fixture of n: first the period asked
// about (a third of the units nothing, a third a text, the rest a text and
// two photos), then the history, spread over the earlier periods and units.
func rcSub(i int, at time.Time) bot.Submission {
	s := bot.Submission{MsgID: fmt.Sprintf("m%d", i), Task: "weekly", Member: "报送员", Kind: schedules.Text,
		Text: "本周典型做法：开展了消防演练和隐患排查，整改问题3处。"}
	const third = rcUnits / 3
	const current = 4 * third // 333 units a text, 333 a text and two photos
	if i < current {
		s.Period = rcPeriod
		switch {
		case i < third: // a text only: partial
			s.Unit = fmt.Sprintf("第%d社区", 3*i+1)
		case i < 2*third:
			s.Unit = fmt.Sprintf("第%d社区", 3*(i-third)+2)
		default:
			s.Unit = fmt.Sprintf("第%d社区", 3*((i-2*third)%third)+2)
			s.Kind, s.Text, s.Blob = schedules.Image, "", fmt.Sprintf("%064x", i)
		}
	} else {
		h := i - current
		s.Unit = fmt.Sprintf("第%d社区", h%rcUnits)
		s.Period = 1 + (h/rcUnits)%(rcPeriod-1)
		if h%3 == 1 {
			s.Kind, s.Text, s.Blob = schedules.Image, "", fmt.Sprintf("%064x", i)
		}
	}
	s.At = at
	return s
}

// buildRollcallStore writes n submissions with their index entries, message
// ids, tallies and receipts, as AddSubmission and the receipts leave them.
//
// It writes them in large transactions, each of which frees pages the next
// does not reuse: the file it leaves has some 14,000 free pages at 1M, a
// free list bbolt writes whole (114 KB) at every commit, which made each
// commit of the benchmark 2–3 times slower than at 100k. A store grown one
// message at a time, as the bot grows it, has none free (after 60,000
// AddSubmission commits: 0 free pages, 14 pending, a 128-byte list), so the
// fixture is compacted at the end, as `reportbot compact` and a restore
// leave a store.
func buildRollcallStore(dir string, n int) error {
	db, err := Open(dir, Options{NoSync: true})
	if err != nil {
		return err
	}
	path := filepath.Join(dir, FileName)
	err = fillRollcallStore(db, n)
	if err == nil {
		err = compactInto(path+".compact", db.db)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(path+".compact", path)
}

// fillRollcallStore writes the fixture's n submissions into db.
func fillRollcallStore(db *DB, n int) error {
	tallies := map[string]*bot.Tally{}
	at := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	const per = 50_000
	for done := 0; done < n; done += per {
		err := db.db.Update(func(tx *bolt.Tx) error {
			subs, idx, ids := tx.Bucket(bucketSubs), tx.Bucket(bucketByPeriod), tx.Bucket(bucketMsgIDs)
			subs.FillPercent, ids.FillPercent = 1, 0.9 // appended in order
			for i := done; i < min(done+per, n); i++ {
				seq, err := subs.NextSequence()
				if err != nil {
					return err
				}
				s := rcSub(i, at.Add(time.Duration(i)*time.Second))
				s.Seq = seq
				v, err := json.Marshal(s)
				if err != nil {
					return err
				}
				if err := subs.Put(u64(seq), v); err != nil {
					return err
				}
				if err := idx.Put(append(append(unitKey(s.Task, s.Period, s.Unit), 0), u64(seq)...), nil); err != nil {
					return err
				}
				if err := ids.Put([]byte(s.MsgID), u64(seq)); err != nil {
					return err
				}
				k := string(unitKey(s.Task, s.Period, s.Unit))
				if tallies[k] == nil {
					tallies[k] = &bot.Tally{}
				}
				tallies[k].Add(s, 1)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return db.db.Update(func(tx *bolt.Tx) error {
		keys := make([]string, 0, len(tallies))
		for k := range tallies {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		tb, rb := tx.Bucket(bucketTallies), tx.Bucket(bucketReceipts)
		for _, k := range keys {
			t := *tallies[k]
			if err := tb.Put([]byte(k), encodeTally(t)); err != nil {
				return err
			}
			// Each unit was told what its material amounted to, as the bot does.
			level := bot.ReceiptComplete
			if t.All.Of(schedules.Image) == 0 {
				level = bot.ReceiptPartial
			}
			if err := rb.Put([]byte(k), []byte{byte(level)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// clearOutbox removes what the answers queued, as Run's delivery would.
func (s *DB) clearOutbox() (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.First() {
			if err := b.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// BenchmarkRollcallCommand: 未报 from an admin in the group, through
// bot.Handle to the answer queued in the outbox of a store opened with fsync
// as `run` opens it, over 10k, 100k and 1M submissions. Reported: the
// command's p50 and p99, and as the anchor one durable commit of a message
// id (what FirstSeen writes), timed right after each command: the least a
// durable answer can cost on this disk.
//
//	go test -run '^$' -bench RollcallCommand -benchtime 200x ./store
func BenchmarkRollcallCommand(b *testing.B) {
	for _, c := range rcCases() {
		b.Run(c.name, func(b *testing.B) {
			dir := rcFixture(b, c.subs)
			bt, db, _, _ := rcBot(b, dir, Options{NoSync: c.noSync})
			ctx := context.Background()
			admin := bot.Member{ID: "王科长", Name: "王科长", Verified: "王科长"}
			ask := func(id string) int {
				if err := bt.Handle(ctx, bot.Message{ID: id, Sender: admin, Kind: schedules.Text, Text: "未报"}); err != nil {
					b.Fatal(err)
				}
				n, err := db.clearOutbox()
				if err != nil {
					b.Fatal(err)
				}
				return n
			}
			// Ids fresh in every run: a fixture is shared by the runs of a
			// process and, kept, by processes.
			rcRuns++
			run := fmt.Sprintf("%d-r%d-", rcProcess, rcRuns)
			if parts := ask(run + "warm-up"); parts != bot.MaxAnswerParts {
				b.Fatalf("the answer took %d messages, want %d (667 units owe)", parts, bot.MaxAnswerParts)
			}
			var cmd, commit []time.Duration
			i := 0
			for b.Loop() {
				i++
				start := time.Now()
				if err := bt.Handle(ctx, bot.Message{ID: fmt.Sprintf("%sq%d", run, i), Sender: admin, Kind: schedules.Text, Text: "未报"}); err != nil {
					b.Fatal(err)
				}
				cmd = append(cmd, time.Since(start))
				start = time.Now()
				if _, err := db.FirstSeen(fmt.Sprintf("%sanchor%d", run, i), time.Time{}); err != nil {
					b.Fatal(err)
				}
				commit = append(commit, time.Since(start))
				b.StopTimer()
				if _, err := db.clearOutbox(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			c50, a50 := quantile(cmd, 0.5), quantile(commit, 0.5)
			b.ReportMetric(ms(c50), "p50-ms")
			b.ReportMetric(ms(quantile(cmd, 0.99)), "p99-ms")
			b.ReportMetric(ms(a50), "commit-p50-ms")
			b.ReportMetric(float64(c50)/float64(a50), "p50/commit")
		})
	}
}

// rcCases are the sizes with fsync, as `run` has it, and the largest also
// without: what the command costs besides waiting for the disk.
func rcCases() []struct {
	name   string
	subs   int
	noSync bool
} {
	var out []struct {
		name   string
		subs   int
		noSync bool
	}
	for _, s := range rcSizes {
		out = append(out, struct {
			name   string
			subs   int
			noSync bool
		}{s.name, s.subs, false})
	}
	last := rcSizes[len(rcSizes)-1]
	return append(out, struct {
		name   string
		subs   int
		noSync bool
	}{last.name + "-nosync", last.subs, true})
}

func quantile(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
