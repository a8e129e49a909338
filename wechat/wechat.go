// Package wechat connects the bot to a real WeChat group through openwechat's
// web protocol (UOS desktop mode). It logs in (push, hot, then QR), finds the
// group, turns what members post into domain messages, sends what the bot says
// through a paced queue, and reconnects when the session drops, alerting the
// admins outside WeChat when a scan is needed. The domain never sees any of it.
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
	"time"

	"github.com/eatmoreapple/openwechat"
	"github.com/rs/zerolog"

	"reportbot/bot"
)

// Handler receives the group's messages: the domain bot.
type Handler interface {
	Handle(ctx context.Context, m bot.Message) error
}

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
	// QR is where the login QR code is drawn, such as the terminal; nil: nowhere.
	QR io.Writer
	// Alert tells the admins when a scan is needed; nil: log only.
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
	// failure, doubled up to ReconnectMax.
	ReconnectBackoff, ReconnectMax time.Duration
	// AcceptFriends accepts friend requests from members of the group.
	AcceptFriends bool
	// Admins are the remark names of the admins, for messages to all of them.
	Admins []string
	Logger zerolog.Logger
	Now    func() time.Time
}

// File names in the data directory.
const (
	SessionFile = "wechat-session.json"
	QRFile      = "login-qr.png"
)

func (o *Options) defaults() {
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
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Adapter is the WeChat side of the bot. It implements bot.Chat.
type Adapter struct {
	o Options

	mu      sync.Mutex
	sess    *session
	changed chan struct{} // closed when sess changes
	out     outbox
	in      inbox
	// alerted is set once the admins were told a scan is needed, so that an
	// outage alerts once however often the reconnect is retried.
	alerted bool
	// qr is the login QR code (PNG) while a scan is awaited; last is when the
	// latest message came.
	qr   []byte
	last time.Time
}

// QR returns the login QR code as a PNG while WeChat waits for a scan, else nil.
func (a *Adapter) QR() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.qr
}

// LastMessage is when the latest message arrived.
func (a *Adapter) LastMessage() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

var _ bot.Chat = (*Adapter)(nil)

// New makes an adapter; Login then Run start it.
func New(o Options) *Adapter {
	o.defaults()
	a := &Adapter{o: o, changed: make(chan struct{})}
	a.out.init(o)
	a.in.init()
	return a
}

// session is one login: openwechat's bot and the ids it gave everyone, which
// change at every login.
type session struct {
	mu  sync.RWMutex // guards members and friends, reloaded while in use
	bot *openwechat.Bot
	// stop ends the session. openwechat's Exit writes fields its own goroutines
	// read unguarded (a data race in v1.4.10); cancelling the bot's context stops
	// it without that, and Context().Done() tells when it is over.
	stop context.CancelFunc
	// ready is closed when the session is in place: until then openwechat's
	// sync loop waits, so that it neither touches the contact cache while we
	// list contacts (another unguarded cache in v1.4.10) nor delivers messages
	// before there is a session to attribute them to.
	ready   chan struct{}
	self    *openwechat.Self
	group   *openwechat.Group
	members map[string]*openwechat.User   // group members by UserName
	friends map[string]*openwechat.Friend // friends by UserName
	// how is "push", "hot" or "qr".
	how string
}

func (a *Adapter) current() (*session, <-chan struct{}) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sess, a.changed
}

func (a *Adapter) setSession(s *session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sess = s
	if s != nil {
		close(s.ready)
		a.qr = nil
	}
	close(a.changed)
	a.changed = make(chan struct{})
}

// Connected reports whether a session is up.
func (a *Adapter) Connected() bool {
	s, _ := a.current()
	return s != nil
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
// refused account and when the group is not found.
func (a *Adapter) Login(ctx context.Context) error {
	s, err := a.connect(ctx, false)
	if err != nil {
		return err
	}
	a.setSession(s)
	return nil
}

// connect logs in one way or another and finds the group. During a reconnect
// it alerts the admins before it waits for a scan.
func (a *Adapter) connect(ctx context.Context, reconnect bool) (*session, error) {
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
	if reconnect && !a.alerted {
		a.alerted = true
		a.alert(ctx, fmt.Sprintf("【reportbot】%s 微信掉线了，需要重新扫码登录。请用机器人的微信号扫描终端（docker logs）里的二维码，"+
			"或数据目录里的 %s。扫码之前，要发的消息会保留，登录后按顺序补发。", a.o.Now().Format("2006-01-02 15:04"), QRFile))
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

// alive reports whether the session's bot still runs, without touching the
// fields openwechat's Alive reads unguarded.
func (s *session) alive() bool { return s.bot.Context().Err() == nil }

// conn is a bot being logged in, before it becomes a session.
type conn struct {
	bot   *openwechat.Bot
	stop  context.CancelFunc
	ready chan struct{}
}

func (a *Adapter) newBot(ctx context.Context) *conn {
	ctx, cancel := context.WithCancel(ctx)
	ready := make(chan struct{})
	b := openwechat.DefaultBot(openwechat.Desktop, openwechat.WithContextOption(ctx))
	if a.o.Transport != nil {
		b.Caller.Client.HTTPClient().Transport = a.o.Transport
	}
	// openwechat retries a failed request 5 times at once; our loops retry with backoff.
	b.Caller.Client.MaxRetryTimes = 1
	b.UUIDCallback = a.showQR // the default opens a browser
	b.ScanCallBack = func(openwechat.CheckLoginResponse) { a.o.Logger.Info().Msg("QR code scanned: confirm on the phone") }
	b.LoginCallBack = func(openwechat.CheckLoginResponse) {}
	// Called on the sync goroutine after each poll, before messages are processed.
	b.SyncCheckCallback = func(openwechat.SyncCheckResponse) {
		select {
		case <-ready:
		case <-ctx.Done():
		}
	}
	b.MessageHandler = a.onMessage
	b.MessageErrorHandler = a.syncErrors(ctx)
	return &conn{bot: b, stop: cancel, ready: ready}
}

// syncErrors decides what a failed sync means. openwechat calls it on its sync
// goroutine and polls again at once when it returns nil, so it waits here,
// longer each time; a session that keeps failing for ReconnectMax is given up,
// and Run logs in again.
func (a *Adapter) syncErrors(ctx context.Context) func(error) error {
	var failing, last time.Time // start and latest of the current run of failures
	wait := a.o.ReconnectBackoff / 10
	return func(err error) error {
		var ret openwechat.Ret
		if errors.As(err, &ret) && (ret == 1100 || ret == 1101 || ret == 1102) {
			return ret // the session is over
		}
		now := time.Now()
		if last.IsZero() || now.Sub(last) > time.Minute+2*wait {
			failing, wait = now, a.o.ReconnectBackoff/10 // a new run, not a continuing one
		}
		last = now
		if now.Sub(failing) > a.o.ReconnectMax {
			return fmt.Errorf("sync failing since %s: %w", failing.Format(time.TimeOnly), err)
		}
		a.o.Logger.Warn().Err(err).Dur("retry_in", wait).Msg("sync")
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, a.o.ReconnectMax/4)
		return nil
	}
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
			s, err := a.open(c, how)
			if err != nil {
				c.stop()
				return nil, err
			}
			return s, nil
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
		if refused(err) {
			return nil, ErrLoginRefused
		}
		return nil, fmt.Errorf("QR login: %w", err)
	}
	os.Remove(filepath.Join(a.o.DataDir, QRFile))
	if err := c.bot.DumpTo(&fileStorage{path: a.sessionPath()}); err != nil {
		a.o.Logger.Warn().Err(err).Msg("store the session: the next start needs a scan")
	}
	s, err := a.open(c, "qr")
	if err != nil {
		c.stop()
		return nil, err
	}
	return s, nil
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
func (a *Adapter) open(c *conn, how string) (*session, error) {
	self, err := c.bot.GetCurrentUser()
	if err != nil {
		return nil, err
	}
	groups, err := self.Groups(true)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
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
		return nil, &GroupNotFoundError{Want: a.o.Group, Seen: seen}
	}
	s := &session{bot: c.bot, stop: c.stop, ready: c.ready, self: self, group: group, how: how,
		members: map[string]*openwechat.User{}, friends: map[string]*openwechat.Friend{}}
	if err := s.refresh(); err != nil {
		return nil, err
	}
	a.o.Logger.Info().Str("how", how).Str("group", group.NickName).Int("members", len(s.members)).Msg("logged in")
	return s, nil
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

// Run handles the group until ctx ends: messages go to h one at a time, in
// order; the outbox is sent at its pace; a dropped session is re-established.
// Call Login first.
func (a *Adapter) Run(ctx context.Context, h Handler) error {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.in.run(ctx, h, a.o.Logger) }()
	go func() { defer wg.Done(); a.out.run(ctx, a) }()
	defer wg.Wait()
	for {
		s, _ := a.current()
		if s == nil {
			return errors.New("wechat: Run before Login")
		}
		select {
		case <-ctx.Done():
			s.stop()
			a.setSession(nil)
			return nil
		case <-s.bot.Context().Done():
		}
		// The sync loop set the reason before it cancelled the context.
		reason := s.bot.CrashReason()
		s.stop()
		a.setSession(nil)
		if ctx.Err() != nil {
			return nil
		}
		a.o.Logger.Warn().Err(reason).Msg("WeChat session ended: reconnecting")
		next, err := a.reconnect(ctx)
		if err != nil {
			return err
		}
		a.setSession(next)
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
			if a.alerted {
				a.alerted = false
				a.alert(ctx, fmt.Sprintf("【reportbot】%s 已重新登录微信，积压的消息正在补发。", a.o.Now().Format("2006-01-02 15:04")))
			}
			return s, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, ErrLoginRefused) {
			a.alert(ctx, "【reportbot】微信拒绝了机器人账号的登录，机器人已停止："+err.Error())
			return nil, err
		}
		a.o.Logger.Warn().Err(err).Dur("retry_in", wait).Msg("reconnect failed")
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, a.o.ReconnectMax)
	}
}
