package main

// The 汇编 benchmark: a period's compiled report over real-size phone photos,
// whose print-size copies the background worker made after each photo was
// acknowledged, as `reportbot run` does. Generating 12-megapixel photos is
// slow (≈2 s each), so they are kept where REPORTBOT_PHOTO_DIR says between
// runs; bash bench/run sets it.
//
//	REPORTBOT_PHOTO_DIR=/tmp/photos go test -run '^$' -bench ReportPhotos -benchtime 5x -timeout 30m .

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/export"
	"reportbot/internal/heapsample"
	"reportbot/photo/phototest"
	"reportbot/schedules"
	"reportbot/store"
)

// benchPhotoCount is how many photos the 汇编 benchmark stores: 120, three
// for each of 40 units (REPORTBOT_BENCH_PHOTOS overrides, for a quick look).
func benchPhotoCount() int {
	if n, err := strconv.Atoi(os.Getenv("REPORTBOT_BENCH_PHOTOS")); err == nil && n > 0 {
		return n
	}
	return 120
}

// phonePhotos returns the paths of n phone photos: 4000×3000 pixels of a
// noisy scene at JPEG quality 94–96, 3.4–4.4 MB each, every other one with
// EXIF orientation 6 (held upright, as most are). They are written once into
// REPORTBOT_PHOTO_DIR (or a directory of the benchmark's) and reused.
func phonePhotos(b *testing.B, n int) []string {
	dir := os.Getenv("REPORTBOT_PHOTO_DIR")
	if dir == "" {
		dir = b.TempDir()
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	paths := make([]string, n)
	var todo []int
	for i := range paths {
		paths[i] = filepath.Join(dir, fmt.Sprintf("phone-v1-%03d.jpg", i))
		if _, err := os.Stat(paths[i]); err != nil {
			todo = append(todo, i)
		}
	}
	jobs := make(chan int)
	errs := make(chan error, len(todo))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range jobs {
				var buf bytes.Buffer
				if err := jpeg.Encode(&buf, phototest.Noisy(4000, 3000, uint64(i)+1), &jpeg.Options{Quality: 94 + i%3}); err != nil {
					errs <- err
					continue
				}
				data := buf.Bytes()
				if i%2 == 0 {
					data = phototest.WithExif(data, 6)
				}
				// Written whole or not at all: an interrupted run leaves no half photo to reuse.
				tmp := paths[i] + ".part"
				if err := os.WriteFile(tmp, data, 0o600); err != nil {
					errs <- err
					continue
				}
				errs <- os.Rename(tmp, paths[i])
			}
		})
	}
	for _, i := range todo {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return paths
}

// countingStore is the store, counting the reads of photos' originals: an
// export that reads no original decodes none.
type countingStore struct {
	*store.DB
	mu    sync.Mutex
	reads int
}

func (c *countingStore) Blob(sum string) ([]byte, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.DB.Blob(sum)
}

func (c *countingStore) WriteBlob(sum string, w io.Writer) error {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.DB.WriteBlob(sum, w)
}

// photoPeriods posts the photos through the bot as members do, twice: in the
// weekly task's first period spread over 40 units (three each for 120), each
// unit's after its text; in the second, all of them from one unit, the case
// that shows whether the 汇编 holds a unit's photos at once. It waits for the
// background worker's print copies and returns the photos' hashes, their
// total size and the worker's time per photo.
func photoPeriods(b *testing.B, dataDir string, f *files, paths []string) (sums []string, size int64, perCopy time.Duration) {
	now := time.Date(2026, 6, 2, 9, 0, 0, 0, f.schedule.Location)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: dataDir,
		Transport: &memChat{now: clock}, Now: clock, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	ctx := context.Background()
	id := 0
	deliver := func(m bot.Message) {
		id++
		m.ID = strconv.Itoa(id)
		if err := app.Deliver(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	photoMsg := func(unit int, path string) bot.Message {
		st, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		return bot.Message{Sender: bot.Member{Name: fmt.Sprintf("第%d社区-联络员", unit)}, Kind: schedules.Image,
			FileName: filepath.Base(path), Size: st.Size(),
			Open: func(context.Context) (io.ReadCloser, error) { return os.Open(path) }}
	}
	units := min(40, len(paths))
	start := time.Now()
	for i, path := range paths {
		unit := 1 + i*units/len(paths)
		if i == 0 || unit != 1+(i-1)*units/len(paths) {
			deliver(bot.Message{Sender: bot.Member{Name: fmt.Sprintf("第%d社区-联络员", unit)}, Kind: schedules.Text,
				Text: fmt.Sprintf("本周典型做法：第%d社区组织开展消防疏散演练，排查隐患3处，已全部整改。", unit)})
		}
		deliver(photoMsg(unit, path))
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.Sum256(data)
		sums = append(sums, hex.EncodeToString(h[:]))
		size += int64(len(data))
	}
	// The worker makes one copy at a time; each is kept in the store when made.
	for _, sum := range sums {
		for {
			kept, err := app.Store.PrintCopy(sum)
			if err != nil {
				b.Fatal(err)
			}
			if kept != nil {
				break
			}
			if time.Since(start) > 20*time.Minute {
				b.Fatalf("no print copy of %.12s after %v", sum, time.Since(start))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	perCopy = time.Since(start) / time.Duration(len(sums))

	mu.Lock()
	now = time.Date(2026, 6, 10, 9, 0, 0, 0, f.schedule.Location)
	mu.Unlock()
	deliver(bot.Message{Sender: bot.Member{Name: "第1社区-联络员"}, Kind: schedules.Text, Text: "本周典型做法：第1社区开展安全宣传进楼栋活动，发放资料200份，排查隐患5处。"})
	for _, path := range paths {
		deliver(photoMsg(1, path))
	}
	// Every photo where it was meant to go, or the export below measures less.
	for p := 1; p <= 2; p++ {
		subs, err := app.Store.PeriodSubmissions("weekly", p)
		if err != nil {
			b.Fatal(err)
		}
		images := 0
		for _, s := range subs {
			if s.Kind == schedules.Image {
				images++
			}
		}
		if images != len(paths) {
			b.Fatalf("weekly period %d holds %d photos, want %d", p, images, len(paths))
		}
	}
	return sums, size, perCopy
}

// BenchmarkReportPhotos times the 汇编 of a period whose 120 photos (3–5 MB,
// 12 megapixels) have their print copies, written to disk as the 导出
// command writes it, against reading the same photos' originals out of the
// same store, alternately in the same run. It reports medians, the peak heap
// during the export, and fails if the export read any photo's original.
//
//	REPORTBOT_PHOTO_DIR=/tmp/photos go test -run '^$' -bench ReportPhotos -benchtime 5x -timeout 30m .
func BenchmarkReportPhotos(b *testing.B) {
	cfgText, _ := campaignScript(40, 1)
	f := benchFiles(b, cfgText)
	paths := phonePhotos(b, benchPhotoCount())
	dataDir := b.TempDir()
	sums, size, perCopy := photoPeriods(b, dataDir, f, paths)

	// The store as `reportbot run` opens it, the worker's copies in it;
	// opened again for each cold measurement.
	var db *store.DB
	var src *countingStore
	var e *export.Exporter
	open := func(cold bool) {
		if db != nil {
			if err := db.Close(); err != nil {
				b.Fatal(err)
			}
		}
		if cold {
			if err := dropCache(filepath.Join(dataDir, "reportbot.db")); err != nil {
				b.Skip(err)
			}
		}
		var err error
		if db, err = store.Open(dataDir, store.Options{MaxBlob: f.config.MaxMedia()}); err != nil {
			b.Fatal(err)
		}
		src = &countingStore{DB: db}
		e = &export.Exporter{Config: f.config, Schedule: f.schedule, Source: src, Prints: db,
			Now: func() time.Time { return time.Date(2026, 6, 5, 9, 0, 0, 0, f.schedule.Location) }}
	}
	open(false)
	defer func() { db.Close() }()
	weekly := f.schedule.TaskByID("weekly")
	out := b.TempDir()

	for _, c := range []struct {
		name   string
		period int
		// cold reads both from the disk, the file's pages dropped before each.
		cold bool
	}{{"40-units", 1, false}, {"40-units-cold", 1, true}, {"1-unit", 2, false}} {
		b.Run(c.name, func(b *testing.B) {
			var reads, exports []time.Duration
			var peak, base uint64
			var docx int64
			var sink touch
			for b.Loop() {
				// A: the anchor, every original read whole out of the store.
				if c.cold {
					open(true)
				}
				t0 := time.Now()
				for _, sum := range sums {
					if err := db.WriteBlob(sum, &sink); err != nil {
						b.Fatal(err)
					}
				}
				reads = append(reads, time.Since(t0))

				// B: the 汇编, written and synced as 导出 writes it.
				if c.cold {
					open(true)
				}
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				base = max(base, ms.HeapInuse)
				path := filepath.Join(out, export.ReportName(weekly, c.period))
				var d time.Duration
				peak = max(peak, heapsample.Peak(2*time.Millisecond, func() {
					t1 := time.Now()
					if err := export.WriteFile(path, func(w io.Writer) error { return e.Report(w, weekly, c.period) }); err != nil {
						b.Fatal(err)
					}
					d = time.Since(t1)
				}))
				exports = append(exports, d)
				src.mu.Lock()
				if src.reads != 0 {
					b.Fatalf("the 汇编 read %d photos' originals; every photo has its print copy", src.reads)
				}
				src.mu.Unlock()
				st, err := os.Stat(path)
				if err != nil {
					b.Fatal(err)
				}
				docx = st.Size()
			}
			if sink.n != int64(len(reads))*size {
				b.Fatalf("the anchor read %d bytes, want %d", sink.n, int64(len(reads))*size)
			}
			b.ReportMetric(median(exports).Seconds(), "export-s")
			b.ReportMetric(median(reads).Seconds(), "read-originals-s")
			b.ReportMetric(float64(median(exports))/float64(median(reads)), "export/read")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(peak-min(peak, base))/(1<<20), "heap-growth-MB")
			b.ReportMetric(float64(docx)/(1<<20), "docx-MB")
			b.ReportMetric(float64(size)/float64(len(sums))/(1<<20), "photo-MB")
			b.ReportMetric(perCopy.Seconds(), "copy-s/photo")
		})
	}
}

// touch is where the anchor reads the originals to: it copies every byte
// into a small buffer. io.Discard would be handed the store's mapped file and
// never read it, which is how an earlier baseline read "12 GB/s".
type touch struct {
	buf [64 << 10]byte
	n   int64
}

func (t *touch) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := copy(t.buf[:], p)
		p = p[k:]
	}
	t.n += int64(n)
	return n, nil
}
