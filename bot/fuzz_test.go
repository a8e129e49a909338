package bot

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseCommand: any text parses without panicking, and what it parses to
// is a known command whose arguments are part of the text.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"未报", "谁没报 典型做法 第2期", "标记 东风社区 典型做法 免报", "@报送机器人 进度", "收到", "",
		"　标记　", "我报了吗？？", "绑定 " + strings.Repeat("长", 100), "\x00未报", "导出 总结 第99999999999999999999期"} {
		f.Add(s)
	}
	names := map[string]bool{}
	for _, c := range commands {
		names[c.name] = true
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, ok := ParseCommand(text)
		if !ok {
			return
		}
		if !names[c.Name] {
			t.Fatalf("unknown command %q from %q", c.Name, text)
		}
		if utf8.ValidString(text) && !strings.Contains(strings.Join(strings.Fields(text), " "), c.Args) {
			t.Fatalf("args %q are not from %q", c.Args, text)
		}
	})
}
