package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Member is a person in the group as a platform shows them.
type Member struct {
	// ID is the most stable id the platform gives: 企业微信 userid, 钉钉 staffId;
	// on web WeChat, whose user names change at every login, the remark name the
	// bot account gave them, else their display name.
	ID string `json:",omitempty"`
	// Name is how the group shows them (the group display name or nickname).
	Name string `json:",omitempty"`
	// Verified is the identity the sender cannot change themselves: on web
	// WeChat the remark name the bot account gave them ("" when none), on the
	// official platforms their userid. Admins are recognised by it alone.
	Verified string `json:",omitempty"`
}

// IsZero reports whether m names nobody (an Outgoing's To: the group).
func (m Member) IsZero() bool { return m.ID == "" && m.Name == "" && m.Verified == "" }

// String is the member's name for logs and texts.
func (m Member) String() string {
	if m.Name != "" {
		return m.Name
	}
	return m.ID
}

// UnmarshalJSON also reads a plain string: messages owed by an older reportbot
// named members by display name only.
func (m *Member) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err == nil {
		*m = Member{ID: name, Name: name}
		return nil
	}
	type plain Member
	return json.Unmarshal(b, (*plain)(m))
}

// named is a member known only by one name, as the config and older records give them.
func named(name string) Member { return Member{ID: name, Name: name} }

// Purpose says what an outgoing message is for, so that a transport can route
// each kind its own way (a nudge through a channel that can really @ people).
type Purpose string

// The purposes of outgoing messages. The zero value is an answer.
const (
	Answer       Purpose = ""
	Announcement Purpose = "announce"
	Reminder     Purpose = "remind"
	Nudge        Purpose = "nudge"
	Rollcall     Purpose = "rollcall"
	Receipt      Purpose = "receipt"
	// FileFor is a file sent to one person (an export).
	FileFor Purpose = "file"
	// AdminNotice goes privately to every admin.
	AdminNotice Purpose = "admin"
)

// Handler takes the messages a transport receives; *Bot is one.
type Handler interface {
	Handle(ctx context.Context, m Message) error
}

// Transport is a chat platform as the domain sees it. An adapter (wechat,
// console, and the official platforms) implements it; the domain never knows
// which one it talks to.
type Transport interface {
	// Run connects, passes every message received to h, and reconnects as the
	// platform needs, until ctx ends (then it returns nil). It returns an error
	// when it can no longer go on, such as a login the platform refuses: the
	// process ends with that message.
	Run(ctx context.Context, h Handler) error
	Deliverer
	// Hint tells members how to reach the bot on this platform, for reminder
	// and help texts ("报送时请@报送机器人，或私聊发给我"); "" when the bot sees
	// every group message and nothing needs saying.
	Hint() string
	// Status is the transport's state now, for the dashboard and logs.
	Status() TransportStatus
}

// Orderer is a Handler that says which messages must wait for every message
// received before them. A transport that handles different senders' messages
// at the same time asks it, so that a question about who has reported is
// answered after the report another member sent just before it.
type Orderer interface {
	WaitsForEarlier(m Message) bool
}

// Settler is a transport that can tell when the messages that waited at the
// chat while the bot was away (the backlog a platform hands over after a
// start) have all been handled, so that what the bot says on its own at a
// start (reminders caught up, receipts owed) counts them. A transport that
// cannot tell is given a grace period instead.
type Settler interface {
	// Settled is closed once the first connection's backlog is handled.
	Settled() <-chan struct{}
}

// RosterHandler is a Handler that hears who is in the group, where the
// platform lists the members (web WeChat does; 钉钉's robot does not). The
// transport calls Roster at each login and whenever the list changes.
type RosterHandler interface {
	Roster(ctx context.Context, present []Member)
}

// Deliverer sends the messages the outbox owes.
type Deliverer interface {
	// Deliver sends one message and returns once the platform has accepted it.
	// It paces and waits for its connection itself, then calls begin right
	// before the message leaves: when begin fails, nothing is sent. An error
	// says whether trying again can help (see Retryable, Refused, Uncertain);
	// an error it does not classify counts as Retryable before begin and as
	// Uncertain after. A transport never retries on its own: the outbox does.
	Deliver(ctx context.Context, m Outgoing, begin func() error) error
}

// TransportStatus is what run and the dashboard show of a transport.
type TransportStatus struct {
	// Platform is the platform's name for people ("微信", "钉钉", "本地群").
	Platform string
	// State is the connection in a few words ("已连接", "等待扫码", "正在登录").
	State  string
	Online bool
	// Since is when Online last changed.
	Since time.Time
	// LastError is the last thing that went wrong, "" when nothing has.
	LastError string
	// LastMessage is when the last message arrived.
	LastMessage time.Time
	// LoginQR is a PNG to scan while a login waits for one.
	LoginQR []byte
}

// Set records the connection going on or off at now, in state's words, and
// lastErr (already redacted; "" keeps the error shown before). It reports
// whether the transport just came online: the moment to wake the outbox.
func (s *TransportStatus) Set(on bool, state string, now time.Time, lastErr string) (cameOnline bool) {
	changed := s.Online != on
	if changed {
		s.Online, s.Since = on, now
	}
	s.State = state
	if lastErr != "" {
		s.LastError = lastErr
	}
	return on && changed
}

// Outcome is what became of a message a transport failed to deliver.
type Outcome int

// The outcomes of a failed delivery.
const (
	// NotSent: the message certainly did not arrive, and trying again later can
	// help (offline, throttled, the connection failed before the request left).
	NotSent Outcome = iota
	// RefusedOutcome: the message certainly did not arrive, and the platform
	// refused it: the same message will not fare better.
	RefusedOutcome
	// UncertainOutcome: the request left and no answer came (a timeout, a
	// connection lost mid-request): the message may have arrived.
	UncertainOutcome
)

// DeliveryError is a failed delivery with its outcome.
type DeliveryError struct {
	Outcome Outcome
	// RetryAfter, when set, is how long the platform asked the sender to wait.
	RetryAfter time.Duration
	// Held marks a message whose way out is not there yet (钉钉 before the
	// group is known): it waits, and the messages behind it that go another
	// way (answers in private, notices to the admins) are not held up.
	Held bool
	Err  error
}

func (e *DeliveryError) Error() string {
	switch e.Outcome {
	case RefusedOutcome:
		return fmt.Sprintf("refused: %v", e.Err)
	case UncertainOutcome:
		return fmt.Sprintf("outcome unknown: %v", e.Err)
	default:
		return fmt.Sprintf("not sent (retryable): %v", e.Err)
	}
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// Retryable marks err as a failure where the message did not arrive and a later
// try can help; wait, if not zero, is how long the platform asked to wait.
func Retryable(err error, wait time.Duration) error {
	return &DeliveryError{Outcome: NotSent, RetryAfter: wait, Err: err}
}

// Held marks err as a message that cannot go until its route exists; it
// waits (wait, if not zero, between tries) without holding up the others.
func Held(err error, wait time.Duration) error {
	return &DeliveryError{Outcome: NotSent, RetryAfter: wait, Held: true, Err: err}
}

// Refused marks err as the platform refusing this message.
func Refused(err error) error { return &DeliveryError{Outcome: RefusedOutcome, Err: err} }

// Uncertain marks err as a send whose request left with no answer.
func Uncertain(err error) error { return &DeliveryError{Outcome: UncertainOutcome, Err: err} }

// ErrOffline is a transport's answer while it has no connection.
var ErrOffline = errors.New("not connected")

// OutcomeOf classifies a delivery error; began says whether the transport had
// called begin, after which an unclassified error may have let the message out.
func OutcomeOf(err error, began bool) (Outcome, time.Duration) {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Outcome, de.RetryAfter
	}
	if began {
		return UncertainOutcome, 0
	}
	return NotSent, 0
}

// HandleInOrder runs handle on each item of work in the order it came until
// stop is closed, then on what is left within drain: the transports hand
// messages over in order, and a stop must not drop those already taken from
// the platform (acknowledged, on 钉钉 and 企业微信). Once stop is closed, the
// items are handled with the drain's context, not ctx (which a stop has
// usually cancelled).
func HandleInOrder[T any](ctx context.Context, work <-chan T, stop <-chan struct{}, drain time.Duration, handle func(context.Context, T)) {
	drainAll := func(first []T) {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
		defer cancel()
		for _, item := range first {
			handle(dctx, item)
		}
		for {
			select {
			case item := <-work:
				handle(dctx, item)
			default:
				return
			}
		}
	}
	for {
		select {
		case <-stop:
			drainAll(nil)
			return
		case item := <-work:
			select {
			case <-stop: // both were ready: the item is the drain's first
				drainAll([]T{item})
				return
			default:
				handle(ctx, item)
			}
		}
	}
}
