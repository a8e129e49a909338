package bot

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// The rule's hand-written scans match and find as the expressions they
// replace, on the corpus and the golden test's texts (with broken UTF-8).
func TestScansMatchTheirExpressions(t *testing.T) {
	texts := ruleTexts(t)
	contentRunes := func(s string) []rune {
		var out []rune
		for _, r := range s {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				out = append(out, r)
			}
		}
		return out
	}
	for _, tt := range []struct {
		name string
		expr string
		scan interface {
			MatchString(string) bool
			FindString(string) string
		}
	}{
		{"askEnd", `[吗呢没吧][^\p{Han}\p{L}\p{N}]*$`, askEndRE},
		{"things", thingsRE.expr, thingsRE},
		{"times", timesRE.expr, timesRE},
	} {
		t.Run(tt.name, func(t *testing.T) {
			re := regexp.MustCompile(tt.expr)
			for _, s := range texts {
				if got, want := tt.scan.FindString(s), re.FindString(s); got != want {
					t.Errorf("%q: found %q, the regexp %q", s, got, want)
				}
				if got, want := tt.scan.MatchString(s), re.MatchString(s); got != want {
					t.Errorf("%q: %v, the regexp says %v", s, got, want)
				}
			}
		})
	}
	t.Run("askInside", func(t *testing.T) {
		re := regexp.MustCompile(`吗[\s，,。！!]+\S`)
		for _, s := range texts {
			if got, want := askInsideRE.MatchString(s), re.MatchString(s); got != want {
				t.Errorf("%q: %v, the regexp says %v", s, got, want)
			}
		}
	})
	t.Run("ordinals", func(t *testing.T) {
		re := regexp.MustCompile(`第[0-9０-９一二三四五六七八九十]+`)
		for _, s := range texts {
			if got, want := withoutOrdinals(s), re.ReplaceAllString(s, ""); got != want {
				t.Errorf("%q: %q, the regexp makes %q", s, got, want)
			}
		}
	})
	t.Run("lastClause", func(t *testing.T) {
		re := regexp.MustCompile(`[，,。；;！!\n]+`)
		for _, s := range texts {
			s = strings.TrimSpace(s)
			parts := re.Split(s, -1)
			want := ""
			for i := len(parts) - 1; i >= 0 && want == ""; i-- {
				want = strings.TrimSpace(parts[i])
			}
			if got := lastClause(s); got != want {
				t.Errorf("%q: %q, want %q", s, got, want)
			}
		}
	})
	t.Run("content", func(t *testing.T) {
		acks := append(slices.Clone(DefaultNotReports), "OK", "Ok", "ＯＫ", "ΣΑΣ", "σας", "")
		for _, s := range texts {
			words := contentRunes(s)
			if got := countContent(s); got != len(words) {
				t.Errorf("%q: %d content runes, want %d", s, got, len(words))
			}
			if got := hasContent(s); got != (len(words) > 0) {
				t.Errorf("%q: has content %v", s, got)
			}
			for _, n := range acks {
				// The former rule's comparison, kept as it was (EqualFold folds a few letters differently).
				a, b := strings.ToLower(string(words)), strings.ToLower(string(contentRunes(n)))
				want := a == b
				if got := sameContent(s, n); got != want {
					t.Errorf("%q, %q: same %v, want %v", s, n, got, want)
				}
			}
			if got, want := firstRunes(s, 12), string([]rune(s)[:min(len([]rune(s)), 12)]); got != want {
				t.Errorf("%q: first runes %q, want %q", s, got, want)
			}
		}
	})
}

// isContent and lower take the CJK Unified Ideographs for letters without
// case, without asking unicode.
func TestHanAreLetters(t *testing.T) {
	for r := rune(0x4E00); r <= 0x9FFF; r++ {
		if !unicode.IsLetter(r) || unicode.ToLower(r) != r {
			t.Fatalf("%U is no letter or has a case", r)
		}
	}
}
