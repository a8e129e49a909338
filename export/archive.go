package export

import (
	"archive/zip"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"reportbot/schedules"
)

// Archive streams the materials of a task period (every task and period when
// t is nil) as a ZIP: 任务名/第N期/单位名/ holding each submission, texts as
// .txt and media under a name made of the time, the member and the original
// name, plus the statistics workbook at the top. The whole-campaign archive
// also holds each period's 汇编 in the period's folder, since it is the one
// file that stands for everything collected; a period's archive leaves it
// out because it always travels next to that period's 汇编 (WriteFiles, the
// dashboard), and building the document twice would double the photo work.
func (e *Exporter) Archive(w io.Writer, t *schedules.Task, n int) error {
	z := zip.NewWriter(w)
	type job struct {
		t *schedules.Task
		n int
	}
	var jobs []job
	if t != nil {
		jobs = append(jobs, job{t, n})
	} else {
		for _, t := range e.Schedule.Tasks {
			for _, p := range t.Periods {
				jobs = append(jobs, job{t, p.N})
			}
		}
	}
	exported := e.entryTime(e.now())
	for _, j := range jobs {
		reports, err := e.reports(j.t, j.n)
		if err != nil {
			return err
		}
		periodDir := path.Join(SafeName(j.t.Name, 60), fmt.Sprintf("第%d期", j.n))
		for _, r := range reports {
			dir := path.Join(periodDir, SafeName(r.Unit, 40)) + "/"
			used := map[string]bool{}
			for _, s := range r.Submissions {
				at := e.entryTime(s.At)
				name := memberFileName(at.Format("20060102-150405"), s.Member, s.FileName, s.Kind)
				name = unique(name, used)
				hdr := &zip.FileHeader{Name: dir + name, Modified: at, Method: zip.Deflate}
				if s.Kind == schedules.Image || s.Kind == schedules.Video {
					hdr.Method = zip.Store // already compressed
				}
				f, err := z.CreateHeader(hdr)
				if err != nil {
					return err
				}
				if s.Kind == schedules.Text {
					_, err = io.WriteString(f, s.Text+"\n")
				} else {
					err = e.Source.WriteBlob(s.Blob, f)
				}
				if err != nil {
					return fmt.Errorf("archive %s: %w", dir+name, err)
				}
			}
		}
		if t == nil {
			name := periodDir + "/" + ReportName(j.t, j.n)
			// Stored: a DOCX is a ZIP already, deflating it again gains nothing.
			f, err := z.CreateHeader(&zip.FileHeader{Name: name, Modified: exported, Method: zip.Store})
			if err != nil {
				return err
			}
			if err := e.Report(f, j.t, j.n); err != nil {
				return fmt.Errorf("archive %s: %w", name, err)
			}
		}
	}
	f, err := z.CreateHeader(&zip.FileHeader{Name: WorkbookName, Modified: exported, Method: zip.Deflate})
	if err != nil {
		return err
	}
	if err := e.Workbook(f); err != nil {
		return err
	}
	return z.Close()
}

// dosEpoch is the earliest date a ZIP entry's MS-DOS date field can hold,
// a day late so that it is 1980 on every time zone's clock.
var dosEpoch = time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC)

// entryTime is the date an entry carries: at on the campaign's clock, since
// the MS-DOS date has no zone and Windows and Python show it as written (the
// bot's server may run on UTC), or the export time when at is missing or
// predates what the field can hold: a zero date is written as 1980-00-00,
// which some extractors refuse. The entry's name uses the same time so the
// two agree.
func (e *Exporter) entryTime(at time.Time) time.Time {
	if at.Before(dosEpoch) {
		at = e.now()
	}
	if e.Schedule != nil && e.Schedule.Location != nil {
		at = at.In(e.Schedule.Location)
	}
	return at
}

// memberFileName is "20260603-163000_张三_消防演练.png", or "…_张三_文字.txt" for a text.
func memberFileName(when, member, original string, kind schedules.Material) string {
	if kind == schedules.Text || original == "" {
		_, noun := kind.Noun()
		original = noun
		if kind == schedules.Text {
			original += ".txt"
		}
	}
	return SafeName(when+"_"+SafeName(member, 20)+"_"+SafeName(original, 80), 120)
}

// unique adds "(2)" before the extension until the name is not used in the folder.
func unique(name string, used map[string]bool) string {
	out := name
	ext := path.Ext(name)
	for i := 2; used[strings.ToLower(out)]; i++ {
		out = fmt.Sprintf("%s(%d)%s", strings.TrimSuffix(name, ext), i, ext)
	}
	used[strings.ToLower(out)] = true
	return out
}
