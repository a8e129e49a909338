package main

// Process benchmarks: reportbot as users run it, a process of its own over a
// data directory, driven through the console (`reportbot demo --script -`),
// its memory read from /proc. The 1,000,000-submission store is built by the
// store package's scale benchmark, kept where REPORTBOT_SCALE_DIR says:
//
//	REPORTBOT_SCALE_DIR=/tmp/scale go test -run '^$' -bench RollcallAtScale ./store
//	REPORTBOT_SCALE_DIR=/tmp/scale go test -run '^$' -bench 'Startup|Memory' -benchtime 20x .
//
// bash bench/run does both.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkStartup: from process start to the answer to a first question
// (未报 for the current period, over all 1,000 units), over an empty data
// directory (created at start) and over the 1,000,000-submission store.
func BenchmarkStartup(b *testing.B) {
	bin := buildBot(b)
	for _, c := range []struct{ name, data string }{{"empty", ""}, {"1M-submissions", os.Getenv("REPORTBOT_SCALE_DIR")}} {
		b.Run(c.name, func(b *testing.B) {
			if c.name != "empty" && c.data == "" {
				b.Skip("REPORTBOT_SCALE_DIR is not set: bash bench/run builds the store first")
			}
			files := scaleFiles(b)
			var ready []time.Duration
			var rss []float64
			for b.Loop() {
				dir := c.data
				if dir == "" {
					dir = filepath.Join(b.TempDir(), "data")
				}
				start := time.Now()
				p := startConsoleBot(b, bin, files, dir)
				p.ask("未报")
				ready = append(ready, time.Since(start))
				rss = append(rss, p.rssMB())
				p.stop()
			}
			b.ReportMetric(median(ready).Seconds()*1000, "ready-ms")
			b.ReportMetric(medianF(rss), "rss-MB")
		})
	}
}

// BenchmarkMemory: the resident memory of the bot idle over the 1,000,000
// submissions, right after 10,000 photos of 200 KB posted in a burst, and
// once the burst has settled. It runs once, whatever -benchtime says.
func BenchmarkMemory(b *testing.B) {
	scale := os.Getenv("REPORTBOT_SCALE_DIR")
	if scale == "" {
		b.Skip("REPORTBOT_SCALE_DIR is not set: bash bench/run builds the store first")
	}
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("REPORTBOT_BENCH_IMAGES")); err == nil {
		n = v
	}
	bin := buildBot(b)
	files := scaleFiles(b)
	// A copy: the photos must not grow the store the other benchmarks read.
	dir := filepath.Join(b.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	copyFile(b, filepath.Join(scale, "reportbot.db"), filepath.Join(dir, "reportbot.db"))
	photos := writePhotos(b, n)
	for b.Loop() {
		p := startConsoleBot(b, bin, files, dir)
		p.ask("未报")
		time.Sleep(3 * time.Second)
		idle := p.rssMB()
		// The photos go in while the transcript is read: the console answers
		// the question after them once every photo is stored.
		go func() {
			for i, photo := range photos {
				fmt.Fprintf(p.in, "第%d社区-报送员: /image %s\n", i%1000, photo)
			}
			p.send("未报")
		}()
		p.answer("未报")
		burst := p.rssMB()
		time.Sleep(10 * time.Second)
		p.ask("未报")
		settled := p.rssMB()
		b.ReportMetric(idle, "idle-MB")
		b.ReportMetric(burst, "after-burst-MB")
		b.ReportMetric(settled, "settled-MB")
		// Resident memory is the program's own (anonymous: the Go heap and
		// stacks) plus the pages of the database file it has mapped, which the
		// kernel can drop at any time as page cache.
		b.ReportMetric(p.status("RssAnon")/1024, "settled-anon-MB")
		b.ReportMetric(p.status("RssFile")/1024, "settled-file-MB")
		b.ReportMetric(p.status("VmHWM")/1024, "peak-MB")
		p.stop()
	}
}

// buildBot builds reportbot as the Dockerfile does.
func buildBot(b *testing.B) string {
	if runtime.GOOS != "linux" {
		b.Skip("the process benchmarks read the bot's memory from /proc")
	}
	bin := filepath.Join(b.TempDir(), "reportbot")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// scaleFiles writes the config and schedule the scale store was built for:
// 1,000 units, weekly reports every Thursday of 2026.
func scaleFiles(b *testing.B) (dir string) {
	dir = b.TempDir()
	var cfg strings.Builder
	cfg.WriteString("[bot]\nname = \"报送机器人\"\ngroup = \"测试群\"\nadmins = [\"王科长\"]\n")
	for i := range 1000 {
		fmt.Fprintf(&cfg, "[[unit]]\nname = \"第%d社区\"\n", i)
	}
	weekly, err := os.ReadFile(filepath.Join("store", "testdata", "weekly-2026.toml"))
	if err != nil {
		b.Fatal(err)
	}
	sched := string(weekly) + "[[remind]]\ntask = \"weekly\"\nkind = \"rollcall\"\nwhen = \"+1h\"\n"
	for name, text := range map[string]string{"config.toml": cfg.String(), "schedule.toml": sched} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// consoleBot is a running `reportbot demo --script -`.
type consoleBot struct {
	b     *testing.B
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
}

func startConsoleBot(b *testing.B, bin, files, data string) *consoleBot {
	cmd := exec.Command(bin, "demo", "--config", filepath.Join(files, "config.toml"),
		"--schedule", filepath.Join(files, "schedule.toml"), "--data", data, "--script", "-", "--log-level", "error")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &consoleBot{b: b, cmd: cmd, in: in, lines: make(chan string, 1024)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 4<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	return p
}

// ask sends a coordinator's private question and waits for the answer: the
// console handles lines in order, so everything sent before is done then.
func (p *consoleBot) ask(q string) {
	p.send(q)
	p.answer(q)
}

func (p *consoleBot) send(q string) { fmt.Fprintf(p.in, "王科 -> bot: %s\n", q) }

// answer reads the transcript up to the answer to a question.
func (p *consoleBot) answer(q string) {
	for l := range p.lines {
		if strings.Contains(l, "机器人 -> 王科:") {
			return
		}
	}
	p.b.Fatalf("the bot ended without answering %q", q)
}

// status is a field of /proc/PID/status in kB.
func (p *consoleBot) status(field string) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		p.b.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb
		}
	}
	p.b.Fatalf("no %s in /proc status (this benchmark needs Linux)", field)
	return 0
}

func (p *consoleBot) rssMB() float64 { return p.status("VmRSS") / 1024 }

func (p *consoleBot) stop() {
	p.in.Close()
	for range p.lines {
	}
	if err := p.cmd.Wait(); err != nil {
		p.b.Fatal(err)
	}
}

// writePhotos writes n different photo-sized PNGs: one picture of noise,
// with the photo's number after its end, so that each is stored on its own.
func writePhotos(b *testing.B, n int) []string {
	img := image.NewGray(image.Rect(0, 0, 450, 450))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	paths := make([]string, n)
	for i := range paths {
		paths[i] = filepath.Join(dir, fmt.Sprintf("%05d.png", i))
		data := binary.BigEndian.AppendUint64(bytes.Clone(buf.Bytes()), uint64(i))
		if err := os.WriteFile(paths[i], data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return paths
}

func copyFile(b *testing.B, from, to string) {
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianF(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
