package schedules

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Default texts, used where the file gives none.
const (
	DefaultRemind   = "【提醒】请各单位于{截止}前报送「{任务}」{期次}。"
	DefaultNudge    = "【催报】「{任务}」{期次}将于{截止}截止，以下单位还没有报齐，请抓紧报送："
	DefaultRollcall = "【点名】「{任务}」{期次}已于{截止}截止，报送情况如下："
)

// MaxTasks is the most tasks one campaign may have.
const MaxTasks = 50

// DefaultDueClock is the time of a deadline written as a date only ("6月9日前").
const DefaultDueClock = "18:00"

type builder struct {
	file  string
	lines lineIndex
	errs  Errors
	// broken are the ids of tasks with errors: their reminders are not checked
	// again, so one mistake gives one error.
	broken map[string]bool
}

func (b *builder) errorf(line int, format string, args ...any) {
	b.errs = append(b.errs, Error{File: b.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// at reports a problem with the value at a key path.
func (b *builder) at(path string, format string, args ...any) {
	b.errorf(b.lines.line(path), format, args...)
}

func (b *builder) build(f *fileSchedule) *Schedule {
	s := &Schedule{Name: f.Name, Calendar: &Calendar{Official: true, Off: map[string]string{}, Work: map[string]bool{}}}
	if s.Name == "" {
		s.Name = "报送任务"
	}
	if f.ID != nil {
		s.ID = *f.ID
		if !campaignIDRE.MatchString(s.ID) {
			b.at("id", "活动代号 id = %q 不可用：只用英文字母、数字、- 或 _，最多%d个字符，如 id = \"anquan-2026-06\"（活动的固定代号，以后改名也不会把数据弄混）", s.ID, maxCampaignID)
		}
	}
	tz := f.Timezone
	if tz == "" {
		tz = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		b.at("timezone", "时区 %q 无法识别：写成 \"Asia/Shanghai\" 这样的 IANA 时区名", tz)
		loc = time.FixedZone("CST", 8*3600)
	}
	s.Location = loc

	s.Start = b.date("start", f.Start, "", loc, true)
	s.End = b.date("end", f.End, "23:59", loc, true)
	if !s.Start.IsZero() && !s.End.IsZero() && !s.End.After(s.Start) {
		b.at("end", "活动结束时间 end（%s）早于开始时间 start（%s）：请检查日期", f.End, f.Start)
	}
	if !s.Start.IsZero() && s.End.After(s.Start.AddDate(2, 0, 0)) {
		b.at("end", "活动从 %s 到 %s 超过两年：一个日程文件写一次活动，请检查 end 的年份", f.Start, f.End)
		s.End = s.Start.AddDate(2, 0, 0)
	}
	s.Quiet = b.quiet(f.QuietHours)
	b.calendar(s, &f.Calendar)

	texts := map[Kind]string{Remind: DefaultRemind, Nudge: DefaultNudge, Rollcall: DefaultRollcall}
	for kind, t := range map[Kind]string{Remind: f.Defaults.Remind, Nudge: f.Defaults.Nudge, Rollcall: f.Defaults.Rollcall} {
		if t != "" {
			b.placeholders("texts."+string(kind), t)
			texts[kind] = t
		}
	}

	if len(f.Tasks) > MaxTasks {
		// Checked before any task is built: ten thousand tasks would give
		// as many errors, or answers in the group hundreds of messages long.
		b.at(fmt.Sprintf("task[%d]", MaxTasks), "任务太多：这个日程文件有%d个 [[task]]，一个活动最多%d个（从这一个起是多出来的）。"+
			"每个任务在点名、统计里各占一段，任务太多群里会刷屏：请合并相近的任务，或删去不再报送的", len(f.Tasks), MaxTasks)
		return s
	}
	ids := map[string]int{}
	for i := range f.Tasks {
		path := fmt.Sprintf("task[%d]", i)
		t := b.task(s, path, &f.Tasks[i])
		if t == nil {
			if b.broken == nil {
				b.broken = map[string]bool{}
			}
			b.broken[f.Tasks[i].ID] = true
			continue
		}
		if prev, dup := ids[t.ID]; dup {
			b.at(path+".id", "任务 id %q 与第 %d 行的任务重复：每个任务的 id 必须不同", t.ID, prev)
			continue
		}
		ids[t.ID] = b.lines.line(path + ".id")
		s.Tasks = append(s.Tasks, t)
	}
	if len(f.Tasks) == 0 {
		b.errorf(0, "文件里没有任务：至少写一个 [[task]]（见 schedule.example.toml）")
	}

	keys := map[string]string{}
	addEvent := func(path string, e Event) {
		if prev, dup := keys[e.Key]; dup {
			b.at(path, "与 %s 重复：同一任务同一期同一种提醒只能有一个", prev)
			return
		}
		keys[e.Key] = fmt.Sprintf("第 %d 行", b.lines.line(path))
		s.events = append(s.events, e)
	}
	for i := range f.Reminders {
		b.reminder(s, fmt.Sprintf("remind[%d]", i), &f.Reminders[i], texts, addEvent)
	}
	for i := range f.Announces {
		b.announce(s, fmt.Sprintf("announce[%d]", i), &f.Announces[i], addEvent)
	}
	sort.SliceStable(s.events, func(i, j int) bool { return s.events[i].At.Before(s.events[j].At) })
	b.lateWindows(s, f)
	for _, t := range s.Tasks {
		t.Key, t.Campaign = s.KeyPrefix()+t.ID, s
	}
	for i := range s.events {
		s.events[i].Campaign = s
	}
	sort.SliceStable(b.errs, func(i, j int) bool { return b.errs[i].Line < b.errs[j].Line })
	return s
}

var clockRE = regexp.MustCompile(`^([01]?\d|2[0-3]):([0-5]\d)$`)

func parseClock(s string) (int, bool) {
	m := clockRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, false
	}
	h, _ := strconv.Atoi(m[1])
	min, _ := strconv.Atoi(m[2])
	return h*60 + min, true
}

// date parses "2026-06-09" or "2026-06-09 18:00" at path; a date alone gets defClock.
func (b *builder) date(path, v, defClock string, loc *time.Location, required bool) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			b.at(path, "缺少 %s：写成 \"2026-06-01\" 这样的日期", path[strings.LastIndex(path, ".")+1:])
		}
		return time.Time{}
	}
	day, clock, hasClock := strings.Cut(v, " ")
	if !hasClock {
		day, clock, hasClock = strings.Cut(v, "T")
	}
	d, err := time.ParseInLocation(time.DateOnly, day, loc)
	if err != nil {
		b.at(path, "日期 %q 无法识别：写成 \"2026-06-09\" 或 \"2026-06-09 18:00\"（月、日两位数）", v)
		return time.Time{}
	}
	if !hasClock {
		clock = defClock
	}
	if clock == "" {
		return d
	}
	m, ok := parseClock(clock)
	if !ok {
		b.at(path, "时间 %q 无法识别：写成 \"2026-06-09 18:00\"（24小时制）", v)
		return time.Time{}
	}
	return d.Add(time.Duration(m) * time.Minute)
}

func (b *builder) quiet(v string) Quiet {
	if v == "" {
		v = "21:00-08:00"
	}
	if v == "none" || v == "无" {
		return Quiet{}
	}
	from, to, ok := strings.Cut(v, "-")
	f, ok1 := parseClock(from)
	t, ok2 := parseClock(to)
	if !ok || !ok1 || !ok2 {
		b.at("quiet_hours", "免打扰时段 %q 无法识别：写成 \"21:00-08:00\"，不需要时写 \"none\"", v)
		return Quiet{From: 21 * 60, To: 8 * 60}
	}
	return Quiet{From: f, To: t}
}

func (b *builder) calendar(s *Schedule, c *fileCalendar) {
	if c.Official != nil {
		s.Calendar.Official = *c.Official
	}
	for _, d := range c.DaysOff {
		day, name, _ := strings.Cut(strings.TrimSpace(d), " ")
		if _, err := time.Parse(time.DateOnly, day); err != nil {
			b.at("calendar.days_off", "放假日期 %q 无法识别：写成 \"2026-06-22\"，可在后面空一格写名称", d)
			continue
		}
		s.Calendar.Off[day] = strings.TrimSpace(name)
	}
	for _, d := range c.Workdays {
		d = strings.TrimSpace(d)
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			b.at("calendar.workdays", "上班日期 %q 无法识别：写成 \"2026-06-20\"", d)
			continue
		}
		if _, off := s.Calendar.Off[d]; off {
			b.at("calendar.workdays", "%s 同时写在 days_off 和 workdays 里，日期重叠：请从其中一个删去", d)
			continue
		}
		s.Calendar.Work[d] = true
	}
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// maxCampaignID keeps a campaign's id short enough to prefix every stored key.
const maxCampaignID = 40

var campaignIDRE = regexp.MustCompile(fmt.Sprintf(`^[A-Za-z0-9_-]{1,%d}$`, maxCampaignID))

func (b *builder) task(s *Schedule, path string, f *fileTask) *Task {
	t := &Task{ID: f.ID, Name: f.Name, Keywords: f.Keywords}
	ok := true
	if !idRE.MatchString(f.ID) {
		b.at(path+".id", "任务 id %q 不可用：用字母、数字、- 或 _，如 \"weekly\"（命令里也可用中文名称）", f.ID)
		ok = false
	}
	if t.Name == "" {
		b.at(path, "任务 %s 缺少 name：写上中文名称，如 name = \"活动方案\"", f.ID)
		ok = false
	}
	for _, k := range t.Keywords {
		if strings.TrimSpace(k) == "" {
			b.at(path+".keywords", "keywords 里有空的关键词：请删去")
			ok = false
		}
	}
	t.Requires = b.requires(path+".requires", f.Requires)
	if f.Template != "" {
		t.Template = f.Template
		if !filepath.IsAbs(t.Template) {
			t.Template = filepath.Join(filepath.Dir(b.file), t.Template)
		}
		if _, err := os.Stat(t.Template); err != nil {
			b.at(path+".template", "统计表模板 %q 打不开（%v）：写模板 .xlsx 文件的路径，相对于本文件所在的目录", f.Template, err)
		} else if !strings.EqualFold(filepath.Ext(t.Template), ".xlsx") {
			b.at(path+".template", "统计表模板 %q 要是 .xlsx 文件（用 Excel 或 WPS 另存为 .xlsx）", f.Template)
		}
	}

	start := s.Start
	if f.Start != "" {
		start = b.date(path+".start", f.Start, "00:00", s.Location, false)
	}
	var dues []time.Time
	duePath := path + ".due"
	switch {
	case len(f.Due) > 0 && f.Cron != "":
		b.at(path+".cron", "任务 %s 同时写了 due 和 cron：固定日期用 due，每周重复用 cron，只留一个", f.ID)
		return nil
	case len(f.Due) > 0:
		for _, d := range f.Due {
			if due := b.date(duePath, d, DefaultDueClock, s.Location, true); !due.IsZero() {
				dues = append(dues, due)
			}
		}
		for i := 1; i < len(dues); i++ {
			if !dues[i].After(dues[i-1]) {
				b.at(duePath, "截止时间 %s 不晚于前一个 %s：各期日期重叠或倒序，请按时间先后写、不要重复",
					dues[i].Format("2006-01-02 15:04"), dues[i-1].Format("2006-01-02 15:04"))
				return nil
			}
		}
	case f.Cron != "":
		duePath = path + ".cron"
		dues = b.cronDues(s, path, f)
		if dues == nil {
			return nil
		}
	default:
		if f.From != "" || f.Until != "" {
			b.at(path+".from", "from/until 只用于 cron：请写上 cron，或删去 from/until")
		}
		t.Anytime = true
	}
	if !ok {
		return nil
	}

	if t.Anytime {
		t.Periods = []Period{{N: 1, Opens: start, Due: s.End, LateUntil: s.End}}
		return t
	}
	rule := f.OnDayOff
	switch rule {
	case "", "previous", "提前":
		rule = "previous"
	case "next", "顺延":
		rule = "next"
	case "keep", "不变":
		rule = "keep"
	default:
		b.at(path+".on_day_off", "on_day_off = %q 无法识别：写 \"previous\"（提前到前一个工作日）、\"next\"（顺延到下一个工作日）或 \"keep\"（不变）", rule)
	}
	periods := moveOffDaysOff(s.Calendar, f.Cron != "", rule, dues)
	opens := start
	for i := range periods {
		p := &periods[i]
		p.N = i + 1
		if i > 0 && !p.Due.After(periods[i-1].Due) {
			b.at(duePath, "%s", collision(f, rule, periods[i-1], *p))
			return nil
		}
		if !s.Start.IsZero() && !s.End.IsZero() && (p.Due.Before(s.Start) || p.Due.After(s.End)) {
			b.at(duePath, "截止时间 %s 不在活动期间（start %s 至 end %s）：请改日期或活动起止",
				p.Due.Format("2006-01-02 15:04"), s.Start.Format(time.DateOnly), s.End.Format(time.DateOnly))
			return nil
		}
		if !p.Due.After(opens) {
			b.at(duePath, "第%d期截止时间 %s 不晚于任务开始 %s：请检查 start 或日期", p.N, p.Due.Format("2006-01-02 15:04"), opens.Format("2006-01-02 15:04"))
			return nil
		}
		p.Opens = opens
		opens = p.Due
		t.Periods = append(t.Periods, p.Period)
	}
	if f.LateWindow != "" {
		d, err := time.ParseDuration(f.LateWindow)
		if err != nil || d <= 0 {
			b.at(path+".late_window", "late_window = %q 无法识别：写成 \"24h\"（截止后24小时内算迟报），不写则到下一次提醒为止", f.LateWindow)
		} else {
			for i := range t.Periods {
				t.Periods[i].LateUntil = t.Periods[i].Due.Add(d)
			}
		}
	}
	return t
}

// cronFields name the five fields of a cron expression and what each takes.
var cronFields = [5]struct{ name, allowed string }{
	{"分", "0–59"}, {"时", "0–23"}, {"日", "1–31"}, {"月", "1–12"}, {"周", "0–6 或 MON–SUN"},
}

// badCronField finds the first field of a five-field cron expression that is
// wrong on its own, by parsing it with every other field a "*": the cron
// library's own error is Go text (strconv.Atoi: parsing "x"…) an admin cannot
// act on. It returns -1 when each field is right alone.
func badCronField(expr string) (int, string) {
	fields := strings.Fields(expr)
	for i, field := range fields {
		probe := []string{"*", "*", "*", "*", "*"}
		probe[i] = field
		if _, err := cron.ParseStandard(strings.Join(probe, " ")); err != nil {
			return i, field
		}
	}
	return -1, ""
}

func (b *builder) cronDues(s *Schedule, path string, f *fileTask) []time.Time {
	sched, err := cron.ParseStandard(f.Cron)
	if err != nil {
		why := "无法识别"
		if n := len(strings.Fields(f.Cron)); n != 5 {
			why = fmt.Sprintf("写了%d段", n)
		} else if i, field := badCronField(f.Cron); i >= 0 {
			why = fmt.Sprintf("第%d段「%s」%q 无法识别（应为 %s）", i+1, cronFields[i].name, field, cronFields[i].allowed)
		}
		b.at(path+".cron", "cron %q %s：写成5段「分 时 日 月 周」，如 \"0 12 * * THU\" 表示每周四12:00，"+
			"\"0 18 25 * *\" 表示每月25日18:00，\"0 17 * * MON-FRI\" 表示每个工作日17:00", f.Cron, why)
		return nil
	}
	if strings.HasPrefix(f.Cron, "TZ=") || strings.HasPrefix(f.Cron, "CRON_TZ=") {
		b.at(path+".cron", "cron 里不要写时区：整个文件用 timezone 设置的时区")
		return nil
	}
	from := s.Start
	if f.From != "" {
		from = b.date(path+".from", f.From, "00:00", s.Location, true)
	}
	until := s.End
	if f.Until != "" {
		until = b.date(path+".until", f.Until, "23:59", s.Location, true)
	}
	if from.IsZero() || until.IsZero() {
		return nil
	}
	if !until.After(from) {
		b.at(path+".until", "until（%s）早于 from（%s）：请检查日期", f.Until, f.From)
		return nil
	}
	var dues []time.Time
	for t := sched.Next(from.Add(-time.Second)); !t.IsZero() && !t.After(until); t = sched.Next(t) {
		if n := len(dues); n > 1 && sameDay(dues[n-2], t) {
			// Twice a day at most (a morning and an evening report): a cron
			// that fires every hour or minute would otherwise fail on its
			// first period or on overlapping ones, which says nothing of why.
			b.at(path+".cron", "cron %q 一天里有%s、%s、%s……多个截止时间：报送任务每天最多两期。"+
				"前两段写分和时，如 \"0 17 * * *\" 表示每天17:00，\"0 17 * * MON-FRI\" 表示每个工作日17:00",
				f.Cron, dues[n-2].Format("15:04"), dues[n-1].Format("15:04"), t.Format("15:04"))
			return nil
		}
		dues = append(dues, t)
		if len(dues) > 1000 {
			b.at(path+".cron", "cron %q 在 from 到 until 之间产生了超过1000个截止时间：报送任务一般每周一次，如 \"0 12 * * THU\"", f.Cron)
			return nil
		}
	}
	if len(dues) == 0 {
		b.at(path+".cron", "cron %q 在 %s 到 %s 之间一次也不触发：请检查 cron 或 from/until", f.Cron, from.Format(time.DateOnly), until.Format(time.DateOnly))
		return nil
	}
	return dues
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

var materialNames = map[string]Material{
	"text": Text, "文字": Text, "image": Image, "photo": Image, "图片": Image, "照片": Image,
	"file": File, "文件": File, "video": Video, "视频": Video, "xlsx": Sheet, "表格": Sheet, "统计表": Sheet,
}

func (b *builder) requires(path string, list []string) []Requirement {
	if len(list) == 0 {
		return []Requirement{{Any: []Material{Text, Image, File, Video}, Min: 1}}
	}
	var reqs []Requirement
	for _, item := range list {
		r := Requirement{Min: 1}
		spec := strings.TrimSpace(item)
		if name, n, ok := strings.Cut(spec, ":"); ok {
			min, err := strconv.Atoi(strings.TrimSpace(n))
			if err != nil || min < 1 || min > 100 {
				b.at(path, "requires 里的 %q：冒号后写数量，如 \"image:3\" 表示至少3张图片", item)
				continue
			}
			spec, r.Min = name, min
		}
		for _, alt := range strings.Split(spec, "|") {
			m, ok := materialNames[strings.TrimSpace(alt)]
			if !ok {
				b.at(path, "requires 里的 %q 无法识别：可用 text（文字）、image（图片）、file（文件）、video（视频）、xlsx（统计表），用 | 表示“或”", alt)
				continue
			}
			r.Any = append(r.Any, m)
		}
		if len(r.Any) > 0 {
			reqs = append(reqs, r)
		}
	}
	return reqs
}

var placeholderRE = regexp.MustCompile(`\{([^{}]*)\}`)

func (b *builder) placeholders(path, text string) {
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		known := false
		for _, p := range Placeholders {
			known = known || m[1] == p
		}
		if !known {
			b.at(path, "文字里的 {%s} 无法识别：可用的占位符有 {任务} {期次} {截止} {未报数}", m[1])
		}
	}
}

// maxOffsetDays bounds how far from its deadline a reminder may be.
const maxOffsetDays = 60

var (
	durationRE = regexp.MustCompile(`^([+-]?)(\d+h)?(\d+m)?$`)
	dayRE      = regexp.MustCompile(`^([+-]?\d+)d(?:\s+(\S+))?$`)
)

// when computes a reminder's time from its period's deadline: "-2h" (two hours
// before), "+30m", "0", "-1d 09:00" (09:00 one working day before), "0d 08:30".
func (b *builder) when(path, v string, s *Schedule, due time.Time) (time.Time, bool) {
	v = strings.TrimSpace(v)
	bad := func() (time.Time, bool) {
		b.at(path, "when = %q 无法识别：写成 \"-2h\"（截止前2小时）、\"-1d 09:00\"（截止前1个工作日的9:00）、\"0d 08:30\"（截止当天8:30）或 \"+30m\"（截止后30分钟）", v)
		return time.Time{}, false
	}
	if v == "0" || v == "+0" || v == "-0" {
		return due, true
	}
	tooFar := func() (time.Time, bool) {
		b.at(path, "when = %q 离截止时间太远：提醒放在截止前后%d天以内", v, maxOffsetDays)
		return time.Time{}, false
	}
	if m := durationRE.FindStringSubmatch(v); m != nil && (m[2] != "" || m[3] != "") {
		d, err := time.ParseDuration(m[2] + m[3])
		if err != nil {
			return bad()
		}
		if d > maxOffsetDays*24*time.Hour {
			return tooFar()
		}
		if m[1] == "-" {
			d = -d
		}
		return due.Add(d), true
	}
	if m := dayRE.FindStringSubmatch(v); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > maxOffsetDays || n < -maxOffsetDays {
			return tooFar()
		}
		t := s.Calendar.AddWorkdays(due, n)
		if m[2] != "" {
			minute, ok := parseClock(m[2])
			if !ok {
				return bad()
			}
			t = atMinute(t, minute)
		}
		return t, true
	}
	return bad()
}

func (b *builder) reminder(s *Schedule, path string, f *fileRemind, texts map[Kind]string, add func(string, Event)) {
	task := s.TaskByID(f.Task)
	if task == nil && b.broken[f.Task] {
		return
	}
	if task == nil {
		var ids []string
		for _, t := range s.Tasks {
			ids = append(ids, t.ID)
		}
		b.at(path+".task", "提醒里的任务 %q 不存在：task 应是某个 [[task]] 的 id（现有：%s）", f.Task, strings.Join(ids, "、"))
		return
	}
	var kind Kind
	switch f.Kind {
	case "remind", "提醒":
		kind = Remind
	case "nudge", "催报":
		kind = Nudge
	case "rollcall", "点名":
		kind = Rollcall
	default:
		b.at(path+".kind", "kind = %q 无法识别：写 \"remind\"（提醒全群）、\"nudge\"（@未报单位的人催报）或 \"rollcall\"（截止后点名）", f.Kind)
		return
	}
	if task.Anytime {
		b.at(path+".task", "任务 %s 没有截止时间（随时报送），不能设提醒：给它写 due 或 cron，或删去这条提醒", task.ID)
		return
	}
	text := texts[kind]
	if f.Text != "" {
		text = f.Text
		b.placeholders(path+".text", text)
	}
	when := strings.TrimSpace(f.When)
	if when == "" {
		b.at(path, "提醒缺少 when：写成 \"-1d 09:00\"（截止前1个工作日9:00）或 \"-2h\"（截止前2小时）")
		return
	}
	for _, p := range task.Periods {
		at, ok := b.when(path+".when", when, s, p.Due)
		if !ok {
			return
		}
		switch {
		case kind == Rollcall && at.Before(p.Due):
			b.at(path+".when", "点名（rollcall）要在截止之后：when 写 \"0\" 或 \"+30m\" 这样的时间")
			return
		case kind != Rollcall && !at.Before(p.Due):
			b.at(path+".when", "%s 要在截止之前：when 写 \"-2h\" 或 \"-1d 09:00\" 这样的时间；截止后的用 kind = \"rollcall\"", kind)
			return
		}
		if at.Before(p.Opens) {
			continue // e.g. "-1d" before a first period that opens later: nothing to remind of yet
		}
		at = s.adjust(kind, at, p.Due)
		if !s.End.IsZero() && at.After(s.End.Add(7*24*time.Hour)) {
			continue
		}
		add(path+".when", Event{At: at, Kind: kind, Task: task, Period: p.N, Due: p.Due, Text: text,
			Key:    fmt.Sprintf("%s%s/%s/%s@%s", s.KeyPrefix(), task.ID, p.Due.Format("2006-01-02 15:04"), kind, when),
			legacy: fmt.Sprintf("%s/%d/%s@%s", task.ID, p.N, kind, when)})
	}
}

// adjust moves a reminder off days off and quiet hours: a reminder before a
// deadline goes out when the quiet hours end if that is still before the
// deadline, else at the last allowed moment before; anything else waits.
func (s *Schedule) adjust(kind Kind, at, due time.Time) time.Time {
	if s.Allowed(at) {
		return at
	}
	next := s.NextAllowed(at)
	if kind == Rollcall || kind == Announce || next.Before(due) {
		return next
	}
	return s.PrevAllowed(at)
}

// TaskByID returns the task with this id, or nil.
func (s *Schedule) TaskByID(id string) *Task {
	for _, t := range s.Tasks {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func (b *builder) announce(s *Schedule, path string, f *fileAnnounce, add func(string, Event)) {
	if strings.TrimSpace(f.Text) == "" {
		b.at(path, "公告缺少 text：写上要发到群里的文字")
		return
	}
	if len(f.At) == 0 {
		b.at(path, "公告缺少 at：写成 \"2026-06-15 09:00\"")
		return
	}
	for _, v := range f.At {
		at := b.date(path+".at", v, "09:00", s.Location, true)
		if at.IsZero() {
			continue
		}
		if !s.Start.IsZero() && !s.End.IsZero() && (at.Before(s.Start.AddDate(0, 0, -7)) || at.After(s.End)) {
			b.at(path+".at", "公告时间 %s 不在活动期间（start %s 至 end %s）", v, s.Start.Format(time.DateOnly), s.End.Format(time.DateOnly))
			continue
		}
		legacy := "announce@" + at.Format("2006-01-02 15:04")
		add(path+".at", Event{At: s.adjust(Announce, at, time.Time{}), Kind: Announce, Text: f.Text,
			Key: s.KeyPrefix() + legacy, legacy: legacy})
	}
}

// lateWindows sets each period's LateUntil where the file did not: a late
// report counts for a period until the task's next reminder, or until the next
// period's deadline, or for the last period until the campaign ends.
func (b *builder) lateWindows(s *Schedule, f *fileSchedule) {
	for _, t := range s.Tasks {
		for i := range t.Periods {
			p := &t.Periods[i]
			if !p.LateUntil.IsZero() {
				continue
			}
			p.LateUntil = s.End
			if i+1 < len(t.Periods) {
				p.LateUntil = t.Periods[i+1].Due
			}
			for _, e := range s.events {
				if e.Task == t && (e.Kind == Remind || e.Kind == Nudge) && e.At.After(p.Due) {
					if e.At.Before(p.LateUntil) {
						p.LateUntil = e.At
					}
					break
				}
			}
		}
	}
}

// planned is a deadline as the file put it and where on_day_off moved it.
type planned struct {
	Period
	file   time.Time
	dayOff string // the day off's name ("端午节", "周六") when the deadline was on one
	how    string // "提前到前一个工作日" when on_day_off moved it
	// mergeOK is set for a cron deadline moved off a weekday holiday, which is
	// dropped rather than reported when it lands on another deadline.
	mergeOK bool
}

// moveOffDaysOff applies on_day_off to each deadline. A repeating (cron) task
// that falls on a weekday holiday cannot say so in cron, so when the move lands
// on or past another of its deadlines the holiday's deadline is dropped: the
// holiday has no deadline of its own (a MON-FRI task over 端午节). A cron that
// fires on weekends is different: the admin may want weekend deadlines, so those
// collisions stay errors that say what to write.
func moveOffDaysOff(cal *Calendar, cron bool, rule string, dues []time.Time) []planned {
	all := make([]planned, len(dues))
	for i, due := range dues {
		p := planned{Period: Period{Due: due}, file: due}
		if work, name := cal.Day(due); !work {
			p.dayOff = name
			switch rule {
			case "previous":
				p.Due, p.how = cal.AddWorkdays(due, -1), "提前到前一个工作日"
			case "next":
				p.Due, p.how = cal.AddWorkdays(due, 1), "顺延到下一个工作日"
			}
			if p.how != "" {
				p.Moved = name + "，" + p.how
			}
		}
		p.mergeOK = cron && p.how != "" && !weekend(due)
		all[i] = p
	}
	kept := make([]planned, 0, len(all))
	switch rule {
	case "previous":
		for _, p := range all {
			if p.mergeOK && len(kept) > 0 && !p.Due.After(kept[len(kept)-1].Due) {
				continue
			}
			kept = append(kept, p)
		}
	case "next":
		// Moving forward, a deadline collides with the ones after it: walk back.
		for i := len(all) - 1; i >= 0; i-- {
			p := all[i]
			if p.mergeOK && len(kept) > 0 && !p.Due.Before(kept[len(kept)-1].Due) {
				continue
			}
			kept = append(kept, p)
		}
		slices.Reverse(kept)
	default:
		kept = all
	}
	return kept
}

func weekend(t time.Time) bool {
	return t.Weekday() == time.Saturday || t.Weekday() == time.Sunday
}

// collision says why period cur is not after period prev and what to write instead.
func collision(f *fileTask, rule string, prev, cur planned) string {
	// Name the deadline that moved; for a cron task the weekend one if either
	// is, since that is what the admin can change in the cron.
	m, other := cur, prev
	if cur.how == "" || (f.Cron != "" && !weekend(cur.file) && prev.how != "" && weekend(prev.file)) {
		m, other = prev, cur
	}
	if m.how == "" { // not a move: the file's own deadlines are out of order
		return fmt.Sprintf("第%d期截止 %s 不晚于第%d期截止 %s：请按时间先后写", cur.N, FormatDue(cur.Due), prev.N, FormatDue(prev.Due))
	}
	what := "是" + m.dayOff
	switch m.dayOff {
	case "周六", "周日":
		what = "是周末"
	case "放假":
		what = "放假"
	}
	moved := fmt.Sprintf("第%d期 %s %s，按 on_day_off = %q %s %s，与第%d期的截止", m.N, FormatDue(m.file), what, rule, m.how, FormatDue(m.Due), other.N)
	if f.Cron != "" && weekend(m.file) {
		return fmt.Sprintf("cron %q 在周末也有截止：%s重合。"+
			"只在工作日报送：写 cron = %s（节假日当天不设截止）；周末也要报送：写 on_day_off = \"keep\"（截止时间不变，提醒仍只在工作日发）",
			f.Cron, moved, workdayCron(f.Cron))
	}
	return fmt.Sprintf("%s %s 重合或先后颠倒：请改日期，或写 on_day_off = \"keep\" 让放假日的截止时间不变", moved, FormatDue(other.Due))
}

// workdayCron is spec limited to Monday to Friday, as the admin would write it.
func workdayCron(spec string) string {
	fields := strings.Fields(spec)
	if len(fields) == 5 && fields[4] == "*" {
		return fmt.Sprintf("%q", strings.Join(fields[:4], " ")+" MON-FRI")
	}
	return "「周」一段只含工作日的 cron，如 \"0 17 * * MON-FRI\""
}
