package dingtalk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/client"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"
	"github.com/rs/zerolog"

	"reportbot/bot"
	secrets "reportbot/redact"
)

// Alerter tells the admins something through a channel of its own.
type Alerter interface {
	Alert(ctx context.Context, text string) error
}

// Options configure the adapter.
type Options struct {
	Config Config
	// Admins are the admins' staffIds (the config's admins), for messages to all of them.
	Admins []string
	// State keeps what the adapter learns across restarts: the group's
	// openConversationId, and members' staffIds by nick for mentions.
	State bot.StateStore
	// Alert tells the admins what the group cannot (no conversation known yet).
	Alert Alerter
	// HTTP is the client of the REST calls (default: 15 s timeout).
	HTTP *http.Client
	// OnOnline is called when the connection comes up, to wake the outbox.
	OnOnline func()
	// StartBackoff is the first wait before trying a failed first connection
	// again, doubled up to StartMax (defaults 2 s and 1 min).
	StartBackoff, StartMax time.Duration
	Logger                 zerolog.Logger
	Now                    func() time.Time
}

// Hint is what members must know on 钉钉: the robot only sees group messages
// that @ it, and a photo without @ is invisible to it.
const Hint = "报送时请@报送机器人（照片请和@一起发，或私聊发给我）。"

// Adapter is the 钉钉 side of the bot. It implements bot.Transport.
type Adapter struct {
	o     Options
	api   *API
	robot *Robot

	mu     sync.Mutex
	status bot.TransportStatus
	// conv is the group's openConversationId ("" until known).
	conv string
	// hooks are the freshest sessionWebhooks: the group's under "", each
	// member's 1:1 chat under their staffId.
	hooks map[string]*callback
	// told is set once the admins were told the group is not known yet.
	told bool
	// stopping is set once Run is ending: frames are no longer taken.
	stopping bool
	// inflight holds the msgIds being handled, so that a frame the server
	// redelivers meanwhile is not handled twice (the store dedupes the rest).
	inflight map[string]bool
	work     chan *callback
}

var _ bot.Transport = (*Adapter)(nil)

// State keys.
const (
	stateConversation = "conversation"
	stateStaffPrefix  = "staff:" // + nick -> staffId
)

// New builds the adapter; cfg must have passed Check.
func New(o Options) *Adapter {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 15 * time.Second}
	}
	if o.StartBackoff == 0 {
		o.StartBackoff = 2 * time.Second
	}
	if o.StartMax == 0 {
		o.StartMax = time.Minute
	}
	c := o.Config
	a := &Adapter{o: o, hooks: map[string]*callback{}, inflight: map[string]bool{}, work: make(chan *callback, 256),
		conv:   c.ConversationID,
		status: bot.TransportStatus{Platform: "钉钉", State: "未连接"},
		api: NewAPI(APIOptions{ClientID: c.ClientID, ClientSecret: c.ClientSecret, RobotCode: c.RobotCode,
			BaseURL: c.APIURL, OapiURL: c.OapiURL, HTTP: o.HTTP, Now: o.Now, Logger: o.Logger}),
	}
	if c.Webhook != "" {
		a.robot = &Robot{Webhook: c.Webhook, Secret: c.WebhookSecret, HTTP: o.HTTP, Now: o.Now}
	}
	return a
}

// recall reads what an earlier run learned (the store may open after New).
func (a *Adapter) recall() {
	if a.o.State == nil {
		return
	}
	v, err := a.o.State.Get(stateConversation)
	if err != nil {
		a.o.Logger.Warn().Err(err).Msg("read the group's conversation id")
		return
	}
	a.mu.Lock()
	if a.conv == "" {
		a.conv = v
	}
	a.mu.Unlock()
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
	state, lastErr := "未连接，正在重连", ""
	if on {
		state = "已连接"
	}
	if err != nil {
		lastErr = redact(err.Error())
	}
	a.mu.Lock()
	cameOnline := a.status.Set(on, state, a.o.Now(), lastErr)
	a.mu.Unlock()
	if cameOnline && a.o.OnOnline != nil {
		a.o.OnOnline()
	}
}

// ErrCredentials is a connection the gateway refused for the app's credentials.
var ErrCredentials = errors.New("钉钉拒绝了应用凭证：检查设置文件 [dingtalk] 的 client_id 和 client_secret（或环境变量 " + SecretEnv + "），并确认应用已发布、机器人已开启 Stream 模式")

// Run implements bot.Transport: it connects through the Stream gateway, hands
// each message to h after the frame is acknowledged, and returns when ctx
// ends, or with ErrCredentials when the gateway refuses the app.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	useSDKLogger(a.o.Logger)
	a.recall()
	cli := client.NewStreamClient(
		client.WithAppCredential(client.NewAppCredentialConfig(a.o.Config.ClientID, a.o.Config.ClientSecret)),
		client.WithOpenApiHost(strings.TrimRight(a.o.Config.GatewayURL, "/")),
	)
	cli.RegisterCallbackRouter(payload.BotMessageCallbackTopic, a.onFrame)
	// A disconnect is the server's word that this connection ends: offline
	// until the SDK's reconnect gets a frame through.
	cli.RegisterRouter("SYSTEM", "disconnect", func(c context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
		a.setOnline(false, errors.New("钉钉要求重连"))
		return cli.OnDisconnect(c, df)
	})
	cli.RegisterRouter("SYSTEM", "ping", func(c context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
		a.setOnline(true, nil)
		return cli.OnPing(c, df)
	})
	// Frames are acknowledged as they come and 钉钉 never sends an
	// acknowledged one again: at a stop, what was acknowledged is still
	// handled (bounded by drainTimeout), after the connection is closed.
	stopHandling := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		bot.HandleInOrder(ctx, a.work, stopHandling, drainTimeout, func(ctx context.Context, cb *callback) { a.handle(ctx, h, cb) })
	}()
	defer func() { close(stopHandling); <-done }() // also when the first connection is refused
	if err := a.start(ctx, cli); err != nil {
		return err
	}
	<-ctx.Done()
	a.mu.Lock()
	a.stopping = true // a frame that comes now is left unacknowledged, for the next run
	a.mu.Unlock()
	cli.Close()
	a.setOnline(false, nil)
	return nil
}

// drainTimeout bounds the handling of acknowledged messages at a stop.
const drainTimeout = 30 * time.Second

// start makes the first connection. The SDK never retries a failed first
// Start, so this does, with backoff, while the failure is the network's; a
// refusal of the credentials ends it.
func (a *Adapter) start(ctx context.Context, cli *client.StreamClient) error {
	wait := a.o.StartBackoff
	for {
		err := cli.Start(ctx)
		if err == nil {
			a.setOnline(true, nil)
			a.o.Logger.Info().Msg("connected to the DingTalk stream gateway")
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		a.setOnline(false, err)
		if refusedCredentials(err) {
			return fmt.Errorf("%w（%s）", ErrCredentials, redact(err.Error()))
		}
		a.o.Logger.Warn().Err(errors.New(redact(err.Error()))).Dur("retry_in", wait).Msg("connect to the DingTalk gateway")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, a.o.StartMax)
	}
}

// refusedCredentials tells a refusal by the gateway (its HTTP answer, which the
// SDK turns into the error text) from the network failing under it.
func refusedCredentials(err error) bool {
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return false
	}
	// Only words about the app's credentials: a gateway error page that
	// happens to contain "401" or "invalid" is retried, not taken for them.
	s := strings.ToLower(err.Error())
	for _, w := range []string{"clientid", "clientsecret", "appkey", "appsecret", "invalidclient", "unauthorized", "credential"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// onFrame acknowledges a robot message at once and leaves the work to
// the handling loop: the SDK acks only after the handler returns, and a slow ack
// makes the server deliver the frame again.
func (a *Adapter) onFrame(_ context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
	a.setOnline(true, nil)
	cb, err := parseCallback([]byte(df.Data))
	if err != nil {
		a.o.Logger.Warn().Err(err).Msg("robot callback not understood: acknowledged and dropped")
		return payload.NewSuccessDataFrameResponse(), nil
	}
	a.mu.Lock()
	dup, stopping := a.inflight[cb.MsgID], a.stopping
	if !dup && !stopping {
		a.inflight[cb.MsgID] = true
	}
	a.mu.Unlock()
	if stopping {
		return nil, errors.New("stopping") // unacknowledged: delivered again to the next run
	}
	if dup {
		return payload.NewSuccessDataFrameResponse(), nil
	}
	select {
	case a.work <- cb:
	default:
		// Full: leave it unacknowledged, so the server delivers it again later.
		a.mu.Lock()
		delete(a.inflight, cb.MsgID)
		a.mu.Unlock()
		return nil, errors.New("busy")
	}
	return payload.NewSuccessDataFrameResponse(), nil
}

// handle passes one callback's messages to h.
func (a *Adapter) handle(ctx context.Context, h bot.Handler, cb *callback) {
	a.learn(cb)
	msgs, unsupported := cb.messages(a.api)
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
	delete(a.inflight, cb.MsgID)
	a.status.LastMessage = a.o.Now()
	a.mu.Unlock()
}

// learn keeps what a message tells: its sessionWebhook for answers, the
// group's conversation id, and the sender's staffId by nick for mentions of
// members the config names by name.
func (a *Adapter) learn(cb *callback) {
	a.mu.Lock()
	key := ""
	if cb.private() {
		key = cb.SenderStaffID
	}
	if cb.SessionWebhook != "" && (key != "" || !cb.private()) {
		a.hooks[key] = cb
	}
	newConv := !cb.private() && cb.ConversationID != "" && a.conv == "" && a.o.Config.ConversationID == ""
	if newConv {
		a.conv = cb.ConversationID
	}
	a.mu.Unlock()
	if newConv && a.o.OnOnline != nil {
		a.o.OnOnline() // group messages held back for want of the group can go now
	}
	if a.o.State == nil {
		return
	}
	if newConv {
		if err := a.o.State.Put(stateConversation, cb.ConversationID); err != nil {
			a.o.Logger.Error().Err(err).Msg("keep the group's conversation id")
		}
		a.o.Logger.Info().Str("conversation", cb.ConversationTitle).Msg("group learned from its first message to the robot")
	}
	if cb.SenderStaffID != "" && cb.SenderNick != "" {
		if err := a.o.State.Put(stateStaffPrefix+cb.SenderNick, cb.SenderStaffID); err != nil {
			a.o.Logger.Error().Err(err).Msg("keep a member's staffId")
		}
	}
}

// useSDKLogger routes the SDK's log lines to ours, once per process (the
// SDK's logger is an unguarded global). Its debug lines are dropped: they
// dump the open request, client secret included.
var sdkLoggerOnce sync.Once

func useSDKLogger(log zerolog.Logger) {
	sdkLoggerOnce.Do(func() { setSDKLogger(log.With().Str("component", "dingtalk-sdk").Logger()) })
}

// redact removes secrets from a text that may quote a URL or a request.
func redact(s string) string { return secrets.String(s) }
