package bot

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"reportbot/schedules"
)

// Facts are what the report rule knows of a text besides its words.
type Facts struct {
	// Coordinator is set for an admin or a member of no unit: their texts
	// are instructions, never reports.
	Coordinator bool
	// Follows is set when the same member sent material (media or a report)
	// within follow_minutes before.
	Follows bool
	// Addressed is set for a text @ the bot or sent to it privately.
	Addressed bool
	// Answers is set for a text that quotes one of the bot's reminders,
	// nudges or roll-calls, where the platform shows quotes.
	Answers bool
	// Unit is the sender's unit, if known: a text that opens with its name
	// ("东风社区今天：…") is the unit telling its own news.
	Unit *Unit
}

// reminderRE knows the bot's scheduled messages when a reply quotes one.
var reminderRE = newAlternation(`【(提醒|催报|点名)】|截止`)

// answersReminder reports whether a quoted text is one of the bot's reminders.
func answersReminder(quote string) bool { return quote != "" && reminderRE.MatchString(quote) }

// Verdict is the report rule's decision on a text, with its reason in words
// an admin reads (reportbot check --explain, the debug log).
type Verdict struct {
	Counts bool
	// Task is the task the text names, if any.
	Task *schedules.Task
	Why  string
}

// The rule's word lists. A false 已报 hides a unit from the 催报 and 点名
// that would have chased it, so the rule leans to missing a report (the
// member is asked again by the next reminder) rather than counting chat.
var (
	// questionRE: asking, not telling ("怎么写", "要几张", "能不能"). Words
	// like 怎么 also tell ("教大家怎么关阀门"): they ask only in a short text
	// or in its last clause.
	questionRE = newLexicon(`请问|什么时候|怎么|多少张|几张[啊呀呢吗]|要几张|有没有|哪里|哪个|谁[去来有]|咋|有啥|行不行|对吧|还是.{0,12}[呢吧]$|(填|交|写|报|用|算|要).{0,10}还是.{0,12}$`)
	// askEndRE: a sentence that ends asking (吗、呢、没、吧).
	askEndRE = askEnd{} // `[吗呢没吧][^\p{Han}\p{L}\p{N}]*$`
	// askInsideRE: a sentence ending in 吗 before another one.
	askInsideRE = askInside{} // `吗[\s，,。！!]+\S`
	// classifyRE: a report that ends asking only where it belongs ("…4分20秒，这个算典型做法吧").
	classifyRE = newAlternation(`[，,。]\s*((这个|这种|这|这样)?也?能?算.{0,10}[吧吗]|(发群里|这样|这么写|这样写)?可以吧|行吧)[？?]?\s*$`)
	// settledRE: a 吧 that settles rather than asks ("这期就报这个吧").
	settledRE = newAlternation(`(就|先)?报这个吧|就这样吧|就这些吧`)
	// promiseRE: the report itself is still to come ("典型做法下午补"); only
	// a long account of deeds before it still counts.
	promiseRE = newAlternation(`[上下]午补|晚点[报发补]|明天[报发交补]|回头[报发补]|稍后[报发补]|再报$`)
	// pendingRE: a report being written, sent elsewhere, unsure, or meta talk
	// about one already sent ("方案发了", "就不重复写了", "户数是估的").
	pendingRE = newLexicon(`下午整理|整理好$|是估的|为准|好像也不对|再说$|问问|都发了$|照片.{0,6}发了|手下留情|不好意思|撤回|重发|填错|写了一半|肯定[交发报]|那有|那里有|在.{0,4}那[里儿]?$|来不及|补上|节后|改天|见谅|整理好[报发]|写到一半|快好了|对不上|对上了|重复算|核一下|跟.{0,6}核对?|都在上面|在上面了|见上[面条]|晚点|晚上[发报交]|[上下]午[报发交]|明天[报发交]|稍后|等会|一会儿?[报发]|马上[报发]|待会|还没|没来得及|在改|在写|在整理|还在(写|改|整理|弄|做|收尾|审)|还差|一定[发报交]|先发个|初稿|定稿|等.{0,6}审|审一下|私发|发你了|[已都]?发了[，,。！!]|就不重复|不重复写|不报了|有问题跟我说|有情况再报|凑合|在(word|Word|WORD|文档|附件|表)里|见附件`)
	// futureRE: what is to be done, not what was ("明天跟安监站一起摆摊").
	futureRE = newAlternation(`明天|明早|后天|(^|[^一])下周|过两天|准备|打算|将要|要去|回头[^看]`)
	// requestRE: asking for something ("发我一份", "谁有模板").
	requestRE = newLexicon(`发我|给我发|转我|求.{0,6}模板|谁有|谁那|谁手里|有多的|借我|帮忙.{0,8}[发找看]`)
	// relayRE: someone else's report passed on ("帮北岭村赵书记转一下"): it
	// must not make the relaying unit 已报.
	relayRE = newAlternation(`帮.{0,10}(转|发一下)|让我转|转一下|转发一下|代(他|她|他们|为)?[报发]|替.{0,4}[报发]`)
	// aboutOthersRE: talk to or about others' work ("你们两个村…真旺啊").
	aboutOthersRE = newLexicon(`哈哈|吓人|跟你一比|寒碜|比不了|羡慕|^你们|你们.{0,12}(真|棒|厉害|不错|旺|强)|你们.{0,12}[^正刚恰只还]好|(真|好)(棒|厉害|不错|漂亮|旺)|简洁明了|学习了|点赞|值得学习|学学|也学|号召力|有一套`)
	// instructionRE: telling others what to do, whoever says it.
	instructionRE = newAlternation(`^(请|各单位|各社区|各村|各位|大家|务必|注意)|请各|请大家|请于|抓紧报|按时报|于.{0,12}前报`)
	// thingsRE: a count of things done or found ("86户", "发放2000份");
	// timesRE: a length of time ("4分30秒"), a weaker figure.
	thingsRE = newFigure(`[0-9０-９一二三四五六七八九十百千两]+\s*(余|多|几)?\s*(户|家|处|人|名|位|份|场|次|人次|台|个|块|条|辆|具|座|间|栋|起|张|所|幅|本|套|袋|车|公里|米|批|轮|项|支|只|组|单元|包|部|瓶|摊|根|盏|扇|桶|箱|平米|平方|号楼|段)`)
	timesRE  = newFigure(`[0-9０-９一二三四五六七八九十百千两]+\s*(余|多)?\s*(小时|分钟|分|秒|天)`)
	// doneRE: something finished ("已经修好", "全部放下", "抽干了").
	doneRE = newAlternation(`了|已|完成|全部|当天|当场|缺|发现|存在|没问题|正常|无异常|合格`)
	// storyRE: another year's doings, told as a story ("去年咨询日我们搞了…").
	storyRE = newAlternation(`(^|[^比同])(去年|往年|前年|以前)([^同]|$)`)
	// correctionRE: a report put right ("更正一下前天的：…6个小区不是5个").
	correctionRE = newAlternation(`^(更正|补充|纠正|修正)`)
	// offeredRE: a text given as this period's report ("这期就报这个吧").
	offeredRE = newAlternation(`这期就?报|本期就?报|就报这个|^.{0,8}第[0-9０-９一二三四五六七八九十]+[周期][：:]`)
	// photoTalkRE: words about the photos themselves ("拍糊了", "别用那张").
	photoTalkRE = newAlternation(`拍(的|糊|得不|歪|得不好)|别用|看不清|乱了点|将就|凑合`)
	// deedRE: what units report doing.
	deedRE = newLexicon(`开展|组织|检查|排查|整改|演练|宣传|发放|走访|巡查|巡逻|培训|清理|清出|劝离|转移|签订|签了|值守|入户|督促|举办|摆摊|咨询|设点|张贴|悬挂|挂了|播放|更换|换了|拆除|查了|查处|处置|疏散|摸排|回头看|承诺书|责任书|动员|讲座|授课|科普|配备|配了|储备|加固|封堵|警示|隐患|讲了|教了|搞了|办了|贴了|装了|安装|送去|送了|发了[一0-9０-９]|每户发|摸底|摸了|叫停|抽查|劝阻|巡山|停产|复查|抽干|抽水|试了|修好|修复|放下|收进|守着|挡水|关停|约谈|通报|讲解|展板|主场|调试|测试|演示|救援|抢修|疏通|清扫|巡护|盯守|值班|登记|核查|上门|入企|进村|进校|进社区|劝回|劝返|巡了|拉了警戒|拉起警戒|收回|上了?.{0,8}课`)
)

// askingRE: asking how, wherever in the text ("“存在问题”怎么写比较好").
var askingRE = newLexicon(`怎么(写|填|报|弄|办|算|交|整)|(写|填|报)什么好|比较好[，,。]|是否|是不是|要不要|能不能|可不可以|算不算`)

// embeddedRE: a question word inside a telling ("教大家怎么关阀门", "看了燃气灶有没有熄火保护").
var embeddedRE = newAlternation(`(看|教|讲|查|问|告诉|演示|示范|学|练|懂得?|知道|问得最多的是|咨询)了?[^，,。；;]{0,12}(怎么|有没有|是不是|什么|要不要|能不能)`)

// asks reports whether a text asks rather than tells.
func asks(body string, runes int) (string, bool) {
	if strings.Contains(body, "?") || strings.Contains(body, "？") {
		return "有问号", true
	}
	trimmed := strings.TrimSpace(body)
	// In chat a space ends a sentence as a comma would ("能转我一份吗 我们书记想看").
	if askInsideRE.MatchString(trimmed) {
		return "句中有“吗”", true
	}
	if askEndRE.MatchString(trimmed) && !settledRE.MatchString(trimmed) {
		return "以“" + askEndRE.FindString(trimmed) + "”结尾", true
	}
	if w := askingRE.FindString(body); w != "" && !embeddedRE.MatchString(body) {
		return w, true
	}
	last := lastClause(trimmed)
	if w := questionRE.FindString(last); w != "" && !embeddedRE.MatchString(last) {
		return w, true
	}
	if runes < 25 {
		if w := questionRE.FindString(body); w != "" && !embeddedRE.MatchString(body) {
			return w, true
		}
	}
	return "", false
}

// Judge applies the report rule to a text among the tasks in force. A text
// counts when nothing marks it as something else (an acknowledgement, a
// question, a promise, a request, an instruction, a coordinator's word) and
// it carries report content: it names a task, follows the member's material,
// or is addressed to the bot, and tells of something done; or, on its own,
// tells of deeds with figures.
func Judge(c *Config, tasks []*schedules.Task, text string, f Facts) Verdict {
	text = strings.TrimSpace(text)
	v := Verdict{Task: keywordTask(tasks, text)}
	if v.Task == nil {
		v.Task = namedTask(tasks, text)
	}
	not := func(why string) Verdict { v.Why = why; return v }
	switch {
	case f.Coordinator:
		return not("管理员或不属于任何单位的人说的话，是布置工作，不算报送")
	case !hasContent(text):
		return not("没有文字内容（表情、标点）")
	case isAck(c, text):
		return not("是“收到”“好的”这类回复")
	}
	body := afterAck(c, text)
	runes := countContent(body)
	if runes < c.Reports.MinChars {
		return not(fmt.Sprintf("内容不到%d个字", c.Reports.MinChars))
	}
	// The deed is looked for without the task's own words: "咨询日" names
	// the task; it does not say a 咨询 took place.
	rest := body
	if v.Task != nil {
		rest = strings.ReplaceAll(rest, v.Task.Name, "")
		for _, k := range v.Task.Keywords {
			rest = strings.ReplaceAll(rest, k, "")
		}
	}
	// "一起" is "together", not one 起 of something; "第一个" is a rank.
	counted := withoutOrdinals(strings.ReplaceAll(body, "一起", ""))
	deed, figure := deedRE.FindString(rest), thingsRE.FindString(counted)
	things := figure != ""
	if figure == "" {
		figure = timesRE.FindString(body)
	}
	own := false
	if f.Unit != nil {
		head := firstRunes(body, 12)
		for _, n := range [2]string{f.Unit.Name, unitStem(f.Unit.Name)} {
			own = own || n != "" && strings.HasPrefix(head, n)
		}
		for _, n := range f.Unit.Aliases {
			own = own || n != "" && strings.HasPrefix(head, n)
		}
	}
	// Where it belongs is the question, not what was done: judged on the rest.
	if things {
		if loc := classifyRE.FindStringIndex(body); loc != nil && doneRE.MatchString(body[:loc[0]]) {
			body = body[:loc[0]]
		}
	}
	if w, ok := asks(body, runes); ok {
		return not("是问句（" + w + "）")
	}
	switch {
	case instructionRE.MatchString(body):
		return not("是在布置工作：" + instructionRE.FindString(body))
	case requestRE.MatchString(body):
		return not("是在要东西：" + requestRE.FindString(body))
	case relayRE.MatchString(body):
		return not("是替别人转的：" + relayRE.FindString(body) + "（谁的报送由谁的单位报，或由管理员标记）")
	// Laughing at one's own photos is not talk about others ("…各200份，扇子最受欢迎哈哈").
	case aboutOthersRE.MatchString(body) && !(f.Follows && things):
		return not("是在说别人的事：" + aboutOthersRE.FindString(body))
	// A word of what is still to come, unless the text goes on to tell
	// what was done, with figures ("总结和表都发了。简单说下：巡查26次…").
	case promiseRE.MatchString(body) && !(deed != "" && runes >= 60):
		return not("说的是报送还没好：" + promiseRE.FindString(body))
	case pendingRE.MatchString(body) && (!things || runes < 30):
		return not("说的是还没报、在准备或已经发过：" + strings.Trim(pendingRE.FindString(body), "，,。！!"))
	case futureRE.MatchString(body) && v.Task == nil && runes < 40 && !(things && doneRE.MatchString(body)):
		return not("说的是要做的事：" + futureRE.FindString(body))
	case storyRE.MatchString(body):
		return not("说的是往年的事：" + strings.TrimLeft(storyRE.FindString(body), "，,。"))
	case photoTalkRE.MatchString(body) && runes < 30:
		return not("说的是照片本身：" + photoTalkRE.FindString(body))
	}
	switch {
	case deed == "" && figure == "":
		return not("没有说做了什么（开展、检查、发放……）或数字")
	case v.Task != nil:
		v.Counts, v.Why = true, "提到任务「"+v.Task.Name+"」，说了做的事"
	case f.Follows:
		v.Counts, v.Why = true, "紧跟着本人刚发的材料，说了做的事"
	case f.Addressed:
		v.Counts, v.Why = true, "发给机器人的，说了做的事"
	case f.Answers:
		v.Counts, v.Why = true, "引用了机器人的提醒作答，说了做的事"
	case own:
		v.Counts, v.Why = true, "以本单位名义说了做的事"
	case offeredRE.MatchString(body):
		v.Counts, v.Why = true, "说明这是本期的报送，说了做的事"
	case deed != "" && figure != "":
		v.Counts, v.Why = true, fmt.Sprintf("说了做的事（%s）和数字（%s）", deed, figure)
	case runes >= 25 && doneRE.MatchString(body) && len(deedRE.findAll(rest)) >= 2:
		v.Counts, v.Why = true, "说了做成的几件事（"+strings.Join(deedRE.findAll(rest), "、")+"）"
	case things && correctionRE.MatchString(body):
		v.Counts, v.Why = true, fmt.Sprintf("更正、补充了报过的数字（%s）", figure)
	case things && doneRE.MatchString(body):
		v.Counts, v.Why = true, fmt.Sprintf("说了办完的事和数字（%s）", figure)
	default:
		return not("没有提到任务，也不是紧跟着材料发的；只说了" + deed + figure + "，不够算一份报送")
	}
	return v
}

// namedTask is the task whose name the text holds.
func namedTask(tasks []*schedules.Task, text string) *schedules.Task {
	for _, t := range tasks {
		if strings.Contains(text, t.Name) {
			return t
		}
	}
	return nil
}

// isAck reports whether the words of a text are an acknowledgement and
// nothing else.
func isAck(c *Config, text string) bool {
	for _, n := range c.Reports.NotReports {
		if sameContent(text, n) {
			return true
		}
	}
	return false
}

// afterAck is the text after a leading acknowledgement ("收到。本周…").
func afterAck(c *Config, text string) string {
	best := ""
	for _, n := range c.Reports.NotReports {
		if strings.HasPrefix(text, n) && len(n) > len(best) {
			best = n
		}
	}
	if best == "" {
		return text
	}
	return strings.TrimLeft(text[len(best):], "，,。.！!、 \u3000")
}

// unitSuffixes end units' names; without them a name is what people call
// the unit ("北岭" for 北岭村).
var unitSuffixes = []string{"社区", "村", "站", "办", "所", "队"}

// unitStem is a unit's name without its kind ("北岭村" → "北岭"), or ""
// when too little would be left to be a name.
func unitStem(name string) string {
	for _, suf := range unitSuffixes {
		if stem, ok := strings.CutSuffix(name, suf); ok && utf8.RuneCountInString(stem) >= 2 {
			return stem
		}
	}
	return ""
}

// askEnd is askEndRE, `[吗呢没吧][^\p{Han}\p{L}\p{N}]*$`. As 吗, 呢, 没
// and 吧 are Han characters, only the text's last Han character, letter or
// digit can begin a match: it is read from the end, past the few stops and
// emoji there, where the regexp tried each of them through the whole text.
type askEnd struct{}

// MatchString reports whether s ends asking.
func (askEnd) MatchString(s string) bool { return askEnd{}.FindString(s) != "" }

// FindString is the asking word and what follows it, or "".
func (askEnd) FindString(s string) string {
	for end := len(s); end > 0; {
		r, n := utf8.DecodeLastRuneInString(s[:end])
		end -= n
		if unicode.Is(unicode.Han, r) || unicode.IsLetter(r) || unicode.IsNumber(r) {
			if strings.ContainsRune("吗呢没吧", r) {
				return s[end:]
			}
			return ""
		}
	}
	return ""
}

// askInside is askInsideRE, `吗[\s，,。！!]+\S`: a 吗, stops or spaces,
// and anything but a space after the first of them (a second stop is that
// something, as in the regexp).
type askInside struct{}

// MatchString reports whether a 吗 ends a sentence that another follows.
func (askInside) MatchString(s string) bool {
	for i := strings.Index(s, "吗"); i >= 0; {
		after := s[i+len("吗"):]
		for j, r := range after {
			if !strings.ContainsRune(" \t\n\f\r，,。！!", r) {
				// Past a stop, anything but a space (\S) is the next sentence.
				if j > 0 {
					return true
				}
				break
			}
			if j > 0 && !isPerlSpace(r) {
				return true
			}
		}
		next := strings.Index(after, "吗")
		if next < 0 {
			break
		}
		i += len("吗") + next
	}
	return false
}

// isPerlSpace is \s: ASCII spaces only, not 全角 ones.
func isPerlSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\f' || r == '\r' }

// figure matches a number and what it counts as its expression
// `[numerals]+\s*(approx)?\s*(units)` does, in one pass: a match begins
// where a run of numerals does, takes all of them and all the spaces, the
// approximation if there, and the first unit of the list that follows.
// newFigure checks the expression is of the shape that makes this exact (no
// unit begins with a numeral, a space or an approximation).
type figure struct {
	expr     string
	numerals []rune // pairs of lowest and highest
	approx   string
	units    []string
}

func newFigure(expr string) *figure {
	class, tail, ok := strings.Cut(expr, `]+\s*(`)
	approx, units, ok2 := strings.Cut(tail, `)?\s*(`)
	units, ok3 := strings.CutSuffix(units, ")")
	class, ok4 := strings.CutPrefix(class, "[")
	if !ok || !ok2 || !ok3 || !ok4 {
		panic("figure " + expr)
	}
	f := &figure{expr: expr, units: strings.Split(units, "|")}
	rs := []rune(class)
	for i := 0; i < len(rs); i++ {
		if i+2 < len(rs) && rs[i+1] == '-' {
			f.numerals = append(f.numerals, rs[i], rs[i+2])
			i += 2
		} else {
			f.numerals = append(f.numerals, rs[i], rs[i])
		}
	}
	for _, a := range strings.Split(approx, "|") {
		r, n := utf8.DecodeRuneInString(a)
		if n != len(a) || f.numeral(r) || isPerlSpace(r) {
			panic("figure " + expr + ": approximation " + a)
		}
		f.approx += a
	}
	for _, u := range f.units {
		r, _ := utf8.DecodeRuneInString(u)
		if u == "" || f.numeral(r) || isPerlSpace(r) || strings.ContainsRune(f.approx, r) {
			panic("figure " + expr + ": unit " + u)
		}
	}
	return f
}

func (f *figure) numeral(r rune) bool {
	for i := 0; i < len(f.numerals); i += 2 {
		if f.numerals[i] <= r && r <= f.numerals[i+1] {
			return true
		}
	}
	return false
}

// MatchString reports whether s holds a figure.
func (f *figure) MatchString(s string) bool { return f.FindString(s) != "" }

// FindString is the leftmost figure in s, or "".
func (f *figure) FindString(s string) string {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !f.numeral(r) {
			i += n
			continue
		}
		start := i
		for i < len(s) {
			r, n = utf8.DecodeRuneInString(s[i:])
			if !f.numeral(r) {
				break
			}
			i += n
		}
		j := skipPerlSpace(s, i)
		if r, n := utf8.DecodeRuneInString(s[j:]); j < len(s) && strings.ContainsRune(f.approx, r) {
			j = skipPerlSpace(s, j+n)
		}
		for _, u := range f.units {
			if strings.HasPrefix(s[j:], u) {
				return s[start : j+len(u)]
			}
		}
	}
	return ""
}

func skipPerlSpace(s string, i int) int {
	for i < len(s) && isPerlSpace(rune(s[i])) {
		i++
	}
	return i
}

// withoutOrdinals is s without its ranks, `第[0-9０-９一二三四五六七八九十]+`
// ("第一个" is no count of one).
func withoutOrdinals(s string) string {
	var b strings.Builder
	copied := 0
	for i := 0; ; {
		at := strings.Index(s[i:], "第")
		if at < 0 {
			break
		}
		at += i
		end := at + len("第")
		for end < len(s) {
			r, n := utf8.DecodeRuneInString(s[end:])
			if !(r >= '0' && r <= '9' || r >= '０' && r <= '９' || strings.ContainsRune("一二三四五六七八九十", r)) {
				break
			}
			end += n
		}
		if end > at+len("第") {
			b.WriteString(s[copied:at])
			copied = end
		}
		i = end
	}
	if copied == 0 {
		return s
	}
	b.WriteString(s[copied:])
	return b.String()
}

// clauseMarks split a text into clauses (`[，,。；;！!\n]+`).
const clauseMarks = "，,。；;！!\n"

// lastClause is the last clause of s that has more than spaces, trimmed.
func lastClause(s string) string {
	for end := len(s); ; {
		i := strings.LastIndexAny(s[:end], clauseMarks)
		from := 0
		if i >= 0 {
			_, n := utf8.DecodeRuneInString(s[i:])
			from = i + n
		}
		if last := strings.TrimSpace(s[from:end]); last != "" || i < 0 {
			return last
		}
		end = i
	}
}

// isContent is what counts as a text's words: letters and digits (Han
// characters, Latin words, numbers), not punctuation, spaces or emoji.
func isContent(r rune) bool {
	switch {
	case r < utf8.RuneSelf:
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	case 0x4E00 <= r && r <= 0x9FFF:
		return true // CJK Unified Ideographs, all letters (TestHanAreLetters)
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// countContent is the number of letters and digits in s.
func countContent(s string) int {
	n := 0
	for _, r := range s {
		if isContent(r) {
			n++
		}
	}
	return n
}

// hasContent reports whether s has a letter or a digit.
func hasContent(s string) bool {
	for _, r := range s {
		if isContent(r) {
			return true
		}
	}
	return false
}

// sameContent reports whether a and b have the same letters and digits,
// whatever their case, rune by rune as strings.ToLower compares.
func sameContent(a, b string) bool {
	for {
		ra, resta := nextContent(a)
		rb, restb := nextContent(b)
		if ra != rb && lower(ra) != lower(rb) {
			return false
		}
		if ra < 0 {
			return true
		}
		a, b = resta, restb
	}
}

// lower is unicode.ToLower, without a search of the case tables for Han
// characters, which have no case (TestHanAreLetters).
func lower(r rune) rune {
	if 0x4E00 <= r && r <= 0x9FFF {
		return r
	}
	return unicode.ToLower(r)
}

// nextContent is the first letter or digit of s and what follows it; -1
// for none.
func nextContent(s string) (rune, string) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if isContent(r) {
			return r, s[i+n:]
		}
		i += n
	}
	return -1, ""
}

// firstRunes is the first n runes of s, as string([]rune(s)[:n]) is.
func firstRunes(s string, n int) string {
	i := 0
	for ; n > 0 && i < len(s); n-- {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	if utf8.ValidString(s[:i]) {
		return s[:i]
	}
	return string([]rune(s[:i])) // invalid bytes become U+FFFD
}
