package redact

import (
	"strings"
	"testing"
)

// TestString: realistic lines from the platforms' errors and our own log
// output; the secret part must go and the rest must stay readable.
func TestString(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		secrets  []string
		kept     []string
	}{
		{"web WeChat sync URL", `Get "https://webpush.wx.qq.com/cgi-bin/mmwebwx-bin/synccheck?r=1&skey=%40crypt_abc&sid=SECRETSID&uin=12345&deviceid=e123": EOF`,
			[]string{"crypt_abc", "SECRETSID", "12345", "e123"}, []string{"synccheck?r=1", "EOF"}},
		{"web WeChat XML login answer", `<error><ret>0</ret><skey>@crypt_xyz</skey><wxsid>SID2</wxsid><pass_ticket>PT%2Bx</pass_ticket></error>`,
			[]string{"crypt_xyz", "SID2", "PT%2Bx"}, []string{"<ret>0</ret>"}},
		{"JSON answer inside an error", `gettoken: HTTP 200: {"errcode":0,"access_token":"AT-12345","expires_in":7200}`,
			[]string{"AT-12345"}, []string{"gettoken", `"expires_in":7200`}},
		{"the same error as a JSON log field (escaped quotes)", `{"level":"warn","error":"gettoken: {\"access_token\":\"AT-12345\",\"expires_in\":7200}","message":"refresh"}`,
			[]string{"AT-12345"}, []string{`\"expires_in\":7200`, `"message":"refresh"`}},
		{"钉钉 app secret in a request body", `POST /v1.0/oauth2/accessToken {"appKey":"dingapp","appSecret":"APPSECRET1"}`,
			[]string{"APPSECRET1"}, []string{"dingapp"}},
		{"钉钉 client secret, spaced JSON", `open connection {"clientId": "dingapp", "clientSecret": "S3CRET"}`,
			[]string{"S3CRET"}, []string{"dingapp"}},
		{"企业微信 subscribe frame", `write {"cmd":"aibot_subscribe","headers":{"req_id":"aibot_subscribe_1_a"},"body":{"bot_id":"aibXYZ","secret":"WECOMSECRET1"}}`,
			[]string{"WECOMSECRET1"}, []string{"aibXYZ", "aibot_subscribe"}},
		{"企业微信 secret from the environment", `REPORTBOT_WECOM_SECRET=WECOMSECRET2 reportbot run`,
			[]string{"WECOMSECRET2"}, []string{"reportbot run"}},
		{"企业微信 webhook key in its URL", `Post "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aoc-4bc4": EOF`,
			[]string{"693a91f6-7aoc-4bc4"}, []string{"webhook/send", "EOF"}},
		{"钉钉 webhook with token and signature", `Post "https://oapi.dingtalk.com/robot/send?access_token=TOK123&timestamp=1750000000000&sign=SIG%2Bab": dial tcp: i/o timeout`,
			[]string{"TOK123", "SIG%2Bab"}, []string{"timestamp=1750000000000", "i/o timeout"}},
		{"钉钉 session webhook", `reply https://oapi.dingtalk.com/robot/sendBySession?session=SESS9 done`, []string{"SESS9"}, []string{"done"}},
		{"钉钉 token header", `header x-acs-dingtalk-access-token: HDRTOKEN refused`, []string{"HDRTOKEN"}, []string{"refused"}},
		{"企业微信 robot webhook key", `alert: Post "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4": EOF`,
			[]string{"693a91f6-7xxx-4bc4"}, []string{"webhook/send?key=", "EOF"}},
		{"企业微信 secret from the environment", `env REPORTBOT_WECOM_SECRET=WCS3cr3t set`, []string{"WCS3cr3t"}, []string{"set"}},
		{"钉钉 secret from the environment", `REPORTBOT_DINGTALK_SECRET="DTS3cr3t"`, []string{"DTS3cr3t"}, nil},
		{"企业微信 corpsecret in a URL", `GET https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=CORPSEC`, []string{"CORPSEC"}, []string{"corpid=ww1"}},
		{"secret in upper case and single quotes", `{'SECRET': 'UpperS3cret'}`, []string{"UpperS3cret"}, nil},
		{"TOML line quoted in an error", `config line 93: client_secret = "TomlSecret"`, []string{"TomlSecret"}, []string{"config line 93"}},
		{"Cookie header", "GET /cgi-bin/mmwebwx-bin/webwxinit\r\nCookie: mm_lang=zh_CN; wxuin=99; webwx_data_ticket=TICKET123; wxloadtime=17\r\n",
			[]string{"TICKET123", "mm_lang=zh_CN", "wxloadtime=17"}, []string{"webwxinit", "Cookie: …"}},
		{"Set-Cookie in a Go header map", `map[Content-Type:[text/html] Set-Cookie:[wxsid=S1; Path=/ webwx_auth_ticket=AUTH1]]`,
			[]string{"S1", "AUTH1"}, []string{"Content-Type:[text/html]"}},
		{"cookie as a log field", `{"cookie":"webwx_data_ticket=TICKET123; wxsid=SECRETSID","message":"sync"}`,
			[]string{"TICKET123", "SECRETSID"}, []string{`"message":"sync"`}},
		{"bearer token", `Authorization: Bearer eyJhbGciOi.x.y`, []string{"eyJhbGciOi"}, []string{"Bearer"}},
		{"feishu-style hook path", `Post "https://open.feishu.cn/open-apis/bot/v2/hook/ab12-cd34": EOF`, []string{"ab12-cd34"}, []string{"EOF"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := String(tt.in)
			for _, s := range tt.secrets {
				if strings.Contains(out, s) {
					t.Errorf("%q survives: %s", s, out)
				}
			}
			for _, k := range tt.kept {
				if !strings.Contains(out, k) {
					t.Errorf("%q was lost: %s", k, out)
				}
			}
			if b := string(Bytes([]byte(tt.in))); b != out {
				t.Errorf("Bytes %q, String %q", b, out)
			}
		})
	}
}

// TestStringLeavesOrdinaryLines: our own log lines name keys, tasks and
// people; none of that is a secret and all of it must stay.
func TestStringLeavesOrdinaryLines(t *testing.T) {
	for _, in := range []string{
		`{"level":"info","key":"june/weekly/2026-06-05 17:00/remind@2026-06-05 09:00","message":"skip missed scheduled message"}`,
		`{"level":"info","admin":"王科长","message":"dashboard sign-in"}`,
		`{"code":"invalidClientIdOrSecret","message":"clientId or clientSecret is invalid"}`,
		`client_secret = ""`,
		`东风社区 报送 2 张照片，session 3 of 5`,
	} {
		if out := String(in); out != in {
			t.Errorf("changed:\n%s\n%s", in, out)
		}
	}
}
