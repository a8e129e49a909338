package bot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"reportbot/bot"
	"reportbot/schedules"
)

// FuzzAttribution sends any text, from any member, at any time of the
// campaign: the bot never fails or panics, and whatever it stores belongs to
// a real task and period.
func FuzzAttribution(f *testing.F) {
	f.Add("东风社区-张三", "本周典型做法：开展消防演练，居民一百二十人参加。", uint16(100), false)
	f.Add("小赵", "绑定 北岭村", uint16(3000), false)
	f.Add("街道应急办-王科", "标记 东风社区 典型做法 免报 第3期", uint16(5000), true)
	f.Add("东风西湖", "收到👌", uint16(0), false)
	f.Add("\x00\u202e", "\u200b\u200b活动方案\r\n\t", uint16(65535), true)
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, from, text string, minutes uint16, private bool) {
		h.t = t
		h.now = h.sched.Start.Add(time.Duration(minutes) * 10 * time.Minute)
		h.n++
		m := bot.Message{ID: fmt.Sprint("fuzz", h.n), Sender: bot.Member{Name: from, Verified: ""}, Private: private, Kind: schedules.Text, Text: text, Size: -1}
		if err := h.bot.Handle(context.Background(), m); err != nil {
			t.Fatalf("Handle(%q from %q): %v", text, from, err)
		}
		h.sent()
		last, err := h.db.LastSubmission(from)
		if err != nil || last == nil {
			return
		}
		task := h.sched.TaskByID(last.Task)
		if task == nil {
			t.Fatalf("stored for unknown task %q", last.Task)
		}
		if _, ok := task.Period(last.Period); !ok {
			t.Fatalf("stored for %s period %d of %d", last.Task, last.Period, len(task.Periods))
		}
	})
}
