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
