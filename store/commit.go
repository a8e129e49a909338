package store

import (
	"errors"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// committer commits the writes of concurrent callers together (group commit):
// a caller that finds no commit under way commits at once, alone; callers that
// come while one is under way wait, and the next commit takes all of them. So
// members posting at the same moment share one fsync, and a lone message waits
// for nothing. bbolt's own DB.Batch waits up to 10 ms for company instead,
// which a bot handling one message after another pays on every message.
type committer struct {
	db *bolt.DB
	// n counts the store's write transactions (see DB.Commits).
	n atomic.Uint64

	mu      sync.Mutex
	queue   []*commitCall
	leading bool // a caller is committing, or about to
}

type commitCall struct {
	fn   func(*bolt.Tx) error
	done chan error    // the call's outcome
	lead chan struct{} // this call is to commit the queue next
}

// errTrySolo rolls back a shared transaction in which a caller's function failed.
var errTrySolo = errors.New("a function in a group commit failed")

// update runs fn in a write transaction and returns once it is committed. As
// with DB.Batch, fn may run more than once (when another caller's function
// fails, each is run again on its own), so it must set everything it decides.
func (c *committer) update(fn func(*bolt.Tx) error) error {
	call := &commitCall{fn: fn, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, call)
	if c.leading {
		c.mu.Unlock()
		select {
		case err := <-call.done:
			return err
		case <-call.lead:
			c.mu.Lock()
		}
	} else {
		c.leading = true
	}
	// This call commits everything queued, itself included, then hands the
	// next commit to the first caller that came meanwhile: no caller keeps
	// committing for others after its own write is done.
	batch := c.queue
	c.queue = nil
	c.mu.Unlock()
	c.commit(batch)
	c.mu.Lock()
	if len(c.queue) > 0 {
		c.queue[0].lead <- struct{}{}
	} else {
		c.leading = false
	}
	c.mu.Unlock()
	return <-call.done
}

// commit runs the calls' functions in one transaction and tells each caller
// the outcome. When a function fails, nothing of the shared transaction is
// kept and every function runs again in a transaction of its own, so that
// each caller gets its own error and the others' writes are committed.
func (c *committer) commit(batch []*commitCall) {
	if len(batch) > 1 {
		err := c.solo(func(tx *bolt.Tx) error {
			for _, call := range batch {
				if err := call.fn(tx); err != nil {
					return errTrySolo
				}
			}
			return nil
		})
		if !errors.Is(err, errTrySolo) {
			for _, call := range batch {
				call.done <- err
			}
			return
		}
	}
	for _, call := range batch {
		call.done <- c.solo(call.fn)
	}
}

// solo runs fn in a write transaction of its own: every write of the store
// goes through here, so that they are counted.
func (c *committer) solo(fn func(*bolt.Tx) error) error {
	c.n.Add(1)
	return c.db.Update(fn)
}
