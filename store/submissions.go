package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
)

// ErrTooLarge is returned for media over Options.MaxBlob.
var ErrTooLarge = errors.New("media too large")

// AddSubmission implements bot.Store.
func (s *DB) AddSubmission(sub *bot.Submission, media []byte) (dup bool, err error) {
	if s.maxBlob > 0 && int64(len(media)) > s.maxBlob {
		return false, fmt.Errorf("store %s: %d bytes: %w", sub.Blob, len(media), ErrTooLarge)
	}
	// The submissions of members posting at the same moment are committed
	// together: one fsync for many, each caller returning only after it. The
	// function may run again (see committer.update): it sets all it decides.
	err = s.commits.update(func(tx *bolt.Tx) error {
		dup = false
		ids := tx.Bucket(bucketMsgIDs)
		if sub.MsgID != "" && ids.Get([]byte(sub.MsgID)) != nil {
			dup = true
			return nil
		}
		subs := tx.Bucket(bucketSubs)
		// Appended under the next sequence number: pages fill completely
		// (bbolt's default is half, for inserts anywhere), so fewer pages
		// split and fewer are written.
		subs.FillPercent = 1
		seq, err := subs.NextSequence()
		if err != nil {
			return err
		}
		sub.Seq = seq
		if sub.Blob != "" && media != nil && blobIn(tx, sub.Blob) == nil {
			if err := putBlob(tx, sub.Blob, media); err != nil {
				return err
			}
		}
		v, err := json.Marshal(sub)
		if err != nil {
			return err
		}
		if err := subs.Put(u64(seq), v); err != nil {
			return err
		}
		idx := append(append(unitKey(sub.Task, sub.Period, sub.Unit), 0), u64(seq)...)
		if err := tx.Bucket(bucketByPeriod).Put(idx, nil); err != nil {
			return err
		}
		if err := addTally(tx, *sub, 1); err != nil {
			return err
		}
		if sub.MsgID != "" {
			// Its id among the submissions' is its mark as seen (see seenIn),
			// in the same transaction: a replay of it is then ignored. A second
			// mark in seen_msgs cost every commit two more pages to write.
			if err := ids.Put([]byte(sub.MsgID), u64(seq)); err != nil {
				return err
			}
		}
		if sub.Member == "" {
			return nil
		}
		return tx.Bucket(bucketLast).Put([]byte(sub.Member), u64(seq))
	})
	if err != nil {
		return false, fmt.Errorf("store submission %s: %w", sub.MsgID, err)
	}
	return dup, nil
}

func getSub(tx *bolt.Tx, seq []byte) (*bot.Submission, error) {
	v := tx.Bucket(bucketSubs).Get(seq)
	if v == nil {
		return nil, nil
	}
	var sub bot.Submission
	if err := json.Unmarshal(v, &sub); err != nil {
		return nil, fmt.Errorf("decode submission %d: %w", binary.BigEndian.Uint64(seq), err)
	}
	return &sub, nil
}

// Withdraw implements bot.Store.
func (s *DB) Withdraw(msgID string) (*bot.Submission, error) {
	var sub *bot.Submission
	err := s.commits.solo(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bucketMsgIDs).Get([]byte(msgID))
		if seq == nil {
			return nil
		}
		var err error
		if sub, err = getSub(tx, seq); err != nil || sub == nil {
			return err
		}
		if sub.Withdrawn {
			return nil // recalled twice
		}
		sub.Withdrawn = true
		v, err := json.Marshal(sub)
		if err != nil {
			return err
		}
		if err := addTally(tx, *sub, -1); err != nil {
			return err
		}
		return tx.Bucket(bucketSubs).Put(seq, v)
	})
	if err != nil {
		return nil, fmt.Errorf("withdraw %s: %w", msgID, err)
	}
	return sub, nil
}

// PeriodSubmissions implements bot.Store with a range scan over the period's index.
func (s *DB) PeriodSubmissions(task string, period int) ([]bot.Submission, error) {
	return s.scan(periodPrefix(task, period))
}

// UnitSubmissions implements bot.ReportSource: the same index, one unit's range.
func (s *DB) UnitSubmissions(task string, period int, unit string) ([]bot.Submission, error) {
	return s.scan(append(unitKey(task, period, unit), 0))
}

// scan reads the submissions whose index keys start with prefix.
func (s *DB) scan(prefix []byte) ([]bot.Submission, error) {
	var out []bot.Submission
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketByPeriod).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			sub, err := getSub(tx, k[len(k)-8:])
			if err != nil {
				return err
			}
			if sub != nil {
				out = append(out, *sub)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list submissions: %w", err)
	}
	return out, nil
}

// LastSubmission implements bot.Store.
func (s *DB) LastSubmission(member string) (*bot.Submission, error) {
	var sub *bot.Submission
	err := s.db.View(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bucketLast).Get([]byte(member))
		if seq == nil {
			return nil
		}
		var err error
		sub, err = getSub(tx, seq)
		return err
	})
	return sub, err
}

// HasBlob implements bot.Store.
func (s *DB) HasBlob(sum string) (bool, error) {
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		ok = blobIn(tx, sum) != nil
		return nil
	})
	return ok, err
}

// Blob returns a copy of the media stored under sum, or nil.
func (s *DB) Blob(sum string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := blobIn(tx, sum); v != nil {
			readAhead(v)
			out = bytes.Clone(v)
		}
		return nil
	})
	return out, err
}

// WriteBlob copies the media stored under sum to w straight from the database
// file, without a copy in memory: exports stream gigabytes this way.
func (s *DB) WriteBlob(sum string, w io.Writer) error {
	return s.db.View(func(tx *bolt.Tx) error {
		v := blobIn(tx, sum)
		if v == nil {
			return fmt.Errorf("media %s: not in the store", sum)
		}
		readAhead(v)
		_, err := w.Write(v)
		return err
	})
}

// blobIn is the media stored under sum in tx, or nil; valid until tx ends.
func blobIn(tx *bolt.Tx, sum string) []byte {
	if seq := tx.Bucket(bucketMediaByID).Get([]byte(sum)); seq != nil {
		if b := tx.Bucket(bucketMedia).Bucket(seq); b != nil {
			return b.Get(mediaKey)
		}
		return nil
	}
	return tx.Bucket(bucketBlobs).Get([]byte(sum))
}

// mediaKey is the one key of a media item's own bucket.
var mediaKey = []byte{0}

// putBlob stores media under sum, after every media stored before. Each item
// is the only value of a bucket of its own: a bbolt page holds at least two
// values, and a photo stored next to the one before would have that one read
// back from the file and written again with it, which made the memory mapped
// from the file grow with every photo (770 MB after 10,000).
func putBlob(tx *bolt.Tx, sum string, media []byte) error {
	b := tx.Bucket(bucketMedia)
	// Appending: pages of the parent fill completely (bbolt's default is half,
	// for inserts anywhere).
	b.FillPercent = 1
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	item, err := b.CreateBucket(u64(seq))
	if err != nil {
		return err
	}
	if err := item.Put(mediaKey, media); err != nil {
		return err
	}
	return tx.Bucket(bucketMediaByID).Put([]byte(sum), u64(seq))
}

// Thumb returns the cached thumbnail of the image sum, or nil.
func (s *DB) Thumb(sum string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketThumbs).Get([]byte(sum)); v != nil {
			out = bytes.Clone(v)
		}
		return nil
	})
	return out, err
}

// PutThumb caches the thumbnail of the image sum.
func (s *DB) PutThumb(sum string, data []byte) error {
	return s.commits.solo(func(tx *bolt.Tx) error { return tx.Bucket(bucketThumbs).Put([]byte(sum), data) })
}

// PrintCopy returns the print-size copy kept for the image sum, or nil when
// none was made yet (or the file, opened read-only, predates them).
func (s *DB) PrintCopy(sum string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketPrints); b != nil {
			if v := b.Get([]byte(sum)); v != nil {
				readAhead(v)
				out = bytes.Clone(v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the print copy of %.12s: %w", sum, err)
	}
	return out, nil
}

// PutPrintCopy keeps data as the print-size copy of the image sum. The store
// does not read it: the callers (export.PrintCopy) decide what it holds.
func (s *DB) PutPrintCopy(sum string, data []byte) error {
	err := s.commits.solo(func(tx *bolt.Tx) error { return tx.Bucket(bucketPrints).Put([]byte(sum), data) })
	if err != nil {
		return fmt.Errorf("keep the print copy of %.12s: %w", sum, err)
	}
	return nil
}

// BlobCount is the number of distinct media stored.
func (s *DB) BlobCount() (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketMediaByID).Stats().KeyN + tx.Bucket(bucketBlobs).Stats().KeyN
		return nil
	})
	return n, err
}

// Reassign implements bot.Store: the submission of a chat message counts for
// another task and period from now on (a coordinator's correction). Its index
// entry and both tallies move with it, in one transaction.
func (s *DB) Reassign(msgID, task string, period int, late bool) (*bot.Submission, error) {
	var sub *bot.Submission
	err := s.commits.solo(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bucketMsgIDs).Get([]byte(msgID))
		if seq == nil {
			return fmt.Errorf("no submission of message %s", msgID)
		}
		var err error
		if sub, err = getSub(tx, seq); err != nil || sub == nil {
			return err
		}
		idx := tx.Bucket(bucketByPeriod)
		if err := idx.Delete(append(append(unitKey(sub.Task, sub.Period, sub.Unit), 0), seq...)); err != nil {
			return err
		}
		if !sub.Withdrawn {
			if err := addTally(tx, *sub, -1); err != nil {
				return err
			}
		}
		sub.Task, sub.Period, sub.Late = task, period, late
		if err := idx.Put(append(append(unitKey(task, period, sub.Unit), 0), seq...), nil); err != nil {
			return err
		}
		if !sub.Withdrawn {
			if err := addTally(tx, *sub, 1); err != nil {
				return err
			}
		}
		v, err := json.Marshal(sub)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketSubs).Put(seq, v)
	})
	if err != nil {
		return nil, fmt.Errorf("move submission %s: %w", msgID, err)
	}
	return sub, nil
}
