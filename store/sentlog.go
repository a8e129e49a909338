package store

import (
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"
)

type sentRecord struct {
	At   time.Time `json:"at"`
	Note string    `json:"note,omitempty"`
}

// MarkSent implements schedules.SentLog.
func (s *DB) MarkSent(key string, at time.Time, note string) (first bool, err error) {
	v, err := json.Marshal(sentRecord{At: at, Note: note})
	if err != nil {
		return false, err
	}
	err = s.commits.solo(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSent)
		if b.Get([]byte(key)) != nil {
			return nil
		}
		first = true
		return b.Put([]byte(key), v)
	})
	return first, err
}

// IsSent implements schedules.SentLog.
func (s *DB) IsSent(key string) (bool, error) {
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketSent).Get([]byte(key)) != nil
		return nil
	})
	return ok, err
}

// Cursor implements schedules.SentLog.
func (s *DB) Cursor() (time.Time, error) {
	var t time.Time
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyCursor); v != nil {
			return t.UnmarshalText(v)
		}
		return nil
	})
	return t, err
}

// SetCursor implements schedules.SentLog.
func (s *DB) SetCursor(t time.Time) error {
	v, err := t.MarshalText()
	if err != nil {
		return err
	}
	return s.commits.solo(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyCursor, v) })
}

func putSent(b *bolt.Bucket, key string, at time.Time, note string) error {
	v, err := json.Marshal(sentRecord{At: at, Note: note})
	if err != nil {
		return err
	}
	return b.Put([]byte(key), v)
}

// SentNote returns how the sent-log records key ("queued", "sent", a reason it
// was skipped), or "" when it is not there.
func (s *DB) SentNote(key string) (string, error) {
	var note string
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSent).Get([]byte(key))
		if v == nil {
			return nil
		}
		var r sentRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		note = r.Note
		if note == "" {
			note = "sent"
		}
		return nil
	})
	return note, err
}
