package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode"

	"reportbot/schedules"
)

// FuzzConfig: whatever the config file holds, reading it never panics, and it
// either gives settings the bot can run with or problems an admin can act
// on: each in Chinese, naming the file and a line the file has. Seeds are in
// testdata/fuzz/FuzzConfig; bash .ci/run runs it.
func FuzzConfig(f *testing.F) {
	f.Add(exampleConfig)
	f.Add([]byte("[bot]\nadmins = [\"王科长\"]\n[[unit]]\nname = \"东风社区\"\n[wechat]\ngroup = \"群\"\n"))
	f.Add([]byte("[bot]\ntransport = \"dingtalk\"\nreceipt_delay = \"1分钟\"\n[[unit]]\nname = 3\nmembrs = [\"甲\"]\n[dingding]\nx = 1\n"))
	f.Add([]byte("[[unit]]\n[[unit.members]]\n[console]\nremarks = { \"甲\" = 1 }\n[backup]\nkeep = 1.5\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, platform := range []string{"", "console"} {
			s, err := parseSettingsFor("fuzz.toml", data, platform)
			if err == nil {
				if len(s.Units) == 0 || len(s.Units) > 1000 || !slices.Contains(transports, s.Transport) {
					t.Fatalf("accepted settings the bot cannot run with: %d units, transport %q", len(s.Units), s.Transport)
				}
				if platform == "" && s.Transport == "wechat" && strings.TrimSpace(s.Wechat.Group) == "" {
					t.Fatal("accepted a WeChat bot without a group")
				}
				continue
			}
			var es schedules.Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error of type %T: %v", err, err)
			}
			lines := strings.Count(string(data), "\n") + 1
			for _, e := range es {
				if e.File != "fuzz.toml" || e.Line < 0 || e.Line > lines {
					t.Fatalf("%q: file %q line %d of %d", e.Msg, e.File, e.Line, lines)
				}
				if !strings.ContainsFunc(e.Msg, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
					t.Fatalf("not said in Chinese: %q", e.Msg)
				}
			}
		}
	})
}
