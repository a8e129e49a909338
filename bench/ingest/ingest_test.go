// Package ingest measures durable ingest: members posting at once, each
// message acknowledged only after it is committed to disk. reportbot's own
// path (bot.Handle over the store, as the chat adapters call it) runs next to
// raw bbolt puts of the same sizes and SQLite in WAL mode with
// synchronous=FULL, the store a user would pick instead, with one connection
// and with a pool, in the same run and on the same disk. It is a module of its
// own so that the product does not depend on SQLite.
//
//	cd bench/ingest && go test -run '^$' -bench . -benchtime 1000x
//
// Every round runs each concurrency (1, 8 and 64 senders), each payload and
// each system once, the systems' order rotating from round to round, so that
// a noisy machine hits them alike; at the end it prints a table of medians and
// ratios. Each round also times a page written and synced to the disk
// (fdatasync), which bounds what one sender can do: a bbolt commit syncs twice
// (pages, then meta), a SQLite WAL commit once.
//
// REPORTBOT_BENCH_DIR puts the databases on another disk (default: the
// system's temporary directory); REPORTBOT_BENCH_ROUNDS sets the rounds
// (default 3); REPORTBOT_BENCH_SENDERS the concurrencies ("1,8,64").
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
	"strconv"
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

// units is how many units the reportbot configuration has, one member each:
// at most this many senders.
const units = 64

// sink stores one message durably: it returns once the message is on disk.
type sink interface {
	put(ctx context.Context, sender, n int, msg []byte) error
	// stored counts the messages kept: a run that stored fewer than it sent
	// measured something else (a text the bot did not take as a report).
	stored() (int, error)
	close() error
}

// payload is what one kind of message carries.
type payload struct {
	name string
	// body returns message n's content; every message is different, as
	// photos are (the store keeps one copy of equal media).
	body func(n int) []byte
	size int
}

// system is one way of storing the messages.
type system struct {
	name string
	open func(tb testing.TB, dir string, senders int) sink
	// at says whether the system runs with that many senders.
	at func(senders int) bool
}

func always(int) bool { return true }

var systems = []system{
	{"reportbot", openReportbot, always},
	// DB.Batch waits up to 10 ms for company, so one sender would measure
	// that wait: alone, raw bbolt commits each put with DB.Update.
	{"bbolt-update", openBoltUpdate, func(n int) bool { return n == 1 }},
	{"bbolt-batch", openBolt, func(n int) bool { return n > 1 }},
	{"sqlite-1conn", openSQLite(1), always},
	// One sender holds one connection: the pool would be the same run again.
	{"sqlite-pool", openSQLite(units), func(n int) bool { return n > 1 }},
}

func BenchmarkIngest(b *testing.B) {
	photo := noisePNG(b, 200<<10)
	// A weekly report of 300 bytes: the task's word, 88 Chinese characters
	// and a 9-digit number.
	text := string([]rune("本周典型做法：" + strings.Repeat("开展消防安全检查，", 11))[:97])
	payloads := []payload{
		{"text-300B", func(n int) []byte { return fmt.Appendf(nil, "%s%09d", text, n) }, len(text) + 9},
		// Bytes after the PNG's end keep it a picture and make each one different.
		{"image-200KB", func(n int) []byte { return binary.BigEndian.AppendUint64(bytes.Clone(photo), uint64(n)) }, len(photo) + 8},
	}
	rounds := envInt(b, "REPORTBOT_BENCH_ROUNDS", 3)
	concurrencies := []int{1, 8, 64}
	if v := os.Getenv("REPORTBOT_BENCH_SENDERS"); v != "" {
		concurrencies = nil
		for f := range strings.SplitSeq(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > units {
				b.Fatalf("REPORTBOT_BENCH_SENDERS=%q 写法不对：请写 1 到 %d 之间的数，用逗号隔开，如 1,8,64", v, units)
			}
			concurrencies = append(concurrencies, n)
		}
	}
	rates := map[string][]float64{}
	var page, photoSync []time.Duration
	for round := range rounds {
		for _, senders := range concurrencies {
			page = append(page, syncLatency(b, 4<<10, 40, false)...)
			photoSync = append(photoSync, syncLatency(b, payloads[1].size, 10, true)...)
			for _, p := range payloads {
				for i := range systems {
					s := systems[(i+round)%len(systems)]
					if !s.at(senders) {
						continue
					}
					name := fmt.Sprintf("c%d/%s/%s", senders, p.name, s.name)
					var rate float64
					b.Run(name, func(b *testing.B) {
						dir := tempDir(b)
						sk := s.open(b, dir, senders)
						defer sk.close()
						bodies := make([][]byte, b.N)
						for i := range bodies {
							bodies[i] = p.body(i)
						}
						rate = ingest(b, sk, senders, bodies)
					})
					if rate > 0 { // not left out by -bench
						rates[name] = append(rates[name], rate)
					}
				}
			}
		}
	}
	printTable(os.Stdout, rates, concurrencies, payloads, median(page), median(photoSync))
}

// ingest has the senders post b.N messages between them, as fast as each
// one's messages are acknowledged, and returns messages per second.
func ingest(b *testing.B, sk sink, senders int, bodies [][]byte) float64 {
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
	if n, err := sk.stored(); err != nil || n != len(bodies) {
		b.Fatalf("%d of %d messages stored (%v)", n, len(bodies), err)
	}
	rate := float64(len(bodies)) / elapsed.Seconds()
	b.ReportMetric(rate, "msgs/s")
	return rate
}

// syncLatency writes size bytes to a file and syncs them (fdatasync, as bbolt
// and SQLite do) n times, in the directory the databases are in, and returns
// how long each took. The bytes overwrite the file's start, as bbolt rewrites
// its pages and meta in place, or are appended, as a store grows by a photo.
func syncLatency(b *testing.B, size, n int, appending bool) []time.Duration {
	dir := tempDir(b)
	f, err := os.Create(filepath.Join(dir, "sync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, size)
	// Allocated and synced first: the loop rewrites blocks in place, as
	// bbolt does, without the file growing.
	if _, err := f.Write(buf); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	out := make([]time.Duration, n)
	for i := range out {
		buf[0] = byte(i)
		start := time.Now()
		at := int64(0)
		if appending {
			at = int64((i + 1) * size)
		}
		if _, err := f.WriteAt(buf, at); err != nil {
			b.Fatal(err)
		}
		if err := fdatasync(f); err != nil {
			b.Fatal(err)
		}
		out[i] = time.Since(start)
	}
	return out
}

func median[T int64 | float64 | time.Duration](v []T) T {
	if len(v) == 0 {
		return 0
	}
	s := append([]T(nil), v...)
	for i := 1; i < len(s); i++ { // insertion sort: a few hundred values
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// printTable writes the medians and the ratios the targets are stated in:
// reportbot against the better SQLite and against raw bbolt, and with one
// sender against the rate the disk's sync latency allows.
func printTable(w io.Writer, rates map[string][]float64, concurrencies []int, payloads []payload, page, photo time.Duration) {
	fmt.Fprintf(w, "\ndisk: write + fdatasync of 4 KiB in place %.3f ms, of %d KB appended %.3f ms (medians)\n",
		ms(page), payloads[1].size>>10, ms(photo))
	fmt.Fprintf(w, "%-7s %-11s %9s %9s %9s %9s %9s %8s %8s\n",
		"senders", "payload", "reportbot", "bbolt", "sqlite-1", "sqlite-N", "rounds", "rb/sqlite", "rb/bbolt")
	for _, senders := range concurrencies {
		for _, p := range payloads {
			get := func(sys string) float64 { return median(rates[fmt.Sprintf("c%d/%s/%s", senders, p.name, sys)]) }
			rb, one, pool := get("reportbot"), get("sqlite-1conn"), get("sqlite-pool")
			raw := get("bbolt-batch")
			if senders == 1 {
				raw = get("bbolt-update")
			}
			ran := len(rates[fmt.Sprintf("c%d/%s/reportbot", senders, p.name)])
			if ran == 0 {
				continue
			}
			fmt.Fprintf(w, "%-7d %-11s %9s %9s %9s %9s %9d %8s %8s\n", senders, p.name,
				num(rb), num(raw), num(one), num(pool), ran, ratio(rb, max(one, pool)), ratio(rb, raw))
			if senders == 1 {
				// One sender waits for every commit: bbolt syncs the pages
				// (the message's) and then the meta page; SQLite's WAL syncs
				// the frames once.
				data := page
				if p.size > 4<<10 {
					data = photo
				}
				boltLimit := 1 / (data + page).Seconds()
				liteLimit := 1 / data.Seconds()
				fmt.Fprintf(w, "        %-11s limit of the disk: 2 syncs (bbolt) %.0f msgs/s: reportbot %s of it, raw bbolt %s; 1 sync (SQLite WAL) %.0f msgs/s: SQLite %s of it\n",
					p.name, boltLimit, ratio(rb, boltLimit), ratio(raw, boltLimit), liteLimit, ratio(max(one, pool), liteLimit))
			}
		}
	}
}

// num and ratio print "-" for what did not run (left out by -bench).
func num(v float64) string {
	if v == 0 {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q 写法不对：请写一个不小于 1 的整数，如 3", name, v)
	}
	return n
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

// The senders are members of 64 units; the campaign is the example one, on
// the morning a weekly report is due.
func openReportbot(tb testing.TB, dir string, _ int) sink {
	var cfg strings.Builder
	cfg.WriteString("[bot]\nname = \"报送机器人\"\ngroup = \"测试群\"\nadmins = [\"王科长\"]\nmax_media_mb = 20\n")
	for u := range units {
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
	m := bot.Message{ID: fmt.Sprint("m", n), At: s.at, Sender: bot.Member{Name: fmt.Sprint("成员", sender)}, Kind: schedules.Text}
	if !isPNG(msg) {
		m.Text = string(msg)
	} else {
		m.Kind, m.Text, m.Size = schedules.Image, "", int64(len(msg))
		m.Open = func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(msg)), nil }
	}
	return s.bot.Handle(ctx, m)
}

// stored counts the submissions of every task and period of the campaign.
func (s *reportbotSink) stored() (int, error) {
	n := 0
	for _, t := range schedules.Tasks(s.bot.Campaigns().All()) {
		for _, p := range t.Periods {
			subs, err := s.db.PeriodSubmissions(t.Key, p.N)
			if err != nil {
				return 0, err
			}
			n += len(subs)
		}
	}
	return n, nil
}

func (s *reportbotSink) close() error { return s.db.Close() }

// discard is a chat that takes every message: the benchmark measures storing,
// and receipts wait out their delay anyway.
type discard struct{}

func (discard) Send(context.Context, bot.Outgoing) error           { return nil }
func (discard) SendFile(context.Context, bot.Member, string) error { return nil }

// bbolt-batch: the same number of puts of the same sizes, raw, through
// DB.Batch, which commits the puts of concurrent callers together.
type boltSink struct {
	db    *bolt.DB
	batch bool
}

func openBolt(tb testing.TB, dir string, _ int) sink { return openRawBolt(tb, dir, true) }

func openBoltUpdate(tb testing.TB, dir string, _ int) sink { return openRawBolt(tb, dir, false) }

func openRawBolt(tb testing.TB, dir string, batch bool) sink {
	db, err := bolt.Open(filepath.Join(dir, "raw.db"), 0o600, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("m")); return err }); err != nil {
		tb.Fatal(err)
	}
	return boltSink{db, batch}
}

func (s boltSink) put(_ context.Context, _, n int, msg []byte) error {
	fn := func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("m")).Put(binary.BigEndian.AppendUint64(nil, uint64(n)), msg)
	}
	if s.batch {
		return s.db.Batch(fn)
	}
	return s.db.Update(fn)
}

func (s boltSink) stored() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket([]byte("m")).Stats().KeyN; return nil })
	return n, err
}

func (s boltSink) close() error { return s.db.Close() }

// sqlite-wal-full: one INSERT per message, each its own transaction, in WAL
// mode with synchronous=FULL so that a commit is on disk when it returns;
// through one connection (the senders queue for it) or a pool of one per
// sender (they queue for SQLite's write lock).
type sqliteSink struct{ db *sql.DB }

func openSQLite(conns int) func(tb testing.TB, dir string, senders int) sink {
	return func(tb testing.TB, dir string, _ int) sink {
		dsn := "file:" + filepath.Join(dir, "msgs.sqlite") +
			"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(60000)"
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			tb.Fatal(err)
		}
		db.SetMaxOpenConns(conns)
		db.SetMaxIdleConns(conns)
		if _, err := db.Exec(`CREATE TABLE msgs (id INTEGER PRIMARY KEY, sender INTEGER NOT NULL, body BLOB NOT NULL)`); err != nil {
			tb.Fatal(err)
		}
		return sqliteSink{db}
	}
}

func (s sqliteSink) put(ctx context.Context, sender, n int, msg []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO msgs (id, sender, body) VALUES (?, ?, ?)`, n, sender, msg)
	return err
}

func (s sqliteSink) stored() (int, error) {
	var n int
	err := s.db.QueryRow(`SELECT count(*) FROM msgs`).Scan(&n)
	return n, err
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
