package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
)

// Submission implements bot.Store: the submission stored for a chat message, or nil.
func (s *DB) Submission(msgID string) (*bot.Submission, error) {
	var sub *bot.Submission
	err := s.db.View(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bucketMsgIDs).Get([]byte(msgID))
		if seq == nil {
			return nil
		}
		var err error
		sub, err = getSub(tx, seq)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read submission of %s: %w", msgID, err)
	}
	return sub, nil
}

// AddPending implements bot.Store: material of a member the bot cannot place
// yet, kept (its media too) under the member's id until they bind, and
// recorded as seen in the same transaction. dup is set, storing nothing, for
// a message seen before.
func (s *DB) AddPending(member string, sub *bot.Submission, media []byte) (dup bool, err error) {
	v, err := json.Marshal(sub)
	if err != nil {
		return false, err
	}
	err = s.commits.solo(func(tx *bolt.Tx) error {
		dup = false
		if sub.MsgID != "" && seenIn(tx, []byte(sub.MsgID)) {
			dup = true
			return nil
		}
		if sub.Blob != "" && media != nil && blobIn(tx, sub.Blob) == nil {
			if err := putBlob(tx, sub.Blob, media); err != nil {
				return err
			}
		}
		b := tx.Bucket(bucketPending)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if err := b.Put(append(append([]byte(member), 0), u64(seq)...), v); err != nil {
			return err
		}
		if sub.MsgID == "" {
			return nil
		}
		at, err := sub.At.MarshalText()
		if err != nil {
			return err
		}
		return tx.Bucket(bucketSeen).Put([]byte(sub.MsgID), at)
	})
	if err != nil {
		return false, fmt.Errorf("keep material of %s: %w", member, err)
	}
	return dup, nil
}

// TakePending implements bot.Store: the member's kept material, oldest
// first, removed from the pending list. The caller stores it as submissions;
// a crash in between loses none of the media, which stay in the store.
func (s *DB) TakePending(member string) ([]bot.Submission, error) {
	var out []bot.Submission
	prefix := append([]byte(member), 0)
	err := s.commits.solo(func(tx *bolt.Tx) error {
		out = nil
		b := tx.Bucket(bucketPending)
		var keys [][]byte
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var sub bot.Submission
			if err := json.Unmarshal(v, &sub); err != nil {
				return fmt.Errorf("decode kept material: %w", err)
			}
			out = append(out, sub)
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("take kept material of %s: %w", member, err)
	}
	return out, nil
}
