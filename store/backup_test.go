package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"reportbot/bot"
	"reportbot/schedules"
)

func TestBackupAndRestore(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	add := func(id string) {
		if _, err := db.AddSubmission(&bot.Submission{MsgID: id, Unit: "东风社区", Task: "weekly", Period: 1, Kind: schedules.Text, Text: id}, nil); err != nil {
			t.Fatal(err)
		}
	}
	add("before-1")
	add("before-2")
	db.Bind(bot.Member{Name: "张三"}, "东风社区")
	backups := filepath.Join(dir, BackupDir)
	at := time.Date(2026, 6, 4, 3, 0, 0, 0, time.UTC)
	var path string
	for i := 0; i < 4; i++ {
		if path, err = db.Backup(backups, at.Add(time.Duration(i)*24*time.Hour), 3); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := Backups(backups)
	if len(list) != 3 || filepath.Base(list[0]) != "reportbot-20260605-030000.db" || list[2] != path {
		t.Errorf("kept %v", list)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v", st.Mode().Perm())
	}
	add("after")
	// While the bot holds the database, a restore refuses.
	if _, err := Restore(dir, path, at); !errors.Is(err, ErrLocked) {
		t.Errorf("restore under a running bot: %v", err)
	}
	db.Close()
	kept, err := Restore(dir, path, at)
	if err != nil {
		t.Fatal(err)
	}
	db = open(t, dir)
	subs, _ := db.PeriodSubmissions("weekly", 1)
	if len(subs) != 2 || subs[0].MsgID != "before-1" || subs[1].MsgID != "before-2" {
		t.Errorf("restored %v", subs)
	}
	if u, _ := db.Binding(bot.Member{Name: "张三"}); u != "东风社区" {
		t.Errorf("binding %q", u)
	}
	// The database from before the restore is kept, with the later message.
	old, err := OpenFile(kept, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if subs, _ := old.PeriodSubmissions("weekly", 1); len(subs) != 3 {
		t.Errorf("kept database has %d submissions", len(subs))
	}
	// A file that is not a backup is refused and nothing changes.
	junk := filepath.Join(t.TempDir(), "junk.db")
	os.WriteFile(junk, []byte("not a database"), 0o600)
	if _, err := Restore(t.TempDir(), junk, at); err == nil {
		t.Error("restored junk")
	}
}
