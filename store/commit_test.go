package store

import (
	"errors"
	"fmt"
	"path/filepath"
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
