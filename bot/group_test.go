package bot_test

import (
	"context"
	"strings"
	"testing"

	"reportbot/bot"
	"reportbot/schedules"
)

func TestWaitsForEarlier(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		name string
		m    bot.Message
		want bool
	}{
		{"question", bot.Message{Kind: schedules.Text, Text: "谁没报"}, true},
		{"question addressed to the bot", bot.Message{Kind: schedules.Text, Text: "@报送机器人 未报"}, true},
		{"own status", bot.Message{Kind: schedules.Text, Text: "我报了吗"}, true},
		{"admin command", bot.Message{Kind: schedules.Text, Text: "标记 北岭村 典型做法 免报"}, true},
		{"report", bot.Message{Kind: schedules.Text, Text: "本周典型做法：" + longText}, false},
		{"chatter", bot.Message{Kind: schedules.Text, Text: "收到"}, false},
		{"photo", bot.Message{Kind: schedules.Image}, false},
		{"recall", bot.Message{Kind: schedules.Text, Recalls: "42"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.m
			if got := h.bot.WaitsForEarlier(m); got != c.want {
				t.Errorf("WaitsForEarlier(%q) = %v, want %v", m.Text, got, c.want)
			}
			if m.ToBot != c.m.ToBot || m.Text != c.m.Text {
				t.Errorf("the message was changed: %+v", m)
			}
		})
	}
}

// present is the example config's members, but for those named.
func present(except ...string) []bot.Member {
	var out []bot.Member
	for _, name := range []string{"东风社区-张三", "西湖社区-李四", "南山村-王五", "北岭村-赵六", "刘洋", "陈静", "街道应急办-王科"} {
		if !strings.Contains(strings.Join(except, "|"), name) {
			out = append(out, bot.Member{ID: name, Name: name})
		}
	}
	return out
}

// Members the config names but the group lacks: the admins hear once per
// set, and nudges and roll-calls name their units without @ing them.
func TestRosterMembersNotInGroup(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.at("2026-06-03 09:00")

	h.bot.Roster(ctx, present("西湖社区-李四", "刘洋"))
	h.one("找不到", "西湖社区：西湖社区-李四", "安监站：刘洋", "members")
	h.bot.Roster(ctx, present("西湖社区-李四", "刘洋")) // a reconnect: the same set
	h.none()
	// Known by remark name: 刘洋 has a group display name of their own.
	h.bot.Roster(ctx, append(present("西湖社区-李四", "刘洋"), bot.Member{ID: "刘洋", Name: "安监站小刘", Verified: "刘洋"}))
	h.one("找不到", "西湖社区：西湖社区-李四")

	nudge := h.fire("weekly/1/nudge@-2h")
	if !strings.Contains(nudge, "西湖社区") || strings.Contains(nudge, "@西湖社区-李四") {
		t.Errorf("the nudge should name 西湖社区 without @ing its member who is not in the group:\n%s", nudge)
	}
	if !strings.Contains(nudge, "@东风社区-张三") || !strings.Contains(nudge, "@刘洋") {
		t.Errorf("the nudge should @ the members in the group:\n%s", nudge)
	}

	// 李四 joins: nothing to tell (the set is empty), and the @ is back.
	h.bot.Roster(ctx, present())
	h.none()
	if roll := h.fire("weekly/1/rollcall@0"); !strings.Contains(roll, "@西湖社区-李四") {
		t.Errorf("the roll-call should @ 李四, now in the group:\n%s", roll)
	}
	// 李四 leaves again: told again, as the set changed since.
	h.bot.Roster(ctx, present("西湖社区-李四"))
	h.one("西湖社区：西湖社区-李四")
}
