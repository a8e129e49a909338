package dingtalk

import (
	"errors"
	"strings"
	"testing"

	"reportbot/bot"
)

func TestRenderAt(t *testing.T) {
	zs := bot.Member{ID: "user001", Name: "张三", Verified: "user001"}
	zsf := bot.Member{ID: "张三丰", Name: "张三丰"} // no staffId known yet
	li := bot.Member{ID: "user002", Name: "李四", Verified: "user002"}
	for _, tt := range []struct {
		name string
		m    bot.Outgoing
		text string
		ids  string
	}{
		{"written mentions become staffIds", bot.Outgoing{Text: "催报\n东风社区：@张三\n西湖社区：@李四", Mentions: []bot.Member{zs, li}},
			"催报\n东风社区：@user001\n西湖社区：@user002", "user001,user002"},
		{"one member for two units: one @ each place, one id", bot.Outgoing{Text: "催报\n东风社区：@张三\n西风社区：@张三", Mentions: []bot.Member{zs, zs}},
			"催报\n东风社区：@user001\n西风社区：@user001", "user001"},
		{"a longer name without a staffId is not cut", bot.Outgoing{Text: "催报\n@张三丰 @张三", Mentions: []bot.Member{zsf, zs}},
			"催报\n@张三丰 @user001", "user001"},
		{"an addressee not written in the text comes first", bot.Outgoing{Text: "已收到 东风社区", Mentions: []bot.Member{zs}},
			"@user001 已收到 东风社区", "user001"},
		{"nobody to @", bot.Outgoing{Text: "【提醒】"}, "【提醒】", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			text, ids := New(Options{}).renderAt(tt.m)
			if text != tt.text || strings.Join(ids, ",") != tt.ids {
				t.Errorf("renderAt = %q %v; want %q %s", text, ids, tt.text, tt.ids)
			}
		})
	}
}

func TestRefusedCredentialsTold(t *testing.T) {
	for _, tt := range []struct {
		err  string
		want bool
	}{
		{`{"code":"invalidClientIdOrSecret","message":"clientId or clientSecret is invalid"}`, true},
		{`{"code":"Unauthorized","message":"…"}`, true},
		{`<html>502 Bad Gateway, request 4017-invalid-route</html>`, false},
		{`{"code":"ServiceUnavailable","message":"fake: open refused"}`, false},
	} {
		if got := refusedCredentials(errors.New(tt.err)); got != tt.want {
			t.Errorf("refusedCredentials(%q) = %v", tt.err, got)
		}
	}
}

// Texts the SDK logs or errors quote may hold the secret, a token, a signature
// or a session: none of them survives redact.
func TestRedactFreeText(t *testing.T) {
	in := `open {"clientId":"dingapp","clientSecret":"S3CRET"} POST https://oapi.dingtalk.com/robot/send?access_token=TOK&timestamp=1&sign=SIG reply https://x/robot/sendBySession?session=SESS done`
	out := redact(in)
	for _, secret := range []string{"S3CRET", "TOK", "SIG", "SESS"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q survives: %s", secret, out)
		}
	}
	if !strings.Contains(out, "dingapp") || !strings.Contains(out, "timestamp=1") {
		t.Errorf("redacted too much: %s", out)
	}
}
