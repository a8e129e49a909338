package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/schedules"
	"reportbot/store"
)

// countingStore counts how a message id gets recorded, and can refuse to
// queue a question's answer (a full disk).
type countingStore struct {
	*store.DB
	firstSeen, enqueueSeen int
	refuse                 bool // EnqueueSeen fails
	full                   bool // every write fails
}

func (s *countingStore) Enqueue(keys []string, msgs []bot.Outgoing, at time.Time) (bool, error) {
	if s.full {
		return false, errors.New("disk full")
	}
	return s.DB.Enqueue(keys, msgs, at)
}

func (s *countingStore) FirstSeen(id string, at time.Time) (bool, error) {
	s.firstSeen++
	if s.full {
		return false, errors.New("disk full")
	}
	return s.DB.FirstSeen(id, at)
}

func (s *countingStore) EnqueueSeen(id string, msgs []bot.Outgoing, at time.Time) (bool, error) {
	s.enqueueSeen++
	if s.refuse || s.full {
		return false, errors.New("disk full")
	}
	return s.DB.EnqueueSeen(id, msgs, at)
}

// TestQuestionRecordedWithItsAnswer: a question's id is recorded as seen in
// the transaction that queues its answer (one commit instead of two); a
// replay is not answered again; when that transaction fails (a full disk),
// the question is still answered, without the mark, and answered again when
// it comes again. A command that acts records its id before it acts, as before.
func TestQuestionRecordedWithItsAnswer(t *testing.T) {
	h := newHarness(t)
	h.at("2026-06-04 13:00")
	cs := &countingStore{DB: h.db}
	var queued int
	tr := &fakeTransport{online: true}
	out := &bot.Outbox{Store: cs, Transport: tr, Now: func() time.Time { return h.now }, Logger: zerolog.Nop(), Sync: true,
		Trace: func(step string, _ bot.OutboxItem) {
			if step == "queued" {
				queued++
			}
		}}
	b, err := bot.New(bot.Options{Config: h.bot.Config, Campaigns: h.bot.Campaigns, Store: cs, Chat: out,
		Now: func() time.Time { return h.now }, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	admin := bot.Member{ID: "王科长", Name: "王科长", Verified: "王科长"}
	member := bot.Member{ID: "m1", Name: "东风社区-张三", Verified: "东风社区-张三"}
	for _, tt := range []struct {
		name      string
		msg       bot.Message
		refuse    int // 1: the answer's transaction fails; 2: every write does
		wantErr   bool
		sent      int // messages delivered
		queued    int // outbox transactions
		firstSeen int
		enqueued  int // EnqueueSeen calls
		seenAfter bool
	}{
		{"未报 is answered in one transaction", bot.Message{ID: "q1", Sender: admin, Text: "未报"}, 0, false, 1, 1, 0, 1, true},
		{"its replay is not answered", bot.Message{ID: "q1", Sender: admin, Text: "未报"}, 0, false, 0, 0, 0, 0, true},
		{"its mark cannot be written: answered without it", bot.Message{ID: "q2", Sender: admin, Text: "进度"}, 1, false, 1, 1, 0, 1, false},
		{"asked again, it is answered and marked", bot.Message{ID: "q2", Sender: admin, Text: "进度"}, 0, false, 1, 1, 0, 1, true},
		{"a full disk: answered from memory", bot.Message{ID: "q5", Sender: admin, Text: "未报"}, 2, false, 1, 0, 0, 1, false},
		{"a usage answer carries the mark too", bot.Message{ID: "q3", Sender: admin, Text: "未报 没有这个任务", ToBot: true}, 0, false, 1, 1, 0, 1, true},
		{"a question answered with nothing is recorded", bot.Message{ID: "q4", Sender: member, Text: "我报了吗 东风", ToBot: true}, 0, false, 0, 0, 1, 0, true},
		{"a command that acts records first", bot.Message{ID: "c1", Sender: member, Text: "绑定 东风社区"}, 0, false, 1, 1, 1, 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cs.firstSeen, cs.enqueueSeen, cs.refuse, cs.full, queued = 0, 0, tt.refuse == 1, tt.refuse == 2, 0
			before := len(tr.texts())
			tt.msg.Kind = schedules.Text
			err := b.Handle(context.Background(), tt.msg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle: %v, want error %v", err, tt.wantErr)
			}
			seen, err := h.db.Seen(tt.msg.ID)
			if err != nil {
				t.Fatal(err)
			}
			sent := len(tr.texts()) - before
			if sent != tt.sent || queued != tt.queued || cs.firstSeen != tt.firstSeen || cs.enqueueSeen != tt.enqueued || seen != tt.seenAfter {
				t.Errorf("sent %d in %d transactions, FirstSeen %d, EnqueueSeen %d, seen %v; want %d, %d, %d, %d, %v",
					sent, queued, cs.firstSeen, cs.enqueueSeen, seen, tt.sent, tt.queued, tt.firstSeen, tt.enqueued, tt.seenAfter)
			}
		})
	}
}
