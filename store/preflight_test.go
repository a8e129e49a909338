package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
	"reportbot/schedules"
)

// sampleDB writes a database of a few hundred KB (texts and photos) at
// dir/reportbot.db and returns its bytes.
func sampleDB(t *testing.T, dir string) []byte {
	t.Helper()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 40 {
		photo := randomBytes(8<<10, r.Uint64())
		s := &bot.Submission{MsgID: fmt.Sprint("m", i), Unit: "东风社区", Task: "weekly", Period: 1 + i%3, Kind: schedules.Image,
			Blob: sum(photo), Size: int64(len(photo))}
		if _, err := db.AddSubmission(s, photo); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// highWater is the size bbolt's meta says the data reaches.
func highWater(t *testing.T, data []byte) int {
	t.Helper()
	m0, m1 := readMeta(data), readMeta(data[4096:])
	if m1.txid > m0.txid {
		m0 = m1
	}
	return int(m0.pgid) * int(m0.pageSize)
}

// TestPreflight refuses, with its reason, every kind of file that made
// bbolt crash or write over it, and passes the ones bbolt reads safely.
func TestPreflight(t *testing.T) {
	good := sampleDB(t, t.TempDir())
	hw := highWater(t, good)
	if hw < 16*4096 || hw > len(good) {
		t.Fatalf("sample: high-water mark %d, file %d", hw, len(good))
	}
	noise := randomBytes(64<<10, 1)
	withZeros := func(from, to int) []byte {
		b := bytes.Clone(good)
		clear(b[from:to])
		return b
	}
	cases := []struct {
		name   string
		data   []byte
		reason string // "" for a file that passes
	}{
		{"good", good, ""},
		{"first meta page zeroed (bbolt uses the second)", withZeros(0, 4096), ""},
		{"second meta page zeroed", withZeros(4096, 8192), ""},
		{"zero bytes", nil, "0 字节"},
		{"cut to half, on a page boundary", good[:hw/2/4096*4096], "后面一段缺了"},
		{"cut one page short", good[:hw-4096], "后面一段缺了"},
		{"cut mid-page", good[:hw-1000], "后面一段缺了"},
		{"cut to 3,000 bytes", good[:3000], "连数据库开头的几页都不完整"},
		{"cut within the first four pages", good[:3*4096], "不到数据库最少的 4 页"},
		{"random bytes", noise, "不是 reportbot 的数据库文件"},
		{"a text file", []byte(strings.Repeat("这不是数据库\n", 1000)), "不是 reportbot 的数据库文件"},
		{"both meta pages zeroed", withZeros(0, 8192), "不是 reportbot 的数据库文件"},
		{"both meta pages' checksums wrong", func() []byte {
			b := bytes.Clone(good)
			b[16+40]++
			b[4096+16+40]++
			return b
		}(), "两页（元数据页）都损坏"},
		{"a few bytes more than whole pages", append(bytes.Clone(good), 1, 2, 3), "不是整页"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.db")
			if err := os.WriteFile(path, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			err := Preflight(path)
			if c.reason == "" {
				if err != nil {
					t.Fatalf("refused a file bbolt reads: %v", err)
				}
				// And bbolt does read it. (Its Check finds a zeroed meta page
				// wrong, so a restore refuses such a backup; the next commit
				// writes that page again.)
				db, err := OpenFile(path, Options{ReadOnly: true})
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				// Without the newer meta, bbolt reads the state before the last transaction.
				if subs, err := db.PeriodSubmissions("weekly", 1); err != nil || len(subs) < 13 {
					t.Fatalf("read %d submissions: %v", len(subs), err)
				}
				return
			}
			var de *DamagedError
			if !errors.As(err, &de) || !errors.Is(err, ErrDamaged) || de.Path != path || !strings.Contains(de.Reason, c.reason) {
				t.Fatalf("got %v, want a DamagedError saying %q", err, c.reason)
			}
			// Every way of opening it gives the same refusal, and a
			// read-write open leaves the file as it was.
			if _, err := OpenFile(path, Options{ReadOnly: true}); !errors.Is(err, ErrDamaged) {
				t.Errorf("read-only open: %v", err)
			}
			if _, err := OpenFile(path, Options{}); !errors.Is(err, ErrDamaged) {
				t.Errorf("open: %v", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, c.data) {
				t.Error("the refused file was changed")
			}
		})
	}
}

// TestNewDatabaseNeverZeroBytes: a data directory without a database gets
// a new one; one whose database is empty is refused, as a lost one.
func TestNewDatabaseNeverZeroBytes(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := Preflight(filepath.Join(dir, FileName)); err != nil {
		t.Fatalf("a new database: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".new-*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	os.Truncate(filepath.Join(dir, FileName), 0)
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrDamaged) {
		t.Errorf("zero-byte database opened: %v", err)
	}
	if st, _ := os.Stat(filepath.Join(dir, FileName)); st.Size() != 0 {
		t.Error("bbolt wrote over the zero-byte file")
	}
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestRestoreRefusesDamagedBackups: a cut, empty, random or internally
// damaged backup is refused with its reason, and the live database is
// untouched, byte for byte.
func TestRestoreRefusesDamagedBackups(t *testing.T) {
	dataDir := t.TempDir()
	good := sampleDB(t, dataDir)
	live := filepath.Join(dataDir, FileName)
	before := fileHash(t, live)
	hw := highWater(t, good)
	noise := randomBytes(32<<10, 3)
	// Valid meta pages over a root page of noise: the preflight passes it,
	// bbolt's page check does not.
	badRoot := bytes.Clone(good)
	m := readMeta(badRoot)
	copy(badRoot[int(m.root)*4096+16:int(m.root+1)*4096], noise)
	// A sound bbolt file that is not reportbot's.
	foreign := filepath.Join(t.TempDir(), "foreign.db")
	fdb, err := bolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	fdb.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
	fdb.Close()
	foreignData, _ := os.ReadFile(foreign)
	cases := []struct {
		name, reason string
		data         []byte
	}{
		{"zero bytes", "0 字节", nil},
		{"truncated", "后面一段缺了", good[:hw/2]},
		{"random bytes", "不是 reportbot 的数据库文件", noise},
		{"damaged root page", "损坏", badRoot},
		{"another program's bbolt file", "不是 reportbot 的数据库", foreignData},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			backup := filepath.Join(t.TempDir(), "reportbot-20260604-030000.db")
			os.WriteFile(backup, c.data, 0o600)
			_, err := Restore(dataDir, backup, time.Now())
			var de *DamagedError
			if !errors.As(err, &de) || de.Path != backup || !strings.Contains(de.Reason, c.reason) {
				t.Fatalf("got %v, want the backup refused for %q", err, c.reason)
			}
			if fileHash(t, live) != before {
				t.Fatal("the live database changed")
			}
			if kept, _ := filepath.Glob(live + keptInfix + "*"); len(kept) != 0 {
				t.Errorf("a refused restore moved the database: %v", kept)
			}
		})
	}
}

// TestRestoreOverDamagedLiveKeepsNewestCopy: a damaged live database is
// replaced (kept beside it), and only the newest before-restore copy stays.
func TestRestoreOverDamagedLiveKeepsNewestCopy(t *testing.T) {
	dataDir := t.TempDir()
	good := sampleDB(t, dataDir)
	db, err := Open(dataDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	backup, err := db.Backup(filepath.Join(dataDir, BackupDir), time.Date(2026, 6, 4, 3, 0, 0, 0, time.UTC), 7)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	live := filepath.Join(dataDir, FileName)
	at := time.Date(2026, 6, 5, 9, 0, 0, 0, time.UTC)
	var kept []string
	for i := range 3 {
		// Each time the live file is cut short before the restore.
		os.WriteFile(live, good[:len(good)/3], 0o600)
		k, err := Restore(dataDir, backup, at.Add(time.Duration(i)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, k)
		if b, _ := os.ReadFile(k); len(b) != len(good)/3 {
			t.Errorf("the damaged database was not kept as it was: %d bytes", len(b))
		}
	}
	left, _ := filepath.Glob(live + keptInfix + "*")
	if len(left) != 1 || left[0] != kept[2] {
		t.Errorf("before-restore copies %v, want only %s", left, kept[2])
	}
	db, err = Open(dataDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if subs, _ := db.PeriodSubmissions("weekly", 1); len(subs) != 14 {
		t.Errorf("restored %d submissions of period 1, want 14", len(subs))
	}
}

// TestBackupIsCompacted: a backup carries the data, not the pages the live
// file freed; it is whole pages up to its high-water mark.
func TestBackupIsCompacted(t *testing.T) {
	dataDir := t.TempDir()
	sampleDB(t, dataDir)
	db := open(t, dataDir)
	// 8 MB written and deleted, as pruning does: the live file keeps the pages.
	big := bytes.Repeat([]byte("x"), 64<<10)
	if err := db.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("scratch"))
		if err != nil {
			return err
		}
		for i := range 128 {
			if err := b.Put(fmt.Append(nil, i), big); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("scratch")) }); err != nil {
		t.Fatal(err)
	}
	path, err := db.Backup(filepath.Join(dataDir, BackupDir), time.Date(2026, 6, 4, 3, 0, 0, 0, time.UTC), 7)
	if err != nil {
		t.Fatal(err)
	}
	liveSize, backupSize := db.Size(), fileSize(t, path)
	if liveSize < 8<<20 || backupSize > 1<<20 {
		t.Errorf("live %d bytes, backup %d bytes: the backup should hold only the data (about 0.5 MB)", liveSize, backupSize)
	}
	t.Logf("live file %d bytes, backup %d bytes", liveSize, backupSize)
	data, _ := os.ReadFile(path)
	if hw := highWater(t, data); hw != len(data) {
		t.Errorf("backup %d bytes, high-water mark %d", len(data), hw)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v", st.Mode().Perm())
	}
	if err := CheckBackup(path); err != nil {
		t.Fatal(err)
	}
	b, err := OpenFile(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for p := 1; p <= 3; p++ {
		want, _ := db.PeriodSubmissions("weekly", p)
		got, _ := b.PeriodSubmissions("weekly", p)
		if len(got) != len(want) || len(got) == 0 {
			t.Errorf("period %d: %d submissions in the backup, %d live", p, len(got), len(want))
		}
	}
	if n, seq := backupSeq(t, b), backupSeq(t, db); n != seq {
		t.Errorf("submission sequence %d in the backup, %d live", n, seq)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func backupSeq(t *testing.T, s *DB) uint64 {
	t.Helper()
	var n uint64
	s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bucketSubs).Sequence(); return nil })
	return n
}

// randomBytes is n bytes of noise, the same for the same seed.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// TestCompact shrinks a stopped bot's file to its data and keeps the old one
// beside it; it refuses while the database is open, and a damaged one.
func TestCompact(t *testing.T) {
	dataDir := t.TempDir()
	sampleDB(t, dataDir)
	db, err := Open(dataDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("scratch"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), make([]byte, 4<<20))
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("scratch")) }); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 6, 4, 3, 0, 0, 0, time.UTC)
	if _, _, err := Compact(dataDir, at, 7); !errors.Is(err, ErrLocked) {
		t.Errorf("compact under an open database: %v", err)
	}
	db.Close()
	live := filepath.Join(dataDir, FileName)
	before := fileSize(t, live)
	backup, kept, err := Compact(dataDir, at, 7)
	if err != nil {
		t.Fatal(err)
	}
	if after := fileSize(t, live); before < 4<<20 || after > 1<<20 || fileSize(t, kept) != before {
		t.Errorf("live %d bytes before, %d after, kept copy %d", before, after, fileSize(t, kept))
	}
	if err := CheckBackup(backup); err != nil {
		t.Error(err)
	}
	db = open(t, dataDir)
	if subs, _ := db.PeriodSubmissions("weekly", 1); len(subs) != 14 {
		t.Errorf("%d submissions after compacting", len(subs))
	}
}
