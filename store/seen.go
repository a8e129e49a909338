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
		ok = seenIn(tx, []byte(msgID))
		return nil
	})
	return ok, err
}

// FirstSeen implements bot.Store.
func (s *DB) FirstSeen(msgID string, at time.Time) (bool, error) {
	first, err := s.recordSeen(msgID, at, nil)
	if err != nil {
		return false, fmt.Errorf("record message %s: %w", msgID, err)
	}
	return first, nil
}

// recordSeen records msgID as seen at at, and runs also (if any) in the same
// transaction, unless the id was recorded before: first is false then, and
// nothing is written.
func (s *DB) recordSeen(msgID string, at time.Time, also func(*bolt.Tx) error) (first bool, err error) {
	v, err := at.MarshalText()
	if err != nil {
		return false, err
	}
	err = s.commits.solo(func(tx *bolt.Tx) error {
		if seenIn(tx, []byte(msgID)) {
			return nil
		}
		first = true
		if err := tx.Bucket(bucketSeen).Put([]byte(msgID), v); err != nil {
			return err
		}
		if also == nil {
			return nil
		}
		return also(tx)
	})
	return first, err
}

// seenIn reports whether the message id was recorded in tx: as seen (a
// command, a recall, material kept for a member not placed yet) or as a
// stored submission's id, which is the only mark a submission gets.
func seenIn(tx *bolt.Tx, msgID []byte) bool {
	return tx.Bucket(bucketSeen).Get(msgID) != nil || tx.Bucket(bucketMsgIDs).Get(msgID) != nil
}
