// Package dingtalktest is a fake 钉钉 (DingTalk) server for tests. It speaks,
// over plain HTTP and WebSocket on the loopback, what the Stream-mode SDK
// github.com/open-dingtalk/dingtalk-stream-sdk-go v0.9.2-beta.1 calls (the
// gateway open call and the stream) and the REST endpoints our adapter calls
// itself (access token, media download, group and 1:1 sends, media upload, the
// session webhook and the custom robot webhook), so the real SDK and our
// client can be driven end to end.
//
// Tests push robot callbacks and system frames, read the acks back, drop the
// connection or refuse to reopen it, redeliver frames, expire sessions and
// tokens, inject send failures, move the fake's clock, and read back every
// message the bot sent on each channel.
//
// The facts behind it are in shared/dingtalk/PROTOCOL.md; where the real
// service's answer is unknown, the fake picks one and its doc comment says so.
package dingtalktest

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Config sets up a Server. The zero value is usable: every empty field gets
// the default its comment names.
type Config struct {
	// ClientID and ClientSecret are the app's credentials (AppKey/AppSecret),
	// checked by the open call and the token endpoint. Defaults "dingapp" and
	// "appsecret".
	ClientID, ClientSecret string
	// RobotCode is what download and send requests must name; defaults to ClientID,
	// as it is for an enterprise internal app's robot.
	RobotCode string
	// RobotToken and RobotSecret are the custom robot's access_token and 加签
	// secret. Defaults "robottoken" and "SECrobotsecret".
	RobotToken, RobotSecret string
	// Group is the group the robot serves; the group-send API knows it and
	// every conversation a pushed callback came from. Default cidGroup1== "XX街道报表群".
	Group Conversation
	// SessionLifetime is how long a session webhook works after its callback
	// was pushed. Default 90 minutes.
	SessionLifetime time.Duration
	// RedeliverAfter, when positive, resends a callback frame that was not
	// acked with code 200 this long (real time) after it was written, as the
	// real gateway is believed to (PROTOCOL.md §10.1: interval unverified).
	RedeliverAfter time.Duration
	// MaxRedeliveries bounds the resends of one frame. Default 3.
	MaxRedeliveries int
	// RobotPerMinute is the custom robot's limit in any rolling minute. Default 20.
	RobotPerMinute int
	// RobotPenalty is how long the custom robot refuses everything once a send
	// went over the limit. Default 10 minutes.
	RobotPenalty time.Duration
	// DownloadFailsOnce makes the first fetch of every download URL answer 502,
	// as real downloads sometimes do.
	DownloadFailsOnce bool
	// TokenErrorCode is the code of the 401 answer to a missing, unknown or
	// expired access token: "InvalidAuthentication" (default) or the
	// documented "token.notExisted".
	TokenErrorCode string
	// Now is the fake's clock for session and token expiry, the custom robot's
	// signature window and rate limit. Default time.Now; Advance moves it.
	Now func() time.Time
}

// Conversation is a chat as the robot sees it.
type Conversation struct {
	// ID is the openConversationId (the callback's conversationId).
	ID string
	// Title is the group's name (conversationTitle).
	Title string
}

func (c *Config) defaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.ClientID, "dingapp")
	def(&c.ClientSecret, "appsecret")
	def(&c.RobotCode, c.ClientID)
	def(&c.RobotToken, "robottoken")
	def(&c.RobotSecret, "SECrobotsecret")
	def(&c.Group.ID, "cidGroup1==")
	def(&c.Group.Title, "XX街道报表群")
	def(&c.TokenErrorCode, "InvalidAuthentication")
	if c.SessionLifetime <= 0 {
		c.SessionLifetime = 90 * time.Minute
	}
	if c.MaxRedeliveries <= 0 {
		c.MaxRedeliveries = 3
	}
	if c.RobotPerMinute <= 0 {
		c.RobotPerMinute = 20
	}
	if c.RobotPenalty <= 0 {
		c.RobotPenalty = 10 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Server is the fake. Create it with New and stop it with Close.
type Server struct {
	cfg       Config
	srv       *httptest.Server
	upgrader  websocket.Upgrader
	closed    chan struct{} // closed by Close: stalled answers and waits give up
	closeOnce sync.Once

	mu      sync.Mutex
	changed chan struct{} // closed and replaced at every change a test may wait for
	skew    time.Duration
	nextID  int

	// stream
	opens       []OpenRequest
	openCalls   int
	refuseN     int
	refuseTill  time.Time
	tickets     map[string]bool // issued and not yet used
	dials       int
	cur         *conn // the connection pushes go to; nil while none
	conns       map[*conn]bool
	pending     []*frame // pushed while no connection was up
	frames      map[string]*frame
	deliveries  map[string]int // messageId -> writes
	redelivered map[string]int
	acked       map[string]bool // messageId acked with code 200
	acks        []Ack
	badAcks     []string
	ignorePings bool
	timers      []*time.Timer

	// sessions and REST
	sessions   map[string]time.Time // session -> expiry
	known      map[string]bool      // openConversationIds the group API accepts
	tokens     map[string]time.Time // token -> expiry
	tokenCalls int
	downloads  map[string]*download // downloadCode -> file
	byFileID   map[string]*download
	uploads    []Upload
	messages   []Message
	attempts   map[Channel]int
	faults     int
	fault      Fault
	robotSent  []time.Time // accepted custom-robot sends, for the rolling minute
	robotUntil time.Time   // throttled until
}

// New starts a fake server configured by cfg.
func New(cfg Config) *Server {
	cfg.defaults()
	s := &Server{
		cfg:         cfg,
		closed:      make(chan struct{}),
		changed:     make(chan struct{}),
		tickets:     map[string]bool{},
		conns:       map[*conn]bool{},
		frames:      map[string]*frame{},
		deliveries:  map[string]int{},
		redelivered: map[string]int{},
		acked:       map[string]bool{},
		sessions:    map[string]time.Time{},
		known:       map[string]bool{cfg.Group.ID: true},
		tokens:      map[string]time.Time{},
		downloads:   map[string]*download{},
		byFileID:    map[string]*download{},
		attempts:    map[Channel]int{},
	}
	s.srv = httptest.NewServer(s)
	return s
}

// Config returns the configuration in force, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// URL is the server's base URL (http://127.0.0.1:PORT): the SDK's
// WithOpenApiHost, and the base for api.dingtalk.com and oapi.dingtalk.com.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server, its connections and redelivery timers; stalled
// answers end. It may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.mu.Lock()
		for _, t := range s.timers {
			t.Stop()
		}
		var cs []*conn
		for c := range s.conns {
			cs = append(cs, c)
		}
		s.cur = nil
		s.mu.Unlock()
		for _, c := range cs {
			c.ws.Close()
		}
		s.srv.Close()
	})
}

// Advance moves the fake's clock by d (session and token expiry, the custom
// robot's signature window and rate limit). The stream's redelivery uses real
// time, as the SDK does.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.skew += d
	s.mu.Unlock()
}

// Now is the fake's current time.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// now is the fake's clock; callers hold mu.
func (s *Server) now() time.Time { return s.cfg.Now().Add(s.skew) }

// id returns a fresh id with prefix p; callers hold mu.
func (s *Server) id(p string) string {
	s.nextID++
	return p + strconv.Itoa(s.nextID)
}

// bump wakes every waiter; callers hold mu.
func (s *Server) bump() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor waits until cond (called with mu held) holds, the timeout passes or
// the server closes, and reports whether cond held.
func (s *Server) waitFor(timeout time.Duration, cond func() bool) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		ok, ch := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			return false
		case <-s.closed:
			return false
		}
	}
}

// ServeHTTP routes by path, since the fake serves api.dingtalk.com,
// oapi.dingtalk.com, the stream and download URLs on one listener.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/connect" {
		s.connect(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/files/") {
		s.serveFile(w, r)
		return
	}
	routes := map[string]func(http.ResponseWriter, *http.Request){
		"/v1.0/gateway/connections/open":    s.open,
		"/robot/sendBySession":              s.sessionSend,
		"/v1.0/oauth2/accessToken":          s.accessToken,
		"/v1.0/robot/messageFiles/download": s.downloadURL,
		"/v1.0/robot/groupMessages/send":    func(w http.ResponseWriter, r *http.Request) { s.apiSend(w, r, Group) },
		"/v1.0/robot/oToMessages/batchSend": func(w http.ResponseWriter, r *http.Request) { s.apiSend(w, r, Private) },
		"/media/upload":                     s.upload,
		"/robot/send":                       s.robotSend,
	}
	h, ok := routes[r.URL.Path]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "NotFound", "message": "fake: no such endpoint " + r.URL.Path})
		return
	}
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"code": "MethodNotAllowed", "message": r.Method})
		return
	}
	h(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError is the new-style (api.dingtalk.com) error body.
func apiError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"code": code, "message": message, "requestid": "fake-request"})
}

// reset closes the connection under w with a TCP RST, so that the client
// sees "connection reset by peer" rather than an orderly close.
func reset(w http.ResponseWriter) {
	c, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}
