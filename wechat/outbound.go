package wechat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/eatmoreapple/openwechat"

	"reportbot/bot"
)

// outbox holds what the bot owes the group, in order, and sends it at a pace
// WeChat tolerates: one message per Interval plus jitter, slower after WeChat
// answers 1205 (操作太频繁), back to normal as sends succeed. While the session
// is down it waits; nothing is dropped but a message that keeps failing.
type outbox struct {
	mu       sync.Mutex
	queue    []outItem
	signal   chan struct{}
	base     time.Duration
	interval time.Duration
	jitter   time.Duration
	max      time.Duration
	last     time.Time
}

type outItem struct {
	// to is a member's display name, or "" for the group.
	to       string
	text     string
	mentions []string
	// path is a file to send instead of text.
	path string
	// admins sends to every admin; remark to the friend with this remark name.
	admins bool
	remark string
	tries  int
	// done, if set, hears once the item was sent or given up.
	done chan error
}

func (q *outbox) init(o Options) {
	q.signal = make(chan struct{}, 1)
	q.base, q.interval, q.jitter, q.max = o.Interval, o.Interval, o.Jitter, o.MaxInterval
}

func (q *outbox) put(it outItem) {
	q.mu.Lock()
	q.queue = append(q.queue, it)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *outbox) head() (outItem, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.queue) == 0 {
		return outItem{}, false
	}
	return q.queue[0], true
}

// Len is how many messages wait to be sent.
func (a *Adapter) Len() int {
	a.out.mu.Lock()
	defer a.out.mu.Unlock()
	return len(a.out.queue)
}

// Interval is the current least time between two sends.
func (a *Adapter) Interval() time.Duration {
	a.out.mu.Lock()
	defer a.out.mu.Unlock()
	return a.out.interval
}

// Send implements bot.Chat: the text is queued and sent in order.
func (a *Adapter) Send(_ context.Context, m bot.Outgoing) error {
	a.out.put(outItem{to: m.To, text: m.Text, mentions: m.Mentions, admins: m.ToAdmins})
	return nil
}

// Deliver implements bot.Deliverer: it returns once WeChat accepted the
// message, or when it was given up, or when ctx ends. It waits while the
// session is down.
func (a *Adapter) Deliver(ctx context.Context, m bot.Outgoing) error {
	done := make(chan error, 1)
	if m.File != "" {
		if _, err := os.Stat(m.File); err != nil {
			return fmt.Errorf("send file: %w", err)
		}
	}
	a.out.put(outItem{to: m.To, text: m.Text, mentions: m.Mentions, admins: m.ToAdmins, path: m.File, done: done})
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SendFile implements bot.Chat: the file goes out under its own name.
func (a *Adapter) SendFile(_ context.Context, to, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("send file: %w", err)
	}
	a.out.put(outItem{to: to, path: path})
	return nil
}

// errSessionGone marks a failure because the session ended; the item waits for the next one.
var errSessionGone = errors.New("session gone")

func (q *outbox) run(ctx context.Context, a *Adapter) {
	log := a.o.Logger
	for {
		item, ok := q.head()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-q.signal:
			}
			continue
		}
		s, changed := a.current()
		if s == nil {
			select {
			case <-ctx.Done():
				return
			case <-changed:
			}
			continue
		}
		if item.admins {
			// One private message per admin, each delivered and retried on its own.
			friends := s.friendsRemarked(a.o.Admins)
			q.mu.Lock()
			var each []outItem
			for i, f := range friends {
				one := outItem{text: item.text, remark: f.RemarkName}
				if i == len(friends)-1 {
					one.done = item.done // delivered when the last admin has it
				}
				each = append(each, one)
			}
			q.queue = append(each, q.queue[1:]...)
			q.mu.Unlock()
			if len(friends) == 0 {
				// No admin is a friend of the account: the webhook is the only way to them.
				a.alert(ctx, item.text)
				finish(item, nil)
			}
			continue
		}
		q.mu.Lock()
		wait := time.Until(q.last.Add(q.interval))
		if q.jitter > 0 {
			wait += rand.N(q.jitter)
		}
		q.mu.Unlock()
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		err := a.deliver(s, item)
		q.mu.Lock()
		q.last = time.Now()
		var ret openwechat.Ret
		switch {
		case err == nil:
			q.queue = q.queue[1:]
			finish(item, nil)
			// Back towards the normal pace, a quarter at a time.
			q.interval = max(q.base, q.interval-(q.interval-q.base)/4-1)
		case errors.As(err, &ret) && ret == 1205:
			q.interval = min(2*q.interval, q.max)
			log.Warn().Dur("interval", q.interval).Msg("WeChat says sending too often: slowing down")
		case errors.Is(err, errSessionGone) || errors.As(err, &ret) && ret >= 1100 && ret <= 1102 || !s.alive():
			log.Info().Err(err).Msg("send waits for the session to come back")
		default:
			q.queue[0].tries++
			if q.queue[0].tries >= 3 {
				// The text itself only at debug level: logs must not carry what members wrote.
				log.Error().Err(err).Str("to", item.to).Int("chars", len([]rune(item.text))).Str("file", item.path).Msg("message dropped after 3 tries")
				log.Debug().Str("text", firstLine(item.text)).Msg("the dropped message")
				q.queue = q.queue[1:]
				finish(item, err)
			} else {
				log.Warn().Err(err).Msg("send failed: will retry")
			}
		}
		q.mu.Unlock()
	}
}

// finish tells a Deliver waiting for the item how it ended.
func finish(it outItem, err error) {
	if it.done != nil {
		it.done <- err
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > 30 {
		return string(r[:30]) + "…"
	}
	return s
}

// withMentions turns the domain's "@name " into WeChat's "@name\u2005", which the
// clients show as an @mention (the web protocol sends no notification).
func withMentions(text string, names []string) string {
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	for _, n := range names {
		at := "@" + n
		text = strings.ReplaceAll(text, at+" ", at+"\u2005")
		text = strings.ReplaceAll(text, at+"\n", at+"\u2005\n")
		if strings.HasSuffix(text, at) {
			text += "\u2005"
		}
	}
	return text
}

type sender interface {
	SendText(string) (*openwechat.SentMessage, error)
	SendImage(f io.Reader) (*openwechat.SentMessage, error)
	SendVideo(f io.Reader) (*openwechat.SentMessage, error)
	SendFile(f io.Reader) (*openwechat.SentMessage, error)
}

// deliver sends one item in session s.
func (a *Adapter) deliver(s *session, it outItem) error {
	if !s.alive() {
		return errSessionGone
	}
	var to sender = s.group
	text := withMentions(it.text, it.mentions)
	if it.remark != "" {
		fs := s.friendsRemarked([]string{it.remark})
		if len(fs) == 0 {
			return fmt.Errorf("no friend with the remark name %q", it.remark)
		}
		to = fs[0]
	} else if it.to != "" {
		if f := s.friendOf(it.to); f != nil {
			to = f
		} else if it.path == "" {
			// Not a friend: answer in the group, addressed to them.
			text = "@" + it.to + "\u2005" + text
		}
	}
	if it.path == "" {
		_, err := to.SendText(text)
		return err
	}
	f, err := os.Open(it.path)
	if err != nil {
		return fmt.Errorf("open %s: %w", it.path, err)
	}
	defer f.Close()
	// An *os.File keeps its name: the recipient sees "统计表.xlsx", not a random one.
	switch strings.ToLower(filepath.Ext(it.path)) {
	case ".jpg", ".jpeg", ".png", ".gif":
		_, err = to.SendImage(f)
	case ".mp4":
		_, err = to.SendVideo(f)
	default:
		_, err = to.SendFile(f)
	}
	return err
}
