package main

import (
	"strings"
	"testing"
)

func TestSettingsSections(t *testing.T) {
	unit := "\n[[unit]]\nname = \"东风社区\"\n"
	for _, tt := range []struct {
		name    string
		file    string
		group   string // the WeChat group the settings end with
		wantErr string // "" for none
	}{
		{"example", string(exampleConfig), "XX街道安全生产工作群", ""},
		{"older file: group in [bot]", "[bot]\ngroup = \"旧群\"\n" + unit, "旧群", ""},
		{"[wechat] group wins", "[bot]\ngroup = \"旧群\"\n[wechat]\ngroup = \"新群\"\n" + unit, "新群", ""},
		{"typo in an adapter's section", "[wechat]\nsend_intervall = \"2s\"\n" + unit, "", `"wechat.send_intervall"`},
		{"typo in the domain's section", "[bot]\nadmin = [\"王科长\"]\n" + unit, "", `"bot.admin"`},
		{"unknown section", "[dingding]\nx = 1\n" + unit, "", `"dingding.x"`},
		{"unknown platform", "[bot]\ntransport = \"qq\"\n" + unit, "", `transport = "qq"`},
		{"钉钉 without its credentials", "[bot]\ntransport = \"dingtalk\"\n" + unit, "", "[dingtalk] 没有 client_id"},
		{"typo in the 钉钉 section", "[dingtalk]\nclientid = \"x\"\n" + unit, "", `"dingtalk.clientid"`},
		{"adapter's own check", "[wechat]\nsend_interval = \"100ms\"\n" + unit, "", "send_interval 至少"},
		{"alert format", "[alert]\nformat = \"xml\"\n" + unit, "", `format = "xml"`},
		{"backup time", "[backup]\ndaily_at = \"25:00\"\n" + unit, "", `daily_at = "25:00"`},
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
			if s.Wechat.Group != tt.group || s.Transport != "wechat" {
				t.Errorf("group %q transport %q", s.Wechat.Group, s.Transport)
			}
			if s.Backup.Keep != 7 || s.Wechat.SendInterval.Duration == 0 || s.Alert.Format != "wecom" {
				t.Errorf("defaults not filled: %+v", s)
			}
		})
	}
}
