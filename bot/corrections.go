package bot

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"reportbot/schedules"
)

// undoHint ends every receipt: how to take back what was counted.
const undoHint = "（发错了回复“不算”）"

// batch is the submissions that came with last: the same member's, for the
// same unit and period, each within follow_minutes of the next (a text and
// the photos after it), live ones only.
func (b *Bot) batch(last *Submission) ([]Submission, error) {
	subs, err := b.Store.UnitSubmissions(last.Task, last.Period, last.Unit)
	if err != nil {
		return nil, err
	}
	follow := time.Duration(b.Config.Bot.FollowMinutes) * time.Minute
	var out []Submission
	next := last.At
	for i := len(subs) - 1; i >= 0; i-- {
		s := subs[i]
		if s.Seq > last.Seq || s.Withdrawn || s.Member != last.Member {
			continue
		}
		if next.Sub(s.At) > follow {
			break
		}
		out = append([]Submission{s}, out...)
		next = s.At
	}
	return out, nil
}

// latestOf is the latest submission of a member, or with unit set, of any
// member of that unit; nil when there is none.
func (b *Bot) latestOf(m Member, unit *Unit) (*Submission, error) {
	if unit == nil {
		return b.Store.LastSubmission(m.Name)
	}
	var latest *Submission
	for _, who := range b.members(unit.Name) {
		s, err := b.Store.LastSubmission(who.Name)
		if err != nil {
			return nil, err
		}
		if s != nil && s.Unit == unit.Name && (latest == nil || s.Seq > latest.Seq) {
			latest = s
		}
	}
	return latest, nil
}

// undo is 不算: what the member sent last (a text and the photos with it)
// stops counting, and the unit hears where it now stands. An admin names the
// unit: 不算 东风社区.
func (b *Bot) undo(ctx context.Context, m Message, args string) error {
	var unit *Unit
	if u := b.receiptUnit(m.Quote); u != nil && args == "" {
		// 不算 quoting a receipt: that unit's material, for its members and admins.
		if mine, err := b.UnitOf(m.Sender); err != nil || mine != u && !b.isAdmin(m) {
			if err != nil {
				return err
			}
			return b.reply(ctx, m, "这条回执不是您单位的：撤销自己刚发的，直接回复“不算”。")
		}
		unit = u
	} else if args != "" {
		if !b.isAdmin(m) {
			return b.reply(ctx, m, "撤销自己刚发的，直接回复“不算”；撤销别的单位的，请联系管理员。")
		}
		if unit = b.Config.Unit(args); unit == nil {
			return b.reply(ctx, m, fmt.Sprintf("没有找到单位“%s”。", args))
		}
	}
	last, err := b.latestOf(m.Sender, unit)
	if err != nil {
		return err
	}
	if last == nil || last.Withdrawn {
		return b.reply(ctx, m, "没有可以撤销的报送：最近发的材料已经不算了，或者还没有发过。")
	}
	task := b.Campaigns().TaskByKey(last.Task)
	if task == nil {
		return b.reply(ctx, m, "最近的报送属于已经不在日程里的任务，不能撤销。")
	}
	batch, err := b.batch(last)
	if err != nil {
		return err
	}
	var gone UnitReport
	for _, s := range batch {
		if _, err := b.Store.Withdraw(s.MsgID); err != nil {
			return err
		}
		gone.Counts.count(s, 1)
	}
	b.Logger.Info().Str("by", m.Sender.Name).Str("unit", last.Unit).Str("task", last.Task).Int("period", last.Period).
		Int("items", len(batch)).Msg("submissions taken back")
	now, err := b.settleReceipt(task, last.Period, last.Unit)
	if err != nil {
		return err
	}
	return b.reply(ctx, m, fmt.Sprintf("已撤销：%s %s「%s」的%s不再计入。%s", last.Unit, task.Label(last.Period), task.Name,
		gone.CountsText(), standing(now)))
}

// settleReceipt lowers what the unit was told about a period to what its
// material now amounts to, so that the next material gets a receipt again.
func (b *Bot) settleReceipt(t *schedules.Task, n int, unit string) (UnitReport, error) {
	r, err := b.unitReport(t, n, unit)
	if err != nil {
		return r, err
	}
	told, err := b.Store.Receipt(t.Key, n, unit)
	if err != nil {
		return r, err
	}
	if level := r.receiptLevel(); level < told {
		err = b.Store.SetReceipt(t.Key, n, unit, level)
	}
	return r, err
}

// standing is where a unit now stands, as a sentence.
func standing(r UnitReport) string {
	switch r.Status {
	case Partial:
		return fmt.Sprintf("现在：部分（%s，还差%s）。", r.CountsText(), r.MissingText())
	case Missing:
		return "现在：未报。"
	}
	return fmt.Sprintf("现在：%s（%s）。", r.Status.Label(), r.CountsText())
}

// move is the admin's 改为 单位 任务 [第N期]: the unit's latest material
// (a text and the photos with it) counts for that task and period instead.
func (b *Bot) move(ctx context.Context, m Message, args string) error {
	usage := "改为的写法：改为 单位 任务 [第N期]，如：改为 东风社区 活动方案（把东风社区最近发的一份材料改记到活动方案）"
	unitName, rest, _ := strings.Cut(strings.TrimSpace(args), " ")
	unit := b.Config.Unit(unitName)
	if unit == nil {
		return b.reply(ctx, m, usage)
	}
	q, ok := b.taskArg(rest)
	if !ok || q.task == nil {
		return b.reply(ctx, m, "没有找到这项任务。"+b.taskNames())
	}
	t, n := q.task, q.period
	if n == 0 {
		n = CurrentPeriod(t, b.Now()).N
	}
	p, ok := t.Period(n)
	if !ok {
		return b.reply(ctx, m, fmt.Sprintf("「%s」只有%d期。", t.Name, len(t.Periods)))
	}
	last, err := b.latestOf(Member{}, unit)
	if err != nil {
		return err
	}
	if last == nil || last.Withdrawn {
		return b.reply(ctx, m, unit.Name+"最近没有可以改记的材料。")
	}
	from := b.Campaigns().TaskByKey(last.Task)
	batch, err := b.batch(last)
	if err != nil {
		return err
	}
	var moved UnitReport
	for _, s := range batch {
		if _, err := b.Store.Reassign(s.MsgID, t.Key, n, s.At.After(p.Due)); err != nil {
			return err
		}
		moved.Counts.count(s, 1)
	}
	b.Logger.Info().Str("by", m.Sender.Verified).Str("unit", unit.Name).Str("from", last.Task).Str("to", t.Key).Int("period", n).
		Int("items", len(batch)).Msg("submissions moved")
	if from != nil {
		if _, err := b.settleReceipt(from, last.Period, unit.Name); err != nil {
			return err
		}
	}
	now, err := b.unitReport(t, n, unit.Name)
	if err != nil {
		return err
	}
	if err := b.Store.SetReceipt(t.Key, n, unit.Name, now.receiptLevel()); err != nil {
		return err
	}
	return b.reply(ctx, m, fmt.Sprintf("已改记：%s 最近的%s记到%s。%s", unit.Name, moved.CountsText(), periodTitle(t, p), standing(now)))
}

// receiptRE reads the unit out of one of the bot's receipts.
var receiptRE = regexp.MustCompile(`已收[到齐] ([^\s「]+)`)

// receiptUnit is the unit a quoted receipt was for, or nil.
func (b *Bot) receiptUnit(quote string) *Unit {
	if m := receiptRE.FindStringSubmatch(quote); m != nil {
		return b.Config.Unit(m[1])
	}
	return nil
}
