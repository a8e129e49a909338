// Package ingest measures durable ingest: many members posting at once, each
// message acknowledged only after it is committed to disk. reportbot's own
// path (bot.Handle over the store, as the WeChat adapter calls it) runs next to
// raw bbolt DB.Batch puts of the same sizes and SQLite in WAL mode with
// synchronous=FULL, the store a user would pick instead, in the same run and on
// the same disk. It is a module of its own so that the product does not depend
// on SQLite.
//
//	cd bench/ingest && go test -run '^$' -bench . -benchtime 3000x
//
// REPORTBOT_BENCH_DIR puts the databases on another disk (default: the
// system's temporary directory).
package ingest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
	_ "modernc.org/sqlite"

	"reportbot/bot"
	"reportbot/schedules"
	"reportbot/store"
)

// Senders is how many members post at the same moment.
const senders = 64

// sink stores one message durably: it returns once the message is on disk.
type sink interface {
	put(ctx context.Context, sender, n int, msg []byte) error
	close() error
}

// payload is what one kind of message carries.
type payload struct {
	name string
	// body returns message n's content; every message is different, as
	// photos are (the store keeps one copy of equal media).
	body func(n int) []byte
}

func BenchmarkIngest(b *testing.B) {
	photo := noisePNG(b, 200<<10)
	// 97 Chinese characters and a 9-digit number: 300 bytes.
	text := string([]rune(strings.Repeat("本周开展消防安全检查，", 9))[:97])
	payloads := []payload{
		{"text-300B", func(n int) []byte { return fmt.Appendf(nil, "%s%09d", text, n) }},
		// Bytes after the PNG's end keep it a picture and make each one different.
		{"image-200KB", func(n int) []byte { return binary.BigEndian.AppendUint64(bytes.Clone(photo), uint64(n)) }},
	}
	systems := []struct {
		name string
		open func(tb testing.TB, dir string) sink
	}{
		{"reportbot", openReportbot},
		{"bbolt-batch", openBolt},
		{"sqlite-wal-full", openSQLite},
	}
	for _, p := range payloads {
		for _, s := range systems {
			b.Run(p.name+"/"+s.name, func(b *testing.B) {
				dir := tempDir(b)
				sk := s.open(b, dir)
				defer sk.close()
				bodies := make([][]byte, b.N)
				for i := range bodies {
					bodies[i] = p.body(i)
				}
				ingest(b, sk, bodies)
			})
		}
	}
}

// ingest has the senders post b.N messages between them, as fast as each
// one's messages are acknowledged, and reports messages per second.
func ingest(b *testing.B, sk sink, bodies [][]byte) {
	ctx := context.Background()
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	b.SetBytes(int64(len(bodies[0])))
	b.ResetTimer()
	start := time.Now()
	for s := range senders {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= len(bodies) {
					return
				}
				if err := sk.put(ctx, s, n, bodies[n]); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(bodies))/elapsed.Seconds(), "msgs/s")
}

func tempDir(b *testing.B) string {
	dir, err := os.MkdirTemp(os.Getenv("REPORTBOT_BENCH_DIR"), "reportbot-ingest-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// reportbot: the bot's own handling, as the chat adapter calls it, over the
// store as `reportbot run` opens it (fsync at every commit).
type reportbotSink struct {
	bot *bot.Bot
	db  *store.DB
	at  time.Time
}

// The 64 senders are members of 64 units; the campaign is the example one,
// on the morning a weekly report is due.
func openReportbot(tb testing.TB, dir string) sink {
	var cfg strings.Builder
	cfg.WriteString("[bot]\nname = \"报送机器人\"\ngroup = \"测试群\"\nadmins = [\"王科长\"]\nmax_media_mb = 20\n")
	for u := range senders {
		fmt.Fprintf(&cfg, "[[unit]]\nname = \"第%d社区\"\nmembers = [\"成员%d\"]\n", u, u)
	}
	config, err := bot.ParseConfig("config.toml", []byte(cfg.String()))
	if err != nil {
		tb.Fatal(err)
	}
	sched, err := schedules.Load(filepath.Join("..", "..", "schedule.example.toml"))
	if err != nil {
		tb.Fatal(err)
	}
	db, err := store.Open(dir, store.Options{MaxBlob: config.MaxMedia()})
	if err != nil {
		tb.Fatal(err)
	}
	at := time.Date(2026, 6, 4, 10, 0, 0, 0, sched.Location)
	set := schedules.Single(sched)
	b, err := bot.New(bot.Options{Config: config, Campaigns: func() *schedules.Set { return set }, Store: db,
		Chat: discard{}, Now: func() time.Time { return at }, Logger: zerolog.Nop()})
	if err != nil {
		tb.Fatal(err)
	}
	return &reportbotSink{bot: b, db: db, at: at}
}

func (s *reportbotSink) put(ctx context.Context, sender, n int, msg []byte) error {
	m := bot.Message{ID: fmt.Sprint("m", n), At: s.at, Sender: bot.Member{Name: fmt.Sprint("成员", sender)}, Kind: schedules.Text, Text: string(msg)}
	if isPNG(msg) {
		m.Kind, m.Text, m.Size = schedules.Image, "", int64(len(msg))
		m.Open = func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(msg)), nil }
	}
	return s.bot.Handle(ctx, m)
}

func (s *reportbotSink) close() error { return s.db.Close() }

// discard is a chat that takes every message: the benchmark measures storing,
// and receipts wait out their delay anyway.
type discard struct{}

func (discard) Send(context.Context, bot.Outgoing) error           { return nil }
func (discard) SendFile(context.Context, bot.Member, string) error { return nil }

// bbolt-batch: the same number of puts of the same sizes, raw, through
// DB.Batch, which commits the puts of concurrent callers together.
type boltSink struct{ db *bolt.DB }

func openBolt(tb testing.TB, dir string) sink {
	db, err := bolt.Open(filepath.Join(dir, "raw.db"), 0o600, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("m")); return err }); err != nil {
		tb.Fatal(err)
	}
	return boltSink{db}
}

func (s boltSink) put(_ context.Context, _, n int, msg []byte) error {
	return s.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("m")).Put(binary.BigEndian.AppendUint64(nil, uint64(n)), msg)
	})
}

func (s boltSink) close() error { return s.db.Close() }

// sqlite-wal-full: one INSERT per message, each its own transaction, in WAL
// mode with synchronous=FULL so that a commit is on disk when it returns.
type sqliteSink struct{ db *sql.DB }

func openSQLite(tb testing.TB, dir string) sink {
	dsn := "file:" + filepath.Join(dir, "msgs.sqlite") +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(60000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(senders)
	db.SetMaxIdleConns(senders)
	if _, err := db.Exec(`CREATE TABLE msgs (id INTEGER PRIMARY KEY, sender INTEGER NOT NULL, body BLOB NOT NULL)`); err != nil {
		tb.Fatal(err)
	}
	return sqliteSink{db}
}

func (s sqliteSink) put(ctx context.Context, sender, n int, msg []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO msgs (id, sender, body) VALUES (?, ?, ?)`, n, sender, msg)
	return err
}

func (s sqliteSink) close() error { return s.db.Close() }

// noisePNG is a photo-sized PNG: noise does not compress, so size bytes of
// pixels make a file of about that size.
func noisePNG(tb testing.TB, size int) []byte {
	side := 8
	for side*side*3 < size {
		side++
	}
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
		if i%4 == 3 {
			img.Pix[i] = 0xff
		}
	}
	img.Set(0, 0, color.White)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func isPNG(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG")) }
