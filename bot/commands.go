package bot

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"reportbot/schedules"
)

// Command is a parsed command: its canonical name and what followed the command word.
type Command struct {
	Name string
	Args string
}

// command is one thing people can ask the bot, with the words they type for it.
type command struct {
	name  string
	words []string
	// admin commands are refused to everyone else, after their arguments are
	// understood (so a report that starts with a command word stays a report).
	admin bool
	// query commands only read and answer: their message id is recorded as
	// seen with the answer, in one transaction (a replay finds it, a crash
	// before it leaves the question to be answered again). Every other
	// command records its id before it acts, so that a replay never repeats
	// what it did.
	query bool
	// check says whether the arguments fit; usage is the answer when they do not
	// and the text was addressed to the bot ("" answers nothing).
	check func(b *Bot, args string) (usage string, ok bool)
	run   func(b *Bot, ctx context.Context, m Message, args string) error
}

// noArgs accepts a command word alone.
func noArgs(_ *Bot, args string) (string, bool) { return "", args == "" }

// commands is every command, in the order the help lists them. Words are
// matched longest first, so one may start with another.
var commands = []command{
	{name: "help", words: []string{"帮助", "菜单", "help", "?", "？"}, check: noArgs, query: true,
		run: func(b *Bot, ctx context.Context, m Message, _ string) error {
			return b.reply(ctx, m, b.withHint(helpText(b.Config.Bot.Name, b.isAdmin(m))))
		}},
	{name: "missing", words: []string{"还有谁没报", "谁还没报", "谁没报", "未报"}, check: checkTaskArg, query: true,
		run: func(b *Bot, ctx context.Context, m Message, args string) error {
			q, _ := b.taskArg(args)
			return b.statusQuery(ctx, m, true, q)
		}},
	{name: "progress", words: []string{"进度", "统计"}, check: checkTaskArg, query: true,
		run: func(b *Bot, ctx context.Context, m Message, args string) error {
			q, _ := b.taskArg(args)
			return b.statusQuery(ctx, m, false, q)
		}},
	{name: "mine", words: []string{"我们报了吗", "我报了吗", "报了吗"}, query: true,
		check: func(_ *Bot, args string) (string, bool) { return "", strings.Trim(args, "？?了吗 ") == "" },
		run:   func(b *Bot, ctx context.Context, m Message, _ string) error { return b.mine(ctx, m) }},
	{name: "tasks", words: []string{"任务", "日程"}, query: true,
		check: func(_ *Bot, args string) (string, bool) { return "", args == "" || args == "安排" },
		run:   func(b *Bot, ctx context.Context, m Message, _ string) error { return b.answer(ctx, m, b.tasksText()) }},
	{name: "bind", words: []string{"绑定"},
		check: func(b *Bot, args string) (string, bool) {
			return "绑定的写法：绑定 单位名称，如：绑定 " + b.Config.Units[0].Name, args != "" && len([]rune(args)) <= 20
		},
		run: func(b *Bot, ctx context.Context, m Message, args string) error { return b.bind(ctx, m, args) }},
	{name: "undo", words: []string{"不算", "不算数", "撤销报送"},
		// Only alone or with a unit's name: "不算多，今天查了5户" is a report.
		check: func(b *Bot, args string) (string, bool) {
			return "撤销刚发的材料，直接回复“不算”；管理员撤销某单位的：不算 单位名称", args == "" || b.Config.Unit(args) != nil
		},
		run: func(b *Bot, ctx context.Context, m Message, args string) error { return b.undo(ctx, m, args) }},
	{name: "remind", words: []string{"提醒", "催报"}, admin: true,
		check: func(b *Bot, args string) (string, bool) {
			q, valid := b.taskArg(args)
			return "提醒的写法：提醒 任务名称，如：提醒 典型做法。" + b.taskNames(), valid && q.task != nil
		},
		run: func(b *Bot, ctx context.Context, m Message, args string) error {
			q, _ := b.taskArg(args)
			return b.remindNow(ctx, m, q.task, q.period)
		}},
	{name: "mark", words: []string{"标记"}, admin: true,
		check: func(b *Bot, args string) (string, bool) {
			_, usage := b.parseMark(args)
			return usage, usage == ""
		},
		run: func(b *Bot, ctx context.Context, m Message, args string) error {
			mark, _ := b.parseMark(args)
			return b.applyMark(ctx, m, mark)
		}},
	{name: "move", words: []string{"改为", "改记"}, admin: true,
		check: func(_ *Bot, args string) (string, bool) {
			return "改为的写法：改为 单位 任务 [第N期]，如：改为 东风社区 活动方案", strings.Contains(strings.TrimSpace(args), " ")
		},
		run: func(b *Bot, ctx context.Context, m Message, args string) error { return b.move(ctx, m, args) }},
	{name: "export", words: []string{"导出"}, admin: true, check: checkTaskArg,
		run: func(b *Bot, ctx context.Context, m Message, args string) error {
			q, _ := b.taskArg(args)
			return b.export(ctx, m, q)
		}},
	{name: "reload", words: []string{"重载", "重新载入"}, admin: true, check: noArgs, run: (*Bot).reload},
	{name: "backup", words: []string{"备份"}, admin: true, check: noArgs, run: (*Bot).backup},
	{name: "archive", words: []string{"归档"}, admin: true, check: checkCampaignArg("归档"), run: (*Bot).archive},
	{name: "confirm-archive", words: []string{"确认归档"}, admin: true, check: checkCampaignArg("确认归档"), run: (*Bot).confirmArchive},
	{name: "dashboard", words: []string{"看板", "网页"}, admin: true, check: noArgs, run: (*Bot).dashboardLink},
}

func checkTaskArg(b *Bot, args string) (string, bool) {
	_, valid := b.taskArg(args)
	return "没有找到这项任务。" + b.taskNames(), valid
}

// ParseCommand recognises a command at the start of a text. It returns ok=false
// for texts that do not start with a command word.
//
// It runs on every text in the group, so it looks only at the start: the
// words that can begin with the text's first byte, longest first, compared
// in place (command words hold no space, and only ASCII letters have case
// in them). Lowercasing the whole text for each word made it half the CPU of
// ingesting texts. Only a command's arguments are normalised (runs of spaces,
// the ideographic one included, become one space).
func ParseCommand(text string) (Command, bool) {
	text = strings.TrimLeftFunc(text, unicode.IsSpace)
	if text == "" {
		return Command{}, false
	}
	for _, cw := range commandWords[asciiLower(text[0])] {
		if hasPrefixFold(text, cw.word) {
			args := strings.Join(strings.Fields(text[len(cw.word):]), " ")
			return Command{Name: cw.name, Args: strings.TrimLeft(args, "：:，, ")}, true
		}
	}
	return Command{}, false
}

// commandWord is a command word and the command it names.
type commandWord struct{ word, name string }

// commandWords are the command words by their first byte (ASCII letters
// lowercased), longest first; among words of one length, in the order of
// commands. Filled by init: commands refers to functions that parse.
var commandWords [256][]commandWord

func init() {
	for _, c := range commands {
		for _, w := range c.words {
			i := asciiLower(w[0])
			commandWords[i] = append(commandWords[i], commandWord{word: strings.ToLower(w), name: c.name})
		}
	}
	for i := range commandWords {
		slices.SortStableFunc(commandWords[i], func(a, b commandWord) int { return len(b.word) - len(a.word) })
	}
}

// asciiLower lowercases an ASCII capital letter and leaves every other byte.
func asciiLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasPrefixFold reports whether text starts with the lowercase word, ASCII
// letters compared without case. No other character lowercases to a
// character of a command word, so this is strings.ToLower's answer, with the
// length of the match measured on text itself.
func hasPrefixFold(text, word string) bool {
	if len(text) < len(word) {
		return false
	}
	for i := 0; i < len(word); i++ {
		if asciiLower(text[i]) != word[i] {
			return false
		}
	}
	return true
}

func commandNamed(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

var periodRE = regexp.MustCompile(`第\s*(\d+)\s*期`)

// taskQuery is what a question names: a campaign, a task, a period; each may
// be left out (nil, 0).
type taskQuery struct {
	campaign *schedules.Schedule
	task     *schedules.Task
	period   int
}

// taskArg reads "[活动] [任务] [第N期]". A task is looked for in the campaign
// named, else in the current ones (Set.Current), else in the past ones, the
// latest first: an admin can still ask about June in November.
func (b *Bot) taskArg(args string) (q taskQuery, ok bool) {
	if m := periodRE.FindStringSubmatch(args); m != nil {
		q.period, _ = strconv.Atoi(m[1])
		args = strings.TrimSpace(periodRE.ReplaceAllString(args, ""))
	}
	set := b.Campaigns()
	q.campaign, args = set.Named(strings.Trim(args, "「」\"' ？?"))
	args = strings.Trim(args, "「」\"' ？?")
	if args == "" {
		return q, true
	}
	if q.campaign != nil {
		q.task = q.campaign.Task(args)
		return q, q.task != nil
	}
	q.task = findTask(set.Current(b.Now()), args)
	if q.task == nil {
		all := set.All()
		for i := len(all) - 1; i >= 0 && q.task == nil; i-- {
			q.task = all[i].Task(args)
		}
	}
	return q, q.task != nil
}

// findTask is the first of the campaigns' tasks that q names (Schedule.Task).
func findTask(campaigns []*schedules.Schedule, q string) *schedules.Task {
	for _, c := range campaigns {
		if t := c.Task(q); t != nil {
			return t
		}
	}
	return nil
}

// command runs a text as a command. handled is false for a text that is not one,
// which then goes on as a possible report.
func (b *Bot) command(ctx context.Context, m Message, text string) (handled bool, err error) {
	c, ok := ParseCommand(text)
	if !ok {
		return false, nil
	}
	spec := commandNamed(c.Name)
	if usage, valid := spec.check(b, c.Args); !valid {
		// A report that happens to start with a command word ("任务完成情况：…") is
		// not a command: unaddressed texts count only when the whole text parses.
		if !m.ToBot && !m.Private {
			return false, nil
		}
		if usage == "" {
			return true, nil
		}
		return true, b.reply(ctx, m, usage)
	}
	if spec.admin && !b.isAdmin(m) {
		return true, b.refuse(ctx, m, spec.words[0])
	}
	return true, spec.run(b, ctx, m, c.Args)
}

func (b *Bot) isAdmin(m Message) bool { return b.Config.IsAdmin(m.Sender.Verified) }

func (b *Bot) dashboardLink(ctx context.Context, m Message, _ string) error {
	private := m
	private.Private = true
	if b.Dashboard == nil {
		return b.reply(ctx, private, "看板没有开启：在设置文件的 [web] 里写上 listen 和 url。")
	}
	link, err := b.Dashboard(m.Sender.Verified)
	if err != nil {
		return b.reply(ctx, private, "看板链接生成失败："+err.Error())
	}
	return b.reply(ctx, private, "看板登录链接（10分钟内有效，只能用一次，请勿转发）：\n"+link)
}

func (b *Bot) backup(ctx context.Context, m Message, _ string) error {
	if b.Backup == nil {
		return b.reply(ctx, m, "这里不能备份。")
	}
	path, err := b.Backup()
	if err != nil {
		b.Logger.Error().Err(err).Msg("backup")
		return b.reply(ctx, m, "备份失败："+err.Error())
	}
	b.Logger.Info().Str("by", m.Sender.Verified).Str("file", path).Msg("backup")
	return b.reply(ctx, m, "已备份："+path+"。恢复方法：停止机器人后运行 reportbot restore "+filepath.Base(path))
}

func (b *Bot) reload(ctx context.Context, m Message, _ string) error {
	if b.Reload == nil {
		return b.reply(ctx, m, "这里不能重新载入日程。")
	}
	summary, err := b.Reload()
	if err != nil {
		b.Logger.Warn().Err(err).Msg("reload schedule")
		return b.reply(ctx, m, "日程文件有错误，仍按原来的日程运行。请修改后再发“重载”：\n"+err.Error())
	}
	return b.reply(ctx, m, summary)
}

func (b *Bot) refuse(ctx context.Context, m Message, what string) error {
	b.Logger.Info().Str("from", m.Sender.Name).Str("verified", m.Sender.Verified).Str("command", what).Msg("admin command refused")
	return b.reply(ctx, m, fmt.Sprintf("抱歉，“%s”只有管理员可以使用。如有需要，请联系街道应急办的同志。", what))
}

func (b *Bot) taskNames() string {
	var names []string
	for _, t := range schedules.Tasks(b.Campaigns().Current(b.Now())) {
		names = append(names, t.Name)
	}
	return "现有任务：" + strings.Join(names, "、")
}

// noneOpen answers a question about "now" between campaigns: the past ones
// are there to ask about by name.
func (b *Bot) noneOpen() string {
	text := "现在没有正在进行的报送活动。"
	if past := b.Campaigns().Current(b.Now()); len(past) > 0 {
		text += fmt.Sprintf("要看已结束的活动，请带上活动名称，如：进度 %s", past[0].Name)
	}
	return text
}

// campaignTag names a task's campaign in answers once the group has more than
// one campaign ("【消防宣传月】"), and is "" while there is one.
func (b *Bot) campaignTag(t *schedules.Task) string {
	if len(b.Campaigns().All()) <= 1 || t.Campaign == nil {
		return ""
	}
	return "【" + t.Campaign.Name + "】"
}

// helpText is the answer to 帮助; name is the bot's configured [bot] name,
// the one members @-mention.
func helpText(name string, admin bool) string {
	lines := []string{
		"我是" + name + "，材料直接发到群里即可（文字、照片、文件、视频），我会回复收到。",
		"可以发给我的话：",
		"· 未报 / 谁没报 [任务] [第N期]：看还有哪些单位没报",
		"· 进度 / 统计 [任务]：看各单位报送情况",
		"· 我报了吗：看本单位报了什么、还差什么",
		"· 任务 / 日程：看报送任务和近期安排",
		"· 绑定 单位名称：说明您代表哪个单位报送",
		"· 不算：刚发的材料发错了，撤销它",
		"“收到”“好的”这类回复不算报送。",
	}
	if admin {
		lines = append(lines, "管理员还可以：",
			"· 提醒 任务：马上在群里催报未报单位",
			"· 标记 单位 任务 已报|免报|撤销 [第N期]",
			"· 改为 单位 任务 [第N期]：把这个单位最近发的一份材料改记到别的任务或期次",
			"· 不算 单位：撤销这个单位最近发的一份材料",
			"· 导出：报送统计表；导出 任务 [第N期]：这一期的汇编（Word）和材料包",
			"· 重载：重新载入日程文件",
			"· 备份：马上备份数据库",
			"· 归档 活动名称：活动结束后把它的材料打包存到数据目录，并从数据库中移除",
			"· 看板：私聊发来网页看板的登录链接")
	}
	return strings.Join(lines, "\n")
}

// CurrentPeriod is the period a question about a task means: the one whose
// deadline just passed (within a day, while late reports still count), else the
// next deadline, else the last.
func CurrentPeriod(t *schedules.Task, now time.Time) schedules.Period {
	for i := len(t.Periods) - 1; i >= 0; i-- {
		p := t.Periods[i]
		if now.After(p.Due) {
			if now.Before(p.Due.Add(24*time.Hour)) && now.Before(p.LateUntil) || i == len(t.Periods)-1 {
				return p
			}
			return t.Periods[i+1]
		}
	}
	return t.Periods[0]
}

// relevantTasks are the tasks a question without a task name is about: those
// of the campaigns asked about with a deadline within the last day or the
// coming week; else the next one. Of a past campaign, every task: its last
// periods are what is left to ask about.
func (b *Bot) relevantTasks(campaigns []*schedules.Schedule, now time.Time) []*schedules.Task {
	var out []*schedules.Task
	var next *schedules.Task
	var nextDue time.Time
	for _, t := range schedules.Tasks(campaigns) {
		if t.Anytime {
			continue
		}
		if now.After(t.Campaign.End) {
			out = append(out, t)
			continue
		}
		p := CurrentPeriod(t, now)
		if p.Due.After(now.Add(-24*time.Hour)) && p.Due.Before(now.Add(7*24*time.Hour)) {
			out = append(out, t)
		}
		if p.Due.After(now) && (next == nil || p.Due.Before(nextDue)) {
			next, nextDue = t, p.Due
		}
	}
	if len(out) == 0 && next != nil {
		out = append(out, next)
	}
	return out
}

// nearestDeadline narrows a bare 未报 to what a coordinator means by it: the
// task whose deadline just passed (the latest passed one, while late
// reports still count), else the next one to fall due; tasks sharing that
// deadline are all kept. 进度 keeps every relevant task.
func nearestDeadline(tasks []*schedules.Task, now time.Time) []*schedules.Task {
	var best time.Time
	passed := false
	for _, t := range tasks {
		due := CurrentPeriod(t, now).Due
		switch p := !due.After(now); {
		case best.IsZero(), p && !passed, p && due.After(best), !p && !passed && due.Before(best):
			best, passed = due, p
		}
	}
	var out []*schedules.Task
	for _, t := range tasks {
		if CurrentPeriod(t, now).Due.Equal(best) {
			out = append(out, t)
		}
	}
	return out
}

func periodTitle(t *schedules.Task, p schedules.Period) string {
	s := "「" + t.Name + "」"
	if l := t.Label(p.N); l != "" {
		s += l
	}
	if !t.Anytime {
		s += "（截止" + schedules.FormatDue(p.Due) + "）"
	}
	return s
}

func (b *Bot) statusQuery(ctx context.Context, m Message, missingOnly bool, q taskQuery) error {
	now := b.Now()
	tasks, n := []*schedules.Task{q.task}, q.period
	if q.task == nil {
		campaigns := b.Campaigns().Open(now)
		if q.campaign != nil {
			campaigns = []*schedules.Schedule{q.campaign}
		}
		if len(campaigns) == 0 {
			return b.reply(ctx, m, b.noneOpen())
		}
		tasks = b.relevantTasks(campaigns, now)
		if missingOnly {
			tasks = nearestDeadline(tasks, now)
		}
	}
	if len(tasks) == 0 {
		return b.reply(ctx, m, "现在没有需要报送的任务。")
	}
	var blocks []string
	for _, t := range tasks {
		p := CurrentPeriod(t, now)
		if n > 0 {
			var ok bool
			if p, ok = t.Period(n); !ok {
				return b.reply(ctx, m, fmt.Sprintf("「%s」只有%d期。", t.Name, len(t.Periods)))
			}
		}
		reports, err := b.periodReports(t, p.N)
		if err != nil {
			return err
		}
		show := statusOrder
		if missingOnly {
			show = []Status{Missing, Partial}
		}
		lines, owing := rollcallLines(reports, show, missingOnly)
		if missingOnly && len(owing) == 0 {
			lines = []string{"各单位都已报齐。"}
		}
		if !missingOnly {
			done := 0
			for _, r := range reports {
				if r.Status == Reported || r.Status == Late || r.Status == Exempt {
					done++
				}
			}
			lines = append(lines, fmt.Sprintf("完成 %d/%d 个单位", done, len(reports)))
		}
		blocks = append(blocks, b.campaignTag(t)+periodTitle(t, p)+"\n"+strings.Join(lines, "\n"))
	}
	return b.answer(ctx, m, strings.Join(blocks, "\n\n"))
}

func (b *Bot) mine(ctx context.Context, m Message) error {
	unit, err := b.UnitOf(m.Sender)
	if err != nil {
		return err
	}
	if unit == nil {
		return b.reply(ctx, m, "还不知道您是哪个单位的。请发送“绑定 单位名称”，如：绑定 "+b.Config.Units[0].Name)
	}
	now := b.Now()
	lines := []string{unit.Name + "："}
	for _, t := range schedules.Tasks(b.Campaigns().Current(now)) {
		p := CurrentPeriod(t, now)
		r, err := b.unitReport(t, p.N, unit.Name)
		if err != nil {
			return err
		}
		if t.Anytime && r.Status == Missing {
			continue
		}
		line := "· " + b.campaignTag(t) + periodTitle(t, p) + " " + r.Status.Label()
		switch r.Status {
		case Reported, Late:
			line += "（" + r.CountsText() + "）"
		case Partial:
			line += "（" + r.CountsText() + "，还差" + r.MissingText() + "）"
		}
		if t.Anytime {
			line = "· " + b.campaignTag(t) + "「" + t.Name + "」已报（" + r.CountsText() + "）"
		}
		lines = append(lines, line)
	}
	return b.answer(ctx, m, strings.Join(lines, "\n"))
}

func (b *Bot) tasksText() string {
	now := b.Now()
	set := b.Campaigns()
	var lines []string
	for _, c := range set.Current(now) {
		lines = append(lines, c.Name+" 报送任务：")
		for i, t := range c.Tasks {
			var reqs []string
			for _, r := range t.Requires {
				reqs = append(reqs, r.String())
			}
			when := "随时报送"
			if !t.Anytime {
				p := CurrentPeriod(t, now)
				when = "截止" + schedules.FormatDue(p.Due)
				if len(t.Periods) > 1 {
					when = fmt.Sprintf("共%d期，本期（%s）截止%s", len(t.Periods), t.Label(p.N), schedules.FormatDue(p.Due))
				}
			}
			lines = append(lines, fmt.Sprintf("%d. %s：%s；要求%s", i+1, t.Name, when, strings.Join(reqs, "、")))
		}
	}
	upcoming := set.Events(now, now.Add(7*24*time.Hour))
	if len(upcoming) > 0 {
		lines = append(lines, "近7天安排：")
		for _, e := range upcoming {
			what := e.Kind.Label()
			if e.Task != nil {
				what += " " + b.campaignTag(e.Task) + e.Task.Name + e.Task.Label(e.Period)
			}
			lines = append(lines, fmt.Sprintf("· %d月%d日 %s %s", e.At.Month(), e.At.Day(), e.At.Format("15:04"), what))
		}
	}
	if len(lines) == 0 {
		return "现在没有报送任务。"
	}
	return strings.Join(lines, "\n")
}

func (b *Bot) bind(ctx context.Context, m Message, name string) error {
	u := b.Config.Unit(name)
	if u == nil {
		var names []string
		for _, u := range b.Config.Units {
			names = append(names, u.Name)
		}
		return b.reply(ctx, m, fmt.Sprintf("没有找到单位“%s”。可绑定的单位：%s", name, strings.Join(names, "、")))
	}
	if err := b.Store.Bind(m.Sender, u.Name); err != nil {
		return fmt.Errorf("bind %s to %s: %w", m.Sender.Name, u.Name, err)
	}
	b.Logger.Info().Str("member", m.Sender.Name).Str("unit", u.Name).Msg("member bound")
	kept, err := b.placeKept(m, u)
	if err != nil {
		return fmt.Errorf("file what %s sent before binding: %w", m.Sender.Name, err)
	}
	return b.reply(ctx, m, fmt.Sprintf("已绑定：%s 代表 %s 报送。%s", m.Sender.Name, u.Name, kept))
}

type markArgs struct {
	unit   *Unit
	task   *schedules.Task
	period int
	status Status
}

// parseMark reads "单位 [活动] 任务 已报|免报|撤销 [第N期]"; usage is non-empty when it does not parse.
func (b *Bot) parseMark(args string) (markArgs, string) {
	usage := "标记的写法：标记 单位 任务 已报|免报|撤销 [第N期]，如：标记 东风社区 典型做法 免报 第2期"
	var a markArgs
	if m := periodRE.FindStringSubmatch(args); m != nil {
		a.period, _ = strconv.Atoi(m[1])
		args = periodRE.ReplaceAllString(args, " ")
	}
	f := strings.Fields(args)
	if len(f) < 3 {
		return a, usage
	}
	if a.unit = b.Config.Unit(f[0]); a.unit == nil {
		return a, fmt.Sprintf("没有找到单位“%s”。", f[0]) + usage
	}
	named := strings.Join(f[1:len(f)-1], " ")
	q, ok := b.taskArg(named)
	if !ok || q.task == nil {
		return a, fmt.Sprintf("没有找到任务“%s”。", named) + b.taskNames()
	}
	a.task = q.task
	switch f[len(f)-1] {
	case "已报":
		a.status = Reported
	case "免报":
		a.status = Exempt
	case "撤销", "取消", "未报":
		a.status = Missing
	default:
		return a, usage
	}
	if a.period > len(a.task.Periods) {
		return a, fmt.Sprintf("「%s」只有%d期。", a.task.Name, len(a.task.Periods))
	}
	return a, ""
}

// MarkUnit records a coordinator's mark (Reported, Exempt, or Missing to take
// it back) for a unit's period, with who did it: the chat command 标记 and the
// dashboard both come here.
func (b *Bot) MarkUnit(t *schedules.Task, n int, unit string, st Status, by string) error {
	if b.Config.Unit(unit) == nil {
		return fmt.Errorf("no unit %q", unit)
	}
	if _, ok := t.Period(n); !ok {
		return fmt.Errorf("「%s」has no period %d", t.Name, n)
	}
	if err := b.Store.SetMark(t.Key, n, unit, Mark{Status: st, By: by, At: b.Now()}); err != nil {
		return fmt.Errorf("mark %s: %w", unit, err)
	}
	b.Logger.Info().Str("by", by).Str("unit", unit).Str("task", t.Key).Int("period", n).Str("status", string(st)).Msg("unit marked")
	return nil
}

func (b *Bot) applyMark(ctx context.Context, m Message, a markArgs) error {
	p := CurrentPeriod(a.task, b.Now())
	if a.period > 0 {
		p, _ = a.task.Period(a.period)
	}
	if err := b.MarkUnit(a.task, p.N, a.unit.Name, a.status, m.Sender.Verified); err != nil {
		return err
	}
	what := a.status.Label()
	if a.status == Missing {
		what = "按实际报送情况统计（已撤销标记）"
	}
	return b.reply(ctx, m, fmt.Sprintf("已标记：%s %s 为 %s。", a.unit.Name, periodTitle(a.task, p), what))
}

// export makes the files and sends them to the admin who asked, privately:
// a task's period of its campaign, or the workbook of the campaign named, else
// of each current one.
func (b *Bot) export(ctx context.Context, m Message, q taskQuery) error {
	private := m
	private.Private = true
	if b.Export == nil {
		return b.reply(ctx, private, "这里不能导出。")
	}
	type job struct {
		c    *schedules.Schedule
		t    *schedules.Task
		n    int
		what string
	}
	var jobs []job
	switch {
	case q.task != nil:
		n := q.period
		if n == 0 {
			n = CurrentPeriod(q.task, b.Now()).N
		}
		if _, ok := q.task.Period(n); !ok {
			return b.reply(ctx, m, fmt.Sprintf("「%s」只有%d期。", q.task.Name, len(q.task.Periods)))
		}
		jobs = append(jobs, job{q.task.Campaign, q.task, n, fmt.Sprintf("%s「%s」%s的汇编和材料", b.campaignTag(q.task), q.task.Name, q.task.Label(n))})
	default:
		campaigns := b.Campaigns().Current(b.Now())
		if q.campaign != nil {
			campaigns = []*schedules.Schedule{q.campaign}
		}
		for _, c := range campaigns {
			what := "报送统计表"
			if len(b.Campaigns().All()) > 1 {
				what = "「" + c.Name + "」的报送统计表"
			}
			jobs = append(jobs, job{c: c, what: what})
		}
	}
	for _, j := range jobs {
		files, err := b.Export(ctx, j.c, j.t, j.n)
		if err != nil {
			b.Logger.Error().Err(err).Msg("export")
			return b.reply(ctx, private, "导出失败："+err.Error())
		}
		b.Logger.Info().Str("by", m.Sender.Verified).Strs("files", files).Msg("exported")
		if !m.Private {
			if err := b.reply(ctx, m, fmt.Sprintf("已导出%s，私聊发给 %s。", j.what, m.Sender.Name)); err != nil {
				return err
			}
		}
		for _, f := range files {
			if err := b.Chat.SendFile(ctx, m.Sender, f); err != nil {
				return fmt.Errorf("send %s: %w", f, err)
			}
		}
	}
	return nil
}

// remindNow nudges a task's current period at once, for an admin.
func (b *Bot) remindNow(ctx context.Context, m Message, t *schedules.Task, n int) error {
	if t.Campaign != nil && b.Now().After(t.Campaign.End) {
		return b.reply(ctx, m, fmt.Sprintf("「%s」已于%s结束，不再催报。", t.Campaign.Name, t.Campaign.End.Format("1月2日")))
	}
	if t.Anytime {
		return b.reply(ctx, m, fmt.Sprintf("「%s」随时报送，没有截止时间，不需要催报。", t.Name))
	}
	p := CurrentPeriod(t, b.Now())
	if n > 0 {
		p, _ = t.Period(n)
	}
	e := schedules.Event{At: b.Now(), Kind: schedules.Nudge, Task: t, Period: p.N, Due: p.Due, Text: schedules.DefaultNudge}
	if b.Now().After(p.Due) {
		e.Kind, e.Text = schedules.Rollcall, schedules.DefaultRollcall
	}
	reports, err := b.periodReports(t, p.N)
	if err != nil {
		return err
	}
	if _, owing := rollcallLines(reports, nil, false); len(owing) == 0 {
		return b.reply(ctx, m, periodTitle(t, p)+"各单位都已报齐，不需要催报。")
	}
	if err := b.Fire(ctx, e); err != nil {
		return err
	}
	if m.Private {
		return b.reply(ctx, m, "已在群里催报。")
	}
	return nil
}
