// Package dingtalk is reportbot's 钉钉 transport: the REST calls the official
// Stream SDK lacks (token, download, robot sends, media upload, session
// replies) and a group's 自定义机器人, each send's failure classified for the
// outbox, which alone retries.
package dingtalk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
)

const (
	tokenHeader = "x-acs-dingtalk-access-token"
	// refreshEarly keeps a token from expiring between the check and the call
	// that uses it, and leaves room for a slow fetch.
	refreshEarly = 5 * time.Minute
	// downloadTimeout replaces a shorter client timeout for the file itself:
	// http.Client.Timeout covers reading the body, and a report with photos
	// can take longer than an API call.
	downloadTimeout = 5 * time.Minute
	// tokenFetchTimeout bounds a fetch that no caller waits for any more
	// (its callers' contexts ended) when the client has no timeout.
	tokenFetchTimeout = 30 * time.Second
	// maxReply bounds what is read of an API answer: they are small JSON.
	maxReply = 1 << 20
	// throttleWait is the wait after a throttling answer that names none.
	throttleWait = time.Minute
)

// APIOptions configure the REST client. Every base URL is configurable (tests, private deployments).
type APIOptions struct {
	ClientID, ClientSecret string // the 企业内部应用's AppKey/AppSecret
	RobotCode              string // defaults to ClientID
	BaseURL                string // new API, default "https://api.dingtalk.com"
	OapiURL                string // old API (media upload), default "https://oapi.dingtalk.com"
	// HTTP defaults to a client with a 15 s timeout. Downloads get at least
	// 5 minutes of it for the file.
	HTTP   *http.Client
	Now    func() time.Time // default time.Now
	Logger zerolog.Logger
}

// API is the REST client of one 企业内部应用 and its robot. It is safe for
// concurrent use.
type API struct {
	o  APIOptions
	hc *http.Client
	dl *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
	fetch   *tokenFetch // the fetch under way, nil when none
}

// tokenFetch is one token request that every caller arriving meanwhile waits for.
type tokenFetch struct {
	done  chan struct{}
	token string
	err   error
}

// NewAPI returns a client with o's defaults filled in.
func NewAPI(o APIOptions) *API {
	if o.RobotCode == "" {
		o.RobotCode = o.ClientID
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultAPIURL
	}
	if o.OapiURL == "" {
		o.OapiURL = DefaultOapiURL
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	o.OapiURL = strings.TrimRight(o.OapiURL, "/")
	if o.Now == nil {
		o.Now = time.Now
	}
	hc := o.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	dl := *hc
	if dl.Timeout > 0 && dl.Timeout < downloadTimeout {
		dl.Timeout = downloadTimeout
	}
	return &API{o: o, hc: hc, dl: &dl}
}

// Token returns the cached access token, fetching one when there is none or it expires within 5 minutes; concurrent callers share one fetch.
func (a *API) Token(ctx context.Context) (string, error) {
	a.mu.Lock()
	if a.token != "" && a.o.Now().Add(refreshEarly).Before(a.expires) {
		t := a.token
		a.mu.Unlock()
		return t, nil
	}
	f := a.fetch
	if f == nil {
		f = &tokenFetch{done: make(chan struct{})}
		a.fetch = f
		// The fetch serves every waiter, so one caller's end must not end it.
		go a.fetchToken(context.WithoutCancel(ctx), f)
	}
	a.mu.Unlock()
	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (a *API) fetchToken(ctx context.Context, f *tokenFetch) {
	ctx, cancel := context.WithTimeout(ctx, tokenFetchTimeout)
	defer cancel()
	tok, ttl, err := a.requestToken(ctx)
	a.mu.Lock()
	if err == nil {
		a.token, a.expires = tok, a.o.Now().Add(ttl)
	}
	a.fetch = nil
	a.mu.Unlock()
	f.token, f.err = tok, err
	close(f.done)
}

func (a *API) requestToken(ctx context.Context) (string, time.Duration, error) {
	body, _ := json.Marshal(map[string]string{"appKey": a.o.ClientID, "appSecret": a.o.ClientSecret})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.o.BaseURL+"/v1.0/oauth2/accessToken", bytes.NewReader(body))
	if err != nil {
		return "", 0, fmt.Errorf("dingtalk access token: %w", redactErr(err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, reply, _, err := exchange(a.hc, req)
	if err != nil {
		return "", 0, fmt.Errorf("dingtalk access token: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		e := parseAPIError(resp.StatusCode, reply)
		if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests {
			return "", 0, fmt.Errorf("dingtalk access token: %s: 钉钉不认这个应用的凭据：检查 [dingtalk] client_id/client_secret（企业内部应用的 AppKey/AppSecret）", e)
		}
		return "", 0, fmt.Errorf("dingtalk access token: %s", e)
	}
	var r struct {
		AccessToken string `json:"accessToken"`
		ExpireIn    int64  `json:"expireIn"`
	}
	if err := json.Unmarshal(reply, &r); err != nil || r.AccessToken == "" {
		return "", 0, fmt.Errorf("dingtalk access token: unreadable answer: %s", snippet(reply))
	}
	if r.ExpireIn <= 0 {
		r.ExpireIn = 7200
	}
	a.o.Logger.Debug().Int64("expireIn", r.ExpireIn).Msg("dingtalk: fetched an access token")
	return r.AccessToken, time.Duration(r.ExpireIn) * time.Second, nil
}

// dropToken forgets tok after DingTalk rejected it, unless a newer one has
// replaced it meanwhile.
func (a *API) dropToken(tok string) {
	a.mu.Lock()
	if a.token == tok {
		a.token = ""
	}
	a.mu.Unlock()
}

// Download opens a received file by its downloadCode (messageFiles/download, then GET the URL without auth).
func (a *API) Download(ctx context.Context, downloadCode string) (io.ReadCloser, error) {
	tok, err := a.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("dingtalk download: %w", err)
	}
	var r struct {
		DownloadURL string `json:"downloadUrl"`
	}
	body := map[string]any{"downloadCode": downloadCode, "robotCode": a.o.RobotCode}
	if err := a.call(ctx, tok, "/v1.0/robot/messageFiles/download", body, &r); err != nil {
		return nil, fmt.Errorf("dingtalk download: %w", err)
	}
	if r.DownloadURL == "" {
		return nil, errors.New("dingtalk download: messageFiles/download gave no downloadUrl")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.DownloadURL, nil)
	if err != nil {
		return nil, fmt.Errorf("dingtalk download: %w", redactErr(err))
	}
	resp, err := a.dl.Do(req)
	if err != nil {
		return nil, fmt.Errorf("dingtalk download: %w", redactErr(err))
	}
	if resp.StatusCode/100 != 2 {
		snip, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("dingtalk download: GET %s: HTTP %d: %s", redactURL(r.DownloadURL), resp.StatusCode, snippet(snip))
	}
	return resp.Body, nil
}

// call posts body to a new-API path and decodes a 2xx answer into out, for
// the calls that are not sends (their errors are not classified).
func (a *API) call(ctx context.Context, tok, path string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.o.BaseURL+path, bytes.NewReader(data))
	if err != nil {
		return redactErr(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(tokenHeader, tok)
	resp, reply, _, err := exchange(a.hc, req)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		e := parseAPIError(resp.StatusCode, reply)
		if e.tokenProblem() {
			a.dropToken(tok)
		}
		return fmt.Errorf("%s: %s", strings.TrimPrefix(path, "/v1.0/robot/"), e)
	}
	if err := json.Unmarshal(reply, out); err != nil {
		return fmt.Errorf("%s: unreadable answer: %s", strings.TrimPrefix(path, "/v1.0/robot/"), snippet(reply))
	}
	return nil
}

// Msg is a message for the robot send APIs: Key is msgKey ("sampleText", "sampleMarkdown", "sampleFile", "sampleImageMsg"), Param its msgParam object.
type Msg struct {
	Key   string
	Param map[string]string
}

// Text is a sampleText message.
func Text(s string) Msg { return Msg{Key: "sampleText", Param: map[string]string{"content": s}} }

// Markdown is a sampleMarkdown message. DingTalk lists a missing title as an
// error (miss.param.markdownTotitle), so it is always sent.
func Markdown(title, text string) Msg {
	return Msg{Key: "sampleMarkdown", Param: map[string]string{"title": title, "text": text}}
}

// Image is a sampleImageMsg message; photoURL takes a URL or an uploaded media id.
func Image(mediaIDOrURL string) Msg {
	return Msg{Key: "sampleImageMsg", Param: map[string]string{"photoURL": mediaIDOrURL}}
}

// File is a sampleFile message for an uploaded file. The recipient sees name,
// and the client picks the icon and viewer by fileType, the name's extension.
func File(mediaID, name string) Msg {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	if ext == "" {
		ext = "file" // DingTalk requires some fileType; a name without an extension has none to give
	}
	return Msg{Key: "sampleFile", Param: map[string]string{"mediaId": mediaID, "fileName": name, "fileType": ext}}
}

// SendGroup posts m to a group the robot is in (/v1.0/robot/groupMessages/send).
// It cannot @ anyone: use SessionReply or a Robot for that.
func (a *API) SendGroup(ctx context.Context, openConversationID string, m Msg) error {
	if openConversationID == "" {
		return bot.Refused(errors.New("dingtalk groupMessages/send: no openConversationId: 机器人还不认识这个群，请在群里@机器人说一句话"))
	}
	return a.send(ctx, "groupMessages/send", map[string]any{"openConversationId": openConversationID}, m, nil)
}

// SendPrivate posts m to each user (/v1.0/robot/oToMessages/batchSend). It
// succeeds when DingTalk took the message for at least one of them: sending
// again would repeat it to those. Users it rejected are logged.
func (a *API) SendPrivate(ctx context.Context, userIDs []string, m Msg) error {
	if len(userIDs) == 0 {
		return bot.Refused(errors.New("dingtalk oToMessages/batchSend: no recipient"))
	}
	var r struct {
		Invalid   []string `json:"invalidStaffIdList"`
		Throttled []string `json:"flowControlledStaffIdList"`
	}
	if err := a.send(ctx, "oToMessages/batchSend", map[string]any{"userIds": userIDs}, m, &r); err != nil {
		return err
	}
	var got int
	for _, u := range userIDs {
		if !slices.Contains(r.Invalid, u) && !slices.Contains(r.Throttled, u) {
			got++
		}
	}
	switch {
	case got > 0:
		if len(r.Invalid)+len(r.Throttled) > 0 {
			a.o.Logger.Warn().Strs("invalid", r.Invalid).Strs("throttled", r.Throttled).Int("delivered", got).
				Msg("dingtalk: a private message reached only some of its recipients")
		}
		return nil
	case len(r.Throttled) > 0:
		return bot.Retryable(fmt.Errorf("dingtalk oToMessages/batchSend: flow control for %v", r.Throttled), throttleWait)
	}
	return bot.Refused(fmt.Errorf("dingtalk oToMessages/batchSend: DingTalk rejected every recipient %v: 检查这些成员的钉钉 userid（senderStaffId），他们可能不在本组织或已离职", r.Invalid))
}

// send posts one message to a robot send API and classifies its failure.
// extra holds the recipient fields; out, if not nil, takes the 2xx answer.
func (a *API) send(ctx context.Context, endpoint string, extra map[string]any, m Msg, out any) error {
	what := "dingtalk " + endpoint
	if m.Key == "" {
		return bot.Refused(fmt.Errorf("%s: a message without msgKey", what))
	}
	param, err := json.Marshal(m.Param)
	if err != nil {
		return bot.Refused(fmt.Errorf("%s: %w", what, err))
	}
	body := map[string]any{"robotCode": a.o.RobotCode, "msgKey": m.Key, "msgParam": string(param)}
	for k, v := range extra {
		body[k] = v
	}
	data, err := json.Marshal(body)
	if err != nil {
		return bot.Refused(fmt.Errorf("%s: %w", what, err))
	}
	tok, err := a.Token(ctx)
	if err != nil {
		// Nothing of the message left; a token DingTalk refuses is the
		// config's fault, not this message's, so the message waits for it.
		return bot.Retryable(fmt.Errorf("%s: %w", what, err), 0)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.o.BaseURL+"/v1.0/robot/"+endpoint, bytes.NewReader(data))
	if err != nil {
		return bot.Refused(fmt.Errorf("%s: %w", what, redactErr(err)))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(tokenHeader, tok)
	resp, reply, wrote, err := exchange(a.hc, req)
	if err != nil {
		return unanswered(what, err, wrote)
	}
	if resp.StatusCode/100 == 2 {
		var v any = &json.RawMessage{}
		if out != nil {
			v = out
		}
		if err := json.Unmarshal(reply, v); err != nil {
			return bot.Uncertain(fmt.Errorf("%s: HTTP %d with an unreadable answer: %s", what, resp.StatusCode, snippet(reply)))
		}
		return nil
	}
	e := parseAPIError(resp.StatusCode, reply)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || e.throttled():
		return bot.Retryable(fmt.Errorf("%s: %s", what, e), retryAfter(resp, e))
	case e.tokenProblem():
		a.dropToken(tok)
		return bot.Retryable(fmt.Errorf("%s: %s: the access token was rejected; a new one is fetched", what, e), 0)
	case resp.StatusCode == http.StatusRequestTimeout:
		return bot.Retryable(fmt.Errorf("%s: %s", what, e), 0)
	case resp.StatusCode/100 == 4:
		if adv := e.advice(); adv != "" {
			return bot.Refused(fmt.Errorf("%s: %s: %s", what, e, adv))
		}
		return bot.Refused(fmt.Errorf("%s: %s", what, e))
	}
	// A 5xx or anything else: the server may have acted before it failed.
	return bot.Uncertain(fmt.Errorf("%s: %s", what, e))
}

// Upload stores a file for sampleFile (type file) or sampleImageMsg (type
// image, chosen by the extension) through the old API and returns its media
// id. Its errors are classified like a send's but never Uncertain: an upload
// that did happen only leaves an unused media file behind.
func (a *API) Upload(ctx context.Context, path string) (mediaID string, err error) {
	const what = "dingtalk media/upload"
	data, err := os.ReadFile(path)
	if err != nil {
		return "", bot.Refused(fmt.Errorf("%s: %w", what, err))
	}
	// Built in memory (DingTalk takes at most 20 MB) so that a read error
	// surfaces before any request, and the body can be replayed when the
	// transport retries on a stale connection.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part, err := mw.CreateFormFile("media", filepath.Base(path))
	if err == nil {
		_, err = part.Write(data)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return "", bot.Refused(fmt.Errorf("%s: %w", what, err))
	}
	tok, err := a.Token(ctx)
	if err != nil {
		return "", bot.Retryable(fmt.Errorf("%s: %w", what, err), 0)
	}
	kind := "file"
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".bmp":
		kind = "image"
	}
	q := url.Values{"access_token": {tok}, "type": {kind}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.o.OapiURL+"/media/upload?"+q.Encode(), bytes.NewReader(buf.Bytes()))
	if err != nil {
		return "", bot.Refused(fmt.Errorf("%s: %w", what, redactErr(err)))
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, reply, _, err := exchange(a.hc, req)
	if err != nil {
		return "", bot.Retryable(fmt.Errorf("%s: %w", what, err), 0)
	}
	var r struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
		MediaID string `json:"media_id"`
	}
	jerr := json.Unmarshal(reply, &r)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return "", bot.Retryable(fmt.Errorf("%s: HTTP 429", what), retryAfter(resp, apiError{}))
	case resp.StatusCode == http.StatusUnauthorized:
		a.dropToken(tok)
		return "", bot.Retryable(fmt.Errorf("%s: HTTP 401: the access token was rejected; a new one is fetched", what), 0)
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout:
		return "", bot.Refused(fmt.Errorf("%s: HTTP %d: %s", what, resp.StatusCode, snippet(reply)))
	case resp.StatusCode/100 != 2 || jerr != nil || r.ErrCode == nil:
		return "", bot.Retryable(fmt.Errorf("%s: HTTP %d: %s", what, resp.StatusCode, snippet(reply)), 0)
	}
	desc := fmt.Sprintf("%s: errcode %d: %s", what, *r.ErrCode, r.ErrMsg)
	switch code := *r.ErrCode; {
	case code == 0 && r.MediaID != "":
		return r.MediaID, nil
	case code == 0:
		return "", bot.Retryable(fmt.Errorf("%s: no media_id in the answer", what), 0)
	case code == 40014 || code == 42001 || code == 41001:
		a.dropToken(tok)
		return "", bot.Retryable(fmt.Errorf("%s: the access token was rejected; a new one is fetched", desc), 0)
	case code == -1 || code == 88 || code == 90002 || code == 90005 || code == 90006 || code == 90018:
		// -1 is 系统繁忙; 88 is also given while DingTalk briefly forbids calls.
		return "", bot.Retryable(errors.New(desc), 0)
	case code == 40004 || code == 40005 || code == 40006:
		return "", bot.Refused(fmt.Errorf("%s: 钉钉不收这个文件（类型或大小不合要求）：图片用 jpg/png/gif/bmp，文件不超过 20MB", desc))
	}
	return "", bot.Refused(errors.New(desc))
}

// apiError is a new-API error answer: HTTP 4xx/5xx and
// {"code":"…","message":"…","requestid":"…"}.
type apiError struct {
	status                   int
	code, message, requestID string
	raw                      string // the body when it is not that JSON
}

func parseAPIError(status int, body []byte) apiError {
	var r struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"requestid"`
	}
	e := apiError{status: status}
	if json.Unmarshal(body, &r) == nil && (r.Code != "" || r.Message != "") {
		e.code, e.message, e.requestID = r.Code, r.Message, r.RequestID
	} else {
		e.raw = snippet(body)
	}
	return e
}

func (e apiError) String() string {
	s := fmt.Sprintf("HTTP %d", e.status)
	if e.code != "" {
		s += " " + e.code
	}
	if e.message != "" {
		s += ": " + e.message
	}
	if e.raw != "" {
		s += ": " + e.raw
	}
	if e.requestID != "" {
		s += " (requestid " + e.requestID + ")"
	}
	return s
}

func (e apiError) lower() string { return strings.ToLower(e.code) }

func (e apiError) throttled() bool {
	c := e.lower()
	return strings.Contains(c, "qpslimit") || strings.Contains(c, "flowcontrol") || strings.Contains(c, "throttl")
}

// tokenProblem tells a rejected token from a token without a permission
// (Forbidden.AccessDenied.AccessTokenPermissionDenied): a new token would
// not help the latter.
func (e apiError) tokenProblem() bool {
	c := e.lower()
	if e.status == http.StatusUnauthorized || c == "token.notexisted" || strings.Contains(c, "invalidauthentication") {
		return true
	}
	return strings.Contains(c, "token") && !strings.Contains(c, "permission") &&
		(strings.Contains(c, "expired") || strings.Contains(c, "invalid") || strings.Contains(c, "notexist"))
}

// advice says in Chinese what an admin should change, where the code makes
// it clear.
func (e apiError) advice() string {
	c := e.lower()
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(c, strings.ToLower(x)) {
				return true
			}
		}
		return false
	}
	switch {
	case strings.HasPrefix(c, "miss.") || has("msgKey", "markdownTotitle"):
		return "消息缺少钉钉要求的字段，这是 reportbot 的问题，请报告"
	case has("openConversationId", "group.disbanded", "group.notExist", "chat.notExist"):
		return "机器人不在群里或群已解散：把应用的机器人加进群，然后在群里@机器人说一句话"
	case has("bot.stopped", "robot.stopped"):
		return "机器人已停用：在钉钉开发者后台启用应用的机器人"
	case has("robotCode"):
		return "robotCode 不对或无权使用：检查 [dingtalk] client_id/robot_code"
	case has("msgParam.tooLong"):
		return "消息太长，钉钉不收：缩短文本或分成几条"
	case has("msgParam"):
		return "钉钉不接受这条消息的内容（msgParam），这是 reportbot 的问题，请报告"
	case has("userIds", "staffId"):
		return "接收人无效：检查成员的钉钉 userid（senderStaffId）"
	case has("IpNotInWhiteList", "ip.notInWhiteList"):
		return "服务器的 IP 不在应用的白名单里：在钉钉开发者后台把它加进去"
	case has("Permission", "AccessDenied", "Forbidden") || e.status == http.StatusForbidden:
		return "应用没有调用这个接口的权限：在钉钉开发者后台给应用开通机器人发消息的权限（qyapi_robot_sendmsg）"
	}
	return ""
}

// retryAfter is the wait a throttled answer asks for: Retry-After, else a
// second for a per-second quota, else throttleWait.
func retryAfter(resp *http.Response, e apiError) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if strings.Contains(e.lower(), "qpslimit") {
		return time.Second
	}
	return throttleWait
}

// exchange makes one request and reads its answer. wrote says whether any
// of the request may have left: headers go to a buffer first, so even a
// failed write may have let part of it out. The probe lives in the request's
// context, so concurrent requests never see each other's.
func exchange(hc *http.Client, req *http.Request) (resp *http.Response, body []byte, wrote bool, err error) {
	var w atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteHeaders: func() { w.Store(true) },
		WroteRequest: func(httptrace.WroteRequestInfo) { w.Store(true) },
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err = hc.Do(req)
	if err != nil {
		return nil, nil, w.Load(), redactErr(err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return nil, nil, true, fmt.Errorf("reading the answer (HTTP %d): %w", resp.StatusCode, redactErr(err))
	}
	return resp, body, true, nil
}

// unanswered classifies a send whose request got no answer.
func unanswered(what string, err error, wrote bool) error {
	err = fmt.Errorf("%s: %w", what, err)
	if !wrote {
		return bot.Retryable(err, 0)
	}
	return bot.Uncertain(err)
}

// redactErr hides the query values of the URL a *url.Error names: they hold
// access tokens, signatures and session keys.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
	}
	return err
}

// redactURL keeps a URL's query keys and drops their values.
func redactURL(s string) string {
	i := strings.IndexAny(s, "?#")
	if i < 0 {
		return s
	}
	q, err := url.ParseQuery(s[i+1:])
	if err != nil || s[i] == '#' {
		return s[:i] + "?…"
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, url.QueryEscape(k)+"=…")
	}
	slices.Sort(keys)
	return s[:i] + "?" + strings.Join(keys, "&")
}

// snippet is the start of an answer, for error texts.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	if s == "" {
		return "(empty)"
	}
	return s
}
