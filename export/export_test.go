package export

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reportbot/bot"
	"reportbot/schedules"
	"reportbot/store"
)

type fixture struct {
	t   *testing.T
	db  *store.DB
	e   *Exporter
	loc *time.Location
	n   int
}

func newFixture(t *testing.T, schedule string) *fixture {
	t.Helper()
	cfg, err := bot.LoadConfig(filepath.Join("..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var s *schedules.Schedule
	if schedule == "" {
		s, err = schedules.Load(filepath.Join("..", "schedule.example.toml"))
	} else {
		s, err = schedules.Load(schedule)
	}
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	at := time.Date(2026, 7, 1, 10, 0, 0, 0, s.Location)
	return &fixture{t: t, db: db, loc: s.Location, e: &Exporter{Config: cfg, Schedule: s, Source: db, Now: func() time.Time { return at }}}
}

func (f *fixture) add(unit, member, task string, period int, when string, kind schedules.Material, text, name string, data []byte, late bool) {
	f.t.Helper()
	at, err := time.ParseInLocation("2006-01-02 15:04", when, f.loc)
	if err != nil {
		f.t.Fatal(err)
	}
	f.n++
	s := &bot.Submission{MsgID: "m" + string(rune('a'+f.n)) + when, Unit: unit, Member: member, Task: task, Period: period,
		At: at, Kind: kind, Text: text, FileName: name, Late: late}
	if data != nil {
		sum := sha256.Sum256(data)
		s.Blob, s.Size = hex.EncodeToString(sum[:]), int64(len(data))
	}
	if _, err := f.db.AddSubmission(s, data); err != nil {
		f.t.Fatal(err)
	}
}

func pngBytes(t *testing.T, w, h int, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// scenario: week 1 of the weekly report with every status.
func (f *fixture) scenario() {
	red := pngBytes(f.t, 64, 48, color.RGBA{200, 30, 30, 255})
	blue := pngBytes(f.t, 48, 64, color.RGBA{30, 30, 200, 255})
	f.add("东风社区", "东风社区-张三", "weekly", 1, "2026-06-03 16:30", schedules.Text, "本周典型做法：消防疏散演练，居民120人参加。", "", nil, false)
	f.add("东风社区", "东风社区-张三", "weekly", 1, "2026-06-03 16:31", schedules.Image, "", "消防演练.png", red, false)
	f.add("西湖社区", "西湖社区-李四", "weekly", 1, "2026-06-04 12:30", schedules.Text, "典型做法：走访独居老人23户。", "", nil, true)
	f.add("西湖社区", "西湖社区-李四", "weekly", 1, "2026-06-04 12:31", schedules.Image, "", "入户.png", blue, true)
	f.add("城建办", "陈静", "weekly", 1, "2026-06-04 11:20", schedules.Text, "典型做法：检查工地4处。", "", nil, false)
	// A unit's own Word report with a heading, a table and a photo inside.
	word := wordFile(f.t, unitWordBody, map[string][]byte{"media/image1.png": pngBytes(f.t, 40, 30, color.RGBA{30, 160, 60, 255})})
	f.add("南山村", "南山村-王五", "weekly", 1, "2026-06-04 09:40", schedules.File, "", "南山村典型做法.docx", word, false)
	f.add("南山村", "南山村-王五", "weekly", 1, "2026-06-04 09:41", schedules.Image, "", "河道巡查.png", blue, false)
	if err := f.db.SetMark("weekly", 1, "安监站", bot.Mark{Status: bot.Exempt, By: "王科长"}); err != nil {
		f.t.Fatal(err)
	}
	// 北岭村 sends nothing.
}

func TestWorkbookStatusesAndCounts(t *testing.T) {
	f := newFixture(t, "")
	f.scenario()
	var out bytes.Buffer
	if err := f.e.Workbook(&out); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&out)
	if err != nil {
		t.Fatal(err)
	}
	sheets := x.GetSheetList()
	if sheets[0] != "汇总" || len(sheets) != 1+len(f.e.Schedule.Tasks) {
		t.Fatalf("sheets %v", sheets)
	}
	weekly := "本周典型做法、特色项目"
	head, _ := x.GetCellValue(weekly, "B2")
	if !strings.HasPrefix(head, "第1期") {
		t.Errorf("B2 = %q", head)
	}
	for unit, want := range map[string]string{
		"东风社区": "已报\n最后 06-03 16:31\n文字1 图片1",
		"西湖社区": "迟报\n最后 06-04 12:31\n文字1 图片1",
		"南山村":  "已报\n最后 06-04 09:41\n图片1 文件1",
		"城建办":  "部分\n最后 06-04 11:20\n文字1\n还差至少1张图片",
		"北岭村":  "未报",
		"安监站":  "免报\n（王科长标记）",
	} {
		row := 3 + f.unitIndex(unit)
		got, _ := x.GetCellValue(weekly, cell(2, row))
		if name, _ := x.GetCellValue(weekly, cell(1, row)); name != unit || got != want {
			t.Errorf("%s: %q %q, want %q", unit, name, got, want)
		}
	}
	// The summary row of week 1: 2 on time, 1 late, 1 partial, 1 missing, 1 exempt; on time 2/5.
	rows, _ := x.GetRows("汇总")
	var week1 []string
	for _, r := range rows {
		if len(r) > 1 && r[0] == weekly && strings.HasPrefix(r[1], "第1期") {
			week1 = r
		}
	}
	if strings.Join(week1[2:7], ",") != "2,1,1,1,1" || week1[7] != "40.00%" || week1[8] != "60.00%" {
		t.Errorf("summary %q", week1)
	}
	panes, err := x.GetPanes(weekly)
	if err != nil || !panes.Freeze || panes.XSplit != 1 || panes.YSplit != 2 {
		t.Errorf("panes %+v %v", panes, err)
	}
	if w, _ := x.GetColWidth(weekly, "B"); w < 20 {
		t.Errorf("column width %v", w)
	}
}

func TestWorkbookPrintsAndNamesWhoOwes(t *testing.T) {
	f := newFixture(t, "")
	f.scenario()
	img := pngBytes(t, 8, 8, color.Black)
	f.add("东风社区", "东风社区-张三", "activity", 1, "2026-06-20 09:00", schedules.Text, "重要活动：应急演练。", "", nil, false)
	f.add("东风社区", "东风社区-张三", "activity", 1, "2026-06-20 09:01", schedules.Text, "补充：参加80人。", "", nil, false)
	f.add("东风社区", "东风社区-张三", "activity", 1, "2026-06-20 09:02", schedules.Image, "", "1.png", img, false)
	f.add("南山村", "南山村-王五", "activity", 1, "2026-06-21 10:00", schedules.Image, "", "2.png", img, false)
	for _, u := range []string{"东风社区", "西湖社区", "南山村", "北岭村", "城建办"} {
		f.add(u, u+"-甲", "consult", 1, "2026-06-16 10:00", schedules.Image, "", "3.png", img, false)
	}
	if err := f.db.SetMark("consult", 1, "安监站", bot.Mark{Status: bot.Exempt, By: "王科长"}); err != nil {
		t.Fatal(err)
	}
	workbook := func(now string) *excelize.File {
		t.Helper()
		at, _ := time.ParseInLocation("2006-01-02 15:04", now, f.loc)
		f.e.Now = func() time.Time { return at }
		var out bytes.Buffer
		if err := f.e.Workbook(&out); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(&out)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { x.Close() })
		return x
	}
	x := workbook("2026-07-01 10:00")
	for _, sheet := range x.GetSheetList() {
		checkPrint(t, x, sheet, "landscape")
	}

	const weekly, activity = "本周典型做法、特色项目", "重要活动"
	chase := func(x *excelize.File, task, period string) string {
		t.Helper()
		rows, _ := x.GetRows("汇总")
		if head := rows[1]; len(head) != 10 || head[9] != "还差哪些单位（可直接发到群里）" {
			t.Fatalf("summary columns %q", head)
		}
		for _, r := range rows {
			if len(r) > 9 && r[0] == task && strings.HasPrefix(r[1], period) {
				return r[9]
			}
		}
		t.Fatalf("no summary row for %s %s", task, period)
		return ""
	}
	early := workbook("2026-06-05 10:00")
	for _, c := range []struct {
		name         string
		x            *excelize.File
		task, period string
		want         string
	}{
		{"missing and partial", x, weekly, "第1期", "未报：北岭村；部分：城建办（还差至少1张图片）"},
		{"nobody reported", x, weekly, "第2期", "未报：东风社区、西湖社区、南山村、北岭村、安监站、城建办"},
		{"all in but one exempt", x, "6·16安全宣传咨询日活动", "", "已全部报齐"},
		{"not open yet", early, weekly, "第3期", "未开始"},
		{"open, not due", early, weekly, "第2期", "未报：东风社区、西湖社区、南山村、北岭村、安监站、城建办"},
		{"no deadline", x, activity, "随时报送", "—"},
	} {
		if got := chase(c.x, c.task, c.period); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}

	// A task without deadline shows what came, never 未报.
	for unit, want := range map[string]string{
		"东风社区": "文字2条，图片1张\n最后 06-20 09:02",
		"南山村":  "图片1张\n最后 06-21 10:00",
		"北岭村":  "—",
		"城建办":  "—",
	} {
		if got, _ := x.GetCellValue(activity, cell(2, 3+f.unitIndex(unit))); got != want {
			t.Errorf("%s %s: %q, want %q", activity, unit, got, want)
		}
	}
	rows, _ := x.GetRows(activity)
	for _, r := range rows[2:] {
		for _, v := range r[1:] {
			if strings.Contains(v, "未报") || strings.Contains(v, "部分") {
				t.Errorf("%s: %q", activity, v)
			}
		}
	}
	style, _ := x.GetCellStyle(activity, cell(2, 3+f.unitIndex("北岭村")))
	if fill, _ := x.GetStyle(style); len(fill.Fill.Color) > 0 && fill.Fill.Color[0] == statusFill[bot.Missing] {
		t.Errorf("%s: 北岭村 is filled red", activity)
	}
}

func (f *fixture) unitIndex(name string) int {
	for i, u := range f.e.Config.Units {
		if u.Name == name {
			return i
		}
	}
	f.t.Fatalf("no unit %s", name)
	return 0
}

func unzip(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = b
	}
	return out
}

func TestArchiveLayoutAndHostileNames(t *testing.T) {
	f := newFixture(t, "")
	f.scenario()
	img := pngBytes(t, 8, 8, color.Black)
	for _, name := range []string{"../../x.jpg", "/etc/passwd", "a\x00b.png", strings.Repeat("长", 300) + ".png", "C:\\Windows\\evil.png", "..", ".hidden"} {
		f.add("北岭村", "../赵六", "weekly", 2, "2026-06-10 09:00", schedules.File, "", name, img, false)
	}
	var out bytes.Buffer
	if err := f.e.Archive(&out, nil, 0); err != nil {
		t.Fatal(err)
	}
	files := unzip(t, out.Bytes())
	if _, ok := files[WorkbookName]; !ok {
		t.Error("no workbook in the archive")
	}
	text := "本周典型做法、特色项目/第1期/东风社区/20260603-163000_东风社区-张三_文字.txt"
	if got := string(files[text]); got != "本周典型做法：消防疏散演练，居民120人参加。\n" {
		t.Errorf("%s = %q", text, got)
	}
	photo := "本周典型做法、特色项目/第1期/东风社区/20260603-163100_东风社区-张三_消防演练.png"
	if !bytes.HasPrefix(files[photo], []byte("\x89PNG")) {
		t.Errorf("%s missing or not the photo", photo)
	}
	hostile := 0
	for name, data := range files {
		if name == WorkbookName {
			continue
		}
		parts := strings.Split(name, "/")
		if len(parts) == 3 && strings.HasPrefix(parts[2], parts[0]) && strings.HasSuffix(parts[2], "-汇编.docx") {
			continue // the period's 汇编, checked in TestArchiveEntryDatesAndNames
		}
		if len(parts) != 4 || strings.ContainsAny(name, "\x00\\:") || filepath.IsAbs(name) {
			t.Errorf("%q is not task/period/unit/file", name)
		}
		for _, p := range parts {
			if p == "" || p == "." || p == ".." || strings.HasPrefix(p, ".") || len([]rune(p)) > 120 {
				t.Errorf("%q has a bad element %q", name, p)
			}
		}
		if strings.HasPrefix(name, "本周典型做法、特色项目/第2期/北岭村/") {
			hostile++
			if !bytes.Equal(data, img) {
				t.Errorf("%s content differs", name)
			}
		}
	}
	if hostile != 7 {
		t.Errorf("%d hostile files inside 北岭村's folder, want 7", hostile)
	}
}

func TestMergeTables(t *testing.T) {
	dir := t.TempDir()
	makeTable := func(header string, values ...any) []byte {
		x := excelize.NewFile()
		x.SetSheetName("Sheet1", "统计表")
		x.SetSheetRow("统计表", "A1", &[]any{"项目", "数量"})
		x.SetSheetRow("统计表", "A2", &[]any{header, values[0]})
		x.SetSheetRow("统计表", "A3", &[]any{"参加人数", values[1]})
		var b bytes.Buffer
		x.Write(&b)
		return b.Bytes()
	}
	os.WriteFile(filepath.Join(dir, "统计表模板.xlsx"), makeTable("宣传活动（场）", 0, 0), 0o644)
	src, _ := os.ReadFile(filepath.Join("..", "schedule.example.toml"))
	sched := strings.Replace(string(src), `# template = "活动情况统计表.xlsx"`, `template = "统计表模板.xlsx"`, 1)
	os.WriteFile(filepath.Join(dir, "schedule.toml"), []byte(sched), 0o644)
	f := newFixture(t, filepath.Join(dir, "schedule.toml"))
	summary := f.e.Schedule.TaskByID("summary")
	if summary.Template == "" {
		t.Fatal("no template")
	}
	f.add("东风社区", "东风社区-张三", "summary", 1, "2026-06-29 10:00", schedules.File, "", "东风统计表.xlsx", makeTable("宣传活动（场）", 12, 1500), false)
	f.add("西湖社区", "西湖社区-李四", "summary", 1, "2026-06-29 10:00", schedules.File, "", "西湖.xlsx", makeTable("宣传活动（场）", 8, "900"), false)
	f.add("南山村", "南山村-王五", "summary", 1, "2026-06-29 10:00", schedules.File, "", "南山.xlsx", makeTable("宣传（场）", 3, 100), false)
	f.add("城建办", "陈静", "summary", 1, "2026-06-29 10:00", schedules.File, "", "城建.xls", []byte("old excel"), false)
	f.add("安监站", "刘洋", "summary", 1, "2026-06-29 10:00", schedules.File, "", "安监.xlsx", makeTable("宣传活动（场）", "五", 20), false)
	var out bytes.Buffer
	res, err := f.e.Merge(&out, summary, 1)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Merged, ",") != "东风社区,西湖社区" {
		t.Errorf("merged %v", res.Merged)
	}
	problems := map[string]string{}
	for _, p := range res.Problems {
		problems[p.Unit] = p.What
	}
	for unit, want := range map[string]string{
		"南山村": "第2行的“项目”应为「宣传活动（场）」，实为「宣传（场）」",
		"城建办": "不是 .xlsx",
		"安监站": "第2行“宣传活动（场）”的“数量”应填数字，实为「五」",
		"北岭村": "未交",
	} {
		if !strings.Contains(problems[unit], want) {
			t.Errorf("%s: %q, want %q", unit, problems[unit], want)
		}
	}
	x, err := excelize.OpenReader(&out)
	if err != nil {
		t.Fatal(err)
	}
	// The sums sit one row down, under the line that says whom they cover.
	if b3, _ := x.GetCellValue("统计表", "B3"); b3 != "20" {
		t.Errorf("B3 = %q, want 20", b3)
	}
	if b4, _ := x.GetCellValue("统计表", "B4"); b4 != "2400" {
		t.Errorf("B4 = %q, want 2400", b4)
	}
	if a1, _ := x.GetCellValue("统计表", "A1"); !strings.HasPrefix(a1, "合计 2 个单位（共 6 个）") || !strings.Contains(a1, "未计入的 4 个单位") {
		t.Errorf("统计表 A1 = %q", a1)
	}
	if a2, _ := x.GetCellValue("统计表", "A2"); a2 != "项目" {
		t.Errorf("the template's first row moved to %q", a2)
	}
	rows, err := x.GetRows("合并情况")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rows[0][0], "合计 2 个单位（共 6 个）") {
		t.Errorf("合并情况 title %q", rows[0][0])
	}
	listed := map[string]string{}
	for _, r := range rows[2:] {
		listed[r[0]] = r[1]
	}
	for unit, want := range map[string]string{
		"东风社区": "已合计",
		"南山村":  "格式与模板不一致：第2行",
		"城建办":  "不是 .xlsx（交的是《城建.xls》）",
		"北岭村":  "未交",
	} {
		if !strings.HasPrefix(listed[unit], want) {
			t.Errorf("合并情况 %s: %q, want %q…", unit, listed[unit], want)
		}
	}
	for unit, what := range listed {
		if cellRef.MatchString(what) {
			t.Errorf("合并情况 %s names a cell: %q", unit, what)
		}
	}
	checkPrint(t, x, "合并情况", "portrait")
}

// cellRef is a cell reference such as D3 or 统计表!D3, which people who fill
// the tables do not read.
var cellRef = regexp.MustCompile(`(^|[^A-Za-z])[A-Z]{1,3}[0-9]+|!`)

// checkPrint checks that a sheet prints on A4 in the orientation given, one
// page wide, with its first two rows on every page and numbered pages.
func checkPrint(t *testing.T, x *excelize.File, sheet, orientation string) {
	t.Helper()
	pl, err := x.GetPageLayout(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if *pl.Size != 9 || *pl.Orientation != orientation || pl.FitToWidth == nil || *pl.FitToWidth != 1 || pl.FitToHeight == nil || *pl.FitToHeight != 0 {
		t.Errorf("%s: paper %d %s, fit %v×%v; want A4 (9) %s, 1 page wide", sheet, *pl.Size, *pl.Orientation, pl.FitToWidth, pl.FitToHeight, orientation)
	}
	props, err := x.GetSheetProps(sheet)
	if err != nil || props.FitToPage == nil || !*props.FitToPage {
		t.Errorf("%s: fit to page not set: %v", sheet, err)
	}
	hf, err := x.GetHeaderFooter(sheet)
	if err != nil || !strings.Contains(hf.OddFooter, "&P") || !strings.Contains(hf.OddFooter, "&N") {
		t.Errorf("%s: footer %q %v, want page numbers", sheet, hf.OddFooter, err)
	}
	titles := ""
	for _, d := range x.GetDefinedName() {
		if d.Name == "_xlnm.Print_Titles" && d.Scope == sheet {
			titles = d.RefersTo
		}
	}
	if want := "'" + sheet + "'!$1:$2"; titles != want {
		t.Errorf("%s: print titles %q, want %q", sheet, titles, want)
	}
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"../../x.jpg":  "_.._x.jpg",
		"/etc/passwd":  "_etc_passwd",
		"a\x00b.png":   "ab.png",
		"..":           "未命名",
		".hidden":      "hidden",
		"正常的名字.docx":   "正常的名字.docx",
		"C:\\a\\b.png": "C__a_b.png",
	} {
		if got := SafeName(in, 100); got != want {
			t.Errorf("SafeName(%q) = %q, want %q", in, got, want)
		}
	}
	long := SafeName(strings.Repeat("长", 300)+".png", 100)
	if n := len([]rune(long)); n != 100 || !strings.HasSuffix(long, ".png") {
		t.Errorf("long name: %d characters, %q", n, long[len(long)-8:])
	}
}

func TestWriteFiles(t *testing.T) {
	f := newFixture(t, "")
	f.scenario()
	dir := filepath.Join(t.TempDir(), "out")
	paths, err := f.e.WriteFiles(dir, nil, 0)
	if err != nil || len(paths) != 1 || filepath.Base(paths[0]) != WorkbookName {
		t.Fatalf("%v %v", paths, err)
	}
	paths, err = f.e.WriteFiles(dir, f.e.Schedule.TaskByID("weekly"), 1)
	if err != nil || len(paths) != 2 {
		t.Fatalf("%v %v", paths, err)
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*.part")); len(matches) != 0 {
		t.Errorf("left %v", matches)
	}
}
