// Package wecomtest is a fake 企业微信 for tests: the 智能机器人 long
// connection (a WebSocket speaking aibot_subscribe, ping, the message and
// event callbacks, replies, proactive sends and chunked uploads, each answer
// matched to its request by req_id), the encrypted media download URLs, and
// the 群机器人 webhook with its mentioned_list.
//
// Tests push callbacks, drop the connection, kick it by a second connection
// that subscribes as the same bot, stop answering pings, refuse subscribes,
// refuse group pushes, move the fake's clock, and read back every message the
// bot sent on each channel. The facts are in shared/wecom/PROTOCOL.md; where
// the real service's answer is unknown, the fake picks one and says so.
package wecomtest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The errcodes the fake answers with. Those PROTOCOL.md §7 cites are the
// real ones; ErrCredential and ErrMediaExpired are the fake's choice.
const (
	ErrFreq          = 45009  // api freq out of limit
	ErrInvalidReqID  = 846605 // a req_id the current session did not hand out
	ErrNotSubscribed = 846609 // a command before aibot_subscribe succeeded
	ErrInvalidChatID = 93006  // a chatid nobody has messaged the bot from
	ErrCredential    = 40001  // wrong bot_id or secret (real code unverified)
	ErrGroupPush     = 846607 // a proactive group push refused (open question 1; code made up)
	ErrWebhookKey    = 93000  // webhook key unknown (often quoted, unverified)
)

// Config sets up a Server; every empty field gets the default its comment names.
type Config struct {
	// BotID and Secret are the robot's credentials. Defaults "aibtest" and "wecomsecret".
	BotID, Secret string
	// ChatID is the group's chatid. Default "wrkGroup1".
	ChatID string
	// WebhookKey is the 群机器人's key. Default "693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa".
	WebhookKey string
	// PerMinute and PerHour bound the bot's messages per conversation.
	// Defaults 30 and 1000.
	PerMinute, PerHour int
	// WebhookPerMinute bounds the webhook. Default 20.
	WebhookPerMinute int
	// MediaLifetime is how long a media URL works after its callback. Default 5 minutes.
	MediaLifetime time.Duration
	// Now is the fake's clock for limits and media expiry. Default time.Now; Advance moves it.
	Now func() time.Time
}

func (c *Config) defaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.BotID, "aibtest")
	def(&c.Secret, "wecomsecret")
	def(&c.ChatID, "wrkGroup1")
	def(&c.WebhookKey, "693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa")
	if c.PerMinute <= 0 {
		c.PerMinute = 30
	}
	if c.PerHour <= 0 {
		c.PerHour = 1000
	}
	if c.WebhookPerMinute <= 0 {
		c.WebhookPerMinute = 20
	}
	if c.MediaLifetime <= 0 {
		c.MediaLifetime = 5 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Channel is a way a message leaves the bot.
type Channel string

// The channels the fake records.
const (
	Reply   Channel = "reply"   // aibot_respond_msg
	Push    Channel = "push"    // aibot_send_msg
	Webhook Channel = "webhook" // the 群机器人
)

// Message is one send the fake received, accepted or refused.
type Message struct {
	Channel Channel
	// ReqID is the callback a reply answers; ChatID the chat a push goes to
	// (the group's chatid or a userid), ChatType its chat_type (0 absent).
	ReqID    string
	ChatID   string
	ChatType int
	MsgType  string
	Text     string
	// Mentioned is a webhook text's mentioned_list.
	Mentioned []string
	// MediaID names an uploaded file; FileName and Data are what was uploaded.
	MediaID  string
	FileName string
	Data     []byte
	// Errcode is the fake's answer (0: accepted).
	Errcode int
	At      time.Time
}

// Sender is a member as a callback names them.
type Sender struct{ UserID string }

// Server is the fake. Create it with New and stop it with Close.
type Server struct {
	cfg      Config
	srv      *httptest.Server
	upgrader websocket.Upgrader

	mu          sync.Mutex
	seq         int
	skew        time.Duration
	cur         *conn // the subscribed connection, nil when none
	dials       int
	subscribes  int
	failSubs    []int // errcodes for the next subscribes
	ignorePings bool
	refuseGroup bool
	chats       map[string]int // chatids and userids that have messaged the bot: chat_type
	sent        []Message
	limits      map[string][]time.Time // conversation (or "webhook") -> send times
	media       map[string]*mediaFile
	uploads     map[string]*upload
	uploaded    map[string]upload // media_id -> the finished upload
	events      []string          // "kicked", "dropped": what the fake did to connections
	others      []*websocket.Conn // second instances a test dialled
}

type mediaFile struct {
	name    string
	cipher  []byte
	expires time.Time
	fails   int
	fetches int
}

type upload struct {
	typ, name string
	total     int
	size      int
	md5       string
	chunks    map[int][]byte
	data      []byte
}

// New starts a fake on the loopback.
func New(cfg Config) *Server {
	cfg.defaults()
	s := &Server{cfg: cfg, chats: map[string]int{}, limits: map[string][]time.Time{}, media: map[string]*mediaFile{},
		uploads: map[string]*upload{}, uploaded: map[string]upload{}}
	s.srv = httptest.NewServer(s)
	return s
}

// Config is the fake's configuration with its defaults.
func (s *Server) Config() Config { return s.cfg }

// WSURL is the long connection's address (ws://…), for [wecom] ws_url.
func (s *Server) WSURL() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") }

// URL is the HTTP address (media and webhook), for [wecom] api_host.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the fake and every connection.
func (s *Server) Close() {
	s.mu.Lock()
	if s.cur != nil {
		s.cur.ws.Close()
	}
	for _, o := range s.others {
		o.Close()
	}
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Advance moves the fake's clock.
func (s *Server) Advance(d time.Duration) { s.mu.Lock(); s.skew += d; s.mu.Unlock() }

func (s *Server) now() time.Time { return s.cfg.Now().Add(s.skew) }

func (s *Server) id(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%d", prefix, s.seq)
}

// ServeHTTP routes the fake's endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case websocket.IsWebSocketUpgrade(r):
		s.serveWS(w, r)
	case strings.HasPrefix(r.URL.Path, "/media/"):
		s.serveMedia(w, r)
	case r.URL.Path == "/cgi-bin/webhook/send":
		s.webhookSend(w, r)
	case r.URL.Path == "/cgi-bin/webhook/upload_media":
		s.webhookUpload(w, r)
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// waitFor polls cond for up to timeout (real time).
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// Messages are the accepted sends on ch, in order.
func (s *Server) Messages(ch Channel) []Message {
	return s.filter(ch, func(m Message) bool { return m.Errcode == 0 })
}

// Refused are the refused sends on ch, in order.
func (s *Server) Refused(ch Channel) []Message {
	return s.filter(ch, func(m Message) bool { return m.Errcode != 0 })
}

func (s *Server) filter(ch Channel, keep func(Message) bool) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.sent {
		if m.Channel == ch && keep(m) {
			out = append(out, m)
		}
	}
	return out
}

func (s *Server) record(m Message) {
	m.At = s.now()
	s.sent = append(s.sent, m)
}

// overLimit books a send to key at now unless it would break max per window.
func (s *Server) overLimit(key string, now time.Time, limits ...struct {
	max    int
	window time.Duration
}) bool {
	times := s.limits[key]
	for _, l := range limits {
		n := 0
		for _, t := range times {
			if now.Sub(t) < l.window {
				n++
			}
		}
		if n >= l.max {
			return true
		}
	}
	s.limits[key] = append(times, now)
	return false
}

// AddMedia makes a download URL for data, encrypted as 企业微信 does
// (AES-256-CBC, IV the key's first 16 bytes, PKCS#7 to 32 bytes), valid for
// MediaLifetime from now; it returns the URL and the base64 aeskey.
func (s *Server) AddMedia(name string, data []byte) (url, aeskey string) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.id("m")
	s.media[id] = &mediaFile{name: name, cipher: Encrypt(key, data), expires: s.now().Add(s.cfg.MediaLifetime)}
	return s.srv.URL + "/media/" + id, base64.StdEncoding.EncodeToString(key)
}

// FailMedia makes the next n fetches of every media URL answer 503.
func (s *Server) FailMedia(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.media {
		m.fails = n
	}
}

// Encrypt is 企业微信's media encryption, for fixtures.
func Encrypt(key, plain []byte) []byte {
	n := 32 - len(plain)%32
	padded := append(append([]byte(nil), plain...), bytes.Repeat([]byte{byte(n)}, n)...)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // a fixture with a wrong key is a bug in the test
	}
	out := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(out, padded)
	return out
}

func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m := s.media[strings.TrimPrefix(r.URL.Path, "/media/")]
	var status int
	var body []byte
	switch {
	case m == nil:
		status = http.StatusNotFound
	case s.now().After(m.expires):
		status = http.StatusForbidden // an expired URL (the real answer is unverified)
	case m.fails > 0:
		m.fails--
		status = http.StatusServiceUnavailable
	default:
		status, body = http.StatusOK, m.cipher
	}
	if m != nil {
		m.fetches++
		w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+urlEscape(m.name))
	}
	s.mu.Unlock()
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// MediaFetches counts the fetches of every media URL.
func (s *Server) MediaFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.media {
		n += m.fetches
	}
	return n
}

// WebhookURL is the 群机器人's send address with its key.
func (s *Server) WebhookURL() string {
	return s.srv.URL + "/cgi-bin/webhook/send?key=" + s.cfg.WebhookKey
}

func (s *Server) webhookSend(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req struct {
		MsgType string `json:"msgtype"`
		Text    *struct {
			Content       string   `json:"content"`
			MentionedList []string `json:"mentioned_list"`
		} `json:"text"`
		Markdown *struct {
			Content string `json:"content"`
		} `json:"markdown"`
		File *struct {
			MediaID string `json:"media_id"`
		} `json:"file"`
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := Message{Channel: Webhook}
	switch {
	case r.URL.Query().Get("key") != s.cfg.WebhookKey:
		m.Errcode = ErrWebhookKey
	case json.Unmarshal(body, &req) != nil:
		m.Errcode = 40008 // invalid message type (the fake's choice for bad JSON)
	default:
		m.MsgType = req.MsgType
		switch {
		case req.MsgType == "text" && req.Text != nil && len(req.Text.Content) <= 2048:
			m.Text, m.Mentioned = req.Text.Content, req.Text.MentionedList
		case req.MsgType == "markdown" && req.Markdown != nil && len(req.Markdown.Content) <= 4096:
			m.Text = req.Markdown.Content
		case req.MsgType == "file" && req.File != nil && s.uploaded[req.File.MediaID].data != nil:
			u := s.uploaded[req.File.MediaID]
			m.MediaID, m.FileName, m.Data = req.File.MediaID, u.name, u.data
		default:
			m.Errcode = 40008
		}
		if m.Errcode == 0 && s.overLimit("webhook", s.now(), struct {
			max    int
			window time.Duration
		}{s.cfg.WebhookPerMinute, time.Minute}) {
			m.Errcode = ErrFreq
		}
	}
	s.record(m)
	writeJSON(w, map[string]any{"errcode": m.Errcode, "errmsg": errmsg(m.Errcode)})
}

func (s *Server) webhookUpload(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("key") != s.cfg.WebhookKey {
		writeJSON(w, map[string]any{"errcode": ErrWebhookKey, "errmsg": errmsg(ErrWebhookKey)})
		return
	}
	f, h, err := r.FormFile("media")
	if err != nil {
		writeJSON(w, map[string]any{"errcode": 40004, "errmsg": "invalid media: " + err.Error()})
		return
	}
	data, _ := io.ReadAll(f)
	if len(data) < 5 || len(data) > 20<<20 {
		writeJSON(w, map[string]any{"errcode": 40006, "errmsg": "invalid file size"})
		return
	}
	s.mu.Lock()
	id := s.id("hookmedia")
	s.uploaded[id] = upload{typ: r.URL.Query().Get("type"), name: h.Filename, data: data}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "type": r.URL.Query().Get("type"), "media_id": id, "created_at": strconv.FormatInt(s.now().Unix(), 10)})
}

func errmsg(code int) string {
	switch code {
	case 0:
		return "ok"
	case ErrFreq:
		return "api freq out of limit"
	case ErrInvalidReqID:
		return "invalid req_id"
	case ErrNotSubscribed:
		return "aibot websocket not subscribed"
	case ErrInvalidChatID:
		return "invalid chatid"
	case ErrCredential:
		return "invalid credential"
	case ErrGroupPush:
		return "group push not allowed"
	case ErrWebhookKey:
		return "invalid webhook url"
	}
	return "error"
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
