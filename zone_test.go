package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestTimesInCampaignZone: on a server whose zone is UTC (a container's), the
// times people read are the campaign's (Asia/Shanghai): 03:52 UTC is 11:52
// in the log lines, the backup and export names and the transport's status.
func TestTimesInCampaignZone(t *testing.T) {
	defer func(local *time.Location) { time.Local = local }(time.Local)
	time.Local = time.UTC // the process's zone, as in the container; the code must not use it
	defer func(now func() time.Time) { timeNow = now }(timeNow)
	utc := time.Date(2026, 6, 3, 3, 52, 0, 0, time.UTC)
	timeNow = func() time.Time { return utc }
	f, err := loadFiles("", "")
	if err != nil {
		t.Fatal(err)
	}
	if f.schedule.Location.String() != "Asia/Shanghai" {
		t.Fatalf("the example campaign's zone is %v", f.schedule.Location)
	}

	t.Run("log lines", func(t *testing.T) {
		var buf bytes.Buffer
		log, err := newLogger(&buf, "info", f.schedule.Location)
		if err != nil {
			t.Fatal(err)
		}
		log.Info().Msg("x")
		if !strings.Contains(buf.String(), `"time":"2026-06-03T11:52:00+08:00"`) {
			t.Errorf("log line %s", buf.String())
		}
	})

	t.Run("backup and export names", func(t *testing.T) {
		data := t.TempDir()
		app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: data,
			Transport: &memChat{now: timeNow}, Now: timeNow, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		defer app.Close()
		path, err := app.Bot.Backup()
		if err != nil {
			t.Fatal(err)
		}
		if got := filepath.Base(path); got != "reportbot-20260603-115200.db" {
			t.Errorf("backup named %s", got)
		}
		if got := exportFolder(f.schedule, utc); !strings.HasPrefix(got, "20260603-115200") {
			t.Errorf("export folder %s", got)
		}
		if h := app.Bot.Now().Hour(); h != 11 {
			t.Errorf("the bot's clock reads %d o'clock", h)
		}
	})

	t.Run("transport status and alerts", func(t *testing.T) {
		s := *f.settings
		s.Transport = "wechat"
		s.Wechat.Group = "群"
		s.Alert.Webhook = "http://127.0.0.1:1/alert"
		tr, _, err := newTransport(&s, t.TempDir(), io.Discard, zerolog.Nop(), f.now)
		if err != nil {
			t.Fatal(err)
		}
		if since := tr.Status().Since; since.Hour() != 11 || since.Location() != f.schedule.Location {
			t.Errorf("the status page's since reads %v", since)
		}
	})
}
