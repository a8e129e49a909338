package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"reportbot/bot"
	"reportbot/schedules"
)

// TestReportRule: the rule's decision on lines a unit member sends, with
// what it knows besides the words (testdata/replies holds the corpus).
func TestReportRule(t *testing.T) {
	cfg, err := bot.ParseConfig("c.toml", []byte("[[unit]]\nname = \"东风社区\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := schedules.Load(filepath.Join("..", "schedule.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	follows, addressed, coordinator := bot.Facts{Follows: true}, bot.Facts{Addressed: true}, bot.Facts{Coordinator: true}
	for _, tt := range []struct {
		text   string
		facts  bot.Facts
		report bool
		why    string
	}{
		{"收到", bot.Facts{}, false, "“收到”“好的”"},
		{"好的👌", bot.Facts{}, false, "“收到”“好的”"},
		{"  收到 收到  ", bot.Facts{}, false, "不到10个字"},
		{"👍👍", bot.Facts{}, false, "没有文字内容"},
		{"OK", bot.Facts{}, false, "“收到”“好的”"},
		{"好的，马上安排", bot.Facts{}, false, "不到10个字"},
		{"请问总结要交纸质版的吗？", bot.Facts{}, false, "问句"},
		{"你们的活动方案什么时候交", bot.Facts{}, false, "问句（什么时候）"},
		{"收到，我们马上组织人员学习", bot.Facts{}, false, "不够算一份报送"},
		{"好的，我们社区这周四前一定报送", bot.Facts{}, false, "一定报"},
		{"谁有安全生产月的宣传海报模板，发我一份", bot.Facts{}, false, "问句（谁有）"},
		{"我们社区的网格员今天都在外面排查", bot.Facts{}, false, "不够算一份报送"},
		{"请各单位于周四前报送典型做法", bot.Facts{}, false, "布置工作"},
		{"本周典型做法：开展燃气安全入户检查86户", coordinator, false, "管理员或不属于任何单位"},
		{"收到。本周典型做法：我社区开展消防疏散演练，居民一百二十人参加，效果很好。", bot.Facts{}, true, "提到任务「本周典型做法、特色项目」"},
		{"今天我们社区开展了消防安全演练活动共计五十人", bot.Facts{}, true, "做的事（开展）和数字（五十人）"},
		{"东风社区活动方案已制定完成见附件", bot.Facts{}, false, "见附件"},
		{"照片是今天楼道杂物清理的现场", follows, true, "紧跟着本人刚发的材料"},
		{"照片有点糊，凑合看吧😂", follows, false, "不到10个字"},
		{"照片有点糊，拍的时候光线不太好，大家凑合着看", follows, false, "凑合"},
		{"我们社区今天组织了楼道杂物清理", addressed, true, "发给机器人的"},
		{"帮北岭村转一下：北岭村本周巡查河道4次，劝离游泳3人", bot.Facts{}, false, "替别人转"},
	} {
		t.Run(tt.text, func(t *testing.T) {
			v := bot.Judge(cfg, s.Tasks, tt.text, tt.facts)
			if v.Counts != tt.report || !strings.Contains(v.Why, tt.why) {
				t.Errorf("Judge(%q) = %v (%s), want %v (%s)", tt.text, v.Counts, v.Why, tt.report, tt.why)
			}
		})
	}
}

func TestAcknowledgementStoresNothing(t *testing.T) {
	h := newHarness(t)
	h.say("东风社区-张三", "收到")
	h.say("东风社区-张三", "好的👌")
	h.receipts()
	h.none()
	if got := h.subs("plan", 1); len(got) != 0 {
		t.Errorf("stored %v", got)
	}
}

func TestAttributionByKeyword(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-03 10:00") // the weekly deadline (6/4) is nearer than the plan's (6/9)
	h.say("东风社区-张三", "东风社区活动方案：成立领导小组，开展消防演练和隐患排查。")
	if got := h.subs("plan", 1); len(got) != 1 {
		t.Errorf("plan = %v, want the text", got)
	}
	// A keyword in a file's name counts too.
	h.media("南山村-王五", schedules.File, "南山村安全生产月活动方案.docx", []byte("PK docx"))
	if got := h.subs("plan", 1); len(got) != 2 {
		t.Errorf("plan = %v, want the file too", got)
	}
}

func TestAttributionFollowsTheSameMember(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-08 10:00")
	h.say("东风社区-张三", "活动方案：东风社区开展隐患排查和安全宣传进楼道。")
	h.at("2026-06-08 10:04")
	h.image("东风社区-张三", []byte(photo)) // belongs to the plan just sent
	if got := h.subs("plan", 1); len(got) != 2 {
		t.Fatalf("plan = %v, want text and photo", got)
	}
	// Long after, with no keyword, the nearest task the unit still owes: last
	// week's report, late, since its late window is still open (DESIGN rule 2).
	h.at("2026-06-08 11:00")
	h.image("东风社区-张三", []byte(photo2))
	if got := strings.Join(h.subs("weekly", 1), ","); got != "东风社区:image:late" {
		t.Errorf("weekly/1 = %v, want the later photo, late", got)
	}
}

func TestAttributionNearestOwedDeadline(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-08 10:00")
	// 南山村 has not sent its plan (due 6/9, nearer than the weekly 6/11): a
	// report without keyword goes to it.
	h.say("南山村-王五", "南山村组织村民开展燃气安全宣传，发放资料三百份。")
	if got := strings.Join(h.subs("plan", 1), ","); got != "南山村:text" {
		t.Errorf("plan = %v", got)
	}
	// 东风社区 sent its plan already: the same goes to the weekly report.
	h.say("东风社区-张三", "活动方案：东风社区开展隐患排查和安全宣传进楼道。")
	h.at("2026-06-10 11:00") // last week's late window has closed
	h.say("东风社区-张三", "东风社区组织居民开展燃气安全宣传，发放资料三百份。")
	if got := strings.Join(h.subs("weekly", 2), ","); got != "东风社区:text" {
		t.Errorf("weekly/2 = %v", got)
	}
	// 北岭村 owes the plan, now late, and the weekly: the plan's deadline (16h
	// ago) is nearer than the weekly's (in 25h).
	h.say("北岭村-赵六", "北岭村组织村民开展燃气安全宣传，发放资料三百份。")
	if got := strings.Join(h.subs("plan", 1), ","); got != "东风社区:text,北岭村:text:late,南山村:text" { // grouped by unit
		t.Errorf("plan = %v", got)
	}
}

func TestLateOrNextPeriod(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-04 09:00")
	h.say("东风社区-张三", "本周典型做法："+longText)
	h.image("东风社区-张三", []byte(photo))
	h.at("2026-06-04 12:30") // after the deadline, within the late window
	h.say("西湖社区-李四", "本周典型做法："+longText)
	h.say("东风社区-张三", "本周典型做法：下周我们还将组织第二次演练。")
	if got := strings.Join(h.subs("weekly", 1), ","); got != "东风社区:text,东风社区:image,西湖社区:text:late" {
		t.Errorf("weekly/1 = %s", got)
	}
	if got := strings.Join(h.subs("weekly", 2), ","); got != "东风社区:text" {
		t.Errorf("weekly/2 = %s, want 东风社区's second text (it had reported)", got)
	}
	// After the late window (the next reminder, 6/10 09:00) a report goes to the next period.
	h.at("2026-06-10 10:00")
	h.say("南山村-王五", "本周典型做法："+longText)
	if got := strings.Join(h.subs("weekly", 2), ","); got != "东风社区:text,南山村:text" {
		t.Errorf("weekly/2 = %s", got)
	}
	h.receipts()
	msgs := strings.Join(h.sent(), "\n")
	if !strings.Contains(msgs, "西湖社区 第1期「本周典型做法、特色项目」（迟报）") {
		t.Errorf("no late receipt in %q", msgs)
	}
	roll := h.fire("weekly/1/rollcall@0")
	for _, want := range []string{"已报 1：东风社区", "部分 1：西湖社区", "未报 4：南山村、北岭村、安监站、城建办"} {
		if !strings.Contains(roll, want) {
			t.Errorf("roll-call lacks %q:\n%s", want, roll)
		}
	}
	h.at("2026-06-04 13:00")
	h.image("西湖社区-李四", []byte(photo))
	h.say("街道应急办-王科", "进度 典型做法 第1期")
	if got := h.one("迟报 1：西湖社区"); strings.Contains(got, "部分") {
		t.Errorf("西湖社区 should now be late, not partial:\n%s", got)
	}
}

func TestPartialReport(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-04 09:00")
	h.say("城建办-陈静", "本周典型做法："+longText)
	h.at("2026-06-04 09:01")
	h.receipts()
	h.one("已收到 城建办 第1期「本周典型做法、特色项目」：文字1条，还差至少1张图片")
	roll := h.fire("weekly/1/nudge@-2h")
	if !strings.Contains(roll, "部分 1：城建办") || !strings.Contains(roll, "城建办 至少1张图片") || !strings.Contains(roll, "@陈静") {
		t.Errorf("nudge should name the partial unit and what it lacks:\n%s", roll)
	}
	h.at("2026-06-04 10:30")
	h.image("陈静", []byte(photo))
	h.image("陈静", []byte(photo2))
	h.receipts()
	h.one("已收齐 城建办 第1期「本周典型做法、特色项目」：文字1条，图片2张")
	// More material for the same period is stored silently.
	h.image("陈静", []byte(photo3))
	h.receipts()
	h.none()
	if got := h.subs("weekly", 1); len(got) != 4 {
		t.Errorf("stored %v", got)
	}
	roll = h.fire("weekly/1/rollcall@0")
	if !strings.Contains(roll, "已报 1：城建办") {
		t.Errorf("roll-call:\n%s", roll)
	}
}

func TestOneReceiptForTextAndPhotos(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-04 09:00")
	h.say("东风社区-张三", "本周典型做法："+longText)
	h.image("东风社区-张三", []byte(photo))
	h.image("东风社区-张三", []byte(photo2))
	h.receipts()
	h.one("已收到 东风社区 第1期「本周典型做法、特色项目」：文字1条，图片2张")
}

func TestExemption(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-03 15:00")
	h.private("街道应急办-王科", "王科长", "标记 北岭村 典型做法 免报")
	h.one("已标记：北岭村", "免报")
	nudge := h.fire("weekly/1/nudge@-2h")
	if strings.Contains(nudge, "北岭村") {
		t.Errorf("the exempt unit was nudged:\n%s", nudge)
	}
	roll := h.fire("weekly/1/rollcall@0")
	if !strings.Contains(roll, "免报 1：北岭村") {
		t.Errorf("roll-call:\n%s", roll)
	}
	// The coordinator can also mark a unit reported, and take a mark back.
	h.private("街道应急办-王科", "王科长", "标记 南山村 典型做法 已报 第1期")
	h.sent()
	h.private("街道应急办-王科", "王科长", "标记 北岭村 典型做法 撤销 第1期")
	h.sent()
	h.say("街道应急办-王科", "进度 典型做法 第1期")
	got := h.one("已报 1：南山村", "未报 5：")
	if strings.Contains(got, "免报") {
		t.Errorf("mark not taken back:\n%s", got)
	}
}

func TestBinding(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-04 09:00")
	// A display name containing exactly one unit's name binds.
	h.say("东风-小王", "本周典型做法："+longText)
	if got := h.subs("weekly", 1); len(got) != 1 || !strings.HasPrefix(got[0], "东风社区:") {
		t.Errorf("display-name binding: %v", got)
	}
	// A display name with two units' names does not: the member is asked to bind.
	h.image("东风西湖联络员", []byte(photo))
	h.one("绑定", "已经存下")
	// An unknown member's photo is not lost: it is kept, and they are asked
	// to bind, once a day.
	h.image("小赵", []byte(photo))
	h.one("@小赵", "绑定 东风社区")
	h.image("小赵", []byte(photo+"2"))
	h.none()
	h.say("小赵", "绑定 不存在的单位")
	h.one("没有找到单位", "北岭村")
	h.say("小赵", "绑定 北岭")
	h.sent()
	h.say("小赵", "绑定 北岭村")
	h.one("已绑定：小赵 代表 北岭村", "之前发的图片2张已记入「本周典型做法、特色项目」第1期")
	h.image("小赵", []byte(photo+"3"))
	if got := h.subs("weekly", 1); len(got) != 4 || !strings.HasPrefix(got[1], "北岭村:") || !strings.HasPrefix(got[3], "北岭村:") {
		t.Errorf("after 绑定: %v", got)
	}
	// A bound member is mentioned in nudges.
	nudge := h.fire("weekly/1/nudge@-2h")
	if !strings.Contains(nudge, "@小赵") {
		t.Errorf("nudge does not mention the bound member:\n%s", nudge)
	}
	// Coordinators' chat is not a report and gets no reply.
	h.say("街道应急办-王科", "各单位注意，本周材料请附现场照片，谢谢大家配合。")
	h.none()
}

func TestAdminCommandsRefusedPolitely(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-04 09:00")
	for _, cmd := range []string{"标记 北岭村 典型做法 免报", "提醒 典型做法", "导出", "重载"} {
		// A member, in the group or privately; then someone who renamed
		// themselves to the admin's display name, without the admin's remark.
		h.say("东风社区-张三", cmd)
		h.one("抱歉", "只有管理员")
		h.private("街道应急办-王科", "", cmd)
		h.one("抱歉", "只有管理员")
		h.private("王科长", "", cmd)
		h.one("抱歉", "只有管理员")
	}
	if marks, _ := h.db.Marks("weekly", 1); len(marks) != 0 {
		t.Errorf("a refused mark was stored: %v", marks)
	}
	// The admin, known by the remark name, may.
	h.private("街道应急办-王科", "王科长", "提醒 典型做法")
	got := h.sent()
	if len(got) != 2 || !strings.Contains(got[0], "【催报】") || got[1] != "已在群里催报。" {
		t.Errorf("admin 提醒: %q", got)
	}
}

func TestQueries(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-04 09:00")
	h.say("东风社区-张三", "本周典型做法："+longText)
	h.image("东风社区-张三", []byte(photo))
	h.say("南山村-王五", "本周典型做法："+longText)
	h.receipts()
	h.sent()
	h.say("街道应急办-王科", "谁没报 典型做法")
	got := h.one("「本周典型做法、特色项目」第1期", "未报 4：西湖社区、北岭村、安监站、城建办", "部分 1：南山村", "还差：南山村 至少1张图片")
	if strings.Contains(got, "已报") {
		t.Errorf("未报 answer lists reported units:\n%s", got)
	}
	h.say("南山村-王五", "我报了吗")
	h.one("南山村：", "第1期", "部分（文字1条，还差至少1张图片）", "「活动方案」", "未报")
	h.say("西湖社区-李四", "@报送机器人 任务")
	h.one("报送任务：", "活动方案", "本周典型做法、特色项目：共4期", "近7天安排：")
	h.say("西湖社区-李四", "@报送机器人 帮助")
	h.one("未报 / 谁没报", "我报了吗")
	h.say("西湖社区-李四", "@报送机器人 随便说点什么")
	h.one("未报 / 谁没报")
	// A report that starts like a command is a report, not a command.
	h.say("西湖社区-李四", "任务完成情况：本周典型做法是走访独居老人二十三户并检查燃气。")
	h.none()
	if got := h.subs("weekly", 1); len(got) != 4 {
		t.Errorf("the report starting with 任务 was not stored: %v", got)
	}
}

func TestRecallWithdraws(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-04 09:00")
	h.say("东风社区-张三", "本周典型做法："+longText)
	h.image("东风社区-张三", []byte(photo))
	h.receipts()
	h.sent()
	h.deliver(bot.Message{Sender: bot.Member{Name: "东风社区-张三"}, Kind: schedules.Text, Recalls: h.last["东风社区-张三"]})
	h.say("街道应急办-王科", "进度 典型做法")
	h.one("部分 1：东风社区")
	// The next photo completes the report again and says so.
	h.image("东风社区-张三", []byte(photo2))
	h.receipts()
	h.one("已收齐 东风社区")
}

func TestMediaLimitsAndDedup(t *testing.T) {
	h := newHarness(t) // limit: 1 MB
	h.at("2026-06-04 09:00")
	big := make([]byte, 1<<20+1)
	h.image("东风社区-张三", big)
	h.one("超过了 1.0MB 的上限", "没有记入")
	// Announced larger than the limit: refused before reading.
	h.deliver(bot.Message{Sender: bot.Member{Name: "东风社区-张三"}, Kind: schedules.Video, FileName: "v.mp4", Size: 2 << 30})
	h.one("2048.0MB")
	// Unreadable media gets a clear reply too.
	h.deliver(bot.Message{Sender: bot.Member{Name: "东风社区-张三"}, Kind: schedules.Image, Size: -1})
	h.one("没能接收")
	h.media("东风社区-张三", schedules.Image, "empty.jpg", nil)
	h.one("没能接收", "重发")
	// The same image twice is stored once, counted as two photos.
	h.image("东风社区-张三", []byte(photo))
	h.image("西湖社区-李四", []byte(photo))
	if n, _ := h.db.BlobCount(); n != 1 {
		t.Errorf("%d blobs, want 1", n)
	}
	if got := h.subs("weekly", 1); len(got) != 2 {
		t.Errorf("stored %v", got)
	}
	// A replayed message (same id) is stored once.
	h.deliver(bot.Message{ID: "dup", Sender: bot.Member{Name: "南山村-王五"}, Kind: schedules.Text, Text: "本周典型做法：" + longText})
	h.deliver(bot.Message{ID: "dup", Sender: bot.Member{Name: "南山村-王五"}, Kind: schedules.Text, Text: "本周典型做法：" + longText})
	if got := h.subs("weekly", 1); len(got) != 3 {
		t.Errorf("replay stored twice: %v", got)
	}
}

func TestNudgeSkippedWhenAllReported(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-04 09:00")
	for _, m := range []string{"东风社区-张三", "西湖社区-李四", "南山村-王五", "北岭村-赵六", "刘洋", "陈静"} {
		h.say(m, "本周典型做法："+longText)
		h.image(m, []byte(photo))
	}
	if got := h.fire("weekly/1/nudge@-2h"); got != "" {
		t.Errorf("nudge sent though every unit reported: %q", got)
	}
	if got := h.fire("weekly/1/rollcall@0"); !strings.Contains(got, "已报 6：") {
		t.Errorf("roll-call: %q", got)
	}
}

func TestPrivateReportReceiptedPrivately(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-04 09:00")
	h.private("东风社区-张三", "", "本周典型做法："+longText)
	h.deliver(bot.Message{Sender: bot.Member{Name: "东风社区-张三"}, Private: true, Kind: schedules.Image, FileName: "p.jpg", Size: 5,
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(photo)), nil }})
	h.receipts()
	h.chat.mu.Lock()
	msgs := h.chat.msgs
	h.chat.mu.Unlock()
	if len(msgs) != 1 || msgs[0].To.Name != "东风社区-张三" || !strings.Contains(msgs[0].Text, "已收到 东风社区 第1期") {
		t.Errorf("receipt %+v, want one, private", msgs)
	}
	if got := h.subs("weekly", 1); len(got) != 2 {
		t.Errorf("stored %v", got)
	}
	// Chatter in private gets the help, not silence.
	h.sent()
	h.private("东风社区-张三", "", "你好")
	h.one("未报 / 谁没报")
}

func TestReplayedMessageHandledOnce(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-04 09:00")
	for i := 0; i < 2; i++ {
		h.deliver(bot.Message{ID: "wx-1", Sender: bot.Member{Name: "街道应急办-王科"}, Kind: schedules.Text, Text: "未报"})
	}
	if got := h.sent(); len(got) != 1 {
		t.Errorf("a replayed command was answered %d times", len(got))
	}
}

func TestBadInput(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-04 09:00")
	// A corrupt image: a clear reply, nothing counted.
	h.image("东风社区-张三", []byte("\xff\xd8\xff\xe0 truncated jpeg"))
	h.one("@东风社区-张三 这张图片打不开")
	if got := h.subs("weekly", 1); len(got) != 0 {
		t.Errorf("a corrupt image was stored: %v", got)
	}
	// Formats a phone sends that Go does not decode are still pictures.
	h.image("东风社区-张三", append([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), make([]byte, 32)...))
	h.image("东风社区-张三", append([]byte("\x00\x00\x00\x18ftypheic"), make([]byte, 32)...))
	if got := h.subs("weekly", 1); len(got) != 2 {
		t.Errorf("webp and heic photos: %v", got)
	}
	// A 1 MB text is stored whole; the receipt and roll-call stay short.
	big := "本周典型做法：" + strings.Repeat("我们开展了安全检查。", 1<<20/30)
	h.say("西湖社区-李四", big)
	h.receipts()
	for _, m := range h.sent() {
		if len(m) > 1000 {
			t.Errorf("a %d-byte message", len(m))
		}
	}
	all, _ := h.db.PeriodSubmissions("weekly", 1)
	if n := len(all); n != 3 || len(all[2].Text) != len(big) {
		t.Errorf("the long text: %d submissions", n)
	}
	if roll := h.fire("weekly/1/rollcall@0"); len(roll) > 2000 {
		t.Errorf("roll-call of %d bytes", len(roll))
	}
	// Control characters and emoji in a display name: the unit is still found.
	h.at("2026-06-05 09:00")
	name := "🔥南山村\u202e王五\x07"
	h.say(name, "本周典型做法：南山村组织村民巡查河道鱼塘，设置警示牌8块。")
	if last, err := h.db.LastSubmission(name); err != nil || last == nil || last.Unit != "南山村" {
		t.Errorf("emoji name: %+v %v", last, err)
	}
}

// TestReceiptOwedAfterAKill: the bot stops (killed) while a receipt waits out
// its delay; the next start owes it again.
func TestReceiptOwedAfterAKill(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-04 09:00")
	h.say("东风社区-张三", "本周典型做法："+longText)
	h.image("东风社区-张三", []byte(photo))
	// No Flush: the process dies here. A new bot over the same store:
	b, err := bot.New(bot.Options{Config: h.bot.Config, Campaigns: h.bot.Campaigns, Store: h.db, Chat: h.chat, Now: h.bot.Now, Logger: h.bot.Logger})
	if err != nil {
		t.Fatal(err)
	}
	h.bot = b
	if err := b.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.receipts()
	h.one("已收到 东风社区 第1期「本周典型做法、特色项目」：文字1条，图片1张")
	// Once told, a further start owes nothing.
	if err := b.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.receipts()
	h.none()
}

// Members posting at the same moment (the WeChat adapter handles different
// senders' messages at once) are each stored and receipted once, while a
// coordinator asks for the missing list.
func TestConcurrentMembers(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-03 10:00")
	units := h.bot.Config.Units
	var wg sync.WaitGroup
	for i, u := range units {
		from := u.Name + "-报送员"
		wg.Go(func() {
			for j, post := range []struct {
				text  string
				photo []byte
			}{
				{text: u.Name + "本周开展了消防安全检查和应急演练，排查隐患三处。"},
				{photo: []byte(tinyPNG(uint8(100 + 2*i)))},
				{photo: []byte(tinyPNG(uint8(101 + 2*i)))},
			} {
				m := bot.Message{ID: fmt.Sprintf("%d-%d", i, j), Sender: bot.Member{Name: from}, At: h.now, Kind: schedules.Text, Text: post.text, Size: -1}
				if data := post.photo; data != nil {
					m.Kind, m.FileName = schedules.Image, "photo.jpg"
					m.Open = func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
				}
				if err := h.bot.Handle(context.Background(), m); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		for n := range 5 {
			m := bot.Message{ID: fmt.Sprint("q", n), Sender: bot.Member{Name: "街道应急办-王科", Verified: "王科长"}, Private: true, Kind: schedules.Text, Text: "未报", At: h.now}
			if err := h.bot.Handle(context.Background(), m); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	if got := h.subs("weekly", 1); len(got) != 3*len(units) {
		t.Errorf("%d submissions stored, want %d", len(got), 3*len(units))
	}
	h.sent()
	h.now = h.now.Add(time.Hour)
	h.receipts()
	receipts := h.sent()
	if len(receipts) != len(units) {
		t.Errorf("%d receipts for %d units: %q", len(receipts), len(units), receipts)
	}
	for _, r := range receipts {
		if !strings.Contains(r, "文字1条，图片2张") {
			t.Errorf("receipt %q", r)
		}
	}
}

// Every outgoing message says what it is for and names the members it
// @mentions, so a transport can route and render each its own way; the
// transport's hint ends reminders and the help.
func TestOutgoingPurposeMentionsAndHint(t *testing.T) {
	h := newHarness(t)
	h.bot.Hint = "报送时请@报送机器人，或私聊发给我。"
	last := func() bot.Outgoing {
		t.Helper()
		h.chat.mu.Lock()
		defer h.chat.mu.Unlock()
		if len(h.chat.msgs) == 0 {
			t.Fatal("nothing sent")
		}
		m := h.chat.msgs[len(h.chat.msgs)-1]
		h.chat.msgs = nil
		return m
	}
	for _, tt := range []struct {
		key      string
		purpose  bot.Purpose
		hint     bool
		mentions bool
	}{
		{"weekly/1/remind@-1d 09:00", bot.Reminder, true, false},
		{"weekly/1/nudge@-2h", bot.Nudge, false, true},
		{"weekly/1/rollcall@0", bot.Rollcall, false, true},
	} {
		t.Run(tt.key, func(t *testing.T) {
			key := h.sched.LegacyKeys()[tt.key]
			for _, e := range h.sched.Events(h.sched.Start.Add(-time.Hour), h.sched.End) {
				if e.Key == key {
					h.now = e.At
					if err := h.bot.Fire(context.Background(), e); err != nil {
						t.Fatal(err)
					}
				}
			}
			m := last()
			if m.Purpose != tt.purpose {
				t.Errorf("purpose %q, want %q", m.Purpose, tt.purpose)
			}
			if got := strings.HasSuffix(m.Text, h.bot.Hint); got != tt.hint {
				t.Errorf("ends with the hint: %v, want %v:\n%s", got, tt.hint, m.Text)
			}
			if tt.mentions {
				if len(m.Mentions) == 0 {
					t.Fatalf("no mentions in %q", m.Text)
				}
				for _, who := range m.Mentions {
					if who.Name == "" || !strings.Contains(m.Text, "@"+who.Name) {
						t.Errorf("mention %+v is not written in the text", who)
					}
				}
			}
		})
	}
	h.deliver(bot.Message{Sender: bot.Member{Name: "东风社区-张三"}, ToBot: true, Kind: schedules.Text, Text: "帮助", Size: -1})
	if m := last(); m.Purpose != bot.Answer || !strings.HasSuffix(m.Text, h.bot.Hint) {
		t.Errorf("help: purpose %q, text:\n%s", m.Purpose, m.Text)
	}
	h.at("2026-06-04 09:00")
	h.deliver(bot.Message{Sender: bot.Member{Name: "东风社区-张三"}, Private: true, Kind: schedules.Text, Text: "本周典型做法：" + longText, Size: -1})
	h.at("2026-06-04 09:05")
	h.receipts()
	if m := last(); m.Purpose != bot.Receipt || m.To.Name != "东风社区-张三" {
		t.Errorf("receipt: purpose %q to %+v", m.Purpose, m.To)
	}
}

// Config files may name members and admins by platform id (钉钉 staffId, 企业微信
// userid) as well as by display name; admins only by a verified identity.
func TestMembersAndAdminsByPlatformID(t *testing.T) {
	h := newHarness(t)
	h.bot.Config.Units[0].Members = append(h.bot.Config.Units[0].Members, "staff-0042")
	h.bot.Config.Bot.Admins = append(h.bot.Config.Bot.Admins, "admin-7")
	for _, tt := range []struct {
		name string
		who  bot.Member
		unit string
	}{
		{"by display name", bot.Member{ID: "东风社区-张三", Name: "东风社区-张三"}, "东风社区"},
		{"by platform id, any display name", bot.Member{ID: "staff-0042", Name: "小张", Verified: "staff-0042"}, "东风社区"},
		{"unknown id", bot.Member{ID: "staff-9999", Name: "小李", Verified: "staff-9999"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u, err := h.bot.UnitOf(tt.who)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if u != nil {
				got = u.Name
			}
			if got != tt.unit {
				t.Errorf("unit %q, want %q", got, tt.unit)
			}
		})
	}
	for verified, want := range map[string]bool{"admin-7": true, "王科长": true, "": false, "街道应急办-王科": false} {
		if got := h.bot.Config.IsAdmin(verified); got != want {
			t.Errorf("IsAdmin(%q) = %v", verified, got)
		}
	}
}
