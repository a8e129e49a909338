// Package bot is reportbot's domain: it attributes what members post to units,
// tasks and periods, decides what counts as a report, answers commands, and
// composes receipts, reminders, nudges and roll-calls. It talks to the group
// through the Chat interface and keeps everything through the Store interface;
// adapters (wechat, console, store) implement those at the edge.
package bot

import (
	"context"
	"io"
	"time"

	"reportbot/schedules"
)

// Submission is one stored message attributed to a unit, a task and a period.
type Submission struct {
	// Seq is assigned by the store, increasing in the order of arrival.
	Seq uint64
	// MsgID is the chat's id of the message, for deduplication and recalls.
	MsgID  string
	Unit   string
	Task   string
	Period int
	// Member is the sender's group display name when they sent it.
	Member string
	At     time.Time
	Kind   schedules.Material
	// Text is the message's text; for media it is empty.
	Text string
	// FileName is the original name of a file or video.
	FileName string
	// Blob is the sha256 (hex) of the media's content in the store.
	Blob string
	Size int64
	// Images are the pictures inside a Word file: they count toward an
	// image requirement (the 汇编 shows them inside the unit's Word content).
	Images int `json:",omitempty"`
	// Late is set when the submission counted for a period after its deadline.
	Late bool
	// Withdrawn is set when the member recalled (撤回) the message.
	Withdrawn bool
}

// Status is a unit's report status for one period.
type Status string

// The report statuses, as roll-calls show them.
const (
	Reported Status = "reported"
	Partial  Status = "partial"
	Late     Status = "late"
	Missing  Status = "missing"
	Exempt   Status = "exempt"
)

// Label is the status's word in roll-calls.
func (s Status) Label() string {
	switch s {
	case Reported:
		return "已报"
	case Partial:
		return "部分"
	case Late:
		return "迟报"
	case Exempt:
		return "免报"
	default:
		return "未报"
	}
}

// Mark is a coordinator's decision about a unit's period: reported or exempt.
type Mark struct {
	Status Status
	By     string
	At     time.Time
}

// Receipt levels: what the unit has been told about a period so far.
const (
	ReceiptNone     = 0
	ReceiptPartial  = 1
	ReceiptComplete = 2
)

// Store is what the domain needs kept. The store package implements it over bbolt.
type Store interface {
	schedules.SentLog
	// AddSubmission stores s (and its media, whose sha256 must be s.Blob) and sets
	// s.Seq. It reports dup, storing nothing, when a message with s.MsgID is stored already.
	AddSubmission(s *Submission, media []byte) (dup bool, err error)
	// Withdraw marks the submission of a recalled message; nil if there is none.
	Withdraw(msgID string) (*Submission, error)
	// PeriodSubmissions lists a period's submissions, grouped by unit, in arrival order.
	PeriodSubmissions(task string, period int) ([]Submission, error)
	// UnitSubmissions is one unit's part of a period, read on its own.
	UnitSubmissions(task string, period int, unit string) ([]Submission, error)
	// EachTally and UnitTally count a period's submissions by unit, kept in
	// step with every submission and recall (see ReportSource).
	EachTally(task string, period int, fn func(unit []byte, t *Tally)) error
	UnitTally(task string, period int, unit string) (Tally, error)
	// LastSubmission is the member's latest submission, or nil.
	LastSubmission(member string) (*Submission, error)
	// Binding is the unit a member bound themselves to, or "".
	Binding(who Member) (string, error)
	Bind(who Member, unit string) error
	// BoundMembers lists the members bound to a unit.
	BoundMembers(unit string) ([]Member, error)
	SetMark(task string, period int, unit string, m Mark) error
	Marks(task string, period int) (map[string]Mark, error)
	Receipt(task string, period int, unit string) (int, error)
	SetReceipt(task string, period int, unit string, level int) error
	// Submission is the submission of a chat message, or nil.
	Submission(msgID string) (*Submission, error)
	// Reassign has a submission count for another task and period.
	Reassign(msgID, task string, period int, late bool) (*Submission, error)
	// AddPending keeps what a member the bot cannot place sent, until they
	// bind (dup: seen before, nothing kept); TakePending hands it over, oldest
	// first, and forgets it. member is the sender's id (its name when it has none).
	AddPending(member string, s *Submission, media []byte) (dup bool, err error)
	TakePending(member string) ([]Submission, error)
	// HasBlob reports whether media with this sha256 is stored.
	HasBlob(sum string) (bool, error)
	// Seen reports whether a chat message id was recorded: a hot login can
	// replay messages the bot already handled.
	Seen(msgID string) (bool, error)
	// FirstSeen records a message id and reports whether it is new.
	// AddSubmission records its message's id itself, in the same transaction.
	FirstSeen(msgID string, at time.Time) (bool, error)
}

// Message is what an adapter receives from the chat.
type Message struct {
	// ID is the chat's message id; messages are deduplicated by it.
	ID string
	At time.Time
	// Sender is who sent it.
	Sender Member
	// Private is set for a message to the bot alone rather than to the group.
	Private bool
	// ToBot is set when the message @mentions the bot.
	ToBot bool
	Kind  schedules.Material
	Text  string
	// FileName is the name of a file or video as sent.
	FileName string
	// Size is the media's size as the chat announces it, or -1 when unknown.
	Size int64
	// Open reads the media; a stop (ctx) cancels its download and retries.
	Open func(ctx context.Context) (io.ReadCloser, error)
	// Quote is the text of the message this one replies to by quoting it,
	// where the platform shows that (钉钉's quote-reply); "" otherwise.
	Quote string
	// Recalls is the id of the message this one withdraws (撤回), if it is a recall.
	Recalls string

	// owed, on a question being answered, is its id still to be recorded as
	// seen: with the answer, in the transaction that queues it (see SeenSender).
	owed *owedMark
}

// owedMark is a question's message id, recorded as seen with the first
// message that answers it.
type owedMark struct {
	id   string
	done bool
}

// Outgoing is a text the bot sends.
type Outgoing struct {
	// Purpose says what the message is for.
	Purpose Purpose `json:",omitempty"`
	// To is the member a private message is for; zero for the group.
	To   Member
	Text string
	// Mentions are the members @mentioned in Text, each written "@" + Name;
	// the transport renders them its own way when it sends. A member listed
	// here but not written in Text is the message's addressee (the member a
	// receipt answers): a transport that can notify people addresses it to
	// them its own way, the others leave the text as it is.
	Mentions []Member
	// ToAdmins sends the text privately to each admin instead (To is ignored).
	ToAdmins bool
	// File is a file to send (under its own name) instead of the text.
	File string
}

// Chat is what the bot needs from a chat adapter.
type Chat interface {
	// Send delivers one text; the bot has already split long texts.
	Send(ctx context.Context, m Outgoing) error
	// SendFile delivers a file under its own name, to a member (zero: the group).
	SendFile(ctx context.Context, to Member, path string) error
}
