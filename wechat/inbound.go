package wechat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eatmoreapple/openwechat"
	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/schedules"
)

// inbox hands messages from openwechat's sync goroutine to workers, so a slow
// handler (a media download, a disk write) never blocks the sync loop. Each
// sender's messages are handled one after another in the order they came (a
// text, then the photos that belong to it); different senders' at the same
// time, so that members posting at the same moment share the store's commits
// and one member's slow download holds up nobody else.
type inbox struct {
	mu     sync.Mutex
	queue  []bot.Message
	signal chan struct{}
}

// inboxWorkers bounds the messages handled at once.
const inboxWorkers = 16

func (q *inbox) init() { q.signal = make(chan struct{}, 1) }

func (q *inbox) put(m bot.Message) {
	q.mu.Lock()
	q.queue = append(q.queue, m)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// run dispatches until ctx ends, then waits for the messages being handled.
func (q *inbox) run(ctx context.Context, h Handler, log zerolog.Logger) {
	// Owned by this goroutine: each sender's waiting messages, and the senders
	// with a message being handled.
	lanes := map[string][]bot.Message{}
	busy := map[string]bool{}
	var order []string // senders in the order their first waiting message came
	done := make(chan string)
	var wg sync.WaitGroup
	start := func() {
		kept := order[:0]
		for _, from := range order {
			if busy[from] || len(busy) >= inboxWorkers {
				kept = append(kept, from)
				continue
			}
			m := lanes[from][0]
			if lanes[from] = lanes[from][1:]; len(lanes[from]) == 0 {
				delete(lanes, from)
			} else {
				kept = append(kept, from)
			}
			busy[from] = true
			wg.Go(func() {
				if err := h.Handle(ctx, m); err != nil {
					log.Error().Err(err).Str("msg_id", m.ID).Msg("handle message")
				}
				done <- m.From
			})
		}
		order = kept
	}
	for {
		q.mu.Lock()
		batch := q.queue
		q.queue = nil
		q.mu.Unlock()
		for _, m := range batch {
			if _, waiting := lanes[m.From]; !waiting && !busy[m.From] {
				order = append(order, m.From)
			}
			lanes[m.From] = append(lanes[m.From], m)
		}
		start()
		select {
		case <-ctx.Done():
			// Workers finishing now must not block on done.
			go func() {
				for range done {
				}
			}()
			wg.Wait()
			close(done)
			return
		case <-q.signal:
		case from := <-done:
			delete(busy, from)
			if _, waiting := lanes[from]; waiting && !slices.Contains(order, from) {
				order = append(order, from)
			}
		}
	}
}

// onMessage runs on openwechat's sync goroutine: it only converts and queues.
func (a *Adapter) onMessage(msg *openwechat.Message) {
	s, _ := a.current()
	if s == nil || s.bot != msg.Bot() || msg.IsSendBySelf() {
		return
	}
	log := a.o.Logger.With().Str("msg_id", msg.MsgId).Logger()
	if msg.IsFriendAdd() {
		a.onFriendRequest(s, msg, log)
		return
	}
	var m bot.Message
	switch {
	case msg.IsSendByGroup():
		if msg.FromUserName != s.group.UserName {
			return // another group
		}
		sender, err := msg.SenderInGroup()
		if err != nil {
			log.Warn().Err(err).Msg("sender of a group message")
			return
		}
		m.From = displayName(sender)
		if f := s.friend(sender.UserName); f != nil {
			m.Remark = f.RemarkName
		}
	case msg.IsSendByFriend():
		f := s.friend(msg.FromUserName)
		if f == nil {
			return // a stranger, an official account
		}
		m.Private, m.Remark, m.From = true, f.RemarkName, f.NickName
		// The member's group display name, which bindings and @mentions use.
		if u := s.member(f.UserName); u != nil {
			m.From = displayName(u)
		}
	default:
		return
	}
	m.ID = msg.MsgId
	m.At = time.Unix(msg.CreateTime, 0)
	a.mu.Lock()
	a.last = a.o.Now()
	a.mu.Unlock()
	m.Size = -1
	switch {
	case msg.IsRecalled():
		r, err := msg.RevokeMsg()
		if err != nil {
			log.Warn().Err(err).Msg("read a recall")
			return
		}
		m.Kind, m.Recalls = schedules.Text, strconv.FormatInt(r.RevokeMsg.MsgId, 10)
	case msg.IsText():
		m.Kind, m.Text = schedules.Text, msg.Content
		at := "@" + s.self.NickName
		if msg.IsAt() || strings.Contains(m.Text, at) {
			m.ToBot = true
			m.Text = strings.TrimSpace(strings.NewReplacer(at+"\u2005", "", at+" ", "", at, "").Replace(m.Text))
		}
	case msg.IsPicture():
		m.Kind, m.FileName, m.Size = schedules.Image, msg.MsgId+".jpg", announcedLength(msg.Content)
		m.Open = a.download(msg.GetPicture, log)
	case msg.IsVideo():
		m.Kind, m.FileName, m.Size = schedules.Video, msg.MsgId+".mp4", announcedLength(msg.Content)
		m.Open = a.download(msg.GetVideo, log)
	case msg.IsMedia() && msg.AppMsgType == openwechat.AppMsgTypeAttach:
		m.Kind, m.FileName = schedules.File, msg.FileName
		if n, err := strconv.ParseInt(msg.FileSize, 10, 64); err == nil {
			m.Size = n
		}
		m.Open = a.download(msg.GetFile, log)
	default:
		log.Debug().Str("type", msg.MsgType.String()).Msg("message kind not handled")
		return
	}
	a.in.put(m)
}

func displayName(u *openwechat.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.NickName
}

var lengthRE = regexp.MustCompile(`length="(\d+)"`)

// announcedLength is the size WeChat announces in a picture's or video's XML, or -1.
func announcedLength(content string) int64 {
	if m := lengthRE.FindStringSubmatch(html.UnescapeString(content)); m != nil {
		if n, err := strconv.ParseInt(m[1], 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return -1
}

// download reads media with retries: web WeChat often serves an empty body
// the first time (openwechat #398).
func (a *Adapter) download(get func() (*http.Response, error), log zerolog.Logger) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		var last error
		wait := a.o.MediaBackoff
		for try := 1; try <= a.o.MediaTries; try++ {
			if try > 1 {
				time.Sleep(wait)
				wait *= 2
			}
			data, err := fetch(get, a.o.MaxMedia)
			if err == nil {
				return io.NopCloser(bytes.NewReader(data)), nil
			}
			last = err
			log.Warn().Err(err).Int("try", try).Msg("media download")
		}
		return nil, fmt.Errorf("下载%d次都失败了：%w", a.o.MediaTries, last)
	}
}

func fetch(get func() (*http.Response, error), limit int64) ([]byte, error) {
	resp, err := get()
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("server answered %s", resp.Status)
	}
	// One byte over the limit is enough for the domain to say it is too large.
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, errors.New("收到0字节")
	}
	return data, nil
}

// onFriendRequest accepts a friend request from a member of the group when the
// config says so, so that members can report and ask privately.
func (a *Adapter) onFriendRequest(s *session, msg *openwechat.Message, log zerolog.Logger) {
	if !a.o.AcceptFriends {
		log.Info().Msg("friend request ignored (accept_friends is off)")
		return
	}
	req, err := msg.FriendAddMessageContent()
	if err != nil {
		log.Warn().Err(err).Msg("read a friend request")
		return
	}
	for _, nick := range s.nickNames() {
		if nick == req.FromNickName {
			if _, err := msg.Agree(); err != nil {
				log.Warn().Err(err).Msg("accept a friend request")
				return
			}
			log.Info().Str("nickname", req.FromNickName).Msg("friend request from a group member accepted")
			if err := s.refresh(); err != nil {
				log.Warn().Err(err).Msg("reload friends")
			}
			return
		}
	}
	log.Info().Str("nickname", req.FromNickName).Msg("friend request from someone not in the group ignored")
}
