package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
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
