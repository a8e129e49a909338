package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
)

// pruneBatch bounds the keys one pruning transaction looks at. bbolt lets
// one writer in at a time: a transaction over a year's keys would hold the
// members' reports back for as long as it runs, and 500 keys take about a
// millisecond.
const pruneBatch = 500

// Pruned counts what Prune deleted.
type Pruned struct {
	Seen, Sent int
}

// Prune deletes the ids of messages first seen before seenBefore and the
// sent-log entries recorded before sentBefore, a few hundred keys per
// transaction. The caller chooses the times so that nothing deleted can
// matter any more (see schedules.Set.RetainSince): a replay of a message
// that old is not expected, and the scheduler asks the sent-log only about
// events after its cursor. Entries that an outbox item still names are kept
// whatever their age: the outbox's Done records how they ended.
func (s *DB) Prune(seenBefore, sentBefore time.Time) (Pruned, error) {
	var p Pruned
	n, err := s.pruneBucket(bucketSeen, nil, func(v []byte) (time.Time, bool) {
		var at time.Time
		return at, at.UnmarshalText(v) == nil
	}, seenBefore)
	p.Seen = n
	if err != nil {
		return p, fmt.Errorf("prune message ids: %w", err)
	}
	queued := map[string]bool{}
	items, err := s.Outbox()
	if err != nil {
		return p, fmt.Errorf("prune the sent-log: %w", err)
	}
	for _, it := range items {
		for _, k := range it.Keys {
			queued[k] = true
		}
	}
	n, err = s.pruneBucket(bucketSent, queued, func(v []byte) (time.Time, bool) {
		var r sentRecord
		return r.At, json.Unmarshal(v, &r) == nil && !r.At.IsZero()
	}, sentBefore)
	p.Sent = n
	if err != nil {
		return p, fmt.Errorf("prune the sent-log: %w", err)
	}
	return p, nil
}

// pruneBucket deletes the keys of bucket name whose value's time (read by
// when) is before cutoff, pruneBatch keys per transaction. A value it cannot
// read is kept: not knowing its age, it cannot know it is old.
func (s *DB) pruneBucket(name []byte, keep map[string]bool, when func([]byte) (time.Time, bool), cutoff time.Time) (int, error) {
	deleted := 0
	var after []byte // the last key looked at; the next transaction starts past it
	for {
		done := false
		err := s.commits.solo(func(tx *bolt.Tx) error {
			b := tx.Bucket(name)
			c := b.Cursor()
			k, v := c.First()
			if after != nil {
				k, v = c.Seek(after)
				if k != nil && bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			// Deleted after the walk: bbolt's cursors skip keys when their
			// bucket changes under them.
			var old [][]byte
			for i := 0; k != nil && i < pruneBatch; k, v = c.Next() {
				i++
				after = bytes.Clone(k)
				if keep[string(k)] {
					continue
				}
				if at, ok := when(v); ok && at.Before(cutoff) {
					old = append(old, after)
				}
			}
			done = k == nil
			for _, k := range old {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			deleted += len(old)
			return nil
		})
		if err != nil || done {
			return deleted, err
		}
	}
}

// BucketUsage is what one bucket holds: its keys (those of nested buckets
// included) and the bytes of the pages they take.
type BucketUsage struct {
	Name  string
	Keys  int
	Bytes int64
}

// Usage lists every bucket's keys and bytes, for the year-long tests and the
// maintenance log.
func (s *DB) Usage() ([]BucketUsage, error) {
	var out []BucketUsage
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			st := b.Stats()
			out = append(out, BucketUsage{Name: string(name), Keys: st.KeyN,
				Bytes: int64(st.BranchInuse + st.LeafInuse + st.InlineBucketInuse)})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("measure the buckets: %w", err)
	}
	return out, nil
}

// MediaBuckets are the buckets holding the materials themselves and what is
// made from them; Usage's other buckets are the bot's bookkeeping.
var MediaBuckets = []string{string(bucketMedia), string(bucketMediaByID), string(bucketBlobs),
	string(bucketThumbs), string(bucketPrints)}

// SubmissionBuckets hold the submissions and their indexes: they grow with
// what members send, as the media do, until the campaign is archived.
var SubmissionBuckets = []string{string(bucketSubs), string(bucketByPeriod), string(bucketMsgIDs)}

// Removed counts what RemoveTasks deleted.
type Removed struct {
	Submissions int
	// Media is the number of distinct media items deleted; Bytes their size.
	Media int
	Bytes int64
}

// RemoveTasks deletes the submissions filed under the task keys given, the
// media only they use and the receipts (which serve only periods still
// taking reports), in transactions of a few hundred keys; the tallies and
// marks stay, so the campaign's progress can still be read. It is the second half of archiving a finished campaign, once its
// materials are safe in a ZIP: the campaign takes no reports any more, so
// nothing is added under its keys meanwhile. A crash halfway leaves the rest
// for the next call.
func (s *DB) RemoveTasks(tasks []string) (Removed, error) {
	var r Removed
	type doomed struct {
		seq   []byte
		index []byte
		sub   bot.Submission
	}
	var subs []doomed
	blobs := map[string]bool{} // media of the doomed submissions: true while no other uses it
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketByPeriod).Cursor()
		gone := map[string]bool{}
		for _, task := range tasks {
			prefix := append([]byte(task), 0)
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				seq := bytes.Clone(k[len(k)-8:])
				sub, err := getSub(tx, seq)
				if err != nil {
					return err
				}
				d := doomed{seq: seq, index: bytes.Clone(k)}
				if sub != nil {
					d.sub = *sub
					if sub.Blob != "" {
						blobs[sub.Blob] = true
					}
				}
				subs = append(subs, d)
				gone[string(seq)] = true
			}
		}
		if len(blobs) == 0 {
			return nil
		}
		// A photo sent for two campaigns is stored once: it stays for the other.
		keepUsed := func(v []byte) error {
			var other bot.Submission
			if err := json.Unmarshal(v, &other); err != nil {
				return fmt.Errorf("decode submission: %w", err)
			}
			if other.Blob != "" && blobs[other.Blob] {
				blobs[other.Blob] = false
			}
			return nil
		}
		if err := tx.Bucket(bucketSubs).ForEach(func(k, v []byte) error {
			if gone[string(k)] {
				return nil
			}
			return keepUsed(v)
		}); err != nil {
			return err
		}
		if p := tx.Bucket(bucketPending); p != nil {
			return p.ForEach(func(_, v []byte) error { return keepUsed(v) })
		}
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("list the submissions to remove: %w", err)
	}
	for len(subs) > 0 {
		batch := subs[:min(pruneBatch, len(subs))]
		subs = subs[len(batch):]
		err := s.commits.solo(func(tx *bolt.Tx) error {
			ids, last := tx.Bucket(bucketMsgIDs), tx.Bucket(bucketLast)
			for _, d := range batch {
				if err := tx.Bucket(bucketByPeriod).Delete(d.index); err != nil {
					return err
				}
				if err := tx.Bucket(bucketSubs).Delete(d.seq); err != nil {
					return err
				}
				if id := []byte(d.sub.MsgID); len(id) > 0 && bytes.Equal(ids.Get(id), d.seq) {
					if err := ids.Delete(id); err != nil {
						return err
					}
				}
				if m := []byte(d.sub.Member); len(m) > 0 && bytes.Equal(last.Get(m), d.seq) {
					if err := last.Delete(m); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return r, fmt.Errorf("remove submissions: %w", err)
		}
		r.Submissions += len(batch)
	}
	for _, task := range tasks {
		prefix := append([]byte(task), 0)
		for {
			n := 0
			err := s.commits.solo(func(tx *bolt.Tx) error {
				b := tx.Bucket(bucketReceipts)
				var keys [][]byte
				c := b.Cursor()
				for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(keys) < pruneBatch; k, _ = c.Next() {
					keys = append(keys, bytes.Clone(k))
				}
				n = len(keys)
				for _, k := range keys {
					if err := b.Delete(k); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return r, fmt.Errorf("remove receipts: %w", err)
			}
			if n < pruneBatch {
				break
			}
		}
	}
	var sums []string
	for sum, alone := range blobs {
		if alone {
			sums = append(sums, sum)
		}
	}
	for len(sums) > 0 {
		// Media are large: fewer of them per transaction.
		batch := sums[:min(pruneBatch/10, len(sums))]
		sums = sums[len(batch):]
		var n int
		var size int64
		err := s.commits.solo(func(tx *bolt.Tx) error {
			n, size = 0, 0
			for _, sum := range batch {
				key := []byte(sum)
				if v := blobIn(tx, sum); v != nil {
					n, size = n+1, size+int64(len(v))
				}
				if seq := tx.Bucket(bucketMediaByID).Get(key); seq != nil {
					if err := tx.Bucket(bucketMedia).DeleteBucket(seq); err != nil && tx.Bucket(bucketMedia).Bucket(seq) != nil {
						return err
					}
					if err := tx.Bucket(bucketMediaByID).Delete(key); err != nil {
						return err
					}
				}
				for _, name := range [][]byte{bucketBlobs, bucketThumbs, bucketPrints} {
					if b := tx.Bucket(name); b != nil {
						if err := b.Delete(key); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			return r, fmt.Errorf("remove media: %w", err)
		}
		r.Media, r.Bytes = r.Media+n, r.Bytes+size
	}
	return r, nil
}
