package dingtalktest

import (
	"encoding/json"
	"strings"
	"time"
)

// Callback is the data of a robot message callback (PROTOCOL.md §4); each
// field is the JSON key its tag names, with the meaning given there. Push
// fills the fields left empty; builders such as GroupText make typical ones.
type Callback struct {
	ConversationID string `json:"conversationId"`
	// ConversationType is "1" for a 1:1 chat and "2" for a group (the default).
	ConversationType  string   `json:"conversationType"`
	ConversationTitle string   `json:"conversationTitle,omitempty"`
	MsgID             string   `json:"msgId"`
	MsgType           string   `json:"msgtype"`
	Text              *Text    `json:"text,omitempty"`
	SenderNick        string   `json:"senderNick"`
	SenderStaffID     string   `json:"senderStaffId,omitempty"`
	SenderID          string   `json:"senderId"`
	SenderCorpID      string   `json:"senderCorpId"`
	IsAdmin           bool     `json:"isAdmin"`
	ChatbotCorpID     string   `json:"chatbotCorpId"`
	ChatbotUserID     string   `json:"chatbotUserId"`
	RobotCode         string   `json:"robotCode"`
	IsInAtList        bool     `json:"isInAtList"`
	AtUsers           []AtUser `json:"atUsers,omitempty"`
	// SessionWebhook is made by Push (a session on this server) when empty.
	SessionWebhook            string `json:"sessionWebhook"`
	SessionWebhookExpiredTime int64  `json:"sessionWebhookExpiredTime"`
	// CreateAt is epoch milliseconds; Push sets the fake's now when zero.
	CreateAt int64 `json:"createAt"`
	// Content carries non-text payloads: *Picture, *RichTextContent, *File,
	// *Audio, or anything that marshals to the wanted JSON.
	Content any `json:"content,omitempty"`
}

// Text is a callback's text; a quote-reply (引用) carries the quoted message,
// fields the SDK's typed model drops.
type Text struct {
	Content    string      `json:"content"`
	IsReplyMsg bool        `json:"isReplyMsg,omitempty"`
	RepliedMsg *RepliedMsg `json:"repliedMsg,omitempty"`
}

// RepliedMsg is the message a quote-reply quotes.
type RepliedMsg struct {
	MsgType string `json:"msgType"`
	MsgID   string `json:"msgId,omitempty"`
	// Content has the shape of the quoted type's content (e.g. *File).
	Content any `json:"content,omitempty"`
}

// AtUser is one @ in the message; StaffID is set for org members.
type AtUser struct {
	DingtalkID string `json:"dingtalkId"`
	StaffID    string `json:"staffId,omitempty"`
}

// Picture is the content of a picture message.
type Picture struct {
	DownloadCode        string `json:"downloadCode"`
	PictureDownloadCode string `json:"pictureDownloadCode,omitempty"`
}

// RichTextContent is the content of a richText message.
type RichTextContent struct {
	RichText []RichTextItem `json:"richText"`
}

// RichTextItem is a text run (Text set) or a picture (Type "picture").
type RichTextItem struct {
	Text                string `json:"text,omitempty"`
	Type                string `json:"type,omitempty"`
	DownloadCode        string `json:"downloadCode,omitempty"`
	PictureDownloadCode string `json:"pictureDownloadCode,omitempty"`
}

// File is the content of a file message. Keys beyond downloadCode and
// fileName are unverified and left out.
type File struct {
	DownloadCode string `json:"downloadCode"`
	FileName     string `json:"fileName"`
}

// Audio is the content of an audio message.
type Audio struct {
	DownloadCode string `json:"downloadCode"`
	Duration     int    `json:"duration,omitempty"`
	Recognition  string `json:"recognition,omitempty"`
}

// Sender is who writes a pushed message.
type Sender struct {
	// StaffID is the org userid (senderStaffId); the encrypted senderId is derived from it.
	StaffID string
	Nick    string
	Admin   bool
}

// RobotUserID is the robot's dingtalkId as it appears in atUsers and chatbotUserId.
const RobotUserID = "$:LWCP_v1:$robot"

// CorpID is the organisation's corp id in every callback.
const CorpID = "dingcorp"

// Pushed tells what Push sent.
type Pushed struct {
	// MessageID is the frame's headers.messageId (acks carry it).
	MessageID string
	// MsgID is the callback's msgId (what an adapter dedupes on).
	MsgID string
	// SessionWebhook is the callback's reply URL; Session its session id when
	// the fake made it.
	SessionWebhook string
	Session        string
	Callback       Callback
}

// Push sends a robot callback built from cb, filling empty fields: msgId,
// conversation (the configured group, or "cidP"+StaffID for 1:1), sender and
// robot ids, createAt, and a fresh session webhook on this server.
func (s *Server) Push(cb Callback) Pushed {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if cb.MsgID == "" {
		cb.MsgID = s.id("msg")
	}
	if cb.ConversationType == "" {
		cb.ConversationType = "2"
	}
	if cb.ConversationID == "" {
		if cb.ConversationType == "1" {
			cb.ConversationID = "cidP" + cb.SenderStaffID
		} else {
			cb.ConversationID, cb.ConversationTitle = s.cfg.Group.ID, s.cfg.Group.Title
		}
	}
	if cb.SenderID == "" {
		cb.SenderID = "$:LWCP_v1:$" + cb.SenderStaffID
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&cb.SenderCorpID, CorpID)
	def(&cb.ChatbotCorpID, CorpID)
	def(&cb.ChatbotUserID, RobotUserID)
	def(&cb.RobotCode, s.cfg.RobotCode)
	if cb.CreateAt == 0 {
		cb.CreateAt = now.UnixMilli()
	}
	p := Pushed{MsgID: cb.MsgID}
	if cb.SessionWebhook == "" {
		var exp time.Time
		p.Session, cb.SessionWebhook, exp = s.newSession(now)
		cb.SessionWebhookExpiredTime = exp.UnixMilli()
	}
	if cb.ConversationType == "2" {
		s.known[cb.ConversationID] = true
	}
	data, _ := json.Marshal(cb)
	p.MessageID = s.pushFrame(TypeCallback, BotTopic, string(data))
	p.SessionWebhook, p.Callback = cb.SessionWebhook, cb
	return p
}

// NewSession makes a session webhook that works for the configured lifetime,
// for callbacks pushed raw.
func (s *Server) NewSession() (webhook string, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, webhook, expires = s.newSession(s.now())
	return webhook, expires
}

// newSession: callers hold mu.
func (s *Server) newSession(now time.Time) (id, webhook string, expires time.Time) {
	id = s.id("S")
	expires = now.Add(s.cfg.SessionLifetime)
	s.sessions[id] = expires
	return id, s.srv.URL + "/robot/sendBySession?session=" + id, expires
}

// ExpireSessions ends every session made so far; replies to them then get
// errcode 300001.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.sessions {
		s.sessions[id] = time.Time{}
	}
}

// AddGroup makes openConversationId known to the group-send API without a callback.
func (s *Server) AddGroup(openConversationID string) {
	s.mu.Lock()
	s.known[openConversationID] = true
	s.mu.Unlock()
}

// GroupText is a group text that @-mentions the robot, with the leading space
// the client leaves where the @ was.
func (s *Server) GroupText(from Sender, text string) Callback {
	cb := s.group(from, "text")
	cb.Text = &Text{Content: " " + text}
	return cb
}

// PrivateText is a 1:1 text to the robot.
func (s *Server) PrivateText(from Sender, text string) Callback {
	cb := s.private(from, "text")
	cb.Text = &Text{Content: text}
	return cb
}

// Picture is a group picture @-mentioning the robot; data is what its
// download code fetches.
func (s *Server) Picture(from Sender, data []byte) Callback {
	cb := s.group(from, "picture")
	code := s.AddDownload("image.png", data)
	cb.Content = &Picture{DownloadCode: code, PictureDownloadCode: "p" + code}
	return cb
}

// RichText is a group richText message: text followed by pictures.
func (s *Server) RichText(from Sender, text string, pictures ...[]byte) Callback {
	cb := s.group(from, "richText")
	items := []RichTextItem{{Text: text}}
	for _, p := range pictures {
		code := s.AddDownload("image.png", p)
		items = append(items, RichTextItem{Type: "picture", DownloadCode: code, PictureDownloadCode: "p" + code})
	}
	cb.Content = &RichTextContent{RichText: items}
	return cb
}

// File is a file sent to the robot 1:1 (groups cannot send a file with an @).
func (s *Server) File(from Sender, name string, data []byte) Callback {
	cb := s.private(from, "file")
	cb.Content = &File{DownloadCode: s.AddDownload(name, data), FileName: name}
	return cb
}

// QuotedFile is the group workaround for files: a text @-mentioning the
// robot that quotes (引用) a file.
func (s *Server) QuotedFile(from Sender, text, name string, data []byte) Callback {
	cb := s.GroupText(from, text)
	cb.Text.IsReplyMsg = true
	cb.Text.RepliedMsg = &RepliedMsg{MsgType: "file", Content: &File{DownloadCode: s.AddDownload(name, data), FileName: name}}
	return cb
}

func (s *Server) group(from Sender, typ string) Callback {
	return Callback{
		ConversationType: "2", MsgType: typ,
		SenderNick: from.Nick, SenderStaffID: from.StaffID, IsAdmin: from.Admin,
		IsInAtList: true, AtUsers: []AtUser{{DingtalkID: RobotUserID}},
	}
}

func (s *Server) private(from Sender, typ string) Callback {
	return Callback{
		ConversationType: "1", MsgType: typ,
		SenderNick: from.Nick, SenderStaffID: from.StaffID, IsAdmin: from.Admin,
	}
}

// download is a file behind a download code.
type download struct {
	code, fileID, name string
	data               []byte
	fail               int // fetches left that answer 502
	fetches            int
}

// AddDownload registers data under a new download code and returns it.
func (s *Server) AddDownload(name string, data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &download{code: s.id("dc"), fileID: s.id("f"), name: name, data: data}
	if s.cfg.DownloadFailsOnce {
		d.fail = 1
	}
	s.downloads[d.code] = d
	s.byFileID[d.fileID] = d
	return d.code
}

// FailDownload makes the next n fetches of code's download URL answer 502.
func (s *Server) FailDownload(code string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.downloads[code]; d != nil {
		d.fail = n
	}
}

// Fetches is how many times code's download URL was fetched, failed fetches too.
func (s *Server) Fetches(code string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.downloads[code]; d != nil {
		return d.fetches
	}
	return 0
}

// trimFileID takes the id out of a /files/<id> path.
func trimFileID(path string) string { return strings.TrimPrefix(path, "/files/") }
