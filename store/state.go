package store

import (
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
)

// AdapterState is one adapter's small key-value state. Every adapter shares
// the one bucket, its keys prefixed with its name, so that a new transport
// needs no new bucket and no schema change.
type AdapterState struct {
	db      *DB
	adapter string
}

var _ bot.StateStore = (*AdapterState)(nil)

// AdapterState returns the state kept for adapter, a fixed name such as
// "wechat". The name must not contain a NUL byte: that separates it from the
// key, and one containing it could read another adapter's keys.
func (s *DB) AdapterState(adapter string) *AdapterState {
	if strings.ContainsRune(adapter, 0) {
		panic(fmt.Sprintf("store: adapter name %q contains a NUL byte", adapter))
	}
	return &AdapterState{db: s, adapter: adapter}
}

func (a *AdapterState) key(key string) []byte { return []byte(a.adapter + "\x00" + key) }

// Get implements bot.StateStore: the value stored under key, or "" if none.
func (a *AdapterState) Get(key string) (string, error) {
	var v string
	err := a.db.db.View(func(tx *bolt.Tx) error {
		// Absent from a file written before it existed and opened read-only
		// (see checkSchema): nothing is stored there, so every key is absent.
		if b := tx.Bucket(bucketAdapterState); b != nil {
			v = string(b.Get(a.key(key)))
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read %s state %q: %w", a.adapter, key, err)
	}
	return v, nil
}

// Put implements bot.StateStore.
func (a *AdapterState) Put(key, value string) error {
	err := a.db.commits.solo(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAdapterState).Put(a.key(key), []byte(value))
	})
	if err != nil {
		return fmt.Errorf("store %s state %q: %w", a.adapter, key, err)
	}
	return nil
}
