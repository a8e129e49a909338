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
			res.Problems = append(res.Problems, UnitProblem{r.Unit, "没有交统计表"})
			continue
		}
		s := r.Submissions[*latest]
		if !strings.EqualFold(filepath.Ext(s.FileName), ".xlsx") {
			res.Problems = append(res.Problems, UnitProblem{r.Unit, fmt.Sprintf("《%s》不是 .xlsx：请用 Excel 或 WPS 另存为 .xlsx 后重发", s.FileName)})
			continue
		}
		data, err := e.Source.Blob(s.Blob)
		if err != nil {
			return nil, err
		}
		values, diff := compare(layout, data)
		if diff != "" {
			res.Problems = append(res.Problems, UnitProblem{r.Unit, fmt.Sprintf("《%s》与模板不符：%s", s.FileName, diff)})
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

// compare checks a unit's workbook against the template's layout and returns
// its numbers, or what differs (the first few differences).
func compare(l layout, data []byte) (map[string]map[string]float64, string) {
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, "打不开（" + err.Error() + "）"
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

func (e *Exporter) mergeSheet(f *excelize.File, t *schedules.Task, n int, res *MergeResult) error {
	const name = "合并情况"
	if _, err := f.NewSheet(name); err != nil {
		return err
	}
	title := fmt.Sprintf("%s %s：合计 %d 个单位的统计表", t.Name, t.Label(n), len(res.Merged))
	rows := [][]any{{title}, {"单位", "情况"}}
	for _, u := range res.Merged {
		rows = append(rows, []any{u, "已合计"})
	}
	for _, p := range res.Problems {
		rows = append(rows, []any{p.Unit, p.What})
	}
	for i, r := range rows {
		if err := f.SetSheetRow(name, cell(1, i+1), &r); err != nil {
			return err
		}
	}
	if err := f.SetColWidth(name, "A", "A", 14); err != nil {
		return err
	}
	return f.SetColWidth(name, "B", "B", 80)
}
