package console

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseLine: any line parses or is refused with an error, never a panic;
// a message always has a sender.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"/time 2026-06-04 11:30", "/time +30m", "张三: 今天", "张三 -> bot: 未报", "张三: /image x.png",
		"/restart", "# c", "：：", "a -> bot:", "/time +99999999999h", "张三: /recall"} {
		f.Add(s)
	}
	loc := time.FixedZone("CST", 8*3600)
	f.Fuzz(func(t *testing.T, line string) {
		l, err := ParseLine(line, loc)
		if err != nil {
			return
		}
		if l.Op == OpMessage && strings.TrimSpace(l.From) == "" {
			t.Fatalf("message without sender from %q", line)
		}
	})
}
