package bot_test

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/schedules"
)

const hint = "报送时请@报送机器人，或私聊发给我。"

func loadCampaign(t testing.TB, file string) *schedules.Schedule {
	t.Helper()
	s, err := schedules.Load(filepath.Join("..", "schedules.example", file))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// campaignsHarness runs June's campaign and the standing monthly report of
// schedules.example/ side by side.
func campaignsHarness(t testing.TB) *harness {
	t.Helper()
	h := newHarnessOver(t, loadCampaign(t, "2026-06-anquan.toml"), loadCampaign(t, "yinhuan-monthly.toml"))
	h.bot.Hint = hint
	return h
}

// weeklyDone: 东风社区 sends its complete weekly report for the week of 6/25.
func weeklyDone(h *harness) {
	h.t.Helper()
	h.at("2026-06-24 10:00")
	h.say("东风社区-张三", "本周典型做法："+longText)
	h.image("东风社区-张三", []byte(photo))
	h.at("2026-06-24 10:05")
	h.receipts()
	h.sent()
}

// monthlyDone: the members given send June's monthly report.
func monthlyDone(h *harness, members ...string) {
	h.t.Helper()
	h.at("2026-06-24 10:10")
	for _, m := range members {
		h.say(m, "6月隐患排查情况：排查商铺32家，整改隐患5处")
	}
	h.at("2026-06-24 10:15")
	h.receipts()
	h.sent()
}

// due is the events of the campaigns in force in the minute up to t, as the runner groups them.
func (h *harness) due(t string) [][]schedules.Event {
	h.t.Helper()
	h.at(t)
	return schedules.Combine(h.bot.Campaigns().Events(h.now.Add(-time.Minute), h.now))
}

// fireAll fires events as one group and returns what the chat got.
func (h *harness) fireAll(events ...schedules.Event) []bot.Outgoing {
	h.t.Helper()
	if err := h.bot.Fire(context.Background(), events...); err != nil {
		h.t.Fatal(err)
	}
	h.chat.mu.Lock()
	defer h.chat.mu.Unlock()
	out := h.chat.msgs
	h.chat.msgs = nil
	return out
}

func names(ms []bot.Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

var allMembers = []string{"东风社区-张三", "西湖社区-李四", "南山村-王五", "北岭村-赵六", "刘洋", "陈静"}

// TestFireCombined: events of two campaigns due in the same minute go out as
// one message under the campaigns' names, each owing unit's @ line and each
// member once, the hint once at the end; every event's key is recorded.
func TestFireCombined(t *testing.T) {
	tests := []struct {
		name     string
		minute   string
		monthly  []string // members who sent the monthly report
		purpose  bot.Purpose
		text     string
		mentions []string
		notes    []string // the sent-log, by the events' order
	}{
		{"two reminders", "2026-06-24 09:00", nil, bot.Reminder, `【2026年每月隐患排查】
【提醒】请各单位于6月25日（周四）18:00前报送「每月隐患排查情况」第6期。

【2026年安全生产月】
【提醒】请各单位于6月25日（周四）12:00前报送第4期「本周典型做法、特色项目」：文字说明加至少1张现场照片，直接发到本群即可。
` + hint, nil, []string{"sent", "sent"}},
		// 东风社区 owes the monthly report only and 西湖社区 the weekly one:
		// each has its line, once, after both campaigns' parts.
		{"two nudges", "2026-06-25 10:00", []string{"西湖社区-李四"}, bot.Nudge, `【2026年每月隐患排查】
【催报】「每月隐患排查情况」第6期将于6月25日（周四）18:00截止，以下单位还没有报齐，请抓紧报送：
未报 5：东风社区、南山村、北岭村、安监站、城建办

【2026年安全生产月】
【催报】「本周典型做法、特色项目」第4期将于6月25日（周四）12:00截止，以下单位还没有报齐，请抓紧报送：
未报 5：西湖社区、南山村、北岭村、安监站、城建办
请以上单位抓紧报送：
东风社区：@东风社区-张三
南山村：@南山村-王五
北岭村：@北岭村-赵六
安监站：@刘洋
城建办：@陈静
西湖社区：@西湖社区-李四`,
			[]string{"东风社区-张三", "南山村-王五", "北岭村-赵六", "刘洋", "陈静", "西湖社区-李四"}, []string{"sent", "sent"}},
		// Every unit sent the monthly report: its nudge says nothing, and
		// June's goes out as it would alone.
		{"a nudge with nobody owing", "2026-06-25 10:00", allMembers, bot.Nudge, `【催报】「本周典型做法、特色项目」第4期将于6月25日（周四）12:00截止，以下单位还没有报齐，请抓紧报送：
未报 5：西湖社区、南山村、北岭村、安监站、城建办
西湖社区：@西湖社区-李四
南山村：@南山村-王五
北岭村：@北岭村-赵六
安监站：@刘洋
城建办：@陈静`,
			[]string{"西湖社区-李四", "南山村-王五", "北岭村-赵六", "刘洋", "陈静"}, []string{"nothing to send: every unit had reported", "sent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := campaignsHarness(t)
			weeklyDone(h)
			monthlyDone(h, tt.monthly...)
			groups := h.due(tt.minute)
			if len(groups) != 1 || len(groups[0]) != 2 || groups[0][0].Campaign == groups[0][1].Campaign {
				t.Fatalf("%s: %d groups, want one of two campaigns' events", tt.minute, len(groups))
			}
			got := h.fireAll(groups[0]...)
			if len(got) != 1 {
				t.Fatalf("sent %d messages, want 1: %+v", len(got), got)
			}
			m := got[0]
			if m.Purpose != tt.purpose {
				t.Errorf("purpose %q, want %q", m.Purpose, tt.purpose)
			}
			if m.Text != tt.text {
				t.Errorf("text\n%s\nwant\n%s", m.Text, tt.text)
			}
			if got := names(m.Mentions); !slices.Equal(got, tt.mentions) {
				t.Errorf("mentions %q, want %q", got, tt.mentions)
			}
			for _, who := range allMembers {
				if n := strings.Count(m.Text, "@"+who); n > 1 {
					t.Errorf("@%s %d times", who, n)
				}
			}
			if n := strings.Count(m.Text, hint); tt.purpose == bot.Reminder && (n != 1 || !strings.HasSuffix(m.Text, hint)) {
				t.Errorf("the hint %d times, want once at the end", n)
			}
			var notes []string
			for _, e := range groups[0] {
				n, err := h.db.SentNote(e.Key)
				if err != nil {
					t.Fatal(err)
				}
				notes = append(notes, n)
			}
			if !slices.Equal(notes, tt.notes) {
				t.Errorf("sent-log %q, want %q", notes, tt.notes)
			}
			// Fired again (a restart in the same minute), nothing goes out twice.
			if again := h.fireAll(groups[0]...); len(again) != 0 {
				t.Errorf("fired twice: %+v", again)
			}
		})
	}
}

// TestFireOneEventAsBefore: an event that coincides with no other campaign's
// is the message it was with one campaign, to the byte and the mention.
func TestFireOneEventAsBefore(t *testing.T) {
	tests := []struct {
		legacy string // the event, by its schema-2 key
		at     string
	}{
		{"weekly/4/remind@-1d 09:00", "2026-06-24 09:00"},
		{"weekly/4/nudge@-2h", "2026-06-25 10:00"},
		{"weekly/4/rollcall@0", "2026-06-25 12:00"},
		{"announce@2026-06-16 08:30", "2026-06-16 08:30"},
	}
	for _, tt := range tests {
		t.Run(tt.legacy, func(t *testing.T) {
			fire := func(h *harness, s *schedules.Schedule) []bot.Outgoing {
				t.Helper()
				h.at(tt.at)
				key := s.LegacyKeys()[tt.legacy]
				if key == "" {
					key = tt.legacy // an id-less file's announcements kept theirs
				}
				for _, e := range s.Events(h.now.Add(-time.Minute), h.now) {
					if e.Key == key {
						return h.fireAll(e)
					}
				}
				t.Fatalf("no event %s at %s", key, tt.at)
				return nil
			}
			one := newHarness(t)
			one.bot.Hint = hint
			both := campaignsHarness(t)
			for _, h := range []*harness{one, both} {
				if tt.at > "2026-06-24" {
					weeklyDone(h)
				}
			}
			monthlyDone(both, "西湖社区-李四")
			want := fire(one, one.sched)
			got := fire(both, both.sched)
			if len(want) == 0 || !reflect.DeepEqual(got, want) {
				t.Errorf("with two campaigns\n%+v\nwith one\n%+v", got, want)
			}
		})
	}
}

// TestFireCombinedThroughOutbox: the bot's real chat commits the combined
// message with both keys at once; delivered, both are sent.
func TestFireCombinedThroughOutbox(t *testing.T) {
	h := campaignsHarness(t)
	weeklyDone(h)
	tr := &fakeTransport{online: true}
	out := &bot.Outbox{Store: h.db, Transport: tr, Now: func() time.Time { return h.now }, Logger: zerolog.Nop(), Sync: true}
	b, err := bot.New(bot.Options{Config: h.bot.Config, Campaigns: h.bot.Campaigns, Store: h.db, Chat: out,
		Now: func() time.Time { return h.now }, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	groups := h.due("2026-06-25 10:00")
	if len(groups) != 1 || len(groups[0]) != 2 {
		t.Fatalf("groups %v", groups)
	}
	for range 2 {
		if err := b.Fire(context.Background(), groups[0]...); err != nil {
			t.Fatal(err)
		}
	}
	if got := tr.texts(); len(got) != 1 || strings.Count(got[0], "【催报】") != 2 {
		t.Fatalf("delivered %q, want one combined nudge", got)
	}
	for _, e := range groups[0] {
		if n, _ := h.db.SentNote(e.Key); n != "sent" {
			t.Errorf("%s: sent-log %q, want sent", e.Key, n)
		}
	}
	if items, _ := h.db.Outbox(); len(items) != 0 {
		t.Errorf("outbox left %+v", items)
	}
}

// TestFireCombinedOneHeaderPerCampaign: two events of one campaign in a group
// with another campaign's stand under one header of their campaign.
func TestFireCombinedOneHeaderPerCampaign(t *testing.T) {
	h := campaignsHarness(t)
	var group []schedules.Event
	for _, e := range h.bot.Campaigns().Events(h.now, h.now.AddDate(0, 1, 0)) {
		if e.Kind == schedules.Nudge && (e.Period == 4 && e.Task.ID == "weekly" || e.Task.ID == "summary" || e.Task.ID == "yinhuan" && e.Period == 6) {
			group = append(group, e)
		}
	}
	if len(group) != 3 {
		t.Fatalf("%d nudges, want June's weekly and summary and the monthly one", len(group))
	}
	h.at("2026-06-25 10:00")
	got := h.fireAll(group...)
	if len(got) != 1 {
		t.Fatalf("sent %d messages, want 1", len(got))
	}
	text := got[0].Text
	if strings.Count(text, "【2026年安全生产月】") != 1 || strings.Count(text, "【2026年每月隐患排查】") != 1 ||
		!strings.Contains(text, "「本周典型做法、特色项目」第4期") || !strings.Contains(text, "「活动总结、图片影像资料、活动情况统计表」") {
		t.Errorf("text:\n%s", text)
	}
}
