package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"reportbot/bot"
	"reportbot/schedules"
)

// TestArchiveCommand: 归档 only for a finished campaign, only by an admin,
// and only after 确认归档 within ten minutes; the archive is made once.
func TestArchiveCommand(t *testing.T) {
	h := newHarness(t)
	var calls []string
	fail, half := false, false
	h.bot.Archive = func(_ context.Context, c *schedules.Schedule) (bot.Archived, error) {
		calls = append(calls, c.Name)
		switch {
		case half:
			return bot.Archived{Path: "data/archives/anquan.zip"}, errors.New("disk I/O error")
		case fail:
			return bot.Archived{}, errors.New("disk full")
		}
		return bot.Archived{Path: "data/archives/anquan.zip", Submissions: 120, Media: 80, Bytes: 3 << 20}, nil
	}
	const admin, remark = "街道应急办-王科", "王科长"
	steps := []struct {
		name, at, from, remark, text string
		want                         string // in the one answer
		calls                        int    // archives made so far
		fail, half                   bool
		also                         string // in the answer too
	}{
		{"still open", "2026-06-20 10:00", admin, remark, "归档 安全生产月", "还在进行（到7月3日结束）", 0, false, false, ""},
		{"open to its last day", "2026-07-03 20:00", admin, remark, "归档 2026年安全生产月", "还在进行", 0, false, false, ""},
		{"confirm without asking", "2026-07-10 10:00", admin, remark, "确认归档 安全生产月", "请先发“归档 2026年安全生产月”", 0, false, false, ""},
		{"not an admin", "2026-07-10 10:00", "东风社区-张三", "", "归档 安全生产月", "只有管理员可以使用", 0, false, false, ""},
		{"no such campaign", "2026-07-10 10:00", admin, remark, "归档 消防月", "归档的写法：归档 活动名称", 0, false, false, ""},
		{"asked", "2026-07-10 10:00", admin, remark, "归档 安全生产月", "确认请在10分钟内发：确认归档 2026年安全生产月", 0, false, false, ""},
		{"confirmed too late", "2026-07-10 10:11", admin, remark, "确认归档 安全生产月", "请先发", 0, false, false, ""},
		{"asked again", "2026-07-10 10:20", admin, remark, "归档 安全生产月", "确认请在", 0, false, false, ""},
		{"confirmed", "2026-07-10 10:25", admin, remark, "确认归档 安全生产月", "已归档：120份材料（其中80个文件，共3.0 MB）存在 data/archives/anquan.zip", 1, false, false,
			"数据库文件不会因此变小：腾出的空间留给以后的材料；要还给磁盘，停止机器人后运行 reportbot compact"},
		{"a second confirmation is no confirmation", "2026-07-10 10:26", admin, remark, "确认归档 安全生产月", "请先发", 1, false, false, ""},
		{"asked once more", "2026-07-10 10:30", admin, remark, "归档 安全生产月", "确认请在", 1, false, false, ""},
		{"the archive fails", "2026-07-10 10:31", admin, remark, "确认归档 安全生产月", "归档失败，数据库里的材料没有移除：disk full", 2, true, false, ""},
		{"asked after the failure", "2026-07-10 10:40", admin, remark, "归档 安全生产月", "确认请在", 2, false, false, ""},
		{"the removal stops halfway", "2026-07-10 10:41", admin, remark, "确认归档 安全生产月", "归档的文件已写好（data/archives/anquan.zip），但从数据库移除材料时出错：disk I/O error", 3, false, true, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			h.t = t
			h.at(s.at)
			fail, half = s.fail, s.half
			h.private(s.from, s.remark, s.text)
			h.one(s.want, s.also)
			if len(calls) != s.calls {
				t.Errorf("%d archives made, want %d", len(calls), s.calls)
			}
		})
	}
	// A member's text that starts with the word is not the command.
	h.t = t
	h.at("2026-07-10 11:00")
	h.say("东风社区-张三", "归档工作已经完成，台账已整理好。")
	for _, m := range h.sent() {
		if strings.Contains(m, "只有管理员") || strings.Contains(m, "归档的写法") {
			t.Errorf("a member's text was taken for 归档: %q", m)
		}
	}
}
