package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
)

// SetMark implements bot.Store.
func (s *DB) SetMark(task string, period int, unit string, m bot.Mark) error {
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.commits.solo(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMarks).Put(unitKey(task, period, unit), v)
	})
}

// Marks implements bot.Store.
func (s *DB) Marks(task string, period int) (map[string]bot.Mark, error) {
	out := map[string]bot.Mark{}
	prefix := periodPrefix(task, period)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketMarks).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var m bot.Mark
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("decode mark: %w", err)
			}
			out[string(k[len(prefix):])] = m
		}
		return nil
	})
	return out, err
}

// Receipt implements bot.Store.
func (s *DB) Receipt(task string, period int, unit string) (int, error) {
	var level int
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketReceipts).Get(unitKey(task, period, unit)); len(v) == 1 {
			level = int(v[0])
		}
		return nil
	})
	return level, err
}

// SetReceipt implements bot.Store.
func (s *DB) SetReceipt(task string, period int, unit string, level int) error {
	return s.commits.solo(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketReceipts).Put(unitKey(task, period, unit), []byte{byte(level)})
	})
}
