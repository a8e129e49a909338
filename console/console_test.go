package console

import (
	"bytes"
	"context"
	"testing"
	"time"

	"reportbot/bot"
	"reportbot/schedules"
)

func TestParseLine(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	for _, tt := range []struct {
		in   string
		want Line
	}{
		{"", Line{}},
		{"# comment", Line{}},
		{"/restart", Line{Op: OpRestart}},
		{"/stop", Line{Op: OpStop}},
		{"/start", Line{Op: OpStart}},
		{"/time 2026-06-04 11:30", Line{Op: OpTime, At: time.Date(2026, 6, 4, 11, 30, 0, 0, loc)}},
		{"/time +90m", Line{Op: OpTime, Add: 90 * time.Minute}},
		{"/time +1d", Line{Op: OpTime, Days: 1}},
		{"/time +2d3h", Line{Op: OpTime, Days: 2, Add: 3 * time.Hour}},
		{"/time +0d30m", Line{Op: OpTime, Add: 30 * time.Minute}},
		{"张三: 今天我们开展了演练", Line{Op: OpMessage, From: "张三", Kind: schedules.Text, Text: "今天我们开展了演练"}},
		{"东风社区-张三：时间是10:30", Line{Op: OpMessage, From: "东风社区-张三", Kind: schedules.Text, Text: "时间是10:30"}},
		{"张三: /image path/to/x.jpg", Line{Op: OpMessage, From: "张三", Kind: schedules.Image, Path: "path/to/x.jpg"}},
		{"张三: /file 方案.docx", Line{Op: OpMessage, From: "张三", Kind: schedules.File, Path: "方案.docx"}},
		{"张三: /video v.mp4", Line{Op: OpMessage, From: "张三", Kind: schedules.Video, Path: "v.mp4"}},
		{"张三: /recall", Line{Op: OpMessage, From: "张三", Kind: schedules.Text, Recall: true}},
		{"张三 -> bot: 未报", Line{Op: OpMessage, From: "张三", Private: true, Kind: schedules.Text, Text: "未报"}},
		{"街道应急办-王科 -> 机器人：导出", Line{Op: OpMessage, From: "街道应急办-王科", Private: true, Kind: schedules.Text, Text: "导出"}},
	} {
		got, err := ParseLine(tt.in, loc)
		if err != nil {
			t.Errorf("ParseLine(%q): %v", tt.in, err)
			continue
		}
		if !got.At.Equal(tt.want.At) {
			t.Errorf("ParseLine(%q).At = %v", tt.in, got.At)
		}
		got.At, tt.want.At = time.Time{}, time.Time{}
		if got != tt.want {
			t.Errorf("ParseLine(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"/tiem 2026-06-04", "/time 6月4日", "/time +0m", "/time +0d", "/time +d", "/time +-1d", "/time +1d-2h", "/time +99999d", "/time +1dx", "没有冒号的一行", ": 没有人", "张三: /image "} {
		if _, err := ParseLine(bad, loc); err == nil {
			t.Errorf("ParseLine(%q) accepted", bad)
		}
	}
}

func TestChatPrintsTranscriptLines(t *testing.T) {
	var out bytes.Buffer
	clock := NewClock(time.Date(2026, 6, 4, 12, 0, 0, 0, time.UTC))
	c := &Chat{Out: &out, Clock: clock}
	begin := func() error { return nil }
	ctx := context.Background()
	c.Deliver(ctx, bot.Outgoing{Text: "第一行\n\n@张三 第三行", Mentions: []bot.Member{{Name: "张三"}}}, begin)
	c.Deliver(ctx, bot.Outgoing{To: bot.Member{Name: "王科"}, Text: "私聊"}, begin)
	c.Deliver(ctx, bot.Outgoing{To: bot.Member{Name: "王科"}, File: "/tmp/x/统计表.xlsx"}, begin)
	want := "[2026-06-04 12:00] 机器人 -> 群: 第一行\n\n  @张三 第三行\n" +
		"[2026-06-04 12:00] 机器人 -> 王科: 私聊\n" +
		"[2026-06-04 12:00] 机器人 -> 王科: [文件] 统计表.xlsx\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	clock.Set(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	if clock.Now().Year() != 2026 {
		t.Error("the clock went back")
	}
}
