package bot

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The word lists, matched word by word, decide as their whole alternation
// does, on every line of the corpus and on edge cases.
func TestLexiconMatchesItsRegexp(t *testing.T) {
	var lines []string
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "replies", "*.txt"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if parts := strings.SplitN(l, "|", 3); len(parts) == 3 {
				lines = append(lines, strings.TrimSpace(parts[2]))
			}
		}
	}
	lines = append(lines, "", "你们", "再报", "一定报送", "(", "|")
	if len(lines) < 500 {
		t.Fatalf("%d lines", len(lines))
	}
	for name, l := range map[string]*lexicon{"question": questionRE, "pending": pendingRE, "aboutOthers": aboutOthersRE,
		"deed": deedRE, "asking": askingRE, "request": requestRE} {
		t.Run(name, func(t *testing.T) {
			whole := regexp.MustCompile(l.expr)
			if len(l.words) == 0 {
				t.Errorf("no plain words split off")
			}
			for _, s := range lines {
				if got, want := l.MatchString(s), whole.MatchString(s); got != want {
					t.Errorf("%q: %v, the regexp says %v", s, got, want)
				}
				if got := l.FindString(s); (got != "") != whole.MatchString(s) || got != "" && !strings.Contains(s, got) {
					t.Errorf("%q: found %q", s, got)
				}
			}
		})
	}
}
