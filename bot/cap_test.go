package bot

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// capParts keeps the first parts whole, cuts the last at a separator, and
// counts exactly the items it left out, whatever the list's shape.
func TestCapParts(t *testing.T) {
	list := func(n int, sep string) string {
		var names []string
		for i := 1; i <= n; i++ {
			names = append(names, fmt.Sprintf("第%d社区", i))
		}
		return strings.Join(names, sep)
	}
	for _, tt := range []struct {
		name  string
		text  string
		max   int
		parts int // how many messages the answer takes
	}{
		{"short: untouched", "未报 2：第1社区、第2社区", 100, 1},
		{"one line of names", "未报 1000：" + list(1000, "、"), 1000, 5},
		{"a name per line", list(1000, "\n"), 200, 5},
		{"blocks", "「甲」第1期\n未报 300：" + list(300, "、") + "\n\n「乙」第1期\n未报 300：" + list(300, "、"), 300, 5},
		{"just over", list(100, "\n"), 100, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := capParts(tt.text, splitText(tt.text, tt.max), tt.max, MaxAnswerParts, moreNote)
			if len(got) != tt.parts {
				t.Fatalf("%d parts, want %d", len(got), tt.parts)
			}
			for _, p := range got {
				if n := len([]rune(p)); n > tt.max {
					t.Errorf("part of %d characters, more than %d", n, tt.max)
				}
			}
			all := strings.Join(got, "\n")
			if tt.parts < MaxAnswerParts {
				if all != tt.text {
					t.Errorf("a short answer was changed")
				}
				return
			}
			m := regexp.MustCompile(`……还有(\d+)项没有列出`).FindStringSubmatchIndex(all)
			if m == nil {
				t.Fatalf("no count of what was left out:\n%s", got[len(got)-1])
			}
			more, _ := strconv.Atoi(all[m[2]:m[3]])
			items, shown := fields(tt.text), fields(all[:m[0]])
			if len(shown) > len(items) || strings.Join(shown, "|") != strings.Join(items[:len(shown)], "|") {
				t.Fatalf("what is shown is not the answer's beginning, item for item (no name cut)")
			}
			if want := len(items) - len(shown); more != want {
				t.Errorf("says %d more, %d were left out", more, want)
			}
		})
	}
}

// fields are the items of a text, as a reader counts them.
func fields(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune(itemSeparators, r) })
}
