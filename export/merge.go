package export

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"reportbot/bot"
	"reportbot/schedules"
)

// MergeResult says whose tables were summed and whose were not, and why.
type MergeResult struct {
	Merged []string
	// Problems maps a unit to what is wrong with its table (missing, not .xlsx,
	// not the template's layout), in the config's unit order.
	Problems []UnitProblem
}

// UnitProblem is a unit whose table could not be merged.
type UnitProblem struct {
	Unit string
	What string
}

// Merge reads each unit's latest spreadsheet for the task period, checks it has
// the template's sheets and headers (every text cell of the template, in
// place), and writes the template with every numeric cell the sum over the
// units, plus a sheet that lists who was merged and what is wrong with the rest.
func (e *Exporter) Merge(w io.Writer, t *schedules.Task, n int) (*MergeResult, error) {
	if t.Template == "" {
		return nil, fmt.Errorf("「%s」没有统计表模板：在日程文件里给它写 template", t.Name)
	}
	tpl, err := excelize.OpenFile(t.Template)
	if err != nil {
		return nil, fmt.Errorf("open template %s: %w", t.Template, err)
	}
	defer tpl.Close()
	layout, err := readLayout(tpl)
	if err != nil {
		return nil, fmt.Errorf("read template %s: %w", t.Template, err)
	}
	reports, err := e.reports(t, n)
	if err != nil {
		return nil, err
	}
	sums := map[string]map[string]float64{} // sheet -> cell -> sum
	res := &MergeResult{}
	for _, r := range reports {
		var latest *int
		for i, s := range r.Submissions {
			if s.Kind == schedules.File && isSpreadsheet(s.FileName) {
				latest = &i
			}
		}
		if latest == nil {
			what := "未交"
			if r.Status == bot.Exempt {
				what = "免报"
			}
			res.Problems = append(res.Problems, UnitProblem{r.Unit, what})
			continue
		}
		s := r.Submissions[*latest]
		if !strings.EqualFold(filepath.Ext(s.FileName), ".xlsx") {
			res.Problems = append(res.Problems, UnitProblem{r.Unit, fmt.Sprintf("不是 .xlsx（交的是《%s》）：请用 Excel 或 WPS 另存为 .xlsx 后重发", s.FileName)})
			continue
		}
		data, err := e.Source.Blob(s.Blob)
		if err != nil {
			return nil, err
		}
		values, diff := compare(layout, data)
		switch diff {
		case "":
		case unreadable:
			res.Problems = append(res.Problems, UnitProblem{r.Unit, fmt.Sprintf("《%s》%s，请重新另存为 .xlsx 后重发", s.FileName, unreadable)})
			continue
		default:
			res.Problems = append(res.Problems, UnitProblem{r.Unit, "格式与模板不一致：" + diff})
			continue
		}
		for sheet, cells := range values {
			if sums[sheet] == nil {
				sums[sheet] = map[string]float64{}
			}
			for c, v := range cells {
				sums[sheet][c] += v
			}
		}
		res.Merged = append(res.Merged, r.Unit)
	}
	for sheet, cells := range sums {
		for c, v := range cells {
			if err := tpl.SetCellValue(sheet, c, v); err != nil {
				return nil, err
			}
		}
	}
	if err := coverage(tpl, layout, res, len(reports)); err != nil {
		return nil, err
	}
	if err := e.mergeSheet(tpl, t, n, res); err != nil {
		return nil, err
	}
	return res, tpl.Write(w)
}

// CheckTable compares a unit's .xlsx with its task's template as the merge
// will, and says what differs; "" when it matches (or there is no template to
// compare with: the merge says so then).
func CheckTable(t *schedules.Task, data []byte) string {
	if t.Template == "" {
		return ""
	}
	tpl, err := excelize.OpenFile(t.Template)
	if err != nil {
		return ""
	}
	defer tpl.Close()
	l, err := readLayout(tpl)
	if err != nil {
		return ""
	}
	_, diff := compare(l, data)
	return diff
}

func isSpreadsheet(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx", ".xls", ".et", ".csv":
		return true
	}
	return false
}

// layout is a template's text cells by sheet; its other cells are for numbers.
type layout map[string]map[string]string

func readLayout(f *excelize.File) (layout, error) {
	l := layout{}
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			return nil, err
		}
		l[sheet] = map[string]string{}
		for r, row := range rows {
			for c, v := range row {
				if v = strings.TrimSpace(v); v != "" && !isNumber(v) {
					l[sheet][cell(c+1, r+1)] = v
				}
			}
		}
	}
	return l, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), 64)
	return err == nil
}

// unreadable is compare's word for a file that is no workbook at all, which
// the merge tells apart from a workbook laid out differently.
const unreadable = "打不开（文件已损坏，或不是真正的 .xlsx）"

// compare checks a unit's workbook against the template's layout and returns
// its numbers, or what differs (the first few differences).
func compare(l layout, data []byte) (map[string]map[string]float64, string) {
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, unreadable
	}
	defer f.Close()
	var diffs []string
	values := map[string]map[string]float64{}
	sheets := make([]string, 0, len(l))
	for s := range l {
		sheets = append(sheets, s)
	}
	sort.Strings(sheets)
	for _, sheet := range sheets {
		rows, err := f.GetRows(sheet)
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("缺少工作表「%s」", sheet))
			continue
		}
		got := map[string]string{}
		for r, row := range rows {
			for c, v := range row {
				if v = strings.TrimSpace(v); v != "" {
					got[cell(c+1, r+1)] = v
				}
			}
		}
		cells := make([]string, 0, len(l[sheet]))
		for c := range l[sheet] {
			cells = append(cells, c)
		}
		sort.Slice(cells, func(i, j int) bool { return cellLess(cells[i], cells[j]) })
		at := func(c string) string { return where(l, sheet, c) }
		for _, c := range cells {
			if want := l[sheet][c]; got[c] != want {
				diffs = append(diffs, fmt.Sprintf("%s应为「%s」，实为「%s」", at(c), want, got[c]))
			}
		}
		values[sheet] = map[string]float64{}
		for c, v := range got {
			if _, header := l[sheet][c]; header {
				continue
			}
			n, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
			if err != nil {
				diffs = append(diffs, fmt.Sprintf("%s应填数字，实为「%s」", at(c), v))
				continue
			}
			values[sheet][c] = n
		}
	}
	if len(diffs) > 0 {
		if len(diffs) > 5 {
			diffs = append(diffs[:5], fmt.Sprintf("等共%d处", len(diffs)))
		}
		return nil, strings.Join(diffs, "；")
	}
	return values, ""
}

// where says where a cell is as people who fill the table see it: "第2行
// “宣传活动（场）”的“数量”" (the row's and the column's headers from the
// template), with the sheet's name when the template has several sheets.
func where(l layout, sheet, c string) string {
	col, row, err := excelize.CellNameToCoordinates(c)
	if err != nil {
		return c
	}
	var rowLabel, colLabel string
	rowAt, colAt := 0, 0
	for name, text := range l[sheet] {
		cc, rr, err := excelize.CellNameToCoordinates(name)
		if err != nil {
			continue
		}
		if rr == row && cc < col && (rowAt == 0 || cc < rowAt) {
			rowLabel, rowAt = text, cc
		}
		if cc == col && rr < row && rr > colAt {
			colLabel, colAt = text, rr
		}
	}
	out := fmt.Sprintf("第%d行", row)
	if rowLabel != "" {
		out += "“" + rowLabel + "”"
	}
	switch {
	case colLabel != "":
		out += "的“" + colLabel + "”"
	case rowLabel == "":
		out += fmt.Sprintf("第%d列", col)
	}
	if len(l) > 1 {
		out = "工作表「" + sheet + "」" + out
	}
	return out
}

func cellLess(a, b string) bool {
	ac, ar, _ := excelize.CellNameToCoordinates(a)
	bc, br, _ := excelize.CellNameToCoordinates(b)
	if ar != br {
		return ar < br
	}
	return ac < bc
}

// coverage puts above each summed sheet how many units its figures cover:
// without it a table of 2 units out of 14 passes upward as the whole street's.
// A row is inserted rather than a cell taken, since every cell of the
// template may be part of its layout.
func coverage(f *excelize.File, l layout, res *MergeResult, units int) error {
	note := fmt.Sprintf("合计 %d 个单位（共 %d 个）", len(res.Merged), units)
	if len(res.Problems) > 0 {
		note += fmt.Sprintf("，未计入的 %d 个单位及原因见「%s」表", len(res.Problems), mergeSheetName)
	}
	style, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "C00000", Size: 11}})
	if err != nil {
		return err
	}
	for _, sheet := range f.GetSheetList() {
		if _, ok := l[sheet]; !ok {
			continue
		}
		if err := f.InsertRows(sheet, 1, 1); err != nil {
			return err
		}
		if err := f.SetCellValue(sheet, "A1", note); err != nil {
			return err
		}
		if err := f.SetCellStyle(sheet, "A1", "A1", style); err != nil {
			return err
		}
	}
	return nil
}

// mergeSheetName is the sheet that says whose tables were summed.
const mergeSheetName = "合并情况"

// mergeSheet lists every unit with whether its table was summed and, if
// not, why in words its sender can act on; wrapped to fit one page wide.
func (e *Exporter) mergeSheet(f *excelize.File, t *schedules.Task, n int, res *MergeResult) error {
	const name = mergeSheetName
	if _, err := f.NewSheet(name); err != nil {
		return err
	}
	if err := printA4(f, name, "portrait", 2); err != nil {
		return err
	}
	head := t.Name
	if l := t.Label(n); l != "" {
		head += " " + l
	}
	title := fmt.Sprintf("%s：合计 %d 个单位（共 %d 个）", head, len(res.Merged), len(res.Merged)+len(res.Problems))
	rows := [][]any{{title}, {"单位", "情况"}}
	for _, u := range res.Merged {
		rows = append(rows, []any{u, "已合计"})
	}
	for _, p := range res.Problems {
		rows = append(rows, []any{p.Unit, p.What})
	}
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true},
		Border: []excelize.Border{{Type: "bottom", Color: "BFBFBF", Style: 1}}})
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 12}})
	if err != nil {
		return err
	}
	header, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{Vertical: "center"},
		Border: []excelize.Border{{Type: "bottom", Color: "808080", Style: 1}}})
	if err != nil {
		return err
	}
	const widthB = 70
	for i, r := range rows {
		if err := f.SetSheetRow(name, cell(1, i+1), &r); err != nil {
			return err
		}
		style := wrap
		switch i {
		case 0:
			style = bold
		case 1:
			style = header
		}
		if i > 0 {
			if err := f.SetRowHeight(name, i+1, rowHeight(15, []string{fmt.Sprint(r[1])}, widthB)); err != nil {
				return err
			}
		}
		if err := f.SetCellStyle(name, cell(1, i+1), cell(2, i+1), style); err != nil {
			return err
		}
	}
	if err := f.SetColWidth(name, "A", "A", 14); err != nil {
		return err
	}
	return f.SetColWidth(name, "B", "B", widthB)
}
