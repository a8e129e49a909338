package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestGroupCommit(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "c.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err })
	c := &committer{db: db}
	bad := errors.New("refused")
	var wg sync.WaitGroup
	errs := make([]error, 400)
	for i := range errs {
		wg.Go(func() {
			errs[i] = c.update(func(tx *bolt.Tx) error {
				if i%50 == 7 {
					tx.Bucket([]byte("b")).Put([]byte("never"), nil) // rolled back with the error
					return fmt.Errorf("call %d: %w", i, bad)
				}
				return tx.Bucket([]byte("b")).Put(fmt.Appendf(nil, "%03d", i), nil)
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if want := i%50 == 7; errors.Is(err, bad) != want || (!want && err != nil) {
			t.Errorf("call %d: %v", i, err)
		}
	}
	db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("b"))
		if n := b.Stats().KeyN; n != 400-8 {
			t.Errorf("%d keys committed, want %d", n, 400-8)
		}
		if b.Get([]byte("never")) != nil {
			t.Error("a failed call's write was kept")
		}
		return nil
	})
	if c.leading || len(c.queue) != 0 {
		t.Errorf("left leading=%v with %d queued", c.leading, len(c.queue))
	}
}

// TestGroupCommitSharesACommit holds a commit open while 16 callers come:
// they wait, the next commit takes them all in one transaction, and each
// returns only once its own write is committed (a fresh read sees it).
func TestGroupCommitSharesACommit(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "c.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	c := &committer{db: db}
	put := func(tx *bolt.Tx, key string) error { return tx.Bucket([]byte("b")).Put([]byte(key), nil) }
	committed := func(key string) bool {
		var ok bool
		db.View(func(tx *bolt.Tx) error { ok = tx.Bucket([]byte("b")).Get([]byte(key)) != nil; return nil })
		return ok
	}

	inside, release := make(chan struct{}), make(chan struct{})
	var leaderTx int
	leaderDone := make(chan error, 1)
	go func() {
		leaderDone <- c.update(func(tx *bolt.Tx) error {
			leaderTx = tx.ID()
			close(inside)
			<-release
			return put(tx, "leader")
		})
	}()
	<-inside

	const callers = 16
	txs := make([]int, callers)
	seen := make([]bool, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			key := fmt.Sprint("caller", i)
			errs[i] = c.update(func(tx *bolt.Tx) error { txs[i] = tx.ID(); return put(tx, key) })
			seen[i] = committed(key)
		})
	}
	// Every caller queued behind the open commit before it ends.
	for {
		c.mu.Lock()
		n := len(c.queue)
		c.mu.Unlock()
		if n == callers {
			break
		}
		runtime.Gosched()
	}
	if committed("leader") {
		t.Fatal("the held commit is visible before it ended")
	}
	close(release)
	if err := <-leaderDone; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Errorf("caller %d: %v", i, errs[i])
		}
		if !seen[i] {
			t.Errorf("caller %d returned before its write was committed", i)
		}
		if txs[i] != txs[0] || txs[i] == leaderTx {
			t.Errorf("caller %d committed in transaction %d; want all %d callers in one, after the leader's %d", i, txs[i], callers, leaderTx)
		}
	}
}
