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
	v, err := at.MarshalText()
	if err != nil {
		return false, err
	}
	first := false
	err = s.commits.solo(func(tx *bolt.Tx) error {
		if seenIn(tx, []byte(msgID)) {
			return nil
		}
		first = true
		return tx.Bucket(bucketSeen).Put([]byte(msgID), v)
	})
	if err != nil {
		return false, fmt.Errorf("record message %s: %w", msgID, err)
	}
	return first, nil
}

// seenIn reports whether the message id was recorded in tx: as seen (a
// command, a recall, material kept for a member not placed yet) or as a
// stored submission's id, which is the only mark a submission gets.
func seenIn(tx *bolt.Tx, msgID []byte) bool {
	return tx.Bucket(bucketSeen).Get(msgID) != nil || tx.Bucket(bucketMsgIDs).Get(msgID) != nil
}
