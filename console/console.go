// Package console is a local group in the terminal: it plays scripts (or what a
// user types) as members' messages, moves a fake clock, restarts the bot, and
// prints what the bot sends. The demo and the end-to-end tests drive the bot
// through it.
package console

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"reportbot/bot"
)

// Clock is the console's fake clock; the bot reads it through Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock; it never goes back.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
	}
}

// Chat prints what the bot sends, one message per entry:
//
//	[2026-06-04 12:00] 机器人 -> 群: first line
//	  further lines
type Chat struct {
	mu    sync.Mutex
	Out   io.Writer
	Clock *Clock
}

var _ bot.Deliverer = (*Chat)(nil)

func (c *Chat) print(to, text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if to == "" {
		to = "群"
	}
	lines := strings.Split(text, "\n")
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] 机器人 -> %s: %s\n", c.Clock.Now().Format("2006-01-02 15:04"), to, lines[0])
	for _, l := range lines[1:] {
		if l == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("  " + l + "\n")
	}
	_, err := io.WriteString(c.Out, b.String())
	return err
}

// Deliver implements bot.Deliverer; mentions are already in the text as "@display name".
func (c *Chat) Deliver(_ context.Context, m bot.Outgoing, begin func() error) error {
	if err := begin(); err != nil {
		return err
	}
	switch {
	case m.ToAdmins:
		return c.print("管理员", m.Text)
	case m.File != "":
		return c.print(m.To.Name, "[文件] "+filepath.Base(m.File))
	default:
		return c.print(m.To.Name, m.Text)
	}
}

// Hint implements the bot.Transport method: in the console the bot sees every message.
func (c *Chat) Hint() string { return "" }

// Status implements the bot.Transport method: the console is always there.
func (c *Chat) Status() bot.TransportStatus {
	return bot.TransportStatus{Platform: "本地群", State: "本地演示", Online: true}
}

// Member is a console member: like web WeChat, known by a display name and, where
// the config gives one, the remark name the bot account gave them.
func Member(name, remark string) bot.Member {
	id := name
	if remark != "" {
		id = remark
	}
	return bot.Member{ID: id, Name: name, Verified: remark}
}
