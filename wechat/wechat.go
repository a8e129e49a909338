// Package wechat connects the bot to a real WeChat group through openwechat's
// web protocol (UOS desktop mode). It logs in (push, hot, then QR), finds the
// group, turns what members post into domain messages, sends what the outbox
// hands it at a pace WeChat tolerates, and reconnects when the session drops,
// alerting the admins outside WeChat when a scan is needed. The domain sees
// only bot.Transport.
package wechat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eatmoreapple/openwechat"
	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/redact"
)

// Alerter tells the admins something through a channel that does not need WeChat.
type Alerter interface {
	Alert(ctx context.Context, text string) error
}

// Options configure the adapter.
type Options struct {
	// Group is the group's exact name.
	Group string
	// DataDir holds the login session (SessionFile) and the QR code (QRFile).
	DataDir string
	// Transport replaces the HTTP transport (tests point it at a fake server).
	Transport http.RoundTripper
	// HTTPTimeout bounds every request to WeChat, and so how long a send may
	// wait for its answer. It must outlast the server's sync long poll (about
	// 25s); default 30s, openwechat's own.
	HTTPTimeout time.Duration
	// QR is where the login QR code is drawn, such as the terminal; nil: nowhere.
	QR io.Writer
	// Alert tells the admins when a scan is needed, and carries their messages
	// when none of them is a friend of the bot's account; nil: log only.
	Alert Alerter
	// Interval is the least time between two sent messages; Jitter is added at
	// random; MaxInterval caps the slow-down after WeChat says 1205 (too often).
	Interval, Jitter, MaxInterval time.Duration
	// MaxMedia is the largest media read (bytes); the domain refuses larger ones.
	MaxMedia int64
	// MediaTries is how often a failed or empty media download is tried (default 3).
	MediaTries int
	// MediaBackoff is the wait before the second try, doubled after (default 1s).
	MediaBackoff time.Duration
	// ReconnectBackoff is the first wait before a reconnect after a network
	// failure, doubled up to ReconnectMax. Polls that keep failing for
	// ReconnectMax give the session up.
	ReconnectBackoff, ReconnectMax time.Duration
	// AlertQuiet is how long a session must stay up after a drop that needed
	// a scan before the admins hear it is back (default bot.AlertQuiet): a
	// session that WeChat kicks again a minute after each scan is one
	// trouble, told once, not a pair of alerts per scan.
	AlertQuiet time.Duration
	// AcceptFriends accepts friend requests from members of the group.
	AcceptFriends bool
	// Admins are the remark names of the admins, for messages to all of them.
	Admins []string
	// OnOnline is called whenever a session becomes live, so that the wiring
	// can wake the outbox (which otherwise waits out its retry delay). It is
	// called on the adapter's own goroutine and must return at once, as
	// Outbox.Wake does.
	OnOnline func()
	Logger   zerolog.Logger
	// Now stamps the status (Since, LastMessage); pacing uses the real clock.
	Now func() time.Time
}

// File names in the data directory.
const (
	SessionFile = "wechat-session.json"
	QRFile      = "login-qr.png"
)

func (o *Options) defaults() {
	if o.HTTPTimeout == 0 {
		o.HTTPTimeout = 30 * time.Second
	}
	if o.Interval == 0 {
		o.Interval = 1500 * time.Millisecond
	}
	if o.MaxInterval == 0 {
		o.MaxInterval = time.Minute
	}
	if o.MediaTries == 0 {
		o.MediaTries = 3
	}
	if o.MediaBackoff == 0 {
		o.MediaBackoff = time.Second
	}
	if o.ReconnectBackoff == 0 {
		o.ReconnectBackoff = 5 * time.Second
	}
	if o.ReconnectMax == 0 {
		o.ReconnectMax = 5 * time.Minute
	}
	if o.MaxMedia == 0 {
		o.MaxMedia = 20 << 20
	}
	if o.AlertQuiet == 0 {
		o.AlertQuiet = bot.AlertQuiet
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Adapter is the WeChat side of the bot: a bot.Transport.
type Adapter struct {
	o Options

	// sendLock is held by the one send in progress (a channel, so that a
	// Deliver waiting for it can give up with its ctx), and taken by whoever
	// stops a session, to let that send finish first.
	sendLock chan struct{}
	pace     pacer
	// probe, while a Deliver sends, watches the request that delivers the message.
	probe atomic.Pointer[sendProbe]
	in    inbox

	mu   sync.Mutex
	sess *session // the live session, nil while there is none
	// started is set once a session was live: Run then reconnects rather than logs in.
	started bool
	// scans is the trouble of drops that need a scan: the admins hear once
	// when the first needs one, however often the reconnect is retried or
	// the session drops again, and once when a session has stayed up for
	// AlertQuiet.
	scans bot.Trouble
	// What Status reports.
	online  bool
	since   time.Time
	lastErr string
	lastMsg time.Time
	qr      []byte // the login QR code (PNG) while a scan is awaited
	// roster tells the handler who is in the group (bot.RosterHandler); nil
	// when it does not listen or Run has not started.
	roster func(present []bot.Member)

	// settled is closed once the first session's backlog is handled (see
	// Settled); settling is set once that was asked of the inbox.
	settled  chan struct{}
	settling atomic.Bool
}

var (
	_ bot.Transport = (*Adapter)(nil)
	_ bot.Settler   = (*Adapter)(nil)
)

// New makes an adapter; Run (after Login, if the caller wants the first login
// on its own) starts it.
func New(o Options) *Adapter {
	o.defaults()
	a := &Adapter{o: o, sendLock: make(chan struct{}, 1), since: o.Now(), scans: bot.Trouble{Quiet: o.AlertQuiet}, settled: make(chan struct{})}
	a.pace.init(o)
	a.in.init()
	return a
}

// session is one login: openwechat's bot and the ids it gave everyone, which
// change at every login.
type session struct {
	mu  sync.RWMutex // guards members and friends, reloaded while in use
	bot *openwechat.Bot
	// cancel ends the bot. openwechat's Exit writes fields its own goroutines
	// read unguarded (a data race in v1.4.10); cancelling the bot's context stops
	// it without that, and Context().Done() tells when it is over.
	cancel context.CancelFunc
	// detach cuts the bot loose from the ctx of the login that made it: the
	// session outlives a Login call and ends only when Run stops it.
	detach func() bool
	// ready is closed when the session is in place: until then openwechat's
	// sync loop waits, so that it neither touches the contact cache while we
	// list contacts (another unguarded cache in v1.4.10) nor delivers messages
	// before there is a session to attribute them to.
	ready chan struct{}
	// ending is closed when the session is being stopped: no send starts in
	// it any more, and a Deliver waiting for its pacing slot gives up.
	ending     chan struct{}
	endingOnce sync.Once
	// health is the sync loop's, touched on openwechat's sync goroutine only.
	health syncHealth
	// troubled is set while polls fail: the network is in trouble, and a send
	// now would likely leave without an answer (uncertain), so none starts
	// until a poll gets through again.
	troubled atomic.Bool
	self     *openwechat.Self
	group    *openwechat.Group
	members  map[string]*openwechat.User   // group members by UserName
	friends  map[string]*openwechat.Friend // friends by UserName
	// how is "push", "hot" or "qr".
	how string
}

// stop ends the session's bot; it also drops the tie to the login's ctx,
// which would otherwise live as long as that ctx (a failed login or an
// expired QR code each leave one behind).
func (s *session) stop() {
	s.detach()
	s.cancel()
}

// alive reports whether the session's bot still runs, without touching the
// fields openwechat's Alive reads unguarded.
func (s *session) alive() bool { return s.bot.Context().Err() == nil }

func (s *session) isEnding() bool {
	select {
	case <-s.ending:
		return true
	default:
		return false
	}
}

// current is the published session, live or about to be found dead by Run.
func (a *Adapter) current() *session {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sess
}

// live is the session a message can be sent in now, or nil.
func (a *Adapter) live() *session {
	s := a.current()
	if s == nil || !s.alive() || s.isEnding() {
		return nil
	}
	return s
}

// publish makes s the live session.
func (a *Adapter) publish(s *session) {
	a.mu.Lock()
	a.sess, a.started, a.qr = s, true, nil
	a.setOnline(true)
	a.mu.Unlock()
	close(s.ready)
	if a.o.OnOnline != nil {
		a.o.OnOnline()
	}
}

// retire takes s out of service before it is stopped: no send starts in it
// any more, and the one in flight, if any, is waited for (bounded by
// HTTPTimeout), because stopping the session would abort its request and
// leave unknown whether the message arrived.
func (a *Adapter) retire(s *session) {
	s.endingOnce.Do(func() { close(s.ending) })
	a.mu.Lock()
	if a.sess == s {
		a.sess = nil
		a.setOnline(false)
	}
	a.mu.Unlock()
	a.sendLock <- struct{}{}
	<-a.sendLock
}

// setOnline records a change of Online for Status; callers hold mu.
func (a *Adapter) setOnline(v bool) {
	if a.online != v {
		a.online, a.since = v, a.o.Now()
	}
}

// noteErr keeps err for Status.
func (a *Adapter) noteErr(err error) {
	if err == nil {
		return
	}
	a.mu.Lock()
	a.lastErr = redact.String(err.Error()) // shown on the status page
	a.mu.Unlock()
}

// Settled implements bot.Settler: it is closed once the first login's first
// poll found nothing new and every message received before it was handled.
func (a *Adapter) Settled() <-chan struct{} { return a.settled }

// Hint implements bot.Transport: on web WeChat the bot sees every group
// message, so members need no advice on how to reach it.
func (a *Adapter) Hint() string { return "" }

// Status implements bot.Transport.
func (a *Adapter) Status() bot.TransportStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := bot.TransportStatus{Platform: "微信", Online: a.online, Since: a.since, LastError: a.lastErr,
		LastMessage: a.lastMsg, LoginQR: a.qr}
	switch {
	case a.online:
		st.State = "已连接"
	case a.qr != nil:
		st.State = "等待扫码"
	default:
		st.State = "未连接，正在登录"
	}
	return st
}

// ErrLoginRefused is returned when WeChat refuses the account the web login (ret 1203).
var ErrLoginRefused = errors.New(`微信拒绝这个账号登录网页版（“为了你的帐号安全，此微信号不能登录网页微信”）。` +
	`这通常是因为账号注册时间短、没有实名认证，或没有开通微信支付。请换一个实名认证、开通了微信支付的微信号作为机器人，` +
	`先在电脑浏览器打开 https://wx.qq.com 扫码，确认这个号能登录网页版，再运行 reportbot`)

// GroupNotFoundError says which groups the account can see instead.
type GroupNotFoundError struct {
	Want string
	Seen []string
}

// Error implements error, in words for whoever runs the bot.
func (e *GroupNotFoundError) Error() string {
	seen := "（一个也没有）"
	if len(e.Seen) > 0 {
		seen = "「" + strings.Join(e.Seen, "」「") + "」"
	}
	return fmt.Sprintf("没有找到群「%s」。这个账号能看到的群：%s。请检查设置文件里的 group 是否与群名完全一致；"+
		"网页版微信只列出“保存到通讯录”的群：在手机上打开这个群 → 右上角“…” → 打开“保存到通讯录”，然后重新运行", e.Want, seen)
}

// Login connects for the first time: push login, hot login, then a QR code to
// scan (drawn on Options.QR and written to the data directory). It fails on a
// refused account and when the group is not found. Calling it is optional (Run
// logs in itself) and lets the caller tell a login failure from a later one;
// it must return before Run starts. ctx bounds the login only: the session
// lives until Run stops it.
func (a *Adapter) Login(ctx context.Context) error {
	if a.live() != nil {
		return nil
	}
	s, err := a.connect(ctx, false)
	if err != nil {
		a.noteErr(err)
		return err
	}
	a.publish(s)
	return nil
}

// connect logs in one way or another and finds the group. During a reconnect
// it alerts the admins before it waits for a scan.
func (a *Adapter) connect(ctx context.Context, reconnect bool) (*session, error) {
	s, err := a.login(ctx, reconnect)
	if err != nil {
		return nil, err
	}
	if !s.detach() {
		// ctx ended as the login finished: the bot was stopped with it.
		s.stop()
		return nil, ctx.Err()
	}
	return s, nil
}

func (a *Adapter) login(ctx context.Context, reconnect bool) (*session, error) {
	log := a.o.Logger
	if s, err := a.resume(ctx); err == nil {
		return s, nil
	} else if errors.Is(err, ErrLoginRefused) || openwechat.IsNetworkError(err) || ctx.Err() != nil {
		// Unreachable is not refused: a scan would not help; the caller retries.
		return nil, err
	} else {
		var nf *GroupNotFoundError
		if errors.As(err, &nf) {
			return nil, err
		}
		log.Info().Err(err).Msg("no login without a scan")
	}
	if reconnect && !a.scans.Fail(a.o.Now()) {
		log.Warn().Msg("a scan is needed again: the admins were told when the trouble started")
	} else if reconnect {
		a.alert(ctx, fmt.Sprintf("【reportbot】%s 微信掉线了，需要重新扫码登录。请用机器人的微信号扫描终端（docker logs）里的二维码，"+
			"或数据目录里的 %s。扫码之前，要发的消息会保留，登录后按顺序补发。之后再掉线只记日志；重新登录、连续%d分钟不再掉线时，会再告诉你们。",
			a.o.Now().Format("2006-01-02 15:04"), QRFile, int(a.o.AlertQuiet.Minutes())))
	}
	for {
		s, err := a.scan(ctx)
		switch {
		case err == nil:
			return s, nil
		case errors.Is(err, openwechat.ErrLoginTimeout):
			log.Info().Msg("QR code expired: showing a new one")
			continue
		}
		return nil, err
	}
}

// newBot makes a bot being logged in, the session it will become once open
// fills in who is who. ctx stops it until the session is detached from it.
func (a *Adapter) newBot(ctx context.Context) *session {
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &session{cancel: cancel, detach: context.AfterFunc(ctx, cancel),
		ready: make(chan struct{}), ending: make(chan struct{})}
	b := openwechat.DefaultBot(openwechat.Desktop, openwechat.WithContextOption(bctx))
	hc := b.Caller.Client.HTTPClient()
	base := a.o.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = tracer{next: base, probe: &a.probe}
	hc.Timeout = a.o.HTTPTimeout
	// openwechat retries a failed request at once; our loops retry with backoff,
	// and a send must never be repeated here: the outbox decides.
	b.Caller.Client.MaxRetryTimes = 1
	b.UUIDCallback = a.showQR // the default opens a browser
	b.ScanCallBack = func(openwechat.CheckLoginResponse) { a.o.Logger.Info().Msg("QR code scanned: confirm on the phone") }
	b.LoginCallBack = func(openwechat.CheckLoginResponse) {}
	// Called on the sync goroutine after each poll, before messages are processed.
	b.SyncCheckCallback = func(resp openwechat.SyncCheckResponse) {
		s.health.polled(resp)
		if s.health.failing.IsZero() && s.troubled.Swap(false) && a.o.OnOnline != nil {
			a.o.OnOnline() // sends may start again
		}
		select {
		case <-s.ready:
		case <-bctx.Done():
		}
		// Web WeChat hands over what came while the bot was away in the
		// first syncs after a login; the first poll with nothing new means
		// all of it was passed to the inbox.
		if resp.NorMal() && a.settling.CompareAndSwap(false, true) {
			a.in.afterAll(func() { close(a.settled) })
		}
	}
	b.MessageHandler = a.onMessage
	b.MessageErrorHandler = a.syncErrors(s)
	s.bot = b
	return s
}

// syncErrors decides what a failed poll means. openwechat calls it on its
// sync goroutine and polls again at once when it returns nil, so it waits
// here, longer each time; polls that keep failing for ReconnectMax give the
// session up, and Run logs in again. A session given up is retired first, so
// that the send in flight ends before openwechat cancels its request.
func (a *Adapter) syncErrors(s *session) func(error) error {
	return func(err error) error {
		ctx := s.bot.Context()
		if ctx.Err() != nil {
			return nil // stopped by Run: the loop ends at its next check
		}
		var ret openwechat.Ret
		if errors.As(err, &ret) && (ret == 1100 || ret == 1101 || ret == 1102) {
			a.retire(s)
			return ret // the session is over
		}
		s.troubled.Store(true)
		wait, giveUp := s.health.failed(time.Now(), err, a.o.ReconnectBackoff, a.o.ReconnectMax)
		if giveUp != nil {
			a.retire(s)
			return giveUp
		}
		a.noteErr(err)
		a.o.Logger.Warn().Err(err).Dur("retry_in", wait).Msg("sync")
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		return nil
	}
}

// syncHealth counts a session's failing polls. A run of failures ends with
// the first poll that succeeds, so that two short outages minutes apart are
// two runs, neither long enough to give the session up.
type syncHealth struct {
	failing time.Time     // when the current run of failures began; zero: none
	wait    time.Duration // the next wait before polling again
	// fetching is set when a synccheck announced messages: the poll succeeds
	// once they are fetched, which the next synccheck answer shows, since a
	// failed fetch reaches failed first.
	fetching bool
}

// polled hears a synccheck answer that came back.
func (h *syncHealth) polled(resp openwechat.SyncCheckResponse) {
	if !resp.Success() {
		return // the error handler hears of it
	}
	if h.fetching || resp.Selector == openwechat.SelectorNormal {
		h.failing = time.Time{}
	}
	h.fetching = resp.Selector != openwechat.SelectorNormal
}

// failed hears a failed poll at now: it returns how long to wait before the
// next, or, when the failures have lasted longer than limit, why the session
// is given up. The first wait is a tenth of backoff, doubled up to limit/4.
func (h *syncHealth) failed(now time.Time, err error, backoff, limit time.Duration) (time.Duration, error) {
	h.fetching = false
	if h.failing.IsZero() {
		h.failing, h.wait = now, backoff/10
	}
	if now.Sub(h.failing) > limit {
		return 0, fmt.Errorf("sync failing for %s: %w", now.Sub(h.failing).Round(time.Second), err) // a span: no zone to get wrong
	}
	wait := h.wait
	h.wait = max(min(2*h.wait, limit/4), h.wait)
	return wait, nil
}

func (a *Adapter) sessionPath() string { return filepath.Join(a.o.DataDir, SessionFile) }

// resume tries the stored session: push login (the phone confirms), then hot login.
func (a *Adapter) resume(ctx context.Context) (*session, error) {
	if _, err := os.Stat(a.sessionPath()); err != nil {
		return nil, fmt.Errorf("no stored session: %w", err)
	}
	var errs []error
	for _, how := range []string{"push", "hot"} {
		c := a.newBot(ctx)
		st := &fileStorage{path: a.sessionPath()}
		var err error
		if how == "push" {
			err = c.bot.PushLogin(st)
		} else {
			err = c.bot.HotLogin(st)
		}
		if err == nil {
			if how == "hot" {
				fixHotLoginCookies(c.bot)
			}
			if err := a.open(c, how); err != nil {
				c.stop()
				return nil, err
			}
			return c, nil
		}
		c.stop()
		if refused(err) {
			return nil, ErrLoginRefused
		}
		errs = append(errs, fmt.Errorf("%s login: %w", how, err))
	}
	return nil, errors.Join(errs...)
}

// scan logs in with a new QR code and stores the session for the next start.
func (a *Adapter) scan(ctx context.Context) (*session, error) {
	c := a.newBot(ctx)
	if err := c.bot.Login(); err != nil {
		c.stop()
		a.mu.Lock()
		a.qr = nil // the code shown is dead; a new one comes with the next try
		a.mu.Unlock()
		if refused(err) {
			return nil, ErrLoginRefused
		}
		return nil, fmt.Errorf("QR login: %w", err)
	}
	os.Remove(filepath.Join(a.o.DataDir, QRFile))
	if err := c.bot.DumpTo(&fileStorage{path: a.sessionPath()}); err != nil {
		a.o.Logger.Warn().Err(err).Msg("store the session: the next start needs a scan")
	}
	if err := a.open(c, "qr"); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// refused recognises WeChat's refusal of the account (ret 1203), which openwechat
// passes on as the server's message text or as ErrForbidden.
func refused(err error) bool {
	if errors.Is(err, openwechat.ErrForbidden) {
		return true
	}
	var ret openwechat.Ret
	if errors.As(err, &ret) && ret == 1203 {
		return true
	}
	return strings.Contains(err.Error(), "不能登录网页微信")
}

// fixHotLoginCookies works around openwechat v1.4.10 storing cookies without
// their domain: after a hot login, webwx_data_ticket is known to wx.qq.com only
// and uploads to file.wx.qq.com fail with "webwx_data_ticket not found".
func fixHotLoginCookies(b *openwechat.Bot) {
	jar := b.Caller.Client.Jar()
	base, _ := url.Parse("https://" + string(b.Caller.Client.Domain))
	cookies := jar.Cookies(base)
	for _, prefix := range []string{"file.", "webpush."} {
		u, _ := url.Parse("https://" + prefix + string(b.Caller.Client.Domain))
		jar.SetCookies(u, cookies)
	}
}

// open finds the group and who is who in this login.
func (a *Adapter) open(s *session, how string) error {
	self, err := s.bot.GetCurrentUser()
	if err != nil {
		return err
	}
	groups, err := self.Groups(true)
	if err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	var group *openwechat.Group
	var seen []string
	for _, g := range groups {
		seen = append(seen, g.NickName)
		if g.NickName == a.o.Group {
			group = g
		}
	}
	if group == nil {
		sort.Strings(seen)
		return &GroupNotFoundError{Want: a.o.Group, Seen: seen}
	}
	s.self, s.group, s.how = self, group, how
	if err := s.refresh(); err != nil {
		return err
	}
	a.o.Logger.Info().Str("how", how).Str("group", group.NickName).Int("members", len(s.members)).Msg("logged in")
	return nil
}

// refresh reloads the group's members and the friends (names change; members join).
func (s *session) refresh() error {
	members, err := s.group.Members()
	if err != nil {
		return fmt.Errorf("list group members: %w", err)
	}
	friends, err := s.self.Friends(true)
	if err != nil {
		return fmt.Errorf("list friends: %w", err)
	}
	m := map[string]*openwechat.User{}
	for _, u := range members {
		m[u.UserName] = u
	}
	f := map[string]*openwechat.Friend{}
	for _, fr := range friends {
		f[fr.UserName] = fr
	}
	s.mu.Lock()
	s.members, s.friends = m, f
	s.mu.Unlock()
	return nil
}

func (s *session) member(userName string) *openwechat.User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.members[userName]
}

func (s *session) friend(userName string) *openwechat.Friend {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.friends[userName]
}

// present lists the group's members (the bot's account left out) as the
// domain knows people: by group display name, and by remark name where the
// bot's account gave them one.
func (s *session) present() []bot.Member {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []bot.Member
	for un, u := range s.members {
		if un == s.self.UserName {
			continue
		}
		m := bot.Member{ID: displayName(u), Name: displayName(u)}
		if f := s.friends[un]; f != nil && f.RemarkName != "" {
			m.ID, m.Verified = f.RemarkName, f.RemarkName
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// tellRoster tells the handler who is in the group, if it listens.
func (a *Adapter) tellRoster(s *session) {
	a.mu.Lock()
	roster := a.roster
	a.mu.Unlock()
	if roster != nil {
		roster(s.present())
	}
}

// friendOf finds the friend who is the group member with this display name.
func (s *session) friendOf(display string) *openwechat.Friend {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for un, u := range s.members {
		if displayName(u) == display {
			if f := s.friends[un]; f != nil {
				return f
			}
		}
	}
	for _, f := range s.friends {
		if f.NickName == display {
			return f
		}
	}
	return nil
}

// friendsRemarked finds the friends with these remark names.
func (s *session) friendsRemarked(remarks []string) []*openwechat.Friend {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*openwechat.Friend
	for _, r := range remarks {
		for _, f := range s.friends {
			if f.RemarkName == r {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

func (s *session) nickNames() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for _, u := range s.members {
		out = append(out, u.NickName)
	}
	return out
}

func (a *Adapter) alert(ctx context.Context, text string) {
	a.o.Logger.Warn().Str("alert", text).Msg("telling the admins")
	if a.o.Alert == nil {
		return
	}
	if err := a.o.Alert.Alert(ctx, text); err != nil {
		a.o.Logger.Error().Err(err).Msg("alert not delivered")
	}
}

// Run implements bot.Transport: it logs in unless Login did, hands the
// group's messages to h (each sender's in order, on worker goroutines), and
// logs in again whenever the session drops, until ctx ends (nil) or WeChat
// refuses the account (ErrLoginRefused). The send in flight, if any, finishes
// before the session stops, and every goroutine Run starts has ended when it
// returns.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	inCtx, stopInbox := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { a.in.run(inCtx, h, a.o.Logger) })
	if r, ok := h.(bot.RosterHandler); ok {
		a.mu.Lock()
		a.roster = func(present []bot.Member) { r.Roster(ctx, present) }
		a.mu.Unlock()
		if s := a.live(); s != nil {
			a.tellRoster(s) // Login published it
		}
	}
	defer func() {
		stopInbox()
		wg.Wait()
	}()
	for {
		s := a.current()
		if s == nil {
			a.mu.Lock()
			started := a.started
			a.mu.Unlock()
			var err error
			if started {
				s, err = a.reconnect(ctx)
			} else {
				s, err = a.connect(ctx, false)
			}
			if ctx.Err() != nil {
				if s != nil {
					s.stop()
				}
				return nil
			}
			if err != nil {
				a.noteErr(err)
				return err
			}
			a.publish(s)
			a.tellRoster(s)
		}
		if stopped := a.watch(ctx, s); stopped {
			a.retire(s)
			s.stop()
			return nil
		}
		// The sync loop set the reason before it cancelled the context.
		reason := s.bot.CrashReason()
		a.retire(s)
		s.stop()
		if ctx.Err() != nil {
			return nil
		}
		if a.scans.Down() {
			a.scans.Fail(a.o.Now()) // dropped again before the quiet period was over: it starts anew
		}
		a.noteErr(reason)
		a.o.Logger.Warn().Err(reason).Msg("WeChat session ended: reconnecting")
	}
}

// watch waits for the session to end (false) or ctx (true). While a trouble
// of scans is on, it tells the admins once the session has stayed up for
// AlertQuiet.
func (a *Adapter) watch(ctx context.Context, s *session) (stopped bool) {
	for {
		var settled <-chan time.Time
		var t *time.Timer
		if a.scans.Down() {
			t = time.NewTimer(a.o.AlertQuiet)
			settled = t.C
		}
		select {
		case <-ctx.Done():
			stopped = true
		case <-s.bot.Context().Done():
		case <-settled:
			if a.scans.OK(a.o.Now()) {
				since, n := a.scans.Summary()
				a.o.Logger.Info().Time("since", since).Int("failures", n).Msg("WeChat stable again after scans")
				a.alert(ctx, fmt.Sprintf("【reportbot】%s 已重新登录微信，连接已稳定%d分钟。掉线期间要发的消息按顺序补发，不会重发。",
					a.o.Now().Format("2006-01-02 15:04"), int(a.o.AlertQuiet.Minutes())))
			}
			continue
		}
		if t != nil {
			t.Stop()
		}
		return stopped
	}
}

// reconnect logs in again, retrying network failures with backoff; it returns
// only with a session, a refusal, or when ctx ends.
func (a *Adapter) reconnect(ctx context.Context) (*session, error) {
	wait := a.o.ReconnectBackoff
	for {
		s, err := a.connect(ctx, true)
		if err == nil {
			a.o.Logger.Info().Str("how", s.how).Msg("reconnected")
			return s, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, ErrLoginRefused) {
			a.alert(ctx, "【reportbot】微信拒绝了机器人账号的登录，机器人已停止："+redact.String(err.Error()))
			return nil, err
		}
		a.noteErr(err)
		a.o.Logger.Warn().Err(err).Dur("retry_in", wait).Msg("reconnect failed")
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, a.o.ReconnectMax)
	}
}
