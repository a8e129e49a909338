package bot

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// parseCommandBefore is ParseCommand as it was before the prefix table:
// the whole text normalised and lowercased, every word tried. The table must
// give the same answer for every text.
func parseCommandBefore(text string) (Command, bool) {
	text = strings.Join(strings.Fields(strings.ReplaceAll(text, "\u3000", " ")), " ")
	lower := strings.ToLower(text)
	best, bestLen := "", 0
	for _, c := range commands {
		for _, w := range c.words {
			if len(w) > bestLen && strings.HasPrefix(lower, w) {
				best, bestLen = c.name, len(w)
			}
		}
	}
	if best == "" {
		return Command{}, false
	}
	args := strings.TrimSpace(text[bestLen:])
	args = strings.TrimLeft(args, "：:，, ")
	return Command{Name: best, Args: args}, true
}

// TestParseCommandAsBefore compares ParseCommand with the way it parsed
// before on hand-picked texts (case, spaces of every kind, words that start
// other words, bytes that are no UTF-8) and on 20,000 texts put together at
// random from command words and such pieces.
func TestParseCommandAsBefore(t *testing.T) {
	pieces := []string{"", " ", "\u3000", "\t", "\n", "\u00a0", "：", ":", "，", ",", "？", "?", "H", "e", "L", "p",
		"\xff", "\u0130", "\u212a", "典型做法", "第2期", "东风社区", "今天", "x"}
	for _, c := range commands {
		for _, w := range c.words {
			pieces = append(pieces, w, strings.ToUpper(w), w[:len(w)-1])
		}
	}
	texts := []string{"未报", "HELP", "Help me", "hElP?", "　 未报　典型做法 ", "还有谁没报？", "不算数", "不算多，今天查了5户",
		"撤销报送 第3社区", "\xff未报", "未\xff报", "help\xff", "\u0130help", "help\u0130", "重新载入", "报了吗", "我们报了吗 总结",
		"\u00a0\u00a0标记\u3000东风社区\t典型做法\n免报", "?", "？？", ":未报", "", " ", "\u3000"}
	r := rand.New(rand.NewPCG(18, 18))
	for range 20000 {
		var b strings.Builder
		for range r.IntN(5) + 1 {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		texts = append(texts, b.String())
	}
	for _, text := range texts {
		got, gotOK := ParseCommand(text)
		want, wantOK := parseCommandBefore(text)
		if got != want || gotOK != wantOK {
			t.Errorf("ParseCommand(%q) = %+v %v, before %+v %v", text, got, gotOK, want, wantOK)
		}
	}
}

// BenchmarkParseCommand parses a report of ordinary length (no command) and a
// command with arguments, with ParseCommand and, in the same run, the way it
// parsed before (the anchor):
//
//	go test -run '^$' -bench ParseCommand -count 5 ./bot
func BenchmarkParseCommand(b *testing.B) {
	for _, text := range []string{"本周典型做法：第12条，社区组织开展了消防演练和隐患排查，共检查商户35家，整改隐患6处。", "谁没报 典型做法 第2期"} {
		kind := "report"
		if _, ok := ParseCommand(text); ok {
			kind = "command"
		}
		for _, p := range []struct {
			name  string
			parse func(string) (Command, bool)
		}{{"table", ParseCommand}, {"before", parseCommandBefore}} {
			b.Run(kind+"/"+p.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					p.parse(text)
				}
			})
		}
	}
}
