package bot_test

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"

	"reportbot/bot"
	"reportbot/schedules"
)

// adminSays posts a group text from the coordinator whose verified name is an admin's.
func (h *harness) adminSays(text string) {
	h.t.Helper()
	h.deliver(bot.Message{Sender: bot.Member{Name: "街道应急办-王科", Verified: "王科长"}, Kind: schedules.Text, Text: text, Size: -1})
}

// TestUndo: every receipt says how to take it back; 不算 withdraws what the
// member sent last (the text and the photos with it), the answer says where
// the unit stands, the roll-call no longer counts it, and new material gets a
// receipt again.
func TestUndo(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-03 10:00")
	h.say("西湖社区-李四", "本周典型做法："+longText)
	h.image("西湖社区-李四", []byte(photo))
	h.at("2026-06-03 10:02")
	h.say("东风社区-张三", "本周典型做法："+longText)
	h.image("东风社区-张三", []byte(photo2))
	h.image("东风社区-张三", []byte(photo3))
	h.at("2026-06-03 10:05")
	h.receipts()
	got := h.sent()
	if len(got) != 2 || !strings.HasSuffix(got[1], "（发错了回复“不算”）") {
		t.Fatalf("receipts %q", got)
	}
	h.say("东风社区-张三", "不算")
	h.one("已撤销：东风社区 第1期「本周典型做法、特色项目」的文字1条，图片2张不再计入。现在：未报。")
	if subs := h.subs("weekly", 1); strings.Join(subs, ",") != "西湖社区:text,西湖社区:image" {
		t.Errorf("after 不算: %v", subs)
	}
	h.say("东风社区-张三", "不算")
	h.one("没有可以撤销的报送")
	// A member cannot take back another unit's; an admin can.
	h.say("东风社区-张三", "不算 西湖社区")
	h.one("请联系管理员")
	h.adminSays("不算 西湖社区")
	h.one("已撤销：西湖社区 第1期", "文字1条，图片1张", "现在：未报。")
	roll := h.fire("weekly/1/rollcall@0")
	if !strings.Contains(roll, "未报 6：东风社区、西湖社区") {
		t.Errorf("roll-call after 不算:\n%s", roll)
	}
	// Sent again, it is receipted again.
	h.at("2026-06-04 13:00")
	h.say("东风社区-张三", "补报本周典型做法："+longText)
	h.image("东风社区-张三", []byte(photo2))
	h.at("2026-06-04 13:05")
	h.receipts()
	h.one("已收到 东风社区 第1期「本周典型做法、特色项目」（迟报）：文字1条，图片1张")
}

// TestMove: an admin moves a unit's latest material to another task.
func TestMove(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-03 10:00")
	h.say("东风社区-张三", "本周典型做法："+longText)
	h.at("2026-06-03 10:05")
	h.receipts()
	h.sent()
	h.adminSays("改为 东风社区 活动方案")
	h.one("已改记：东风社区 最近的文字1条记到「活动方案」（截止6月9日（周二）18:00）。现在：已报（文字1条）。")
	if got := h.subs("weekly", 1); len(got) != 0 {
		t.Errorf("weekly 1 after the move: %v", got)
	}
	if got := h.subs("plan", 1); strings.Join(got, ",") != "东风社区:text" {
		t.Errorf("plan after the move: %v", got)
	}
	h.say("东风社区-张三", "改为 东风社区 活动方案")
	h.one("只有管理员")
}

func docxWithImages(t *testing.T, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, _ := z.Create("word/document.xml")
	w.Write([]byte(`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>典型做法</w:t></w:r></w:p></w:body></w:document>`))
	for i := range n {
		w, _ := z.Create("word/media/image" + string(rune('1'+i)) + ".png")
		w.Write([]byte(photo))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestFilesMeetRequirements: the photos inside a Word file count toward an
// image requirement; a statistics table must be .xlsx, and an .xls is
// answered at once; a table unlike its template is kept and its receipt says
// what differs.
func TestFilesMeetRequirements(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-03 10:00")
	h.media("东风社区-张三", schedules.File, "东风社区本周典型做法.docx", docxWithImages(t, 2))
	h.at("2026-06-03 10:05")
	h.receipts()
	h.one("已收到 东风社区 第1期「本周典型做法、特色项目」：图片2张，文件1个")

	h.at("2026-06-29 10:00")
	h.media("南山村-王五", schedules.File, "活动情况统计表.xls", []byte("old excel"))
	h.one("@南山村-王五 收到《活动情况统计表.xls》", "另存为” .xlsx 再发")
	h.at("2026-06-29 10:05")
	h.receipts()
	h.none()

	summary := h.sched.TaskByID("summary")
	summary.Template = "模板.xlsx"
	h.bot.CheckTable = func(task *schedules.Task, data []byte) string {
		if task != summary || string(data) != "table" {
			t.Errorf("checked %s %q", task.ID, data)
		}
		return "第3行“检查次数”应填数字，实为「三次」"
	}
	h.at("2026-06-29 10:10")
	h.media("北岭村-赵六", schedules.File, "活动情况统计表.xlsx", []byte("table"))
	h.at("2026-06-29 10:15")
	h.receipts()
	h.one("已收到 北岭村「活动总结、图片影像资料、活动情况统计表」：文件1个，还差至少1张图片",
		"《活动情况统计表.xlsx》与模板不一致：第3行“检查次数”应填数字，实为「三次」。表已存下，请改好后在截止前重发")
}

// TestChatNearADeadline: after its weekly report is complete, a unit's chat
// near the plan's deadline does not become its plan.
func TestChatNearADeadline(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-03 10:00")
	h.say("东风社区-张三", "本周典型做法："+longText)
	h.image("东风社区-张三", []byte(photo))
	h.at("2026-06-08 16:00")
	for _, chat := range []string{"谁有安全生产月的宣传海报模板，发我一份", "我们社区的网格员今天都在外面排查", "你们的活动方案什么时候交？"} {
		h.say("东风社区-张三", chat)
	}
	if got := h.subs("plan", 1); len(got) != 0 {
		t.Errorf("chat stored as the plan: %v", got)
	}
	h.say("东风社区-张三", "我报了吗")
	h.one("「活动方案」（截止6月9日（周二）18:00） 未报")
}

// TestQuotes: where the platform shows quotes, a reply quoting a reminder
// counts as a report when it tells what was done, and 不算 quoting a receipt
// takes back that unit's material (for its members and admins only).
func TestQuotes(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-03 10:00")
	quote := func(from, text, quoted string) {
		h.t.Helper()
		h.deliver(bot.Message{Sender: bot.Member{Name: from}, Kind: schedules.Text, Text: text, Quote: quoted, Size: -1})
	}
	quote("西湖社区-李四", "我们社区今天组织了楼道杂物清理", "【提醒】请各单位于6月4日（周四）12:00前报送第1期「本周典型做法、特色项目」")
	if got := h.subs("weekly", 1); len(got) != 1 || got[0] != "西湖社区:text" {
		t.Errorf("a reply quoting the reminder: %v", got)
	}
	h.say("南山村-王五", "我们村今天组织了楼道杂物清理")
	if got := h.subs("weekly", 1); len(got) != 1 {
		t.Errorf("the same words without the quote counted: %v", got)
	}
	receipt := "已收到 西湖社区 第1期「本周典型做法、特色项目」：文字1条，还差至少1张图片（发错了回复“不算”）"
	quote("南山村-王五", "不算", receipt)
	h.one("不是您单位的")
	quote("西湖社区-李四", "不算", receipt)
	h.one("已撤销：西湖社区 第1期「本周典型做法、特色项目」的文字1条不再计入。现在：未报。")
}

// TestUndoIsNoReportsWord: a report that starts with 不算 is a report.
func TestUndoIsNoReportsWord(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-03 10:00")
	h.say("东风社区-张三", "不算多，本周典型做法：今天入户检查燃气用户15户")
	if got := h.subs("weekly", 1); len(got) != 1 {
		t.Errorf("a report starting with 不算: %v", got)
	}
	h.sent()
	h.say("东风社区-张三", "不算数")
	h.one("已撤销：东风社区 第1期")
}
