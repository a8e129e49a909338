// Package store keeps reportbot's data in one bbolt file: submissions and their
// media, member bindings, coordinators' marks, receipts, the sent-log, the
// outbox and the adapters' own small state. No caller sees a bucket; every
// write is one transaction that is on disk when the method returns.
package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"reportbot/bot"
)

// SchemaVersion is the layout this code reads and writes. 2: media in the
// media buckets (version 1 kept them in blobs only, and a reportbot that
// reads version 1 would not see the photos stored since). 3: data filed by
// campaign (campaign/task keys, see Adopt), outbox items with several keys;
// a reportbot that reads 2 would mix campaigns and lose combined reminders.
const SchemaVersion = 3

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
	bucketBinds     = []byte("bindings")  // member id (older files: display name) -> unit
	// Task keys are campaign/task (bare task for a campaign without id, or
	// data of schema 2 not yet adopted by a campaign).
	bucketMarks    = []byte("marks")     // task 0 period unit -> JSON Mark
	bucketReceipts = []byte("receipts")  // task 0 period unit -> level
	bucketSent     = []byte("sent_log")  // key -> JSON sentRecord
	bucketSeen     = []byte("seen_msgs") // chat message id -> time first seen
	bucketThumbs   = []byte("thumbs")    // image sha256 -> JPEG thumbnail
	bucketTallies  = []byte("tallies")   // task 0 period unit -> JSON bot.Tally
	bucketOutbox   = []byte("outbox")    // seq -> JSON bot.OutboxItem
	// Added without a schema change: an older reportbot ignores the bucket,
	// and checkSchema does not require it of a file opened read-only.
	bucketAdapterState = []byte("adapter_state") // adapter 0 key -> value
	bucketBoundNames   = []byte("bound_names")   // member id -> display name when bound
	// Added with schema 3.
	bucketPending = []byte("pending") // member id 0 seq -> JSON Submission of a member not placed yet
	// Added within schema 3, like the adapters' state: a file from before it
	// has no copies, and each photo gets its copy on first use.
	bucketPrints = []byte("print_copies") // image sha256 -> print-size copy (see PutPrintCopy)
	// optionalBuckets may be missing from a file opened read-only.
	optionalBuckets = [][]byte{bucketAdapterState, bucketBoundNames, bucketPending, bucketPrints}
	allBuckets      = [][]byte{bucketMeta, bucketSubs, bucketByPeriod, bucketMsgIDs, bucketLast, bucketBlobs,
		bucketBinds, bucketMarks, bucketReceipts, bucketSent, bucketSeen, bucketThumbs, bucketTallies,
		bucketMedia, bucketMediaByID, bucketOutbox, bucketAdapterState, bucketBoundNames, bucketPending,
		bucketPrints}

	keySchema  = []byte("schema")
	keyCursor  = []byte("cursor")
	keyTallied = []byte("tallied") // set once the tallies cover every submission
	// keyUpright is set once the thumbnails are made upright (EXIF
	// orientation applied); those cached before lay on their side.
	keyUpright = []byte("thumbs_upright")
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

// Commits is how many write transactions the store ran since it was opened:
// what a workload costs in commits, for the benchmarks.
func (s *DB) Commits() uint64 { return s.commits.n.Load() }

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
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && !opts.ReadOnly {
		if err := createNew(path); err != nil {
			return nil, err
		}
	}
	// Before bbolt maps the file: a file cut short would crash the process.
	if err := Preflight(path); err != nil {
		return nil, err
	}
	// The free list is written at the commits while it is small (see
	// keepFreelist). Never writing it (etcd's NoFreelistSync) makes commits a
	// page smaller, but then every open rebuilds the list by reading each
	// page of the file: over a year of 1,000 units (423 MB) 0.3 s with the
	// file in the page cache, 8 s after a reboot. A file left without it (a
	// process that died while the list was long) gets it back here, rebuilt:
	// under unpanic like every other read of a file that may be damaged.
	var db *bolt.DB
	err := unpanic(path, func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout, ReadOnly: opts.ReadOnly,
			FreelistType: bolt.FreelistMapType})
		return err
	})
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
	if err := unpanic(path, check); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

func (s *DB) init() error {
	return s.commits.solo(func(tx *bolt.Tx) error {
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
		if meta.Get(keyUpright) == nil {
			// Thumbnails are a cache: dropped, each is made again, upright, when next shown.
			if err := tx.DeleteBucket(bucketThumbs); err != nil {
				return fmt.Errorf("drop the thumbnails: %w", err)
			}
			if _, err := tx.CreateBucket(bucketThumbs); err != nil {
				return err
			}
			if err := meta.Put(keyUpright, []byte("1")); err != nil {
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
			// Backups and stopped bots' files written before the optional
			// buckets existed must still restore and export; they read as empty.
			if tx.Bucket(name) == nil && !slices.ContainsFunc(optionalBuckets, func(b []byte) bool { return bytes.Equal(b, name) }) {
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

// Schema is the layout version the file says it is written in.
func (s *DB) Schema() (int, error) {
	var v int
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		v, err = strconv.Atoi(string(tx.Bucket(bucketMeta).Get(keySchema)))
		return err
	})
	return v, err
}

// Close writes the free list if the store was committing without it (so
// that the next open need not rebuild it) and closes the database.
func (s *DB) Close() error {
	var err error
	if !s.db.IsReadOnly() {
		err = s.commits.saveFreelist()
		if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
			err = nil // closed before
		} else if err != nil {
			err = fmt.Errorf("close %s: write the free list: %w", s.db.Path(), err)
		}
	}
	return errors.Join(err, s.db.Close())
}

// Check runs bbolt's consistency check; tests call it before closing. Nothing
// may write meanwhile: bbolt reads its free list unguarded here.
func (s *DB) Check() error {
	return unpanic(s.db.Path(), func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				return err
			}
			return nil
		})
	})
}

// unpanic runs f and turns a panic into a DamagedError: bbolt panics on
// pages it cannot make sense of ("invalid page type"), which only a damaged
// file has, and that must end in a message rather than a goroutine dump.
func unpanic(path string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = damaged(path, "数据库内部的数据页损坏了（%v）", r)
		}
	}()
	return f()
}

// createNew makes a new database under a temporary name and links it into
// place once bbolt has written its first pages: a process killed while bbolt
// creates a file would otherwise leave a zero-byte reportbot.db, and that is
// what a copy that failed or a filesystem after a power cut leave too. So
// the only zero-byte database is one something else emptied, and Preflight
// refuses it instead of starting over with no data.
func createNew(path string) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".new-*.db")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	db, err := bolt.Open(tmp.Name(), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	// A link fails where the name exists: a process that made it meanwhile
	// wins, and the lock decides between us.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return syncDir(dir)
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func periodPrefix(task string, period int) []byte {
	k := append([]byte(task), 0)
	return binary.BigEndian.AppendUint32(k, uint32(period))
}

func unitKey(task string, period int, unit string) []byte {
	return append(periodPrefix(task, period), unit...)
}

// Size is the database file's size in bytes.
func (s *DB) Size() int64 {
	if st, err := os.Stat(s.db.Path()); err == nil {
		return st.Size()
	}
	return 0
}
