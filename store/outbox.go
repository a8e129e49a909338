package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
)

// Enqueue implements bot.OutboxStore: in one transaction it records keys in
// the sent-log and queues msgs. Keys already there are left as they are; when
// every key is (and there is one at least), it reports false and queues nothing.
func (s *DB) Enqueue(keys []string, msgs []bot.Outgoing, at time.Time) (bool, error) {
	first := true
	err := s.commits.solo(func(tx *bolt.Tx) error {
		var fresh []string
		log := tx.Bucket(bucketSent)
		for _, key := range keys {
			if log.Get([]byte(key)) != nil {
				continue
			}
			if err := putSent(log, key, at, "queued"); err != nil {
				return err
			}
			fresh = append(fresh, key)
		}
		if len(keys) > 0 && len(fresh) == 0 {
			first = false
			return nil
		}
		return queue(tx.Bucket(bucketOutbox), fresh, msgs, at)
	})
	if err != nil {
		return false, fmt.Errorf("queue message: %w", err)
	}
	return first, nil
}

// EnqueueReceipt implements bot.ReceiptStore: msgs are queued (as Enqueue
// with no key queues them) and the unit's receipt level recorded, in one
// transaction.
func (s *DB) EnqueueReceipt(msgs []bot.Outgoing, at time.Time, r bot.ReceiptMark) error {
	err := s.commits.solo(func(tx *bolt.Tx) error {
		if err := queue(tx.Bucket(bucketOutbox), nil, msgs, at); err != nil {
			return err
		}
		return tx.Bucket(bucketReceipts).Put(unitKey(r.Task, r.Period, r.Unit), []byte{byte(r.Level)})
	})
	if err != nil {
		return fmt.Errorf("queue the receipt of %s: %w", r.Unit, err)
	}
	return nil
}

var _ bot.ReceiptStore = (*DB)(nil)

// EnqueueSeen implements bot.SeenStore: unless msgID was recorded before,
// it is recorded as seen and msgs are queued (as Enqueue with no key queues
// them), in one transaction.
func (s *DB) EnqueueSeen(msgID string, msgs []bot.Outgoing, at time.Time) (bool, error) {
	first, err := s.recordSeen(msgID, at, func(tx *bolt.Tx) error {
		return queue(tx.Bucket(bucketOutbox), nil, msgs, at)
	})
	if err != nil {
		return false, fmt.Errorf("queue the answer to %s: %w", msgID, err)
	}
	return first, nil
}

var _ bot.SeenStore = (*DB)(nil)

// queue appends msgs to the outbox b, after everything queued before.
func queue(b *bolt.Bucket, keys []string, msgs []bot.Outgoing, at time.Time) error {
	for _, m := range msgs {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		v, err := json.Marshal(bot.OutboxItem{Seq: seq, Keys: keys, Msg: m, Queued: at, State: bot.Queued})
		if err != nil {
			return err
		}
		if err := b.Put(u64(seq), v); err != nil {
			return err
		}
	}
	return nil
}

// Outbox implements bot.OutboxStore: the queued items, oldest first.
func (s *DB) Outbox() ([]bot.OutboxItem, error) {
	var out []bot.OutboxItem
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			it, err := decodeItem(v)
			if err != nil {
				return err
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
	return s.commits.solo(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		v := b.Get(u64(seq))
		if v == nil {
			return fmt.Errorf("outbox item %d: gone", seq)
		}
		it, err := decodeItem(v)
		if err != nil {
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
// outbox, the messages of then are queued after everything else (as Enqueue
// with no key queues them) and, if the item was the last of its event, the
// sent-log says how it ended. Closing an item and what must follow it are one
// step, so a crash cannot keep the one and lose the other. Done on an item
// already gone queues nothing: a repeated Done does not repeat its follow-ups.
func (s *DB) Done(seq uint64, at time.Time, note string, then []bot.Outgoing) error {
	return s.commits.solo(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		v := b.Get(u64(seq))
		if v == nil {
			return nil
		}
		it, err := decodeItem(v)
		if err != nil {
			return err
		}
		if err := b.Delete(u64(seq)); err != nil {
			return err
		}
		if err := queue(b, nil, then, at); err != nil {
			return err
		}
		if len(it.Keys) == 0 {
			return nil
		}
		// Other parts of the same event still queued: the sent-log waits for the last.
		open := map[string]bool{}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if other, err := decodeItem(v); err == nil {
				for _, key := range other.Keys {
					open[key] = true
				}
			}
		}
		for _, key := range it.Keys {
			if !open[key] {
				if err := putSent(tx.Bucket(bucketSent), key, at, note); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// storedItem reads outbox items as schema 2 wrote them too: one Key.
type storedItem struct {
	bot.OutboxItem
	Key string `json:",omitempty"`
}

func decodeItem(v []byte) (bot.OutboxItem, error) {
	var it storedItem
	if err := json.Unmarshal(v, &it); err != nil {
		return bot.OutboxItem{}, fmt.Errorf("decode outbox item: %w", err)
	}
	if it.Key != "" && len(it.Keys) == 0 {
		it.Keys = []string{it.Key}
	}
	return it.OutboxItem, nil
}
