package export

import (
	"archive/zip"
	"fmt"
	"io"
	"path"
	"strings"

	"reportbot/schedules"
)

// Archive streams the materials of a task period (every task and period when
// t is nil) as a ZIP: 任务名/第N期/单位名/ holding each submission, texts as
// .txt and media under a name made of the time, the member and the original
// name, plus the statistics workbook at the top.
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
	for _, j := range jobs {
		reports, err := e.reports(j.t, j.n)
		if err != nil {
			return err
		}
		for _, r := range reports {
			dir := path.Join(SafeName(j.t.Name, 60), fmt.Sprintf("第%d期", j.n), SafeName(r.Unit, 40)) + "/"
			used := map[string]bool{}
			for _, s := range r.Submissions {
				name := memberFileName(s.At.Format("20060102-150405"), s.Member, s.FileName, s.Kind)
				name = unique(name, used)
				hdr := &zip.FileHeader{Name: dir + name, Modified: s.At, Method: zip.Deflate}
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
	}
	f, err := z.Create(WorkbookName)
	if err != nil {
		return err
	}
	if err := e.Workbook(f); err != nil {
		return err
	}
	return z.Close()
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
