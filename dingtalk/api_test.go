package dingtalk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"reportbot/bot"
)

// Every secret the tests hand out contains this, so that one check finds any
// that leaks into an error text.
const secretMark = "SECRET"

const (
	testClientID     = "ding-app"
	testClientSecret = "client-" + secretMark
)

// clock is a settable time for the token cache and the robot's limit.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeAPI is DingTalk's new and old API as far as the client uses them.
type fakeAPI struct {
	t      *testing.T
	srv    *httptest.Server
	client *http.Client
	clock  *clock

	fetches   atomic.Int32  // token requests answered
	tokenGate chan struct{} // when set, the token handler waits for it to close

	mu   sync.Mutex
	last sentRequest
	// reply answers the send endpoints; nil is {"processQueryKey":"q1"}.
	reply http.HandlerFunc
	// files serves /files/ (the download URLs).
	files http.HandlerFunc
}

type sentRequest struct {
	path, token string
	body        map[string]any
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, clock: newClock()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1.0/oauth2/accessToken", f.token)
	mux.HandleFunc("POST /v1.0/robot/groupMessages/send", f.send)
	mux.HandleFunc("POST /v1.0/robot/oToMessages/batchSend", f.send)
	mux.HandleFunc("POST /v1.0/robot/messageFiles/download", f.downloadCode)
	mux.HandleFunc("GET /files/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(tokenHeader) != "" {
			t.Errorf("the download URL got the access token")
		}
		f.mu.Lock()
		h := f.files
		f.mu.Unlock()
		if h == nil {
			fmt.Fprint(w, "file bytes")
			return
		}
		h(w, r)
	})
	mux.HandleFunc("POST /media/upload", f.upload)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.client = &http.Client{Timeout: 5 * time.Second}
	return f
}

func (f *fakeAPI) api() *API {
	return NewAPI(APIOptions{
		ClientID: testClientID, ClientSecret: testClientSecret,
		BaseURL: f.srv.URL, OapiURL: f.srv.URL, HTTP: f.client, Now: f.clock.Now,
	})
}

func (f *fakeAPI) setReply(h http.HandlerFunc) {
	f.mu.Lock()
	f.reply = h
	f.mu.Unlock()
}

func (f *fakeAPI) lastSent() sentRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

func (f *fakeAPI) token(w http.ResponseWriter, r *http.Request) {
	var b map[string]string
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil || b["appKey"] != testClientID || b["appSecret"] != testClientSecret {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"code":"invalidClientSecret","message":"应用凭证不正确"}`)
		return
	}
	if f.tokenGate != nil {
		<-f.tokenGate
	}
	n := f.fetches.Add(1)
	fmt.Fprintf(w, `{"accessToken":"tok-%s-%d","expireIn":7200}`, secretMark, n)
}

// validToken reports whether tok is the newest token issued: a dropped one
// must not come back.
func (f *fakeAPI) validToken(tok string) bool {
	return tok == fmt.Sprintf("tok-%s-%d", secretMark, f.fetches.Load())
}

func (f *fakeAPI) send(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("send body: %v", err)
	}
	f.mu.Lock()
	f.last = sentRequest{path: r.URL.Path, token: r.Header.Get(tokenHeader), body: body}
	h := f.reply
	f.mu.Unlock()
	if !f.validToken(r.Header.Get(tokenHeader)) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":"InvalidAuthentication","message":"不合法的access_token"}`)
		return
	}
	if h == nil {
		fmt.Fprint(w, `{"processQueryKey":"q1"}`)
		return
	}
	h(w, r)
}

func (f *fakeAPI) downloadCode(w http.ResponseWriter, r *http.Request) {
	var b map[string]string
	_ = json.NewDecoder(r.Body).Decode(&b)
	switch {
	case !f.validToken(r.Header.Get(tokenHeader)):
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":"InvalidAuthentication","message":"不合法的access_token"}`)
	case b["robotCode"] != testClientID:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"code":"invalidParameter.robotCode.auth","message":"robotCode 无权限"}`)
	case b["downloadCode"] == "unknown":
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"code":"invalidParameter.downloadCode.invalid","message":"downloadCode 无效"}`)
	default:
		fmt.Fprintf(w, `{"downloadUrl":"http://%s/files/%s?Signature=sig-%s"}`, r.Host, b["downloadCode"], secretMark)
	}
}

func (f *fakeAPI) upload(w http.ResponseWriter, r *http.Request) {
	if !f.validToken(r.URL.Query().Get("access_token")) {
		fmt.Fprint(w, `{"errcode":40014,"errmsg":"不合法的access_token"}`)
		return
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		f.t.Errorf("upload: %v", err)
		return
	}
	fhs := r.MultipartForm.File["media"]
	if len(fhs) != 1 {
		fmt.Fprint(w, `{"errcode":40004,"errmsg":"no media field"}`)
		return
	}
	file, _ := fhs[0].Open()
	data, _ := io.ReadAll(file)
	file.Close()
	if string(data) == "too big" {
		fmt.Fprint(w, `{"errcode":40006,"errmsg":"不合法的文件大小"}`)
		return
	}
	fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","media_id":"@%s|%s|%s","type":"%s"}`,
		r.URL.Query().Get("type"), fhs[0].Filename, data, r.URL.Query().Get("type"))
}

// checkOutcome fails unless err is a delivery error of kind want; wait < 0
// accepts any positive wait.
func checkOutcome(t *testing.T, err error, want bot.Outcome, wait time.Duration) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want outcome %d", want)
	}
	got, gotWait := bot.OutcomeOf(err, true)
	if got != want {
		t.Errorf("outcome %d, want %d: %v", got, want, err)
	}
	if (wait < 0 && gotWait <= 0) || (wait >= 0 && gotWait != wait) {
		t.Errorf("wait %v, want %v: %v", gotWait, wait, err)
	}
	noSecret(t, err)
}

func noSecret(t *testing.T, err error, more ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range append(more, secretMark) {
		if strings.Contains(err.Error(), s) {
			t.Errorf("a secret (%q) in the error text: %v", s, err)
		}
	}
}

// closedAddr is an address nothing listens on, so a dial is refused.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestTokenCache(t *testing.T) {
	tests := []struct {
		name        string
		after       time.Duration
		wantFetches int32
	}{
		{"fresh token cached", time.Hour, 1},
		{"still cached just over 5 minutes before expiry", 7200*time.Second - 5*time.Minute - time.Second, 1},
		{"refreshed 5 minutes before expiry", 7200*time.Second - 5*time.Minute, 2},
		{"refreshed once expired", 3 * time.Hour, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			a := f.api()
			first, err := a.Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			f.clock.add(tt.after)
			tok, err := a.Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got := f.fetches.Load(); got != tt.wantFetches {
				t.Errorf("%d fetches, want %d", got, tt.wantFetches)
			}
			if (tok == first) != (tt.wantFetches == 1) {
				t.Errorf("token %q after %q", tok, first)
			}
		})
	}
}

func TestTokenConcurrentCallersShareOneFetch(t *testing.T) {
	f := newFakeAPI(t)
	f.tokenGate = make(chan struct{})
	a := f.api()
	const n = 20
	toks := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { toks[i], errs[i] = a.Token(t.Context()) })
	}
	// A caller that gives up does not end the fetch the others wait for.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := a.Token(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v", err)
	}
	time.Sleep(20 * time.Millisecond)
	close(f.tokenGate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || toks[i] != toks[0] {
			t.Fatalf("caller %d: %q, %v; caller 0: %q", i, toks[i], errs[i], toks[0])
		}
	}
	if got := f.fetches.Load(); got != 1 {
		t.Errorf("%d fetches, want 1", got)
	}
}

func TestTokenRefused(t *testing.T) {
	f := newFakeAPI(t)
	a := NewAPI(APIOptions{ClientID: testClientID, ClientSecret: "wrong-" + secretMark, BaseURL: f.srv.URL, HTTP: f.client})
	_, err := a.Token(t.Context())
	if err == nil || !strings.Contains(err.Error(), "client_id/client_secret") {
		t.Errorf("want advice on the credentials: %v", err)
	}
	noSecret(t, err)
	// A send with no token did not leave: it can go later.
	err = a.SendGroup(t.Context(), "cid1", Text("hi"))
	checkOutcome(t, err, bot.NotSent, 0)
}

func TestSendBodies(t *testing.T) {
	tests := []struct {
		name      string
		send      func(*API) error
		path      string
		to        string // the recipient field
		msgKey    string
		wantParam map[string]string
	}{
		{
			"group text", func(a *API) error { return a.SendGroup(context.Background(), "cid1==", Text("请交报表")) },
			"/v1.0/robot/groupMessages/send", "openConversationId", "sampleText",
			map[string]string{"content": "请交报表"},
		},
		{
			"group file", func(a *API) error { return a.SendGroup(context.Background(), "cid1==", File("@m1", "汇总.XLSX")) },
			"/v1.0/robot/groupMessages/send", "openConversationId", "sampleFile",
			map[string]string{"mediaId": "@m1", "fileName": "汇总.XLSX", "fileType": "xlsx"},
		},
		{
			"group markdown", func(a *API) error {
				return a.SendGroup(context.Background(), "cid1==", Markdown("提醒", "**18:00**"))
			},
			"/v1.0/robot/groupMessages/send", "openConversationId", "sampleMarkdown",
			map[string]string{"title": "提醒", "text": "**18:00**"},
		},
		{
			"group image", func(a *API) error { return a.SendGroup(context.Background(), "cid1==", Image("@img")) },
			"/v1.0/robot/groupMessages/send", "openConversationId", "sampleImageMsg",
			map[string]string{"photoURL": "@img"},
		},
		{
			"private text", func(a *API) error { return a.SendPrivate(context.Background(), []string{"u1", "u2"}, Text("你好")) },
			"/v1.0/robot/oToMessages/batchSend", "userIds", "sampleText",
			map[string]string{"content": "你好"},
		},
		{
			"private file without extension", func(a *API) error { return a.SendPrivate(context.Background(), []string{"u1"}, File("@m2", "README")) },
			"/v1.0/robot/oToMessages/batchSend", "userIds", "sampleFile",
			map[string]string{"mediaId": "@m2", "fileName": "README", "fileType": "file"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			if err := tt.send(f.api()); err != nil {
				t.Fatal(err)
			}
			got := f.lastSent()
			if got.path != tt.path {
				t.Errorf("path %q, want %q", got.path, tt.path)
			}
			if !strings.HasPrefix(got.token, "tok-") {
				t.Errorf("header %s = %q", tokenHeader, got.token)
			}
			if got.body["robotCode"] != testClientID || got.body["msgKey"] != tt.msgKey || got.body[tt.to] == nil {
				t.Errorf("body %v", got.body)
			}
			s, ok := got.body["msgParam"].(string)
			if !ok {
				t.Fatalf("msgParam is not a JSON string: %#v", got.body["msgParam"])
			}
			var param map[string]string
			if err := json.Unmarshal([]byte(s), &param); err != nil {
				t.Fatalf("msgParam %q: %v", s, err)
			}
			if fmt.Sprint(param) != fmt.Sprint(tt.wantParam) {
				t.Errorf("msgParam %v, want %v", param, tt.wantParam)
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		header  map[string]string
		want    bot.Outcome
		wait    time.Duration // < 0: any positive
		refetch bool          // the token was dropped
		text    string        // in the error
	}{
		{name: "429 with Retry-After", status: 429, body: `{"code":"Throttling","message":"slow down"}`, header: map[string]string{"Retry-After": "7"}, want: bot.NotSent, wait: 7 * time.Second},
		{name: "429 bare", status: 429, body: ``, want: bot.NotSent, wait: time.Minute},
		{name: "QpsLimit", status: 403, body: `{"code":"Forbidden.AccessDenied.QpsLimitForApi","message":"qps"}`, want: bot.NotSent, wait: time.Second},
		{name: "FlowControl", status: 400, body: `{"code":"robot.sendFlowControl","message":"flow"}`, want: bot.NotSent, wait: time.Minute},
		{name: "401", status: 401, body: `{"code":"InvalidAuthentication","message":"不合法的access_token"}`, want: bot.NotSent, refetch: true},
		{name: "token.notExisted", status: 400, body: `{"code":"token.notExisted","message":"token不存在"}`, want: bot.NotSent, refetch: true},
		{name: "no permission is not a token problem", status: 403, body: `{"code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","message":"没有权限"}`, want: bot.RefusedOutcome, text: "开通"},
		{name: "invalid.openConversationId", status: 400, body: `{"code":"invalid.openConversationId","message":"x","requestid":"r1"}`, want: bot.RefusedOutcome, text: "机器人不在群里或群已解散"},
		{name: "group.disbanded", status: 400, body: `{"code":"group.disbanded","message":"x"}`, want: bot.RefusedOutcome, text: "群已解散"},
		{name: "bot.stopped", status: 400, body: `{"code":"bot.stopped","message":"x"}`, want: bot.RefusedOutcome, text: "机器人已停用"},
		{name: "msgParam tooLong", status: 400, body: `{"code":"invalidParameter.msgParam.tooLong","message":"x"}`, want: bot.RefusedOutcome, text: "消息太长"},
		{name: "msgParam invalid", status: 400, body: `{"code":"invalidParameter.msgParam.invalid","message":"x"}`, want: bot.RefusedOutcome, text: "msgParam"},
		{name: "robotCode.auth", status: 400, body: `{"code":"invalidParameter.robotCode.auth","message":"x"}`, want: bot.RefusedOutcome, text: "client_id/robot_code"},
		{name: "unknown 4xx", status: 400, body: `{"code":"something.new","message":"新错误"}`, want: bot.RefusedOutcome, text: "something.new: 新错误"},
		{name: "5xx HTML", status: 502, body: `<html>Bad Gateway</html>`, want: bot.UncertainOutcome, text: "Bad Gateway"},
		{name: "5xx JSON", status: 500, body: `{"code":"systemError","message":"x"}`, want: bot.UncertainOutcome},
		{name: "200 bad JSON", status: 200, body: `<html>portal</html>`, want: bot.UncertainOutcome},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.setReply(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			a := f.api()
			err := a.SendGroup(t.Context(), "cid1", Text("hi"))
			checkOutcome(t, err, tt.want, tt.wait)
			if tt.text != "" && !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q lacks %q", err, tt.text)
			}
			if _, err := a.Token(t.Context()); err != nil {
				t.Fatal(err)
			}
			want := int32(1)
			if tt.refetch {
				want = 2
			}
			if got := f.fetches.Load(); got != want {
				t.Errorf("%d token fetches, want %d", got, want)
			}
		})
	}
}

func TestSendOK(t *testing.T) {
	f := newFakeAPI(t)
	if err := f.api().SendGroup(t.Context(), "cid1", Text("hi")); err != nil {
		t.Fatal(err)
	}
}

// A token DingTalk dropped on its side (401 from the fake) is fetched anew
// for the next send, which then goes.
func TestSendAfterTokenRejected(t *testing.T) {
	f := newFakeAPI(t)
	a := f.api()
	if _, err := a.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.fetches.Add(1) // the fake now takes only a token the client has not seen
	checkOutcome(t, a.SendGroup(t.Context(), "cid1", Text("hi")), bot.NotSent, 0)
	if err := a.SendGroup(t.Context(), "cid1", Text("hi")); err != nil {
		t.Fatalf("the send after a new token: %v", err)
	}
}

func TestSendPrivateRecipients(t *testing.T) {
	tests := []struct {
		name string
		body string
		want bot.Outcome
		ok   bool
	}{
		{name: "all delivered", body: `{"processQueryKey":"q"}`, ok: true},
		{name: "some invalid", body: `{"processQueryKey":"q","invalidStaffIdList":["u2"]}`, ok: true},
		{name: "all invalid", body: `{"processQueryKey":"q","invalidStaffIdList":["u1","u2"]}`, want: bot.RefusedOutcome},
		{name: "all throttled", body: `{"processQueryKey":"q","flowControlledStaffIdList":["u1","u2"]}`, want: bot.NotSent},
		{name: "invalid and throttled", body: `{"processQueryKey":"q","invalidStaffIdList":["u1"],"flowControlledStaffIdList":["u2"]}`, want: bot.NotSent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.setReply(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, tt.body) })
			err := f.api().SendPrivate(t.Context(), []string{"u1", "u2"}, Text("hi"))
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wait := time.Duration(0)
			if tt.want == bot.NotSent {
				wait = -1
			}
			checkOutcome(t, err, tt.want, wait)
		})
	}
}

func TestSendConnectionFailures(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(t *testing.T, f *fakeAPI, a *API)
		cancelled bool
		want      bot.Outcome
	}{
		{
			name: "refused dial",
			setup: func(t *testing.T, f *fakeAPI, a *API) {
				a.o.BaseURL = "http://" + closedAddr(t)
			},
			want: bot.NotSent,
		},
		{
			name: "stall after the server read the request",
			setup: func(t *testing.T, f *fakeAPI, a *API) {
				a.hc.Timeout = 150 * time.Millisecond
				f.setReply(stall)
			},
			want: bot.UncertainOutcome,
		},
		{
			name: "reset after the server read the request",
			setup: func(t *testing.T, f *fakeAPI, a *API) {
				f.setReply(reset)
			},
			want: bot.UncertainOutcome,
		},
		{
			name:      "cancelled before the send",
			setup:     func(t *testing.T, f *fakeAPI, a *API) {},
			cancelled: true,
			want:      bot.NotSent,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.client = &http.Client{Timeout: 5 * time.Second}
			a := f.api()
			if _, err := a.Token(t.Context()); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, f, a)
			ctx, cancel := context.WithCancel(t.Context())
			if tt.cancelled {
				cancel()
			}
			defer cancel()
			start := time.Now()
			err := a.SendGroup(ctx, "cid1", Text("hi"))
			checkOutcome(t, err, tt.want, 0)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestUpload(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		path    string
		stale   bool // the fake rejects the cached token
		want    string
		outcome bot.Outcome
	}{
		{name: "file keeps its name", path: write("汇总 12月.xlsx", "x1"), want: "@file|汇总 12月.xlsx|x1"},
		{name: "image", path: write("photo.JPG", "p1"), want: "@image|photo.JPG|p1"},
		{name: "expired token", path: write("a.pdf", "a"), stale: true, outcome: bot.NotSent},
		{name: "too big", path: write("big.zip", "too big"), outcome: bot.RefusedOutcome},
		{name: "missing file", path: filepath.Join(dir, "nope.xlsx"), outcome: bot.RefusedOutcome},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			a := f.api()
			if tt.stale {
				if _, err := a.Token(t.Context()); err != nil {
					t.Fatal(err)
				}
				f.fetches.Add(1)
			}
			id, err := a.Upload(t.Context(), tt.path)
			if tt.want != "" {
				if err != nil || id != tt.want {
					t.Fatalf("Upload = %q, %v; want %q", id, err, tt.want)
				}
				return
			}
			checkOutcome(t, err, tt.outcome, 0)
			if tt.stale {
				if _, err := a.Upload(t.Context(), tt.path); err != nil {
					t.Errorf("upload with a new token: %v", err)
				}
			}
		})
	}
	t.Run("refused dial hides the token", func(t *testing.T) {
		f := newFakeAPI(t)
		a := f.api()
		a.o.OapiURL = "http://" + closedAddr(t)
		_, err := a.Upload(t.Context(), write("b.xlsx", "b"))
		checkOutcome(t, err, bot.NotSent, 0)
		if !strings.Contains(err.Error(), "access_token=…") {
			t.Errorf("want the redacted URL in %q", err)
		}
	})
}

func TestDownload(t *testing.T) {
	tests := []struct {
		name  string
		code  string
		files http.HandlerFunc
		want  string // the content; "" wants an error with text
		text  string
	}{
		{name: "ok", code: "c1", want: "file bytes"},
		{name: "502 from the file URL", code: "c1", files: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>502</html>")
		}, text: "HTTP 502"},
		{name: "unknown code", code: "unknown", text: "downloadCode.invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.files = tt.files
			rc, err := f.api().Download(t.Context(), tt.code)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), tt.text) {
					t.Fatalf("err %v, want one with %q", err, tt.text)
				}
				noSecret(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil || string(b) != tt.want {
				t.Errorf("read %q, %v", b, err)
			}
		})
	}
}

func TestDownloadCancel(t *testing.T) {
	tests := []struct {
		name      string
		headFirst bool // the server starts the body before it stalls
	}{
		{"stalled before the answer", false},
		{"stalled in the body", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.files = func(w http.ResponseWriter, r *http.Request) {
				if tt.headFirst {
					fmt.Fprint(w, "part")
					w.(http.Flusher).Flush()
				}
				select {
				case <-r.Context().Done():
				case <-time.After(3 * time.Second):
				}
			}
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(100*time.Millisecond, cancel)
			start := time.Now()
			rc, err := f.api().Download(ctx, "c1")
			if err == nil {
				_, err = io.ReadAll(rc)
				rc.Close()
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err %v, want context.Canceled", err)
			}
			noSecret(t, err)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1&sign=x%2By", "https://oapi.dingtalk.com/robot/send?access_token=…&sign=…&timestamp=…"},
		{"https://api.dingtalk.com/v1.0/robot/groupMessages/send", "https://api.dingtalk.com/v1.0/robot/groupMessages/send"},
		{"http://h/p?%zz", "http://h/p?…"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := redactURL(tt.in); got != tt.want {
				t.Errorf("redactURL = %q, want %q", got, tt.want)
			}
		})
	}
}
