package dingtalk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"reportbot/bot"
	"reportbot/schedules"
)

// callback is the data of a robot message frame (topic /v1.0/im/bot/messages/get),
// read from the raw JSON: the SDK's typed model drops the quoted message
// (text.isReplyMsg, text.repliedMsg), which is how a group file reaches the robot.
type callback struct {
	ConversationID    string `json:"conversationId"`
	ConversationType  string `json:"conversationType"` // "1" 1:1, "2" group
	ConversationTitle string `json:"conversationTitle"`
	MsgID             string `json:"msgId"`
	MsgType           string `json:"msgtype"`
	Text              struct {
		Content    string `json:"content"`
		IsReplyMsg bool   `json:"isReplyMsg"`
		RepliedMsg *struct {
			MsgType string          `json:"msgType"`
			Content json.RawMessage `json:"content"`
		} `json:"repliedMsg"`
	} `json:"text"`
	Content                   json.RawMessage `json:"content"`
	SenderNick                string          `json:"senderNick"`
	SenderStaffID             string          `json:"senderStaffId"`
	SenderID                  string          `json:"senderId"`
	IsInAtList                bool            `json:"isInAtList"`
	SessionWebhook            string          `json:"sessionWebhook"`
	SessionWebhookExpiredTime int64           `json:"sessionWebhookExpiredTime"` // epoch ms
	CreateAt                  int64           `json:"createAt"`                  // epoch ms
}

// media is the content of a picture, file, audio or video message, and of a
// picture inside richText.
type media struct {
	DownloadCode        string `json:"downloadCode"`
	PictureDownloadCode string `json:"pictureDownloadCode"`
	FileName            string `json:"fileName"`
	Recognition         string `json:"recognition"` // audio's transcription, where 钉钉 gives one
	Type                string `json:"type"`
	Text                string `json:"text"`
}

func (m media) code() string {
	if m.DownloadCode != "" {
		return m.DownloadCode
	}
	return m.PictureDownloadCode
}

// Downloader opens a received file by its downloadCode.
type Downloader interface {
	Download(ctx context.Context, downloadCode string) (io.ReadCloser, error)
}

func parseCallback(raw []byte) (*callback, error) {
	var cb callback
	if err := json.Unmarshal(raw, &cb); err != nil {
		return nil, fmt.Errorf("decode robot callback: %w", err)
	}
	if cb.MsgID == "" {
		return nil, fmt.Errorf("robot callback without msgId")
	}
	return &cb, nil
}

// private reports whether the message came in a 1:1 chat with the robot.
func (cb *callback) private() bool { return cb.ConversationType == "1" }

// sender is who sent the message. The staffId is the org's userid: stable, and
// not something a member can change by renaming, so it is both the id and the
// verified identity. A sender without one (outside the org) gets the encrypted
// senderId as id and no verified identity: never an admin.
func (cb *callback) sender() bot.Member {
	if cb.SenderStaffID != "" {
		return bot.Member{ID: cb.SenderStaffID, Name: cb.SenderNick, Verified: cb.SenderStaffID}
	}
	return bot.Member{ID: cb.SenderID, Name: cb.SenderNick}
}

// messages turns one callback into the domain's messages, text first: a
// richText of a text and two pictures is three messages (MsgID#0, #1, #2),
// so that the pictures follow the text into the same report, and a quoted
// file with its @ text is the text, then the file. Kinds it cannot take
// (emoji, cards) come back as nothing, with why in unsupported.
func (cb *callback) messages(dl Downloader) (out []bot.Message, unsupported string) {
	at := time.UnixMilli(cb.CreateAt)
	base := bot.Message{At: at, Sender: cb.sender(), Private: cb.private(), ToBot: cb.IsInAtList || cb.private(), Size: -1}
	add := func(m bot.Message) {
		m.ID = fmt.Sprintf("%s#%d", cb.MsgID, len(out))
		out = append(out, m)
	}
	text := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			m := base
			m.Kind, m.Text = schedules.Text, s
			add(m)
		}
	}
	file := func(kind schedules.Material, c media, fallbackName string) {
		code := c.code()
		if code == "" {
			return
		}
		m := base
		m.Kind, m.FileName = kind, c.FileName
		if kind == schedules.File && m.FileName == "" {
			m.FileName = fallbackName
		}
		m.Open = func(ctx context.Context) (io.ReadCloser, error) { return dl.Download(ctx, code) }
		add(m)
	}
	var c media
	if len(cb.Content) > 0 && string(cb.Content) != "null" {
		_ = json.Unmarshal(cb.Content, &c) // a shape we do not know reads as empty: nothing taken, said below
	}
	switch cb.MsgType {
	case "text":
		if q := cb.Text.RepliedMsg; cb.Text.IsReplyMsg && q != nil && q.MsgType == "text" {
			// A reply quoting a text (the bot's reminder or receipt): the domain
			// reads the quote. The quoted content's shape is not documented;
			// both forms seen in connectors are read.
			var qt struct {
				Content string `json:"content"`
				Text    string `json:"text"`
			}
			_ = json.Unmarshal(q.Content, &qt)
			base.Quote = qt.Content + qt.Text
		}
		text(cb.Text.Content)
		if q := cb.Text.RepliedMsg; cb.Text.IsReplyMsg && q != nil {
			var qc media
			_ = json.Unmarshal(q.Content, &qc)
			if kind, name, ok := mediaKind(q.MsgType); ok {
				file(kind, qc, name)
			}
		}
	case "picture", "file", "video":
		kind, name, _ := mediaKind(cb.MsgType)
		file(kind, c, name)
	case "richText":
		var rt struct {
			RichText []media `json:"richText"`
		}
		_ = json.Unmarshal(cb.Content, &rt)
		var words []string
		for _, part := range rt.RichText {
			if part.Text != "" {
				words = append(words, part.Text)
			}
		}
		text(strings.Join(words, "\n"))
		for _, part := range rt.RichText {
			if part.Type == "picture" || part.code() != "" && part.Text == "" {
				file(schedules.Image, part, "")
			}
		}
	case "audio":
		text(c.Recognition)
	}
	if len(out) == 0 {
		unsupported = cb.MsgType
		if unsupported == "" {
			unsupported = "unknown"
		}
	}
	return out, unsupported
}

// mediaKind is the domain's kind for a 钉钉 media msgtype, sent or quoted, and
// the name a file of it gets when 钉钉 gives none.
func mediaKind(msgType string) (kind schedules.Material, fallbackName string, ok bool) {
	switch msgType {
	case "picture":
		return schedules.Image, "", true
	case "file":
		return schedules.File, "文件", true
	case "video":
		return schedules.Video, "视频.mp4", true
	}
	return "", "", false
}

// webhookValid reports whether the message's sessionWebhook may still be used
// at now. The expiry 钉钉 gives is an upper bound (it has been seen to end after
// 30 s), so a margin is kept and an "expired" answer is still handled.
func (cb *callback) webhookValid(now time.Time) bool {
	if cb.SessionWebhook == "" || cb.SessionWebhookExpiredTime == 0 {
		return false
	}
	return now.Add(10 * time.Second).Before(time.UnixMilli(cb.SessionWebhookExpiredTime))
}
