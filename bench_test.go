package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/console"
	"reportbot/schedules"
	"reportbot/store"
)

// campaignScript is the June campaign for 40 units: n messages spread over
// the working days, texts and photos mixed, with the clock moving between them.
func campaignScript(units, n int) (config string, script string) {
	var cfg strings.Builder
	cfg.WriteString("[bot]\nadmins = [\"王科长\"]\n[console]\nremarks = { \"街道应急办-王科\" = \"王科长\" }\n")
	for i := 0; i < units; i++ {
		fmt.Fprintf(&cfg, "[[unit]]\nname = \"第%d社区\"\nmembers = [\"第%d社区-联络员\"]\n", i+1, i+1)
	}
	var s strings.Builder
	r := rand.New(rand.NewPCG(1, 1))
	start := time.Date(2026, 6, 1, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	step := 30 * 24 * time.Hour / time.Duration(n)
	at := start
	for i := 0; i < n; i++ {
		at = at.Add(step)
		if i%25 == 0 {
			fmt.Fprintf(&s, "/time %s\n", at.Format("2006-01-02 15:04"))
		}
		u := r.IntN(units) + 1
		switch i % 10 {
		case 0, 1, 2, 3:
			fmt.Fprintf(&s, "第%d社区-联络员: 本周典型做法：第%d条，社区组织开展了消防演练和隐患排查。\n", u, i)
		case 4:
			fmt.Fprintf(&s, "第%d社区-联络员: 收到\n", u)
		case 9:
			s.WriteString("街道应急办-王科: 未报\n")
		default:
			fmt.Fprintf(&s, "第%d社区-联络员: /image console/demo/消防演练.png\n", u)
		}
	}
	s.WriteString("/time 2026-07-02 10:00\n")
	return cfg.String(), s.String()
}

// BenchmarkCampaign plays June for 40 units and 5,000 messages through the
// console with the fake clock: every reminder, receipt, query and roll-call.
// Besides the wall clock it reports the process's CPU time per campaign.
//
//	go test -run '^$' -bench Campaign -benchtime 3x .
func BenchmarkCampaign(b *testing.B) {
	cfgText, script := campaignScript(40, benchMessages())
	f := benchFiles(b, cfgText)
	b.ResetTimer()
	cpu0, cpuOK := cpuTime()
	var commits uint64
	var floor time.Duration
	for i := 0; i < b.N; i++ {
		var out bytes.Buffer
		p, err := startConsole(context.Background(), f, b.TempDir(), &out, zerolog.Nop(), nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Play(context.Background(), strings.NewReader(script), "bench", console.DirFiles(".")); err != nil {
			b.Fatal(err)
		}
		n, counted := storeCommits(p)
		commits += n
		p.Close()
		if i == 0 {
			b.ReportMetric(float64(strings.Count(out.String(), "机器人 ->")), "bot-messages")
		}
		if counted {
			b.StopTimer()
			floor += minimalCommit(b)
			b.StartTimer()
		}
	}
	// The process's CPU time per campaign (the garbage collector's on the
	// other core included): on a shared, loaded machine the wall clock
	// (ns/op) also counts the time others ran.
	if cpu1, ok := cpuTime(); ok && cpuOK {
		b.ReportMetric((cpu1-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	}
	// The anchor: the campaign's write transactions, each at the cost of the
	// cheapest commit the store makes (a message id into a small bucket),
	// timed on the same disk right after each campaign.
	if floor > 0 {
		c := float64(commits) / float64(b.N)
		b.ReportMetric(c, "commits/op")
		b.ReportMetric(c*(floor/time.Duration(b.N)).Seconds(), "commit-floor-s/op")
	}
}

// storeCommits is how many write transactions the console's store ran. It
// asks through interfaces so that bench/campaign-ab can run this benchmark
// on commits from before the store counted them (counted is false there).
func storeCommits(p any) (n uint64, counted bool) {
	r, ok := p.(interface{ Runtime() console.Runtime })
	if !ok {
		return 0, false
	}
	app, ok := r.Runtime().(*App)
	if !ok {
		return 0, false
	}
	c, ok := any(app.Store).(interface{ Commits() uint64 })
	if !ok {
		return 0, false
	}
	return c.Commits(), true
}

// minimalCommit is the median time of the store's cheapest write transaction,
// a message id recorded as seen, in a store opened as the console opens it.
func minimalCommit(b *testing.B) time.Duration {
	db, err := store.Open(b.TempDir(), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const n = 1001
	times := make([]time.Duration, n)
	for i := range times {
		start := time.Now()
		if _, err := db.FirstSeen(fmt.Sprint("floor", i), time.Time{}); err != nil {
			b.Fatal(err)
		}
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	return times[n/2]
}

// benchFiles are the benchmarks' settings (cfgText, played through the
// console, as the demo) and the example schedule.
func benchFiles(b *testing.B, cfgText string) *files {
	b.Helper()
	set, err := parseSettingsFor("bench.toml", []byte(cfgText), "console")
	if err != nil {
		b.Fatal(err)
	}
	s, err := schedules.Parse("schedule.example.toml", exampleSchedule)
	if err != nil {
		b.Fatal(err)
	}
	sf, err := fixedSchedules(s)
	if err != nil {
		b.Fatal(err)
	}
	return &files{config: set.Config, settings: set, schedules: sf, schedule: s}
}

// benchMessages is 5,000, or REPORTBOT_BENCH_MESSAGES for a quicker look.
func benchMessages() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("REPORTBOT_BENCH_MESSAGES"), &n); err == nil && n > 0 {
		return n
	}
	return 5000
}
