package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainImportsNoAdapter keeps the layers apart: the domain (bot, schedules)
// must build without any chat platform, storage engine, file watcher or HTTP,
// so that a new transport plugs in beside it and never into it.
func TestDomainImportsNoAdapter(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH")
	}
	forbidden := []string{
		"reportbot/wechat", "reportbot/dingtalk", "reportbot/wecom", "reportbot/console", "reportbot/web",
		"reportbot/export", "reportbot/alert", "reportbot/store",
		"github.com/eatmoreapple/openwechat", "github.com/open-dingtalk/", "github.com/gorilla/websocket",
		"go.etcd.io/bbolt", "github.com/fsnotify/fsnotify", "net/http",
	}
	for _, pkg := range []string{"reportbot/bot", "reportbot/schedules"} {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 5 {
				t.Fatalf("go list -deps %s listed too little to judge: %q", pkg, deps)
			}
			for _, dep := range deps {
				for _, f := range forbidden {
					if dep == f || strings.HasPrefix(dep, strings.TrimSuffix(f, "/")+"/") {
						t.Errorf("%s depends on %s: the domain must not import an adapter or infrastructure", pkg, dep)
					}
				}
			}
		})
	}
}
