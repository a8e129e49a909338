package bot_test

import (
	"strings"
	"testing"

	"reportbot/bot"
	"reportbot/schedules"
)

// TestHelpNamesTheBot: 帮助 introduces the bot by its configured [bot] name,
// the one the group @-mentions, not by the default.
func TestHelpNamesTheBot(t *testing.T) {
	for _, name := range []string{"报送机器人", "安全月小助手"} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.bot.Config.Bot.Name = name
			h.deliver(bot.Message{Sender: bot.Member{Name: "东风社区-张三"}, ToBot: true, Kind: schedules.Text, Text: "帮助", Size: -1})
			sent := h.sent()
			if len(sent) == 0 || !strings.HasPrefix(sent[len(sent)-1], "我是"+name+"，") {
				t.Errorf("help answers %q", sent)
			}
		})
	}
}

// TestBareMissingMeansNearestDeadline: 未报 without a task answers for the
// task whose deadline just passed, else the next to fall due, as the README
// says, not for every task due within the week.
func TestBareMissingMeansNearestDeadline(t *testing.T) {
	for _, tt := range []struct {
		at, want string
		not      []string
	}{
		{"2026-06-04 10:00", "「本周典型做法、特色项目」第1期", []string{"「活动方案」"}}, // weekly due today 12:00, the plan on the 9th
		{"2026-06-04 13:00", "「本周典型做法、特色项目」第1期", []string{"「活动方案」"}}, // weekly just passed
		{"2026-06-08 10:00", "「活动方案」", []string{"「本周典型做法、特色项目」"}},    // the plan (9th) before weekly's 2nd period (11th)
		{"2026-06-09 19:00", "「活动方案」", []string{"「本周典型做法、特色项目」"}},    // the plan just passed
		{"2026-06-10 19:00", "「本周典型做法、特色项目」第2期", []string{"「活动方案」"}}, // a day after the plan: the next deadline
	} {
		t.Run(tt.at, func(t *testing.T) {
			h := newHarness(t)
			h.at(tt.at)
			h.say("街道应急办-王科", "@报送机器人 未报")
			sent := h.sent()
			if len(sent) == 0 {
				t.Fatal("no answer")
			}
			got := sent[len(sent)-1]
			if !strings.Contains(got, tt.want) {
				t.Errorf("answer lacks %s:\n%s", tt.want, got)
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("answer names %s too:\n%s", n, got)
				}
			}
		})
	}
}
