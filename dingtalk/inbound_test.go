package dingtalk

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reportbot/bot"
)

// codes is a Downloader that serves each downloadCode as its own bytes.
type codes struct{}

func (codes) Download(_ context.Context, code string) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("bytes of " + code)), nil
}

func TestCallbackMessages(t *testing.T) {
	type msg struct {
		id, kind, text, file, content, quote string
	}
	for _, tt := range []struct {
		file        string
		sender      bot.Member
		private     bool
		toBot       bool
		want        []msg
		unsupported string
	}{
		{"group_text.json", bot.Member{ID: "user001", Name: "东风社区-张三", Verified: "user001"}, false, true,
			[]msg{{"msgT1#0", "text", "本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。", "", "", ""}}, ""},
		{"group_richtext.json", bot.Member{ID: "user002", Name: "西湖社区-李四", Verified: "user002"}, false, true,
			[]msg{{"msgR1#0", "text", "本周典型做法：入户检查", "", "", ""}, {"msgR1#1", "image", "", "", "bytes of dc-p1", ""}, {"msgR1#2", "image", "", "", "bytes of dc-p2", ""}}, ""},
		{"group_quoted_file.json", bot.Member{ID: "user003", Name: "南山村-王五", Verified: "user003"}, false, true,
			[]msg{{"msgQ1#0", "text", "活动方案", "", "", ""}, {"msgQ1#1", "file", "", "南山村活动方案.docx", "bytes of dc-f1", ""}}, ""},
		// A reply quoting the bot's receipt: the domain reads the quote (不算 of that unit).
		{"group_quoted_text.json", bot.Member{ID: "user003", Name: "南山村-王五", Verified: "user003"}, false, true,
			[]msg{{"msgQ2#0", "text", "不算", "", "", "已收到 南山村「活动方案」：文件1个（发错了回复“不算”）"}}, ""},
		{"private_file.json", bot.Member{ID: "user005", Name: "刘洋", Verified: "user005"}, true, true,
			[]msg{{"msgF1#0", "file", "", "统计表.xlsx", "bytes of dc-f2", ""}}, ""},
		{"private_audio.json", bot.Member{ID: "user005", Name: "刘洋", Verified: "user005"}, true, true,
			[]msg{{"msgA1#0", "text", "我们报了吗", "", "", ""}}, ""},
		// Outside the org: no staffId, so no verified identity, whatever the nick says.
		{"group_picture_outsider.json", bot.Member{ID: "$:LWCP_v1:$outsider", Name: "王科长"}, false, true,
			[]msg{{"msgP1#0", "image", "", "", "bytes of dc-p9", ""}}, ""},
		{"group_emoji.json", bot.Member{ID: "user006", Name: "陈静", Verified: "user006"}, false, true, nil, "interactiveCard"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "callbacks", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			cb, err := parseCallback(raw)
			if err != nil {
				t.Fatal(err)
			}
			got, unsupported := cb.messages(codes{})
			if unsupported != tt.unsupported {
				t.Errorf("unsupported %q, want %q", unsupported, tt.unsupported)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d messages, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				m := got[i]
				if m.ID != w.id || string(m.Kind) != w.kind || m.Text != w.text || m.FileName != w.file || m.Quote != w.quote {
					t.Errorf("message %d = %s %s %q %q, want %+v", i, m.ID, m.Kind, m.Text, m.FileName, w)
				}
				if m.Sender != tt.sender || m.Private != tt.private || m.ToBot != tt.toBot || m.Size != -1 {
					t.Errorf("message %d: sender %+v private %v toBot %v size %d", i, m.Sender, m.Private, m.ToBot, m.Size)
				}
				if !m.At.Equal(time.UnixMilli(1780000000000)) {
					t.Errorf("message %d at %s", i, m.At)
				}
				if w.content != "" {
					rc, err := m.Open(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(rc)
					rc.Close()
					if string(b) != w.content {
						t.Errorf("message %d content %q, want %q", i, b, w.content)
					}
				}
			}
		})
	}
}

func TestCallbackRefusesGarbage(t *testing.T) {
	for _, raw := range []string{``, `{`, `[]`, `{"msgtype":"text"}`, `{"msgId":1}`} {
		if _, err := parseCallback([]byte(raw)); err == nil {
			t.Errorf("parseCallback(%q) accepted", raw)
		}
	}
}

func TestSessionWebhookValidity(t *testing.T) {
	expires := time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC)
	cb := &callback{SessionWebhook: "http://x/robot/sendBySession?session=1", SessionWebhookExpiredTime: expires.UnixMilli()}
	for _, tt := range []struct {
		now  time.Time
		want bool
	}{
		{expires.Add(-time.Hour), true},
		{expires.Add(-5 * time.Second), false}, // within the margin
		{expires.Add(time.Minute), false},
	} {
		if got := cb.webhookValid(tt.now); got != tt.want {
			t.Errorf("webhookValid at %s = %v", tt.now, got)
		}
	}
	if (&callback{}).webhookValid(expires) {
		t.Error("a callback without a webhook has a valid one")
	}
}

func TestConfigCheck(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    Config
		env  string
		want string // "" for no problem
	}{
		{"complete", Config{ClientID: "ding1", ClientSecret: "s"}, "", ""},
		{"secret from the environment", Config{ClientID: "ding1"}, "from-env", ""},
		{"no client id", Config{ClientSecret: "s"}, "", "client_id"},
		{"no secret", Config{ClientID: "ding1"}, "", SecretEnv},
		{"webhook without secret", Config{ClientID: "ding1", ClientSecret: "s", Webhook: "https://oapi.dingtalk.com/robot/send?access_token=x"}, "", "webhook_secret"},
		{"webhook without token", Config{ClientID: "ding1", ClientSecret: "s", Webhook: "https://oapi.dingtalk.com/robot/send", WebhookSecret: "SECx"}, "", "完整 Webhook"},
		{"bad base URL", Config{ClientID: "ding1", ClientSecret: "s", APIURL: "api.dingtalk.com"}, "", "api_url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(SecretEnv, tt.env)
			c := tt.c
			p := strings.Join(c.Check("config.toml"), "\n")
			if tt.want == "" && p != "" || tt.want != "" && !strings.Contains(p, tt.want) {
				t.Fatalf("problems %q, want one with %q", p, tt.want)
			}
			if tt.want == "" && (c.RobotCode != c.ClientID || c.APIURL == "" || c.ClientSecret == "") {
				t.Errorf("defaults not filled: %+v", c)
			}
		})
	}
}
