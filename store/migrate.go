package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
)

// Adoption gives data filed under bare task ids (schema 2, or a campaign
// whose file had no id yet) to one campaign.
type Adoption struct {
	// Prefix is the campaign's key prefix (schedules.Schedule.KeyPrefix); ""
	// leaves the task data where it is, for a campaign without an id.
	Prefix string
	// Tasks are the ids of the campaign's tasks: bare data of other ids stays.
	Tasks map[string]bool
	// SentKeys renames sent-log keys (schedules.Schedule.LegacyKeys).
	SentKeys map[string]string
}

// taskBuckets are keyed task 0 period unit…; by_period is handled on its own,
// since its submissions name their task too.
var taskBuckets = [][]byte{bucketTallies, bucketMarks, bucketReceipts}

// bareTask is the task part of a task-keyed entry when it names no campaign.
func bareTask(k []byte) (string, bool) {
	i := bytes.IndexByte(k, 0)
	if i <= 0 || bytes.IndexByte(k[:i], '/') >= 0 {
		return "", false
	}
	return string(k[:i]), true
}

// BareTasks lists the task ids that hold data under no campaign.
func (s *DB) BareTasks() ([]string, error) {
	found := map[string]bool{}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range append([][]byte{bucketByPeriod}, taskBuckets...) {
			b := tx.Bucket(name)
			if b == nil {
				continue
			}
			// Keys sort by task: one seek past each task's range.
			c := b.Cursor()
			for k, _ := c.First(); k != nil; {
				task, ok := bareTask(k)
				i := bytes.IndexByte(k, 0)
				if ok {
					found[task] = true
				}
				if i < 0 {
					k, _ = c.Next()
					continue
				}
				k, _ = c.Seek(append(bytes.Clone(k[:i]), 1))
			}
		}
		return nil
	})
	out := make([]string, 0, len(found))
	for t := range found {
		out = append(out, t)
	}
	sort.Strings(out)
	return out, err
}

// BareSpan is when the first and the last submission under bare task ids
// came; zero times when there is none.
func (s *DB) BareSpan() (first, last time.Time, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		var lo, hi []byte
		c := tx.Bucket(bucketByPeriod).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if _, ok := bareTask(k); !ok || len(k) < 8 {
				continue
			}
			seq := k[len(k)-8:]
			if lo == nil || bytes.Compare(seq, lo) < 0 {
				lo = bytes.Clone(seq)
			}
			if hi == nil || bytes.Compare(seq, hi) > 0 {
				hi = bytes.Clone(seq)
			}
		}
		if lo == nil {
			return nil
		}
		a, err := getSub(tx, lo)
		if err != nil || a == nil {
			return err
		}
		b, err := getSub(tx, hi)
		if err != nil || b == nil {
			return err
		}
		first, last = a.At, b.At
		return nil
	})
	return first, last, err
}

// Adopt moves the bare data of a's tasks under a.Prefix and renames the
// sent-log's and the outbox's keys, all in one transaction: a crash leaves the
// data all where it was or all moved. It returns how many entries moved.
func (s *DB) Adopt(a Adoption) (moved int, err error) {
	err = s.commits.solo(func(tx *bolt.Tx) error {
		moved = 0
		if a.Prefix != "" {
			n, err := adoptSubmissions(tx, a)
			if err != nil {
				return err
			}
			moved += n
			if err := addBareTallies(tx, a); err != nil {
				return err
			}
			for _, name := range taskBuckets {
				n, err := rekey(tx.Bucket(name), func(k []byte) []byte {
					if task, ok := bareTask(k); ok && a.Tasks[task] {
						return append([]byte(a.Prefix), k...)
					}
					return nil
				})
				if err != nil {
					return err
				}
				moved += n
			}
		}
		n, err := rekey(tx.Bucket(bucketSent), func(k []byte) []byte {
			if to, ok := a.SentKeys[string(k)]; ok {
				return []byte(to)
			}
			return nil
		})
		if err != nil {
			return err
		}
		moved += n
		ob := tx.Bucket(bucketOutbox)
		return ob.ForEach(func(k, v []byte) error {
			it, err := decodeItem(v)
			if err != nil {
				return err
			}
			changed := false
			for i, key := range it.Keys {
				if to, ok := a.SentKeys[key]; ok {
					it.Keys[i], changed = to, true
				}
			}
			if !changed {
				return nil
			}
			nv, err := json.Marshal(it)
			if err != nil {
				return err
			}
			moved++
			return ob.Put(k, nv)
		})
	})
	if err != nil {
		return 0, fmt.Errorf("move data to campaign %q: %w", a.Prefix, err)
	}
	return moved, nil
}

// adoptSubmissions moves the index entries of bare tasks and rewrites their
// submissions' task.
func adoptSubmissions(tx *bolt.Tx, a Adoption) (int, error) {
	subs := tx.Bucket(bucketSubs)
	return rekey(tx.Bucket(bucketByPeriod), func(k []byte) []byte {
		task, ok := bareTask(k)
		if !ok || !a.Tasks[task] {
			return nil
		}
		return append([]byte(a.Prefix), k...)
	}, func(k []byte) error {
		seq := k[len(k)-8:]
		sub, err := getSub(tx, seq)
		if err != nil || sub == nil {
			return err
		}
		sub.Task = a.Prefix + sub.Task
		v, err := json.Marshal(sub)
		if err != nil {
			return err
		}
		return subs.Put(seq, v)
	})
}

// addBareTallies adds a unit's bare tally of a period to the campaign's own,
// where it has one: rekey keeps the campaign's entry, and the submissions of
// both now file under the campaign. Marks and receipts are the campaign's own.
func addBareTallies(tx *bolt.Tx, a Adoption) error {
	b := tx.Bucket(bucketTallies)
	type sum struct{ k, v []byte }
	var sums []sum
	err := b.ForEach(func(k, v []byte) error {
		if task, ok := bareTask(k); !ok || !a.Tasks[task] {
			return nil
		}
		to := append([]byte(a.Prefix), k...)
		own := b.Get(to)
		if own == nil {
			return nil
		}
		var bare, mine bot.Tally
		if err := decodeTally(v, &bare); err != nil {
			return err
		}
		if err := decodeTally(own, &mine); err != nil {
			return err
		}
		sums = append(sums, sum{to, encodeTally(addTallies(mine, bare))})
		return nil
	})
	if err != nil {
		return err
	}
	for _, s := range sums {
		if err := b.Put(s.k, s.v); err != nil {
			return err
		}
	}
	return nil
}

// rekey moves each entry of b for which to returns a new key (nil: stays),
// calling each of also with the old key first. Keys are collected before
// anything moves: bbolt's cursors do not survive writes to their bucket.
func rekey(b *bolt.Bucket, to func(k []byte) []byte, also ...func(k []byte) error) (int, error) {
	type move struct{ from, to, v []byte }
	var moves []move
	err := b.ForEach(func(k, v []byte) error {
		if nk := to(k); nk != nil && !bytes.Equal(nk, k) {
			moves = append(moves, move{bytes.Clone(k), nk, bytes.Clone(v)})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, m := range moves {
		for _, f := range also {
			if err := f(m.from); err != nil {
				return 0, err
			}
		}
		if err := b.Delete(m.from); err != nil {
			return 0, err
		}
		if b.Get(m.to) != nil {
			continue // the campaign has its own entry already: it wins
		}
		if err := b.Put(m.to, m.v); err != nil {
			return 0, err
		}
	}
	return len(moves), nil
}
