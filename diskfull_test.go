//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/console"
	"reportbot/schedules"
	"reportbot/store"
)

// diskFullEnv hands the child of TestDiskFullTellsTheAdminsTwice the
// directory where it mounts its small filesystem.
const diskFullEnv = "REPORTBOT_DISKFULL_DIR"

// diskFullParentNS is the parent's mount namespace: a child still in it must
// not mount anything (it would be the machine's own mount table).
const diskFullParentNS = "REPORTBOT_DISKFULL_PARENT_NS"

// TestDiskFullTellsTheAdminsTwice runs the bot over a real bbolt file on a
// filesystem that really fills up: a 2 MiB tmpfs, mounted by a child process
// in mount (and, unprivileged, user) namespaces of its own. Where the machine
// allows no namespace or mount, the child limits its file size with
// RLIMIT_FSIZE instead, so that the kernel refuses bbolt's writes past the
// written part of the file (EFBIG rather than ENOSPC); the test logs which.
// Over eight minutes of failing photos and small texts the admins hear
// exactly twice: when writes start failing, and once they have worked for
// bot.AlertQuiet after space came back. Nothing acknowledged is lost.
func TestDiskFullTellsTheAdminsTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	inNamespace := []*syscall.SysProcAttr{
		{Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
			UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
			GidMappingsEnableSetgroups: false},
		{Cloneflags: syscall.CLONE_NEWNS}, // root where user namespaces are off
		nil,                               // neither: the child falls back to the file size limit
	}
	for _, tt := range []struct {
		name  string
		tries []*syscall.SysProcAttr
		want  string
	}{
		{"a full tmpfs where the machine allows mounting", inNamespace, ""},
		// The fallback, run everywhere so that it is known to work.
		{"a file size limit", []*syscall.SysProcAttr{nil}, "RLIMIT_FSIZE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mnt := filepath.Join(t.TempDir(), "mnt")
			if err := os.Mkdir(mnt, 0o700); err != nil {
				t.Fatal(err)
			}
			out, err := runDiskFullChild(mnt, tt.tries)
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			if !strings.Contains(out, "--- PASS: TestDiskFullChild") {
				t.Fatalf("the child did not run the scenario:\n%s", out)
			}
			m := regexp.MustCompile(`full disk: (.*)`).FindStringSubmatch(out)
			if m == nil || !strings.Contains(m[1], tt.want) {
				t.Fatalf("the child's disk: %q, want %q\n%s", m, tt.want, out)
			}
			t.Logf("full disk: %s", m[1])
		})
	}
}

// runDiskFullChild runs TestDiskFullChild with the first process attributes
// the machine accepts and returns its output.
func runDiskFullChild(mnt string, tries []*syscall.SysProcAttr) (string, error) {
	ns, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return "", err
	}
	var refused []error
	for _, attr := range tries {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDiskFullChild$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), diskFullEnv+"="+mnt, diskFullParentNS+"="+ns)
		cmd.SysProcAttr = attr
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			refused = append(refused, err)
			continue
		}
		err := cmd.Wait()
		return fmt.Sprintf("(namespaces refused: %v)\n%s", refused, out.String()), err
	}
	return "", errors.Join(refused...)
}

// TestDiskFullChild is the scenario of TestDiskFullTellsTheAdminsTwice, run
// only in its child.
func TestDiskFullChild(t *testing.T) {
	mnt := os.Getenv(diskFullEnv)
	if mnt == "" {
		t.Skip("run by TestDiskFullTellsTheAdminsTwice in a child process")
	}
	disk := newSmallDisk(t, mnt)
	t.Logf("full disk: %s", disk.how)
	f, err := loadFiles("", "")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(mnt, "data")
	start := time.Date(2026, 6, 4, 9, 0, 0, 0, f.schedule.Location)
	clock := console.NewClock(start)
	chat := &adminCounter{}
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, NoColor: true}).Level(zerolog.WarnLevel)
	app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: dir,
		Transport: chat, Now: clock.Now, SetClock: clock.Set, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	disk.db = filepath.Join(dir, store.FileName)
	members := []string{"东风社区-张三", "西湖社区-李四", "南山村-王五", "北岭村-赵六", "刘洋", "陈静"}
	rnd := rand.New(rand.NewPCG(17, 17))
	var reports []string            // ids of the reports sent
	unanswered := map[string]bool{} // ids whose answer could not even be queued
	n := 0
	send := func(who string, kind schedules.Material, text string) {
		t.Helper()
		n++
		m := bot.Message{ID: fmt.Sprint("disk-", n), Sender: bot.Member{Name: who}, Kind: kind, Text: text, Size: -1}
		if kind == schedules.Image {
			data := noisePNG(rnd, 256) // 256 KiB that do not compress: bbolt must grow the file
			m.FileName, m.Size = "p.png", int64(len(data))
			m.Open = func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		}
		if text != "未报" {
			reports = append(reports, m.ID)
		}
		if err := app.Deliver(context.Background(), m); err != nil {
			// The reply that the store could not queue is kept in memory
			// and sent (bot.Outbox.Send): a member is always told.
			t.Errorf("message %s: %v: its sender was told nothing", m.ID, err)
			unanswered[m.ID] = true
		}
	}
	advance := func(d time.Duration) {
		t.Helper()
		if err := app.Advance(context.Background(), clock.Now().Add(d)); err != nil {
			t.Logf("advance: %v", err)
		}
	}

	// A morning of ordinary reports: the file has pages to spare when the disk fills.
	for i, who := range members {
		send(who, schedules.Text, fmt.Sprintf("本周典型做法：第%d条，开展了安全检查和宣传活动。", i))
	}
	advance(5 * time.Minute)
	if got := chat.admins(); len(got) != 0 {
		t.Fatalf("admins told %q before the disk filled", got)
	}

	disk.fill()
	if full, err := store.DiskSpace(dir); err != nil || disk.tmpfs && full.UsedPercent() < 99 {
		t.Errorf("the full tmpfs reads %+v (%.1f%% used), %v", full, full.UsedPercent(), err)
	}
	// Eight minutes of a full disk: a photo and a small text every 40 s.
	for i := range 12 {
		send(members[i%len(members)], schedules.Image, "")
		advance(20 * time.Second)
		send(members[(i+1)%len(members)], schedules.Text, fmt.Sprintf("本周典型做法：补充第%d条，排查隐患。", i))
		if i == 5 {
			send("街道应急办-王科", schedules.Text, "未报")
		}
		advance(20 * time.Second)
	}
	lastFailure := clock.Now()
	got := chat.admins()
	if len(got) != 1 || !strings.Contains(got[0], "写不进去") {
		t.Fatalf("while the disk was full the admins were told %d times: %q, want once", len(got), got)
	}
	if !strings.Contains(got[0], disk.errText) {
		t.Errorf("the alert %q does not say %q", got[0], disk.errText)
	}
	if failed := chat.count("暂存失败"); failed < 12 {
		t.Errorf("%d members were told to send again, want at least the 12 photos", failed)
	}

	disk.free()
	// Space is back: a photo goes in at once, and the admins hear nothing yet.
	send(members[0], schedules.Image, "")
	advance(time.Minute)
	if got := chat.admins(); len(got) != 1 {
		t.Fatalf("right after space came back the admins were told %q, want nothing new", got[1:])
	}
	// Once writes have worked for the quiet period, one word that it is over.
	clock.Set(lastFailure.Add(bot.AlertQuiet))
	send(members[1], schedules.Image, "")
	advance(5 * time.Minute)
	got = chat.admins()
	if len(got) != 2 || !strings.Contains(got[1], "恢复正常") {
		t.Fatalf("admins told %d times: %q, want twice: the trouble and its end", len(got), got)
	}
	t.Logf("%d messages, %d delivered, %d told to send again, admins told %d times", n, len(chat.all()), chat.count("暂存失败"), len(got))
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	checkNothingLost(t, dir, reports, unanswered, chat)
}

// checkNothingLost reopens the store: it checks clean, every report is
// stored, or its sender was told to send it again, or it was not answered at
// all (the store could not even queue the answer: the message was never
// acknowledged); and no receipt counted more than the store holds.
func checkNothingLost(t *testing.T, dir string, reports []string, unanswered map[string]bool, chat *adminCounter) {
	t.Helper()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatalf("the store does not open after the full disk: %v", err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, id := range reports {
		s, err := db.Submission(id)
		if err != nil {
			t.Fatal(err)
		}
		if s == nil && !unanswered[id] {
			missing++
		}
	}
	if told := chat.count("暂存失败"); missing != told {
		t.Errorf("%d answered reports are not stored, %d members were told to send again", missing, told)
	}
	// The last receipt of each unit says what it holds: the store holds at least that.
	receipt := regexp.MustCompile(`^已收[到齐] (\S+) 第(\d+)期`)
	last := map[string]string{}
	for _, m := range chat.all() {
		if r := receipt.FindStringSubmatch(m.Text); r != nil {
			last[r[1]+" "+r[2]] = m.Text
		}
	}
	if len(last) == 0 {
		t.Fatal("no receipt was sent")
	}
	for key, text := range last {
		unit, p, _ := strings.Cut(key, " ")
		period, _ := strconv.Atoi(p)
		tally, err := db.UnitTally("weekly", period, unit)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			re   string
			have int
		}{{`文字(\d+)条`, tally.All.Of(schedules.Text)}, {`图片(\d+)张`, tally.All.Of(schedules.Image)}} {
			if m := regexp.MustCompile(c.re).FindStringSubmatch(text); m != nil {
				if said, _ := strconv.Atoi(m[1]); said > c.have {
					t.Errorf("%s: the receipt %q said %d, the store holds %d", key, text, said, c.have)
				}
			}
		}
	}
}

// adminCounter is the chat: it keeps what was delivered, in order.
type adminCounter struct {
	mu   sync.Mutex
	msgs []bot.Outgoing
}

func (c *adminCounter) Deliver(_ context.Context, m bot.Outgoing, begin func() error) error {
	if err := begin(); err != nil {
		return bot.Retryable(err, 0)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
	return nil
}

func (c *adminCounter) all() []bot.Outgoing {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bot.Outgoing(nil), c.msgs...)
}

func (c *adminCounter) admins() []string {
	var out []string
	for _, m := range c.all() {
		if m.ToAdmins {
			out = append(out, m.Text)
		}
	}
	return out
}

// count is how many messages to members say word.
func (c *adminCounter) count(word string) int {
	n := 0
	for _, m := range c.all() {
		if !m.ToAdmins && strings.Contains(m.Text, word) {
			n++
		}
	}
	return n
}

// noisePNG is a size×size picture of random pixels: PNG cannot shrink it.
func noisePNG(r *rand.Rand, size int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	img.Pix[3] = 255
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// smallDisk is the filesystem of the data directory, made full and freed
// again: a tmpfs filled up with a file, or else a file size limit.
type smallDisk struct {
	t       *testing.T
	mnt, db string
	how     string
	errText string // how the kernel's refusal reads
	tmpfs   bool
	limit   syscall.Rlimit // the limit before fill, for free
}

func newSmallDisk(t *testing.T, mnt string) *smallDisk {
	d := &smallDisk{t: t, mnt: mnt}
	err := errors.New("no mount namespace of its own")
	if ns, _ := os.Readlink("/proc/self/ns/mnt"); ns != "" && ns != os.Getenv(diskFullParentNS) {
		// A new mount namespace starts as a copy of the parent's, propagation
		// included: private first, so that the tmpfs never shows outside.
		err = syscall.Mount("none", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, "")
		if err == nil {
			err = syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=2m,mode=0700")
		}
	}
	if err == nil {
		d.tmpfs, d.how, d.errText = true, "a 2 MiB tmpfs filled up with a file (ENOSPC)", syscall.ENOSPC.Error()
		t.Cleanup(func() { syscall.Unmount(mnt, 0) })
		return d
	}
	d.how = fmt.Sprintf("no mount here (%v): RLIMIT_FSIZE at the file's written size (EFBIG)", err)
	d.errText = syscall.EFBIG.Error()
	return d
}

// fill leaves no room for a page bbolt has not written yet.
func (d *smallDisk) fill() {
	d.t.Helper()
	if !d.tmpfs {
		// The written part of the file, in whole pages: bbolt's file is
		// longer (it grows it ahead, sparse), and writes past the limit fail.
		st, err := os.Stat(d.db)
		if err != nil {
			d.t.Fatal(err)
		}
		written := st.Sys().(*syscall.Stat_t).Blocks * 512
		if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &d.limit); err != nil {
			d.t.Fatal(err)
		}
		lim := d.limit
		lim.Cur = uint64(written)
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			d.t.Fatal(err)
		}
		return
	}
	f, err := os.Create(filepath.Join(d.mnt, "filler"))
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	for _, size := range []int{64 << 10, 4 << 10, 512} {
		chunk := make([]byte, size)
		for {
			if _, err := f.Write(chunk); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					d.t.Fatal(err)
				}
				break
			}
		}
	}
}

// free gives the room back.
func (d *smallDisk) free() {
	d.t.Helper()
	if !d.tmpfs {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &d.limit); err != nil {
			d.t.Fatal(err)
		}
		return
	}
	if err := os.Remove(filepath.Join(d.mnt, "filler")); err != nil {
		d.t.Fatal(err)
	}
}
