package store

import (
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

// Backup writes a copy into dir as reportbot-YYYYMMDD-HHMMSS.db, readable by
// the bot's user only, and removes all but the newest keep backups there.
func (s *DB) Backup(dir string, now time.Time, keep int) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	path := filepath.Join(dir, "reportbot-"+now.Format("20060102-150405")+".db")
	tmp, err := os.CreateTemp(dir, ".backup-*")
	if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("backup: %w", err)
	}
	if _, err := s.WriteTo(tmp); err != nil {
		tmp.Close()
		return "", fmt.Errorf("backup: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
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
// the backup first (a reportbot database that bbolt finds consistent), keeps
// the current database beside it as reportbot.db.before-restore-…, and fails
// if a running bot holds the database.
func Restore(dataDir, backup string, now time.Time) (kept string, err error) {
	b, err := OpenFile(backup, Options{ReadOnly: true})
	if err != nil {
		return "", fmt.Errorf("restore: %s is not a usable backup: %w", backup, err)
	}
	if err := b.Check(); err != nil {
		b.Close()
		return "", fmt.Errorf("restore: %s is damaged: %w", backup, err)
	}
	b.Close()
	current := filepath.Join(dataDir, FileName)
	if _, err := os.Stat(current); err == nil {
		// Take the lock, so that a running bot makes this fail instead of losing its writes.
		db, err := OpenFile(current, Options{})
		if err != nil {
			return "", fmt.Errorf("restore: %w", err)
		}
		db.Close()
		kept = current + ".before-restore-" + now.Format("20060102-150405")
		if err := os.Rename(current, kept); err != nil {
			return "", fmt.Errorf("restore: %w", err)
		}
	}
	if err := copyFile(backup, current); err != nil {
		return kept, fmt.Errorf("restore: %w", err)
	}
	return kept, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
