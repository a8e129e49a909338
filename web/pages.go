package web

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // thumbnails of the photos members send
	"image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/image/draw"

	"reportbot/bot"
	"reportbot/export"
	"reportbot/photo"
	"reportbot/schedules"
)

// matrix is a task's units × periods.
type matrix struct {
	Task    *schedules.Task
	Periods []column
	Rows    []row
	// current is where every unit stands for the current period, kept for
	// the panel of who is missing: it reads the same statuses as the cells.
	current []bot.UnitReport
}

type column struct {
	N       int
	Label   string
	Due     time.Time
	Current bool
	// Done counts units reported (on time or late) or exempt; OnTime on time.
	Done, OnTime, Total int
}

type row struct {
	Unit  string
	Cells []cellView
}

type cellView struct {
	Period int
	Status bot.Status
	Counts string
	// None marks a task without deadline that the unit sent nothing for: nothing is owed.
	None bool
	// Current is the current period's cell, kept in view on a narrow screen.
	Current bool
	// Mark is the coordinator's, when the status is theirs rather than the material's.
	Mark *bot.Mark
}

// Class is the cell's CSS classes: its status, then whether it is the
// current period's and whether a coordinator marked it by hand.
func (c cellView) Class() string {
	class := string(c.Status)
	if c.None {
		class = "none"
	}
	if c.Current {
		class += " now"
	}
	if c.Mark != nil {
		class += " manual"
	}
	return class
}

// manualMark is the mark that decides a unit's status, or nil: a mark taken
// back (Missing) leaves the status to the material.
func manualMark(r bot.UnitReport) *bot.Mark {
	if r.Mark.Status == bot.Reported || r.Mark.Status == bot.Exempt {
		m := r.Mark
		return &m
	}
	return nil
}

func (s *Server) matrix(t *schedules.Task) (*matrix, error) {
	m := &matrix{Task: t}
	current := bot.CurrentPeriod(t, s.o.Now()).N
	m.Rows = make([]row, len(s.o.Config.Units))
	for i, u := range s.o.Config.Units {
		m.Rows[i].Unit = u.Name
	}
	for _, p := range t.Periods {
		reports, err := bot.Statuses(s.o.Source, s.o.Config.Units, t, p.N) // counts only: the tallies

		if err != nil {
			return nil, err
		}
		if p.N == current {
			m.current = reports
		}
		label := t.Label(p.N)
		if label == "" {
			label = "全期"
		}
		// A task without deadline has one period and nothing current to keep in view.
		col := column{N: p.N, Label: label, Due: p.Due, Current: p.N == current && !t.Anytime, Total: len(reports)}
		for i, r := range reports {
			switch r.Status {
			case bot.Reported:
				col.Done++
				col.OnTime++
			case bot.Late, bot.Exempt:
				col.Done++
			}
			counts := ""
			if !r.Counts.IsZero() {
				counts = r.CountsText()
			}
			m.Rows[i].Cells = append(m.Rows[i].Cells, cellView{Period: p.N, Status: r.Status, Counts: counts,
				None: t.Anytime && r.Status == bot.Missing, Current: col.Current, Mark: manualMark(r)})
		}
		m.Periods = append(m.Periods, col)
	}
	return m, nil
}

// overviewPage is the matrices of a campaign's tasks (or of one task), the
// overview's led by who is still missing.
type overviewPage struct {
	// Owing is set on the overview only: the task page is one matrix.
	Owing     []deadline
	ShowOwing bool
	Matrices  []*matrix
}

// deadline is an open deadline and the units that still owe it.
type deadline struct {
	Task   *schedules.Task
	Period schedules.Period
	Label  string
	// Passed says the deadline is behind us, while late reports still count.
	Passed           bool
	Missing, Partial []bot.UnitReport
	// Text is the same list in the words a coordinator posts to the group.
	Text string
}

// openDeadline reports whether period p is one a coordinator chases now: due
// within the coming week, or passed within the last day while late reports
// still count, as the bot's own 还差谁 answers.
func openDeadline(t *schedules.Task, p schedules.Period, now time.Time) bool {
	if t.Anytime || !p.Due.Before(now.AddDate(0, 0, 7)) {
		return false
	}
	return !now.After(p.Due) || now.Before(p.Due.Add(24*time.Hour)) && now.Before(p.LateUntil)
}

// owing lists the open deadlines of the matrices' tasks, soonest first, with
// the units missing or partial for each.
func owing(all []*matrix, now time.Time) []deadline {
	var out []deadline
	for _, m := range all {
		p := bot.CurrentPeriod(m.Task, now)
		if !openDeadline(m.Task, p, now) {
			continue
		}
		d := deadline{Task: m.Task, Period: p, Label: m.Task.Label(p.N), Passed: now.After(p.Due)}
		for _, r := range m.current {
			switch r.Status {
			case bot.Missing:
				d.Missing = append(d.Missing, r)
			case bot.Partial:
				d.Partial = append(d.Partial, r)
			}
		}
		d.Text = d.groupText()
		out = append(out, d)
	}
	slices.SortStableFunc(out, func(a, b deadline) int { return a.Period.Due.Compare(b.Period.Due) })
	return out
}

// groupText is "「任务」第2期（截止…）" and a line for 未报 and for 部分 with
// what each lacks, as the workbook's summary words it; "" when nobody owes.
func (d deadline) groupText() string {
	if len(d.Missing)+len(d.Partial) == 0 {
		return ""
	}
	lines := []string{"「" + d.Task.Name + "」" + d.Label + "（截止" + schedules.FormatDue(d.Period.Due) + "）还没有报齐："}
	if len(d.Missing) > 0 {
		names := make([]string, len(d.Missing))
		for i, r := range d.Missing {
			names[i] = r.Unit
		}
		lines = append(lines, "未报："+strings.Join(names, "、"))
	}
	if len(d.Partial) > 0 {
		names := make([]string, len(d.Partial))
		for i, r := range d.Partial {
			names[i] = r.Unit + "（还差" + r.MissingText() + "）"
		}
		lines = append(lines, "部分："+strings.Join(names, "、"))
	}
	return strings.Join(lines, "\n")
}

// Lines is how many lines the text takes, for the height of its box.
func (d deadline) Lines() int { return strings.Count(d.Text, "\n") + 1 }

func (s *Server) overview(w http.ResponseWriter, r *http.Request, sess session) {
	sc, ok := s.inScope(w, r)
	if !ok {
		return
	}
	var all []*matrix
	for _, t := range sc.c.Tasks {
		m, err := s.matrix(t)
		if err != nil {
			s.fail(w, err)
			return
		}
		all = append(all, m)
	}
	s.ok(w, r, sess, sc, "overview.html", sc.c.Name, overviewPage{Owing: owing(all, s.o.Now()), ShowOwing: true, Matrices: all})
}

func (s *Server) task(w http.ResponseWriter, r *http.Request, sess session) {
	sc, ok := s.inScope(w, r)
	if !ok {
		return
	}
	t := sc.c.TaskByID(r.PathValue("task"))
	if t == nil {
		s.notFound(w, "这项任务")
		return
	}
	m, err := s.matrix(t)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.ok(w, r, sess, sc, "overview.html", t.Name, overviewPage{Matrices: []*matrix{m}})
}

func (s *Server) fail(w http.ResponseWriter, err error) {
	s.o.Logger.Error().Err(err).Msg("dashboard")
	http.Error(w, "出错了："+err.Error(), http.StatusInternalServerError)
}

// taskPeriod reads {task} and {period} from the path (or the form), a task
// of campaign c: task ids repeat across campaigns.
func taskPeriod(r *http.Request, c *schedules.Schedule) (*schedules.Task, schedules.Period, bool) {
	id, n := r.PathValue("task"), r.PathValue("period")
	if id == "" {
		id, n = r.FormValue("task"), r.FormValue("period")
	}
	t := c.TaskByID(id)
	if t == nil {
		return nil, schedules.Period{}, false
	}
	num, err := strconv.Atoi(n)
	if err != nil {
		return nil, schedules.Period{}, false
	}
	p, ok := t.Period(num)
	return t, p, ok
}

type item struct {
	bot.Submission
	Image bool
	Name  string // a file's download name
}

type cellPage struct {
	Task   *schedules.Task
	Period schedules.Period
	Label  string
	Report bot.UnitReport
	// Manual is the coordinator's mark that decides the status, or nil.
	Manual *bot.Mark
	Items  []item
}

func (s *Server) cell(w http.ResponseWriter, r *http.Request, sess session) {
	sc, ok := s.inScope(w, r)
	if !ok {
		return
	}
	t, p, ok := taskPeriod(r, sc.c)
	unit := r.PathValue("unit")
	if !ok || s.o.Config.Unit(unit) == nil {
		s.notFound(w, "这一格")
		return
	}
	rep, err := bot.UnitReportOf(s.o.Source, unit, t, p.N)
	if err != nil {
		s.fail(w, err)
		return
	}
	cp := cellPage{Task: t, Period: p, Label: t.Label(p.N), Report: rep, Manual: manualMark(rep)}
	// ?mark= asks before writing: a mark changes what the group is told, and
	// a button next to the material is easy to touch by mistake on a phone.
	if q, asked := r.URL.Query()["mark"]; asked {
		st := bot.Status(q[0])
		if !markable(st) {
			http.Error(w, "标记的状态不对", http.StatusBadRequest)
			return
		}
		s.ok(w, r, sess, sc, "confirm.html", "确认标记", confirmPage{cellPage: cp, Status: st})
		return
	}
	for _, sub := range cp.Report.Submissions {
		it := item{Submission: sub, Image: sub.Kind == schedules.Image}
		if sub.FileName != "" {
			it.Name = export.SafeName(sub.FileName, 100)
		}
		cp.Items = append(cp.Items, it)
	}
	s.ok(w, r, sess, sc, "cell.html", unit+" "+t.Name, cp)
}

// confirmPage asks whether to mark a cell Status (Missing: take the mark back).
type confirmPage struct {
	cellPage
	Status bot.Status
}

// markable reports whether a coordinator may mark a cell st: reported,
// exempt, or missing, which takes a mark back.
func markable(st bot.Status) bool {
	return st == bot.Reported || st == bot.Exempt || st == bot.Missing
}

// mark writes a mark confirmed on the cell's confirmation page.
func (s *Server) mark(w http.ResponseWriter, r *http.Request, sess session) {
	sc, ok := s.inScope(w, r)
	if !ok {
		return
	}
	t, p, ok := taskPeriod(r, sc.c)
	unit := r.PostFormValue("unit")
	st := bot.Status(r.PostFormValue("status"))
	if !ok || s.o.Config.Unit(unit) == nil || !markable(st) {
		http.Error(w, "标记的单位、任务或状态不对", http.StatusBadRequest)
		return
	}
	if err := s.o.Mark(t, p.N, unit, st, sess.admin); err != nil {
		s.fail(w, err)
		return
	}
	msg := "已标记为" + st.Label()
	if st == bot.Missing {
		msg = "已撤销标记"
	}
	back := withQuery(fmt.Sprintf("/cell/%s/%d/%s", pathEsc(t.ID), p.N, pathEsc(unit)), sc.param(), s.flashMsg(sess, msg))
	http.Redirect(w, r, back, http.StatusSeeOther)
}

type galleryPage struct {
	Task   *schedules.Task
	Period schedules.Period
	Label  string
	Photos []galleryPhoto
}

type galleryPhoto struct {
	Unit string
	// Text is what the unit wrote for the period, shortened for the card;
	// Full is all of it, for the card's tooltip.
	Text, Full string
	bot.Submission
}

// galleryText is how many characters of a unit's text a card shows: three
// lines of a card, the rest is on the cell page.
const galleryText = 60

func (s *Server) gallery(w http.ResponseWriter, r *http.Request, sess session) {
	sc, ok := s.inScope(w, r)
	if !ok {
		return
	}
	t, p, ok := taskPeriod(r, sc.c)
	if !ok {
		s.notFound(w, "这一期")
		return
	}
	reports, err := bot.Reports(s.o.Source, s.o.Config.Units, t, p.N)
	if err != nil {
		s.fail(w, err)
		return
	}
	g := galleryPage{Task: t, Period: p, Label: t.Label(p.N)}
	for _, rep := range reports {
		var texts []string
		for _, sub := range rep.Submissions {
			if sub.Kind == schedules.Text {
				texts = append(texts, withoutKeyword(sub.Text, t.Keywords))
			}
		}
		if len(texts) == 0 {
			// A Word file is the report's text then: say where it is rather than that there is none.
			for _, sub := range rep.Submissions {
				if sub.Kind == schedules.File && sub.FileName != "" {
					texts = append(texts, "文字说明见文件《"+sub.FileName+"》")
				}
			}
		}
		full := strings.Join(texts, "\n")
		for _, sub := range rep.Submissions {
			if sub.Kind == schedules.Image {
				g.Photos = append(g.Photos, galleryPhoto{Unit: rep.Unit, Text: shorten(full, galleryText), Full: full, Submission: sub})
			}
		}
	}
	s.ok(w, r, sess, sc, "gallery.html", t.Name+" 照片", g)
}

// withoutKeyword drops the label a member starts a report with so the bot
// files it under the task ("本周典型做法：…"): on a card it only repeats the
// page's title. A text with no such label stays as it is.
func withoutKeyword(text string, keywords []string) string {
	text = strings.TrimSpace(text)
	head, rest, ok := strings.Cut(text, "：")
	if !ok {
		head, rest, ok = strings.Cut(text, ":")
	}
	if !ok || utf8.RuneCountInString(head) > 12 {
		return text
	}
	for _, k := range keywords {
		if strings.Contains(head, k) {
			return strings.TrimSpace(rest)
		}
	}
	return text
}

// shorten keeps the first n characters of text on one line, with "…" when cut.
func shorten(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > n {
		return string(r[:n]) + "…"
	}
	return text
}

var sumRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// media serves a stored file by its content hash: never a path the request names.
func (s *Server) media(w http.ResponseWriter, r *http.Request, _ session) {
	sum := r.PathValue("sum")
	if !sumRE.MatchString(sum) {
		s.notFound(w, "这个文件")
		return
	}
	data, err := s.o.Source.Blob(sum)
	if err != nil || data == nil {
		s.notFound(w, "这个文件")
		return
	}
	ctype := http.DetectContentType(data)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	disposition := "attachment"
	if strings.HasPrefix(ctype, "image/") {
		disposition = "inline"
	}
	name := export.SafeName(path.Base(r.URL.Query().Get("name")), 100)
	if r.URL.Query().Get("name") == "" {
		name = sum[:12]
	}
	w.Header().Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": name}))
	w.Write(data)
}

// thumbSize is the longest side of a thumbnail, in pixels.
const thumbSize = 320

// thumb serves a photo's thumbnail, made once and kept in the store.
func (s *Server) thumb(w http.ResponseWriter, r *http.Request, _ session) {
	sum := r.PathValue("sum")
	if !sumRE.MatchString(sum) {
		s.notFound(w, "这张图片")
		return
	}
	data, err := s.o.Source.Thumb(sum)
	if err == nil && data == nil {
		data, err = s.makeThumb(sum)
	}
	if err != nil || data == nil {
		if !errors.Is(err, export.ErrNoPicture) {
			s.o.Logger.Error().Err(err).Msg("thumbnail")
		}
		// A format Go cannot decode (HEIC, WebP): a neutral picture instead.
		http.Redirect(w, r, "/static/nothumb.svg", http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	w.Write(data)
}

// print serves a photo's print-size copy, upright: what the gallery opens.
// Phones' originals are several megabytes each, and a browser that ignores
// EXIF orientation would show them on their side.
func (s *Server) print(w http.ResponseWriter, r *http.Request, _ session) {
	sum := r.PathValue("sum")
	if !sumRE.MatchString(sum) {
		s.notFound(w, "这张图片")
		return
	}
	c, err := s.printCopy(sum)
	if err != nil {
		if !errors.Is(err, export.ErrNoPicture) {
			s.o.Logger.Error().Err(err).Msg("print copy")
		}
		// The original, as it is: the browser may still show it.
		http.Redirect(w, r, "/media/"+sum, http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "image/"+c.Format)
	w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	w.Write(c.Data)
}

func (s *Server) printCopy(sum string) (photo.Copy, error) {
	return export.PrintCopy(s.o.Source, s.o.Source, sum, func(err error) {
		s.o.Logger.Warn().Err(err).Msg("keep a print copy")
	})
}

// makeThumb scales the print copy, which is upright and already small: a
// phone photo is decoded once for both.
func (s *Server) makeThumb(sum string) ([]byte, error) {
	c, err := s.printCopy(sum)
	if err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(c.Data))
	if err != nil {
		return nil, fmt.Errorf("decode the print copy of %.12s: %w", sum, err)
	}
	b := img.Bounds()
	wd, ht := b.Dx(), b.Dy()
	if wd > thumbSize || ht > thumbSize {
		if wd >= ht {
			wd, ht = thumbSize, ht*thumbSize/wd
		} else {
			wd, ht = wd*thumbSize/ht, thumbSize
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, max(wd, 1), max(ht, 1)))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 80}); err != nil {
		return nil, fmt.Errorf("encode a thumbnail: %w", err)
	}
	if err := s.o.Source.PutThumb(sum, out.Bytes()); err != nil {
		s.o.Logger.Warn().Err(err).Msg("cache a thumbnail")
	}
	return out.Bytes(), nil
}

type schedulePage struct {
	Upcoming []schedules.Event
	Text     string
	Source   string
	Errors   []scheduleError
	// Lines number the text's lines in a gutter beside the editor, those
	// with an error marked; Rows is the editor's height in lines.
	Lines []editorLine
	Rows  int
}

// scheduleError is one problem of the edited text: at Line (0 for the file
// as a whole), which reads Code.
type scheduleError struct {
	Line int
	Code string
	Msg  string
}

type editorLine struct {
	N   int
	Bad bool
}

// editorSlack is how many empty lines the editor has below the text: room to
// add lines while the gutter still numbers them, the page having no script to
// grow it.
const editorSlack = 15

// editor is the schedule page for text, with err's problems at their lines.
func (s *Server) editor(c *schedules.Schedule, text string, err error) schedulePage {
	now := s.o.Now()
	p := schedulePage{Upcoming: c.Events(now, now.AddDate(0, 0, 14)), Text: text, Source: c.Source}
	lines := strings.Split(text, "\n")
	var es schedules.Errors
	switch {
	case err == nil:
	case errors.As(err, &es):
		for _, e := range es {
			se := scheduleError{Line: e.Line, Msg: e.Msg}
			if e.Line > 0 && e.Line <= len(lines) {
				se.Code = strings.TrimSpace(lines[e.Line-1])
			}
			p.Errors = append(p.Errors, se)
		}
	default:
		for _, l := range strings.Split(err.Error(), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				p.Errors = append(p.Errors, scheduleError{Msg: l})
			}
		}
	}
	bad := map[int]bool{}
	for _, e := range p.Errors {
		bad[e.Line] = true
	}
	for i := 1; i <= len(lines)+editorSlack; i++ {
		p.Lines = append(p.Lines, editorLine{N: i, Bad: bad[i]})
	}
	p.Rows = len(p.Lines)
	return p
}

func (s *Server) schedule(w http.ResponseWriter, r *http.Request, sess session) {
	sc, ok := s.inScope(w, r)
	if !ok {
		return
	}
	s.ok(w, r, sess, sc, "schedule.html", "日程", s.editor(sc.c, sc.c.Text, nil))
}

// saveSchedule validates the edited text first: nothing is saved until it is right.
func (s *Server) saveSchedule(w http.ResponseWriter, r *http.Request, sess session) {
	sc, ok := s.inScope(w, r)
	if !ok {
		return
	}
	text := strings.ReplaceAll(r.PostFormValue("text"), "\r\n", "\n")
	summary, err := s.o.SaveSchedule(sc.c, text)
	if err != nil {
		p := s.page(r, sess, sc, "日程", s.editor(sc.c, text, err))
		p.Error = "日程文件有错误，没有保存，机器人仍按原来的日程运行。请按下面的提示修改（行号见编辑框左侧）："
		s.render(w, http.StatusUnprocessableEntity, "schedule.html", p)
		return
	}
	s.o.Logger.Info().Str("admin", sess.admin).Str("campaign", sc.c.ID).Msg("schedule saved from the dashboard")
	// Back to the campaign as saved: found by its file, since the edit may have changed its id.
	saved := scope{set: s.o.Campaigns(), c: sc.c}
	for _, c := range saved.set.All() {
		if c.Source == sc.c.Source {
			saved.c = c
		}
	}
	http.Redirect(w, r, withQuery("/schedule", saved.param(), s.flashMsg(sess, strings.SplitN(summary, "\n", 2)[0])), http.StatusSeeOther)
}

type exportsPage struct {
	Tasks []*schedules.Task
	// Merges says some task has a template, so its periods offer a 合并统计表.
	Merges bool
}

func (s *Server) exports(w http.ResponseWriter, r *http.Request, sess session) {
	sc, ok := s.inScope(w, r)
	if !ok {
		return
	}
	ep := exportsPage{Tasks: sc.c.Tasks}
	for _, t := range sc.c.Tasks {
		ep.Merges = ep.Merges || t.Template != ""
	}
	s.ok(w, r, sess, sc, "exports.html", "导出", ep)
}

// download streams an export of the campaign straight to the browser.
func (s *Server) download(w http.ResponseWriter, r *http.Request, sess session) {
	sc, ok := s.inScope(w, r)
	if !ok {
		return
	}
	e := &export.Exporter{Config: s.o.Config, Schedule: sc.c, Source: s.o.Source, Now: s.o.Now, Prints: s.o.Source,
		Warn: func(err error) { s.o.Logger.Warn().Err(err).Msg("keep a print copy") }}
	var name string
	var write func(io.Writer) error
	switch r.PathValue("kind") {
	case "workbook":
		name, write = export.WorkbookName, e.Workbook
	case "report", "archive", "merged":
		t, p, ok := taskPeriod(r, sc.c)
		if !ok {
			s.notFound(w, "这一期")
			return
		}
		switch r.PathValue("kind") {
		case "report":
			name, write = export.ReportName(t, p.N), func(w io.Writer) error { return e.Report(w, t, p.N) }
		case "archive":
			name, write = export.ArchiveName(t, p.N), func(w io.Writer) error { return e.Archive(w, t, p.N) }
		default:
			if t.Template == "" {
				s.notFound(w, "这项任务的统计表模板")
				return
			}
			name, write = export.MergedName(t, p.N), func(w io.Writer) error { _, err := e.Merge(w, t, p.N); return err }
		}
	case "photos":
		t, p, ok := taskPeriod(r, sc.c)
		if !ok {
			s.notFound(w, "这一期")
			return
		}
		name, write = export.PhotosName(t, p.N), func(w io.Writer) error { return e.Photos(w, t, p.N) }
	default:
		s.notFound(w, "这种导出")
		return
	}
	s.o.Logger.Info().Str("admin", sess.admin).Str("campaign", sc.c.ID).Str("file", name).Msg("dashboard export")
	w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(name)))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	if err := write(w); err != nil {
		s.o.Logger.Error().Err(err).Str("file", name).Msg("dashboard export")
	}
}

// status is the bot's, not a campaign's; the campaign is kept for the links.
func (s *Server) status(w http.ResponseWriter, r *http.Request, sess session) {
	sc, ok := s.inScope(w, r)
	if !ok {
		return
	}
	var st Status
	if s.o.Status != nil {
		st = s.o.Status()
	}
	s.ok(w, r, sess, sc, "status.html", "状态", st)
}

func (s *Server) qr(w http.ResponseWriter, r *http.Request, _ session) {
	if s.o.Status == nil {
		s.notFound(w, "二维码")
		return
	}
	st := s.o.Status()
	if st.Transport.LoginQR == nil {
		s.notFound(w, "二维码（现在不需要扫码）")
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(st.Transport.LoginQR)
}
