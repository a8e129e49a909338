package wechat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/eatmoreapple/openwechat"

	"reportbot/bot"
)

// pacer spaces the sends as WeChat tolerates: one per Interval plus jitter,
// slower after WeChat answers 1205 (操作太频繁), back to normal as sends
// succeed. Only the holder of the adapter's sendLock touches it.
type pacer struct {
	base, interval, jitter, max time.Duration
	last                        time.Time // when the latest send was tried
}

func (p *pacer) init(o Options) {
	p.base, p.interval, p.jitter, p.max = o.Interval, o.Interval, o.Jitter, o.MaxInterval
}

// wait returns when the next send may go, or with ctx's error, or with an
// offline error when the session ends meanwhile. A ctx that has ended lets
// no send start even when no wait is due.
func (p *pacer) wait(ctx context.Context, ending <-chan struct{}) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	slot := p.last.Add(p.interval)
	if p.jitter > 0 {
		slot = slot.Add(rand.N(p.jitter))
	}
	d := time.Until(slot)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-ending:
		return bot.Retryable(fmt.Errorf("the session ended: %w", bot.ErrOffline), 0)
	case <-t.C:
		return nil
	}
}

// tried records a send's outcome for the pace. A 1205 doubles the interval
// (up to max); a success takes back a quarter of the slow-down.
func (p *pacer) tried(throttled, ok bool) {
	p.last = time.Now()
	switch {
	case throttled:
		p.interval = min(2*p.interval, p.max)
	case ok:
		p.interval = max(p.base, p.interval-(p.interval-p.base)/4-1)
	}
}

// Deliver implements bot.Deliverer. Without a live session it answers at once
// with a retryable bot.ErrOffline. Otherwise it waits for its turn and the
// pacing slot (ctx ending then returns ctx's error, begin not called), calls
// begin, and makes one attempt, which it finishes even if ctx ends meanwhile
// (HTTPTimeout bounds it). Failures are classified for the outbox:
//   - 1205 (too often): retryable, after the new, longer interval;
//   - 1100–1102 (session expired), no session, or a request that certainly
//     never left (no connection, not a byte written): retryable;
//   - a request that left with no readable answer (timeout, reset, a body
//     that is not WeChat's): uncertain, it may have arrived;
//   - any other WeChat Ret code, or a failure of this message before its
//     request (a missing file, a refused upload): refused.
func (a *Adapter) Deliver(ctx context.Context, m bot.Outgoing, begin func() error) error {
	if s := a.live(); s == nil || s.troubled.Load() {
		return bot.Retryable(bot.ErrOffline, 0)
	}
	select {
	case a.sendLock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-a.sendLock }()
	// The session may have gone while another send held the lock.
	s := a.live()
	if s == nil || s.troubled.Load() {
		return bot.Retryable(bot.ErrOffline, 0)
	}
	err := a.deliver(ctx, s, m, begin)
	if err != nil && ctx.Err() == nil {
		a.noteErr(fmt.Errorf("send: %w", err))
	}
	return err
}

func (a *Adapter) deliver(ctx context.Context, s *session, m bot.Outgoing, begin func() error) error {
	var file *os.File
	if m.File != "" {
		f, err := os.Open(m.File)
		if err != nil {
			return bot.Refused(fmt.Errorf("send file: %w", err))
		}
		defer f.Close()
		file = f
	}
	names := make([]string, 0, len(m.Mentions))
	for _, mm := range m.Mentions {
		names = append(names, mm.Name)
	}
	text := withMentions(m.Text, names)
	if m.ToAdmins {
		return a.toAdmins(ctx, s, text, file, begin)
	}
	to, text, err := s.recipient(m.To, text, file != nil)
	if err != nil {
		return err
	}
	if err := a.pace.wait(ctx, s.ending); err != nil {
		return err
	}
	if s.troubled.Load() {
		// Polls began to fail while this waited for its slot.
		return bot.Retryable(bot.ErrOffline, 0)
	}
	if err := begin(); err != nil {
		return err
	}
	return a.send(to, text, file)
}

// toAdmins sends one private message to each admin who is a friend of the
// bot's account. The message counts as delivered when one of them got it;
// with no admin among the friends it goes through the Alert webhook.
func (a *Adapter) toAdmins(ctx context.Context, s *session, text string, file *os.File, begin func() error) error {
	admins := s.friendsRemarked(a.o.Admins)
	if len(admins) == 0 {
		if err := begin(); err != nil {
			return err
		}
		if file != nil {
			text = "【reportbot】有一个文件要发给管理员，但没有管理员是机器人微信号的好友：" + filepath.Base(file.Name())
		}
		// Begun, so finished even if ctx ends: the webhook bounds its own wait.
		a.alert(context.WithoutCancel(ctx), text)
		return nil
	}
	var failed []error
	began, delivered := false, 0
	for _, f := range admins {
		err := a.pace.wait(ctx, s.ending)
		if err == nil && s.troubled.Load() {
			err = bot.Retryable(bot.ErrOffline, 0) // polls began to fail during the wait
		}
		if err != nil {
			if !began {
				return err
			}
			failed = append(failed, fmt.Errorf("admin %s: not sent: %w", f.RemarkName, err))
			break
		}
		if !began {
			if err := begin(); err != nil {
				return err
			}
			began = true
		}
		if file != nil {
			if _, err := file.Seek(0, io.SeekStart); err != nil {
				failed = append(failed, bot.Refused(err))
				continue
			}
		}
		if err := a.send(f, text, file); err != nil {
			failed = append(failed, fmt.Errorf("admin %s: %w", f.RemarkName, err))
			continue
		}
		delivered++
	}
	if delivered > 0 {
		if len(failed) > 0 {
			a.o.Logger.Warn().Err(errors.Join(failed...)).Int("delivered", delivered).Msg("a message for the admins reached only some of them")
		}
		return nil
	}
	return worstOf(failed)
}

// worstOf classifies a message that reached no admin: uncertain if one send
// may have arrived (sending again could repeat it to that admin), else
// retryable if one can succeed later, else refused.
func worstOf(errs []error) error {
	all := errors.Join(errs...)
	uncertain, retry := false, false
	var wait time.Duration
	for _, err := range errs {
		switch o, w := bot.OutcomeOf(err, false); o {
		case bot.UncertainOutcome:
			uncertain = true
		case bot.NotSent:
			retry, wait = true, max(wait, w)
		}
	}
	switch {
	case uncertain:
		return bot.Uncertain(all)
	case retry:
		return bot.Retryable(all, wait)
	}
	return bot.Refused(all)
}

// recipient finds where a message for to goes: the group (to is zero), or
// the friend who is to; a text for someone who is not a friend goes to the
// group, addressed to them. The remark name, when known, is the only way to
// find the friend: a display name anyone can copy must not draw a private
// message meant for someone else.
func (s *session) recipient(to bot.Member, text string, file bool) (sender, string, error) {
	if to.IsZero() {
		return s.group, text, nil
	}
	name := to.Name
	if name == "" {
		name = to.ID
	}
	if name == "" {
		name = to.Verified
	}
	var f *openwechat.Friend
	switch {
	case to.Verified != "":
		if fs := s.friendsRemarked([]string{to.Verified}); len(fs) > 0 {
			f = fs[0]
		}
	case to.Name != "":
		f = s.friendOf(to.Name)
	}
	if f != nil {
		return f, text, nil
	}
	if file {
		return nil, "", bot.Refused(fmt.Errorf("%s is not a friend of the bot's account: a file cannot be sent to them", name))
	}
	return s.group, "@" + name + "\u2005" + text, nil
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

// send makes one attempt to send a text or file to one recipient and
// classifies its failure. The caller holds sendLock and has paced.
func (a *Adapter) send(to sender, text string, file *os.File) error {
	p := &sendProbe{}
	a.probe.Store(p)
	var err error
	if file == nil {
		_, err = to.SendText(text)
	} else {
		// An *os.File keeps its name: the recipient sees "统计表.xlsx", not a random one.
		switch strings.ToLower(filepath.Ext(file.Name())) {
		case ".jpg", ".jpeg", ".png", ".gif":
			_, err = to.SendImage(file)
		case ".mp4":
			_, err = to.SendVideo(file)
		default:
			_, err = to.SendFile(file)
		}
	}
	a.probe.Store(nil)
	var ret openwechat.Ret
	throttled := errors.As(err, &ret) && ret == 1205
	a.pace.tried(throttled, err == nil)
	if err == nil {
		return nil
	}
	switch {
	case throttled:
		a.o.Logger.Warn().Dur("interval", a.pace.interval).Msg("WeChat says sending too often: slowing down")
		return bot.Retryable(err, a.pace.interval)
	case ret == 1100 || ret == 1101 || ret == 1102:
		return bot.Retryable(err, 0) // the session expired: WeChat took nothing
	case ret != 0:
		return bot.Refused(err) // WeChat answered, and said no to this message
	case !p.started.Load():
		// The request that delivers the message never started: the file or
		// the upload before it failed, and the message cannot have arrived.
		if openwechat.IsNetworkError(err) {
			return bot.Retryable(err, 0)
		}
		// Not WeChat's word on the message, but a retry in this state mostly
		// fails the same way: refused, so the outbox gives up after a few.
		return bot.Refused(err)
	case !p.wrote.Load():
		return bot.Retryable(err, 0) // no connection, or not a byte written
	}
	return bot.Uncertain(err)
}

// sendProbe follows the request that delivers a message.
type sendProbe struct {
	// started: the request went to the transport; wrote: some of it may be
	// on the wire (headers go to a buffer first, so even a failed write may
	// have let part of it out).
	started, wrote atomic.Bool
}

// tracer is the HTTP transport under openwechat. While a Deliver sends, it
// follows the request that delivers the message (the one after any upload)
// far enough to tell a failure before any of it left from one after.
type tracer struct {
	next  http.RoundTripper
	probe *atomic.Pointer[sendProbe]
}

// RoundTrip implements http.RoundTripper.
func (t tracer) RoundTrip(r *http.Request) (*http.Response, error) {
	p := t.probe.Load()
	if p == nil || !delivers[path.Base(r.URL.Path)] {
		return t.next.RoundTrip(r)
	}
	p.started.Store(true)
	trace := &httptrace.ClientTrace{
		WroteHeaders: func() { p.wrote.Store(true) },
		WroteRequest: func(httptrace.WroteRequestInfo) { p.wrote.Store(true) },
	}
	return t.next.RoundTrip(r.WithContext(httptrace.WithClientTrace(r.Context(), trace)))
}

// delivers names the endpoints whose request delivers a message.
var delivers = map[string]bool{
	"webwxsendmsg": true, "webwxsendmsgimg": true, "webwxsendappmsg": true,
	"webwxsendvideomsg": true, "webwxsendemoticon": true,
}
