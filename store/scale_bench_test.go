package store

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
	"reportbot/schedules"
)

const (
	scaleUnits   = 1000
	scalePeriods = 52
	scaleSubs    = 1_000_000
)

var (
	scaleOnce sync.Once
	scaleDB   *DB
	scaleDir  string
	keepScale bool
)

// scaleStore bulk-loads a year of weekly reports for 1,000 units: 1,000,000
// submissions (texts and photo records), with their index entries and tallies,
// in large transactions. It is built once per run and removed at the end,
// unless REPORTBOT_SCALE_DIR names a directory to keep it in: then a store
// already there is used as it is, and the process benchmarks of the main
// package (start-up, memory) run over it.
func scaleStore(b *testing.B) *DB {
	scaleOnce.Do(func() {
		var err error
		if scaleDir = os.Getenv("REPORTBOT_SCALE_DIR"); scaleDir != "" {
			keepScale = true
			if scaleDB, err = Open(scaleDir, Options{NoSync: true}); err != nil {
				b.Fatal(err)
			}
			if len(tallyMap(b, scaleDB, "weekly", scalePeriods)) == scaleUnits {
				return // built by an earlier run
			}
		} else {
			if scaleDir, err = os.MkdirTemp("", "reportbot-scale-"); err != nil {
				b.Fatal(err)
			}
			if scaleDB, err = Open(scaleDir, Options{NoSync: true}); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
		const per = 50_000
		for done := 0; done < scaleSubs; done += per {
			err := scaleDB.db.Update(func(tx *bolt.Tx) error {
				subs := tx.Bucket(bucketSubs)
				for i := done; i < done+per; i++ {
					seq, _ := subs.NextSequence()
					s := bot.Submission{Seq: seq, MsgID: fmt.Sprint(i), Unit: fmt.Sprintf("第%d社区", i%scaleUnits), Task: "weekly",
						Period: 1 + (i/scaleUnits)%scalePeriods, Member: "成员", At: start.Add(time.Duration(i) * time.Second), Kind: schedules.Text,
						Text: "本周典型做法：开展了消防演练和隐患排查。"}
					if i%3 == 1 {
						s.Kind, s.Text, s.Blob = schedules.Image, "", fmt.Sprintf("%064x", i)
					}
					v, _ := json.Marshal(s)
					if err := subs.Put(u64(seq), v); err != nil {
						return err
					}
					idx := append(append(unitKey(s.Task, s.Period, s.Unit), 0), u64(seq)...)
					if err := tx.Bucket(bucketByPeriod).Put(idx, nil); err != nil {
						return err
					}
					if err := addTally(tx, s, 1); err != nil {
						return err
					}
					// Each unit was told its report is complete, as the bot does.
					if err := tx.Bucket(bucketReceipts).Put(unitKey(s.Task, s.Period, s.Unit), []byte{byte(bot.ReceiptComplete)}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	return scaleDB
}

func TestMain(m *testing.M) {
	code := m.Run()
	if scaleDB != nil {
		scaleDB.Close()
		if !keepScale {
			os.RemoveAll(scaleDir)
		}
	}
	if rcRoot != "" {
		os.RemoveAll(rcRoot)
	}
	os.Exit(code)
}

func scaleUnitsList() []bot.Unit {
	units := make([]bot.Unit, scaleUnits)
	for i := range units {
		units[i] = bot.Unit{Name: fmt.Sprintf("第%d社区", i)}
	}
	return units
}

// BenchmarkRollcallAtScale: the statuses of 1,000 units for one period of 52,
// over 1,000,000 stored submissions, as a roll-call or 未报 reads them.
//
//	go test -run '^$' -bench RollcallAtScale -benchtime 200x ./store
func BenchmarkRollcallAtScale(b *testing.B) {
	db := scaleStore(b)
	units := scaleUnitsList()
	task := &schedules.Task{ID: "weekly", Requires: []schedules.Requirement{{Any: []schedules.Material{schedules.Text}, Min: 1}, {Any: []schedules.Material{schedules.Image}, Min: 1}}}
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		reports, err := bot.Statuses(db, units, task, 1+i%scalePeriods)
		if err != nil || len(reports) != scaleUnits {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
}
