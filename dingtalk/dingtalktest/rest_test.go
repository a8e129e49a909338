package dingtalktest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// post sends body (JSON-encoded unless a string) with headers and decodes
// the JSON answer.
func post(t *testing.T, url string, headers map[string]string, body any) (int, map[string]any) {
	t.Helper()
	raw, ok := body.(string)
	if !ok {
		b, _ := json.Marshal(body)
		raw = string(b)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("POST %s answered %d %q", url, resp.StatusCode, data)
	}
	return resp.StatusCode, out
}

// token gets an access token from s.
func token(t *testing.T, s *Server) string {
	t.Helper()
	cfg := s.Config()
	code, out := post(t, s.URL()+"/v1.0/oauth2/accessToken", nil, map[string]string{"appKey": cfg.ClientID, "appSecret": cfg.ClientSecret})
	tok, _ := out["accessToken"].(string)
	if code != 200 || tok == "" || out["expireIn"] != 7200.0 {
		t.Fatalf("token: %d %v", code, out)
	}
	return tok
}

func auth(tok string) map[string]string { return map[string]string{"x-acs-dingtalk-access-token": tok} }

func groupSend(s *Server, conv, key string, param any) map[string]any {
	p, ok := param.(string)
	if !ok {
		b, _ := json.Marshal(param)
		p = string(b)
	}
	return map[string]any{"robotCode": s.Config().RobotCode, "openConversationId": conv, "msgKey": key, "msgParam": p}
}

func TestTokens(t *testing.T) {
	s := newFake(t, Config{})
	send := s.URL() + "/v1.0/robot/groupMessages/send"
	body := groupSend(s, s.Config().Group.ID, "sampleText", map[string]string{"content": "提醒"})

	if code, out := post(t, s.URL()+"/v1.0/oauth2/accessToken", nil, map[string]string{"appKey": s.Config().ClientID, "appSecret": "wrong"}); code != 400 || out["code"] == nil {
		t.Errorf("bad secret: %d %v", code, out)
	}
	for _, tok := range []string{"", "made-up"} {
		if code, out := post(t, send, auth(tok), body); code != 401 || out["code"] != "InvalidAuthentication" {
			t.Errorf("token %q: %d %v", tok, code, out)
		}
	}
	tok := token(t, s)
	if code, out := post(t, send, auth(tok), body); code != 200 || out["processQueryKey"] == "" {
		t.Errorf("with token: %d %v", code, out)
	}
	s.ExpireTokens()
	if code, _ := post(t, send, auth(tok), body); code != 401 {
		t.Errorf("expired token: %d", code)
	}
	tok = token(t, s)
	s.Advance(2*time.Hour + time.Second)
	if code, _ := post(t, send, auth(tok), body); code != 401 {
		t.Errorf("token past expireIn: %d", code)
	}
	if n := s.TokenRequests(); n != 3 {
		t.Errorf("token requests = %d, want 3", n)
	}

	s2 := newFake(t, Config{TokenErrorCode: "token.notExisted"})
	if code, out := post(t, s2.URL()+"/v1.0/robot/groupMessages/send", auth("x"), body); code != 401 || out["code"] != "token.notExisted" {
		t.Errorf("TokenErrorCode: %d %v", code, out)
	}
}

func TestAPISendValidation(t *testing.T) {
	s := newFake(t, Config{})
	tok := token(t, s)
	group := s.Config().Group.ID
	tests := []struct {
		name     string
		path     string
		body     any
		wantCode string // "" = accepted
		check    func(Message) bool
	}{
		{"text", "groupMessages/send", groupSend(s, group, "sampleText", map[string]string{"content": "请提交"}), "",
			func(m Message) bool { return m.Text == "请提交" && m.To == group }},
		{"markdown", "groupMessages/send", groupSend(s, group, "sampleMarkdown", map[string]string{"title": "提醒", "text": "**18:00**"}), "",
			func(m Message) bool { return m.Title == "提醒" && m.Text == "**18:00**" }},
		{"image", "groupMessages/send", groupSend(s, group, "sampleImageMsg", map[string]string{"photoURL": "@lA1"}), "",
			func(m Message) bool { return m.PhotoURL == "@lA1" }},
		{"file", "groupMessages/send", groupSend(s, group, "sampleFile", map[string]string{"mediaId": "@lA2", "fileName": "汇总.xlsx", "fileType": "xlsx"}), "",
			func(m Message) bool {
				return m.MediaID == "@lA2" && m.FileName == "汇总.xlsx" && m.FileType == "xlsx"
			}},
		{"1:1 text", "oToMessages/batchSend", map[string]any{"robotCode": s.Config().RobotCode, "userIds": []string{"manager4512"}, "msgKey": "sampleText", "msgParam": `{"content":"你好"}`}, "",
			func(m Message) bool {
				return m.Channel == Private && m.UserIDs[0] == "manager4512" && m.Text == "你好"
			}},
		{"text without content", "groupMessages/send", groupSend(s, group, "sampleText", map[string]string{"text": "x"}), "invalidParameter.msgParam.invalid", nil},
		{"markdown without title", "groupMessages/send", groupSend(s, group, "sampleMarkdown", map[string]string{"text": "x"}), "miss.param.markdownTotitle", nil},
		{"file without fileType", "groupMessages/send", groupSend(s, group, "sampleFile", map[string]string{"mediaId": "@lA2", "fileName": "a.xlsx"}), "invalidParameter.msgParam.invalid", nil},
		{"msgParam not JSON", "groupMessages/send", groupSend(s, group, "sampleText", "content=x"), "invalidParameter.msgParam.invalid", nil},
		{"msgParam an object", "groupMessages/send", map[string]any{"robotCode": s.Config().RobotCode, "openConversationId": group, "msgKey": "sampleText", "msgParam": map[string]string{"content": "x"}}, "InvalidParameter", nil},
		{"unknown msgKey", "groupMessages/send", groupSend(s, group, "sampleVideo", map[string]string{"content": "x"}), "invalidParameter.msgKey.invalid", nil},
		{"unknown group", "groupMessages/send", groupSend(s, "cidNotHere==", "sampleText", map[string]string{"content": "x"}), "invalid.openConversationId", nil},
		{"no group", "groupMessages/send", groupSend(s, "", "sampleText", map[string]string{"content": "x"}), "miss.openConversationId", nil},
		{"wrong robotCode", "groupMessages/send", map[string]any{"robotCode": "other", "openConversationId": group, "msgKey": "sampleText", "msgParam": `{"content":"x"}`}, "invalidParameter.robotCode.auth", nil},
		{"1:1 without users", "oToMessages/batchSend", map[string]any{"robotCode": s.Config().RobotCode, "msgKey": "sampleText", "msgParam": `{"content":"x"}`}, "invalidParameter.userIds.empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.Messages(Group)) + len(s.Messages(Private))
			code, out := post(t, s.URL()+"/v1.0/robot/"+tt.path, auth(tok), tt.body)
			after := append(s.Messages(Group), s.Messages(Private)...)
			if tt.wantCode == "" {
				if code != 200 || !strings.HasPrefix(out["processQueryKey"].(string), "q") || len(after) != before+1 {
					t.Fatalf("%d %v", code, out)
				}
				last := s.Messages(Group)
				if tt.path != "groupMessages/send" {
					last = s.Messages(Private)
				}
				if m := last[len(last)-1]; !tt.check(m) {
					t.Errorf("recorded %+v", m)
				}
				return
			}
			if code != 400 || out["code"] != tt.wantCode || len(after) != before {
				t.Errorf("%d %v; want 400 %s and nothing recorded", code, out, tt.wantCode)
			}
		})
	}
	// A group the robot learned from a callback is accepted.
	s.Push(Callback{ConversationID: "cidOther==", MsgType: "text", Text: &Text{Content: "hi"}})
	if code, out := post(t, s.URL()+"/v1.0/robot/groupMessages/send", auth(tok), groupSend(s, "cidOther==", "sampleText", map[string]string{"content": "x"})); code != 200 {
		t.Errorf("group from a callback: %d %v", code, out)
	}
}

func TestAPISendFaults(t *testing.T) {
	s := newFake(t, Config{})
	tok := token(t, s)
	body, _ := json.Marshal(groupSend(s, s.Config().Group.ID, "sampleText", map[string]string{"content": "提醒"}))
	c := &http.Client{Timeout: 300 * time.Millisecond}
	tests := []struct {
		name       string
		fault      func()
		wantStatus int  // 0: no answer
		taken      bool // the message was recorded
	}{
		{"throttled", func() { s.Throttle(1) }, 429, false},
		{"server error", func() { s.FailSends(1, Fault{Status: 500, Code: "InternalError"}) }, 500, false},
		{"stall after taking", func() { s.FailSends(1, Fault{Take: true, Stall: true}) }, 0, true},
		{"reset", func() { s.FailSends(1, Fault{Reset: true}) }, 0, false},
		{"reset after taking", func() { s.FailSends(1, Fault{Take: true, Reset: true}) }, 0, true},
		{"healthy again", func() {}, 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, attempts := len(s.Messages(Group)), s.Attempts(Group)
			tt.fault()
			req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1.0/robot/groupMessages/send", bytes.NewReader(body))
			req.Header.Set("x-acs-dingtalk-access-token", tok)
			resp, err := c.Do(req)
			switch {
			case tt.wantStatus == 0 && err == nil:
				resp.Body.Close()
				t.Fatalf("answered %d, want no answer", resp.StatusCode)
			case tt.wantStatus == 0:
			case err != nil:
				t.Fatal(err)
			default:
				resp.Body.Close()
				if resp.StatusCode != tt.wantStatus {
					t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
				}
			}
			if got := len(s.Messages(Group)) - before; got != map[bool]int{true: 1}[tt.taken] {
				t.Errorf("recorded %d", got)
			}
			if s.Attempts(Group) != attempts+1 {
				t.Errorf("attempts %d", s.Attempts(Group))
			}
		})
	}
}

func TestUploadAndDownload(t *testing.T) {
	s := newFake(t, Config{})
	tok := token(t, s)

	upload := func(q string, field string, data []byte) map[string]any {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile(field, "汇总.xlsx")
		_, _ = fw.Write(data)
		mw.Close()
		resp, err := http.Post(s.URL()+"/media/upload?"+q, mw.FormDataContentType(), &buf)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	out := upload("access_token="+tok+"&type=file", "media", []byte("PK\x03\x04"))
	if out["errcode"] != 0.0 || !strings.HasPrefix(out["media_id"].(string), "@lA") || out["type"] != "file" {
		t.Fatalf("upload: %v", out)
	}
	if ups := s.Uploads(); len(ups) != 1 || ups[0].FileName != "汇总.xlsx" || string(ups[0].Data) != "PK\x03\x04" || ups[0].MediaID != out["media_id"] {
		t.Errorf("uploads = %+v", ups)
	}
	for _, tt := range []struct {
		q, field string
		errcode  float64
	}{
		{"access_token=bad&type=file", "media", 40014},
		{"access_token=" + tok + "&type=doc", "media", 40004},
		{"access_token=" + tok + "&type=file", "file", 41005},
	} {
		if out := upload(tt.q, tt.field, []byte("x")); out["errcode"] != tt.errcode {
			t.Errorf("%s field %s: %v, want errcode %v", tt.q, tt.field, out, tt.errcode)
		}
	}

	data := []byte("\x89PNG image bytes")
	code := s.AddDownload("a.png", data)
	s.FailDownload(code, 1)
	api := s.URL() + "/v1.0/robot/messageFiles/download"
	req := map[string]string{"downloadCode": code, "robotCode": s.Config().RobotCode}
	if status, _ := post(t, api, nil, req); status != 401 {
		t.Errorf("download without token: %d", status)
	}
	if status, out := post(t, api, auth(tok), map[string]string{"downloadCode": "nope", "robotCode": s.Config().RobotCode}); status != 400 {
		t.Errorf("unknown code: %d %v", status, out)
	}
	status, got := post(t, api, auth(tok), req)
	link, _ := got["downloadUrl"].(string)
	if status != 200 || !strings.HasPrefix(link, s.URL()+"/files/") {
		t.Fatalf("download: %d %v", status, got)
	}
	fetch := func() (int, []byte) {
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if st, _ := fetch(); st != 502 {
		t.Errorf("first fetch %d, want 502", st)
	}
	if st, b := fetch(); st != 200 || !bytes.Equal(b, data) {
		t.Errorf("second fetch %d %q", st, b)
	}
	if s.Fetches(code) != 2 {
		t.Errorf("fetches %d", s.Fetches(code))
	}

	// DownloadFailsOnce: every file's first fetch fails, a pushed picture's too.
	s2 := newFake(t, Config{DownloadFailsOnce: true})
	cb := s2.Picture(alice, data)
	pic := cb.Content.(*Picture)
	_, got = post(t, s2.URL()+"/v1.0/robot/messageFiles/download", auth(token(t, s2)), map[string]string{"downloadCode": pic.DownloadCode, "robotCode": s2.Config().RobotCode})
	link = got["downloadUrl"].(string)
	if st, _ := fetch(); st != 502 {
		t.Errorf("DownloadFailsOnce first fetch %d", st)
	}
	if st, b := fetch(); st != 200 || !bytes.Equal(b, data) {
		t.Errorf("DownloadFailsOnce second fetch %d", st)
	}
}

func TestSessionWebhook(t *testing.T) {
	base := time.Date(2026, 6, 12, 9, 0, 0, 0, time.UTC)
	s := newFake(t, Config{Now: func() time.Time { return base }})
	hook, exp := s.NewSession()
	if exp.Sub(s.Now()) != 90*time.Minute {
		t.Errorf("default lifetime %v", exp.Sub(s.Now()))
	}
	for _, tt := range []struct {
		name    string
		body    string
		errcode float64
	}{
		{"text with @", `{"msgtype":"text","text":{"content":"@manager4512 已收到"},"at":{"atUserIds":["manager4512"]}}`, 0},
		{"markdown", `{"msgtype":"markdown","markdown":{"title":"收到","text":"**已收到**"}}`, 0},
		{"file is not supported", `{"msgtype":"file","file":{"mediaId":"x"}}`, 40035},
		{"not JSON", `msgtype=text`, 40035},
	} {
		if _, out := post(t, hook, nil, tt.body); out["errcode"] != tt.errcode {
			t.Errorf("%s: %v, want errcode %v", tt.name, out, tt.errcode)
		}
	}
	got := s.Messages(Session)
	if len(got) != 2 || got[0].AtUserIDs[0] != "manager4512" || got[0].MsgType != "text" || got[1].Title != "收到" {
		t.Errorf("messages = %+v", got)
	}
	s.ExpireSessions()
	if code, out := post(t, hook, nil, `{"msgtype":"text","text":{"content":"x"}}`); code != 200 || out["errcode"] != 300001.0 || out["errmsg"] != "session 不存在" {
		t.Errorf("expired: %d %v", code, out)
	}
	if _, out := post(t, s.URL()+"/robot/sendBySession?session=nope", nil, `{"msgtype":"text","text":{"content":"x"}}`); out["errcode"] != 300001.0 {
		t.Errorf("unknown session: %v", out)
	}
}

func TestCustomRobotSignature(t *testing.T) {
	base := time.Date(2026, 6, 12, 9, 0, 0, 0, time.UTC)
	s := newFake(t, Config{Now: func() time.Time { return base }})
	cfg := s.Config()
	body := `{"msgtype":"text","text":{"content":"@manager4512 请提交"},"at":{"atUserIds":["manager4512"],"atMobiles":["138"]}}`
	signed := func(token, secret string, at time.Time) string {
		ts := at.UnixMilli()
		return s.URL() + "/robot/send?access_token=" + token + "&timestamp=" + strconv.FormatInt(ts, 10) + "&sign=" + url.QueryEscape(Sign(secret, ts))
	}
	tests := []struct {
		name    string
		url     string
		errcode float64
	}{
		{"signed now", signed(cfg.RobotToken, cfg.RobotSecret, base), 0},
		{"helper URL", s.RobotURL(), 0},
		{"59 minutes old", signed(cfg.RobotToken, cfg.RobotSecret, base.Add(-59*time.Minute)), 0},
		{"two hours old", signed(cfg.RobotToken, cfg.RobotSecret, base.Add(-2*time.Hour)), 310000},
		{"two hours ahead", signed(cfg.RobotToken, cfg.RobotSecret, base.Add(2*time.Hour)), 310000},
		{"wrong secret", signed(cfg.RobotToken, "SECother", base), 310000},
		{"sign not escaped", strings.Replace(signed(cfg.RobotToken, cfg.RobotSecret, base), url.QueryEscape(Sign(cfg.RobotSecret, base.UnixMilli())), Sign(cfg.RobotSecret, base.UnixMilli()), 1), -1},
		{"no sign", s.URL() + "/robot/send?access_token=" + cfg.RobotToken + "&timestamp=" + strconv.FormatInt(base.UnixMilli(), 10), 310000},
		{"wrong token", signed("other", cfg.RobotSecret, base), 300001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, out := post(t, tt.url, nil, body)
			if tt.errcode == -1 {
				// A base64 '+' unescaped reads as a space: whether it passes
				// depends on the signature's bytes, as it does for real.
				sig := Sign(cfg.RobotSecret, base.UnixMilli())
				want := 0.0
				if strings.Contains(sig, "+") {
					want = 310000
				}
				tt.errcode = want
			}
			if out["errcode"] != tt.errcode {
				t.Errorf("%v, want errcode %v", out, tt.errcode)
			}
		})
	}
	m := s.Messages(Robot)
	if len(m) == 0 || m[0].AtUserIDs[0] != "manager4512" || m[0].AtMobiles[0] != "138" || m[0].Text != "@manager4512 请提交" {
		t.Errorf("robot messages = %+v", m)
	}
}

func TestCustomRobotRateLimit(t *testing.T) {
	s := newFake(t, Config{})
	body := `{"msgtype":"text","text":{"content":"提醒"}}`
	send := func() float64 {
		_, out := post(t, s.RobotURL(), nil, body)
		return out["errcode"].(float64)
	}
	for i := 0; i < 20; i++ {
		if e := send(); e != 0 {
			t.Fatalf("send %d: errcode %v", i+1, e)
		}
		s.Advance(time.Second)
	}
	_, out := post(t, s.RobotURL(), nil, body)
	if out["errcode"] != 130101.0 || out["errmsg"] != "send too fast, exceed 20 times per minute" {
		t.Fatalf("21st in a minute: %v", out)
	}
	s.Advance(time.Minute)
	if e := send(); e != 130101 {
		t.Errorf("a minute later, within the 10-minute penalty: errcode %v", e)
	}
	s.Advance(10 * time.Minute)
	if e := send(); e != 0 {
		t.Errorf("after the penalty: errcode %v", e)
	}
	if len(s.Messages(Robot)) != 21 || len(s.Refused(Robot)) != 2 || s.Attempts(Robot) != 23 {
		t.Errorf("accepted %d refused %d attempts %d", len(s.Messages(Robot)), len(s.Refused(Robot)), s.Attempts(Robot))
	}

	// The minute rolls: 20 sends spread so that the oldest leave the window.
	s2 := newFake(t, Config{})
	for i := 0; i < 40; i++ {
		_, out := post(t, s2.RobotURL(), nil, body)
		if out["errcode"] != 0.0 {
			t.Fatalf("send %d at 3.1 s spacing: %v", i+1, out)
		}
		s2.Advance(3100 * time.Millisecond)
	}
}
