package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchSchedules calls changed with the path of each schedule file written,
// replaced, removed or created again, once things settle for debounce. It
// watches the directory, because editors save by writing a new file and
// renaming it over the old one, which a watch on the file itself would lose.
// It returns when ctx ends.
func watchSchedules(ctx context.Context, f *scheduleFiles, debounce time.Duration, changed func(path string)) error {
	dir, match := filepath.Dir(filepath.Clean(f.path)), func(name string) bool { return name == filepath.Clean(f.path) }
	if f.dir {
		dir, match = filepath.Clean(f.path), func(name string) bool { return filepath.Dir(name) == dir && f.owns(name) }
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", f.path, err)
	}
	defer w.Close()
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("watch %s: %w", f.path, err)
	}
	var timer *time.Timer
	var fire <-chan time.Time
	pending := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-w.Errors:
			return fmt.Errorf("watch %s: %w", f.path, err)
		case e := <-w.Events:
			name := filepath.Clean(e.Name)
			if !match(name) || e.Op == fsnotify.Chmod {
				continue
			}
			pending[name] = true
			if timer == nil {
				timer = time.NewTimer(debounce)
			} else {
				timer.Reset(debounce)
			}
			fire = timer.C
		case <-fire:
			fire = nil
			names := make([]string, 0, len(pending))
			for name := range pending {
				names = append(names, name)
			}
			sort.Strings(names)
			clear(pending)
			for _, name := range names {
				changed(name)
			}
		}
	}
}
