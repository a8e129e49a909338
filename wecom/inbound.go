package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"reportbot/bot"
	"reportbot/schedules"
)

// callback is the body of an aibot_msg_callback or aibot_event_callback.
type callback struct {
	MsgID    string `json:"msgid"`
	ChatID   string `json:"chatid"` // groups only
	ChatType string `json:"chattype"`
	From     struct {
		UserID string `json:"userid"`
	} `json:"from"`
	CreateTime int64  `json:"create_time"`
	MsgType    string `json:"msgtype"`
	Text       struct {
		Content string `json:"content"`
	} `json:"text"`
	Image media `json:"image"`
	File  media `json:"file"`
	Video media `json:"video"`
	Voice struct {
		Content string `json:"content"`
	} `json:"voice"`
	Mixed struct {
		Items []struct {
			MsgType string `json:"msgtype"`
			Text    struct {
				Content string `json:"content"`
			} `json:"text"`
			Image media `json:"image"`
		} `json:"msg_item"`
	} `json:"mixed"`
	Event struct {
		EventType string `json:"eventtype"`
	} `json:"event"`

	// reqID and session are the frame's: a reply must name them.
	reqID   string
	session int
	// received is when the frame came: media URLs work 5 minutes from it.
	received time.Time
}

type media struct {
	URL    string `json:"url"`
	AESKey string `json:"aeskey"`
}

func parseCallback(f Frame, session int, now time.Time) (*callback, error) {
	var cb callback
	if err := json.Unmarshal(f.Body, &cb); err != nil {
		return nil, fmt.Errorf("decode %s: %w", f.Cmd, err)
	}
	if cb.MsgID == "" {
		return nil, fmt.Errorf("%s without msgid", f.Cmd)
	}
	cb.reqID, cb.session, cb.received = f.Headers.ReqID, session, now
	return &cb, nil
}

func (cb *callback) private() bool { return cb.ChatType != "group" }

// chat is the conversation a reply goes to: the group's chatid, or the
// member's userid in a 1:1 chat.
func (cb *callback) chat() string {
	if cb.private() {
		return cb.From.UserID
	}
	return cb.ChatID
}

// fetcher downloads a callback's media.
type fetcher struct {
	hc  *http.Client
	now func() time.Time
}

// messages turns one callback into the domain's messages, text first: a mixed
// text with two pictures is three (msgid#0, #1, #2), so that the pictures
// follow the text into the same report. The sender is their userid, which
// is also their verified identity (a member cannot change it). Kinds it
// cannot take come back as nothing, with why in unsupported.
func (cb *callback) messages(ctx context.Context, f fetcher) (out []bot.Message, unsupported string) {
	at := cb.received
	if cb.CreateTime > 0 {
		at = time.Unix(cb.CreateTime, 0)
	}
	id := cb.From.UserID
	base := bot.Message{At: at, Sender: bot.Member{ID: id, Name: id, Verified: id}, Private: cb.private(), ToBot: true, Size: -1}
	add := func(m bot.Message) {
		m.ID = fmt.Sprintf("%s#%d", cb.MsgID, len(out))
		out = append(out, m)
	}
	text := func(s string) {
		if !cb.private() {
			s = trimAt(s)
		}
		if s = strings.TrimSpace(s); s != "" {
			m := base
			m.Kind, m.Text = schedules.Text, s
			add(m)
		}
	}
	deadline := cb.received.Add(mediaValidity)
	// Media are fetched now, not when the domain opens them: the URL works
	// for 5 minutes only, and a file's name is known only from the download.
	file := func(kind schedules.Material, c media, name string) {
		if c.URL == "" {
			return
		}
		m := base
		m.Kind, m.FileName = kind, name
		data, sent, err := download(ctx, f.hc, f.now, deadline, c.URL, c.AESKey)
		if sent != "" && kind != schedules.Image {
			m.FileName = sent
		}
		if err == nil {
			m.Size = int64(len(data))
		}
		m.Open = func(context.Context) (io.ReadCloser, error) {
			if err != nil {
				return nil, err
			}
			return io.NopCloser(bytes.NewReader(data)), nil
		}
		add(m)
	}
	switch cb.MsgType {
	case "text":
		text(cb.Text.Content)
	case "voice":
		text(cb.Voice.Content) // already transcribed by 企业微信
	case "mixed":
		var words []string
		for _, it := range cb.Mixed.Items {
			if it.MsgType == "text" && it.Text.Content != "" {
				words = append(words, it.Text.Content)
			}
		}
		text(strings.Join(words, "\n"))
		for _, it := range cb.Mixed.Items {
			if it.MsgType == "image" {
				file(schedules.Image, it.Image, "")
			}
		}
	case "image":
		file(schedules.Image, cb.Image, "")
	case "file":
		file(schedules.File, cb.File, "文件")
	case "video":
		file(schedules.Video, cb.Video, "视频.mp4")
	}
	if len(out) == 0 {
		unsupported = cb.MsgType
		if unsupported == "" {
			unsupported = "unknown"
		}
	}
	return out, unsupported
}
