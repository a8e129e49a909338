package main

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/wechat"
)

// wechatTransport replaces the HTTP transport of the WeChat client; tests point
// it at a fake server. Nil in production.
var wechatTransport http.RoundTripper

// newTransport builds the platform [bot] transport names: the one place that
// knows them all. The outbox, once it exists, is stored in wake: the transport
// wakes it when it comes back online, so owed messages go out at once.
func newTransport(s *settings, dir string, qr io.Writer, log zerolog.Logger) (bot.Transport, *atomic.Pointer[bot.Outbox], error) {
	wake := &atomic.Pointer[bot.Outbox]{}
	onOnline := func() {
		if o := wake.Load(); o != nil {
			o.Wake()
		}
	}
	switch s.Transport {
	case "wechat":
		if s.Wechat.Group == "" {
			return nil, nil, fmt.Errorf("%s: 没有写群名：在 [wechat] 里写 group = \"群的完整名称\"（旧的写法 [bot] group 也可以）", s.path)
		}
		var alerter wechat.Alerter
		if a := s.Alert.Alerter(); a != nil {
			alerter = a
		}
		return wechat.New(wechat.Options{
			Group: s.Wechat.Group, DataDir: dir, Transport: wechatTransport, QR: qr, Alert: alerter,
			Interval: s.Wechat.SendInterval.Duration, Jitter: s.Wechat.SendJitter.Duration,
			MaxInterval: s.Wechat.MaxSendInterval.Duration, MaxMedia: s.MaxMedia(),
			AcceptFriends: s.Wechat.AcceptFriends, Admins: s.Bot.Admins, OnOnline: onOnline,
			Logger: log.With().Str("component", "wechat").Logger(),
		}), wake, nil
	}
	return nil, nil, fmt.Errorf("%s: [bot] transport = %q：不认识的平台", s.path, s.Transport)
}
