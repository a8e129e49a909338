package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/export"
	"reportbot/photo/phototest"
	"reportbot/schedules"
)

// TestPrintCopyMadeAfterReceipt: a photo's print-size copy is made in the
// background once it is stored. While the copy is held up, the message is
// handled and its receipt sent; then the copy is kept in the store, upright.
func TestPrintCopyMadeAfterReceipt(t *testing.T) {
	f, err := loadFiles("", "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 3, 16, 30, 0, 0, f.schedule.Location)
	chat := &memChat{now: func() time.Time { return now }}
	app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: t.TempDir(),
		Transport: chat, Now: func() time.Time { return now }, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	started, release, finished := make(chan string, 1), make(chan struct{}), make(chan struct{})
	made := app.prints.make
	app.prints.make = func(sum string) { started <- sum; <-release; made(sum); close(finished) }
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	ctx := context.Background()
	from := bot.Member{Name: "东风社区-张三"}
	if err := app.Deliver(ctx, bot.Message{ID: "1", Sender: from, Kind: schedules.Text, Text: "本周典型做法：消防疏散演练。"}); err != nil {
		t.Fatal(err)
	}
	turned := phototest.WithExif(phototest.JPEG(phototest.Noisy(1600, 1200, 5)), 6)
	h := sha256.Sum256(turned)
	sum := hex.EncodeToString(h[:])
	if err := app.Deliver(ctx, bot.Message{ID: "2", Sender: from, Kind: schedules.Image, FileName: "p.jpg", Size: int64(len(turned)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(turned)), nil }}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-started:
		if got != sum {
			t.Fatalf("copy made of %s, want %s", got, sum)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no print copy started")
	}
	// Handled, the copy still held up: the receipt goes out without it.
	if kept, _ := app.Store.PrintCopy(sum); kept != nil {
		t.Fatal("a copy was kept before it was made")
	}
	now = now.Add(time.Hour)
	if err := app.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(chat.all(), "\n"); !strings.Contains(got, "已收到 东风社区") {
		t.Errorf("no receipt while the copy was held up:\n%s", got)
	}
	close(release)
	// Made once released, however long a loaded machine takes to scale it.
	<-finished
	kept, err := app.Store.PrintCopy(sum)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(kept))
	if err != nil || cfg.Width != 960 || cfg.Height != 1280 {
		t.Errorf("kept copy %d×%d, %v; want 960×1280", cfg.Width, cfg.Height, err)
	}
	if orig, _ := app.Store.Blob(sum); !bytes.Equal(orig, turned) {
		t.Error("the original changed")
	}

	// The 汇编 then embeds the worker's copy and reads no original, so it
	// decodes none.
	src := &countingStore{DB: app.Store}
	e := &export.Exporter{Config: f.config, Schedule: f.schedule, Source: src, Prints: app.Store, Now: func() time.Time { return now }}
	var out bytes.Buffer
	if err := e.Report(&out, f.schedule.TaskByID("weekly"), 1); err != nil {
		t.Fatal(err)
	}
	if src.reads != 0 {
		t.Errorf("the 汇编 read %d originals; the worker's copy was kept", src.reads)
	}
	if !bytes.Contains(out.Bytes(), kept) {
		t.Error("the 汇编 does not hold the worker's copy")
	}
}

// TestPrinterNeverWaits: a full queue drops the photo (made on first use)
// rather than hold up the message.
func TestPrinterNeverWaits(t *testing.T) {
	p := &printer{queue: make(chan string, 1), stop: make(chan struct{}), done: make(chan struct{}), make: func(string) {}}
	done := make(chan struct{})
	go func() {
		for i := 0; i < 3; i++ {
			p.add(bot.Submission{Blob: strings.Repeat("a", 64)})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("add waited on a full queue")
	}
	p.start()
	p.close()
}
