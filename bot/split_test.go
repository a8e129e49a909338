package bot

import (
	"strings"
	"testing"
)

func TestSplitText(t *testing.T) {
	var lines []string
	for i := 0; i < 50; i++ {
		lines = append(lines, strings.Repeat("字", 30))
	}
	text := strings.Join(lines, "\n")
	parts := splitText(text, 200)
	if len(parts) < 8 {
		t.Fatalf("%d parts", len(parts))
	}
	for _, p := range parts {
		if n := len([]rune(p)); n > 200 {
			t.Errorf("part of %d characters", n)
		}
	}
	if got := strings.Join(parts, "\n"); got != text {
		t.Error("splitting lost text")
	}
	// A long line of mentions splits between names.
	var ats []string
	for i := 0; i < 60; i++ {
		ats = append(ats, "@成员"+strings.Repeat("甲", i%5))
	}
	for _, p := range splitText(strings.Join(ats, " "), 100) {
		for _, f := range strings.Fields(p) {
			if !strings.HasPrefix(f, "@成员") {
				t.Errorf("a mention was cut: %q", f)
			}
		}
	}
	if got := splitText("短", 100); len(got) != 1 || got[0] != "短" {
		t.Errorf("short text: %q", got)
	}
}

func TestParseCommand(t *testing.T) {
	for _, tt := range []struct {
		text, name, args string
		ok               bool
	}{
		{"未报", "missing", "", true},
		{"谁没报 典型做法", "missing", "典型做法", true},
		{"还有谁没报？", "missing", "？", true},
		{"标记　东风社区 典型做法 免报", "mark", "东风社区 典型做法 免报", true},
		{"我报了吗", "mine", "", true},
		{"HELP", "help", "", true},
		{"今天开展了演练", "", "", false},
	} {
		c, ok := ParseCommand(tt.text)
		if ok != tt.ok || c.Name != tt.name || c.Args != tt.args {
			t.Errorf("ParseCommand(%q) = %+v %v", tt.text, c, ok)
		}
	}
}

// TestItemSeparators: the switch names the separators the constant lists.
func TestItemSeparators(t *testing.T) {
	for _, r := range "\n、；，,。 a东\t;" {
		if got, want := isItemSeparator(r), strings.ContainsRune(itemSeparators, r); got != want {
			t.Errorf("isItemSeparator(%q) = %v, want %v", r, got, want)
		}
	}
}
