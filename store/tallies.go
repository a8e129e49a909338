package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
)

// addTally counts a submission in or out of its unit's tally, in tx.
func addTally(tx *bolt.Tx, sub bot.Submission, sign int) error {
	b := tx.Bucket(bucketTallies)
	key := unitKey(sub.Task, sub.Period, sub.Unit)
	var t bot.Tally
	if v := b.Get(key); v != nil {
		if err := decodeTally(v, &t); err != nil {
			return err
		}
	}
	t.Add(sub, sign)
	return b.Put(key, encodeTally(t))
}

// Tallies are read a thousand at a time by roll-calls: a compact binary form,
// version byte 1, then Items, LateItems, Last (unix seconds) and, for each
// material of bot.Materials, its all and on-time counts, as varints.

func encodeTally(t bot.Tally) []byte {
	out := []byte{1}
	out = binary.AppendVarint(out, int64(t.Items))
	out = binary.AppendVarint(out, int64(t.LateItems))
	out = binary.AppendVarint(out, t.Last.Unix())
	for i := range bot.Materials {
		out = binary.AppendVarint(out, int64(t.All[i]))
		out = binary.AppendVarint(out, int64(t.OnTime[i]))
	}
	return out
}

func decodeTally(v []byte, t *bot.Tally) error {
	if len(v) > 0 && v[0] == '{' {
		return json.Unmarshal(v, t) // written before the binary form
	}
	if len(v) == 0 || v[0] != 1 {
		return fmt.Errorf("decode tally: unknown form")
	}
	v = v[1:]
	next := func() int64 {
		n, k := binary.Varint(v)
		if k <= 0 {
			return 0
		}
		v = v[k:]
		return n
	}
	t.Items, t.LateItems = int(next()), int(next())
	if last := next(); last > 0 {
		t.Last = time.Unix(last, 0)
	}
	for i := range bot.Materials {
		t.All[i], t.OnTime[i] = int(next()), int(next())
	}
	return nil
}

// addTallies is what x and y count together.
func addTallies(x, y bot.Tally) bot.Tally {
	for i := range x.All {
		x.All[i] += y.All[i]
		x.OnTime[i] += y.OnTime[i]
	}
	x.Items += y.Items
	x.LateItems += y.LateItems
	if y.Last.After(x.Last) {
		x.Last = y.Last
	}
	return x
}

// retally counts every live submission afresh.
func retally(tx *bolt.Tx) error {
	b := tx.Bucket(bucketTallies)
	if err := b.ForEach(func(k, _ []byte) error { return b.Delete(k) }); err != nil {
		return err
	}
	return tx.Bucket(bucketSubs).ForEach(func(k, v []byte) error {
		var sub bot.Submission
		if err := json.Unmarshal(v, &sub); err != nil {
			return err
		}
		if sub.Withdrawn {
			return nil
		}
		return addTally(tx, sub, 1)
	})
}

// EachTally implements bot.ReportSource: one prefix scan, each tally decoded
// into the same value, nothing kept.
func (s *DB) EachTally(task string, period int, fn func(unit []byte, t *bot.Tally)) error {
	prefix := periodPrefix(task, period)
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketTallies).Cursor()
		var t bot.Tally
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			t = bot.Tally{}
			if err := decodeTally(v, &t); err != nil {
				return err
			}
			fn(k[len(prefix):], &t)
		}
		return nil
	})
}

// UnitTally implements bot.ReportSource.
func (s *DB) UnitTally(task string, period int, unit string) (bot.Tally, error) {
	var t bot.Tally
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketTallies).Get(unitKey(task, period, unit)); v != nil {
			return decodeTally(v, &t)
		}
		return nil
	})
	return t, err
}
