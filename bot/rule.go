package bot

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

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
var reminderRE = regexp.MustCompile(`【(提醒|催报|点名)】|截止`)

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
	askEndRE = regexp.MustCompile(`[吗呢没吧][^\p{Han}\p{L}\p{N}]*$`)
	// askInsideRE: a sentence ending in 吗 before another one.
	askInsideRE = regexp.MustCompile(`吗[\s，,。！!]+\S`)
	// classifyRE: a report that ends asking only where it belongs ("…4分20秒，这个算典型做法吧").
	classifyRE = regexp.MustCompile(`[，,。]\s*((这个|这种|这|这样)?也?能?算.{0,10}[吧吗]|(发群里|这样|这么写|这样写)?可以吧|行吧)[？?]?\s*$`)
	// settledRE: a 吧 that settles rather than asks ("这期就报这个吧").
	settledRE = regexp.MustCompile(`(就|先)?报这个吧|就这样吧|就这些吧`)
	// promiseRE: the report itself is still to come ("典型做法下午补"); only
	// a long account of deeds before it still counts.
	promiseRE = regexp.MustCompile(`[上下]午补|晚点[报发补]|明天[报发交补]|回头[报发补]|稍后[报发补]|再报$`)
	// pendingRE: a report being written, sent elsewhere, unsure, or meta talk
	// about one already sent ("方案发了", "就不重复写了", "户数是估的").
	pendingRE = newLexicon(`下午整理|整理好$|是估的|为准|好像也不对|再说$|问问|都发了$|照片.{0,6}发了|手下留情|不好意思|撤回|重发|填错|写了一半|肯定[交发报]|那有|那里有|在.{0,4}那[里儿]?$|来不及|补上|节后|改天|见谅|整理好[报发]|写到一半|快好了|对不上|对上了|重复算|核一下|跟.{0,6}核对?|都在上面|在上面了|见上[面条]|晚点|晚上[发报交]|[上下]午[报发交]|明天[报发交]|稍后|等会|一会儿?[报发]|马上[报发]|待会|还没|没来得及|在改|在写|在整理|还在(写|改|整理|弄|做|收尾|审)|还差|一定[发报交]|先发个|初稿|定稿|等.{0,6}审|审一下|私发|发你了|[已都]?发了[，,。！!]|就不重复|不重复写|不报了|有问题跟我说|有情况再报|凑合|在(word|Word|WORD|文档|附件|表)里|见附件`)
	// futureRE: what is to be done, not what was ("明天跟安监站一起摆摊").
	futureRE = regexp.MustCompile(`明天|明早|后天|(^|[^一])下周|过两天|准备|打算|将要|要去|回头[^看]`)
	// requestRE: asking for something ("发我一份", "谁有模板").
	requestRE = newLexicon(`发我|给我发|转我|求.{0,6}模板|谁有|谁那|谁手里|有多的|借我|帮忙.{0,8}[发找看]`)
	// relayRE: someone else's report passed on ("帮北岭村赵书记转一下"): it
	// must not make the relaying unit 已报.
	relayRE = regexp.MustCompile(`帮.{0,10}(转|发一下)|让我转|转一下|转发一下|代(他|她|他们|为)?[报发]|替.{0,4}[报发]`)
	// aboutOthersRE: talk to or about others' work ("你们两个村…真旺啊").
	aboutOthersRE = newLexicon(`哈哈|吓人|跟你一比|寒碜|比不了|羡慕|^你们|你们.{0,12}(真|棒|厉害|不错|旺|强)|你们.{0,12}[^正刚恰只还]好|(真|好)(棒|厉害|不错|漂亮|旺)|简洁明了|学习了|点赞|值得学习|学学|也学|号召力|有一套`)
	// instructionRE: telling others what to do, whoever says it.
	instructionRE = regexp.MustCompile(`^(请|各单位|各社区|各村|各位|大家|务必|注意)|请各|请大家|请于|抓紧报|按时报|于.{0,12}前报`)
	// thingsRE: a count of things done or found ("86户", "发放2000份");
	// timesRE: a length of time ("4分30秒"), a weaker figure.
	thingsRE  = regexp.MustCompile(`[0-9０-９一二三四五六七八九十百千两]+\s*(余|多|几)?\s*(户|家|处|人|名|位|份|场|次|人次|台|个|块|条|辆|具|座|间|栋|起|张|所|幅|本|套|袋|车|公里|米|批|轮|项|支|只|组|单元|包|部|瓶|摊|根|盏|扇|桶|箱|平米|平方|号楼|段)`)
	ordinalRE = regexp.MustCompile(`第[0-9０-９一二三四五六七八九十]+`)
	timesRE   = regexp.MustCompile(`[0-9０-９一二三四五六七八九十百千两]+\s*(余|多)?\s*(小时|分钟|分|秒|天)`)
	// doneRE: something finished ("已经修好", "全部放下", "抽干了").
	doneRE = regexp.MustCompile(`了|已|完成|全部|当天|当场|缺|发现|存在|没问题|正常|无异常|合格`)
	// storyRE: another year's doings, told as a story ("去年咨询日我们搞了…").
	storyRE = regexp.MustCompile(`(^|[^比同])(去年|往年|前年|以前)([^同]|$)`)
	// correctionRE: a report put right ("更正一下前天的：…6个小区不是5个").
	correctionRE = regexp.MustCompile(`^(更正|补充|纠正|修正)`)
	// offeredRE: a text given as this period's report ("这期就报这个吧").
	offeredRE = regexp.MustCompile(`这期就?报|本期就?报|就报这个|^.{0,8}第[0-9０-９一二三四五六七八九十]+[周期][：:]`)
	// photoTalkRE: words about the photos themselves ("拍糊了", "别用那张").
	photoTalkRE = regexp.MustCompile(`拍(的|糊|得不|歪|得不好)|别用|看不清|乱了点|将就|凑合`)
	// deedRE: what units report doing.
	deedRE = newLexicon(`开展|组织|检查|排查|整改|演练|宣传|发放|走访|巡查|巡逻|培训|清理|清出|劝离|转移|签订|签了|值守|入户|督促|举办|摆摊|咨询|设点|张贴|悬挂|挂了|播放|更换|换了|拆除|查了|查处|处置|疏散|摸排|回头看|承诺书|责任书|动员|讲座|授课|科普|配备|配了|储备|加固|封堵|警示|隐患|讲了|教了|搞了|办了|贴了|装了|安装|送去|送了|发了[一0-9０-９]|每户发|摸底|摸了|叫停|抽查|劝阻|巡山|停产|复查|抽干|抽水|试了|修好|修复|放下|收进|守着|挡水|关停|约谈|通报|讲解|展板|主场|调试|测试|演示|救援|抢修|疏通|清扫|巡护|盯守|值班|登记|核查|上门|入企|进村|进校|进社区|劝回|劝返|巡了|拉了警戒|拉起警戒|收回|上了?.{0,8}课`)
)

// askingRE: asking how, wherever in the text ("“存在问题”怎么写比较好").
var askingRE = newLexicon(`怎么(写|填|报|弄|办|算|交|整)|(写|填|报)什么好|比较好[，,。]|是否|是不是|要不要|能不能|可不可以|算不算`)

// embeddedRE: a question word inside a telling ("教大家怎么关阀门", "看了燃气灶有没有熄火保护").
var embeddedRE = regexp.MustCompile(`(看|教|讲|查|问|告诉|演示|示范|学|练|懂得?|知道|问得最多的是|咨询)了?[^，,。；;]{0,12}(怎么|有没有|是不是|什么|要不要|能不能)`)

// clauseRE splits a text at its punctuation.
var clauseRE = regexp.MustCompile(`[，,。；;！!\n]+`)

// asks reports whether a text asks rather than tells.
func asks(body string, runes int) (string, bool) {
	if strings.ContainsAny(body, "?？") {
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
	parts := clauseRE.Split(trimmed, -1)
	last := ""
	for i := len(parts) - 1; i >= 0 && last == ""; i-- {
		last = strings.TrimSpace(parts[i])
	}
	if w := questionRE.FindString(last); w != "" && !embeddedRE.MatchString(last) {
		return w, true
	}
	if w := questionRE.FindString(body); w != "" && runes < 25 && !embeddedRE.MatchString(body) {
		return w, true
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
	words := contentRunes(text)
	switch {
	case f.Coordinator:
		return not("管理员或不属于任何单位的人说的话，是布置工作，不算报送")
	case len(words) == 0:
		return not("没有文字内容（表情、标点）")
	case isAck(c, words):
		return not("是“收到”“好的”这类回复")
	}
	body := afterAck(c, text)
	runes := len(contentRunes(body))
	// The deed is looked for without the task's own words: "咨询日" names
	// the task; it does not say a 咨询 took place.
	rest := body
	if v.Task != nil {
		for _, k := range append([]string{v.Task.Name}, v.Task.Keywords...) {
			rest = strings.ReplaceAll(rest, k, "")
		}
	}
	// "一起" is "together", not one 起 of something; "第一个" is a rank.
	counted := ordinalRE.ReplaceAllString(strings.ReplaceAll(body, "一起", ""), "")
	deed, figure := deedRE.FindString(rest), thingsRE.FindString(counted)
	deeds := deedRE.findAll(rest)
	if figure == "" {
		figure = timesRE.FindString(body)
	}
	things := thingsRE.MatchString(counted)
	own := false
	if f.Unit != nil {
		head := string([]rune(body)[:min(len([]rune(body)), 12)])
		for _, n := range append([]string{f.Unit.Name, unitStem(f.Unit.Name)}, f.Unit.Aliases...) {
			own = own || n != "" && strings.HasPrefix(head, n)
		}
	}
	if runes < c.Reports.MinChars {
		return not(fmt.Sprintf("内容不到%d个字", c.Reports.MinChars))
	}
	// Where it belongs is the question, not what was done: judged on the rest.
	if loc := classifyRE.FindStringIndex(body); loc != nil && things && doneRE.MatchString(body[:loc[0]]) {
		body = body[:loc[0]]
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
	case len(deeds) >= 2 && runes >= 25 && doneRE.MatchString(body):
		v.Counts, v.Why = true, "说了做成的几件事（"+strings.Join(deeds, "、")+"）"
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

// isAck reports whether the words are an acknowledgement and nothing else.
func isAck(c *Config, words []rune) bool {
	w := strings.ToLower(string(words))
	for _, n := range c.Reports.NotReports {
		if w == strings.ToLower(string(contentRunes(n))) {
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

// lexicon is an alternation of words matched fast: its plain words with
// strings.Index, the rest as one regexp. As one regexp of a hundred
// alternatives, the word lists made the backtracker the rule's main cost
// (a fifth of a whole June's messages).
type lexicon struct {
	expr  string // the whole alternation, for the tests to compare with
	words []string
	re    *regexp.Regexp // the alternatives that are patterns; nil for none
}

// newLexicon splits expr at its top-level | into plain words and patterns.
func newLexicon(expr string) *lexicon {
	l := &lexicon{expr: expr}
	var patterns []string
	depth, start := 0, 0
	for i := 0; i <= len(expr); i++ {
		if i < len(expr) {
			switch expr[i] {
			case '(', '[':
				depth++
				continue
			case ')', ']':
				depth--
				continue
			case '\\':
				i++
				continue
			case '|':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		alt := expr[start:i]
		start = i + 1
		if regexp.QuoteMeta(alt) == alt {
			l.words = append(l.words, alt)
		} else {
			patterns = append(patterns, alt)
		}
	}
	if len(patterns) > 0 {
		l.re = regexp.MustCompile(strings.Join(patterns, "|"))
	}
	return l
}

// MatchString reports whether s holds any of the lexicon's words or patterns.
func (l *lexicon) MatchString(s string) bool {
	for _, w := range l.words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return l.re != nil && l.re.MatchString(s)
}

// FindString is the leftmost match in s (the longer word on a tie), or "".
func (l *lexicon) FindString(s string) string {
	at, found := -1, ""
	for _, w := range l.words {
		if i := strings.Index(s, w); i >= 0 && (at < 0 || i < at || i == at && len(w) > len(found)) {
			at, found = i, w
		}
	}
	if l.re != nil {
		if loc := l.re.FindStringIndex(s); loc != nil && (at < 0 || loc[0] <= at) {
			return s[loc[0]:loc[1]]
		}
	}
	return found
}

// findAll is the distinct words and patterns of the lexicon found in s, left
// to right and without overlaps ("检查了" is one deed, not 检查 and 查了).
// Each word is looked for once, so a long text costs one scan per word.
func (l *lexicon) findAll(s string) []string {
	type hit struct{ at, end int }
	var hits []hit
	for _, w := range l.words {
		if i := strings.Index(s, w); i >= 0 {
			hits = append(hits, hit{i, i + len(w)})
		}
	}
	if l.re != nil {
		for _, loc := range l.re.FindAllStringIndex(s, 16) {
			hits = append(hits, hit{loc[0], loc[1]})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int { return cmp.Or(a.at-b.at, b.end-a.end) })
	var found []string
	end := 0
	for _, h := range hits {
		if w := s[h.at:h.end]; h.at >= end && !slices.Contains(found, w) {
			found, end = append(found, w), h.end
		}
	}
	return found
}

// unitSuffixes end units' names; without them a name is what people call
// the unit ("北岭" for 北岭村).
var unitSuffixes = []string{"社区", "村", "站", "办", "所", "队"}

// unitStem is a unit's name without its kind ("北岭村" → "北岭"), or ""
// when too little would be left to be a name.
func unitStem(name string) string {
	for _, suf := range unitSuffixes {
		if stem, ok := strings.CutSuffix(name, suf); ok && len([]rune(stem)) >= 2 {
			return stem
		}
	}
	return ""
}
