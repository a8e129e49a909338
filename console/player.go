package console

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"reportbot/bot"
	"reportbot/schedules"
)

// Runtime is the running bot as the console sees it: what /restart closes and reopens.
type Runtime interface {
	// Deliver hands the bot one message, as the chat adapter would.
	Deliver(ctx context.Context, m bot.Message) error
	// Advance fires, in order, everything due up to to, moving the clock to each
	// moment as it goes.
	Advance(ctx context.Context, to time.Time) error
	// Flush sends what the bot owes right away (receipts waiting for more photos).
	Flush(ctx context.Context) error
	// Close flushes and releases everything, as a shutdown would.
	Close() error
}

// Opener starts the bot over the console's clock and chat.
type Opener func(ctx context.Context, clock *Clock, chat bot.Deliverer) (Runtime, error)

// Player plays script lines against the bot.
type Player struct {
	Out      io.Writer
	Open     Opener
	Location *time.Location
	// Remarks maps display names to the remark names the bot account gave them.
	Remarks map[string]string
	// Echo prints members' messages too, so a played script reads as a chat.
	Echo bool

	clock   *Clock
	chat    *Chat
	rt      Runtime
	last    map[string]string // member -> id of their last message, for /recall
	started bool
}

// Runtime is the bot the player runs now: nil before Begin and while stopped.
func (p *Player) Runtime() Runtime {
	if !p.started {
		return nil
	}
	return p.rt
}

// Begin starts the clock at t and opens the bot.
func (p *Player) Begin(ctx context.Context, t time.Time) error {
	p.clock = NewClock(t)
	p.chat = &Chat{Out: p.Out, Clock: p.clock}
	p.last = map[string]string{}
	return p.start(ctx)
}

func (p *Player) start(ctx context.Context) error {
	rt, err := p.Open(ctx, p.clock, p.chat)
	if err != nil {
		return err
	}
	p.rt, p.started = rt, true
	// What was missed while stopped and is still useful goes out at once.
	return rt.Advance(ctx, p.clock.Now())
}

func (p *Player) stop() error {
	if !p.started {
		return nil
	}
	p.started = false
	return p.rt.Close()
}

// Now is the console's clock.
func (p *Player) Now() time.Time { return p.clock.Now() }

// Close stops the bot.
func (p *Player) Close() error { return p.stop() }

// FileOpener reads a media file named in a script.
type FileOpener func(name string) (io.ReadCloser, int64, error)

// DirFiles reads media paths relative to dir (absolute paths as they are).
func DirFiles(dir string) FileOpener {
	return func(name string) (io.ReadCloser, int64, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return withSize(os.Open(name))
	}
}

// FSFiles reads media paths from an fs.FS, such as the embedded demo.
func FSFiles(fsys fs.FS) FileOpener {
	return func(name string) (io.ReadCloser, int64, error) {
		return withSize(fsys.Open(path.Clean(name)))
	}
}

func withSize[F fs.File](f F, err error) (io.ReadCloser, int64, error) {
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// LineError is a script line the console could not understand or play.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Play plays a whole script; name is used in errors. It stops at the first bad line.
func (p *Player) Play(ctx context.Context, r io.Reader, name string, files FileOpener) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	n := 0
	for sc.Scan() {
		n++
		if err := p.Do(ctx, sc.Text(), files); err != nil {
			return &LineError{File: name, Line: n, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}

// ErrStopped is returned for a message sent while the bot is stopped.
var ErrStopped = errors.New("机器人已停止（/stop）：先 /start 再发消息")

// Do plays one line.
func (p *Player) Do(ctx context.Context, text string, files FileOpener) error {
	l, err := ParseLine(text, p.Location)
	if err != nil {
		return err
	}
	switch l.Op {
	case OpNone:
		return nil
	case OpTime:
		to := l.At
		if l.Days > 0 || l.Add > 0 {
			to = p.clock.Now().AddDate(0, 0, l.Days).Add(l.Add)
		}
		if to.Before(p.clock.Now()) {
			return fmt.Errorf("时间不能倒退：现在是 %s", p.clock.Now().Format("2006-01-02 15:04"))
		}
		if !p.started {
			p.clock.Set(to)
			return nil
		}
		return p.rt.Advance(ctx, to)
	case OpRestart:
		if err := p.stop(); err != nil {
			return err
		}
		return p.start(ctx)
	case OpStop:
		return p.stop()
	case OpStart:
		if p.started {
			return nil
		}
		return p.start(ctx)
	}
	if !p.started {
		return ErrStopped
	}
	m := bot.Message{ID: newID(), At: p.clock.Now(), Sender: Member(l.From, p.Remarks[l.From]),
		Private: l.Private, Kind: l.Kind, Text: l.Text, Size: -1}
	if l.Recall {
		m.Kind, m.Recalls = schedules.Text, p.last[l.From]
		if m.Recalls == "" {
			return fmt.Errorf("%s 还没有发过消息，没有可撤回的", l.From)
		}
	}
	if l.Path != "" {
		rc, size, err := files(l.Path)
		if err != nil {
			return fmt.Errorf("读取 %s: %w", l.Path, err)
		}
		rc.Close()
		m.FileName, m.Size = filepath.Base(l.Path), size
		m.Open = func(context.Context) (io.ReadCloser, error) {
			rc, _, err := files(l.Path)
			return rc, err
		}
	}
	if p.Echo {
		p.echo(l, m)
	}
	p.last[l.From] = m.ID
	return p.rt.Deliver(ctx, m)
}

func (p *Player) echo(l Line, m bot.Message) {
	to := ""
	if l.Private {
		to = " -> 机器人"
	}
	body := l.Text
	switch {
	case l.Recall:
		body = "[撤回了一条消息]"
	case l.Kind != schedules.Text:
		_, noun := l.Kind.Noun()
		body = fmt.Sprintf("[%s] %s", noun, m.FileName)
	}
	fmt.Fprintf(p.Out, "[%s] %s%s: %s\n", m.At.Format("2006-01-02 15:04"), l.From, to, body)
}

// Flush sends what the bot owes now; the interactive console calls it after each
// line so the user sees receipts without moving the clock.
func (p *Player) Flush(ctx context.Context) error {
	if !p.started {
		return nil
	}
	return p.rt.Flush(ctx)
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return "console-" + hex.EncodeToString(b[:])
}
