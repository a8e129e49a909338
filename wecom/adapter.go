package wecom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"reportbot/bot"
)

// Alerter tells the admins something through a channel of its own.
type Alerter interface {
	Alert(ctx context.Context, text string) error
}

// Options configure the adapter.
type Options struct {
	Config Config
	// Admins are the admins' userids (the config's admins).
	Admins []string
	// Known are the userids the config names (members and admins): a tenant
	// whose senders match none of them gives encrypted ids.
	Known []string
	// State keeps what the adapter learns across restarts: the group's
	// chatid, and whether the tenant refuses proactive group pushes.
	State bot.StateStore
	// Alert tells the admins what the group cannot.
	Alert Alerter
	// HTTP is the client of downloads and the webhook (default: 30 s timeout).
	HTTP *http.Client
	// Dialer opens the long connection (default: gorilla's, 15 s handshake).
	Dialer *websocket.Dialer
	// OnOnline is called when the connection comes up, to wake the outbox.
	OnOnline func()
	// PingEvery, MinBackoff and MaxBackoff: see ClientOptions (tests shorten them).
	PingEvery, MinBackoff, MaxBackoff time.Duration
	Logger                            zerolog.Logger
	Now                               func() time.Time
}

// Hint is what members must know on 企业微信: the robot sees only group
// messages that @ it; pictures go with the @ text, files and videos 1:1.
const Hint = "报送时请@报送机器人（照片请和@的文字一起发；文件、视频请私聊发给我）。"

// The bot's own limits per conversation (replies and pushes together).
var botWindows = []window{{30, time.Minute}, {1000, time.Hour}}

// replyWindow is how long after a callback a reply to it is accepted.
const replyWindow = 24 * time.Hour

// Adapter is the 企业微信 side of the bot. It implements bot.Transport.
type Adapter struct {
	o      Options
	client *Client
	hook   *webhook // nil without a webhook_key
	limit  *limiter

	mu     sync.Mutex
	status bot.TransportStatus
	chatid string
	// last are the freshest callbacks to reply to: the group's under "",
	// a member's group message under "g:"+userid, their 1:1 under "u:"+userid.
	last map[string]*callback
	told map[string]bool // the admin notices given, by kind
	seen map[string]bool // msgids handled (a bounded set: order)
	// order is seen's msgids, oldest first.
	order []string
	// pushRefused is set once the tenant refused a proactive group push:
	// scheduled messages then take the webhook.
	pushRefused bool
	// encrypted is set once senders' userids look encrypted: mentions by
	// name, members bind by 绑定.
	encrypted bool
	strangers map[string]bool // senders not among Known, while none matched
	matched   bool            // a sender matched Known
	stopping  bool
	work      chan *callback
}

var _ bot.Transport = (*Adapter)(nil)

// State keys.
const (
	stateChatID      = "chatid"
	statePushRefused = "push_refused"
)

// New builds the adapter; o.Config must have passed Check.
func New(o Options) *Adapter {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	c := o.Config
	a := &Adapter{o: o, chatid: c.ChatID, last: map[string]*callback{}, told: map[string]bool{}, seen: map[string]bool{},
		strangers: map[string]bool{}, work: make(chan *callback, 256), limit: newLimiter(botWindows...),
		status: bot.TransportStatus{Platform: "企业微信", State: "未连接"}}
	a.client = NewClient(ClientOptions{URL: c.WSURL, BotID: c.BotID, Secret: c.Secret, Dialer: o.Dialer,
		OnFrame: a.onFrame, OnState: a.setOnline, PingEvery: o.PingEvery, MinBackoff: o.MinBackoff, MaxBackoff: o.MaxBackoff,
		Now: o.Now, Logger: o.Logger})
	if c.WebhookKey != "" {
		a.hook = &webhook{host: strings.TrimRight(c.APIHost, "/"), key: c.WebhookKey, hc: o.HTTP, now: o.Now,
			limit: newLimiter(window{webhookPerMinute, time.Minute})}
	}
	return a
}

// Hint implements bot.Transport.
func (a *Adapter) Hint() string { return Hint }

// Status implements bot.Transport.
func (a *Adapter) Status() bot.TransportStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status
}

func (a *Adapter) setOnline(on bool, err error) {
	state := "未连接，正在重连"
	switch {
	case on:
		state = "已连接"
	case errors.Is(err, ErrKicked):
		state = "被另一个程序顶掉，不再重连"
	}
	a.mu.Lock()
	cameOnline := a.status.Set(on, state, a.o.Now(), errText(err))
	a.mu.Unlock()
	if cameOnline && a.o.OnOnline != nil {
		a.o.OnOnline()
	}
}

// errText is err's text for the status page, secrets removed; "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return redact(err.Error())
}

// recall reads what an earlier run learned (the store may open after New).
func (a *Adapter) recall() {
	if a.o.State == nil {
		return
	}
	chat, err1 := a.o.State.Get(stateChatID)
	refused, err2 := a.o.State.Get(statePushRefused)
	if err := errors.Join(err1, err2); err != nil {
		a.o.Logger.Warn().Err(err).Msg("read the wecom state")
	}
	a.mu.Lock()
	if a.chatid == "" {
		a.chatid = chat
	}
	a.pushRefused = refused == "1"
	a.mu.Unlock()
}

// drainTimeout bounds the handling of received messages at a stop.
const drainTimeout = 30 * time.Second

// Run implements bot.Transport. It returns nil when ctx ends, and
// ErrCredentials when 企业微信 refuses the bot. When another connection
// kicks this one, it does not reconnect (that would kick the other in turn):
// the admins hear it once and Run waits, offline, for ctx to end, so that a
// supervisor does not restart it into the same fight.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	a.recall()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		bot.HandleInOrder(ctx, a.work, stop, drainTimeout, func(ctx context.Context, cb *callback) { a.handle(ctx, h, cb) })
	}()
	defer func() {
		a.mu.Lock()
		a.stopping = true
		a.mu.Unlock()
		close(stop)
		<-done
	}()
	err := a.client.Run(ctx)
	switch {
	case errors.Is(err, ErrKicked):
		a.o.Logger.Error().Msg("two instances run with the same wecom bot: this one stays offline until it is restarted")
		a.tellOnce(ctx, "kicked", "【reportbot】"+ErrKicked.Error()+"。本程序的提醒和回执先留着，重启本程序（并停掉另一个）后按顺序补发。")
		<-ctx.Done()
		return nil
	case err != nil:
		return err
	}
	a.setOnline(false, nil)
	return nil
}

// onFrame takes a callback off the connection: duplicates (by msgid) are
// dropped, the rest handled in order (bot.HandleInOrder).
func (a *Adapter) onFrame(session int, f Frame) {
	cb, err := parseCallback(f, session, a.o.Now())
	if err != nil {
		a.o.Logger.Warn().Err(err).Msg("wecom callback not understood: dropped")
		return
	}
	if f.Cmd == "aibot_event_callback" || cb.MsgType == "event" {
		a.o.Logger.Info().Str("event", cb.Event.EventType).Msg("wecom event")
		return
	}
	a.mu.Lock()
	dup, stopping := a.seen[cb.MsgID], a.stopping
	if !dup && !stopping {
		a.seen[cb.MsgID] = true
		a.order = append(a.order, cb.MsgID)
		if len(a.order) > 4096 { // the store dedupes by id too: this only spares the work
			delete(a.seen, a.order[0])
			a.order = a.order[1:]
		}
	}
	a.mu.Unlock()
	if dup || stopping {
		return
	}
	a.work <- cb // blocks the reader when 256 wait: a slow store slows the socket, nothing is dropped
}

func (a *Adapter) handle(ctx context.Context, h bot.Handler, cb *callback) {
	a.learn(ctx, cb)
	msgs, unsupported := cb.messages(ctx, fetcher{hc: a.o.HTTP, now: a.o.Now})
	log := a.o.Logger.With().Str("msg_id", cb.MsgID).Str("msgtype", cb.MsgType).Logger()
	if unsupported != "" {
		log.Info().Msg("message kind the bot does not take: ignored")
	}
	for _, m := range msgs {
		if err := h.Handle(ctx, m); err != nil {
			log.Error().Err(err).Msg("handle")
		}
	}
	a.mu.Lock()
	a.status.LastMessage = a.o.Now()
	a.mu.Unlock()
}

// learn keeps what a callback tells: where to reply, the group's chatid, and
// whether the senders' userids are the tenant's.
func (a *Adapter) learn(ctx context.Context, cb *callback) {
	user := cb.From.UserID
	a.mu.Lock()
	if cb.private() {
		a.last["u:"+user] = cb
	} else {
		a.last[""] = cb
		a.last["g:"+user] = cb
	}
	newChat := !cb.private() && cb.ChatID != "" && a.chatid == ""
	if newChat {
		a.chatid = cb.ChatID
	}
	encrypted := a.checkIdentity(user)
	a.mu.Unlock()
	if newChat {
		if a.o.State != nil {
			if err := a.o.State.Put(stateChatID, cb.ChatID); err != nil {
				a.o.Logger.Error().Err(err).Msg("keep the group's chatid")
			}
		}
		a.o.Logger.Info().Str("chatid", cb.ChatID).Msg("group learned from its first message to the robot")
		if a.o.OnOnline != nil {
			a.o.OnOnline() // group messages held for want of the group can go now
		}
	}
	if encrypted {
		a.o.Logger.Warn().Str("userid", user).Msg("wecom userids look encrypted: mentions by name, members bind by 绑定")
		a.tellOnce(ctx, "encrypted", fmt.Sprintf("【reportbot】企业微信给机器人的成员 id 看起来是加密的（如 %s），和设置文件里写的 userid 对不上。"+
			"这通常是因为创建机器人的人不是企业的超级管理员。在这之前：成员请在群里@机器人发“绑定 单位名称”；"+
			"管理员请把自己的这个 id 写进设置文件 [bot] admins（私聊机器人发“帮助”可看到自己的 id 是否被认作管理员）；"+
			"催报、点名时的@只写名字，不会真的提醒到人。", user))
	}
}

// checkIdentity notes a sender's userid and reports whether it just became
// clear that the tenant gives encrypted ids: one looks encrypted, or three
// senders in a row match none of the config's userids. Called with mu held.
func (a *Adapter) checkIdentity(user string) bool {
	if a.encrypted || user == "" {
		return false
	}
	if slices.Contains(a.o.Known, user) {
		a.matched = true
		return false
	}
	if !looksEncrypted(user) {
		if a.matched || len(a.o.Known) == 0 {
			return false
		}
		a.strangers[user] = true
		if len(a.strangers) < 3 {
			return false
		}
	}
	a.encrypted = true
	return true
}

// looksEncrypted reports whether a userid has the shape of 企业微信's
// encrypted ids (open_userid: "wo"/"wm" and 30 more letters and digits),
// which no admin types as an account name.
func looksEncrypted(id string) bool {
	if len(id) < 32 || !(strings.HasPrefix(id, "wo") || strings.HasPrefix(id, "wm")) {
		return false
	}
	return isUserID(id)
}

// isUserID reports whether s looks like an account userid (letters, digits,
// - _ . @) rather than a person's name.
func isUserID(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.@", r)) {
			return false
		}
	}
	return true
}
