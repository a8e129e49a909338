package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"reportbot/bot"
	"reportbot/internal/heapsample"
	"reportbot/schedules"
	"reportbot/store"
)

// benchImages is how many photos the export benchmarks store (REPORTBOT_BENCH_IMAGES overrides).
func benchImages() int {
	if n, err := strconv.Atoi(os.Getenv("REPORTBOT_BENCH_IMAGES")); err == nil && n > 0 {
		return n
	}
	return 5000
}

var (
	benchOnce  sync.Once
	benchDB    *store.DB
	benchBytes int64
	benchDir   string
)

// noisePNG is a photo-sized PNG that does not compress (≈200 KB), different for each seed.
func noisePNG(seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed*7+1))
	img := image.NewNRGBA(image.Rect(0, 0, 256, 200))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// benchStore fills a store once per run with benchImages photos spread over
// the units and the four weekly periods, committed in batches.
func benchStore(b *testing.B, e *Exporter) *store.DB {
	benchOnce.Do(func() {
		var err error
		benchDir, err = os.MkdirTemp("", "reportbot-export-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDB, err = store.Open(benchDir, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := benchImages()
		start := time.Date(2026, 6, 1, 9, 0, 0, 0, e.Schedule.Location)
		for i := 0; i < n; i++ {
			data := noisePNG(uint64(i))
			sum := sha256.Sum256(data)
			unit := e.Config.Units[i%len(e.Config.Units)]
			s := &bot.Submission{MsgID: fmt.Sprint("b", i), Unit: unit.Name, Member: unit.Name + "-成员", Task: "weekly",
				Period: 1 + i%4, At: start.Add(time.Duration(i) * time.Minute), Kind: schedules.Image,
				FileName: fmt.Sprintf("照片%d.png", i), Blob: hex.EncodeToString(sum[:]), Size: int64(len(data))}
			if _, err := benchDB.AddSubmission(s, data); err != nil {
				b.Fatal(err)
			}
			benchBytes += int64(len(data))
		}
	})
	return benchDB
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDB != nil {
		benchDB.Close()
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func benchExporter(b *testing.B) *Exporter {
	cfg, err := bot.LoadConfig(filepath.Join("..", "config.example.toml"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := schedules.Load(filepath.Join("..", "schedule.example.toml"))
	if err != nil {
		b.Fatal(err)
	}
	e := &Exporter{Config: cfg, Schedule: s}
	e.Source = benchStore(b, e)
	return e
}

// BenchmarkArchive streams every stored photo into the materials archive.
//
//	go test -run '^$' -bench Archive -benchtime 3x ./export
func BenchmarkArchive(b *testing.B) {
	e := benchExporter(b)
	b.SetBytes(benchBytes)
	runtime.GC()
	b.ResetTimer()
	var peak uint64
	for i := 0; i < b.N; i++ {
		peak = max(peak, heapsample.Peak(5*time.Millisecond, func() {
			if err := e.Archive(io.Discard, nil, 0); err != nil {
				b.Fatal(err)
			}
		}))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// BenchmarkReport compiles one weekly period's report (a quarter of the photos).
func BenchmarkReport(b *testing.B) {
	e := benchExporter(b)
	b.SetBytes(benchBytes / 4)
	runtime.GC()
	b.ResetTimer()
	var peak uint64
	for i := 0; i < b.N; i++ {
		peak = max(peak, heapsample.Peak(5*time.Millisecond, func() {
			if err := e.Report(io.Discard, e.Schedule.TaskByID("weekly"), 1); err != nil {
				b.Fatal(err)
			}
		}))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// BenchmarkReadBlobs is the baseline: reading the same photos from the store, doing nothing with them.
func BenchmarkReadBlobs(b *testing.B) {
	e := benchExporter(b)
	b.SetBytes(benchBytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, t := range e.Schedule.Tasks {
			for _, p := range t.Periods {
				subs, err := benchDB.PeriodSubmissions(t.ID, p.N)
				if err != nil {
					b.Fatal(err)
				}
				for _, s := range subs {
					if s.Blob != "" {
						if err := benchDB.WriteBlob(s.Blob, io.Discard); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		}
	}
}
