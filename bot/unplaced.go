package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/rs/zerolog"

	"reportbot/schedules"
)

// pendingKey is who kept material belongs to: the member's stable id, or
// their name where the platform gives none.
func pendingKey(m Member) string {
	if m.ID != "" {
		return m.ID
	}
	return m.Name
}

// keepUnplaced handles material from a member the bot cannot place in a
// unit: their media, and the texts the report rule let through (those that
// name a task, see Bot.judge), are kept until the sender binds (nothing is
// lost), and the sender is asked once a day to bind. An admin's files and
// photos are not reports.
func (b *Bot) keepUnplaced(ctx context.Context, m Message, log zerolog.Logger) error {
	if b.isAdmin(m) {
		log.Info().Msg("material from an admin of no unit: not a report")
		return nil
	}
	sub := &Submission{MsgID: m.ID, Member: m.Sender.Name, At: b.Now(), Kind: m.Kind, Text: m.Text, FileName: m.FileName}
	var media []byte
	if m.Kind != schedules.Text {
		var err error
		media, err = b.readMedia(ctx, m, log)
		if err != nil || media == nil {
			return err
		}
		sum := sha256.Sum256(media)
		sub.Blob, sub.Size = hex.EncodeToString(sum[:]), int64(len(media))
	}
	dup, err := b.Store.AddPending(pendingKey(m.Sender), sub, media)
	b.storeHealth(ctx, err)
	if err != nil {
		log.Error().Err(err).Msg("keep material of a member of no unit")
		return b.reply(ctx, m, fmt.Sprintf("@%s 暂存失败，请稍后重发。", m.Sender.Name), m.Sender)
	}
	if dup {
		return nil
	}
	log.Info().Msg("material of a member of no unit kept until they bind")
	first, err := b.Store.MarkSent("bind-prompt/"+pendingKey(m.Sender)+"/"+b.Now().Format("2006-01-02"), b.Now(), "asked to bind")
	if err != nil || !first {
		return err
	}
	return b.reply(ctx, m, fmt.Sprintf("@%s 还不知道您代表哪个单位报送。请先发：绑定 单位名称（如：绑定 %s）。刚才发的材料已经存下，绑定后自动记入，不用重发。",
		m.Sender.Name, b.Config.Units[0].Name), m.Sender)
}

// placeKept files what a member sent before binding under their unit, each
// at the time it came, and says what was filed.
func (b *Bot) placeKept(m Message, unit *Unit) (string, error) {
	kept, err := b.Store.TakePending(pendingKey(m.Sender))
	if err != nil || len(kept) == 0 {
		return "", err
	}
	var counts Counts
	var tasks []string
	for i := range kept {
		sub := &kept[i]
		msg := Message{ID: sub.MsgID, At: sub.At, Sender: m.Sender, Kind: sub.Kind, Text: sub.Text, FileName: sub.FileName}
		task, period, late := b.attribute(unit.Name, msg, sub.At)
		if task == nil {
			b.Logger.Warn().Str("msg_id", sub.MsgID).Msg("kept material fits no task: dropped")
			continue
		}
		sub.Unit, sub.Task, sub.Period, sub.Late = unit.Name, task.Key, period, late
		if _, err := b.Store.AddSubmission(sub, nil); err != nil {
			return "", err
		}
		counts.count(*sub, 1)
		name := "「" + task.Name + "」" + task.Label(period)
		if !slices.Contains(tasks, name) {
			tasks = append(tasks, name)
		}
		b.mu.Lock()
		b.receipts[periodKey{unit.Name, task.Key, period}] = owedReceipt{at: b.Now(), by: m.Sender}
		b.mu.Unlock()
	}
	if len(tasks) == 0 {
		return "", nil
	}
	r := UnitReport{Counts: counts}
	return fmt.Sprintf("之前发的%s已记入%s。", r.CountsText(), strings.Join(tasks, "、")), nil
}
