package main

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

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
	// check refuses a campaign the data cannot take (see checkBare); nil: none.
	check func(*schedules.Schedule) error

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
	f.list = func() ([]string, error) { return slices.Sorted(maps.Keys(f.byPath)), nil }
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
	for _, p := range slices.Sorted(maps.Keys(byPath)) {
		list = append(list, byPath[p])
	}
	return schedules.NewSet(list...)
}

// checkWith has reloads refuse a campaign that check refuses.
func (f *scheduleFiles) checkWith(check func(*schedules.Schedule) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.check = check
}

// accepts reports whether s may replace the campaign of the file at path:
// the data takes it (see checkBare) and it goes with the other campaigns (an
// id of its own).
func (f *scheduleFiles) accepts(path string, s *schedules.Schedule) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.check != nil {
		if err := f.check(s); err != nil {
			return err
		}
	}
	next := maps.Clone(f.byPath)
	next[path] = s
	_, err := f.build(next)
	return err
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
		next = maps.Clone(f.byPath)
	}
	var u reloaded
	var errs []error
	for _, p := range paths {
		s, err := f.read(p)
		if err == nil && f.check != nil {
			err = f.check(s)
		}
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

// The data under bare task ids belongs to one campaign: the one without an
// id, or (schema 2) the one the bot ran before. Its span is kept, so that a
// different campaign without an id cannot take that data for its own (a June
// file reused for November with new dates), nor a campaign with an id adopt
// data of another time.
const (
	bareState = "campaigns"
	bareOwner = "bare_owner"
)

// span is when a campaign ran, as far as the bare data is concerned.
type span struct {
	from, to time.Time
	name     string
}

func (p span) String() string {
	return p.from.Format(time.RFC3339) + " " + p.to.Format(time.RFC3339) + " " + p.name
}

func parseSpan(v string) (span, bool) {
	f := strings.SplitN(v, " ", 3)
	if len(f) != 3 {
		return span{}, false
	}
	from, err1 := time.Parse(time.RFC3339, f[0])
	to, err2 := time.Parse(time.RFC3339, f[1])
	return span{from, to, f[2]}, err1 == nil && err2 == nil
}

func campaignSpan(c *schedules.Schedule) span { return span{c.Start, c.End, c.Name} }

// overlaps reports whether c could be the campaign of the data in p: their
// times meet, give or take a week.
func (p span) overlaps(c *schedules.Schedule) bool {
	return !p.to.Before(c.Start.AddDate(0, 0, -7)) && !p.from.After(c.End.AddDate(0, 0, 7))
}

// ownerOfBare is the span of the bare data's campaign: as kept, else that of
// the submissions (a schema-2 file); ok is false when there is no bare data.
func ownerOfBare(db *store.DB) (p span, ok bool, err error) {
	v, err := db.AdapterState(bareState).Get(bareOwner)
	if err != nil {
		return span{}, false, err
	}
	if p, ok := parseSpan(v); ok {
		return p, true, nil
	}
	first, last, err := db.BareSpan()
	if err != nil || first.IsZero() {
		return span{}, false, err
	}
	return span{from: first, to: last}, true, nil
}

// checkBare refuses a campaign without an id over the bare data of another
// campaign: their reports would be counted together.
func checkBare(db *store.DB, c *schedules.Schedule) error {
	if c.ID != "" {
		return nil
	}
	owner, ok, err := ownerOfBare(db)
	if err != nil || !ok || owner.overlaps(c) {
		return err
	}
	id, line, before := c.ProposeID()
	what := "另一次活动"
	if owner.name != "" {
		what = "另一次活动「" + owner.name + "」"
	}
	return fmt.Errorf("%s：数据目录里已有%s（%s 至 %s）的数据，而这个日程「%s」（%s 至 %s）没有写活动代号 id，两次活动的报送会混在一起。"+
		"请在第%d行 %s 之前加一行：id = %q。原来的数据不受影响，仍可用 reportbot export 导出",
		c.Source, what, owner.from.Format(time.DateOnly), owner.to.Format(time.DateOnly),
		c.Name, c.Start.Format(time.DateOnly), c.End.Format(time.DateOnly), line, before, id)
}

// adoptBare files the data that no campaign claims under the campaign it
// belongs to (see adoptionTarget); the campaign without an id keeps it where
// it is (only the sent-log's old keys are renamed).
func adoptBare(db *store.DB, set *schedules.Set, log zerolog.Logger) error {
	state := db.AdapterState(bareState)
	for _, c := range set.All() {
		if c.ID == "" {
			if err := checkBare(db, c); err != nil {
				return err
			}
			if err := state.Put(bareOwner, campaignSpan(c).String()); err != nil {
				return err
			}
			return adoptInto(db, c, log)
		}
	}
	bare, err := db.BareTasks()
	if err != nil || len(bare) == 0 {
		return err
	}
	owner, _, err := ownerOfBare(db)
	if err != nil {
		return err
	}
	c := adoptionTarget(set, bare, owner)
	if c == nil {
		log.Warn().Strs("tasks", bare).Str("owner", owner.String()).Msg("earlier data of no campaign in force: left where it is")
		return nil
	}
	return adoptInto(db, c, log)
}

// adoptionTarget is the campaign that data under the bare task ids belongs
// to: the one without an id, else, of those whose time meets the data's, the
// one with the most of those tasks, the earliest on a tie; nil for none.
func adoptionTarget(set *schedules.Set, bare []string, owner span) *schedules.Schedule {
	var best *schedules.Schedule
	bestN := 0
	for _, c := range set.All() {
		if c.ID == "" {
			return c
		}
		if !owner.from.IsZero() && !owner.overlaps(c) {
			continue
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
	if c.ID != "" {
		// The bare data has its campaign now; what is bare from here on is new.
		if err := db.AdapterState(bareState).Put(bareOwner, ""); err != nil {
			return err
		}
	}
	if n > 0 {
		log.Info().Str("campaign", c.ID).Str("name", c.Name).Int("entries", n).Msg("earlier data filed under its campaign")
	}
	return nil
}
