package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Seen implements bot.Store: whether a message id was recorded, read only.
func (s *DB) Seen(msgID string) (bool, error) {
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketSeen).Get([]byte(msgID)) != nil
		return nil
	})
	return ok, err
}

// FirstSeen implements bot.Store.
func (s *DB) FirstSeen(msgID string, at time.Time) (bool, error) {
	v, err := at.MarshalText()
	if err != nil {
		return false, err
	}
	first := false
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSeen)
		if b.Get([]byte(msgID)) != nil {
			return nil
		}
		first = true
		return b.Put([]byte(msgID), v)
	})
	if err != nil {
		return false, fmt.Errorf("record message %s: %w", msgID, err)
	}
	return first, nil
}
