package export

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"reportbot/bot"
	"reportbot/schedules"
)

// Fill colours of the statuses, as in the dashboard.
var statusFill = map[bot.Status]string{
	bot.Reported: "C6EFCE", bot.Late: "FFEB9C", bot.Partial: "FCD5B4", bot.Missing: "FFC7CE", bot.Exempt: "D9D9D9",
}

// Workbook writes the statistics workbook: a summary sheet with each task
// period's counts and rates, and one sheet per task with units as rows and
// periods as columns.
func (e *Exporter) Workbook(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	if err := f.SetSheetName("Sheet1", "汇总"); err != nil {
		return err
	}
	if err := e.summarySheet(f, st); err != nil {
		return err
	}
	names := map[string]bool{"汇总": true}
	for _, t := range e.Schedule.Tasks {
		name := sheetName(t.Name, names)
		if _, err := f.NewSheet(name); err != nil {
			return err
		}
		if err := e.taskSheet(f, st, name, t); err != nil {
			return fmt.Errorf("sheet %s: %w", name, err)
		}
	}
	f.SetActiveSheet(0)
	f.SetDocProps(&excelize.DocProperties{Title: e.Schedule.Name + " 报送统计", Creator: "reportbot"})
	return f.Write(w)
}

type styles struct {
	title, header, text, percent int
	status                       map[bot.Status]int
}

func newStyles(f *excelize.File) (*styles, error) {
	border := []excelize.Border{{Type: "left", Color: "BFBFBF", Style: 1}, {Type: "right", Color: "BFBFBF", Style: 1},
		{Type: "top", Color: "BFBFBF", Style: 1}, {Type: "bottom", Color: "BFBFBF", Style: 1}}
	font := &excelize.Font{Family: "宋体", Size: 11}
	st := &styles{status: map[bot.Status]int{}}
	var err error
	mk := func(s *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(s)
		return id
	}
	st.title = mk(&excelize.Style{Font: &excelize.Font{Family: "黑体", Size: 14, Bold: true}})
	st.header = mk(&excelize.Style{Font: &excelize.Font{Family: "黑体", Size: 11, Bold: true}, Border: border,
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}})
	st.text = mk(&excelize.Style{Font: font, Border: border, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}})
	st.percent = mk(&excelize.Style{Font: font, Border: border, NumFmt: 10, Alignment: &excelize.Alignment{Vertical: "center"}})
	for s, color := range statusFill {
		st.status[s] = mk(&excelize.Style{Font: font, Border: border, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{color}},
			Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}})
	}
	return st, err
}

// sheetName fits a task's name to Excel's rules: 31 characters, none of []:*?/\, unique.
func sheetName(name string, used map[string]bool) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '_'
		}
		return r
	}, name)
	r := []rune(name)
	if len(r) > 28 {
		r = r[:28]
	}
	base, out := string(r), string(r)
	for i := 2; used[out]; i++ {
		out = fmt.Sprintf("%s%d", base, i)
	}
	used[out] = true
	return out
}

func cell(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}

// printLandscape makes a sheet print landscape, as wide as one page. It must
// come before the sheet's stream writer, which keeps the settings it finds.
func printLandscape(f *excelize.File, sheet string) error {
	landscape, one, any := "landscape", 1, 0
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &[]bool{true}[0]}); err != nil {
		return err
	}
	return f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Orientation: &landscape, FitToWidth: &one, FitToHeight: &any})
}

func (e *Exporter) summarySheet(f *excelize.File, st *styles) error {
	if err := printLandscape(f, "汇总"); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter("汇总")
	if err != nil {
		return err
	}
	widths := []float64{38, 26, 8, 8, 8, 8, 8, 10, 10}
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 2, TopLeftCell: "A3", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	title := fmt.Sprintf("%s 报送统计（%d个单位，导出时间 %s）", e.Schedule.Name, len(e.Config.Units), e.now().Format("2006-01-02 15:04"))
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: st.title, Value: title}}); err != nil {
		return err
	}
	head := []string{"任务", "期次", "已报", "迟报", "部分", "未报", "免报", "按时率", "完成率"}
	row := make([]any, len(head))
	for i, h := range head {
		row[i] = excelize.Cell{StyleID: st.header, Value: h}
	}
	if err := sw.SetRow("A2", row, excelize.RowOpts{Height: 22}); err != nil {
		return err
	}
	r := 3
	for _, t := range e.Schedule.Tasks {
		for _, p := range t.Periods {
			reports, err := e.reports(t, p.N)
			if err != nil {
				return err
			}
			n := map[bot.Status]int{}
			for _, rep := range reports {
				n[rep.Status]++
			}
			units := len(reports)
			onTime, done := 0.0, 0.0
			if due := units - n[bot.Exempt]; due > 0 {
				onTime = float64(n[bot.Reported]) / float64(due)
				done = float64(n[bot.Reported]+n[bot.Late]) / float64(due)
			}
			vals := []any{
				excelize.Cell{StyleID: st.text, Value: t.Name},
				excelize.Cell{StyleID: st.text, Value: periodTitle(t, p)},
				excelize.Cell{StyleID: st.text, Value: n[bot.Reported]},
				excelize.Cell{StyleID: st.text, Value: n[bot.Late]},
				excelize.Cell{StyleID: st.text, Value: n[bot.Partial]},
				excelize.Cell{StyleID: st.text, Value: n[bot.Missing]},
				excelize.Cell{StyleID: st.text, Value: n[bot.Exempt]},
				excelize.Cell{StyleID: st.percent, Value: onTime},
				excelize.Cell{StyleID: st.percent, Value: done},
			}
			if t.Anytime {
				// 随时报送: nothing is owed, so neither missing units nor rates mean anything.
				blank := excelize.Cell{StyleID: st.text, Value: "—"}
				vals[4], vals[5], vals[6], vals[7], vals[8] = blank, blank, blank, blank, blank
			}
			if err := sw.SetRow(cell(1, r), vals); err != nil {
				return err
			}
			r++
		}
	}
	note := "按时率 = 按时报齐的单位 ÷ 应报单位（不含免报）；完成率把迟报也算上。"
	if err := sw.SetRow(cell(1, r+1), []any{note}); err != nil {
		return err
	}
	return sw.Flush()
}

func (e *Exporter) taskSheet(f *excelize.File, st *styles, name string, t *schedules.Task) error {
	if err := printLandscape(f, name); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, 1, 14); err != nil {
		return err
	}
	if err := sw.SetColWidth(2, 1+len(t.Periods), 24); err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 1, YSplit: 2, TopLeftCell: "B3", ActivePane: "bottomRight"}); err != nil {
		return err
	}
	var reqs []string
	for _, r := range t.Requires {
		reqs = append(reqs, r.String())
	}
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: st.title, Value: t.Name + "（要求：" + strings.Join(reqs, "、") + "）"}}); err != nil {
		return err
	}
	head := []any{excelize.Cell{StyleID: st.header, Value: "单位"}}
	grid := make([][]bot.UnitReport, len(t.Periods))
	for i, p := range t.Periods {
		head = append(head, excelize.Cell{StyleID: st.header, Value: periodTitle(t, p)})
		if grid[i], err = e.reports(t, p.N); err != nil {
			return err
		}
	}
	if err := sw.SetRow("A2", head, excelize.RowOpts{Height: 30}); err != nil {
		return err
	}
	for u, unit := range e.Config.Units {
		row := []any{excelize.Cell{StyleID: st.header, Value: unit.Name}}
		for i := range t.Periods {
			rep := grid[i][u]
			row = append(row, excelize.Cell{StyleID: st.status[rep.Status], Value: cellText(rep)})
		}
		if err := sw.SetRow(cell(1, 3+u), row, excelize.RowOpts{Height: 48}); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// cellText is a unit's period in one cell: status, when, what.
func cellText(r bot.UnitReport) string {
	lines := []string{r.Status.Label()}
	if n := len(r.Submissions); n > 0 {
		lines = append(lines, "最后 "+r.Submissions[n-1].At.Format("01-02 15:04"))
	}
	var counts []string
	for _, m := range []schedules.Material{schedules.Text, schedules.Image, schedules.File, schedules.Video} {
		if c := r.Counts.Of(m); c > 0 {
			_, noun := m.Noun()
			counts = append(counts, fmt.Sprintf("%s%d", noun, c))
		}
	}
	if len(counts) > 0 {
		lines = append(lines, strings.Join(counts, " "))
	}
	if r.Status == bot.Exempt || r.Mark.Status == bot.Reported {
		lines = append(lines, "（"+r.Mark.By+"标记）")
	}
	return strings.Join(lines, "\n")
}
