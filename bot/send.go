package bot

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// withHint ends a text members act on with how to reach the bot here.
func (b *Bot) withHint(text string) string {
	if b.Hint == "" {
		return text
	}
	return text + "\n" + b.Hint
}

// sendEvent sends the message of scheduled events unless they were handled
// already. An admin's 提醒 has no key and is sent as it is.
func (b *Bot) sendEvent(ctx context.Context, keys []string, m Outgoing) error {
	if len(keys) == 0 {
		return b.send(ctx, m)
	}
	parts := b.parts(m)
	if once, ok := b.Chat.(OnceSender); ok {
		_, err := once.SendOnce(ctx, keys, parts)
		return err
	}
	// A chat without an outbox: claim first, so a restart never repeats it.
	first := false
	for _, key := range keys {
		claimed, err := b.Store.MarkSent(key, b.Now(), "")
		if err != nil {
			return err
		}
		first = first || claimed
	}
	if !first {
		return nil
	}
	for _, p := range parts {
		if err := b.Chat.Send(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// parts splits a long text into messages the chat accepts, each with the mentions it holds.
func (b *Bot) parts(m Outgoing) []Outgoing {
	return b.partsOf(m, splitText(m.Text, b.Config.Bot.MaxMessageChars))
}

// partsOf is m as the messages of texts, each with the mentions it holds.
func (b *Bot) partsOf(m Outgoing, texts []string) []Outgoing {
	var out []Outgoing
	for i, part := range texts {
		p := m
		p.Text, p.Mentions = part, nil
		for _, who := range m.Mentions {
			written := strings.Contains(m.Text, "@"+who.Name)
			// An addressee (not written in the text) goes with the first part.
			if written && strings.Contains(part, "@"+who.Name) || !written && i == 0 {
				p.Mentions = append(p.Mentions, who)
			}
		}
		out = append(out, p)
	}
	return out
}

// send splits a long text into messages the chat accepts and sends them in order.
func (b *Bot) send(ctx context.Context, m Outgoing) error {
	return b.sendParts(ctx, nil, m, b.parts(m), false)
}

// sendParts sends the parts of m in order, queued together (grouped) where
// the chat can. With a question's id owed (see Message.owed), the id is
// recorded with the first answer: in the transaction that queues it where
// the chat can (SeenSender), else just before it. Nothing is sent when
// another handling recorded the id first.
func (b *Bot) sendParts(ctx context.Context, owed *owedMark, m Outgoing, parts []Outgoing, grouped bool) error {
	if owed != nil && !owed.done {
		owed.done = true
		log := b.Logger.With().Str("msg_id", owed.id).Logger()
		ss, ok := b.Chat.(SeenSender)
		var can bool
		var err error
		if ok {
			can, _, err = ss.SendSeen(ctx, owed.id, parts)
		}
		switch {
		case can && err == nil:
			return nil // queued with its mark, or another handling had it
		case can:
			// The store failed (a full disk): the question is answered
			// without its mark, as a failed FirstSeen lets it be, each part
			// on its own so that the outbox can keep what it cannot queue.
			log.Warn().Err(err).Msg("record a question with its answer: answered without the mark")
			grouped = false
		case !b.firstSeen(owed.id, log):
			return nil
		}
	}
	if once, ok := b.Chat.(OnceSender); ok && grouped && len(parts) > 1 {
		// An answer's parts are queued in one transaction: one wait for the
		// disk instead of one per message (a 未报 over 1,000 units takes 5).
		if _, err := once.SendOnce(ctx, nil, parts); err != nil {
			return fmt.Errorf("send answer to %q: %w", m.To.String(), err)
		}
		return nil
	}
	for _, p := range parts {
		if err := b.Chat.Send(ctx, p); err != nil {
			return fmt.Errorf("send %s message to %q: %w", m.Purpose, m.To.String(), err)
		}
	}
	return nil
}

// TellAdmins sends text privately to every admin.
func (b *Bot) TellAdmins(ctx context.Context, text string) error {
	return b.send(ctx, Outgoing{Purpose: AdminNotice, Text: text, ToAdmins: true})
}

// reply answers a message where it came from: privately, or in the group.
func (b *Bot) reply(ctx context.Context, m Message, text string, mentions ...Member) error {
	out := replyTo(m, text, mentions)
	return b.sendParts(ctx, m.owed, out, b.parts(out), false)
}

// replyTo is the answer to m: privately, or in the group.
func replyTo(m Message, text string, mentions []Member) Outgoing {
	var to Member
	if m.Private {
		to = m.Sender
		text = strings.TrimPrefix(text, "@"+m.Sender.Name+" ")
		mentions = nil
	}
	return Outgoing{To: to, Text: text, Mentions: mentions}
}

// MaxAnswerParts is the most messages the answer to a question (未报, 进度,
// 我报了吗, 任务) takes: a long list in a chat is scrolled past, and on web
// WeChat each message costs seconds of the send interval that reminders and
// receipts wait behind. The scheduled roll-calls and nudges are not cut:
// they name every unit, as many messages as that takes.
const MaxAnswerParts = 5

// answer replies to a question with at most MaxAnswerParts messages; what
// does not fit is counted, and the last message says where to read it all.
func (b *Bot) answer(ctx context.Context, m Message, text string) error {
	out := replyTo(m, text, nil)
	max := b.Config.Bot.MaxMessageChars
	parts := b.partsOf(out, capParts(out.Text, splitTextN(out.Text, max, MaxAnswerParts+1), max, MaxAnswerParts, moreNote))
	return b.sendParts(ctx, m.owed, out, parts, true)
}

// moreNote ends an answer that was cut.
func moreNote(more int) string {
	return fmt.Sprintf("……还有%d项没有列出。完整情况见网页看板（管理员私聊机器人发“看板”）或“导出”的统计表。", more)
}

// capParts keeps the first limit of the parts text was split into, the last
// one cut at a line or list separator (、；) so that note(how many items were
// left out) fits after it. Fewer parts are returned as they are.
func capParts(text string, parts []string, max, limit int, note func(more int) string) []string {
	if len(parts) <= limit {
		return parts
	}
	// The parts are text's substrings in order: find where the last kept one begins.
	pos := 0
	for _, p := range parts[:limit-1] {
		pos += strings.Index(text[pos:], p) + len(p)
	}
	rest := text[pos:]
	room := max - len([]rune(note(countItems(rest)))) - 1
	cut, n := 0, 0
	for i, r := range rest {
		if n >= room {
			break
		}
		n++
		if isItemSeparator(r) {
			cut = i + len(string(r))
		}
	}
	last := note(countItems(rest[cut:]))
	if shown := strings.Trim(rest[:cut], itemSeparators); shown != "" {
		last = shown + "\n" + last
	}
	return append(parts[:limit-1:limit-1], last)
}

// itemSeparators end the items of an answer: its lines, and the units of a
// list ("东风社区、西湖社区").
const itemSeparators = "\n、；"

// isItemSeparator is strings.ContainsRune(itemSeparators, r) as a switch:
// an answer's 1,000 units' names are scanned rune by rune.
func isItemSeparator(r rune) bool {
	switch r {
	case '\n', '、', '；':
		return true
	}
	return false
}

// countItems is how many items text holds.
func countItems(text string) int {
	n, in := 0, false
	for _, r := range text {
		switch {
		case isItemSeparator(r):
			in = false
		case !in:
			in, n = true, n+1
		}
	}
	return n
}

// splitText cuts text into parts of at most max characters, at line breaks where
// it can, else at spaces (between @mentions) or after a list's 、 or ；
// (between units' names), else anywhere.
func splitText(text string, max int) []string { return splitTextN(text, max, -1) }

// splitTextN is splitText's first n parts (all for n < 0): an answer shows
// MaxAnswerParts of them, and a list of 1,000 units need not be cut further.
// It counts characters in the string instead of converting it to runes.
func splitTextN(text string, max, n int) []string {
	if max <= 0 || utf8.RuneCountInString(text) <= max {
		return []string{text}
	}
	var parts []string
	full := func() bool { return n >= 0 && len(parts) >= n }
	var cur strings.Builder
	curN := 0 // characters in cur
	flush := func() {
		if s := strings.TrimRight(cur.String(), "\n "); s != "" {
			parts = append(parts, s)
		}
		cur.Reset()
		curN = 0
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		if full() {
			return parts
		}
		rn := utf8.RuneCountInString(line)
		if curN+rn > max {
			flush()
		}
		for rn > max && !full() {
			prefix := line[:runeOffset(line, max)]
			cut, cutN := len(prefix), max
			if i := strings.LastIndexAny(prefix, " 、；"); i > 0 {
				_, size := utf8.DecodeRuneInString(prefix[i:])
				cut = i + size
				cutN = utf8.RuneCountInString(prefix[:cut])
			}
			parts = append(parts, strings.TrimRight(line[:cut], " "))
			line, rn = line[cut:], rn-cutN
		}
		cur.WriteString(line)
		curN += rn
	}
	if !full() {
		flush()
	}
	return parts
}

// runeOffset is where the n-th character of s begins (len(s) when s is shorter).
func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}
