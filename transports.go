package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/dingtalk"
	"reportbot/store"
	"reportbot/wechat"
	"reportbot/wecom"
)

// wechatTransport replaces the HTTP transport of the WeChat client; tests point
// it at a fake server. Nil in production.
var wechatTransport http.RoundTripper

// late is what a transport needs from the App, which is built after it (the
// App's outbox delivers through the transport): the outbox to wake when the
// transport comes back online, and the store for the transport's own state.
type late struct {
	outbox atomic.Pointer[bot.Outbox]
	store  atomic.Pointer[store.DB]
	name   string
}

// attach hands the transport what the App has, once it is open.
func (l *late) attach(a *App) {
	l.store.Store(a.Store)
	l.outbox.Store(a.Outbox)
}

func (l *late) wake() {
	if o := l.outbox.Load(); o != nil {
		o.Wake()
	}
}

// Get implements bot.StateStore over the store once it is open.
func (l *late) Get(key string) (string, error) {
	if db := l.store.Load(); db != nil {
		return db.AdapterState(l.name).Get(key)
	}
	return "", errors.New("the store is not open yet")
}

// Put implements bot.StateStore.
func (l *late) Put(key, value string) error {
	if db := l.store.Load(); db != nil {
		return db.AdapterState(l.name).Put(key, value)
	}
	return errors.New("the store is not open yet")
}

// newTransport builds the platform [bot] transport names: the one place that
// knows them all. Call the late's attach once the App is open. now is the
// clock in the campaign's zone, for the times alerts and the status page show.
func newTransport(s *settings, dir string, qr io.Writer, log zerolog.Logger, now func() time.Time) (bot.Transport, *late, error) {
	l := &late{name: s.Transport}
	alerter := s.Alert.Alerter() // nil when none: set below only when there is one
	if alerter != nil {
		alerter.Now = now
	}
	switch s.Transport {
	case "wechat":
		if s.Wechat.Group == "" {
			return nil, nil, fmt.Errorf("%s: 没有写群名：在 [wechat] 里写 group = \"群的完整名称\"（旧的写法 [bot] group 也可以）", s.path)
		}
		o := wechat.Options{
			Group: s.Wechat.Group, DataDir: dir, Transport: wechatTransport, QR: qr,
			Interval: s.Wechat.SendInterval.Duration, Jitter: s.Wechat.SendJitter.Duration,
			MaxInterval: s.Wechat.MaxSendInterval.Duration, MaxMedia: s.MaxMedia(),
			AcceptFriends: s.Wechat.AcceptFriends, Admins: s.Bot.Admins, OnOnline: l.wake, Now: now,
			Logger: log.With().Str("component", "wechat").Logger(),
		}
		if alerter != nil {
			o.Alert = alerter
		}
		return wechat.New(o), l, nil
	case "dingtalk":
		o := dingtalk.Options{Config: s.Dingtalk, Admins: s.Bot.Admins, State: l, OnOnline: l.wake, Now: now,
			Logger: log.With().Str("component", "dingtalk").Logger()}
		if alerter != nil {
			o.Alert = alerter
		}
		return dingtalk.New(o), l, nil
	case "wecom":
		o := wecom.Options{Config: s.Wecom, Admins: s.Bot.Admins, Known: configuredIDs(s.Config), State: l, OnOnline: l.wake, Now: now,
			Logger: log.With().Str("component", "wecom").Logger()}
		if alerter != nil {
			o.Alert = alerter
		}
		return wecom.New(o), l, nil
	}
	return nil, nil, fmt.Errorf("%s: [bot] transport = %q：不认识的平台", s.path, s.Transport)
}

// configuredIDs are every member and admin the config names, for the 企业微信
// adapter's check that the userids it receives are the tenant's own.
func configuredIDs(c *bot.Config) []string {
	ids := append([]string(nil), c.Bot.Admins...)
	for _, u := range c.Units {
		ids = append(ids, u.Members...)
	}
	return ids
}
