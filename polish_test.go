package main

import (
	"bytes"
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
