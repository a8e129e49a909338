package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
)

var bucketOutbox = []byte("outbox") // seq -> JSON bot.OutboxItem

func init() { allBuckets = append(allBuckets, bucketOutbox) }

// Enqueue implements bot.OutboxStore: in one transaction it records key in the
// sent-log (unless key is "" or already there: then it reports false and queues
// nothing) and queues msgs.
func (s *DB) Enqueue(key string, msgs []bot.Outgoing, at time.Time) (bool, error) {
	first := true
	err := s.db.Update(func(tx *bolt.Tx) error {
		if key != "" {
			log := tx.Bucket(bucketSent)
			if log.Get([]byte(key)) != nil {
				first = false
				return nil
			}
			if err := putSent(log, key, at, "queued"); err != nil {
				return err
			}
		}
		out := tx.Bucket(bucketOutbox)
		for _, m := range msgs {
			seq, err := out.NextSequence()
			if err != nil {
				return err
			}
			v, err := json.Marshal(bot.OutboxItem{Seq: seq, Key: key, Msg: m, Queued: at, State: bot.Queued})
			if err != nil {
				return err
			}
			if err := out.Put(u64(seq), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("queue message: %w", err)
	}
	return first, nil
}

func putSent(b *bolt.Bucket, key string, at time.Time, note string) error {
	v, err := json.Marshal(sentRecord{At: at, Note: note})
	if err != nil {
		return err
	}
	return b.Put([]byte(key), v)
}

// Outbox implements bot.OutboxStore: the queued items, oldest first.
func (s *DB) Outbox() ([]bot.OutboxItem, error) {
	var out []bot.OutboxItem
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			var it bot.OutboxItem
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("decode outbox item: %w", err)
			}
			out = append(out, it)
			return nil
		})
	})
	return out, err
}

// SetSending implements bot.OutboxStore: the item is about to go to the chat.
func (s *DB) SetSending(seq uint64) error { return s.setState(seq, bot.Sending) }

// SetQueued puts an item the chat certainly did not deliver back in the queue.
func (s *DB) SetQueued(seq uint64) error { return s.setState(seq, bot.Queued) }

func (s *DB) setState(seq uint64, state bot.OutboxState) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		v := b.Get(u64(seq))
		if v == nil {
			return fmt.Errorf("outbox item %d: gone", seq)
		}
		var it bot.OutboxItem
		if err := json.Unmarshal(v, &it); err != nil {
			return err
		}
		it.State = state
		nv, err := json.Marshal(it)
		if err != nil {
			return err
		}
		return b.Put(u64(seq), nv)
	})
}

// Done implements bot.OutboxStore: in one transaction the item leaves the
// outbox and, if it was the last of its event, the sent-log says how it ended.
func (s *DB) Done(seq uint64, at time.Time, note string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		v := b.Get(u64(seq))
		if v == nil {
			return nil
		}
		var it bot.OutboxItem
		if err := json.Unmarshal(v, &it); err != nil {
			return err
		}
		if err := b.Delete(u64(seq)); err != nil {
			return err
		}
		if it.Key == "" {
			return nil
		}
		// Other parts of the same event still queued: the sent-log waits for the last.
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var other bot.OutboxItem
			if json.Unmarshal(v, &other) == nil && other.Key == it.Key {
				return nil
			}
		}
		return putSent(tx.Bucket(bucketSent), it.Key, at, note)
	})
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
