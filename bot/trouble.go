package bot

import (
	"sync"
	"time"
)

// AlertQuiet is how long a fault must stay away, with things working, before
// the admins hear it is over. Shorter, and a full disk that lets a small text
// through between two failed photos reads as fixed and broken again every
// minute (issue 17: 46 admin messages in 8 minutes).
const AlertQuiet = 10 * time.Minute

// Trouble decides when the admins hear about a recurring fault (a store that
// cannot write, a chat connection that keeps dropping, a disk filling up):
// once when it starts, and once when it is over, that is at the first success
// that comes Quiet after the last failure. Failures and successes in between
// are for the log only. The caller passes the time of each event, so a test
// or a fake clock decides what "quiet" means. Safe for concurrent use; the
// zero value is ready, with no quiet period.
type Trouble struct {
	// Quiet is how long after the last failure a success ends the trouble.
	Quiet time.Duration

	mu    sync.Mutex
	down  bool
	since time.Time // the failure that started it
	last  time.Time // the latest failure
	fails int       // failures since it started
}

// Fail records a failure at t. It reports true when the failure starts the
// trouble: the one failure the admins are told about.
func (tr *Trouble) Fail(t time.Time) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.fails++
	if t.After(tr.last) || !tr.down {
		tr.last = t
	}
	if tr.down {
		return false
	}
	tr.down, tr.since, tr.fails = true, t, 1
	return true
}

// OK records a success at t. It reports true when the success ends the
// trouble: nothing failed for Quiet before it.
func (tr *Trouble) OK(t time.Time) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !tr.down || t.Sub(tr.last) < tr.Quiet {
		return false
	}
	tr.down = false
	return true
}

// Untold takes back the announcement that Fail or OK just asked for, when
// it could not be sent (the queue of a full disk refused it): the next
// failure, or success, asks again, so the admins never miss the start of a
// trouble or its end for want of one message.
func (tr *Trouble) Untold() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.down = !tr.down
}

// Down reports whether the trouble has started and not ended.
func (tr *Trouble) Down() bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.down
}

// Summary is when the current or latest trouble started and how many
// failures it counted, for the text that says it is over.
func (tr *Trouble) Summary() (since time.Time, failures int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.since, tr.fails
}
