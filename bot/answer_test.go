package bot_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"reportbot/bot"
	"reportbot/schedules"
)

// manyUnits is a config of n units, 第1社区 to 第n社区, none of which has reported.
func manyUnits(t *testing.T, n int) *bot.Config {
	t.Helper()
	var b strings.Builder
	b.WriteString("[bot]\nadmins = [\"王科长\"]\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "[[unit]]\nname = \"第%d社区\"\nmembers = [\"第%d社区-联络员\"]\n", i, i)
	}
	cfg, err := bot.ParseConfig("config.toml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

var unitNameRE = regexp.MustCompile(`第\d+社区`)

// A question's answer over 1,000 units stays within five messages that end
// by counting what was left out and pointing to the dashboard and export;
// the scheduled roll-call and nudge still name every unit, over as many
// messages as that takes.
func TestAnswersStayShortListsStayWhole(t *testing.T) {
	const units = 1000
	s, err := schedules.Load(filepath.Join("..", "schedule.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessWith(t, manyUnits(t, units), s)
	max := h.bot.Config.Bot.MaxMessageChars
	for _, q := range []struct {
		name string
		ask  func()
	}{
		{"未报 in the group", func() { h.say("第7社区-联络员", "未报") }},
		{"谁没报 privately", func() { h.private("街道应急办-王科", "王科长", "谁没报 典型做法") }},
		{"进度", func() { h.say("第7社区-联络员", "进度") }},
		{"统计 of one task", func() { h.say("第7社区-联络员", "统计 活动方案") }},
	} {
		t.Run(q.name, func(t *testing.T) {
			h.at("2026-06-04 10:00")
			q.ask()
			got := h.sent()
			if len(got) == 0 || len(got) > bot.MaxAnswerParts {
				t.Fatalf("%d messages, want 1 to %d", len(got), bot.MaxAnswerParts)
			}
			for i, m := range got {
				if n := len([]rune(m)); n > max {
					t.Errorf("message %d has %d characters, more than %d", i+1, n, max)
				}
			}
			last := got[len(got)-1]
			more := regexp.MustCompile(`还有(\d+)项没有列出`).FindStringSubmatch(last)
			if more == nil || !strings.Contains(last, "看板") || !strings.Contains(last, "导出") {
				t.Fatalf("the last message does not count what was left out and point to 看板 and 导出:\n%s", last)
			}
			shown := map[string]bool{}
			for _, m := range got {
				for _, u := range unitNameRE.FindAllString(m, -1) {
					shown[u] = true
				}
			}
			if len(shown) < 300 {
				t.Errorf("only %d units named before the cut: the five messages should be used", len(shown))
			}
		})
	}
	for _, event := range []string{"weekly/1/nudge@-2h", "weekly/1/rollcall@0"} {
		t.Run(event, func(t *testing.T) {
			text := h.fire(event)
			named := map[string]bool{}
			for _, u := range unitNameRE.FindAllString(text, -1) {
				named[u] = true
			}
			if len(named) != units || strings.Contains(text, "没有列出") {
				t.Errorf("named %d of %d units (cut: %v)", len(named), units, strings.Contains(text, "没有列出"))
			}
		})
	}
}
