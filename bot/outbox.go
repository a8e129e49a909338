package bot

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// OutboxState is where an owed message is in the sending protocol.
type OutboxState string

// The states of an outbox item.
const (
	// Queued: recorded, not yet handed to the chat.
	Queued OutboxState = "queued"
	// Sending: handed to the chat; a crash now leaves it unknown whether it went out.
	Sending OutboxState = "sending"
)

// OutboxItem is a message the bot owes, kept in the store until it is delivered.
type OutboxItem struct {
	Seq uint64
	// Key is the scheduled event the message belongs to, or "".
	Key    string
	Msg    Outgoing
	Queued time.Time
	State  OutboxState
}

// OutboxStore keeps the outbox. Enqueue records key in the sent-log and queues
// msgs in one transaction; Done removes an item and, for the last of an event,
// records in the sent-log how it ended, in one transaction too.
type OutboxStore interface {
	Enqueue(key string, msgs []Outgoing, at time.Time) (first bool, err error)
	Outbox() ([]OutboxItem, error)
	SetSending(seq uint64) error
	SetQueued(seq uint64) error
	Done(seq uint64, at time.Time, note string) error
	MarkSent(key string, at time.Time, note string) (first bool, err error)
}

// Deliverer is a chat that can tell when a message was really delivered: its
// Deliver returns only then (the WeChat adapter's Send only queues).
type Deliverer interface {
	Deliver(ctx context.Context, m Outgoing) error
}

// OnceSender sends the messages of a scheduled event once: it reports false,
// sending nothing, when the event was already handled.
type OnceSender interface {
	SendOnce(ctx context.Context, key string, msgs []Outgoing) (first bool, err error)
}

// Outbox is the Chat the bot talks to: every message is committed to the store
// before anything else happens, then handed to the real chat in order, and
// removed when delivered. Messages survive a disconnect or a restart; those
// older than MaxAge are dropped with a log line instead of arriving out of time.
//
// The protocol, one transaction per step: (1) the intent: the event's key in
// the sent-log and its messages in the outbox; (2) an item is marked Sending;
// (3) the chat delivers it; (4) it leaves the outbox and the sent-log says
// sent. A crash between (2) and (4) is the one moment when the bot cannot know
// whether the message went out: on start, Recover does not send such an item
// again and tells the admins which message it was. Anywhere else a crash
// loses nothing and repeats nothing.
type Outbox struct {
	Store OutboxStore
	// Chat delivers; if it is a Deliverer, Deliver is used.
	Chat Chat
	Now  func() time.Time
	// MaxAge drops messages queued longer ago than this (0: never).
	MaxAge time.Duration
	Logger zerolog.Logger
	// Sync delivers in the sender's goroutine (the console); else Run does.
	Sync bool
	// Trace, if set, is told each step an item goes through ("queued",
	// "sending", "delivered", "done"); the crash tests stop the process there.
	Trace func(step string, it OutboxItem)

	mu     sync.Mutex // one flush at a time
	signal chan struct{}
	once   sync.Once
	tries  map[uint64]int
}

var _ Chat = (*Outbox)(nil)
var _ OnceSender = (*Outbox)(nil)

func (o *Outbox) init() {
	o.once.Do(func() {
		o.signal = make(chan struct{}, 1)
		o.tries = map[uint64]int{}
	})
}

func (o *Outbox) trace(step string, it OutboxItem) {
	if o.Trace != nil {
		o.Trace(step, it)
	}
}

// Send implements Chat.
func (o *Outbox) Send(ctx context.Context, m Outgoing) error {
	_, err := o.SendOnce(ctx, "", []Outgoing{m})
	return err
}

// SendFile implements Chat.
func (o *Outbox) SendFile(ctx context.Context, to, path string) error {
	return o.Send(ctx, Outgoing{To: to, File: path})
}

// SendOnce implements OnceSender.
func (o *Outbox) SendOnce(ctx context.Context, key string, msgs []Outgoing) (bool, error) {
	o.init()
	first, err := o.Store.Enqueue(key, msgs, o.Now())
	if err != nil || !first {
		return first, err
	}
	o.trace("queued", OutboxItem{Key: key})
	if o.Sync {
		return true, o.Flush(ctx)
	}
	select {
	case o.signal <- struct{}{}:
	default:
	}
	return true, nil
}

// Recover runs once at start, before anything is sent: an item that a crash
// caught while it was being sent is not sent again; the admins are told.
func (o *Outbox) Recover(ctx context.Context) error {
	o.init()
	items, err := o.Store.Outbox()
	if err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	for _, it := range items {
		if it.State != Sending {
			continue
		}
		o.Logger.Warn().Uint64("seq", it.Seq).Str("key", it.Key).Time("queued", it.Queued).Msg("message caught mid-send by a stop: not sent again, admins told")
		if err := o.Store.Done(it.Seq, o.Now(), "uncertain: the bot stopped while sending it"); err != nil {
			return err
		}
		if it.Msg.ToAdmins {
			continue
		}
		text := it.Msg.Text
		if it.Msg.File != "" {
			text = "[文件] " + it.Msg.File
		}
		notice := "【reportbot】机器人停止时正在发送下面这条消息，不确定发出去没有，为免重复没有再发。请在群里看一下，没发出去的话可以用“提醒”或手动补发：\n" + clip(text, 200)
		if _, err := o.Store.Enqueue("", []Outgoing{{ToAdmins: true, Text: notice}}, o.Now()); err != nil {
			return err
		}
	}
	if o.Sync {
		return o.Flush(ctx)
	}
	return nil
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// maxTries drops an item the chat keeps refusing (not a dropped session: that waits).
const maxTries = 5

// Flush delivers the queued items in order. It stops at the first the chat
// cannot deliver now and returns why; the rest wait for the next flush.
func (o *Outbox) Flush(ctx context.Context) error {
	o.init()
	o.mu.Lock()
	defer o.mu.Unlock()
	items, err := o.Store.Outbox()
	if err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	for _, it := range items {
		log := o.Logger.With().Uint64("seq", it.Seq).Str("key", it.Key).Str("to", it.Msg.To).Logger()
		if o.MaxAge > 0 && o.Now().Sub(it.Queued) > o.MaxAge {
			log.Warn().Time("queued", it.Queued).Dur("max_age", o.MaxAge).Msg("owed message too old: dropped")
			if err := o.Store.Done(it.Seq, o.Now(), "dropped: too old to send"); err != nil {
				return err
			}
			continue
		}
		if err := o.Store.SetSending(it.Seq); err != nil {
			return err
		}
		o.trace("sending", it)
		if err := o.deliver(ctx, it.Msg); err != nil {
			if ctx.Err() != nil {
				return err
			}
			o.tries[it.Seq]++
			if o.tries[it.Seq] < maxTries {
				// Known not delivered: back to queued, tried again later.
				if qerr := o.Store.SetQueued(it.Seq); qerr != nil {
					return qerr
				}
				return fmt.Errorf("deliver: %w", err)
			}
			log.Error().Err(err).Msg("owed message dropped: the chat refused it again and again")
			if err := o.Store.Done(it.Seq, o.Now(), "dropped: "+err.Error()); err != nil {
				return err
			}
			continue
		}
		o.trace("delivered", it)
		if err := o.Store.Done(it.Seq, o.Now(), "sent"); err != nil {
			return err
		}
		delete(o.tries, it.Seq)
		o.trace("done", it)
	}
	return nil
}

func (o *Outbox) deliver(ctx context.Context, m Outgoing) error {
	if d, ok := o.Chat.(Deliverer); ok {
		return d.Deliver(ctx, m)
	}
	if m.File != "" {
		return o.Chat.SendFile(ctx, m.To, m.File)
	}
	return o.Chat.Send(ctx, m)
}

// Run delivers what is queued, as it comes, until ctx ends; a failed delivery
// is tried again after a wait that grows to a minute.
func (o *Outbox) Run(ctx context.Context) {
	o.init()
	wait := time.Second
	for {
		err := o.Flush(ctx)
		var retry <-chan time.Time
		if err != nil && ctx.Err() == nil {
			o.Logger.Warn().Err(err).Dur("retry_in", wait).Msg("outbox")
			retry = time.After(wait)
			wait = min(2*wait, time.Minute)
		} else {
			wait = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-o.signal:
		case <-retry:
		}
	}
}

// Pending is how many messages wait to be delivered.
func (o *Outbox) Pending() int {
	items, err := o.Store.Outbox()
	if err != nil {
		return -1
	}
	return len(items)
}
