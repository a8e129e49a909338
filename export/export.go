// Package export turns what the bot collected into the files coordinators send
// upward: the statistics workbook (XLSX), a period's compiled report with
// photos (DOCX), the materials archive (ZIP) and the units' statistics tables
// merged into one. Everything is streamed: media go from the store to the
// output one at a time, so memory stays flat however much was collected.
package export

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"reportbot/bot"
	"reportbot/schedules"
)

// Source is what exports read: the store.
type Source interface {
	bot.ReportSource
	// Blob returns the media stored under sum.
	Blob(sum string) ([]byte, error)
	// WriteBlob copies the media stored under sum to w without holding it in memory.
	WriteBlob(sum string, w io.Writer) error
}

// Exporter makes the files.
type Exporter struct {
	Config   *bot.Config
	Schedule *schedules.Schedule
	Source   Source
	// Now stamps the files ("导出时间").
	Now func() time.Time
	// Prints keeps the photos' print-size copies, made on first use (the
	// store opened for writing); nil makes them at every export, as a
	// read-only store must.
	Prints PrintCache
	// Warn hears what went wrong without spoiling the export: a print copy
	// that could not be kept. Nil: nothing is said.
	Warn func(error)
}

// File names of the exports.
const WorkbookName = "报送统计表.xlsx"

// ReportName is the compiled report's file name for a task period.
func ReportName(t *schedules.Task, n int) string { return fileBase(t, n) + "-汇编.docx" }

// ArchiveName is the materials archive's file name; t nil means every task.
func ArchiveName(t *schedules.Task, n int) string {
	if t == nil {
		return "全部材料.zip"
	}
	return fileBase(t, n) + "-材料.zip"
}

// MergedName is the merged statistics table's file name.
func MergedName(t *schedules.Task, n int) string { return fileBase(t, n) + "-合并统计表.xlsx" }

func fileBase(t *schedules.Task, n int) string {
	name := SafeName(t.Name, 60)
	if l := t.Label(n); l != "" {
		name += "-" + l
	}
	return name
}

// WriteFiles writes into dir the exports an admin asks for: for no task, the
// workbook; for a task, the period's compiled report, its materials and, when
// the task has a template, the merged table. It returns the paths written.
func (e *Exporter) WriteFiles(dir string, t *schedules.Task, n int) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	type file struct {
		name  string
		write func(io.Writer) error
	}
	var files []file
	if t == nil {
		files = append(files, file{WorkbookName, e.Workbook})
	} else {
		files = append(files,
			file{ReportName(t, n), func(w io.Writer) error { return e.Report(w, t, n) }},
			file{ArchiveName(t, n), func(w io.Writer) error { return e.Archive(w, t, n) }})
		if t.Template != "" {
			files = append(files, file{MergedName(t, n), func(w io.Writer) error { _, err := e.Merge(w, t, n); return err }})
		}
	}
	var paths []string
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := WriteFile(path, f.write); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// WriteAll writes into dir everything collected in the campaign: the
// workbook, every task period's 汇编 (a task without deadline has one) and
// the whole-campaign archive. It returns the paths written.
func (e *Exporter) WriteAll(dir string) ([]string, error) {
	paths, err := e.WriteFiles(dir, nil, 0)
	if err != nil {
		return paths, err
	}
	for _, t := range e.Schedule.Tasks {
		for _, p := range t.Periods {
			path := filepath.Join(dir, ReportName(t, p.N))
			if err := WriteFile(path, func(w io.Writer) error { return e.Report(w, t, p.N) }); err != nil {
				return paths, err
			}
			paths = append(paths, path)
		}
	}
	path := filepath.Join(dir, ArchiveName(nil, 0))
	if err := WriteFile(path, func(w io.Writer) error { return e.Archive(w, nil, 0) }); err != nil {
		return paths, err
	}
	return append(paths, path), nil
}

// WriteFile writes a file whole or not at all: into path.part, on disk
// (fsynced) before it is renamed into place.
func WriteFile(path string, write func(io.Writer) error) error {
	tmp := path + ".part"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("export %s: %w", filepath.Base(path), err)
	}
	return nil
}

// SafeName makes a name safe as one path element on every system: no path
// separators, no characters Windows refuses, no control characters, no
// leading dots, at most max characters (keeping the extension).
func SafeName(name string, max int) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == 0 || unicode.IsControl(r):
		case strings.ContainsRune(`/\:*?"<>|`, r):
			b.WriteRune('_')
		default:
			b.WriteRune(r)
		}
	}
	s := strings.TrimSpace(b.String())
	s = strings.TrimLeft(s, ". ")
	s = strings.TrimRight(s, ". ")
	if s == "" {
		s = "未命名"
	}
	if r := []rune(s); len(r) > max {
		ext := []rune(filepath.Ext(s))
		if len(ext) > 10 || len(ext) >= max {
			ext = nil
		}
		s = string(r[:max-len(ext)]) + string(ext)
	}
	return s
}

// reports is every unit's report for a period, in config order.
func (e *Exporter) reports(t *schedules.Task, n int) ([]bot.UnitReport, error) {
	r, err := bot.Reports(e.Source, e.Config.Units, t, n)
	if err != nil {
		return nil, fmt.Errorf("read %s period %d: %w", t.ID, n, err)
	}
	return r, nil
}

func (e *Exporter) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// periodTitle is "第2期（6月11日 截止）" or the due date alone.
func periodTitle(t *schedules.Task, p schedules.Period) string {
	if t.Anytime {
		return "随时报送"
	}
	due := fmt.Sprintf("%d月%d日截止", p.Due.Month(), p.Due.Day())
	if l := t.Label(p.N); l != "" {
		return l + "（" + due + "）"
	}
	return due
}
