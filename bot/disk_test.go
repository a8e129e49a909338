package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"reportbot/bot"
)

// fullDisk is the store with a disk that can fill up: writes fail with ENOSPC.
type fullDisk struct {
	bot.Store
	full atomic.Bool
}

var errNoSpace = errors.New("write reportbot.db: " + syscall.ENOSPC.Error())

func (d *fullDisk) AddSubmission(s *bot.Submission, media []byte) (bool, error) {
	if d.full.Load() {
		return false, errNoSpace
	}
	return d.Store.AddSubmission(s, media)
}

func (d *fullDisk) Seen(id string) (bool, error) {
	if d.full.Load() {
		return false, errNoSpace
	}
	return d.Store.Seen(id)
}

func (d *fullDisk) FirstSeen(id string, at time.Time) (bool, error) {
	if d.full.Load() {
		return false, errNoSpace
	}
	return d.Store.FirstSeen(id, at)
}

func TestDiskFullNothingAcknowledged(t *testing.T) {
	h := newHarness(t)
	disk := &fullDisk{Store: h.db}
	b, err := bot.New(bot.Options{Config: h.bot.Config, Campaigns: h.bot.Campaigns, Store: disk, Chat: h.chat, Now: h.bot.Now, Logger: h.bot.Logger})
	if err != nil {
		t.Fatal(err)
	}
	h.bot = b
	h.at("2026-06-04 09:00")
	disk.full.Store(true)
	h.say("东风社区-张三", "本周典型做法："+longText)
	h.image("西湖社区-李四", []byte(photo))
	h.say("街道应急办-王科", "未报") // questions are still answered
	h.receipts()
	h.chat.mu.Lock()
	msgs := h.chat.msgs
	h.chat.mu.Unlock()
	var admins, members, other []string
	for _, m := range msgs {
		switch {
		case m.ToAdmins:
			admins = append(admins, m.Text)
		case strings.Contains(m.Text, "暂存失败，请稍后重发"):
			members = append(members, m.Text)
		default:
			other = append(other, m.Text)
		}
	}
	if len(admins) != 1 || !strings.Contains(admins[0], "写不进去") || !strings.Contains(admins[0], "no space left") {
		t.Errorf("admins told %q, want once", admins)
	}
	if len(members) != 2 {
		t.Errorf("members told %q", members)
	}
	if len(other) != 1 || !strings.Contains(other[0], "未报 6：") {
		t.Errorf("other messages %q: want the answer to 未报 and no receipt", other)
	}
	if got := h.subs("weekly", 1); len(got) != 0 {
		t.Errorf("stored %v while the disk was full", got)
	}
	h.sent()
	// Space comes back: the next report is stored and receipted, but the
	// admins hear of it only once writes have worked for a quiet period.
	disk.full.Store(false)
	h.say("东风社区-张三", "本周典型做法："+longText)
	h.receipts()
	h.chat.mu.Lock()
	msgs = h.chat.msgs
	h.chat.mu.Unlock()
	if len(msgs) != 1 || msgs[0].ToAdmins || !strings.Contains(msgs[0].Text, "已收到 东风社区") {
		t.Errorf("right after recovery: %+v, want the receipt alone", msgs)
	}
	h.sent()
	h.at("2026-06-04 09:10")
	h.image("东风社区-张三", []byte(photo))
	h.receipts()
	h.chat.mu.Lock()
	msgs = h.chat.msgs
	h.chat.mu.Unlock()
	if len(msgs) != 2 || !msgs[0].ToAdmins || !strings.Contains(msgs[0].Text, "恢复正常") || !strings.Contains(msgs[1].Text, "已收齐 东风社区") {
		t.Errorf("after recovery: %+v", msgs)
	}
}

// refusingAdmins is a chat whose queue refuses the first messages to the
// admins, as the outbox on a full disk can.
type refusingAdmins struct {
	*recordChat
	refuse int
}

func (c *refusingAdmins) Send(ctx context.Context, m bot.Outgoing) error {
	if m.ToAdmins && c.refuse > 0 {
		c.refuse--
		return errNoSpace
	}
	return c.recordChat.Send(ctx, m)
}

// TestStoreAlertNotQueuedIsToldLater: when the alert itself cannot be
// queued, the next failure tells it; the admins hear it once all the same.
func TestStoreAlertNotQueuedIsToldLater(t *testing.T) {
	h := newHarness(t)
	disk := &fullDisk{Store: h.db}
	chat := &refusingAdmins{recordChat: h.chat, refuse: 1}
	b, err := bot.New(bot.Options{Config: h.bot.Config, Campaigns: h.bot.Campaigns, Store: disk, Chat: chat, Now: h.bot.Now, Logger: h.bot.Logger})
	if err != nil {
		t.Fatal(err)
	}
	h.bot = b
	h.at("2026-06-04 09:00")
	disk.full.Store(true)
	var told []int
	for i := range 3 {
		h.image("西湖社区-李四", []byte(photo))
		h.chat.mu.Lock()
		for _, m := range h.chat.msgs {
			if m.ToAdmins {
				told = append(told, i)
			}
		}
		h.chat.mu.Unlock()
		h.sent()
	}
	if len(told) != 1 || told[0] != 1 {
		t.Errorf("the admins were told at photos %v, want once, at the second (the first alert was refused)", told)
	}
}
