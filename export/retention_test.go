package export

import (
	"archive/zip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestRemoveOld(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 9, 1, 4, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		written time.Time
	}{
		{"20260701-100000-anquan", now.AddDate(0, 0, -62)}, // an old export
		{"20260801-100000", now.AddDate(0, 0, -31)},        // old enough
		{"20260815-100000", now.AddDate(0, 0, -17)},        // recent
		{"我的材料", now.AddDate(-1, 0, 0)},                    // someone's own folder: never the bot's to delete
		{"2026", now.AddDate(-1, 0, 0)},                    // too short for an export's name
	} {
		path := filepath.Join(dir, tt.name)
		if err := os.MkdirAll(path, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(path, "报送统计表.xlsx"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, tt.written, tt.written); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := RemoveOld(dir, now.AddDate(0, 0, -30))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"20260701-100000-anquan", "20260801-100000"}; !slices.Equal(removed, want) {
		t.Errorf("removed %q, want %q", removed, want)
	}
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := []string{"2026", "20260815-100000", "我的材料"}; !slices.Equal(left, want) {
		t.Errorf("left %q, want %q", left, want)
	}
	if removed, err := RemoveOld(filepath.Join(dir, "none"), now); err != nil || removed != nil {
		t.Errorf("a missing folder: %q, %v; want nothing", removed, err)
	}
}

func TestWriteArchiveFile(t *testing.T) {
	f := newFixture(t, "")
	f.scenario()
	path := filepath.Join(t.TempDir(), "archives", "campaign.zip")
	n, err := f.e.WriteArchiveFile(path)
	if err != nil {
		t.Fatal(err)
	}
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	if n != len(z.File) || n < 8 {
		t.Errorf("%d entries reported, %d in the file; want the 7 submissions, the reports and the workbook", n, len(z.File))
	}
	if _, err := os.Stat(path + ".part"); !os.IsNotExist(err) {
		t.Errorf("the partial file stayed: %v", err)
	}
	// A damaged archive is caught by the read-back.
	data, _ := os.ReadFile(path)
	data[100] ^= 0xff
	bad := filepath.Join(t.TempDir(), "bad.zip")
	os.WriteFile(bad, data, 0o600)
	if _, err := verifyZip(bad); err == nil {
		t.Error("a damaged archive passed the read-back")
	}
}
