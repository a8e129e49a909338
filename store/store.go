// Package store keeps reportbot's data in one bbolt file: submissions and their
// media, member bindings, coordinators' marks, receipts and the sent-log. No
// caller sees a bucket; every write is one transaction that is on disk when the
// method returns.
package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"reportbot/bot"
)

// SchemaVersion is the layout this code reads and writes. 2: media in the
// media buckets (version 1 kept them in blobs only, and a reportbot that
// reads version 1 would not see the photos stored since).
const SchemaVersion = 2

// FileName is the database's name inside the data directory.
const FileName = "reportbot.db"

var (
	bucketMeta     = []byte("meta")
	bucketSubs     = []byte("submissions") // seq -> JSON Submission
	bucketByPeriod = []byte("by_period")   // task 0 period unit 0 seq -> nil
	bucketMsgIDs   = []byte("msg_ids")     // chat message id -> seq
	bucketLast     = []byte("last_by_member")
	// Media are stored in the order they came, under a sequence number, and
	// found by their sha256 through an index. Keyed by the hash itself, each new
	// photo landed between two stored ones and bbolt rewrote a page holding a
	// neighbour too: twice the bytes written for every photo.
	bucketMedia     = []byte("media")     // seq -> bucket {0 -> content} (see putBlob)
	bucketMediaByID = []byte("media_ids") // sha256 hex -> seq
	bucketBlobs     = []byte("blobs")     // sha256 hex -> content; written before the media bucket, still read
	bucketBinds     = []byte("bindings")  // member -> unit
	bucketMarks     = []byte("marks")     // task 0 period unit -> JSON Mark
	bucketReceipts  = []byte("receipts")  // task 0 period unit -> level
	bucketSent      = []byte("sent_log")  // key -> JSON sentRecord
	bucketSeen      = []byte("seen_msgs") // chat message id -> time first seen
	bucketThumbs    = []byte("thumbs")    // image sha256 -> JPEG thumbnail
	bucketTallies   = []byte("tallies")   // task 0 period unit -> JSON bot.Tally
	allBuckets      = [][]byte{bucketMeta, bucketSubs, bucketByPeriod, bucketMsgIDs, bucketLast, bucketBlobs,
		bucketBinds, bucketMarks, bucketReceipts, bucketSent, bucketSeen, bucketThumbs, bucketTallies,
		bucketMedia, bucketMediaByID}

	keySchema  = []byte("schema")
	keyCursor  = []byte("cursor")
	keyTallied = []byte("tallied") // set once the tallies cover every submission
)

// ErrLocked is returned by Open when another process holds the database.
var ErrLocked = errors.New("the data directory is in use by another reportbot process")

// Options tune Open.
type Options struct {
	// LockTimeout is how long Open waits for another process to let go (default 1s).
	LockTimeout time.Duration
	// MaxBlob refuses media larger than this many bytes (0: no limit).
	MaxBlob int64
	// ReadOnly opens for reading only, as exports of a stopped bot's data do.
	ReadOnly bool
	// NoSync skips fsync at commit: writes survive the process being killed
	// (they are in the OS's cache) but not the machine losing power. For the
	// console demo's throwaway data only.
	NoSync bool
}

// DB is the store. It implements bot.Store.
type DB struct {
	db      *bolt.DB
	commits committer
	maxBlob int64
}

var _ bot.Store = (*DB)(nil)

// Open opens (creating if needed) the store in dir.
func Open(dir string, opts Options) (*DB, error) {
	if !opts.ReadOnly {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory %s: %w", dir, err)
		}
	}
	return OpenFile(filepath.Join(dir, FileName), opts)
}

// OpenFile opens the database file at path, such as a backup.
func OpenFile(path string, opts Options) (*DB, error) {
	if opts.LockTimeout == 0 {
		opts.LockTimeout = time.Second
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	// The free list is written at each commit (bbolt's default). Without it
	// (etcd's NoFreelistSync) commits are a page smaller, but every open
	// rebuilds the list by reading each page of the file: 0.4 s and 760 MB of
	// memory over a year of 1,000 units. A file written without it gets its
	// list at the first open.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout, ReadOnly: opts.ReadOnly,
		FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s: %w (stop the other process, or use another --data directory)", path, ErrLocked)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.NoSync = opts.NoSync
	s := &DB{db: db, commits: committer{db: db}, maxBlob: opts.MaxBlob}
	check := s.init
	if opts.ReadOnly {
		check = s.checkSchema
	}
	if err := check(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

func (s *DB) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		// The version first: a file from a newer reportbot is left untouched.
		if meta := tx.Bucket(bucketMeta); meta != nil {
			if v := meta.Get(keySchema); v != nil {
				got, err := strconv.Atoi(string(v))
				if err != nil {
					return fmt.Errorf("bad schema version %q", v)
				}
				if got > SchemaVersion {
					return fmt.Errorf("schema version %d was written by a newer reportbot (this one reads %d): upgrade reportbot", got, SchemaVersion)
				}
			}
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if meta.Get(keyTallied) == nil {
			// A database from before the tallies: count what it holds, once.
			if err := retally(tx); err != nil {
				return fmt.Errorf("count submissions: %w", err)
			}
			if err := meta.Put(keyTallied, []byte("1")); err != nil {
				return err
			}
		}
		// Older layouts are read as they are; from now on the file is written
		// in this one, which an older reportbot must then refuse.
		return meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion)))
	})
}

// checkSchema checks a database opened read-only: every bucket there and a
// schema this code reads.
func (s *DB) checkSchema() error {
	return s.db.View(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("not a reportbot database (no %s)", name)
			}
		}
		got, err := strconv.Atoi(string(tx.Bucket(bucketMeta).Get(keySchema)))
		if err != nil || got > SchemaVersion {
			return fmt.Errorf("schema version %q: this reportbot reads %d", tx.Bucket(bucketMeta).Get(keySchema), SchemaVersion)
		}
		return nil
	})
}

// Close closes the database.
func (s *DB) Close() error { return s.db.Close() }

// Check runs bbolt's consistency check; tests call it before closing. Nothing
// may write meanwhile: bbolt reads its free list unguarded here.
func (s *DB) Check() error {
	return s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func periodPrefix(task string, period int) []byte {
	k := append([]byte(task), 0)
	return binary.BigEndian.AppendUint32(k, uint32(period))
}

func unitKey(task string, period int, unit string) []byte {
	return append(periodPrefix(task, period), unit...)
}

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
			if err := ids.Put([]byte(sub.MsgID), u64(seq)); err != nil {
				return err
			}
			// Seen in the same transaction: a replay of it is then ignored.
			at, err := sub.At.MarshalText()
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketSeen).Put([]byte(sub.MsgID), at); err != nil {
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
	err := s.db.Update(func(tx *bolt.Tx) error {
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

// Binding implements bot.Store.
func (s *DB) Binding(member string) (string, error) {
	var unit string
	err := s.db.View(func(tx *bolt.Tx) error {
		unit = string(tx.Bucket(bucketBinds).Get([]byte(member)))
		return nil
	})
	return unit, err
}

// Bind implements bot.Store.
func (s *DB) Bind(member, unit string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBinds).Put([]byte(member), []byte(unit))
	})
}

// BoundMembers implements bot.Store. Bindings are few (one per member), so a scan is fine.
func (s *DB) BoundMembers(unit string) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBinds).ForEach(func(k, v []byte) error {
			if string(v) == unit {
				out = append(out, string(k))
			}
			return nil
		})
	})
	return out, err
}

// SetMark implements bot.Store.
func (s *DB) SetMark(task string, period int, unit string, m bot.Mark) error {
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
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
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketReceipts).Put(unitKey(task, period, unit), []byte{byte(level)})
	})
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
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketThumbs).Put([]byte(sum), data) })
}

// Size is the database file's size in bytes.
func (s *DB) Size() int64 {
	if st, err := os.Stat(s.db.Path()); err == nil {
		return st.Size()
	}
	return 0
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
	err = s.db.Update(func(tx *bolt.Tx) error {
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
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyCursor, v) })
}

// Seen implements bot.Store: whether a message id was recorded, read only.
func (s *DB) Seen(msgID string) (bool, error) {
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketSeen).Get([]byte(msgID)) != nil
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
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSeen)
		if b.Get([]byte(msgID)) != nil {
			return nil
		}
		first = true
		return b.Put([]byte(msgID), v)
	})
	if err != nil {
		return false, fmt.Errorf("record message %s: %w", msgID, err)
	}
	return first, nil
}

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

// Tallies implements bot.ReportSource.
func (s *DB) Tallies(task string, period int) (map[string]bot.Tally, error) {
	out := map[string]bot.Tally{}
	prefix := periodPrefix(task, period)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketTallies).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var t bot.Tally
			if err := decodeTally(v, &t); err != nil {
				return err
			}
			out[string(k[len(prefix):])] = t
		}
		return nil
	})
	return out, err
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
