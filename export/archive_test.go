package export

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"reportbot/bot"
	"reportbot/schedules"
)

// TestArchiveEntryDatesAndNames opens the whole-campaign archive the way
// coordinators' extractors do: every entry must carry a real date (a zero one
// reads as 1980-00-00, which some refuse) and every Chinese name the UTF-8
// flag (without it Windows shows the names garbled).
func TestArchiveEntryDatesAndNames(t *testing.T) {
	f := newFixture(t, "")
	f.scenario()
	// A submission whose time came in on a server clock in UTC is dated and
	// named on the campaign's clock, like everything else the coordinator sees.
	f.addAt(&bot.Submission{MsgID: "utc", Unit: "北岭村", Member: "赵六", Task: "weekly", Period: 2,
		At: time.Date(2026, 6, 10, 1, 5, 0, 0, time.UTC), Kind: schedules.Text, Text: "巡查3处。"})
	// One from before times were recorded gets the export time, never zero.
	f.addAt(&bot.Submission{MsgID: "zero", Unit: "北岭村", Member: "赵六", Task: "weekly", Period: 2,
		Kind: schedules.Text, Text: "补报。"})
	var out bytes.Buffer
	if err := f.e.Archive(&out, nil, 0); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	exported := f.e.Now()
	y2000 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	modified := map[string]time.Time{}
	for _, e := range z.File {
		modified[e.Name] = e.Modified
		if e.Modified.IsZero() || !e.Modified.After(y2000) || e.Modified.After(exported) {
			t.Errorf("%s: modified %v", e.Name, e.Modified)
		}
		if e.NonUTF8 {
			t.Errorf("%s: marked as not UTF-8", e.Name)
		}
		if !isASCII(e.Name) && e.Flags&0x800 == 0 {
			t.Errorf("%s: no UTF-8 flag (flags %#x)", e.Name, e.Flags)
		}
	}
	// The reader rebuilds the zone from the MS-DOS date and the extended
	// timestamp, so the wall clock checked here is what extractors show.
	for name, want := range map[string]string{
		WorkbookName: "2026-07-01 10:00",
		"本周典型做法、特色项目/第1期/东风社区/20260603-163100_东风社区-张三_消防演练.png": "2026-06-03 16:31",
		"本周典型做法、特色项目/第2期/北岭村/20260610-090500_赵六_文字.txt":         "2026-06-10 09:05",
		"本周典型做法、特色项目/第2期/北岭村/20260701-100000_赵六_文字.txt":         "2026-07-01 10:00",
		"本周典型做法、特色项目/第1期/本周典型做法、特色项目-第1期-汇编.docx":               "2026-07-01 10:00",
	} {
		got, ok := modified[name]
		if !ok {
			t.Errorf("no entry %s", name)
			continue
		}
		if got.Format("2006-01-02 15:04") != want {
			t.Errorf("%s: modified %s, want %s", name, got.Format("2006-01-02 15:04 MST"), want)
		}
	}
	// Every period of every task has its 汇编 in its folder, a task without
	// deadline (重要活动) one.
	files := unzip(t, out.Bytes())
	for _, task := range f.e.Schedule.Tasks {
		for _, p := range task.Periods {
			name := fmt.Sprintf("%s/第%d期/%s", SafeName(task.Name, 60), p.N, ReportName(task, p.N))
			doc, ok := files[name]
			if !ok {
				t.Errorf("no 汇编 %s", name)
				continue
			}
			if _, ok := unzip(t, doc)["word/document.xml"]; !ok {
				t.Errorf("%s is not a Word document", name)
			}
		}
	}
	if _, ok := files["重要活动/第1期/重要活动-汇编.docx"]; !ok {
		t.Error("no 汇编 for the task without deadline")
	}

	path := filepath.Join(t.TempDir(), ArchiveName(nil, 0))
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("python zipfile", func(t *testing.T) {
		if _, err := exec.LookPath("python3"); err != nil {
			t.Skip("no python3")
		}
		script := `import json, sys, zipfile
print(json.dumps([[i.filename, i.date_time] for i in zipfile.ZipFile(sys.argv[1]).infolist()]))`
		b, err := exec.Command("python3", "-c", script, path).Output()
		if err != nil {
			t.Fatal(err)
		}
		var infos [][2]json.RawMessage
		if err := json.Unmarshal(b, &infos); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		if len(infos) != len(z.File) {
			t.Errorf("python lists %d entries, Go %d", len(infos), len(z.File))
		}
		for _, info := range infos {
			var name string
			var dt [6]int
			if err := json.Unmarshal(info[0], &name); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(info[1], &dt); err != nil {
				t.Fatal(err)
			}
			// Python decodes a name as UTF-8 only when the flag says so.
			if _, ok := modified[name]; !ok {
				t.Errorf("python reads the name %q, not one Go wrote", name)
			}
			if dt[0] < 2000 || dt[1] < 1 || dt[1] > 12 || dt[2] < 1 || dt[2] > 31 {
				t.Errorf("%s: python date_time %v", name, dt)
			}
			if want := modified[name].Format("2006-01-02 15:04"); fmt.Sprintf("%04d-%02d-%02d %02d:%02d", dt[0], dt[1], dt[2], dt[3], dt[4]) != want {
				t.Errorf("%s: python date_time %v, Go %s", name, dt, want)
			}
		}
	})
	t.Run("unzip -l", func(t *testing.T) {
		if _, err := exec.LookPath("unzip"); err != nil {
			t.Skip("no unzip")
		}
		cmd := exec.Command("unzip", "-l", path)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		b, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		// Info-ZIP prints MM-DD-YYYY, Debian's build YYYY-MM-DD.
		line := regexp.MustCompile(`(?m)^\s*\d+\s+(?:(\d\d)-(\d\d)-(\d{4})|(\d{4})-(\d\d)-(\d\d))\s+\d\d:\d\d\s+(.+)$`)
		entries := line.FindAllStringSubmatch(string(b), -1)
		if len(entries) != len(z.File) {
			t.Errorf("unzip lists %d entries, want %d:\n%s", len(entries), len(z.File), b)
		}
		for _, m := range entries {
			year, month := m[3], m[1]
			if year == "" {
				year, month = m[4], m[5]
			}
			y, _ := strconv.Atoi(year)
			mo, _ := strconv.Atoi(month)
			if y < 2000 || mo < 1 || mo > 12 {
				t.Errorf("unzip shows %s", strings.TrimSpace(m[0]))
			}
		}
	})
}

// TestPeriodArchiveLeavesOutReport: a period's archive is sent next to its
// 汇编, so it does not build the document a second time.
func TestPeriodArchiveLeavesOutReport(t *testing.T) {
	f := newFixture(t, "")
	f.scenario()
	weekly := f.e.Schedule.TaskByID("weekly")
	var out bytes.Buffer
	if err := f.e.Archive(&out, weekly, 1); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range z.File {
		if strings.HasSuffix(e.Name, ".docx") && !strings.Contains(e.Name, "/南山村/") {
			t.Errorf("%s in a period's archive", e.Name)
		}
		if !e.Modified.After(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: modified %v", e.Name, e.Modified)
		}
	}
}

func TestWriteAllWritesEveryPeriodsReport(t *testing.T) {
	f := newFixture(t, "")
	f.scenario()
	dir := t.TempDir()
	paths, err := f.e.WriteAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{WorkbookName}
	for _, task := range f.e.Schedule.Tasks {
		for _, p := range task.Periods {
			want = append(want, ReportName(task, p.N))
		}
	}
	want = append(want, ArchiveName(nil, 0))
	var got []string
	for _, p := range paths {
		got = append(got, filepath.Base(p))
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("wrote\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func (f *fixture) addAt(s *bot.Submission) {
	f.t.Helper()
	if _, err := f.db.AddSubmission(s, nil); err != nil {
		f.t.Fatal(err)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
