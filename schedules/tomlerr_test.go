package schedules

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
)

// goWords are words of Go's and the TOML decoder's own error texts; an admin
// reading the editor or the chat must never see them.
var goWords = regexp.MustCompile(`(?i)strconv|parsing|atoi|invalid syntax|incompatible|expected|toml:|int64|destination|instead`)

// TestErrorsInChinese: a mistake in the file's syntax, a value of the wrong
// type or a wrong cron field is reported in Chinese at the line written,
// also inside an array of tables, where the decoder names the last element's line.
func TestErrorsInChinese(t *testing.T) {
	base, err := os.ReadFile("../schedule.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new string
		want           string // in the message
	}{
		{"a cron field that is not a number", `cron = "0 12 * * THU"`, `cron = "x 12 * * THU"`, `第1段「分」"x" 无法识别`},
		{"an hour out of range", `cron = "0 12 * * THU"`, `cron = "0 25 * * THU"`, `第2段「时」"25" 无法识别（应为 0–23）`},
		{"a number for a text", `quiet_hours = "21:00-08:00"`, `quiet_hours = 21`, "quiet_hours 应写成带英文双引号的文字"},
		{"a date without quotes", `start = "2026-06-01"`, `start = 2026-06-01`, "没有加引号的日期或时间"},
		{"a text for a switch", `official = true`, `official = "yes"`, "official 应写成 true 或 false"},
		{"a text for a list, in the first of several tasks", `keywords = ["活动方案", "方案"]`, `keywords = "方案"`, "keywords 应写成带英文双引号的文字组成的列表"},
		{"a due without quotes", `due = "2026-06-09 18:00"`, `due = 2026-06-09 18:00`, `due 应写成带英文双引号的日期时间`},
		{"a list with a number", `days_off = []`, `days_off = [20260622]`, "其中的 20260622 没有加引号"},
		{"a quote not closed", `name = "活动方案"`, `name = "活动方案`, "引号没有配对"},
		{"Chinese quotes", `name = "活动方案"`, `name = “活动方案”`, "中文标点 “"},
		{"a Chinese equals sign", `name = "活动方案"`, `name ＝ "活动方案"`, "中文标点 ＝"},
		{"a bare word", `official = true`, `official = tru`, "等号后面的值无法识别"},
		{"a key twice", `due = "2026-06-09 18:00"`, "due = \"2026-06-09 18:00\"\ndue = \"2026-06-10 18:00\"", "设置项 due 写了两次"},
		{"a bracket not closed", `[calendar]`, `[calendar`, "方括号或逗号不对"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.Replace(string(base), tt.old, tt.new, 1)
			if text == string(base) {
				t.Fatalf("%q is not in the example", tt.old)
			}
			// The line written wrong: the last line of the replacement.
			at := strings.Index(text, tt.new) + len(tt.new)
			line := strings.Count(text[:at], "\n") + 1
			_, err := Parse("s.toml", []byte(text))
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("no Errors: %v", err)
			}
			e := errs[0]
			if e.Line != line || !strings.Contains(e.Msg, tt.want) {
				t.Errorf("got line %d %q, want line %d with %q", e.Line, e.Msg, line, tt.want)
			}
			if w := goWords.FindString(e.Msg); w != "" {
				t.Errorf("Go text %q in %q", w, e.Msg)
			}
		})
	}
}
