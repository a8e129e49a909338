package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/store"
)

// runReportbot runs reportbot with args in a child process (the test binary again,
// see TestMain), where a crash would show as what it is: a signal, a
// goroutine dump.
func runReportbot(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "REPORTBOT_MAIN_ARGS="+strings.Join(args, "\n"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.Exited():
		code = exit.ExitCode()
	default:
		t.Fatalf("reportbot %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return code, out.String(), errOut.String()
}

// hashDataDir is every file of a data directory and its hash.
func hashDataDir(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		out[path] = sha256.Sum256(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func copyDataDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDamagedFilesRefused: a truncated, a zero-byte and a random-bytes file,
// as the live database and as a backup, each end the command with one
// message that says what is wrong and what to run, exit code 3, no crash,
// and not a byte of the data directory changed; the restore the message
// names then brings the bot back.
func TestDamagedFilesRefused(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	script := filepath.Join(dir, "s.txt")
	os.WriteFile(script, []byte("/time 2026-06-03 10:00\n"+
		"东风社区-张三: 本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。\n"+
		"街道应急办-王科 -> bot: 备份\n"+
		"西湖社区-李四: 本周典型做法：西湖社区走访独居老人二十三户，检查燃气软管。\n"), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"demo", "--script", script, "--data", good}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("demo: %s", stderr.String())
	}
	backups, _ := store.Backups(filepath.Join(good, store.BackupDir))
	if len(backups) != 1 {
		t.Fatalf("backups %v", backups)
	}
	goodBackup := filepath.Base(backups[0])
	live, err := os.ReadFile(filepath.Join(good, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(17, 17))
	noise := make([]byte, 64<<10)
	for i := range noise {
		noise[i] = byte(r.UintN(256))
	}
	kinds := []struct {
		name, reason string
		data         []byte
	}{
		{"truncated", "后面一段缺了", live[:len(live)*2/3]},
		{"zero bytes", "0 字节", []byte{}},
		{"random bytes", "不是 reportbot 的数据库文件", noise},
	}
	// A damaged file sorts as the newest backup in every case: the message
	// must pass over it to the good one.
	const newest = "reportbot-20991231-235959.db"
	crashed := func(t *testing.T, stderr string) {
		t.Helper()
		for _, s := range []string{"panic", "goroutine", "SIGBUS", "signal", "fatal error"} {
			if strings.Contains(stderr, s) {
				t.Fatalf("the child crashed:\n%s", stderr)
			}
		}
	}
	for _, k := range kinds {
		t.Run("live database "+k.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			copyDataDir(t, good, data)
			os.WriteFile(filepath.Join(data, store.FileName), k.data, 0o600)
			os.WriteFile(filepath.Join(data, store.BackupDir, newest), k.data, 0o600)
			before := hashDataDir(t, data)
			wantBackup := filepath.Join(data, store.BackupDir, goodBackup)
			restoreLine := "reportbot restore --data " + data + " " + wantBackup
			for _, args := range [][]string{
				{"run", "--config", "config.example.toml", "--data", data},
				{"demo", "--script", script, "--data", data},
				{"export", "--data", data, "--out", filepath.Join(t.TempDir(), "out")},
			} {
				code, _, stderr := runReportbot(t, args...)
				crashed(t, stderr)
				if code != exitDamaged || !strings.Contains(stderr, k.reason) || !strings.Contains(stderr, "损坏了，没有打开它") ||
					!strings.Contains(stderr, restoreLine) || strings.Count(stderr, "reportbot "+args[0]+":") != 1 {
					t.Errorf("%s: exit %d, want %d, the reason %q and %q in:\n%s", args[0], code, exitDamaged, k.reason, restoreLine, stderr)
				}
			}
			if after := hashDataDir(t, data); !sameHashes(before, after) {
				t.Fatalf("the data directory changed:\nbefore %v\nafter  %v", before, after)
			}
			// The command the message names works, and the bot starts again.
			if code, _, stderr := runReportbot(t, strings.Fields(restoreLine)[1:]...); code != 0 {
				t.Fatalf("%s: exit %d: %s", restoreLine, code, stderr)
			}
			if code, out, stderr := runReportbot(t, "demo", "--script", script, "--data", data); code != 0 || !strings.Contains(out, "西湖社区") {
				t.Fatalf("demo after the restore: exit %d: %s", code, stderr)
			}
		})
		t.Run("backup "+k.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			copyDataDir(t, good, data)
			damagedBackup := filepath.Join(data, store.BackupDir, newest)
			os.WriteFile(damagedBackup, k.data, 0o600)
			before := hashDataDir(t, data)
			for _, args := range [][]string{
				{"restore", "--data", data, newest},
				{"restore", "--data", data, damagedBackup},
				{"export", "--data", data, "--db", damagedBackup, "--out", filepath.Join(t.TempDir(), "out")},
			} {
				code, _, stderr := runReportbot(t, args...)
				crashed(t, stderr)
				if code != exitDamaged || !strings.Contains(stderr, k.reason) || !strings.Contains(stderr, "数据库没有改动") ||
					!strings.Contains(stderr, filepath.Join(data, store.BackupDir, goodBackup)) {
					t.Errorf("%s: exit %d, want %d and the reason %q in:\n%s", strings.Join(args, " "), code, exitDamaged, k.reason, stderr)
				}
			}
			if after := hashDataDir(t, data); !sameHashes(before, after) {
				t.Fatalf("the data directory changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

func sameHashes(a, b map[string][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestCompactCLI: reportbot compact refuses under a running bot, shrinks a
// stopped one's file with its data intact, and refuses a damaged one as the
// other commands do.
func TestCompactCLI(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"demo", "--script", "testdata/june.txt", "--data", data}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("demo: %s", stderr.String())
	}
	f, _ := loadFiles("", "")
	app, err := OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: data,
		Transport: &memChat{now: time.Now}, Now: time.Now, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runReportbot(t, "compact", "--data", data); code != 1 || !strings.Contains(stderr, "机器人正在运行") {
		t.Errorf("compact under a running bot: exit %d, %s", code, stderr)
	}
	app.Close()
	db, err := store.Open(data, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := db.PeriodSubmissions("weekly", 1)
	db.Close()
	code, out, errOut := runReportbot(t, "compact", "--data", data)
	if code != 0 || !strings.Contains(out, "已压缩") || !strings.Contains(out, "before-restore") {
		t.Fatalf("compact: exit %d, %s %s", code, out, errOut)
	}
	db, err = store.Open(data, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := db.PeriodSubmissions("weekly", 1)
	db.Close()
	if len(want) == 0 || len(got) != len(want) {
		t.Errorf("%d submissions after compacting, %d before", len(got), len(want))
	}
	live := filepath.Join(data, store.FileName)
	os.Truncate(live, 0)
	if code, _, stderr := runReportbot(t, "compact", "--data", data); code != exitDamaged || !strings.Contains(stderr, "0 字节") {
		t.Errorf("compact of a zero-byte database: exit %d, %s", code, stderr)
	}
}
