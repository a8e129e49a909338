package bot

import (
	"context"
	"fmt"
	"strings"
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
	var out []Outgoing
	for i, part := range splitText(m.Text, b.Config.Bot.MaxMessageChars) {
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
	for _, p := range b.parts(m) {
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
	var to Member
	if m.Private {
		to = m.Sender
		text = strings.TrimPrefix(text, "@"+m.Sender.Name+" ")
		mentions = nil
	}
	return b.send(ctx, Outgoing{To: to, Text: text, Mentions: mentions})
}

// splitText cuts text into parts of at most max characters, at line breaks where
// it can, else at spaces (between @mentions), else anywhere.
func splitText(text string, max int) []string {
	if max <= 0 || len([]rune(text)) <= max {
		return []string{text}
	}
	var parts []string
	var cur []rune
	flush := func() {
		if s := strings.TrimRight(string(cur), "\n "); s != "" {
			parts = append(parts, s)
		}
		cur = cur[:0]
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		r := []rune(line)
		if len(cur)+len(r) > max {
			flush()
		}
		for len(r) > max {
			cut := max
			if i := strings.LastIndex(string(r[:max]), " "); i > 0 {
				cut = len([]rune(string(r[:max])[:i])) + 1
			}
			parts = append(parts, strings.TrimRight(string(r[:cut]), " "))
			r = r[cut:]
		}
		cur = append(cur, r...)
	}
	flush()
	return parts
}
