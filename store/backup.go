package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BackupDir is where backups go inside the data directory.
const BackupDir = "backups"

// WriteTo writes a consistent copy of the whole database to w while the bot
// keeps running (a read transaction: writers are not blocked).
func (s *DB) WriteTo(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// compactTxSize bounds one transaction of a backup's compaction: the pages
// a transaction writes are held in memory until it commits.
const compactTxSize = 32 << 20

// Backup writes a compacted copy into dir as reportbot-YYYYMMDD-HHMMSS.db,
// readable by the bot's user only, and removes all but the newest keep
// backups there. bbolt files never shrink: a page copy (Tx.WriteTo) would
// carry every page the live file ever freed, so the keys are written afresh
// into a new file instead, in a read transaction (writers are not blocked).
func (s *DB) Backup(dir string, now time.Time, keep int) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	path := filepath.Join(dir, "reportbot-"+now.Format("20060102-150405")+".db")
	tmp, err := os.CreateTemp(dir, ".backup-*")
	if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := compactInto(tmp.Name(), s.db); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	// What a restore will check anyway, checked while the live file is still good.
	if err := Preflight(tmp.Name()); err != nil {
		return "", fmt.Errorf("backup: the copy written is not sound: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	if keep > 0 {
		old, _ := Backups(dir)
		for len(old) > keep {
			os.Remove(old[0])
			old = old[1:]
		}
	}
	return path, nil
}

// compactInto writes src's keys into the new bbolt file at path, cut to its
// high-water mark (bbolt grows a file ahead of its data) and on disk.
func compactInto(path string, src *bolt.DB) error {
	dst, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return err
	}
	// One fsync at the end instead of one per transaction: a copy that is
	// not finished is never renamed into place.
	dst.NoSync = true
	if err := bolt.Compact(dst, src, compactTxSize); err != nil {
		dst.Close()
		return fmt.Errorf("compact: %w", err)
	}
	var size int64
	if err := dst.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Backups lists the backups in dir, oldest first.
func Backups(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "reportbot-") && strings.HasSuffix(e.Name(), ".db") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out) // the names sort by time
	return out, nil
}

// Restore puts the backup file in place of the database in dataDir. It checks
// the backup first (the preflight, then bbolt's Check and the schema), keeps
// the current database beside it as reportbot.db.before-restore-… (removing
// older such copies: the newest is the one that may be wanted back), and
// fails if a running bot holds the database. A current database that is
// itself damaged is kept the same way: that is when a restore is needed. On
// any refusal the current database is untouched.
func Restore(dataDir, backup string, now time.Time) (kept string, err error) {
	if err := CheckBackup(backup); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	current := filepath.Join(dataDir, FileName)
	if _, err := os.Stat(current); err == nil {
		// Hold the lock bbolt uses, so that a running bot makes this fail
		// instead of losing its writes; taken on the file itself, since a
		// damaged database cannot be opened.
		unlock, err := lockFile(current)
		if err != nil {
			return "", fmt.Errorf("restore: %w", err)
		}
		defer unlock()
		kept = current + keptInfix + now.Format("20060102-150405")
		if err := os.Rename(current, kept); err != nil {
			return "", fmt.Errorf("restore: %w", err)
		}
	}
	if err := copyFile(backup, current); err != nil {
		return kept, fmt.Errorf("restore: %w", err)
	}
	if kept != "" {
		older, _ := filepath.Glob(current + keptInfix + "*")
		for _, p := range older {
			if p != kept {
				os.Remove(p)
			}
		}
	}
	return kept, nil
}

// keptInfix names the copy of the database a restore keeps.
const keptInfix = ".before-restore-"

// CheckBackup says whether a file can be restored: the preflight, bbolt's
// Check of every page, and a reportbot schema. Its errors are DamagedErrors
// when the file is at fault.
func CheckBackup(path string) error {
	if err := Preflight(path); err != nil {
		return err
	}
	b, err := OpenFile(path, Options{ReadOnly: true})
	if err != nil {
		if errors.Is(err, ErrLocked) || errors.Is(err, ErrDamaged) {
			return err
		}
		return damaged(path, "不是 reportbot 的数据库，或者是更新版本写的（%v）", err)
	}
	defer b.Close()
	if err := b.Check(); err != nil {
		if errors.Is(err, ErrDamaged) {
			return err
		}
		return damaged(path, "逐页检查发现数据损坏（%v）", err)
	}
	return nil
}

// NewestGoodBackup is the newest backup in dir that CheckBackup passes,
// other than skip; "" when there is none.
func NewestGoodBackup(dir, skip string) string {
	list, _ := Backups(dir)
	skipped, _ := os.Stat(skip)
	for i := len(list) - 1; i >= 0; i-- {
		if st, err := os.Stat(list[i]); err == nil && skipped != nil && os.SameFile(st, skipped) {
			continue
		}
		if CheckBackup(list[i]) == nil {
			return list[i]
		}
	}
	return ""
}

// copyFile writes a copy of from at to, under a temporary name renamed into
// place once on disk: a copy cut short never becomes the database.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(to), ".restore-*")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	// A link, not a rename: a database that appeared meanwhile is not replaced.
	if err := os.Link(out.Name(), to); err != nil {
		return err
	}
	return syncDir(filepath.Dir(to))
}

// Compact shrinks the stopped bot's database in dataDir (bbolt files never
// shrink by themselves): it writes a compacted backup into dataDir/backups,
// as the daily one, and restores it, so the current file is kept beside it
// as a restore keeps it. It fails with ErrLocked while a bot runs, and
// leaves a damaged database alone (ErrDamaged).
func Compact(dataDir string, now time.Time, keep int) (backup, kept string, err error) {
	if _, err := os.Stat(filepath.Join(dataDir, FileName)); err != nil {
		return "", "", fmt.Errorf("compact: %w", err)
	}
	db, err := Open(dataDir, Options{})
	if err != nil {
		return "", "", fmt.Errorf("compact: %w", err)
	}
	backup, err = db.Backup(filepath.Join(dataDir, BackupDir), now, keep)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", "", fmt.Errorf("compact: %w", err)
	}
	kept, err = Restore(dataDir, backup, now)
	return backup, kept, err
}
