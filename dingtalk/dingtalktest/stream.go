package dingtalktest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// Frame types and the robot callback topic, as the gateway spells them.
const (
	TypeSystem   = "SYSTEM"
	TypeCallback = "CALLBACK"
	TypeEvent    = "EVENT"
	// BotTopic is the topic of robot message callbacks.
	BotTopic = "/v1.0/im/bot/messages/get"
)

// Subscription is one (type, topic) pair a client subscribed to.
type Subscription struct {
	Type  string `json:"type"`
	Topic string `json:"topic"`
}

// OpenRequest is the body of one gateway open call.
type OpenRequest struct {
	ClientID      string            `json:"clientId"`
	ClientSecret  string            `json:"clientSecret"`
	Subscriptions []Subscription    `json:"subscriptions"`
	UA            string            `json:"ua"`
	LocalIP       string            `json:"localIp"`
	Extras        map[string]string `json:"extras"`
}

// Subscribes reports whether the request subscribed to (typ, topic).
func (o OpenRequest) Subscribes(typ, topic string) bool {
	for _, s := range o.Subscriptions {
		if s.Type == typ && s.Topic == topic {
			return true
		}
	}
	return false
}

// Ack is one acknowledgement the client wrote on the stream.
type Ack struct {
	// MessageID is the acked frame's headers.messageId.
	MessageID string
	// Code is 200 when handled, 404 for a topic without handler, 500 when the
	// handler failed.
	Code    int
	Message string
	// Data is the handler's answer; for a SYSTEM ping, the echoed data.
	Data string
	// Ticket names the connection it came on.
	Ticket string
	At     time.Time
}

type frame struct {
	id       string
	typ      string
	callback bool // redelivered when not acked
	raw      []byte
}

type conn struct {
	ws     *websocket.Conn
	ticket string
	out    chan *frame
	done   chan struct{}
}

func (s *Server) open(w http.ResponseWriter, r *http.Request) {
	var req OpenRequest
	err := json.NewDecoder(r.Body).Decode(&req)
	s.mu.Lock()
	s.openCalls++
	s.bump()
	refused := s.refuseN > 0 || time.Now().Before(s.refuseTill)
	if s.refuseN > 0 {
		s.refuseN--
	}
	s.mu.Unlock()
	switch {
	case refused:
		// What the real gateway answers when it turns a client away is not
		// known; a 503 is an answer the SDK can only treat as a failed open.
		apiError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "fake: open refused")
		return
	case err != nil:
		apiError(w, http.StatusBadRequest, "InvalidParameter", "body is not JSON: "+err.Error())
		return
	case req.ClientID != s.cfg.ClientID || req.ClientSecret != s.cfg.ClientSecret:
		apiError(w, http.StatusUnauthorized, "InvalidAuthentication", "clientId or clientSecret is invalid")
		return
	case len(req.Subscriptions) == 0:
		apiError(w, http.StatusBadRequest, "InvalidParameter", "subscriptions is empty")
		return
	}
	s.mu.Lock()
	s.opens = append(s.opens, req)
	ticket := s.id("T")
	s.tickets[ticket] = true
	s.bump()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"endpoint": "ws://" + r.Host + "/connect", "ticket": ticket})
}

func (s *Server) connect(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	ok := s.tickets[ticket]
	delete(s.tickets, ticket)
	s.mu.Unlock()
	if !ok {
		apiError(w, http.StatusUnauthorized, "InvalidTicket", "ticket unknown or used")
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &conn{ws: ws, ticket: ticket, out: make(chan *frame, 1024), done: make(chan struct{})}
	ws.SetPingHandler(func(data string) error {
		s.mu.Lock()
		ignore := s.ignorePings
		s.mu.Unlock()
		if ignore {
			return nil
		}
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		ws.Close()
		return
	default:
	}
	s.dials++
	s.cur = c
	s.conns[c] = true
	for _, f := range s.pending {
		c.out <- f
	}
	s.pending = nil
	s.bump()
	s.mu.Unlock()
	go s.writeLoop(c)
	s.readLoop(c)
}

func (s *Server) writeLoop(c *conn) {
	for {
		select {
		case f := <-c.out:
			_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := c.ws.WriteMessage(websocket.TextMessage, f.raw); err != nil {
				c.ws.Close()
				return
			}
			s.mu.Lock()
			s.deliveries[f.id]++
			if f.callback && s.cfg.RedeliverAfter > 0 {
				id := f.id
				s.timers = append(s.timers, time.AfterFunc(s.cfg.RedeliverAfter, func() { s.maybeRedeliver(id) }))
			}
			s.bump()
			s.mu.Unlock()
		case <-c.done:
			return
		}
	}
}

func (s *Server) readLoop(c *conn) {
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			break
		}
		var a struct {
			Code    int               `json:"code"`
			Headers map[string]string `json:"headers"`
			Message string            `json:"message"`
			Data    string            `json:"data"`
		}
		s.mu.Lock()
		if err := json.Unmarshal(msg, &a); err != nil || a.Headers["messageId"] == "" {
			s.badAcks = append(s.badAcks, string(msg))
		} else {
			id := a.Headers["messageId"]
			s.acks = append(s.acks, Ack{MessageID: id, Code: a.Code, Message: a.Message, Data: a.Data, Ticket: c.ticket, At: time.Now()})
			if a.Code == http.StatusOK {
				s.acked[id] = true
			}
		}
		s.bump()
		s.mu.Unlock()
	}
	s.mu.Lock()
	if s.cur == c {
		s.cur = nil
	}
	delete(s.conns, c)
	close(c.done)
	// Frames not yet written go to the next connection, as a gateway that
	// never handed them over would do.
	var unsent []*frame
	for len(c.out) > 0 {
		unsent = append(unsent, <-c.out)
	}
	s.pending = append(unsent, s.pending...)
	s.bump()
	s.mu.Unlock()
	c.ws.Close()
}

// send hands f to the current connection, or keeps it until one comes; callers hold mu.
func (s *Server) send(f *frame) {
	if s.cur != nil {
		select {
		case s.cur.out <- f:
			return
		default:
		}
	}
	s.pending = append(s.pending, f)
}

func (s *Server) maybeRedeliver(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closed:
		return
	default:
	}
	if s.acked[id] || s.redelivered[id] >= s.cfg.MaxRedeliveries {
		return
	}
	s.redelivered[id]++
	s.send(s.frames[id])
}

// PushFrame sends a frame of type typ (TypeSystem, TypeCallback, TypeEvent)
// and topic with data (a JSON text, sent as a string) and returns its
// messageId. Frames pushed while no connection is up wait for the next one.
func (s *Server) PushFrame(typ, topic, data string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushFrame(typ, topic, data)
}

// pushFrame is PushFrame; callers hold mu.
func (s *Server) pushFrame(typ, topic, data string) string {
	id := s.id("m-")
	raw, _ := json.Marshal(map[string]any{
		"specVersion": "1.0",
		"type":        typ,
		"headers": map[string]string{
			"contentType": "application/json",
			"messageId":   id,
			"time":        strconv.FormatInt(time.Now().UnixMilli(), 10),
			"topic":       topic,
		},
		"data": data,
	})
	f := &frame{id: id, typ: typ, callback: typ != TypeSystem, raw: raw}
	s.frames[id] = f
	s.send(f)
	return id
}

// PushRaw sends a robot callback whose data is raw (JSON text, such as a
// captured real callback) and returns the frame's messageId.
func (s *Server) PushRaw(raw string) string {
	return s.PushFrame(TypeCallback, BotTopic, raw)
}

// Ping sends a SYSTEM ping carrying data; the SDK should echo data in its ack.
func (s *Server) Ping(data string) string {
	return s.PushFrame(TypeSystem, "ping", data)
}

// Disconnect sends a SYSTEM disconnect, after which the client is expected to
// close and open a new connection; frames pushed from now on wait for it.
func (s *Server) Disconnect() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.pushFrame(TypeSystem, "disconnect", `{"reason":"fake: server going away"}`)
	s.cur = nil
	return id
}

// Drop closes the current connection's socket without a close frame, as a
// network failure does, and reports whether one was up. Frames pushed from
// now on wait for the next connection.
func (s *Server) Drop() bool {
	s.mu.Lock()
	c := s.cur
	s.cur = nil
	s.mu.Unlock()
	if c == nil {
		return false
	}
	c.ws.Close()
	return true
}

// Redeliver sends the frame messageID again, unchanged, as the gateway does
// with frames it believes were not handled.
func (s *Server) Redeliver(messageID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.frames[messageID]
	if ok {
		s.send(f)
	}
	return ok
}

// RefuseOpens makes the next n open calls fail with HTTP 503.
func (s *Server) RefuseOpens(n int) { s.mu.Lock(); s.refuseN = n; s.mu.Unlock() }

// RefuseOpensFor makes every open call in the next d (real time, as the SDK's
// backoff) fail with HTTP 503.
func (s *Server) RefuseOpensFor(d time.Duration) {
	s.mu.Lock()
	s.refuseTill = time.Now().Add(d)
	s.mu.Unlock()
}

// IgnorePings stops the fake answering the client's WebSocket pings, so that
// its keepalive times out.
func (s *Server) IgnorePings(v bool) { s.mu.Lock(); s.ignorePings = v; s.mu.Unlock() }

// OpenCalls is how many open calls came, refused ones too.
func (s *Server) OpenCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.openCalls
}

// Opens lists the accepted open calls' bodies.
func (s *Server) Opens() []OpenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]OpenRequest(nil), s.opens...)
}

// Dials is how many stream connections were established.
func (s *Server) Dials() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dials
}

// WaitDials waits until at least n connections were established, and reports
// whether they were before the timeout.
func (s *Server) WaitDials(n int, timeout time.Duration) bool {
	return s.waitFor(timeout, func() bool { return s.dials >= n })
}

// Connected reports whether a connection is up that pushes go to.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur != nil
}

// Acks lists every ack received, in order.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ack(nil), s.acks...)
}

// BadAcks lists frames the client sent that were not acks with a messageId.
func (s *Server) BadAcks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.badAcks...)
}

// AcksFor lists the acks for frame messageID.
func (s *Server) AcksFor(messageID string) []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acksFor(messageID)
}

func (s *Server) acksFor(id string) []Ack {
	var out []Ack
	for _, a := range s.acks {
		if a.MessageID == id {
			out = append(out, a)
		}
	}
	return out
}

// WaitAck waits for the first ack of frame messageID.
func (s *Server) WaitAck(messageID string, timeout time.Duration) (Ack, bool) {
	got := s.WaitAcks(messageID, 1, timeout)
	if len(got) == 0 {
		return Ack{}, false
	}
	return got[0], true
}

// WaitAcks waits until frame messageID was acked n times and returns its acks
// so far (fewer on timeout).
func (s *Server) WaitAcks(messageID string, n int, timeout time.Duration) []Ack {
	s.waitFor(timeout, func() bool { return len(s.acksFor(messageID)) >= n })
	return s.AcksFor(messageID)
}

// Deliveries is how many times frame messageID was written to a connection.
func (s *Server) Deliveries(messageID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deliveries[messageID]
}

// WaitDeliveries waits until frame messageID was written n times.
func (s *Server) WaitDeliveries(messageID string, n int, timeout time.Duration) bool {
	return s.waitFor(timeout, func() bool { return s.deliveries[messageID] >= n })
}
