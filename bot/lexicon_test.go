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
