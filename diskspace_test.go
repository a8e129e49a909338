package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/store"
	"reportbot/web"
)

// TestDiskNearlyFullToldOnce runs the real-time loop in a synctest bubble
// over a disk whose use moves hour by hour: the admins hear when it first
// reaches 90 %, not while it stays there or dips to 87 %, and again only
// after it fell below 85 % and rose once more.
func TestDiskNearlyFullToldOnce(t *testing.T) {
	inBubble(t, "2026-06-03 08:00", func(t *testing.T, f *files, dir string, now func() time.Time) {
		start := now()
		percent := []int{50, 91, 95, 87, 92, 80, 93, 93} // by hour
		space := func(string) (store.Space, error) {
			used := percent[min(int(now().Sub(start)/time.Hour), len(percent)-1)]
			return store.Space{Used: uint64(used) << 20, Free: uint64(100-used) << 20}, nil
		}
		chat := &memChat{now: now}
		app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: dir,
			Transport: chat, Now: now, Logger: zerolog.Nop(), DiskSpace: space})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- app.Run(ctx) }()
		time.Sleep(time.Duration(len(percent)) * time.Hour)
		var st web.Status
		app.diskStatus(&st)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		app.Close()
		var told []string
		for _, m := range chat.all() {
			if strings.HasPrefix(m, "管理员: ") && strings.Contains(m, "磁盘快满了") {
				told = append(told, m)
			}
		}
		if len(told) != 2 || !strings.Contains(told[0], "已用91%，只剩9.0 MB") || !strings.Contains(told[1], "已用93%") {
			t.Errorf("the admins were told %q, want twice: at 91%% and at 93%%", told)
		}
		if !st.DiskKnown || st.DiskFree != 7<<20 || st.DiskUsedPercent != 93 || !st.DiskNearlyFull {
			t.Errorf("status %+v", st)
		}
	})
}

// TestDiskUnknown: where the disk cannot be read, nothing is told and the
// status page says nothing of it.
func TestDiskUnknown(t *testing.T) {
	f, err := loadFiles("", "")
	if err != nil {
		t.Fatal(err)
	}
	chat := &memChat{now: time.Now}
	app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: t.TempDir(),
		Transport: chat, Now: time.Now, Logger: zerolog.Nop(),
		DiskSpace: func(string) (store.Space, error) { return store.Space{}, errors.ErrUnsupported }})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	app.checkDisk(context.Background())
	var st web.Status
	app.diskStatus(&st)
	if st.DiskKnown || len(chat.all()) != 0 {
		t.Errorf("status %+v, sent %q", st, chat.all())
	}
}
