package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reportbot/schedules"
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
		{"unknown section", "[dingding]\nx = 1\n" + unit, "", `[dingding]`},
		{"unknown platform", "[bot]\ntransport = \"qq\"\n" + unit, "", `transport = "qq"`},
		{"钉钉 without its credentials", "[bot]\ntransport = \"dingtalk\"\n" + unit, "", "[dingtalk] 没有 client_id"},
		{"typo in the 钉钉 section", "[dingtalk]\nclientid = \"x\"\n" + unit, "", `"dingtalk.clientid"`},
		{"企业微信 without its credentials", "[bot]\ntransport = \"wecom\"\n" + unit, "", "[wecom] 没有 bot_id"},
		{"typo in the 企业微信 section", "[wecom]\nbotid = \"x\"\n" + unit, "", `"wecom.botid"`},
		{"企业微信 webhook_key as a whole URL", "[bot]\ntransport = \"wecom\"\n[wecom]\nbot_id = \"aib1\"\nsecret = \"s\"\nwebhook_key = \"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc\"\n" + unit, "", "webhook_key 只写 key"},
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

// Each mistake an admin makes in the config file is reported at the line it
// is on (or, for what is missing, the section it belongs in), in Chinese,
// saying what to write instead.
func TestConfigErrorsNameLineAndFix(t *testing.T) {
	for _, tt := range []struct {
		name  string
		edits [][2]string // replacements made in the example file
		// mark is where the error must point: the line on which it starts in the edited file.
		mark      string
		wantInMsg string
	}{
		{"misspelt key", [][2]string{{`send_interval = "1.5s"`, `send_intervall = "1.5s"`}}, `send_intervall`, "是不是 send_interval？"},
		{"misspelt key of a unit", [][2]string{{`members = ["西湖社区-李四"]`, `member = ["西湖社区-李四"]`}}, `member =`, "是不是 members？"},
		{"key in the wrong section", [][2]string{{`format = "wecom"`, "format = \"wecom\"\naccept_friends = true"}}, `accept_friends = true`, "accept_friends 应写在 [wechat] 一节里"},
		{"misspelt section", [][2]string{{"[backup]", "[backups]"}}, "[backups]", "是不是 [backup]？"},
		{"number in quotes", [][2]string{{`max_media_mb = 20`, `max_media_mb = "20"`}}, `max_media_mb`, "不带引号的数字"},
		{"text without quotes", [][2]string{{`name = "南山村"`, `name = 3`}}, `name = 3`, "带英文双引号的文字"},
		{"duration in Chinese", [][2]string{{`receipt_delay = "1m"`, `receipt_delay = "1分钟"`}}, `receipt_delay`, `写成 "1m"`},
		{"Chinese quotes", [][2]string{{`name = "报送机器人"`, `name = “报送机器人”`}}, `name = “`, "中文标点"},
		{"unclosed header", [][2]string{{"[reports]", "[reports"}}, "[reports", "方括号或逗号不对：节名写成 [bot] 或 [[unit]]"},
		{"unit twice", [][2]string{{`name = "西湖社区"`, `name = "东风社区" # twice`}}, `name = "东风社区" # twice`, "写了两次"},
		{"member of two units", [][2]string{{`members = ["西湖社区-李四"]`, `members = ["东风社区-张三"] # again`}}, `members = ["东风社区-张三"] # again`, "一个人只能代表一个单位"},
		{"message size", [][2]string{{`max_message_chars = 1000`, `max_message_chars = 50`}}, `max_message_chars`, "至少写 100"},
		{"adapter's own check", [][2]string{{`send_interval = "1.5s"`, `send_interval = "100ms"`}}, `send_interval`, `至少 "1s"`},
		{"backup time", [][2]string{{`daily_at = "03:00"`, `daily_at = "25:00"`}}, `daily_at`, `"03:00"`},
		{"alert format", [][2]string{{`format = "wecom"`, `format = "xml"`}}, `format = "xml"`, `"wecom"`},
		{"unknown platform", [][2]string{{`transport = "wechat"`, `transport = "qq"`}}, `transport = "qq"`, "wechat、dingtalk"},
		{"no group", [][2]string{{`group = "XX街道安全生产工作群"`, `group = ""`}}, "group = \"\"", "没有写群名"},
		{"no group: in the section", [][2]string{{`group = "XX街道安全生产工作群"`, `# 群名待定`}}, "[wechat]\n# 机器人所在", "在 [wechat] 里写 group ="},
		{"钉钉 without its credentials", [][2]string{{`transport = "wechat"`, `transport = "dingtalk"`}}, "[dingtalk]\n# 企业内部应用", "没有 client_id"},
		{"企业微信 without its bot", [][2]string{{`transport = "wechat"`, `transport = "wecom"`}}, "[wecom]\n# 智能机器人", "没有 bot_id"},
		{"企业微信 ws_url", [][2]string{{`transport = "wechat"`, `transport = "wecom"`}, {`bot_id = ""`, `bot_id = "aib1"`}, {"\nsecret = \"\"", "\nsecret = \"s\""}, {`# ws_url = "wss://openws.work.weixin.qq.com"`, `ws_url = "https://openws.work.weixin.qq.com"`}}, `ws_url = "https`, "不是长连接地址"},
		{"too many members", [][2]string{{`members = ["刘洋"]`, `members = [` + strings.Repeat(`"某人", `, 101) + `]`}}, `members = ["某人"`, "最多100人"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := string(exampleConfig)
			for _, e := range tt.edits {
				if !strings.Contains(src, e[0]) {
					t.Fatalf("example has no %q", e[0])
				}
				src = strings.Replace(src, e[0], e[1], 1)
			}
			i := strings.Index(src, tt.mark)
			if i < 0 {
				t.Fatalf("no %q after the edits", tt.mark)
			}
			want := strings.Count(src[:i], "\n") + 1
			_, err := parseSettings("config.toml", []byte(src))
			var es schedules.Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T %v, want a schedules.Errors", err, err)
			}
			e := es[0]
			if e.Line != want {
				t.Errorf("error at line %d, want %d: %v", e.Line, want, es)
			}
			if !strings.HasPrefix(e.Error(), fmt.Sprintf("config.toml:%d: ", want)) || !strings.Contains(e.Msg, tt.wantInMsg) {
				t.Errorf("message %q should name the file and line and contain %q", e.Error(), tt.wantInMsg)
			}
		})
	}
}

// What a bot cannot run without is required where the file has no line for
// it: the units, the group of the platform it runs on. The demo's console
// needs no platform's settings; limits name the first thing over them.
func TestConfigRequiredAndLimits(t *testing.T) {
	units := func(n int) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "[[unit]]\nname = \"第%d社区\"\n", i)
		}
		return b.String()
	}
	group := "[wechat]\ngroup = \"安全群\"\n"
	for _, tt := range []struct {
		name     string
		file     string
		platform string
		want     string // "" for no error
		line     int
	}{
		{"no units", "[bot]\nadmins = [\"王科长\"]\n" + group, "", "没有报送单位：至少写一个 [[unit]]", 0},
		{"no group, no [wechat]", units(3), "", "没有写群名：在 [wechat] 里写 group =", 0},
		{"no group is fine for the demo", units(3), "console", "", 0},
		{"钉钉 is not needed by the demo", "[bot]\ntransport = \"dingtalk\"\n" + units(3), "console", "", 0},
		{"the demo still needs units", "[bot]\nadmins = [\"王科长\"]\n", "console", "没有报送单位", 0},
		{"1,000 units", group + units(1000), "", "", 0},
		{"1,001 units", group + units(1001), "", "最多1000个", 3 + 2*1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseSettingsFor("config.toml", []byte(tt.file), tt.platform)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.Transport == "" || len(s.Units) == 0 {
					t.Errorf("settings not filled: %+v", s)
				}
				return
			}
			var es schedules.Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("error %v, want exactly one problem", err)
			}
			if es[0].Line != tt.line || !strings.Contains(es[0].Msg, tt.want) {
				t.Errorf("%v: want line %d and %q", es[0], tt.line, tt.want)
			}
		})
	}
}

// `reportbot check` refuses a config the bot could not run with, before any
// login, saying what to add; the exit code is 1.
func TestCheckRefusesMissingGroup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	cfg := strings.Replace(string(exampleConfig), `group = "XX街道安全生产工作群"`, "", 1)
	cfg = strings.Replace(cfg, `schedule = "schedule.example.toml"`, "", 1)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	sched := filepath.Join(dir, "schedule.toml")
	if err := os.WriteFile(sched, exampleSchedule, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "--config", path, "--schedule", sched}, nil, &stdout, &stderr); code != 1 {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", code, &stderr)
	}
	if want := path + ":"; !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), "没有写群名") {
		t.Errorf("stderr %q should name %s and say the group is missing", &stderr, path)
	}
}
