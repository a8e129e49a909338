package bot

import (
	"cmp"
	"fmt"
	"maps"
	"math/bits"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// lexicon is an alternation of words and patterns, matched fast: the
// report rule runs some twenty of them on every text a member sends. Its
// words are found in one pass over the text: a bit per first rune says
// where a word may start, and only there are words compared. A pattern runs
// as a regexp of its own, and only when the text holds the literals it
// cannot match without ("还是" for `还是.{0,12}[呢吧]$`). As regexps, the
// rule's expressions made the backtracker most of the rule's cost; as
// strings.Index per word, the words did, as Chinese text is full of the few
// bytes that begin Han characters.
type lexicon struct {
	expr string // the whole alternation, for the tests to compare with
	// alts in the order a tie at one position is decided: the first wins.
	alts []alt
	// filter has a bit per first-rune key (runeKey) of the words and of
	// the literals the patterns need; starts has them by that key, in the
	// order of the keys: those of key k are at the rank of k's bit, the
	// number of bits below it, which rank counts to the start of its word.
	filter [filterWords]uint64
	rank   [filterWords]uint16
	starts [][]start
	// patterns are the indexes in alts of the patterns, in order.
	patterns []int
	// all is the patterns as one expression, for findAll.
	all *regexp.Regexp
}

// alt is one alternative: a word, or a pattern with what it needs.
type alt struct {
	word string
	re   *regexp.Regexp
	// need: each element is a set of markers (bits), one of which the text
	// must hold for re to be able to match.
	need []uint64
}

// start is a word or a marker beginning with a given rune.
type start struct {
	lit    string
	alt    int    // the alternative the word is, or -1 for a marker only
	marker uint64 // the marker's bit, or 0 for a word only
}

const filterWords = 4096 / 64

// newLexicon is a word list: on a tie at one position the patterns win, in
// their order, then the longer word.
func newLexicon(expr string) *lexicon {
	l := &lexicon{expr: expr}
	var words []string
	var patterns []alt
	for _, a := range topAlternatives(expr) {
		if regexp.QuoteMeta(a) == a {
			words = append(words, a)
		} else {
			patterns = append(patterns, alt{re: regexp.MustCompile(a)})
		}
	}
	// Stable: two words of one length never both match at one position.
	slices.SortStableFunc(words, func(a, b string) int { return len(b) - len(a) })
	l.alts = patterns
	for _, w := range words {
		l.alts = append(l.alts, alt{word: w})
	}
	l.index()
	return l
}

// newAlternation is a regular expression's top-level alternation, matched
// as the regexp package would: on a tie at one position the first
// alternative wins.
func newAlternation(expr string) *lexicon {
	l := &lexicon{expr: expr}
	for _, a := range topAlternatives(expr) {
		if regexp.QuoteMeta(a) == a {
			l.alts = append(l.alts, alt{word: a})
		} else {
			l.alts = append(l.alts, alt{re: regexp.MustCompile(a)})
		}
	}
	l.index()
	return l
}

// topAlternatives splits expr at its top-level |.
func topAlternatives(expr string) []string {
	var out []string
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
		out = append(out, expr[start:i])
		start = i + 1
	}
	return out
}

// index finds what each pattern needs and files the words and markers by
// their first rune.
func (l *lexicon) index() {
	byKey := map[uint][]start{}
	markers := map[string]uint64{}
	add := func(s start) {
		k := runeKey(s.lit, 0)
		l.filter[k/64] |= 1 << (k % 64)
		byKey[k] = append(byKey[k], s)
	}
	var patterns []string
	for i := range l.alts {
		a := &l.alts[i]
		if a.re == nil {
			add(start{lit: a.word, alt: i})
			continue
		}
		l.patterns = append(l.patterns, i)
		patterns = append(patterns, a.re.String())
		re, err := syntax.Parse(a.re.String(), syntax.Perl)
		if err != nil {
			panic(err)
		}
		for _, set := range needs(re) {
			var bits uint64
			for _, lit := range set {
				bit, ok := markers[lit]
				if !ok {
					if len(markers) == 64 {
						panic(fmt.Sprintf("lexicon %q: more than 64 markers", l.expr))
					}
					bit = 1 << len(markers)
					markers[lit] = bit
					add(start{lit: lit, alt: -1, marker: bit})
				}
				bits |= bit
			}
			a.need = append(a.need, bits)
		}
	}
	if len(patterns) > 0 {
		l.all = regexp.MustCompile(strings.Join(patterns, "|"))
	}
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		l.starts = append(l.starts, byKey[k])
	}
	for w := 1; w < filterWords; w++ {
		l.rank[w] = l.rank[w-1] + uint16(bits.OnesCount64(l.filter[w-1]))
	}
}

// needs is what a text must hold for re to match in it: each element a set
// of literals, one of which at least. It is a necessary condition, not a
// sufficient one: what it cannot tell (a gap, a large class) it leaves out.
func needs(re *syntax.Regexp) [][]string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return [][]string{{string(re.Rune)}}
	case syntax.OpCharClass:
		var set []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(set) == 8 {
					return nil
				}
				set = append(set, string(r))
			}
		}
		return [][]string{set}
	case syntax.OpCapture, syntax.OpPlus:
		return needs(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return needs(re.Sub[0])
		}
	case syntax.OpConcat:
		var all [][]string
		for _, s := range re.Sub {
			all = append(all, needs(s)...)
		}
		return all
	case syntax.OpAlternate:
		// One of the branches matches, so one of the sets they need is
		// met: each branch gives its set of the longest literals.
		var set []string
		for _, s := range re.Sub {
			n := needs(s)
			if len(n) == 0 {
				return nil
			}
			best := slices.MaxFunc(n, func(a, b []string) int { return cmp.Compare(shortest(a), shortest(b)) })
			set = append(set, best...)
		}
		return [][]string{set}
	}
	return nil
}

// shortest is the length of the shortest literal of a set: the longer, the
// rarer in a text, and the fewer the texts a pattern runs on.
func shortest(set []string) int {
	n := len(set[0])
	for _, s := range set[1:] {
		n = min(n, len(s))
	}
	return n
}

// runeKey is the low 12 bits of the rune that starts at s[i], read from the
// last bytes of its UTF-8 encoding without decoding it. For a word's first
// rune and for the same bytes in a text it is the same, which is all the
// filter needs.
func runeKey(s string, i int) uint {
	b := s[i]
	switch {
	case b < 0x80:
	case b < 0xE0:
		if i+1 < len(s) {
			return uint(b&0x1F)<<6 | uint(s[i+1]&0x3F)
		}
	case b < 0xF0:
		if i+2 < len(s) {
			return uint(s[i+1]&0x3F)<<6 | uint(s[i+2]&0x3F)
		}
	default:
		if i+3 < len(s) {
			return uint(s[i+2]&0x3F)<<6 | uint(s[i+3]&0x3F)
		}
	}
	return uint(b) // ASCII, or a rune cut short, where no word starts
}

// startsAt is the words and markers whose first rune has key k: those that
// may start where a rune of that key is.
func (l *lexicon) startsAt(k uint) []start {
	w, bit := l.filter[k/64], uint64(1)<<(k%64)
	if w&bit == 0 {
		return nil
	}
	return l.starts[int(l.rank[k/64])+bits.OnesCount64(w&(bit-1))]
}

// scan finds, in one pass, the leftmost word of s (the first alternative on
// a tie) and the markers s holds. With stop it returns at the first word.
func (l *lexicon) scan(s string, stop bool) (at, which int, present uint64) {
	at, which = -1, -1
	step := 1
	for i := 0; i < len(s); i += step {
		// Most runes are Han, three bytes long: their key is read here,
		// and the two bytes that follow are not visited, as no word
		// starts within a rune.
		k := uint(s[i])
		step = 1
		switch {
		case k >= 0xE0 && k < 0xF0 && i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80:
			k, step = uint(s[i+1]&0x3F)<<6|uint(s[i+2]&0x3F), 3
		case k&0xC0 == 0x80:
			continue // inside a rune
		case k >= 0x80:
			k = runeKey(s, i)
		}
		for _, st := range l.startsAt(k) {
			if !strings.HasPrefix(s[i:], st.lit) {
				continue
			}
			present |= st.marker
			if st.alt >= 0 && (at < 0 || at == i && st.alt < which) {
				at, which = i, st.alt
				if stop {
					return at, which, present
				}
			}
		}
	}
	return at, which, present
}

// may reports whether a holds what it needs of the markers present.
func (a *alt) may(present uint64) bool {
	for _, set := range a.need {
		if present&set == 0 {
			return false
		}
	}
	return true
}

// MatchString reports whether s holds any of the lexicon's words or patterns.
func (l *lexicon) MatchString(s string) bool {
	at, _, present := l.scan(s, true)
	if at >= 0 {
		return true
	}
	for _, i := range l.patterns {
		if a := &l.alts[i]; a.may(present) && a.re.MatchString(s) {
			return true
		}
	}
	return false
}

// FindStringIndex is the leftmost match in s, the first alternative on a
// tie, as [start, end]; nil for none.
func (l *lexicon) FindStringIndex(s string) []int {
	at, end, _ := l.find(s)
	if at < 0 {
		return nil
	}
	return []int{at, end}
}

// FindString is the leftmost match in s, the first alternative on a tie, or "".
func (l *lexicon) FindString(s string) string {
	at, end, _ := l.find(s)
	if at < 0 {
		return ""
	}
	return s[at:end]
}

// find is the leftmost match's bounds and alternative; at < 0 for none.
func (l *lexicon) find(s string) (at, end, which int) {
	at, which, present := l.scan(s, false)
	if at >= 0 {
		end = at + len(l.alts[which].word)
	}
	for _, i := range l.patterns {
		a := &l.alts[i]
		if !a.may(present) {
			continue
		}
		if loc := a.re.FindStringIndex(s); loc != nil && (at < 0 || loc[0] < at || loc[0] == at && i < which) {
			at, end, which = loc[0], loc[1], i
		}
	}
	return at, end, which
}

// findAll is the distinct words and patterns of the lexicon found in s, left
// to right and without overlaps ("检查了" is one deed, not 检查 and 查了).
// Each word counts where it is first found.
func (l *lexicon) findAll(s string) []string {
	type hit struct{ at, end int }
	var hits []hit
	seen := make([]bool, len(l.alts))
	var present uint64
	for i := 0; i < len(s); i++ {
		if s[i]&0xC0 == 0x80 {
			continue // inside a rune
		}
		for _, st := range l.startsAt(runeKey(s, i)) {
			if strings.HasPrefix(s[i:], st.lit) {
				present |= st.marker
				if st.alt >= 0 && !seen[st.alt] {
					seen[st.alt] = true
					hits = append(hits, hit{i, i + len(st.lit)})
				}
			}
		}
	}
	for _, i := range l.patterns {
		if l.alts[i].may(present) {
			// The patterns as one expression, as they were matched
			// before: one pattern's match hides another's within it.
			for _, loc := range l.all.FindAllStringIndex(s, 16) {
				hits = append(hits, hit{loc[0], loc[1]})
			}
			break
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
