package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"runtime"
	"strings"
	"sync"
	"testing"

	"reportbot/photo/phototest"
	"reportbot/schedules"
	"reportbot/store"
)

// countingSource is the store, counting the originals read by hash.
type countingSource struct {
	*store.DB
	mu    sync.Mutex
	reads map[string]int
}

func (c *countingSource) Blob(sum string) ([]byte, error) {
	c.mu.Lock()
	c.reads[sum]++
	c.mu.Unlock()
	return c.DB.Blob(sum)
}

func hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestReportKeepsPrintCopies: the first 汇编 makes the copies and keeps them
// in the store; the second reads them and not the originals, and embeds the same.
func TestReportKeepsPrintCopies(t *testing.T) {
	f := newFixture(t, "")
	turned := phototest.WithExif(phototest.JPEG(phototest.Noisy(400, 300, 1)), 6)
	big := phototest.JPEG(phototest.Noisy(1600, 1200, 2))
	small := pngBytes(t, 30, 20, color.White)
	f.add("东风社区", "东风社区-张三", "weekly", 1, "2026-06-03 16:30", schedules.Text, "本周典型做法：消防疏散演练。", "", nil, false)
	f.add("东风社区", "东风社区-张三", "weekly", 1, "2026-06-03 16:31", schedules.Image, "", "a.jpg", turned, false)
	f.add("东风社区", "东风社区-张三", "weekly", 1, "2026-06-03 16:32", schedules.Image, "", "b.jpg", big, false)
	f.add("东风社区", "东风社区-张三", "weekly", 1, "2026-06-03 16:33", schedules.Image, "", "c.png", small, false)
	src := &countingSource{DB: f.db, reads: map[string]int{}}
	f.e.Source, f.e.Prints = src, f.db
	f.e.Warn = func(err error) { t.Errorf("warned: %v", err) }

	_, first := report(t, f, 1)
	for _, p := range [][]byte{turned, big} {
		kept, err := f.db.PrintCopy(hash(p))
		if err != nil || kept == nil {
			t.Fatalf("no print copy kept after the first 汇编: %v", err)
		}
		cfg, _, err := image.DecodeConfig(bytes.NewReader(kept))
		if err != nil || max(cfg.Width, cfg.Height) > 1280 {
			t.Errorf("kept copy %v×%v, %v", cfg.Width, cfg.Height, err)
		}
	}
	if kept, _ := f.db.PrintCopy(hash(small)); len(kept) >= len(small) {
		t.Errorf("a photo already at print size was kept again (%d bytes)", len(kept))
	}
	if orig, _ := f.db.Blob(hash(turned)); !bytes.Equal(orig, turned) {
		t.Error("the original changed in the store")
	}

	clear(src.reads)
	_, second := report(t, f, 1)
	for name, p := range map[string][]byte{"turned": turned, "big": big} {
		if n := src.reads[hash(p)]; n != 0 {
			t.Errorf("second 汇编 read the %s original %d times; want the kept copy", name, n)
		}
	}
	for name, data := range first {
		if strings.HasPrefix(name, "word/media/") && !bytes.Equal(data, second[name]) {
			t.Errorf("%s differs between the first and the second 汇编", name)
		}
	}
	if cfg, _, _ := image.DecodeConfig(bytes.NewReader(second["word/media/image1.jpeg"])); cfg.Width != 300 || cfg.Height != 400 {
		t.Errorf("the kept copy of the orientation-6 photo is %d×%d, want 300×400", cfg.Width, cfg.Height)
	}
}

// failingCache keeps nothing and refuses every copy.
type failingCache struct{ puts int }

func (c *failingCache) PrintCopy(string) ([]byte, error) { return nil, nil }
func (c *failingCache) PutPrintCopy(string, []byte) error {
	c.puts++
	return errors.New("disk full")
}

func TestPrintCopyWithoutKeeping(t *testing.T) {
	f := newFixture(t, "")
	big := phototest.JPEG(phototest.Noisy(1600, 1200, 3))
	f.add("东风社区", "东风社区-张三", "weekly", 1, "2026-06-03 16:31", schedules.Image, "", "b.jpg", big, false)
	sum := hash(big)

	// Read-only: made, nothing kept.
	c, err := PrintCopy(f.db, nil, sum, nil)
	if err != nil || c.Width != 1280 || c.Height != 960 {
		t.Fatalf("PrintCopy = %d×%d, %v", c.Width, c.Height, err)
	}
	if kept, _ := f.db.PrintCopy(sum); kept != nil {
		t.Error("a copy was kept without a cache")
	}

	// A cache that fails: the copy all the same, and a warning.
	var warned []error
	fc := &failingCache{}
	c, err = PrintCopy(f.db, fc, sum, func(err error) { warned = append(warned, err) })
	if err != nil || c.Width != 1280 || fc.puts != 1 || len(warned) != 1 {
		t.Errorf("PrintCopy = %d wide, %v; puts %d, warned %v", c.Width, err, fc.puts, warned)
	}

	// Not a picture, or not stored: ErrNoPicture, nothing kept.
	f.add("东风社区", "东风社区-张三", "weekly", 1, "2026-06-03 16:35", schedules.Image, "", "d.png", []byte("not a picture"), false)
	for _, s := range []string{hash([]byte("not a picture")), strings.Repeat("0", 64)} {
		if _, err := PrintCopy(f.db, f.db, s, nil); !errors.Is(err, ErrNoPicture) {
			t.Errorf("PrintCopy(%.12s) error %v, want ErrNoPicture", s, err)
		}
		if kept, _ := f.db.PrintCopy(s); kept != nil {
			t.Errorf("kept %q for %.12s", kept, s)
		}
	}
}

// lockedBuffer is the 汇编's output, read by the copies' workers while the writer writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// watchingCache is the store's copies, calling before ahead of each lookup.
type watchingCache struct {
	PrintCache
	before func(sum string)
}

func (c watchingCache) PrintCopy(sum string) ([]byte, error) {
	c.before(sum)
	return c.PrintCache.PrintCopy(sum)
}

// TestReportWritesPhotosAsTheyCome: the 汇编 holds a few photos at a time,
// however many one unit sent. When the copy of photo k is asked for, all but
// the few the workers have in hand are in the output already, not kept for
// the unit's table.
func TestReportWritesPhotosAsTheyCome(t *testing.T) {
	f := newFixture(t, "")
	f.add("东风社区", "东风社区-张三", "weekly", 1, "2026-06-03 16:00", schedules.Text, "本周典型做法：消防疏散演练。", "", nil, false)
	const n = 30
	var photos [][]byte
	index := map[string]int{}
	for k := range n {
		p := phototest.JPEG(phototest.Noisy(160, 120, uint64(k)+1))
		photos = append(photos, p)
		index[hash(p)] = k
		f.add("东风社区", "东风社区-张三", "weekly", 1, fmt.Sprintf("2026-06-03 16:%02d", k+1), schedules.Image, "", "p.jpg", p, false)
	}
	out := &lockedBuffer{}
	workers := runtime.GOMAXPROCS(0)
	var mu sync.Mutex
	var late []string
	f.e.Prints = watchingCache{PrintCache: f.db, before: func(sum string) {
		k := index[sum]
		out.mu.Lock()
		written := 0
		for _, p := range photos {
			if bytes.Contains(out.buf.Bytes(), p) {
				written++
			}
		}
		out.mu.Unlock()
		// Photos 0…k-workers-1 were handed to the writer before this copy
		// could start; the last of them may still sit in the zip's buffer.
		if want := k - workers - 1; written < want {
			mu.Lock()
			late = append(late, fmt.Sprintf("photo %d asked for with %d photos written, want at least %d", k, written, want))
			mu.Unlock()
		}
	}}
	if err := f.e.Report(out, f.e.Schedule.TaskByID("weekly"), 1); err != nil {
		t.Fatal(err)
	}
	for _, l := range late {
		t.Error(l)
	}
	files := unzip(t, out.buf.Bytes())
	for k, p := range photos {
		if !bytes.Equal(files[fmt.Sprintf("word/media/image%d.jpeg", k+1)], p) {
			t.Errorf("photo %d is not image%d.jpeg, in the order sent", k, k+1)
		}
	}
}
