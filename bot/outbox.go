package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// OutboxState is where an owed message is in the sending protocol.
type OutboxState string

// The states of an outbox item.
const (
	// Queued: recorded, not yet taken by a transport.
	Queued OutboxState = "queued"
	// Sending: a transport has taken it and is sending it now; a crash now
	// leaves it unknown whether it went out.
	Sending OutboxState = "sending"
)

// OutboxItem is a message the bot owes, kept in the store until it is delivered.
type OutboxItem struct {
	Seq uint64
	// Keys are the scheduled events the message belongs to: none for an
	// answer, one for a reminder, several for a message that combines
	// coinciding reminders of different campaigns.
	Keys   []string `json:",omitempty"`
	Msg    Outgoing
	Queued time.Time
	State  OutboxState
}

// OutboxStore keeps the outbox. Enqueue records keys in the sent-log and queues
// msgs in one transaction; Done removes an item, records in the sent-log how it
// ended (for the last of each of its events) and queues then, all in one transaction too,
// so that a notice about an item can never be lost while the item is gone.
type OutboxStore interface {
	Enqueue(keys []string, msgs []Outgoing, at time.Time) (first bool, err error)
	Outbox() ([]OutboxItem, error)
	SetSending(seq uint64) error
	SetQueued(seq uint64) error
	Done(seq uint64, at time.Time, note string, then []Outgoing) error
	MarkSent(key string, at time.Time, note string) (first bool, err error)
}

// ReceiptMark is the level a unit's receipt for a period says (ReceiptPartial,
// ReceiptComplete), recorded once the receipt is queued.
type ReceiptMark struct {
	Task   string
	Period int
	Unit   string
	Level  int
}

// ReceiptStore is an OutboxStore that queues a receipt's messages and records
// its level in one transaction: one commit instead of two, and no moment when
// the receipt is owed by the outbox but not recorded (a restart then would
// owe it again).
type ReceiptStore interface {
	EnqueueReceipt(msgs []Outgoing, at time.Time, r ReceiptMark) error
}

// ReceiptSender is a Chat that sends a receipt and records its level in one
// step. ok is false, with nothing done, when it cannot: the caller then
// sends the receipt and records the level itself.
type ReceiptSender interface {
	SendReceipt(ctx context.Context, msgs []Outgoing, r ReceiptMark) (ok bool, err error)
}

// SeenStore is an OutboxStore that queues the answer to a question and
// records the question's message id as seen in one transaction; first is
// false, with nothing queued, when the id was recorded before.
type SeenStore interface {
	EnqueueSeen(msgID string, msgs []Outgoing, at time.Time) (first bool, err error)
}

// SeenSender is a Chat that sends the answer to a question and records the
// question's id as seen in one step: one wait for the disk instead of two,
// and no moment when the question is marked answered but its answer is not
// owed. can is false, with nothing done, when it cannot: the caller then
// records the id and sends the answer itself.
type SeenSender interface {
	SendSeen(ctx context.Context, msgID string, msgs []Outgoing) (can, first bool, err error)
}

// OnceSender sends the messages of scheduled events once: it reports false,
// sending nothing, when the events were already handled.
type OnceSender interface {
	SendOnce(ctx context.Context, keys []string, msgs []Outgoing) (first bool, err error)
}

// Outbox is the Chat the bot talks to: every message is committed to the store
// before anything else happens, then handed to the transport in order, and
// removed when delivered. Messages survive a disconnect or a restart; those
// older than MaxAge are dropped with a log line instead of arriving out of time.
//
// The protocol, one transaction per step: (1) the intent: the event's key in
// the sent-log and its messages in the outbox; (2) the transport, online and
// past its pacing, is about to send: the item is marked Sending; (3) the
// transport delivers it; (4) it leaves the outbox and the sent-log says sent.
// A crash between (2) and (4) is the one moment when the bot cannot know
// whether the message went out: Recover does not send such an item again and
// tells the admins which message it was, in the transaction that closes it.
// Anywhere else a crash loses nothing and repeats nothing.
//
// The outbox alone retries. A failure that leaves the message certainly unsent
// (offline, throttled) is tried again with a growing wait for as long as
// MaxAge allows, and never uses up the message's tries; a refusal of the
// message itself is tried MaxRefusals times; a send whose outcome is unknown is
// never repeated.
type Outbox struct {
	Store OutboxStore
	// Transport delivers.
	Transport Deliverer
	Now       func() time.Time
	// MaxAge drops messages queued longer ago than this (0: never).
	MaxAge time.Duration
	Logger zerolog.Logger
	// Sync delivers in the sender's goroutine (the console); else Run does.
	Sync bool
	// Trace, if set, is told each step an item goes through ("queued",
	// "sending", "delivered", "done"; "closing" and "closed" around closing an
	// item that will not be sent); the crash tests stop the process there.
	Trace func(step string, it OutboxItem)

	mu       sync.Mutex // one flush at a time
	signal   chan struct{}
	once     sync.Once
	refusals map[uint64]int

	// unstored are replies the store could not queue (a full disk): kept in
	// memory and sent after what the store holds, without the protocol's
	// marks, so that a member told "暂存失败" does hear it. A stop loses them.
	umu      sync.Mutex
	unstored []unstoredMsg
}

// unstoredMsg is a reply kept in memory, and when it was to be queued.
type unstoredMsg struct {
	msg Outgoing
	at  time.Time
}

var _ Chat = (*Outbox)(nil)
var _ OnceSender = (*Outbox)(nil)
var _ ReceiptSender = (*Outbox)(nil)
var _ SeenSender = (*Outbox)(nil)

// MaxRefusals is how often a platform may refuse the same message before it
// is given up (with a word to the admins).
const MaxRefusals = 3

// maxRetryWait caps the wait between tries while a transport is offline, so a
// connection that comes back is used within this time even without a Wake.
const maxRetryWait = 30 * time.Second

func (o *Outbox) init() {
	o.once.Do(func() {
		o.signal = make(chan struct{}, 1)
		o.refusals = map[uint64]int{}
	})
}

func (o *Outbox) trace(step string, it OutboxItem) {
	if o.Trace != nil {
		o.Trace(step, it)
	}
}

// Send implements Chat. A message the store cannot queue (a full disk) is
// kept in memory and sent after what the store holds: the replies that say
// "暂存失败" and the admins' alert about it are exactly those written while
// the store fails. Scheduled events (SendOnce) and receipts are not kept so:
// their records in the store are what keeps them from being sent twice.
func (o *Outbox) Send(ctx context.Context, m Outgoing) error {
	o.init()
	if _, err := o.Store.Enqueue(nil, []Outgoing{m}, o.Now()); err != nil {
		o.Logger.Warn().Err(err).Str("purpose", string(m.Purpose)).Msg("the store cannot queue a message: kept in memory, sent after the queue")
		o.umu.Lock()
		o.unstored = append(o.unstored, unstoredMsg{msg: m, at: o.Now()})
		o.umu.Unlock()
		if o.Sync {
			return o.Flush(ctx)
		}
		o.Wake()
		return nil
	}
	return o.queued(ctx, nil)
}

// SendFile implements Chat.
func (o *Outbox) SendFile(ctx context.Context, to Member, path string) error {
	return o.Send(ctx, Outgoing{Purpose: FileFor, To: to, File: path})
}

// SendOnce implements OnceSender.
func (o *Outbox) SendOnce(ctx context.Context, keys []string, msgs []Outgoing) (bool, error) {
	o.init()
	first, err := o.Store.Enqueue(keys, msgs, o.Now())
	if err != nil || !first {
		return first, err
	}
	return true, o.queued(ctx, keys)
}

// SendReceipt implements ReceiptSender over a ReceiptStore.
func (o *Outbox) SendReceipt(ctx context.Context, msgs []Outgoing, r ReceiptMark) (bool, error) {
	rs, ok := o.Store.(ReceiptStore)
	if !ok {
		return false, nil
	}
	o.init()
	if err := rs.EnqueueReceipt(msgs, o.Now(), r); err != nil {
		return true, err
	}
	return true, o.queued(ctx, nil)
}

// SendSeen implements SeenSender over a SeenStore.
func (o *Outbox) SendSeen(ctx context.Context, msgID string, msgs []Outgoing) (can, first bool, err error) {
	ss, ok := o.Store.(SeenStore)
	if !ok {
		return false, false, nil
	}
	o.init()
	first, err = ss.EnqueueSeen(msgID, msgs, o.Now())
	if err != nil || !first {
		return true, first, err
	}
	return true, true, o.queued(ctx, nil)
}

// queued has what was just queued delivered: now, in the sender's
// goroutine (Sync), else by Run.
func (o *Outbox) queued(ctx context.Context, keys []string) error {
	o.trace("queued", OutboxItem{Keys: keys})
	if o.Sync {
		return o.Flush(ctx)
	}
	o.Wake()
	return nil
}

// Wake has Run try the queue now: a message was queued, or a transport came
// back online.
func (o *Outbox) Wake() {
	o.init()
	select {
	case o.signal <- struct{}{}:
	default:
	}
}

// Recover runs once at start, before anything is sent: an item that a stop
// caught while a transport was sending it is not sent again; the admins are
// told in the same transaction that closes it.
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
		o.Logger.Warn().Uint64("seq", it.Seq).Strs("keys", it.Keys).Time("queued", it.Queued).Msg("message caught mid-send by a stop: not sent again, admins told")
		if err := o.close(it, "uncertain: the bot stopped while sending it", stoppedNotice); err != nil {
			return err
		}
	}
	if o.Sync {
		return o.Flush(ctx)
	}
	return nil
}

const (
	stoppedNotice   = "【reportbot】机器人停止时正在发送下面这条消息，不确定发出去没有，为免重复没有再发。请在群里看一下，没发出去的话可以用“提醒”或手动补发：\n"
	uncertainNotice = "【reportbot】下面这条消息发出后没有等到平台的答复，不确定发出去没有，为免重复没有再发。请在群里看一下，没发出去的话可以用“提醒”或手动补发：\n"
	refusedNotice   = "【reportbot】下面这条消息平台一再拒收，已放弃发送。请在群里手动补发：\n"
	expiredNotice   = "【reportbot】下面这条消息因连接中断积压太久（超过 outbox_max_age），已不再发送。需要的话请在群里手动补发：\n"
)

// close removes an item that will not be sent (again) and, unless it was itself
// for the admins, queues a notice about it to them in the same transaction.
func (o *Outbox) close(it OutboxItem, note, notice string) error {
	var then []Outgoing
	if notice != "" && !it.Msg.ToAdmins {
		text := it.Msg.Text
		if it.Msg.File != "" {
			text = "[文件] " + it.Msg.File
		}
		then = []Outgoing{{Purpose: AdminNotice, ToAdmins: true, Text: notice + clip(text, 200)}}
	}
	o.trace("closing", it)
	if err := o.Store.Done(it.Seq, o.Now(), note, then); err != nil {
		return fmt.Errorf("close outbox item %d: %w", it.Seq, err)
	}
	delete(o.refusals, it.Seq)
	o.trace("closed", it)
	return nil
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// retryError is a flush stopped by a message that can be sent later; a held
// one waits for its route without stopping the flush.
type retryError struct {
	err   error
	after time.Duration
	held  bool
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// Flush delivers the queued items in order. It stops at the first that cannot
// be delivered now and returns why; the rest wait for the next flush.
func (o *Outbox) Flush(ctx context.Context) error {
	o.init()
	o.mu.Lock()
	defer o.mu.Unlock()
	var last uint64
	var held error // the first message waiting for its route, tried again later
	for {
		items, err := o.Store.Outbox()
		if err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		fresh := false
		for _, it := range items {
			if it.Seq <= last {
				continue // an item queued while this flush ran (a notice) comes in the next pass
			}
			fresh = true
			last = it.Seq
			err := o.deliver(ctx, it)
			var re *retryError
			if errors.As(err, &re) && re.held {
				if held == nil {
					held = err
				}
				continue
			}
			if err != nil {
				return err
			}
		}
		if !fresh {
			if err := o.flushUnstored(ctx); err != nil {
				return err
			}
			return held
		}
	}
}

// flushUnstored delivers the messages kept in memory, in order.
func (o *Outbox) flushUnstored(ctx context.Context) error {
	for {
		o.umu.Lock()
		if len(o.unstored) == 0 {
			o.umu.Unlock()
			return nil
		}
		u := o.unstored[0]
		o.umu.Unlock()
		if o.MaxAge > 0 && o.Now().Sub(u.at) > o.MaxAge {
			o.Logger.Warn().Str("purpose", string(u.msg.Purpose)).Time("queued", u.at).Msg("message kept in memory too old: dropped")
		} else if err := o.deliverUnstored(ctx, u.msg); err != nil {
			return err
		}
		o.umu.Lock()
		o.unstored = o.unstored[1:]
		o.umu.Unlock()
	}
}

// deliverUnstored sends a message kept in memory. With no marks in the
// store, a send that may have arrived, or that the platform refused, is
// dropped with a log line; one that certainly did not arrive returns an
// error and waits for the next flush.
func (o *Outbox) deliverUnstored(ctx context.Context, m Outgoing) error {
	began := false
	err := o.Transport.Deliver(ctx, m, func() error { began = true; return nil })
	if err == nil {
		return nil
	}
	if outcome, wait := OutcomeOf(err, began); outcome == NotSent || ctx.Err() != nil && !began {
		return &retryError{err: fmt.Errorf("deliver a message kept in memory: %w", err), after: wait}
	}
	o.Logger.Error().Err(err).Str("purpose", string(m.Purpose)).Msg("message kept in memory: perhaps not delivered, not tried again")
	return nil
}

// deliver takes one item through the protocol. It returns an error only when
// the flush must stop: the item stays queued for a later one.
func (o *Outbox) deliver(ctx context.Context, it OutboxItem) error {
	log := o.Logger.With().Uint64("seq", it.Seq).Strs("keys", it.Keys).Str("purpose", string(it.Msg.Purpose)).Logger()
	if it.State == Sending {
		// A transport took it and its closing transaction failed (a full disk):
		// whether it arrived is unknown, exactly as after a crash. Never again.
		log.Warn().Msg("message left sending by a failed write: not sent again, admins told")
		return o.close(it, "uncertain: its outcome could not be recorded", uncertainNotice)
	}
	if o.MaxAge > 0 && o.Now().Sub(it.Queued) > o.MaxAge {
		log.Warn().Time("queued", it.Queued).Dur("max_age", o.MaxAge).Msg("owed message too old: dropped")
		notice := ""
		if it.Msg.Purpose == Rollcall || it.Msg.Purpose == Receipt {
			notice = expiredNotice
		}
		return o.close(it, "dropped: too old to send", notice)
	}
	began := false
	begin := func() error {
		if err := o.Store.SetSending(it.Seq); err != nil {
			return fmt.Errorf("mark sending: %w", err)
		}
		began = true
		o.trace("sending", it)
		return nil
	}
	err := o.Transport.Deliver(ctx, it.Msg, begin)
	if err == nil {
		o.trace("delivered", it)
		if err := o.Store.Done(it.Seq, o.Now(), "sent", nil); err != nil {
			return fmt.Errorf("close delivered item %d: %w", it.Seq, err)
		}
		delete(o.refusals, it.Seq)
		o.trace("done", it)
		return nil
	}
	outcome, wait := OutcomeOf(err, began)
	if ctx.Err() != nil && !began {
		outcome = NotSent // stopping before the transport took it: it waits for the next start
	}
	switch outcome {
	case UncertainOutcome:
		log.Error().Err(err).Msg("send outcome unknown: not sent again, admins told")
		return o.close(it, "uncertain: "+err.Error(), uncertainNotice)
	case RefusedOutcome:
		o.refusals[it.Seq]++
		if o.refusals[it.Seq] >= MaxRefusals {
			// The text itself only at debug level: logs must not carry what members wrote.
			log.Error().Err(err).Int("chars", len([]rune(it.Msg.Text))).Msg("owed message dropped: the platform refused it again and again")
			return o.close(it, "dropped: "+err.Error(), refusedNotice)
		}
		log.Warn().Err(err).Int("refusals", o.refusals[it.Seq]).Msg("the platform refused a message: will try again")
	}
	if began {
		// Known not delivered: back to queued, tried again later.
		if qerr := o.Store.SetQueued(it.Seq); qerr != nil {
			return errors.Join(err, fmt.Errorf("put back in queue: %w", qerr))
		}
	}
	var de *DeliveryError
	held := !began && errors.As(err, &de) && de.Held
	return &retryError{err: fmt.Errorf("deliver: %w", err), after: wait, held: held}
}

// Run delivers what is queued, as it comes, until ctx ends. A failed delivery
// is tried again after a wait that grows to maxRetryWait (or as long as the
// platform asked), sooner on Wake. It returns once the message in flight, if
// any, is finished: the transport bounds that.
func (o *Outbox) Run(ctx context.Context) {
	o.init()
	wait := time.Second
	for {
		err := o.Flush(ctx)
		var retry <-chan time.Time
		if err != nil && ctx.Err() == nil {
			next := wait
			var re *retryError
			if errors.As(err, &re) && re.after > 0 {
				next = re.after
			}
			o.Logger.Warn().Err(err).Dur("retry_in", next).Msg("outbox")
			retry = time.After(next)
			wait = min(2*wait, maxRetryWait)
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
	o.umu.Lock()
	defer o.umu.Unlock()
	return len(items) + len(o.unstored)
}
