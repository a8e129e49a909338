package export

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

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
	title, header, text, percent, dash int
	status                             map[bot.Status]int
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
	// A centred dash reads as "not applicable"; left-aligned beside a right-aligned number it looked like "0—".
	st.dash = mk(&excelize.Style{Font: font, Border: border, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}})
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

// pageFooter numbers the printed pages: a table handed round on paper must
// show whether a page is missing.
const pageFooter = "&C第 &P 页，共 &N 页"

// printA4 sets a sheet up for printing on A4 as wide as one page, however
// long, with its first titleRows rows repeated on every page so that a
// second page still says which column is which. It must come before the
// sheet's stream writer, which keeps the settings it finds.
func printA4(f *excelize.File, sheet, orientation string, titleRows int) error {
	a4, one, anyHeight := 9, 1, 0
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &[]bool{true}[0]}); err != nil {
		return err
	}
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Size: &a4, Orientation: &orientation, FitToWidth: &one, FitToHeight: &anyHeight}); err != nil {
		return err
	}
	if err := f.SetHeaderFooter(sheet, &excelize.HeaderFooterOptions{OddFooter: pageFooter}); err != nil {
		return err
	}
	if titleRows == 0 {
		return nil
	}
	return f.SetDefinedName(&excelize.DefinedName{
		Name:     "_xlnm.Print_Titles",
		RefersTo: fmt.Sprintf("'%s'!$1:$%d", strings.ReplaceAll(sheet, "'", "''"), titleRows),
		Scope:    sheet,
	})
}

func (e *Exporter) summarySheet(f *excelize.File, st *styles) error {
	if err := printA4(f, "汇总", "landscape", 2); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter("汇总")
	if err != nil {
		return err
	}
	widths := []float64{24, 20, 6, 6, 6, 6, 6, 8, 8, 60}
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
	head := []string{"任务", "期次", "已报", "迟报", "部分", "未报", "免报", "按时率", "完成率", "还差哪些单位（可直接发到群里）"}
	row := make([]any, len(head))
	for i, h := range head {
		row[i] = excelize.Cell{StyleID: st.header, Value: h}
	}
	if err := sw.SetRow("A2", row, excelize.RowOpts{Height: 30}); err != nil {
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
			chase := chaseLine(reports, p, e.now())
			if t.Anytime {
				chase = "—"
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
				excelize.Cell{StyleID: st.text, Value: chase},
			}
			if t.Anytime {
				// 随时报送: nothing is owed, so neither missing units nor rates mean anything.
				blank := excelize.Cell{StyleID: st.dash, Value: "—"}
				vals[4], vals[5], vals[6], vals[7], vals[8], vals[9] = blank, blank, blank, blank, blank, blank
			}
			height := rowHeight(18, []string{t.Name, periodTitle(t, p), chase}, widths[0], widths[1], widths[9])
			if err := sw.SetRow(cell(1, r), vals, excelize.RowOpts{Height: height}); err != nil {
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
	if err := printA4(f, name, "landscape", 2); err != nil {
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
		var texts []string
		for i := range t.Periods {
			rep := grid[i][u]
			c := excelize.Cell{StyleID: st.status[rep.Status], Value: cellText(rep)}
			if t.Anytime {
				c = anytimeCell(st, rep)
			}
			row = append(row, c)
			texts = append(texts, c.Value.(string))
		}
		if err := sw.SetRow(cell(1, 3+u), row, excelize.RowOpts{Height: rowHeight(21, texts, 24)}); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// chaseLine names the units that still owe a period, in the words a
// coordinator posts to the group: "未报：东风社区、北岭村；部分：南山村（还差至少1张图片）".
// A period not yet open owes nothing: listing every unit would be a false alarm.
func chaseLine(reports []bot.UnitReport, p schedules.Period, now time.Time) string {
	if p.Opens.After(now) {
		return "未开始"
	}
	var missing, partial []string
	for _, r := range reports {
		switch r.Status {
		case bot.Missing:
			missing = append(missing, r.Unit)
		case bot.Partial:
			partial = append(partial, r.Unit+"（还差"+r.MissingText()+"）")
		}
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "未报："+strings.Join(missing, "、"))
	}
	if len(partial) > 0 {
		parts = append(parts, "部分："+strings.Join(partial, "、"))
	}
	if len(parts) == 0 {
		return "已全部报齐"
	}
	return strings.Join(parts, "；")
}

// anytimeCell is a unit's share of a task without deadline: what it sent, or
// "—". Nothing is owed there, so no unit is ever 未报 or 部分.
func anytimeCell(st *styles, r bot.UnitReport) excelize.Cell {
	if r.Status == bot.Exempt {
		return excelize.Cell{StyleID: st.status[bot.Exempt], Value: cellText(r)}
	}
	var lines []string
	if n := len(r.Submissions); n > 0 {
		lines = append(lines, r.CountsText(), "最后 "+r.Submissions[n-1].At.Format("01-02 15:04"))
	}
	if r.Mark.Status == bot.Reported {
		lines = append(lines, "（"+r.Mark.By+"标记）")
	}
	if len(lines) == 0 {
		return excelize.Cell{StyleID: st.dash, Value: "—"}
	}
	return excelize.Cell{StyleID: st.status[bot.Reported], Value: strings.Join(lines, "\n")}
}

// rowHeight is a row's height in points, enough for its tallest wrapped
// cell: a streamed sheet is never measured by Excel, and a clipped 还差 line
// would hide what a unit lacks. texts[i] sits in a column widths[i] wide, the
// last width serving the rest.
func rowHeight(least float64, texts []string, widths ...float64) float64 {
	const line = 15 // points per line of an 11-point font
	h := least
	for i, text := range texts {
		w := widths[len(widths)-1]
		if i < len(widths) {
			w = widths[i]
		}
		n := 0
		for _, l := range strings.Split(text, "\n") {
			n += int(math.Ceil(math.Max(1, displayWidth(l)) / (w - 1)))
		}
		h = math.Max(h, float64(n)*line+6)
	}
	return h
}

// displayWidth is how many column-width units a line takes: Chinese characters two, others one.
func displayWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		if r > 0x2E7F {
			w += 2
		} else {
			w++
		}
	}
	return w
}

// cellText is a unit's period in one cell: status, when, what, and for a
// partial report what it still lacks, so that nobody has to work it out.
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
	if r.Status == bot.Partial {
		lines = append(lines, "还差"+r.MissingText())
	}
	if r.Status == bot.Exempt || r.Mark.Status == bot.Reported {
		lines = append(lines, "（"+r.Mark.By+"标记）")
	}
	return strings.Join(lines, "\n")
}
