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
// and one member's slow download holds up nobody else. A message the handler
// says must wait (bot.Orderer: a question about who has reported) starts only
// once every message that came before it is handled, so that its answer counts
// the report sent just before it by someone else.
type inbox struct {
	mu     sync.Mutex
	queue  []queued
	signal chan struct{}
}

// queued is a message, or a mark: a function called once everything queued
// before it is handled.
type queued struct {
	m    bot.Message
	mark func()
}

// inboxWorkers bounds the messages handled at once.
const inboxWorkers = 16

func (q *inbox) init() { q.signal = make(chan struct{}, 1) }

func (q *inbox) put(m bot.Message) { q.add(queued{m: m}) }

// afterAll calls f, on the inbox's goroutine, once every message put before
// it is handled. f must return at once.
func (q *inbox) afterAll(f func()) { q.add(queued{mark: f}) }

func (q *inbox) add(it queued) {
	q.mu.Lock()
	q.queue = append(q.queue, it)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// numbered is a message with its place in the order of arrival.
type numbered struct {
	seq   int
	m     bot.Message
	waits bool
}

// mark is a function waiting for the messages numbered below seq.
type mark struct {
	seq int
	f   func()
}

// run dispatches until ctx ends, then waits for the messages being handled.
func (q *inbox) run(ctx context.Context, h bot.Handler, log zerolog.Logger) {
	waits := func(bot.Message) bool { return false }
	if o, ok := h.(bot.Orderer); ok {
		waits = o.WaitsForEarlier
	}
	// Owned by this goroutine: each sender's waiting messages, the senders
	// with a message being handled (with its number), and the marks waiting.
	lanes := map[string][]numbered{}
	busy := map[string]int{}
	var marks []mark
	seq := 0
	var order []string // senders in the order their first waiting message came
	done := make(chan string)
	var wg sync.WaitGroup
	// lowest is the number of the earliest message not yet handled, or seq
	// when all are: each lane is in order, so only its head counts.
	lowest := func() int {
		low := seq
		for _, n := range busy {
			low = min(low, n)
		}
		for _, l := range lanes {
			low = min(low, l[0].seq)
		}
		return low
	}
	start := func() {
		// Starting a message leaves it unhandled: low holds for the whole pass.
		low := lowest()
		kept := order[:0]
		for _, from := range order {
			_, isBusy := busy[from]
			head := lanes[from][0]
			if isBusy || len(busy) >= inboxWorkers || head.waits && head.seq > low {
				kept = append(kept, from)
				continue
			}
			if lanes[from] = lanes[from][1:]; len(lanes[from]) == 0 {
				delete(lanes, from)
			} else {
				kept = append(kept, from)
			}
			busy[from] = head.seq
			m := head.m
			wg.Go(func() {
				if err := h.Handle(ctx, m); err != nil {
					log.Error().Err(err).Str("msg_id", m.ID).Msg("handle message")
				}
				done <- m.Sender.Name
			})
		}
		order = kept
		for len(marks) > 0 && marks[0].seq <= low {
			marks[0].f()
			marks = marks[1:]
		}
	}
	for {
		q.mu.Lock()
		batch := q.queue
		q.queue = nil
		q.mu.Unlock()
		for _, it := range batch {
			if it.mark != nil {
				marks = append(marks, mark{seq: seq, f: it.mark})
				continue
			}
			m := it.m
			// By display name, as the domain tells members apart.
			from := m.Sender.Name
			_, isBusy := busy[from]
			if _, waiting := lanes[from]; !waiting && !isBusy {
				order = append(order, from)
			}
			lanes[from] = append(lanes[from], numbered{seq: seq, m: m, waits: waits(m)})
			seq++
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
	s := a.current()
	if s == nil || s.bot != msg.Bot() || msg.IsSendBySelf() {
		return
	}
	log := a.o.Logger.With().Str("msg_id", msg.MsgId).Logger()
	if msg.IsFriendAdd() {
		a.onFriendRequest(s, msg, log)
		return
	}
	if msg.IsSystem() {
		// "…加入了群聊", "…移出了群聊": the member list changed.
		if msg.FromUserName == s.group.UserName && strings.Contains(msg.Content, "群聊") {
			if err := s.refresh(); err != nil {
				log.Warn().Err(err).Msg("reload the group's members")
				return
			}
			a.tellRoster(s)
		}
		return
	}
	var m bot.Message
	var remark string
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
		m.Sender.Name = displayName(sender)
		if f := s.friend(sender.UserName); f != nil {
			remark = f.RemarkName
		}
	case msg.IsSendByFriend():
		f := s.friend(msg.FromUserName)
		if f == nil {
			return // a stranger, an official account
		}
		m.Private, remark, m.Sender.Name = true, f.RemarkName, f.NickName
		// The member's group display name, which bindings and @mentions use.
		if u := s.member(f.UserName); u != nil {
			m.Sender.Name = displayName(u)
		}
	default:
		return
	}
	m.Sender.ID, m.Sender.Verified = m.Sender.Name, remark
	if remark != "" {
		// The remark outlives a change of display name; UserNames change at every login.
		m.Sender.ID = remark
	}
	m.ID = msg.MsgId
	m.At = time.Unix(msg.CreateTime, 0)
	a.mu.Lock()
	a.lastMsg = a.o.Now()
	a.mu.Unlock()
	m.Size = -1
	b := msg.Bot()
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
		m.Open = a.download(b, func(ctx context.Context) (*http.Response, error) {
			return b.Caller.Client.WebWxGetMsgImg(ctx, msg, b.Storage.LoginInfo)
		}, log)
	case msg.IsVideo():
		m.Kind, m.FileName, m.Size = schedules.Video, msg.MsgId+".mp4", announcedLength(msg.Content)
		m.Open = a.download(b, func(ctx context.Context) (*http.Response, error) {
			return b.Caller.Client.WebWxGetVideo(ctx, msg, b.Storage.LoginInfo)
		}, log)
	case msg.IsMedia() && msg.AppMsgType == openwechat.AppMsgTypeAttach:
		m.Kind, m.FileName = schedules.File, msg.FileName
		if n, err := strconv.ParseInt(msg.FileSize, 10, 64); err == nil {
			m.Size = n
		}
		m.Open = a.download(b, func(ctx context.Context) (*http.Response, error) {
			return b.Caller.Client.WebWxGetMedia(ctx, msg, b.Storage.LoginInfo)
		}, log)
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
// the first time (openwechat #398). The reader's ctx, or the end of the
// session the message came in, stops the download and the waits between tries.
func (a *Adapter) download(b *openwechat.Bot, get func(context.Context) (*http.Response, error), log zerolog.Logger) func(context.Context) (io.ReadCloser, error) {
	return func(ctx context.Context) (io.ReadCloser, error) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(b.Context(), cancel)()
		var last error
		wait := a.o.MediaBackoff
		for try := 1; try <= a.o.MediaTries; try++ {
			if try > 1 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil, fmt.Errorf("下载中断：%w", context.Cause(ctx))
				case <-t.C:
				}
				wait *= 2
			}
			data, err := fetch(ctx, get, a.o.MaxMedia)
			if err == nil {
				return io.NopCloser(bytes.NewReader(data)), nil
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("下载中断：%w", err)
			}
			last = err
			log.Warn().Err(err).Int("try", try).Msg("media download")
		}
		return nil, fmt.Errorf("下载%d次都失败了：%w", a.o.MediaTries, last)
	}
}

func fetch(ctx context.Context, get func(context.Context) (*http.Response, error), limit int64) ([]byte, error) {
	resp, err := get(ctx)
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
