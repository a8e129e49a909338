package export

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// RemoveOld deletes what the bot's 导出 left in dir (folders named by
// their time, "20260603-163000…") last written before before, and returns
// the names deleted. Anything else there is someone's own and stays; a
// missing dir is nothing to do.
func RemoveOld(dir string, before time.Time) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list old exports: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		if !exportName(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(before) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			errs = append(errs, fmt.Errorf("remove old export %s: %w", e.Name(), err))
			continue
		}
		removed = append(removed, e.Name())
	}
	return removed, errors.Join(errs...)
}

// exportName reports whether name starts as the bot names an export's
// folder: the time, YYYYMMDD-HHMMSS.
func exportName(name string) bool {
	if len(name) < 15 {
		return false
	}
	_, err := time.Parse("20060102-150405", name[:15])
	return err == nil
}

// WriteArchiveFile writes the whole campaign's archive (Archive) to path for
// keeps: on disk (fsynced, then renamed into place) and read back whole, each
// entry's checksum verified, before it returns. The caller then deletes the
// materials from the database, so the ZIP must be all there is and sound.
// It returns the number of entries.
func (e *Exporter) WriteArchiveFile(path string) (int, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return 0, fmt.Errorf("archive %s: %w", path, err)
	}
	if err := WriteFile(path, func(w io.Writer) error { return e.Archive(w, nil, 0) }); err != nil {
		return 0, fmt.Errorf("archive: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // the rename is on disk too; a directory that cannot sync is rare and harmless here
		d.Close()
	}
	n, err := verifyZip(path)
	if err != nil {
		return 0, fmt.Errorf("archive %s: read back: %w", path, err)
	}
	return n, nil
}

// verifyZip reads every entry of the ZIP at path to its end, which checks
// its CRC-32, and returns how many there are.
func verifyZip(path string) (int, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return 0, err
	}
	defer z.Close()
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", f.Name, err)
		}
		_, err = io.Copy(io.Discard, r)
		r.Close()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return len(z.File), nil
}
