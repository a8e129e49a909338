package dingtalktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Channel is a way the bot sends messages.
type Channel string

// The channels the fake records.
const (
	// Session is a reply through a callback's sessionWebhook.
	Session Channel = "session"
	// Group is POST /v1.0/robot/groupMessages/send.
	Group Channel = "group"
	// Private is POST /v1.0/robot/oToMessages/batchSend.
	Private Channel = "private"
	// Robot is the custom robot's POST /robot/send.
	Robot Channel = "robot"
)

// Message is one message the bot sent (or tried to).
type Message struct {
	Channel Channel
	At      time.Time
	// To is the session id (Session), the openConversationId (Group) or the
	// custom robot's access_token (Robot); UserIDs are batchSend's users.
	To      string
	UserIDs []string
	// MsgType is the msgtype (Session, Robot) or the msgKey (Group, Private).
	MsgType string
	// Title and Text are the markdown title and the text or markdown body.
	Title, Text                           string
	PhotoURL, MediaID, FileName, FileType string
	AtUserIDs, AtMobiles                  []string
	IsAtAll                               bool
	// Body is the request body as sent.
	Body string
	// Error is the code (or errcode) of the fake's refusal; empty when the
	// message was accepted.
	Error string
}

// Upload is one file uploaded to /media/upload.
type Upload struct {
	MediaID, Type, FileName string
	Data                    []byte
}

// Fault is how the fake fails an API send (groupMessages/send,
// oToMessages/batchSend). Set Status or one of Stall and Reset.
type Fault struct {
	// Status answers with this HTTP status and Code, without taking the message.
	Status int
	Code   string
	// Take records the message as sent before a Stall or Reset, as a server
	// that processed the request and then failed to answer would.
	Take bool
	// Stall holds the answer until the client gives up or the server closes.
	Stall bool
	// Reset closes the connection with a TCP RST instead of answering.
	Reset bool
}

// FailSends fails the next n API sends with f; n = 0 clears it.
func (s *Server) FailSends(n int, f Fault) {
	s.mu.Lock()
	s.faults, s.fault = n, f
	s.mu.Unlock()
}

// Throttle answers the next n API sends with HTTP 429. The real throttling
// code is unverified; the fake says "Throttling".
func (s *Server) Throttle(n int) {
	s.FailSends(n, Fault{Status: http.StatusTooManyRequests, Code: "Throttling"})
}

// Messages lists the accepted messages sent on ch.
func (s *Server) Messages(ch Channel) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.filter(ch, func(m Message) bool { return m.Error == "" })
}

// Refused lists the messages on ch that the fake refused (Error set).
func (s *Server) Refused(ch Channel) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.filter(ch, func(m Message) bool { return m.Error != "" })
}

func (s *Server) filter(ch Channel, keep func(Message) bool) []Message {
	var out []Message
	for _, m := range s.messages {
		if m.Channel == ch && keep(m) {
			out = append(out, m)
		}
	}
	return out
}

// WaitMessages waits until n messages were accepted on ch and returns them
// (fewer on timeout).
func (s *Server) WaitMessages(ch Channel, n int, timeout time.Duration) []Message {
	s.waitFor(timeout, func() bool {
		return len(s.filter(ch, func(m Message) bool { return m.Error == "" })) >= n
	})
	return s.Messages(ch)
}

// Attempts is how many send requests came on ch, failed ones too.
func (s *Server) Attempts(ch Channel) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[ch]
}

// Uploads lists the files uploaded so far.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Upload(nil), s.uploads...)
}

// TokenRequests is how many access tokens were asked for, refused asks too.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenCalls
}

// ExpireTokens ends every token issued so far before its expireIn.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.tokens {
		s.tokens[t] = time.Time{}
	}
}

// record adds m; callers hold mu.
func (s *Server) record(m Message) {
	m.At = s.now()
	s.messages = append(s.messages, m)
	s.bump()
}

func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	var req struct{ AppKey, AppSecret string }
	err := json.NewDecoder(r.Body).Decode(&req)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenCalls++
	if err != nil || req.AppKey != s.cfg.ClientID || req.AppSecret != s.cfg.ClientSecret {
		// The real answer to bad credentials is unverified.
		apiError(w, http.StatusBadRequest, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
		return
	}
	tok := s.id("tok")
	s.tokens[tok] = s.now().Add(7200 * time.Second)
	writeJSON(w, http.StatusOK, map[string]any{"accessToken": tok, "expireIn": 7200})
}

// validToken: callers hold mu.
func (s *Server) validToken(tok string) bool {
	exp, ok := s.tokens[tok]
	return ok && s.now().Before(exp)
}

// authorized checks the new-style token header and answers 401 when it fails.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	ok := s.validToken(r.Header.Get("x-acs-dingtalk-access-token"))
	s.mu.Unlock()
	if !ok {
		apiError(w, http.StatusUnauthorized, s.cfg.TokenErrorCode, "不合法的access_token")
	}
	return ok
}

func (s *Server) downloadURL(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	var req struct{ DownloadCode, RobotCode string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "InvalidParameter", err.Error())
		return
	}
	s.mu.Lock()
	d := s.downloads[req.DownloadCode]
	s.mu.Unlock()
	switch {
	case req.RobotCode != s.cfg.RobotCode:
		apiError(w, http.StatusBadRequest, "invalidParameter.robotCode.auth", "robotCode "+req.RobotCode+" is not this app's robot")
	case d == nil:
		// The real code for an unknown download code is unverified.
		apiError(w, http.StatusBadRequest, "invalidParameter.downloadCode.invalid", "downloadCode 不存在")
	default:
		writeJSON(w, http.StatusOK, map[string]string{"downloadUrl": "http://" + r.Host + "/files/" + d.fileID})
	}
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d := s.byFileID[trimFileID(r.URL.Path)]
	fail := false
	if d != nil {
		d.fetches++
		if d.fail > 0 {
			d.fail--
			fail = true
		}
	}
	s.mu.Unlock()
	switch {
	case d == nil:
		http.NotFound(w, r)
	case fail:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(d.data)
	}
}

// apiSend serves groupMessages/send and oToMessages/batchSend.
func (s *Server) apiSend(w http.ResponseWriter, r *http.Request, ch Channel) {
	s.mu.Lock()
	s.attempts[ch]++
	s.mu.Unlock()
	if !s.authorized(w, r) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req struct {
		RobotCode          string   `json:"robotCode"`
		OpenConversationID string   `json:"openConversationId"`
		UserIDs            []string `json:"userIds"`
		MsgKey             string   `json:"msgKey"`
		MsgParam           string   `json:"msgParam"`
	}
	m := Message{Channel: ch, Body: string(body)}
	refuse := func(code, msg string) {
		m.Error = code
		s.mu.Lock()
		s.record(m)
		s.mu.Unlock()
		apiError(w, http.StatusBadRequest, code, msg)
	}
	if err := json.Unmarshal(body, &req); err != nil {
		refuse("InvalidParameter", "body is not JSON (is msgParam a string?): "+err.Error())
		return
	}
	m.To, m.UserIDs, m.MsgType = req.OpenConversationID, req.UserIDs, req.MsgKey
	s.mu.Lock()
	known := s.known[req.OpenConversationID]
	s.mu.Unlock()
	switch {
	case req.RobotCode == "":
		refuse("invalidParameter.robotCode.empty", "robotCode is empty")
		return
	case req.RobotCode != s.cfg.RobotCode:
		refuse("invalidParameter.robotCode.auth", "robotCode is not this app's robot")
		return
	case ch == Group && req.OpenConversationID == "":
		refuse("miss.openConversationId", "openConversationId is missing")
		return
	case ch == Group && !known:
		refuse("invalid.openConversationId", "openConversationId 无效，机器人不在群中")
		return
	case ch == Private && len(req.UserIDs) == 0:
		refuse("invalidParameter.userIds.empty", "userIds is empty")
		return
	case ch == Private && len(req.UserIDs) > 20:
		// The real maximum is unverified; the fake takes 20.
		refuse("invalidParameter.userIds.overMax", "too many userIds")
		return
	}
	if code, msg := s.parseParam(&m, req.MsgKey, req.MsgParam); code != "" {
		refuse(code, msg)
		return
	}

	s.mu.Lock()
	f, faulty := s.fault, s.faults > 0
	if faulty {
		s.faults--
	}
	q := s.id("q")
	if !faulty || (f.Take && f.Status == 0) {
		s.record(m)
	}
	s.mu.Unlock()
	if faulty {
		switch {
		case f.Status != 0:
			apiError(w, f.Status, f.Code, "fake: injected failure")
		case f.Stall:
			select {
			case <-r.Context().Done():
			case <-s.closed:
			}
		case f.Reset:
			reset(w)
		}
		return
	}
	resp := map[string]any{"processQueryKey": q}
	if ch == Private {
		resp["invalidStaffIdList"] = []string{}
		resp["flowControlledStaffIdList"] = []string{}
	}
	writeJSON(w, http.StatusOK, resp)
}

// parseParam decodes msgParam (a JSON text inside the JSON body) per msgKey
// into m, or returns the refusal code.
func (s *Server) parseParam(m *Message, key, param string) (code, msg string) {
	var p struct {
		Content, Title, Text, PhotoURL, MediaID, FileName, FileType *string
	}
	if err := json.Unmarshal([]byte(param), &p); err != nil {
		return "invalidParameter.msgParam.invalid", "msgParam is not a JSON object: " + err.Error()
	}
	get := func(v *string) string {
		if v == nil {
			return ""
		}
		return *v
	}
	need := func(name string, v *string) bool {
		if get(v) == "" {
			code, msg = "invalidParameter.msgParam.invalid", "msgParam."+name+" is missing"
			return false
		}
		return true
	}
	switch key {
	case "sampleText":
		if need("content", p.Content) {
			m.Text = *p.Content
		}
	case "sampleMarkdown":
		if get(p.Title) == "" {
			return "miss.param.markdownTotitle", "msgParam.title is missing"
		}
		if need("text", p.Text) {
			m.Title, m.Text = *p.Title, *p.Text
		}
	case "sampleImageMsg":
		if need("photoURL", p.PhotoURL) {
			m.PhotoURL = *p.PhotoURL
		}
	case "sampleFile":
		if need("mediaId", p.MediaID) && need("fileName", p.FileName) && need("fileType", p.FileType) {
			m.MediaID, m.FileName, m.FileType = *p.MediaID, *p.FileName, *p.FileType
		}
	case "":
		return "invalidParameter.msgKey.invalid", "msgKey is missing"
	default:
		return "invalidParameter.msgKey.invalid", "the fake knows no msgKey " + key
	}
	return code, msg
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	oapiError := func(code int, msg string) {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": code, "errmsg": msg})
	}
	s.mu.Lock()
	ok := s.validToken(r.URL.Query().Get("access_token"))
	s.mu.Unlock()
	typ := r.URL.Query().Get("type")
	if !ok {
		oapiError(40014, "不合法的access_token")
		return
	}
	switch typ {
	case "image", "file", "voice", "video":
	default:
		oapiError(40004, "不合法的媒体文件类型")
		return
	}
	f, h, err := r.FormFile("media")
	if err != nil {
		oapiError(41005, "缺少多媒体文件数据: "+err.Error())
		return
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		oapiError(41005, err.Error())
		return
	}
	s.mu.Lock()
	up := Upload{MediaID: s.id("@lA"), Type: typ, FileName: h.Filename, Data: data}
	s.uploads = append(s.uploads, up)
	s.bump()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "media_id": up.MediaID, "type": typ, "created_at": time.Now().UnixMilli()})
}

// webhookBody is what the session and custom-robot webhooks take.
type webhookBody struct {
	MsgType string `json:"msgtype"`
	Text    *struct {
		Content string `json:"content"`
	} `json:"text"`
	Markdown *struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"markdown"`
	At *struct {
		AtUserIDs []string `json:"atUserIds"`
		AtMobiles []string `json:"atMobiles"`
		IsAtAll   bool     `json:"isAtAll"`
	} `json:"at"`
}

// parseWebhook fills m from body, or returns why it is not a message the
// webhooks take. The real errcodes for these are unverified.
func parseWebhook(m *Message, body []byte) (errcode int, errmsg string) {
	var b webhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return 40035, "不合法的参数: " + err.Error()
	}
	m.MsgType = b.MsgType
	if b.At != nil {
		m.AtUserIDs, m.AtMobiles, m.IsAtAll = b.At.AtUserIDs, b.At.AtMobiles, b.At.IsAtAll
	}
	switch {
	case b.MsgType == "text" && b.Text != nil && b.Text.Content != "":
		m.Text = b.Text.Content
	case b.MsgType == "markdown" && b.Markdown != nil && b.Markdown.Title != "" && b.Markdown.Text != "":
		m.Title, m.Text = b.Markdown.Title, b.Markdown.Text
	case b.MsgType == "actionCard":
	default:
		return 40035, "不合法的参数: msgtype " + b.MsgType + " without its content"
	}
	return 0, ""
}

func (s *Server) sessionSend(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id := r.URL.Query().Get("session")
	m := Message{Channel: Session, To: id, Body: string(body)}
	errcode, errmsg := parseWebhook(&m, body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[Session]++
	if exp, ok := s.sessions[id]; !ok || !s.now().Before(exp) {
		errcode, errmsg = 300001, "session 不存在"
	}
	if errcode != 0 {
		m.Error = strconv.Itoa(errcode)
	}
	s.record(m)
	writeJSON(w, http.StatusOK, map[string]any{"errcode": errcode, "errmsg": orOK(errmsg)})
}

func orOK(msg string) string {
	if msg == "" {
		return "ok"
	}
	return msg
}

// Sign is the custom robot's 加签 signature for timestamp (epoch ms):
// base64(HMAC-SHA256(secret, timestamp+"\n"+secret)). The URL carries it
// query-escaped.
func Sign(secret string, timestamp int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// RobotURL is the custom robot's webhook URL signed at the fake's now, as a
// correct client would build it.
func (s *Server) RobotURL() string {
	ts := s.Now().UnixMilli()
	return s.srv.URL + "/robot/send?access_token=" + url.QueryEscape(s.cfg.RobotToken) +
		"&timestamp=" + strconv.FormatInt(ts, 10) + "&sign=" + url.QueryEscape(Sign(s.cfg.RobotSecret, ts))
}

func (s *Server) robotSend(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	q := r.URL.Query()
	m := Message{Channel: Robot, To: q.Get("access_token"), Body: string(body)}
	errcode, errmsg := parseWebhook(&m, body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[Robot]++
	now := s.now()
	ts, tsErr := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	off := now.Sub(time.UnixMilli(ts))
	switch {
	case m.To != s.cfg.RobotToken:
		errcode, errmsg = 300001, "token is not exist"
	case tsErr != nil || off > time.Hour || off < -time.Hour:
		errcode, errmsg = 310000, "invalid timestamp"
	case !hmac.Equal([]byte(q.Get("sign")), []byte(Sign(s.cfg.RobotSecret, ts))):
		errcode, errmsg = 310000, "sign not match"
	case errcode != 0:
	case now.Before(s.robotUntil) || s.overLimit(now):
		errcode, errmsg = 130101, "send too fast, exceed 20 times per minute"
	default:
		s.robotSent = append(s.robotSent, now)
	}
	if errcode != 0 {
		m.Error = strconv.Itoa(errcode)
	}
	s.record(m)
	writeJSON(w, http.StatusOK, map[string]any{"errcode": errcode, "errmsg": orOK(errmsg)})
}

// overLimit reports whether a send at now would be one too many in the
// rolling minute, and if so starts the penalty; callers hold mu.
func (s *Server) overLimit(now time.Time) bool {
	kept := s.robotSent[:0]
	for _, t := range s.robotSent {
		if now.Sub(t) < time.Minute {
			kept = append(kept, t)
		}
	}
	s.robotSent = kept
	if len(kept) < s.cfg.RobotPerMinute {
		return false
	}
	s.robotUntil = now.Add(s.cfg.RobotPenalty)
	return true
}
