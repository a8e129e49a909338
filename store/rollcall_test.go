package store

import (
	"context"
	"strings"
	"testing"

	"reportbot/bot"
	"reportbot/schedules"
)

// A 未报 over 1,000 units, of which 667 owe, is queued whole in one outbox
// transaction, its five messages in order: one wait for the disk, however many
// messages the answer takes. The store and outbox are real, as `run` has them.
func TestRollcallAnswerQueuedInOneTransaction(t *testing.T) {
	dir := t.TempDir()
	if err := buildRollcallStore(dir, 3000); err != nil {
		t.Fatal(err)
	}
	bt, db, _, _ := rcBot(t, dir, Options{})
	var queued int
	bt.Chat.(*bot.Outbox).Trace = func(step string, _ bot.OutboxItem) {
		if step == "queued" {
			queued++
		}
	}
	admin := bot.Member{ID: "王科长", Name: "王科长", Verified: "王科长"}
	for _, tt := range []struct {
		name   string
		msg    bot.Message
		parts  int
		first  string // how the list of units begins
		reply  bool   // to the group (false) or privately
		queues int
	}{
		{"in the group", bot.Message{ID: "q1", Sender: admin, Kind: schedules.Text, Text: "未报"}, bot.MaxAnswerParts, "未报 334：第0社区、第3社区、", false, 1},
		{"privately", bot.Message{ID: "q2", Sender: admin, Kind: schedules.Text, Text: "谁没报", Private: true}, bot.MaxAnswerParts, "未报 334：第0社区、第3社区、", true, 1},
		{"a replay is not answered again", bot.Message{ID: "q1", Sender: admin, Kind: schedules.Text, Text: "未报"}, 0, "", false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			queued = 0
			if err := bt.Handle(context.Background(), tt.msg); err != nil {
				t.Fatal(err)
			}
			items, err := db.Outbox()
			if err != nil {
				t.Fatal(err)
			}
			if queued != tt.queues || len(items) != tt.parts {
				t.Fatalf("%d messages in %d transactions, want %d in %d", len(items), queued, tt.parts, tt.queues)
			}
			for i, it := range items {
				if i > 0 && it.Seq != items[i-1].Seq+1 {
					t.Errorf("message %d has seq %d after %d: not in order", i+1, it.Seq, items[i-1].Seq)
				}
				if private := !it.Msg.To.IsZero(); private != tt.reply {
					t.Errorf("message %d goes to %q", i+1, it.Msg.To.String())
				}
			}
			if tt.parts > 0 {
				// The title is a message of its own: the list after it is longer than one.
				if title, list := items[0].Msg.Text, items[1].Msg.Text; !strings.HasPrefix(title, "「本周典型做法」第40期") || !strings.HasPrefix(list, tt.first) {
					t.Errorf("the answer begins %q then %q, want the title then %q", title, list[:min(200, len(list))], tt.first)
				}
				if last := items[len(items)-1].Msg.Text; !strings.Contains(last, "没有列出") {
					t.Errorf("the last message does not count what was left out:\n%s", last)
				}
			}
			if _, err := db.clearOutbox(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
