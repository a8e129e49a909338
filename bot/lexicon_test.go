package bot

import (
	"cmp"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
)

// ruleTexts are the texts the rule's expressions are compared with their
// regexps on: the corpus, every fourth input of the golden test, each also
// with a byte that breaks its UTF-8, and edge cases.
func ruleTexts(t *testing.T) []string {
	t.Helper()
	cfg, _ := judgeContext(t)
	var corpus []string
	for _, c := range judgeCorpus(t, cfg) {
		corpus = append(corpus, c.text)
	}
	texts := slices.Clone(corpus)
	r := judgeRand(7)
	for i, s := range judgeInputs(t, corpus) {
		if i%4 == 0 {
			texts = append(texts, s)
			if len(s) > 0 {
				at := r.intn(len(s))
				texts = append(texts, s[:at]+string([]byte{byte(0x80 + r.intn(0x80))})+s[at:])
			}
		}
	}
	return append(texts, "", "你们", "再报", "一定报送", "(", "|", "吗", "吗，", "吗 \n", "吗，\n好", "吗，，", "好吗。！", "吗 ，", "吗 \t", "\xe5吗", "吗\xe5", "3户", "三 余 户")
}

// wordListFind is how a word list finds, as it did as strings.Index per
// word and one regexp of its patterns: the leftmost word, the longer on a
// tie, unless a pattern matches as far left.
func wordListFind(expr string) func(s string) string {
	var words, patterns []string
	for _, w := range topAlternatives(expr) {
		if regexp.QuoteMeta(w) == w {
			words = append(words, w)
		} else {
			patterns = append(patterns, w)
		}
	}
	re := regexp.MustCompile(strings.Join(patterns, "|"))
	return func(s string) string {
		at, found := -1, ""
		for _, w := range words {
			if i := strings.Index(s, w); i >= 0 && (at < 0 || i < at || i == at && len(w) > len(found)) {
				at, found = i, w
			}
		}
		if loc := re.FindStringIndex(s); len(patterns) > 0 && loc != nil && (at < 0 || loc[0] <= at) {
			return s[loc[0]:loc[1]]
		}
		return found
	}
}

// The word lists match as their whole alternation does, and find as they
// always have (wordListFind), on the corpus and the golden test's texts.
func TestLexiconMatchesItsRegexp(t *testing.T) {
	texts := ruleTexts(t)
	for name, l := range map[string]*lexicon{"question": questionRE, "pending": pendingRE, "aboutOthers": aboutOthersRE,
		"deed": deedRE, "asking": askingRE, "request": requestRE} {
		t.Run(name, func(t *testing.T) {
			whole, find := regexp.MustCompile(l.expr), wordListFind(l.expr)
			if !slices.ContainsFunc(l.alts, func(a alt) bool { return a.word != "" }) {
				t.Errorf("no plain words split off")
			}
			for _, s := range texts {
				if got, want := l.MatchString(s), whole.MatchString(s); got != want {
					t.Errorf("%q: %v, the regexp says %v", s, got, want)
				}
				if got, want := l.FindString(s), find(s); got != want {
					t.Errorf("%q: found %q, want %q", s, got, want)
				}
			}
		})
	}
}

// The rule's other expressions, made lexicons, match and find as their
// regexps do.
func TestAlternationMatchesItsRegexp(t *testing.T) {
	texts := ruleTexts(t)
	for name, l := range map[string]*lexicon{"reminder": reminderRE, "classify": classifyRE, "settled": settledRE,
		"promise": promiseRE, "future": futureRE, "relay": relayRE, "instruction": instructionRE, "done": doneRE,
		"story": storyRE, "correction": correctionRE, "offered": offeredRE, "photoTalk": photoTalkRE, "embedded": embeddedRE} {
		t.Run(name, func(t *testing.T) {
			re := regexp.MustCompile(l.expr)
			for _, s := range texts {
				if got, want := l.MatchString(s), re.MatchString(s); got != want {
					t.Errorf("%q: %v, the regexp says %v", s, got, want)
				}
				if got, want := l.FindStringIndex(s), re.FindStringIndex(s); !slices.Equal(got, want) {
					t.Errorf("%q: found %v, the regexp %v", s, got, want)
				}
			}
		})
	}
}

// On a tie at one position a word list takes the longer word, an
// alternation its first alternative, and both a pattern before a word of
// a word list.
func TestLexiconTies(t *testing.T) {
	for _, tt := range []struct {
		l    *lexicon
		s    string
		want string
	}{
		{newLexicon(`ab|abc|x`), "xabcd", "x"},
		{newLexicon(`ab|abc`), "zabcd", "abc"},
		{newLexicon(`abc|ab`), "zabcd", "abc"},
		{newLexicon(`abcd|ab.`), "zabcd", "abc"},
		{newAlternation(`ab|abc`), "zabcd", "ab"},
		{newAlternation(`abc|ab`), "zabcd", "abc"},
		{newAlternation(`abcd|ab.`), "zabcd", "abcd"},
		{newAlternation(`ab.|abcd`), "zabcd", "abc"},
		{newAlternation(`b|(^|[^x])a`), "zab", "za"},
	} {
		if got := tt.l.FindString(tt.s); got != tt.want || got != "" && tt.l.expr != "" && !tt.l.MatchString(tt.s) {
			t.Errorf("%s in %q: %q, want %q", tt.l.expr, tt.s, got, tt.want)
		}
	}
}

// What a pattern needs is what it cannot match without.
func TestNeeds(t *testing.T) {
	for _, tt := range []struct {
		expr string
		want string
	}{
		{`上了?.{0,8}课`, "上 & 课"},
		{`(^|[^一])下周`, "下周"},
		{`还在(写|改|整理|弄|做|收尾|审)`, "还在 & 写|改|整理|做|弄|收尾|审"},
		{`在(word|Word|WORD|文档|附件|表)里`, "在 & word|ord|ORD|文档|附件|表 & 里"},
		{`[，,。]\s*((这个|这种|这|这样)?也?能?算.{0,10}[吧吗]|(发群里|这样|这么写|这样写)?可以吧|行吧)[？?]?\s*$`, ",|。|， & 算|可以吧|行吧"},
		{`[吗呢没吧][^\p{Han}\p{L}\p{N}]*$`, "吗|吧|呢|没"},
		{`.{0,8}x?`, ""},
	} {
		t.Run(tt.expr, func(t *testing.T) {
			re, err := syntax.Parse(tt.expr, syntax.Perl)
			if err != nil {
				t.Fatal(err)
			}
			var sets []string
			for _, set := range needs(re) {
				sets = append(sets, strings.Join(set, "|"))
			}
			if got := strings.Join(sets, " & "); got != tt.want {
				t.Errorf("needs %q, want %q", got, tt.want)
			}
		})
	}
}

// findAll finds as it did as strings.Index per word and one regexp of its
// patterns.
func TestLexiconFindAllAsBefore(t *testing.T) {
	var words []string
	var patterns []string
	for _, w := range topAlternatives(deedRE.expr) {
		if regexp.QuoteMeta(w) == w {
			words = append(words, w)
		} else {
			patterns = append(patterns, w)
		}
	}
	re := regexp.MustCompile(strings.Join(patterns, "|"))
	for _, s := range ruleTexts(t) {
		var hits [][2]int
		for _, w := range words {
			if i := strings.Index(s, w); i >= 0 {
				hits = append(hits, [2]int{i, i + len(w)})
			}
		}
		for _, loc := range re.FindAllStringIndex(s, 16) {
			hits = append(hits, [2]int{loc[0], loc[1]})
		}
		slices.SortFunc(hits, func(a, b [2]int) int { return cmp.Or(a[0]-b[0], b[1]-a[1]) })
		var want []string
		end := 0
		for _, h := range hits {
			if w := s[h[0]:h[1]]; h[0] >= end && !slices.Contains(want, w) {
				want, end = append(want, w), h[1]
			}
		}
		if got := deedRE.findAll(s); !slices.Equal(got, want) {
			t.Errorf("%q: %q, want %q", s, got, want)
		}
	}
}

// findAll counts a deed once however its words overlap, and each kind once.
func TestLexiconFindAll(t *testing.T) {
	for _, tt := range []struct {
		text string
		want []string
	}{
		{"", nil},
		{"今天天气不错", nil},
		{"检查了仓库", []string{"检查"}},
		{"检查了仓库，已责令整改，6月8号复查", []string{"检查", "整改", "复查"}},
		{"巡了一遍，又巡了一遍", []string{"巡了"}},
		{"给全校学生上了一堂防溺水课", []string{"上了一堂防溺水课"}},
	} {
		t.Run(tt.text, func(t *testing.T) {
			if got := deedRE.findAll(tt.text); strings.Join(got, "、") != strings.Join(tt.want, "、") {
				t.Errorf("findAll(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// A unit's stem is what people call it; too short a stem is no name.
func TestUnitStem(t *testing.T) {
	for name, want := range map[string]string{
		"北岭村": "北岭", "东风社区": "东风", "安监站": "安监", "城建办": "城建", "村": "", "新村": "", "": "",
	} {
		if got := unitStem(name); got != want {
			t.Errorf("unitStem(%q) = %q, want %q", name, got, want)
		}
	}
}
