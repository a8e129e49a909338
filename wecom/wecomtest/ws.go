package wecomtest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// frame is the long connection's one shape: {cmd, headers:{req_id}, body},
// answers without cmd and with errcode.
type frame struct {
	Cmd     string `json:"cmd,omitempty"`
	Headers struct {
		ReqID string `json:"req_id"`
	} `json:"headers"`
	Body    json.RawMessage `json:"body,omitempty"`
	Errcode *int            `json:"errcode,omitempty"`
	Errmsg  string          `json:"errmsg,omitempty"`
}

// conn is one subscribed client connection and the req_ids its session handed out.
type conn struct {
	ws      *websocket.Conn
	wmu     sync.Mutex
	reqIDs  map[string]string // callback req_id -> its chatid (group) or userid (1:1)
	kicked  bool
	session int
}

func (c *conn) write(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

func answer(reqID string, code int, body any) map[string]any {
	m := map[string]any{"headers": map[string]string{"req_id": reqID}, "errcode": code, "errmsg": errmsg(code)}
	if body != nil {
		m["body"] = body
	}
	return m
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.dials++
	s.mu.Unlock()
	c := &conn{ws: ws, reqIDs: map[string]string{}}
	defer ws.Close()
	subscribed := false
	for {
		var f frame
		if err := ws.ReadJSON(&f); err != nil {
			s.mu.Lock()
			if s.cur == c {
				s.cur = nil
			}
			s.mu.Unlock()
			return
		}
		if !subscribed {
			if f.Cmd != "aibot_subscribe" {
				_ = c.write(answer(f.Headers.ReqID, ErrNotSubscribed, nil))
				continue
			}
			subscribed = s.subscribe(c, f)
			if !subscribed {
				return // the server closes a refused connection
			}
			continue
		}
		s.command(c, f)
	}
}

// subscribe checks the credentials and makes c the bot's connection,
// kicking the one before with disconnected_event.
func (s *Server) subscribe(c *conn, f frame) bool {
	var body struct {
		BotID  string `json:"bot_id"`
		Secret string `json:"secret"`
	}
	_ = json.Unmarshal(f.Body, &body)
	s.mu.Lock()
	s.subscribes++
	code := 0
	switch {
	case len(s.failSubs) > 0:
		code, s.failSubs = s.failSubs[0], s.failSubs[1:]
	case body.BotID != s.cfg.BotID || body.Secret != s.cfg.Secret:
		code = ErrCredential
	}
	var old *conn
	if code == 0 {
		old, s.cur = s.cur, c
		c.session = s.subscribes
	}
	s.mu.Unlock()
	_ = c.write(answer(f.Headers.ReqID, code, nil))
	if old != nil {
		s.kick(old)
	}
	return code == 0
}

// kick tells a connection a newer one took over, then closes it, as the
// server does when the same bot subscribes again.
func (s *Server) kick(old *conn) {
	s.mu.Lock()
	old.kicked = true
	s.events = append(s.events, "kicked")
	reqID, msgid := s.id("evt"), s.id("msg")
	s.mu.Unlock()
	_ = old.write(map[string]any{"cmd": "aibot_event_callback", "headers": map[string]string{"req_id": reqID},
		"body": map[string]any{"msgid": msgid, "aibotid": s.cfg.BotID, "create_time": s.now().Unix(), "msgtype": "event",
			"event": map[string]string{"eventtype": "disconnected_event"}}})
	time.Sleep(20 * time.Millisecond) // the server closes right after the event
	old.ws.Close()
}

func (s *Server) command(c *conn, f frame) {
	id := f.Headers.ReqID
	switch f.Cmd {
	case "ping":
		s.mu.Lock()
		ignore := s.ignorePings
		s.mu.Unlock()
		if !ignore {
			_ = c.write(answer(id, 0, nil))
		}
	case "aibot_respond_msg", "aibot_send_msg":
		_ = c.write(answer(id, s.message(c, f), nil))
	case "aibot_respond_welcome_msg":
		_ = c.write(answer(id, 0, nil))
	case "aibot_upload_media_init", "aibot_upload_media_chunk", "aibot_upload_media_finish":
		code, body := s.uploadCmd(f)
		_ = c.write(answer(id, code, body))
	default:
		_ = c.write(answer(id, 40058, nil)) // unknown command (the fake's choice)
	}
}

type content struct {
	ChatID   string `json:"chatid"`
	ChatType int    `json:"chat_type"`
	MsgType  string `json:"msgtype"`
	Markdown *struct {
		Content string `json:"content"`
	} `json:"markdown"`
	Text *struct {
		Content string `json:"content"`
	} `json:"text"`
	File *struct {
		MediaID string `json:"media_id"`
	} `json:"file"`
}

// message checks and records a reply or a push, and returns its errcode.
func (s *Server) message(c *conn, f frame) int {
	var b content
	_ = json.Unmarshal(f.Body, &b)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := Message{MsgType: b.MsgType, ChatID: b.ChatID, ChatType: b.ChatType}
	conv := b.ChatID
	if f.Cmd == "aibot_respond_msg" {
		m.Channel, m.ReqID = Reply, f.Headers.ReqID
		conv = c.reqIDs[f.Headers.ReqID]
		m.ChatID = conv
	} else {
		m.Channel = Push
	}
	switch {
	case b.MsgType == "markdown" && b.Markdown != nil && len(b.Markdown.Content) <= 20480:
		m.Text = b.Markdown.Content
	case b.MsgType == "text" && b.Text != nil:
		m.Text = b.Text.Content
	case b.MsgType == "file" && b.File != nil:
		u, ok := s.uploaded[b.File.MediaID]
		if !ok {
			m.Errcode = 40007 // invalid media_id
		}
		m.MediaID, m.FileName, m.Data = b.File.MediaID, u.name, u.data
	default:
		m.Errcode = 40008
	}
	typ, known := s.chats[b.ChatID]
	switch {
	case m.Errcode != 0:
	case m.Channel == Reply && conv == "":
		m.Errcode = ErrInvalidReqID // not a callback of this session: stale or made up
	case m.Channel == Push && !known:
		m.Errcode = ErrInvalidChatID
	case m.Channel == Push && typ == 2 && s.refuseGroup:
		m.Errcode = ErrGroupPush
	case s.overLimit(conv, s.now(), struct {
		max    int
		window time.Duration
	}{s.cfg.PerMinute, time.Minute}, struct {
		max    int
		window time.Duration
	}{s.cfg.PerHour, time.Hour}):
		m.Errcode = ErrFreq // the code for this path is unverified
	}
	s.record(m)
	return m.Errcode
}

func (s *Server) uploadCmd(f frame) (int, any) {
	var b struct {
		Type        string `json:"type"`
		Filename    string `json:"filename"`
		TotalSize   int    `json:"total_size"`
		TotalChunks int    `json:"total_chunks"`
		MD5         string `json:"md5"`
		UploadID    string `json:"upload_id"`
		ChunkIndex  int    `json:"chunk_index"`
		Base64Data  string `json:"base64_data"`
	}
	_ = json.Unmarshal(f.Body, &b)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f.Cmd {
	case "aibot_upload_media_init":
		if b.TotalSize < 5 || b.TotalChunks < 1 || b.TotalChunks > 100 || len(b.Filename) > 256 || b.Type == "" {
			return 40006, nil
		}
		id := s.id("upload")
		s.uploads[id] = &upload{typ: b.Type, name: b.Filename, total: b.TotalChunks, size: b.TotalSize, md5: b.MD5, chunks: map[int][]byte{}}
		return 0, map[string]string{"upload_id": id}
	case "aibot_upload_media_chunk":
		u := s.uploads[b.UploadID]
		data, err := base64.StdEncoding.DecodeString(b.Base64Data)
		if u == nil || err != nil || b.ChunkIndex < 0 || b.ChunkIndex >= u.total || len(data) > 512<<10 {
			return 40006, nil
		}
		if _, dup := u.chunks[b.ChunkIndex]; !dup {
			u.chunks[b.ChunkIndex] = data
		}
		return 0, nil
	default:
		u := s.uploads[b.UploadID]
		if u == nil || len(u.chunks) != u.total {
			return 40006, nil
		}
		idx := make([]int, 0, len(u.chunks))
		for i := range u.chunks {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		for _, i := range idx {
			u.data = append(u.data, u.chunks[i]...)
		}
		if len(u.data) != u.size || (u.md5 != "" && u.md5 != md5hex(u.data)) {
			return 40006, nil
		}
		id := s.id("media")
		s.uploaded[id] = *u
		delete(s.uploads, b.UploadID)
		return 0, map[string]string{"type": u.typ, "media_id": id, "created_at": strconv.FormatInt(s.now().Unix(), 10)}
	}
}

// Callback is a message callback to push: build one with the helpers below.
type Callback struct {
	Body map[string]any
}

// Pushed is a callback as it was sent.
type Pushed struct {
	ReqID, MsgID string
}

// Push sends cb to the subscribed connection (a new msgid unless it has one,
// a new req_id every time), and returns false in ok when none is subscribed.
func (s *Server) Push(cb Callback) (p Pushed, ok bool) {
	s.mu.Lock()
	c := s.cur
	if c == nil {
		s.mu.Unlock()
		return p, false
	}
	p.ReqID = s.id("req")
	if id, _ := cb.Body["msgid"].(string); id != "" {
		p.MsgID = id
	} else {
		p.MsgID = s.id("msgid")
		cb.Body["msgid"] = p.MsgID
	}
	cb.Body["aibotid"] = s.cfg.BotID
	cb.Body["create_time"] = s.now().Unix()
	key, _ := cb.Body["chatid"].(string)
	typ := 2
	if cb.Body["chattype"] == "single" {
		key = cb.Body["from"].(map[string]string)["userid"]
		typ = 1
	}
	c.reqIDs[p.ReqID] = key
	s.chats[key] = typ
	s.mu.Unlock()
	cmd := "aibot_msg_callback"
	if cb.Body["msgtype"] == "event" {
		cmd = "aibot_event_callback"
	}
	err := c.write(map[string]any{"cmd": cmd, "headers": map[string]string{"req_id": p.ReqID}, "body": cb.Body})
	return p, err == nil
}

// MustPush is Push that waits up to 10 s for a subscribed connection.
func (s *Server) MustPush(cb Callback) Pushed {
	var p Pushed
	waitFor(10*time.Second, func() bool {
		var ok bool
		p, ok = s.Push(cb)
		return ok
	})
	return p
}

// Again is cb once more with the same msgid, as a redelivery.
func Again(cb Callback, p Pushed) Callback {
	body := map[string]any{}
	for k, v := range cb.Body {
		body[k] = v
	}
	body["msgid"] = p.MsgID
	return Callback{Body: body}
}

func (s *Server) group(from Sender, typ string) Callback {
	return Callback{Body: map[string]any{"chatid": s.cfg.ChatID, "chattype": "group", "from": map[string]string{"userid": from.UserID}, "msgtype": typ}}
}

func private(from Sender, typ string) Callback {
	return Callback{Body: map[string]any{"chattype": "single", "from": map[string]string{"userid": from.UserID}, "msgtype": typ}}
}

// GroupText is a group text that @s the robot (the content starts "@报送机器人 ").
func (s *Server) GroupText(from Sender, text string) Callback {
	cb := s.group(from, "text")
	cb.Body["text"] = map[string]string{"content": "@报送机器人 " + text}
	return cb
}

// PrivateText is a 1:1 text.
func (s *Server) PrivateText(from Sender, text string) Callback {
	cb := private(from, "text")
	cb.Body["text"] = map[string]string{"content": text}
	return cb
}

// Mixed is a group message of an @ text and pictures, each picture an encrypted media URL.
func (s *Server) Mixed(from Sender, text string, pictures ...[]byte) Callback {
	cb := s.group(from, "mixed")
	items := []map[string]any{{"msgtype": "text", "text": map[string]string{"content": "@报送机器人 " + text}}}
	for i, p := range pictures {
		url, key := s.AddMedia("image"+strconv.Itoa(i)+".jpg", p)
		items = append(items, map[string]any{"msgtype": "image", "image": map[string]string{"url": url, "aeskey": key}})
	}
	cb.Body["mixed"] = map[string]any{"msg_item": items}
	return cb
}

// Media is a 1:1 image, file or video (typ) with an encrypted download URL.
func (s *Server) Media(from Sender, typ, name string, data []byte) Callback {
	cb := private(from, typ)
	url, key := s.AddMedia(name, data)
	cb.Body[typ] = map[string]string{"url": url, "aeskey": key}
	return cb
}

// Voice is a 1:1 voice message with its transcription.
func (s *Server) Voice(from Sender, text string) Callback {
	cb := private(from, "voice")
	cb.Body["voice"] = map[string]string{"content": text}
	return cb
}

// Event is an event callback from a member's 1:1 chat (enter_chat…).
func (s *Server) Event(from Sender, eventtype string) Callback {
	cb := private(from, "event")
	cb.Body["event"] = map[string]string{"eventtype": eventtype}
	return cb
}

// Drop closes the subscribed connection without a word, as a network loss does.
func (s *Server) Drop() bool {
	s.mu.Lock()
	c := s.cur
	s.cur = nil
	if c != nil {
		s.events = append(s.events, "dropped")
	}
	s.mu.Unlock()
	if c == nil {
		return false
	}
	c.ws.Close()
	return true
}

// KickBySecondConnection subscribes as the same bot from a second
// connection, which the server answers by kicking the first
// (disconnected_event, then close). The second stays open until Close.
func (s *Server) KickBySecondConnection() error {
	ws, _, err := websocket.DefaultDialer.Dial(s.WSURL(), nil)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.others = append(s.others, ws)
	s.mu.Unlock()
	if err := ws.WriteJSON(map[string]any{"cmd": "aibot_subscribe", "headers": map[string]string{"req_id": "other_instance"},
		"body": map[string]string{"bot_id": s.cfg.BotID, "secret": s.cfg.Secret}}); err != nil {
		return err
	}
	var ack frame
	if err := ws.ReadJSON(&ack); err != nil {
		return err
	}
	go func() { // keep reading, as a live instance does
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	return nil
}

// FailSubscribes answers the next subscribes with these errcodes (45009…).
func (s *Server) FailSubscribes(codes ...int) {
	s.mu.Lock()
	s.failSubs = append(s.failSubs, codes...)
	s.mu.Unlock()
}

// IgnorePings stops (or resumes) answering pings.
func (s *Server) IgnorePings(v bool) { s.mu.Lock(); s.ignorePings = v; s.mu.Unlock() }

// RefuseGroupPushes makes aibot_send_msg to a group answer ErrGroupPush, as
// it does on tenants where proactive group pushes do not work.
func (s *Server) RefuseGroupPushes(v bool) { s.mu.Lock(); s.refuseGroup = v; s.mu.Unlock() }

// Dials counts the WebSocket connections opened; Subscribes the subscribes tried.
func (s *Server) Dials() int { s.mu.Lock(); defer s.mu.Unlock(); return s.dials }

// Subscribes counts the aibot_subscribe frames received.
func (s *Server) Subscribes() int { s.mu.Lock(); defer s.mu.Unlock(); return s.subscribes }

// WaitSubscribed waits up to timeout for the n-th successful subscribe's
// connection to be the current one.
func (s *Server) WaitSubscribed(n int, timeout time.Duration) bool {
	return waitFor(timeout, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.cur != nil && s.cur.session >= n
	})
}

// Connected reports whether a subscribed connection is up.
func (s *Server) Connected() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.cur != nil }

// Session is the number of the current connection's subscribe (0: none).
func (s *Server) Session() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return 0
	}
	return s.cur.session
}
