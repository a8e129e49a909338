package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSubcommandHelpIsChinese: every subcommand's --help says how to use it
// in Chinese, as reportbot --help does, never Go's "Usage of demo:".
func TestSubcommandHelpIsChinese(t *testing.T) {
	for _, cmd := range []string{"run", "demo", "check", "export", "restore"} {
		t.Run(cmd, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run([]string{cmd, "--help"}, nil, &stdout, &stderr); code != 0 {
				t.Errorf("exit %d", code)
			}
			out := stdout.String() + stderr.String()
			if !strings.HasPrefix(out, "用法：reportbot "+cmd) || strings.Contains(out, "Usage of") {
				t.Errorf("--help prints:\n%s", out)
			}
		})
	}
}

// TestConsoleTimeStepsByDays: /time +1d moves the demo's clock a calendar
// day, and what falls due in that day is sent on the way.
func TestConsoleTimeStepsByDays(t *testing.T) {
	out := play(t, "/time 2026-06-03 10:00\n/time +1d\n街道应急办-王科 -> bot: 任务\n")
	msgs := botMessages(t, out)
	if len(msgs) == 0 {
		t.Fatalf("no messages:\n%s", out)
	}
	last := msgs[len(msgs)-1]
	if got := last.at.Format("2006-01-02 15:04"); got != "2026-06-04 10:00" {
		t.Errorf("the answer after /time +1d is stamped %s:\n%s", got, out)
	}
	nudged := false
	for _, m := range msgs {
		nudged = nudged || (m.at.Format("2006-01-02 15:04") == "2026-06-04 10:00" && strings.Contains(m.text, "催报"))
	}
	if !nudged {
		t.Errorf("the 催报 due at 2026-06-04 10:00 was not sent on the way:\n%s", out)
	}
}

// TestDemoSaysWhereExportsWent: what 导出 wrote in the demo is still there
// when it ends, and stderr says where: under --data when given, else in
// the temporary directory, of which nothing else is left.
func TestDemoSaysWhereExportsWent(t *testing.T) {
	script := filepath.Join(t.TempDir(), "export.txt")
	if err := os.WriteFile(script, []byte("/time 2026-06-05 10:00\n东风社区-张三: 本周典型做法：开展消防演练\n街道应急办-王科 -> bot: 导出\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		data bool
	}{{"with --data", true}, {"in a temporary directory", false}} {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			args := []string{"demo", "--script", script}
			data := filepath.Join(t.TempDir(), "data")
			if tt.data {
				args = append(args, "--data", data)
			}
			var stdout, stderr bytes.Buffer
			if code := run(args, nil, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			m := regexp.MustCompile(`演示中“导出”的文件(?:在|留在) (\S+?)(?:（|\n)`).FindStringSubmatch(stderr.String())
			if m == nil {
				t.Fatalf("stderr does not say where the exports are:\n%s", stderr.String())
			}
			files, _ := filepath.Glob(filepath.Join(m[1], "*", "*.xlsx"))
			if len(files) == 0 {
				t.Errorf("no workbook under %s", m[1])
			}
			if tt.data {
				if !strings.HasPrefix(m[1], data) {
					t.Errorf("exports at %s, not under --data %s", m[1], data)
				}
				if _, err := os.Stat(filepath.Join(data, "reportbot.db")); err != nil {
					t.Errorf("the --data directory lost its database: %v", err)
				}
				return
			}
			left, _ := filepath.Glob(filepath.Join(filepath.Dir(m[1]), "*"))
			if len(left) != 1 || filepath.Base(left[0]) != "exports" {
				t.Errorf("the temporary directory keeps %v, want only exports", left)
			}
		})
	}
}
