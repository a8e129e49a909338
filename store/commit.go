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
// goes through here, so that they are counted and so that the free list is
// written only while it is small (see keepFreelist).
func (c *committer) solo(fn func(*bolt.Tx) error) error {
	c.n.Add(1)
	return c.db.Update(func(tx *bolt.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		// Set inside the transaction: bbolt reads it in Commit, under the
		// writers' lock, and nowhere else but Open.
		c.db.NoFreelistSync = !keepFreelist(c.db.NoFreelistSync, c.db.Stats().FreelistInuse, c.db.Info().PageSize)
		return nil
	})
}

// bbolt writes its whole free list at every commit. After 归档 or a
// retention pass removes media, the list names every page those media held
// (300 MB of photos: 77,000 pages, 600 KB), and each small commit then wrote
// it: 11–14 times the CPU without fsync, 2.4–3 times the time with
// (BenchmarkCommitAfterArchive). The pages are reused only as the store grows
// back over them, which takes months. So while the list is longer than
// freelistSkipPages pages the store commits without it, as etcd always does
// (the file's meta then says it has none), and writes it again once reuse
// brings it under freelistKeepPages, and at Close.
// Only a process that dies meanwhile pays: its next open rebuilds the list
// by reading every page of the file (see OpenFile).
const (
	freelistSkipPages = 4
	freelistKeepPages = 1
)

// keepFreelist is whether the next commit writes the free list: inuse is the
// bytes the list would take, as the last commit left it (hysteresis between
// the two bounds, so that a list near one bound does not flap).
func keepFreelist(skipping bool, inuse, pageSize int) bool {
	switch {
	case inuse > freelistSkipPages*pageSize:
		return false
	case inuse <= freelistKeepPages*pageSize:
		return true
	}
	return !skipping
}

// errUnchanged rolls back a transaction that found nothing to do.
var errUnchanged = errors.New("nothing to write")

// saveFreelist writes the free list if the store has been committing
// without it, so that the next open reads it instead of rebuilding it.
func (c *committer) saveFreelist() error {
	err := c.db.Update(func(tx *bolt.Tx) error {
		if !c.db.NoFreelistSync {
			return errUnchanged
		}
		c.db.NoFreelistSync = false
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	c.n.Add(1)
	return err
}
