package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"reportbot/schedules"
	"reportbot/store"
)

// scheduleFiles are the campaigns' schedule files: one file, every .toml file
// of a folder (one campaign each, side by side or one after another), or the
// example built into the binary. Each file keeps its last good version: a bad
// edit of one campaign leaves it as it was and the others alone.
type scheduleFiles struct {
	path string // a file or a folder; "" for the example built in
	dir  bool
	// list and read find and read the files.
	list func() ([]string, error)
	read func(path string) (*schedules.Schedule, error)

	mu     sync.Mutex
	byPath map[string]*schedules.Schedule
	set    *schedules.Set
}

// openScheduleFiles reads every campaign at path ("" for the example); at the
// start every file must be right.
func openScheduleFiles(path string) (*scheduleFiles, error) {
	f := &scheduleFiles{path: path, byPath: map[string]*schedules.Schedule{}, list: func() ([]string, error) { return []string{path}, nil },
		read: schedules.Load}
	switch {
	case path == "":
		f.read = func(string) (*schedules.Schedule, error) {
			return schedules.Parse("schedule.example.toml", exampleSchedule)
		}
	default:
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("日程文件 %s：%w", path, err)
		}
		if f.dir = st.IsDir(); f.dir {
			f.list = f.folder
		}
	}
	paths, err := f.list()
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, p := range paths {
		s, err := f.read(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f.byPath[p] = s
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if f.set, err = f.build(f.byPath); err != nil {
		return nil, err
	}
	return f, nil
}

// fixedSchedules serves campaigns already read (benchmarks): a reload finds them again.
func fixedSchedules(list ...*schedules.Schedule) (*scheduleFiles, error) {
	f := &scheduleFiles{byPath: map[string]*schedules.Schedule{}}
	for _, s := range list {
		f.byPath[s.Source] = s
	}
	f.list = func() ([]string, error) { return sortedKeys(f.byPath), nil }
	f.read = func(path string) (*schedules.Schedule, error) { return f.byPath[path], nil }
	var err error
	f.set, err = schedules.NewSet(list...)
	return f, err
}

// folder lists the folder's schedule files by name (editors' hidden and
// backup files left out).
func (f *scheduleFiles) folder() ([]string, error) {
	entries, err := os.ReadDir(f.path)
	if err != nil {
		return nil, fmt.Errorf("日程文件夹 %s：%w", f.path, err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && f.owns(e.Name()) {
			out = append(out, filepath.Join(f.path, e.Name()))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("日程文件夹 %s 里没有日程文件（*.toml）：每个活动放一个，可从 schedule.example.toml 复制", f.path)
	}
	return out, nil
}

// owns reports whether a file name in the folder is a schedule file.
func (f *scheduleFiles) owns(name string) bool {
	name = filepath.Base(name)
	return strings.HasSuffix(name, ".toml") && !strings.HasPrefix(name, ".") && !strings.HasSuffix(name, "~")
}

func (f *scheduleFiles) build(byPath map[string]*schedules.Schedule) (*schedules.Set, error) {
	list := make([]*schedules.Schedule, 0, len(byPath))
	for _, p := range sortedKeys(byPath) {
		list = append(list, byPath[p])
	}
	return schedules.NewSet(list...)
}

func sortedKeys(m map[string]*schedules.Schedule) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Set is the campaigns in force.
func (f *scheduleFiles) Set() *schedules.Set {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.set
}

// first is the earliest campaign, for what needs one (the console's zone and start).
func (f *scheduleFiles) first() *schedules.Schedule { return f.Set().All()[0] }

// editable is the file behind a campaign that the dashboard may save, or "".
func (f *scheduleFiles) editable(s *schedules.Schedule) string {
	if f.path == "" {
		return ""
	}
	return s.Source
}

// reloaded is the outcome of reading files again.
type reloaded struct {
	set *schedules.Set
	// changed are the campaigns whose file changed (and took effect).
	changed []*schedules.Schedule
	// named are those whose file had no id and now has one: their data moves.
	named []*schedules.Schedule
}

// reload reads files again: all of them for "", else the one given (a watch
// event). A file with errors keeps its last good version and its errors are
// returned along with whatever took effect; a file gone from the folder is
// dropped only by a full reload (an editor's save removes and recreates it).
func (f *scheduleFiles) reload(only string) (reloaded, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var paths []string
	if only != "" && f.path != "" {
		if _, err := os.Stat(only); err != nil {
			return reloaded{set: f.set}, err
		}
		paths = []string{only}
	} else {
		var err error
		if paths, err = f.list(); err != nil {
			return reloaded{set: f.set}, err
		}
	}
	next := map[string]*schedules.Schedule{}
	if only != "" {
		for p, s := range f.byPath {
			next[p] = s
		}
	}
	var u reloaded
	var errs []error
	for _, p := range paths {
		s, err := f.read(p)
		if err != nil {
			errs = append(errs, err)
			if old, ok := f.byPath[p]; ok {
				next[p] = old
			}
			continue
		}
		next[p] = s
		old := f.byPath[p]
		if old == nil || old.Text != s.Text {
			u.changed = append(u.changed, s)
		}
		if old != nil && old.ID == "" && s.ID != "" {
			u.named = append(u.named, s)
		}
	}
	set, err := f.build(next)
	if err != nil {
		return reloaded{set: f.set}, errors.Join(append(errs, err)...)
	}
	f.byPath, f.set = next, set
	u.set = set
	return u, errors.Join(errs...)
}

// adoptBare gives the data that no campaign claims to the campaign it belongs
// to: a database of schema 2, or a campaign's file that had no id yet. The
// campaign without an id, if there is one, keeps it where it is (only the
// sent-log's old keys are renamed); else it goes to the campaign holding the
// most of its tasks, the earliest on a tie.
func adoptBare(db *store.DB, set *schedules.Set, log zerolog.Logger) error {
	for _, c := range set.All() {
		if c.ID == "" {
			return adoptInto(db, c, log)
		}
	}
	bare, err := db.BareTasks()
	if err != nil || len(bare) == 0 {
		return err
	}
	c := adoptionTarget(set, bare)
	if c == nil {
		log.Warn().Strs("tasks", bare).Msg("data of tasks no campaign has: left where it is")
		return nil
	}
	return adoptInto(db, c, log)
}

// adoptionTarget is the campaign that data under the bare task ids belongs
// to: the one without an id, else the one with the most of those tasks, the
// earliest on a tie; nil for none.
func adoptionTarget(set *schedules.Set, bare []string) *schedules.Schedule {
	var best *schedules.Schedule
	bestN := 0
	for _, c := range set.All() {
		if c.ID == "" {
			return c
		}
		n := 0
		for _, id := range bare {
			if c.TaskByID(id) != nil {
				n++
			}
		}
		if n > bestN {
			best, bestN = c, n
		}
	}
	return best
}

func adoptInto(db *store.DB, c *schedules.Schedule, log zerolog.Logger) error {
	tasks := map[string]bool{}
	for _, t := range c.Tasks {
		tasks[t.ID] = true
	}
	n, err := db.Adopt(store.Adoption{Prefix: c.KeyPrefix(), Tasks: tasks, SentKeys: c.LegacyKeys()})
	if err != nil {
		return err
	}
	if n > 0 {
		log.Info().Str("campaign", c.ID).Str("name", c.Name).Int("entries", n).Msg("earlier data filed under its campaign")
	}
	return nil
}
