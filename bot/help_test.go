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
