package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"reportbot/store"
)

func TestRetentionSettings(t *testing.T) {
	unit := "\n[wechat]\ngroup = \"安全生产工作群\"\n\n[[unit]]\nname = \"东风社区\"\n"
	for _, tt := range []struct {
		name    string
		file    string
		want    retentionConfig
		wantErr string
	}{
		{"defaults", unit, retentionConfig{KeepDays: 30, ExportDays: 30, DailyAt: "04:00"}, ""},
		{"the example", string(exampleConfig), retentionConfig{KeepDays: 30, ExportDays: 30, DailyAt: "04:00"}, ""},
		{"set", "[retention]\nkeep_days = 60\nexports_days = 7\ndaily_at = \"none\"\n" + unit, retentionConfig{KeepDays: 60, ExportDays: 7, DailyAt: "none"}, ""},
		{"too short a margin", "[retention]\nkeep_days = 3\n" + unit, retentionConfig{}, "keep_days = 3：至少写 7"},
		{"negative exports", "[retention]\nexports_days = -1\n" + unit, retentionConfig{}, "exports_days = -1"},
		{"bad time", "[retention]\ndaily_at = \"4点\"\n" + unit, retentionConfig{}, `daily_at = "4点"`},
		{"typo", "[retention]\nkeepdays = 60\n" + unit, retentionConfig{}, `"retention.keepdays"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseSettings("config.toml", []byte(tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "config.toml") {
					t.Fatalf("error %v, want one naming the file and %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Retention != tt.want {
				t.Errorf("retention %+v, want %+v", s.Retention, tt.want)
			}
		})
	}
}

// TestDailyMaintenance runs the real-time loop in a synctest bubble over a
// night of June: at 04:00 the ids and sent-log entries from before the open
// campaign (less the margin) go, and so do exports older than 30 days; the
// recent ones and a folder that is not an export stay.
func TestDailyMaintenance(t *testing.T) {
	f, err := loadFiles("", "")
	if err != nil {
		t.Fatal(err)
	}
	loc := f.schedule.Location
	dir := t.TempDir()
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 10, 0, 0, 0, loc) }
	// June's campaign takes reports from May 25th: with 30 days' margin,
	// what was recorded from April 25th on stays.
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for id, at := range map[string]time.Time{"old": day(4, 20), "recent": day(4, 30)} {
		if _, err := db.FirstSeen(id, at); err != nil {
			t.Fatal(err)
		}
		if _, err := db.MarkSent("key-"+id, at, ""); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	exports := filepath.Join(dir, "exports")
	for name, at := range map[string]time.Time{"20260420-100000": day(4, 20), "20260530-100000": day(5, 30), "我的材料": day(1, 1)} {
		if err := os.MkdirAll(filepath.Join(exports, name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(filepath.Join(exports, name), at, at); err != nil {
			t.Fatal(err)
		}
	}
	synctest.Test(t, func(t *testing.T) {
		origin := time.Now()
		start := time.Date(2026, 6, 3, 20, 0, 0, 0, loc)
		now := func() time.Time { return start.Add(time.Since(origin)) }
		app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: dir,
			Transport: &memChat{now: now}, Now: now, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		defer app.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- app.Run(ctx) }()
		time.Sleep(7*time.Hour + 59*time.Minute) // 03:59: not yet
		synctest.Wait()
		if seen, _ := app.Store.Seen("old"); !seen {
			t.Error("pruned before 04:00")
		}
		time.Sleep(2 * time.Minute) // 04:01
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			id   string
			want bool
		}{{"old", false}, {"recent", true}} {
			seen, _ := app.Store.Seen(tt.id)
			sent, _ := app.Store.IsSent("key-" + tt.id)
			if seen != tt.want || sent != tt.want {
				t.Errorf("%s: seen %v, sent-log %v; want %v", tt.id, seen, sent, tt.want)
			}
		}
		var left []string
		entries, _ := os.ReadDir(exports)
		for _, e := range entries {
			left = append(left, e.Name())
		}
		if got := strings.Join(left, " "); got != "20260530-100000 我的材料" {
			t.Errorf("exports left: %s", got)
		}
	})
}
